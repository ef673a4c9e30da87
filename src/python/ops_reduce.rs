//! Bindings of the reduction, softmax and loss ops (see `src/ops/reduce/`).

use pyo3::prelude::*;

use super::convert::{axes, one, pair};
use super::tensor::PyTensor;
use crate::ops;

/// `name(x, axis=None, keepdims=False)`.
macro_rules! py_reduce {
    ($name:ident, $f:path) => {
        #[pyfunction]
        #[pyo3(signature = (x, axis=None, keepdims=false))]
        fn $name(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> PyResult<PyTensor> {
            let t = one(x)?;
            let a = axes(axis)?;
            Ok(py.detach(|| $f(&t, a.as_deref(), keepdims))?.into())
        }
    };
}

py_reduce!(mean, ops::mean);
py_reduce!(prod, ops::prod);
py_reduce!(var, ops::var);

/// `std(x, axis=None, keepdims=False)` (named `std_dev` here: `std` is Rust's standard library).
#[pyfunction(name = "std")]
#[pyo3(signature = (x, axis=None, keepdims=false))]
fn std_dev(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> PyResult<PyTensor> {
    let t = one(x)?;
    let a = axes(axis)?;
    Ok(py.detach(|| ops::std(&t, a.as_deref(), keepdims))?.into())
}
py_reduce!(logsumexp, ops::logsumexp);

/// `max(x, axis=None, keepdims=False, initial=None)` and `min`.
macro_rules! py_extremum {
    ($name:ident, $f:path) => {
        #[pyfunction]
        #[pyo3(signature = (x, axis=None, keepdims=false, initial=None))]
        fn $name(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool, initial: Option<f64>) -> PyResult<PyTensor> {
            let t = one(x)?;
            let a = axes(axis)?;
            Ok(py.detach(|| $f(&t, a.as_deref(), keepdims, initial))?.into())
        }
    };
}

py_extremum!(max, ops::max);
py_extremum!(min, ops::min);

/// `argmax(x, axis=None, keepdims=False)` and `argmin`.
macro_rules! py_arg {
    ($name:ident, $f:path) => {
        #[pyfunction]
        #[pyo3(signature = (x, axis=None, keepdims=false))]
        fn $name(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<isize>, keepdims: bool) -> PyResult<PyTensor> {
            let t = one(x)?;
            Ok(py.detach(|| $f(&t, axis, keepdims))?.into())
        }
    };
}

py_arg!(argmax, ops::argmax);
py_arg!(argmin, ops::argmin);

#[pyfunction]
#[pyo3(signature = (x, axis=-1))]
fn softmax(py: Python<'_>, x: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::softmax(&t, axis))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, axis=-1))]
fn log_softmax(py: Python<'_>, x: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::log_softmax(&t, axis))?.into())
}

#[pyfunction]
#[pyo3(signature = (target, output, from_logits=false, axis=-1))]
fn categorical_crossentropy(py: Python<'_>, target: &Bound<'_, PyAny>, output: &Bound<'_, PyAny>, from_logits: bool, axis: isize) -> PyResult<PyTensor> {
    let (t, o) = pair(target, output)?;
    Ok(py.detach(|| ops::categorical_crossentropy(&t, &o, from_logits, axis))?.into())
}

#[pyfunction]
#[pyo3(signature = (target, output, from_logits=false, axis=-1))]
fn sparse_categorical_crossentropy(py: Python<'_>, target: &Bound<'_, PyAny>, output: &Bound<'_, PyAny>, from_logits: bool, axis: isize) -> PyResult<PyTensor> {
    let (t, o) = (one(target)?, one(output)?);
    Ok(py.detach(|| ops::sparse_categorical_crossentropy(&t, &o, from_logits, axis))?.into())
}

#[pyfunction]
#[pyo3(signature = (target, output, from_logits=false))]
fn binary_crossentropy(py: Python<'_>, target: &Bound<'_, PyAny>, output: &Bound<'_, PyAny>, from_logits: bool) -> PyResult<PyTensor> {
    let (t, o) = pair(target, output)?;
    Ok(py.detach(|| ops::binary_crossentropy(&t, &o, from_logits))?.into())
}

#[pyfunction]
fn mean_squared_error(py: Python<'_>, y_true: &Bound<'_, PyAny>, y_pred: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let (t, p) = pair(y_true, y_pred)?;
    Ok(py.detach(|| ops::mean_squared_error(&t, &p))?.into())
}

#[pyfunction]
fn mean_absolute_error(py: Python<'_>, y_true: &Bound<'_, PyAny>, y_pred: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let (t, p) = pair(y_true, y_pred)?;
    Ok(py.detach(|| ops::mean_absolute_error(&t, &p))?.into())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(mean, m)?,
        wrap_pyfunction!(prod, m)?,
        wrap_pyfunction!(var, m)?,
        wrap_pyfunction!(std_dev, m)?,
        wrap_pyfunction!(logsumexp, m)?,
        wrap_pyfunction!(max, m)?,
        wrap_pyfunction!(min, m)?,
        wrap_pyfunction!(argmax, m)?,
        wrap_pyfunction!(argmin, m)?,
        wrap_pyfunction!(softmax, m)?,
        wrap_pyfunction!(log_softmax, m)?,
        wrap_pyfunction!(categorical_crossentropy, m)?,
        wrap_pyfunction!(sparse_categorical_crossentropy, m)?,
        wrap_pyfunction!(binary_crossentropy, m)?,
        wrap_pyfunction!(mean_squared_error, m)?,
        wrap_pyfunction!(mean_absolute_error, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
