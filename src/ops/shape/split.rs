//! `split(x, indices_or_sections, axis=0)` (numpy semantics) and Keras's
//! `slice(inputs, start_indices, shape)`: slices of `x`, views of its buffer.

use crate::error::Result;
use crate::ops::shape::strided_slice;
use crate::tensor::{normalize_axis, Tensor};
use crate::{shape_err, value_err};

/// Either a number of equal sections or the split points.
pub enum Sections {
    Count(usize),
    Indices(Vec<isize>),
}

pub fn split(x: &Tensor, sections: Sections, axis: isize) -> Result<Vec<Tensor>> {
    if x.ndim() == 0 {
        return value_err!("split", "cannot split a zero-dimensional tensor");
    }
    let a = normalize_axis("split", axis, x.ndim())?;
    let n = x.shape()[a];
    let bounds: Vec<usize> = match sections {
        Sections::Count(0) => return value_err!("split", "number of sections must be larger than 0"),
        Sections::Count(k) => {
            if n % k != 0 {
                return value_err!("split", "array split does not result in an equal division: axis {a} of size {n} into {k} sections");
            }
            (0..=k).map(|i| i * n / k).collect()
        }
        Sections::Indices(ix) => {
            let clamp = |i: isize| if i < 0 { (i + n as isize).max(0) as usize } else { (i as usize).min(n) };
            std::iter::once(0).chain(ix.iter().map(|&i| clamp(i))).chain(std::iter::once(n)).collect()
        }
    };
    bounds
        .windows(2)
        .map(|w| {
            let mut starts = vec![0; x.ndim()];
            let mut lens = x.shape().to_vec();
            starts[a] = w[0].min(n.saturating_sub(1));
            lens[a] = w[1].saturating_sub(w[0]);
            if lens[a] == 0 {
                starts[a] = 0;
            }
            strided_slice(x, &starts, &vec![1; x.ndim()], &lens)
        })
        .collect()
}

/// Keras 3 `ops.slice(inputs, start_indices, shape)`.
pub fn slice(x: &Tensor, start_indices: &[usize], shape: &[usize]) -> Result<Tensor> {
    if start_indices.len() != x.ndim() || shape.len() != x.ndim() {
        return shape_err!("slice", "start_indices {start_indices:?} and shape {shape:?} must both have one entry per axis of a tensor of shape {:?}", x.shape());
    }
    for d in 0..x.ndim() {
        if start_indices[d] + shape[d] > x.shape()[d] {
            return shape_err!("slice", "slice of size {} at {} does not fit axis {d} of shape {:?}", shape[d], start_indices[d], x.shape());
        }
    }
    let starts: Vec<usize> = (0..x.ndim()).map(|d| if shape[d] == 0 { 0 } else { start_indices[d] }).collect();
    strided_slice(x, &starts, &vec![1; x.ndim()], shape)
}

#[cfg(test)]
mod tests {
    use super::Sections;
    use crate::ops::testing::*;

    #[test]
    fn split_and_slice() {
        let x = rand64(&[6, 2], 1);
        let parts = crate::ops::split(&x, Sections::Count(3), 0).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(vals(&parts[1]), vals(&x)[4..8].to_vec());
        assert!(crate::ops::split(&x, Sections::Count(4), 0).is_err());
        let p = crate::ops::split(&x, Sections::Indices(vec![1, -2]), 0).unwrap();
        assert_eq!(p.iter().map(|t| t.shape()[0]).collect::<Vec<_>>(), vec![1, 3, 2]);
        let s = crate::ops::slice(&x, &[2, 1], &[3, 1]).unwrap();
        assert_eq!(vals(&s), vec![vals(&x)[5], vals(&x)[7], vals(&x)[9]]);
        check_grads(|x| crate::ops::slice(&x[0], &[1, 0], &[2, 2]), &[rand64(&[4, 2], 2)]);
    }
}
