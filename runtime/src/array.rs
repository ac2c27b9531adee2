//! N-dimensional arrays as compiled code sees them.
//!
//! Layout contract with the JIT (byte offsets, all fields 8 bytes): compiled code reads
//! `data`, `ndim`, `shape[k]` and `strides[k]` directly and calls into this crate for
//! anything that allocates or frees. Strides are in *elements*, not bytes. The first two
//! words (`refcount`, `kind`) are shared with every heap object (see [`crate::obj`]).

use std::sync::atomic::AtomicI64;

/// Element types of arrays (and their codes in the ABI).
///
/// The narrow integers (`I8` ... `U32`) are storage types: an element read from one is an
/// int64 in compiled code (as Numba computes small integers), and a store wraps the value
/// to the element's width as NumPy's casts do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum DType {
    Bool = 0,
    I64 = 1,
    F64 = 2,
    F32 = 3,
    C128 = 4,
    I8 = 5,
    I16 = 6,
    I32 = 7,
    U8 = 8,
    U16 = 9,
    U32 = 10,
}

impl DType {
    pub const ALL: [DType; 11] = [
        DType::Bool,
        DType::I64,
        DType::F64,
        DType::F32,
        DType::C128,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::U8,
        DType::U16,
        DType::U32,
    ];
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::I64 | DType::F64 => 8,
            DType::C128 => 16,
        }
    }
    pub fn from_i64(v: i64) -> DType {
        DType::ALL.get(v as usize).copied().unwrap_or(DType::C128)
    }
    /// NumPy's name (`float64`), as `a.dtype` prints it.
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I64 => "int64",
            DType::F64 => "float64",
            DType::F32 => "float32",
            DType::C128 => "complex128",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
        }
    }
    /// A narrow integer type: `(bits, signed)`.
    pub fn narrow_int(self) -> Option<(u32, bool)> {
        Some(match self {
            DType::I8 => (8, true),
            DType::I16 => (16, true),
            DType::I32 => (32, true),
            DType::U8 => (8, false),
            DType::U16 => (16, false),
            DType::U32 => (32, false),
            _ => return None,
        })
    }
    /// Any integer type (not bool).
    pub fn is_int(self) -> bool {
        self == DType::I64 || self.narrow_int().is_some()
    }
    /// `v` wrapped to this integer type's width, as NumPy's cast from int64 does
    /// (other types: `v` unchanged).
    pub fn wrap(self, v: i64) -> i64 {
        match self {
            DType::I8 => v as i8 as i64,
            DType::I16 => v as i16 as i64,
            DType::I32 => v as i32 as i64,
            DType::U8 => v as u8 as i64,
            DType::U16 => v as u16 as i64,
            DType::U32 => v as u32 as i64,
            _ => v,
        }
    }
    /// NumPy's result type of two arrays' dtypes (`np.result_type`): bool yields to the
    /// other; a float32 with an integer of more than 16 bits widens to float64; a signed and
    /// an unsigned integer meet in a signed type wide enough for both.
    pub fn promote(a: DType, b: DType) -> DType {
        use DType::*;
        if a == b {
            return a;
        }
        match (a, b) {
            (Bool, x) | (x, Bool) => x,
            (C128, _) | (_, C128) => C128,
            (F64, _) | (_, F64) => F64,
            (F32, x) | (x, F32) => {
                if x.size() <= 2 {
                    F32
                } else {
                    F64
                }
            }
            _ => {
                let bits = |d: DType| d.narrow_int().unwrap_or((64, true));
                let ((ba, sa), (bb, sb)) = (bits(a), bits(b));
                let (n, signed) = if sa == sb {
                    (ba.max(bb), sa)
                } else {
                    let (s, u) = if sa { (ba, bb) } else { (bb, ba) };
                    (if s > u { s } else { (2 * u).min(64) }, true)
                };
                DType::int_of(n, signed)
            }
        }
    }
    /// The integer type of `bits` bits.
    pub fn int_of(bits: u32, signed: bool) -> DType {
        match (bits, signed) {
            (8, true) => DType::I8,
            (16, true) => DType::I16,
            (32, true) => DType::I32,
            (8, false) => DType::U8,
            (16, false) => DType::U16,
            (32, false) => DType::U32,
            _ => DType::I64,
        }
    }
    /// The integer element at `p` of this (integer or bool) type, widened to int64.
    /// # Safety
    /// `p` points at an element of this type.
    pub unsafe fn read_int(self, p: *const u8) -> i64 {
        match self {
            DType::Bool | DType::I8 => {
                if self == DType::Bool {
                    (*p != 0) as i64
                } else {
                    *p as i8 as i64
                }
            }
            DType::U8 => *p as i64,
            DType::I16 => (p as *const i16).read_unaligned() as i64,
            DType::U16 => (p as *const u16).read_unaligned() as i64,
            DType::I32 => (p as *const i32).read_unaligned() as i64,
            DType::U32 => (p as *const u32).read_unaligned() as i64,
            _ => (p as *const i64).read_unaligned(),
        }
    }
    /// The smallest and largest values of an integer type.
    pub fn int_range(self) -> Option<(i64, i64)> {
        match self {
            DType::I64 => Some((i64::MIN, i64::MAX)),
            d => d.narrow_int().map(|(bits, signed)| {
                if signed {
                    (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
                } else {
                    (0, (1i64 << bits) - 1)
                }
            }),
        }
    }
}

/// The narrow integer dtypes, as a pattern.
#[macro_export]
macro_rules! narrow_ints {
    () => {
        $crate::DType::I8
            | $crate::DType::I16
            | $crate::DType::I32
            | $crate::DType::U8
            | $crate::DType::U16
            | $crate::DType::U32
    };
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

/// Notes a runtime write into `a`'s elements on the array that owns them (a view's base), so
/// a device copy of it is no longer taken as current (see [`Array::host_written`]).
/// # Safety
/// `a` live.
pub unsafe fn mark_host_written(a: *mut Array) {
    let owner = if (*a).base.is_null() { a } else { (*a).base };
    (*owner).host_written = 1;
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
