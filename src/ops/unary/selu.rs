//! `selu(x)`: scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Selu;

impl UnaryFn for Selu {
    const NAME: &'static str = "selu";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        if x > T::zero() {
            T::c(SCALE) * x
        } else {
            T::c(SCALE * ALPHA) * math::exp_m1(x)
        }
    }
    fn df<T: Float>(&self, x: T) -> T {
        if x > T::zero() {
            T::c(SCALE)
        } else {
            T::c(SCALE * ALPHA) * math::exp(x)
        }
    }
}

const ALPHA: f64 = 1.673_263_242_354_377_3;
const SCALE: f64 = 1.050_700_987_355_480_5;

pub fn selu(x: &Tensor) -> Result<Tensor> {
    apply(Selu, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn selu_values_and_gradients() {
        let r = vals(&crate::ops::selu(&t64(&[1.0, f64::NEG_INFINITY], &[2])).unwrap());
        assert!((r[0] - 1.0507009873554805).abs() < 1e-15 && (r[1] + 1.0507009873554805 * 1.6732632423543772).abs() < 1e-15);
        check_grads(|x| crate::ops::selu(&x[0]), &[t64(&[-1.5, -0.2, 0.3, 2.0], &[4])]);
    }
}
