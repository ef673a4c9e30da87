use std::sync::Arc;

use super::storage::{Buffer, Storage};

/// Element types a tensor can hold. Floats carry gradients; `I64` holds indices (argmax, take,
/// one_hot input) and `Bool` holds comparison results and masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
    I64,
    Bool,
}

impl DType {
    /// numpy/Keras spelling.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I64 => "int64",
            DType::Bool => "bool",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn size_of(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }

    /// Result dtype of a binary op (numpy promotion restricted to our dtypes).
    pub fn promote(a: DType, b: DType) -> DType {
        use DType::*;
        match (a, b) {
            (F64, _) | (_, F64) => F64,
            (F32, _) | (_, F32) => F32,
            (I64, _) | (_, I64) => I64,
            (Bool, Bool) => Bool,
        }
    }

    pub fn parse(name: &str) -> Option<DType> {
        match name {
            "float32" | "f32" => Some(DType::F32),
            "float64" | "f64" | "double" => Some(DType::F64),
            "int64" | "int32" | "int" | "i64" => Some(DType::I64),
            "bool" => Some(DType::Bool),
            _ => None,
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A type that can live in tensor storage.
pub trait Element: Copy + Send + Sync + Default + PartialEq + PartialOrd + std::fmt::Debug + 'static {
    const DTYPE: DType;
    fn into_storage(buf: Arc<Buffer<Self>>) -> Storage;
    fn buffer(storage: &Storage) -> Option<&Arc<Buffer<Self>>>;
    fn buffer_mut(storage: &mut Storage) -> Option<&mut Arc<Buffer<Self>>>;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

macro_rules! element {
    ($t:ty, $variant:ident, $from:expr, $to:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn into_storage(buf: Arc<Buffer<Self>>) -> Storage {
                Storage::$variant(buf)
            }
            fn buffer(storage: &Storage) -> Option<&Arc<Buffer<Self>>> {
                match storage {
                    Storage::$variant(b) => Some(b),
                    _ => None,
                }
            }
            fn buffer_mut(storage: &mut Storage) -> Option<&mut Arc<Buffer<Self>>> {
                match storage {
                    Storage::$variant(b) => Some(b),
                    _ => None,
                }
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                let f: fn(f64) -> $t = $from;
                f(v)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                let f: fn($t) -> f64 = $to;
                f(self)
            }
        }
    };
}
element!(f32, F32, |v| v as f32, |v| v as f64);
element!(f64, F64, |v| v, |v| v);
element!(i64, I64, |v| v as i64, |v| v as f64);
element!(bool, Bool, |v| v != 0.0, |v| if v { 1.0 } else { 0.0 });

/// Floating-point element: what differentiable kernels are generic over.
pub trait Float:
    Element
    + num_traits::Float
    + num_traits::FloatConst
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + std::iter::Sum
{
    /// Smallest exponent argument whose `exp` stays a normal number (avoids denormals).
    const EXP_MIN: Self;
    const EXP_MAX: Self;
    #[inline(always)]
    fn c(v: f64) -> Self {
        Self::from_f64(v)
    }
}
impl Float for f32 {
    const EXP_MIN: f32 = -87.33;
    const EXP_MAX: f32 = 88.72;
}
impl Float for f64 {
    const EXP_MIN: f64 = -708.39;
    const EXP_MAX: f64 = 709.78;
}

/// `n` floats with unspecified values, for a buffer the caller overwrites completely before
/// reading it (a gemm output with `accumulate = false`, saved activations written every step):
/// it skips the memory pass that zeroing `vec![0; n]` costs (measured ~6% of an LSTM step).
pub fn uninit_vec<T: Float>(n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    // SAFETY: f32/f64 are plain data (no invalid bit patterns, no drop); every caller writes each
    // element before any read, which is what makes this sound.
    unsafe { v.set_len(n) };
    v
}
