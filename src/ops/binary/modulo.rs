//! `mod(x1, x2)` (`modulo` in Rust, where `mod` is a keyword): numpy's `%`, the remainder with
//! the sign of the divisor. Integers stay int64 (a remainder by zero is 0, as in numpy).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::common::{grad_if, promote, sum_to_shape};
use crate::ops::{floor_divide, multiply, negative};
use crate::tensor::{DType, Float, Tensor};

#[inline(always)]
fn mod_float<T: Float>(a: T, b: T) -> T {
    let m = a % b; // fmod: sign of a; NaN when b == 0
    if m == T::zero() {
        T::zero().copysign(b)
    } else if (b < T::zero()) != (m < T::zero()) {
        m + b
    } else {
        m
    }
}

#[inline(always)]
fn mod_int(a: i64, b: i64) -> i64 {
    if b == 0 {
        return 0;
    }
    let m = a.wrapping_rem(b);
    if m != 0 && ((m < 0) != (b < 0)) {
        m + b
    } else {
        m
    }
}

pub fn modulo(x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
    let (a, b) = promote(x1, x2)?;
    let out = if a.dtype() == DType::I64 {
        binary::<i64, i64, i64>("mod", &a, &b, CHUNK_LIGHT, mod_int)?
    } else {
        crate::dispatch_float!(a.dtype(), "mod", |T| binary::<T, T, T>("mod", &a, &b, CHUNK_LIGHT, mod_float::<T>)?)
    };
    record(&[&a, &b], &out, || Arc::new(ModBackward { a: a.clone(), b: b.clone() }));
    Ok(out)
}

struct ModBackward {
    a: Tensor,
    b: Tensor,
}

impl Backward for ModBackward {
    fn name(&self) -> &'static str {
        "mod"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        // x1 % x2 = x1 - x2 * floor(x1 / x2): d/dx1 = 1, d/dx2 = -floor(x1 / x2).
        let ga = grad_if(needs[0], || sum_to_shape(g, self.a.shape()))?;
        let gb = grad_if(needs[1], || {
            let q = floor_divide(&self.a, &self.b)?;
            sum_to_shape(&negative(&multiply(g, &q)?)?, self.b.shape())
        })?;
        Ok(vec![ga, gb])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    #[test]
    fn mod_follows_numpy_signs_and_has_gradients() {
        let a = t64(&[7.0, -7.0, 7.0, -7.0, 4.0, 1.0], &[6]);
        let b = t64(&[3.0, 3.0, -3.0, -3.0, -2.0, 0.0], &[6]);
        let r = vals(&modulo(&a, &b).unwrap());
        assert_eq!(&r[..4], &[1.0, 2.0, -2.0, -1.0]);
        assert!(r[4] == 0.0 && r[4].is_sign_negative());
        assert!(r[5].is_nan());
        let i = |v: Vec<i64>| Tensor::from_vec(v.clone(), &[v.len()]).unwrap();
        let m = modulo(&i(vec![7, -7, 7, -7, 5]), &i(vec![3, 3, -3, -3, 0])).unwrap();
        assert_eq!(m.to_vec::<i64>().unwrap(), vec![1, 2, -2, -1, 0]);
        // Values away from the jumps at integer ratios.
        let x1 = crate::ops::add(&rand64(&[2, 3], 1), &t64(&[5.3], &[])).unwrap();
        let x2 = crate::ops::add(&rand64(&[3], 2), &t64(&[2.1], &[])).unwrap();
        check_grads(|x| modulo(&x[0], &x[1]), &[x1, x2]);
    }
}
