//! `dot(x1, x2)` with numpy semantics: scalars multiply; otherwise the last axis of `x1` is
//! contracted with the second-to-last of `x2` (the last, if `x2` is 1-D). Built on matmul.

use crate::error::Result;
use crate::tensor::Tensor;
use crate::shape_err;

pub fn dot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return crate::ops::multiply(a, b);
    }
    if b.ndim() <= 2 {
        return crate::ops::matmul(a, b);
    }
    let k = a.shape()[a.ndim() - 1];
    let kb = b.shape()[b.ndim() - 2];
    if k != kb {
        return shape_err!("dot", "shapes {:?} and {:?} not aligned: {k} (dim {}) != {kb} (dim {})", a.shape(), b.shape(), a.ndim() - 1, b.ndim() - 2);
    }
    let nd = b.ndim() as isize;
    let mut perm = vec![nd - 2];
    perm.extend(0..nd - 2);
    perm.push(nd - 1);
    let b2 = crate::ops::reshape_to(&crate::ops::transpose(b, Some(&perm))?, &[k as isize, -1])?;
    let a2 = crate::ops::reshape_to(a, &[-1, k as isize])?;
    let mut shape = a.shape()[..a.ndim() - 1].to_vec();
    shape.extend_from_slice(&b.shape()[..b.ndim() - 2]);
    shape.push(b.shape()[b.ndim() - 1]);
    crate::ops::reshape(&crate::ops::matmul(&a2, &b2)?, &shape)
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn dot_follows_numpy() {
        let r = crate::ops::dot(&rand64(&[2, 3], 1), &rand64(&[4, 3, 5], 2)).unwrap();
        assert_eq!(r.shape(), &[2, 4, 5]);
        assert!(crate::ops::dot(&rand64(&[2, 3], 1), &rand64(&[4, 2, 5], 2)).is_err());
        check_grads(|x| crate::ops::dot(&x[0], &x[1]), &[rand64(&[2, 3], 3), rand64(&[2, 3, 2], 4)]);
    }
}
