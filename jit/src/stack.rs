//! The compiler's own thread, with a stack sized for the deepest tree a cell may build.
//!
//! Every pass after the parser (lowering, the IR verifier and printer, codegen, the OpenCL
//! emitter, dropping the trees) recurses once per level of nesting. The parser bounds that
//! depth (`syntax::parser::MAX_DEPTH`), but the threads that call the compiler are not ours to size:
//! a Jupyter shell thread, a REPL, a test harness thread has 2 or 8 MiB, which a few
//! thousand levels of lowering can use up — and a stack overflow aborts the process. So the
//! session runs each compile on a thread of its own with `COMPILE_STACK_BYTES` of stack. The
//! memory is reserved, not committed: only the pages a deep cell touches are ever mapped,
//! and each calling thread keeps its compiler thread, so a compile pays only the hand-over.

/// 256 MiB: compiling and printing `MAX_DEPTH`-deep cells (a `+` chain, unary minus signs,
/// a function body, a `@gpu` loop) touched 4.6 MiB of it, so this is a wide margin.
pub const COMPILE_STACK_BYTES: usize = 256 << 20;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::mpsc::{channel, Receiver, Sender};

/// A job for the compiler's thread: the caller's closure, its borrows' lifetime erased. The
/// compiler's data (`Rc` types and trees) is not `Send` either, but the calling thread waits,
/// doing nothing, until the job has finished, so nothing is touched by two threads at once,
/// and the channel orders every access on the compiler's thread before the caller's next.
struct Job(*mut (dyn FnMut() + 'static));
// SAFETY: see above; `on_compiler_stack` waits for the job's end before its borrows end.
unsafe impl Send for Job {}

type Finished = Result<(), Box<dyn Any + Send>>;

/// A calling thread's compiler thread, kept while the caller lives, so a thread with a big
/// stack is not mapped, started and unmapped for every cell.
struct Worker {
    jobs: Sender<Job>,
    finished: Receiver<Finished>,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
    /// True on a compiler thread: a nested call runs in place.
    static ON_COMPILER_STACK: Cell<bool> = const { Cell::new(false) };
}

fn start_worker() -> Option<Worker> {
    let (jobs, inbox) = channel::<Job>();
    let (outbox, finished) = channel::<Finished>();
    std::thread::Builder::new()
        .name("kiln-compile".into())
        .stack_size(COMPILE_STACK_BYTES)
        .spawn(move || {
            ON_COMPILER_STACK.with(|c| c.set(true));
            // Ends when the calling thread ends (its `Worker`, and so `jobs`, is dropped).
            for job in inbox {
                // SAFETY: the caller keeps the closure alive until it reads `finished`.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
                    (*job.0)()
                }));
                if outbox.send(r).is_err() {
                    break;
                }
            }
        })
        .ok()?;
    Some(Worker { jobs, finished })
}

/// Run `f` on the calling thread's compiler thread (a `COMPILE_STACK_BYTES` stack) and wait
/// for its result. A panic in `f` resumes on the caller (whose `catch_unwind` reports it).
/// On a compiler thread already, or where no thread can be started, `f` runs in place.
pub fn on_compiler_stack<R>(f: impl FnOnce() -> R) -> R {
    if ON_COMPILER_STACK.with(|c| c.get()) {
        return f();
    }
    let mut job = Some(f);
    let mut result: Option<R> = None;
    let mut run = || {
        if let Some(f) = job.take() {
            result = Some(f());
        }
    };
    let erased: *mut (dyn FnMut() + '_) = &mut run;
    // SAFETY: only the lifetime changes; the job is finished before `run` goes out of scope.
    let erased: *mut (dyn FnMut() + 'static) = unsafe { std::mem::transmute(erased) };
    let finished = WORKER.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_none() {
            *w = start_worker();
        }
        let worker = w.as_ref()?;
        if worker.jobs.send(Job(erased)).is_err() {
            *w = None;
            return None;
        }
        // The worker answers every job it took (a panic is caught there).
        match worker.finished.recv() {
            Ok(r) => Some(r),
            Err(_) => {
                *w = None;
                None
            }
        }
    });
    if let Some(Err(panic)) = finished {
        std::panic::resume_unwind(panic);
    }
    // Without a compiler thread the job has not run yet: run it here.
    run();
    result.expect("the job ran")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_result_and_runs_on_a_big_stack() {
        let name = on_compiler_stack(|| std::thread::current().name().map(String::from));
        assert_eq!(name.as_deref(), Some("kiln-compile"));
        // 64 MiB of frames would overflow any default stack.
        fn deep(n: u32) -> u32 {
            let pad = std::hint::black_box([0u8; 1024]);
            if n == 0 {
                pad[0] as u32
            } else {
                deep(n - 1) + pad[1] as u32
            }
        }
        assert_eq!(on_compiler_stack(|| deep(64 * 1024)), 0);
    }

    #[test]
    fn a_panic_reaches_the_caller_and_the_next_job_runs() {
        let r = std::panic::catch_unwind(|| on_compiler_stack(|| panic!("boom")));
        assert!(r.is_err());
        let borrowed = [1, 2, 3];
        assert_eq!(on_compiler_stack(|| borrowed.iter().sum::<i32>()), 6);
        // A nested call runs in place instead of waiting for itself.
        assert_eq!(on_compiler_stack(|| on_compiler_stack(|| 7)), 7);
    }
}
