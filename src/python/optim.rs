//! `_optimizer_apply`: the fused update of all of an optimizer's variables in one call. The
//! variables are written in place (their buffers are reused when nothing else holds them), with
//! the GIL released around the arithmetic.

use std::collections::HashSet;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use super::convert;
use super::variable::PyVariable;
use crate::optim::{self, Rule, VarUpdate};
use crate::tensor::{DType, Float, Tensor};

#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (rule, variables, gradients, slots, learning_rate, iterations, weight_decays=None, momentum=0.0, nesterov=false, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=false, rho=0.9, centered=false, u_product=1.0, learning_rate_power=-0.5, l1_regularization_strength=0.0, l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0, beta=0.0, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0))]
fn _optimizer_apply(
    py: Python<'_>,
    rule: &str,
    variables: Vec<Bound<'_, PyVariable>>,
    gradients: Vec<Bound<'_, PyAny>>,
    slots: Vec<Vec<Bound<'_, PyVariable>>>,
    learning_rate: f64,
    iterations: u64,
    weight_decays: Option<Vec<f64>>,
    momentum: f64,
    nesterov: bool,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
    rho: f64,
    centered: bool,
    u_product: f64,
    learning_rate_power: f64,
    l1_regularization_strength: f64,
    l2_regularization_strength: f64,
    l2_shrinkage_regularization_strength: f64,
    beta: f64,
    beta_2_decay: f64,
    epsilon_1: f64,
    epsilon_2: f64,
    clip_threshold: f64,
) -> PyResult<()> {
    let rule = match rule {
        "sgd" => Rule::Sgd { momentum, nesterov },
        "adam" => Rule::Adam { beta_1, beta_2, epsilon, amsgrad },
        "rmsprop" => Rule::RmsProp { rho, momentum, epsilon, centered },
        "adagrad" => Rule::Adagrad { epsilon },
        "adadelta" => Rule::Adadelta { rho, epsilon },
        "adamax" => Rule::Adamax { beta_1, beta_2, epsilon },
        "nadam" => Rule::Nadam { beta_1, beta_2, epsilon, u_product },
        "lion" => Rule::Lion { beta_1, beta_2 },
        "ftrl" => Rule::Ftrl {
            learning_rate_power,
            l1: l1_regularization_strength,
            l2: l2_regularization_strength,
            l2_shrinkage: l2_shrinkage_regularization_strength,
            beta,
        },
        "adafactor" => Rule::Adafactor { beta_2_decay, epsilon_1, epsilon_2, clip_threshold },
        "lamb" => Rule::Lamb { beta_1, beta_2, epsilon },
        other => {
            return Err(PyValueError::new_err(format!(
                "Unknown update rule {other:?}; expected one of 'sgd', 'adam', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'nadam', 'lion', 'ftrl', 'adafactor', 'lamb'"
            )))
        }
    };
    let n = variables.len();
    let weight_decays = weight_decays.unwrap_or_else(|| vec![0.0; n]);
    if gradients.len() != n || slots.len() != n || weight_decays.len() != n {
        return Err(PyValueError::new_err(format!(
            "Expected one gradient, one slot list and one weight decay per variable: {n} variables, {} gradients, {} slot lists, {} weight decays",
            gradients.len(),
            slots.len(),
            weight_decays.len()
        )));
    }
    // Every variable is locked for writing below: the same one twice would deadlock.
    let mut seen = HashSet::new();
    for v in variables.iter().chain(slots.iter().flatten()) {
        if !seen.insert(v.as_ptr() as usize) {
            return Err(PyValueError::new_err(format!("Variable '{}' appears more than once in one optimizer update", v.get().name_str())));
        }
    }

    let mut grads = Vec::with_capacity(n);
    for (i, (v, g)) in variables.iter().zip(&gradients).enumerate() {
        let var = v.get();
        let value = var.value();
        if !value.dtype().is_float() {
            return Err(PyTypeError::new_err(format!("Optimizers update float variables; variable '{}' has dtype {}", var.name_str(), value.dtype())));
        }
        let g = convert::one(g)?.to_dtype(value.dtype());
        if g.shape() != value.shape() {
            return Err(PyValueError::new_err(format!(
                "Gradient {i} has shape {:?} but variable '{}' has shape {:?}",
                g.shape(),
                var.name_str(),
                value.shape()
            )));
        }
        let shapes = rule.slot_shapes(value.shape());
        if slots[i].len() != shapes.len() {
            return Err(PyValueError::new_err(format!(
                "Variable '{}' of shape {:?} needs {} slot variables for this update rule, received {}",
                var.name_str(),
                value.shape(),
                shapes.len(),
                slots[i].len()
            )));
        }
        for (s, shape) in slots[i].iter().zip(&shapes) {
            let sv = s.get().value();
            if sv.shape() != shape.as_slice() || sv.dtype() != value.dtype() {
                return Err(PyValueError::new_err(format!(
                    "Slot variable '{}' ({:?}, {}) of variable '{}' should be ({:?}, {})",
                    s.get().name_str(),
                    sv.shape(),
                    sv.dtype(),
                    var.name_str(),
                    shape,
                    value.dtype()
                )));
            }
        }
        grads.push(g.contiguous());
    }

    let mut params: Vec<_> = variables.iter().map(|v| v.get().state_mut(py)).collect();
    let mut slot_guards: Vec<Vec<_>> = slots.iter().map(|s| s.iter().map(|v| v.get().state_mut(py)).collect()).collect();
    let mut f32_updates = Vec::new();
    let mut f64_updates = Vec::new();
    for (((p, s), g), &wd) in params.iter_mut().zip(slot_guards.iter_mut()).zip(&grads).zip(&weight_decays) {
        match p.dtype() {
            DType::F32 => f32_updates.push(var_update::<f32>(p, s, g, wd)?),
            _ => f64_updates.push(var_update::<f64>(p, s, g, wd)?),
        }
    }
    py.detach(|| -> crate::Result<()> {
        optim::apply(rule, learning_rate, iterations, f32_updates)?;
        optim::apply(rule, learning_rate, iterations, f64_updates)
    })?;
    Ok(())
}

fn var_update<'a, T: Float>(param: &'a mut Tensor, slots: &'a mut [std::sync::RwLockWriteGuard<'_, Tensor>], grad: &'a Tensor, weight_decay: f64) -> PyResult<VarUpdate<'a, T>> {
    let grad = grad.slice::<T>().ok_or_else(|| PyTypeError::new_err("gradient dtype does not match its variable"))?;
    let slots = slots.iter_mut().map(|s| s.make_mut::<T>()).collect::<crate::Result<Vec<_>>>()?;
    let shape = param.shape().to_vec();
    Ok(VarUpdate { param: param.make_mut::<T>()?, grad, slots, shape, weight_decay })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_optimizer_apply, m)?)
}
