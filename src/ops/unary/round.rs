//! `round(x, decimals=0)`: numpy rounding (half to even) to `decimals` decimal places. Not
//! differentiable (not recorded). Int64 inputs stay int64; bool becomes int64.

use crate::error::Result;
use crate::kernels::elementwise::{unary, CHUNK_LIGHT};
use crate::ops::unary::int_input;
use crate::tensor::{Float, Tensor};

pub fn round(x: &Tensor, decimals: i32) -> Result<Tensor> {
    if x.dtype().is_float() {
        return Ok(crate::dispatch_float!(x.dtype(), "round", |T| round_float::<T>(x, decimals)?));
    }
    let x = int_input(x)?;
    if decimals >= 0 {
        return unary::<i64, i64>(&x, CHUNK_LIGHT, |v| v);
    }
    // Round to a multiple of p = 10^-decimals, ties to the even multiple; beyond i64, all 0.
    let Some(p) = 10i64.checked_pow(decimals.unsigned_abs()) else {
        return unary::<i64, i64>(&x, CHUNK_LIGHT, |_| 0);
    };
    unary::<i64, i64>(&x, CHUNK_LIGHT, move |v| {
        let (q, r) = (v.div_euclid(p), v.rem_euclid(p));
        let up = r > p - r || (r == p - r && q % 2 != 0);
        q.wrapping_add(up as i64).wrapping_mul(p)
    })
}

/// As numpy: scale by 10^decimals, round half to even, scale back.
fn round_float<T: Float>(x: &Tensor, decimals: i32) -> Result<Tensor> {
    if decimals == 0 {
        return unary::<T, T>(x, CHUNK_LIGHT, |v| T::from_f64(v.to_f64().round_ties_even()));
    }
    // Keep 10^|decimals| finite in T (beyond, every value rounds to 0 or stays as it is anyway).
    let max_exp = T::max_value().to_f64().log10().floor() as u32;
    let p = T::c(10f64.powi(decimals.unsigned_abs().min(max_exp) as i32));
    if decimals > 0 {
        unary::<T, T>(x, CHUNK_LIGHT, move |v| T::from_f64((v * p).to_f64().round_ties_even()) / p)
    } else {
        unary::<T, T>(x, CHUNK_LIGHT, move |v| T::from_f64((v / p).to_f64().round_ties_even()) * p)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn round_half_to_even() {
        let x = t64(&[0.5, 1.5, 2.5, -0.5, -1.5, 2.4, f64::NAN], &[7]);
        let r = vals(&crate::ops::round(&x, 0).unwrap());
        assert_eq!(r[..6], [0.0, 2.0, 2.0, -0.0, -2.0, 2.0]);
        assert!(r[6].is_nan());
        assert_eq!(vals(&crate::ops::round(&t64(&[1.25, 123.0], &[2]), 1).unwrap())[0], 1.2);
        assert_eq!(vals(&crate::ops::round(&t64(&[150.0, 250.0], &[2]), -2).unwrap()), vec![200.0, 200.0]);
        let i = Tensor::from_vec(vec![15i64, 25, -15, 7], &[4]).unwrap();
        assert_eq!(crate::ops::round(&i, -1).unwrap().to_vec::<i64>().unwrap(), vec![20, 20, -20, 10]);
        assert_eq!(crate::ops::round(&i, 2).unwrap().to_vec::<i64>().unwrap(), vec![15, 25, -15, 7]);
        assert_eq!(crate::ops::round(&i, i32::MIN).unwrap().to_vec::<i64>().unwrap(), vec![0; 4]);
        assert_eq!(vals(&crate::ops::round(&t64(&[1.5], &[1]), i32::MIN).unwrap())[0], 0.0);
    }
}
