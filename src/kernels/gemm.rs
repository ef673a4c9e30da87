//! The one matrix-multiply entry point of the crate. Every matmul (ops, and later dense/conv/RNN
//! kernels) goes through `gemm`, which checks bounds and calls the `gemm` crate.
//!
//! Note the `gemm` crate's convention: `dst := alpha * dst + beta * lhs * rhs` — alpha scales the
//! old destination and beta the product, the reverse of BLAS. `gemm_crate_convention` pins it.

use crate::runtime::pool;
use crate::tensor::Float;

/// A read-only strided matrix inside a slice: element (i, j) is `data[offset + i*rs + j*cs]`.
#[derive(Clone, Copy)]
pub struct Mat<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> Mat<'a, T> {
    /// Row-major `rows × cols` matrix starting at `offset`.
    pub fn row_major(data: &'a [T], offset: usize, cols: usize) -> Self {
        Mat { data, offset, rs: cols, cs: 1 }
    }

    /// The transpose (a view: strides swapped).
    pub fn t(self) -> Self {
        Mat { rs: self.cs, cs: self.rs, ..self }
    }

    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0 || cols == 0 || self.offset + (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
}

/// Work (m·n·k) from which a single product is split across threads. Measured on 2 cores with
/// benches/matmul_vs_numpy.py: up to 128³ one thread is faster (the split's overhead and the
/// crate's per-thread packing cost more than the second core gains); from 256³ two are.
pub const PARALLEL_MIN_WORK: usize = 1 << 22;

/// Below `PARALLEL_MIN_WORK`, products from this much work are split by rows of `c` instead: each
/// thread runs the single-threaded kernel on its own block of rows (no shared packing to wait on).
pub const ROW_SPLIT_MIN_WORK: usize = 1 << 18;

/// The transpose of a row-major `rows×cols` matrix, as a new row-major `cols×rows` one.
/// The gemm crate multiplies by a row-major right operand about twice as fast as by a
/// transposed (column-major) view, so backward passes multiply by `transposed(kernel)` rather
/// than by `kernel.t()`. Copies 32×32 tiles so both sides stay in cache.
pub fn transposed<T: Copy + Default>(src: &[T], rows: usize, cols: usize) -> Vec<T> {
    const TILE: usize = 32;
    let mut out = vec![T::default(); rows * cols];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
    out
}

/// `c[m×n] = a[m×k] · b[k×n]` (`+ c` when `accumulate`), with `c` row-major with row stride `ldc`.
/// `parallel` lets the product use the pool (callers already running in parallel pass false).
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    c: &mut [T],
    c_offset: usize,
    ldc: usize,
    accumulate: bool,
    parallel: bool,
) {
    assert!(a.fits(m, k) && b.fits(k, n), "gemm: operand out of bounds");
    assert!(m == 0 || n == 0 || c_offset + (m - 1) * ldc + n <= c.len(), "gemm: output out of bounds");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                c[c_offset + i * ldc..c_offset + i * ldc + n].fill(T::zero());
            }
        }
        return;
    }
    let threads = pool::num_threads();
    let work = m * n * k;
    if parallel && threads > 1 && (ROW_SPLIT_MIN_WORK..PARALLEL_MIN_WORK).contains(&work) && m >= 2 * 8 {
        // Row blocks a multiple of 8 (the kernels' register tile height), one per thread.
        let rows = (m.div_ceil(threads)).div_ceil(8) * 8;
        let region = &mut c[c_offset..c_offset + (m - 1) * ldc + n];
        pool::par_chunks_mut(region, rows * ldc, |start, block| {
            let r0 = start / ldc;
            let a_rows = Mat { offset: a.offset + r0 * a.rs, ..a };
            gemm(rows.min(m - r0), n, k, a_rows, b, block, 0, ldc, accumulate, false);
        });
        return;
    }
    let par = parallel && threads > 1 && work >= PARALLEL_MIN_WORK;
    let mut call = |parallelism| {
        // SAFETY: bounds of all three matrices were checked above; `c` is uniquely borrowed.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr().add(c_offset),
                1,
                ldc as isize,
                accumulate,
                a.data.as_ptr().add(a.offset),
                a.cs as isize,
                a.rs as isize,
                b.data.as_ptr().add(b.offset),
                b.cs as isize,
                b.rs as isize,
                T::one(),
                T::one(),
                false,
                false,
                false,
                parallelism,
            )
        }
    };
    if par {
        pool::install(|| call(gemm::Parallelism::Rayon(0)));
    } else {
        call(gemm::Parallelism::None);
    }
}

/// Plain triple loop, the reference the tests compare against.
pub fn naive<T: Float>(m: usize, n: usize, k: usize, a: Mat<'_, T>, b: Mat<'_, T>) -> Vec<T> {
    let mut c = vec![T::zero(); m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = T::zero();
            for p in 0..k {
                s += a.data[a.offset + i * a.rs + p * a.cs] * b.data[b.offset + p * b.rs + j * b.cs];
            }
            c[i * n + j] = s;
        }
    }
    c
}

#[cfg(test)]
mod transpose_tests {
    #[test]
    fn transposed_swaps_rows_and_columns() {
        let src: Vec<u32> = (0..35 * 70).collect();
        let t = super::transposed(&src, 35, 70);
        for r in 0..35 {
            for c in 0..70 {
                assert_eq!(t[c * 35 + r], src[r * 70 + c]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_crate_convention() {
        // dst := alpha*dst + beta*lhs*rhs: with alpha=2, beta=3 on 1x1 matrices 5 + ... pins the order.
        let (mut dst, lhs, rhs) = ([5.0f64], [7.0f64], [11.0f64]);
        unsafe {
            gemm::gemm(1, 1, 1, dst.as_mut_ptr(), 1, 1, true, lhs.as_ptr(), 1, 1, rhs.as_ptr(), 1, 1, 2.0, 3.0, false, false, false, gemm::Parallelism::None);
        }
        assert_eq!(dst[0], 2.0 * 5.0 + 3.0 * 7.0 * 11.0);
    }

    fn check(m: usize, n: usize, k: usize, transpose_a: bool, transpose_b: bool, parallel: bool) {
        let av: Vec<f64> = (0..m * k + 3).map(|i| ((i * 7) % 13) as f64 - 6.0).collect();
        let bv: Vec<f64> = (0..k * n + 5).map(|i| ((i * 5) % 11) as f64 - 5.0).collect();
        // Stored transposed when requested, with a leading offset to exercise offsets.
        let a = if transpose_a { Mat::row_major(&av, 3, m).t() } else { Mat::row_major(&av, 3, k) };
        let b = if transpose_b { Mat::row_major(&bv, 5, k).t() } else { Mat::row_major(&bv, 5, n) };
        let mut c = vec![1.0f64; m * n];
        gemm(m, n, k, a, b, &mut c, 0, n, true, parallel);
        let r = naive(m, n, k, a, b);
        for (x, y) in c.iter().zip(&r) {
            assert!((x - (y + 1.0)).abs() < 1e-9, "{x} vs {}", y + 1.0);
        }
    }

    #[test]
    fn gemm_matches_naive_for_strided_and_transposed_operands() {
        for &(m, n, k) in &[(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 65, 66), (128, 100, 96)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    check(m, n, k, ta, tb, true);
                    check(m, n, k, ta, tb, false);
                }
            }
        }
    }
}
