//! `power(x1, x2)`: x1 raised to x2 elementwise (numpy semantics: integer ** integer stays int64
//! and wraps on overflow; a negative integer exponent is an error, as in numpy).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_HEAVY};
use crate::ops::common::{grad_if, promote, sum_to_shape};
use crate::ops::multiply;
use crate::tensor::{DType, Float, Tensor};
use crate::value_err;

/// Integer power by repeated squaring (`e >= 0`), wrapping like numpy's int64.
fn ipow(mut base: i64, mut e: i64) -> i64 {
    let mut r: i64 = 1;
    while e > 0 {
        if e & 1 == 1 {
            r = r.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    r
}

pub fn power(x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
    let (a, b) = promote(x1, x2)?;
    if a.dtype() == DType::I64 {
        if let Some(e) = b.data::<i64>()?.iter().find(|&&e| e < 0) {
            return value_err!("power", "integers to negative integer powers are not allowed (received exponent {e}); use a float base");
        }
        return binary::<i64, i64, i64>("power", &a, &b, CHUNK_HEAVY, ipow);
    }
    let out = crate::dispatch_float!(a.dtype(), "power", |T| binary::<T, T, T>("power", &a, &b, CHUNK_HEAVY, |x, y| x.powf(y))?);
    record(&[&a, &b], &out, || Arc::new(PowerBackward { a: a.clone(), b: b.clone(), out: out.clone() }));
    Ok(out)
}

struct PowerBackward {
    a: Tensor,
    b: Tensor,
    out: Tensor,
}

/// d(x^y)/dx = y·x^(y-1), computed directly (not as y·out/x) so it is finite at x == 0 and for
/// negative x with integer y; a zero exponent makes x^y constant, so its derivative is 0.
fn d_base<T: Float>(x: T, y: T) -> T {
    if y == T::zero() {
        T::zero()
    } else {
        y * x.powf(y - T::one())
    }
}

/// d(x^y)/dy = x^y·ln(x) for x > 0; 0 elsewhere (as TensorFlow: at x == 0 the one-sided limit
/// for y > 0 is 0, and for x < 0 x^y has no real derivative in y).
fn d_exponent<T: Float>(x: T, out: T) -> T {
    if x > T::zero() {
        out * x.ln()
    } else {
        T::zero()
    }
}

impl Backward for PowerBackward {
    fn name(&self) -> &'static str {
        "power"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let (a, b, out) = (&self.a, &self.b, &self.out);
        let ga = grad_if(needs[0], || {
            let d = crate::dispatch_float!(a.dtype(), "power", |T| binary::<T, T, T>("power", a, b, CHUNK_HEAVY, d_base::<T>)?);
            sum_to_shape(&multiply(g, &d)?, a.shape())
        })?;
        let gb = grad_if(needs[1], || {
            let d = crate::dispatch_float!(a.dtype(), "power", |T| binary::<T, T, T>("power", a, out, CHUNK_HEAVY, d_exponent::<T>)?);
            sum_to_shape(&multiply(g, &d)?, b.shape())
        })?;
        Ok(vec![ga, gb])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    #[test]
    fn power_values_and_gradients() {
        let r = vals(&power(&t64(&[2.0, -2.0, 0.0, 4.0, -8.0], &[5]), &t64(&[3.0, 2.0, 0.0, 0.5, 1.0 / 3.0], &[5])).unwrap());
        assert_eq!(&r[..4], &[8.0, 4.0, 1.0, 2.0]);
        assert!(r[4].is_nan());
        let i = |v: Vec<i64>| Tensor::from_vec(v.clone(), &[v.len()]).unwrap();
        let p = power(&i(vec![3, -2, 0, 2]), &i(vec![4, 3, 0, 62])).unwrap();
        assert_eq!(p.to_vec::<i64>().unwrap(), vec![81, -8, 1, 1 << 62]);
        assert!(matches!(power(&i(vec![2]), &i(vec![-1])), Err(crate::Error::Value(_))));
        let pos = crate::ops::add(&rand64(&[3, 2], 1), &t64(&[2.0], &[])).unwrap();
        check_grads(|x| power(&x[0], &x[1]), &[pos, rand64(&[2], 2)]);
        // Negative bases with integer exponents: only the base has a gradient.
        check_grads(|x| power(&x[0], &t64(&[2.0, 3.0], &[2])), &[rand64(&[3, 2], 3)]);
        // At x == 0: d(x^2)/dx = 0, d(x^0)/dx = 0, and no NaN for the exponent either.
        let g = analytic_grads(|x| power(&x[0], &x[1]), &[t64(&[0.0, 0.0], &[2]), t64(&[2.0, 0.0], &[2])]);
        assert_eq!(vals(&g[0]), vec![0.0, 0.0]);
        assert_eq!(vals(&g[1]), vec![0.0, 0.0]);
    }
}
