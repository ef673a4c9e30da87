//! Winograd F(2×2, 3×3): the forward of 2-D 3×3 convolutions with unit strides and dilation, one
//! group, f32 (`applies`). Each 2×2 block of outputs (a "tile") comes from a 4×4 input patch d
//! as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so the sums over channels become 16 small gemms per tile — tiles ×
//! channels times channels × filters, one per patch position — instead of 36 products per output:
//! 2.25× fewer multiply-adds (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks").
//! The transforms use only ±1 and ½, so finite values differ from the direct sums by rounding
//! alone (a few ulps of the summands' magnitudes; tested against f64 direct sums), but an
//! infinite input can give NaN where the direct sum gives ±inf (inf − inf inside the
//! transform). `RKERAS_WINOGRAD=0` turns it off. Gradients stay those of the exact convolution
//! (`ConvBackward` does not depend on how the forward was computed).
//!
//! Every value is computed by the same sequence of roundings whatever the task split, thread
//! count or SIMD path (FMA in the vector paths, `mul_add` in the scalar one), so the results are
//! identical across them, and `conv_max_pool` (which pools each tile as soon as it is computed:
//! a 2×2 window is a tile) gives exactly the bits of `conv` then `pool`.
//!
//! The kernel is transformed once per call, or taken from a small cache of recent inference
//! calls' transforms (`transformed_kernel`); tasks take runs of output line pairs ("bands") and
//! transform their input patches in groups of tiles that stay in L1 with their products.

use std::any::Any;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::conv::{copy_channels, with_scratch, Geom};
use super::dense::{epilogue, Activation};
use super::pool::{max_into, max_step};
use crate::multiversion;
use crate::runtime::par_map_mut;
use crate::tensor::{uninit_vec, Buffer, Float, Tensor};

/// Fewest tiles (2×2 output blocks over the batch) worth the transforms, with the kernel's
/// transform cached (inference). Measured at batch 1 against the direct path, 2 threads: 36
/// tiles (the cnn benchmark's conv2, 13×13×32 → 64) 9.7 vs 14.2 µs, 16 tiles 1.2–2.3× faster
/// across 8–64 channels, 4 tiles 0.9–1.3×, a single tile 0.8×.
const MIN_TILES: usize = 16;

const UNKNOWN: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;
static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether eligible convolutions take Winograd: on unless `RKERAS_WINOGRAD=0` (direct sums,
/// for whoever needs the last bits of agreement with a direct convolution) or `set_winograd(false)`.
fn enabled() -> bool {
    let mut m = MODE.load(Ordering::Relaxed);
    if m == UNKNOWN {
        m = if std::env::var("RKERAS_WINOGRAD").is_ok_and(|v| v == "0") { OFF } else { ON };
        MODE.store(m, Ordering::Relaxed);
    }
    m == ON
}

/// Turn Winograd convolutions on or off (process-wide; e.g. to compare the two forwards).
pub fn set_winograd(on: bool) {
    MODE.store(if on { ON } else { OFF }, Ordering::Relaxed);
}

/// True when `forward` computes this convolution: 2-D, 3×3, unit strides and dilation, one group,
/// f32, and enough channels, filters and tiles for the transforms to pay for themselves (a first
/// layer on one channel keeps the narrow direct kernel). Padding of any size is fine.
pub(super) fn applies<T: Float>(g: &Geom) -> bool {
    std::mem::size_of::<T>() == 4
        && enabled()
        && g.input[0] == 1
        && g.k == [1, 3, 3]
        && g.stride == [1, 1, 1]
        && g.dil == [1, 1, 1]
        && g.groups == 1
        && g.c >= 8
        && g.o >= 8
        && g.n * g.out[1].div_ceil(2) * g.out[2].div_ceil(2) >= MIN_TILES
}

/// Most transformed kernels kept, and the largest kept (floats: 16 · channels · filters); a
/// larger kernel's convolution is long enough for its transform not to matter.
const CACHED_KERNELS: usize = 8;
const MAX_CACHED_FLOATS: usize = 1 << 18;

/// A transformed kernel and the buffer it came from. The weak reference keeps that buffer's
/// allocation from being reused for another one while the entry lives, and makes the buffer
/// shared, and a shared buffer is never written (writers copy first: `Tensor::make_mut`), so the
/// entry stays the transform of exactly the values at its address; a variable updated since has
/// a new buffer and misses.
struct CachedKernel {
    source: Box<dyn Any + Send + Sync>,
    /// Where the kernel's values start, and how many: 9 taps of channels × filters, each tap a
    /// flat block the transform does not mix, so any split into channels and filters (another
    /// view of the same values) has the same transform.
    at: usize,
    len: usize,
    u: Arc<dyn Any + Send + Sync>,
}

static KERNEL_CACHE: Mutex<Vec<CachedKernel>> = Mutex::new(Vec::new());

/// G g Gᵀ of `w` (the values of `kernel` when given). For a kernel whose buffer this crate owns
/// (numpy memory could change under us) the transform is looked up in, or added to, the cache:
/// inference calls with the same weights transform them once (at batch 1 the transform is about
/// a sixth of the convolution).
fn transformed_kernel<T: Float>(w: &[T], kernel: Option<&Tensor>, c: usize, o: usize) -> Arc<Vec<T>> {
    let compute = || {
        let mut u = uninit_vec::<T>(16 * c * o);
        kernel_transform_into(w, c, o, &mut u);
        Arc::new(u)
    };
    let Some(buffer) = kernel.and_then(|k| T::buffer(k.storage())) else {
        return compute();
    };
    if buffer.is_foreign() || 16 * c * o > MAX_CACHED_FLOATS {
        return compute();
    }
    let (at, len) = (w.as_ptr() as usize, w.len());
    // `w` must be this buffer's own memory (not a copy made for another layout).
    let own = buffer.as_slice().as_ptr_range();
    if !(own.start as usize <= at && at + len * std::mem::size_of::<T>() <= own.end as usize) {
        return compute();
    }
    let mut cache = KERNEL_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    // Drop the entries of buffers that are gone.
    cache.retain(|e| e.source.downcast_ref::<Weak<Buffer<T>>>().is_none_or(|weak| weak.strong_count() > 0));
    let hit = cache.iter().position(|e| e.at == at && e.len == len && e.source.downcast_ref::<Weak<Buffer<T>>>().is_some_and(|weak| weak.as_ptr() == Arc::as_ptr(buffer)));
    if let Some(i) = hit {
        let entry = cache.remove(i);
        let u = entry.u.clone().downcast::<Vec<T>>().ok();
        cache.insert(0, entry);
        if let Some(u) = u {
            return u;
        }
    }
    drop(cache);
    let u = compute();
    let mut cache = KERNEL_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.insert(0, CachedKernel { source: Box::new(Arc::downgrade(buffer)), at, len, u: u.clone() });
    cache.truncate(CACHED_KERNELS);
    u
}

/// Where the tiles' outputs go: the convolution's output lines, or with `pool` the pooled lines
/// (one per band, one position per tile).
struct Layout {
    /// Output lines per sample and positions per output line.
    out_h: usize,
    out_w: usize,
    /// Line pairs per sample and tiles per line pair.
    bands: usize,
    tiles: usize,
    pool: bool,
}

impl Layout {
    fn new(g: &Geom, pool: bool) -> Layout {
        let (h, w) = (g.out[1], g.out[2]);
        if pool {
            // 2×2 pooling, stride 2, valid: only whole windows, and each window is one tile.
            Layout { out_h: h / 2, out_w: w / 2, bands: h / 2, tiles: w / 2, pool }
        } else {
            Layout { out_h: h, out_w: w, bands: h.div_ceil(2), tiles: w.div_ceil(2), pool }
        }
    }
    /// First output row of band `unit` (= sample · bands + band; `n · bands`: the end).
    fn first_row(&self, unit: usize) -> usize {
        let (s, b) = (unit / self.bands, unit % self.bands);
        (s * self.out_h + if self.pool { b } else { 2 * b }) * self.out_w
    }
    fn rows(&self, n: usize) -> usize {
        n * self.out_h * self.out_w
    }
}

/// The convolution (rows × filters in `conv`'s layout, bias and activation applied), or with
/// `pool` its 2×2 max pooling (stride 2, valid) without storing the convolution. `kernel`: the
/// tensor whose values `w` are, when its transform may be cached (inference).
#[allow(clippy::too_many_arguments)]
pub(super) fn forward<T: Float>(x: &[T], w: &[T], kernel: Option<&Tensor>, bias: &[T], g: &Geom, act: Activation, pool: bool) -> Vec<T> {
    let lay = Layout::new(g, pool);
    let (n, o, c) = (g.n, g.o, g.c);
    let mut out = uninit_vec::<T>(lay.rows(n) * o);
    let units = n * lay.bands;
    if out.is_empty() || units == 0 || lay.tiles == 0 {
        return out;
    }
    let u = transformed_kernel(w, kernel, c, o);
    // Tasks take runs of about an eighth of the bands. A run's output rows are consecutive; runs
    // differ in length where a sample's last band has a single line (odd output heights).
    let per_task = units.div_ceil(8);
    let mut tasks: Vec<(std::ops::Range<usize>, &mut [T])> = Vec::with_capacity(units.div_ceil(per_task));
    let mut rest = &mut out[..];
    for u0 in (0..units).step_by(per_task) {
        let u1 = (u0 + per_task).min(units);
        let (chunk, tail) = std::mem::take(&mut rest).split_at_mut((lay.first_row(u1) - lay.first_row(u0)) * o);
        tasks.push((u0..u1, chunk));
        rest = tail;
    }
    par_map_mut(&mut tasks, |(units, chunk)| run(x, g, &lay, &u, bias, act, units.clone(), chunk));
    out
}

multiversion! {
    /// G g Gᵀ into `u[(p · c + ch) · o + f]` (the 16 patch positions p), in two passes of
    /// whole-row vector loops: along the kernel's rows into U's positions p = 4i + b (b < 3),
    /// then along its columns in place, plane by plane.
    fn kernel_transform_into[T: Float](w: &[T], c: usize, o: usize, u: &mut [T]) {
        let half = T::from(0.5).unwrap();
        let plane = c * o;
        // (G v) of three values: v0, (v0 + v1 + v2)/2, (v0 − v1 + v2)/2, v2.
        for b in 0..3 {
            for ch in 0..c {
                let g = |a: usize| &w[((a * 3 + b) * c + ch) * o..][..o];
                let (g0, g1, g2) = (g(0), g(1), g(2));
                let row = |i: usize| (4 * i + b) * plane + ch * o;
                let (lo, hi) = u.split_at_mut(row(2));
                let (u0, u1) = lo.split_at_mut(row(1));
                let (u0, u1) = (&mut u0[row(0)..][..o], &mut u1[..o]);
                let (u2, u3) = hi.split_at_mut(row(3) - row(2));
                let (u2, u3) = (&mut u2[..o], &mut u3[..o]);
                for (((((d0, d1), d2), d3), (&a, &m)), &z) in u0.iter_mut().zip(u1.iter_mut()).zip(u2.iter_mut()).zip(u3.iter_mut()).zip(g0.iter().zip(g1)).zip(g2) {
                    (*d0, *d1, *d2, *d3) = (a, (a + m + z) * half, (a - m + z) * half, z);
                }
            }
        }
        for i in 0..4 {
            let (t01, t23) = u[4 * i * plane..(4 * i + 4) * plane].split_at_mut(2 * plane);
            let (t0, t1) = t01.split_at_mut(plane);
            let (t2, t3) = t23.split_at_mut(plane);
            for (((a, m), z), d3) in t0.iter().zip(t1.iter_mut()).zip(t2.iter_mut()).zip(t3.iter_mut()) {
                let (a, mv, zv) = (*a, *m, *z);
                (*m, *z, *d3) = ((a + mv + zv) * half, (a - mv + zv) * half, zv);
            }
        }
    }
}

/// Tiles per group, a multiple of the gemm kernel's 6 rows: V and M of a group (16 · tiles ·
/// (channels + filters) values) near 72 KiB, about the L1 of the cores we measure on (48 KiB)
/// plus what streams through it (the kernel's 16 positions are read once per group).
fn group_tiles(c: usize, o: usize) -> usize {
    (1152 / (c + o) / 6 * 6).clamp(6, 120)
}

/// The tiles of bands `units` into `out` (their output rows), with the transformed kernel `u`.
/// V and M hold a group of tiles tile-major (`v[(q · 16 + p) · c + ch]`, `m[(q · 16 + p) · o + f]`)
/// in this thread's scratch.
#[allow(clippy::too_many_arguments)]
fn run<T: Float>(x: &[T], g: &Geom, lay: &Layout, u: &[T], bias: &[T], act: Activation, units: std::ops::Range<usize>, out: &mut [T]) {
    let (c, o) = (g.c, g.o);
    let total = units.len() * lay.tiles;
    let tg = group_tiles(c, o).min(total);
    let row0 = lay.first_row(units.start);
    with_scratch(16 * c + 16 * tg * (c + o) + 12 * o, |scratch: &mut [T]| {
        let (patch, rest) = scratch.split_at_mut(16 * c);
        let (v, rest) = rest.split_at_mut(16 * tg * c);
        let (m, rest) = rest.split_at_mut(16 * tg * o);
        let (r, ys) = rest.split_at_mut(8 * o);
        // Flat tile q → (band units.start + q / tiles, tile q % tiles of it).
        let tile_of = |q: usize| (units.start + q / lay.tiles, q % lay.tiles);
        let mut q0 = 0;
        while q0 < total {
            let nt = tg.min(total - q0);
            for (q, vq) in v[..16 * nt * c].chunks_exact_mut(16 * c).enumerate() {
                let (unit, t) = tile_of(q0 + q);
                gather_patch(x, g, unit / lay.bands, 2 * (unit % lay.bands), 2 * t, patch);
                input_transform(patch, c, vq);
            }
            for p in 0..16 {
                tile_gemm(&v[p * c..16 * nt * c], nt, c, 16 * c, &u[p * c * o..][..c * o], o, &mut m[p * o..16 * nt * o], 16 * o);
            }
            for (q, mq) in m[..16 * nt * o].chunks_exact(16 * o).enumerate() {
                let (unit, t) = tile_of(q0 + q);
                output_transform(mq, o, r, ys);
                let band_row = lay.first_row(unit) - row0;
                let simple = matches!(act, Activation::Linear | Activation::Relu);
                if lay.pool {
                    let dst = &mut out[(band_row + t) * o..][..o];
                    if simple {
                        pool_tile(ys, bias, act == Activation::Relu, dst);
                        continue;
                    }
                    // Activation first, then the window's max in `pool`'s tap order.
                    for y in ys.chunks_exact_mut(o) {
                        epilogue(y, bias, act);
                    }
                    dst.fill(T::neg_infinity());
                    for y in ys.chunks_exact(o) {
                        max_into(dst, y);
                    }
                } else {
                    let line = 2 * (unit % lay.bands);
                    for (k, y) in ys.chunks_exact(o).enumerate() {
                        let (a, b) = (k / 2, k % 2);
                        if line + a < lay.out_h && 2 * t + b < lay.out_w {
                            let dst = &mut out[(band_row + a * lay.out_w + 2 * t + b) * o..][..o];
                            if simple {
                                store_output(y, bias, act == Activation::Relu, dst);
                            } else {
                                dst.copy_from_slice(y);
                                epilogue(dst, bias, act);
                            }
                        }
                    }
                }
            }
            q0 += nt;
        }
    });
}

/// The 4×4 input patch of the tile whose top-left output is (line, col) of sample `s`, zero
/// where it falls into the padding or past the input.
fn gather_patch<T: Float>(x: &[T], g: &Geom, s: usize, line: usize, col: usize, patch: &mut [T]) {
    let (c, h, w) = (g.c, g.input[1] as isize, g.input[2] as isize);
    let (iy0, ix0) = (line as isize - g.pad[1] as isize, col as isize - g.pad[2] as isize);
    let sample = s * g.sample_len();
    for a in 0..4 {
        let dst = &mut patch[a * 4 * c..(a + 1) * 4 * c];
        let iy = iy0 + a as isize;
        if iy < 0 || iy >= h {
            dst.fill(T::zero());
            continue;
        }
        let row = sample + (iy as usize) * g.input[2] * c;
        if ix0 >= 0 && ix0 + 4 <= w {
            let at = row + ix0 as usize * c;
            copy_channels(dst, &x[at..at + 4 * c]);
            continue;
        }
        for b in 0..4 {
            let ix = ix0 + b as isize;
            let d = &mut dst[b * c..(b + 1) * c];
            if ix < 0 || ix >= w {
                d.fill(T::zero());
            } else {
                let at = row + ix as usize * c;
                copy_channels(d, &x[at..at + c]);
            }
        }
    }
}

multiversion! {
    /// Bᵀ d B of one patch (`patch[(4a + b) · c + ch]`, transformed along its rows in place) into
    /// `v` (16 · c: position p = 4i + j, then channel).
    fn input_transform[T: Float](patch: &mut [T], c: usize, v: &mut [T]) {
        // Rows: (d0 − d2, d1 + d2, d2 − d1, d1 − d3), all four columns at once.
        let (p01, p23) = patch.split_at_mut(8 * c);
        let (p0, p1) = p01.split_at_mut(4 * c);
        let (p2, p3) = p23.split_at_mut(4 * c);
        for (((a0, a1), a2), a3) in p0.iter_mut().zip(p1.iter_mut()).zip(p2.iter_mut()).zip(p3.iter_mut()) {
            let (d0, d1, d2, d3) = (*a0, *a1, *a2, *a3);
            (*a0, *a1, *a2, *a3) = (d0 - d2, d1 + d2, d2 - d1, d1 - d3);
        }
        // Columns, the same combination, into V.
        for (r, dst) in patch.chunks_exact(4 * c).zip(v.chunks_exact_mut(4 * c)) {
            let (s01, s23) = r.split_at(2 * c);
            let ((s0, s1), (s2, s3)) = (s01.split_at(c), s23.split_at(c));
            let (d01, d23) = dst.split_at_mut(2 * c);
            let ((d0, d1), (d2, d3)) = (d01.split_at_mut(c), d23.split_at_mut(c));
            for (((((y0, y1), y2), y3), (&t0, &t1)), (&t2, &t3)) in d0.iter_mut().zip(d1.iter_mut()).zip(d2.iter_mut()).zip(d3.iter_mut()).zip(s0.iter().zip(s1)).zip(s2.iter().zip(s3)) {
                (*y0, *y1, *y2, *y3) = (t0 - t2, t1 + t2, t2 - t1, t1 - t3);
            }
        }
    }
}

multiversion! {
    /// Aᵀ M A of one tile (`m`: 16 · o, position p = 4i + j, then filter) into `ys`: its 4
    /// outputs (top-left, top-right, bottom-left, bottom-right), `o` values each; `r` is
    /// scratch for 8 · o.
    fn output_transform[T: Float](m: &[T], o: usize, r: &mut [T], ys: &mut [T]) {
        // Rows: r0 = m0 + m1 + m2, r1 = m1 − m2 − m3 (each 4 · o: all four columns).
        let (m01, m23) = m.split_at(8 * o);
        let ((m0, m1), (m2, m3)) = (m01.split_at(4 * o), m23.split_at(4 * o));
        let (r0, r1) = r.split_at_mut(4 * o);
        for (((d0, d1), (&a, &b)), (&c, &d)) in r0.iter_mut().zip(r1.iter_mut()).zip(m0.iter().zip(m1)).zip(m2.iter().zip(m3)) {
            *d0 = a + b + c;
            *d1 = b - c - d;
        }
        // Columns, the same combination.
        for (row, y) in r.chunks_exact(4 * o).zip(ys.chunks_exact_mut(2 * o)) {
            let (s01, s23) = row.split_at(2 * o);
            let ((s0, s1), (s2, s3)) = (s01.split_at(o), s23.split_at(o));
            let (y0, y1) = y.split_at_mut(o);
            for (((d0, d1), (&a, &b)), (&c, &d)) in y0.iter_mut().zip(y1.iter_mut()).zip(s0.iter().zip(s1)).zip(s2.iter().zip(s3)) {
                *d0 = a + b + c;
                *d1 = b - c - d;
            }
        }
    }
}

/// relu?(y + bias) (the bias only `with_bias`) as the epilogue computes it (relu keeps a NaN).
#[inline(always)]
fn finish<T: Float>(y: T, bias: T, relu: bool, with_bias: bool) -> T {
    let v = if with_bias { y + bias } else { y };
    if relu && v < T::zero() {
        T::zero()
    } else {
        v
    }
}

multiversion! {
    /// dst = the max of the tile's 4 outputs `ys` after bias and linear/relu: the epilogue then
    /// `pool`'s max (a NaN wins) in one pass. An empty bias adds nothing (not even +0 to a −0).
    fn pool_tile[T: Float](ys: &[T], bias: &[T], relu: bool, dst: &mut [T]) {
        let o = dst.len();
        let (y01, y23) = ys.split_at(2 * o);
        let ((y0, y1), (y2, y3)) = (y01.split_at(o), y23.split_at(o));
        let ninf = T::neg_infinity();
        if bias.is_empty() {
            for ((((d, &a), &b), &c), &e) in dst.iter_mut().zip(y0).zip(y1).zip(y2).zip(y3) {
                let m = max_step(max_step(max_step(max_step(ninf, finish(a, T::zero(), relu, false)), finish(b, T::zero(), relu, false)), finish(c, T::zero(), relu, false)), finish(e, T::zero(), relu, false));
                *d = m;
            }
        } else {
            for (((((d, &a), &b), &c), &e), &z) in dst.iter_mut().zip(y0).zip(y1).zip(y2).zip(y3).zip(bias) {
                let m = max_step(max_step(max_step(max_step(ninf, finish(a, z, relu, true)), finish(b, z, relu, true)), finish(c, z, relu, true)), finish(e, z, relu, true));
                *d = m;
            }
        }
    }
}

multiversion! {
    /// dst = y after bias and linear/relu, as the epilogue computes it.
    fn store_output[T: Float](y: &[T], bias: &[T], relu: bool, dst: &mut [T]) {
        if bias.is_empty() {
            for (d, &v) in dst.iter_mut().zip(y) {
                *d = finish(v, T::zero(), relu, false);
            }
        } else {
            for ((d, &v), &b) in dst.iter_mut().zip(y).zip(bias) {
                *d = finish(v, b, relu, true);
            }
        }
    }
}

/// `m = v · u` for one patch position: (nt tiles × c channels, rows `vs` apart) times (c × o
/// filters) into nt rows `ms` apart; each sum accumulated over channels in order with one
/// rounding per step (fused multiply-add).
#[allow(clippy::too_many_arguments)]
fn tile_gemm<T: Float>(v: &[T], nt: usize, c: usize, vs: usize, u: &[T], o: usize, m: &mut [T], ms: usize) {
    assert!(nt > 0 && v.len() >= (nt - 1) * vs + c && u.len() >= c * o && m.len() >= (nt - 1) * ms + o, "winograd gemm: buffers too short");
    #[cfg(target_arch = "x86_64")]
    if std::mem::size_of::<T>() == 4 && crate::runtime::simd::avx2() {
        // SAFETY: T is f32 (4 bytes, Float); the sizes were checked above; the CPU has AVX2+FMA
        // (and AVX-512 when `avx512()`).
        unsafe {
            let (v, u, m) = (v.as_ptr().cast::<f32>(), u.as_ptr().cast::<f32>(), m.as_mut_ptr().cast::<f32>());
            if crate::runtime::simd::avx512() {
                gemm_avx512(v, nt, c, vs, u, o, m, ms);
            } else {
                gemm_avx2(v, nt, c, vs, u, o, m, ms);
            }
        }
        return;
    }
    for i in 0..nt {
        for f in 0..o {
            let mut acc = T::zero();
            for ch in 0..c {
                acc = v[i * vs + ch].mul_add(u[ch * o + f], acc);
            }
            m[i * ms + f] = acc;
        }
    }
}

/// The vector paths of `tile_gemm`, written once over a lane type: tiles of up to 6 rows ×
/// `J` vectors of filters held in registers across all channels (J = 4 takes 29 of AVX-512's 32
/// registers; 2 fills AVX2's 16).
#[cfg(target_arch = "x86_64")]
macro_rules! tile_gemm_kernel {
    ($name:ident, $feature:literal, $lanes:expr, $maxj:expr, $vec:ty, $zero:expr, $set1:path, $load:path, $store:path, $fma:path, $mask_load:expr, $mask_store:expr) => {
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $name(v: *const f32, rows: usize, c: usize, vs: usize, u: *const f32, o: usize, m: *mut f32, ms: usize) {
            /// Rows `i..i + R`, filter vectors from `j` (the last may be partial).
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            unsafe fn tile<const R: usize, const J: usize>(v: *const f32, c: usize, vs: usize, u: *const f32, o: usize, m: *mut f32, ms: usize, i: usize, j: usize) {
                let lanes: [usize; J] = std::array::from_fn(|q| (o - j - q * $lanes).min($lanes));
                let mut acc = [[$zero; J]; R];
                for ch in 0..c {
                    let uv: [$vec; J] = std::array::from_fn(|q| {
                        let p = u.add(ch * o + j + q * $lanes);
                        if lanes[q] == $lanes { $load(p) } else { $mask_load(p, lanes[q]) }
                    });
                    for r in 0..R {
                        let a = $set1(*v.add((i + r) * vs + ch));
                        for q in 0..J {
                            acc[r][q] = $fma(a, uv[q], acc[r][q]);
                        }
                    }
                }
                for r in 0..R {
                    for q in 0..J {
                        let dst = m.add((i + r) * ms + j + q * $lanes);
                        if lanes[q] == $lanes {
                            $store(dst, acc[r][q]);
                        } else {
                            $mask_store(dst, acc[r][q], lanes[q]);
                        }
                    }
                }
            }
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            unsafe fn rows_of<const J: usize>(v: *const f32, rows: usize, c: usize, vs: usize, u: *const f32, o: usize, m: *mut f32, ms: usize, j: usize) {
                let mut i = 0;
                while i + 6 <= rows {
                    tile::<6, J>(v, c, vs, u, o, m, ms, i, j);
                    i += 6;
                }
                match rows - i {
                    1 => tile::<1, J>(v, c, vs, u, o, m, ms, i, j),
                    2 => tile::<2, J>(v, c, vs, u, o, m, ms, i, j),
                    3 => tile::<3, J>(v, c, vs, u, o, m, ms, i, j),
                    4 => tile::<4, J>(v, c, vs, u, o, m, ms, i, j),
                    5 => tile::<5, J>(v, c, vs, u, o, m, ms, i, j),
                    _ => {}
                }
            }
            let mut j = 0;
            while j < o {
                let vectors = (o - j).div_ceil($lanes);
                if vectors >= $maxj {
                    rows_of::<{ $maxj }>(v, rows, c, vs, u, o, m, ms, j);
                    j += $maxj * $lanes;
                } else if vectors >= 2 {
                    rows_of::<2>(v, rows, c, vs, u, o, m, ms, j);
                    j += 2 * $lanes;
                } else {
                    rows_of::<1>(v, rows, c, vs, u, o, m, ms, j);
                    j += $lanes;
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

#[cfg(target_arch = "x86_64")]
tile_gemm_kernel!(
    gemm_avx512,
    "avx512f,avx2,fma",
    16,
    4,
    __m512,
    _mm512_setzero_ps(),
    _mm512_set1_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_fmadd_ps,
    crate::runtime::simd::load_tail16,
    crate::runtime::simd::store_tail16
);

#[cfg(target_arch = "x86_64")]
tile_gemm_kernel!(
    gemm_avx2,
    "avx2,fma",
    8,
    2,
    __m256,
    _mm256_setzero_ps(),
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_fmadd_ps,
    crate::runtime::simd::load_tail8,
    crate::runtime::simd::store_tail8
);

#[cfg(test)]
mod tests {
    use super::super::conv::geometry;
    use super::*;
    use crate::ops::testing::*;
    use crate::ops::{conv, conv_max_pool, ConvSpec};
    use crate::tensor::{DType, Tensor};

    fn spec(pad: [(usize, usize); 2]) -> ConvSpec {
        ConvSpec { strides: vec![1, 1], dilation: vec![1, 1], padding: pad.to_vec(), groups: 1 }
    }

    fn f32s(t: &Tensor) -> Tensor {
        crate::ops::cast(t, DType::F32).unwrap()
    }

    /// (input, filters, padding): tasks of line pairs (even output heights) or of samples (odd),
    /// padding on one side, channel and filter counts off the vector width, groups of tiles
    /// with a remainder.
    fn cases() -> Vec<(Vec<usize>, usize, [(usize, usize); 2])> {
        vec![
            (vec![4, 13, 13, 32], 64, [(0, 0); 2]),
            (vec![8, 8, 7, 9], 100, [(1, 1), (0, 1)]),
            (vec![8, 7, 9, 8], 20, [(0, 0); 2]),
            (vec![7, 10, 6, 17], 40, [(1, 1); 2]),
            (vec![9, 9, 9, 8], 24, [(0, 0); 2]),
            (vec![3, 28, 30, 12], 33, [(1, 1); 2]),
        ]
    }

    #[test]
    fn f32_convs_take_winograd_and_match_the_direct_f64_sums() {
        for (xs, o, pad) in cases() {
            let (x, w, b) = (rand64(&xs, 1), rand64(&[3, 3, xs[3], o], 2), rand64(&[o], 3));
            let g = geometry("conv", &xs, &[3, 3, xs[3], o], &spec(pad)).unwrap();
            assert!(applies::<f32>(&g) && !applies::<f64>(&g));
            for act in [Activation::Linear, Activation::Relu, Activation::Tanh, Activation::Softmax] {
                let want = vals(&conv(&x, &w, Some(&b), &spec(pad), act).unwrap());
                let got = conv(&f32s(&x), &f32s(&w), Some(&f32s(&b)), &spec(pad), act).unwrap();
                assert_eq!(got.dtype(), DType::F32);
                let got = vals(&got);
                assert_eq!(got.len(), want.len());
                // The sums have 9 · channels terms of magnitude ≤ 1: a few f32 ulps of that.
                let tol = 2e-6 * (9 * xs[3]) as f64;
                for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                    assert!((a - b).abs() <= tol, "{xs:?} {o} {pad:?} {act:?} [{i}]: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn a_tiny_image_keeps_the_direct_path() {
        // 3 × 3 tiles at batch 1, 18 at batch 2; the cnn benchmark's conv2 has 36 at batch 1.
        let g = |n: usize, h: usize| geometry("conv", &[n, h, h, 32], &[3, 3, 32, 64], &spec([(0, 0); 2])).unwrap();
        assert!(!applies::<f32>(&g(1, 8)) && applies::<f32>(&g(2, 8)) && applies::<f32>(&g(1, 13)));
    }

    #[test]
    fn winograd_is_the_same_for_any_thread_count_and_simd_path() {
        for (xs, o, pad) in cases() {
            let (x, w, b) = (f32s(&rand64(&xs, 4)), f32s(&rand64(&[3, 3, xs[3], o], 5)), f32s(&rand64(&[o], 6)));
            assert_same_for_any_thread_count_and_simd_path(|| vals(&conv(&x, &w, Some(&b), &spec(pad), Activation::Relu).unwrap()));
            if pad == [(0, 0); 2] {
                assert_same_for_any_thread_count_and_simd_path(|| vals(&conv_max_pool(&x, &w, Some(&b), &spec(pad), Activation::Relu, &[2, 2]).unwrap()));
            }
        }
    }

    #[test]
    fn pooled_winograd_is_conv_then_pool() {
        // 2×2 windows pool the tiles; other windows run conv (Winograd) then pool.
        for (xs, o, pad) in cases() {
            let (x, w, b) = (f32s(&rand64(&xs, 7)), f32s(&rand64(&[3, 3, xs[3], o], 8)), f32s(&rand64(&[o], 9)));
            for pool in [[2, 2], [3, 2]] {
                let none = vec![(0, 0); 2];
                for act in [Activation::Relu, Activation::Softmax] {
                    let want = crate::ops::pool(&conv(&x, &w, Some(&b), &spec(pad), act).unwrap(), &pool, &pool, &none, crate::ops::PoolMode::Max).unwrap();
                    let got = conv_max_pool(&x, &w, Some(&b), &spec(pad), act, &pool).unwrap();
                    assert_eq!(got.shape(), want.shape());
                    assert_eq!(vals(&got), vals(&want), "{xs:?} {o} {pool:?} {act:?}");
                }
            }
        }
    }

    #[test]
    fn a_cached_kernel_transform_follows_the_kernel_values() {
        // Inference calls reuse the transform of a kernel's buffer; writing the kernel (copy on
        // write, the cache's reference makes it shared) gives a new buffer and a new transform.
        let xs = [1, 13, 13, 32];
        let x = f32s(&rand64(&xs, 12));
        let mut w = f32s(&rand64(&[3, 3, 32, 64], 13));
        assert!(applies::<f32>(&geometry("conv", &xs, &[3, 3, 32, 64], &spec([(0, 0); 2])).unwrap()));
        let run = |w: &Tensor| (vals(&conv(&x, w, None, &spec([(0, 0); 2]), Activation::Linear).unwrap()), vals(&conv_max_pool(&x, w, None, &spec([(0, 0); 2]), Activation::Linear, &[2, 2]).unwrap()));
        let fresh = |w: &Tensor| run(&Tensor::from_vec(w.to_vec::<f32>().unwrap(), w.shape()).unwrap());
        let first = run(&w);
        assert_eq!(run(&w), first);
        assert_eq!(fresh(&w), first);
        let before = w.storage().base_ptr();
        w.make_mut::<f32>().unwrap()[5 * 64 + 7] += 1.0;
        assert_ne!(w.storage().base_ptr(), before, "a cached kernel is shared: writing it copies");
        let changed = run(&w);
        assert_ne!(changed, first);
        assert_eq!(changed, fresh(&w));
        assert_eq!(run(&w), changed);
    }

    #[test]
    fn a_foreign_kernel_buffer_is_never_cached() {
        // Memory lent by another owner (a numpy array) may change between calls.
        let xs = [1, 13, 13, 32];
        let x = f32s(&rand64(&xs, 14));
        let mut values: Vec<f32> = vals(&rand64(&[3, 3, 32, 64], 15)).iter().map(|&v| v as f32).collect();
        let ptr = values.as_mut_ptr();
        let len = values.len();
        // SAFETY: `values` outlives every use of the tensor and is written only between calls.
        let buffer = unsafe { Buffer::foreign(ptr, len, Box::new(())) };
        let w = Tensor::new(crate::tensor::Storage::F32(Arc::new(buffer)), crate::tensor::Layout::contiguous(&[3, 3, 32, 64])).unwrap();
        let run = || vals(&conv_max_pool(&x, &w, None, &spec([(0, 0); 2]), Activation::Linear, &[2, 2]).unwrap());
        let first = run();
        // SAFETY: as above; no call is running.
        unsafe { *ptr.add(5 * 64 + 7) += 1.0 };
        let changed = run();
        assert_ne!(changed, first);
        let owned = Tensor::from_vec(values.clone(), &[3, 3, 32, 64]).unwrap();
        assert_eq!(changed, vals(&conv_max_pool(&x, &owned, None, &spec([(0, 0); 2]), Activation::Linear, &[2, 2]).unwrap()));
        drop(w);
        drop(values);
    }

    #[test]
    fn a_nan_reaches_exactly_the_outputs_whose_windows_hold_it() {
        // A NaN input pixel makes every output whose window covers it NaN (as the direct sum
        // does), and no other.
        let xs = [24, 6, 6, 8];
        let mut xv = vals(&rand64(&xs, 10)).iter().map(|&v| v as f32).collect::<Vec<_>>();
        xv[(2 * 6 + 3) * 8 + 5] = f32::NAN;
        let x = Tensor::from_vec(xv, &xs).unwrap();
        let w = f32s(&rand64(&[3, 3, 8, 16], 11));
        assert!(applies::<f32>(&geometry("conv", &xs, &[3, 3, 8, 16], &spec([(0, 0); 2])).unwrap()));
        let y = vals(&conv(&x, &w, None, &spec([(0, 0); 2]), Activation::Linear).unwrap());
        for s in 0..24 {
            for i in 0..4 {
                for j in 0..4 {
                    let covers = s == 0 && (i..i + 3).contains(&2) && (j..j + 3).contains(&3);
                    for f in 0..16 {
                        assert_eq!(y[((s * 4 + i) * 4 + j) * 16 + f].is_nan(), covers, "output {s} ({i}, {j})");
                    }
                }
            }
        }
    }
}
