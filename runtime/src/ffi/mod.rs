//! Calling C from Kiln: the runtime half of `ctypes`.
//!
//! The compiler turns `lib = ctypes.CDLL(path)` into [`kiln_ffi_open`], `lib.f` into
//! [`kiln_ffi_sym`], and a call `f(a, b)` into a thunk of its own (the C call itself, with
//! the arguments it reads from a buffer) that it runs under the fault guard,
//! [`kiln_ffi_guarded`] (C, called directly), raising [`kiln_ffi_fault`]'s error on a
//! fault ([`call_guarded`] is the two in one, for Rust callers). An `ndpointer` argument's
//! address comes from [`kiln_ffi_array_data`], which checks the flags NumPy checks. [`find_library`] is
//! `ctypes.util.find_library`, evaluated by the compiler.
//!
//! - `library.rs`: dlopen / dlsym and CPython's error texts.
//! - `guard.rs` + `guard.c`: the call under a signal guard, the crash report.
//! - `ndpointer.rs`: array arguments.
//! - `find.rs`: `find_library`.

pub(crate) mod find;
mod guard;
pub(crate) mod library;
mod ndpointer;

pub use find::find_library;
pub use guard::{call_guarded, kiln_ffi_fault, kiln_ffi_guarded};
pub use library::{kiln_ffi_open, kiln_ffi_sym, open, sym, Library};
pub use ndpointer::{
    kiln_ffi_array_data, FLAG_ALIGNED, FLAG_C_CONTIGUOUS, FLAG_F_CONTIGUOUS, FLAG_OWNDATA,
    FLAG_WRITEABLE,
};
