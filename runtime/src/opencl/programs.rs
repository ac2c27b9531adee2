//! Building kernels, once per (source, options, kernel name, device) for the session.
//!
//! A build costs PoCL about a second (a tenth from its own disk cache), so every built
//! program stays in a session-wide cache. Looking a kernel up by its whole source would
//! hash tens of kilobytes on every launch, as long as the launch itself; the cache first
//! tries the spec's address (compiled code keeps its spec for as long as it can run) and
//! confirms the text matches before trusting it.

use super::devices::DevCtx;
use super::{stats, Fail, GResult, KernelSpec};
use crate::ctx::{ExecCtx, Stream};
use opencl3::kernel::Kernel;
use opencl3::program::Program;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub(crate) struct Built {
    source: String,
    /// The spec's options and the launch's variant (contiguity mask, replay), from which
    /// the build's options were made.
    spec_options: String,
    variant: (u64, bool, bool),
    name: String,
    /// Launches set arguments on the kernel object, so only one may hold it at a time.
    pub kernel: Mutex<Kernel>,
    /// Set once the kernel has run: its first launch counts as build time.
    pub launched: AtomicBool,
    _program: Program,
}

type TextKey = (String, String, String, usize);

#[derive(Default)]
struct Cache {
    by_text: HashMap<TextKey, Arc<Built>>,
    /// (address of the spec, device) → the program built for it, checked against the text.
    by_spec: HashMap<(usize, usize, u64), Arc<Built>>,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// The kernel for `spec` on `dev` with these arrays C-contiguous (`contiguous`, bit j for
/// array argument j: the kernel's `KILN_C`), in its replay build or not (`KILN_REPLAY`),
/// its lane kernel or the scalar one (`lanes`: `KILN_LANES`, the spec's `lane_kernel`),
/// built now if needed.
pub(crate) fn get(
    ctx: &mut ExecCtx,
    dev: &DevCtx,
    spec: &KernelSpec,
    contiguous: u64,
    replay: bool,
    lanes: bool,
) -> GResult<Arc<Built>> {
    let lanes = lanes && !replay && spec.lane_kernel.is_some();
    let variant = (contiguous, replay, lanes);
    let kname = match (&spec.lane_kernel, lanes) {
        (Some(n), true) => n.as_str(),
        _ => spec.name.as_str(),
    };
    let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = guard.get_or_insert_with(Cache::default);
    let fast = (
        spec as *const KernelSpec as usize,
        dev.index,
        contiguous << 2 | (lanes as u64) << 1 | replay as u64,
    );
    // The launch path: no text is built or hashed when the spec's program is cached.
    if let Some(b) = cache.by_spec.get(&fast) {
        if b.source == spec.source
            && b.spec_options == spec.options
            && b.variant == variant
            && b.name == kname
        {
            stats::add(|s| s.cached += 1);
            return Ok(b.clone());
        }
    }
    let options = format!(
        "{} -DKILN_C={contiguous}{}{}",
        spec.options,
        if replay { " -DKILN_REPLAY=1" } else { "" },
        if lanes { " -DKILN_LANES=1" } else { "" }
    );
    let key: TextKey = (
        spec.source.clone(),
        options.clone(),
        kname.to_string(),
        dev.index,
    );
    if let Some(b) = cache.by_text.get(&key) {
        let b = b.clone();
        cache.by_spec.insert(fast, b.clone());
        stats::add(|s| s.cached += 1);
        return Ok(b);
    }
    let b = Arc::new(build(ctx, dev, spec, kname, options, variant)?);
    cache.by_text.insert(key, b.clone());
    cache.by_spec.insert(fast, b.clone());
    Ok(b)
}

fn build(
    ctx: &mut ExecCtx,
    dev: &DevCtx,
    spec: &KernelSpec,
    kname: &str,
    options: String,
    variant: (u64, bool, bool),
) -> GResult<Built> {
    let t0 = Instant::now();
    let fail = |what: &str, e: opencl3::error_codes::ClError| {
        Fail::internal(format!(
            "OpenCL: {what} for kernel `{}` failed with {e} ({})",
            spec.name, e.0
        ))
    };
    let mut program = Program::create_from_source(&dev.context, &spec.source)
        .map_err(|e| fail("creating the program", e))?;
    let built = program.build(&[dev.device.id()], &options);
    let log = tidy_log(&program.get_build_log(dev.device.id()).unwrap_or_default());
    if let Err(e) = built {
        return Err(Fail::internal(format!(
            "the OpenCL compiler of {} rejected kernel `{}` ({e}):\n{log}",
            dev.name, spec.name
        )));
    }
    let kernel = Kernel::create(&program, kname).map_err(|e| fail("creating the kernel", e))?;
    let ns = t0.elapsed().as_nanos() as u64;
    stats::add(|s| {
        s.builds += 1;
        s.build_ns += ns;
    });
    if !log.is_empty() {
        ctx.write(
            Stream::Stderr,
            &format!("OpenCL build log of kernel `{}`:\n{log}\n", spec.name),
        );
    }
    Ok(Built {
        source: spec.source.clone(),
        spec_options: spec.options.clone(),
        variant,
        name: kname.to_string(),
        kernel: Mutex::new(kernel),
        launched: AtomicBool::new(false),
        _program: program,
    })
}

/// The build log, trimmed, and once: PoCL 3 hands back the compiler's diagnostics twice
/// over (the same text two times in a row).
fn tidy_log(log: &str) -> String {
    let t = log.trim();
    let lines: Vec<&str> = t.lines().collect();
    let n = lines.len();
    if n >= 2 && n.is_multiple_of(2) && lines[..n / 2] == lines[n / 2..] {
        return lines[..n / 2].join("\n");
    }
    t.to_string()
}

/// Forgets every built program (tests use it to see a build happen again).
#[cfg(test)]
pub(crate) fn tidy_log_for_tests(log: &str) -> String {
    tidy_log(log)
}

#[cfg(test)]
pub(crate) fn clear() {
    *CACHE.lock().unwrap_or_else(|e| e.into_inner()) = None;
}
