//! `mean(x, axis=None, keepdims=False)`: the sum divided by the count (NaN for empty, as numpy).
//! Integer inputs give float32, as in Keras.

use crate::error::Result;
use crate::ops::common::to_float;
use crate::ops::reduce::{count, reduced_axes};
use crate::tensor::Tensor;

pub fn mean(x: &Tensor, axis: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let x = to_float(x)?;
    let (axes, _) = reduced_axes("mean", &x, axis)?;
    let n = count(&x, &axes) as f64;
    let s = crate::ops::sum_axes(&x, axis, keepdims)?;
    crate::ops::divide(&s, &Tensor::full(&[], n, x.dtype()))
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn mean_values_and_gradients() {
        let x = t64(&[1.0, 2.0, 3.0, 5.0], &[2, 2]);
        assert_eq!(vals(&crate::ops::mean(&x, Some(&[1]), false).unwrap()), vec![1.5, 4.0]);
        assert_eq!(vals(&crate::ops::mean(&x, None, false).unwrap()), vec![2.75]);
        assert!(vals(&crate::ops::mean(&t64(&[], &[0]), None, false).unwrap())[0].is_nan());
        check_grads(|x| crate::ops::mean(&x[0], Some(&[0, 2]), true), &[rand64(&[2, 3, 2], 1)]);
    }
}
