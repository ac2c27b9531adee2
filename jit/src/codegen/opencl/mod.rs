//! The OpenCL C backend: every `@gpu` loop of a program (a `For` of target `gpu` with a
//! parallel plan) becomes one OpenCL C kernel, with every user function it calls compiled
//! to an OpenCL C function beside it. It reads the same loop IR as the Cranelift backend;
//! the host side of a launch (packing the loop's variables, calling `kiln_gpu_for`) is the
//! Cranelift backend's (`codegen/clif/gpu.rs`), and building, moving data and launching are
//! the runtime's (`kiln_runtime::opencl`).
//!
//! A kernel's source stands alone: the helpers it uses (Python's `//`, `%`, `**`, complex
//! arithmetic, the error protocol: `prelude.rs`), the struct types of its arrays and tuples
//! (`ctypes.rs`), its functions and the kernel itself (`emit.rs`, `kernel.rs`). The rules of
//! SPEC §7 that only a device has (no `print`, no allocation, no strings, no recursion) are
//! checked while emitting, as `SyntaxError`s that point at the line.

mod ctypes;
mod emit;
mod kernel;
mod lanes;
mod nonneg;
mod prelude;

use crate::ir::{Program, SiteId};
use kiln_runtime::opencl::KernelSpec;
use std::collections::HashMap;

pub(crate) use ctypes::elem_name;
pub(crate) use emit::Emit;

/// Work-items per work-group along NDRange dimension 0, for every kernel. Fixed, so that
/// PoCL compiles each kernel's work-group function once; 256 keeps PoCL's per-group cost
/// small against the work and is a good size on GPUs too.
pub const LOCAL_SIZE: usize = 256;

/// Build options of every kernel: the single-precision `/` and `sqrt` correctly rounded, as
/// the CPU's are (double precision ones always are), so `+ - * / sqrt` agree bit for bit.
pub const BUILD_OPTIONS: &str = "-cl-fp32-correctly-rounded-divide-sqrt";

/// What the backend is asked for.
#[derive(Clone, Debug)]
pub struct Options {
    /// Array bounds checks in kernels (`%bounds`).
    pub bounds_checks: bool,
    /// Kernels for CPU devices run several iterations per work-item in vector lanes where
    /// the loop allows (`%vector`).
    pub lanes: bool,
}

/// A `@gpu` loop that cannot run on a device, found while emitting it.
#[derive(Clone, Debug)]
pub struct GpuError {
    pub site: SiteId,
    pub message: String,
    pub hint: Option<String>,
}

pub(crate) type GResult<T> = Result<T, GpuError>;

pub(crate) fn gpu_err<T>(site: SiteId, message: impl Into<String>, hint: &str) -> GResult<T> {
    Err(GpuError {
        site,
        message: message.into(),
        hint: (!hint.is_empty()).then(|| hint.to_string()),
    })
}

/// One generated kernel.
pub struct Kernel {
    /// The `ParInfo` id of its loop.
    pub par_id: u32,
    /// The user's name of the function the loop is in (`<cell>` at top level).
    pub func: String,
    /// What the runtime needs to build and launch it (boxed: compiled code points at it).
    pub spec: Box<KernelSpec>,
    /// How the launch is shaped, for the header comment of `%%opencl`.
    pub launch: String,
    /// Whether CPU devices run the loop in vector lanes (and how), or why not: comment
    /// lines for `%%opencl`.
    pub lanes_note: String,
}

/// Every kernel of a program.
#[derive(Default)]
pub struct Kernels {
    pub list: Vec<Kernel>,
}

impl Kernels {
    /// The address of each kernel's spec by loop id, for the host code that launches it.
    pub fn addresses(&self) -> HashMap<u32, usize> {
        self.list
            .iter()
            .map(|k| (k.par_id, &*k.spec as *const KernelSpec as usize))
            .collect()
    }

    /// What `%%opencl` prints: each kernel's exact source, after a header comment with its
    /// build options and launch sizes.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for k in &self.list {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&header(k));
            out.push_str(&k.spec.source);
        }
        out
    }
}

/// The header comment `%%opencl` puts above a kernel's source.
pub fn header(k: &Kernel) -> String {
    format!(
        "// kernel {} (the @gpu loop in {})\n// build options: {} -DKILN_C=<which arrays are contiguous, at each launch>\n// launch: {}\n{}",
        k.spec.name,
        k.func,
        if k.spec.options.is_empty() {
            "(none)"
        } else {
            &k.spec.options
        },
        k.launch,
        k.lanes_note
    )
}

/// Generate a kernel for every `@gpu` loop of the program.
pub fn generate(prog: &Program, opts: &Options) -> GResult<Kernels> {
    let mut out = Kernels::default();
    for (fi, f) in prog.funcs.iter().enumerate() {
        let mut loops = Vec::new();
        kernel::collect_gpu_loops(&f.body, &mut loops);
        for st in loops {
            out.list.push(kernel::kernel(prog, fi, st, opts)?);
        }
    }
    Ok(out)
}
