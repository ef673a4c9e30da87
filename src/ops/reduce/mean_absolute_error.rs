//! `mean_absolute_error(y_true, y_pred)`: mean over the last axis of |y_pred - y_true|.

use crate::error::Result;
use crate::ops::common::promote_float;
use crate::tensor::Tensor;

pub fn mean_absolute_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = promote_float(y_true, y_pred)?;
    let d = crate::ops::subtract(&p, &t)?;
    let axis = if d.ndim() == 0 { None } else { Some([-1isize]) };
    crate::ops::mean(&crate::ops::abs(&d)?, axis.as_ref().map(|a| a.as_slice()), false)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn mae_values_and_gradients() {
        let l = vals(&crate::ops::mean_absolute_error(&t64(&[1.0, 2.0, 3.0, 4.0], &[2, 2]), &t64(&[1.0, 4.0, 3.0, 3.0], &[2, 2])).unwrap());
        assert_eq!(l, vec![1.0, 0.5]);
        check_grads(|x| crate::ops::mean_absolute_error(&x[0], &x[1]), &[rand64(&[3, 4], 1), rand64(&[3, 4], 2)]);
    }
}
