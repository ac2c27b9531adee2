//! The compiler's own thread, with a stack sized for the deepest tree a cell may build.
//!
//! Every pass after the parser (lowering, the IR verifier and printer, codegen, the OpenCL
//! emitter, dropping the trees) recurses once per level of nesting. The parser bounds that
//! depth (`syntax::MAX_DEPTH`), but the threads that call the compiler are not ours to size:
//! a Jupyter shell thread, a REPL, a test harness thread has 2 or 8 MiB, which a few
//! thousand levels of lowering can use up — and a stack overflow aborts the process. So the
//! session runs each compile on a fresh thread with `COMPILE_STACK_BYTES` of stack. The
//! memory is reserved, not committed: only the pages a deep cell touches are ever mapped,
//! and starting the thread costs tens of microseconds (`jit/tests/depth.rs` measures it).

/// 256 MiB: `MAX_DEPTH` levels take a few MiB in every pass, so this leaves a wide margin.
pub const COMPILE_STACK_BYTES: usize = 256 << 20;

/// Moves a value across to the compiler's thread and back. The compiler's data (`Rc`
/// types and trees) is not `Send`, but the calling thread waits, doing nothing, until the
/// compiler's thread has ended, so no value is ever touched by two threads at once, and
/// the join orders every access on the compiler's thread before the caller's next one.
struct Handoff<T>(T);
// SAFETY: see above; `on_compiler_stack` is the only user, and it joins before returning.
unsafe impl<T> Send for Handoff<T> {}

/// Run `f` on a thread with a `COMPILE_STACK_BYTES` stack and wait for its result. A panic
/// in `f` resumes on the caller (whose `catch_unwind` reports it). Where no thread can be
/// started, `f` runs on the caller's own stack.
pub fn on_compiler_stack<R>(f: impl FnOnce() -> R) -> R {
    let mut job = Some(f);
    let mut result: Option<R> = None;
    let slots = Handoff((&mut job, &mut result));
    let outcome = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("kiln-compile".into())
            .stack_size(COMPILE_STACK_BYTES)
            .spawn_scoped(scope, move || {
                let slots = slots;
                let (job, result) = slots.0;
                if let Some(f) = job.take() {
                    *result = Some(f());
                }
            });
        worker.map(|w| w.join())
    });
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // No thread: `job` is still ours.
        Err(_) => {}
    }
    match result {
        Some(r) => r,
        None => (job.take().expect("the job ran or is still here"))(),
    }
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
    fn a_panic_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| on_compiler_stack(|| panic!("boom")));
        assert!(r.is_err());
    }
}
