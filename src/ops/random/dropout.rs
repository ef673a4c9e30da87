//! `dropout(x, rate, noise_shape, seed)` with Keras 3 semantics: each element of a mask of shape
//! `noise_shape` (broadcast against `x`) is kept with probability `1 - rate`, and kept values are
//! scaled by `1 / (1 - rate)`. The mask is not stored: backward regenerates it from the seed.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::common::{grad_if, to_float};
use crate::runtime::rng::{fill, Key};
use crate::tensor::{broadcast_shapes, DType, Element, Tensor};

pub fn dropout(x: &Tensor, rate: f64, noise_shape: Option<&[Option<usize>]>, seed: u64) -> Result<Tensor> {
    let op = "dropout";
    if !(0.0..1.0).contains(&rate) {
        return crate::value_err!(op, "expected rate in [0, 1), received {rate}");
    }
    let x = to_float(x)?;
    let noise = resolve_noise_shape(x.shape(), noise_shape)?;
    let mask = Mask { key: Key::from_seed(seed), rate, shape: noise, dtype: x.dtype() };
    let m = mask.tensor()?;
    let out = crate::dispatch_float!(x.dtype(), op, |T| binary::<T, T, T>(op, &x, &m, CHUNK_LIGHT, |a, b| a * b)?);
    record(&[&x], &out, || Arc::new(DropoutBackward { mask }));
    Ok(out)
}

/// `noise_shape` with `None` entries taken from `shape` (aligned from the right, as broadcasting
/// aligns), checked to broadcast to `shape`.
fn resolve_noise_shape(shape: &[usize], noise_shape: Option<&[Option<usize>]>) -> Result<Vec<usize>> {
    let Some(ns) = noise_shape else { return Ok(shape.to_vec()) };
    let bad = || crate::value_err!("dropout", "noise_shape {ns:?} does not broadcast to the input shape {shape:?}");
    if ns.len() > shape.len() {
        return bad();
    }
    let lead = shape.len() - ns.len();
    let resolved: Vec<usize> = ns.iter().enumerate().map(|(d, s)| s.unwrap_or(shape[lead + d])).collect();
    match broadcast_shapes("dropout", &resolved, shape) {
        Ok(b) if b == shape => Ok(resolved),
        _ => bad(),
    }
}

/// Everything needed to rebuild the scaled keep-mask (0 or 1/(1-rate)).
struct Mask {
    key: Key,
    rate: f64,
    shape: Vec<usize>,
    dtype: DType,
}

impl Mask {
    fn tensor(&self) -> Result<Tensor> {
        // Keep element i when its 32-bit word w satisfies w >= rate * 2^32: probability 1 - rate.
        let threshold = (self.rate * 4_294_967_296.0).ceil() as u64;
        let key = self.key;
        let scale = 1.0 / (1.0 - self.rate);
        Ok(crate::dispatch_float!(self.dtype, "dropout", |T| {
            let s = T::from_f64(scale);
            let mut m = vec![T::default(); self.shape.iter().product()];
            fill(&mut m, 4, |b, e| {
                let w = key.block(b, 0);
                for (v, &word) in e.iter_mut().zip(&w) {
                    *v = if word as u64 >= threshold { s } else { T::from_f64(0.0) };
                }
            });
            Tensor::from_vec_unchecked(m, &self.shape)
        }))
    }
}

struct DropoutBackward {
    mask: Mask,
}

impl Backward for DropoutBackward {
    fn name(&self) -> &'static str {
        "dropout"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![grad_if(needs[0], || crate::ops::multiply(g, &self.mask.tensor()?))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::{DType, Tensor};

    #[test]
    fn dropout_keeps_scales_and_drops_at_rate() {
        let x = Tensor::ones(&[200_000], DType::F32);
        let y = vals(&super::dropout(&x, 0.3, None, 42).unwrap());
        let zeros = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
        assert!((zeros - 0.3).abs() < 0.005, "zero fraction {zeros}");
        let scale = (1.0f32 / 0.7) as f64;
        assert!(y.iter().all(|&v| v == 0.0 || v == scale));
        assert_eq!(y, vals(&super::dropout(&x, 0.3, None, 42).unwrap()));
        assert_ne!(y, vals(&super::dropout(&x, 0.3, None, 43).unwrap()));
        assert_eq!(vals(&super::dropout(&x, 0.0, None, 1).unwrap()), vals(&x));
        for bad in [1.0, -0.1, f64::NAN] {
            let e = super::dropout(&x, bad, None, 1).unwrap_err().to_string();
            assert!(e.contains("dropout"), "{e}");
        }
    }

    #[test]
    fn dropout_noise_shape_broadcasts() {
        let x = rand64(&[4, 50, 3], 2);
        let y = vals(&super::dropout(&x, 0.5, Some(&[None, Some(1), None]), 7).unwrap());
        let xv = vals(&x);
        for b in 0..4 {
            for c in 0..3 {
                // One decision per (batch, channel) shared along the middle axis.
                let kept: Vec<bool> = (0..50).map(|t| y[(b * 50 + t) * 3 + c] != 0.0).collect();
                assert!(kept.iter().all(|&k| k == kept[0]));
                for t in 0..50 {
                    let i = (b * 50 + t) * 3 + c;
                    assert!(!kept[0] || (y[i] - 2.0 * xv[i]).abs() < 1e-12);
                }
            }
        }
        assert!(super::dropout(&x, 0.5, Some(&[Some(2), None, None]), 7).is_err());
        assert!(super::dropout(&x, 0.5, Some(&[None, None, None, None]), 7).is_err());
    }

    #[test]
    fn dropout_gradient_is_the_scaled_mask() {
        check_grads(|x| super::dropout(&x[0], 0.4, None, 3), &[rand64(&[5, 4], 1)]);
        check_grads(|x| super::dropout(&x[0], 0.5, Some(&[Some(1), None]), 9), &[rand64(&[3, 6], 2)]);
    }

    #[test]
    fn dropout_same_for_any_thread_count_and_simd_path() {
        let x = Tensor::ones(&[300_001], DType::F64);
        assert_same_for_any_thread_count_and_simd_path(|| vals(&super::dropout(&x, 0.25, None, 5).unwrap()));
    }
}
