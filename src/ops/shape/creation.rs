//! Constructors: zeros, ones, full, arange, eye (the `*_like` forms are these with a shape).

use crate::error::Result;
use crate::tensor::{DType, Tensor};
use crate::value_err;

pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
    Tensor::full(shape, value, dtype)
}

/// `arange(start, stop, step)`: numpy's length `ceil((stop - start) / step)`.
pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<Tensor> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return value_err!("arange", "start, stop and a nonzero step must be finite, received ({start}, {stop}, {step})");
    }
    let n = ((stop - start) / step).ceil().max(0.0) as usize;
    let v: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
    Ok(Tensor::from_vec(v, &[n])?.to_dtype(dtype))
}

/// `eye(N, M=None, k=0)`: ones on the k-th diagonal.
pub fn eye(n: usize, m: Option<usize>, k: isize, dtype: DType) -> Tensor {
    let m = m.unwrap_or(n);
    let mut v = vec![0.0f64; n * m];
    for i in 0..n {
        let j = i as isize + k;
        if j >= 0 && (j as usize) < m {
            v[i * m + j as usize] = 1.0;
        }
    }
    Tensor::from_vec_unchecked(v, &[n, m]).to_dtype(dtype)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        assert_eq!(arange(0.0, 1.0, 0.25, DType::F64).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 0.25, 0.5, 0.75]);
        assert_eq!(arange(5.0, 0.0, -2.0, DType::I64).unwrap().to_vec::<i64>().unwrap(), vec![5, 3, 1]);
        assert!(arange(0.0, 1.0, 0.0, DType::F32).is_err());
        assert_eq!(eye(2, Some(3), 1, DType::F32).to_vec::<f32>().unwrap(), vec![0., 1., 0., 0., 0., 1.]);
        assert_eq!(full(&[2], 3.5, DType::F64).to_vec::<f64>().unwrap(), vec![3.5, 3.5]);
    }
}
