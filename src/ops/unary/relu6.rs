//! `relu6(x)`: min(max(x, 0), 6).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_LIGHT;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Relu6;

impl UnaryFn for Relu6 {
    const NAME: &'static str = "relu6";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        let v = if x < T::zero() { T::zero() } else { x };
        if v > T::c(6.0) {
            T::c(6.0)
        } else {
            v
        }
    }
    fn df<T: Float>(&self, x: T) -> T {
        if x > T::zero() && x < T::c(6.0) {
            T::one()
        } else {
            T::zero()
        }
    }
}

pub fn relu6(x: &Tensor) -> Result<Tensor> {
    apply(Relu6, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn relu6_values_and_gradients() {
        assert_eq!(vals(&crate::ops::relu6(&t64(&[-2.0, 3.0, 6.0, 9.0], &[4])).unwrap()), vec![0.0, 3.0, 6.0, 6.0]);
        check_grads(|x| crate::ops::relu6(&x[0]), &[t64(&[-1.5, 0.3, 5.5, 7.0], &[4])]);
    }
}
