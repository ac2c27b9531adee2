//! Helpers that keep `extern "C"` entry points from unwinding into JIT-compiled frames.

use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An error on its way to `ExecCtx::raise`.
pub type KErr = (ErrorKind, String);
pub type KResult<T> = Result<T, KErr>;

pub fn err<T>(kind: ErrorKind, msg: impl Into<String>) -> KResult<T> {
    Err((kind, msg.into()))
}

/// Runs `f`; an `Err` or a panic is raised on `ctx` and `fail` is returned instead.
/// Unwinding across the JIT boundary is undefined behaviour, hence `catch_unwind` here.
///
/// # Safety
/// `ctx` must be null or point at a live `ExecCtx`.
pub unsafe fn guard<T>(ctx: *mut ExecCtx, fail: T, f: impl FnOnce() -> KResult<T>) -> T {
    let (kind, msg) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => return v,
        Ok(Err(e)) => e,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic in runtime".to_string());
            (ErrorKind::InternalError, format!("runtime panic: {what}"))
        }
    };
    if !ctx.is_null() {
        (*ctx).raise(kind, msg);
    }
    fail
}

/// Like [`guard`] for functions that have no context to report to: a panic gives `fail`.
pub fn guard_pure<T>(fail: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fail)
}
