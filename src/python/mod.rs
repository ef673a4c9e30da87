//! Python bindings (`rkeras._core`). Thin: convert arguments, release the GIL around the core
//! call, map errors to Python exceptions. No Rust panic may reach Python: nothing here unwraps
//! on values a user can influence.

use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;

mod convert;
mod inference;
mod ops_binary;
mod ops_core;
mod ops_nn;
mod ops_random;
mod ops_reduce;
mod ops_shape;
mod ops_unary;
mod optim;
mod runtime;
mod tape;
mod tensor;
mod variable;


impl From<crate::Error> for PyErr {
    fn from(e: crate::Error) -> PyErr {
        match e {
            crate::Error::Shape(m) | crate::Error::Value(m) => PyValueError::new_err(m),
            crate::Error::Type(m) => PyTypeError::new_err(m),
            crate::Error::Index(m) => PyIndexError::new_err(m),
        }
    }
}

#[pymodule(gil_used = true)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tensor::PyTensor>()?;
    m.add_class::<variable::PyVariable>()?;
    m.add_class::<tape::PyTape>()?;
    runtime::register(m)?;
    ops_core::register(m)?;
    ops_nn::register(m)?;
    inference::register(m)?;
    ops_unary::register(m)?;
    ops_binary::register(m)?;
    ops_reduce::register(m)?;
    ops_shape::register(m)?;
    ops_random::register(m)?;
    optim::register(m)?;
    Ok(())
}
