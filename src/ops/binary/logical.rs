//! Logical ops `logical_and`, `logical_or`, `logical_xor`, `logical_not`: inputs of any dtype
//! (nonzero, including NaN, is true), bool results with numpy broadcasting. Not differentiable.

use crate::error::Result;
use crate::kernels::elementwise::{binary, unary, CHUNK_LIGHT};
use crate::tensor::{DType, Tensor};

/// `x != 0` as a bool tensor (`x` itself when already bool).
pub fn truthy(x: &Tensor) -> Result<Tensor> {
    if x.dtype() == DType::Bool {
        return Ok(x.clone());
    }
    crate::dispatch_all!(x.dtype(), |T| unary::<T, bool>(x, CHUNK_LIGHT, |v| v != T::default()))
}

macro_rules! logical {
    ($(#[$doc:meta])* $name:ident, $op:tt) => {
        $(#[$doc])*
        pub fn $name(x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
            binary::<bool, bool, bool>(stringify!($name), &truthy(x1)?, &truthy(x2)?, CHUNK_LIGHT, |x, y| x $op y)
        }
    };
}

logical!(/// Elementwise `x1 and x2`.
    logical_and, &);
logical!(/// Elementwise `x1 or x2`.
    logical_or, |);
logical!(/// Elementwise `x1 xor x2`.
    logical_xor, ^);

/// Elementwise `not x`.
pub fn logical_not(x: &Tensor) -> Result<Tensor> {
    unary::<bool, bool>(&truthy(x)?, CHUNK_LIGHT, |v| !v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ops_treat_nonzero_as_true() {
        let a = Tensor::from_vec(vec![0.0f32, 2.0, f64::NAN as f32], &[3, 1]).unwrap();
        let b = Tensor::from_vec(vec![0i64, -3], &[2]).unwrap();
        let v = |t: Tensor| t.to_vec::<bool>().unwrap();
        assert_eq!(v(logical_and(&a, &b).unwrap()), vec![false, false, false, true, false, true]);
        assert_eq!(v(logical_or(&a, &b).unwrap()), vec![false, true, true, true, true, true]);
        assert_eq!(v(logical_xor(&a, &b).unwrap()), vec![false, true, true, false, true, false]);
        assert_eq!(v(logical_not(&a).unwrap()), vec![true, false, false]);
        assert!(logical_or(&a, &Tensor::from_vec(vec![1i64; 2], &[2, 1]).unwrap()).is_err());
    }
}
