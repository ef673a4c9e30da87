//! Tensor = shared storage (`Arc`) + layout (shape, strides, offset) + dtype + identity.

mod dtype;
pub mod layout;
mod storage;
#[allow(clippy::module_inception)]
mod tensor;

pub use dtype::{uninit_vec, DType, Element, Float};
pub use layout::{broadcast_shapes, normalize_axis, Layout};
pub use storage::{Buffer, Storage};
pub use tensor::{copy_layout, Tensor, TensorId};
