//! `hard_sigmoid(x)`: relu6(x + 3) / 6 (Keras 3).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_LIGHT;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct HardSigmoid;

impl UnaryFn for HardSigmoid {
    const NAME: &'static str = "hard_sigmoid";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        let v = x + T::c(3.0);
        let v = if v < T::zero() { T::zero() } else { v };
        (if v > T::c(6.0) { T::c(6.0) } else { v }) / T::c(6.0)
    }
    fn df<T: Float>(&self, x: T) -> T {
        if x > T::c(-3.0) && x < T::c(3.0) {
            T::c(1.0 / 6.0)
        } else {
            T::zero()
        }
    }
}

pub fn hard_sigmoid(x: &Tensor) -> Result<Tensor> {
    apply(HardSigmoid, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn hard_sigmoid_values_and_gradients() {
        let x = t64(&[-4.0, -3.0, 0.0, 1.5, 3.0, 5.0], &[6]);
        assert_eq!(vals(&crate::ops::hard_sigmoid(&x).unwrap()), vec![0.0, 0.0, 0.5, 0.75, 1.0, 1.0]);
        check_grads(|x| crate::ops::hard_sigmoid(&x[0]), &[t64(&[-4.0, -2.5, 0.3, 2.9, 3.5], &[5])]);
    }
}
