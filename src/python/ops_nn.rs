//! Fused layer ops (`src/ops/nn/`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::convert::one;
use super::tensor::PyTensor;
use crate::ops::{self, Activation};

/// activation(x @ kernel + bias) in one call, with a single backward node.
#[pyfunction]
#[pyo3(signature = (x, kernel, bias=None, activation="linear"))]
fn dense(py: Python<'_>, x: &Bound<'_, PyAny>, kernel: &Bound<'_, PyAny>, bias: Option<&Bound<'_, PyAny>>, activation: &str) -> PyResult<PyTensor> {
    let act = Activation::parse(activation).ok_or_else(|| {
        PyValueError::new_err(format!("dense: unsupported fused activation {activation:?}; expected one of 'linear', 'relu', 'sigmoid', 'tanh', 'softmax'"))
    })?;
    let (x, kernel) = (one(x)?, one(kernel)?);
    let bias = bias.filter(|b| !b.is_none()).map(one).transpose()?;
    Ok(py.detach(|| ops::dense(&x, &kernel, bias.as_ref(), act))?.into())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dense, m)?)
}
