//! Backends: the typed loop IR to machine code (Cranelift). The OpenCL C backend will sit
//! beside it and read the same IR.

pub mod clif;
mod inline;
mod prune;
pub mod support;
mod versioning;
mod walk;

pub use clif::{compile, Compiled, Options};
