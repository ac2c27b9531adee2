//! Kiln's compiler: source → tokens → AST → types → loop IR → Cranelift machine code.

pub mod diag;
pub mod session;
pub mod syntax;

pub use session::{CellError, Completion, ExecResult, Output, Session};
