//! `argmax(x, axis=None, keepdims=False)` and `argmin`: int64 indices, no gradient. NaN wins
//! (the first NaN's index), as in numpy.

use crate::error::Result;
use crate::ops::common::to_float;
use crate::ops::reduce::last_axis_rows;
use crate::runtime::par_chunks_mut;
use crate::tensor::{Float, Tensor};

fn arg<T: Float>(x: &Tensor, axis: Option<isize>, keepdims: bool, op: &str, better: fn(T, T) -> bool) -> Result<Tensor> {
    let (rows, n, out_shape) = last_axis_rows(op, x, axis, keepdims)?;
    if n == 0 {
        return crate::value_err!(op, "attempt to get {op} of an empty sequence (shape {:?})", x.shape());
    }
    let data = rows.data::<T>()?;
    let mut out = vec![0i64; rows.numel() / n];
    par_chunks_mut(&mut out, ((1 << 14) / n).max(1), |start, o| {
        for (i, v) in o.iter_mut().enumerate() {
            let row = &data[(start + i) * n..(start + i + 1) * n];
            let mut best = 0;
            for j in 1..n {
                if row[best].is_nan() {
                    break;
                }
                if row[j].is_nan() || better(row[j], row[best]) {
                    best = j;
                }
            }
            *v = best as i64;
        }
    });
    Tensor::from_vec(out, &out_shape)
}

pub fn argmax(x: &Tensor, axis: Option<isize>, keepdims: bool) -> Result<Tensor> {
    let x = to_float(x)?;
    crate::dispatch_float!(x.dtype(), "argmax", |T| arg::<T>(&x, axis, keepdims, "argmax", |a, b| a > b))
}

pub fn argmin(x: &Tensor, axis: Option<isize>, keepdims: bool) -> Result<Tensor> {
    let x = to_float(x)?;
    crate::dispatch_float!(x.dtype(), "argmin", |T| arg::<T>(&x, axis, keepdims, "argmin", |a, b| a < b))
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn argmax_and_argmin_follow_numpy() {
        let x = t64(&[1.0, 5.0, 5.0, -2.0, f64::NAN, 0.0], &[2, 3]);
        assert_eq!(crate::ops::argmax(&x, Some(1), false).unwrap().to_vec::<i64>().unwrap(), vec![1, 1]);
        assert_eq!(crate::ops::argmin(&x, Some(1), false).unwrap().to_vec::<i64>().unwrap(), vec![0, 1]);
        assert_eq!(crate::ops::argmax(&x, Some(0), true).unwrap().shape(), &[1, 3]);
        assert_eq!(crate::ops::argmax(&x, None, false).unwrap().item().unwrap(), 4.0);
        assert!(crate::ops::argmax(&t64(&[], &[0]), None, false).is_err());
    }
}
