//! `hard_silu(x)` (also `hard_swish`): x * relu6(x + 3) / 6.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_LIGHT;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct HardSilu;

impl UnaryFn for HardSilu {
    const NAME: &'static str = "hard_silu";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        let v = x + T::c(3.0);
        let v = if v < T::zero() { T::zero() } else { v };
        x * (if v > T::c(6.0) { T::c(6.0) } else { v }) / T::c(6.0)
    }
    fn df<T: Float>(&self, x: T) -> T {
        if x < T::c(-3.0) {
            T::zero()
        } else if x > T::c(3.0) {
            T::one()
        } else {
            (T::c(2.0) * x + T::c(3.0)) / T::c(6.0)
        }
    }
}

pub fn hard_silu(x: &Tensor) -> Result<Tensor> {
    apply(HardSilu, x)
}

/// Keras' other name for `hard_silu`.
pub fn hard_swish(x: &Tensor) -> Result<Tensor> {
    hard_silu(x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn hard_silu_values_and_gradients() {
        let x = t64(&[-4.0, 0.0, 1.5, 4.0], &[4]);
        assert_eq!(vals(&crate::ops::hard_silu(&x).unwrap()), vec![0.0, 0.0, 1.125, 4.0]);
        assert_eq!(vals(&crate::ops::hard_swish(&x).unwrap()), vals(&crate::ops::hard_silu(&x).unwrap()));
        check_grads(|x| crate::ops::hard_silu(&x[0]), &[t64(&[-4.0, -2.5, 0.3, 2.9, 3.5], &[5])]);
    }
}
