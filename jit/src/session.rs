//! The session: the one API the CLI, the REPL and the Jupyter kernel use.

use kiln_runtime::Value;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Something a running cell sends out before it finishes.
pub enum Output {
    Stdout(String),
    Stderr(String),
    /// `display(v)`
    Display(Value),
    /// `clear_output(wait=...)`
    ClearOutput { wait: bool },
}

/// A failed cell: Python's exception name, its message, and the rendered report.
#[derive(Clone, Debug)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    /// The report as lines of plain text (source line, caret, call chain, hint).
    pub traceback: Vec<String>,
}

pub enum ExecResult {
    /// The cell ran; its result value if its last statement was a non-None expression.
    Ok(Option<Value>),
    Err(CellError),
}

pub struct Completion {
    pub matches: Vec<String>,
    pub cursor_start: usize,
    pub cursor_end: usize,
}

pub struct Session {
    interrupt: Arc<AtomicBool>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    pub fn new() -> Session {
        Session {
            interrupt: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Setting this flag (from any thread) stops the running cell with KeyboardInterrupt.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// Compile and run one cell. `sink` receives output while the cell runs (on the calling
    /// thread). Never panics and never ends the process, whatever the cell does.
    pub fn execute(&mut self, code: &str, sink: &mut dyn FnMut(Output)) -> ExecResult {
        let _ = (code, sink);
        ExecResult::Ok(None)
    }

    /// Forget every global and function.
    pub fn reset(&mut self) {}

    /// Completions at byte offset `cursor` of `code`.
    pub fn complete(&self, code: &str, cursor: usize) -> Completion {
        Completion {
            matches: Vec::new(),
            cursor_start: cursor.min(code.len()),
            cursor_end: cursor.min(code.len()),
        }
    }

    /// Help text for the name at `cursor` (signature and doc, or type and shape of a global).
    pub fn inspect(&self, code: &str, cursor: usize) -> Option<String> {
        let _ = (code, cursor);
        None
    }

    /// Globals as (name, type, shape-or-value summary) for `%who`.
    pub fn globals(&self) -> Vec<(String, String, String)> {
        Vec::new()
    }
}
