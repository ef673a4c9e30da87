//! The one error type of the core. The Python bindings map each variant to one Python exception
//! (`Shape`/`Value` -> ValueError, `Type` -> TypeError, `Index` -> IndexError), so every message
//! must read well to a Keras user: name the op, the expected and the received value.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Shapes that do not fit together (ValueError).
    #[error("{0}")]
    Shape(String),
    /// Any other bad argument value (ValueError).
    #[error("{0}")]
    Value(String),
    /// Unsupported dtype or argument type (TypeError).
    #[error("{0}")]
    Type(String),
    /// Index or axis out of range (IndexError for indices; axes use `Value`, as numpy's AxisError is a ValueError).
    #[error("{0}")]
    Index(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// `shape_err!("matmul", "expected ..., received ...")` -> `Err(Error::Shape("matmul: expected ..."))`.
#[macro_export]
macro_rules! shape_err {
    ($op:expr, $($arg:tt)*) => { Err($crate::error::Error::Shape(format!("{}: {}", $op, format!($($arg)*)))) };
}
#[macro_export]
macro_rules! value_err {
    ($op:expr, $($arg:tt)*) => { Err($crate::error::Error::Value(format!("{}: {}", $op, format!($($arg)*)))) };
}
#[macro_export]
macro_rules! type_err {
    ($op:expr, $($arg:tt)*) => { Err($crate::error::Error::Type(format!("{}: {}", $op, format!($($arg)*)))) };
}
