//! Bindings of the reduce op family (see `src/ops/reduce/`).

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let _ = m;
    Ok(())
}
