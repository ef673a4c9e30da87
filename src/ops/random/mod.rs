//! Random ops on the counter-based Philox generator: dropout, uniform, normal.
