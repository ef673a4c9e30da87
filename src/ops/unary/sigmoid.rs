//! `sigmoid(x)`: 1 / (1 + e^-x).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Sigmoid;

impl UnaryFn for Sigmoid {
    const NAME: &'static str = "sigmoid";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Output;
    fn f<T: Float>(&self, x: T) -> T {
        math::sigmoid(x)
    }
    fn df<T: Float>(&self, y: T) -> T {
        y * (T::one() - y)
    }
}

pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    apply(Sigmoid, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn sigmoid_values_and_gradients() {
        let r = vals(&crate::ops::sigmoid(&t64(&[0.0, 2.0, -1000.0, 1000.0], &[4])).unwrap());
        assert_eq!(r, vec![0.5, 1.0 / (1.0 + (-2f64).exp()), 0.0, 1.0]);
        check_grads(|x| crate::ops::sigmoid(&x[0]), &[rand64(&[3, 2], 9)]);
    }
}
