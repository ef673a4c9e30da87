//! `relu(x)`: max(x, 0), NaN propagating.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_LIGHT;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Relu;

impl UnaryFn for Relu {
    const NAME: &'static str = "relu";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        if x < T::zero() {
            T::zero()
        } else {
            x
        }
    }
    fn df<T: Float>(&self, x: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            T::zero()
        }
    }
}

pub fn relu(x: &Tensor) -> Result<Tensor> {
    apply(Relu, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn relu_values_and_gradients() {
        let r = vals(&crate::ops::relu(&t64(&[-2.0, 0.0, 3.0, f64::NAN], &[4])).unwrap());
        assert_eq!(r[..3], [0.0, 0.0, 3.0]);
        assert!(r[3].is_nan());
        check_grads(|x| crate::ops::relu(&x[0]), &[t64(&[-1.5, -0.2, 0.3, 2.0], &[2, 2])]);
    }
}
