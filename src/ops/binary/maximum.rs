//! `maximum(x1, x2)`: elementwise larger value, NaN propagating like numpy.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::binary::mask::masked_grads;
use crate::ops::common::promote;
use crate::tensor::Tensor;

/// `x1` when it wins or is NaN (`x != x` only for NaN), else `x2` (which is then larger or NaN).
#[allow(clippy::eq_op)]
#[inline(always)]
pub(super) fn pick<T: PartialOrd>(x1: T, x2: T, x1_wins: bool) -> T {
    if x1_wins || x1 != x1 {
        x1
    } else {
        x2
    }
}

pub fn maximum(x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
    let (a, b) = promote(x1, x2)?;
    let out = crate::dispatch_num!(a.dtype(), "maximum", |T| binary::<T, T, T>("maximum", &a, &b, CHUNK_LIGHT, |x, y| pick(x, y, x >= y))?);
    record(&[&a, &b], &out, || Arc::new(MaximumBackward { a: a.clone(), b: b.clone() }));
    Ok(out)
}

struct MaximumBackward {
    a: Tensor,
    b: Tensor,
}

impl Backward for MaximumBackward {
    fn name(&self) -> &'static str {
        "maximum"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        // Ties go to x1 (as TensorFlow).
        let mask = crate::ops::greater_equal(&self.a, &self.b)?;
        Ok(masked_grads("maximum", g, &mask, [needs[0], needs[1]], self.a.shape(), self.b.shape())?.into())
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn maximum_values_nan_and_gradients() {
        let a = t64(&[1.0, 5.0, f64::NAN, 2.0], &[4]);
        let b = t64(&[3.0, 2.0, 0.0, f64::NAN], &[4]);
        let r = vals(&crate::ops::maximum(&a, &b).unwrap());
        assert_eq!(&r[..2], &[3.0, 5.0]);
        assert!(r[2].is_nan() && r[3].is_nan());
        let i = crate::ops::maximum(&Tensor::from_vec(vec![1i64, 7], &[2]).unwrap(), &Tensor::scalar(4i64)).unwrap();
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![4, 7]);
        check_grads(|x| crate::ops::maximum(&x[0], &x[1]), &[rand64(&[3, 4], 1), rand64(&[4], 2)]);
        // Ties: the whole gradient goes to x1.
        let g = analytic_grads(|x| crate::ops::maximum(&x[0], &x[1]), &[t64(&[1.0], &[1]), t64(&[1.0], &[1])]);
        assert!(vals(&g[0])[0] != 0.0 && vals(&g[1])[0] == 0.0);
    }
}
