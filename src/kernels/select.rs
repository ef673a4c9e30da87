//! Outer-product indexing over contiguous data: `out[i0, .., ik] = x[idx0[i0], .., idxk[ik]]`,
//! and its adjoint, a scatter that combines values into a buffer of the input's shape. Rows of
//! the output are independent, so `select` runs in parallel; `scatter` with repeated indices
//! accumulates in a fixed order (single pass), so it is deterministic.

use crate::runtime::par_chunks_mut;
use crate::tensor::layout::contiguous_strides;

/// Per-axis offsets (index × stride) into a contiguous buffer of `shape`.
fn offsets(shape: &[usize], idx: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let strides = contiguous_strides(shape);
    idx.iter().zip(&strides).map(|(ix, &s)| ix.iter().map(|&i| i * s).collect()).collect()
}

/// Buffer offset of output row `r` (row-major over all axes but the last).
fn row_base(off: &[Vec<usize>], mut r: usize) -> usize {
    let mut base = 0;
    for d in (0..off.len() - 1).rev() {
        let n = off[d].len();
        base += off[d][r % n];
        r /= n;
    }
    base
}

pub fn select<T: Copy + Default + Send + Sync>(x: &[T], shape: &[usize], idx: &[Vec<usize>]) -> Vec<T> {
    let n: usize = idx.iter().map(|v| v.len()).product();
    let mut out = vec![T::default(); n];
    if n == 0 {
        return out;
    }
    if idx.is_empty() {
        out[0] = x[0];
        return out;
    }
    let off = offsets(shape, idx);
    let last = &off[off.len() - 1];
    let row = last.len();
    let contiguous_last = last.windows(2).all(|w| w[1] == w[0] + 1);
    par_chunks_mut(&mut out, ((1 << 15) / row).max(1) * row, |start, o| {
        for (k, orow) in o.chunks_mut(row).enumerate() {
            let base = row_base(&off, start / row + k);
            if contiguous_last {
                let s = base + last[0];
                orow.copy_from_slice(&x[s..s + row]);
            } else {
                for (v, &l) in orow.iter_mut().zip(last) {
                    *v = x[base + l];
                }
            }
        }
    });
    out
}

/// Adjoint of `select`: a buffer of `shape` filled with `init`, where each value of `g` is
/// combined into the element it was selected from.
pub fn scatter<T: Copy>(g: &[T], shape: &[usize], idx: &[Vec<usize>], init: T, combine: impl Fn(&mut T, T)) -> Vec<T> {
    let mut out = vec![init; shape.iter().product()];
    if g.is_empty() {
        return out;
    }
    if idx.is_empty() {
        combine(&mut out[0], g[0]);
        return out;
    }
    let off = offsets(shape, idx);
    let last = &off[off.len() - 1];
    let row = last.len();
    for (r, grow) in g.chunks(row).enumerate() {
        let base = row_base(&off, r);
        for (&v, &l) in grow.iter().zip(last) {
            combine(&mut out[base + l], v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_and_scatter_are_adjoint() {
        let x: Vec<f64> = (0..12).map(|v| v as f64).collect();
        let idx = vec![vec![2, 0], vec![1, 1, 3]];
        let y = select(&x, &[3, 4], &idx);
        assert_eq!(y, vec![9.0, 9.0, 11.0, 1.0, 1.0, 3.0]);
        let g = scatter(&[1.0; 6], &[3, 4], &idx, 0.0, |a, b| *a += b);
        assert_eq!(g, vec![0., 2., 0., 1., 0., 0., 0., 0., 0., 2., 0., 1.]);
    }
}
