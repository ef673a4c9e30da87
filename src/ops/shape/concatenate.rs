//! `concatenate(xs, axis=0)` and `stack(xs, axis=0)`. Each input contributes one contiguous run
//! per outer index, copied whole; the backward hands each input its slice of the gradient.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::ops::shape::strided_slice;
use crate::runtime::par_chunks_mut;
use crate::tensor::{normalize_axis, DType, Element, Tensor};
use crate::{shape_err, value_err};

pub fn concatenate(xs: &[Tensor], axis: isize) -> Result<Tensor> {
    let Some(first) = xs.first() else { return value_err!("concatenate", "need at least one tensor to concatenate") };
    if first.ndim() == 0 {
        return value_err!("concatenate", "zero-dimensional tensors cannot be concatenated");
    }
    let a = normalize_axis("concatenate", axis, first.ndim())?;
    let dtype = xs.iter().skip(1).fold(first.dtype(), |d, x| DType::promote(d, x.dtype()));
    for x in xs {
        let ok = x.ndim() == first.ndim() && (0..x.ndim()).all(|d| d == a || x.shape()[d] == first.shape()[d]);
        if !ok {
            let shapes: Vec<&[usize]> = xs.iter().map(|t| t.shape()).collect();
            return shape_err!("concatenate", "all input dimensions except the concatenation axis {a} must match, received shapes {shapes:?}");
        }
    }
    let xs: Vec<Tensor> = xs.iter().map(|x| crate::ops::cast(x, dtype)).collect::<Result<_>>()?;
    let mut shape = first.shape().to_vec();
    shape[a] = xs.iter().map(|x| x.shape()[a]).sum();
    let outer: usize = shape[..a].iter().product();
    let inner: usize = shape[a + 1..].iter().product();
    fn run<T: Element>(xs: &[Tensor], shape: &[usize], a: usize, outer: usize, inner: usize) -> Result<Tensor> {
        let data: Vec<_> = xs.iter().map(|x| x.data::<T>()).collect::<Result<_>>()?;
        let runs: Vec<usize> = xs.iter().map(|x| x.shape()[a] * inner).collect();
        let row: usize = runs.iter().sum();
        let mut out = vec![T::default(); outer * row];
        if row > 0 {
            par_chunks_mut(&mut out, ((1 << 15) / row).max(1) * row, |start, o| {
                for (k, orow) in o.chunks_mut(row).enumerate() {
                    let r = start / row + k;
                    let mut at = 0;
                    for (d, &n) in data.iter().zip(&runs) {
                        orow[at..at + n].copy_from_slice(&d[r * n..(r + 1) * n]);
                        at += n;
                    }
                }
            });
        }
        Tensor::from_vec(out, shape)
    }
    let out = crate::dispatch_all!(dtype, |T| run::<T>(&xs, &shape, a, outer, inner)?);
    if dtype.is_float() {
        let refs: Vec<&Tensor> = xs.iter().collect();
        record(&refs, &out, || Arc::new(ConcatBackward { sizes: xs.iter().map(|x| x.shape()[a]).collect(), axis: a }));
    }
    Ok(out)
}

pub fn stack(xs: &[Tensor], axis: isize) -> Result<Tensor> {
    let Some(first) = xs.first() else { return value_err!("stack", "need at least one tensor to stack") };
    if let Some(x) = xs.iter().find(|x| x.shape() != first.shape()) {
        return shape_err!("stack", "all input tensors must have the same shape, received {:?} and {:?}", first.shape(), x.shape());
    }
    let a = normalize_axis("stack", axis, first.ndim() + 1)?;
    let expanded: Vec<Tensor> = xs.iter().map(|x| crate::ops::expand_dims(x, &[a as isize])).collect::<Result<_>>()?;
    concatenate(&expanded, a as isize)
}

struct ConcatBackward {
    sizes: Vec<usize>,
    axis: usize,
}

impl Backward for ConcatBackward {
    fn name(&self) -> &'static str {
        "concatenate"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let mut start = 0;
        let mut out = Vec::with_capacity(self.sizes.len());
        for (&n, &need) in self.sizes.iter().zip(needs) {
            let mut starts = vec![0; g.ndim()];
            starts[self.axis] = start;
            let mut lens = g.shape().to_vec();
            lens[self.axis] = n;
            out.push(if need { Some(strided_slice(g, &starts, &vec![1; g.ndim()], &lens)?) } else { None });
            start += n;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn concatenate_and_stack() {
        let a = t64(&[1., 2., 3., 4.], &[2, 2]);
        let b = t64(&[5., 6.], &[2, 1]);
        assert_eq!(vals(&crate::ops::concatenate(&[a.clone(), b.clone()], 1).unwrap()), vec![1., 2., 5., 3., 4., 6.]);
        assert!(crate::ops::concatenate(&[a.clone(), b.clone()], 0).is_err());
        assert_eq!(crate::ops::stack(&[a.clone(), a.clone()], -1).unwrap().shape(), &[2, 2, 2]);
        check_grads(|x| crate::ops::concatenate(&[x[0].clone(), x[1].clone()], 1), &[rand64(&[2, 3], 1), rand64(&[2, 2], 2)]);
        check_grads(|x| crate::ops::stack(&[x[0].clone(), x[1].clone()], 1), &[rand64(&[2, 3], 3), rand64(&[2, 3], 4)]);
    }
}
