//! Comparisons `equal`, `not_equal`, `less`, `less_equal`, `greater`, `greater_equal`: bool
//! tensors with numpy broadcasting, after promoting both operands to their common dtype
//! (NaN compares unequal to everything, as in numpy). Not differentiable.

use crate::error::Result;
use crate::kernels::elementwise::{binary, CHUNK_LIGHT};
use crate::tensor::{DType, Tensor};

/// Both operands in their common dtype (plain value conversion: comparisons record nothing).
fn common(a: &Tensor, b: &Tensor) -> (Tensor, Tensor) {
    let dt = DType::promote(a.dtype(), b.dtype());
    (a.to_dtype(dt), b.to_dtype(dt))
}

macro_rules! comparison {
    ($(#[$doc:meta])* $name:ident, $op:tt) => {
        $(#[$doc])*
        pub fn $name(x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
            let (a, b) = common(x1, x2);
            crate::dispatch_all!(a.dtype(), |T| binary::<T, T, bool>(stringify!($name), &a, &b, CHUNK_LIGHT, |x, y| x $op y))
        }
    };
}

comparison!(/// `x1 == x2` elementwise.
    equal, ==);
comparison!(/// `x1 != x2` elementwise.
    not_equal, !=);
comparison!(/// `x1 < x2` elementwise.
    less, <);
comparison!(/// `x1 <= x2` elementwise.
    less_equal, <=);
comparison!(/// `x1 > x2` elementwise.
    greater, >);
comparison!(/// `x1 >= x2` elementwise.
    greater_equal, >=);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    fn bools(t: &Tensor) -> Vec<bool> {
        assert_eq!(t.dtype(), DType::Bool);
        t.to_vec::<bool>().unwrap()
    }

    #[test]
    fn comparisons_broadcast_promote_and_handle_nan() {
        let a = t64(&[1.0, 2.0, f64::NAN], &[3, 1]);
        let b = Tensor::from_vec(vec![2i64, 1], &[2]).unwrap();
        assert_eq!(bools(&less(&a, &b).unwrap()), vec![true, false, false, false, false, false]);
        assert_eq!(bools(&greater_equal(&a, &b).unwrap()), vec![false, true, true, true, false, false]);
        assert_eq!(bools(&equal(&a, &b).unwrap()), vec![false, true, true, false, false, false]);
        assert_eq!(bools(&not_equal(&a, &b).unwrap()), vec![true, false, false, true, true, true]);
        assert_eq!(bools(&less_equal(&a, &b).unwrap()), vec![true, true, true, false, false, false]);
        assert_eq!(bools(&greater(&a, &b).unwrap()), vec![false, false, false, true, false, false]);
        let t = Tensor::from_vec(vec![true, false], &[2]).unwrap();
        assert_eq!(bools(&greater(&t, &Tensor::scalar(false)).unwrap()), vec![true, false]);
        assert!(less(&t64(&[1.0; 3], &[3]), &t64(&[1.0; 2], &[2])).is_err());
    }
}
