//! `randint(shape, minval, maxval, seed)`: int64 values in [minval, maxval).

use super::generate;
use crate::error::Result;
use crate::runtime::rng::{fill, Key};
use crate::tensor::Tensor;

pub fn randint(shape: &[usize], minval: i64, maxval: i64, seed: u64) -> Result<Tensor> {
    if minval >= maxval {
        return crate::value_err!("randint", "expected minval < maxval, received minval={minval}, maxval={maxval}");
    }
    let key = Key::from_seed(seed);
    let width = (maxval as i128 - minval as i128) as u128;
    Ok(generate::<i64>(shape, |o| {
        fill(o, 2, |b, e| {
            let w = key.block(b, 0);
            for (k, x) in e.iter_mut().enumerate() {
                // 64 random bits scaled to [0, width): bias below 2^-64 * width, negligible.
                let bits = ((w[2 * k] as u128) << 32) | w[2 * k + 1] as u128;
                *x = (minval as i128 + ((bits * width) >> 64) as i128) as i64;
            }
        })
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn randint_covers_the_range_uniformly() {
        let v = super::randint(&[60_000], -3, 3, 4).unwrap().to_vec::<i64>().unwrap();
        let mut counts = [0usize; 6];
        for &x in &v {
            assert!((-3..3).contains(&x));
            counts[(x + 3) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_400..10_600).contains(&c)), "{counts:?}");
        let big = super::randint(&[1000], i64::MIN, i64::MAX, 1).unwrap().to_vec::<i64>().unwrap();
        assert!(big.iter().any(|&x| x < 0) && big.iter().any(|&x| x > 0));
        assert!(super::randint(&[2], 3, 3, 1).is_err());
    }
}
