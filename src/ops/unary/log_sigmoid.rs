//! `log_sigmoid(x)`: log(sigmoid(x)) = -softplus(-x).

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::softplus::softplus_of;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct LogSigmoid;

impl UnaryFn for LogSigmoid {
    const NAME: &'static str = "log_sigmoid";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        -softplus_of(-x)
    }
    fn df<T: Float>(&self, x: T) -> T {
        math::sigmoid(-x)
    }
}

pub fn log_sigmoid(x: &Tensor) -> Result<Tensor> {
    apply(LogSigmoid, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn log_sigmoid_values_and_gradients() {
        let r = vals(&crate::ops::log_sigmoid(&t64(&[0.0, -1000.0, 1000.0], &[3])).unwrap());
        assert_eq!(r, vec![-(2f64.ln()), -1000.0, 0.0]);
        check_grads(|x| crate::ops::log_sigmoid(&x[0]), &[rand64(&[3, 2], 11)]);
    }
}
