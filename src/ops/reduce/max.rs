//! `max(x, axis=None, keepdims=False, initial=None)` and `min`. NaN propagates. The gradient is
//! shared equally between tied extrema (as TensorFlow does).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::kernels::reduce::reduce;
use crate::ops::common::grad_if;
use crate::ops::reduce::{count, finish, reduced_axes};
use crate::tensor::{DType, Element, Tensor};
use crate::value_err;

#[derive(Clone, Copy)]
enum Kind {
    Max,
    Min,
}

fn extremum(x: &Tensor, axis: Option<&[isize]>, keepdims: bool, initial: Option<f64>, kind: Kind) -> Result<Tensor> {
    let op = match kind {
        Kind::Max => "max",
        Kind::Min => "min",
    };
    let x = if x.dtype() == DType::Bool { crate::ops::cast(x, DType::I64)? } else { x.clone() };
    let (axes, kept) = reduced_axes(op, &x, axis)?;
    if count(&x, &axes) == 0 && x.numel() == 0 && initial.is_none() {
        let name = match kind {
            Kind::Max => "maximum",
            Kind::Min => "minimum",
        };
        return value_err!(op, "zero-size array to reduction operation {name} which has no identity (shape {:?}); pass `initial`", x.shape());
    }
    fn run<T: Element + PartialOrd>(x: &Tensor, axes: &[usize], kind: Kind, init: T, initial: Option<f64>) -> Result<Tensor> {
        // `v != v` is NaN for floats (and never for ints): NaN wins, as in numpy.
        #[allow(clippy::eq_op)]
        let step = match kind {
            Kind::Max => |a: T, b: T| if a > b || a != a { a } else { b },
            Kind::Min => |a: T, b: T| if a < b || a != a { a } else { b },
        };
        let r = reduce::<T>(x, axes, init, step)?;
        match initial {
            None => Ok(r),
            Some(v) => {
                let init = Tensor::full(&[], v, T::DTYPE);
                binary::<T, T, T>("max", &r, &init, CHUNK_LIGHT, step)
            }
        }
    }
    let r = match (x.dtype(), kind) {
        (DType::F32, Kind::Max) => run::<f32>(&x, &axes, kind, f32::NEG_INFINITY, initial)?,
        (DType::F32, Kind::Min) => run::<f32>(&x, &axes, kind, f32::INFINITY, initial)?,
        (DType::F64, Kind::Max) => run::<f64>(&x, &axes, kind, f64::NEG_INFINITY, initial)?,
        (DType::F64, Kind::Min) => run::<f64>(&x, &axes, kind, f64::INFINITY, initial)?,
        (_, Kind::Max) => run::<i64>(&x, &axes, kind, i64::MIN, initial)?,
        (_, Kind::Min) => run::<i64>(&x, &axes, kind, i64::MAX, initial)?,
    };
    let out = finish(r, &kept, keepdims)?;
    if x.dtype().is_float() {
        record(&[&x], &out, || Arc::new(ExtremumBackward { x: x.clone(), out: out.clone(), axes: axes.clone(), kept }));
    }
    Ok(out)
}

pub fn max(x: &Tensor, axis: Option<&[isize]>, keepdims: bool, initial: Option<f64>) -> Result<Tensor> {
    extremum(x, axis, keepdims, initial, Kind::Max)
}

pub fn min(x: &Tensor, axis: Option<&[isize]>, keepdims: bool, initial: Option<f64>) -> Result<Tensor> {
    extremum(x, axis, keepdims, initial, Kind::Min)
}

struct ExtremumBackward {
    x: Tensor,
    out: Tensor,
    axes: Vec<usize>,
    kept: Vec<usize>,
}

impl Backward for ExtremumBackward {
    fn name(&self) -> &'static str {
        "max"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let gx = grad_if(needs[0], || {
            let out = crate::ops::reshape(&self.out, &self.kept)?;
            let g = crate::ops::reshape(g, &self.kept)?;
            // mask of the elements equal to their group's extremum, shared equally among ties
            let mask = crate::dispatch_float!(self.x.dtype(), "max", |T| binary::<T, T, T>("max", &self.x, &out, CHUNK_LIGHT, |a, m| if a == m { 1.0 as T } else { 0.0 as T })?);
            let axes: Vec<usize> = self.axes.clone();
            let ties = crate::ops::sum(&mask, Some(&axes), true)?;
            crate::ops::multiply(&mask, &crate::ops::divide(&g, &ties)?)
        })?;
        Ok(vec![gx])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn max_min_values_ties_and_gradients() {
        let x = t64(&[1.0, 7.0, 7.0, -2.0, f64::NAN, 0.0], &[2, 3]);
        let m = vals(&crate::ops::max(&x, Some(&[1]), false, None).unwrap());
        assert_eq!(m[0], 7.0);
        assert!(m[1].is_nan());
        assert_eq!(vals(&crate::ops::min(&x, Some(&[0]), false, None).unwrap())[..1], [-2.0]);
        assert!(crate::ops::max(&t64(&[], &[0]), None, false, None).is_err());
        assert_eq!(vals(&crate::ops::max(&t64(&[], &[0]), None, false, Some(3.0)).unwrap()), vec![3.0]);
        // ties share the gradient
        let g = analytic_grads(|x| crate::ops::max(&x[0], None, false, None), &[t64(&[1.0, 3.0, 3.0], &[3])]);
        let w = vals(&rand64(&[], 99))[0];
        assert_eq!(vals(&g[0]), vec![0.0, w / 2.0, w / 2.0]);
        check_grads(|x| crate::ops::max(&x[0], Some(&[1]), true, None), &[rand64(&[3, 4], 1)]);
        check_grads(|x| crate::ops::min(&x[0], Some(&[0, 2]), false, None), &[rand64(&[2, 3, 2], 2)]);
    }
}
