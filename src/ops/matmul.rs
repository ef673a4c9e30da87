//! `matmul(a, b)` with numpy semantics: 1-D operands are promoted to a row/column and the added
//! dimension removed; leading (batch) dimensions broadcast. Operands are read through their
//! strides, so transposed views cost no copy.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::gemm::{gemm, Mat, BLOCK_WORK};
use crate::ops::common::{grad_if, promote_float, sum_to_shape};
use crate::runtime::par_chunks_mut;
use crate::tensor::{broadcast_shapes, uninit_vec, Float, Layout, Tensor};
use crate::{shape_err, value_err};

pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return value_err!("matmul", "operands must have at least one dimension, received shapes {:?} and {:?}", a.shape(), b.shape());
    }
    let (a, b) = promote_float(a, b)?;
    let a2 = if a.ndim() == 1 { crate::ops::reshape(&a, &[1, a.shape()[0]])? } else { a.clone() };
    let b2 = if b.ndim() == 1 { crate::ops::reshape(&b, &[b.shape()[0], 1])? } else { b.clone() };
    if a2.shape()[a2.ndim() - 1] != b2.shape()[b2.ndim() - 2] {
        return shape_err!(
            "matmul",
            "the last dimension of the first operand must equal the second-to-last of the second, received shapes {:?} and {:?}",
            a.shape(),
            b.shape()
        );
    }
    let out = matmul_nd(&a2, &b2)?;
    record(&[&a2, &b2], &out, || Arc::new(MatmulBackward { a: a2.clone(), b: b2.clone() }));
    if a.ndim() == 1 || b.ndim() == 1 {
        let mut s = out.shape().to_vec();
        let r = s.len();
        if b.ndim() == 1 {
            s.remove(r - 1);
        }
        if a.ndim() == 1 {
            s.remove(r - 2);
        }
        return crate::ops::reshape(&out, &s);
    }
    Ok(out)
}

/// Batched product of operands with rank >= 2 whose inner dimensions match (not recorded).
fn matmul_nd(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    crate::dispatch_float!(a.dtype(), "matmul", |T| matmul_typed::<T>(a, b))
}

fn matmul_typed<T: Float>(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (ra, rb) = (a.ndim(), b.ndim());
    let (m, k, n) = (a.shape()[ra - 2], a.shape()[ra - 1], b.shape()[rb - 1]);
    let batch = broadcast_shapes("matmul", &a.shape()[..ra - 2], &b.shape()[..rb - 2])?;
    let nb: usize = batch.iter().product();
    let with = |mut s: Vec<usize>, x: usize, y: usize| {
        s.extend([x, y]);
        s
    };
    let la = a.layout().broadcast_to("matmul", &with(batch.clone(), m, k))?;
    let lb = b.layout().broadcast_to("matmul", &with(batch.clone(), k, n))?;
    let mismatch = |t: &Tensor| crate::Error::Type(format!("matmul: expected {} operands, received {}", T::DTYPE, t.dtype()));
    let da = T::buffer(a.storage()).ok_or_else(|| mismatch(a))?.as_slice();
    let db = T::buffer(b.storage()).ok_or_else(|| mismatch(b))?.as_slice();
    let nd = batch.len();
    let offset = |l: &Layout, mut i: usize| {
        let mut o = l.offset;
        for d in (0..nd).rev() {
            o += (i % batch[d]) * l.strides[d];
            i /= batch[d];
        }
        o
    };
    let mat_a = |i: usize| Mat { data: da, offset: offset(&la, i), rs: la.strides[nd], cs: la.strides[nd + 1] };
    let mat_b = |i: usize| Mat { data: db, offset: offset(&lb, i), rs: lb.strides[nd], cs: lb.strides[nd + 1] };
    let mut out = uninit_vec::<T>(nb * m * n);
    let work = m * n * k;
    if nb > 1 && work < BLOCK_WORK && m * n > 0 {
        // Many small products: parallel over groups of batches, each product single-threaded.
        let per_chunk = (BLOCK_WORK / work.max(1)).max(1);
        par_chunks_mut(&mut out, per_chunk * m * n, |start, chunk| {
            for (j, c) in chunk.chunks_mut(m * n).enumerate() {
                let i = start / (m * n) + j;
                gemm(m, n, k, mat_a(i), mat_b(i), c, 0, n, false, false);
            }
        });
    } else {
        for i in 0..nb {
            gemm(m, n, k, mat_a(i), mat_b(i), &mut out, i * m * n, n, false, true);
        }
    }
    Ok(Tensor::from_vec_unchecked(out, &with(batch, m, n)))
}

/// Swap the last two axes (a view).
fn mt(x: &Tensor) -> Result<Tensor> {
    let nd = x.ndim();
    let mut perm: Vec<usize> = (0..nd).collect();
    perm.swap(nd - 1, nd - 2);
    x.view(x.layout().permute(&perm))
}

struct MatmulBackward {
    a: Tensor,
    b: Tensor,
}

impl Backward for MatmulBackward {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        // dA = G·Bᵀ, dB = Aᵀ·G, summed over broadcast batch dimensions.
        Ok(vec![
            grad_if(needs[0], || sum_to_shape(&matmul_nd(g, &mt(&self.b)?)?, self.a.shape()))?,
            grad_if(needs[1], || sum_to_shape(&matmul_nd(&mt(&self.a)?, g)?, self.b.shape()))?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;

    #[test]
    fn matmul_follows_numpy_shapes() {
        let a = t64(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let b = t64(&[1., 0., 1.], &[3]);
        let r = crate::ops::matmul(&a, &b).unwrap();
        assert_eq!(r.shape(), &[2]);
        assert_eq!(vals(&r), vec![4.0, 10.0]);
        let r = crate::ops::matmul(&b, &crate::ops::transpose(&a, None).unwrap()).unwrap();
        assert_eq!(vals(&r), vec![4.0, 10.0]);
        let batched = crate::ops::matmul(&rand64(&[4, 1, 2, 3], 1), &rand64(&[5, 3, 6], 2)).unwrap();
        assert_eq!(batched.shape(), &[4, 5, 2, 6]);
        assert!(crate::ops::matmul(&a, &a).is_err());
    }

    #[test]
    fn matmul_gradients() {
        check_grads(|x| crate::ops::matmul(&x[0], &x[1]), &[rand64(&[3, 4], 1), rand64(&[4, 2], 2)]);
        check_grads(|x| crate::ops::matmul(&x[0], &x[1]), &[rand64(&[2, 1, 3, 4], 3), rand64(&[3, 4, 2], 4)]);
        check_grads(|x| crate::ops::matmul(&x[0], &x[1]), &[rand64(&[4], 5), rand64(&[4], 6)]);
        check_grads(|x| crate::ops::matmul(&x[0], &crate::ops::transpose(&x[1], None)?), &[rand64(&[3, 4], 7), rand64(&[5, 4], 8)]);
    }
}
