//! A foreign call under a fault guard: a C function that crashes raises `ForeignCrash` in
//! its cell instead of ending the kernel (CPython dies there). The signal handling is in
//! `guard.c`; this file runs the call and words the report.
//!
//! Between the fault and the jump back nothing is unwound: the thunk's frames and the C
//! function's are abandoned as they are. The thunk must therefore own nothing that needs
//! dropping (JIT-compiled thunks hold only machine words), and the C code's half-done
//! work (memory written, locks taken, `malloc` state if it died inside `malloc`) stays,
//! which the message says.
//!
//! A cell interrupt does not stop a running C function (see `guard.c`): it is seen when
//! the call returns.

use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use std::ffi::{c_int, c_void};

extern "C" {
    /// `guard.c`: runs `thunk(buf)`; 0, or the signal that interrupted it (the fault's
    /// address in `*fault_addr`). Compiled code calls it directly and, on a signal, calls
    /// [`kiln_ffi_fault`].
    pub fn kiln_ffi_guarded(
        thunk: unsafe extern "C" fn(*mut u8),
        buf: *mut u8,
        fault_addr: *mut *mut c_void,
    ) -> c_int;
    fn kiln_ffi_last_code() -> c_int;
}

// si_code values of SIGFPE (Linux, every architecture).
const FPE_INTDIV: c_int = 1;
const FPE_INTOVF: c_int = 2;
const FPE_FLTDIV: c_int = 3;

/// The guard zone below a thread's stack that counts as an overflow: the guard page is
/// usually hit, but a function with a large frame may step over it by a few pages.
const OVERFLOW_ZONE: usize = 256 * 1024;

/// Whether `addr` lies just below this thread's stack (a SIGSEGV there is an overflow).
fn below_stack(addr: usize) -> bool {
    // SAFETY: plain queries of the calling thread's attributes.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return false;
        }
        let mut lo: *mut c_void = std::ptr::null_mut();
        let mut size = 0usize;
        let ok = libc::pthread_attr_getstack(&attr, &mut lo, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        let lo = lo as usize;
        ok && addr < lo + 4096 && addr + OVERFLOW_ZONE >= lo
    }
}

/// The text of `ForeignCrash` for signal `sig` (with `si_code` `code`) at `addr`.
pub(crate) fn crash_message(function: &str, sig: c_int, code: c_int, addr: usize) -> String {
    let (what, place) = match sig {
        libc::SIGSEGV if below_stack(addr) => ("stack overflow", "address"),
        libc::SIGSEGV => ("segmentation fault", "address"),
        libc::SIGBUS => ("bus error", "address"),
        libc::SIGFPE => (
            match code {
                FPE_INTDIV => "integer division by zero",
                FPE_INTOVF => "integer overflow",
                FPE_FLTDIV => "floating-point division by zero",
                _ => "arithmetic exception",
            },
            "instruction",
        ),
        libc::SIGILL => ("illegal instruction", "instruction"),
        libc::SIGABRT => ("abort", ""),
        _ => ("signal", ""),
    };
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV".to_string(),
        libc::SIGBUS => "SIGBUS".to_string(),
        libc::SIGFPE => "SIGFPE".to_string(),
        libc::SIGILL => "SIGILL".to_string(),
        libc::SIGABRT => "SIGABRT".to_string(),
        n => format!("signal {n}"),
    };
    let at = if place.is_empty() {
        String::new()
    } else {
        format!(" at {place} {addr:#x}")
    };
    format!(
        "{what} ({name}) in C function '{function}'{at}; the process may be damaged \
         (memory the C code changed is not restored; locks it held stay held): save your \
         work and restart the kernel if results from here on look wrong"
    )
}

/// Runs `thunk(buf)`, a call of the C function `name`, as compiled code does: under
/// [`kiln_ffi_guarded`], a fault raising `ForeignCrash` on `ctx`.
/// # Safety
/// `ctx` live; `thunk` sound to call with `buf` and owning nothing that needs dropping.
pub unsafe fn call_guarded(
    ctx: *mut ExecCtx,
    thunk: unsafe extern "C" fn(*mut u8),
    buf: *mut u8,
    name: &str,
) {
    let mut addr: *mut c_void = std::ptr::null_mut();
    let sig = kiln_ffi_guarded(thunk, buf, &mut addr);
    if sig != 0 {
        kiln_ffi_fault(
            ctx,
            sig as i64,
            addr as i64,
            name.as_ptr(),
            name.len() as i64,
        )
    }
}

/// Raises `ForeignCrash` for signal `sig` (at `addr`) in the C function `name`, after
/// [`kiln_ffi_guarded`] caught it on this thread.
/// # Safety
/// `ctx` live; `name` points at `name_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn kiln_ffi_fault(
    ctx: *mut ExecCtx,
    sig: i64,
    addr: i64,
    name: *const u8,
    name_len: i64,
) {
    let sig = sig as c_int;
    let addr = addr as usize as *mut c_void;
    let code = kiln_ffi_last_code();
    crate::guard::guard(ctx, (), || {
        let bytes = if name.is_null() || name_len <= 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(name, name_len as usize)
        };
        let function = String::from_utf8_lossy(bytes);
        Err((
            ErrorKind::ForeignCrash,
            crash_message(&function, sig, code, addr as usize),
        ))
    })
}
