//! Helpers shared by op modules: dtype promotion, reducing broadcast gradients, axis lists.

use crate::error::Result;
use crate::ops;
use crate::tensor::{normalize_axis, DType, Tensor};
use crate::value_err;

/// Cast both operands to their common dtype (recorded casts, so gradients flow back). Bool is
/// promoted to int64 for arithmetic.
pub fn promote(a: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor)> {
    let mut dt = DType::promote(a.dtype(), b.dtype());
    if dt == DType::Bool {
        dt = DType::I64;
    }
    Ok((ops::cast(a, dt)?, ops::cast(b, dt)?))
}

/// Like `promote` but the common dtype is always a float (int/bool become float32, as Keras).
pub fn promote_float(a: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor)> {
    let dt = match DType::promote(a.dtype(), b.dtype()) {
        DType::F64 => DType::F64,
        _ => DType::F32,
    };
    Ok((ops::cast(a, dt)?, ops::cast(b, dt)?))
}

/// A float version of `x` (int/bool become float32).
pub fn to_float(x: &Tensor) -> Result<Tensor> {
    if x.dtype().is_float() {
        Ok(x.clone())
    } else {
        ops::cast(x, DType::F32)
    }
}

/// Sum `grad` over the dimensions that broadcasting added or expanded, giving `shape`.
pub fn sum_to_shape(grad: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if grad.shape() == shape {
        return Ok(grad.clone());
    }
    let lead = grad.ndim() - shape.len();
    let axes: Vec<usize> = (0..grad.ndim()).filter(|&d| d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1)).collect();
    let summed = ops::sum(grad, Some(&axes), false)?;
    ops::reshape(&summed, shape)
}

/// Normalize an optional list of (possibly negative) axes: sorted, unique. `None` means all axes.
pub fn axes_list(op: &str, axes: Option<&[isize]>, ndim: usize) -> Result<Vec<usize>> {
    let Some(axes) = axes else { return Ok((0..ndim).collect()) };
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let a = normalize_axis(op, a, ndim)?;
        if out.contains(&a) {
            return value_err!(op, "duplicate axis {a} in {axes:?}");
        }
        out.push(a);
    }
    out.sort_unstable();
    Ok(out)
}

/// The shape with `axes` set to 1 (a keepdims result shape).
pub fn keepdims_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().map(|(d, &s)| if axes.contains(&d) { 1 } else { s }).collect()
}

/// Shorthand for the common backward pattern `needs[i].then(|| f()).transpose()`.
pub fn grad_if(need: bool, f: impl FnOnce() -> Result<Tensor>) -> Result<Option<Tensor>> {
    if need {
        f().map(Some)
    } else {
        Ok(None)
    }
}
