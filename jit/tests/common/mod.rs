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
