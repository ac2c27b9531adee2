//! Running one `@gpu` loop: kernel arguments, the NDRange, waiting (and seeing an
//! interrupt) while the kernel runs, the replay that tells which iteration failed and why,
//! and combining reduction partials.
//!
//! Errors: the kernel's first pass only records the lowest failing iteration (an atomic
//! minimum in `kerr[0]`); a second launch then runs that one iteration alone in replay mode
//! and writes the error code, its operands and the call sites. So the error reported is
//! the one the serial loop would have raised first.
//!
//! Reductions: at most [`MAX_GROUPS`] work-groups, each writing one partial per reduction
//! from a fixed tree over its work-items; the host folds the partials into the value
//! before the loop in group order. The grouping depends only on the iteration count and
//! the local size, so the result has the same bits on every run.

use super::devices::{self, DevCtx};
use super::programs::{self, Built};
use super::residency::Resident;
use super::{stats, ArgSource, Fail, GResult, KernelArg, KernelSpec, ScalarKind, KERR_WORDS};
use crate::array::{Array, DType};
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::par;
use opencl3::error_codes::ClError;
use opencl3::event::{Event, CL_COMPLETE};
use opencl3::kernel::Kernel;
use opencl3::memory::{Buffer, ClMem, CL_MEM_READ_WRITE};
use opencl3::types::{cl_event, cl_int, cl_mem, CL_BLOCKING, CL_NON_BLOCKING};
use std::ffi::c_void;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Work-groups of a reduction launch: enough to fill a GPU, few enough that the host's
/// fold of the partials costs nothing.
pub const MAX_GROUPS: usize = 256;

/// Tests: the next wait sees an interrupt arrive while the kernel is in flight.
#[cfg(test)]
pub(crate) static INTERRUPT_IN_WAIT: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Tests: launches behave as on a device without `cl_khr_fp64` (every CI device has it).
#[cfg(test)]
pub(crate) static PRETEND_NO_FP64: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Buffers every launch on a device needs, kept between launches.
struct Scratch {
    device: usize,
    kerr: Buffer<i64>,
    /// `kerr` holds "no failure" (every word but the first 0, the first `i64::MAX`): a
    /// launch that failed leaves it dirty, and only then does the next one clear it.
    kerr_clean: bool,
    /// Reduction partials: a buffer and its size in bytes, one per reduction slot.
    partials: Vec<(Buffer<u8>, usize)>,
}

/// Launches are serialised: they share the kernel objects (whose arguments are state) and
/// these buffers.
static LAUNCH: Mutex<Option<Scratch>> = Mutex::new(None);

fn cl_fail(what: &str, e: ClError) -> Fail {
    Fail::device(format!("OpenCL: {what} failed with {e} ({})", e.0))
}

/// Bytes of one reduction value on the device (`par::PT_*` codes).
fn red_elem(ty: i64) -> usize {
    match ty {
        par::PT_BOOL => 1,
        par::PT_F32 => 4,
        par::PT_C128 => 16,
        _ => 8,
    }
}

fn red_words(ty: i64) -> usize {
    if ty == par::PT_C128 {
        2
    } else {
        1
    }
}

/// Reads the 8-byte word at `src`.
unsafe fn word(env: *const i64, src: ArgSource, plus: usize) -> i64 {
    match src {
        ArgSource::Env(i) => *env.add(i + plus),
        ArgSource::Global(addr) => *((addr + 8 * plus) as *const i64),
    }
}

/// An array argument, resolved.
struct ArrayArg {
    owner: *mut Array,
    view: *mut Array,
    off: i64,
}

/// Sets kernel arguments in order, naming the one the kernel refused.
struct Args<'a> {
    kernel: &'a Kernel,
    name: &'a str,
    next: u32,
}

impl Args<'_> {
    unsafe fn set<T>(&mut self, v: &T) -> GResult<u32> {
        let k = self.next;
        self.kernel.set_arg(k, v).map_err(|e| {
            Fail::internal(format!(
                "OpenCL kernel `{}` refused argument {k}: {e} ({}); its parameters do not match its spec",
                self.name, e.0
            ))
        })?;
        self.next += 1;
        Ok(k)
    }
}

/// Completion of one OpenCL command, set by the runtime's event callback.
struct Done {
    status: Mutex<Option<i32>>,
    cv: Condvar,
}

extern "C" fn on_done(_ev: cl_event, status: cl_int, data: *mut c_void) {
    // SAFETY: `data` is the `Arc<Done>` leaked for this callback by `wait`; it is taken
    // back exactly once, here.
    let done = unsafe { Arc::from_raw(data as *const Done) };
    *done.status.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
    done.cv.notify_all();
}

/// How often a wait looks at the interrupt flag while the command runs.
const INTERRUPT_POLL: Duration = Duration::from_millis(2);

/// Waits for `ev`, seeing an interrupt while the command runs. The OpenCL runtime's
/// completion callback wakes the wait at once (a short kernel costs no polling latency and
/// no busy host thread competing with the device's workers on a CPU device); the wait also
/// wakes every [`INTERRUPT_POLL`] to look at the interrupt flag. A launched kernel cannot
/// be stopped, so the wait goes on until it finishes either way; `interrupted` reports
/// whether the interrupt came.
fn wait(ev: &Event, ctx: &ExecCtx, interrupted: &mut bool, what: &str) -> GResult<()> {
    #[cfg(test)]
    if INTERRUPT_IN_WAIT.swap(false, Ordering::Relaxed) {
        ctx.interrupt_flag().store(true, Ordering::Relaxed);
    }
    let done = Arc::new(Done {
        status: Mutex::new(None),
        cv: Condvar::new(),
    });
    let raw = Arc::into_raw(done.clone()) as *mut c_void;
    if ev.set_callback(CL_COMPLETE, on_done, raw).is_err() {
        // SAFETY: the callback was not registered, so `raw` is still ours.
        drop(unsafe { Arc::from_raw(raw as *const Done) });
        return wait_polling(ev, ctx, interrupted, what);
    }
    let mut st = done.status.lock().unwrap_or_else(|e| e.into_inner());
    let status = loop {
        if ctx.interrupted() {
            *interrupted = true;
        }
        if let Some(s) = *st {
            break s;
        }
        st = done
            .cv
            .wait_timeout(st, INTERRUPT_POLL)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    };
    if ctx.interrupted() {
        *interrupted = true;
    }
    finished(status, what)
}

/// The command's final status as a result.
fn finished(status: i32, what: &str) -> GResult<()> {
    if status < 0 {
        return Err(Fail::device(format!(
            "{what} stopped on the device with {} ({status})",
            ClError(status)
        )));
    }
    Ok(())
}

/// [`wait`] for a runtime that refuses event callbacks: polls the event's status.
fn wait_polling(ev: &Event, ctx: &ExecCtx, interrupted: &mut bool, what: &str) -> GResult<()> {
    let t0 = Instant::now();
    loop {
        if ctx.interrupted() {
            *interrupted = true;
        }
        let st = ev
            .command_execution_status()
            .map_err(|e| cl_fail("waiting for the kernel", e))?
            .0;
        if st == CL_COMPLETE || st < 0 {
            return finished(st, what);
        }
        // Yield first, then sleep briefly, then less briefly, so neither latency nor a
        // busy host thread dominates.
        let e = t0.elapsed();
        if e < Duration::from_micros(200) {
            std::thread::yield_now();
        } else if e < Duration::from_millis(20) {
            std::thread::sleep(Duration::from_micros(200));
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Enqueues `kernel` over `global`/`local`, then the read of the error buffer behind it,
/// and waits for both with one wait (the queue runs in order); returns the kernel's event
/// (for its profiled time) and the error words.
#[allow(clippy::too_many_arguments)]
unsafe fn run_kernel(
    dev: &DevCtx,
    kernel: &Kernel,
    kerr: &Buffer<i64>,
    global: &[usize],
    local: &[usize],
    ctx: &ExecCtx,
    interrupted: &mut bool,
    what: &str,
) -> GResult<(Event, [i64; KERR_WORDS])> {
    let ev = dev
        .queue
        .enqueue_nd_range_kernel(
            kernel.get(),
            global.len() as u32,
            std::ptr::null(),
            global.as_ptr(),
            local.as_ptr(),
            &[],
        )
        .map_err(|e| cl_fail(&format!("launching {what}"), e))?;
    let mut host = [0i64; KERR_WORDS];
    let read = match dev
        .queue
        .enqueue_read_buffer(kerr, CL_NON_BLOCKING, 0, &mut host, &[])
    {
        Ok(r) => r,
        Err(e) => {
            // The kernel is in flight: let it finish before reporting.
            let _ = dev.queue.finish();
            return Err(cl_fail("reading the kernel's error buffer", e));
        }
    };
    let waited = dev
        .queue
        .flush()
        .map_err(|e| cl_fail(&format!("submitting {what}"), e))
        .and_then(|()| wait(&read, ctx, interrupted, what));
    if waited.is_err() {
        // `host` must outlive the read: make sure nothing is still writing it.
        let _ = dev.queue.finish();
    }
    waited?;
    Ok((ev, host))
}

unsafe fn write_kerr(dev: &DevCtx, kerr: &mut Buffer<i64>, first: i64) -> GResult<()> {
    let mut host = [0i64; KERR_WORDS];
    host[0] = first;
    dev.queue
        .enqueue_write_buffer(kerr, CL_BLOCKING, 0, &host, &[])
        .map_err(|e| cl_fail("clearing the kernel's error buffer", e))?;
    Ok(())
}

/// The error a replayed iteration reported.
fn reported_error(spec: &KernelSpec, iter: i64, k: &[i64; KERR_WORDS]) -> Fail {
    let code = k[1];
    let nsites = k[5];
    let Some(e) = usize::try_from(code).ok().and_then(|c| spec.errors.get(c)) else {
        return Fail::internal(format!(
            "kernel `{}`: iteration {iter} failed with unknown error code {code}",
            spec.name
        ));
    };
    if nsites <= 0 {
        return Fail::internal(format!(
            "kernel `{}`: iteration {iter} failed, but not when it ran again alone",
            spec.name
        ));
    }
    let message = if e.kind == ErrorKind::IndexError {
        crate::array_ops::index_error_message(k[2], k[3], k[4])
    } else {
        e.message.clone()
    };
    let n = (nsites as usize).min(KERR_WORDS - 6);
    Fail {
        kind: e.kind,
        message,
        sites: k[6..6 + n].iter().map(|&s| s as u32).collect(),
    }
}

/// The launch shapes: (global, local, work-groups of a reduction). `lanes`: the lane
/// kernel's, a 1-D range of one work-item per `lane_width` consecutive flat iterations.
fn shapes(
    spec: &KernelSpec,
    counts: &[i64],
    lanes: bool,
) -> GResult<(Vec<usize>, Vec<usize>, usize)> {
    let ls = spec.local_size;
    let too_many = || Fail::device("a @gpu loop of more than 2**62 iterations cannot be launched");
    if !spec.reductions.is_empty() || lanes {
        let total = counts
            .iter()
            .try_fold(1i64, |a, &c| a.checked_mul(c))
            .ok_or_else(too_many)? as usize;
        let items = if lanes {
            total.div_ceil(spec.lane_width.max(1))
        } else {
            total
        };
        if spec.reductions.is_empty() {
            let global = items.checked_next_multiple_of(ls).ok_or_else(too_many)?;
            return Ok((vec![global], vec![ls], 0));
        }
        let groups = items.div_ceil(ls).min(MAX_GROUPS);
        return Ok((vec![groups * ls], vec![ls], groups));
    }
    let nd = counts.len();
    let mut global = Vec::with_capacity(nd);
    let last = counts[nd - 1] as usize;
    global.push(last.checked_next_multiple_of(ls).ok_or_else(too_many)?);
    for d in (0..nd - 1).rev() {
        global.push(counts[d] as usize);
    }
    let mut local = vec![1usize; nd];
    local[0] = ls;
    Ok((global, local, 0))
}

/// See [`super::kiln_gpu_for`].
pub(crate) unsafe fn gpu_for(
    ctx: &mut ExecCtx,
    spec: &KernelSpec,
    env: *const i64,
    dims: *const i64,
    red_io: *mut i64,
) -> GResult<()> {
    let nd = spec.ndim;
    if !(1..=3).contains(&nd) || dims.is_null() {
        return Err(Fail::internal(format!(
            "kernel `{}`: {nd} loop dimensions (1 to 3 can be launched)",
            spec.name
        )));
    }
    if spec.local_size == 0 {
        return Err(Fail::internal(format!(
            "kernel `{}` has no work-group size",
            spec.name
        )));
    }
    let d = std::slice::from_raw_parts(dims, 3 * nd);
    let counts: Vec<i64> = (0..nd).map(|k| d[3 * k + 2]).collect();
    if counts.iter().any(|&c| c <= 0) {
        return Ok(());
    }
    for r in &spec.reductions {
        par::check_red(r.op, r.ty).map_err(|(k, m)| Fail::new(k, m))?;
    }
    if ctx.interrupted() {
        return Err(Fail::new(ErrorKind::KeyboardInterrupt, ""));
    }

    let mut scratch = LAUNCH.lock().unwrap_or_else(|e| e.into_inner());
    let dev = devices::current()?;
    #[cfg(not(test))]
    let fp64 = dev.fp64;
    #[cfg(test)]
    let fp64 = dev.fp64 && !PRETEND_NO_FP64.load(Ordering::Relaxed);
    if spec.uses_fp64 && !fp64 {
        return Err(Fail::device(format!(
            "{} has no double precision (cl_khr_fp64): use f32 arrays and values in @gpu code, or @par",
            dev.name
        )));
    }
    if scratch.as_ref().is_none_or(|s| s.device != dev.index) {
        let kerr = Buffer::<i64>::create(
            &dev.context,
            CL_MEM_READ_WRITE,
            KERR_WORDS,
            std::ptr::null_mut(),
        )
        .map_err(|e| cl_fail("creating the error buffer", e))?;
        *scratch = Some(Scratch {
            device: dev.index,
            kerr,
            kerr_clean: false,
            partials: Vec::new(),
        });
    }
    let scratch = scratch.as_mut().expect("set above");
    // Resolve the arrays and their owners.
    let mut arrays = Vec::new();
    for a in &spec.args {
        if let KernelArg::Array {
            src,
            ndim,
            dtype,
            name,
            ..
        } = a
        {
            let p = word(env, *src, 0) as *mut Array;
            if p.is_null() {
                return Err(Fail::internal(format!("@gpu loop: `{name}` is undefined")));
            }
            let (adt, and) = (DType::from_i64((*p).dtype), (*p).ndim);
            if adt != *dtype || and != *ndim as i64 {
                return Err(Fail::internal(format!(
                    "@gpu loop: `{name}` is a {}-d {} array, the kernel expects {}-d {}",
                    and,
                    adt.numpy_name(),
                    ndim,
                    dtype.numpy_name()
                )));
            }
            let owner = if (*p).base.is_null() { p } else { (*p).base };
            let elem = dtype.size() as isize;
            let off = ((*p).data as isize - (*owner).data as isize) / elem;
            arrays.push(ArrayArg {
                owner,
                view: p,
                off: off as i64,
            });
        }
    }
    let contiguous = arrays
        .iter()
        .take(63)
        .enumerate()
        .filter(|(_, a)| a.off == 0 && c_contiguous(&*a.view))
        .fold(0u64, |m, (j, _)| m | 1 << j);
    // CPU devices run the lane kernel where the loop has one (PoCL does not vectorise a
    // divergent kernel across work-items); GPUs the one-iteration-per-work-item kernel.
    let lanes = dev.cpu && spec.lane_kernel.is_some();
    let built = programs::get(ctx, &dev, spec, contiguous, false, lanes)?;
    let kernel = built.kernel.lock().unwrap_or_else(|e| e.into_inner());
    let mut written: Vec<(*mut Array, &str)> = Vec::new();
    {
        let mut k = 0;
        for a in &spec.args {
            if let KernelArg::Array {
                written: w, name, ..
            } = a
            {
                let o = arrays[k].owner;
                if *w && !written.iter().any(|(x, _)| *x == o) {
                    written.push((o, name));
                }
                k += 1;
            }
        }
    }

    let mut res = Resident::lock();
    let mut kernel_done = false;
    let out = launch(
        ctx,
        spec,
        &dev,
        &built,
        &kernel,
        scratch,
        &mut res,
        env,
        d,
        &counts,
        &arrays,
        red_io,
        contiguous,
        lanes,
        &mut kernel_done,
    );
    if kernel_done {
        // The kernel ran to the end: its writes go back to the host, even when it failed
        // (the serial loop would have stored up to its error too).
        for &(o, name) in &written {
            res.copy_back(&dev, o, name)?;
        }
    } else {
        // The device copies of these may be half written; the host copy is intact.
        for &(o, _) in &written {
            (*o).host_written = 1;
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
unsafe fn launch(
    ctx: &mut ExecCtx,
    spec: &KernelSpec,
    dev: &DevCtx,
    built: &Built,
    kernel: &Kernel,
    scratch: &mut Scratch,
    res: &mut Resident,
    env: *const i64,
    d: &[i64],
    counts: &[i64],
    arrays: &[ArrayArg],
    red_io: *mut i64,
    contiguous: u64,
    lanes: bool,
    kernel_done: &mut bool,
) -> GResult<()> {
    let (global, local, groups) = shapes(spec, counts, lanes)?;

    // Reduction partials, one element per work-group.
    for (r, red) in spec.reductions.iter().enumerate() {
        let need = (groups * red_elem(red.ty)).max(16);
        if scratch.partials.len() <= r {
            let b =
                Buffer::<u8>::create(&dev.context, CL_MEM_READ_WRITE, need, std::ptr::null_mut())
                    .map_err(|e| cl_fail("creating a reduction buffer", e))?;
            scratch.partials.push((b, need));
        } else if scratch.partials[r].1 < need {
            let b =
                Buffer::<u8>::create(&dev.context, CL_MEM_READ_WRITE, need, std::ptr::null_mut())
                    .map_err(|e| cl_fail("creating a reduction buffer", e))?;
            scratch.partials[r] = (b, need);
        }
    }

    set_args(kernel, spec, dev, scratch, res, env, d, arrays, -1)?;
    if !scratch.kerr_clean {
        write_kerr(dev, &mut scratch.kerr, i64::MAX)?;
    }
    // Unknown until the kernel's error words are read back.
    scratch.kerr_clean = false;

    let mut interrupted = false;
    let t0 = Instant::now();
    let what = format!("kernel `{}`", spec.name);
    let (ev, k) = run_kernel(
        dev,
        kernel,
        &scratch.kerr,
        &global,
        &local,
        ctx,
        &mut interrupted,
        &what,
    )?;
    scratch.kerr_clean = k[0] == i64::MAX;
    *kernel_done = true;
    let wall = t0.elapsed().as_nanos() as u64;
    let kns = stats::event_ns(&ev);
    let first = !built.launched.swap(true, Ordering::Relaxed);
    stats::add(|s| {
        s.launches += 1;
        s.kernel_ns += kns;
        if first {
            // PoCL compiles the work-group function on the first launch.
            s.build_ns += wall.saturating_sub(kns);
        }
    });

    if interrupted {
        return Err(Fail::new(ErrorKind::KeyboardInterrupt, ""));
    }
    if k[0] != i64::MAX {
        let iter = k[0];
        write_kerr(dev, &mut scratch.kerr, iter)?;
        // The replay build records what failed and where (KILN_REPLAY): the main build
        // keeps those stores out of its body so that PoCL can vectorise it.
        // Always the scalar kernel (a lane kernel's failing lane recorded its own flat
        // iteration), so the error, its operands and its call sites are the serial run's.
        let replay = programs::get(ctx, dev, spec, contiguous, true, false)?;
        let rk = replay.kernel.lock().unwrap_or_else(|e| e.into_inner());
        set_args(&rk, spec, dev, scratch, res, env, d, arrays, iter)?;
        let (sglobal, slocal, _) = shapes(spec, counts, false)?;
        let mut g1 = vec![1usize; sglobal.len()];
        g1[0] = spec.local_size;
        let (ev, k) = run_kernel(
            dev,
            &rk,
            &scratch.kerr,
            &g1,
            &slocal,
            ctx,
            &mut interrupted,
            &format!("the replay of {what}"),
        )?;
        let kns = stats::event_ns(&ev);
        stats::add(|s| s.kernel_ns += kns);
        return Err(reported_error(spec, iter, &k));
    }

    if !spec.reductions.is_empty() {
        let mut off = 0;
        for (r, red) in spec.reductions.iter().enumerate() {
            let el = red_elem(red.ty);
            let nw = red_words(red.ty);
            let mut host = vec![0u8; groups * el];
            dev.queue
                .enqueue_read_buffer(&scratch.partials[r].0, CL_BLOCKING, 0, &mut host, &[])
                .map_err(|e| cl_fail("reading reduction partials", e))?;
            let io = std::slice::from_raw_parts_mut(red_io.add(off) as *mut u64, nw);
            for g in 0..groups {
                let b = &host[g * el..(g + 1) * el];
                let part: [u64; 2] = match red.ty {
                    par::PT_BOOL => [b[0] as u64, 0],
                    par::PT_F32 => [u32::from_ne_bytes(b.try_into().unwrap()) as u64, 0],
                    par::PT_C128 => [
                        u64::from_ne_bytes(b[..8].try_into().unwrap()),
                        u64::from_ne_bytes(b[8..].try_into().unwrap()),
                    ],
                    _ => [u64::from_ne_bytes(b.try_into().unwrap()), 0],
                };
                par::combine(red.op, red.ty, io, &part[..nw]);
            }
            off += nw;
        }
    }
    Ok(())
}

/// Row-major with unit steps (axes of length 1 may have any stride): the layout the
/// kernel's `KILN_C` bit promises.
fn c_contiguous(a: &Array) -> bool {
    let mut expect = 1i64;
    for k in (0..a.ndim.clamp(0, 4) as usize).rev() {
        if a.shape[k] != 1 && a.strides[k] != expect {
            return false;
        }
        expect *= a.shape[k];
    }
    true
}

/// Sets every argument of the kernel for this launch (`only`: -1, or the iteration a
/// replay runs alone), copying arrays to the device where their copy is stale.
#[allow(clippy::too_many_arguments)]
unsafe fn set_args(
    kernel: &Kernel,
    spec: &KernelSpec,
    dev: &DevCtx,
    scratch: &mut Scratch,
    res: &mut Resident,
    env: *const i64,
    d: &[i64],
    arrays: &[ArrayArg],
    only: i64,
) -> GResult<()> {
    let nd = spec.ndim;
    let expected = 3 * nd
        + spec
            .args
            .iter()
            .map(|a| match a {
                KernelArg::Scalar { .. } => 1,
                KernelArg::Array { ndim, .. } => 2 + 2 * ndim,
            })
            .sum::<usize>()
        + 2
        + spec.reductions.len();
    let has = kernel
        .num_args()
        .map_err(|e| cl_fail("reading the kernel's parameters", e))? as usize;
    if has != expected {
        return Err(Fail::internal(format!(
            "OpenCL kernel `{}` has {has} parameters, its spec describes {expected}",
            spec.name
        )));
    }

    let mut args = Args {
        kernel,
        name: &spec.name,
        next: 0,
    };
    for k in 0..nd {
        args.set(&d[3 * k])?;
        args.set(&d[3 * k + 1])?;
        args.set(&d[3 * k + 2])?;
    }
    let mut ak = 0;
    for a in &spec.args {
        match a {
            KernelArg::Scalar { kind, src } => {
                let w = word(env, *src, 0);
                match kind {
                    ScalarKind::Bool => args.set(&((w & 0xff != 0) as u8))?,
                    ScalarKind::I64 => args.set(&w)?,
                    ScalarKind::F64 => args.set(&f64::from_bits(w as u64))?,
                    ScalarKind::F32 => args.set(&f32::from_bits(w as u32))?,
                    ScalarKind::C128 => {
                        let im = word(env, *src, 1);
                        args.set(&[f64::from_bits(w as u64), f64::from_bits(im as u64)])?
                    }
                };
            }
            KernelArg::Array { ndim, name, .. } => {
                let aa = &arrays[ak];
                ak += 1;
                let mem: cl_mem = res.ensure(dev, aa.owner, name)?;
                args.set(&mem)?;
                args.set(&aa.off)?;
                for k in 0..*ndim {
                    args.set(&(*aa.view).shape[k])?;
                }
                for k in 0..*ndim {
                    args.set(&(*aa.view).strides[k])?;
                }
            }
        }
    }
    let kerr_mem = scratch.kerr.get();
    args.set(&kerr_mem)?;
    args.set(&only)?;
    for r in 0..spec.reductions.len() {
        let m = scratch.partials[r].0.get();
        args.set(&m)?;
    }
    Ok(())
}
