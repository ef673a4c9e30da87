//! `log1p(x)`: log(1 + x), accurate near 0.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Log1p;

impl UnaryFn for Log1p {
    const NAME: &'static str = "log1p";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        math::ln_1p(x)
    }
    fn df<T: Float>(&self, x: T) -> T {
        (T::one() + x).recip()
    }
}

pub fn log1p(x: &Tensor) -> Result<Tensor> {
    apply(Log1p, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn log1p_values_and_gradients() {
        let r = vals(&crate::ops::log1p(&t64(&[1e-20, -1.0], &[2])).unwrap());
        assert_eq!(r, vec![1e-20, f64::NEG_INFINITY]);
        check_grads(|x| crate::ops::log1p(&x[0]), &[rand64(&[3, 2], 4)]);
    }
}
