//! The native half of `rkeras.GradientTape` (the Python class handles nested structures).

use pyo3::prelude::*;

use super::convert::to_tensor;
use super::tensor::PyTensor;
use super::variable::PyVariable;
use crate::autograd::{self, Tape, TapeRef};
use crate::tensor::{Tensor, TensorId};

#[pyclass(name = "_Tape", module = "rkeras._core", frozen)]
pub struct PyTape {
    tape: TapeRef,
}

/// The tensor a source/target object stands for (a variable stands for its current value).
fn tensor_of(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    if let Ok(v) = obj.cast::<PyVariable>() {
        return Ok(v.get().value());
    }
    to_tensor(obj)
}

#[pymethods]
impl PyTape {
    #[new]
    #[pyo3(signature = (persistent=false, watch_accessed_variables=true))]
    fn new(persistent: bool, watch_accessed_variables: bool) -> Self {
        PyTape { tape: Tape::new(persistent, watch_accessed_variables) }
    }

    fn push(&self) {
        autograd::push(&self.tape);
    }

    fn pop(&self) {
        autograd::pop(&self.tape);
    }

    fn watch(&self, x: &Bound<'_, PyAny>) -> PyResult<()> {
        let t = tensor_of(x)?;
        self.tape.lock().unwrap_or_else(|e| e.into_inner()).watch(&t);
        Ok(())
    }

    fn reset(&self) {
        self.tape.lock().unwrap_or_else(|e| e.into_inner()).reset();
    }

    #[pyo3(signature = (targets, sources, output_gradients=None))]
    fn gradient(
        &self,
        py: Python<'_>,
        targets: Vec<Bound<'_, PyAny>>,
        sources: Vec<Bound<'_, PyAny>>,
        output_gradients: Option<Vec<Bound<'_, PyAny>>>,
    ) -> PyResult<Vec<Option<PyTensor>>> {
        let targets = targets.iter().map(tensor_of).collect::<PyResult<Vec<_>>>()?;
        let ids: Vec<TensorId> = sources.iter().map(|s| tensor_of(s).map(|t| t.id())).collect::<PyResult<_>>()?;
        let seeds = output_gradients.map(|g| g.iter().map(to_tensor).collect::<PyResult<Vec<_>>>()).transpose()?;
        let tape = self.tape.clone();
        let grads = py.detach(|| autograd::gradient(&tape, &targets, &ids, seeds.as_deref()))?;
        Ok(grads.into_iter().map(|g| g.map(PyTensor::from)).collect())
    }
}

#[pyfunction]
pub fn _pause_recording() {
    autograd::pause();
}

#[pyfunction]
pub fn _resume_recording() {
    autograd::resume();
}
