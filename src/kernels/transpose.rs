//! Out-of-place transpose of a row-major matrix. Backward passes multiply by a transposed copy of
//! a weight matrix (the gemm crate is ~2x slower with a column-major right operand), so this runs
//! every training step: 8×8 (4-byte elements) and 4×4 (8-byte) register tiles with AVX, output
//! rows split over the pool. A pure copy, so every path gives the same result.

use crate::runtime::par_chunks_mut;
#[cfg(target_arch = "x86_64")]
use crate::runtime::simd;

/// Elements per parallel chunk (whole groups of 8 output rows).
const CHUNK: usize = 1 << 15;

/// The transpose of a row-major `rows×cols` matrix, as a new row-major `cols×rows` one.
pub fn transposed<T: Copy + Default + Send + Sync>(src: &[T], rows: usize, cols: usize) -> Vec<T> {
    assert!(src.len() >= rows * cols, "transposed: source too short");
    let mut out = vec![T::default(); rows * cols];
    if rows == 0 || cols == 0 {
        return out;
    }
    let out_rows = (CHUNK / rows).max(1).next_multiple_of(8);
    par_chunks_mut(&mut out, out_rows * rows, |start, chunk| {
        let c0 = start / rows;
        let part = Part { src, rows, cols, c0 };
        part.run(c0 + chunk.len() / rows, chunk);
    });
    out
}

/// One chunk's job: output rows (source columns) from `c0`, written to a chunk whose first row
/// is row `c0` of the output.
struct Part<'a, T> {
    src: &'a [T],
    rows: usize,
    cols: usize,
    c0: usize,
}

impl<T: Copy> Part<'_, T> {
    fn run(&self, c1: usize, out: &mut [T]) {
        #[cfg(target_arch = "x86_64")]
        if simd::avx2() {
            let tile = match std::mem::size_of::<T>() {
                4 => 8,
                8 => 4,
                _ => 0,
            };
            if tile > 0 {
                let (r_end, c_end) = (self.rows / tile * tile, self.c0 + (c1 - self.c0) / tile * tile);
                // SAFETY: AVX is available (implied by AVX2). Elements are moved as raw bits of
                // their size; every tile read is inside `src` (rows < r_end <= rows, columns
                // < c_end <= cols) and every write inside `out` (rows c0..c_end of the chunk).
                unsafe {
                    if tile == 8 {
                        avx::tiles_32(self.src.as_ptr().cast(), self.rows, self.cols, self.c0, c_end, r_end, out.as_mut_ptr().cast());
                    } else {
                        avx::tiles_64(self.src.as_ptr().cast(), self.rows, self.cols, self.c0, c_end, r_end, out.as_mut_ptr().cast());
                    }
                }
                // The edges the tiles leave: the last rows of the tiled columns, then the last columns.
                self.scalar(self.c0..c_end, r_end..self.rows, out);
                self.scalar(c_end..c1, 0..self.rows, out);
                return;
            }
        }
        self.scalar(self.c0..c1, 0..self.rows, out);
    }

    fn scalar(&self, cols: std::ops::Range<usize>, rows: std::ops::Range<usize>, out: &mut [T]) {
        const TILE: usize = 32;
        for rt in rows.clone().step_by(TILE) {
            for ct in cols.clone().step_by(TILE) {
                for r in rt..(rt + TILE).min(rows.end) {
                    for c in ct..(ct + TILE).min(cols.end) {
                        out[(c - self.c0) * self.rows + r] = self.src[r * self.cols + c];
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    /// 8×8 tiles of 4-byte elements: source rows `0..r_end`, columns `c0..c_end` (multiples of 8
    /// from `c0`), written to `out` whose row 0 is output row `c0`.
    #[target_feature(enable = "avx")]
    pub unsafe fn tiles_32(src: *const f32, rows: usize, cols: usize, c0: usize, c_end: usize, r_end: usize, out: *mut f32) {
        for r in (0..r_end).step_by(8) {
            for c in (c0..c_end).step_by(8) {
                let s = src.add(r * cols + c);
                let v: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(s.add(i * cols)));
                let t0 = _mm256_unpacklo_ps(v[0], v[1]);
                let t1 = _mm256_unpackhi_ps(v[0], v[1]);
                let t2 = _mm256_unpacklo_ps(v[2], v[3]);
                let t3 = _mm256_unpackhi_ps(v[2], v[3]);
                let t4 = _mm256_unpacklo_ps(v[4], v[5]);
                let t5 = _mm256_unpackhi_ps(v[4], v[5]);
                let t6 = _mm256_unpacklo_ps(v[6], v[7]);
                let t7 = _mm256_unpackhi_ps(v[6], v[7]);
                let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                let o = [
                    _mm256_permute2f128_ps::<0x20>(u0, u4),
                    _mm256_permute2f128_ps::<0x20>(u1, u5),
                    _mm256_permute2f128_ps::<0x20>(u2, u6),
                    _mm256_permute2f128_ps::<0x20>(u3, u7),
                    _mm256_permute2f128_ps::<0x31>(u0, u4),
                    _mm256_permute2f128_ps::<0x31>(u1, u5),
                    _mm256_permute2f128_ps::<0x31>(u2, u6),
                    _mm256_permute2f128_ps::<0x31>(u3, u7),
                ];
                let d = out.add((c - c0) * rows + r);
                for (j, row) in o.iter().enumerate() {
                    _mm256_storeu_ps(d.add(j * rows), *row);
                }
            }
        }
    }

    /// 4×4 tiles of 8-byte elements, as `tiles_32`.
    #[target_feature(enable = "avx")]
    pub unsafe fn tiles_64(src: *const f64, rows: usize, cols: usize, c0: usize, c_end: usize, r_end: usize, out: *mut f64) {
        for r in (0..r_end).step_by(4) {
            for c in (c0..c_end).step_by(4) {
                let s = src.add(r * cols + c);
                let v: [__m256d; 4] = std::array::from_fn(|i| _mm256_loadu_pd(s.add(i * cols)));
                let t0 = _mm256_unpacklo_pd(v[0], v[1]);
                let t1 = _mm256_unpackhi_pd(v[0], v[1]);
                let t2 = _mm256_unpacklo_pd(v[2], v[3]);
                let t3 = _mm256_unpackhi_pd(v[2], v[3]);
                let o = [
                    _mm256_permute2f128_pd::<0x20>(t0, t2),
                    _mm256_permute2f128_pd::<0x20>(t1, t3),
                    _mm256_permute2f128_pd::<0x31>(t0, t2),
                    _mm256_permute2f128_pd::<0x31>(t1, t3),
                ];
                let d = out.add((c - c0) * rows + r);
                for (j, row) in o.iter().enumerate() {
                    _mm256_storeu_pd(d.add(j * rows), *row);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::transposed;
    use crate::runtime::simd;

    fn check<T: Copy + Default + Send + Sync + PartialEq + std::fmt::Debug>(make: impl Fn(usize) -> T) {
        // Shapes around the tile sizes and the chunking (odd edges, one row, tall and wide).
        for &(rows, cols) in &[(1, 1), (1, 9), (9, 1), (8, 8), (7, 13), (35, 70), (64, 512), (513, 33), (300, 260)] {
            let src: Vec<T> = (0..rows * cols).map(&make).collect();
            for scalar in [false, true] {
                simd::set_scalar(scalar);
                let t = transposed(&src, rows, cols);
                for r in 0..rows {
                    for c in 0..cols {
                        assert_eq!(t[c * rows + r], src[r * cols + c], "{rows}x{cols} at ({r}, {c}), scalar={scalar}");
                    }
                }
            }
            simd::set_scalar(false);
        }
    }

    #[test]
    fn transposed_swaps_rows_and_columns() {
        check(|i| i as f32);
        check(|i| i as f64);
        check(|i| i as u32);
        check(|i| i as u16);
    }
}
