//! `extern "C"` formatting entry points: `str()`, `repr()` and f-string fields of every
//! value kind, each returning a new string object. The logic lives in [`crate::pyfmt`]
//! (Python's rules) and [`crate::npprint`] (NumPy's array printing).

use crate::array::Array;
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};
use crate::obj::KStr;
use crate::strings::{bytes_to_string, new_kstr};
use crate::{npprint, pyfmt};

unsafe fn fmt_with(
    ctx: *mut ExecCtx,
    spec: *const u8,
    spec_len: i64,
    f: impl FnOnce(&str) -> KResult<String>,
) -> *mut u8 {
    guard(ctx, std::ptr::null_mut(), || {
        let spec = bytes_to_string(spec, spec_len);
        Ok(new_kstr(f(&spec)?))
    })
}

/// # Safety
/// `ctx` live; `spec` points at `spec_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_fmt_i64(
    ctx: *mut ExecCtx,
    v: i64,
    spec: *const u8,
    spec_len: i64,
) -> *mut u8 {
    fmt_with(ctx, spec, spec_len, |s| pyfmt::format_i64(v, s))
}

/// # Safety
/// `ctx` live; `spec` points at `spec_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_fmt_bool(
    ctx: *mut ExecCtx,
    v: i64,
    spec: *const u8,
    spec_len: i64,
) -> *mut u8 {
    fmt_with(ctx, spec, spec_len, |s| pyfmt::format_bool(v != 0, s))
}

/// # Safety
/// `ctx` live; `spec` points at `spec_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_fmt_f64(
    ctx: *mut ExecCtx,
    v: f64,
    spec: *const u8,
    spec_len: i64,
) -> *mut u8 {
    fmt_with(ctx, spec, spec_len, |s| pyfmt::format_f64(v, s))
}

/// # Safety
/// `ctx` live; `spec` points at `spec_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_fmt_f32(
    ctx: *mut ExecCtx,
    v: f32,
    spec: *const u8,
    spec_len: i64,
) -> *mut u8 {
    fmt_with(ctx, spec, spec_len, |s| pyfmt::format_f32(v, s))
}

/// # Safety
/// `ctx` live; `spec` points at `spec_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_fmt_c128(
    ctx: *mut ExecCtx,
    re: f64,
    im: f64,
    spec: *const u8,
    spec_len: i64,
) -> *mut u8 {
    fmt_with(ctx, spec, spec_len, |s| pyfmt::format_complex(re, im, s))
}

/// # Safety
/// `ctx` live; `s` a live string object; `spec` points at `spec_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_fmt_str(
    ctx: *mut ExecCtx,
    s: *const u8,
    spec: *const u8,
    spec_len: i64,
) -> *mut u8 {
    fmt_with(ctx, spec, spec_len, |sp| {
        pyfmt::format_str(KStr::as_str(s), sp)
    })
}

/// `str(a)` for an empty spec. NumPy refuses a non-empty spec for an n-d array with a
/// TypeError, and so do we.
/// # Safety
/// `ctx` live; `a` a live array; `spec` points at `spec_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_fmt_array(
    ctx: *mut ExecCtx,
    a: *const Array,
    spec: *const u8,
    spec_len: i64,
) -> *mut u8 {
    fmt_with(ctx, spec, spec_len, |sp| {
        if a.is_null() {
            return err(ErrorKind::InternalError, "format of a null array");
        }
        if !sp.is_empty() {
            return err(
                ErrorKind::TypeError,
                "unsupported format string passed to numpy.ndarray.__format__",
            );
        }
        Ok(npprint::array_str(a))
    })
}

/// `repr(s)` with quotes.
/// # Safety
/// `ctx` live; `s` a live string object.
#[no_mangle]
pub unsafe extern "C" fn kiln_repr_str(ctx: *mut ExecCtx, s: *const u8) -> *mut u8 {
    guard(ctx, std::ptr::null_mut(), || {
        Ok(new_kstr(pyfmt::str_repr(KStr::as_str(s))))
    })
}

/// `repr(a)`: `array([0. , 0.5, 1. ])`.
/// # Safety
/// `ctx` live; `a` a live array.
#[no_mangle]
pub unsafe extern "C" fn kiln_repr_array(ctx: *mut ExecCtx, a: *const Array) -> *mut u8 {
    guard(ctx, std::ptr::null_mut(), || {
        if a.is_null() {
            return err(ErrorKind::InternalError, "repr of a null array");
        }
        Ok(new_kstr(npprint::array_repr(a)))
    })
}
