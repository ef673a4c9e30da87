//! `sqrt(x)`.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_LIGHT;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Sqrt;

impl UnaryFn for Sqrt {
    const NAME: &'static str = "sqrt";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Output;
    fn f<T: Float>(&self, x: T) -> T {
        x.sqrt()
    }
    fn df<T: Float>(&self, y: T) -> T {
        T::c(0.5) / y
    }
}

pub fn sqrt(x: &Tensor) -> Result<Tensor> {
    apply(Sqrt, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn sqrt_values_and_gradients() {
        let r = vals(&crate::ops::sqrt(&t64(&[4.0, 0.0, -1.0], &[3])).unwrap());
        assert_eq!(r[..2], [2.0, 0.0]);
        assert!(r[2].is_nan());
        let x = crate::ops::exp(&rand64(&[3, 2], 5)).unwrap();
        check_grads(|x| crate::ops::sqrt(&x[0]), &[x]);
    }
}
