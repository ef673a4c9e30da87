//! `expand_dims(x, axis)` (int or tuple) and `squeeze(x, axis=None)`: reshapes, hence views of
//! contiguous data.

use crate::error::Result;
use crate::tensor::{normalize_axis, Tensor};
use crate::value_err;

pub fn expand_dims(x: &Tensor, axis: &[isize]) -> Result<Tensor> {
    let nd = x.ndim() + axis.len();
    let mut new: Vec<usize> = axis.iter().map(|&a| normalize_axis("expand_dims", a, nd)).collect::<Result<_>>()?;
    new.sort_unstable();
    if new.windows(2).any(|w| w[0] == w[1]) {
        return value_err!("expand_dims", "repeated axis in {axis:?}");
    }
    let mut src = x.shape().iter();
    let shape: Vec<usize> = (0..nd).map(|d| if new.contains(&d) { 1 } else { *src.next().unwrap_or(&1) }).collect();
    crate::ops::reshape(x, &shape)
}

pub fn squeeze(x: &Tensor, axis: Option<&[isize]>) -> Result<Tensor> {
    let drop: Vec<usize> = match axis {
        None => (0..x.ndim()).filter(|&d| x.shape()[d] == 1).collect(),
        Some(a) => {
            let a = a.iter().map(|&v| normalize_axis("squeeze", v, x.ndim())).collect::<Result<Vec<_>>>()?;
            if let Some(&d) = a.iter().find(|&&d| x.shape()[d] != 1) {
                return value_err!("squeeze", "cannot select an axis to squeeze out which has size not equal to one: axis {d} of shape {:?}", x.shape());
            }
            a
        }
    };
    let shape: Vec<usize> = (0..x.ndim()).filter(|d| !drop.contains(d)).map(|d| x.shape()[d]).collect();
    crate::ops::reshape(x, &shape)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn expand_and_squeeze() {
        let x = rand64(&[2, 3], 1);
        assert_eq!(crate::ops::expand_dims(&x, &[0, -1]).unwrap().shape(), &[1, 2, 3, 1]);
        assert_eq!(crate::ops::squeeze(&rand64(&[1, 2, 1], 1), None).unwrap().shape(), &[2]);
        assert!(crate::ops::squeeze(&x, Some(&[0])).is_err());
        check_grads(|x| crate::ops::expand_dims(&x[0], &[1]), &[rand64(&[2, 3], 2)]);
        check_grads(|x| crate::ops::squeeze(&x[0], Some(&[1])), &[rand64(&[2, 1, 3], 3)]);
    }
}
