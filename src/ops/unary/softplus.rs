//! `softplus(x)`: log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) (no overflow).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Softplus;

impl UnaryFn for Softplus {
    const NAME: &'static str = "softplus";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        softplus_of(x)
    }
    fn df<T: Float>(&self, x: T) -> T {
        math::sigmoid(x)
    }
}

pub fn softplus(x: &Tensor) -> Result<Tensor> {
    apply(Softplus, x)
}

/// max(x, 0) + log1p(e^-|x|): softplus without overflow (shared with mish and log_sigmoid).
#[inline(always)]
pub(crate) fn softplus_of<T: Float>(x: T) -> T {
    let m = if x > T::zero() { x } else { T::zero() };
    m + math::ln_1p(math::exp(-x.abs()))
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn softplus_values_and_gradients() {
        let r = vals(&crate::ops::softplus(&t64(&[0.0, 1000.0, -1000.0], &[3])).unwrap());
        assert_eq!(r, vec![2f64.ln(), 1000.0, 0.0]);
        check_grads(|x| crate::ops::softplus(&x[0]), &[rand64(&[3, 2], 10)]);
    }
}
