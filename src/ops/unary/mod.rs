//! Elementwise unary ops (math and activations), one module per op.
//!
//! Most are differentiable float functions: each module defines a small [`UnaryFn`] (the forward
//! function and its derivative) and calls [`apply`], which converts the input to float, runs the
//! forward kernel and records a backward that is a single fused pass `g * f'(saved)` over the
//! incoming gradient and the saved input or output.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, unary};
use crate::ops::common::{grad_if, to_float};
use crate::tensor::{DType, Float, Tensor};

mod abs;
mod clip;
mod cos;
mod elu;
mod exp;
mod expm1;
mod gelu;
mod hard_sigmoid;
mod hard_silu;
mod leaky_relu;
mod log;
mod log1p;
mod log_sigmoid;
mod mish;
mod relu;
mod relu6;
mod round;
mod selu;
mod sigmoid;
mod sign;
mod sin;
mod softplus;
mod softsign;
mod silu;
mod sqrt;
mod square;
mod tanh;

pub use abs::abs;
pub use clip::clip;
pub use cos::cos;
pub use elu::elu;
pub use exp::exp;
pub use expm1::expm1;
pub use gelu::gelu;
pub use hard_sigmoid::hard_sigmoid;
pub use hard_silu::{hard_silu, hard_swish};
pub use leaky_relu::leaky_relu;
pub use log::log;
pub use log1p::log1p;
pub use log_sigmoid::log_sigmoid;
pub use mish::mish;
pub use relu::relu;
pub use relu6::relu6;
pub use round::round;
pub use selu::selu;
pub use sigmoid::sigmoid;
pub use sign::sign;
pub use silu::{silu, swish};
pub use sin::sin;
pub use softplus::softplus;
pub use softsign::softsign;
pub use sqrt::sqrt;
pub use square::square;
pub use tanh::tanh;

/// Which tensor the derivative is computed from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Saved {
    Input,
    Output,
}

/// A differentiable elementwise float function.
pub(crate) trait UnaryFn: Send + Sync + 'static {
    const NAME: &'static str;
    /// Parallel chunk size: `CHUNK_LIGHT` for a few flops per element, `CHUNK_HEAVY` for more.
    const CHUNK: usize;
    /// What `df` receives: the input x or the output f(x).
    const SAVED: Saved;
    fn f<T: Float>(&self, x: T) -> T;
    /// The derivative f'(x), as a function of x or of f(x) (see `SAVED`).
    fn df<T: Float>(&self, v: T) -> T;
}

/// Run `op` on `x` (int/bool become float32) and record its backward.
pub(crate) fn apply<F: UnaryFn>(op: F, x: &Tensor) -> Result<Tensor> {
    let x = to_float(x)?;
    let out = crate::dispatch_float!(x.dtype(), F::NAME, |T| unary::<T, T>(&x, F::CHUNK, |v| op.f(v))?);
    let saved = if F::SAVED == Saved::Input { x.clone() } else { out.clone() };
    record(&[&x], &out, || Arc::new(UnaryBackward { op, saved }));
    Ok(out)
}

struct UnaryBackward<F> {
    op: F,
    saved: Tensor,
}

impl<F: UnaryFn> Backward for UnaryBackward<F> {
    fn name(&self) -> &'static str {
        F::NAME
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let grad = grad_if(needs[0], || {
            let dt = self.saved.dtype();
            let g = if g.dtype() == dt { g.clone() } else { crate::ops::cast(g, dt)? };
            let op = &self.op;
            Ok(crate::dispatch_float!(dt, F::NAME, |T| binary::<T, T, T>(
                F::NAME,
                &self.saved,
                &g,
                F::CHUNK,
                |v, gv| gv * op.df(v)
            )?))
        })?;
        Ok(vec![grad])
    }
}

/// Integer ops that keep int64 (abs, square, sign, clip): bool is promoted to int64 first.
pub(crate) fn int_input(x: &Tensor) -> Result<Tensor> {
    if x.dtype() == DType::Bool {
        crate::ops::cast(x, DType::I64)
    } else {
        Ok(x.clone())
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::{DType, Tensor};

    #[test]
    fn int_input_becomes_float32_and_grad_dtype_follows_input() {
        let x = Tensor::from_vec(vec![1i64, 2, 3], &[3]).unwrap();
        let y = crate::ops::sigmoid(&x).unwrap();
        assert_eq!(y.dtype(), DType::F32);
        let x32 = Tensor::from_vec(vec![0.5f32, -1.0], &[2]).unwrap();
        let g = analytic_grads(|x| crate::ops::tanh(&x[0]), &[x32]);
        assert_eq!(g[0].dtype(), DType::F32);
    }
}
