//! `normal(shape, mean, stddev, dtype, seed)`: Gaussian values (Box–Muller, two per block).

use super::{float_dtype, generate};
use crate::error::Result;
use crate::runtime::rng::{fill, normal_pair, Key};
use crate::tensor::{Element, Tensor};

pub fn normal(shape: &[usize], mean: f64, stddev: f64, dtype: crate::tensor::DType, seed: u64) -> Result<Tensor> {
    let op = "normal";
    if !(mean.is_finite() && stddev.is_finite()) || stddev < 0.0 {
        return crate::value_err!(op, "expected a finite mean and a finite stddev >= 0, received mean={mean}, stddev={stddev}");
    }
    let key = Key::from_seed(seed);
    let dtype = float_dtype(op, dtype)?;
    Ok(crate::dispatch_float!(dtype, op, |T| generate::<T>(shape, |o| {
        fill(o, 2, |b, e| {
            let (z0, z1) = normal_pair(key.block(b, 0));
            for (x, z) in e.iter_mut().zip([z0, z1]) {
                *x = T::from_f64(mean + stddev * z);
            }
        })
    })))
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::vals;
    use crate::tensor::DType;

    #[test]
    fn normal_moments_and_determinism() {
        let a = vals(&super::normal(&[200_000], 1.5, 2.0, DType::F64, 3).unwrap());
        let n = a.len() as f64;
        let mean = a.iter().sum::<f64>() / n;
        let var = a.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        assert!((mean - 1.5).abs() < 0.02, "mean {mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.02, "stddev {}", var.sqrt());
        assert_eq!(a, vals(&super::normal(&[200_000], 1.5, 2.0, DType::F64, 3).unwrap()));
        assert!(super::normal(&[2], 0.0, -1.0, DType::F32, 1).is_err());
    }
}
