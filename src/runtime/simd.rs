//! Which vector path the hand-written kernels take. The AVX-512 (x86-64-v4) or AVX2+FMA path is
//! chosen at run time (the wheel is baseline x86-64); `RKERAS_SIMD=avx2` caps it at AVX2 and
//! `RKERAS_SIMD=scalar` (or `set_scalar(true)`) forces the portable scalar path, which is always
//! compiled, so tests cover every path and other architectures keep building. All paths compute
//! the same expressions in the same order, fusing a multiply-add only where every path fuses it
//! (`mul_add` in the scalar one), so they agree bit for bit.

use std::sync::atomic::{AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const SCALAR: u8 = 1;
const AVX2: u8 = 2;
const AVX512: u8 = 3;

static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

fn detect() -> u8 {
    let requested = std::env::var("RKERAS_SIMD").unwrap_or_default().to_ascii_lowercase();
    if requested == "scalar" {
        return SCALAR;
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        let has_v4 = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512vl");
        return if has_v4 && requested != "avx2" { AVX512 } else { AVX2 };
    }
    SCALAR
}

#[inline]
fn mode() -> u8 {
    let mut m = MODE.load(Ordering::Relaxed);
    if m == UNKNOWN {
        m = detect();
        MODE.store(m, Ordering::Relaxed);
    }
    m
}

/// True when kernels should take a vector path (AVX2+FMA, or AVX-512 which includes it).
#[inline]
pub fn avx2() -> bool {
    mode() >= AVX2
}

/// True when kernels should take the AVX-512 (x86-64-v4) path.
#[inline]
pub fn avx512() -> bool {
    mode() == AVX512
}

/// Force the scalar path (`true`) or return to detection (`false`).
pub fn set_scalar(scalar: bool) {
    MODE.store(if scalar { SCALAR } else { UNKNOWN }, Ordering::Relaxed);
}

/// Cap the vector path at AVX2 (`true`, when the CPU has it) or return to detection (`false`):
/// lets tests compare the AVX2 and AVX-512 versions on a machine that has both.
pub fn set_avx2_cap(cap: bool) {
    MODE.store(UNKNOWN, Ordering::Relaxed);
    if cap && mode() == AVX512 {
        MODE.store(AVX2, Ordering::Relaxed);
    }
}

/// Name of the active path: "avx512", "avx2" or "scalar".
pub fn active() -> &'static str {
    match mode() {
        AVX512 => "avx512",
        AVX2 => "avx2",
        _ => "scalar",
    }
}

/// Define `$name` (safe) that runs `$body` compiled for AVX-512 when `avx512()` is on, for AVX2+FMA
/// when `avx2()` is, and for the baseline target otherwise. The body must be plain loops the compiler can vectorize;
/// closures it calls are inlined into each version. Generics go in brackets:
/// `multiversion! { pub fn map[T: Copy, F: Fn(T) -> T](x: &mut [T], f: F) { ... } }`
#[macro_export]
macro_rules! multiversion {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident [$($gen:tt)*] ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$meta])*
        #[inline]
        $vis fn $name<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic<$($gen)*>($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
                generic($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
            unsafe fn avx512<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
                generic($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            if $crate::runtime::simd::avx512() {
                // SAFETY: `avx512()` is true only when the CPU reports AVX-512 F/BW/DQ/VL.
                return unsafe { avx512($($arg),*) };
            }
            #[cfg(target_arch = "x86_64")]
            if $crate::runtime::simd::avx2() {
                // SAFETY: `avx2()` is true only when the CPU reports AVX2 and FMA.
                return unsafe { avx2($($arg),*) };
            }
            generic($($arg),*)
        }
    };
}

/// Lane masks of the first `lanes` lanes (for the masked loads and stores of a row's tail).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tail_mask16(lanes: usize) -> std::arch::x86_64::__mmask16 {
    ((1u32 << lanes) - 1) as std::arch::x86_64::__mmask16
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tail_mask8(lanes: usize) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

// The first `lanes` lanes of a row's tail, loaded (the rest zero) or stored, for the
// hand-written AVX-512 / AVX2 kernels written over a lane type (`kernels::skinny`, the narrow
// convolution, Winograd's products): one definition each, passed to their macros.

/// # Safety
/// The CPU has AVX-512F; `p` is valid for `lanes` ≤ 16 floats.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn load_tail16(p: *const f32, lanes: usize) -> std::arch::x86_64::__m512 {
    std::arch::x86_64::_mm512_maskz_loadu_ps(tail_mask16(lanes), p)
}

/// # Safety
/// As `load_tail16`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store_tail16(p: *mut f32, v: std::arch::x86_64::__m512, lanes: usize) {
    std::arch::x86_64::_mm512_mask_storeu_ps(p, tail_mask16(lanes), v)
}

/// # Safety
/// The CPU has AVX2; `p` is valid for `lanes` ≤ 8 floats.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn load_tail8(p: *const f32, lanes: usize) -> std::arch::x86_64::__m256 {
    std::arch::x86_64::_mm256_maskload_ps(p, tail_mask8(lanes))
}

/// # Safety
/// As `load_tail8`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_tail8(p: *mut f32, v: std::arch::x86_64::__m256, lanes: usize) {
    std::arch::x86_64::_mm256_maskstore_ps(p, tail_mask8(lanes), v)
}
