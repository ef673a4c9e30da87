//! `select(x, idx)`: outer-product indexing with one index list per axis (the engine behind
//! take, reversed slices, tile, repeat and flip). Differentiable: the backward scatter-adds.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::select as k;
use crate::ops::common::grad_if;
use crate::tensor::Tensor;

/// `idx[d]` must hold valid indices into axis `d` (callers validate user input).
pub fn select(x: &Tensor, idx: Vec<Vec<usize>>) -> Result<Tensor> {
    debug_assert_eq!(idx.len(), x.ndim());
    let shape: Vec<usize> = idx.iter().map(|v| v.len()).collect();
    let out = crate::dispatch_all!(x.dtype(), |T| Tensor::from_vec(k::select(&x.data::<T>()?, x.shape(), &idx), &shape)?);
    record_select(x, &out, idx);
    Ok(out)
}

/// Record `out` as `x` indexed by `idx` (also used by views that select a regular grid).
pub(crate) fn record_select(x: &Tensor, out: &Tensor, idx: Vec<Vec<usize>>) {
    if x.dtype().is_float() {
        record(&[x], out, || Arc::new(SelectBackward { shape: x.shape().to_vec(), idx }));
    }
}

struct SelectBackward {
    shape: Vec<usize>,
    idx: Vec<Vec<usize>>,
}

impl Backward for SelectBackward {
    fn name(&self) -> &'static str {
        "select"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let gx = grad_if(needs[0], || {
            crate::dispatch_float!(g.dtype(), "select", |T| Tensor::from_vec(k::scatter(&g.data::<T>()?, &self.shape, &self.idx, 0.0 as T, |a, b| *a += b), &self.shape))
        })?;
        Ok(vec![gx])
    }
}

#[cfg(test)]
mod tests {
    use super::select;
    use crate::ops::testing::*;

    #[test]
    fn select_values_and_gradients_with_repeats() {
        let x = t64(&[0., 1., 2., 3., 4., 5.], &[2, 3]);
        let y = select(&x, vec![vec![1, 1], vec![2, 0]]).unwrap();
        assert_eq!(vals(&y), vec![5.0, 3.0, 5.0, 3.0]);
        check_grads(|x| select(&x[0], vec![vec![1, 0, 1], vec![2, 2, 0, 1]]), &[rand64(&[2, 3], 1)]);
    }
}
