//! Lamb (Keras 3): Adam's moments and bias-corrected direction u = m̂/(√v̂ + ε), applied with a
//! per-variable trust ratio ‖θ‖/‖u‖ (1 when either norm is 0). Two passes over the pieces:
//! (1) weight decay, the moments and each piece's Σθ² and Σu²; the sums of a variable are
//! combined in piece order; (2) θ −= ratio·lr·u, u recomputed from the stored moments.

use super::{decay, for_pieces, split, sum_map, sum_pairs, VarUpdate};
use crate::multiversion;
use crate::tensor::Float;

/// One step's coefficients in the variables' precision.
#[derive(Clone, Copy)]
pub(super) struct Hyper<T> {
    pub lr: T,
    /// 1 − β₁ and 1 − β₂ (Keras computes them in Python floats).
    pub one_b1: T,
    pub one_b2: T,
    /// The inverse bias corrections 1/(1 − β₁ᵗ) and 1/(1 − β₂ᵗ) (multiplying instead of
    /// dividing as Keras does moves u by an ulp and halves the divisions).
    pub inv_c1: T,
    pub inv_c2: T,
    pub eps: T,
}

pub(super) fn apply<T: Float>(h: Hyper<T>, updates: Vec<VarUpdate<'_, T>>) {
    let vars = updates.len();
    let (mut pieces, total) = split(updates);
    let sums = for_pieces(&mut pieces, total, |p| {
        if p.wd != T::zero() {
            decay(p.param, p.wd * h.lr);
        }
        match p.slots.as_mut_slice() {
            [m, v] => moments(p.param, p.grad, m, v, h),
            _ => unreachable!("slot count checked in apply"),
        }
    });
    let mut norms = vec![(T::zero(), T::zero()); vars];
    for (p, (w2, u2)) in pieces.iter().zip(sums) {
        norms[p.var].0 += w2;
        norms[p.var].1 += u2;
    }
    let scale: Vec<T> = norms
        .iter()
        .map(|&(w2, u2)| {
            let (w, u) = (w2.sqrt(), u2.sqrt());
            let ratio = if w > T::zero() && u > T::zero() { w / u } else { T::one() };
            ratio * h.lr
        })
        .collect();
    for_pieces(&mut pieces, total, |p| match p.slots.as_mut_slice() {
        [m, v] => step(p.param, m, v, scale[p.var], h),
        _ => unreachable!("slot count checked in apply"),
    });
}

/// u = m̂/(√v̂ + ε).
#[inline(always)]
fn direction<T: Float>(m: T, v: T, h: Hyper<T>) -> T {
    (m * h.inv_c1) / ((v * h.inv_c2).sqrt() + h.eps)
}

multiversion! {
    /// Update m and v; return (Σθ², Σu²) over the piece.
    fn moments[T: Float](param: &[T], grad: &[T], m: &mut [T], v: &mut [T], h: Hyper<T>) -> (T, T) {
        for ((m, v), &g) in m.iter_mut().zip(v.iter_mut()).zip(grad) {
            *m = *m + (g - *m) * h.one_b1;
            *v = *v + (g * g - *v) * h.one_b2;
        }
        let w2 = sum_map(param, |x| x * x);
        let u2 = sum_pairs(m, v, |m, v| {
            let u = direction(m, v, h);
            u * u
        });
        (w2, u2)
    }
}

multiversion! {
    fn step[T: Float](param: &mut [T], m: &[T], v: &[T], scale: T, h: Hyper<T>) {
        for ((p, &m), &v) in param.iter_mut().zip(m).zip(v) {
            *p = *p - scale * direction(m, v, h);
        }
    }
}
