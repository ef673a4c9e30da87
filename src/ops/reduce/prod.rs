//! `prod(x, axis=None, keepdims=False)`. The gradient of each element is the product of the
//! others in its group, computed with prefix/suffix products (exact with zeros; no division).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::reduce::reduce;
use crate::ops::common::grad_if;
use crate::ops::reduce::{finish, reduced_axes};
use crate::runtime::par_chunks_mut;
use crate::tensor::{DType, Float, Tensor};

pub fn prod(x: &Tensor, axis: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let x = if x.dtype() == DType::Bool { crate::ops::cast(x, DType::I64)? } else { x.clone() };
    let (axes, kept) = reduced_axes("prod", &x, axis)?;
    let r = crate::dispatch_num!(x.dtype(), "prod", |T| reduce::<T>(&x, &axes, 1 as T, |a, b| a * b)?);
    let out = finish(r, &kept, keepdims)?;
    if x.dtype().is_float() {
        record(&[&x], &out, || Arc::new(ProdBackward { x: x.clone(), axes, kept }));
    }
    Ok(out)
}

struct ProdBackward {
    x: Tensor,
    axes: Vec<usize>,
    kept: Vec<usize>,
}

fn others_product<T: Float>(x: &Tensor, axes: &[usize]) -> Result<Tensor> {
    // Rows = reduction groups: kept axes first, reduced axes last.
    let nd = x.ndim();
    let mut perm: Vec<usize> = (0..nd).filter(|d| !axes.contains(d)).collect();
    perm.extend_from_slice(axes);
    let px = x.view(x.layout().permute(&perm))?.contiguous();
    let n: usize = axes.iter().map(|&a| x.shape()[a]).product();
    let data = px.data::<T>()?;
    let mut out = vec![T::zero(); data.len()];
    if n > 0 {
        par_chunks_mut(&mut out, ((1 << 14) / n).max(1) * n, |start, o| {
            for (i, row) in o.chunks_mut(n).enumerate() {
                let src = &data[start + i * n..start + (i + 1) * n];
                let mut acc = T::one();
                for j in 0..n {
                    row[j] = acc; // product of the elements before j
                    acc *= src[j];
                }
                let mut acc = T::one();
                for j in (0..n).rev() {
                    row[j] *= acc; // times the product of the elements after j
                    acc *= src[j];
                }
            }
        });
    }
    let t = Tensor::from_vec(out, px.shape())?;
    let mut inverse = vec![0isize; nd];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i as isize;
    }
    crate::ops::transpose(&t, Some(&inverse))
}

impl Backward for ProdBackward {
    fn name(&self) -> &'static str {
        "prod"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let gx = grad_if(needs[0], || {
            let others = crate::dispatch_float!(self.x.dtype(), "prod", |T| others_product::<T>(&self.x, &self.axes)?);
            crate::ops::multiply(&others, &crate::ops::reshape(g, &self.kept)?)
        })?;
        Ok(vec![gx])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn prod_values_and_gradients_with_zeros() {
        let x = t64(&[2.0, 3.0, 0.0, 4.0], &[2, 2]);
        assert_eq!(vals(&crate::ops::prod(&x, Some(&[1]), false).unwrap()), vec![6.0, 0.0]);
        let g = analytic_grads(|x| crate::ops::prod(&x[0], None, false), &[t64(&[2.0, 0.0, 5.0], &[3])]);
        let w = vals(&rand64(&[], 99))[0];
        assert_eq!(vals(&g[0]), vec![0.0, 10.0 * w, 0.0]);
        check_grads(|x| crate::ops::prod(&x[0], Some(&[0, 2]), true), &[rand64(&[2, 3, 2], 1)]);
    }
}
