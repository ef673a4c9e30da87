//! `conv(x, kernel, bias, spec, activation)`: convolution over 1 to 3 spatial dimensions in
//! channels-last layout — x (batch, *spatial, channels), kernel (*kernel_size, channels/groups,
//! filters) as Keras stores it — with bias and activation fused into the output pass.
//!
//! Forward: output rows (one per batch element and output position) are cut into tiles; each
//! tile gathers its input windows into a small im2col scratch buffer (reused per thread; tap-major
//! for one channel per group) and multiplies it by the kernel with one single-threaded gemm per
//! group, or with the register-blocked narrow kernel when a row has at most 16 values (which
//! reads the windows straight from the input when none reaches into the padding); tiles run
//! in parallel. Pointwise convolutions (1×…×1 kernel, stride 1, no padding, one group) are one
//! gemm; f32 3×3 stride-1 convolutions over enough tiles take Winograd F(2×2, 3×3) (`winograd`).
//! `conv_max_pool` (inference) pools each tile's lines as soon as they are computed, and the
//! narrow kernel pools its register tiles before storing anything.
//! Backward (one node): dz from the saved output, computed per tile right before use; dbias and
//! dkernel = Σ colᵀ·dz over fixed row blocks (partials added in order: the same for any thread
//! count), and dx = col2im(dz·kernelᵀ), one batch element per task so no two tasks touch the
//! same dx.

use std::cell::RefCell;
use std::sync::Arc;

use super::dense::{add_rows, column_sums, epilogue, pre_activation_grad, rows_activation_grad, rows_per_chunk, Activation};
use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::gemm::{gemm, Mat};
use crate::kernels::transpose::transposed;
use crate::ops::common::{grad_if, promote_float, to_float};
use crate::runtime::{par_chunks_mut, par_ranges};
use crate::tensor::{uninit_vec, Float, Tensor};
use crate::{multiversion, shape_err, value_err};

/// Strides, dilation, explicit (before, after) zero padding and groups, one entry per spatial dim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvSpec {
    pub strides: Vec<usize>,
    pub dilation: Vec<usize>,
    pub padding: Vec<(usize, usize)>,
    pub groups: usize,
}

/// Keras's `padding` argument of convolutions and pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Valid,
    /// TensorFlow's rule: the output has ceil(size / stride) positions, the extra padded
    /// pixel goes after (right / bottom).
    Same,
    /// Only before (the start of a 1-D sequence): outputs never see later steps.
    Causal,
}

impl Padding {
    pub fn parse(name: &str) -> Option<Padding> {
        match name {
            "valid" => Some(Padding::Valid),
            "same" => Some(Padding::Same),
            "causal" => Some(Padding::Causal),
            _ => None,
        }
    }
}

/// (before, after) zero padding per spatial dim for `padding` (the explicit form `conv` and
/// `pool` take).
pub fn explicit_padding(spatial: &[usize], kernel: &[usize], strides: &[usize], dilation: &[usize], padding: Padding) -> Vec<(usize, usize)> {
    spatial
        .iter()
        .zip(kernel)
        .zip(strides.iter().zip(dilation))
        .map(|((&size, &k), (&s, &d))| {
            let span = (k.max(1) - 1) * d + 1;
            match padding {
                Padding::Valid => (0, 0),
                Padding::Same => {
                    let (size, s) = (size as isize, s.max(1) as isize);
                    let out = (size + s - 1) / s;
                    let total = ((out - 1) * s + span as isize - size).max(0) as usize;
                    (total / 2, total - total / 2)
                }
                Padding::Causal => (span - 1, 0),
            }
        })
        .collect()
}

/// The shape of one convolution with the spatial dims padded to three (leading 1s).
#[derive(Clone, Copy, Debug)]
pub(super) struct Geom {
    pub n: usize,
    pub input: [usize; 3],
    pub c: usize,
    pub k: [usize; 3],
    pub out: [usize; 3],
    pub o: usize,
    pub stride: [usize; 3],
    pub dil: [usize; 3],
    pub pad: [usize; 3],
    pub groups: usize,
}

impl Geom {
    fn cg(&self) -> usize {
        self.c / self.groups
    }
    fn og(&self) -> usize {
        self.o / self.groups
    }
    /// Width of one im2col row (one group): taps × channels per group.
    fn width(&self) -> usize {
        self.k.iter().product::<usize>() * self.cg()
    }
    pub(super) fn positions(&self) -> usize {
        self.out.iter().product()
    }
    pub(super) fn rows(&self) -> usize {
        self.n * self.positions()
    }
    pub(super) fn sample_len(&self) -> usize {
        self.input.iter().product::<usize>() * self.c
    }
    /// Few input values per output (e.g. a first layer on one channel): direct loops beat
    /// im2col + gemm, whose overheads dominate a product this thin.
    fn is_narrow(&self) -> bool {
        self.groups == 1 && self.width() <= 16
    }
    /// True when every window lies inside the input (no tap ever falls into padding).
    fn windows_inside(&self) -> bool {
        (0..3).all(|d| self.pad[d] == 0 && self.out[d].saturating_sub(1) * self.stride[d] + (self.k[d] - 1) * self.dil[d] < self.input[d])
    }
    fn is_pointwise(&self) -> bool {
        self.groups == 1 && self.k == [1, 1, 1] && self.stride == [1, 1, 1] && self.pad == [0, 0, 0]
    }
    /// Rows per im2col tile: a scratch buffer of about 128 KiB of f32, and at least 8 tiles when
    /// there are enough rows, so both cores get work even for a single image. Depends on the
    /// shapes only (never on the thread count), so results do not either.
    fn tile_rows(&self) -> usize {
        let by_cache = (32768 / self.width().max(1)).clamp(16, 1024);
        let by_count = self.rows().div_ceil(8).div_ceil(8) * 8;
        by_cache.min(by_count.max(8))
    }
}

/// Compute the geometry from shapes, checking every argument the way a layer user needs to see.
pub(super) fn geometry(op: &str, x: &[usize], kernel: &[usize], spec: &ConvSpec) -> Result<Geom> {
    let nd = x.len().saturating_sub(2);
    if !(1..=3).contains(&nd) {
        return value_err!(op, "expected an input of rank 3 to 5 (batch, *spatial, channels), received shape {x:?}");
    }
    if kernel.len() != x.len() {
        return value_err!(op, "the kernel must have rank {} (*kernel_size, in_channels / groups, filters) for an input of rank {}, received kernel shape {kernel:?}", x.len(), x.len());
    }
    if spec.strides.len() != nd || spec.dilation.len() != nd || spec.padding.len() != nd {
        return value_err!(op, "strides, dilation_rate and padding need {nd} entries each, received {:?}, {:?}, {:?}", spec.strides, spec.dilation, spec.padding);
    }
    if spec.strides.contains(&0) || spec.dilation.contains(&0) {
        return value_err!(op, "strides and dilation_rate must be positive, received strides={:?} dilation_rate={:?}", spec.strides, spec.dilation);
    }
    let groups = spec.groups;
    let (c, o, cg) = (x[nd + 1], kernel[nd + 1], kernel[nd]);
    if groups == 0 || cg * groups != c || o % groups != 0 {
        return shape_err!(op, "with groups={groups}, the kernel's input channels ({cg}) times groups must equal the input channels ({c}) and the filters ({o}) must be divisible by groups; received input shape {x:?} and kernel shape {kernel:?}");
    }
    let lead = 3 - nd;
    let mut g = Geom { n: x[0], input: [1; 3], c, k: [1; 3], out: [1; 3], o, stride: [1; 3], dil: [1; 3], pad: [0; 3], groups };
    for d in 0..nd {
        let (i, k) = (x[1 + d], kernel[d]);
        let (before, after) = spec.padding[d];
        let span = (k.max(1) - 1) * spec.dilation[d] + 1;
        if k == 0 || i + before + after < span {
            return value_err!(op, "the kernel (size {k}, dilation {}) is larger than the padded input along spatial dim {d} (size {i} + padding {before}+{after}); input shape {x:?}, kernel shape {kernel:?}", spec.dilation[d]);
        }
        g.input[lead + d] = i;
        g.k[lead + d] = k;
        g.stride[lead + d] = spec.strides[d];
        g.dil[lead + d] = spec.dilation[d];
        g.pad[lead + d] = before;
        g.out[lead + d] = (i + before + after - span) / spec.strides[d] + 1;
    }
    Ok(g)
}


/// Call `f(tap, ows, offset, step)` for each kernel tap over output rows `r0..r1`, which lie on
/// one output line (same batch element and leading output coordinates): `ows` are the
/// last-axis output positions whose input for this tap is inside the (unpadded) input, and the
/// tap's first channel for position `ow` is at `offset + ow·step`. Per-tap work is index
/// arithmetic once per line instead of once per output row.
#[inline(always)]
pub(super) fn for_each_tap_span(g: &Geom, r0: usize, r1: usize, mut f: impl FnMut(usize, std::ops::Range<usize>, isize, usize)) {
    let (n2, p) = (g.out[2], g.positions());
    let line = r0 / n2;
    let (ow0, ow1) = (r0 % n2, r0 % n2 + (r1 - r0));
    let (n, q) = (line * n2 / p, (line * n2) % p);
    let o1 = (q / n2) % g.out[1];
    let o0 = q / (n2 * g.out[1]);
    let base = (n * g.sample_len()) as isize;
    let c = g.c as isize;
    let (s2, d2, p2, in2) = (g.stride[2] as isize, g.dil[2] as isize, g.pad[2] as isize, g.input[2] as isize);
    let mut tap = 0;
    for a in 0..g.k[0] {
        let i0 = (o0 * g.stride[0] + a * g.dil[0]) as isize - g.pad[0] as isize;
        for b in 0..g.k[1] {
            let i1 = (o1 * g.stride[1] + b * g.dil[1]) as isize - g.pad[1] as isize;
            let row_ok = i0 >= 0 && i1 >= 0 && i0 < g.input[0] as isize && i1 < g.input[1] as isize;
            for k2 in 0..g.k[2] as isize {
                if row_ok {
                    // i2 = ow·s2 + k2·d2 − p2 must lie in [0, in2).
                    let shift = k2 * d2 - p2;
                    let lo = if shift >= 0 { 0 } else { (-shift + s2 - 1) / s2 };
                    let hi = if in2 - 1 - shift < 0 { 0 } else { (in2 - 1 - shift) / s2 + 1 };
                    let (lo, hi) = ((lo as usize).max(ow0), (hi as usize).min(ow1));
                    if lo < hi {
                        let offset = base + ((i0 * g.input[1] as isize + i1) * in2 + shift) * c;
                        f(tap, lo..hi, offset, (s2 * c) as usize);
                    }
                }
                tap += 1;
            }
        }
    }
}

/// A tap's span over one output line: (tap index, output positions on the line, input offset
/// of the first channel at position 0, input step per position) — see `for_each_tap_span`.
pub(super) type Span = (u32, std::ops::Range<usize>, isize, usize);

/// Lists in `spans` the taps' spans over output rows `r..line_end` (within one output line):
/// the index arithmetic, divisions included, once per line instead of once per pixel. Kernels
/// then loop over the list: a closure doing their work inside `for_each_tap_span` would not be
/// inlined into the SIMD builds.
#[inline(always)]
pub(super) fn line_spans(g: &Geom, r: usize, line_end: usize, spans: &mut Vec<Span>) {
    spans.clear();
    for_each_tap_span(g, r, line_end, |tap, ows, offset, step| spans.push((tap as u32, ows, offset, step)));
}

/// dst ← src for a short run (a pixel's channels, a tap's line of one channel): fixed 16-element
/// blocks compile to vector moves (a `copy_from_slice` of a run-time length is a `memcpy` call).
#[inline(always)]
pub(super) fn copy_channels<T: Copy>(dst: &mut [T], src: &[T]) {
    let n = dst.len();
    let mut i = 0;
    while i + 16 <= n {
        dst[i..i + 16].copy_from_slice(&src[i..i + 16]);
        i += 16;
    }
    for j in i..n {
        dst[j] = src[j];
    }
}

/// Where `narrow_rows` reads its inputs: value (row i, tap t) is `values[rows[i] + taps[t]]`:
/// the input itself (`rows`: each output's window origin, `taps`: offsets within a window) when
/// every window is inside it, else a tap-major im2col matrix (see `im2col_t`).
struct NarrowSource<'a, T> {
    values: &'a [T],
    rows: Vec<usize>,
    taps: std::borrow::Cow<'a, [usize]>,
}

/// Input offset of the first tap's first channel of each output row's window (windows inside
/// the input), counted along the rows without a division per row.
fn window_origins(g: &Geom, rows: std::ops::Range<usize>) -> Vec<usize> {
    let (in1, in2) = (g.input[1], g.input[2]);
    let p = g.positions();
    let (mut n, q) = (rows.start / p, rows.start % p);
    let (mut o0, mut o1, mut o2) = (q / (g.out[1] * g.out[2]), (q / g.out[2]) % g.out[1], q % g.out[2]);
    let sample = g.sample_len();
    let mut origins = Vec::with_capacity(rows.len());
    for _ in rows {
        origins.push(n * sample + ((o0 * g.stride[0] * in1 + o1 * g.stride[1]) * in2 + o2 * g.stride[2]) * g.c);
        o2 += 1;
        if o2 == g.out[2] {
            o2 = 0;
            o1 += 1;
            if o1 == g.out[1] {
                o1 = 0;
                o0 += 1;
                if o0 == g.out[0] {
                    o0 = 0;
                    n += 1;
                }
            }
        }
    }
    origins
}

/// `window_origins` of the convolution outputs that pooled lines `lines` (of `q1` per sample,
/// `q2` positions each) take their max over, window by window: p1 × p2 positions, stride = window,
/// in the order `pool` visits them.
fn pooled_window_origins(g: &Geom, p1: usize, p2: usize, q1: usize, q2: usize, lines: std::ops::Range<usize>) -> Vec<usize> {
    // Input offsets of one output line down and one output position along.
    let (down, along, sample) = (g.stride[1] * g.input[2] * g.c, g.stride[2] * g.c, g.sample_len());
    let mut origins = Vec::with_capacity(lines.len() * q2 * p1 * p2);
    for line in lines {
        let first = (line / q1) * sample + (line % q1) * p1 * down;
        for j in 0..q2 {
            let window = first + j * p2 * along;
            for a in 0..p1 {
                origins.extend((0..p2).map(|b| window + a * down + b * along));
            }
        }
    }
    origins
}

/// Offset of each tap (kernel position, then channel: the kernel's row order) from its window's
/// origin, for one group.
fn tap_offsets(g: &Geom) -> Vec<usize> {
    let (in1, in2, cg) = (g.input[1], g.input[2], g.cg());
    let mut taps = Vec::with_capacity(g.width());
    for k0 in 0..g.k[0] {
        for k1 in 0..g.k[1] {
            for k2 in 0..g.k[2] {
                let at = ((k0 * g.dil[0] * in1 + k1 * g.dil[1]) * in2 + k2 * g.dil[2]) * g.c;
                taps.extend((0..cg).map(|ch| at + ch));
            }
        }
    }
    taps
}

/// `out[i] = relu?(row i of the source · w + bias)` for a narrow convolution (at most 16 taps ×
/// channels, see `Geom::is_narrow`), where the gemm crate's blocking costs more than the
/// product; with `win` > 1 (2 or 4) each output row is the max (`pool::max_step`, in row order)
/// of `win` consecutive rows: a max pooling whose windows' positions the source lists in order.
/// The accumulators of a tile of rows stay in registers across the few taps (accumulating in
/// the output rows instead stalls on store-to-load forwarding at every tap). f32 sums take one
/// fused multiply-add per tap in every path (`mul_add` in the scalar one), so all paths give the
/// same bits; f64 has only the scalar path and keeps separate roundings (a software `fma` would
/// be slow). The bias is added after the sum and relu keeps NaN, as the epilogue does.
fn narrow_rows<T: Float>(src: &NarrowSource<'_, T>, w: &[T], o: usize, out: &mut [T], bias: &[T], relu: bool, win: usize) {
    assert!(matches!(win, 1 | 2 | 4), "narrow conv: pooling windows of 1, 2 or 4 positions");
    let rows = out.len() / o.max(1) * win;
    let width = src.taps.len();
    let reach = src.rows.iter().max().copied().unwrap_or(0) + src.taps.iter().max().copied().unwrap_or(0);
    assert!(src.rows.len() >= rows && (rows == 0 || width == 0 || reach < src.values.len()) && w.len() >= width * o && (bias.is_empty() || bias.len() >= o), "narrow conv: buffers too short");
    #[cfg(target_arch = "x86_64")]
    if std::mem::size_of::<T>() == 4 && crate::runtime::simd::avx2() {
        let bias = if bias.is_empty() { None } else { Some(bias.as_ptr().cast::<f32>()) };
        // SAFETY: T is f32 (4 bytes, Float); every value read is inside `src.values` and the
        // other sizes were checked above; the CPU has AVX2+FMA (and AVX-512 when `avx512()`).
        unsafe {
            let (v, w, out) = (src.values.as_ptr().cast::<f32>(), w.as_ptr().cast::<f32>(), out.as_mut_ptr().cast::<f32>());
            if crate::runtime::simd::avx512() {
                narrow_avx512(v, src.rows.as_ptr(), rows, src.taps.as_ptr(), width, w, o, out, bias, relu, win);
            } else {
                narrow_avx2(v, src.rows.as_ptr(), rows, src.taps.as_ptr(), width, w, o, out, bias, relu, win);
            }
        }
        return;
    }
    for (q, row) in out.chunks_exact_mut(o).enumerate() {
        for (j, y) in row.iter_mut().enumerate() {
            let mut best = T::neg_infinity();
            for i in q * win..(q + 1) * win {
                let mut acc = T::zero();
                for (t, &tap) in src.taps.iter().enumerate() {
                    let v = src.values[src.rows[i] + tap];
                    if std::mem::size_of::<T>() == 4 {
                        acc = v.mul_add(w[t * o + j], acc);
                    } else {
                        acc += v * w[t * o + j];
                    }
                }
                if !bias.is_empty() {
                    acc += bias[j];
                }
                if relu && acc < T::zero() {
                    acc = T::zero();
                }
                best = super::pool::max_step(best, acc);
            }
            *y = best;
        }
    }
}

/// The vector paths of `narrow_rows`, written once over a lane type: tiles of `R` rows × `J`
/// vectors of outputs, so each tap's weights are loaded once per tile and `R·J` independent sums
/// hide the add latency (a tile of 4 rows × 1 vector was bound by its 4 dependent chains).
/// `$max_step(m, v)`: `pool::max_step` on vectors (v where v > m or v is NaN, else m).
#[cfg(target_arch = "x86_64")]
macro_rules! narrow_kernel {
    ($name:ident, $feature:literal, $lanes:expr, $rows:expr, $vec:ty, $zero:expr, $set1:path, $load:path, $store:path, $fma:path, $add:path, $max:path, $max_step:expr, $mask_load:expr, $mask_store:expr) => {
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $name(src: *const f32, row_at: *const usize, rows: usize, tap_at: *const usize, width: usize, w: *const f32, o: usize, out: *mut f32, bias: Option<*const f32>, relu: bool, win: usize) {
            /// Rows `i..i + R` (whole pooling windows of `win` rows), output vectors starting at
            /// column `j` (the last may be partial).
            #[inline(always)]
            unsafe fn tile<const R: usize, const J: usize>(src: *const f32, row_at: *const usize, tap_at: *const usize, width: usize, w: *const f32, o: usize, out: *mut f32, bias: Option<*const f32>, relu: bool, win: usize, i: usize, j: usize) {
                let lanes: [usize; J] = std::array::from_fn(|v| (o - j - v * $lanes).min($lanes));
                let load = |p: *const f32, lanes: usize| if lanes == $lanes { $load(p) } else { $mask_load(p, lanes) };
                let starts: [*const f32; R] = std::array::from_fn(|r| src.add(*row_at.add(i + r)));
                let mut acc = [[$zero; J]; R];
                for t in 0..width {
                    let wv: [$vec; J] = std::array::from_fn(|v| load(w.add(t * o + j + v * $lanes), lanes[v]));
                    let tap = *tap_at.add(t);
                    for r in 0..R {
                        let a = $set1(*starts[r].add(tap));
                        for v in 0..J {
                            acc[r][v] = $fma(a, wv[v], acc[r][v]);
                        }
                    }
                }
                for v in 0..J {
                    let col_j = j + v * $lanes;
                    // Bias, then max(0, v), which returns v when v is NaN, like the epilogue's
                    // `if v < 0 { v = 0 }`.
                    let b = bias.map(|b| load(b.add(col_j), lanes[v]));
                    let mut r = 0;
                    while r < R {
                        let mut best = $zero;
                        for k in 0..win {
                            let mut y = acc[r + k][v];
                            if let Some(b) = b {
                                y = $add(y, b);
                            }
                            if relu {
                                y = $max($zero, y);
                            }
                            // The first of a window is its running max (max_step(-inf, y) = y).
                            best = if k == 0 { y } else { $max_step(best, y) };
                        }
                        let dst = out.add((i + r) / win * o + col_j);
                        if lanes[v] == $lanes {
                            $store(dst, best);
                        } else {
                            $mask_store(dst, best, lanes[v]);
                        }
                        r += win;
                    }
                }
            }
            let mut j = 0;
            while j < o {
                let two = o - j > $lanes;
                let mut i = 0;
                while i + $rows <= rows {
                    if two {
                        tile::<{ $rows }, 2>(src, row_at, tap_at, width, w, o, out, bias, relu, win, i, j);
                    } else {
                        tile::<{ $rows }, 1>(src, row_at, tap_at, width, w, o, out, bias, relu, win, i, j);
                    }
                    i += $rows;
                }
                // Row tiles of 4 before smaller ones (a 52-row task of the fused conv+pool has 4
                // left); rows come in whole windows, so 2-row tiles for windows of 2, then single
                // rows (windows of 1).
                while $rows > 4 && i + 4 <= rows {
                    if two {
                        tile::<4, 2>(src, row_at, tap_at, width, w, o, out, bias, relu, win, i, j);
                    } else {
                        tile::<4, 1>(src, row_at, tap_at, width, w, o, out, bias, relu, win, i, j);
                    }
                    i += 4;
                }
                while win <= 2 && i + 2 <= rows {
                    if two {
                        tile::<2, 2>(src, row_at, tap_at, width, w, o, out, bias, relu, win, i, j);
                    } else {
                        tile::<2, 1>(src, row_at, tap_at, width, w, o, out, bias, relu, win, i, j);
                    }
                    i += 2;
                }
                for i in i..rows {
                    if two {
                        tile::<1, 2>(src, row_at, tap_at, width, w, o, out, bias, relu, win, i, j);
                    } else {
                        tile::<1, 1>(src, row_at, tap_at, width, w, o, out, bias, relu, win, i, j);
                    }
                }
                j += if two { 2 * $lanes } else { $lanes };
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

#[cfg(target_arch = "x86_64")]
narrow_kernel!(
    narrow_avx512,
    "avx512f,avx2,fma",
    16,
    8,
    __m512,
    _mm512_setzero_ps(),
    _mm512_set1_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_max_ps,
    |m, v| _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, m) | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v), m, v),
    crate::runtime::simd::load_tail16,
    crate::runtime::simd::store_tail16
);

#[cfg(target_arch = "x86_64")]
narrow_kernel!(
    narrow_avx2,
    "avx2,fma",
    8,
    4,
    __m256,
    _mm256_setzero_ps(),
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_max_ps,
    |m, v| _mm256_blendv_ps(m, v, _mm256_or_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(v, m), _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v))),
    crate::runtime::simd::load_tail8,
    crate::runtime::simd::store_tail8
);

thread_local! {
    // Per-thread scratch, kept between calls (u64 so it is aligned for f32 and f64).
    static SCRATCH: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on a zero-length-agnostic scratch slice of `len` elements owned by this thread.
pub(super) fn with_scratch<T: Float, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    SCRATCH.with(|cell| {
        let mut buf = cell.borrow_mut();
        let words = (len * std::mem::size_of::<T>()).div_ceil(8);
        if buf.len() < words {
            buf.resize(words, 0);
        }
        // SAFETY: T is f32 or f64 (any bit pattern is a valid value), the buffer holds at least
        // `len` of them and is 8-aligned; the RefCell borrow keeps the slice unique.
        let slice = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut T, len) };
        f(slice)
    })
}

/// Call `f(tap, input_offset)` for each kernel tap of output row `r`: `input_offset` is the
/// index of that tap's first channel in `x` (or None where the tap falls into the padding).
#[inline(always)]
pub(super) fn for_each_tap(g: &Geom, r: usize, mut f: impl FnMut(usize, Option<usize>)) {
    let p = g.positions();
    let (n, q) = (r / p, r % p);
    let o2 = q % g.out[2];
    let o1 = (q / g.out[2]) % g.out[1];
    let o0 = q / (g.out[2] * g.out[1]);
    let origin = |o: usize, d: usize| (o * g.stride[d]) as isize - g.pad[d] as isize;
    let (b0, b1, b2) = (origin(o0, 0), origin(o1, 1), origin(o2, 2));
    let base = n * g.sample_len();
    let mut tap = 0;
    for a in 0..g.k[0] {
        let i0 = b0 + (a * g.dil[0]) as isize;
        for b in 0..g.k[1] {
            let i1 = b1 + (b * g.dil[1]) as isize;
            for c in 0..g.k[2] {
                let i2 = b2 + (c * g.dil[2]) as isize;
                let inside = i0 >= 0 && i1 >= 0 && i2 >= 0 && (i0 as usize) < g.input[0] && (i1 as usize) < g.input[1] && (i2 as usize) < g.input[2];
                let at = inside.then(|| base + (((i0 as usize) * g.input[1] + i1 as usize) * g.input[2] + i2 as usize) * g.c);
                f(tap, at);
                tap += 1;
            }
        }
    }
}

multiversion! {
    /// Gather the input windows of rows `rows` (group `grp`) into `col`, one row of `width` each.
    /// Walks each output line once per tap (`line_spans`), so the index arithmetic is per line,
    /// not per element; positions whose tap falls into the padding stay zero.
    fn im2col[T: Float](x: &[T], g: &Geom, rows: std::ops::Range<usize>, grp: usize, col: &mut [T]) {
        let (cg, width, n2) = (g.cg(), g.width(), g.out[2].max(1));
        let r0 = rows.start;
        if !g.windows_inside() {
            col[..rows.len() * width].fill(T::zero());
        }
        let mut spans = Vec::with_capacity(g.k.iter().product());
        let mut s0 = rows.start;
        while s0 < rows.end {
            let s1 = ((s0 / n2 + 1) * n2).min(rows.end);
            line_spans(g, s0, s1, &mut spans);
            let line_start = s0 - s0 % n2;
            for (tap, ows, offset, step) in spans.iter().cloned() {
                let tap = tap as usize;
                if cg == 1 {
                    // One channel: a strided gather.
                    for ow in ows {
                        col[(line_start + ow - r0) * width + tap] = x[(offset + (ow * step) as isize) as usize + grp];
                    }
                    continue;
                }
                for ow in ows {
                    let src = (offset + (ow * step) as isize) as usize + grp * cg;
                    let dst = (line_start + ow - r0) * width + tap * cg;
                    copy_channels(&mut col[dst..dst + cg], &x[src..src + cg]);
                }
            }
            s0 = s1;
        }
    }
}

multiversion! {
    /// `im2col` transposed ("tap-major"): element `j` of row `rows.start + i` goes to
    /// `colt[j * m + i]` (m = `rows.len()`), so each (tap, channel) is one contiguous run of
    /// rows. With one channel per group and unit stride, a tap's span over an output line is a
    /// plain copy (the row-major gather would be one strided scalar store per element). Used by
    /// the narrow kernel (which broadcasts one value per row and tap) and, for one channel per
    /// group, as the gemm operands' transposed view.
    fn im2col_t[T: Float](x: &[T], g: &Geom, rows: std::ops::Range<usize>, grp: usize, colt: &mut [T]) {
        let (cg, width, n2) = (g.cg(), g.width(), g.out[2].max(1));
        let (r0, m) = (rows.start, rows.len());
        if !g.windows_inside() {
            colt[..m * width].fill(T::zero());
        }
        let mut spans = Vec::with_capacity(g.k.iter().product());
        let mut s0 = rows.start;
        while s0 < rows.end {
            let s1 = ((s0 / n2 + 1) * n2).min(rows.end);
            line_spans(g, s0, s1, &mut spans);
            // Row of output position 0 of this line, relative to `r0` (positions before `r0`
            // on the first line are outside every span).
            let line = (s0 - s0 % n2) as isize - r0 as isize;
            for (tap, ows, offset, step) in spans.iter().cloned() {
                let (lo, hi) = ((line + ows.start as isize) as usize, (line + ows.end as isize) as usize);
                for ch in 0..cg {
                    let run = &mut colt[(tap as usize * cg + ch) * m..][lo..hi];
                    let first = (offset + (ows.start * step) as isize) as usize + grp * cg + ch;
                    if step == 1 {
                        copy_channels(run, &x[first..first + run.len()]);
                    } else {
                        for (i, v) in run.iter_mut().enumerate() {
                            *v = x[first + i * step];
                        }
                    }
                }
            }
            s0 = s1;
        }
    }
}

/// The (m × width) im2col matrix of rows `rows` (group `grp`) in `scratch`: row-major, or for one
/// channel per group (first layers, depthwise) tap-major, whose gather is contiguous copies.
fn gather<'a, T: Float>(x: &[T], g: &Geom, rows: std::ops::Range<usize>, grp: usize, scratch: &'a mut [T]) -> Mat<'a, T> {
    let m = rows.len();
    if g.cg() == 1 {
        im2col_t(x, g, rows, grp, scratch);
        Mat { data: scratch, offset: 0, rs: 1, cs: m }
    } else {
        im2col(x, g, rows, grp, scratch);
        Mat::row_major(scratch, 0, g.width())
    }
}

multiversion! {
    /// The inverse scatter: add each row of `col` back onto the input positions it was gathered
    /// from. `dx` is the gradient of the batch element all of `rows` belong to (`first` = its
    /// offset). An output line at a time, as `im2col`: the taps' spans are listed once per line.
    fn col2im_add[T: Float](col: &[T], g: &Geom, rows: std::ops::Range<usize>, grp: usize, dx: &mut [T], first: usize) {
        let (cg, width, n2) = (g.cg(), g.width(), g.out[2].max(1));
        let r0 = rows.start;
        let mut spans = Vec::with_capacity(g.k.iter().product());
        let mut s0 = rows.start;
        while s0 < rows.end {
            let s1 = ((s0 / n2 + 1) * n2).min(rows.end);
            line_spans(g, s0, s1, &mut spans);
            let line_start = s0 - s0 % n2;
            for (tap, ows, offset, step) in spans.iter().cloned() {
                for ow in ows {
                    let at = (offset + (ow * step) as isize) as usize - first + grp * cg;
                    let src = (line_start + ow - r0) * width + tap as usize * cg;
                    super::pool::add_into(&mut dx[at..at + cg], &col[src..src + cg]);
                }
            }
            s0 = s1;
        }
    }
}

/// Kernel columns of group `grp`: a (width × filters/groups) view of the (width × filters) kernel.
fn group_kernel<'a, T>(w: &'a [T], g: &Geom, grp: usize) -> Mat<'a, T> {
    Mat { data: w, offset: grp * g.og(), rs: g.o, cs: 1 }
}

/// The bias checked against the filters, and input, kernel and bias in one float dtype.
fn conv_operands(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>, g: &Geom) -> Result<(Tensor, Tensor, Option<Tensor>)> {
    if let Some(b) = bias {
        if b.shape() != [g.o] {
            return shape_err!("conv", "the bias must have shape [{}] (one per filter), received {:?}", g.o, b.shape());
        }
    }
    let (x, kernel) = promote_float(x, kernel)?;
    let bias = match bias {
        Some(b) => Some(if b.dtype() == x.dtype() { b.clone() } else { crate::ops::cast(&to_float(b)?, x.dtype())? }),
        None => None,
    };
    Ok((x, kernel, bias))
}

pub fn conv(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>, spec: &ConvSpec, activation: Activation) -> Result<Tensor> {
    let g = geometry("conv", x.shape(), kernel.shape(), spec)?;
    let (x, kernel, bias) = conv_operands(x, kernel, bias, &g)?;
    let nd = x.ndim() - 2;
    let mut out_shape = vec![g.n];
    out_shape.extend_from_slice(&g.out[3 - nd..]);
    out_shape.push(g.o);
    let out = crate::dispatch_float!(x.dtype(), "conv", |T| {
        // Training changes the kernel every step: its Winograd transform is cached in inference only.
        let cacheable = (!crate::autograd::is_recording()).then_some(&kernel);
        let out = forward::<T>(&x.data::<T>()?, &kernel.data::<T>()?, cacheable, bias.as_ref().map(|b| b.data::<T>()).transpose()?.as_deref(), &g, activation);
        Tensor::from_vec(out, &out_shape)?
    });
    let mut inputs = vec![&x, &kernel];
    if let Some(b) = &bias {
        inputs.push(b);
    }
    record(&inputs, &out, || Arc::new(ConvBackward { x: x.clone(), kernel: kernel.clone(), output: out.clone(), geom: g, activation, has_bias: bias.is_some() }));
    Ok(out)
}

/// `kernel`: the tensor whose values `w` are, when a transform of it may be cached.
fn forward<T: Float>(x: &[T], w: &[T], kernel: Option<&Tensor>, bias: Option<&[T]>, g: &Geom, act: Activation) -> Vec<T> {
    let (rows, o) = (g.rows(), g.o);
    // Every path below writes every element (gemm without accumulation, per group and tile).
    let mut out = uninit_vec::<T>(rows * o);
    if rows == 0 || o == 0 {
        return out;
    }
    let fused = bias.is_some() || act != Activation::Linear;
    let bias = bias.unwrap_or(&[]);
    if g.is_pointwise() {
        gemm(rows, o, g.c, Mat::row_major(x, 0, g.c), Mat::row_major(w, 0, o), &mut out, 0, o, false, true);
        if fused {
            par_chunks_mut(&mut out, rows_per_chunk(o) * o, |_, chunk| chunk.chunks_mut(o).for_each(|row| epilogue(row, bias, act)));
        }
        return out;
    }
    if super::winograd::applies::<T>(g) {
        return super::winograd::forward(x, w, kernel, bias, g, act, false);
    }
    let (tile, width) = (g.tile_rows(), g.width());
    par_chunks_mut(&mut out, tile * o, |start, chunk| {
        with_scratch(chunk.len() / o * width, |col: &mut [T]| conv_rows(x, w, bias, g, act, start / o, chunk, col));
    });
    out
}

/// Output rows `r0..r0 + m` of a (not pointwise) convolution into `out` (m × filters), bias and
/// activation applied; `col` is scratch for at least m × width values.
#[allow(clippy::too_many_arguments)]
fn conv_rows<T: Float>(x: &[T], w: &[T], bias: &[T], g: &Geom, act: Activation, r0: usize, out: &mut [T], col: &mut [T]) {
    let (o, width, og) = (g.o, g.width(), g.og());
    let m = out.len() / o;
    let fused = !bias.is_empty() || act != Activation::Linear;
    if g.is_narrow() {
        // Bias and relu are applied inside the kernel; other activations by the epilogue.
        let relu = act == Activation::Relu;
        let src = if g.windows_inside() {
            // Taps read straight from the input: no copy into an im2col matrix.
            NarrowSource { values: x, rows: window_origins(g, r0..r0 + m), taps: tap_offsets(g).into() }
        } else {
            im2col_t(x, g, r0..r0 + m, 0, col);
            NarrowSource { values: &col[..m * width], rows: (0..m).collect(), taps: (0..width).map(|t| t * m).collect::<Vec<_>>().into() }
        };
        narrow_rows(&src, w, o, out, bias, relu, 1);
        if fused && !matches!(act, Activation::Relu | Activation::Linear) {
            // The bias is in: the activation alone.
            out.chunks_mut(o).for_each(|row| epilogue(row, &[], act));
        }
        return;
    }
    for grp in 0..g.groups {
        gemm(m, og, width, gather(x, g, r0..r0 + m, grp, col), group_kernel(w, g, grp), out, grp * og, o, false, false);
    }
    if fused {
        out.chunks_mut(o).for_each(|row| epilogue(row, bias, act));
    }
}

/// Inference only (records nothing on a tape): `max_pool(conv(...), pool, strides = pool, no
/// padding)` for 1-D and 2-D convolutions, without storing the convolution's output: each task
/// computes the conv output lines of one pooled line into scratch (cache-resident) and pools
/// them right away. The values are exactly those of the two ops run one after the other, which
/// is what this falls back to when a tape records, for 1×1 and 3-D convolutions, and for windows
/// that do not fit (whose errors `pool` reports).
pub fn conv_max_pool(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>, spec: &ConvSpec, activation: Activation, pool: &[usize]) -> Result<Tensor> {
    let unfused = || {
        let y = conv(x, kernel, bias, spec, activation)?;
        let none = vec![(0, 0); pool.len()];
        super::pool::pool(&y, pool, pool, &none, super::pool::PoolMode::Max)
    };
    let g = geometry("conv", x.shape(), kernel.shape(), spec)?;
    let nd = x.ndim() - 2;
    let mut p = [1usize; 3];
    if pool.len() == nd {
        p[3 - nd..].copy_from_slice(pool);
    }
    let (q1, q2) = (g.out[1] / p[1].max(1), g.out[2] / p[2].max(1));
    if crate::autograd::is_recording() || g.is_pointwise() || nd == 3 || pool.len() != nd || pool.contains(&0) || q1 == 0 || q2 == 0 {
        return unfused();
    }
    let (x, kernel, bias) = conv_operands(x, kernel, bias, &g)?;
    // Winograd convolutions pool their own tiles (2×2 windows are tiles); with other windows,
    // conv then pool gives the Winograd values the fused direct path would not.
    let winograd = x.dtype() == crate::tensor::DType::F32 && super::winograd::applies::<f32>(&g);
    let winograd_pools = winograd && nd == 2 && p[1] == 2 && p[2] == 2;
    if winograd && !winograd_pools {
        return unfused();
    }
    let mut out_shape = vec![g.n];
    if nd == 2 {
        out_shape.push(q1);
    }
    out_shape.extend([q2, g.o]);
    let out = crate::dispatch_float!(x.dtype(), "conv", |T| {
        let (xs, ws) = (x.data::<T>()?, kernel.data::<T>()?);
        let bias_data = bias.as_ref().map(|b| b.data::<T>()).transpose()?;
        let bias_vals: &[T] = bias_data.as_deref().unwrap_or(&[]);
        let (o, width, n2) = (g.o, g.width(), g.out[2]);
        // A task pools about a conv tile's worth of rows (whole pooled lines): one line at
        // batch 1, so both cores share a single image, several for larger batches.
        let (line_len, rows_per_line) = (q2 * o, p[1] * n2);
        let lines_per_task = (g.tile_rows() / rows_per_line).max(1);
        let mut out = if winograd_pools { super::winograd::forward(&xs, &ws, Some(&kernel), bias_vals, &g, activation, true) } else { uninit_vec::<T>(g.n * q1 * line_len) };
        let win = p[1] * p[2];
        if !winograd_pools && !out.is_empty() && g.is_narrow() && g.windows_inside() && matches!(activation, Activation::Linear | Activation::Relu) && matches!(win, 1 | 2 | 4) {
            // The narrow kernel reads the windows straight from the input and pools its
            // register tiles: the convolution's output is never stored.
            let taps = tap_offsets(&g);
            par_chunks_mut(&mut out, lines_per_task * line_len, |start, lines| {
                let first = start / line_len;
                let src = NarrowSource { values: &xs, rows: pooled_window_origins(&g, p[1], p[2], q1, q2, first..first + lines.len() / line_len), taps: taps.as_slice().into() };
                narrow_rows(&src, &ws, o, lines, bias_vals, activation == Activation::Relu, win);
            });
        } else if !winograd_pools && !out.is_empty() {
            par_chunks_mut(&mut out, lines_per_task * line_len, |start, lines| {
                with_scratch(lines_per_task * rows_per_line * (width + o), |scratch: &mut [T]| {
                    let (col, conv_out) = scratch.split_at_mut(lines_per_task * rows_per_line * width);
                    let (mut line, end) = (start / line_len, start / line_len + lines.len() / line_len);
                    while line < end {
                        // A run of pooled lines of one sample: their conv lines are consecutive rows.
                        let (n, i1) = (line / q1, line % q1);
                        let run = (q1 - i1).min(end - line);
                        let m = run * rows_per_line;
                        let conv_out = &mut conv_out[..m * o];
                        conv_rows(&xs, &ws, bias_vals, &g, activation, (n * g.out[1] + i1 * p[1]) * n2, conv_out, col);
                        for (k, pooled) in lines[(line - start / line_len) * line_len..][..run * line_len].chunks_mut(line_len).enumerate() {
                            max_pool_lines(&conv_out[k * rows_per_line * o..(k + 1) * rows_per_line * o], o, n2, p[1], p[2], pooled);
                        }
                        line += run;
                    }
                });
            });
        }
        Tensor::from_vec(out, &out_shape)?
    });
    Ok(out)
}

multiversion! {
    /// One pooled line from `p1` conv output lines of `n2` positions each (`conv_out`, channels
    /// last): windows of p1 × p2 positions, stride = window. Taps in the order `pool` visits
    /// them, with its max (a NaN wins), so the values are the same.
    fn max_pool_lines[T: Float](conv_out: &[T], o: usize, n2: usize, p1: usize, p2: usize, line: &mut [T]) {
        line.fill(T::neg_infinity());
        // Tap by tap over the whole line: consecutive updates of one output are a line apart
        // (the max compiles to masked stores, which a load of the same address right after
        // would wait on).
        for a in 0..p1 {
            for b in 0..p2 {
                for (j, dst) in line.chunks_mut(o).enumerate() {
                    let at = (a * n2 + j * p2 + b) * o;
                    super::pool::max_into(dst, &conv_out[at..at + o]);
                }
            }
        }
    }
}

/// dz (the gradient before the activation) of output rows `r0..r0 + m` as an (m × o) matrix:
/// the output gradient itself for a linear activation, else computed into `buf` from the saved
/// output `y` (per tile, right before use: the whole dz is never stored).
#[allow(clippy::too_many_arguments)]
fn dz_tile<'a, T: Float>(gd: &'a [T], y: &[T], r0: usize, m: usize, o: usize, act: Activation, buf: &'a mut [T]) -> Mat<'a, T> {
    if act == Activation::Linear {
        return Mat { data: gd, offset: r0 * o, rs: o, cs: 1 };
    }
    let range = r0 * o..(r0 + m) * o;
    rows_activation_grad(&y[range.clone()], &gd[range], &mut buf[..m * o], o, act);
    Mat::row_major(buf, 0, o)
}

struct ConvBackward {
    x: Tensor,
    kernel: Tensor,
    output: Tensor,
    geom: Geom,
    activation: Activation,
    has_bias: bool,
}

impl ConvBackward {
    fn grads<T: Float>(&self, g_out: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let g = &self.geom;
        let g_out = if g_out.dtype() == T::DTYPE { g_out.clone() } else { crate::ops::cast(g_out, T::DTYPE)? };
        let gd = g_out.data::<T>()?;
        let x = self.x.data::<T>()?;
        let w = self.kernel.data::<T>()?;
        if g.is_pointwise() {
            return self.pointwise_grads(&gd, &x, &w, needs);
        }
        let (rows, o, width, og) = (g.rows(), g.o, g.width(), g.og());
        let y = self.output.data::<T>()?;
        let (tile, act) = (g.tile_rows(), self.activation);
        // dz is never stored whole (`dz_tile`): the output-sized tensors are read once per use
        // instead of dz being written, then read back from memory.

        let dx = grad_if(needs[0], || {
            // Written in full: zeroed by each sample's task before its scatter.
            let mut dx = uninit_vec::<T>(x.len());
            // The kernel as a row-major (filters × width) matrix: group g's rows are g·og.. .
            let wt = transposed(&w, width, o);
            if rows == 0 || o == 0 {
                dx.fill(T::zero());
            } else {
                let (positions, sample) = (g.positions(), g.sample_len());
                par_chunks_mut(&mut dx, sample.max(1), |first, dxs| {
                    dxs.fill(T::zero());
                    let n = first / sample.max(1);
                    with_scratch(tile * (width + o), |scratch: &mut [T]| {
                        let (dcol, dz) = scratch.split_at_mut(tile * width);
                        let mut r0 = n * positions;
                        while r0 < (n + 1) * positions {
                            let m = tile.min((n + 1) * positions - r0);
                            let dz_tile = dz_tile(&gd, &y, r0, m, o, act, dz);
                            for grp in 0..g.groups {
                                let dz_grp = Mat { offset: dz_tile.offset + grp * og, ..dz_tile };
                                gemm(m, width, og, dz_grp, Mat::row_major(&wt, grp * og * width, width), dcol, 0, width, false, false);
                                col2im_add(dcol, g, r0..r0 + m, grp, dxs, first);
                            }
                            r0 += m;
                        }
                    });
                });
            }
            Tensor::from_vec(dx, self.x.shape())
        })?;

        // The kernel and bias gradients together: at most ~16 fixed blocks of whole tiles, each
        // summing its tiles into its own partials, added in block order (the same for any
        // thread count).
        let need_w = needs[1];
        let need_b = self.has_bias && needs[2];
        let (mut dw, mut db) = (vec![T::zero(); if need_w { width * o } else { 0 }], vec![T::zero(); if need_b { o } else { 0 }]);
        if (need_w || need_b) && rows > 0 && o > 0 {
            let block = rows.div_ceil(16).div_ceil(tile).max(1) * tile;
            let partials = par_ranges(rows, block, |range| {
                let mut part_w = vec![T::zero(); dw.len()];
                let mut part_b = vec![T::zero(); db.len()];
                with_scratch(tile * (width + o), |scratch: &mut [T]| {
                    let (col, dz) = scratch.split_at_mut(tile * width);
                    let mut r0 = range.start;
                    while r0 < range.end {
                        let m = tile.min(range.end - r0);
                        let dz_tile = dz_tile(&gd, &y, r0, m, o, act, dz);
                        if need_b {
                            add_rows(&mut part_b, &dz_tile.data[dz_tile.offset..dz_tile.offset + m * o]);
                        }
                        if need_w {
                            for grp in 0..g.groups {
                                let col = gather(&x, g, r0..r0 + m, grp, col);
                                let dz_grp = Mat { offset: dz_tile.offset + grp * og, ..dz_tile };
                                gemm(width, og, m, col.t(), dz_grp, &mut part_w, grp * og, o, true, false);
                            }
                        }
                        r0 += m;
                    }
                });
                (part_w, part_b)
            });
            for (pw, pb) in &partials {
                if need_w {
                    add_rows(&mut dw, pw);
                }
                if need_b {
                    add_rows(&mut db, pb);
                }
            }
        }
        let dw = if need_w { Some(Tensor::from_vec(dw, self.kernel.shape())?) } else { None };
        let mut grads = vec![dx, dw];
        if self.has_bias {
            grads.push(if need_b { Some(Tensor::from_vec(db, &[o])?) } else { None });
        }
        Ok(grads)
    }

    /// 1×…×1 kernels: the input rows are the im2col matrix, so every gradient is one gemm.
    fn pointwise_grads<T: Float>(&self, gd: &[T], x: &[T], w: &[T], needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let g = &self.geom;
        let (rows, o) = (g.rows(), g.o);
        let dz = pre_activation_grad(gd, &self.output, o, self.activation)?;
        let dx = grad_if(needs[0], || {
            let mut dx = uninit_vec::<T>(x.len());
            let wt = transposed(w, g.c, o);
            gemm(rows, g.c, o, Mat::row_major(&dz, 0, o), Mat::row_major(&wt, 0, g.c), &mut dx, 0, g.c, false, true);
            Tensor::from_vec(dx, self.x.shape())
        })?;
        let dw = grad_if(needs[1], || {
            let mut dw = uninit_vec::<T>(g.c * o);
            gemm(g.c, o, rows, Mat::row_major(x, 0, g.c).t(), Mat::row_major(&dz, 0, o), &mut dw, 0, o, false, true);
            Tensor::from_vec(dw, self.kernel.shape())
        })?;
        let mut grads = vec![dx, dw];
        if self.has_bias {
            grads.push(grad_if(needs[2], || Tensor::from_vec(column_sums(&dz, rows, o), &[o]))?);
        }
        Ok(grads)
    }
}

impl Backward for ConvBackward {
    fn name(&self) -> &'static str {
        "conv"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        crate::dispatch_float!(self.x.dtype(), "conv", |T| self.grads::<T>(g, needs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    fn spec(nd: usize, stride: usize, dil: usize, pad: (usize, usize), groups: usize) -> ConvSpec {
        ConvSpec { strides: vec![stride; nd], dilation: vec![dil; nd], padding: vec![pad; nd], groups }
    }

    /// Direct 2-D convolution by definition (NHWC, kernel (kh, kw, c/groups, o)).
    fn naive2d(x: &Tensor, w: &Tensor, s: &ConvSpec) -> Vec<f64> {
        let (xs, ws) = (x.shape(), w.shape());
        let (n, h, wd, c) = (xs[0], xs[1], xs[2], xs[3]);
        let (kh, kw, cg, o) = (ws[0], ws[1], ws[2], ws[3]);
        let og = o / s.groups;
        let (xv, wv) = (vals(x), vals(w));
        let oh = (h + s.padding[0].0 + s.padding[0].1 - (kh - 1) * s.dilation[0] - 1) / s.strides[0] + 1;
        let ow = (wd + s.padding[1].0 + s.padding[1].1 - (kw - 1) * s.dilation[1] - 1) / s.strides[1] + 1;
        let mut out = vec![0.0; n * oh * ow * o];
        for b in 0..n {
            for i in 0..oh {
                for j in 0..ow {
                    for f in 0..o {
                        let grp = f / og;
                        let mut acc = 0.0;
                        for a in 0..kh {
                            for bb in 0..kw {
                                let y = (i * s.strides[0] + a * s.dilation[0]) as isize - s.padding[0].0 as isize;
                                let xx = (j * s.strides[1] + bb * s.dilation[1]) as isize - s.padding[1].0 as isize;
                                if y < 0 || xx < 0 || y as usize >= h || xx as usize >= wd {
                                    continue;
                                }
                                for ci in 0..cg {
                                    acc += xv[((b * h + y as usize) * wd + xx as usize) * c + grp * cg + ci] * wv[((a * kw + bb) * cg + ci) * o + f];
                                }
                            }
                        }
                        out[((b * oh + i) * ow + j) * o + f] = acc;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn conv2d_matches_the_definition() {
        for (stride, dil, pad, groups, k) in [(1, 1, (0, 0), 1, 3), (2, 1, (1, 1), 1, 3), (1, 2, (2, 1), 1, 2), (2, 1, (0, 1), 2, 3), (1, 1, (0, 0), 1, 1), (3, 1, (1, 0), 4, 2)] {
            let s = spec(2, stride, dil, pad, groups);
            let x = rand64(&[2, 7, 6, 4], 1);
            let w = rand64(&[k, k, 4 / groups, 8], 2);
            let got = vals(&conv(&x, &w, None, &s, Activation::Linear).unwrap());
            let want = naive2d(&x, &w, &s);
            assert_eq!(got.len(), want.len());
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "{s:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn conv_gradients_1d_2d_3d() {
        check_grads(|t| conv(&t[0], &t[1], Some(&t[2]), &spec(1, 2, 1, (1, 1), 1), Activation::Tanh), &[rand64(&[2, 7, 3], 3), rand64(&[3, 3, 2], 4), rand64(&[2], 5)]);
        check_grads(|t| conv(&t[0], &t[1], Some(&t[2]), &spec(2, 1, 2, (1, 2), 2), Activation::Sigmoid), &[rand64(&[2, 5, 6, 4], 6), rand64(&[2, 2, 2, 4], 7), rand64(&[4], 8)]);
        check_grads(|t| conv(&t[0], &t[1], None, &spec(3, 1, 1, (0, 1), 1), Activation::Linear), &[rand64(&[1, 3, 3, 4, 2], 9), rand64(&[2, 2, 2, 2, 3], 10)]);
        // Softmax over the filters and relu: dz computed per tile, rows of whole filters.
        check_grads(|t| conv(&t[0], &t[1], Some(&t[2]), &spec(2, 1, 1, (1, 0), 1), Activation::Softmax), &[rand64(&[2, 4, 5, 3], 14), rand64(&[2, 3, 3, 5], 15), rand64(&[5], 16)]);
        check_grads(|t| conv(&t[0], &t[1], Some(&t[2]), &spec(2, 2, 1, (0, 1), 1), Activation::Relu), &[rand64(&[3, 6, 5, 2], 17), rand64(&[3, 2, 2, 4], 18), rand64(&[4], 19)]);
        // Pointwise: straight gemm.
        check_grads(|t| conv(&t[0], &t[1], Some(&t[2]), &spec(2, 1, 1, (0, 0), 1), Activation::Linear), &[rand64(&[2, 3, 3, 4], 11), rand64(&[1, 1, 4, 3], 12), rand64(&[3], 13)]);
    }

    #[test]
    fn conv_max_pool_is_conv_then_pool() {
        let f32s = |t: &Tensor| crate::ops::cast(t, crate::tensor::DType::F32).unwrap();
        // (input, kernel, conv spec, pool): narrow and gemm paths, 1-D and 2-D, remainders the
        // pooling drops, non-square windows, groups, padding, strides.
        let cases = [
            (vec![2, 9, 9, 1], vec![3, 3, 1, 20], spec(2, 1, 1, (0, 0), 1), vec![2, 2]),
            (vec![1, 13, 13, 6], vec![3, 3, 6, 8], spec(2, 1, 1, (0, 0), 1), vec![2, 2]),
            (vec![3, 10, 11, 4], vec![2, 3, 2, 6], spec(2, 1, 2, (1, 1), 2), vec![2, 3]),
            (vec![2, 12, 3], vec![3, 3, 5], spec(1, 2, 1, (1, 0), 1), vec![2]),
            // Batches whose tasks take several pooled lines, in runs that cross samples.
            (vec![16, 9, 9, 1], vec![3, 3, 1, 20], spec(2, 1, 1, (0, 0), 1), vec![2, 2]),
            (vec![12, 8, 7, 5], vec![3, 3, 5, 6], spec(2, 1, 1, (0, 0), 1), vec![2, 2]),
            // Narrow kernels reading the input directly and pooling in registers: strides,
            // dilation, windows of 2 positions (1-D, 1 × 2, 2 × 1), filters past two vectors,
            // and a 3 × 3 window (conv rows then pooling).
            (vec![3, 11, 12, 2], vec![2, 2, 2, 40], spec(2, 2, 1, (0, 0), 1), vec![1, 2]),
            (vec![2, 12, 11, 1], vec![3, 2, 1, 33], spec(2, 1, 2, (0, 0), 1), vec![2, 1]),
            (vec![4, 17, 3], vec![3, 3, 7], spec(1, 1, 1, (0, 0), 1), vec![2]),
            (vec![2, 13, 13, 1], vec![3, 3, 1, 16], spec(2, 1, 1, (0, 0), 1), vec![3, 3]),
        ];
        for (xs, ks, s, pool) in cases {
            let (x, w, b) = (rand64(&xs, 40), rand64(&ks, 41), rand64(&[*ks.last().unwrap()], 42));
            for act in [Activation::Relu, Activation::Tanh, Activation::Linear] {
                for (x, w, b) in [(x.clone(), w.clone(), b.clone()), (f32s(&x), f32s(&w), f32s(&b))] {
                    let none = vec![(0, 0); pool.len()];
                    let want = crate::ops::pool(&conv(&x, &w, Some(&b), &s, act).unwrap(), &pool, &pool, &none, crate::ops::PoolMode::Max).unwrap();
                    let got = conv_max_pool(&x, &w, Some(&b), &s, act, &pool).unwrap();
                    assert_eq!(got.shape(), want.shape());
                    assert_eq!(vals(&got), vals(&want), "{xs:?} {ks:?} {pool:?} {act:?}");
                }
            }
        }
        // Tasks of several pooled lines or one: the same bits for any thread count and SIMD path
        // (f32: the gemm path, and the narrow kernel pooling in registers).
        let (x, w, b) = (rand64(&[16, 9, 9, 3], 43), rand64(&[3, 3, 3, 8], 44), rand64(&[8], 45));
        assert_same_for_any_thread_count_and_simd_path(|| vals(&conv_max_pool(&x, &w, Some(&b), &spec(2, 1, 1, (0, 0), 1), Activation::Relu, &[2, 2]).unwrap()));
        let (x, w, b) = (f32s(&rand64(&[16, 28, 28, 1], 46)), f32s(&rand64(&[3, 3, 1, 40], 47)), f32s(&rand64(&[40], 48)));
        for act in [Activation::Relu, Activation::Linear] {
            assert_same_for_any_thread_count_and_simd_path(|| vals(&conv_max_pool(&x, &w, Some(&b), &spec(2, 1, 1, (0, 0), 1), act, &[2, 2]).unwrap()));
        }
        // A NaN input reaches exactly the pooled outputs whose windows' convolutions read it, also
        // where it is not the first of a window (conv outputs 3..=5 read it: windows 1 and 2).
        let mut xv = vec![0.5f32; 9 * 9];
        xv[5 * 9 + 5] = f32::NAN;
        let x = Tensor::from_vec(xv, &[1, 9, 9, 1]).unwrap();
        let (w, b) = (f32s(&rand64(&[3, 3, 1, 20], 49)), f32s(&rand64(&[20], 50)));
        let want = crate::ops::pool(&conv(&x, &w, Some(&b), &spec(2, 1, 1, (0, 0), 1), Activation::Relu).unwrap(), &[2, 2], &[2, 2], &[(0, 0), (0, 0)], crate::ops::PoolMode::Max).unwrap();
        let got = vals(&conv_max_pool(&x, &w, Some(&b), &spec(2, 1, 1, (0, 0), 1), Activation::Relu, &[2, 2]).unwrap());
        assert_eq!(got.iter().filter(|v| v.is_nan()).count(), 4 * 20, "pooled outputs 1..=2 squared");
        assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), vals(&want).iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        // ... on every SIMD path (NaN as a number, so that equal results compare equal).
        assert_same_for_any_thread_count_and_simd_path(|| vals(&conv_max_pool(&x, &w, Some(&b), &spec(2, 1, 1, (0, 0), 1), Activation::Relu, &[2, 2]).unwrap()).iter().map(|&v| if v.is_nan() { f64::MAX } else { v }).collect());
        // A window larger than the conv output: the pooling's error.
        assert!(conv_max_pool(&rand64(&[1, 4, 4, 1], 1), &rand64(&[3, 3, 1, 2], 2), None, &spec(2, 1, 1, (0, 0), 1), Activation::Relu, &[3, 3]).is_err());
    }

    #[test]
    fn partial_gradients_match_the_full_ones() {
        // Each backward branch (dx, dkernel, dbias; fused per-tile dz) run alone or in pairs.
        let inputs = [rand64(&[2, 5, 6, 3], 30), rand64(&[3, 2, 3, 4], 31), rand64(&[4], 32)];
        for act in [Activation::Tanh, Activation::Linear] {
            let f = |t: &[Tensor]| conv(&t[0], &t[1], Some(&t[2]), &spec(2, 1, 1, (1, 1), 1), act);
            let all = analytic_grads(f, &inputs);
            for wanted in [vec![0], vec![1], vec![2], vec![1, 2], vec![0, 2]] {
                let some = analytic_grads_for(f, &inputs, &wanted);
                for (g, &i) in some.iter().zip(&wanted) {
                    assert_eq!(vals(g), vals(&all[i]), "{act:?}: gradient {i} asked with {wanted:?}");
                }
            }
        }
    }

    #[test]
    fn conv_is_the_same_for_any_thread_count() {
        let x = rand64(&[5, 12, 11, 3], 14);
        let w = rand64(&[3, 3, 3, 8], 15);
        let b = rand64(&[8], 16);
        let s = spec(2, 1, 1, (1, 1), 1);
        assert_same_for_any_thread_count_and_simd_path(|| {
            let grads = analytic_grads(|t| conv(&t[0], &t[1], Some(&t[2]), &s, Activation::Relu), &[x.clone(), w.clone(), b.clone()]);
            grads.iter().flat_map(vals).collect()
        });
    }

    #[test]
    fn narrow_f32_conv_paths_agree_and_match_the_definition() {
        // One input channel and 20 filters: the vector kernels' full and masked lane blocks,
        // row tiles with a remainder, bias, activations.
        // Padded (zeros in the tap-major gather), unpadded (contiguous line copies) and strided.
        let x64 = rand64(&[2, 9, 9, 1], 21);
        let w64 = rand64(&[3, 3, 1, 20], 22);
        let b64 = rand64(&[20], 23);
        let f32s = |t: &Tensor| crate::ops::cast(t, crate::tensor::DType::F32).unwrap();
        let (x, w, b) = (f32s(&x64), f32s(&w64), f32s(&b64));
        for (s, act) in [(1, (1, 1)), (1, (0, 0)), (2, (0, 1))].into_iter().flat_map(|(stride, pad)| [Activation::Relu, Activation::Linear, Activation::Tanh].map(|a| (spec(2, stride, 1, pad, 1), a))) {
            let run = || conv(&x, &w, Some(&b), &s, act).unwrap().to_vec::<f32>().unwrap();
            let fast = run();
            crate::runtime::simd::set_avx2_cap(true);
            let avx2 = run();
            crate::runtime::simd::set_scalar(true);
            let scalar = run();
            crate::runtime::simd::set_scalar(false);
            assert_eq!(fast, scalar, "{act:?}");
            assert_eq!(avx2, scalar, "{act:?}");
            let want = vals(&conv(&x64, &w64, Some(&b64), &s, act).unwrap());
            for (a, b) in fast.iter().zip(&want) {
                assert!((*a as f64 - b).abs() < 1e-5, "{act:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn explicit_padding_follows_keras() {
        // "same": ceil(size / stride) outputs, the odd padded pixel after.
        assert_eq!(explicit_padding(&[28, 7], &[3, 2], &[1, 2], &[1, 1], Padding::Same), vec![(1, 1), (0, 1)]);
        assert_eq!(explicit_padding(&[5], &[1], &[2], &[1], Padding::Same), vec![(0, 0)]);
        assert_eq!(explicit_padding(&[10], &[3], &[1], &[2], Padding::Causal), vec![(4, 0)]);
        assert_eq!(explicit_padding(&[10, 4], &[3, 3], &[1, 1], &[1, 1], Padding::Valid), vec![(0, 0), (0, 0)]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let x = rand64(&[1, 4, 4, 2], 1);
        assert!(conv(&x, &rand64(&[5, 5, 2, 3], 2), None, &spec(2, 1, 1, (0, 0), 1), Activation::Linear).is_err());
        assert!(conv(&x, &rand64(&[3, 3, 3, 3], 2), None, &spec(2, 1, 1, (0, 0), 1), Activation::Linear).is_err());
        assert!(conv(&x, &rand64(&[3, 3, 2, 3], 2), None, &spec(2, 0, 1, (0, 0), 1), Activation::Linear).is_err());
        assert!(conv(&rand64(&[4, 2], 1), &rand64(&[3, 2], 2), None, &spec(0, 1, 1, (0, 0), 1), Activation::Linear).is_err());
        assert!(conv(&x, &rand64(&[3, 3, 2, 3], 2), Some(&rand64(&[2], 3)), &spec(2, 1, 1, (0, 0), 1), Activation::Linear).is_err());
    }
}
