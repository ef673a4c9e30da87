//! Layout ops: expand_dims, squeeze, concatenate, stack, split, slicing, take, one_hot, pad,
//! tile, repeat, flip, dot, creation ops; one module per op. `select` (outer-product indexing
//! with a scatter-add backward) is the engine behind the copying ones.

mod concatenate;
mod creation;
mod dot;
mod expand_dims;
mod one_hot;
mod pad;
mod select;
mod split;
mod strided_slice;
mod take;
mod tile;

pub use concatenate::{concatenate, stack};
pub use creation::{arange, eye, full};
pub use dot::dot;
pub use expand_dims::{expand_dims, squeeze};
pub use one_hot::one_hot;
pub use pad::pad;
pub use select::select;
pub use split::{slice, split, Sections};
pub use strided_slice::strided_slice;
pub use take::take;
pub use tile::{flip, repeat, tile};
