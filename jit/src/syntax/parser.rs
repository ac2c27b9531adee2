//! Recursive-descent parser (stub until implemented).
use crate::diag::Diagnostic;
use crate::syntax::ast::Module;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// More lines are needed; the indent to use for the next line.
    Incomplete(String),
    Invalid,
}

pub fn parse(src: &str) -> (Module, Vec<Diagnostic>) {
    let _ = src;
    (Module { body: Vec::new() }, Vec::new())
}

pub fn is_complete(src: &str) -> Completeness {
    let _ = src;
    Completeness::Complete
}
