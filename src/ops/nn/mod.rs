//! Fused neural-network layer ops: one call does what a layer's forward needs (and one backward
//! node does its whole backward), instead of a chain of separately recorded ops.

mod dense;

pub use dense::{dense, Activation};
