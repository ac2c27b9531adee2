//! String objects (`KStr`) and writing text to the cell's output streams.

use crate::ctx::{ExecCtx, Stream};
use crate::guard::{guard, guard_pure};
use crate::obj::KStr;

/// Reads `len` bytes as UTF-8, replacing invalid sequences (compiled code only passes
/// literals and runtime strings, so this is a safety net, not a code path).
/// # Safety
/// `ptr` points at `len` readable bytes, or `len <= 0`.
pub unsafe fn bytes_to_string(ptr: *const u8, len: i64) -> String {
    if ptr.is_null() || len <= 0 {
        return String::new();
    }
    String::from_utf8_lossy(std::slice::from_raw_parts(ptr, len as usize)).into_owned()
}

/// Raises `kind` with the text of a string object as its message (an `assert`'s).
/// # Safety
/// `ctx` live or null; `s` a live string object or null.
#[no_mangle]
pub unsafe extern "C" fn kiln_raise_str(ctx: *mut ExecCtx, kind: i64, s: *const u8) {
    if ctx.is_null() {
        return;
    }
    let text = KStr::as_str(s).to_string();
    (*ctx).raise(crate::ErrorKind::from_i64(kind), text);
}

/// Wraps a Rust string as a new string object (refcount 1).
pub fn new_kstr(s: String) -> *mut u8 {
    KStr::new_raw(s)
}

/// # Safety
/// `ptr` points at `len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn kiln_str_new(ptr: *const u8, len: i64) -> *mut u8 {
    guard_pure(std::ptr::null_mut(), || new_kstr(bytes_to_string(ptr, len)))
}

/// # Safety
/// `a`, `b` live string objects (or null, read as "").
#[no_mangle]
pub unsafe extern "C" fn kiln_str_concat(ctx: *mut ExecCtx, a: *const u8, b: *const u8) -> *mut u8 {
    guard(ctx, std::ptr::null_mut(), || {
        let (x, y) = (KStr::as_str(a), KStr::as_str(b));
        let mut s = String::with_capacity(x.len() + y.len());
        s.push_str(x);
        s.push_str(y);
        Ok(new_kstr(s))
    })
}

/// `len(s)`: the number of code points, as Python counts.
/// # Safety
/// `s` a live string object or null.
#[no_mangle]
pub unsafe extern "C" fn kiln_str_len(s: *const u8) -> i64 {
    KStr::as_str(s).chars().count() as i64
}

/// # Safety
/// `a`, `b` live string objects or null.
#[no_mangle]
pub unsafe extern "C" fn kiln_str_eq(a: *const u8, b: *const u8) -> i64 {
    (KStr::as_str(a) == KStr::as_str(b)) as i64
}

fn stream_of(stream: i64) -> Stream {
    if stream == 1 {
        Stream::Stderr
    } else {
        Stream::Stdout
    }
}

/// Writes bytes to stdout (0) or stderr (1) of the running cell.
/// # Safety
/// `ctx` live; `ptr` points at `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_write(ctx: *mut ExecCtx, stream: i64, ptr: *const u8, len: i64) {
    guard(ctx, (), || {
        let text = bytes_to_string(ptr, len);
        (*ctx).write(stream_of(stream), &text);
        Ok(())
    })
}

/// Writes a string object to stdout (0) or stderr (1).
/// # Safety
/// `ctx` live; `s` a live string object or null.
#[no_mangle]
pub unsafe extern "C" fn kiln_write_str(ctx: *mut ExecCtx, stream: i64, s: *const u8) {
    guard(ctx, (), || {
        let text = KStr::as_str(s);
        (*ctx).write(stream_of(stream), text);
        Ok(())
    })
}
