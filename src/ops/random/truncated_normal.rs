//! `truncated_normal(shape, mean, stddev, dtype, seed)`: Gaussian values with every draw more than
//! two standard deviations from the mean drawn again (Keras's definition). Element `i` retries on
//! its own counter block with the next stream, so retries never disturb other elements.

use super::{float_dtype, generate};
use crate::error::Result;
use crate::runtime::rng::{fill, normal_pair, Key};
use crate::tensor::{Element, Tensor};

/// A standard normal in [-2, 2] for element `block` (acceptance ≈ 95% per draw, two draws a block).
#[inline(always)]
fn truncated(key: Key, block: u64) -> f64 {
    let mut stream = 0u32;
    loop {
        let (z0, z1) = normal_pair(key.block(block, stream));
        if z0.abs() <= 2.0 {
            return z0;
        }
        if z1.abs() <= 2.0 {
            return z1;
        }
        stream = stream.wrapping_add(1);
    }
}

pub fn truncated_normal(shape: &[usize], mean: f64, stddev: f64, dtype: crate::tensor::DType, seed: u64) -> Result<Tensor> {
    let op = "truncated_normal";
    if !(mean.is_finite() && stddev.is_finite()) || stddev < 0.0 {
        return crate::value_err!(op, "expected a finite mean and a finite stddev >= 0, received mean={mean}, stddev={stddev}");
    }
    let key = Key::from_seed(seed);
    let dtype = float_dtype(op, dtype)?;
    Ok(crate::dispatch_float!(dtype, op, |T| generate::<T>(shape, |o| {
        fill(o, 1, |b, e| e[0] = T::from_f64(mean + stddev * truncated(key, b)))
    })))
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::vals;
    use crate::tensor::DType;

    #[test]
    fn truncated_normal_range_and_moments() {
        let a = vals(&super::truncated_normal(&[100_000], 0.5, 2.0, DType::F32, 9).unwrap());
        assert!(a.iter().all(|&v| (v - 0.5).abs() <= 4.0 + 1e-5));
        let n = a.len() as f64;
        let mean = a.iter().sum::<f64>() / n;
        let sd = (a.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        // Standard normal truncated to [-2, 2] has stddev 0.8796.
        assert!((mean - 0.5).abs() < 0.03, "mean {mean}");
        assert!((sd - 2.0 * 0.8796).abs() < 0.03, "stddev {sd}");
    }
}
