//! `pad(x, pad_width, mode="constant", constant_values=None)`: constant padding (the mode Keras
//! backends share). The gradient is the interior slice of the incoming gradient.

use crate::error::Result;
use crate::kernels::select as k;
use crate::tensor::{Element, Tensor};
use crate::{shape_err, value_err};

pub fn pad(x: &Tensor, pad_width: &[(usize, usize)], mode: &str, constant_values: f64) -> Result<Tensor> {
    if mode != "constant" {
        return value_err!("pad", "unsupported mode {mode:?}: the supported mode is \"constant\"");
    }
    if pad_width.len() != x.ndim() {
        return shape_err!("pad", "pad_width has {} entries for a tensor of rank {} (shape {:?})", pad_width.len(), x.ndim(), x.shape());
    }
    let shape: Vec<usize> = x.shape().iter().zip(pad_width).map(|(&n, &(b, a))| b + n + a).collect();
    let idx: Vec<Vec<usize>> = x.shape().iter().zip(pad_width).map(|(&n, &(b, _))| (b..b + n).collect()).collect();
    fn run<T: Element>(x: &Tensor, shape: &[usize], idx: &[Vec<usize>], c: f64) -> Result<Tensor> {
        let data = x.data::<T>()?;
        Tensor::from_vec(k::scatter(&data, shape, idx, T::from_f64(c), |a, b| *a = b), shape)
    }
    let out = crate::dispatch_all!(x.dtype(), |T| run::<T>(x, &shape, &idx, constant_values)?);
    // The gradient is the interior of the incoming gradient (the adjoint of placing x there).
    if x.dtype().is_float() {
        crate::autograd::record(&[x], &out, || std::sync::Arc::new(PadBackward { idx }));
    }
    Ok(out)
}

struct PadBackward {
    idx: Vec<Vec<usize>>,
}

impl crate::autograd::Backward for PadBackward {
    fn name(&self) -> &'static str {
        "pad"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let gx = crate::ops::common::grad_if(needs[0], || crate::ops::shape::select(g, self.idx.clone()))?;
        Ok(vec![gx])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn pad_values_and_gradients() {
        let x = t64(&[1., 2.], &[1, 2]);
        let y = crate::ops::pad(&x, &[(1, 0), (0, 1)], "constant", 9.0).unwrap();
        assert_eq!(vals(&y), vec![9., 9., 9., 1., 2., 9.]);
        assert!(crate::ops::pad(&x, &[(1, 0)], "constant", 0.0).is_err());
        assert!(crate::ops::pad(&x, &[(1, 0), (0, 0)], "reflect", 0.0).is_err());
        check_grads(|x| crate::ops::pad(&x[0], &[(1, 2), (0, 1)], "constant", 0.5), &[rand64(&[2, 3], 1)]);
    }
}
