//! Fused softmax cross-entropy over contiguous rows of length `n`: forward returns the per-row
//! loss and the row's log-sum-exp (saved for backward); backward is one pass per row.

use crate::kernels::math::exp;
use crate::kernels::softmax::logsumexp_row;
use crate::runtime::{par_chunks_mut, par_ranges};
use crate::tensor::Float;

fn rows_per_chunk(n: usize) -> usize {
    ((1 << 14) / n.max(1)).max(1)
}

/// Dense labels `t`: loss = lse·Σt − Σ t·x per row.
pub fn softmax_xent<T: Float>(t: &[T], x: &[T], n: usize) -> (Vec<T>, Vec<T>) {
    let rows = if n == 0 { 0 } else { x.len() / n };
    let parts = par_ranges(rows, rows_per_chunk(n), |r| {
        r.map(|i| {
            let (xr, tr) = (&x[i * n..(i + 1) * n], &t[i * n..(i + 1) * n]);
            let lse = logsumexp_row(xr);
            let (mut st, mut stx) = (T::zero(), T::zero());
            for (&a, &b) in tr.iter().zip(xr) {
                st += a;
                stx += a * b;
            }
            (lse * st - stx, lse)
        })
        .collect::<Vec<_>>()
    });
    parts.into_iter().flatten().unzip()
}

/// Gradients of the dense loss: dx = g·(softmax·Σt − t), dt = g·(lse − x).
pub fn softmax_xent_grad<T: Float>(t: &[T], x: &[T], lse: &[T], g: &[T], n: usize, need_x: bool, need_t: bool) -> (Option<Vec<T>>, Option<Vec<T>>) {
    let dx = need_x.then(|| {
        let mut dx = vec![T::zero(); x.len()];
        if n > 0 {
            par_chunks_mut(&mut dx, rows_per_chunk(n) * n, |start, o| {
                for (k, row) in o.chunks_mut(n).enumerate() {
                    let i = start / n + k;
                    let (xr, tr) = (&x[i * n..(i + 1) * n], &t[i * n..(i + 1) * n]);
                    let st: T = tr.iter().copied().sum();
                    for j in 0..n {
                        row[j] = g[i] * (exp(xr[j] - lse[i]) * st - tr[j]);
                    }
                }
            });
        }
        dx
    });
    let dt = need_t.then(|| x.iter().enumerate().map(|(j, &v)| g[j / n] * (lse[j / n] - v)).collect());
    (dx, dt)
}

/// Integer labels (already checked to be in range): loss = lse − x[label].
pub fn sparse_xent<T: Float>(labels: &[i64], x: &[T], n: usize) -> (Vec<T>, Vec<T>) {
    let parts = par_ranges(labels.len(), rows_per_chunk(n), |r| {
        r.map(|i| {
            let xr = &x[i * n..(i + 1) * n];
            let lse = logsumexp_row(xr);
            (lse - xr[labels[i] as usize], lse)
        })
        .collect::<Vec<_>>()
    });
    parts.into_iter().flatten().unzip()
}

/// dx = g·(softmax − onehot(label)).
pub fn sparse_xent_grad<T: Float>(labels: &[i64], x: &[T], lse: &[T], g: &[T], n: usize) -> Vec<T> {
    let mut dx = vec![T::zero(); x.len()];
    if n > 0 {
        par_chunks_mut(&mut dx, rows_per_chunk(n) * n, |start, o| {
            for (k, row) in o.chunks_mut(n).enumerate() {
                let i = start / n + k;
                let xr = &x[i * n..(i + 1) * n];
                for j in 0..n {
                    row[j] = g[i] * exp(xr[j] - lse[i]);
                }
                row[labels[i] as usize] -= g[i];
            }
        });
    }
    dx
}
