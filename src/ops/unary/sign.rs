//! `sign(x)`: -1, 0 or 1 (NaN stays NaN); int64 (and bool, promoted) stay int64. The gradient
//! is zero everywhere (recorded, so a tape returns zeros rather than nothing).

use crate::error::Result;
use crate::kernels::elementwise::{unary, CHUNK_LIGHT};
use crate::ops::unary::{apply, int_input, Saved, UnaryFn};
use crate::tensor::{Float, Tensor};

struct Sign;

impl UnaryFn for Sign {
    const NAME: &'static str = "sign";
    const CHUNK: usize = CHUNK_LIGHT;
    const SAVED: Saved = Saved::Input;
    fn f<T: Float>(&self, x: T) -> T {
        if x > T::zero() {
            T::one()
        } else if x < T::zero() {
            -T::one()
        } else {
            x
        }
    }
    fn df<T: Float>(&self, _x: T) -> T {
        T::zero()
    }
}

pub fn sign(x: &Tensor) -> Result<Tensor> {
    if x.dtype().is_float() {
        return apply(Sign, x);
    }
    unary::<i64, i64>(&int_input(x)?, CHUNK_LIGHT, |v| v.signum())
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn sign_values_and_zero_gradient() {
        let r = vals(&crate::ops::sign(&t64(&[-2.0, 0.0, 3.0, f64::NAN], &[4])).unwrap());
        assert_eq!(r[..3], [-1.0, 0.0, 1.0]);
        assert!(r[3].is_nan());
        let i = crate::ops::sign(&Tensor::from_vec(vec![-3i64, 0, 4], &[3]).unwrap()).unwrap();
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![-1, 0, 1]);
        let g = analytic_grads(|x| crate::ops::sign(&x[0]), &[rand64(&[3], 21)]);
        assert_eq!(vals(&g[0]), vec![0.0; 3]);
    }
}
