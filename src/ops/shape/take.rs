//! `take(x, indices, axis=None)`: elements (axis None: of the flattened tensor) or slices along
//! `axis` at integer `indices` of any shape; negative indices count from the end. The backward
//! is a scatter-add (repeated indices accumulate).

use crate::error::{Error, Result};
use crate::ops::shape::select;
use crate::tensor::{normalize_axis, DType, Tensor};

pub fn take(x: &Tensor, indices: &Tensor, axis: Option<isize>) -> Result<Tensor> {
    let (x, a) = match axis {
        None => (crate::ops::reshape(x, &[x.numel()])?, 0),
        Some(a) => {
            if x.ndim() == 0 {
                return Err(Error::Value("take: cannot take along an axis of a zero-dimensional tensor".into()));
            }
            let a = normalize_axis("take", a, x.ndim())?;
            (x.clone(), a)
        }
    };
    if indices.dtype().is_float() && indices.to_dtype(DType::F64).to_vec::<f64>()?.iter().any(|v| v.fract() != 0.0) {
        return Err(Error::Type("take: indices must be integers".into()));
    }
    let n = x.shape()[a] as i64;
    let raw = indices.to_dtype(DType::I64).to_vec::<i64>()?;
    let idx: Vec<usize> = raw
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + n } else { i };
            if j < 0 || j >= n {
                Err(Error::Index(format!("take: index {i} is out of bounds for axis {a} with size {n}")))
            } else {
                Ok(j as usize)
            }
        })
        .collect::<Result<_>>()?;
    let lists: Vec<Vec<usize>> = (0..x.ndim()).map(|d| if d == a { idx.clone() } else { (0..x.shape()[d]).collect() }).collect();
    let out = select(&x, lists)?;
    let mut shape = x.shape()[..a].to_vec();
    shape.extend_from_slice(indices.shape());
    shape.extend_from_slice(&x.shape()[a + 1..]);
    crate::ops::reshape(&out, &shape)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn take_values_gradients_and_errors() {
        let x = t64(&[0., 1., 2., 3., 4., 5.], &[2, 3]);
        let i = Tensor::from_vec(vec![2i64, -3, 2], &[3]).unwrap();
        let r = crate::ops::take(&x, &i, Some(1)).unwrap();
        assert_eq!(r.shape(), &[2, 3]);
        assert_eq!(vals(&r), vec![2., 0., 2., 5., 3., 5.]);
        assert_eq!(vals(&crate::ops::take(&x, &Tensor::from_vec(vec![5i64, 0], &[2, 1]).unwrap(), None).unwrap()), vec![5., 0.]);
        assert!(crate::ops::take(&x, &Tensor::from_vec(vec![3i64], &[1]).unwrap(), Some(1)).is_err());
        check_grads(|x| crate::ops::take(&x[0], &i, Some(1)), &[rand64(&[2, 3], 1)]);
    }
}
