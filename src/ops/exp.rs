//! `exp(x)`.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{unary, CHUNK_HEAVY};
use crate::ops::common::{grad_if, to_float};
use crate::tensor::Tensor;
#[allow(unused_imports)]
use num_traits::Float;

pub fn exp(x: &Tensor) -> Result<Tensor> {
    let x = to_float(x)?;
    let out = crate::dispatch_float!(x.dtype(), "exp", |T| unary::<T, T>(&x, CHUNK_HEAVY, |v| v.exp())?);
    record(&[&x], &out, || Arc::new(ExpBackward { out: out.clone() }));
    Ok(out)
}

struct ExpBackward {
    out: Tensor,
}

impl Backward for ExpBackward {
    fn name(&self) -> &'static str {
        "exp"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![grad_if(needs[0], || crate::ops::multiply(g, &self.out))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn exp_values_and_gradients() {
        let r = vals(&crate::ops::exp(&t64(&[0.0, 1.0], &[2])).unwrap());
        assert_eq!(r[0], 1.0);
        assert!((r[1] - std::f64::consts::E).abs() < 1e-15);
        check_grads(|x| crate::ops::exp(&x[0]), &[rand64(&[3, 2], 1)]);
    }
}
