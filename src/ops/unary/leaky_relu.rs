//! `leaky_relu(x, negative_slope=0.2)`: x for x >= 0, negative_slope * x below.

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_LIGHT;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct LeakyRelu {
    slope: f64,
}

impl UnaryFn for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        if x >= T::zero() {
            x
        } else {
            T::c(self.slope) * x
        }
    }
    fn df<T: Float>(&self, x: T) -> T {
        if x >= T::zero() {
            T::one()
        } else {
            T::c(self.slope)
        }
    }
}

pub fn leaky_relu(x: &Tensor, negative_slope: f64) -> Result<Tensor> {
    apply(LeakyRelu { slope: negative_slope }, x)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn leaky_relu_values_and_gradients() {
        let r = vals(&crate::ops::leaky_relu(&t64(&[-2.0, 3.0], &[2]), 0.2).unwrap());
        assert_eq!(r, vec![-2.0 * 0.2, 3.0]);
        check_grads(|x| crate::ops::leaky_relu(&x[0], 0.1), &[t64(&[-1.5, -0.2, 0.3, 2.0], &[4])]);
    }
}
