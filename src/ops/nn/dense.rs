//! `dense(x, kernel, bias, activation)`: activation(x·kernel + bias) over the last axis of `x`,
//! as one gemm plus one fused epilogue pass (bias and activation) per row. The backward is one
//! node: dz = g·f'(y) from the saved output, then dx = dz·kernelᵀ and dkernel = xᵀ·dz (two gemms)
//! and dbias = column sums of dz (fixed row chunks, so the same result for any thread count).

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::gemm::{gemm, Mat};
use crate::kernels::transpose::transposed;
use crate::kernels::math;
use crate::kernels::softmax::{softmax_grad_row, softmax_row_in_place};
use crate::multiversion;
use crate::ops::common::{grad_if, to_float};
use crate::runtime::{par_chunks_mut, par_ranges};
use crate::tensor::{uninit_vec, Float, Tensor};
use crate::{shape_err, value_err};

/// Activations the epilogue applies; each derivative is a function of the output alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    Softmax,
}

impl Activation {
    pub fn parse(name: &str) -> Option<Activation> {
        Some(match name {
            "linear" => Activation::Linear,
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            _ => return None,
        })
    }
}

/// Elements of output per parallel chunk of rows.
const CHUNK: usize = 1 << 14;

pub(super) fn rows_per_chunk(n: usize) -> usize {
    (CHUNK / n.max(1)).max(1)
}

pub fn dense(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>, activation: Activation) -> Result<Tensor> {
    if kernel.ndim() != 2 {
        return value_err!("dense", "the kernel must be 2-D (input_dim, units), received shape {:?}", kernel.shape());
    }
    if x.ndim() == 0 {
        return value_err!("dense", "the input must have at least one dimension, received a scalar");
    }
    let (k, n) = (kernel.shape()[0], kernel.shape()[1]);
    if x.shape()[x.ndim() - 1] != k {
        return shape_err!(
            "dense",
            "the last dimension of the input must equal the kernel's first dimension {k}, received input shape {:?} and kernel shape {:?}",
            x.shape(),
            kernel.shape()
        );
    }
    if let Some(b) = bias {
        if b.shape() != [n] {
            return shape_err!("dense", "the bias must have shape [{n}], received {:?}", b.shape());
        }
    }
    let (x, kernel) = crate::ops::common::promote_float(x, kernel)?;
    let bias = match bias {
        Some(b) => Some(if b.dtype() == x.dtype() { b.clone() } else { crate::ops::cast(&to_float(b)?, x.dtype())? }),
        None => None,
    };
    let mut out_shape = x.shape().to_vec();
    *out_shape.last_mut().expect("rank checked") = n;
    let out = crate::dispatch_float!(x.dtype(), "dense", |T| forward::<T>(&x, &kernel, bias.as_ref(), activation, &out_shape)?);
    let mut inputs = vec![&x, &kernel];
    if let Some(b) = &bias {
        inputs.push(b);
    }
    record(&inputs, &out, || {
        Arc::new(DenseBackward { x: x.clone(), kernel: kernel.clone(), output: out.clone(), activation, has_bias: bias.is_some() })
    });
    Ok(out)
}

fn kernel_mat<T: Float>(kernel: &Tensor) -> Result<Mat<'_, T>> {
    let l = kernel.layout();
    let data = T::buffer(kernel.storage()).ok_or_else(|| crate::Error::Type(format!("dense: expected a {} kernel, received {}", T::DTYPE, kernel.dtype())))?;
    Ok(Mat { data: data.as_slice(), offset: l.offset, rs: l.strides[0], cs: l.strides[1] })
}

fn forward<T: Float>(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>, act: Activation, out_shape: &[usize]) -> Result<Tensor> {
    let (k, n) = (kernel.shape()[0], kernel.shape()[1]);
    let xd = x.data::<T>()?;
    let m: usize = x.shape()[..x.ndim() - 1].iter().product();
    let mut out = uninit_vec::<T>(m * n);
    gemm(m, n, k, Mat::row_major(&xd, 0, k), kernel_mat::<T>(kernel)?, &mut out, 0, n, false, true);
    let bias = match bias {
        Some(b) => Some(b.data::<T>()?),
        None => None,
    };
    if n > 0 && (bias.is_some() || act != Activation::Linear) {
        let bias = bias.as_deref();
        par_chunks_mut(&mut out, rows_per_chunk(n) * n, |_, chunk| {
            for row in chunk.chunks_mut(n) {
                epilogue(row, bias.unwrap_or(&[]), act);
            }
        });
    }
    Tensor::from_vec(out, out_shape)
}

multiversion! {
    /// row ← f(row + bias) (bias empty: none).
    pub(super) fn epilogue[T: Float](row: &mut [T], bias: &[T], act: Activation) {
        if !bias.is_empty() {
            for (v, &b) in row.iter_mut().zip(bias) {
                *v += b;
            }
        }
        match act {
            Activation::Linear => {}
            Activation::Relu => for v in row.iter_mut() { if *v < T::zero() { *v = T::zero() } },
            Activation::Sigmoid => for v in row.iter_mut() { *v = math::sigmoid(*v) },
            Activation::Tanh => for v in row.iter_mut() { *v = math::tanh(*v) },
            Activation::Softmax => softmax_row_in_place(row),
        }
    }
}

multiversion! {
    /// dz = g·f'(y) for one row.
    pub(super) fn activation_grad[T: Float](y: &[T], g: &[T], dz: &mut [T], act: Activation) {
        match act {
            Activation::Linear => dz.copy_from_slice(g),
            Activation::Relu => for ((d, &yv), &gv) in dz.iter_mut().zip(y).zip(g) { *d = if yv > T::zero() { gv } else { T::zero() } },
            Activation::Sigmoid => for ((d, &yv), &gv) in dz.iter_mut().zip(y).zip(g) { *d = gv * yv * (T::one() - yv) },
            Activation::Tanh => for ((d, &yv), &gv) in dz.iter_mut().zip(y).zip(g) { *d = gv * (T::one() - yv * yv) },
            Activation::Softmax => softmax_grad_row(y, g, dz),
        }
    }
}

multiversion! {
    /// acc += each row of `rows` (rows of acc.len()).
    pub(super) fn add_rows[T: Float](acc: &mut [T], rows: &[T]) {
        for row in rows.chunks(acc.len()) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += v;
            }
        }
    }
}

/// dz = g·f'(y) for whole rows of `n` (`y`, `g`, `dz` of the same length).
pub(super) fn rows_activation_grad<T: Float>(y: &[T], g: &[T], dz: &mut [T], n: usize, act: Activation) {
    if act == Activation::Softmax {
        for ((d, yr), gr) in dz.chunks_mut(n).zip(y.chunks(n)).zip(g.chunks(n)) {
            activation_grad(yr, gr, d, act);
        }
    } else {
        // Elementwise: one call over all rows (a call per row was a dispatch per 32 values for
        // a convolution's channels).
        activation_grad(y, g, dz, act);
    }
}

/// dz = g·f'(y) over rows of `n` (the gradient before the activation), from the saved output.
pub(super) fn pre_activation_grad<T: Float>(g: &[T], output: &Tensor, n: usize, act: Activation) -> Result<Vec<T>> {
    if act == Activation::Linear || n == 0 {
        return Ok(g.to_vec());
    }
    let y = output.data::<T>()?;
    // Every element is written below (each chunk by its task).
    let mut dz = uninit_vec::<T>(g.len());
    par_chunks_mut(&mut dz, rows_per_chunk(n) * n, |start, chunk| {
        let end = start + chunk.len();
        rows_activation_grad(&y[start..end], &g[start..end], chunk, n, act);
    });
    Ok(dz)
}

/// Column sums of an `m×n` row-major matrix (a bias gradient): partial sums over fixed row
/// blocks, added in block order, so the result is the same for any thread count.
pub(super) fn column_sums<T: Float>(dz: &[T], m: usize, n: usize) -> Vec<T> {
    let partials = par_ranges(m, rows_per_chunk(n), |r| {
        let mut acc = vec![T::zero(); n];
        add_rows(&mut acc, &dz[r.start * n..r.end * n]);
        acc
    });
    let mut sums = vec![T::zero(); n];
    for p in &partials {
        add_rows(&mut sums, p);
    }
    sums
}

struct DenseBackward {
    x: Tensor,
    kernel: Tensor,
    output: Tensor,
    activation: Activation,
    has_bias: bool,
}

impl DenseBackward {
    fn grads<T: Float>(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let (k, n) = (self.kernel.shape()[0], self.kernel.shape()[1]);
        let g = if g.dtype() == T::DTYPE { g.clone() } else { crate::ops::cast(g, T::DTYPE)? };
        let gd = g.data::<T>()?;
        let m: usize = self.x.shape()[..self.x.ndim() - 1].iter().product();
        let dz = pre_activation_grad(&gd, &self.output, n, self.activation)?;
        let dz_mat = Mat::row_major(&dz, 0, n);
        let dx = grad_if(needs[0], || {
            let mut dx = uninit_vec::<T>(m * k);
            let w = self.kernel.data::<T>()?;
            let wt = transposed(&w, k, n);
            gemm(m, k, n, dz_mat, Mat::row_major(&wt, 0, k), &mut dx, 0, k, false, true);
            Tensor::from_vec(dx, self.x.shape())
        })?;
        let dw = grad_if(needs[1], || {
            let xd = self.x.data::<T>()?;
            let mut dw = uninit_vec::<T>(k * n);
            gemm(k, n, m, Mat::row_major(&xd, 0, k).t(), dz_mat, &mut dw, 0, n, false, true);
            Tensor::from_vec(dw, &[k, n])
        })?;
        let mut out = vec![dx, dw];
        if self.has_bias {
            out.push(grad_if(needs[2], || Tensor::from_vec(column_sums(&dz, m, n), &[n]))?);
        }
        Ok(out)
    }
}

impl Backward for DenseBackward {
    fn name(&self) -> &'static str {
        "dense"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        crate::dispatch_float!(self.x.dtype(), "dense", |T| self.grads::<T>(g, needs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    fn reference(x: &Tensor, w: &Tensor, b: &Tensor, act: &str) -> Tensor {
        let z = crate::ops::add(&crate::ops::matmul(x, w).unwrap(), b).unwrap();
        match act {
            "linear" => z,
            "relu" => crate::ops::relu(&z).unwrap(),
            "sigmoid" => crate::ops::sigmoid(&z).unwrap(),
            "tanh" => crate::ops::tanh(&z).unwrap(),
            _ => crate::ops::softmax(&z, -1).unwrap(),
        }
    }

    #[test]
    fn dense_matches_matmul_bias_activation() {
        for act in ["linear", "relu", "sigmoid", "tanh", "softmax"] {
            let (x, w, b) = (rand64(&[2, 3, 4], 1), rand64(&[4, 5], 2), rand64(&[5], 3));
            let got = dense(&x, &w, Some(&b), Activation::parse(act).unwrap()).unwrap();
            assert_eq!(got.shape(), &[2, 3, 5]);
            let want = vals(&reference(&x, &w, &b, act));
            for (g, w) in vals(&got).iter().zip(&want) {
                assert!((g - w).abs() < 1e-12, "{act}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn dense_gradients() {
        for act in ["linear", "relu", "sigmoid", "tanh", "softmax"] {
            let a = Activation::parse(act).unwrap();
            check_grads(|t| dense(&t[0], &t[1], Some(&t[2]), a), &[rand64(&[3, 4], 4), rand64(&[4, 3], 5), rand64(&[3], 6)]);
            check_grads(|t| dense(&t[0], &t[1], None, a), &[rand64(&[2, 2, 4], 7), rand64(&[4, 3], 8)]);
        }
        // A transposed (strided) kernel.
        check_grads(|t| dense(&t[0], &crate::ops::transpose(&t[1], None)?, Some(&t[2]), Activation::Tanh), &[rand64(&[3, 4], 9), rand64(&[2, 4], 10), rand64(&[2], 11)]);
    }

    #[test]
    fn dense_is_the_same_for_any_thread_count() {
        let x = rand64(&[300, 70], 12);
        let w = rand64(&[70, 90], 13);
        let b = rand64(&[90], 14);
        assert_same_for_any_thread_count_and_simd_path(|| {
            let grads = analytic_grads(|t| dense(&t[0], &t[1], Some(&t[2]), Activation::Sigmoid), &[x.clone(), w.clone(), b.clone()]);
            grads.iter().flat_map(vals).collect()
        });
    }

    #[test]
    fn bad_shapes_are_errors() {
        let w = rand64(&[4, 5], 2);
        assert!(dense(&rand64(&[2, 3], 1), &w, None, Activation::Linear).is_err());
        assert!(dense(&rand64(&[2, 4], 1), &w, Some(&rand64(&[4], 3)), Activation::Linear).is_err());
        assert!(dense(&rand64(&[2, 4], 1), &rand64(&[4], 3), None, Activation::Linear).is_err());
    }
}
