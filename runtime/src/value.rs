//! Values as the outside world sees them: a cell's result, a global, a displayed object.

use crate::array::Array;

/// An owned reference to a runtime array (holds one reference count).
pub struct ArrayRef(pub *mut Array);
unsafe impl Send for ArrayRef {}

#[derive(Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    F32(f32),
    Complex(f64, f64),
    Str(String),
    Array(std::sync::Arc<ArrayRef>),
    Tuple(Vec<Value>),
}
