//! `cos(x)`.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Cos;

impl UnaryFn for Cos {
    const NAME: &'static str = "cos";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        x.cos()
    }
    fn df<T: Float>(&self, x: T) -> T {
        -x.sin()
    }
}

pub fn cos(x: &Tensor) -> Result<Tensor> {
    apply(Cos, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn cos_values_and_gradients() {
        assert_eq!(vals(&crate::ops::cos(&t64(&[0.0, 1.0], &[2])).unwrap()), vec![1.0, 1f64.cos()]);
        check_grads(|x| crate::ops::cos(&x[0]), &[rand64(&[3, 2], 7)]);
    }
}
