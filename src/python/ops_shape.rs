//! Bindings of the layout, indexing and creation ops (see `src/ops/shape/`). Argument
//! normalization that numpy spells many ways (pad widths, index expressions) lives in
//! `python/rkeras/ops/_shape.py`; these take the normalized forms.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use super::convert::{self, axes, one, pair};
use super::tensor::PyTensor;
use crate::ops;
use crate::tensor::DType;

fn tensors(xs: &Bound<'_, PyAny>) -> PyResult<Vec<crate::Tensor>> {
    let items: Vec<Bound<'_, PyAny>> = xs.extract().map_err(|_| PyTypeError::new_err("expected a list or tuple of tensors"))?;
    items.iter().map(one).collect()
}

fn dtype_or(d: Option<&Bound<'_, PyAny>>, default: DType) -> PyResult<DType> {
    match d.filter(|d| !d.is_none()) {
        Some(d) => convert::dtype(d),
        None => Ok(default),
    }
}

#[pyfunction]
fn expand_dims(py: Python<'_>, x: &Bound<'_, PyAny>, axis: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let t = one(x)?;
    let a = axes(Some(axis))?.unwrap_or_default();
    Ok(py.detach(|| ops::expand_dims(&t, &a))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, axis=None))]
fn squeeze(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let t = one(x)?;
    let a = axes(axis)?;
    Ok(py.detach(|| ops::squeeze(&t, a.as_deref()))?.into())
}

#[pyfunction]
#[pyo3(signature = (xs, axis=0))]
fn concatenate(py: Python<'_>, xs: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let ts = tensors(xs)?;
    Ok(py.detach(|| ops::concatenate(&ts, axis))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, axis=0))]
fn stack(py: Python<'_>, x: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let ts = tensors(x)?;
    Ok(py.detach(|| ops::stack(&ts, axis))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, indices_or_sections, axis=0))]
fn split(py: Python<'_>, x: &Bound<'_, PyAny>, indices_or_sections: &Bound<'_, PyAny>, axis: isize) -> PyResult<Vec<PyTensor>> {
    let t = one(x)?;
    let s = match indices_or_sections.extract::<usize>() {
        Ok(k) => ops::Sections::Count(k),
        Err(_) => ops::Sections::Indices(indices_or_sections.extract()?),
    };
    let parts = py.detach(|| ops::split(&t, s, axis))?;
    Ok(parts.into_iter().map(PyTensor::from).collect())
}

#[pyfunction]
fn slice(py: Python<'_>, inputs: &Bound<'_, PyAny>, start_indices: Vec<usize>, shape: Vec<usize>) -> PyResult<PyTensor> {
    let t = one(inputs)?;
    Ok(py.detach(|| ops::slice(&t, &start_indices, &shape))?.into())
}

/// Normalized basic indexing (used by `Tensor.__getitem__`).
#[pyfunction]
fn _strided_slice(py: Python<'_>, x: &Bound<'_, PyAny>, starts: Vec<usize>, steps: Vec<isize>, lens: Vec<usize>) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::strided_slice(&t, &starts, &steps, &lens))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, indices, axis=None))]
fn take(py: Python<'_>, x: &Bound<'_, PyAny>, indices: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<PyTensor> {
    let (t, i) = (one(x)?, one(indices)?);
    Ok(py.detach(|| ops::take(&t, &i, axis))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, num_classes, axis=-1, dtype=None))]
fn one_hot(py: Python<'_>, x: &Bound<'_, PyAny>, num_classes: usize, axis: isize, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let t = one(x)?;
    let d = dtype_or(dtype, DType::F32)?;
    Ok(py.detach(|| ops::one_hot(&t, num_classes, axis, d))?.into())
}

#[pyfunction]
fn _pad(py: Python<'_>, x: &Bound<'_, PyAny>, pad_width: Vec<(usize, usize)>, mode: String, constant_values: f64) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::pad(&t, &pad_width, &mode, constant_values))?.into())
}

#[pyfunction]
fn tile(py: Python<'_>, x: &Bound<'_, PyAny>, repeats: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let t = one(x)?;
    let r: Vec<usize> = match repeats.extract::<usize>() {
        Ok(k) => vec![k],
        Err(_) => repeats.extract()?,
    };
    Ok(py.detach(|| ops::tile(&t, &r))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, repeats, axis=None))]
fn repeat(py: Python<'_>, x: &Bound<'_, PyAny>, repeats: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<PyTensor> {
    let t = one(x)?;
    let r: Vec<usize> = match repeats.extract::<usize>() {
        Ok(k) => vec![k],
        Err(_) => repeats.extract()?,
    };
    Ok(py.detach(|| ops::repeat(&t, &r, axis))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, axis=None))]
fn flip(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let t = one(x)?;
    let a = axes(axis)?;
    Ok(py.detach(|| ops::flip(&t, a.as_deref()))?.into())
}

#[pyfunction]
fn dot(py: Python<'_>, x1: &Bound<'_, PyAny>, x2: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let (a, b) = pair(x1, x2)?;
    Ok(py.detach(|| ops::dot(&a, &b))?.into())
}

#[pyfunction]
fn _full(py: Python<'_>, shape: Vec<usize>, value: f64, dtype: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let d = convert::dtype(dtype)?;
    Ok(py.detach(|| ops::full(&shape, value, d)).into())
}

#[pyfunction]
fn _arange(py: Python<'_>, start: f64, stop: f64, step: f64, dtype: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let d = convert::dtype(dtype)?;
    Ok(py.detach(|| ops::arange(start, stop, step, d))?.into())
}

#[pyfunction]
#[pyo3(signature = (N, M=None, k=0, dtype=None))]
#[allow(non_snake_case)]
fn eye(py: Python<'_>, N: usize, M: Option<usize>, k: isize, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let d = dtype_or(dtype, DType::F32)?;
    Ok(py.detach(|| ops::eye(N, M, k, d)).into())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(expand_dims, m)?,
        wrap_pyfunction!(squeeze, m)?,
        wrap_pyfunction!(concatenate, m)?,
        wrap_pyfunction!(stack, m)?,
        wrap_pyfunction!(split, m)?,
        wrap_pyfunction!(slice, m)?,
        wrap_pyfunction!(_strided_slice, m)?,
        wrap_pyfunction!(take, m)?,
        wrap_pyfunction!(one_hot, m)?,
        wrap_pyfunction!(_pad, m)?,
        wrap_pyfunction!(tile, m)?,
        wrap_pyfunction!(repeat, m)?,
        wrap_pyfunction!(flip, m)?,
        wrap_pyfunction!(dot, m)?,
        wrap_pyfunction!(_full, m)?,
        wrap_pyfunction!(_arange, m)?,
        wrap_pyfunction!(eye, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
