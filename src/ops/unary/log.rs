//! `log(x)`: natural logarithm (log(0) = -inf, log(x < 0) = nan).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Log;

impl UnaryFn for Log {
    const NAME: &'static str = "log";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        math::ln(x)
    }
    fn df<T: Float>(&self, x: T) -> T {
        x.recip()
    }
}

pub fn log(x: &Tensor) -> Result<Tensor> {
    apply(Log, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn log_values_and_gradients() {
        let r = vals(&crate::ops::log(&t64(&[1.0, 0.0, -1.0], &[3])).unwrap());
        assert_eq!(r[..2], [0.0, f64::NEG_INFINITY]);
        assert!(r[2].is_nan());
        let x = crate::ops::exp(&rand64(&[3, 2], 3)).unwrap();
        check_grads(|x| crate::ops::log(&x[0]), &[x]);
    }
}
