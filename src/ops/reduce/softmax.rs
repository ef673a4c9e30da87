//! `softmax(x, axis=-1)`: one fused, stable kernel per row forward and backward. Another axis is
//! moved last (a view), computed, and moved back.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::softmax as k;
use crate::ops::common::{grad_if, to_float};
use crate::tensor::{normalize_axis, Tensor};

/// Apply a row kernel along `axis`, moving it last and back with recorded transposes.
pub(crate) fn along_axis(op: &str, x: &Tensor, axis: isize, last: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let x = to_float(x)?;
    if x.ndim() == 0 {
        return last(&crate::ops::reshape(&x, &[1])?).and_then(|y| crate::ops::reshape(&y, &[]));
    }
    let a = normalize_axis(op, axis, x.ndim())?;
    let nd = x.ndim();
    if a == nd - 1 {
        return last(&x);
    }
    let mut perm: Vec<isize> = (0..nd as isize).filter(|&d| d != a as isize).collect();
    perm.push(a as isize);
    let mut inverse = vec![0isize; nd];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p as usize] = i as isize;
    }
    let y = last(&crate::ops::transpose(&x, Some(&perm))?)?;
    crate::ops::transpose(&y, Some(&inverse))
}

fn softmax_last(x: &Tensor) -> Result<Tensor> {
    let n = *x.shape().last().unwrap_or(&1);
    let out = crate::dispatch_float!(x.dtype(), "softmax", |T| Tensor::from_vec(k::softmax(&x.data::<T>()?, n), x.shape())?);
    record(&[x], &out, || Arc::new(SoftmaxBackward { y: out.clone() }));
    Ok(out)
}

pub fn softmax(x: &Tensor, axis: isize) -> Result<Tensor> {
    along_axis("softmax", x, axis, softmax_last)
}

struct SoftmaxBackward {
    y: Tensor,
}

impl Backward for SoftmaxBackward {
    fn name(&self) -> &'static str {
        "softmax"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let n = *self.y.shape().last().unwrap_or(&1);
        let gx = grad_if(needs[0], || {
            crate::dispatch_float!(self.y.dtype(), "softmax", |T| Tensor::from_vec(k::softmax_grad(&self.y.data::<T>()?, &g.data::<T>()?, n), self.y.shape()))
        })?;
        Ok(vec![gx])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn softmax_values_and_gradients() {
        let y = vals(&crate::ops::softmax(&t64(&[0.0, 0.0, 1e4, 0.0], &[2, 2]), -1).unwrap());
        assert_eq!(y, vec![0.5, 0.5, 1.0, 0.0]);
        check_grads(|x| crate::ops::softmax(&x[0], -1), &[rand64(&[3, 4], 1)]);
        check_grads(|x| crate::ops::softmax(&x[0], 0), &[rand64(&[3, 2, 2], 2)]);
    }
}
