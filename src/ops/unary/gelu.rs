//! `gelu(x, approximate=True)`: x * Phi(x), Phi the standard normal CDF. `approximate` uses the
//! tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), evaluated as x * sigmoid(2 * ...)
//! (the same value without the cancellation of 1 + tanh for negative x); the exact form is
//! 0.5 x erfc(-x / sqrt(2)).

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_PI, PI};

use crate::error::Result;
use crate::kernels::elementwise::CHUNK_HEAVY;
use crate::kernels::math;
use crate::ops::unary::{apply, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

const CUBIC: f64 = 0.044715;

/// 2 sqrt(2/pi) (x + 0.044715 x^3) and its derivative with respect to x.
#[inline(always)]
fn tanh_arg<T: Float>(x: T) -> (T, T) {
    let k = T::c(2.0 * FRAC_2_PI.sqrt());
    let x2 = x * x;
    (k * x * (T::one() + T::c(CUBIC) * x2), k * (T::one() + T::c(3.0 * CUBIC) * x2))
}

struct GeluTanh;

impl UnaryFn for GeluTanh {
    const NAME: &'static str = "gelu";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        x * math::sigmoid(tanh_arg(x).0)
    }
    fn df<T: Float>(&self, x: T) -> T {
        let (z, dz) = tanh_arg(x);
        let s = math::sigmoid(z);
        s + x * s * (T::one() - s) * dz
    }
}

struct GeluErf;

impl UnaryFn for GeluErf {
    const NAME: &'static str = "gelu";
    const CHUNK: usize = CHUNK_HEAVY;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        T::c(0.5) * x * math::erfc(-x * T::c(FRAC_1_SQRT_2))
    }
    /// Phi(x) + x phi(x).
    fn df<T: Float>(&self, x: T) -> T {
        let cdf = T::c(0.5) * math::erfc(-x * T::c(FRAC_1_SQRT_2));
        cdf + x * T::c(1.0 / (2.0 * PI).sqrt()) * math::exp(T::c(-0.5) * x * x)
    }
}

pub fn gelu(x: &Tensor, approximate: bool) -> Result<Tensor> {
    if approximate {
        apply(GeluTanh, x)
    } else {
        apply(GeluErf, x)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn gelu_values_and_gradients() {
        let x = t64(&[-2.0, 0.0, 1.0], &[3]);
        let tanh_form = |v: f64| 0.5 * v * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v)).tanh());
        let erf_form = |v: f64| 0.5 * v * (1.0 + libm::erf(v / 2f64.sqrt()));
        let a = vals(&crate::ops::gelu(&x, true).unwrap());
        let e = vals(&crate::ops::gelu(&x, false).unwrap());
        for (i, v) in [-2.0, 0.0, 1.0].into_iter().enumerate() {
            assert!((a[i] - tanh_form(v)).abs() < 1e-15, "approximate gelu({v})");
            assert!((e[i] - erf_form(v)).abs() < 1e-15, "exact gelu({v})");
        }
        assert!((a[2] - e[2]).abs() > 1e-5, "the two forms differ");
        check_grads(|x| crate::ops::gelu(&x[0], true), &[rand64(&[3, 2], 22)]);
        check_grads(|x| crate::ops::gelu(&x[0], false), &[rand64(&[3, 2], 23)]);
    }
}
