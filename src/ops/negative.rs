//! `negative(x)`: `-x`.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{unary, CHUNK_LIGHT};
use crate::tensor::{DType, Tensor};

pub fn negative(x: &Tensor) -> Result<Tensor> {
    let x = if x.dtype() == DType::Bool { crate::ops::cast(x, DType::I64)? } else { x.clone() };
    let out = crate::dispatch_num!(x.dtype(), "negative", |T| unary::<T, T>(&x, CHUNK_LIGHT, |v| -v)?);
    record(&[&x], &out, || Arc::new(NegativeBackward));
    Ok(out)
}

struct NegativeBackward;

impl Backward for NegativeBackward {
    fn name(&self) -> &'static str {
        "negative"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        crate::ops::common::grad_if(needs[0], || negative(g)).map(|g| vec![g])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn negative_values_and_gradients() {
        assert_eq!(vals(&crate::ops::negative(&t64(&[1.0, -2.0], &[2])).unwrap()), vec![-1.0, 2.0]);
        check_grads(|x| crate::ops::negative(&x[0]), &[rand64(&[3, 2], 1)]);
    }
}
