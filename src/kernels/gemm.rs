//! The one matrix-multiply entry point of the crate. Every matmul (ops, and later dense/conv/RNN
//! kernels) goes through `gemm`, which checks bounds and calls the `gemm` crate.
//!
//! Note the `gemm` crate's convention: `dst := alpha * dst + beta * lhs * rhs` — alpha scales the
//! old destination and beta the product, the reverse of BLAS. `gemm_crate_convention` pins it.

use crate::kernels::skinny;
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

/// A product is cut into blocks of about this much work (m·n·k) when big enough, and the blocks
/// are shared out over the pool, each a single-threaded gemm. The cut depends only on the shape
/// (never on the thread count), and every element of `c` is summed over `k` in the same order
/// whatever the cut, so results do not depend on the number of threads.
pub const BLOCK_WORK: usize = 1 << 18;
/// At most this many blocks (enough to keep 16+ threads busy; more would only add packing).
const MAX_BLOCKS: usize = 64;
/// Smallest block sides: register tiles are 8 rows by 16 columns or their multiples.
const MIN_BLOCK_ROWS: usize = 16;
const MIN_BLOCK_COLS: usize = 64;

/// Block height and width for an `m×n` product over `k`: halve the longer side until there
/// are `work / BLOCK_WORK` blocks (at most `MAX_BLOCKS`) or both sides reach their minimum.
fn block_shape(m: usize, n: usize, k: usize) -> (usize, usize) {
    let want = (m * n * k).div_ceil(BLOCK_WORK).min(MAX_BLOCKS);
    let (mut rows, mut cols) = (m, n);
    while m.div_ceil(rows) * n.div_ceil(cols) < want {
        let split_rows = rows >= 2 * MIN_BLOCK_ROWS;
        let split_cols = cols >= 2 * MIN_BLOCK_COLS;
        match (split_rows, split_cols) {
            (false, false) => break,
            (true, true) if rows * 4 >= cols => rows = rows.div_ceil(2).next_multiple_of(8),
            (true, false) => rows = rows.div_ceil(2).next_multiple_of(8),
            _ => cols = cols.div_ceil(2).next_multiple_of(16),
        }
    }
    (rows, cols)
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
    if parallel && threads > 1 && uses_skinny(m, n, a, b) && k * n >= SKINNY_SPLIT_MIN {
        // Reading `b` is the whole cost: one column block per thread, each streaming its part
        // (which may then stay in that core's cache across calls). Each element is summed in
        // the same order whatever the cut, so the result does not depend on the thread count.
        let cols = n.div_ceil(threads).next_multiple_of(16);
        let base = SharedPtr(c[c_offset..].as_mut_ptr());
        let base = &base;
        pool::par_ranges(n, cols, |r| {
            let b_block = Mat { offset: b.offset + r.start * b.cs, ..b };
            // SAFETY: column blocks are disjoint and inside `c` (checked above).
            unsafe { gemm_unchecked(m, r.len(), k, a, b_block, base.0.add(r.start), ldc, accumulate) };
        });
        return;
    }
    if parallel && threads > 1 && m * n * k > BLOCK_WORK {
        let (rows, cols) = block_shape(m, n, k);
        let (row_blocks, col_blocks) = (m.div_ceil(rows), n.div_ceil(cols));
        if row_blocks * col_blocks > 1 {
            let base = SharedPtr(c[c_offset..].as_mut_ptr());
            let base = &base;
            pool::par_ranges(row_blocks * col_blocks, 1, |r| {
                let (bi, bj) = (r.start / col_blocks, r.start % col_blocks);
                let (r0, c0) = (bi * rows, bj * cols);
                let a_block = Mat { offset: a.offset + r0 * a.rs, ..a };
                let b_block = Mat { offset: b.offset + c0 * b.cs, ..b };
                // SAFETY: blocks are disjoint rectangles of `c`, all inside it (checked above).
                unsafe { gemm_unchecked(rows.min(m - r0), cols.min(n - c0), k, a_block, b_block, base.0.add(r0 * ldc + c0), ldc, accumulate) };
            });
            return;
        }
    }
    // SAFETY: bounds of all three matrices were checked above; `c` is uniquely borrowed.
    unsafe { gemm_unchecked(m, n, k, a, b, c.as_mut_ptr().add(c_offset), ldc, accumulate) }
}

/// Elements of `b` from which a skinny product is split over the threads.
const SKINNY_SPLIT_MIN: usize = 1 << 15;

/// A row or a few against a row-major matrix (batch-1 inference) go to `skinny`.
fn uses_skinny<T>(m: usize, n: usize, a: Mat<'_, T>, b: Mat<'_, T>) -> bool {
    m <= skinny::MAX_ROWS && a.cs == 1 && b.cs == 1 && n >= 16
}

/// The output pointer shared by the blocks of one product.
struct SharedPtr<T>(*mut T);
// SAFETY: each block writes its own rectangle of the output.
unsafe impl<T: Send> Sync for SharedPtr<T> {}

/// One single-threaded call of the gemm crate.
///
/// # Safety
/// `a` must hold `m×k` and `b` `k×n` elements at their strides, `c` must be valid for writes of
/// an `m×n` row-major block with row stride `ldc`, not aliased by anyone else during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_unchecked<T: Float>(m: usize, n: usize, k: usize, a: Mat<'_, T>, b: Mat<'_, T>, c: *mut T, ldc: usize, accumulate: bool) {
    if uses_skinny(m, n, a, b) {
        // A row or a few against a row-major matrix (batch-1 inference): see `skinny`.
        return skinny::skinny(m, n, k, a.data.as_ptr().add(a.offset), a.rs, b.data.as_ptr().add(b.offset), b.rs, c, ldc, accumulate);
    }
    gemm::gemm(
        m,
        n,
        k,
        c,
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
        gemm::Parallelism::None,
    )
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
