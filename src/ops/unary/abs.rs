//! `abs(x)`: float inputs are differentiable; int64 (and bool, promoted) stay int64 as in numpy.

use crate::error::Result;
use crate::kernels::elementwise::{unary, CHUNK_LIGHT};
use crate::ops::unary::{apply, int_input, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Abs;

impl UnaryFn for Abs {
    const NAME: &'static str = "abs";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        x.abs()
    }
    /// sign(x), with 0 at the kink.
    fn df<T: Float>(&self, x: T) -> T {
        if x > T::zero() {
            T::one()
        } else if x < T::zero() {
            -T::one()
        } else {
            T::zero()
        }
    }
}

pub fn abs(x: &Tensor) -> Result<Tensor> {
    if x.dtype().is_float() {
        return apply(Abs, x);
    }
    // numpy wraps abs(i64::MIN) to itself.
    unary::<i64, i64>(&int_input(x)?, CHUNK_LIGHT, |v| v.wrapping_abs())
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn abs_values_and_gradients() {
        assert_eq!(vals(&crate::ops::abs(&t64(&[-2.0, 0.0, 3.0], &[3])).unwrap()), vec![2.0, 0.0, 3.0]);
        let i = crate::ops::abs(&Tensor::from_vec(vec![-3i64, 4, i64::MIN], &[3]).unwrap()).unwrap();
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![3, 4, i64::MIN]);
        let b = crate::ops::abs(&Tensor::from_vec(vec![true, false], &[2]).unwrap()).unwrap();
        assert_eq!(b.to_vec::<i64>().unwrap(), vec![1, 0]);
        check_grads(|x| crate::ops::abs(&x[0]), &[t64(&[-1.5, -0.2, 0.3, 2.0], &[4])]);
    }
}
