//! `clip(x, x_min, x_max)`: min(max(x, x_min), x_max), NaN propagating. The gradient passes
//! where x_min <= x <= x_max. Int64 (and bool, promoted) inputs stay int64 when both bounds are
//! whole numbers (or infinite), as numpy/Keras keep ints clipped by ints; otherwise they become
//! float32.

use crate::error::Result;
use crate::kernels::elementwise::{unary, CHUNK_LIGHT};
use crate::ops::unary::{apply, int_input, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Clip {
    lo: f64,
    hi: f64,
}

impl UnaryFn for Clip {
    const NAME: &'static str = "clip";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        let v = if x < T::c(self.lo) { T::c(self.lo) } else { x };
        if v > T::c(self.hi) {
            T::c(self.hi)
        } else {
            v
        }
    }
    fn df<T: Float>(&self, x: T) -> T {
        if x >= T::c(self.lo) && x <= T::c(self.hi) {
            T::one()
        } else {
            T::zero()
        }
    }
}

pub fn clip(x: &Tensor, x_min: f64, x_max: f64) -> Result<Tensor> {
    let whole = |b: f64| b.is_infinite() || b.fract() == 0.0;
    if x.dtype().is_float() || !whole(x_min) || !whole(x_max) {
        return apply(Clip { lo: x_min, hi: x_max }, x);
    }
    // `as` saturates infinite bounds to i64::MIN / i64::MAX.
    let (lo, hi) = (x_min as i64, x_max as i64);
    unary::<i64, i64>(&int_input(x)?, CHUNK_LIGHT, |v| v.max(lo).min(hi))
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::{DType, Tensor};

    #[test]
    fn clip_values_and_gradients() {
        let r = vals(&crate::ops::clip(&t64(&[-2.0, 0.5, 3.0, f64::NAN], &[4]), 0.0, 1.0).unwrap());
        assert_eq!(r[..3], [0.0, 0.5, 1.0]);
        assert!(r[3].is_nan());
        let i = Tensor::from_vec(vec![-3i64, 1, 4], &[3]).unwrap();
        let c = crate::ops::clip(&i, 0.0, 2.0).unwrap();
        assert_eq!(c.to_vec::<i64>().unwrap(), vec![0, 1, 2]);
        assert_eq!(crate::ops::clip(&i, 0.0, f64::INFINITY).unwrap().to_vec::<i64>().unwrap(), vec![0, 1, 4]);
        let f = crate::ops::clip(&i, 0.5, 2.0).unwrap();
        assert_eq!(f.dtype(), DType::F32);
        assert_eq!(f.to_vec::<f32>().unwrap(), vec![0.5, 1.0, 2.0]);
        check_grads(|x| crate::ops::clip(&x[0], -0.5, 0.5), &[t64(&[-1.5, -0.2, 0.3, 2.0], &[4])]);
    }
}
