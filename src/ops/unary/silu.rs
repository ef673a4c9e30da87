//! `silu(x)` (also `swish`): x * sigmoid(x).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Silu;

impl UnaryFn for Silu {
    const NAME: &'static str = "silu";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        x * math::sigmoid(x)
    }
    fn df<T: Float>(&self, x: T) -> T {
        let s = math::sigmoid(x);
        s * (T::one() + x * (T::one() - s))
    }
}

pub fn silu(x: &Tensor) -> Result<Tensor> {
    apply(Silu, x)
}

/// Keras' other name for `silu`.
pub fn swish(x: &Tensor) -> Result<Tensor> {
    silu(x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn silu_values_and_gradients() {
        let r = vals(&crate::ops::silu(&t64(&[0.0, 2.0], &[2])).unwrap());
        assert_eq!(r[0], 0.0);
        assert!((r[1] - 2.0 / (1.0 + (-2f64).exp())).abs() < 1e-15);
        assert_eq!(vals(&crate::ops::swish(&t64(&[2.0], &[1])).unwrap())[0], r[1]);
        check_grads(|x| crate::ops::silu(&x[0]), &[rand64(&[3, 2], 13)]);
    }
}
