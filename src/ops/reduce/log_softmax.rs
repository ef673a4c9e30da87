//! `log_softmax(x, axis=-1)`: x - logsumexp(x) per row, one fused stable kernel forward and backward.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::softmax as k;
use crate::ops::common::grad_if;
use crate::ops::reduce::softmax::along_axis;
use crate::tensor::Tensor;

fn log_softmax_last(x: &Tensor) -> Result<Tensor> {
    let n = *x.shape().last().unwrap_or(&1);
    let out = crate::dispatch_float!(x.dtype(), "log_softmax", |T| Tensor::from_vec(k::log_softmax(&x.data::<T>()?, n), x.shape())?);
    record(&[x], &out, || Arc::new(LogSoftmaxBackward { y: out.clone() }));
    Ok(out)
}

pub fn log_softmax(x: &Tensor, axis: isize) -> Result<Tensor> {
    along_axis("log_softmax", x, axis, log_softmax_last)
}

struct LogSoftmaxBackward {
    y: Tensor,
}

impl Backward for LogSoftmaxBackward {
    fn name(&self) -> &'static str {
        "log_softmax"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let n = *self.y.shape().last().unwrap_or(&1);
        let gx = grad_if(needs[0], || {
            crate::dispatch_float!(self.y.dtype(), "log_softmax", |T| Tensor::from_vec(k::log_softmax_grad(&self.y.data::<T>()?, &g.data::<T>()?, n), self.y.shape()))
        })?;
        Ok(vec![gx])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn log_softmax_values_and_gradients() {
        let y = vals(&crate::ops::log_softmax(&t64(&[0.0, 0.0], &[2]), -1).unwrap());
        assert!((y[0] + std::f64::consts::LN_2).abs() < 1e-15);
        check_grads(|x| crate::ops::log_softmax(&x[0], -1), &[rand64(&[3, 4], 1)]);
        check_grads(|x| crate::ops::log_softmax(&x[0], 1), &[rand64(&[2, 3, 2], 2)]);
    }
}
