//! `tanh(x)`.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Tanh;

impl UnaryFn for Tanh {
    const NAME: &'static str = "tanh";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Output;
    fn f<T: Float>(&self, x: T) -> T {
        math::tanh(x)
    }
    fn df<T: Float>(&self, y: T) -> T {
        T::one() - y * y
    }
}

pub fn tanh(x: &Tensor) -> Result<Tensor> {
    apply(Tanh, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn tanh_values_and_gradients() {
        let r = vals(&crate::ops::tanh(&t64(&[0.0, 1.0, f64::INFINITY, f64::NEG_INFINITY], &[4])).unwrap());
        assert_eq!(r, vec![0.0, 1f64.tanh(), 1.0, -1.0]);
        check_grads(|x| crate::ops::tanh(&x[0]), &[rand64(&[3, 2], 8)]);
    }
}
