//! `binary_crossentropy(target, output, from_logits=False)`, elementwise as `keras.ops`.
//! Probabilities are clipped to [1e-7, 1 - 1e-7]; logits use the stable form
//! max(x, 0) - x·z + log(1 + exp(-|x|)) in one fused pass (and one for the backward).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_HEAVY};
use crate::kernels::math::{exp, ln_1p, sigmoid};
use crate::ops::common::{grad_if, promote_float};
use crate::ops::reduce::categorical_crossentropy::EPSILON;
use crate::tensor::Tensor;
use crate::shape_err;

pub fn binary_crossentropy(target: &Tensor, output: &Tensor, from_logits: bool) -> Result<Tensor> {
    let op = "binary_crossentropy";
    if target.shape() != output.shape() {
        return shape_err!(op, "arguments `target` and `output` must have the same shape. Received: target.shape={:?}, output.shape={:?}", target.shape(), output.shape());
    }
    let (z, x) = promote_float(target, output)?;
    if !from_logits {
        let p = crate::ops::clip(&x, EPSILON, 1.0 - EPSILON)?;
        let one = Tensor::full(&[], 1.0, p.dtype());
        let a = crate::ops::multiply(&z, &crate::ops::log(&p)?)?;
        let b = crate::ops::multiply(&crate::ops::subtract(&one, &z)?, &crate::ops::log(&crate::ops::subtract(&one, &p)?)?)?;
        return crate::ops::negative(&crate::ops::add(&a, &b)?);
    }
    let out = crate::dispatch_float!(x.dtype(), op, |T| binary::<T, T, T>(op, &x, &z, CHUNK_HEAVY, |x, z| {
        let relu = if x > (0.0 as T) { x } else { 0.0 as T };
        relu - x * z + ln_1p(exp(-x.abs()))
    })?);
    record(&[&z, &x], &out, || Arc::new(BceLogitsBackward { z: z.clone(), x: x.clone() }));
    Ok(out)
}

struct BceLogitsBackward {
    z: Tensor,
    x: Tensor,
}

impl Backward for BceLogitsBackward {
    fn name(&self) -> &'static str {
        "binary_crossentropy"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        // d/dx = sigmoid(x) - z ; d/dz = -x
        let gz = grad_if(needs[0], || crate::ops::negative(&crate::ops::multiply(g, &self.x)?))?;
        let gx = grad_if(needs[1], || {
            let d = crate::dispatch_float!(self.x.dtype(), "binary_crossentropy", |T| binary::<T, T, T>("binary_crossentropy", &self.x, &self.z, CHUNK_HEAVY, |x, z| sigmoid(x) - z)?);
            crate::ops::multiply(g, &d)
        })?;
        Ok(vec![gz, gx])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn binary_crossentropy_values_and_gradients() {
        let z = t64(&[1.0, 0.0, 1.0], &[3]);
        let p = t64(&[0.9, 0.2, 0.0], &[3]);
        let l = vals(&crate::ops::binary_crossentropy(&z, &p, false).unwrap());
        assert!((l[0] + 0.9f64.ln()).abs() < 1e-12 && (l[1] + 0.8f64.ln()).abs() < 1e-12);
        assert!((l[2] + 1e-7f64.ln()).abs() < 1e-9);
        let x = t64(&[100.0, -100.0, 0.0], &[3]);
        let l = vals(&crate::ops::binary_crossentropy(&z, &x, true).unwrap());
        assert!(l[0].abs() < 1e-40 && (l[1] - 0.0).abs() < 1e-40 && (l[2] - 2f64.ln()).abs() < 1e-15);
        check_grads(|x| crate::ops::binary_crossentropy(&x[0], &x[1], true), &[rand64(&[2, 3], 1), rand64(&[2, 3], 2)]);
        let probs = crate::ops::sigmoid(&rand64(&[2, 3], 3)).unwrap();
        check_grads(|x| crate::ops::binary_crossentropy(&x[0], &x[1], false), &[rand64(&[2, 3], 4), probs]);
    }
}
