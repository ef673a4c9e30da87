//! Python values -> core tensors. numpy arrays of a supported dtype that are C-contiguous and
//! aligned are wrapped without a copy (the tensor keeps the array alive); anything else is
//! converted by numpy first. Python scalars are "weak": they take the other operand's dtype.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::IntoPyDict;
use pyo3::types::{PyBool, PyFloat, PyInt};

use numpy::{PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};

use super::tensor::PyTensor;
use super::variable::PyVariable;
use crate::tensor::{Buffer, DType, Element, Tensor};

/// An argument that is either already a tensor or a Python scalar waiting for a dtype.
pub enum Arg {
    Tensor(Tensor),
    Float(f64),
    Int(i64),
    Bool(bool),
}

impl Arg {
    pub fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Arg> {
        if let Ok(t) = obj.cast::<PyTensor>() {
            return Ok(Arg::Tensor(t.get().inner.clone()));
        }
        if let Ok(v) = obj.cast::<PyVariable>() {
            return Ok(Arg::Tensor(v.get().value()));
        }
        if obj.is_instance_of::<PyBool>() {
            return Ok(Arg::Bool(obj.extract()?));
        }
        if obj.is_instance_of::<PyInt>() {
            if let Ok(v) = obj.extract::<i64>() {
                return Ok(Arg::Int(v));
            }
        }
        if obj.is_instance_of::<PyFloat>() {
            return Ok(Arg::Float(obj.extract()?));
        }
        Ok(Arg::Tensor(to_tensor(obj)?))
    }

    pub fn dtype(&self) -> Option<DType> {
        match self {
            Arg::Tensor(t) => Some(t.dtype()),
            _ => None,
        }
    }

    /// The tensor, with a scalar taking `like` (or its natural dtype: float32, int64, bool).
    pub fn into_tensor(self, like: Option<DType>) -> Tensor {
        match self {
            Arg::Tensor(t) => t,
            Arg::Float(v) => {
                let dt = match like {
                    Some(DType::F64) => DType::F64,
                    _ => DType::F32,
                };
                Tensor::full(&[], v, dt)
            }
            Arg::Int(v) => Tensor::full(&[], v as f64, like.filter(|d| *d != DType::Bool).unwrap_or(DType::I64)),
            Arg::Bool(v) => Tensor::full(&[], v as i64 as f64, like.unwrap_or(DType::Bool)),
        }
    }
}

/// Two operands of a binary op, scalars adopting the other side's dtype.
pub fn pair(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<(Tensor, Tensor)> {
    let (a, b) = (Arg::extract(a)?, Arg::extract(b)?);
    let (da, db) = (a.dtype(), b.dtype());
    Ok((a.into_tensor(db), b.into_tensor(da)))
}

/// One operand (a scalar becomes float32/int64/bool).
pub fn one(x: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    Ok(Arg::extract(x)?.into_tensor(None))
}

fn wrap_array<T: Element + numpy::Element>(arr: &Bound<'_, PyArrayDyn<T>>) -> PyResult<Tensor> {
    let shape = arr.shape().to_vec();
    let len = arr.len();
    let ptr = arr.data() as *const T;
    let owner: Py<PyAny> = arr.clone().into_any().unbind();
    // SAFETY: the array is C-contiguous and aligned (checked by the caller), holds `len`
    // elements, and numpy never resizes an array whose memory is referenced by `owner`.
    let buf = unsafe { Buffer::foreign(ptr, len, Box::new(owner)) };
    Ok(Tensor::from_buffer(buf, &shape)?)
}

/// Any array-like Python value as a tensor.
pub fn to_tensor(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.get().inner.clone());
    }
    if let Ok(v) = obj.cast::<PyVariable>() {
        return Ok(v.get().value());
    }
    let py = obj.py();
    let np = py.import("numpy")?;
    let arr = if let Ok(a) = obj.cast::<PyUntypedArray>() {
        a.clone()
    } else {
        // Lists, scalars, objects with __array__: numpy decides; Python floats become float32 (Keras floatx).
        let a = np.call_method1("asarray", (obj,))?;
        let a = a.cast_into::<PyUntypedArray>().map_err(|_| PyTypeError::new_err("could not convert the value to an array"))?;
        if a.dtype().kind() == b'f' && a.dtype().itemsize() == 8 && !obj.hasattr("dtype")? {
            np.call_method1("asarray", (a, "float32"))?.cast_into::<PyUntypedArray>()?
        } else {
            a
        }
    };
    let dt = arr.dtype();
    let target = match (dt.kind(), dt.itemsize()) {
        (b'f', 4) => DType::F32,
        (b'f', 8) => DType::F64,
        (b'f', 2) => DType::F32,
        (b'i' | b'u', _) => DType::I64,
        (b'b', _) => DType::Bool,
        _ => {
            return Err(PyTypeError::new_err(format!(
                "Unsupported dtype {}: rkeras tensors hold float32, float64, int64 or bool",
                dt.str()?
            )))
        }
    };
    let np_name = match target {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::I64 => "int64",
        DType::Bool => "bool",
    };
    let aligned = (arr.data_ptr() as usize).is_multiple_of(target.size_of());
    let native = dt.is_native_byteorder().unwrap_or(false);
    let same = dt.kind() == np_dtype_kind(target) && dt.itemsize() == target.size_of();
    let arr = if arr.is_c_contiguous() && aligned && native && same && target != DType::Bool {
        arr
    } else {
        // A C-contiguous copy of the target dtype (`ascontiguousarray` would turn 0-d into 1-d).
        contiguous_copy(&np, arr.as_any(), np_name)?.cast_into::<PyUntypedArray>()?
    };
    match target {
        DType::F32 => wrap_array(arr.cast::<PyArrayDyn<f32>>()?),
        DType::F64 => wrap_array(arr.cast::<PyArrayDyn<f64>>()?),
        DType::I64 => wrap_array(arr.cast::<PyArrayDyn<i64>>()?),
        // numpy bools are bytes that may hold values other than 0/1 (views of uint8): copy them.
        DType::Bool => {
            let a = arr.cast::<PyArrayDyn<bool>>()?;
            let bytes = contiguous_copy(&np, a.as_any(), "uint8")?;
            let bytes = bytes.cast::<PyArrayDyn<u8>>()?.readonly();
            let v: Vec<bool> = bytes.as_slice().map_err(|e| PyTypeError::new_err(e.to_string()))?.iter().map(|&b| b != 0).collect();
            Ok(Tensor::from_vec(v, a.shape())?)
        }
    }
}

fn contiguous_copy<'py>(np: &Bound<'py, PyModule>, arr: &Bound<'py, PyAny>, dtype: &str) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = [("dtype", dtype), ("order", "C")].into_py_dict(np.py())?;
    np.call_method("array", (arr,), Some(&kwargs))
}

fn np_dtype_kind(d: DType) -> u8 {
    match d {
        DType::F32 | DType::F64 => b'f',
        DType::I64 => b'i',
        DType::Bool => b'b',
    }
}

trait PtrOf {
    fn data_ptr(&self) -> *const u8;
}

impl PtrOf for Bound<'_, PyUntypedArray> {
    fn data_ptr(&self) -> *const u8 {
        // SAFETY: reading the data pointer field of a live array object.
        unsafe { (*self.as_array_ptr()).fields.data as *const u8 }
    }
}

/// An optional `axis` argument: None, an int, or a sequence of ints.
pub fn axes(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if let Ok(a) = o.extract::<isize>() {
                Ok(Some(vec![a]))
            } else {
                o.extract::<Vec<isize>>()
                    .map(Some)
                    .map_err(|_| PyTypeError::new_err(format!("axis must be an int, a tuple of ints or None, received {}", o.repr().map(|r| r.to_string()).unwrap_or_default())))
            }
        }
    }
}

/// A dtype argument: a string ("float32"), a numpy dtype or a Python type.
pub fn dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    let name: String = if let Ok(s) = obj.extract::<String>() {
        s
    } else {
        obj.py().import("numpy")?.call_method1("dtype", (obj,))?.getattr("name")?.extract()?
    };
    DType::parse(&name).ok_or_else(|| {
        PyTypeError::new_err(format!("Unsupported dtype '{name}': rkeras tensors hold float32, float64, int64 or bool"))
    })
}
