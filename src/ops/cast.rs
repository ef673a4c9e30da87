//! `cast(x, dtype)`. Gradients flow between float dtypes (cast back to the input's dtype); a cast
//! to int or bool stops them, as in Keras.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::ops::common::grad_if;
use crate::tensor::{DType, Tensor};

pub fn cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    let out = x.to_dtype(dtype);
    if x.dtype().is_float() && dtype.is_float() {
        record(&[x], &out, || Arc::new(CastBackward { input: x.dtype() }));
    }
    Ok(out)
}

struct CastBackward {
    input: DType,
}

impl Backward for CastBackward {
    fn name(&self) -> &'static str {
        "cast"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![grad_if(needs[0], || Ok(g.to_dtype(self.input)))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::DType;

    #[test]
    fn cast_converts_and_passes_gradients() {
        let x = t64(&[1.5, -2.0, 0.0], &[3]);
        let i = crate::ops::cast(&x, DType::I64).unwrap();
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, -2, 0]);
        let b = crate::ops::cast(&x, DType::Bool).unwrap();
        assert_eq!(b.to_vec::<bool>().unwrap(), vec![true, true, false]);
        // f64 -> f32 -> f64 is the identity up to rounding, so the gradient of the weighted sum the
        // helper takes is its weights (rounded to float32 on the way back).
        let g = analytic_grads(|x| crate::ops::cast(&crate::ops::cast(&x[0], DType::F32)?, DType::F64), &[rand64(&[3], 1)]);
        assert_eq!(g[0].dtype(), DType::F64);
        for (a, b) in vals(&g[0]).iter().zip(vals(&rand64(&[3], 99))) {
            assert!((a - b).abs() < 1e-7);
        }
    }
}
