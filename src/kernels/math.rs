//! Scalar math functions used inside elementwise kernels. Written so that a loop calling them
//! vectorizes in the AVX2 version of a `multiversion!` kernel (no calls into libm on the f32 hot
//! path), and so that the scalar and vector builds agree bit for bit: the f32 versions are plain
//! IEEE adds/multiplies/divides, bit manipulation and selects (Rust never contracts `a * b + c`
//! into an FMA, so both builds round identically). f64, the precision of tests and gradient
//! checks, uses std/libm.
//!
//! The generic functions pick the f32 implementation through `T::DTYPE`, a constant, so the
//! branch disappears at compile time and the f32 <-> f64 conversions around it cancel out.

use crate::tensor::{DType, Float};

#[inline(always)]
fn by_type<T: Float>(x: T, f32_fn: impl Fn(f32) -> f32, f64_fn: impl Fn(f64) -> f64) -> T {
    if T::DTYPE == DType::F32 {
        T::from_f64(f32_fn(x.to_f64() as f32) as f64)
    } else {
        T::from_f64(f64_fn(x.to_f64()))
    }
}

/// e^x.
#[inline(always)]
pub fn exp<T: Float>(x: T) -> T {
    by_type(x, exp_f32, f64::exp)
}

/// Natural logarithm.
#[inline(always)]
pub fn ln<T: Float>(x: T) -> T {
    by_type(x, ln_f32, f64::ln)
}

#[inline(always)]
pub fn tanh<T: Float>(x: T) -> T {
    by_type(x, tanh_f32, f64::tanh)
}

/// 1 / (1 + e^-x), stable for large |x|.
#[inline(always)]
pub fn sigmoid<T: Float>(x: T) -> T {
    by_type(x, sigmoid_f32, |v| {
        let e = (-v.abs()).exp();
        (if v >= 0.0 { 1.0 } else { e }) / (1.0 + e)
    })
}

/// ln(1 + x), accurate near 0.
#[inline(always)]
pub fn ln_1p<T: Float>(x: T) -> T {
    by_type(x, ln_1p_f32, f64::ln_1p)
}

/// e^x - 1, accurate near 0.
#[inline(always)]
pub fn exp_m1<T: Float>(x: T) -> T {
    by_type(x, exp_m1_f32, f64::exp_m1)
}

/// Error function.
#[inline(always)]
pub fn erf<T: Float>(x: T) -> T {
    by_type(x, erf_f32, libm::erf)
}

/// Complementary error function 1 - erf(x), accurate where erf(x) is close to 1 (exact GELU of
/// negative inputs needs it).
#[inline(always)]
pub fn erfc<T: Float>(x: T) -> T {
    by_type(x, erfc_f32, libm::erfc)
}

// ---- f32 implementations -------------------------------------------------------------------

/// 1.5 * 2^23: adding it to |v| < 2^22 rounds v to an integer held in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in a head with 9 significant bits (so k * LN2_HI is exact) and a tail.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// 2^k for k in [-126, 127], built from the exponent bits.
#[inline(always)]
fn pow2i(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32).wrapping_shl(23))
}

/// x = k ln2 + r with |r| <= ln2/2 (plus rounding), for |x| < 2^21.
#[inline(always)]
fn reduce_ln2(x: f32) -> (i32, f32) {
    let t = x * LOG2_E + ROUND_MAGIC;
    let k = (t.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    let kf = t - ROUND_MAGIC;
    (k, (x - kf * LN2_HI) - kf * LN2_LO)
}

/// e^r - 1 for |r| <= 0.35: Taylor series to r^7 (truncation < 2e-8 relative).
#[inline(always)]
fn expm1_poly(r: f32) -> f32 {
    let q = 1.0 / 2.0 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))));
    r + r * r * q
}

/// `p * 2^k` for k in [-252, 254], in two steps so neither factor over/underflows on its own.
#[inline(always)]
fn scale2(p: f32, k: i32) -> f32 {
    let k1 = k >> 1;
    p * pow2i(k1) * pow2i(k.wrapping_sub(k1))
}

/// Comparisons written as `if x > hi` keep NaN (every comparison with NaN is false).
#[inline(always)]
fn clamp_keep_nan(x: f32, lo: f32, hi: f32) -> f32 {
    let x = if x > hi { hi } else { x };
    if x < lo {
        lo
    } else {
        x
    }
}

#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // Beyond these bounds the result is inf / 0 anyway; clamping keeps k in range.
    let (k, r) = reduce_ln2(clamp_keep_nan(x, -104.0, 89.0));
    scale2(1.0 + expm1_poly(r), k)
}

#[inline(always)]
pub fn exp_m1_f32(x: f32) -> f32 {
    let (k, r) = reduce_ln2(clamp_keep_nan(x, -30.0, 89.0));
    let p = expm1_poly(r);
    // For small k, 2^k p + (2^k - 1) keeps the relative precision of p near 0 (exact for k = 0);
    // once 2^k > 2^24 the "- 1" no longer matters and this is e^x.
    let s = pow2i(if k > 24 { 24 } else { k });
    let small = s * p + (s - 1.0);
    let big = scale2(1.0 + p, k);
    if k > 24 {
        big
    } else {
        small
    }
}

#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    // Subnormals: scale into the normal range first.
    let tiny = x < f32::MIN_POSITIVE;
    let xs = if tiny { x * 8_388_608.0 } else { x };
    // x = 2^e * m with m in [sqrt(1/2), sqrt(2)): subtracting the bits of sqrt(1/2) carries into
    // the exponent exactly when the mantissa is >= sqrt(2)'s.
    let bits = xs.to_bits() as i32;
    let e = bits.wrapping_sub(0x3f35_04f3) >> 23;
    let m = f32::from_bits(bits.wrapping_sub(e.wrapping_shl(23)) as u32);
    let e = (if tiny { e.wrapping_sub(23) } else { e }) as f32;
    // ln(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)) with s = f / (2 + f), R the atanh series tail.
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * (2.0 / 3.0 + z * (2.0 / 5.0 + z * (2.0 / 7.0 + z * (2.0 / 9.0))));
    let hfsq = 0.5 * f * f;
    let y = e * LN2_HI - ((hfsq - (s * (hfsq + r) + e * LN2_LO)) - f);
    let y = if x == f32::INFINITY { x } else { y };
    if x > 0.0 {
        y
    } else if x == 0.0 {
        f32::NEG_INFINITY
    } else {
        f32::NAN
    }
}

#[inline(always)]
pub fn ln_1p_f32(x: f32) -> f32 {
    let u = 1.0 + x;
    let l = ln_f32(u);
    // ln(1 + x) = ln(u) + ln(1 + (x - (u - 1)) / u): corrects the rounding of 1 + x.
    let c = (x - (u - 1.0)) / u;
    if u == 1.0 {
        x
    } else if c.is_nan() {
        l // x = -1 or x = inf (or NaN, which l carries)
    } else {
        l + c
    }
}

#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    // tanh|x| = t / (t + 2) with t = e^(2|x|) - 1; exactly 1 in f32 from |x| = 9.1 on.
    let a = clamp_keep_nan(x.abs(), 0.0, 10.0);
    let t = exp_m1_f32(2.0 * a);
    (t / (t + 2.0)).copysign(x)
}

#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    let e = exp_f32(-x.abs());
    (if x >= 0.0 { 1.0 } else { e }) / (1.0 + e)
}

/// Below this |x|, erf uses its Taylor series; above, 1 - erfc.
const ERF_SERIES_MAX: f32 = 0.8;

/// erf(x) for |x| < 0.8: x * sum_n (-1)^n 2/sqrt(pi) x^2n / (n! (2n+1)), n <= 8 (truncation < 4e-9).
#[inline(always)]
fn erf_series(x: f32) -> f32 {
    const K: f64 = std::f64::consts::FRAC_2_SQRT_PI;
    const C: [f32; 9] = [
        K as f32,
        (-K / 3.0) as f32,
        (K / 10.0) as f32,
        (-K / 42.0) as f32,
        (K / 216.0) as f32,
        (-K / 1320.0) as f32,
        (K / 9360.0) as f32,
        (-K / 75600.0) as f32,
        (K / 685440.0) as f32,
    ];
    let z = x * x;
    let p = C[0] + z * (C[1] + z * (C[2] + z * (C[3] + z * (C[4] + z * (C[5] + z * (C[6] + z * (C[7] + z * C[8])))))));
    x * p
}

/// erfc(z) for z >= 0: t e^(-z^2 + P(t)) with t = 1 / (1 + z/2), the Chebyshev fit of Press et al.
/// (Numerical Recipes, relative error < 1.2e-7 for all z >= 0).
#[inline(always)]
fn erfc_pos(z: f32) -> f32 {
    let z = clamp_keep_nan(z, 0.0, 12.0); // erfc(12) underflows to 0; also keeps inf - inf out
    let t = 1.0 / (1.0 + 0.5 * z);
    let p = -1.265_512_2
        + t * (1.000_023_7
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07 + t * (-1.135_204 + t * (1.488_515_9 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    // z^2 = zh^2 + (z - zh)(z + zh) with zh = z rounded to 12 bits, so zh^2 is exact: rounding
    // z^2 itself would cost ulp(z^2) of *relative* error in the result for large z.
    let zh = f32::from_bits(z.to_bits() & 0xffff_f000);
    t * exp_f32(-zh * zh) * exp_f32(p - (z - zh) * (z + zh))
}

#[inline(always)]
pub fn erf_f32(x: f32) -> f32 {
    let z = x.abs();
    let big = (1.0 - erfc_pos(z)).copysign(x);
    if z < ERF_SERIES_MAX {
        erf_series(x)
    } else {
        big
    }
}

#[inline(always)]
pub fn erfc_f32(x: f32) -> f32 {
    let z = x.abs();
    let ec = erfc_pos(z);
    if z < ERF_SERIES_MAX {
        1.0 - erf_series(x)
    } else if x > 0.0 {
        ec
    } else {
        2.0 - ec
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::elementwise::map_slice;
    use crate::runtime::simd;

    /// A sweep over many magnitudes, both signs, plus the special values.
    fn sweep() -> Vec<f32> {
        let mut v = vec![
            0.0,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            f32::MAX,
            f32::MIN,
            1.0,
            -1.0,
            88.72,
            88.73,
            89.5,
            -87.5,
            -103.9,
            -104.5,
            -150.0,
            0.5,
            0.8,
            -0.8,
            9.1,
            20.0,
        ];
        let mut x = 1e-38f32;
        while x < 1e38 {
            for m in [1.0f32, 1.3, 1.7, 2.2, 3.1, 4.4, 5.9, 7.7] {
                v.push(x * m);
                v.push(-x * m);
            }
            x *= 10.0;
        }
        for i in 0..20000 {
            v.push((i as f32 - 10000.0) * 0.0123);
        }
        v
    }

    type Pair = (&'static str, fn(f32) -> f32, fn(f64) -> f64);
    const FUNCS: [Pair; 8] = [
        ("exp", exp::<f32>, f64::exp),
        ("ln", ln::<f32>, f64::ln),
        ("tanh", tanh::<f32>, f64::tanh),
        ("sigmoid", sigmoid::<f32>, |v| 1.0 / (1.0 + (-v).exp())),
        ("ln_1p", ln_1p::<f32>, f64::ln_1p),
        ("exp_m1", exp_m1::<f32>, f64::exp_m1),
        ("erf", erf::<f32>, libm::erf),
        ("erfc", erfc::<f32>, libm::erfc),
    ];

    #[test]
    fn vector_and_scalar_builds_agree_bit_for_bit() {
        // Function items (not fn pointers) so each is inlined into both builds of the loop.
        fn both(name: &str, f: impl Fn(f32) -> f32) {
            let x = sweep();
            let mut fast = vec![0f32; x.len()];
            let mut avx2 = vec![0f32; x.len()];
            let mut slow = vec![0f32; x.len()];
            simd::set_scalar(false);
            map_slice(&x, &mut fast, &f);
            simd::set_avx2_cap(true);
            map_slice(&x, &mut avx2, &f);
            simd::set_scalar(true);
            map_slice(&x, &mut slow, &f);
            simd::set_scalar(false);
            for i in 0..x.len() {
                // A NaN's sign/payload follows operand order and carries no meaning.
                let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
                assert!(same(fast[i], slow[i]), "{name}({}): {} vs {}", x[i], fast[i], slow[i]);
                assert!(same(avx2[i], slow[i]), "{name}({}): avx2 {} vs {}", x[i], avx2[i], slow[i]);
            }
        }
        both("exp", exp::<f32>);
        both("ln", ln::<f32>);
        both("tanh", tanh::<f32>);
        both("sigmoid", sigmoid::<f32>);
        both("ln_1p", ln_1p::<f32>);
        both("exp_m1", exp_m1::<f32>);
        both("erf", erf::<f32>);
        both("erfc", erfc::<f32>);
    }

    /// Error in units of the last place of the (f32-rounded) exact value.
    fn ulps(got: f32, exact: f64) -> f64 {
        let e32 = exact as f32;
        let ulp = if e32 == 0.0 { f32::from_bits(1) as f64 } else { (f32::from_bits(e32.abs().to_bits() + 1) - e32.abs()) as f64 };
        (got as f64 - exact).abs() / ulp
    }

    #[test]
    fn accuracy_against_f64() {
        let x = sweep();
        // Measured worst cases: exp 0.95, ln 0.71, tanh 1.98, sigmoid 1.83, ln_1p 1.30, exp_m1 1.16,
        // erf 1.82, erfc 4.8 (its 1.2e-7 fit alone is ~2 ulp; erfc is used by exact GELU only).
        let bound = |name: &str| if name == "erfc" { 6.0 } else { 2.5 };
        for (name, f, f64f) in FUNCS {
            let mut worst = (0.0, 0.0f32);
            for &v in &x {
                let exact = f64f(v as f64);
                let got = f(v);
                if exact.is_nan() {
                    assert!(got.is_nan(), "{name}({v}) = {got}, expected NaN");
                    continue;
                }
                // f32 subnormal results carry absolute, not relative, precision.
                if (exact as f32).abs() < f32::MIN_POSITIVE {
                    assert!((got as f64 - exact).abs() <= 2e-45, "{name}({v}) = {got}, expected {exact}");
                    continue;
                }
                if (exact as f32).is_infinite() {
                    assert_eq!(got, exact as f32, "{name}({v})");
                    continue;
                }
                let u = ulps(got, exact);
                if u > worst.0 {
                    worst = (u, v);
                }
            }
            assert!(worst.0 <= bound(name), "{name}: {} ulp at x = {}", worst.0, worst.1);
        }
    }

    #[test]
    fn special_values() {
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(100f32), f32::INFINITY);
        assert_eq!(exp(0f32), 1.0);
        assert_eq!(ln(0f32), f32::NEG_INFINITY);
        assert!(ln(-1f32).is_nan());
        assert_eq!(ln(f32::INFINITY), f32::INFINITY);
        assert_eq!(ln(1f32), 0.0);
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
        assert_eq!(ln_1p(-1f32), f32::NEG_INFINITY);
        assert!(ln_1p(-2f32).is_nan());
        assert_eq!(ln_1p(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_m1(f32::NEG_INFINITY), -1.0);
        assert_eq!(exp_m1(f32::INFINITY), f32::INFINITY);
        assert_eq!(erf(f32::INFINITY), 1.0);
        assert_eq!(erf(f32::NEG_INFINITY), -1.0);
        assert_eq!(erfc(f32::NEG_INFINITY), 2.0);
        for f in FUNCS {
            assert!((f.1)(f32::NAN).is_nan(), "{} of NaN", f.0);
        }
        assert_eq!(sigmoid(-1000f64), 0.0);
        assert_eq!(sigmoid(1000f64), 1.0);
    }
}
