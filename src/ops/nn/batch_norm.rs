//! `batch_norm(x, gamma, beta, axis, epsilon)`: training-mode batch normalization over every
//! axis but `axis`, returning the output and the batch mean and (biased) variance per channel,
//! which the layer folds into its moving statistics.
//!
//! One pass gathers per-channel sums of x and x² (shifted by the channel's first value against
//! cancellation, accumulated in f64 over fixed blocks, so any thread count gives the same bits),
//! one fused pass writes x·scale + shift. Backward (one node) is one pass for Σdy and Σdy·x̂ and
//! one for dx = γ/σ·(dy − (Σdy + x̂·Σdy·x̂)/m).

use std::sync::Arc;

use num_traits::{One, Zero};

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::ops::common::{grad_if, to_float};
use crate::runtime::{par_chunks_mut, par_ranges};
use crate::tensor::{normalize_axis, Element, Float, Tensor};
use crate::shape_err;

/// (outer, channels, inner) view of a tensor normalized along one axis.
#[derive(Clone, Copy, Debug)]
struct Dims {
    outer: usize,
    c: usize,
    inner: usize,
}

impl Dims {
    fn count(&self) -> usize {
        self.outer * self.inner
    }
    /// Outer indices per block: about 32K elements, fixed by the shape alone.
    fn block(&self) -> usize {
        ((1 << 15) / (self.c * self.inner).max(1)).max(1)
    }
}

/// Per-channel sums Σf(x, c) and Σg(x, c) over everything but the channel axis, in f64.
fn channel_sums<T: Float>(d: Dims, x: &[T], f: impl Fn(usize, usize, T) -> (f64, f64) + Sync) -> (Vec<f64>, Vec<f64>) {
    let partials = par_ranges(d.outer, d.block(), |range| {
        let mut a = vec![0.0; d.c];
        let mut b = vec![0.0; d.c];
        for o in range {
            for c in 0..d.c {
                let start = (o * d.c + c) * d.inner;
                let (mut sa, mut sb) = (0.0, 0.0);
                for (i, &v) in x[start..start + d.inner].iter().enumerate() {
                    let (u, w) = f(start + i, c, v);
                    sa += u;
                    sb += w;
                }
                a[c] += sa;
                b[c] += sb;
            }
        }
        (a, b)
    });
    let (mut a, mut b) = (vec![0.0; d.c], vec![0.0; d.c]);
    for (pa, pb) in partials {
        a.iter_mut().zip(pa).for_each(|(s, v)| *s += v);
        b.iter_mut().zip(pb).for_each(|(s, v)| *s += v);
    }
    (a, b)
}

/// out[i] = x[i]·scale[c] + shift[c], channel by channel.
fn scale_shift<T: Float>(d: Dims, x: &[T], scale: &[T], shift: &[T]) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    let row = (d.c * d.inner).max(1);
    par_chunks_mut(&mut out, d.block() * row, |start, chunk| {
        for_each_segment(d, start, chunk, |c, at, seg| {
            let len = seg.len();
            for (v, &xv) in seg.iter_mut().zip(&x[at..at + len]) {
                *v = xv * scale[c] + shift[c];
            }
        });
    });
    out
}

/// Walk a chunk of whole outer rows (starting at element `start`) as per-channel segments:
/// `f(channel, element index, segment)`. Channels-last data (inner = 1) gets one segment per
/// row with the channel loop innermost instead, which vectorizes.
fn for_each_segment<T: Float>(d: Dims, start: usize, chunk: &mut [T], mut f: impl FnMut(usize, usize, &mut [T])) {
    if d.inner == 1 {
        for (r, row) in chunk.chunks_mut(d.c.max(1)).enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                f(c, start + r * d.c + c, std::slice::from_mut(v));
            }
        }
        return;
    }
    for (k, seg) in chunk.chunks_mut(d.inner).enumerate() {
        f((start / d.inner + k) % d.c, start + k * d.inner, seg);
    }
}

/// Returns (output, batch mean, batch variance); mean and variance have shape [channels].
pub fn batch_norm(x: &Tensor, gamma: Option<&Tensor>, beta: Option<&Tensor>, axis: isize, epsilon: f64) -> Result<(Tensor, Tensor, Tensor)> {
    let x = to_float(x)?;
    let axis = normalize_axis("batch_norm", axis, x.ndim())?;
    let s = x.shape();
    let d = Dims { outer: s[..axis].iter().product(), c: s[axis], inner: s[axis + 1..].iter().product() };
    let cast = |t: Option<&Tensor>, name: &str| -> Result<Option<Tensor>> {
        match t {
            Some(t) if t.shape() != [d.c] => shape_err!("batch_norm", "{name} must have shape [{}] (the size of axis {axis}), received {:?}", d.c, t.shape()),
            Some(t) => Ok(Some(crate::ops::cast(t, x.dtype())?)),
            None => Ok(None),
        }
    };
    let (gamma, beta) = (cast(gamma, "gamma")?, cast(beta, "beta")?);
    let (out, mean, var) = crate::dispatch_float!(x.dtype(), "batch_norm", |T| {
        let xd = x.data::<T>()?;
        let shifts: Vec<T> = (0..d.c).map(|c| if d.count() > 0 { xd[c * d.inner] } else { T::zero() }).collect();
        let (s1, s2) = channel_sums(d, &xd, |_, c, v| {
            let u = (v - shifts[c]).to_f64();
            (u, u * u)
        });
        let m = d.count().max(1) as f64;
        let mean: Vec<f64> = (0..d.c).map(|c| shifts[c].to_f64() + s1[c] / m).collect();
        let var: Vec<f64> = (0..d.c).map(|c| (s2[c] / m - (s1[c] / m).powi(2)).max(0.0)).collect();
        let g = gamma.as_ref().map(|t| t.to_vec::<T>()).transpose()?;
        let b = beta.as_ref().map(|t| t.to_vec::<T>()).transpose()?;
        let scale: Vec<T> = (0..d.c).map(|c| T::c(1.0 / (var[c] + epsilon).sqrt()) * g.as_ref().map_or(T::one(), |g| g[c])).collect();
        let shift: Vec<T> = (0..d.c).map(|c| b.as_ref().map_or(T::zero(), |b| b[c]) - T::c(mean[c]) * scale[c]).collect();
        let out = Tensor::from_vec(scale_shift(d, &xd, &scale, &shift), s)?;
        let mean = Tensor::from_vec(mean.iter().map(|&v| T::c(v)).collect::<Vec<T>>(), &[d.c])?;
        let var = Tensor::from_vec(var.iter().map(|&v| T::c(v)).collect::<Vec<T>>(), &[d.c])?;
        (out, mean, var)
    });
    let mut inputs = vec![&x];
    inputs.extend(gamma.iter());
    inputs.extend(beta.iter());
    record(&inputs, &out, || {
        Arc::new(BatchNormBackward { x: x.clone(), gamma: gamma.clone(), has_beta: beta.is_some(), mean: mean.clone(), var: var.clone(), dims: d, epsilon })
    });
    Ok((out, mean, var))
}

struct BatchNormBackward {
    x: Tensor,
    gamma: Option<Tensor>,
    has_beta: bool,
    mean: Tensor,
    var: Tensor,
    dims: Dims,
    epsilon: f64,
}

impl BatchNormBackward {
    fn grads<T: Float>(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let d = self.dims;
        let g = if g.dtype() == T::DTYPE { g.clone() } else { crate::ops::cast(g, T::DTYPE)? };
        let (gd, xd) = (g.data::<T>()?, self.x.data::<T>()?);
        let mean = self.mean.to_vec::<T>()?;
        let inv: Vec<f64> = self.var.to_vec::<T>()?.iter().map(|&v| 1.0 / (v.to_f64() + self.epsilon).sqrt()).collect();
        let inv_t: Vec<T> = inv.iter().map(|&v| T::c(v)).collect();
        // Σdy and Σdy·x̂ per channel.
        let (sum_dy, sum_dy_xhat) = channel_sums(d, &xd, |i, c, v| {
            let dy = gd[i].to_f64();
            (dy, dy * ((v - mean[c]) * inv_t[c]).to_f64())
        });
        let gamma = self.gamma.as_ref().map(|t| t.to_vec::<T>()).transpose()?;
        let dx = grad_if(needs[0], || {
            let m = d.count().max(1) as f64;
            let scale: Vec<T> = (0..d.c).map(|c| inv_t[c] * gamma.as_ref().map_or(T::one(), |g| g[c])).collect();
            let a: Vec<T> = sum_dy.iter().map(|&s| T::c(s / m)).collect();
            let b: Vec<T> = sum_dy_xhat.iter().map(|&s| T::c(s / m)).collect();
            let mut dx = vec![T::zero(); xd.len()];
            let row = (d.c * d.inner).max(1);
            par_chunks_mut(&mut dx, d.block() * row, |start, chunk| {
                for_each_segment(d, start, chunk, |c, at, seg| {
                    for (j, v) in (at..).zip(seg.iter_mut()) {
                        let xhat = (xd[j] - mean[c]) * inv_t[c];
                        *v = scale[c] * (gd[j] - a[c] - xhat * b[c]);
                    }
                });
            });
            Tensor::from_vec(dx, self.x.shape())
        })?;
        let per_channel = |v: &[f64]| Tensor::from_vec(v.iter().map(|&s| T::c(s)).collect::<Vec<T>>(), &[d.c]);
        let mut out = vec![dx];
        let mut k = 1;
        if self.gamma.is_some() {
            out.push(grad_if(needs[k], || per_channel(&sum_dy_xhat))?);
            k += 1;
        }
        if self.has_beta {
            out.push(grad_if(needs[k], || per_channel(&sum_dy))?);
        }
        Ok(out)
    }
}

impl Backward for BatchNormBackward {
    fn name(&self) -> &'static str {
        "batch_norm"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        crate::dispatch_float!(self.x.dtype(), "batch_norm", |T| self.grads::<T>(g, needs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    #[test]
    fn batch_norm_matches_the_definition() {
        for axis in [-1isize, 1] {
            let x = rand64(&[4, 3, 5], 1);
            let (gamma, beta) = (rand64(&[if axis == 1 { 3 } else { 5 }], 2), rand64(&[if axis == 1 { 3 } else { 5 }], 3));
            let (y, mean, var) = batch_norm(&x, Some(&gamma), Some(&beta), axis, 1e-3).unwrap();
            let xv = vals(&x);
            let (yv, mv, vv, gv, bv) = (vals(&y), vals(&mean), vals(&var), vals(&gamma), vals(&beta));
            let chan = |i: usize| if axis == 1 { (i / 5) % 3 } else { i % 5 };
            let c = gv.len();
            for ch in 0..c {
                let sel: Vec<f64> = (0..xv.len()).filter(|&i| chan(i) == ch).map(|i| xv[i]).collect();
                let m = sel.iter().sum::<f64>() / sel.len() as f64;
                let v = sel.iter().map(|a| (a - m).powi(2)).sum::<f64>() / sel.len() as f64;
                assert!((mv[ch] - m).abs() < 1e-12 && (vv[ch] - v).abs() < 1e-12);
            }
            for i in 0..xv.len() {
                let ch = chan(i);
                let want = (xv[i] - mv[ch]) / (vv[ch] + 1e-3).sqrt() * gv[ch] + bv[ch];
                assert!((yv[i] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn batch_norm_gradients() {
        check_grads(|t| Ok(batch_norm(&t[0], Some(&t[1]), Some(&t[2]), -1, 1e-3)?.0), &[rand64(&[6, 3], 4), rand64(&[3], 5), rand64(&[3], 6)]);
        check_grads(|t| Ok(batch_norm(&t[0], Some(&t[1]), None, 1, 1e-3)?.0), &[rand64(&[2, 3, 4], 7), rand64(&[3], 8)]);
        check_grads(|t| Ok(batch_norm(&t[0], None, None, 0, 1e-3)?.0), &[rand64(&[3, 5], 9)]);
    }

    #[test]
    fn batch_norm_is_the_same_for_any_thread_count() {
        let x = rand64(&[700, 70], 10);
        let (g, b) = (rand64(&[70], 11), rand64(&[70], 12));
        assert_same_for_any_thread_count_and_simd_path(|| {
            let grads = analytic_grads(|t| Ok(batch_norm(&t[0], Some(&t[1]), Some(&t[2]), -1, 1e-3)?.0), &[x.clone(), g.clone(), b.clone()]);
            grads.iter().flat_map(vals).collect()
        });
    }

    #[test]
    fn wrong_parameter_shapes_are_errors() {
        let x = rand64(&[4, 3], 1);
        assert!(batch_norm(&x, Some(&rand64(&[4], 2)), None, -1, 1e-3).is_err());
        assert!(batch_norm(&x, None, None, 2, 1e-3).is_err());
    }
}
