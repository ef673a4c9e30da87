//! `uniform(shape, minval, maxval, dtype, seed)`: floats in [minval, maxval).

use super::{float_dtype, generate};
use crate::error::Result;
use crate::runtime::rng::{fill, unit_f32, unit_f64, Key};
use crate::tensor::{DType, Tensor};

pub fn uniform(shape: &[usize], minval: f64, maxval: f64, dtype: DType, seed: u64) -> Result<Tensor> {
    let op = "uniform";
    if !(minval.is_finite() && maxval.is_finite()) || minval > maxval {
        return crate::value_err!(op, "expected finite minval <= maxval, received minval={minval}, maxval={maxval}");
    }
    let key = Key::from_seed(seed);
    Ok(match float_dtype(op, dtype)? {
        DType::F32 => {
            let (lo, width) = (minval as f32, (maxval - minval) as f32);
            generate::<f32>(shape, |o| {
                fill(o, 4, |b, e| {
                    let w = key.block(b, 0);
                    for (x, &b) in e.iter_mut().zip(&w) {
                        *x = lo + width * unit_f32(b);
                    }
                })
            })
        }
        _ => {
            let width = maxval - minval;
            generate::<f64>(shape, |o| {
                fill(o, 2, |b, e| {
                    let w = key.block(b, 0);
                    for (k, x) in e.iter_mut().enumerate() {
                        *x = minval + width * unit_f64(w[2 * k], w[2 * k + 1]);
                    }
                })
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::{assert_same_for_any_thread_count_and_simd_path, vals};
    use crate::tensor::DType;

    #[test]
    fn uniform_range_seeds_and_moments() {
        let a = vals(&super::uniform(&[100_000], -2.0, 3.0, DType::F32, 5).unwrap());
        assert!(a.iter().all(|&v| (-2.0..3.0).contains(&v)));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!((mean - 0.5).abs() < 0.03, "mean {mean}");
        assert_eq!(a, vals(&super::uniform(&[100_000], -2.0, 3.0, DType::F32, 5).unwrap()));
        assert_ne!(a, vals(&super::uniform(&[100_000], -2.0, 3.0, DType::F32, 6).unwrap()));
        let d = vals(&super::uniform(&[7, 3], 0.0, 1.0, DType::F64, 1).unwrap());
        assert!(d.iter().all(|&v| (0.0..1.0).contains(&v)));
        assert!(super::uniform(&[2], 0.0, 1.0, DType::I64, 1).is_err());
        assert!(super::uniform(&[2], 1.0, 0.0, DType::F32, 1).is_err());
    }

    #[test]
    fn uniform_same_for_any_thread_count_and_simd_path() {
        let n = 100_003;
        assert_same_for_any_thread_count_and_simd_path(|| vals(&super::uniform(&[n], 0.0, 1.0, DType::F32, 11).unwrap()));
    }
}
