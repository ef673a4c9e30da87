//! `mish(x)`: x * tanh(softplus(x)).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::softplus::softplus_of;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Mish;

impl UnaryFn for Mish {
    const NAME: &'static str = "mish";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        x * math::tanh(softplus_of(x))
    }
    fn df<T: Float>(&self, x: T) -> T {
        let t = math::tanh(softplus_of(x));
        t + x * (T::one() - t * t) * math::sigmoid(x)
    }
}

pub fn mish(x: &Tensor) -> Result<Tensor> {
    apply(Mish, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn mish_values_and_gradients() {
        let r = vals(&crate::ops::mish(&t64(&[0.0, 1.0], &[2])).unwrap());
        assert_eq!(r[0], 0.0);
        assert!((r[1] - (1.0 + 1f64.exp()).ln().tanh()).abs() < 1e-15);
        check_grads(|x| crate::ops::mish(&x[0]), &[rand64(&[3, 2], 12)]);
    }
}
