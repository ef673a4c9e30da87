//! Runtime settings: thread count, SIMD path, Winograd convolutions.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::runtime::{self, simd};

/// Threads used by kernels (0 restores the default: `RKERAS_NUM_THREADS` or all cores).
#[pyfunction]
fn set_num_threads(n: i64) -> PyResult<()> {
    if n < 0 {
        return Err(PyValueError::new_err(format!("set_num_threads: expected a non-negative thread count, received {n}")));
    }
    runtime::set_num_threads(n as usize);
    Ok(())
}

#[pyfunction]
fn get_num_threads() -> usize {
    runtime::num_threads()
}

/// "avx512", "avx2" or "scalar": the vector path elementwise and reduction kernels take.
#[pyfunction]
fn simd_path() -> &'static str {
    simd::active()
}

/// Force the scalar path (tests), or go back to CPU detection.
#[pyfunction]
fn _set_simd_scalar(scalar: bool) {
    simd::set_scalar(scalar);
}

/// Turn Winograd 3×3 convolutions on or off (tests and side-by-side benchmarks; the
/// environment's `RKERAS_WINOGRAD=0` is the user-facing switch).
#[pyfunction]
fn _set_winograd(on: bool) {
    crate::ops::set_winograd(on);
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(simd_path, m)?)?;
    m.add_function(wrap_pyfunction!(_set_simd_scalar, m)?)?;
    m.add_function(wrap_pyfunction!(_set_winograd, m)?)?;
    m.add_function(wrap_pyfunction!(super::tape::_pause_recording, m)?)?;
    m.add_function(wrap_pyfunction!(super::tape::_resume_recording, m)?)?;
    Ok(())
}
