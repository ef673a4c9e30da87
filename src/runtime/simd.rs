//! Which vector path the hand-written kernels take. The AVX2+FMA path is chosen at run time (the
//! wheel is baseline x86-64); `RKERAS_SIMD=scalar` or `set_scalar(true)` forces the portable scalar
//! path, which is always compiled, so tests cover both and other architectures keep building.
//! Both paths compute the same expressions in the same order, so they agree bit for bit.

use std::sync::atomic::{AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const SCALAR: u8 = 1;
const AVX2: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

fn detect() -> u8 {
    if std::env::var("RKERAS_SIMD").map(|v| v.eq_ignore_ascii_case("scalar")).unwrap_or(false) {
        return SCALAR;
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        return AVX2;
    }
    SCALAR
}

/// True when kernels should take the AVX2+FMA path.
#[inline]
pub fn avx2() -> bool {
    let mut m = MODE.load(Ordering::Relaxed);
    if m == UNKNOWN {
        m = detect();
        MODE.store(m, Ordering::Relaxed);
    }
    m == AVX2
}

/// Force the scalar path (`true`) or return to detection (`false`).
pub fn set_scalar(scalar: bool) {
    MODE.store(if scalar { SCALAR } else { UNKNOWN }, Ordering::Relaxed);
}

/// Name of the active path: "avx2" or "scalar".
pub fn active() -> &'static str {
    if avx2() {
        "avx2"
    } else {
        "scalar"
    }
}

/// Define `$name` (safe) that runs `$body` compiled for AVX2+FMA when `avx2()` is on and compiled
/// for the baseline target otherwise. The body must be plain loops the compiler can vectorize;
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
            if $crate::runtime::simd::avx2() {
                // SAFETY: `avx2()` is true only when the CPU reports AVX2 and FMA.
                return unsafe { avx2($($arg),*) };
            }
            generic($($arg),*)
        }
    };
}
