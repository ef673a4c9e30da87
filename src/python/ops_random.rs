//! Bindings of the random op family (see `src/ops/random/`). Seeds arrive as plain 64-bit ints:
//! `rkeras.random` turns int seeds, SeedGenerators and the global seed into them.

use pyo3::prelude::*;

use super::convert::{self, one};
use super::tensor::PyTensor;
use crate::ops;

#[pyfunction]
fn random_uniform(py: Python<'_>, shape: Vec<usize>, minval: f64, maxval: f64, dtype: &Bound<'_, PyAny>, seed: u64) -> PyResult<PyTensor> {
    let d = convert::dtype(dtype)?;
    Ok(py.detach(|| ops::uniform(&shape, minval, maxval, d, seed))?.into())
}

#[pyfunction]
fn random_normal(py: Python<'_>, shape: Vec<usize>, mean: f64, stddev: f64, dtype: &Bound<'_, PyAny>, seed: u64) -> PyResult<PyTensor> {
    let d = convert::dtype(dtype)?;
    Ok(py.detach(|| ops::normal(&shape, mean, stddev, d, seed))?.into())
}

#[pyfunction]
fn random_truncated_normal(py: Python<'_>, shape: Vec<usize>, mean: f64, stddev: f64, dtype: &Bound<'_, PyAny>, seed: u64) -> PyResult<PyTensor> {
    let d = convert::dtype(dtype)?;
    Ok(py.detach(|| ops::truncated_normal(&shape, mean, stddev, d, seed))?.into())
}

#[pyfunction]
fn random_randint(py: Python<'_>, shape: Vec<usize>, minval: i64, maxval: i64, seed: u64) -> PyResult<PyTensor> {
    Ok(py.detach(|| ops::randint(&shape, minval, maxval, seed))?.into())
}

#[pyfunction]
#[pyo3(signature = (inputs, rate, noise_shape, seed))]
fn random_dropout(py: Python<'_>, inputs: &Bound<'_, PyAny>, rate: f64, noise_shape: Option<Vec<Option<usize>>>, seed: u64) -> PyResult<PyTensor> {
    let x = one(inputs)?;
    Ok(py.detach(|| ops::dropout(&x, rate, noise_shape.as_deref(), seed))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, axis, seed))]
fn random_shuffle(py: Python<'_>, x: &Bound<'_, PyAny>, axis: isize, seed: u64) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::shuffle(&t, axis, seed))?.into())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(random_uniform, m)?,
        wrap_pyfunction!(random_normal, m)?,
        wrap_pyfunction!(random_truncated_normal, m)?,
        wrap_pyfunction!(random_randint, m)?,
        wrap_pyfunction!(random_dropout, m)?,
        wrap_pyfunction!(random_shuffle, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
