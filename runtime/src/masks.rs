//! NumPy's advanced indexing on the first axis: `a[mask]` (a bool array of `a`'s shape: the
//! elements where it is true, in C order, as a new 1-D array), `a[mask] = v` (a scalar
//! written where it is true) and `a[idx]` (an int64 array of indices, negative from the end:
//! a new array of shape `idx.shape + a.shape[1:]`). Each result is a copy, as in NumPy.

use crate::alloc::new_array;
use crate::array::{Array, DType, MAX_NDIM};
use crate::array_ops::{element_offsets, index_error_message};
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};

unsafe fn live(a: *const Array) -> KResult<&'static Array> {
    if a.is_null() {
        err(
            ErrorKind::InternalError,
            "advanced indexing of a null array",
        )
    } else {
        Ok(&*a)
    }
}

fn shape(a: &Array) -> &[i64] {
    &a.shape[..(a.ndim.clamp(0, MAX_NDIM as i64) as usize)]
}

/// NumPy 2's IndexError when a boolean index does not have the array's shape.
fn check_mask_shape(a: &Array, m: &Array) -> KResult<()> {
    let (sa, sm) = (shape(a), shape(m));
    if sa.len() != sm.len() {
        return err(
            ErrorKind::IndexError,
            format!(
                "too many indices for array: array is {}-dimensional, but {} were indexed",
                sa.len(),
                sm.len()
            ),
        );
    }
    for (k, (&x, &y)) in sa.iter().zip(sm).enumerate() {
        if x != y {
            return err(
                ErrorKind::IndexError,
                format!(
                    "boolean index did not match indexed array along axis {k}; size of axis is {x} but size of corresponding boolean axis is {y}"
                ),
            );
        }
    }
    Ok(())
}

/// The byte offsets of `a`'s elements where `mask` is true.
unsafe fn selected(a: &Array, m: &Array) -> KResult<Vec<isize>> {
    check_mask_shape(a, m)?;
    let offs = element_offsets(a);
    let moffs = element_offsets(m);
    Ok(offs
        .into_iter()
        .zip(moffs)
        .filter(|&(_, mo)| *m.data.offset(mo) != 0)
        .map(|(o, _)| o)
        .collect())
}

/// # Safety
/// `a` and `mask` live arrays, `mask` of dtype bool.
pub unsafe fn mask_select(a: *const Array, mask: *const Array) -> KResult<*mut Array> {
    let (a, m) = (live(a)?, live(mask)?);
    let pick = selected(a, m)?;
    let dt = DType::from_i64(a.dtype);
    let size = dt.size();
    let out = new_array(dt, &[pick.len() as i64])?;
    for (k, off) in pick.into_iter().enumerate() {
        std::ptr::copy_nonoverlapping(a.data.offset(off), (*out).data.add(k * size), size);
    }
    Ok(out)
}

/// # Safety
/// `a` and `mask` live arrays, `mask` of dtype bool; `value` points at one element of
/// `a`'s dtype.
pub unsafe fn mask_assign(a: *const Array, mask: *const Array, value: *const u8) -> KResult<()> {
    let (a, m) = (live(a)?, live(mask)?);
    let size = DType::from_i64(a.dtype).size();
    for off in selected(a, m)? {
        std::ptr::copy_nonoverlapping(value, a.data.offset(off), size);
    }
    Ok(())
}

/// `a[mask] = values`: the values, in order, where the mask is true (one value is repeated).
/// # Safety
/// `a`, `mask` and `values` live arrays; `mask` bool, `values` 1-D of `a`'s dtype.
pub unsafe fn mask_assign_array(
    a: *const Array,
    mask: *const Array,
    values: *const Array,
) -> KResult<()> {
    let (a, m, v) = (live(a)?, live(mask)?, live(values)?);
    let size = DType::from_i64(a.dtype).size();
    let pick = selected(a, m)?;
    let voffs = element_offsets(v);
    if voffs.len() != 1 && voffs.len() != pick.len() {
        return err(
            ErrorKind::ValueError,
            format!(
                "NumPy boolean array indexing assignment cannot assign {} input values to the {} output values where the mask is true",
                voffs.len(),
                pick.len()
            ),
        );
    }
    // Read every value before writing any: `values` may be a view of `a`.
    let mut bytes = Vec::with_capacity(voffs.len() * size);
    for &o in &voffs {
        bytes.extend_from_slice(std::slice::from_raw_parts(v.data.offset(o), size));
    }
    for (k, off) in pick.into_iter().enumerate() {
        let src = if voffs.len() == 1 { 0 } else { k * size };
        std::ptr::copy_nonoverlapping(bytes.as_ptr().add(src), a.data.offset(off), size);
    }
    Ok(())
}

/// # Safety
/// `a` and `idx` live arrays, `idx` of dtype int64, `a` with at least one dimension.
pub unsafe fn take(a: *const Array, idx: *const Array) -> KResult<*mut Array> {
    let (a, ix) = (live(a)?, live(idx)?);
    let sa = shape(a);
    let n = sa[0];
    let mut out_shape: Vec<i64> = shape(ix).to_vec();
    out_shape.extend_from_slice(&sa[1..]);
    if out_shape.len() > MAX_NDIM {
        return err(
            ErrorKind::ValueError,
            format!("Kiln arrays have at most {MAX_NDIM} dimensions"),
        );
    }
    let dt = DType::from_i64(a.dtype);
    let size = dt.size();
    let offs = element_offsets(a);
    let row = if n == 0 { 0 } else { offs.len() / n as usize };
    let out = new_array(dt, &out_shape)?;
    let mut k = 0usize;
    for io in element_offsets(ix) {
        let i = *(ix.data.offset(io) as *const i64);
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            crate::obj::kiln_decref(out as *mut u8);
            return err(ErrorKind::IndexError, index_error_message(i, 0, n));
        }
        for &o in &offs[j as usize * row..(j as usize + 1) * row] {
            std::ptr::copy_nonoverlapping(a.data.offset(o), (*out).data.add(k * size), size);
            k += 1;
        }
    }
    Ok(out)
}

/// # Safety
/// `ctx` live; see [`mask_select`].
#[no_mangle]
pub unsafe extern "C" fn kiln_mask_select(
    ctx: *mut ExecCtx,
    a: *const Array,
    mask: *const Array,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || mask_select(a, mask))
}

/// Returns 0, or 1 with the error raised on `ctx`.
/// # Safety
/// `ctx` live; see [`mask_assign`].
#[no_mangle]
pub unsafe extern "C" fn kiln_mask_assign(
    ctx: *mut ExecCtx,
    a: *const Array,
    mask: *const Array,
    value: *const u8,
) -> i64 {
    guard(ctx, 1, || mask_assign(a, mask, value).map(|()| 0))
}

/// # Safety
/// `ctx` live; see [`take`].
#[no_mangle]
pub unsafe extern "C" fn kiln_take(
    ctx: *mut ExecCtx,
    a: *const Array,
    idx: *const Array,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || take(a, idx))
}

/// Returns 0, or 1 with the error raised on `ctx`.
/// # Safety
/// `ctx` live; see [`mask_assign_array`].
#[no_mangle]
pub unsafe extern "C" fn kiln_mask_assign_array(
    ctx: *mut ExecCtx,
    a: *const Array,
    mask: *const Array,
    values: *const Array,
) -> i64 {
    guard(ctx, 1, || mask_assign_array(a, mask, values).map(|()| 0))
}
