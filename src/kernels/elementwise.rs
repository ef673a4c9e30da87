//! Elementwise drivers: map a closure over one tensor, or over two with numpy broadcasting.
//! The inner loops are multiversioned (AVX2+FMA / scalar) and the work is split into fixed-size
//! chunks across the pool above a threshold.

use crate::error::Result;
use crate::multiversion;
use crate::runtime::par_chunks_mut;
use crate::tensor::{broadcast_shapes, Element, Layout, Tensor};

/// Elements per parallel chunk for cheap ops (add, relu); expensive ones (exp, tanh) use
/// `CHUNK_HEAVY`. Below one chunk a kernel runs on the calling thread.
pub const CHUNK_LIGHT: usize = 1 << 15;
pub const CHUNK_HEAVY: usize = 1 << 13;

multiversion! {
    pub fn map_slice[T: Copy, U: Copy, F: Fn(T) -> U](x: &[T], out: &mut [U], f: &F) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = f(v);
        }
    }
}

multiversion! {
    pub fn zip_slice[A: Copy, B: Copy, U: Copy, F: Fn(A, B) -> U](a: &[A], b: &[B], out: &mut [U], f: &F) {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = f(x, y);
        }
    }
}

multiversion! {
    fn zip_row[A: Copy, B: Copy, U: Copy, F: Fn(A, B) -> U](a: &[A], sa: usize, b: &[B], sb: usize, out: &mut [U], f: &F) {
        // One output row; each operand is contiguous (stride 1), a broadcast scalar (0) or strided.
        match (sa, sb) {
            (1, 1) => for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) { *o = f(x, y) },
            (1, 0) => { let y = b[0]; for (o, &x) in out.iter_mut().zip(a) { *o = f(x, y) } }
            (0, 1) => { let x = a[0]; for (o, &y) in out.iter_mut().zip(b) { *o = f(x, y) } }
            _ => for (i, o) in out.iter_mut().enumerate() { *o = f(a[i * sa], b[i * sb]) },
        }
    }
}

/// `f` applied to every element of `x` (any layout), in row-major order.
pub fn unary<T: Element, U: Element>(x: &Tensor, chunk: usize, f: impl Fn(T) -> U + Sync + Send) -> Result<Tensor> {
    let data = x.data::<T>()?;
    let mut out = vec![U::default(); data.len()];
    par_chunks_mut(&mut out, chunk, |start, o| map_slice(&data[start..start + o.len()], o, &f));
    Ok(Tensor::from_vec_unchecked(out, x.shape()))
}

/// `f(a, b)` with numpy broadcasting. Both operands must already have the element types `A`, `B`.
pub fn binary<A: Element, B: Element, U: Element>(
    op: &str,
    a: &Tensor,
    b: &Tensor,
    chunk: usize,
    f: impl Fn(A, B) -> U + Sync + Send,
) -> Result<Tensor> {
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let n: usize = shape.iter().product();
    let mut out = vec![U::default(); n];
    if n == 0 {
        return Ok(Tensor::from_vec_unchecked(out, &shape));
    }
    // Fast path: same shape, both contiguous.
    if let (Some(xa), Some(xb), true) = (a.slice::<A>(), b.slice::<B>(), a.shape() == b.shape()) {
        par_chunks_mut(&mut out, chunk, |s, o| zip_slice(&xa[s..s + o.len()], &xb[s..s + o.len()], o, &f));
        return Ok(Tensor::from_vec_unchecked(out, &shape));
    }
    let la = a.layout().broadcast_to(op, &shape)?;
    let lb = b.layout().broadcast_to(op, &shape)?;
    let (dims, sa, sb) = collapse(&shape, &la.strides, &lb.strides);
    let mismatch = |t: &Tensor, want| crate::Error::Type(format!("{op}: expected a {want} operand, received {}", t.dtype()));
    let bufa = A::buffer(a.storage()).ok_or_else(|| mismatch(a, A::DTYPE))?.as_slice();
    let bufb = B::buffer(b.storage()).ok_or_else(|| mismatch(b, B::DTYPE))?.as_slice();
    let row = *dims.last().unwrap_or(&1);
    let (ra, rb) = (*sa.last().unwrap_or(&0), *sb.last().unwrap_or(&0));
    let outer = &dims[..dims.len().saturating_sub(1)];
    let rows_per_chunk = (chunk / row.max(1)).max(1);
    par_chunks_mut(&mut out, rows_per_chunk * row, |start, o| {
        for (k, orow) in o.chunks_mut(row).enumerate() {
            let r = start / row + k;
            let (oa, ob) = row_offsets(outer, &sa, &sb, r);
            let (oa, ob) = (oa + la.offset, ob + lb.offset);
            let span = |s: usize| if s == 0 { 1 } else { (row - 1) * s + 1 };
            zip_row(&bufa[oa..oa + span(ra)], ra, &bufb[ob..ob + span(rb)], rb, orow, &f);
        }
    });
    Ok(Tensor::from_vec_unchecked(out, &shape))
}

/// Merge adjacent dimensions that are contiguous with each other in both operands, so inner rows
/// are as long as possible. Size-1 dimensions are dropped.
fn collapse(shape: &[usize], sa: &[usize], sb: &[usize]) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let (mut d, mut a, mut b): (Vec<usize>, Vec<usize>, Vec<usize>) = (vec![], vec![], vec![]);
    for i in 0..shape.len() {
        if shape[i] == 1 {
            continue;
        }
        if let (Some(&ld), Some(&la), Some(&lb)) = (d.last(), a.last(), b.last()) {
            if la == sa[i] * shape[i] && lb == sb[i] * shape[i] {
                let k = d.len() - 1;
                d[k] = ld * shape[i];
                a[k] = sa[i];
                b[k] = sb[i];
                continue;
            }
        }
        d.push(shape[i]);
        a.push(sa[i]);
        b.push(sb[i]);
    }
    if d.is_empty() {
        (vec![1], vec![0], vec![0])
    } else {
        (d, a, b)
    }
}

/// Offsets of row `r` (row-major over `outer`) in two strided operands.
fn row_offsets(outer: &[usize], sa: &[usize], sb: &[usize], mut r: usize) -> (usize, usize) {
    let (mut oa, mut ob) = (0, 0);
    for d in (0..outer.len()).rev() {
        let i = r % outer[d];
        r /= outer[d];
        oa += i * sa[d];
        ob += i * sb[d];
    }
    (oa, ob)
}

/// A contiguous copy of `x` broadcast to `layout`'s shape (used by ops needing dense inputs).
pub fn materialize<T: Element>(x: &Tensor, layout: &Layout) -> Result<Vec<T>> {
    let buf = T::buffer(x.storage())
        .ok_or_else(|| crate::Error::Type(format!("expected {} tensor, received {}", T::DTYPE, x.dtype())))?;
    Ok(crate::tensor::copy_layout(buf.as_slice(), layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::simd;

    #[test]
    fn broadcast_rows_and_columns() {
        let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3, 1]).unwrap();
        let b = Tensor::from_vec(vec![10.0f32, 20.0], &[2]).unwrap();
        let c = binary::<f32, f32, f32>("add", &a, &b, 4, |x, y| x + y).unwrap();
        assert_eq!(c.shape(), &[3, 2]);
        assert_eq!(c.to_vec::<f32>().unwrap(), vec![11., 21., 12., 22., 13., 23.]);
        let t = a.view(Layout::contiguous(&[1, 3])).unwrap();
        let d = binary::<f32, f32, f32>("sub", &t, &a, 1, |x, y| x - y).unwrap();
        assert_eq!(d.to_vec::<f32>().unwrap(), vec![0., 1., 2., -1., 0., 1., -2., -1., 0.]);
    }

    #[test]
    fn simd_and_scalar_paths_agree() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.37).collect();
        let t = Tensor::from_vec(x, &[1000]).unwrap();
        let f = |v: f32| v * v * 0.5 + v;
        let fast = unary::<f32, f32>(&t, 64, f).unwrap().to_vec::<f32>().unwrap();
        simd::set_scalar(true);
        let slow = unary::<f32, f32>(&t, 64, f).unwrap().to_vec::<f32>().unwrap();
        simd::set_scalar(false);
        assert_eq!(fast, slow);
    }
}
