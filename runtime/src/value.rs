//! Values as the outside world sees them: a cell's result, a global, a displayed object.

use crate::array::{Array, DType};
use crate::obj::{kiln_decref, kiln_incref};
use crate::{npprint, pyfmt};

/// An owned reference to a runtime array (holds one reference count, released on drop).
pub struct ArrayRef(pub *mut Array);

// SAFETY: the reference count is atomic and the runtime never mutates an array's header
// after creation; element data may be read from any thread (writes are the compiled
// code's business, as with NumPy arrays shared between threads).
unsafe impl Send for ArrayRef {}
unsafe impl Sync for ArrayRef {}

impl ArrayRef {
    /// Takes over a reference the caller already owns (e.g. a fresh array).
    /// # Safety
    /// `a` must be a live array whose reference is transferred.
    pub unsafe fn from_owned(a: *mut Array) -> ArrayRef {
        ArrayRef(a)
    }

    /// Takes a new reference (increments the count).
    /// # Safety
    /// `a` must be a live array.
    pub unsafe fn from_borrowed(a: *mut Array) -> ArrayRef {
        kiln_incref(a as *mut u8);
        ArrayRef(a)
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> *mut Array {
        self.0
    }

    /// Gives up ownership without decrementing; the caller now owns the reference.
    pub fn into_raw(self) -> *mut Array {
        let p = self.0;
        std::mem::forget(self);
        p
    }

    fn arr(&self) -> &Array {
        // SAFETY: `self` holds a reference, so the array is alive.
        unsafe { &*self.0 }
    }

    pub fn dtype(&self) -> DType {
        DType::from_i64(self.arr().dtype)
    }

    pub fn ndim(&self) -> usize {
        self.arr().ndim.clamp(0, crate::array::MAX_NDIM as i64) as usize
    }

    pub fn shape(&self) -> &[i64] {
        let n = self.ndim();
        &self.arr().shape[..n]
    }

    /// Strides in elements.
    pub fn strides(&self) -> &[i64] {
        let n = self.ndim();
        &self.arr().strides[..n]
    }

    pub fn size(&self) -> usize {
        self.shape().iter().product::<i64>().max(0) as usize
    }

    pub fn data_ptr(&self) -> *const u8 {
        self.arr().data
    }

    /// Bytes the elements take (`a.nbytes`).
    pub fn nbytes(&self) -> usize {
        self.size() * self.dtype().size()
    }

    /// Element offsets in C order (in elements).
    fn offsets(&self) -> Vec<isize> {
        let w = self.dtype().size() as isize;
        // SAFETY: live array.
        unsafe { crate::array_ops::element_offsets(self.0) }
            .into_iter()
            .map(|o| o / w)
            .collect()
    }

    /// All elements in C order as f64 (complex: the real part; bool: 0/1).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        let d = self.data_ptr();
        let dt = self.dtype();
        // SAFETY: offsets come from the array's own shape and strides.
        self.offsets()
            .into_iter()
            .map(|o| unsafe {
                match crate::nd::read_e(dt, d.offset(o * dt.size() as isize)) {
                    crate::nd::E::B(b) => b as i64 as f64,
                    crate::nd::E::I(v) => v as f64,
                    crate::nd::E::F(v) => v,
                    crate::nd::E::S(v) => v as f64,
                    crate::nd::E::C(r, _) => r,
                }
            })
            .collect()
    }

    /// All elements in C order as i64 (floats truncate as C casts).
    pub fn to_i64_vec(&self) -> Vec<i64> {
        let d = self.data_ptr();
        let dt = self.dtype();
        if dt.is_int() {
            // SAFETY: as above.
            return self
                .offsets()
                .into_iter()
                .map(|o| unsafe { dt.read_int(d.offset(o * dt.size() as isize)) })
                .collect();
        }
        self.to_f64_vec()
            .into_iter()
            .map(crate::array_ops::f64_to_i64_c)
            .collect()
    }

    /// All elements in C order as (re, im).
    pub fn to_c128_vec(&self) -> Vec<(f64, f64)> {
        let d = self.data_ptr();
        if self.dtype() == DType::C128 {
            // SAFETY: as above.
            return self
                .offsets()
                .into_iter()
                .map(|o| unsafe {
                    let p = (d as *const f64).offset(2 * o);
                    (*p, *p.add(1))
                })
                .collect();
        }
        self.to_f64_vec().into_iter().map(|v| (v, 0.0)).collect()
    }

    /// NumPy's `repr(a)`.
    pub fn repr(&self) -> String {
        // SAFETY: live array.
        unsafe { npprint::array_repr(self.0) }
    }

    /// NumPy's `str(a)`.
    pub fn str(&self) -> String {
        // SAFETY: live array.
        unsafe { npprint::array_str(self.0) }
    }
}

impl Clone for ArrayRef {
    fn clone(&self) -> ArrayRef {
        // SAFETY: `self` keeps the array alive while we take another reference.
        unsafe { ArrayRef::from_borrowed(self.0) }
    }
}

impl Drop for ArrayRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { kiln_decref(self.0 as *mut u8) }
    }
}

impl std::fmt::Debug for ArrayRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.repr())
    }
}

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
    /// A list's elements when it was read (a copy: the list itself stays shared).
    List(Vec<Value>),
    /// A dtype (`a.dtype`, or NumPy's scalar type `np.float32` when `class`).
    DType {
        name: &'static str,
        class: bool,
    },
    /// A value shown by a fixed text, as Python shows an object (`<CDLL ...>`).
    Opaque(String),
}

/// What a notebook shows as `Out[n]`: Python's repr for scalars, strings and tuples,
/// NumPy's repr for arrays.
pub fn repr_value(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) => pyfmt::float_repr(*x),
        // NumPy 2 would say np.float32(0.1); Kiln shows scalars as plain numbers.
        Value::F32(x) => pyfmt::f32_repr(*x),
        Value::Complex(r, i) => pyfmt::complex_repr(*r, *i),
        Value::Str(s) => pyfmt::str_repr(s),
        Value::Opaque(s) => s.clone(),
        Value::Array(a) => a.repr(),
        Value::Tuple(items) => tuple_text(items, repr_value),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(repr_value).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::DType { name, class: true } => format!("<class 'numpy.{name}'>"),
        Value::DType { name, .. } => format!("dtype('{name}')"),
    }
}

/// What `print(v)` shows.
pub fn str_value(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Array(a) => a.str(),
        Value::DType { name, class: false } => name.to_string(),
        // Python prints a tuple's items with repr even under str().
        _ => repr_value(v),
    }
}

fn tuple_text(items: &[Value], f: fn(&Value) -> String) -> String {
    let parts: Vec<String> = items.iter().map(f).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}
