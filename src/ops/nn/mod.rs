//! Fused neural-network layer ops: one call does what a layer's forward needs (and one backward
//! node does its whole backward), instead of a chain of separately recorded ops.

mod batch_norm;
mod conv;
mod dense;
mod pool;
mod recurrent;
mod winograd;

pub use batch_norm::batch_norm;
pub use conv::{conv, conv_max_pool, explicit_padding, ConvSpec, Padding};
pub use dense::{dense, Activation};
pub use pool::{pool, PoolMode};
pub use recurrent::{rnn, CellActivation, CellKind, RnnSpec};
pub use winograd::set_winograd;
