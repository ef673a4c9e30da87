//! Elementwise binary ops beyond +-*/ (power, maximum, minimum, floor_divide, mod), comparisons,
//! logical ops and where, one module per op (the six comparisons share one module, as do the
//! four logical ops: they differ only in the predicate).

mod compare;
mod floor_divide;
mod logical;
mod mask;
mod maximum;
mod minimum;
mod modulo;
mod power;
mod where_;

pub use compare::{equal, greater, greater_equal, less, less_equal, not_equal};
pub use floor_divide::floor_divide;
pub use logical::{logical_and, logical_not, logical_or, logical_xor, truthy};
pub use maximum::maximum;
pub use minimum::minimum;
pub use modulo::modulo;
pub use power::power;
pub use where_::{nonzero, where_};
