//! `divide(a, b)`: true division with numpy broadcasting (integers divide as float32, as Keras).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::common::{grad_if, promote_float, sum_to_shape};
use crate::ops::{divide as div, multiply as mul, negative};
use crate::tensor::Tensor;

pub fn divide(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (a, b) = promote_float(a, b)?;
    let out = crate::dispatch_float!(a.dtype(), "divide", |T| binary::<T, T, T>("divide", &a, &b, CHUNK_LIGHT, |x, y| x / y)?);
    record(&[&a, &b], &out, || Arc::new(DivideBackward { a_shape: a.shape().to_vec(), b: b.clone(), out: out.clone() }));
    Ok(out)
}

struct DivideBackward {
    a_shape: Vec<usize>,
    b: Tensor,
    out: Tensor,
}

impl Backward for DivideBackward {
    fn name(&self) -> &'static str {
        "divide"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        // d(a/b)/da = 1/b ; d(a/b)/db = -(a/b)/b
        let ga = grad_if(needs[0], || sum_to_shape(&div(g, &self.b)?, &self.a_shape))?;
        let gb = grad_if(needs[1], || sum_to_shape(&negative(&mul(g, &div(&self.out, &self.b)?)?)?, self.b.shape()))?;
        Ok(vec![ga, gb])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn divide_values_and_gradients() {
        let (a, b) = (t64(&[1.0, 3.0], &[2]), t64(&[2.0], &[1]));
        assert_eq!(vals(&crate::ops::divide(&a, &b).unwrap()), vec![0.5, 1.5]);
        let b = crate::ops::add(&rand64(&[3], 2), &t64(&[2.0], &[])).unwrap(); // keep away from 0
        check_grads(|x| crate::ops::divide(&x[0], &x[1]), &[rand64(&[2, 3], 1), b]);
    }
}
