//! `max_pool` / `avg_pool` over 1 to 3 spatial dimensions, channels last, with explicit
//! (before, after) padding. Windows reuse the convolution's geometry (`conv::for_each_tap`), so
//! padding and strides mean exactly what they mean there. As TensorFlow (and so Keras), padded
//! positions never win a max and do not count in an average.
//!
//! Each output row (batch element × output position) is a loop over the window's taps with an
//! inner loop over contiguous channels, which vectorizes; rows run in parallel. Max pooling keeps
//! the winning tap per output element when a tape records, and backward adds each gradient at
//! that tap; both backwards run one batch element per task (windows may overlap).

use std::sync::Arc;

use super::conv::{for_each_tap, geometry, line_spans, ConvSpec, Geom};
use crate::autograd::{is_recording, record, Backward};
use crate::error::Result;
use crate::ops::common::to_float;
use crate::runtime::par_chunks_mut;
use crate::tensor::{DType, Float, Tensor};
use crate::{multiversion, value_err};

// Channel-vector helpers, inlined into the multiversioned row kernels below (one dispatch per
// task, not one per pixel and tap: at batch 1 the calls were most of the cost).

/// max(acc, v) as pooling takes it: a NaN in v wins, as a max should.
#[inline(always)]
pub(super) fn max_step<T: Float>(acc: T, v: T) -> T {
    if v > acc || v.is_nan() {
        v
    } else {
        acc
    }
}

/// acc ← max(acc, x) elementwise (`max_step`).
#[inline(always)]
pub(super) fn max_into<T: Float>(acc: &mut [T], x: &[T]) {
    for (o, &v) in acc.iter_mut().zip(x) {
        *o = max_step(*o, v);
    }
}

/// acc ← max(acc, x) keeping the tap index of the winner.
#[inline(always)]
fn max_into_with_tap<T: Float>(acc: &mut [T], taps: &mut [u32], x: &[T], tap: u32) {
    for ((o, t), &v) in acc.iter_mut().zip(taps.iter_mut()).zip(x) {
        let win = v > *o || v != v;
        *o = if win { v } else { *o };
        *t = if win { tap } else { *t };
    }
}

/// d += g where this tap won the max (elementwise over channels).
#[inline(always)]
fn add_where_tap<T: Float>(d: &mut [T], g: &[T], win: &[u32], tap: u32) {
    for ((o, &v), &w) in d.iter_mut().zip(g).zip(win) {
        *o += if w == tap { v } else { T::zero() };
    }
}

/// d = g where this tap won the max, else 0 (windows that tile the input: `d` is this
/// element's only contribution).
#[inline(always)]
fn set_where_tap<T: Float>(d: &mut [T], g: &[T], win: &[u32], tap: u32) {
    for ((o, &v), &w) in d.iter_mut().zip(g).zip(win) {
        *o = if w == tap { v } else { T::zero() };
    }
}

/// acc += x elementwise.
#[inline(always)]
pub(super) fn add_into<T: Float>(acc: &mut [T], x: &[T]) {
    for (o, &v) in acc.iter_mut().zip(x) {
        *o += v;
    }
}

#[inline(always)]
fn add_scaled<T: Float>(acc: &mut [T], x: &[T], scale: T) {
    for (o, &v) in acc.iter_mut().zip(x) {
        *o += v * scale;
    }
}

multiversion! {
    /// Average pooling of the output rows starting at row `first` (`out` holds whole rows).
    fn average_rows[T: Float](x: &[T], g: &Geom, first: usize, out: &mut [T]) {
        let c = g.c;
        for (i, row) in out.chunks_mut(c).enumerate() {
            row.fill(T::zero());
            let mut count = 0usize;
            for_each_tap(g, first + i, |_, at| {
                if let Some(at) = at {
                    count += 1;
                    add_into(row, &x[at..at + c]);
                }
            });
            let scale = T::one() / T::from(count.max(1)).expect("count fits");
            row.iter_mut().for_each(|o| *o *= scale);
        }
    }
}

multiversion! {
    /// Max pooling of the output rows starting at row `first`, and (when `taps` is not empty)
    /// the winning tap of each output element. Works an output line at a time (`line_spans`),
    /// each span one plain loop; each element still sees its taps in order, so ties and NaNs
    /// resolve as in a per-pixel loop.
    fn max_rows[T: Float](x: &[T], g: &Geom, first: usize, out: &mut [T], taps: &mut [u32]) {
        let (c, n2) = (g.c, g.out[2].max(1));
        out.fill(T::neg_infinity());
        let end = first + out.len() / c.max(1);
        let mut spans = Vec::with_capacity(g.k.iter().product());
        let mut r = first;
        while r < end {
            let line_end = ((r / n2 + 1) * n2).min(end);
            line_spans(g, r, line_end, &mut spans);
            let line_start = r - r % n2;
            for (tap, ows, offset, step) in spans.iter().cloned() {
                for ow in ows {
                    let at = (offset + (ow * step) as isize) as usize;
                    let o = (line_start + ow - first) * c;
                    if taps.is_empty() {
                        max_into(&mut out[o..o + c], &x[at..at + c]);
                    } else {
                        max_into_with_tap(&mut out[o..o + c], &mut taps[o..o + c], &x[at..at + c], tap);
                    }
                }
            }
            r = line_end;
        }
    }
}

multiversion! {
    /// The input gradient of one sample (`dxs`, starting at element `first` of dx) from the
    /// output gradient `gd` (and, for max pooling, the winning taps), an output line at a time.
    /// `dxs` holds zeros, or anything when the windows tile the input (`tiles_input`): then
    /// each element is written once instead of accumulated.
    fn sample_grad[T: Float](g: &Geom, mode: PoolMode, gd: &[T], argmax: &[u32], first: usize, dxs: &mut [T]) {
        let tiled = tiles_input(g);
        let (c, n2) = (g.c, g.out[2].max(1));
        let (sample, positions) = (g.sample_len(), g.positions());
        let n = first / sample;
        let mut spans = Vec::with_capacity(g.k.iter().product());
        let mut counts = vec![0usize; if mode == PoolMode::Average { n2 } else { 0 }];
        for line_start in (n * positions..(n + 1) * positions).step_by(n2) {
            line_spans(g, line_start, line_start + n2, &mut spans);
            if mode == PoolMode::Average {
                // Windows clipped by the padding average over their inside taps only.
                counts.fill(0);
                for (_, ows, _, _) in spans.iter().cloned() {
                    ows.for_each(|ow| counts[ow] += 1);
                }
            }
            for (tap, ows, offset, step) in spans.iter().cloned() {
                for ow in ows {
                    let at = (offset + (ow * step) as isize) as usize - first;
                    let o = (line_start + ow) * c;
                    let gr = &gd[o..o + c];
                    let d = &mut dxs[at..at + c];
                    match (mode, tiled) {
                        (PoolMode::Max, false) => add_where_tap(d, gr, &argmax[o..o + c], tap),
                        (PoolMode::Max, true) => set_where_tap(d, gr, &argmax[o..o + c], tap),
                        (PoolMode::Average, false) => add_scaled(d, gr, T::one() / T::from(counts[ow]).expect("count fits")),
                        (PoolMode::Average, true) => {
                            let scale = T::one() / T::from(counts[ow]).expect("count fits");
                            d.iter_mut().zip(gr).for_each(|(o, &v)| *o = v * scale);
                        }
                    }
                }
            }
        }
    }
}

/// True when the windows cover every input element exactly once (strides = window, no padding,
/// sizes divisible: the usual 2×2 pooling of an even map), so the backward can write the input
/// gradient instead of zeroing it and accumulating.
fn tiles_input(g: &Geom) -> bool {
    (0..3).all(|d| g.stride[d] == g.k[d] && g.pad[d] == 0 && g.out[d] * g.k[d] == g.input[d])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    Max,
    Average,
}

/// Output rows per parallel task: about 16K output elements.
fn rows_per_task(c: usize) -> usize {
    ((1 << 14) / c.max(1)).max(1)
}

pub fn pool(x: &Tensor, pool_size: &[usize], strides: &[usize], padding: &[(usize, usize)], mode: PoolMode) -> Result<Tensor> {
    let op = if mode == PoolMode::Max { "max_pool" } else { "average_pool" };
    if pool_size.contains(&0) {
        return value_err!(op, "pool_size must be positive, received {pool_size:?}");
    }
    let x = to_float(x)?;
    let c = *x.shape().last().unwrap_or(&0);
    let mut window = pool_size.to_vec();
    window.extend([1, c]);
    let spec = ConvSpec { strides: strides.to_vec(), dilation: vec![1; pool_size.len()], padding: padding.to_vec(), groups: c.max(1) };
    if x.ndim() != pool_size.len() + 2 {
        return value_err!(op, "expected an input of rank {} (batch, *spatial, channels) for pool_size {pool_size:?}, received shape {:?}", pool_size.len() + 2, x.shape());
    }
    // As a depthwise geometry (one channel per group), so each tap's offset addresses channel 0.
    let mut g = geometry(op, x.shape(), &window, &spec)?;
    g.groups = 1;
    g.o = c;
    let nd = pool_size.len();
    let mut out_shape = vec![g.n];
    out_shape.extend_from_slice(&g.out[3 - nd..]);
    out_shape.push(c);
    let keep_argmax = mode == PoolMode::Max && is_recording();
    let (out, argmax) = crate::dispatch_float!(x.dtype(), op, |T| {
        let (out, argmax) = forward::<T>(&x.data::<T>()?, &g, mode, keep_argmax);
        (Tensor::from_vec(out, &out_shape)?, argmax)
    });
    record(&[&x], &out, || Arc::new(PoolBackward { dtype: x.dtype(), input_shape: x.shape().to_vec(), geom: g, mode, argmax }));
    Ok(out)
}

fn forward<T: Float>(x: &[T], g: &Geom, mode: PoolMode, keep_argmax: bool) -> (Vec<T>, Vec<u32>) {
    let c = g.c;
    // Every row is filled by its task (zeros, or -inf, first).
    let mut out = crate::tensor::uninit_vec::<T>(g.rows() * c);
    let mut argmax = vec![0u32; if keep_argmax { out.len() } else { 0 }];
    if out.is_empty() {
        return (out, argmax);
    }
    let chunk = rows_per_task(c) * c;
    match mode {
        PoolMode::Average => par_chunks_mut(&mut out, chunk, |start, rows| average_rows(x, g, start / c, rows)),
        PoolMode::Max if !keep_argmax => par_chunks_mut(&mut out, chunk, |start, rows| max_rows(x, g, start / c, rows, &mut [])),
        PoolMode::Max => {
            // Output and winning taps: one task fills both for its rows (same chunking).
            let argmax_chunks = std::sync::Mutex::new(argmax.chunks_mut(chunk).map(Some).collect::<Vec<_>>());
            par_chunks_mut(&mut out, chunk, |start, rows| {
                let taps = argmax_chunks.lock().unwrap_or_else(|e| e.into_inner())[start / chunk].take().expect("each chunk once");
                max_rows(x, g, start / c, rows, taps);
            });
        }
    }
    (out, argmax)
}

struct PoolBackward {
    dtype: DType,
    input_shape: Vec<usize>,
    geom: Geom,
    mode: PoolMode,
    argmax: Vec<u32>,
}

impl PoolBackward {
    fn grads<T: Float>(&self, grad: &Tensor) -> Result<Tensor> {
        let g = &self.geom;
        let grad = if grad.dtype() == T::DTYPE { grad.clone() } else { crate::ops::cast(grad, T::DTYPE)? };
        let gd = grad.data::<T>()?;
        let sample = g.sample_len();
        // Zeroed by each sample's task right before its scatter (in parallel, and cache-warm),
        // or, when the windows tile the input, written once by it.
        let mut dx = crate::tensor::uninit_vec::<T>(self.input_shape.iter().product());
        if sample > 0 {
            let tiled = tiles_input(g);
            par_chunks_mut(&mut dx, sample, |first, dxs| {
                if !tiled {
                    dxs.fill(T::zero());
                }
                sample_grad(g, self.mode, &gd, &self.argmax, first, dxs)
            });
        }
        Tensor::from_vec(dx, &self.input_shape)
    }
}

impl Backward for PoolBackward {
    fn name(&self) -> &'static str {
        if self.mode == PoolMode::Max {
            "max_pool"
        } else {
            "average_pool"
        }
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        if !needs[0] {
            return Ok(vec![None]);
        }
        Ok(vec![Some(crate::dispatch_float!(self.dtype, self.name(), |T| self.grads::<T>(g)?))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    /// Direct 2-D pooling by definition.
    fn naive2d(x: &Tensor, k: usize, s: usize, pad: (usize, usize), mode: PoolMode) -> Vec<f64> {
        let xs = x.shape();
        let (n, h, w, c) = (xs[0], xs[1], xs[2], xs[3]);
        let xv = vals(x);
        let oh = (h + pad.0 + pad.1 - k) / s + 1;
        let ow = (w + pad.0 + pad.1 - k) / s + 1;
        let mut out = Vec::new();
        for b in 0..n {
            for i in 0..oh {
                for j in 0..ow {
                    for ch in 0..c {
                        let mut vs = Vec::new();
                        for a in 0..k {
                            for bb in 0..k {
                                let (y, xx) = ((i * s + a) as isize - pad.0 as isize, (j * s + bb) as isize - pad.0 as isize);
                                if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                    vs.push(xv[((b * h + y as usize) * w + xx as usize) * c + ch]);
                                }
                            }
                        }
                        out.push(match mode {
                            PoolMode::Max => vs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                            PoolMode::Average => vs.iter().sum::<f64>() / vs.len() as f64,
                        });
                    }
                }
            }
        }
        out
    }

    #[test]
    fn pool2d_matches_the_definition() {
        let x = rand64(&[2, 7, 6, 3], 1);
        for mode in [PoolMode::Max, PoolMode::Average] {
            for (k, s, pad) in [(2, 2, (0, 0)), (3, 1, (1, 1)), (3, 2, (0, 1)), (2, 3, (0, 1))] {
                let got = vals(&pool(&x, &[k, k], &[s, s], &[pad, pad], mode).unwrap());
                let want = naive2d(&x, k, s, pad, mode);
                assert_eq!(got.len(), want.len());
                for (a, b) in got.iter().zip(&want) {
                    assert!((a - b).abs() < 1e-12, "{mode:?} {k} {s} {pad:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn pool_gradients() {
        for mode in [PoolMode::Max, PoolMode::Average] {
            check_grads(|t| pool(&t[0], &[3], &[2], &[(1, 1)], mode), &[rand64(&[2, 7, 3], 2)]);
            check_grads(|t| pool(&t[0], &[2, 3], &[1, 2], &[(0, 1), (1, 1)], mode), &[rand64(&[2, 5, 6, 2], 3)]);
            check_grads(|t| pool(&t[0], &[2, 2, 2], &[2, 2, 2], &[(0, 0); 3], mode), &[rand64(&[1, 4, 4, 4, 2], 4)]);
            // Windows tiling the input (the gradient is written, not accumulated) and the same
            // windows leaving a remainder row and column uncovered (zero gradient there).
            check_grads(|t| pool(&t[0], &[2, 3], &[2, 3], &[(0, 0); 2], mode), &[rand64(&[2, 4, 6, 3], 5)]);
            check_grads(|t| pool(&t[0], &[2, 3], &[2, 3], &[(0, 0); 2], mode), &[rand64(&[2, 5, 7, 3], 6)]);
        }
    }

    #[test]
    fn pool_is_the_same_for_any_thread_count() {
        let x = rand64(&[6, 11, 10, 5], 5);
        for mode in [PoolMode::Max, PoolMode::Average] {
            assert_same_for_any_thread_count_and_simd_path(|| {
                let grads = analytic_grads(|t| pool(&t[0], &[3, 3], &[1, 1], &[(1, 1), (1, 1)], mode), &[x.clone()]);
                grads.iter().flat_map(vals).collect()
            });
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        let x = rand64(&[1, 4, 4, 2], 1);
        assert!(pool(&x, &[5, 5], &[1, 1], &[(0, 0), (0, 0)], PoolMode::Max).is_err());
        assert!(pool(&x, &[0, 2], &[1, 1], &[(0, 0), (0, 0)], PoolMode::Max).is_err());
        assert!(pool(&x, &[2, 2], &[0, 1], &[(0, 0), (0, 0)], PoolMode::Max).is_err());
        assert!(pool(&x, &[2], &[1], &[(0, 0)], PoolMode::Average).is_err());
    }
}
