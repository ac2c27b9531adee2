//! What running a cell produces — the output it sends while it runs, its result or error,
//! where its time went — and the compiler stages a cell can be printed at. The session makes
//! these and the magics and the front ends read them; none of them needs the session itself.

use kiln_runtime::Value;

/// Something a running cell sends out before it finishes.
pub enum Output {
    Stdout(String),
    Stderr(String),
    /// `display(v)`
    Display(Value),
    /// `clear_output(wait=...)`
    ClearOutput {
        wait: bool,
    },
    /// A picture (`imshow`): PNG bytes, with its title if one was given.
    Image {
        png: Vec<u8>,
        title: Option<String>,
    },
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

/// Where the time of the last cell went, in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    pub parse_ms: f64,
    pub check_ms: f64,
    pub lower_ms: f64,
    pub codegen_ms: f64,
    pub run_ms: Vec<f64>,
}

impl Timings {
    /// Source to machine code.
    pub fn compile_ms(&self) -> f64 {
        self.parse_ms + self.check_ms + self.lower_ms + self.codegen_ms
    }
}

/// What to print instead of running (`kiln run --emit`, `%ir`, `%clif`, `%asm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Tokens,
    Ast,
    Ir,
    Clif,
    Asm,
}
