//! `rkeras.Variable`: a mutable holder of a tensor value with a fixed identity, so tapes find it
//! across assignments. Trainable variables are watched by tapes automatically.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{RwLock, RwLockWriteGuard, TryLockError};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::convert;
use super::tensor::{export, PyTensor};
use crate::autograd::StopRecording;
use crate::ops;
use crate::tensor::{Tensor, TensorId};

#[pyclass(name = "Variable", module = "rkeras", subclass, frozen, weakref)]
pub struct PyVariable {
    state: RwLock<Tensor>,
    id: TensorId,
    trainable: AtomicBool,
    name: String,
}

impl PyVariable {
    /// The current value, carrying the variable's identity.
    pub fn value(&self) -> Tensor {
        let t = match self.state.try_read() {
            Ok(guard) => guard.clone(),
            Err(TryLockError::Poisoned(e)) => e.into_inner().clone(),
            // A fused optimizer update holds the write lock with the GIL released: wait for it
            // without the GIL, or it could never take the GIL back.
            Err(TryLockError::WouldBlock) => Python::attach(|py| py.detach(|| self.state.read().unwrap_or_else(|e| e.into_inner()).clone())),
        };
        t.with_id(self.id, self.trainable.load(Ordering::Relaxed))
    }

    /// Write access to the stored value (see `value` for why waiting releases the GIL).
    pub fn state_mut(&self, py: Python<'_>) -> RwLockWriteGuard<'_, Tensor> {
        loop {
            match self.state.try_write() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(e)) => return e.into_inner(),
                // Wait for the holder without the GIL, then try again with it.
                Err(TryLockError::WouldBlock) => py.detach(|| drop(self.state.write())),
            }
        }
    }

    pub fn name_str(&self) -> &str {
        &self.name
    }

    fn set(&self, py: Python<'_>, value: &Bound<'_, PyAny>, combine: Option<fn(&Tensor, &Tensor) -> crate::Result<Tensor>>) -> PyResult<()> {
        let current = self.value();
        let v = convert::Arg::extract(value)?.into_tensor(Some(current.dtype()));
        if v.shape() != current.shape() {
            return Err(PyValueError::new_err(format!(
                "The shape of the target variable and the shape of the target value in `variable.assign(value)` must match. \
                 variable.shape={:?}, Received: value.shape={:?}. Target variable: {}",
                current.shape(),
                v.shape(),
                self.name
            )));
        }
        let new = py.detach(|| -> crate::Result<Tensor> {
            let _pause = StopRecording::new();
            let v = ops::cast(&v, current.dtype())?;
            let out = match combine {
                Some(f) => f(&current, &v)?,
                None => v,
            };
            // Our own copy: a numpy array assigned here stays the caller's to change.
            Ok(out.contiguous_owned())
        })?;
        *self.state_mut(py) = new;
        Ok(())
    }
}

#[pymethods]
impl PyVariable {
    #[new]
    #[pyo3(signature = (initializer, shape=None, dtype=None, trainable=true, autocast=true, aggregation="none", synchronization="auto", name=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        initializer: &Bound<'_, PyAny>,
        shape: Option<Vec<usize>>,
        dtype: Option<&Bound<'_, PyAny>>,
        trainable: bool,
        autocast: bool,
        aggregation: &str,
        synchronization: &str,
        name: Option<String>,
    ) -> PyResult<Self> {
        let _ = (autocast, aggregation, synchronization); // distribution settings: no effect on one device
        let dtype = match dtype {
            Some(d) if !d.is_none() => Some(convert::dtype(d)?),
            _ => None,
        };
        let value = if initializer.is_callable() && !initializer.is_instance_of::<PyTensor>() && !initializer.hasattr("__array__")? {
            let Some(shape) = shape.clone() else {
                return Err(PyValueError::new_err(
                    "When creating a Variable from an initializer, the `shape` argument should be specified.",
                ));
            };
            let dt = dtype.map(|d| d.name()).unwrap_or("float32");
            initializer.call((PyTuple::new(py, &shape)?,), Some(&[("dtype", dt)].into_py_dict(py)?))?
        } else {
            initializer.clone()
        };
        let mut t = convert::one(&value)?;
        if let Some(d) = dtype {
            t = py.detach(|| ops::cast(&t, d))?;
        }
        if let Some(s) = shape {
            if s.as_slice() != t.shape() {
                return Err(PyValueError::new_err(format!(
                    "Initial value has shape {:?}, which is incompatible with the `shape` argument {:?}",
                    t.shape(),
                    s
                )));
            }
        }
        Ok(PyVariable {
            // Our own copy (as Keras's variables): the initial value may be a numpy array the
            // caller keeps writing.
            state: RwLock::new(t.contiguous_owned()),
            id: TensorId::fresh(),
            trainable: AtomicBool::new(trainable),
            name: name.unwrap_or_else(|| "variable".to_string()),
        })
    }

    #[getter(value)]
    fn value_py(&self) -> PyTensor {
        self.value().into()
    }
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.value().shape())
    }
    #[getter]
    fn dtype(&self) -> &'static str {
        self.value().dtype().name()
    }
    #[getter]
    fn ndim(&self) -> usize {
        self.value().ndim()
    }
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }
    #[getter]
    fn trainable(&self) -> bool {
        self.trainable.load(Ordering::Relaxed)
    }
    #[setter]
    fn set_trainable(&self, v: bool) {
        self.trainable.store(v, Ordering::Relaxed)
    }
    #[getter]
    fn _id(&self) -> u64 {
        self.id.0
    }

    fn assign<'py>(slf: &Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().set(slf.py(), value, None)?;
        Ok(slf.clone())
    }
    fn assign_add<'py>(slf: &Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().set(slf.py(), value, Some(ops::add))?;
        Ok(slf.clone())
    }
    fn assign_sub<'py>(slf: &Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().set(slf.py(), value, Some(ops::subtract))?;
        Ok(slf.clone())
    }

    /// A copy of the current value as a numpy array (writable, as Keras's `Variable.numpy()`).
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.value();
        let owner = Bound::new(py, PyTensor::from(t.clone()))?.into_any();
        export(&t, owner, false)?.call_method0("copy")
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(&self, py: Python<'py>, dtype: Option<&Bound<'py, PyAny>>, copy: Option<bool>) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy; // always a fresh copy: the variable may change after this call
        let a = self.numpy(py)?;
        match dtype.filter(|d| !d.is_none()) {
            Some(d) => a.call_method1("astype", (d,)),
            None => Ok(a),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let t = self.value();
        let v = self.numpy(py)?.repr()?.to_string();
        let v = v.strip_prefix("array(").and_then(|b| b.rsplit_once(')')).map(|(b, _)| b.to_string()).unwrap_or(v);
        let v = v.split(", dtype=").next().unwrap_or(&v).to_string();
        Ok(format!("<Variable path={}, shape={}, dtype={}, value={}>", self.name, super::tensor::shape_str(t.shape()), t.dtype(), v))
    }
}

use pyo3::types::IntoPyDict;
