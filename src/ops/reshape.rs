//! `reshape(x, shape)`: a view when `x` is contiguous, a copy otherwise. One `-1` is inferred.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::ops::common::grad_if;
use crate::tensor::{Layout, Tensor};
use crate::value_err;

/// Resolve a target shape that may contain one -1 against `numel` elements.
pub fn resolve_shape(op: &str, from: &[usize], shape: &[isize]) -> Result<Vec<usize>> {
    let numel: usize = from.iter().product();
    let unknown: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] == -1).collect();
    if unknown.len() > 1 || shape.iter().any(|&d| d < -1) {
        return value_err!(op, "invalid target shape {shape:?}: only one dimension may be -1, and none may be below -1");
    }
    let known: usize = shape.iter().filter(|&&d| d >= 0).map(|&d| d as usize).product();
    let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(&i) = unknown.first() {
        if known == 0 || numel % known != 0 {
            return value_err!(op, "cannot reshape a tensor of shape {from:?} ({numel} elements) into shape {shape:?}");
        }
        out[i] = numel / known;
    } else if known != numel {
        return value_err!(op, "cannot reshape a tensor of shape {from:?} ({numel} elements) into shape {shape:?}");
    }
    Ok(out)
}

pub fn reshape(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let s: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
    reshape_to(x, &s)
}

/// `reshape` with a shape that may hold one -1 (the Python-facing form).
pub fn reshape_to(x: &Tensor, shape: &[isize]) -> Result<Tensor> {
    let shape = resolve_shape("reshape", x.shape(), shape)?;
    let src = x.contiguous();
    let mut layout = Layout::contiguous(&shape);
    layout.offset = src.layout().offset;
    let out = src.view(layout)?;
    record(&[x], &out, || Arc::new(ReshapeBackward { input: x.shape().to_vec() }));
    Ok(out)
}

struct ReshapeBackward {
    input: Vec<usize>,
}

impl Backward for ReshapeBackward {
    fn name(&self) -> &'static str {
        "reshape"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![grad_if(needs[0], || reshape(g, &self.input))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn reshape_infers_and_checks() {
        let x = rand64(&[2, 3, 4], 1);
        assert_eq!(crate::ops::reshape_to(&x, &[4, -1]).unwrap().shape(), &[4, 6]);
        assert!(crate::ops::reshape_to(&x, &[5, -1]).is_err());
        assert!(crate::ops::reshape_to(&x, &[-1, -1]).is_err());
        check_grads(|x| crate::ops::reshape_to(&x[0], &[6, -1]), &[rand64(&[2, 3, 4], 2)]);
    }
}
