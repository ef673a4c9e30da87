//! Reductions over a set of axes with an associative step (sum, max, min, prod, ...).
//! The data is viewed as (outer, reduced, inner); work is split over outer rows or inner columns,
//! and a long single reduction is split into fixed blocks combined in order, so results do not
//! depend on the thread count.

use crate::error::Result;
use crate::multiversion;
use crate::runtime::{par_chunks_mut, par_ranges};
use crate::tensor::{Element, Tensor};

const BLOCK: usize = 1 << 14;

/// Independent accumulators of `fold_lanes`: one AVX-512 register of f32.
const LANES: usize = 16;

/// Fold `map(x[i])` over a contiguous run with `LANES` independent lanes combined by `step`, so
/// the compiler can vectorize the loop (a single running accumulator would serialize it). Inline
/// it into a `multiversion!` kernel to get the vector build.
#[inline(always)]
pub fn fold_lanes<T: Copy, U: Copy>(x: &[T], init: U, map: impl Fn(T) -> U, step: impl Fn(U, U) -> U) -> U {
    let mut acc = [init; LANES];
    let chunks = x.chunks_exact(LANES);
    let rem = chunks.remainder();
    for c in chunks {
        for j in 0..LANES {
            acc[j] = step(acc[j], map(c[j]));
        }
    }
    // Lanes combined in order: a tree of lane pairs here makes LLVM split the loop above into
    // half-width vectors and shuffles.
    let mut r = acc[0];
    for &a in &acc[1..] {
        r = step(r, a);
    }
    for &v in rem {
        r = step(r, map(v));
    }
    r
}

multiversion! {
    /// Fold a contiguous run with an associative `step` (vectorized lanes).
    pub fn fold_row[T: Copy, F: Fn(T, T) -> T](x: &[T], init: T, step: &F) -> T {
        fold_lanes(x, init, |v| v, step)
    }
}

multiversion! {
    /// `acc[i] = step(acc[i], x[i])`.
    pub fn fold_into[T: Copy, F: Fn(T, T) -> T](acc: &mut [T], x: &[T], step: &F) {
        for (a, &v) in acc.iter_mut().zip(x) {
            *a = step(*a, v);
        }
    }
}

/// Reduce `x` over `axes` (normalized, sorted, unique). The result has the reduced axes removed.
pub fn reduce<T: Element>(x: &Tensor, axes: &[usize], init: T, step: impl Fn(T, T) -> T + Sync + Send + Copy) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let out_shape: Vec<usize> = kept.iter().map(|&d| shape[d]).collect();
    // Bring the reduced axes together as one block (a copy only when they are not adjacent).
    let is_block = axes.windows(2).all(|w| w[1] == w[0] + 1);
    let (src, first, last) = if is_block || axes.is_empty() {
        (x.clone(), axes.first().copied().unwrap_or(shape.len()), axes.last().map(|a| a + 1).unwrap_or(shape.len()))
    } else {
        let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
        (x.view(x.layout().permute(&perm))?, kept.len(), shape.len())
    };
    let sshape = src.shape();
    let outer: usize = sshape[..first].iter().product();
    let red: usize = sshape[first..last].iter().product();
    let inner: usize = sshape[last..].iter().product();
    let data = src.data::<T>()?;
    let mut out = vec![init; outer * inner];
    if out.is_empty() {
        return Ok(Tensor::from_vec_unchecked(out, &out_shape));
    }
    if inner == 1 {
        if outer == 1 && red > BLOCK {
            let parts = par_ranges(red, BLOCK, |r| fold_row(&data[r], init, &step));
            out[0] = parts.into_iter().fold(init, step);
        } else {
            let rows_per_chunk = (BLOCK / red.max(1)).max(1);
            par_chunks_mut(&mut out, rows_per_chunk, |start, o| {
                for (i, v) in o.iter_mut().enumerate() {
                    let r = start + i;
                    *v = fold_row(&data[r * red..(r + 1) * red], init, &step);
                }
            });
        }
    } else {
        // Column reduction: accumulate whole inner rows. Split over outer, or over inner columns.
        let col_chunk = if outer == 1 { (BLOCK / red.max(1)).max(64).min(inner) } else { inner };
        par_chunks_mut(&mut out, col_chunk, |start, o| {
            let (o_idx, i0) = (start / inner, start % inner);
            let base = o_idx * red * inner;
            for r in 0..red {
                let row = &data[base + r * inner + i0..base + r * inner + i0 + o.len()];
                fold_into(o, row, &step);
            }
        });
    }
    Ok(Tensor::from_vec_unchecked(out, &out_shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_over_every_axis_combination() {
        let v: Vec<f64> = (0..24).map(|i| i as f64).collect();
        let t = Tensor::from_vec(v.clone(), &[2, 3, 4]).unwrap();
        let at = |i: usize, j: usize, k: usize| v[i * 12 + j * 4 + k];
        let s = reduce(&t, &[1], 0.0, |a, b| a + b).unwrap();
        assert_eq!(s.shape(), &[2, 4]);
        assert_eq!(s.to_vec::<f64>().unwrap()[5], (0..3).map(|j| at(1, j, 1)).sum::<f64>());
        let s = reduce(&t, &[0, 2], 0.0, |a, b| a + b).unwrap();
        assert_eq!(s.to_vec::<f64>().unwrap(), (0..3).map(|j| (0..2).flat_map(|i| (0..4).map(move |k| (i, k))).map(|(i, k)| at(i, j, k)).sum()).collect::<Vec<f64>>());
        let s = reduce(&t, &[0, 1, 2], 0.0, |a, b| a + b).unwrap();
        assert_eq!(s.shape(), &[] as &[usize]);
        assert_eq!(s.item().unwrap(), 276.0);
    }

    #[test]
    fn long_reductions_are_blocked_deterministically() {
        let n = 3 * BLOCK + 17;
        let t = Tensor::from_vec((0..n).map(|i| (i % 10) as f32 * 0.1).collect(), &[n]).unwrap();
        let a = reduce(&t, &[0], 0.0f32, |a, b| a + b).unwrap().item().unwrap();
        crate::runtime::set_num_threads(1);
        let b = reduce(&t, &[0], 0.0f32, |a, b| a + b).unwrap().item().unwrap();
        crate::runtime::set_num_threads(0);
        assert_eq!(a, b);
    }
}
