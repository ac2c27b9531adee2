//! C from a cell: the C types Kiln knows (`ctype`), the declarations a session has made
//! (`ForeignTable`), and the `%%c` magic's reading and compiling of C source.
//!
//! ctypes is read statically: `lib = ctypes.CDLL(path)` opens the library when it runs,
//! `lib.f` looks the symbol up when it runs, but `f.restype = ...` and `f.argtypes = [...]`
//! are declarations the compiler applies in the order it meets them, so that every call is
//! a typed machine call (`builtins/ffi.rs`), checked like ctypes checks it.

pub mod c_compile;
pub mod c_source;
pub mod cell;
pub mod ctype;

pub use ctype::{CScalar, CSig, CType, NdPointer};

use std::collections::HashMap;
use std::rc::Rc;

/// What a session has declared about C functions, carried from cell to cell.
#[derive(Clone, Debug, Default)]
pub struct ForeignTable {
    /// The next library number to hand out (`Ty::CLib`).
    pub next_lib: u32,
    /// Signatures by (library, symbol): assigned `restype`/`argtypes`, or a `%%c`
    /// prototype. A function not here has ctypes' default (returns `c_int`, arguments
    /// converted by value).
    pub sigs: HashMap<(u32, Rc<str>), CSig>,
    /// The libraries `%%c` cells made: their functions take exactly their prototype's
    /// arguments (a ctypes function takes more than its argtypes, as C's varargs).
    pub c_cells: std::collections::HashSet<u32>,
}

/// How Python shows a C type, library or function (`repr`).
pub fn describe(t: &crate::types::Ty) -> String {
    use crate::types::Ty;
    match t {
        Ty::CType(c) => match &**c {
            CType::Scalar { name, .. } => format!("<class 'ctypes.{name}'>"),
            CType::VoidP => "<class 'ctypes.c_void_p'>".into(),
            other => format!("<class '{other}'>"),
        },
        Ty::CLib(_) => "<CDLL>".into(),
        Ty::CFunc { name, .. } => format!("<_FuncPtr object '{name}'>"),
        Ty::CPointer(t) => format!("<LP_{t} object>"),
        other => other.to_string(),
    }
}

impl ForeignTable {
    pub fn sig(&self, lib: u32, name: &str) -> CSig {
        self.sigs
            .get(&(lib, Rc::from(name)))
            .cloned()
            .unwrap_or_else(CSig::ctypes_default)
    }
}
