//! `elu(x, alpha=1.0)`: x for x > 0, alpha * (e^x - 1) below.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Elu {
    alpha: f64,
}

impl UnaryFn for Elu {
    const NAME: &'static str = "elu";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            T::c(self.alpha) * math::exp_m1(x)
        }
    }
    fn df<T: Float>(&self, x: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            T::c(self.alpha) * math::exp(x)
        }
    }
}

pub fn elu(x: &Tensor, alpha: f64) -> Result<Tensor> {
    apply(Elu { alpha }, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn elu_values_and_gradients() {
        let r = vals(&crate::ops::elu(&t64(&[-1.0, 3.0, f64::NEG_INFINITY], &[3]), 2.0).unwrap());
        assert_eq!(r, vec![2.0 * (-1f64).exp_m1(), 3.0, -2.0]);
        check_grads(|x| crate::ops::elu(&x[0], 1.5), &[t64(&[-1.5, -0.2, 0.3, 2.0], &[4])]);
    }
}
