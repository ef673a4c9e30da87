//! Adafactor (Keras 3). A variable of rank ≥ 2 is a stack of (m, n) matrices over its last two
//! axes; its second moment is factored: r holds the decayed row means of g² + ε₁, c the column
//! means, and v = (r / mean(r))·c is rebuilt every step. A variable of rank < 2 keeps an
//! elementwise v. The step is θ −= α·û with u = g/√v, û = u / max(1, rms(u)/clip) and
//! α = max(ε₂, rms(θ))·ρ, applied as (α / max(1, rms(u)/clip))·u.
//!
//! Three passes over pieces fixed by the shapes (row blocks of one matrix, or whole matrices):
//! (1) weight decay, Σθ², r and per-piece column sums (rank < 2: v and Σu²); c and mean(r) are
//! then combined from those in piece order; (2) v and Σu²; (3) the step.

use super::{decay, for_pieces, sum_map, sum_pairs, VarUpdate, PIECE};
use crate::multiversion;
use crate::tensor::Float;

/// One step's coefficients in the variables' precision.
#[derive(Clone, Copy)]
pub(super) struct Hyper<T> {
    pub lr: T,
    /// ρ = min(lr, 1/√t).
    pub rho: T,
    /// β₂ₜ = 1 − t^beta_2_decay.
    pub beta: T,
    pub eps1: T,
    pub eps2: T,
    pub clip: T,
}

/// Most row blocks one matrix is cut into (bounds the per-piece column sums to 32 rows of c).
const MAX_ROW_BLOCKS: usize = 32;

/// The rows of a factored variable's (matrices·m, n) view that a piece covers.
struct Rows<'a, T> {
    /// Their entries of r.
    r: &'a mut [T],
    /// Index of the first row.
    first: usize,
    m: usize,
    n: usize,
}

struct Part<'a, T> {
    var: usize,
    param: &'a mut [T],
    grad: &'a [T],
    v: &'a mut [T],
    rows: Option<Rows<'a, T>>,
    wd: T,
}

/// A factored variable's state outside the pieces.
struct Factored<'a, T> {
    c: &'a mut [T],
    m: usize,
    n: usize,
    /// mean(r) of each matrix, once pass 1 is combined.
    r_mean: Vec<T>,
}

/// What pass 1 returns for a piece: Σθ², Σu² (rank < 2 only) and the column sums of g² + ε₁
/// over its rows, one run of n per matrix it touches (factored only).
struct Sums<T> {
    w2: T,
    u2: T,
    cols: Vec<T>,
}

pub(super) fn apply<T: Float>(h: Hyper<T>, updates: Vec<VarUpdate<'_, T>>) {
    let vars = updates.len();
    let lens: Vec<usize> = updates.iter().map(|u| u.param.len()).collect();
    let total = lens.iter().sum();
    let (mut parts, mut factored) = split(updates);
    let one_beta = T::one() - h.beta;

    let pass1 = for_pieces(&mut parts, total, |p| {
        if p.wd != T::zero() {
            decay(p.param, p.wd * h.lr);
        }
        let w2 = sum_squares(p.param);
        match &mut p.rows {
            Some(rows) => {
                let matrices = (rows.first + rows.r.len() - 1) / rows.m - rows.first / rows.m + 1;
                let mut cols = vec![T::zero(); matrices * rows.n];
                row_means(p.grad, rows.r, &mut cols, rows.first, rows.m, rows.n, h.beta, one_beta, h.eps1);
                Sums { w2, u2: T::zero(), cols }
            }
            None => Sums { w2, u2: unfactored_velocity(p.grad, p.v, h.beta, one_beta, h.eps1), cols: Vec::new() },
        }
    });

    let (mut w2, mut u2) = (vec![T::zero(); vars], vec![T::zero(); vars]);
    let mut col_sums: Vec<Vec<T>> = factored.iter().map(|f| f.as_ref().map(|f| vec![T::zero(); f.c.len()]).unwrap_or_default()).collect();
    let mut r_sums: Vec<Vec<T>> = factored.iter().map(|f| f.as_ref().map(|f| vec![T::zero(); f.c.len() / f.n]).unwrap_or_default()).collect();
    for (p, s) in parts.iter().zip(pass1) {
        w2[p.var] += s.w2;
        u2[p.var] += s.u2;
        if let Some(rows) = &p.rows {
            let start = rows.first / rows.m * rows.n;
            for (acc, &x) in col_sums[p.var][start..].iter_mut().zip(&s.cols) {
                *acc += x;
            }
            for (i, &r) in rows.r.iter().enumerate() {
                r_sums[p.var][(rows.first + i) / rows.m] += r;
            }
        }
    }
    for ((f, cols), rs) in factored.iter_mut().zip(&col_sums).zip(&r_sums) {
        if let Some(f) = f {
            let m = T::c(f.m as f64);
            for (c, &s) in f.c.iter_mut().zip(cols) {
                *c = h.beta * *c + one_beta * (s / m);
            }
            f.r_mean = rs.iter().map(|&s| s / m).collect();
        }
    }

    let context: Vec<Option<(&[T], &[T])>> = factored.iter().map(|f| f.as_ref().map(|f| (&*f.c, f.r_mean.as_slice()))).collect();
    let pass2 = for_pieces(&mut parts, total, |p| match (&p.rows, context[p.var]) {
        (Some(rows), Some((c, r_mean))) => factored_velocity(p.grad, p.v, rows.r, c, r_mean, rows.first, rows.m, rows.n),
        _ => T::zero(),
    });
    for (p, s) in parts.iter().zip(pass2) {
        u2[p.var] += s;
    }

    // θ −= (α / max(1, rms(u)/clip))·u: Keras divides u first; one division per variable
    // instead of per element moves the step by an ulp.
    let scale: Vec<T> = (0..vars)
        .map(|i| {
            let n = T::c(lens[i] as f64);
            let alpha = h.eps2.max((w2[i] / n).sqrt()) * h.rho;
            alpha / T::one().max((u2[i] / n).sqrt() / h.clip)
        })
        .collect();
    for_pieces(&mut parts, total, |p| step(p.param, p.grad, p.v, scale[p.var]));
}

/// Cut the variables into pieces: whole runs of `PIECE` elements for rank < 2; for rank ≥ 2,
/// blocks of whole rows of one matrix (big matrices) or groups of whole matrices (small ones).
/// Empty variables get no piece.
fn split<T: Float>(updates: Vec<VarUpdate<'_, T>>) -> (Vec<Part<'_, T>>, Vec<Option<Factored<'_, T>>>) {
    let mut parts = Vec::new();
    let mut factored = Vec::new();
    for (var, u) in updates.into_iter().enumerate() {
        let (len, wd) = (u.param.len(), T::c(u.weight_decay));
        let mut slots = u.slots.into_iter();
        let (Some(&n), Some(&m), true) = (u.shape.last(), u.shape.iter().rev().nth(1), len > 0) else {
            if let (Some(v), true) = (slots.next(), len > 0) {
                for ((param, grad), v) in u.param.chunks_mut(PIECE).zip(u.grad.chunks(PIECE)).zip(v.chunks_mut(PIECE)) {
                    parts.push(Part { var, param, grad, v, rows: None, wd });
                }
            }
            factored.push(None);
            continue;
        };
        let (Some(mut r), Some(c), Some(mut v)) = (slots.next(), slots.next(), slots.next()) else {
            unreachable!("slot count checked in apply")
        };
        let rows_per = if m * n >= PIECE { (PIECE / n).max(m.div_ceil(MAX_ROW_BLOCKS)).min(m) } else { PIECE / (m * n) * m };
        let total_rows = len / n;
        let (mut param, mut grad) = (u.param, u.grad);
        let mut first = 0;
        while first < total_rows {
            // A block of rows never crosses a matrix; a group of matrices is a multiple of m.
            let rows = if rows_per < m { rows_per.min(m - first % m) } else { rows_per.min(total_rows - first) };
            let (p_head, p_tail) = std::mem::take(&mut param).split_at_mut(rows * n);
            let (v_head, v_tail) = std::mem::take(&mut v).split_at_mut(rows * n);
            let (r_head, r_tail) = std::mem::take(&mut r).split_at_mut(rows);
            let (g_head, g_tail) = grad.split_at(rows * n);
            parts.push(Part { var, param: p_head, grad: g_head, v: v_head, rows: Some(Rows { r: r_head, first, m, n }), wd });
            (param, v, r, grad) = (p_tail, v_tail, r_tail, g_tail);
            first += rows;
        }
        factored.push(Some(Factored { c, m, n, r_mean: Vec::new() }));
    }
    (parts, factored)
}

multiversion! {
    fn sum_squares[T: Float](x: &[T]) -> T {
        sum_map(x, |v| v * v)
    }
}

/// Σ(g/√v)².
#[inline(always)]
fn sum_u2<T: Float>(grad: &[T], v: &[T]) -> T {
    sum_pairs(grad, v, |g, v| {
        let u = g / v.sqrt();
        u * u
    })
}

multiversion! {
    /// v = β·v + (1 − β)·(g² + ε₁); returns Σ(g/√v)².
    fn unfactored_velocity[T: Float](grad: &[T], v: &mut [T], beta: T, one_beta: T, eps1: T) -> T {
        for (v, &g) in v.iter_mut().zip(grad) {
            *v = beta * *v + one_beta * (g * g + eps1);
        }
        sum_u2(grad, v)
    }
}

multiversion! {
    /// For each row: r = β·r + (1 − β)·mean_j(g² + ε₁); and `cols` (one run of n per matrix the
    /// rows touch) += g² + ε₁.
    #[allow(clippy::too_many_arguments)]
    fn row_means[T: Float](grad: &[T], r: &mut [T], cols: &mut [T], first: usize, m: usize, n: usize, beta: T, one_beta: T, eps1: T) {
        let (first_matrix, nt) = (first / m, T::c(n as f64));
        for (i, (g, r)) in grad.chunks_exact(n).zip(r.iter_mut()).enumerate() {
            let start = ((first + i) / m - first_matrix) * n;
            for (c, &x) in cols[start..start + n].iter_mut().zip(g) {
                *c = *c + (x * x + eps1);
            }
            let s = sum_map(g, |x| x * x + eps1);
            *r = beta * *r + one_beta * (s / nt);
        }
    }
}

multiversion! {
    /// v = (r / mean(r))·c for the piece's rows; returns Σ(g/√v)².
    #[allow(clippy::too_many_arguments)]
    fn factored_velocity[T: Float](grad: &[T], v: &mut [T], r: &[T], c: &[T], r_mean: &[T], first: usize, m: usize, n: usize) -> T {
        let mut total = T::zero();
        for (i, ((g, v), &r)) in grad.chunks_exact(n).zip(v.chunks_exact_mut(n)).zip(r).enumerate() {
            let matrix = (first + i) / m;
            let scale = r / r_mean[matrix];
            for (v, &c) in v.iter_mut().zip(&c[matrix * n..(matrix + 1) * n]) {
                *v = scale * c;
            }
            total = total + sum_u2(g, v);
        }
        total
    }
}

multiversion! {
    fn step[T: Float](param: &mut [T], grad: &[T], v: &[T], scale: T) {
        for ((p, &g), &v) in param.iter_mut().zip(grad).zip(v) {
            *p = *p - scale * (g / v.sqrt());
        }
    }
}
