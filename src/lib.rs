//! rkeras compute core: tensors (f32/f64, plus int64/bool for indices and masks), tape autograd and
//! multithreaded SIMD kernels. Python bindings live in `python/` behind the `python` feature, so
//! this crate builds, tests and benches without libpython.

pub mod error;
pub mod tensor;
pub mod autograd;
pub mod runtime;
pub mod kernels;
pub mod ops;
pub mod optim;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
pub use tensor::{DType, Tensor};

/// Large buffers are reused across steps instead of returned to the system (see runtime::alloc).
#[global_allocator]
static GLOBAL: runtime::alloc::CachingAllocator = runtime::alloc::CachingAllocator;
