use crate::error::Result;
use crate::{shape_err, value_err};

/// Where a tensor's elements sit in its buffer: element `idx` is at
/// `offset + sum(idx[d] * strides[d])`. Strides are in elements; a stride of 0 broadcasts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Vec<usize>,
    pub strides: Vec<usize>,
    pub offset: usize,
}

/// Row-major strides of a shape.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut s = 1;
    for d in (0..shape.len()).rev() {
        strides[d] = s;
        s *= shape[d];
    }
    strides
}

/// Normalize a possibly negative axis against `ndim`; out of range is a ValueError (as numpy's AxisError).
pub fn normalize_axis(op: &str, axis: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    if axis < -n || axis >= n {
        return value_err!(op, "axis {axis} is out of bounds for a tensor of rank {ndim}");
    }
    Ok(if axis < 0 { (axis + n) as usize } else { axis as usize })
}

/// numpy broadcasting of two shapes.
pub fn broadcast_shapes(op: &str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return shape_err!(op, "operands could not be broadcast together with shapes {a:?} and {b:?}");
        };
    }
    Ok(out)
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout { shape: shape.to_vec(), strides: contiguous_strides(shape), offset: 0 }
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Row-major contiguous (dimensions of size 1 may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for d in (0..self.shape.len()).rev() {
            if self.shape[d] != 1 && self.strides[d] != expected {
                return false;
            }
            expected *= self.shape[d];
        }
        true
    }

    /// Permute dimensions (a view).
    pub fn permute(&self, axes: &[usize]) -> Layout {
        Layout {
            shape: axes.iter().map(|&a| self.shape[a]).collect(),
            strides: axes.iter().map(|&a| self.strides[a]).collect(),
            offset: self.offset,
        }
    }

    /// Broadcast to `shape` (a view with stride 0 on expanded dimensions).
    pub fn broadcast_to(&self, op: &str, shape: &[usize]) -> Result<Layout> {
        if shape.len() < self.ndim() {
            return shape_err!(op, "cannot broadcast shape {:?} to {:?}", self.shape, shape);
        }
        let lead = shape.len() - self.ndim();
        let mut strides = vec![0; shape.len()];
        for (i, &d) in shape.iter().enumerate() {
            if i < lead {
                continue;
            }
            let (sd, ss) = (self.shape[i - lead], self.strides[i - lead]);
            strides[i] = if sd == d {
                ss
            } else if sd == 1 {
                0
            } else {
                return shape_err!(op, "cannot broadcast shape {:?} to {:?}", self.shape, shape);
            };
        }
        Ok(Layout { shape: shape.to_vec(), strides, offset: self.offset })
    }

    /// Offsets (into the buffer) of every element in row-major order of this layout.
    /// Used by the generic strided copy; hot kernels work on contiguous data instead.
    pub fn for_each_offset(&self, mut f: impl FnMut(usize)) {
        let n = self.numel();
        if n == 0 {
            return;
        }
        let nd = self.ndim();
        if nd == 0 {
            f(self.offset);
            return;
        }
        let inner = self.shape[nd - 1];
        let inner_stride = self.strides[nd - 1];
        let mut idx = vec![0usize; nd];
        let mut base = self.offset;
        loop {
            for i in 0..inner {
                f(base + i * inner_stride);
            }
            // advance the outer index (odometer over dims 0..nd-1)
            let mut d = nd - 1;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                base += self.strides[d];
                if idx[d] < self.shape[d] {
                    break;
                }
                base -= self.strides[d] * self.shape[d];
                idx[d] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes("t", &[3, 1], &[4]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes("t", &[], &[2, 2]).unwrap(), vec![2, 2]);
        assert_eq!(broadcast_shapes("t", &[0, 1], &[1, 5]).unwrap(), vec![0, 5]);
        assert!(broadcast_shapes("t", &[3], &[4]).is_err());
    }

    #[test]
    fn offsets_of_a_transposed_view() {
        let l = Layout::contiguous(&[2, 3]).permute(&[1, 0]);
        let mut v = vec![];
        l.for_each_offset(|o| v.push(o));
        assert_eq!(v, vec![0, 3, 1, 4, 2, 5]);
        assert!(!l.is_contiguous());
        let b = Layout::contiguous(&[3]).broadcast_to("t", &[2, 3]).unwrap();
        let mut v = vec![];
        b.for_each_offset(|o| v.push(o));
        assert_eq!(v, vec![0, 1, 2, 0, 1, 2]);
    }
}
