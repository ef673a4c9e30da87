//! Fused layer ops (`src/ops/nn/`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::convert::one;
use super::tensor::PyTensor;
use crate::ops::{self, Activation, CellActivation, CellKind, ConvSpec, PoolMode, RnnSpec};

/// activation(x @ kernel + bias) in one call, with a single backward node.
#[pyfunction]
#[pyo3(signature = (x, kernel, bias=None, activation="linear"))]
fn dense(py: Python<'_>, x: &Bound<'_, PyAny>, kernel: &Bound<'_, PyAny>, bias: Option<&Bound<'_, PyAny>>, activation: &str) -> PyResult<PyTensor> {
    let act = fused_activation("dense", activation)?;
    let (x, kernel) = (one(x)?, one(kernel)?);
    let bias = bias.filter(|b| !b.is_none()).map(one).transpose()?;
    Ok(py.detach(|| ops::dense(&x, &kernel, bias.as_ref(), act))?.into())
}

fn fused_activation(op: &str, name: &str) -> PyResult<Activation> {
    Activation::parse(name).ok_or_else(|| PyValueError::new_err(format!("{op}: unsupported fused activation {name:?}; expected one of 'linear', 'relu', 'sigmoid', 'tanh', 'softmax'")))
}

/// activation(conv(x, kernel) + bias), channels last, 1 to 3 spatial dims, explicit padding.
#[pyfunction]
#[pyo3(signature = (x, kernel, bias, strides, padding, dilation_rate, groups=1, activation="linear"))]
#[allow(clippy::too_many_arguments)]
fn conv(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kernel: &Bound<'_, PyAny>,
    bias: Option<&Bound<'_, PyAny>>,
    strides: Vec<usize>,
    padding: Vec<(usize, usize)>,
    dilation_rate: Vec<usize>,
    groups: usize,
    activation: &str,
) -> PyResult<PyTensor> {
    let act = fused_activation("conv", activation)?;
    let (x, kernel) = (one(x)?, one(kernel)?);
    let bias = bias.filter(|b| !b.is_none()).map(one).transpose()?;
    let spec = ConvSpec { strides, dilation: dilation_rate, padding, groups };
    Ok(py.detach(|| ops::conv(&x, &kernel, bias.as_ref(), &spec, act))?.into())
}

/// Max or average pooling, channels last, 1 to 3 spatial dims, explicit padding.
#[pyfunction]
fn pool(py: Python<'_>, x: &Bound<'_, PyAny>, pool_size: Vec<usize>, strides: Vec<usize>, padding: Vec<(usize, usize)>, mode: &str) -> PyResult<PyTensor> {
    let mode = match mode {
        "max" => PoolMode::Max,
        "average" => PoolMode::Average,
        _ => return Err(PyValueError::new_err(format!("pool: mode must be 'max' or 'average', received {mode:?}"))),
    };
    let x = one(x)?;
    Ok(py.detach(|| ops::pool(&x, &pool_size, &strides, &padding, mode))?.into())
}

/// Training-mode batch normalization: (output, batch mean, batch variance).
#[pyfunction]
#[pyo3(signature = (x, gamma=None, beta=None, axis=-1, epsilon=1e-3))]
fn batch_norm(py: Python<'_>, x: &Bound<'_, PyAny>, gamma: Option<&Bound<'_, PyAny>>, beta: Option<&Bound<'_, PyAny>>, axis: isize, epsilon: f64) -> PyResult<(PyTensor, PyTensor, PyTensor)> {
    let x = one(x)?;
    let gamma = gamma.filter(|b| !b.is_none()).map(one).transpose()?;
    let beta = beta.filter(|b| !b.is_none()).map(one).transpose()?;
    let (y, mean, var) = py.detach(|| ops::batch_norm(&x, gamma.as_ref(), beta.as_ref(), axis, epsilon))?;
    Ok((y.into(), mean.into(), var.into()))
}

/// A whole LSTM / GRU / SimpleRNN sequence: (batch, timesteps + states, units), the outputs in
/// processing order then the final h (and c).
#[pyfunction]
#[pyo3(signature = (x, kernel, recurrent_kernel, bias, initial_h, initial_c, mask, recurrent_mask, cell, reset_after=true, activation="tanh", recurrent_activation="sigmoid", go_backwards=false, zero_output_for_mask=false))]
#[allow(clippy::too_many_arguments)]
fn rnn(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kernel: &Bound<'_, PyAny>,
    recurrent_kernel: &Bound<'_, PyAny>,
    bias: Option<&Bound<'_, PyAny>>,
    initial_h: &Bound<'_, PyAny>,
    initial_c: Option<&Bound<'_, PyAny>>,
    mask: Option<&Bound<'_, PyAny>>,
    recurrent_mask: Option<&Bound<'_, PyAny>>,
    cell: &str,
    reset_after: bool,
    activation: &str,
    recurrent_activation: &str,
    go_backwards: bool,
    zero_output_for_mask: bool,
) -> PyResult<PyTensor> {
    let cell = match cell {
        "lstm" => CellKind::Lstm,
        "gru" => CellKind::Gru { reset_after },
        "simple" => CellKind::Simple,
        _ => return Err(PyValueError::new_err(format!("rnn: cell must be 'lstm', 'gru' or 'simple', received {cell:?}"))),
    };
    let parse = |name: &str| {
        CellActivation::parse(name).ok_or_else(|| PyValueError::new_err(format!("rnn: unsupported fused activation {name:?}; expected one of 'tanh', 'sigmoid', 'relu', 'linear', 'hard_sigmoid'")))
    };
    let spec = RnnSpec { cell, activation: parse(activation)?, recurrent_activation: parse(recurrent_activation)?, go_backwards, zero_output_for_mask };
    let opt = |t: Option<&Bound<'_, PyAny>>| t.filter(|t| !t.is_none()).map(one).transpose();
    let (x, kernel, recurrent_kernel, initial_h) = (one(x)?, one(kernel)?, one(recurrent_kernel)?, one(initial_h)?);
    let (bias, initial_c, mask, recurrent_mask) = (opt(bias)?, opt(initial_c)?, opt(mask)?, opt(recurrent_mask)?);
    Ok(py.detach(|| ops::rnn(&x, &kernel, &recurrent_kernel, bias.as_ref(), &initial_h, initial_c.as_ref(), mask.as_ref(), recurrent_mask.as_ref(), spec))?.into())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dense, m)?)?;
    m.add_function(wrap_pyfunction!(conv, m)?)?;
    m.add_function(wrap_pyfunction!(pool, m)?)?;
    m.add_function(wrap_pyfunction!(batch_norm, m)?)?;
    m.add_function(wrap_pyfunction!(rnn, m)?)
}
