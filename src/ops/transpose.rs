//! `transpose(x, axes=None)`: a view with permuted strides (reverses the axes by default).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::ops::common::grad_if;
use crate::tensor::{normalize_axis, Tensor};
use crate::value_err;

pub fn transpose(x: &Tensor, axes: Option<&[isize]>) -> Result<Tensor> {
    let nd = x.ndim();
    let perm: Vec<usize> = match axes {
        None => (0..nd).rev().collect(),
        Some(a) => {
            if a.len() != nd {
                return value_err!("transpose", "axes {a:?} do not match a tensor of rank {nd} (shape {:?})", x.shape());
            }
            let p = a.iter().map(|&v| normalize_axis("transpose", v, nd)).collect::<Result<Vec<_>>>()?;
            let mut seen = vec![false; nd];
            for &v in &p {
                if std::mem::replace(&mut seen[v], true) {
                    return value_err!("transpose", "axes {a:?} repeat an axis");
                }
            }
            p
        }
    };
    let out = x.view(x.layout().permute(&perm))?;
    record(&[x], &out, || {
        let mut inverse = vec![0isize; nd];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i as isize;
        }
        Arc::new(TransposeBackward { inverse })
    });
    Ok(out)
}

struct TransposeBackward {
    inverse: Vec<isize>,
}

impl Backward for TransposeBackward {
    fn name(&self) -> &'static str {
        "transpose"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![grad_if(needs[0], || transpose(g, Some(&self.inverse)))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn transpose_values_and_gradients() {
        let x = t64(&[0., 1., 2., 3., 4., 5.], &[2, 3]);
        assert_eq!(vals(&crate::ops::transpose(&x, None).unwrap()), vec![0., 3., 1., 4., 2., 5.]);
        assert!(crate::ops::transpose(&x, Some(&[0, 0])).is_err());
        check_grads(|x| crate::ops::transpose(&x[0], Some(&[2, 0, 1])), &[rand64(&[2, 3, 4], 1)]);
    }
}
