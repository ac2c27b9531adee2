//! Backends: the typed loop IR to machine code (Cranelift) and, for `@gpu` loops, to OpenCL
//! C. Both read the same IR.

mod chunks;
pub mod clif;
mod inline;
pub mod lanes;
pub mod opencl;
mod prune;
pub mod support;
mod versioning;
pub(crate) mod walk;

pub use clif::{compile, Compiled, Options};
