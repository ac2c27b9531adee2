//! C types as Kiln sees them: the values of `ctypes.c_int`, `POINTER(...)`,
//! `np.ctypeslib.ndpointer(...)`, and the parameter and return types read from a `%%c`
//! cell's prototypes. They are compile-time values (no machine words), like a dtype.

use kiln_runtime::DType;
use std::fmt;
use std::rc::Rc;

/// A C scalar, by its machine shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CScalar {
    Bool,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl CScalar {
    pub fn is_float(self) -> bool {
        matches!(self, CScalar::F32 | CScalar::F64)
    }
    pub fn bytes(self) -> u32 {
        match self {
            CScalar::Bool | CScalar::I8 | CScalar::U8 => 1,
            CScalar::I16 | CScalar::U16 => 2,
            CScalar::I32 | CScalar::U32 | CScalar::F32 => 4,
            CScalar::I64 | CScalar::U64 | CScalar::F64 => 8,
        }
    }
    /// The NumPy dtype of an array of these, where Kiln has one.
    pub fn dtype(self) -> Option<DType> {
        Some(match self {
            CScalar::Bool => DType::Bool,
            CScalar::I8 => DType::I8,
            CScalar::U8 => DType::U8,
            CScalar::I16 => DType::I16,
            CScalar::U16 => DType::U16,
            CScalar::I32 => DType::I32,
            CScalar::U32 => DType::U32,
            CScalar::I64 => DType::I64,
            CScalar::F32 => DType::F32,
            CScalar::F64 => DType::F64,
            CScalar::U64 => return None,
        })
    }
}

/// `ndpointer(flags=...)` bits, NumPy's names: the runtime's, which checks them.
pub use kiln_runtime::ffi::{
    FLAG_ALIGNED, FLAG_C_CONTIGUOUS, FLAG_F_CONTIGUOUS, FLAG_OWNDATA, FLAG_WRITEABLE,
};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CType {
    /// `ctypes.c_int`, ...: `name` is ctypes' own (`c_int`, `c_double`), for messages; a C
    /// prototype's scalar gets the ctypes name of its type too (`int` → `c_int`).
    Scalar { kind: CScalar, name: &'static str },
    /// `ctypes.c_void_p`: an address (an int, or None for NULL).
    VoidP,
    /// `ctypes.POINTER(T)`: a pointer to `T` (None for NULL; an array needs
    /// `a.ctypes.data_as(POINTER(T))` as in ctypes).
    Pointer(Rc<CType>),
    /// `np.ctypeslib.ndpointer(dtype, ndim, shape, flags)`: an array passed as its data
    /// pointer after those are checked. A `%%c` prototype's `double *x` is one with
    /// `dtype` float64, `C_CONTIGUOUS` and `nullable` (None passes NULL), `void *` one with
    /// no dtype.
    NdPointer(Rc<NdPointer>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NdPointer {
    pub dtype: Option<DType>,
    pub ndim: Option<u8>,
    /// `FLAG_*` bits the array must have.
    pub flags: i64,
    /// Whether None is accepted (as NULL): `%%c` pointers, not `ndpointer` (NumPy raises).
    pub nullable: bool,
}

/// A foreign function's signature: `restype` (None: `void`) and `argtypes` (None: not
/// declared, ctypes' default conversions).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CSig {
    pub restype: Option<CType>,
    pub argtypes: Option<Vec<CType>>,
}

impl CSig {
    /// A function ctypes has just looked up: returns `c_int`, arguments undeclared.
    pub fn ctypes_default() -> CSig {
        CSig {
            restype: Some(CType::Scalar {
                kind: CScalar::I32,
                name: "c_int",
            }),
            argtypes: None,
        }
    }
}

/// The ctypes scalar types by name (`ctypes.c_int`, `from ctypes import c_double`).
pub fn ctypes_scalar(name: &str) -> Option<CType> {
    use CScalar::*;
    let kind = match name {
        "c_bool" => Bool,
        "c_byte" | "c_char" | "c_int8" => I8,
        "c_ubyte" | "c_uint8" => U8,
        "c_short" | "c_int16" => I16,
        "c_ushort" | "c_uint16" => U16,
        "c_int" | "c_int32" => I32,
        "c_uint" | "c_uint32" => U32,
        "c_long" | "c_longlong" | "c_int64" | "c_ssize_t" => I64,
        "c_ulong" | "c_ulonglong" | "c_uint64" | "c_size_t" => U64,
        "c_float" => F32,
        "c_double" => F64,
        _ => return None,
    };
    // The name as ctypes prints it: its aliases resolve to one class.
    let name = match name {
        "c_int8" => "c_byte",
        "c_uint8" => "c_ubyte",
        "c_int16" => "c_short",
        "c_uint16" => "c_ushort",
        "c_int32" => "c_int",
        "c_uint32" => "c_uint",
        "c_int64" | "c_longlong" | "c_ssize_t" => "c_long",
        "c_uint64" | "c_ulonglong" | "c_size_t" => "c_ulong",
        n => CTYPES_NAMES.iter().copied().find(|k| *k == n)?,
    };
    Some(CType::Scalar { kind, name })
}

const CTYPES_NAMES: &[&str] = &[
    "c_bool", "c_byte", "c_char", "c_ubyte", "c_short", "c_ushort", "c_int", "c_uint", "c_long",
    "c_ulong", "c_float", "c_double",
];

impl fmt::Display for CType {
    /// As ctypes' `repr` of the class: `<class 'ctypes.c_int'>` is shortened to `c_int`;
    /// a pointer is `LP_c_double`, an ndpointer NumPy's `ndpointer_<f8_2d_C>`-like name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CType::Scalar { name, .. } => write!(f, "{name}"),
            CType::VoidP => write!(f, "c_void_p"),
            CType::Pointer(t) => write!(f, "LP_{t}"),
            CType::NdPointer(p) => {
                write!(f, "ndpointer_")?;
                match p.dtype {
                    Some(d) => write!(f, "{}", d.numpy_name())?,
                    None => write!(f, "any")?,
                }
                if let Some(n) = p.ndim {
                    write!(f, "_{n}d")?;
                }
                if p.flags & FLAG_C_CONTIGUOUS != 0 {
                    write!(f, "_C")?;
                }
                if p.flags & FLAG_F_CONTIGUOUS != 0 {
                    write!(f, "_F")?;
                }
                Ok(())
            }
        }
    }
}
