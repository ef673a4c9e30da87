//! Ops: one module per op, each with its forward, its backward rule and unit tests side by side.
//! Adding an op: a module here (forward + `Backward` impl + tests), a `pub use` line below, a
//! binding in `src/python/`, a line in `python/rkeras/ops/`, a one-line gradient test in `tests/`.

pub mod common;

// Op families, each a folder with one module per op.
pub mod binary;
pub mod nn;
pub mod random;
pub mod reduce;
pub mod shape;
pub mod unary;

mod add;
mod broadcast_to;
mod cast;
mod divide;
mod matmul;
mod multiply;
mod negative;
mod reshape;
mod subtract;
mod sum;
mod transpose;

pub use add::add;
pub use broadcast_to::broadcast_to;
pub use cast::cast;
pub use divide::divide;
pub use matmul::matmul;
pub use multiply::multiply;
pub use negative::negative;
pub use reshape::{reshape, reshape_to, resolve_shape};
pub use subtract::subtract;
pub use sum::{sum, sum_axes};
pub use transpose::transpose;

pub use binary::*;
pub use nn::*;
pub use random::*;
pub use reduce::*;
pub use shape::*;
pub use unary::*;

/// Helpers for op unit tests: small tensors and a central finite-difference gradient check.
#[cfg(test)]
pub mod testing {
    use crate::autograd::{self, Tape};
    use crate::error::Result;
    use crate::tensor::{DType, Tensor};

    pub fn t64(v: &[f64], shape: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), shape).unwrap()
    }

    /// Deterministic values in [-1, 1).
    pub fn rand64(shape: &[usize], seed: u64) -> Tensor {
        let n: usize = shape.iter().product();
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let v = (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect();
        Tensor::from_vec(v, shape).unwrap()
    }

    pub fn vals(t: &Tensor) -> Vec<f64> {
        t.to_dtype(DType::F64).to_vec::<f64>().unwrap()
    }

    /// Assert `gen` gives bit-identical values with 1 and 2 threads and on the AVX2 and scalar
    /// SIMD paths.
    pub fn assert_same_for_any_thread_count_and_simd_path(gen: impl Fn() -> Vec<f64>) {
        use crate::runtime::{set_num_threads, simd};
        set_num_threads(1);
        let one = gen();
        set_num_threads(2);
        let two = gen();
        set_num_threads(0);
        simd::set_avx2_cap(true);
        let avx2 = gen();
        simd::set_avx2_cap(false);
        simd::set_scalar(true);
        let scalar = gen();
        simd::set_scalar(false);
        assert_eq!(one, two);
        assert_eq!(one, avx2);
        assert_eq!(one, scalar);
    }

    /// sum(f(x) * w) with fixed weights w, so every output element matters differently.
    fn weighted(f: &impl Fn(&[Tensor]) -> Result<Tensor>, x: &[Tensor]) -> Tensor {
        let y = f(x).unwrap();
        let w = rand64(y.shape(), 99);
        let y = crate::ops::cast(&y, DType::F64).unwrap();
        crate::ops::sum(&crate::ops::multiply(&y, &w).unwrap(), None, false).unwrap()
    }

    /// Tape gradients of sum(f(x) * w) with respect to every input.
    pub fn analytic_grads(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) -> Vec<Tensor> {
        analytic_grads_for(f, inputs, &(0..inputs.len()).collect::<Vec<_>>())
    }

    /// The same gradients, asked for the inputs `wanted` only (backward passes then skip the
    /// others' work).
    pub fn analytic_grads_for(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor], wanted: &[usize]) -> Vec<Tensor> {
        let tape = Tape::new(false, true);
        for x in inputs {
            tape.lock().unwrap().watch(x);
        }
        autograd::push(&tape);
        let loss = weighted(&f, inputs);
        autograd::pop(&tape);
        let ids: Vec<_> = wanted.iter().map(|&i| inputs[i].id()).collect();
        autograd::gradient(&tape, &[loss], &ids, None)
            .unwrap()
            .into_iter()
            .zip(wanted)
            .map(|(g, &i)| g.unwrap_or_else(|| Tensor::zeros(inputs[i].shape(), inputs[i].dtype())))
            .collect()
    }

    /// Compare tape gradients with central finite differences (f64 inputs).
    pub fn check_grads(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
        let grads = analytic_grads(&f, inputs);
        let eps = 1e-6;
        for (i, x) in inputs.iter().enumerate() {
            assert_eq!(grads[i].shape(), x.shape(), "gradient {i} has the wrong shape");
            let base = vals(x);
            let g = vals(&grads[i]);
            for j in 0..base.len() {
                let at = |d: f64| {
                    let mut v = base.clone();
                    v[j] += d;
                    let mut xs = inputs.to_vec();
                    xs[i] = t64(&v, x.shape());
                    weighted(&f, &xs).item().unwrap()
                };
                let fd = (at(eps) - at(-eps)) / (2.0 * eps);
                assert!((fd - g[j]).abs() <= 1e-6 + 1e-5 * fd.abs(), "input {i} element {j}: finite difference {fd} vs tape {}", g[j]);
            }
        }
    }
}
