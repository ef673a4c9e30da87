//! Masked gradients shared by maximum, minimum and where: one pass over the output gradient per
//! operand, keeping `g` where the mask selects that operand and 0 elsewhere, then reduced to the
//! operand's shape.

use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::common::{grad_if, sum_to_shape};
use crate::tensor::Tensor;

/// `g` where `mask == keep`, 0 elsewhere (`mask` is a bool tensor of `g`'s shape).
fn select(op: &str, g: &Tensor, mask: &Tensor, keep: bool) -> Result<Tensor> {
    crate::dispatch_num!(g.dtype(), op, |T| binary::<T, bool, T>(op, g, mask, CHUNK_LIGHT, |v, m| if m == keep {
        v
    } else {
        T::default()
    }))
}

/// Gradients of `where(mask, a, b)`-shaped selections: `a` gets `g` where `mask`, `b` elsewhere.
pub fn masked_grads(
    op: &str,
    g: &Tensor,
    mask: &Tensor,
    needs: [bool; 2],
    a_shape: &[usize],
    b_shape: &[usize],
) -> Result<[Option<Tensor>; 2]> {
    Ok([
        grad_if(needs[0], || sum_to_shape(&select(op, g, mask, true)?, a_shape))?,
        grad_if(needs[1], || sum_to_shape(&select(op, g, mask, false)?, b_shape))?,
    ])
}
