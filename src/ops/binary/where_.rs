//! `where(condition, x1, x2)`: `x1` where the condition is true (nonzero), else `x2`, with the
//! three operands broadcast together; and `nonzero(x)` (what `where(condition)` returns without
//! branches): the indices of the nonzero elements, one int64 tensor per dimension.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{materialize, CHUNK_LIGHT};
use crate::multiversion;
use crate::ops::binary::logical::truthy;
use crate::ops::binary::mask::masked_grads;
use crate::ops::cast;
use crate::runtime::par_chunks_mut;
use crate::tensor::{broadcast_shapes, DType, Element, Tensor};
use crate::value_err;

multiversion! {
    fn select_slice[T: Copy](m: &[bool], a: &[T], b: &[T], out: &mut [T]) {
        for (((o, &m), &x), &y) in out.iter_mut().zip(m).zip(a).zip(b) {
            *o = if m { x } else { y };
        }
    }
}

/// `x` broadcast to `shape` as a contiguous tensor (no copy when it already is one).
fn expand(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if x.shape() == shape && x.is_contiguous() {
        return Ok(x.clone());
    }
    let layout = x.layout().broadcast_to("where", shape)?;
    Ok(crate::dispatch_all!(x.dtype(), |T| Tensor::from_vec(materialize::<T>(x, &layout)?, shape)?))
}

fn select<T: Element>(mask: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (m, x, y) = (mask.data::<bool>()?, a.data::<T>()?, b.data::<T>()?);
    let mut out = vec![T::default(); m.len()];
    par_chunks_mut(&mut out, CHUNK_LIGHT, |s, o| {
        let e = s + o.len();
        select_slice(&m[s..e], &x[s..e], &y[s..e], o)
    });
    Tensor::from_vec(out, mask.shape())
}

pub fn where_(condition: &Tensor, x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
    let dt = DType::promote(x1.dtype(), x2.dtype());
    let (a, b) = (cast(x1, dt)?, cast(x2, dt)?);
    let shape = broadcast_shapes("where", condition.shape(), a.shape())?;
    let shape = broadcast_shapes("where", &shape, b.shape())?;
    let mask = expand(&truthy(condition)?, &shape)?;
    let out = crate::dispatch_all!(dt, |T| select::<T>(&mask, &expand(&a, &shape)?, &expand(&b, &shape)?)?);
    record(&[&a, &b], &out, || Arc::new(WhereBackward { mask: mask.clone(), a: a.shape().to_vec(), b: b.shape().to_vec() }));
    Ok(out)
}

struct WhereBackward {
    mask: Tensor,
    a: Vec<usize>,
    b: Vec<usize>,
}

impl Backward for WhereBackward {
    fn name(&self) -> &'static str {
        "where"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(masked_grads("where", g, &self.mask, [needs[0], needs[1]], &self.a, &self.b)?.into())
    }
}

/// Indices of the nonzero elements of `x` in row-major order, one int64 tensor per dimension.
pub fn nonzero(x: &Tensor) -> Result<Vec<Tensor>> {
    if x.ndim() == 0 {
        return value_err!("where", "a condition without x1 and x2 must have at least one dimension, received shape []");
    }
    let m = truthy(x)?;
    let m = m.data::<bool>()?;
    let shape = x.shape();
    let count = m.iter().filter(|&&v| v).count();
    let mut idx: Vec<Vec<i64>> = vec![Vec::with_capacity(count); shape.len()];
    for (flat, _) in m.iter().enumerate().filter(|(_, &v)| v) {
        let mut r = flat;
        for d in (0..shape.len()).rev() {
            idx[d].push((r % shape[d]) as i64);
            r /= shape[d];
        }
    }
    idx.into_iter().map(|v| Tensor::from_vec(v, &[count])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    #[test]
    fn where_selects_broadcasts_and_has_gradients() {
        let c = Tensor::from_vec(vec![1.0f32, 0.0, f32::NAN], &[3, 1]).unwrap();
        let r = where_(&c, &t64(&[1.0, 2.0], &[2]), &t64(&[-1.0], &[])).unwrap();
        assert_eq!(r.shape(), &[3, 2]);
        assert_eq!(vals(&r), vec![1.0, 2.0, -1.0, -1.0, 1.0, 2.0]);
        let bools = Tensor::from_vec(vec![true, false], &[2]).unwrap();
        assert_eq!(where_(&bools, &bools, &Tensor::scalar(true)).unwrap().dtype(), DType::Bool);
        let cond = Tensor::from_vec(vec![true, false, false, true, true, false], &[2, 3]).unwrap();
        check_grads(|x| where_(&cond, &x[0], &x[1]), &[rand64(&[3], 1), rand64(&[2, 1], 2)]);
        assert!(where_(&cond, &rand64(&[4], 1), &rand64(&[3], 2)).is_err());
    }

    #[test]
    fn nonzero_lists_indices_per_dimension() {
        let x = Tensor::from_vec(vec![0i64, 3, 0, 0, 0, -1], &[2, 3]).unwrap();
        let ix = nonzero(&x).unwrap();
        assert_eq!(ix[0].to_vec::<i64>().unwrap(), vec![0, 1]);
        assert_eq!(ix[1].to_vec::<i64>().unwrap(), vec![1, 2]);
        assert!(nonzero(&Tensor::scalar(1i64)).is_err());
        assert_eq!(nonzero(&Tensor::zeros(&[0, 2], DType::F32)).unwrap()[1].shape(), &[0]);
    }
}
