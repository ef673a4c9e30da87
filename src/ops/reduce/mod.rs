//! Reductions (mean, max, min, prod, var, std, logsumexp, argmax, argmin), softmax/log_softmax
//! and fused losses, one module per op.

use crate::error::Result;
use crate::ops::common::{axes_list, keepdims_shape};
use crate::tensor::{normalize_axis, Layout, Tensor};

mod argmax;
mod binary_crossentropy;
mod categorical_crossentropy;
mod log_softmax;
mod logsumexp;
mod max;
mod mean;
mod mean_absolute_error;
mod mean_squared_error;
mod prod;
mod softmax;
mod sparse_categorical_crossentropy;
mod var;

pub use argmax::{argmax, argmin};
pub use binary_crossentropy::binary_crossentropy;
pub use categorical_crossentropy::categorical_crossentropy;
pub use log_softmax::log_softmax;
pub use logsumexp::logsumexp;
pub use max::{max, min};
pub use mean::mean;
pub use mean_absolute_error::mean_absolute_error;
pub use mean_squared_error::mean_squared_error;
pub use prod::prod;
pub use softmax::softmax;
pub use sparse_categorical_crossentropy::sparse_categorical_crossentropy;
pub use var::{std, var};

/// `x` with `axis` moved last and made contiguous (`axis=None`: flattened), the row length, and
/// the shape of a per-row result (with the axis kept as 1 when `keepdims`).
pub(crate) fn last_axis_rows(op: &str, x: &Tensor, axis: Option<isize>, keepdims: bool) -> Result<(Tensor, usize, Vec<usize>)> {
    match axis {
        None => {
            let out = if keepdims { vec![1; x.ndim()] } else { vec![] };
            let flat = x.contiguous();
            Ok((flat, x.numel(), out))
        }
        Some(a) => {
            let a = normalize_axis(op, a, x.ndim())?;
            let mut perm: Vec<usize> = (0..x.ndim()).filter(|&d| d != a).collect();
            perm.push(a);
            let rows = x.view(x.layout().permute(&perm))?.contiguous();
            let out = if keepdims { keepdims_shape(x.shape(), &[a]) } else { perm[..perm.len() - 1].iter().map(|&d| x.shape()[d]).collect() };
            Ok((rows, x.shape()[a], out))
        }
    }
}

/// Normalized axes and the shape with them kept as 1.
pub(crate) fn reduced_axes(op: &str, x: &Tensor, axis: Option<&[isize]>) -> Result<(Vec<usize>, Vec<usize>)> {
    let axes = axes_list(op, axis, x.ndim())?;
    let kept = keepdims_shape(x.shape(), &axes);
    Ok((axes, kept))
}

/// Reshape a reduction result (axes removed) to the keepdims shape when asked.
pub(crate) fn finish(r: Tensor, kept: &[usize], keepdims: bool) -> Result<Tensor> {
    if keepdims {
        r.view(Layout::contiguous(kept))
    } else {
        Ok(r)
    }
}

/// Number of elements reduced over `axes`.
pub(crate) fn count(x: &Tensor, axes: &[usize]) -> usize {
    axes.iter().map(|&a| x.shape()[a]).product()
}
