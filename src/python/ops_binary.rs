//! Bindings of the binary op family (see `src/ops/binary/`), and the helper behind the Tensor
//! operators `& | ^ ~`.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::convert::{one, pair};
use super::ops_core::{py_binary, py_unary};
use super::tensor::PyTensor;
use crate::ops;
use crate::tensor::{DType, Tensor};

py_binary!(power, ops::power);
py_binary!(maximum, ops::maximum);
py_binary!(minimum, ops::minimum);
py_binary!(floor_divide, ops::floor_divide);
py_binary!(equal, ops::equal);
py_binary!(not_equal, ops::not_equal);
py_binary!(less, ops::less);
py_binary!(less_equal, ops::less_equal);
py_binary!(greater, ops::greater);
py_binary!(greater_equal, ops::greater_equal);
py_binary!(logical_and, ops::logical_and);
py_binary!(logical_or, ops::logical_or);
py_binary!(logical_xor, ops::logical_xor);
py_unary!(logical_not, ops::logical_not);

/// `mod(x1, x2)` (`mod` is a Rust keyword, hence the explicit Python name).
#[pyfunction]
#[pyo3(name = "mod")]
fn modulo(py: Python<'_>, x1: &Bound<'_, PyAny>, x2: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let (a, b) = pair(x1, x2)?;
    Ok(py.detach(|| ops::modulo(&a, &b))?.into())
}

/// `where(condition, x1=None, x2=None)`: a selection with both branches, or without them the
/// indices of the nonzero elements of `condition` (a tuple of int64 tensors, like numpy).
#[pyfunction]
#[pyo3(name = "where", signature = (condition, x1=None, x2=None))]
fn where_(
    py: Python<'_>,
    condition: &Bound<'_, PyAny>,
    x1: Option<&Bound<'_, PyAny>>,
    x2: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let c = one(condition)?;
    match (x1, x2) {
        (Some(x1), Some(x2)) => {
            let (a, b) = pair(x1, x2)?;
            let out = py.detach(|| ops::where_(&c, &a, &b))?;
            Ok(Bound::new(py, PyTensor::from(out))?.into_any().unbind())
        }
        (None, None) => {
            let idx = py.detach(|| ops::nonzero(&c))?;
            let items = idx.into_iter().map(|t| Bound::new(py, PyTensor::from(t))).collect::<PyResult<Vec<_>>>()?;
            Ok(PyTuple::new(py, items)?.into_any().unbind())
        }
        _ => Err(PyValueError::new_err("where: x1 and x2 must be given together or both be None")),
    }
}

/// A bitwise operator (`symbol`) on bool tensors, computed by the logical op `f`. Other dtypes are
/// a TypeError (integer bitwise ops are not supported); non-array-like operands NotImplemented.
pub fn bool_operator(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    symbol: &str,
    f: fn(&Tensor, &Tensor) -> crate::Result<Tensor>,
) -> PyResult<Py<PyAny>> {
    let (x, y) = match pair(a, b) {
        Ok(p) => p,
        Err(e) if e.is_instance_of::<PyTypeError>(py) => return Ok(py.NotImplemented()),
        Err(e) => return Err(e),
    };
    if x.dtype() != DType::Bool || y.dtype() != DType::Bool {
        return Err(PyTypeError::new_err(format!(
            "operator {symbol}: expected bool tensors, received {} and {} (use keras.ops.logical_* for other dtypes)",
            x.dtype(),
            y.dtype()
        )));
    }
    let out = py.detach(|| f(&x, &y))?;
    Ok(Bound::new(py, PyTensor::from(out))?.into_any().unbind())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(power, m)?,
        wrap_pyfunction!(maximum, m)?,
        wrap_pyfunction!(minimum, m)?,
        wrap_pyfunction!(floor_divide, m)?,
        wrap_pyfunction!(modulo, m)?,
        wrap_pyfunction!(equal, m)?,
        wrap_pyfunction!(not_equal, m)?,
        wrap_pyfunction!(less, m)?,
        wrap_pyfunction!(less_equal, m)?,
        wrap_pyfunction!(greater, m)?,
        wrap_pyfunction!(greater_equal, m)?,
        wrap_pyfunction!(logical_and, m)?,
        wrap_pyfunction!(logical_or, m)?,
        wrap_pyfunction!(logical_xor, m)?,
        wrap_pyfunction!(logical_not, m)?,
        wrap_pyfunction!(where_, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
