//! `rkeras.Tensor`: an immutable array living in Rust. `numpy()`/`__array__` export the buffer
//! without a copy (the numpy array keeps the tensor alive and is read-only, since tensors are
//! immutable); `np.array(t)` asks for a copy and gets a writable one.

use numpy::ndarray::{ArrayViewD, IxDyn, ShapeBuilder};
use numpy::{PyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::convert::{self, pair};
use super::ops_binary::bool_operator;
use crate::ops;
use crate::tensor::{DType, Element, Storage, Tensor};

#[pyclass(name = "Tensor", module = "rkeras", frozen, weakref, dict)]
pub struct PyTensor {
    pub inner: Tensor,
}

impl From<Tensor> for PyTensor {
    fn from(inner: Tensor) -> Self {
        PyTensor { inner }
    }
}

/// A numpy view of `t`'s buffer kept alive by `owner`; broadcast (stride-0) layouts are copied
/// first, since numpy views with overlapping elements are a trap.
pub fn export<'py>(t: &Tensor, owner: Bound<'py, PyAny>, writable: bool) -> PyResult<Bound<'py, PyAny>> {
    let broadcast = t.numel() > 0 && t.shape().iter().zip(&t.layout().strides).any(|(&d, &s)| d > 1 && s == 0);
    if broadcast {
        let c = t.contiguous();
        let owner = Bound::new(owner.py(), PyTensor::from(c.clone()))?.into_any();
        return export(&c, owner, writable);
    }
    fn view<'py, T: Element + numpy::Element>(buf: &[T], t: &Tensor, owner: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let l = t.layout();
        let ptr = if t.numel() == 0 { buf.as_ptr() } else { buf[l.offset..].as_ptr() };
        // SAFETY: the layout was checked to lie inside `buf` when the tensor was made; `owner`
        // holds the storage alive for as long as the numpy array exists.
        let arr = unsafe {
            let v = ArrayViewD::from_shape_ptr(IxDyn(&l.shape).strides(IxDyn(&l.strides)), ptr);
            PyArrayDyn::<T>::borrow_from_array(&v, owner)
        };
        Ok(arr.into_any())
    }
    let arr = match t.storage() {
        Storage::F32(b) => view(b.as_slice(), t, owner)?,
        Storage::F64(b) => view(b.as_slice(), t, owner)?,
        Storage::I64(b) => view(b.as_slice(), t, owner)?,
        Storage::Bool(b) => view(b.as_slice(), t, owner)?,
    };
    if !writable {
        let a = arr.cast::<numpy::PyUntypedArray>()?;
        // SAFETY: clearing a flag bit on an array we just created.
        unsafe { (*a.as_array_ptr()).fields.flags &= !numpy::npyffi::NPY_ARRAY_WRITEABLE };
    }
    Ok(arr)
}

/// A shape as Python prints a tuple: `()`, `(3,)`, `(2, 3)`.
pub fn shape_str(shape: &[usize]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

fn dims(shape: &[usize], py: Python<'_>) -> PyResult<Py<PyTuple>> {
    Ok(PyTuple::new(py, shape)?.unbind())
}

/// Binary operator: NotImplemented when the other operand is not array-like.
fn binop(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    f: fn(&Tensor, &Tensor) -> crate::Result<Tensor>,
) -> PyResult<Py<PyAny>> {
    let (x, y) = match pair(a, b) {
        Ok(p) => p,
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) => return Ok(py.NotImplemented()),
        Err(e) => return Err(e),
    };
    let out = py.detach(|| f(&x, &y))?;
    Ok(Bound::new(py, PyTensor::from(out))?.into_any().unbind())
}

#[pymethods]
impl PyTensor {
    #[new]
    #[pyo3(signature = (value, dtype=None))]
    fn new(py: Python<'_>, value: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let t = convert::to_tensor(value)?;
        let t = match dtype {
            Some(d) if !d.is_none() => {
                let d = convert::dtype(d)?;
                py.detach(|| ops::cast(&t, d))?
            }
            _ => t,
        };
        Ok(PyTensor { inner: t })
    }

    /// numpy defers binary operators with a Tensor to ours (as TensorFlow's tensors do).
    #[classattr]
    fn __array_priority__() -> f64 {
        100.0
    }

    #[getter]
    fn shape(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        dims(self.inner.shape(), py)
    }
    #[getter]
    fn dtype(&self) -> &'static str {
        self.inner.dtype().name()
    }
    #[getter]
    fn ndim(&self) -> usize {
        self.inner.ndim()
    }
    #[getter]
    fn size(&self) -> usize {
        self.inner.numel()
    }
    /// Address of the first element (tests use it to check that no copy was made).
    #[getter]
    fn _data_ptr(&self) -> usize {
        let l = self.inner.layout();
        self.inner.storage().base_ptr() + l.offset * self.inner.dtype().size_of()
    }

    /// A read-only numpy view of this tensor (no copy).
    fn numpy<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        export(&slf.get().inner, slf.clone().into_any(), false)
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(slf: &Bound<'py, Self>, dtype: Option<&Bound<'py, PyAny>>, copy: Option<bool>) -> PyResult<Bound<'py, PyAny>> {
        let view = export(&slf.get().inner, slf.clone().into_any(), false)?;
        let py = slf.py();
        match (dtype.filter(|d| !d.is_none()), copy) {
            (None, Some(true)) => view.call_method0("copy"),
            (Some(d), c) => view.call_method("astype", (d,), Some(&[("copy", c.unwrap_or(false))].into_py_dict(py)?)),
            (None, _) => Ok(view),
        }
    }

    fn item(&self) -> PyResult<f64> {
        Ok(self.inner.item()?)
    }
    fn __float__(&self) -> PyResult<f64> {
        Ok(self.inner.item()?)
    }
    fn __int__(&self) -> PyResult<i64> {
        Ok(self.inner.item()? as i64)
    }
    fn __bool__(&self) -> PyResult<bool> {
        if self.inner.numel() != 1 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "The truth value of a tensor with shape {:?} is ambiguous",
                self.inner.shape()
            )));
        }
        Ok(self.inner.item()? != 0.0)
    }
    fn __len__(&self) -> PyResult<usize> {
        self.inner.shape().first().copied().ok_or_else(|| pyo3::exceptions::PyTypeError::new_err("len() of a 0-d tensor"))
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let t = &slf.get().inner;
        let body = export(t, slf.clone().into_any(), false)?.repr()?.to_string();
        let body = body.strip_prefix("array(").and_then(|b| b.rsplit_once(')')).map(|(b, _)| b.to_string()).unwrap_or(body);
        let body = body.split(", dtype=").next().unwrap_or(&body).to_string();
        Ok(format!("<Tensor shape={}, dtype={}, numpy=\n{}>", shape_str(t.shape()), t.dtype(), body))
    }

    #[getter(T)]
    fn transposed(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let t = self.inner.clone();
        Ok(py.detach(|| ops::transpose(&t, None))?.into())
    }

    fn __add__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::add)
    }
    fn __radd__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), o, slf, ops::add)
    }
    fn __sub__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::subtract)
    }
    fn __rsub__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), o, slf, ops::subtract)
    }
    fn __mul__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::multiply)
    }
    fn __rmul__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), o, slf, ops::multiply)
    }
    fn __truediv__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::divide)
    }
    fn __rtruediv__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), o, slf, ops::divide)
    }
    fn __matmul__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::matmul)
    }
    fn __rmatmul__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), o, slf, ops::matmul)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let t = self.inner.clone();
        Ok(py.detach(|| ops::negative(&t))?.into())
    }
    fn __pos__<'py>(slf: &Bound<'py, Self>) -> Bound<'py, Self> {
        slf.clone()
    }

    /// numpy-style indexing: ints, slices (positive steps are views), None, Ellipsis, one
    /// integer array, or a boolean mask. Parsing lives in `rkeras.ops._shape._getitem`.
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        slf.py().import("rkeras.ops._shape")?.getattr("_getitem")?.call1((slf, key))
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let t = self.inner.clone();
        Ok(py.detach(|| ops::abs(&t))?.into())
    }

    // Binary-family operators (src/ops/binary). Comparisons are elementwise and return bool
    // tensors, so hashing is by identity (as PyTorch does).
    fn __pow__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>, modulo: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        no_modulus(modulo)?;
        binop(slf.py(), slf, o, ops::power)
    }
    fn __rpow__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>, modulo: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        no_modulus(modulo)?;
        binop(slf.py(), o, slf, ops::power)
    }
    fn __mod__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::modulo)
    }
    fn __rmod__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), o, slf, ops::modulo)
    }
    fn __floordiv__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::floor_divide)
    }
    fn __rfloordiv__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), o, slf, ops::floor_divide)
    }
    fn __lt__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::less)
    }
    fn __le__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::less_equal)
    }
    fn __gt__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::greater)
    }
    fn __ge__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::greater_equal)
    }
    fn __eq__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::equal)
    }
    fn __ne__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binop(slf.py(), slf, o, ops::not_equal)
    }
    fn __hash__(slf: &Bound<'_, Self>) -> u64 {
        slf.as_ptr() as usize as u64
    }
    fn __and__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        bool_operator(slf.py(), slf, o, "&", ops::logical_and)
    }
    fn __rand__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        bool_operator(slf.py(), o, slf, "&", ops::logical_and)
    }
    fn __or__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        bool_operator(slf.py(), slf, o, "|", ops::logical_or)
    }
    fn __ror__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        bool_operator(slf.py(), o, slf, "|", ops::logical_or)
    }
    fn __xor__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        bool_operator(slf.py(), slf, o, "^", ops::logical_xor)
    }
    fn __rxor__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        bool_operator(slf.py(), o, slf, "^", ops::logical_xor)
    }
    fn __invert__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        if self.inner.dtype() != DType::Bool {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "operator ~: expected a bool tensor, received {} (use keras.ops.logical_not for other dtypes)",
                self.inner.dtype()
            )));
        }
        let t = self.inner.clone();
        Ok(py.detach(|| ops::logical_not(&t))?.into())
    }
}


use pyo3::types::IntoPyDict;

/// `pow(t, e, m)` has no tensor meaning: a modulus argument is a TypeError.
fn no_modulus(modulo: &Bound<'_, PyAny>) -> PyResult<()> {
    if modulo.is_none() {
        Ok(())
    } else {
        Err(pyo3::exceptions::PyTypeError::new_err("pow(): a modulus argument is not supported for tensors"))
    }
}
