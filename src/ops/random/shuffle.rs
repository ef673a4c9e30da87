//! `shuffle(x, axis, seed)`: `x` with its slices along `axis` in a random order. The permutation
//! sorts the indices by 64-bit Philox keys (ties, which are vanishingly rare, keep index order),
//! so it depends only on the seed and the axis length. Gradients flow back through the inverse
//! permutation.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::elementwise::CHUNK_LIGHT;
use crate::ops::common::grad_if;
use crate::runtime::par_chunks_mut;
use crate::runtime::rng::{fill, Key};
use crate::tensor::{normalize_axis, Element, Tensor};

pub fn shuffle(x: &Tensor, axis: isize, seed: u64) -> Result<Tensor> {
    if x.ndim() == 0 {
        return crate::value_err!("shuffle", "expected a tensor of rank >= 1, received a scalar");
    }
    let axis = normalize_axis("shuffle", axis, x.ndim())?;
    let key = Key::from_seed(seed);
    let mut keys = vec![0u64; x.shape()[axis]];
    fill(&mut keys, 2, |b, e| {
        let w = key.block(b, 0);
        for (k, v) in e.iter_mut().enumerate() {
            *v = ((w[2 * k] as u64) << 32) | w[2 * k + 1] as u64;
        }
    });
    let mut perm: Vec<usize> = (0..keys.len()).collect();
    perm.sort_by_key(|&i| (keys[i], i));
    permute_axis(x, axis, Arc::new(perm))
}

/// `out[.., j, ..] = x[.., perm[j], ..]` along `axis` (recorded: backward applies the inverse).
fn permute_axis(x: &Tensor, axis: usize, perm: Arc<Vec<usize>>) -> Result<Tensor> {
    let out = crate::dispatch_all!(x.dtype(), |T| gather::<T>(x, axis, &perm)?);
    record(&[x], &out, || Arc::new(ShuffleBackward { axis, perm }));
    Ok(out)
}

fn gather<T: Element>(x: &Tensor, axis: usize, perm: &[usize]) -> Result<Tensor> {
    let data = x.data::<T>()?;
    let n = perm.len();
    let inner: usize = x.shape()[axis + 1..].iter().product();
    let slab = n * inner; // one index of the outer dimensions
    let mut out = vec![T::default(); data.len()];
    if slab > 0 {
        let slabs_per_chunk = (CHUNK_LIGHT / slab).max(1);
        par_chunks_mut(&mut out, slabs_per_chunk * slab, |start, o| {
            for (s, os) in o.chunks_mut(slab).enumerate() {
                let src = &data[start + s * slab..][..slab];
                for (j, row) in os.chunks_mut(inner).enumerate() {
                    row.copy_from_slice(&src[perm[j] * inner..][..inner]);
                }
            }
        });
    }
    Ok(Tensor::from_vec_unchecked(out, x.shape()))
}

struct ShuffleBackward {
    axis: usize,
    perm: Arc<Vec<usize>>,
}

impl Backward for ShuffleBackward {
    fn name(&self) -> &'static str {
        "shuffle"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let mut inverse = vec![0; self.perm.len()];
        for (j, &p) in self.perm.iter().enumerate() {
            inverse[p] = j;
        }
        Ok(vec![grad_if(needs[0], || permute_axis(g, self.axis, Arc::new(inverse)))?])
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::*;
    use crate::tensor::Tensor;

    #[test]
    fn shuffle_permutes_along_an_axis() {
        let x = Tensor::from_vec((0..24).map(|v| v as i64).collect(), &[2, 4, 3]).unwrap();
        let y = super::shuffle(&x, 1, 5).unwrap().to_vec::<i64>().unwrap();
        // Each row of 3 stays intact and the same row order is used in both batches.
        let rows: Vec<i64> = (0..4).map(|j| y[j * 3] / 3).collect();
        let mut sorted = rows.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2, 3]);
        for b in 0..2 {
            for j in 0..4 {
                let r = (b * 4) as i64 + rows[j];
                assert_eq!(&y[(b * 4 + j) * 3..][..3], &[3 * r, 3 * r + 1, 3 * r + 2]);
            }
        }
        assert_eq!(y, super::shuffle(&x, -2, 5).unwrap().to_vec::<i64>().unwrap());
        let long = Tensor::from_vec((0..1000).map(|v| v as i64).collect(), &[1000]).unwrap();
        let a = super::shuffle(&long, 0, 1).unwrap().to_vec::<i64>().unwrap();
        assert_ne!(a, (0..1000).collect::<Vec<i64>>());
        assert_ne!(a, super::shuffle(&long, 0, 2).unwrap().to_vec::<i64>().unwrap());
        assert!(super::shuffle(&x, 3, 1).is_err());
        assert!(super::shuffle(&Tensor::scalar(1.0f64), 0, 1).is_err());
    }

    #[test]
    fn shuffle_gradient() {
        check_grads(|x| super::shuffle(&x[0], 0, 3), &[rand64(&[5, 2], 1)]);
        check_grads(|x| super::shuffle(&x[0], 1, 4), &[rand64(&[2, 6, 2], 2)]);
    }
}
