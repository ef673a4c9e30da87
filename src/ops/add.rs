//! `add(a, b)`: elementwise sum with numpy broadcasting.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::ops::common::{grad_if, promote, sum_to_shape};
use crate::tensor::Tensor;

pub fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (a, b) = promote(a, b)?;
    let out = crate::dispatch_num!(a.dtype(), "add", |T| binary::<T, T, T>("add", &a, &b, CHUNK_LIGHT, |x, y| x + y)?);
    record(&[&a, &b], &out, || Arc::new(AddBackward { a: a.shape().to_vec(), b: b.shape().to_vec() }));
    Ok(out)
}

struct AddBackward {
    a: Vec<usize>,
    b: Vec<usize>,
}

impl Backward for AddBackward {
    fn name(&self) -> &'static str {
        "add"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![grad_if(needs[0], || sum_to_shape(g, &self.a))?, grad_if(needs[1], || sum_to_shape(g, &self.b))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn add_values_and_gradients() {
        let (a, b) = (t64(&[1.0, 2.0, 3.0], &[3, 1]), t64(&[10.0, 20.0], &[2]));
        assert_eq!(vals(&crate::ops::add(&a, &b).unwrap()), vec![11., 21., 12., 22., 13., 23.]);
        check_grads(|x| crate::ops::add(&x[0], &x[1]), &[rand64(&[3, 1], 1), rand64(&[2], 2)]);
    }
}
