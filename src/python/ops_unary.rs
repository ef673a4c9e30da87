//! Bindings of the unary op family (see `src/ops/unary/`).

use pyo3::prelude::*;

use super::convert::one;
use super::ops_core::py_unary;
use super::tensor::PyTensor;
use crate::ops;

py_unary!(exp, ops::exp);
py_unary!(abs, ops::abs);
py_unary!(square, ops::square);
py_unary!(sqrt, ops::sqrt);
py_unary!(log, ops::log);
py_unary!(log1p, ops::log1p);
py_unary!(expm1, ops::expm1);
py_unary!(sin, ops::sin);
py_unary!(cos, ops::cos);
py_unary!(tanh, ops::tanh);
py_unary!(sigmoid, ops::sigmoid);
py_unary!(hard_sigmoid, ops::hard_sigmoid);
py_unary!(relu, ops::relu);
py_unary!(relu6, ops::relu6);
py_unary!(selu, ops::selu);
py_unary!(softplus, ops::softplus);
py_unary!(softsign, ops::softsign);
py_unary!(silu, ops::silu);
py_unary!(swish, ops::swish);
py_unary!(hard_silu, ops::hard_silu);
py_unary!(hard_swish, ops::hard_swish);
py_unary!(mish, ops::mish);
py_unary!(log_sigmoid, ops::log_sigmoid);
py_unary!(sign, ops::sign);

#[pyfunction]
#[pyo3(signature = (x, negative_slope=0.2))]
fn leaky_relu(py: Python<'_>, x: &Bound<'_, PyAny>, negative_slope: f64) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::leaky_relu(&t, negative_slope))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, alpha=1.0))]
fn elu(py: Python<'_>, x: &Bound<'_, PyAny>, alpha: f64) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::elu(&t, alpha))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, approximate=true))]
fn gelu(py: Python<'_>, x: &Bound<'_, PyAny>, approximate: bool) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::gelu(&t, approximate))?.into())
}

#[pyfunction]
#[pyo3(signature = (x, decimals=0))]
fn round(py: Python<'_>, x: &Bound<'_, PyAny>, decimals: i32) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::round(&t, decimals))?.into())
}

#[pyfunction]
fn clip(py: Python<'_>, x: &Bound<'_, PyAny>, x_min: f64, x_max: f64) -> PyResult<PyTensor> {
    let t = one(x)?;
    Ok(py.detach(|| ops::clip(&t, x_min, x_max))?.into())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(exp, m)?,
        wrap_pyfunction!(abs, m)?,
        wrap_pyfunction!(square, m)?,
        wrap_pyfunction!(sqrt, m)?,
        wrap_pyfunction!(log, m)?,
        wrap_pyfunction!(log1p, m)?,
        wrap_pyfunction!(expm1, m)?,
        wrap_pyfunction!(sin, m)?,
        wrap_pyfunction!(cos, m)?,
        wrap_pyfunction!(tanh, m)?,
        wrap_pyfunction!(sigmoid, m)?,
        wrap_pyfunction!(hard_sigmoid, m)?,
        wrap_pyfunction!(relu, m)?,
        wrap_pyfunction!(relu6, m)?,
        wrap_pyfunction!(selu, m)?,
        wrap_pyfunction!(softplus, m)?,
        wrap_pyfunction!(softsign, m)?,
        wrap_pyfunction!(silu, m)?,
        wrap_pyfunction!(swish, m)?,
        wrap_pyfunction!(hard_silu, m)?,
        wrap_pyfunction!(hard_swish, m)?,
        wrap_pyfunction!(mish, m)?,
        wrap_pyfunction!(log_sigmoid, m)?,
        wrap_pyfunction!(sign, m)?,
        wrap_pyfunction!(leaky_relu, m)?,
        wrap_pyfunction!(elu, m)?,
        wrap_pyfunction!(gelu, m)?,
        wrap_pyfunction!(round, m)?,
        wrap_pyfunction!(clip, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
