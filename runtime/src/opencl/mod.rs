//! The OpenCL side of `@gpu` loops: what the compiler's kernel description means, and
//! [`kiln_gpu_for`], the entry point compiled code calls at a `@gpu` loop.
//!
//! The OpenCL library is loaded at run time (opencl3's `dynamic` feature), and nothing here
//! touches it before the first `@gpu` launch or `%devices`: a machine without OpenCL runs
//! every other cell, and a `@gpu` loop there fails with a DeviceError that names the fix.
//!
//! One idea per file: [`devices`] finds and selects devices, [`programs`] builds and caches
//! kernels, [`residency`] keeps device copies of host arrays, [`launch`] runs a kernel
//! (arguments, NDRange, polling, the error replay, reductions), [`stats`] adds up the
//! times `%time` shows.

mod devices;
mod launch;
mod programs;
mod residency;
mod stats;

// Every test here loads the OpenCL library (dlopen) and calls it through FFI, which Miri
// cannot run: under Miri the module is left out rather than each test ignored.
#[cfg(all(test, not(miri)))]
mod tests;

use crate::array::DType;
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;

pub use devices::{current_device_name, devices_report, select_device};
pub use residency::forget;
pub use stats::{take_stats, GpuStats};

/// Words in a kernel's error buffer: [0] the lowest failing iteration (`i64::MAX` when none),
/// [1] the error code, [2..5] its operands, [5] the number of call sites, [6..] the sites.
pub const KERR_WORDS: usize = 32;

/// Where an argument's value lives when the loop starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgSource {
    /// Index of an 8-byte word in the loop's environment block.
    Env(usize),
    /// Address of an 8-byte word (a session global's slot).
    Global(usize),
}

/// Scalar argument types, as the kernel receives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    Bool,
    I64,
    F64,
    F32,
    C128,
}

/// One captured value the kernel reads or writes.
#[derive(Clone, Debug)]
pub enum KernelArg {
    /// A scalar: its value is in the word(s) at `src` (C128: two consecutive words, re then
    /// im; F32: the low 4 bytes of the word hold the f32 bits; Bool: low byte 0/1).
    Scalar { kind: ScalarKind, src: ArgSource },
    /// An array: the word at `src` holds a `*mut Array` (never null: the compiler checks
    /// that a global is defined before the loop).
    Array {
        src: ArgSource,
        ndim: usize,
        dtype: DType,
        /// The kernel may store into it: its owner is copied back after the launch.
        written: bool,
        /// The variable's name, for messages.
        name: String,
    },
}

/// A reduction: operator and type codes as [`crate::par`] uses them (`PR_*`, `PT_*`).
#[derive(Clone, Debug)]
pub struct ReductionSpec {
    pub op: i64,
    pub ty: i64,
}

/// What an error code written by the kernel raises.
#[derive(Clone, Debug)]
pub struct ErrorSpec {
    pub kind: ErrorKind,
    /// Raised as-is, except for IndexError, whose message is NumPy's, made from the
    /// operands the kernel reports (index, axis, size).
    pub message: String,
}

/// Everything the runtime needs to build and launch one `@gpu` loop's kernel.
#[derive(Clone, Debug)]
pub struct KernelSpec {
    pub source: String,
    /// The `__kernel` function.
    pub name: String,
    /// Build options, passed to the OpenCL compiler verbatim.
    pub options: String,
    /// Loop dimensions (1..=3); `dims[0]` is the outermost loop index.
    pub ndim: usize,
    pub args: Vec<KernelArg>,
    pub reductions: Vec<ReductionSpec>,
    /// Indexed by the error code the kernel writes.
    pub errors: Vec<ErrorSpec>,
    pub uses_fp64: bool,
    /// Work-group size along NDRange dimension 0 (the others are 1); fixed per kernel, so
    /// that PoCL compiles its work-group function once.
    pub local_size: usize,
    /// The lane kernel in the same source (under `#if KILN_LANES`), which CPU devices run:
    /// each work-item takes `lane_width` consecutive flat iterations in vector lanes.
    pub lane_kernel: Option<String>,
    pub lane_width: usize,
}

/// An error on its way to the context, with the call sites (innermost first) the kernel
/// reported.
pub(crate) struct Fail {
    pub kind: ErrorKind,
    pub message: String,
    pub sites: Vec<u32>,
}

impl Fail {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Fail {
        Fail {
            kind,
            message: message.into(),
            sites: Vec::new(),
        }
    }
    pub fn device(message: impl Into<String>) -> Fail {
        Fail::new(ErrorKind::DeviceError, message)
    }
    pub fn internal(message: impl Into<String>) -> Fail {
        Fail::new(ErrorKind::InternalError, message)
    }
}

pub(crate) type GResult<T> = Result<T, Fail>;

/// Runs one `@gpu` loop. `dims` points at `3 * ndim` i64: (start, step, count) per loop
/// dimension, outermost first. `red_io` holds the reductions' values, flattened (one word
/// per scalar, two for c128) in spec order: the values before the loop on entry, the
/// combined values on return. Returns 0, or 1 with the error raised into `ctx`.
///
/// # Safety
/// `ctx` live; `spec` a live [`KernelSpec`]; `env` the loop's environment block (every
/// `ArgSource::Env` index in range) and every `ArgSource::Global` a live slot; `dims` and
/// `red_io` as above.
#[no_mangle]
pub unsafe extern "C" fn kiln_gpu_for(
    ctx: *mut ExecCtx,
    spec: *const KernelSpec,
    env: *const i64,
    dims: *const i64,
    red_io: *mut i64,
) -> i64 {
    crate::guard::guard(ctx, 1, || {
        if ctx.is_null() || spec.is_null() {
            return Err((
                ErrorKind::InternalError,
                "@gpu loop without a context or kernel".into(),
            ));
        }
        match launch::gpu_for(&mut *ctx, &*spec, env, dims, red_io) {
            Ok(()) => Ok(0),
            Err(f) => {
                let c = &mut *ctx;
                let fresh = c.err == 0;
                c.raise(f.kind, f.message);
                // The sites belong to this error only; an error already pending keeps its own.
                if fresh {
                    if let Some(e) = c.error.as_mut() {
                        e.sites.extend_from_slice(&f.sites);
                    }
                }
                Ok(1)
            }
        }
    })
}
