//! Random ops on the counter-based Philox generator (`runtime::rng`). Every op takes a 64-bit
//! `seed`; element `i` of the result depends only on (seed, i), so results are identical for any
//! thread count. Seed bookkeeping (SeedGenerator, the global seed) lives in `rkeras.random`.

mod dropout;
mod normal;
mod randint;
mod shuffle;
mod truncated_normal;
mod uniform;

pub use dropout::dropout;
pub use normal::normal;
pub use randint::randint;
pub use shuffle::shuffle;
pub use truncated_normal::truncated_normal;
pub use uniform::uniform;

use crate::error::Result;
use crate::tensor::{DType, Element, Tensor};

/// The float dtype a random op produces, or a ValueError naming the op.
fn float_dtype(op: &str, dtype: DType) -> Result<DType> {
    if dtype.is_float() {
        Ok(dtype)
    } else {
        crate::value_err!(op, "expected a floating dtype (float32 or float64), received {dtype}")
    }
}

/// A tensor of `shape` filled by `rng::fill` (the common tail of the generating ops).
fn generate<T: Element>(shape: &[usize], fill: impl FnOnce(&mut [T])) -> Tensor {
    let mut out = vec![T::default(); shape.iter().product()];
    fill(&mut out);
    Tensor::from_vec_unchecked(out, shape)
}
