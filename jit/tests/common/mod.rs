//! Helpers shared by the session-level test files: run a cell that must succeed or fail,
//! collecting what it printed.
#![allow(dead_code)]

use kiln_jit::{CellError, ExecResult, Output, Session};
use kiln_runtime::repr_value;

/// Run a cell and collect its stdout.
fn run(s: &mut Session, code: &str) -> (String, ExecResult) {
    let mut out = String::new();
    let r = s.execute(code, &mut |o| {
        if let Output::Stdout(t) = o {
            out.push_str(&t)
        }
    });
    (out, r)
}

/// Run a cell that must succeed; returns its stdout and its result's repr.
pub fn ok(s: &mut Session, code: &str) -> (String, Option<String>) {
    match run(s, code) {
        (out, ExecResult::Ok(v)) => (out, v.as_ref().map(repr_value)),
        (_, ExecResult::Err(e)) => panic!(
            "cell should run:\n{code}\n{}: {}\n{}",
            e.ename,
            e.evalue,
            e.traceback.join("\n")
        ),
    }
}

/// Run a cell that must fail; returns what it printed and the error.
pub fn err(s: &mut Session, code: &str) -> (String, CellError) {
    match run(s, code) {
        (out, ExecResult::Ok(v)) => panic!(
            "cell should fail:\n{code}\nbut gave {:?} and printed {out:?}",
            v.as_ref().map(repr_value)
        ),
        (out, ExecResult::Err(e)) => (out, e),
    }
}

/// Ends the test process if an interrupted loop never stops (2 minutes): a guard against a
/// hang, not a timing assertion. The test sets the returned flag once the cell has returned.
pub fn hang_guard(test: &'static str) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let d2 = done.clone();
    std::thread::spawn(move || {
        for _ in 0..600 {
            std::thread::sleep(std::time::Duration::from_millis(200));
            if d2.load(Ordering::Relaxed) {
                return;
            }
        }
        eprintln!("{test}: the loop was never interrupted");
        std::process::exit(3);
    });
    done
}
