//! `multiply(a, b)`: elementwise product with numpy broadcasting.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::common::{grad_if, promote, sum_to_shape};
use crate::ops::multiply as mul;
use crate::tensor::Tensor;

pub fn multiply(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (a, b) = promote(a, b)?;
    let out = crate::dispatch_num!(a.dtype(), "multiply", |T| binary::<T, T, T>("multiply", &a, &b, CHUNK_LIGHT, |x, y| x * y)?);
    record(&[&a, &b], &out, || Arc::new(MultiplyBackward { a: a.clone(), b: b.clone() }));
    Ok(out)
}

struct MultiplyBackward {
    a: Tensor,
    b: Tensor,
}

impl Backward for MultiplyBackward {
    fn name(&self) -> &'static str {
        "multiply"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![
            grad_if(needs[0], || sum_to_shape(&mul(g, &self.b)?, self.a.shape()))?,
            grad_if(needs[1], || sum_to_shape(&mul(g, &self.a)?, self.b.shape()))?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn multiply_values_and_gradients() {
        let (a, b) = (t64(&[1.0, 2.0], &[2]), t64(&[3.0], &[]));
        assert_eq!(vals(&crate::ops::multiply(&a, &b).unwrap()), vec![3.0, 6.0]);
        check_grads(|x| crate::ops::multiply(&x[0], &x[1]), &[rand64(&[4, 3], 1), rand64(&[3], 2)]);
        // The same tensor twice: gradients accumulate (d(x*x)/dx = 2x).
        check_grads(|x| crate::ops::multiply(&x[0], &x[0]), &[rand64(&[5], 3)]);
    }
}
