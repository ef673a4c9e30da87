//! Process-wide runtime: the thread pool, SIMD dispatch switch and random numbers.

pub mod alloc;
pub mod pool;
pub mod rng;
pub mod simd;

pub use pool::{num_threads, par_chunks_mut, par_map_mut, par_ranges, set_num_threads};
