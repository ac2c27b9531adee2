//! Kiln's runtime: what compiled code calls into. Arrays, strings, printing and formatting,
//! math that Cranelift has no instruction for, and the execution context. It knows nothing
//! of the compiler or of Jupyter.

pub mod array;
pub mod ctx;
pub mod error;
pub mod value;

pub use array::{Array, DType};
pub use ctx::{ExecCtx, Stream};
pub use error::{ErrorKind, RuntimeError};
pub use value::Value;
