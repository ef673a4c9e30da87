//! `minimum(x1, x2)`: elementwise smaller value, NaN propagating like numpy.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::binary::mask::masked_grads;
use crate::ops::binary::maximum::pick;
use crate::ops::common::promote;
use crate::tensor::Tensor;

pub fn minimum(x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
    let (a, b) = promote(x1, x2)?;
    let out = crate::dispatch_num!(a.dtype(), "minimum", |T| binary::<T, T, T>("minimum", &a, &b, CHUNK_LIGHT, |x, y| pick(x, y, x <= y))?);
    record(&[&a, &b], &out, || Arc::new(MinimumBackward { a: a.clone(), b: b.clone() }));
    Ok(out)
}

struct MinimumBackward {
    a: Tensor,
    b: Tensor,
}

impl Backward for MinimumBackward {
    fn name(&self) -> &'static str {
        "minimum"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        // Ties go to x1 (as TensorFlow).
        let mask = crate::ops::less_equal(&self.a, &self.b)?;
        Ok(masked_grads("minimum", g, &mask, [needs[0], needs[1]], self.a.shape(), self.b.shape())?.into())
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn minimum_values_nan_and_gradients() {
        let a = t64(&[1.0, 5.0, f64::NAN, 2.0], &[4]);
        let b = t64(&[3.0, 2.0, 0.0, f64::NAN], &[4]);
        let r = vals(&crate::ops::minimum(&a, &b).unwrap());
        assert_eq!(&r[..2], &[1.0, 2.0]);
        assert!(r[2].is_nan() && r[3].is_nan());
        let i = crate::ops::minimum(&Tensor::from_vec(vec![1i64, 7], &[2]).unwrap(), &Tensor::scalar(4i64)).unwrap();
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 4]);
        check_grads(|x| crate::ops::minimum(&x[0], &x[1]), &[rand64(&[3, 4], 1), rand64(&[4], 2)]);
        // Ties: the whole gradient goes to x1.
        let g = analytic_grads(|x| crate::ops::minimum(&x[0], &x[1]), &[t64(&[1.0], &[1]), t64(&[1.0], &[1])]);
        assert!(vals(&g[0])[0] != 0.0 && vals(&g[1])[0] == 0.0);
    }
}
