//! Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy
//! as 1, 2, 3", SC11). A block of four 32-bit words is a pure function of (key, counter), so
//! element `i` of a random tensor is computed from block `i / per_block` wherever and on whichever
//! thread it is generated: values never depend on the thread count or the chunking.
//!
//! Layout used by the random ops: key = the mixed 64-bit seed, counter = [block index (low, high
//! 32 bits), stream, 0]. `stream` lets an op draw again for the same element (truncated normal).

use crate::multiversion;
use crate::runtime::par_chunks_mut;

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Elements per parallel chunk of a random kernel (a multiple of every `per_block`).
pub const CHUNK: usize = 1 << 13;

/// One Philox4x32 block with 10 rounds.
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (ctr, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let p0 = M0 as u64 * c[0] as u64;
        let p1 = M1 as u64 * c[2] as u64;
        c = [(p1 >> 32) as u32 ^ c[1] ^ k[0], p1 as u32, (p0 >> 32) as u32 ^ c[3] ^ k[1], p0 as u32];
    }
    c
}

/// A Philox key derived from a user seed. The seed goes through splitmix64 so that nearby seeds
/// (0, 1, 2, ...) give unrelated keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key([u32; 2]);

impl Key {
    pub fn from_seed(seed: u64) -> Key {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Key([z as u32, (z >> 32) as u32])
    }

    /// The four words of block `block` in stream `stream`.
    #[inline(always)]
    pub fn block(self, block: u64, stream: u32) -> [u32; 4] {
        philox4x32_10([block as u32, (block >> 32) as u32, stream, 0], self.0)
    }
}

/// A float in [0, 1) from the top 24 bits of a word (every value exactly representable in f32).
#[inline(always)]
pub fn unit_f32(w: u32) -> f32 {
    (w >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// A float in [0, 1) from the top 53 bits of two words.
#[inline(always)]
pub fn unit_f64(hi: u32, lo: u32) -> f64 {
    ((((hi as u64) << 32) | lo as u64) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Two independent standard normals from one block (Box–Muller on two 53-bit uniforms). The
/// first uniform is mapped to (0, 1] so the logarithm is finite.
#[inline(always)]
pub fn normal_pair(w: [u32; 4]) -> (f64, f64) {
    let u1 = 1.0 - unit_f64(w[0], w[1]);
    let u2 = unit_f64(w[2], w[3]);
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

multiversion! {
    fn fill_blocks[T: Copy, F: Fn(u64, &mut [T])](out: &mut [T], first_block: u64, per_block: usize, gen: &F) {
        for (j, part) in out.chunks_mut(per_block).enumerate() {
            gen(first_block + j as u64, part);
        }
    }
}

/// Fill `out` in groups of `per_block` elements: `gen(b, elements)` writes elements
/// `b * per_block ..` (the last group may be shorter), normally from `key.block(b, stream)`.
/// Parallel above one chunk; the result is the same for any thread count and SIMD path.
pub fn fill<T: Copy + Send>(out: &mut [T], per_block: usize, gen: impl Fn(u64, &mut [T]) + Sync + Send) {
    debug_assert!(CHUNK % per_block == 0, "chunks must start on block boundaries");
    par_chunks_mut(out, CHUNK, |start, c| fill_blocks(c, (start / per_block) as u64, per_block, &gen));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vectors of Philox4x32-10 from Random123's `examples/kat_vectors` (D. E. Shaw
    /// Research; read from the copy in github.com/girving/random123-manual, same file): lines
    /// "philox4x32 10 CTR KEY EXPECTED".
    #[test]
    fn philox_known_answers() {
        let kats: [([u32; 4], [u32; 2], [u32; 4]); 6] = [
            ([0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
            ([u32::MAX; 4], [u32::MAX; 2], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]),
            (
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0],
                [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
            ),
            ([1, 0, 0, 0], [1, 0], [0xac08141b, 0xdfc5ccbe, 0x79c07a47, 0xa7f66093]),
            ([0, 0, 0, 0xffffffff], [0, 0xffffffff], [0x9f18bb20, 0x62161056, 0x7ea8c028, 0x4c01fc6e]),
            (
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0, 0x80000000],
                [0x63675d2c, 0x422d7c4d, 0x3145d30d, 0x3bce33a4],
            ),
        ];
        for (ctr, key, want) in kats {
            assert_eq!(philox4x32_10(ctr, key), want, "ctr {ctr:x?} key {key:x?}");
        }
    }

    #[test]
    fn unit_floats_stay_in_range() {
        assert_eq!(unit_f32(0), 0.0);
        assert!(unit_f32(u32::MAX) < 1.0);
        assert_eq!(unit_f64(0, 0), 0.0);
        assert!(unit_f64(u32::MAX, u32::MAX) < 1.0);
        let (a, b) = normal_pair([u32::MAX; 4]);
        assert!(a.is_finite() && b.is_finite());
    }

    #[test]
    fn fill_is_independent_of_chunking() {
        let key = Key::from_seed(7);
        let mut v = vec![0u32; 3 * CHUNK + 5];
        fill(&mut v, 4, |b, o| o.copy_from_slice(&key.block(b, 0)[..o.len()]));
        for i in [0, 1, 5, CHUNK + 3, 3 * CHUNK + 4] {
            assert_eq!(v[i], key.block((i / 4) as u64, 0)[i % 4]);
        }
        assert_ne!(Key::from_seed(1), Key::from_seed(2));
    }
}
