//! `subtract(a, b)`: elementwise difference with numpy broadcasting.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::common::{grad_if, promote, sum_to_shape};
use crate::tensor::Tensor;

pub fn subtract(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (a, b) = promote(a, b)?;
    let out = crate::dispatch_num!(a.dtype(), "subtract", |T| binary::<T, T, T>("subtract", &a, &b, CHUNK_LIGHT, |x, y| x - y)?);
    record(&[&a, &b], &out, || Arc::new(SubtractBackward { a: a.shape().to_vec(), b: b.shape().to_vec() }));
    Ok(out)
}

struct SubtractBackward {
    a: Vec<usize>,
    b: Vec<usize>,
}

impl Backward for SubtractBackward {
    fn name(&self) -> &'static str {
        "subtract"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![
            grad_if(needs[0], || sum_to_shape(g, &self.a))?,
            grad_if(needs[1], || sum_to_shape(&crate::ops::negative(g)?, &self.b))?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn subtract_values_and_gradients() {
        let (a, b) = (t64(&[1.0, 2.0], &[2]), t64(&[0.5], &[1]));
        assert_eq!(vals(&crate::ops::subtract(&a, &b).unwrap()), vec![0.5, 1.5]);
        check_grads(|x| crate::ops::subtract(&x[0], &x[1]), &[rand64(&[2, 3], 1), rand64(&[2, 1], 2)]);
    }
}
