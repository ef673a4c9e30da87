//! Hot loops. Kernels take and return plain tensors; autograd lives in `ops`.

pub mod elementwise;
pub mod losses;
pub mod math;
pub mod gemm;
pub mod reduce;
pub mod select;
pub mod skinny;
pub mod softmax;
pub mod transpose;
