//! N-dimensional arrays as compiled code sees them.
//!
//! Layout contract with the JIT (byte offsets, all fields 8 bytes): compiled code reads
//! `data`, `ndim`, `shape[k]` and `strides[k]` directly and calls into this crate for
//! anything that allocates or frees. Strides are in *elements*, not bytes. The first two
//! words (`refcount`, `kind`) are shared with every heap object (see [`crate::obj`]).

use std::sync::atomic::AtomicI64;

/// Element types of arrays (and their codes in the ABI).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum DType {
    Bool = 0,
    I64 = 1,
    F64 = 2,
    F32 = 3,
    C128 = 4,
}

impl DType {
    pub fn size(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I64 | DType::F64 => 8,
            DType::F32 => 4,
            DType::C128 => 16,
        }
    }
    pub fn from_i64(v: i64) -> DType {
        match v {
            0 => DType::Bool,
            1 => DType::I64,
            2 => DType::F64,
            3 => DType::F32,
            _ => DType::C128,
        }
    }
    /// NumPy's name (`float64`), as `a.dtype` prints it.
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I64 => "int64",
            DType::F64 => "float64",
            DType::F32 => "float32",
            DType::C128 => "complex128",
        }
    }
}

pub const MAX_NDIM: usize = 4;

/// Heap object kinds stored in the `kind` word.
pub const KIND_ARRAY: i64 = 1;
pub const KIND_STR: i64 = 2;

#[repr(C)]
pub struct Array {
    pub refcount: AtomicI64,      // 0
    pub kind: i64,                // 8  (KIND_ARRAY)
    pub data: *mut u8,            // 16
    pub ndim: i64,                // 24
    pub dtype: i64,               // 32
    pub size: i64,                // 40  number of elements
    pub shape: [i64; MAX_NDIM],   // 48
    pub strides: [i64; MAX_NDIM], // 80  in elements
    /// The array that owns `data` when this one is a view (holds one reference), else null.
    pub base: *mut Array, // 112
    /// Bytes allocated for `data` when this array owns it (0 for views).
    pub alloc_bytes: i64, // 120
    /// Set (to 1) by every host-side write into this array's elements when it owns them
    /// (a view's writes set its base's): compiled stores, slice assignment, runtime functions
    /// that write. The OpenCL runtime clears it when the device copy equals the host's, so
    /// a device copy is reused exactly while this stays 0.
    /// `HOST_WRITTEN_NOTHING_TO_UPLOAD` marks a new array whose contents a kernel is about to
    /// write whole: its first device copy is made without copying the host's zeros.
    pub host_written: i64, // 128
}

/// See [`Array::host_written`].
pub const HOST_WRITTEN_NOTHING_TO_UPLOAD: i64 = 2;

pub const ARRAY_DATA_OFFSET: i32 = 16;
pub const ARRAY_NDIM_OFFSET: i32 = 24;
pub const ARRAY_DTYPE_OFFSET: i32 = 32;
pub const ARRAY_SIZE_OFFSET: i32 = 40;
pub const ARRAY_SHAPE_OFFSET: i32 = 48;
pub const ARRAY_STRIDES_OFFSET: i32 = 80;
pub const ARRAY_BASE_OFFSET: i32 = 112;
pub const ARRAY_HOST_WRITTEN_OFFSET: i32 = 128;
