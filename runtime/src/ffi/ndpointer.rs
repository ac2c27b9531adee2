//! Array arguments of foreign functions (`numpy.ctypeslib.ndpointer(flags=...)`): the
//! address of the first element, after the flag check NumPy makes.

use crate::array::{mark_host_written, Array, MAX_NDIM};
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};

// The ABI's flag bits (the compiler's encoding; NumPy's own values differ).
pub const FLAG_C_CONTIGUOUS: i64 = 1;
pub const FLAG_F_CONTIGUOUS: i64 = 2;
pub const FLAG_ALIGNED: i64 = 4;
pub const FLAG_WRITEABLE: i64 = 8;
pub const FLAG_OWNDATA: i64 = 16;

/// In `numpy.ctypeslib._flagnames` order, which is how its error lists them.
const NAMES: [(i64, &str); 5] = [
    (FLAG_C_CONTIGUOUS, "C_CONTIGUOUS"),
    (FLAG_F_CONTIGUOUS, "F_CONTIGUOUS"),
    (FLAG_ALIGNED, "ALIGNED"),
    (FLAG_WRITEABLE, "WRITEABLE"),
    (FLAG_OWNDATA, "OWNDATA"),
];

/// Whether the elements lie without gaps, the axes of `order` varying fastest first
/// (NumPy's rule: an axis of length 1 may have any stride, an empty array is contiguous
/// both ways).
fn contiguous(a: &Array, order: impl Iterator<Item = usize>) -> bool {
    if a.size == 0 {
        return true;
    }
    let mut expect = 1i64;
    for k in order {
        let n = a.shape[k];
        if n != 1 {
            if a.strides[k] != expect {
                return false;
            }
            expect *= n;
        }
    }
    true
}

/// The array's flags in the ABI's bits.
pub(crate) fn flags(a: &Array) -> i64 {
    let nd = (a.ndim.max(0) as usize).min(MAX_NDIM);
    let mut f = FLAG_ALIGNED | FLAG_WRITEABLE; // every Kiln array is both
    if contiguous(a, (0..nd).rev()) {
        f |= FLAG_C_CONTIGUOUS;
    }
    if contiguous(a, 0..nd) {
        f |= FLAG_F_CONTIGUOUS;
    }
    if a.base.is_null() {
        f |= FLAG_OWNDATA;
    }
    f
}

/// NumPy's list of the required flags, `['C_CONTIGUOUS', 'OWNDATA']` (all that were asked
/// for, not only the missing ones, as `ndpointer.from_param` prints them).
fn flag_list(required: i64) -> String {
    let names: Vec<String> = NAMES
        .iter()
        .filter(|(bit, _)| required & bit != 0)
        .map(|(_, n)| format!("'{n}'"))
        .collect();
    format!("[{}]", names.join(", "))
}

pub(crate) unsafe fn array_data(a: *mut Array, required: i64, argno: i64) -> KResult<*mut u8> {
    if a.is_null() {
        return err(
            ErrorKind::ArgumentError,
            format!("argument {argno}: TypeError: argument must be an ndarray"),
        );
    }
    let required = required & NAMES.iter().fold(0, |m, (bit, _)| m | bit);
    if flags(&*a) & required != required {
        return err(
            ErrorKind::ArgumentError,
            format!(
                "argument {argno}: TypeError: array must have flags {}",
                flag_list(required)
            ),
        );
    }
    // The C function may write through the pointer: a device copy is stale from now on.
    mark_host_written(a);
    // A view's `data` already points at its first element.
    Ok((*a).data)
}

/// The address an `ndpointer` argument passes: the first element of `a`, after checking
/// that it has every flag in `flags` (the bits above). A mismatch raises ctypes'
/// `ArgumentError` naming the 1-based argument `argno`, and gives null.
/// # Safety
/// `ctx` live; `a` null or a live array.
#[no_mangle]
pub unsafe extern "C" fn kiln_ffi_array_data(
    ctx: *mut ExecCtx,
    a: *mut Array,
    flags: i64,
    argno: i64,
) -> *mut u8 {
    guard(ctx, std::ptr::null_mut(), || array_data(a, flags, argno))
}
