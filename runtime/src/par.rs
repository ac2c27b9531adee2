//! Parallel loops: the worker pool and [`kiln_par_for`], which runs an outlined loop body
//! over fixed chunks of an index range and combines per-chunk reduction partials.
//!
//! Determinism: the range `0..n` is cut into `nchunks = min(n, threads() * CHUNKS_PER_THREAD)`
//! fixed chunks, chunk `k` covering `[k*n/nchunks, (k+1)*n/nchunks)`. Chunks are handed out
//! dynamically, from one counter, to the calling thread and `threads - 1` pool workers, but
//! every chunk accumulates its reductions in its own buffer (starting from each operator's
//! identity), and the partials are folded into the caller's values in chunk order
//! afterwards. So for a given thread count the result has the same bits however the chunks
//! were scheduled.

use crate::ctx::{ExecCtx, Stream};
use crate::error::{ErrorKind, RuntimeError};
use crate::guard::{err, guard, KResult};
use rayon::ThreadPool;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Stack size of each worker: bodies may recurse through compiled user functions.
pub const WORKER_STACK_BYTES: usize = 256 << 20;

/// Chunks per worker thread: enough for uneven iterations to balance. The last chunk to
/// finish can leave the other workers idle for up to one chunk's time; at 128 per thread
/// that is under 1 % of a loop of even iterations and about 2 % of Mandelbrot's rows (the
/// costliest rows take ~2.5x the average), for about a microsecond of scheduling per chunk.
/// (32 per thread measured 1-3 % slower on Mandelbrot `@par`, 2 threads.)
pub const CHUNKS_PER_THREAD: usize = 128;

static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

/// How many parallel loops (of at least one iteration) have started in this process.
static LOOPS_STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many parallel loops and threaded whole-array statements have started in this
/// process: tests read it to tell a threaded statement from a serial one.
pub fn loops_started() -> u64 {
    LOOPS_STARTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// `KILN_THREADS` when set to a positive integer, else the machine's parallelism.
fn default_threads() -> usize {
    std::env::var("KILN_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

fn build_pool(n: usize) -> Result<Arc<ThreadPool>, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .stack_size(WORKER_STACK_BYTES)
        .thread_name(|i| format!("kiln-worker-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| format!("cannot start {n} worker threads: {e}"))
}

/// The current pool, built on first use.
fn pool() -> Result<Arc<ThreadPool>, String> {
    if let Some(p) = POOL.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Ok(p.clone());
    }
    let mut w = POOL.write().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = w.as_ref() {
        return Ok(p.clone());
    }
    let p = build_pool(default_threads())?;
    *w = Some(p.clone());
    Ok(p)
}

/// Number of worker threads parallel loops use.
pub fn threads() -> usize {
    match pool() {
        Ok(p) => p.current_num_threads(),
        Err(_) => default_threads(),
    }
}

/// Replaces the pool by one of `n` threads. Loops already running keep the old pool.
pub fn set_threads(n: usize) -> Result<(), String> {
    if n == 0 {
        return Err("the number of threads must be at least 1".into());
    }
    let p = build_pool(n)?;
    *POOL.write().unwrap_or_else(|e| e.into_inner()) = Some(p);
    Ok(())
}

/// Reduction operators (`red_ops`).
pub const PR_ADD: i64 = 0;
pub const PR_MUL: i64 = 1;
pub const PR_MIN: i64 = 2;
pub const PR_MAX: i64 = 3;
pub const PR_BITOR: i64 = 4;
pub const PR_BITAND: i64 = 5;
/// NumPy's `min`/`max` of floats: a NaN wins (the last one met), else the first extreme.
pub const PR_NP_MIN: i64 = 6;
pub const PR_NP_MAX: i64 = 7;

/// Reduction types (`red_types`): bool in the low byte of its word, f32 in the low 4 bytes,
/// c128 in two words (re, im).
pub const PT_BOOL: i64 = 0;
pub const PT_I64: i64 = 1;
pub const PT_F64: i64 = 2;
pub const PT_F32: i64 = 3;
pub const PT_C128: i64 = 4;

fn words_of(ty: i64) -> usize {
    if ty == PT_C128 {
        2
    } else {
        1
    }
}

fn f64w(v: f64) -> u64 {
    v.to_bits()
}
fn f32w(v: f32) -> u64 {
    v.to_bits() as u64
}
fn boolw(v: bool) -> u64 {
    v as u64
}

/// Checks that the operator applies to the type.
pub(crate) fn check_red(op: i64, ty: i64) -> KResult<()> {
    let ok = match ty {
        PT_BOOL | PT_I64 => (PR_ADD..=PR_BITAND).contains(&op),
        PT_F64 | PT_F32 => (PR_ADD..=PR_MAX).contains(&op) || op == PR_NP_MIN || op == PR_NP_MAX,
        PT_C128 => op == PR_ADD || op == PR_MUL,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        err(
            ErrorKind::InternalError,
            format!("parallel reduction: operator {op} on type {ty} is not supported"),
        )
    }
}

/// The identity of `op` on `ty`, as words.
fn identity(op: i64, ty: i64) -> [u64; 2] {
    match ty {
        PT_BOOL => [boolw(matches!(op, PR_MUL | PR_MIN | PR_BITAND)), 0],
        PT_I64 => [
            match op {
                PR_MUL => 1,
                PR_MIN => i64::MAX,
                PR_MAX => i64::MIN,
                PR_BITAND => -1,
                _ => 0,
            } as u64,
            0,
        ],
        PT_F64 => [
            f64w(match op {
                PR_MUL => 1.0,
                PR_MIN | PR_NP_MIN => f64::INFINITY,
                PR_MAX | PR_NP_MAX => f64::NEG_INFINITY,
                _ => 0.0,
            }),
            0,
        ],
        PT_F32 => [
            f32w(match op {
                PR_MUL => 1.0,
                PR_MIN | PR_NP_MIN => f32::INFINITY,
                PR_MAX | PR_NP_MAX => f32::NEG_INFINITY,
                _ => 0.0,
            }),
            0,
        ],
        _ => [f64w(if op == PR_MUL { 1.0 } else { 0.0 }), f64w(0.0)],
    }
}

/// Python's `min(a, b)`: `b if b < a else a` (and `max` with `>`).
fn py_pick<T: PartialOrd>(a: T, b: T, want_max: bool) -> T {
    let take_b = if want_max { b > a } else { b < a };
    if take_b {
        b
    } else {
        a
    }
}

/// NumPy's `min(a, b)` in a running reduction: `b` if `b < a` or `b` is NaN, else `a`
/// (and `max` with `>`). Any grouping of the elements gives the same bits.
fn np_pick<T: PartialOrd>(a: T, b: T, want_max: bool) -> T {
    let better = if want_max { b > a } else { b < a };
    // Only a NaN is unordered with itself.
    let nan = b.partial_cmp(&b).is_none();
    if better || nan {
        b
    } else {
        a
    }
}

/// `acc = op(acc, x)` on the words of one reduction.
pub(crate) fn combine(op: i64, ty: i64, acc: &mut [u64], x: &[u64]) {
    match ty {
        PT_BOOL => {
            let (a, b) = (acc[0] & 0xff != 0, x[0] & 0xff != 0);
            acc[0] = boolw(match op {
                PR_ADD | PR_MAX | PR_BITOR => a | b,
                _ => a & b,
            });
        }
        PT_I64 => {
            let (a, b) = (acc[0] as i64, x[0] as i64);
            acc[0] = match op {
                PR_ADD => a.wrapping_add(b),
                PR_MUL => a.wrapping_mul(b),
                PR_MIN => py_pick(a, b, false),
                PR_MAX => py_pick(a, b, true),
                PR_BITOR => a | b,
                _ => a & b,
            } as u64;
        }
        PT_F64 => {
            let (a, b) = (f64::from_bits(acc[0]), f64::from_bits(x[0]));
            acc[0] = f64w(match op {
                PR_ADD => a + b,
                PR_MUL => a * b,
                PR_MIN => py_pick(a, b, false),
                PR_NP_MIN => np_pick(a, b, false),
                PR_NP_MAX => np_pick(a, b, true),
                _ => py_pick(a, b, true),
            });
        }
        PT_F32 => {
            let (a, b) = (f32::from_bits(acc[0] as u32), f32::from_bits(x[0] as u32));
            acc[0] = f32w(match op {
                PR_ADD => a + b,
                PR_MUL => a * b,
                PR_MIN => py_pick(a, b, false),
                PR_NP_MIN => np_pick(a, b, false),
                PR_NP_MAX => np_pick(a, b, true),
                _ => py_pick(a, b, true),
            });
        }
        _ => {
            let (ar, ai) = (f64::from_bits(acc[0]), f64::from_bits(acc[1]));
            let (br, bi) = (f64::from_bits(x[0]), f64::from_bits(x[1]));
            let (r, i) = if op == PR_ADD {
                (ar + br, ai + bi)
            } else {
                (ar * br - ai * bi, ar * bi + ai * br)
            };
            acc[0] = f64w(r);
            acc[1] = f64w(i);
        }
    }
}

/// A loop body: `body(ctx, env, lo, hi, red_buf)` runs iterations `lo..hi`, accumulating
/// reductions into `red_buf`; it reports errors through `ctx`.
pub type ParBody = extern "C" fn(*mut ExecCtx, *const u64, i64, i64, *mut u64);

/// A raw pointer that may cross to the worker threads. Each use documents why it is safe.
#[derive(Clone, Copy)]
struct Shared<T>(T);
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}
impl<T: Copy> Shared<T> {
    /// A method, so closures capture the whole `Shared` rather than its raw field.
    fn get(&self) -> T {
        self.0
    }
}

/// Runs `body` over `0..n` in parallel chunks (see the module docs); combines `nred`
/// reductions (operators `red_ops`, types `red_types`) into `red_io`, which holds the
/// values before the loop on entry and the results on return. Returns 0, or 1 with the
/// error of the lowest failing chunk copied into `ctx`.
///
/// # Safety
/// `ctx` live (its thread blocked here until return); `env` whatever `body` expects;
/// `red_ops`/`red_types` point at `nred` i64; `red_io` at the reductions' words.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kiln_par_for(
    ctx: *mut ExecCtx,
    body: ParBody,
    env: *const u64,
    n: i64,
    nred: i64,
    red_ops: *const i64,
    red_types: *const i64,
    red_io: *mut u64,
) -> i64 {
    guard(ctx, 1, || {
        par_for(ctx, body, env, n, nred, red_ops, red_types, red_io, 1)
    })
}

/// [`kiln_par_for`] for a body that runs `granule` iterations per step (vector lanes):
/// chunks hold at least that many iterations where the loop has them, so that short chunks
/// do not leave lanes empty. The partition is still fixed by `n`, the thread count and
/// `granule`.
///
/// # Safety
/// As [`kiln_par_for`].
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kiln_par_for_lanes(
    ctx: *mut ExecCtx,
    body: ParBody,
    env: *const u64,
    n: i64,
    nred: i64,
    red_ops: *const i64,
    red_types: *const i64,
    red_io: *mut u64,
    granule: i64,
) -> i64 {
    guard(ctx, 1, || {
        par_for(
            ctx,
            body,
            env,
            n,
            nred,
            red_ops,
            red_types,
            red_io,
            granule.max(1) as u64,
        )
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn par_for(
    ctx: *mut ExecCtx,
    body: ParBody,
    env: *const u64,
    n: i64,
    nred: i64,
    red_ops: *const i64,
    red_types: *const i64,
    red_io: *mut u64,
    granule: u64,
) -> KResult<i64> {
    if ctx.is_null() {
        return err(ErrorKind::InternalError, "parallel loop without a context");
    }
    if n <= 0 {
        return Ok(0);
    }
    LOOPS_STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nred = nred.max(0) as usize;
    let (ops, tys): (&[i64], &[i64]) = if nred == 0 {
        (&[], &[])
    } else {
        (
            std::slice::from_raw_parts(red_ops, nred),
            std::slice::from_raw_parts(red_types, nred),
        )
    };
    for r in 0..nred {
        check_red(ops[r], tys[r])?;
    }
    // Word offset of each reduction, and one chunk's initial buffer.
    let mut init: Vec<u64> = Vec::new();
    let mut offs = Vec::with_capacity(nred);
    for r in 0..nred {
        offs.push(init.len());
        let id = identity(ops[r], tys[r]);
        init.extend_from_slice(&id[..words_of(tys[r])]);
    }
    let nwords = init.len();

    let pool = pool().map_err(|e| (ErrorKind::InternalError, e))?;
    let nchunks = (n as u64)
        .div_ceil(granule)
        .min((pool.current_num_threads() * CHUNKS_PER_THREAD) as u64) as usize;
    let nchunks = nchunks.max(1);
    let mut partials: Vec<u64> = Vec::with_capacity(nchunks * nwords);
    for _ in 0..nchunks {
        partials.extend_from_slice(&init);
    }

    // The outermost loop running: the progress line follows its chunks.
    let progress = (*ctx).progress.as_ref().filter(|p| p.claim(n));
    let (interrupt, max_depth) = ((*ctx).interrupt_flag(), (*ctx).max_depth);
    let consts = (*ctx).consts as usize;
    // Text already printed on this line goes out first, so chunks' lines follow it.
    (*ctx).flush();
    // SAFETY: the parent's thread is blocked in this call until every chunk has finished,
    // and the mutex serialises the workers' writes, so this is the only access.
    let parent = Arc::new(Mutex::new(Shared(ctx)));
    let abort = AtomicBool::new(false);
    let first_err: Mutex<Option<(usize, RuntimeError)>> = Mutex::new(None);
    // SAFETY: chunk k writes only words [k*nwords, (k+1)*nwords) of `partials`.
    let parts = Shared(partials.as_mut_ptr());
    let env = Shared(env);

    let run_chunk = |k: usize| {
        let parent = parent.clone();
        let out: crate::ctx::OutputFn = Box::new(move |s: Stream, t: &str| {
            let g = parent.lock().unwrap_or_else(|e| e.into_inner());
            // SAFETY: see `parent` above.
            unsafe { (*g.get()).write(s, t) };
        });
        let mut child = Box::new(ExecCtx::new(interrupt.clone(), max_depth, out));
        child.consts = consts as *const u64;
        child.in_parallel_loop = true;
        let lo = (k as u128 * n as u128 / nchunks as u128) as i64;
        let hi = ((k as u128 + 1) * n as u128 / nchunks as u128) as i64;
        // SAFETY: chunk k owns its words of `partials`; `env` outlives the loop.
        unsafe {
            let buf = parts.get().add(k * nwords);
            body(&mut *child, env.get(), lo, hi, buf);
        }
        child.flush();
        if let Some(p) = progress {
            p.advance(hi - lo);
        }
        if child.err != 0 {
            abort.store(true, Ordering::Relaxed);
            let e = child.take_error().unwrap_or(RuntimeError {
                kind: ErrorKind::InternalError,
                message: "error flag set without an error".into(),
                sites: Vec::new(),
            });
            let mut fe = first_err.lock().unwrap_or_else(|e| e.into_inner());
            if fe.as_ref().is_none_or(|(j, _)| k < *j) {
                *fe = Some((k, e));
            }
        }
    };
    // Chunks go to whichever thread asks next (dynamic scheduling, as OpenMP's
    // `schedule(dynamic)`). The calling thread takes chunks too, so the loop starts at once
    // and only `threads - 1` workers have to be woken.
    let next = AtomicUsize::new(0);
    let take_chunks = || loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        if k >= nchunks || abort.load(Ordering::Relaxed) {
            break;
        }
        run_chunk(k);
    };
    let helpers = pool.current_num_threads().min(nchunks).saturating_sub(1);
    pool.in_place_scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| take_chunks());
        }
        take_chunks();
    });

    if let Some(p) = progress {
        p.release();
    }
    if let Some((_, e)) = first_err.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let c = &mut *ctx;
        if c.err == 0 {
            c.err = 1;
            c.error = Some(e);
        }
        return Ok(1);
    }
    if nwords > 0 {
        let io = std::slice::from_raw_parts_mut(red_io, nwords);
        for k in 0..nchunks {
            let part = &partials[k * nwords..(k + 1) * nwords];
            for r in 0..nred {
                let w = words_of(tys[r]);
                let o = offs[r];
                combine(ops[r], tys[r], &mut io[o..o + w], &part[o..o + w]);
            }
        }
    }
    Ok(0)
}
