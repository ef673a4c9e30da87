//! `sin(x)`.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Sin;

impl UnaryFn for Sin {
    const NAME: &'static str = "sin";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        x.sin()
    }
    fn df<T: Float>(&self, x: T) -> T {
        x.cos()
    }
}

pub fn sin(x: &Tensor) -> Result<Tensor> {
    apply(Sin, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn sin_values_and_gradients() {
        assert_eq!(vals(&crate::ops::sin(&t64(&[0.0, 1.0], &[2])).unwrap()), vec![0.0, 1f64.sin()]);
        check_grads(|x| crate::ops::sin(&x[0]), &[rand64(&[3, 2], 6)]);
    }
}
