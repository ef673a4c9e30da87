//! `tile(x, repeats)`, `repeat(x, repeats, axis=None)` and `flip(x, axis=None)`: index
//! selections (numpy semantics), differentiable through `select`'s scatter-add.

use crate::error::Result;
use crate::ops::common::axes_list;
use crate::ops::shape::select;
use crate::tensor::{normalize_axis, Tensor};
use crate::value_err;

pub fn tile(x: &Tensor, repeats: &[usize]) -> Result<Tensor> {
    // numpy: pad the shorter of x.shape and repeats with leading ones.
    let nd = x.ndim().max(repeats.len());
    let mut shape = vec![1; nd - x.ndim()];
    shape.extend_from_slice(x.shape());
    let mut reps = vec![1; nd - repeats.len()];
    reps.extend_from_slice(repeats);
    let x = crate::ops::reshape(x, &shape)?;
    let idx = shape.iter().zip(&reps).map(|(&n, &r)| (0..n * r).map(|i| i % n.max(1)).collect()).collect();
    select(&x, idx)
}

pub fn repeat(x: &Tensor, repeats: &[usize], axis: Option<isize>) -> Result<Tensor> {
    let (x, a) = match axis {
        None => (crate::ops::reshape(x, &[x.numel()])?, 0),
        Some(a) => (x.clone(), normalize_axis("repeat", a, x.ndim())?),
    };
    let n = x.shape()[a];
    let per: Vec<usize> = match repeats.len() {
        1 => vec![repeats[0]; n],
        k if k == n => repeats.to_vec(),
        k => return value_err!("repeat", "repeats has {k} entries, expected 1 or {n} (the size of axis {a})"),
    };
    let along: Vec<usize> = per.iter().enumerate().flat_map(|(i, &r)| std::iter::repeat_n(i, r)).collect();
    let idx = (0..x.ndim()).map(|d| if d == a { along.clone() } else { (0..x.shape()[d]).collect() }).collect();
    select(&x, idx)
}

pub fn flip(x: &Tensor, axis: Option<&[isize]>) -> Result<Tensor> {
    let axes = axes_list("flip", axis, x.ndim())?;
    let idx = (0..x.ndim()).map(|d| if axes.contains(&d) { (0..x.shape()[d]).rev().collect() } else { (0..x.shape()[d]).collect() }).collect();
    select(x, idx)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn tile_repeat_flip() {
        let x = t64(&[1., 2., 3., 4.], &[2, 2]);
        assert_eq!(vals(&crate::ops::tile(&x, &[1, 2]).unwrap()), vec![1., 2., 1., 2., 3., 4., 3., 4.]);
        assert_eq!(crate::ops::tile(&x, &[2, 1, 1]).unwrap().shape(), &[2, 2, 2]);
        assert_eq!(vals(&crate::ops::repeat(&x, &[2], Some(0)).unwrap()), vec![1., 2., 1., 2., 3., 4., 3., 4.]);
        assert_eq!(vals(&crate::ops::repeat(&x, &[1, 2, 0, 1], None).unwrap()), vec![1., 2., 2., 4.]);
        assert_eq!(vals(&crate::ops::flip(&x, Some(&[1])).unwrap()), vec![2., 1., 4., 3.]);
        check_grads(|x| crate::ops::tile(&x[0], &[2, 3]), &[rand64(&[2, 2], 1)]);
        check_grads(|x| crate::ops::repeat(&x[0], &[3], Some(1)), &[rand64(&[2, 2], 2)]);
        check_grads(|x| crate::ops::flip(&x[0], None), &[rand64(&[2, 3], 3)]);
    }
}
