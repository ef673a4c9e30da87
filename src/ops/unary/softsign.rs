//! `softsign(x)`: x / (1 + |x|).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_LIGHT;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Softsign;

impl UnaryFn for Softsign {
    const NAME: &'static str = "softsign";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        x / (T::one() + x.abs())
    }
    fn df<T: Float>(&self, x: T) -> T {
        let d = T::one() + x.abs();
        (d * d).recip()
    }
}

pub fn softsign(x: &Tensor) -> Result<Tensor> {
    apply(Softsign, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn softsign_values_and_gradients() {
        assert_eq!(vals(&crate::ops::softsign(&t64(&[1.0, -3.0], &[2])).unwrap()), vec![0.5, -0.75]);
        check_grads(|x| crate::ops::softsign(&x[0]), &[t64(&[-1.5, -0.2, 0.3, 2.0], &[4])]);
    }
}
