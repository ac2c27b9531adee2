//! Kiln's compiler: source → tokens → AST → types → loop IR → Cranelift machine code.
//!
//! The pipeline, one module per pass: [`syntax`] (lexer, parser), [`lower`] (type inference
//! and lowering, run to a fixpoint), [`ir`] (the typed loop IR, its printer and verifier),
//! [`codegen`] (Cranelift), and [`session`], which strings them together for a notebook.

pub mod builtins;
pub mod codegen;
pub mod compare;
pub mod diag;
pub mod disasm;
pub mod ffi;
pub mod ir;
pub mod lower;
pub mod magics;
pub mod outcome;
pub mod parallel;
pub mod plot;
pub mod report;
pub mod session;
pub mod shell;
pub mod stack;
pub mod syntax;
pub mod types;

pub use session::{
    CellError, Completion, ExecResult, Output, ProgressLine, Session, Stage, Timings,
};
