//! `_core.NativeChain`: the inference plan of a chain of built-in layers (models/inference_plan.py)
//! run as one call. Each layer's own lean step costs a Python call, argument conversion and a GIL
//! release per layer, more than the kernels of a small batch; here the layers' parameters are
//! parsed once, and a call reads the weights' current values, releases the GIL once and runs
//! the same ops (recording on an active tape exactly as the layer-by-layer path does).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::convert::one;
use super::tensor::PyTensor;
use super::variable::PyVariable;
use crate::ops::{self, explicit_padding, Activation, ConvSpec, Padding, PoolMode};
use crate::Tensor;

enum Step {
    Dense { kernel: Py<PyVariable>, bias: Option<Py<PyVariable>>, activation: Activation },
    Conv { kernel: Py<PyVariable>, bias: Option<Py<PyVariable>>, strides: Vec<usize>, dilation: Vec<usize>, groups: usize, padding: Padding, activation: Activation },
    Pool { size: Vec<usize>, strides: Vec<usize>, padding: Padding, mode: PoolMode },
    Flatten,
}

/// A step's weights as read for one call.
type Weights = (Option<Tensor>, Option<Tensor>);

#[pyclass(name = "NativeChain", module = "rkeras._core", frozen)]
pub struct NativeChain {
    steps: Vec<Step>,
}

fn parse_activation(name: &str) -> PyResult<Activation> {
    Activation::parse(name).ok_or_else(|| PyValueError::new_err(format!("NativeChain: unsupported fused activation {name:?}")))
}

fn parse_padding(name: &str) -> PyResult<Padding> {
    Padding::parse(name).ok_or_else(|| PyValueError::new_err(format!("NativeChain: padding must be 'valid', 'same' or 'causal', received {name:?}")))
}

fn optional_variable(obj: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyVariable>>> {
    if obj.is_none() {
        return Ok(None);
    }
    Ok(Some(obj.cast::<PyVariable>()?.clone().unbind()))
}

fn parse_step(spec: &Bound<'_, PyTuple>) -> PyResult<Step> {
    let kind: String = spec.get_item(0)?.extract()?;
    let item = |i: usize| spec.get_item(i);
    Ok(match kind.as_str() {
        // ("dense", kernel, bias | None, activation)
        "dense" => Step::Dense { kernel: item(1)?.cast::<PyVariable>()?.clone().unbind(), bias: optional_variable(&item(2)?)?, activation: parse_activation(&item(3)?.extract::<String>()?)? },
        // ("conv", kernel, bias | None, strides, dilation_rate, groups, padding, activation)
        "conv" => Step::Conv {
            kernel: item(1)?.cast::<PyVariable>()?.clone().unbind(),
            bias: optional_variable(&item(2)?)?,
            strides: item(3)?.extract()?,
            dilation: item(4)?.extract()?,
            groups: item(5)?.extract()?,
            padding: parse_padding(&item(6)?.extract::<String>()?)?,
            activation: parse_activation(&item(7)?.extract::<String>()?)?,
        },
        // ("pool", pool_size, strides, padding, "max" | "average")
        "pool" => Step::Pool {
            size: item(1)?.extract()?,
            strides: item(2)?.extract()?,
            padding: parse_padding(&item(3)?.extract::<String>()?)?,
            mode: match item(4)?.extract::<String>()?.as_str() {
                "max" => PoolMode::Max,
                "average" => PoolMode::Average,
                other => return Err(PyValueError::new_err(format!("NativeChain: pool mode must be 'max' or 'average', received {other:?}"))),
            },
        },
        // ("flatten",): channels last, (batch, ...) -> (batch, prod(...))
        "flatten" => Step::Flatten,
        other => return Err(PyTypeError::new_err(format!("NativeChain: unknown step kind {other:?}"))),
    })
}

/// The spatial dims of a channels-last input (batch, *spatial, channels); the op itself
/// reports an input of the wrong rank.
fn spatial(x: &Tensor) -> &[usize] {
    let s = x.shape();
    if s.len() < 2 {
        &[]
    } else {
        &s[1..s.len() - 1]
    }
}

fn kernel(weights: &Weights) -> crate::Result<&Tensor> {
    weights.0.as_ref().ok_or_else(|| crate::Error::Value("NativeChain: a step's kernel was not read".into()))
}

/// A convolution step's arguments for input `x`: explicit padding from its shape.
fn conv_spec(step: &Step, kernel: &Tensor, x: &Tensor) -> crate::Result<ConvSpec> {
    let Step::Conv { strides, dilation, groups, padding, .. } = step else {
        return Err(crate::Error::Value("NativeChain: not a convolution step".into()));
    };
    let window = &kernel.shape()[..kernel.ndim().saturating_sub(2)];
    let padding = explicit_padding(spatial(x), window, strides, dilation, *padding);
    Ok(ConvSpec { strides: strides.clone(), dilation: dilation.clone(), padding, groups: *groups })
}

fn run_step(step: &Step, weights: &Weights, x: Tensor) -> crate::Result<Tensor> {
    let bias = weights.1.as_ref();
    match step {
        Step::Dense { activation, .. } => ops::dense(&x, kernel(weights)?, bias, *activation),
        Step::Conv { activation, .. } => {
            let kernel = kernel(weights)?;
            ops::conv(&x, kernel, bias, &conv_spec(step, kernel, &x)?, *activation)
        }
        Step::Pool { size, strides, padding, mode } => {
            let ones = vec![1; size.len()];
            let padding = explicit_padding(spatial(&x), size, strides, &ones, *padding);
            ops::pool(&x, size, strides, &padding, *mode)
        }
        Step::Flatten => {
            let shape = x.shape();
            let batch = shape.first().copied().unwrap_or(1);
            let rest = shape.iter().skip(1).product::<usize>();
            ops::reshape(&x, &[batch, rest])
        }
    }
}

/// A convolution followed by a max pooling whose windows tile its output (strides = window, no
/// padding) runs as one op that never stores the convolution's output (`ops::conv_max_pool`,
/// which itself runs the two ops apart when a tape records).
fn fusable_pool<'a>(step: &Step, next: &'a Step) -> Option<&'a [usize]> {
    match (step, next) {
        (Step::Conv { strides, .. }, Step::Pool { size, strides: pool_strides, padding: Padding::Valid, mode: PoolMode::Max }) if size == pool_strides && size.len() == strides.len() => Some(size),
        _ => None,
    }
}

fn run_conv_max_pool(step: &Step, weights: &Weights, x: Tensor, pool: &[usize]) -> crate::Result<Tensor> {
    let Step::Conv { activation, .. } = step else {
        return run_step(step, weights, x);
    };
    let kernel = kernel(weights)?;
    ops::conv_max_pool(&x, kernel, weights.1.as_ref(), &conv_spec(step, kernel, &x)?, *activation, pool)
}

#[pymethods]
impl NativeChain {
    /// `steps`: one tuple per layer (see `parse_step`).
    #[new]
    fn new(steps: Vec<Bound<'_, PyTuple>>) -> PyResult<Self> {
        Ok(NativeChain { steps: steps.iter().map(parse_step).collect::<PyResult<_>>()? })
    }

    fn __len__(&self) -> usize {
        self.steps.len()
    }

    /// The chain's output for `x` (a Tensor or an array of the plan's dtype).
    fn run(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let x = one(x)?;
        // Current values, read with the GIL held: a variable may have been assigned since.
        let value = |v: &Option<Py<PyVariable>>| v.as_ref().map(|v| v.get().value());
        let weights: Vec<Weights> = self
            .steps
            .iter()
            .map(|step| match step {
                Step::Dense { kernel, bias, .. } | Step::Conv { kernel, bias, .. } => (Some(kernel.get().value()), value(bias)),
                Step::Pool { .. } | Step::Flatten => (None, None),
            })
            .collect();
        let y = py.detach(|| -> crate::Result<Tensor> {
            let mut h = x;
            let mut i = 0;
            while i < self.steps.len() {
                if let Some(pool) = self.steps.get(i + 1).and_then(|next| fusable_pool(&self.steps[i], next)) {
                    h = run_conv_max_pool(&self.steps[i], &weights[i], h, pool)?;
                    i += 2;
                } else {
                    h = run_step(&self.steps[i], &weights[i], h)?;
                    i += 1;
                }
            }
            Ok(h)
        })?;
        Ok(y.into())
    }
}

/// `explicit_padding(spatial, kernel, strides, dilation, padding)`: the (before, after) zero
/// padding per spatial dim that Keras's `padding` name means.
#[pyfunction(name = "explicit_padding")]
fn py_explicit_padding(spatial: Vec<usize>, kernel: Vec<usize>, strides: Vec<usize>, dilation: Vec<usize>, padding: &str) -> PyResult<Vec<(usize, usize)>> {
    let padding = Padding::parse(padding).ok_or_else(|| {
        PyValueError::new_err(format!("The `padding` argument must be one of 'valid', 'same' (or 'causal' for 1-D convolutions). Received: padding={padding:?}"))
    })?;
    Ok(explicit_padding(&spatial, &kernel, &strides, &dilation, padding))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeChain>()?;
    m.add_function(wrap_pyfunction!(py_explicit_padding, m)?)
}
