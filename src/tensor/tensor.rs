use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::dtype::{DType, Element};
use super::layout::Layout;
use super::storage::{Buffer, Storage};
use crate::error::{Error, Result};
use crate::shape_err;

/// Identity of a tensor value for autograd. Every op output gets a fresh id; a `Variable` keeps
/// one id across assignments so gradients find it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub u64);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl TensorId {
    pub fn fresh() -> TensorId {
        TensorId(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }
}

/// An immutable n-dimensional array. Cloning is cheap (the storage is shared).
#[derive(Clone)]
pub struct Tensor {
    storage: Storage,
    layout: Layout,
    id: TensorId,
    /// The current value of a trainable variable: watched by every active tape automatically.
    trainable_variable: bool,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor(shape={:?}, dtype={})", self.shape(), self.dtype())
    }
}

/// Copy the elements of `layout` (in row-major order) out of `src`.
pub fn copy_layout<T: Copy + Default + Send + Sync>(src: &[T], layout: &Layout) -> Vec<T> {
    let n = layout.numel();
    let mut out = Vec::with_capacity(n);
    let nd = layout.ndim();
    if nd >= 2 && layout.strides[nd - 2] == 1 && layout.strides[nd - 1] == layout.shape[nd - 2] && layout.shape[nd - 2] > 1 {
        // The last two axes are a transposed contiguous matrix (e.g. `transpose(x).contiguous()`):
        // each one goes through the tiled transpose kernel.
        let (a, b) = (layout.shape[nd - 2], layout.shape[nd - 1]);
        let outer = Layout { shape: layout.shape[..nd - 2].to_vec(), strides: layout.strides[..nd - 2].to_vec(), offset: layout.offset };
        if nd == 2 {
            return crate::kernels::transpose::transposed(&src[layout.offset..layout.offset + a * b], b, a);
        }
        if a * b > 0 {
            outer.for_each_offset(|o| out.extend_from_slice(&crate::kernels::transpose::transposed(&src[o..o + a * b], b, a)));
        }
        return out;
    }
    let repeated = layout.strides.iter().rev().take_while(|&&s| s == 0).count();
    if repeated > 0 {
        // Trailing broadcast axes (stride 0; e.g. the gradient of a sum): one value per block
        // of them, written as a fill instead of element by element.
        let block: usize = layout.shape[nd - repeated..].iter().product();
        let outer = Layout { shape: layout.shape[..nd - repeated].to_vec(), strides: layout.strides[..nd - repeated].to_vec(), offset: layout.offset };
        if block > 0 {
            outer.for_each_offset(|o| out.resize(out.len() + block, src[o]));
        }
        return out;
    }
    if nd > 0 && layout.strides[nd - 1] == 1 {
        // Copy whole rows at a time: visit the first element of each row.
        let row = layout.shape[nd - 1];
        let rows = Layout {
            shape: layout.shape[..nd - 1].to_vec(),
            strides: layout.strides[..nd - 1].to_vec(),
            offset: layout.offset,
        };
        if row > 0 {
            rows.for_each_offset(|o| out.extend_from_slice(&src[o..o + row]));
        }
    } else {
        layout.for_each_offset(|o| out.push(src[o]));
    }
    out
}

impl Tensor {
    /// A tensor over `storage` with `layout`; the layout must stay inside the buffer.
    pub fn new(storage: Storage, layout: Layout) -> Result<Tensor> {
        let numel = layout.numel();
        if numel > 0 {
            let last = layout.offset
                + layout.shape.iter().zip(&layout.strides).map(|(&d, &s)| (d - 1) * s).sum::<usize>();
            if last >= storage.len() {
                return shape_err!("tensor", "layout {:?} does not fit a buffer of {} elements", layout, storage.len());
            }
        }
        Ok(Tensor { storage, layout, id: TensorId::fresh(), trainable_variable: false })
    }

    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let numel: usize = shape.iter().product();
        if data.len() != numel {
            return shape_err!("tensor", "{} values cannot have shape {:?}", data.len(), shape);
        }
        Ok(Self::from_vec_unchecked(data, shape))
    }

    /// For kernels that built exactly `product(shape)` values.
    pub(crate) fn from_vec_unchecked<T: Element>(data: Vec<T>, shape: &[usize]) -> Tensor {
        debug_assert_eq!(data.len(), shape.iter().product::<usize>());
        Tensor {
            storage: T::into_storage(Arc::new(Buffer::from_vec(data))),
            layout: Layout::contiguous(shape),
            id: TensorId::fresh(),
            trainable_variable: false,
        }
    }

    pub fn from_buffer<T: Element>(buffer: Buffer<T>, shape: &[usize]) -> Result<Tensor> {
        if buffer.len() != shape.iter().product::<usize>() {
            return shape_err!("tensor", "{} values cannot have shape {:?}", buffer.len(), shape);
        }
        Tensor::new(T::into_storage(Arc::new(buffer)), Layout::contiguous(shape))
    }

    pub fn scalar<T: Element>(v: T) -> Tensor {
        Self::from_vec_unchecked(vec![v], &[])
    }

    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        let n = shape.iter().product();
        match dtype {
            DType::F32 => Self::from_vec_unchecked(vec![value as f32; n], shape),
            DType::F64 => Self::from_vec_unchecked(vec![value; n], shape),
            DType::I64 => Self::from_vec_unchecked(vec![value as i64; n], shape),
            DType::Bool => Self::from_vec_unchecked(vec![value != 0.0; n], shape),
        }
    }

    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        Self::full(shape, 0.0, dtype)
    }

    pub fn ones(shape: &[usize], dtype: DType) -> Tensor {
        Self::full(shape, 1.0, dtype)
    }

    pub fn dtype(&self) -> DType {
        self.storage.dtype()
    }
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }
    pub fn ndim(&self) -> usize {
        self.layout.ndim()
    }
    pub fn numel(&self) -> usize {
        self.layout.numel()
    }
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    pub fn storage(&self) -> &Storage {
        &self.storage
    }
    pub fn id(&self) -> TensorId {
        self.id
    }
    pub fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }
    pub fn is_trainable_variable(&self) -> bool {
        self.trainable_variable
    }

    /// The same value under another identity (used by variables, which keep one id).
    pub fn with_id(mut self, id: TensorId, trainable_variable: bool) -> Tensor {
        self.id = id;
        self.trainable_variable = trainable_variable;
        self
    }

    /// A new tensor (fresh id) viewing the same storage through another layout.
    pub fn view(&self, layout: Layout) -> Result<Tensor> {
        Tensor::new(self.storage.clone(), layout)
    }

    /// Contiguous elements of type `T`, if the dtype matches and the layout is contiguous.
    #[inline]
    pub fn slice<T: Element>(&self) -> Option<&[T]> {
        if !self.layout.is_contiguous() {
            return None;
        }
        let buf = T::buffer(&self.storage)?;
        let start = self.layout.offset;
        Some(&buf.as_slice()[start..start + self.numel()])
    }

    /// Row-major values of type `T` (borrowed when contiguous, copied otherwise).
    pub fn data<T: Element>(&self) -> Result<Cow<'_, [T]>> {
        if let Some(s) = self.slice::<T>() {
            return Ok(Cow::Borrowed(s));
        }
        let buf = T::buffer(&self.storage).ok_or_else(|| {
            Error::Type(format!("expected a {} tensor, received {}", T::DTYPE, self.dtype()))
        })?;
        Ok(Cow::Owned(copy_layout(buf.as_slice(), &self.layout)))
    }

    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        Ok(self.data::<T>()?.into_owned())
    }

    /// The values as a Vec, moving the buffer out when this tensor is its only user.
    pub fn into_vec<T: Element>(self) -> Result<Vec<T>> {
        let whole = self.layout.is_contiguous() && self.layout.offset == 0 && self.numel() == self.storage.len();
        if whole {
            if let Some(buf) = T::buffer(&self.storage) {
                let buf = buf.clone();
                let n = self.numel();
                drop(self);
                return match Arc::try_unwrap(buf) {
                    Ok(b) => match b.into_vec() {
                        Ok(v) => Ok(v),
                        Err(b) => Ok(b.as_slice()[..n].to_vec()),
                    },
                    Err(shared) => Ok(shared.as_slice()[..n].to_vec()),
                };
            }
        }
        self.to_vec()
    }

    /// The elements for writing in place: the buffer is reused when this tensor is its only
    /// user and covers it exactly, otherwise the value is copied into a fresh buffer first
    /// (copy on write, so other holders of the old value never see the change).
    pub fn make_mut<T: Element>(&mut self) -> Result<&mut [T]> {
        if T::DTYPE != self.dtype() {
            return Err(Error::Type(format!("expected a {} tensor, received {}", T::DTYPE, self.dtype())));
        }
        let n = self.numel();
        let reusable = self.layout.is_contiguous()
            && self.layout.offset == 0
            && self.storage.len() == n
            && T::buffer_mut(&mut self.storage).is_some_and(|b| !b.is_foreign() && Arc::get_mut(b).is_some());
        if !reusable {
            let data = self.to_vec::<T>()?;
            self.storage = T::into_storage(Arc::new(Buffer::from_vec(data)));
            self.layout = Layout::contiguous(self.layout.shape.as_slice());
        }
        let buf = T::buffer_mut(&mut self.storage).and_then(Arc::get_mut).and_then(Buffer::as_mut_slice);
        buf.ok_or_else(|| Error::Value("make_mut: buffer is not writable".into()))
    }

    /// A contiguous tensor with the same value and identity (copies only when needed).
    pub fn contiguous(&self) -> Tensor {
        if self.layout.is_contiguous() {
            return self.clone();
        }
        self.copied()
    }

    /// `contiguous`, and in memory of our own: a view of a foreign buffer (a numpy array lent
    /// without a copy) is copied, as its owner may write it later. For values that are kept,
    /// such as a variable's.
    pub fn contiguous_owned(&self) -> Tensor {
        if self.layout.is_contiguous() && !self.storage.is_foreign() {
            return self.clone();
        }
        self.copied()
    }

    /// The value in a fresh contiguous buffer, with the same identity.
    fn copied(&self) -> Tensor {
        let t = match &self.storage {
            Storage::F32(b) => Tensor::from_vec_unchecked(copy_layout(b.as_slice(), &self.layout), self.shape()),
            Storage::F64(b) => Tensor::from_vec_unchecked(copy_layout(b.as_slice(), &self.layout), self.shape()),
            Storage::I64(b) => Tensor::from_vec_unchecked(copy_layout(b.as_slice(), &self.layout), self.shape()),
            Storage::Bool(b) => Tensor::from_vec_unchecked(copy_layout(b.as_slice(), &self.layout), self.shape()),
        };
        t.with_id(self.id, self.trainable_variable)
    }

    /// The single value of a tensor with one element, as f64.
    pub fn item(&self) -> Result<f64> {
        if self.numel() != 1 {
            return shape_err!("item", "expected a tensor with one element, received shape {:?}", self.shape());
        }
        Ok(crate::dispatch_all!(self.dtype(), |T| self.data::<T>()?[0].to_f64()))
    }

    /// Value conversion to another dtype (no autograd; `ops::cast` is the recorded op).
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        fn conv<S: Element, D: Element>(x: &Tensor) -> Tensor {
            let src = x.data::<S>().expect("dtype checked by dispatch");
            let out: Vec<D> = src.iter().map(|&v| D::from_f64(v.to_f64())).collect();
            Tensor::from_vec_unchecked(out, x.shape())
        }
        crate::dispatch_all!(self.dtype(), |S| crate::dispatch_all!(dtype, |D| conv::<S, D>(self)))
    }
}

/// Run `$body` with `$T` bound to the element type of a float dtype; other dtypes are a TypeError
/// naming `$op`.
#[macro_export]
macro_rules! dispatch_float {
    ($dtype:expr, $op:expr, |$T:ident| $body:expr) => {
        match $dtype {
            $crate::tensor::DType::F32 => {
                #[allow(dead_code)]
                type $T = f32;
                $body
            }
            $crate::tensor::DType::F64 => {
                #[allow(dead_code)]
                type $T = f64;
                $body
            }
            other => {
                return Err($crate::error::Error::Type(format!(
                    "{}: expected a float32 or float64 tensor, received dtype {}",
                    $op, other
                )))
            }
        }
    };
}

/// Run `$body` with `$T` bound to the element type of any dtype.
#[macro_export]
macro_rules! dispatch_all {
    ($dtype:expr, |$T:ident| $body:expr) => {
        match $dtype {
            $crate::tensor::DType::F32 => {
                #[allow(dead_code)]
                type $T = f32;
                $body
            }
            $crate::tensor::DType::F64 => {
                #[allow(dead_code)]
                type $T = f64;
                $body
            }
            $crate::tensor::DType::I64 => {
                #[allow(dead_code)]
                type $T = i64;
                $body
            }
            $crate::tensor::DType::Bool => {
                #[allow(dead_code)]
                type $T = bool;
                $body
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_views_copy_out_as_repeated_values() {
        let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3, 1]).unwrap();
        // (3, 1) -> (2, 3, 4): axis 0 and 2 broadcast (stride 0), axis 1 walks the values.
        let b = crate::ops::broadcast_to(&t, &[2, 3, 4]).unwrap();
        let want: Vec<f32> = (0..24).map(|i| [1.0, 2.0, 3.0][(i / 4) % 3]).collect();
        assert_eq!(b.to_vec::<f32>().unwrap(), want);
        let s = crate::ops::broadcast_to(&Tensor::from_vec(vec![7.0f64], &[]).unwrap(), &[3, 2]).unwrap();
        assert_eq!(s.to_vec::<f64>().unwrap(), vec![7.0; 6]);
        let empty = crate::ops::broadcast_to(&t, &[0, 3, 4]).unwrap();
        assert!(empty.to_vec::<f32>().unwrap().is_empty());
    }

    #[test]
    fn views_share_storage_and_copy_when_made_contiguous() {
        let t = Tensor::from_vec((0..6).map(|v| v as f32).collect(), &[2, 3]).unwrap();
        let tt = t.view(t.layout().permute(&[1, 0])).unwrap();
        assert_eq!(tt.shape(), &[3, 2]);
        assert!(tt.slice::<f32>().is_none());
        assert_eq!(tt.to_vec::<f32>().unwrap(), vec![0., 3., 1., 4., 2., 5.]);
        let c = tt.contiguous();
        assert_eq!(c.id(), tt.id());
        assert_eq!(c.slice::<f32>().unwrap(), &[0., 3., 1., 4., 2., 5.]);
    }

    #[test]
    fn into_vec_moves_a_unique_buffer() {
        let v = vec![1.0f64, 2.0, 3.0];
        let ptr = v.as_ptr();
        let t = Tensor::from_vec(v, &[3]).unwrap();
        let back = t.into_vec::<f64>().unwrap();
        assert_eq!(back.as_ptr(), ptr);
    }

    #[test]
    fn bad_layouts_and_dtypes_are_errors() {
        assert!(Tensor::from_vec(vec![1.0f32; 5], &[2, 3]).is_err());
        let t = Tensor::from_vec(vec![1.0f32; 6], &[2, 3]).unwrap();
        assert!(t.data::<f64>().is_err());
        assert_eq!(t.to_dtype(DType::F64).to_vec::<f64>().unwrap(), vec![1.0; 6]);
        assert_eq!(Tensor::scalar(2.5f32).item().unwrap(), 2.5);
    }
}

/// Run `$body` with `$T` bound to f32, f64 or i64 (arithmetic dtypes); bool is a TypeError.
#[macro_export]
macro_rules! dispatch_num {
    ($dtype:expr, $op:expr, |$T:ident| $body:expr) => {
        match $dtype {
            $crate::tensor::DType::F32 => {
                #[allow(dead_code)]
                type $T = f32;
                $body
            }
            $crate::tensor::DType::F64 => {
                #[allow(dead_code)]
                type $T = f64;
                $body
            }
            $crate::tensor::DType::I64 => {
                #[allow(dead_code)]
                type $T = i64;
                $body
            }
            other => {
                return Err($crate::error::Error::Type(format!(
                    "{}: expected a numeric tensor, received dtype {}",
                    $op, other
                )))
            }
        }
    };
}
