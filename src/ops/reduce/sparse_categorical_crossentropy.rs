//! `sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1)`: integer labels
//! (a trailing size-1 dimension on `target` is dropped, as Keras does). From logits: one fused
//! kernel; from probabilities: Keras's normalize-clip-log formula on the label's entry.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::{Error, Result};
use crate::kernels::losses;
use crate::ops::common::{grad_if, to_float};
use crate::ops::reduce::categorical_crossentropy::{axis_last, EPSILON};
use crate::tensor::{normalize_axis, DType, Tensor};
use crate::shape_err;

/// Labels as int64 values, checked to be integral and in [0, n).
fn labels(target: &Tensor, n: usize) -> Result<Vec<i64>> {
    let op = "sparse_categorical_crossentropy";
    let v: Vec<f64> = target.to_dtype(DType::F64).to_vec::<f64>()?;
    v.iter()
        .map(|&l| {
            if l.fract() != 0.0 || !(0.0..n as f64).contains(&l) {
                Err(Error::Value(format!("{op}: received a label value of {l} which is outside the valid range of [0, {n}) (labels must be integers)")))
            } else {
                Ok(l as i64)
            }
        })
        .collect()
}

pub fn sparse_categorical_crossentropy(target: &Tensor, output: &Tensor, from_logits: bool, axis: isize) -> Result<Tensor> {
    let op = "sparse_categorical_crossentropy";
    let x = to_float(output)?;
    if x.ndim() == 0 {
        return shape_err!(op, "expected `output` with at least one dimension, received shape {:?}", x.shape());
    }
    let a = normalize_axis(op, axis, x.ndim())?;
    let mut expected: Vec<usize> = x.shape().to_vec();
    expected.remove(a);
    let mut tshape = target.shape().to_vec();
    if tshape.len() == x.ndim() && tshape.last() == Some(&1) {
        tshape.pop();
    }
    if tshape != expected {
        return shape_err!(op, "`target` must have the shape of `output` without the class axis. Received: target.shape={:?}, output.shape={:?}", target.shape(), x.shape());
    }
    let x = axis_last(&x, a)?;
    let n = x.shape()[x.ndim() - 1];
    let labels = labels(target, n)?;
    if !from_logits {
        // One-hot labels, then the categorical formula.
        let mut onehot = vec![0.0f64; labels.len() * n];
        for (i, &l) in labels.iter().enumerate() {
            onehot[i * n + l as usize] = 1.0;
        }
        let t = Tensor::from_vec(onehot, x.shape())?.to_dtype(x.dtype());
        let p = crate::ops::divide(&x, &crate::ops::sum_axes(&x, Some(&[-1]), true)?)?;
        let p = crate::ops::clip(&p, EPSILON, 1.0 - EPSILON)?;
        return crate::ops::negative(&crate::ops::sum_axes(&crate::ops::multiply(&t, &crate::ops::log(&p)?)?, Some(&[-1]), false)?);
    }
    let (loss, lse) = crate::dispatch_float!(x.dtype(), op, |T| {
        let (l, s) = losses::sparse_xent(&labels, &x.data::<T>()?, n);
        (Tensor::from_vec(l, &expected)?, Tensor::from_vec(s, &expected)?)
    });
    record(&[&x], &loss, || Arc::new(SparseXentBackward { labels, x: x.clone(), lse }));
    Ok(loss)
}

struct SparseXentBackward {
    labels: Vec<i64>,
    x: Tensor,
    lse: Tensor,
}

impl Backward for SparseXentBackward {
    fn name(&self) -> &'static str {
        "sparse_categorical_crossentropy"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let n = *self.x.shape().last().unwrap_or(&1);
        let gx = grad_if(needs[0], || {
            crate::dispatch_float!(self.x.dtype(), "sparse_categorical_crossentropy", |T| Tensor::from_vec(
                losses::sparse_xent_grad(&self.labels, &self.x.data::<T>()?, &self.lse.data::<T>()?, &g.data::<T>()?, n),
                self.x.shape()
            ))
        })?;
        Ok(vec![gx])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn sparse_crossentropy_values_gradients_and_errors() {
        let z = t64(&[1.0, 2.0, 3.0, 0.0, 0.0, 0.0], &[2, 3]);
        let y = Tensor::from_vec(vec![2i64, 0], &[2, 1]).unwrap();
        let l = vals(&crate::ops::sparse_categorical_crossentropy(&y, &z, true, -1).unwrap());
        let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((l[0] - (lse - 3.0)).abs() < 1e-12 && (l[1] - 3f64.ln()).abs() < 1e-12);
        let y1 = Tensor::from_vec(vec![1i64, 0, 3], &[3]).unwrap();
        check_grads(|x| crate::ops::sparse_categorical_crossentropy(&y1, &x[0], true, -1), &[rand64(&[3, 4], 1)]);
        let p = crate::ops::softmax(&rand64(&[3, 4], 2), -1).unwrap();
        check_grads(|x| crate::ops::sparse_categorical_crossentropy(&y1, &x[0], false, -1), &[p]);
        let bad = Tensor::from_vec(vec![3i64, 0], &[2]).unwrap();
        assert!(crate::ops::sparse_categorical_crossentropy(&bad, &z, true, -1).is_err());
        assert!(crate::ops::sparse_categorical_crossentropy(&y1, &z, true, -1).is_err());
    }
}
