//! `broadcast_to(x, shape)`: a stride-0 view.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::ops::common::{grad_if, sum_to_shape};
use crate::tensor::Tensor;

pub fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if x.shape() == shape {
        return Ok(x.clone());
    }
    let out = x.view(x.layout().broadcast_to("broadcast_to", shape)?)?;
    record(&[x], &out, || Arc::new(BroadcastBackward { input: x.shape().to_vec() }));
    Ok(out)
}

struct BroadcastBackward {
    input: Vec<usize>,
}

impl Backward for BroadcastBackward {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![grad_if(needs[0], || sum_to_shape(g, &self.input))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn broadcast_to_values_and_gradients() {
        let x = t64(&[1.0, 2.0], &[2, 1]);
        let y = crate::ops::broadcast_to(&x, &[3, 2, 2]).unwrap();
        assert_eq!(vals(&y), vec![1., 1., 2., 2.].repeat(3));
        assert!(crate::ops::broadcast_to(&x, &[3, 3]).is_err());
        check_grads(|x| crate::ops::broadcast_to(&x[0], &[2, 3, 4]), &[rand64(&[3, 1], 1)]);
    }
}
