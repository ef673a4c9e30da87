//! `var(x, axis=None, keepdims=False)` (population variance, as numpy and Keras) and `std`.

use crate::error::Result;
use crate::ops::common::to_float;
use crate::tensor::Tensor;

pub fn var(x: &Tensor, axis: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let x = to_float(x)?;
    let m = crate::ops::mean(&x, axis, true)?;
    let d = crate::ops::subtract(&x, &m)?;
    crate::ops::mean(&crate::ops::multiply(&d, &d)?, axis, keepdims)
}

pub fn std(x: &Tensor, axis: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    crate::ops::sqrt(&var(x, axis, keepdims)?)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn var_std_values_and_gradients() {
        let x = t64(&[1.0, 2.0, 3.0, 4.0], &[4]);
        assert_eq!(vals(&crate::ops::var(&x, None, false).unwrap()), vec![1.25]);
        assert!((vals(&crate::ops::std(&x, None, false).unwrap())[0] - 1.25f64.sqrt()).abs() < 1e-15);
        check_grads(|x| crate::ops::var(&x[0], Some(&[1]), false), &[rand64(&[2, 5], 1)]);
        check_grads(|x| crate::ops::std(&x[0], None, true), &[rand64(&[3, 2], 2)]);
    }
}
