//! `floor_divide(x1, x2)`: numpy's `//` (the quotient rounded toward -inf; integers stay int64,
//! and an integer division by zero gives 0 as in numpy). Not differentiable.

use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::common::promote;
use crate::tensor::{DType, Float, Tensor};

/// numpy's float floor division: derived from `fmod` so that `a == b * (a // b) + a % b` holds
/// as closely as rounding allows (plain `floor(a / b)` can be off by one).
#[inline(always)]
pub(super) fn floor_div_float<T: Float>(a: T, b: T) -> T {
    if b == T::zero() {
        return a / b;
    }
    let m = a % b;
    let mut div = (a - m) / b;
    if m != T::zero() && (b < T::zero()) != (m < T::zero()) {
        div -= T::one();
    }
    if div == T::zero() {
        return T::zero().copysign(a / b);
    }
    let f = div.floor();
    if div - f > T::c(0.5) {
        f + T::one()
    } else {
        f
    }
}

#[inline(always)]
pub(super) fn floor_div_int(a: i64, b: i64) -> i64 {
    if b == 0 {
        return 0;
    }
    let q = a.wrapping_div(b);
    if a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

pub fn floor_divide(x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
    let (a, b) = promote(x1, x2)?;
    if a.dtype() == DType::I64 {
        return binary::<i64, i64, i64>("floor_divide", &a, &b, CHUNK_LIGHT, floor_div_int);
    }
    crate::dispatch_float!(a.dtype(), "floor_divide", |T| binary::<T, T, T>("floor_divide", &a, &b, CHUNK_LIGHT, floor_div_float::<T>))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    #[test]
    fn floor_divide_follows_numpy_signs() {
        let a = t64(&[7.0, -7.0, 7.0, -7.0, 0.0, 1.0], &[6]);
        let b = t64(&[2.0, 2.0, -2.0, -2.0, -3.0, 0.0], &[6]);
        let r = vals(&floor_divide(&a, &b).unwrap());
        assert_eq!(&r[..4], &[3.0, -4.0, -4.0, 3.0]);
        assert!(r[4] == 0.0 && r[4].is_sign_negative());
        assert_eq!(r[5], f64::INFINITY);
        let i = |v: Vec<i64>| Tensor::from_vec(v.clone(), &[v.len()]).unwrap();
        let q = floor_divide(&i(vec![7, -7, 7, -7, 5, i64::MIN]), &i(vec![2, 2, -2, -2, 0, -1])).unwrap();
        assert_eq!(q.to_vec::<i64>().unwrap(), vec![3, -4, -4, 3, 0, i64::MIN]);
    }
}
