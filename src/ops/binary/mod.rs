//! Elementwise binary ops beyond +-*/ (power, maximum, minimum), comparisons, logical ops, where,
//! one module per op.
