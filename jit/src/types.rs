//! Kiln's static types (SPEC.md §2) and the Numba-style unification that gives every variable
//! one type from all of its assignments.

use crate::ffi::CType;
use kiln_runtime::DType;
use std::fmt;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `None`: only the "no value" of a call or a function without `return e`.
    None,
    Bool,
    I64,
    F64,
    F32,
    C128,
    Str,
    Array {
        dtype: DType,
        ndim: u8,
    },
    Tuple(Rc<[Ty]>),
    /// A scalar or `None` (Numba's Optional): what a function returns when some paths return
    /// a number and others `None` or nothing. Flattened as a tuple `(present: bool, value)`,
    /// the value zero when absent; `x is None` reads the flag, any other use checks it.
    Optional(Rc<Ty>),
    /// A dtype as a value, known at compile time (it occupies no machine words): NumPy's
    /// scalar type `np.float32` (`class`) or an array's `a.dtype` (a dtype instance). Both
    /// are accepted wherever a dtype is, and compare equal when their dtypes are.
    DType {
        dtype: DType,
        class: bool,
    },
    /// A list of scalars (Numba's reflected list): one pointer to a reference-counted
    /// runtime `KList`, shared by assignment. The element is `None` for an empty literal `[]`
    /// whose element type nothing has told yet.
    List(Rc<Ty>),
    /// A C type as a value (`ctypes.c_int`, `POINTER(c_double)`, `ndpointer(...)`), known at
    /// compile time like a dtype: no machine words.
    CType(Rc<CType>),
    /// A loaded C library (`ctypes.CDLL(path)`): the runtime's handle, one word. The number
    /// tells apart the libraries a session opened (each `CDLL` call site is one), so that a
    /// function's declarations (`restype`, `argtypes`) belong to its library.
    CLib(u32),
    /// A C function of a library (`lib.name`): its address, one word. Its signature is the
    /// session's declarations for `(lib, name)` (see `crate::ffi::ForeignTable`).
    CFunc {
        lib: u32,
        name: Rc<str>,
    },
    /// A C pointer to `T` (`a.ctypes.data_as(POINTER(T))`): the address, one word.
    CPointer(Rc<CType>),
}

impl Ty {
    pub fn tuple(items: Vec<Ty>) -> Ty {
        Ty::Tuple(items.into())
    }
    pub fn array(dtype: DType, ndim: usize) -> Ty {
        Ty::Array {
            dtype,
            ndim: ndim as u8,
        }
    }
    pub fn list(elem: Ty) -> Ty {
        Ty::List(Rc::new(elem))
    }
    /// The element type of a list.
    pub fn list_elem(&self) -> Option<&Ty> {
        match self {
            Ty::List(e) => Some(e),
            _ => None,
        }
    }
    pub fn optional(inner: Ty) -> Ty {
        Ty::Optional(Rc::new(inner))
    }
    /// The items of a tuple, or of an optional value's `(present, value)` pair.
    pub fn items(&self) -> Option<Vec<Ty>> {
        match self {
            Ty::Tuple(items) => Some(items.to_vec()),
            Ty::Optional(t) => Some(vec![Ty::Bool, (**t).clone()]),
            _ => None,
        }
    }
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Bool | Ty::I64 | Ty::F64 | Ty::F32 | Ty::C128)
    }
    pub fn is_int_like(&self) -> bool {
        matches!(self, Ty::Bool | Ty::I64)
    }
    pub fn is_float(&self) -> bool {
        matches!(self, Ty::F64 | Ty::F32)
    }
    /// Arrays, strings and lists are reference-counted heap objects.
    pub fn is_heap(&self) -> bool {
        matches!(self, Ty::Str | Ty::Array { .. } | Ty::List(_))
    }
    /// Does a value of this type hold a heap reference anywhere (tuples included)?
    pub fn has_heap(&self) -> bool {
        match self {
            Ty::Tuple(items) => items.iter().any(Ty::has_heap),
            t => t.is_heap(),
        }
    }
    /// The scalar type of an array element (a narrow integer reads as an i64, as Numba
    /// computes small integers).
    pub fn from_dtype(d: DType) -> Ty {
        match d {
            DType::Bool => Ty::Bool,
            DType::I64 | kiln_runtime::narrow_ints!() => Ty::I64,
            DType::F64 => Ty::F64,
            DType::F32 => Ty::F32,
            DType::C128 => Ty::C128,
        }
    }
    pub fn dtype(&self) -> Option<DType> {
        Some(match self {
            Ty::Bool => DType::Bool,
            Ty::I64 => DType::I64,
            Ty::F64 => DType::F64,
            Ty::F32 => DType::F32,
            Ty::C128 => DType::C128,
            _ => return None,
        })
    }
    /// The dtype a dtype value (`np.float32`, `a.dtype`) stands for.
    pub fn dtype_value(&self) -> Option<DType> {
        match self {
            Ty::DType { dtype, .. } => Some(*dtype),
            _ => None,
        }
    }
    /// The name of a value's type as Python's messages print it (`float`, `numpy.ndarray`).
    pub fn python_name(&self) -> &'static str {
        match self {
            Ty::I64 => "int",
            Ty::Bool => "bool",
            Ty::F64 => "float",
            Ty::F32 => "numpy.float32",
            Ty::Str => "str",
            Ty::C128 => "complex",
            Ty::None | Ty::Optional(_) => "NoneType",
            Ty::Array { .. } => "numpy.ndarray",
            Ty::Tuple(_) => "tuple",
            Ty::List(_) => "list",
            Ty::DType { class: true, .. } => "type",
            Ty::DType { .. } => "numpy.dtype",
            Ty::CType(_) => "_ctypes.PyCSimpleType",
            Ty::CLib(_) => "CDLL",
            Ty::CFunc { .. } => "_FuncPtr",
            Ty::CPointer(_) => "LP_c_void_p",
        }
    }
    /// Number of machine words a value occupies once flattened (complex = 2, tuples summed).
    pub fn slots(&self) -> usize {
        match self {
            Ty::None | Ty::DType { .. } | Ty::CType(_) => 0,
            Ty::C128 => 2,
            Ty::Tuple(items) => items.iter().map(Ty::slots).sum(),
            Ty::Optional(t) => 1 + t.slots(),
            _ => 1,
        }
    }
}

/// The rank of a numeric scalar type in NumPy's promotion order.
fn rank(t: &Ty) -> Option<u8> {
    Some(match t {
        Ty::Bool => 0,
        Ty::I64 => 1,
        Ty::F32 => 2,
        Ty::F64 => 3,
        Ty::C128 => 4,
        _ => return None,
    })
}

/// The type of `a op b` for arithmetic on two numeric scalars (NumPy promotion, SPEC §2):
/// `f32 op i64` widens to `f64`; otherwise the higher rank wins.
pub fn promote(a: &Ty, b: &Ty) -> Option<Ty> {
    let (ra, rb) = (rank(a)?, rank(b)?);
    if (a == &Ty::F32 && b == &Ty::I64) || (a == &Ty::I64 && b == &Ty::F32) {
        return Some(Ty::F64);
    }
    Some(if ra >= rb { a.clone() } else { b.clone() })
}

/// The one type a variable takes from two assignments, or None if they cannot unify
/// (a scalar and an array, arrays of different rank or dtype, a string and a number).
pub fn unify(a: &Ty, b: &Ty) -> Option<Ty> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Ty::Tuple(x), Ty::Tuple(y)) if x.len() == y.len() => {
            let items: Option<Vec<Ty>> = x.iter().zip(y.iter()).map(|(p, q)| unify(p, q)).collect();
            Some(Ty::tuple(items?))
        }
        _ if a.is_numeric() && b.is_numeric() => promote(a, b),
        // A number on some paths and None on others: Numba's Optional.
        (Ty::None, t) | (t, Ty::None) if t.is_numeric() => Some(Ty::optional(t.clone())),
        (Ty::None, o @ Ty::Optional(_)) | (o @ Ty::Optional(_), Ty::None) => Some(o.clone()),
        (Ty::Optional(x), Ty::Optional(y)) => Some(Ty::optional(unify(x, y)?)),
        (Ty::Optional(x), t) | (t, Ty::Optional(x)) if t.is_numeric() => {
            Some(Ty::optional(unify(x, t)?))
        }
        // An empty literal takes the element type of the other list; two element types
        // widen as numbers do (the lowering converts only fresh lists, see `convert`).
        (Ty::List(x), Ty::List(y)) => match (&**x, &**y) {
            (Ty::None, _) => Some(b.clone()),
            (_, Ty::None) => Some(a.clone()),
            (x, y) if x.is_numeric() && y.is_numeric() => Some(Ty::list(promote(x, y)?)),
            _ => None,
        },
        _ => None,
    }
}

/// Can a value of type `from` be converted to `to` implicitly (numeric widening, per element
/// in tuples)?
pub fn converts_to(from: &Ty, to: &Ty) -> bool {
    unify(from, to).as_ref() == Some(to)
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::None => write!(f, "None"),
            Ty::Bool => write!(f, "bool"),
            Ty::I64 => write!(f, "i64"),
            Ty::F64 => write!(f, "f64"),
            Ty::F32 => write!(f, "f32"),
            Ty::C128 => write!(f, "c128"),
            Ty::Str => write!(f, "str"),
            Ty::Array { dtype, ndim } => {
                // A narrow integer type has no scalar type of its own: NumPy's name.
                match dtype.narrow_int() {
                    Some(_) => write!(f, "{}[", dtype.numpy_name())?,
                    None => write!(f, "{}[", Ty::from_dtype(*dtype))?,
                }
                for k in 0..*ndim {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, ":")?;
                }
                write!(f, "]")
            }
            Ty::DType { dtype, class: true } => write!(f, "type[{}]", dtype.numpy_name()),
            Ty::DType { dtype, .. } => write!(f, "dtype('{}')", dtype.numpy_name()),
            Ty::Tuple(items) => {
                write!(f, "(")?;
                for (k, t) in items.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                if items.len() == 1 {
                    write!(f, ",")?;
                }
                write!(f, ")")
            }
            Ty::Optional(t) => write!(f, "Optional[{t}]"),
            Ty::List(t) if **t == Ty::None => write!(f, "list[unknown]"),
            Ty::List(t) => write!(f, "list[{t}]"),
            Ty::CType(t) => write!(f, "ctypes type {t}"),
            Ty::CLib(_) => write!(f, "CDLL"),
            Ty::CFunc { name, .. } => write!(f, "C function {name}"),
            Ty::CPointer(t) => write!(f, "LP_{t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_or_none_is_optional() {
        let opt = |t| Ty::optional(t);
        assert_eq!(unify(&Ty::None, &Ty::I64), Some(opt(Ty::I64)));
        assert_eq!(unify(&opt(Ty::I64), &Ty::F64), Some(opt(Ty::F64)));
        assert_eq!(unify(&Ty::None, &opt(Ty::Bool)), Some(opt(Ty::Bool)));
        assert_eq!(unify(&Ty::None, &Ty::array(DType::F64, 1)), None);
        assert_eq!(unify(&Ty::None, &Ty::Str), None);
        assert_eq!(opt(Ty::C128).slots(), 3);
    }

    #[test]
    fn numeric_widening_follows_numpy() {
        assert_eq!(unify(&Ty::I64, &Ty::F64), Some(Ty::F64));
        assert_eq!(unify(&Ty::I64, &Ty::C128), Some(Ty::C128));
        assert_eq!(promote(&Ty::F32, &Ty::I64), Some(Ty::F64));
        assert_eq!(promote(&Ty::F32, &Ty::F32), Some(Ty::F32));
        assert_eq!(promote(&Ty::Bool, &Ty::Bool), Some(Ty::Bool));
        assert_eq!(unify(&Ty::I64, &Ty::array(DType::F64, 1)), None);
        assert_eq!(
            unify(&Ty::array(DType::F64, 1), &Ty::array(DType::F64, 2)),
            None
        );
    }

    #[test]
    fn display_matches_annotations() {
        assert_eq!(Ty::array(DType::F64, 2).to_string(), "f64[:, :]");
        assert_eq!(Ty::tuple(vec![Ty::I64, Ty::F64]).to_string(), "(i64, f64)");
    }
}
