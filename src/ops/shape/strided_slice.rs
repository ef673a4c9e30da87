//! `strided_slice(x, starts, steps, lens)`: per axis, `lens[d]` elements from `starts[d]` every
//! `steps[d]` (negative steps walk backwards). All-positive steps give a zero-copy view; any
//! negative step copies. The gradient scatters back into the input's shape.

use crate::error::Result;
use crate::ops::shape::select::{record_select, select};
use crate::tensor::{Layout, Tensor};
use crate::error::Error;
use crate::shape_err;

pub fn strided_slice(x: &Tensor, starts: &[usize], steps: &[isize], lens: &[usize]) -> Result<Tensor> {
    let nd = x.ndim();
    if starts.len() != nd || steps.len() != nd || lens.len() != nd {
        return shape_err!("strided_slice", "expected {nd} starts, steps and lengths for shape {:?}", x.shape());
    }
    let mut idx = Vec::with_capacity(nd);
    for d in 0..nd {
        let (s, st, n, dim) = (starts[d] as isize, steps[d], lens[d], x.shape()[d] as isize);
        let last = s + st * (n as isize - 1);
        if st == 0 || (n > 0 && (s < 0 || s >= dim || last < 0 || last >= dim)) {
            return Err(Error::Index(format!(
                "strided_slice: start {s}, step {st} and length {n} leave axis {d} of size {dim}"
            )));
        }
        idx.push((0..n as isize).map(|i| (s + i * st) as usize).collect::<Vec<usize>>());
    }
    if steps.iter().any(|&s| s < 0) {
        return select(x, idx);
    }
    let l = x.layout();
    let mut view = Layout { shape: lens.to_vec(), strides: l.strides.clone(), offset: l.offset };
    for d in 0..nd {
        if lens[d] > 0 {
            view.offset += starts[d] * l.strides[d];
        }
        view.strides[d] *= steps[d] as usize;
    }
    let out = if lens.iter().any(|&n| n == 0) { Tensor::zeros(lens, x.dtype()) } else { x.view(view)? };
    record_select(x, &out, idx);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::strided_slice;
    use crate::ops::testing::*;

    #[test]
    fn views_and_reversed_slices() {
        let x = t64(&(0..12).map(|v| v as f64).collect::<Vec<_>>(), &[3, 4]);
        let v = strided_slice(&x, &[1, 0], &[1, 2], &[2, 2]).unwrap();
        assert_eq!(vals(&v), vec![4.0, 6.0, 8.0, 10.0]);
        assert_eq!(v.storage().base_ptr(), x.storage().base_ptr()); // a view
        let r = strided_slice(&x, &[2, 3], &[-1, -3], &[3, 2]).unwrap();
        assert_eq!(vals(&r), vec![11.0, 8.0, 7.0, 4.0, 3.0, 0.0]);
        assert!(strided_slice(&x, &[3, 0], &[1, 1], &[1, 1]).is_err());
        check_grads(|x| strided_slice(&x[0], &[0, 1], &[2, 1], &[2, 3]), &[rand64(&[3, 4], 1)]);
        check_grads(|x| strided_slice(&x[0], &[2, 3], &[-1, -2], &[2, 2]), &[rand64(&[3, 4], 2)]);
    }
}
