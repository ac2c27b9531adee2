//! The execution context: the one pointer every compiled function receives first.
//!
//! Compiled code reads the `#[repr(C)]` prefix of [`ExecCtx`] directly at fixed offsets (an
//! error flag, the interrupt flag, the recursion depth); everything after the prefix is only
//! touched from Rust through the `extern "C"` functions of this crate.

use crate::error::{ErrorKind, RuntimeError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where printed text goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Receives output while a cell runs (stdout / stderr text as it is produced).
pub type OutputFn = Box<dyn FnMut(Stream, &str) + Send>;

#[repr(C)]
pub struct ExecCtx {
    /// Nonzero when an error is pending. Compiled code checks it after every fallible call.
    pub err: i64,
    /// Points at the session's interrupt flag (an `AtomicBool`), read at loop back-edges.
    pub interrupt: *const AtomicBool,
    /// Current call depth of compiled user functions.
    pub depth: i64,
    /// Depth at which a call raises RecursionError.
    pub max_depth: i64,
    /// The running unit's table of float constants (set by `Compiled::run`; workers of a
    /// parallel loop get their parent's). Compiled code loads its constants from here.
    pub consts: *const u64,
    /// Where the cell's outermost loop reports how far it is; `progress::UNWATCHED` where
    /// nobody reads it (never null: compiled code stores through it). See `progress.rs`.
    pub progress: *const crate::progress::Progress,
    // ---- Rust-only fields below ----
    pub error: Option<RuntimeError>,
    /// Text printed but not yet handed to `output` (flushed at newlines and at the end).
    pub line: String,
    pub line_stream: Stream,
    pub output: OutputFn,
    /// Set on the contexts of a parallel loop's chunks: what only the cell's own thread may
    /// do (draw on the cell's figure) raises there.
    pub in_parallel_loop: bool,
    interrupt_owner: Arc<AtomicBool>,
}

/// Byte offsets of the fields compiled code reads.
pub const CTX_ERR_OFFSET: i32 = 0;
pub const CTX_INTERRUPT_OFFSET: i32 = 8;
pub const CTX_DEPTH_OFFSET: i32 = 16;
pub const CTX_MAX_DEPTH_OFFSET: i32 = 24;
pub const CTX_CONSTS_OFFSET: i32 = 32;
pub const CTX_PROGRESS_OFFSET: i32 = 40;
// The generated code hard-codes these offsets.
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(ExecCtx, err) == CTX_ERR_OFFSET as usize);
    assert!(offset_of!(ExecCtx, interrupt) == CTX_INTERRUPT_OFFSET as usize);
    assert!(offset_of!(ExecCtx, depth) == CTX_DEPTH_OFFSET as usize);
    assert!(offset_of!(ExecCtx, max_depth) == CTX_MAX_DEPTH_OFFSET as usize);
    assert!(offset_of!(ExecCtx, consts) == CTX_CONSTS_OFFSET as usize);
    assert!(offset_of!(ExecCtx, progress) == CTX_PROGRESS_OFFSET as usize);
};

impl ExecCtx {
    pub fn new(interrupt: Arc<AtomicBool>, max_depth: i64, output: OutputFn) -> ExecCtx {
        ExecCtx {
            err: 0,
            interrupt: Arc::as_ptr(&interrupt),
            depth: 0,
            max_depth,
            consts: std::ptr::null(),
            progress: &crate::progress::UNWATCHED,
            error: None,
            line: String::new(),
            line_stream: Stream::Stdout,
            output,
            in_parallel_loop: false,
            interrupt_owner: interrupt,
        }
    }

    /// Records an error unless one is already pending (the first error wins).
    pub fn raise(&mut self, kind: ErrorKind, message: impl Into<String>) {
        if self.err == 0 {
            self.err = 1;
            self.error = Some(RuntimeError {
                kind,
                message: message.into(),
                sites: Vec::new(),
            });
        }
    }

    /// The session's interrupt flag (shared with worker contexts of parallel loops).
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.interrupt_owner.clone()
    }

    pub fn interrupted(&self) -> bool {
        self.interrupt_owner.load(Ordering::Relaxed)
    }

    /// Appends text to the given stream, handing complete lines to the output callback.
    pub fn write(&mut self, stream: Stream, text: &str) {
        if stream != self.line_stream && !self.line.is_empty() {
            self.flush();
        }
        self.line_stream = stream;
        self.line.push_str(text);
        if let Some(nl) = self.line.rfind('\n') {
            let rest = self.line.split_off(nl + 1);
            let done = std::mem::replace(&mut self.line, rest);
            (self.output)(stream, &done);
        }
    }

    pub fn flush(&mut self) {
        if !self.line.is_empty() {
            let done = std::mem::take(&mut self.line);
            (self.output)(self.line_stream, &done);
        }
    }

    pub fn take_error(&mut self) -> Option<RuntimeError> {
        self.err = 0;
        self.error.take()
    }
}

/// Raise the error of a compiler-known site: the compiler owns the kind and the message.
/// # Safety
/// `ctx` must be the live context passed to the compiled code.
#[no_mangle]
pub unsafe extern "C" fn kiln_raise(ctx: *mut ExecCtx, kind: i64, site: i64) {
    let ctx = &mut *ctx;
    ctx.raise(ErrorKind::from_i64(kind), String::new());
    if let Some(e) = ctx.error.as_mut() {
        if e.sites.is_empty() {
            e.sites.push(site as u32);
        }
    }
}

/// Add a call site to the pending error's chain (called by a caller when a callee failed).
/// # Safety
/// `ctx` must be the live context passed to the compiled code.
#[no_mangle]
pub unsafe extern "C" fn kiln_trace(ctx: *mut ExecCtx, site: i64) {
    let ctx = &mut *ctx;
    if let Some(e) = ctx.error.as_mut() {
        e.sites.push(site as u32);
    }
}

/// Add `site` to the pending error only when it has no site yet: a `@gpu` launch that failed
/// before its kernel ran (no device, a build error) points at its loop; an error from inside
/// the kernel already carries the kernel's own chain.
/// # Safety
/// `ctx` must be the live context passed to the compiled code.
#[no_mangle]
pub unsafe extern "C" fn kiln_trace_if_none(ctx: *mut ExecCtx, site: i64) {
    let ctx = &mut *ctx;
    if let Some(e) = ctx.error.as_mut() {
        if e.sites.is_empty() {
            e.sites.push(site as u32);
        }
    }
}

/// Raised at a loop back-edge when the interrupt flag is set. The flag stays set (the
/// session clears it when the next cell starts) so that every worker of a parallel loop
/// sees it too.
/// # Safety
/// `ctx` must be the live context passed to the compiled code.
#[no_mangle]
pub unsafe extern "C" fn kiln_raise_interrupt(ctx: *mut ExecCtx) {
    let ctx = &mut *ctx;
    ctx.raise(ErrorKind::KeyboardInterrupt, "");
}

/// Raised on function entry when the depth passes `max_depth`.
/// # Safety
/// `ctx` must be the live context passed to the compiled code.
#[no_mangle]
pub unsafe extern "C" fn kiln_raise_recursion(ctx: *mut ExecCtx) {
    (*ctx).raise(
        ErrorKind::RecursionError,
        "maximum recursion depth exceeded",
    );
}
