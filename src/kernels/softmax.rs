//! Row-wise softmax, log-softmax and log-sum-exp over contiguous rows of length `n`, and their
//! backward passes. Each row is one stable pass structure (max, exp-sum, normalize); rows run in
//! parallel in chunks whose size depends only on the shape.

use crate::kernels::math::{exp, ln};
use crate::kernels::reduce::fold_lanes;
use crate::multiversion;
use crate::runtime::par_chunks_mut;
use crate::tensor::Float;

/// Rows per parallel chunk: about 16K elements of work.
fn rows_per_chunk(n: usize) -> usize {
    ((1 << 14) / n.max(1)).max(1)
}

/// Row maximum; a NaN anywhere makes it NaN, as numpy's reference formula does.
#[inline(always)]
fn row_max<T: Float>(x: &[T]) -> T {
    fold_lanes(x, T::neg_infinity(), |v| v, |m, v| if m.is_nan() || !(v > m || v.is_nan()) { m } else { v })
}

/// A shift that keeps exp finite; an infinite or NaN max shifts by 0 (rows of -inf stay -inf).
#[inline(always)]
fn shift<T: Float>(m: T) -> T {
    if m.is_finite() {
        m
    } else {
        T::zero()
    }
}

multiversion! {
    fn softmax_row[T: Float](x: &[T], y: &mut [T]) {
        let m = shift(row_max(x));
        for (o, &v) in y.iter_mut().zip(x) {
            *o = exp(v - m);
        }
        let inv = T::one() / fold_lanes(y, T::zero(), |e| e, |a, b| a + b);
        for o in y.iter_mut() {
            *o *= inv;
        }
    }
}

multiversion! {
    /// Softmax of one row, in place.
    pub fn softmax_row_in_place[T: Float](x: &mut [T]) {
        let m = shift(row_max(x));
        for v in x.iter_mut() {
            *v = exp(*v - m);
        }
        let inv = T::one() / fold_lanes(x, T::zero(), |e| e, |a, b| a + b);
        for v in x.iter_mut() {
            *v *= inv;
        }
    }
}

multiversion! {
    /// log(sum(exp(x))) of one row, stable.
    pub fn logsumexp_row[T: Float](x: &[T]) -> T {
        let m = row_max(x);
        let sh = shift(m);
        let s = fold_lanes(x, T::zero(), |v| exp(v - sh), |a, b| a + b);
        if m.is_nan() { m } else { ln(s) + sh }
    }
}

multiversion! {
    fn log_softmax_row[T: Float](x: &[T], y: &mut [T]) {
        let lse = logsumexp_row(x);
        for (o, &v) in y.iter_mut().zip(x) {
            *o = v - lse;
        }
    }
}

multiversion! {
    /// dx = y * (g - sum(g * y))
    pub fn softmax_grad_row[T: Float](y: &[T], g: &[T], dx: &mut [T]) {
        let mut dot = T::zero();
        for (&a, &b) in y.iter().zip(g) {
            dot += a * b;
        }
        for ((o, &a), &b) in dx.iter_mut().zip(y).zip(g) {
            *o = a * (b - dot);
        }
    }
}

multiversion! {
    /// dx = g - exp(y) * sum(g), where y = log_softmax(x)
    fn log_softmax_grad_row[T: Float](y: &[T], g: &[T], dx: &mut [T]) {
        let mut s = T::zero();
        for &b in g {
            s += b;
        }
        for ((o, &a), &b) in dx.iter_mut().zip(y).zip(g) {
            *o = b - exp(a) * s;
        }
    }
}

fn rows<T: Float>(x: &[T], n: usize, f: impl Fn(&[T], &mut [T]) + Sync + Send) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    if n == 0 {
        return out;
    }
    par_chunks_mut(&mut out, rows_per_chunk(n) * n, |start, o| {
        for (i, row) in o.chunks_mut(n).enumerate() {
            let r = start / n + i;
            f(&x[r * n..(r + 1) * n], row);
        }
    });
    out
}

fn rows2<T: Float>(y: &[T], g: &[T], n: usize, f: impl Fn(&[T], &[T], &mut [T]) + Sync + Send) -> Vec<T> {
    let mut out = vec![T::zero(); y.len()];
    if n == 0 {
        return out;
    }
    par_chunks_mut(&mut out, rows_per_chunk(n) * n, |start, o| {
        for (i, row) in o.chunks_mut(n).enumerate() {
            let r = start / n + i;
            f(&y[r * n..(r + 1) * n], &g[r * n..(r + 1) * n], row);
        }
    });
    out
}

pub fn softmax<T: Float>(x: &[T], n: usize) -> Vec<T> {
    rows(x, n, softmax_row)
}

pub fn log_softmax<T: Float>(x: &[T], n: usize) -> Vec<T> {
    rows(x, n, log_softmax_row)
}

pub fn softmax_grad<T: Float>(y: &[T], g: &[T], n: usize) -> Vec<T> {
    rows2(y, g, n, softmax_grad_row)
}

pub fn log_softmax_grad<T: Float>(y: &[T], g: &[T], n: usize) -> Vec<T> {
    rows2(y, g, n, log_softmax_grad_row)
}

/// log-sum-exp of every row.
pub fn logsumexp<T: Float>(x: &[T], n: usize) -> Vec<T> {
    let r = if n == 0 { 0 } else { x.len() / n };
    let mut out = vec![T::neg_infinity(); r];
    if n == 0 {
        return out;
    }
    let chunk = rows_per_chunk(n);
    par_chunks_mut(&mut out, chunk, |start, o| {
        for (i, v) in o.iter_mut().enumerate() {
            let r = start + i;
            *v = logsumexp_row(&x[r * n..(r + 1) * n]);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_stable_and_normalized() {
        let x = [1000.0f32, 1001.0, 1002.0, -1e4, 0.0, 1e4];
        let y = softmax(&x, 3);
        let e = [(-2.0f64).exp(), (-1.0f64).exp(), 1.0];
        let s: f64 = e.iter().sum();
        for j in 0..3 {
            assert!((y[j] as f64 - e[j] / s).abs() < 1e-6);
        }
        assert_eq!(&y[3..], &[0.0, 0.0, 1.0]);
        let l = logsumexp(&[f64::NEG_INFINITY, f64::NEG_INFINITY], 2);
        assert_eq!(l[0], f64::NEG_INFINITY);
        let ls = log_softmax(&[0.0f64, 0.0], 2);
        assert!((ls[0] + std::f64::consts::LN_2).abs() < 1e-15);
    }
}
