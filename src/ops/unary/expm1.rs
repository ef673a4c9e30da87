//! `expm1(x)`: e^x - 1, accurate near 0.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Expm1;

impl UnaryFn for Expm1 {
    const NAME: &'static str = "expm1";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Output;
    fn f<T: Float>(&self, x: T) -> T {
        math::exp_m1(x)
    }
    fn df<T: Float>(&self, y: T) -> T {
        y + T::one()
    }
}

pub fn expm1(x: &Tensor) -> Result<Tensor> {
    apply(Expm1, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn expm1_values_and_gradients() {
        let r = vals(&crate::ops::expm1(&t64(&[1e-20, f64::NEG_INFINITY], &[2])).unwrap());
        assert_eq!(r, vec![1e-20, -1.0]);
        check_grads(|x| crate::ops::expm1(&x[0]), &[rand64(&[3, 2], 2)]);
    }
}
