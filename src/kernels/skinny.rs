//! Products with at most `MAX_ROWS` rows against a row-major right operand (batch-1 inference
//! of a dense layer: `x·W` with `x` one row). The gemm crate's path for such shapes reads `W` at
//! about half the speed the caches allow; this kernel keeps the rows' block of `C` in registers
//! and streams `W` once, row by row, with fused multiply-adds.
//!
//! Every path computes each element as `c = fma(a[p], b[p][j], c)` for p = 0, 1, …, starting from
//! 0 (or the old value when accumulating), so the AVX-512, AVX2 and scalar paths (whose
//! `mul_add` is a correctly rounded fma) give the same bits.

use crate::runtime::simd;
use crate::tensor::Float;

/// Most rows this kernel takes (its register tile holds `MAX_ROWS × 64` f32 accumulators).
pub const MAX_ROWS: usize = 4;

/// `c[m×n] = a[m×k]·b[k×n]` (`+= ` when `accumulate`): `a` rows at `a[i*lda..]`, `b` rows at
/// `b[p*ldb..]`, `c` rows at `c[i*ldc..]`, all with unit column stride.
///
/// # Safety
/// `a` must be readable for `m` rows of `k`, `b` for `k` rows of `n`, and `c` writable for `m`
/// rows of `n` elements at those strides, `c` aliased by no one else during the call.
#[allow(clippy::too_many_arguments)]
pub unsafe fn skinny<T: Float>(m: usize, n: usize, k: usize, a: *const T, lda: usize, b: *const T, ldb: usize, c: *mut T, ldc: usize, accumulate: bool) {
    debug_assert!(m <= MAX_ROWS);
    #[cfg(target_arch = "x86_64")]
    if std::mem::size_of::<T>() == 4 && simd::avx2() {
        let (a, b, c) = (a.cast::<f32>(), b.cast::<f32>(), c.cast::<f32>());
        if simd::avx512() {
            return avx512(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        }
        return avx2(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }
    for i in 0..m {
        for j in 0..n {
            let out = c.add(i * ldc + j);
            let mut acc = if accumulate { *out } else { T::zero() };
            for p in 0..k {
                acc = (*a.add(i * lda + p)).mul_add(*b.add(p * ldb + j), acc);
            }
            *out = acc;
        }
    }
}

/// The vector paths: blocks of `V` full vectors of columns, then single (possibly masked)
/// vectors for the rest; the row count is a compile-time constant in each instance, so the
/// accumulators stay in registers.
#[cfg(target_arch = "x86_64")]
macro_rules! skinny_kernel {
    ($name:ident, $feature:literal, $lanes:expr, $vec:ty, $zero:expr, $set1:path, $load:path, $store:path, $fma:path, $mask_load:expr, $mask_store:expr) => {
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $name(m: usize, n: usize, k: usize, a: *const f32, lda: usize, b: *const f32, ldb: usize, c: *mut f32, ldc: usize, accumulate: bool) {
            #[inline(always)]
            unsafe fn block<const M: usize, const V: usize>(j: usize, lanes: usize, k: usize, a: *const f32, lda: usize, b: *const f32, ldb: usize, c: *mut f32, ldc: usize, accumulate: bool) {
                // `lanes` < $lanes only for a single masked vector (V == 1).
                let full = lanes == $lanes;
                let mut acc = [[$zero; V]; M];
                if accumulate {
                    for i in 0..M {
                        for v in 0..V {
                            let src = c.add(i * ldc + j + v * $lanes);
                            acc[i][v] = if full { $load(src) } else { $mask_load(src, lanes) };
                        }
                    }
                }
                for p in 0..k {
                    let row = b.add(p * ldb + j);
                    let mut bv = [$zero; V];
                    for v in 0..V {
                        bv[v] = if full { $load(row.add(v * $lanes)) } else { $mask_load(row.add(v * $lanes), lanes) };
                    }
                    for i in 0..M {
                        let av = $set1(*a.add(i * lda + p));
                        for v in 0..V {
                            acc[i][v] = $fma(av, bv[v], acc[i][v]);
                        }
                    }
                }
                for i in 0..M {
                    for v in 0..V {
                        let dst = c.add(i * ldc + j + v * $lanes);
                        if full {
                            $store(dst, acc[i][v]);
                        } else {
                            $mask_store(dst, acc[i][v], lanes);
                        }
                    }
                }
            }
            #[inline(always)]
            unsafe fn rows<const M: usize, const V: usize>(n: usize, k: usize, a: *const f32, lda: usize, b: *const f32, ldb: usize, c: *mut f32, ldc: usize, accumulate: bool) {
                let mut j = 0;
                while j + V * $lanes <= n {
                    block::<M, V>(j, $lanes, k, a, lda, b, ldb, c, ldc, accumulate);
                    j += V * $lanes;
                }
                // The remaining full vectors in one block too (a block of one vector is a single
                // dependent chain of FMAs per row: latency-bound), e.g. the 64-column halves of a
                // 128-column product split over two threads.
                let full = (n - j) / $lanes;
                if full >= 4 && V > 4 {
                    block::<M, 4>(j, $lanes, k, a, lda, b, ldb, c, ldc, accumulate);
                    j += 4 * $lanes;
                }
                if (n - j) / $lanes >= 2 && V > 2 {
                    block::<M, 2>(j, $lanes, k, a, lda, b, ldb, c, ldc, accumulate);
                    j += 2 * $lanes;
                }
                while j < n {
                    let lanes = (n - j).min($lanes);
                    block::<M, 1>(j, lanes, k, a, lda, b, ldb, c, ldc, accumulate);
                    j += lanes;
                }
            }
            match m {
                // Wider column blocks for fewer rows: longer contiguous reads of each `b` row.
                1 => rows::<1, 8>(n, k, a, lda, b, ldb, c, ldc, accumulate),
                2 => rows::<2, 6>(n, k, a, lda, b, ldb, c, ldc, accumulate),
                3 => rows::<3, 4>(n, k, a, lda, b, ldb, c, ldc, accumulate),
                4 => rows::<4, 4>(n, k, a, lda, b, ldb, c, ldc, accumulate),
                _ => debug_assert_eq!(m, 0, "skinny products have at most {MAX_ROWS} rows"),
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

#[cfg(target_arch = "x86_64")]
skinny_kernel!(
    avx512,
    "avx512f,avx2,fma",
    16,
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
skinny_kernel!(
    avx2,
    "avx2,fma",
    8,
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
    use super::*;
    use crate::kernels::gemm::{naive, Mat};

    fn run(m: usize, n: usize, k: usize, accumulate: bool) -> Vec<f32> {
        let a: Vec<f32> = (0..m * (k + 1)).map(|i| ((i as f32) * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * (n + 5)).map(|i| ((i as f32) * 0.11).cos()).collect();
        let mut c: Vec<f32> = (0..m * (n + 2)).map(|i| i as f32 * 0.5).collect();
        unsafe { skinny(m, n, k, a.as_ptr(), k + 1, b.as_ptr(), n + 5, c.as_mut_ptr(), n + 2, accumulate) };
        let want = naive(m, n, k, Mat { data: &a, offset: 0, rs: k + 1, cs: 1 }, Mat { data: &b, offset: 0, rs: n + 5, cs: 1 });
        for i in 0..m {
            for j in 0..n + 2 {
                let old = (i * (n + 2) + j) as f32 * 0.5;
                let expect = if j >= n { old } else { want[i * n + j] + if accumulate { old } else { 0.0 } };
                assert!((c[i * (n + 2) + j] - expect).abs() < 1e-3, "{m}x{n}x{k} ({i},{j}): {} vs {expect}", c[i * (n + 2) + j]);
            }
        }
        c
    }

    #[test]
    fn skinny_matches_naive_and_every_path_gives_the_same_bits() {
        for &(m, n, k) in &[(1, 512, 784), (1, 10, 512), (1, 64, 1600), (1, 112, 20), (2, 80, 7), (2, 17, 3), (3, 64, 9), (4, 100, 33), (1, 1, 1), (4, 130, 0)] {
            for acc in [false, true] {
                let fast = run(m, n, k, acc);
                simd::set_avx2_cap(true);
                let avx2 = run(m, n, k, acc);
                simd::set_scalar(true);
                let scalar = run(m, n, k, acc);
                simd::set_scalar(false);
                assert_eq!(fast, scalar, "{m}x{n}x{k}");
                assert_eq!(avx2, scalar, "{m}x{n}x{k}");
            }
        }
    }
}
