//! `one_hot(x, num_classes, axis=-1, dtype="float32")`: labels outside [0, num_classes) give an
//! all-zero vector, as in Keras/TensorFlow. Not differentiable.

use crate::error::Result;
use crate::tensor::{normalize_axis, DType, Tensor};
use crate::value_err;

pub fn one_hot(x: &Tensor, num_classes: usize, axis: isize, dtype: DType) -> Result<Tensor> {
    if x.dtype().is_float() && x.to_dtype(DType::F64).to_vec::<f64>()?.iter().any(|v| v.fract() != 0.0 && v.is_finite()) {
        return value_err!("one_hot", "labels must be integers, received dtype {} with fractional values", x.dtype());
    }
    let labels = x.to_dtype(DType::I64).to_vec::<i64>()?;
    let mut out = vec![0.0f64; labels.len() * num_classes];
    for (i, &l) in labels.iter().enumerate() {
        if l >= 0 && (l as usize) < num_classes {
            out[i * num_classes + l as usize] = 1.0;
        }
    }
    let mut shape = x.shape().to_vec();
    shape.push(num_classes);
    let t = Tensor::from_vec(out, &shape)?.to_dtype(dtype);
    let a = normalize_axis("one_hot", axis, shape.len())?;
    if a + 1 == shape.len() {
        return Ok(t);
    }
    let mut perm: Vec<isize> = (0..shape.len() as isize - 1).collect();
    perm.insert(a, shape.len() as isize - 1);
    Ok(crate::ops::transpose(&t, Some(&perm))?.contiguous())
}

#[cfg(test)]
mod tests {
    use crate::tensor::{DType, Tensor};

    #[test]
    fn one_hot_values() {
        let x = Tensor::from_vec(vec![0i64, 2, 5, -1], &[4]).unwrap();
        let y = crate::ops::one_hot(&x, 3, -1, DType::F32).unwrap();
        assert_eq!(y.to_vec::<f32>().unwrap(), vec![1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 0., 0.]);
        let t = crate::ops::one_hot(&x, 3, 0, DType::F32).unwrap();
        assert_eq!(t.shape(), &[3, 4]);
        assert_eq!(t.to_vec::<f32>().unwrap()[..4], [1., 0., 0., 0.]);
    }
}
