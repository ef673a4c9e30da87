//! `logsumexp(x, axis=None, keepdims=False)`: log(sum(exp(x))) computed stably (shifted by the
//! max); its gradient is the softmax.

use crate::autograd::StopRecording;
use crate::error::Result;
use crate::kernels::elementwise::{unary, CHUNK_LIGHT};
use crate::ops::common::to_float;
use crate::tensor::Tensor;

pub fn logsumexp(x: &Tensor, axis: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let x = to_float(x)?;
    // The shift is a constant for differentiation (the result does not depend on it).
    let shift = {
        let _pause = StopRecording::new();
        let m = crate::ops::max(&x, axis, true, if x.numel() == 0 { Some(0.0) } else { None })?;
        crate::dispatch_float!(m.dtype(), "logsumexp", |T| unary::<T, T>(&m, CHUNK_LIGHT, |v| if v.is_finite() { v } else { 0.0 as T })?)
    };
    let s = crate::ops::sum_axes(&crate::ops::exp(&crate::ops::subtract(&x, &shift)?)?, axis, true)?;
    let r = crate::ops::add(&crate::ops::log(&s)?, &shift)?;
    if keepdims {
        return Ok(r);
    }
    let (axes, _) = crate::ops::reduce::reduced_axes("logsumexp", &x, axis)?;
    let shape: Vec<usize> = x.shape().iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &s)| s).collect();
    crate::ops::reshape(&r, &shape)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn logsumexp_values_and_gradients() {
        let x = t64(&[1000.0, 1000.0, f64::NEG_INFINITY, f64::NEG_INFINITY], &[2, 2]);
        let r = vals(&crate::ops::logsumexp(&x, Some(&[1]), false).unwrap());
        assert!((r[0] - (1000.0 + std::f64::consts::LN_2)).abs() < 1e-12);
        assert_eq!(r[1], f64::NEG_INFINITY);
        check_grads(|x| crate::ops::logsumexp(&x[0], Some(&[-1]), false), &[rand64(&[3, 4], 1)]);
        check_grads(|x| crate::ops::logsumexp(&x[0], None, true), &[rand64(&[2, 3], 2)]);
    }
}
