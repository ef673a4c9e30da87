use std::any::Any;
use std::sync::Arc;

use super::dtype::{DType, Element};

/// A contiguous run of elements. Either owned by us (`Vec`) or borrowed from a foreign owner
/// (a numpy array handed in without a copy); the owner is kept alive for as long as the buffer.
/// Buffers are immutable once shared: the only writes are through `Arc::get_mut` on an owned Vec.
pub struct Buffer<T> {
    ptr: *const T,
    len: usize,
    owner: Owner<T>,
}

enum Owner<T> {
    Vec(Vec<T>),
    // Held only to keep the foreign memory alive; never read.
    #[allow(dead_code)]
    Foreign(Box<dyn Any + Send + Sync>),
}

// SAFETY: the pointer is either into our own Vec or into memory kept alive by `owner`; both are
// plain data of a `Send + Sync` element type, and we never hand out aliasing `&mut`.
unsafe impl<T: Send + Sync> Send for Buffer<T> {}
unsafe impl<T: Send + Sync> Sync for Buffer<T> {}

impl<T: Element> Buffer<T> {
    pub fn from_vec(v: Vec<T>) -> Self {
        Buffer { ptr: v.as_ptr(), len: v.len(), owner: Owner::Vec(v) }
    }

    /// # Safety
    /// `ptr` must point to `len` initialised, aligned elements that stay valid and are not
    /// resized while `owner` is alive.
    pub unsafe fn foreign(ptr: *const T, len: usize, owner: Box<dyn Any + Send + Sync>) -> Self {
        Buffer { ptr, len, owner: Owner::Foreign(owner) }
    }

    #[inline]
    pub fn as_slice(&self) -> &[T] {
        match &self.owner {
            Owner::Vec(v) => v,
            // SAFETY: guaranteed by the contract of `foreign`.
            Owner::Foreign(_) => unsafe { std::slice::from_raw_parts(self.ptr, self.len) },
        }
    }

    /// Mutable access, only for buffers we own (foreign memory is never written).
    pub fn as_mut_slice(&mut self) -> Option<&mut [T]> {
        match &mut self.owner {
            Owner::Vec(v) => Some(v.as_mut_slice()),
            Owner::Foreign(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_foreign(&self) -> bool {
        matches!(self.owner, Owner::Foreign(_))
    }

    /// Take the Vec out without copying, if this buffer owns one.
    pub fn into_vec(self) -> Result<Vec<T>, Self> {
        match self.owner {
            Owner::Vec(v) => Ok(v),
            owner => Err(Buffer { ptr: self.ptr, len: self.len, owner }),
        }
    }
}

/// Storage of one tensor: a shared buffer of one of the supported element types.
#[derive(Clone)]
pub enum Storage {
    F32(Arc<Buffer<f32>>),
    F64(Arc<Buffer<f64>>),
    I64(Arc<Buffer<i64>>),
    Bool(Arc<Buffer<bool>>),
}

impl Storage {
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
            Storage::I64(_) => DType::I64,
            Storage::Bool(_) => DType::Bool,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Storage::F32(b) => b.len(),
            Storage::F64(b) => b.len(),
            Storage::I64(b) => b.len(),
            Storage::Bool(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the memory is lent by another owner (see `Buffer::foreign`).
    pub fn is_foreign(&self) -> bool {
        match self {
            Storage::F32(b) => b.is_foreign(),
            Storage::F64(b) => b.is_foreign(),
            Storage::I64(b) => b.is_foreign(),
            Storage::Bool(b) => b.is_foreign(),
        }
    }

    /// Address of the first element, for identity checks (e.g. "shares memory with").
    pub fn base_ptr(&self) -> usize {
        match self {
            Storage::F32(b) => b.as_slice().as_ptr() as usize,
            Storage::F64(b) => b.as_slice().as_ptr() as usize,
            Storage::I64(b) => b.as_slice().as_ptr() as usize,
            Storage::Bool(b) => b.as_slice().as_ptr() as usize,
        }
    }
}
