//! `exp(x)`: e^x with the fast f32 kernel.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Exp;

impl UnaryFn for Exp {
    const NAME: &'static str = "exp";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Output;
    fn f<T: Float>(&self, x: T) -> T {
        math::exp(x)
    }
    fn df<T: Float>(&self, y: T) -> T {
        y
    }
}

pub fn exp(x: &Tensor) -> Result<Tensor> {
    apply(Exp, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn exp_values_and_gradients() {
        let r = vals(&crate::ops::exp(&t64(&[0.0, 1.0, f64::NEG_INFINITY, 1000.0], &[4])).unwrap());
        assert_eq!(r[0], 1.0);
        assert!((r[1] - std::f64::consts::E).abs() < 1e-15);
        assert_eq!(&r[2..], &[0.0, f64::INFINITY]);
        check_grads(|x| crate::ops::exp(&x[0]), &[rand64(&[3, 2], 1)]);
    }
}
