//! Counter-based random numbers (Philox4x32-10). Filled in by the dropout work; see `ops::dropout`.
