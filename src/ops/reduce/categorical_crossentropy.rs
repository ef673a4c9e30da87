//! `categorical_crossentropy(target, output, from_logits=False, axis=-1)`, as `keras.ops`:
//! per-sample losses with `axis` removed. From logits: one fused log-softmax cross-entropy kernel
//! (forward and backward). From probabilities (Keras's formula): output is normalized by its sum
//! along `axis`, clipped to [1e-7, 1 - 1e-7], and the loss is -sum(target * log(output)).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::losses;
use crate::ops::common::{grad_if, promote_float};
use crate::tensor::{normalize_axis, Tensor};
use crate::shape_err;

pub(crate) const EPSILON: f64 = 1e-7;

/// Move `axis` of `x` last (a recorded view).
pub(crate) fn axis_last(x: &Tensor, a: usize) -> Result<Tensor> {
    if a + 1 == x.ndim() {
        return Ok(x.clone());
    }
    let mut perm: Vec<isize> = (0..x.ndim() as isize).filter(|&d| d != a as isize).collect();
    perm.push(a as isize);
    crate::ops::transpose(x, Some(&perm))
}

pub fn categorical_crossentropy(target: &Tensor, output: &Tensor, from_logits: bool, axis: isize) -> Result<Tensor> {
    let op = "categorical_crossentropy";
    if target.shape() != output.shape() {
        return shape_err!(op, "arguments `target` and `output` must have the same shape. Received: target.shape={:?}, output.shape={:?}", target.shape(), output.shape());
    }
    if output.ndim() == 0 {
        return shape_err!(op, "expected `output` with at least one dimension, received shape {:?}", output.shape());
    }
    let (t, x) = promote_float(target, output)?;
    let a = normalize_axis(op, axis, x.ndim())?;
    if from_logits {
        return xent_logits(&axis_last(&t, a)?, &axis_last(&x, a)?);
    }
    let axes = [a as isize];
    let p = crate::ops::divide(&x, &crate::ops::sum_axes(&x, Some(&axes), true)?)?;
    let p = crate::ops::clip(&p, EPSILON, 1.0 - EPSILON)?;
    crate::ops::negative(&crate::ops::sum_axes(&crate::ops::multiply(&t, &crate::ops::log(&p)?)?, Some(&axes), false)?)
}

/// Fused cross-entropy of logits along the last axis.
fn xent_logits(t: &Tensor, x: &Tensor) -> Result<Tensor> {
    let n = *x.shape().last().unwrap_or(&1);
    let out_shape = &x.shape()[..x.ndim() - 1];
    let (loss, lse) = crate::dispatch_float!(x.dtype(), "categorical_crossentropy", |T| {
        let (l, s) = losses::softmax_xent(&t.data::<T>()?, &x.data::<T>()?, n);
        (Tensor::from_vec(l, out_shape)?, Tensor::from_vec(s, out_shape)?)
    });
    record(&[t, x], &loss, || Arc::new(XentBackward { t: t.clone(), x: x.clone(), lse }));
    Ok(loss)
}

struct XentBackward {
    t: Tensor,
    x: Tensor,
    lse: Tensor,
}

impl Backward for XentBackward {
    fn name(&self) -> &'static str {
        "categorical_crossentropy"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let n = *self.x.shape().last().unwrap_or(&1);
        let (dt, dx) = crate::dispatch_float!(self.x.dtype(), "categorical_crossentropy", |T| {
            let (dx, dt) = losses::softmax_xent_grad(&self.t.data::<T>()?, &self.x.data::<T>()?, &self.lse.data::<T>()?, &g.data::<T>()?, n, needs[1], needs[0]);
            (dt.map(|v| Tensor::from_vec(v, self.x.shape())).transpose()?, dx.map(|v| Tensor::from_vec(v, self.x.shape())).transpose()?)
        });
        Ok(vec![grad_if(needs[0], || Ok(dt.expect("computed when needed")))?, grad_if(needs[1], || Ok(dx.expect("computed when needed")))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn categorical_crossentropy_values_and_gradients() {
        let t = t64(&[0.0, 1.0, 0.0, 1.0, 0.0, 0.0], &[2, 3]);
        let p = t64(&[0.2, 0.5, 0.3, 0.0, 0.5, 0.5], &[2, 3]);
        let l = vals(&crate::ops::categorical_crossentropy(&t, &p, false, -1).unwrap());
        assert!((l[0] + 0.5f64.ln()).abs() < 1e-12);
        assert!((l[1] + 1e-7f64.ln()).abs() < 1e-9); // clipped at epsilon
        let z = t64(&[1.0, 2.0, 3.0], &[1, 3]);
        let l = vals(&crate::ops::categorical_crossentropy(&t64(&[0.0, 0.0, 1.0], &[1, 3]), &z, true, -1).unwrap());
        let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((l[0] - (lse - 3.0)).abs() < 1e-12);
        let soft = crate::ops::softmax(&rand64(&[3, 4], 5), -1).unwrap();
        check_grads(|x| crate::ops::categorical_crossentropy(&x[0], &x[1], true, -1), &[soft.clone(), rand64(&[3, 4], 1)]);
        check_grads(|x| crate::ops::categorical_crossentropy(&x[0], &x[1], true, 0), &[rand64(&[3, 2], 3), rand64(&[3, 2], 4)]);
        let probs = crate::ops::softmax(&rand64(&[3, 4], 2), -1).unwrap();
        check_grads(|x| crate::ops::categorical_crossentropy(&x[0], &x[1], false, -1), &[soft, probs]);
        assert!(crate::ops::categorical_crossentropy(&t, &z, true, -1).is_err());
    }
}
