//! `sum(x, axis=None, keepdims=False)`.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::reduce::reduce;
use crate::ops::common::{axes_list, grad_if, keepdims_shape};
use crate::tensor::{DType, Tensor};

pub fn sum(x: &Tensor, axis: Option<&[usize]>, keepdims: bool) -> Result<Tensor> {
    let axes: Vec<isize> = axis.map(|a| a.iter().map(|&v| v as isize).collect()).unwrap_or_default();
    sum_axes(x, axis.map(|_| axes.as_slice()), keepdims)
}

/// `sum` with possibly negative axes (the Python-facing form).
pub fn sum_axes(x: &Tensor, axis: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let axes = axes_list("sum", axis, x.ndim())?;
    let x = if x.dtype() == DType::Bool { crate::ops::cast(x, DType::I64)? } else { x.clone() };
    let r = crate::dispatch_num!(x.dtype(), "sum", |T| reduce::<T>(&x, &axes, 0 as T, |a, b| a + b)?);
    let kept = keepdims_shape(x.shape(), &axes);
    let out = if keepdims { r.view(crate::tensor::Layout::contiguous(&kept))? } else { r };
    record(&[&x], &out, || Arc::new(SumBackward { input: x.shape().to_vec(), kept }));
    Ok(out)
}

struct SumBackward {
    input: Vec<usize>,
    kept: Vec<usize>,
}

impl Backward for SumBackward {
    fn name(&self) -> &'static str {
        "sum"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let g = grad_if(needs[0], || {
            let g = crate::ops::reshape(g, &self.kept)?;
            crate::ops::broadcast_to(&g, &self.input)
        })?;
        Ok(vec![g])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn sum_values_and_gradients() {
        let x = t64(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        assert_eq!(vals(&crate::ops::sum_axes(&x, Some(&[-1]), false).unwrap()), vec![6.0, 15.0]);
        let k = crate::ops::sum_axes(&x, Some(&[0]), true).unwrap();
        assert_eq!(k.shape(), &[1, 3]);
        assert_eq!(vals(&k), vec![5.0, 7.0, 9.0]);
        check_grads(|x| crate::ops::sum_axes(&x[0], Some(&[0, 2]), false), &[rand64(&[2, 3, 4], 1)]);
        check_grads(|x| crate::ops::sum_axes(&x[0], None, true), &[rand64(&[3, 2], 2)]);
    }
}
