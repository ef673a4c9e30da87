//! Bindings of the core arithmetic, reduction-to-shape and layout ops. Each op family has its
//! own bindings file with a `register` function; the macros here make most bindings one line.

use pyo3::prelude::*;

use super::convert::{self, one};
use super::tensor::PyTensor;
use crate::ops;

/// `name(x1, x2)` calling a binary core op with the GIL released.
macro_rules! py_binary {
    ($name:ident, $f:path) => {
        #[pyfunction]
        pub fn $name(py: Python<'_>, x1: &Bound<'_, PyAny>, x2: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
            let (a, b) = $crate::python::convert::pair(x1, x2)?;
            Ok(py.detach(|| $f(&a, &b))?.into())
        }
    };
}

/// `name(x)` calling a unary core op with the GIL released.
macro_rules! py_unary {
    ($name:ident, $f:path) => {
        #[pyfunction]
        pub fn $name(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
            let a = $crate::python::convert::one(x)?;
            Ok(py.detach(|| $f(&a))?.into())
        }
    };
}
#[allow(unused_imports)]
pub(crate) use {py_binary, py_unary};

py_binary!(add, ops::add);
py_binary!(subtract, ops::subtract);
py_binary!(multiply, ops::multiply);
py_binary!(divide, ops::divide);
py_binary!(matmul, ops::matmul);
py_unary!(negative, ops::negative);

#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false))]
fn sum(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> PyResult<PyTensor> {
    let t = one(x)?;
    let axes = convert::axes(axis)?;
    Ok(py.detach(|| ops::sum_axes(&t, axes.as_deref(), keepdims))?.into())
}

#[pyfunction]
fn reshape(py: Python<'_>, x: &Bound<'_, PyAny>, newshape: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let t = one(x)?;
    let shape: Vec<isize> = match newshape.extract::<isize>() {
        Ok(d) => vec![d],
        Err(_) => newshape.extract()?,
    };
    Ok(py.detach(|| ops::reshape_to(&t, &shape))?.into())
}

#[pyfunction]
fn broadcast_to(py: Python<'_>, x: &Bound<'_, PyAny>, shape: Vec<usize>) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::broadcast_to(&t, &shape))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, axes=None))]
fn transpose(py: Python<'_>, x: &Bound<'_, PyAny>, axes: Option<Vec<isize>>) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::transpose(&t, axes.as_deref()))?.into())
}

#[pyfunction]
fn cast(py: Python<'_>, x: &Bound<'_, PyAny>, dtype: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let t = one(x)?;
    let d = convert::dtype(dtype)?;
    Ok(py.detach(|| ops::cast(&t, d))?.into())
}

/// `convert_to_tensor(x, dtype=None)`.
#[pyfunction]
#[pyo3(signature = (x, dtype=None))]
fn convert_to_tensor(py: Python<'_>, x: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
    let t = convert::to_tensor(x)?;
    match dtype.filter(|d| !d.is_none()) {
        Some(d) => {
            let d = convert::dtype(d)?;
            Ok(py.detach(|| ops::cast(&t, d))?.into())
        }
        None => Ok(t.into()),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(add, m)?,
        wrap_pyfunction!(subtract, m)?,
        wrap_pyfunction!(multiply, m)?,
        wrap_pyfunction!(divide, m)?,
        wrap_pyfunction!(matmul, m)?,
        wrap_pyfunction!(negative, m)?,
        wrap_pyfunction!(sum, m)?,
        wrap_pyfunction!(reshape, m)?,
        wrap_pyfunction!(broadcast_to, m)?,
        wrap_pyfunction!(transpose, m)?,
        wrap_pyfunction!(cast, m)?,
        wrap_pyfunction!(convert_to_tensor, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
