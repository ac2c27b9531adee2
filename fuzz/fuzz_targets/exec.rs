//! Whole cells run in a session, one after another: whatever they do, the process must
//! survive, and every failure must be a Python error. An `InternalError` (a compiler panic
//! the session caught) counts as a crash here: it is a bug in Kiln even though the session
//! survives it.
//!
//! Generated programs are bounded by construction; mutated real cells need not be, so a
//! watchdog interrupts any cell still running after `CELL_LIMIT`, as the kernel's interrupt
//! would (KeyboardInterrupt is a Python error like any other).
//!
//! Nothing a cell made outlives the session's globals: after the cells and a `%reset`, the
//! runtime's live-object count is back where it started (a failing cell once leaked its
//! temporaries).
#![no_main]

use kiln_jit::{ExecResult, Session};
use libfuzzer_sys::fuzz_target;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const CELL_LIMIT: Duration = Duration::from_millis(300);

/// The running cell's deadline and interrupt flag, watched by one thread for the whole run.
type Deadline = Mutex<Option<(Instant, Arc<AtomicBool>)>>;

fn watchdog() -> &'static Deadline {
    static DEADLINE: OnceLock<&'static Deadline> = OnceLock::new();
    DEADLINE.get_or_init(|| {
        let deadline: &'static Deadline = Box::leak(Box::new(Mutex::new(None)));
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(20));
            if let Some((at, flag)) = &*deadline.lock().unwrap() {
                if Instant::now() > *at {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        });
        deadline
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(cells) = kiln_fuzz::cells(data) else {
        return;
    };
    let live_before = kiln_runtime::live_objects();
    let mut session = Session::new();
    for cell in &cells {
        if cell.lines().any(|l| l.trim_start().starts_with('%')) || cell.contains("@gpu") {
            // Magics (`%timeit`, `%%compare`, `%bounds off`) are tested on their own; here
            // they would only repeat cells or turn the bounds checks off. `@gpu` loops spend
            // seconds in the OpenCL compiler, where no interrupt reaches.
            continue;
        }
        *watchdog().lock().unwrap() =
            Some((Instant::now() + CELL_LIMIT, session.interrupt_handle()));
        let result = session.execute(cell, &mut |_| {});
        *watchdog().lock().unwrap() = None;
        if let ExecResult::Err(e) = result {
            assert_ne!(e.ename, "InternalError", "{}\n--- cell:\n{cell}", e.evalue);
        }
    }
    let _ = session.execute("%reset\n", &mut |_| {});
    drop(session);
    let leaked = kiln_runtime::live_objects() as i64 - live_before as i64;
    assert_eq!(leaked, 0, "objects left alive after %reset; cells:\n{}", cells.join("\n# ---\n"));
});
