//! `square(x)`: float inputs are differentiable; int64 (and bool, promoted) stay int64.

use crate::error::Result;
use crate::kernels::elementwise::{unary, CHUNK_LIGHT};
use crate::ops::unary::{apply, int_input, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Square;

impl UnaryFn for Square {
    const NAME: &'static str = "square";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        x * x
    }
    fn df<T: Float>(&self, x: T) -> T {
        x + x
    }
}

pub fn square(x: &Tensor) -> Result<Tensor> {
    if x.dtype().is_float() {
        return apply(Square, x);
    }
    // Overflow wraps, as numpy's int64 multiply.
    unary::<i64, i64>(&int_input(x)?, CHUNK_LIGHT, |v| v.wrapping_mul(v))
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn square_values_and_gradients() {
        assert_eq!(vals(&crate::ops::square(&t64(&[-2.0, 0.5], &[2])).unwrap()), vec![4.0, 0.25]);
        let i = crate::ops::square(&Tensor::from_vec(vec![-3i64, 4], &[2]).unwrap()).unwrap();
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![9, 16]);
        check_grads(|x| crate::ops::square(&x[0]), &[rand64(&[3, 2], 20)]);
    }
}
