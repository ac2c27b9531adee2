//! Arrays made of other arrays' elements, and views that reorder them: `np.flip` (a view
//! with negative strides), `concatenate`/`stack`/`hstack`/`vstack`, `meshgrid`,
//! `diagonal` (behind `np.trace`) and `np.linalg.matrix_power`.

use crate::alloc::new_array;
use crate::array::{Array, DType, MAX_NDIM};
use crate::array_ops::element_offsets;
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};
use crate::linalg::dot;
use crate::nd::{dims, eye, make_view, norm_axis, read_e, write_e};
use crate::obj::{kiln_decref, kiln_incref};

/// `flip(a, axis)`: a view of `a` with `axis` reversed, or every axis when `axis` is
/// `i64::MIN` (NumPy's `axis=None`).
/// # Safety
/// `a` live.
pub unsafe fn flip(a: *mut Array, axis: i64) -> KResult<*mut Array> {
    let ar = &*a;
    let nd = dims(ar);
    let w = DType::from_i64(ar.dtype).size() as isize;
    let mut strides = ar.strides;
    let mut data = ar.data;
    let axes: Vec<usize> = if axis == i64::MIN {
        (0..nd).collect()
    } else {
        vec![norm_axis(axis, nd)?]
    };
    for k in axes {
        if ar.shape[k] > 0 {
            data = data.offset((ar.shape[k] - 1) as isize * strides[k] as isize * w);
        }
        strides[k] = -strides[k];
    }
    make_view(a, data, &ar.shape[..nd], &strides[..nd])
}

/// Copies `src`'s elements (C order) into the view of `out` at byte offset `at` with the
/// given shape and (element) strides, converting to `out`'s dtype.
unsafe fn copy_into(out: *mut Array, at: isize, shape: &[i64], strides: &[i64], src: *const Array) {
    let odt = DType::from_i64((*out).dtype);
    let sdt = DType::from_i64((*src).dtype);
    let w = odt.size() as isize;
    let total: i64 = shape.iter().product();
    if total <= 0 {
        return;
    }
    let offs = element_offsets(src);
    let nd = shape.len();
    let mut idx = [0i64; MAX_NDIM];
    for off in offs {
        let o: i64 = (0..nd).map(|k| idx[k] * strides[k]).sum();
        let e = read_e(sdt, (*src).data.offset(off));
        write_e(odt, (*out).data.offset(at + o as isize * w), e);
        for k in (0..nd).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

pub const JOIN_CONCATENATE: i64 = 0;
pub const JOIN_STACK: i64 = 1;
pub const JOIN_HSTACK: i64 = 2;
pub const JOIN_VSTACK: i64 = 3;

/// `concatenate(arrs, axis)`, `stack(arrs, axis)`, `hstack(arrs)`, `vstack(arrs)` into a
/// new array of `dt`; the arrays all have one rank (the compiler checks it).
/// # Safety
/// Every array live.
pub unsafe fn join(arrs: &[*mut Array], axis: i64, mode: i64, dt: DType) -> KResult<*mut Array> {
    if arrs.is_empty() {
        return err(
            ErrorKind::ValueError,
            "need at least one array to concatenate",
        );
    }
    let nd0 = dims(&*arrs[0]);
    // Each operand's shape as the concatenation sees it, and the axis it is joined along.
    let shapes: Vec<Vec<i64>> = arrs
        .iter()
        .map(|&a| {
            let ar = &*a;
            let s = ar.shape[..dims(ar)].to_vec();
            match mode {
                JOIN_VSTACK if s.len() == 1 => vec![1, s[0]],
                _ => s,
            }
        })
        .collect();
    let (shapes, ax) = match mode {
        JOIN_STACK => {
            let first = &shapes[0];
            if shapes.iter().any(|s| s != first) {
                return err(
                    ErrorKind::ValueError,
                    "all input arrays must have the same shape",
                );
            }
            let ax = norm_axis(axis, nd0 + 1)?;
            let expanded: Vec<Vec<i64>> = shapes
                .iter()
                .map(|s| {
                    let mut e = s.clone();
                    e.insert(ax, 1);
                    e
                })
                .collect();
            (expanded, ax)
        }
        JOIN_HSTACK => (shapes, if nd0 == 1 { 0 } else { 1 }),
        JOIN_VSTACK => (shapes, 0),
        _ => {
            let nd = shapes[0].len();
            (shapes, norm_axis(axis, nd)?)
        }
    };
    let nd = shapes[0].len();
    if nd > MAX_NDIM {
        return err(
            ErrorKind::ValueError,
            format!("arrays have at most {MAX_NDIM} dimensions, got {nd}"),
        );
    }
    let mut oshape = shapes[0].clone();
    oshape[ax] = 0;
    for (i, s) in shapes.iter().enumerate() {
        for k in 0..nd {
            if k != ax && s[k] != shapes[0][k] {
                return err(
                    ErrorKind::ValueError,
                    format!(
                        "all the input array dimensions except for the concatenation axis must \
                         match exactly, but along dimension {k}, the array at index 0 has size \
                         {} and the array at index {i} has size {}",
                        shapes[0][k], s[k]
                    ),
                );
            }
        }
        oshape[ax] += s[ax];
    }
    let out = new_array(dt, &oshape)?;
    let ostrides = crate::alloc::c_strides(&oshape);
    let w = dt.size() as isize;
    let mut at = 0i64;
    for (&a, s) in arrs.iter().zip(&shapes) {
        copy_into(out, (at * ostrides[ax]) as isize * w, s, &ostrides[..nd], a);
        at += s[ax];
    }
    Ok(out)
}

/// Array `which` (0 or 1) of `meshgrid(x, y, indexing=...)`: `ij` false gives shape
/// `(len(y), len(x))`, true `(len(x), len(y))`. The inputs are flattened, as NumPy's are.
/// # Safety
/// `x`, `y` live.
pub unsafe fn meshgrid(
    x: *const Array,
    y: *const Array,
    which: i64,
    ij: bool,
    dt: DType,
) -> KResult<*mut Array> {
    let (nx, ny) = ((*x).size, (*y).size);
    let shape = if ij { [nx, ny] } else { [ny, nx] };
    let out = new_array(dt, &shape)?;
    let src = if which == 0 { x } else { y };
    let sdt = DType::from_i64((*src).dtype);
    let offs = element_offsets(src);
    let w = dt.size();
    // Along which output axis the source's elements run.
    let along_cols = (which == 0) != ij;
    for r in 0..shape[0].max(0) as usize {
        for c in 0..shape[1].max(0) as usize {
            let k = if along_cols { c } else { r };
            let e = read_e(sdt, (*src).data.offset(offs[k]));
            write_e(dt, (*out).data.add((r * shape[1] as usize + c) * w), e);
        }
    }
    Ok(out)
}

/// `a.diagonal()` of a 2-D array: a 1-D view.
/// # Safety
/// `a` live.
pub unsafe fn diagonal(a: *mut Array) -> KResult<*mut Array> {
    let ar = &*a;
    if dims(ar) != 2 {
        return err(
            ErrorKind::ValueError,
            "diag requires an array of at least two dimensions",
        );
    }
    let n = ar.shape[0].min(ar.shape[1]);
    make_view(a, ar.data, &[n], &[ar.strides[0] + ar.strides[1]])
}

/// `a.flat` as the destination of `a.flat[i] = v`: a 1-D view of a contiguous `a` (a copy
/// would lose the write, so a strided view is an error that says how to write it).
/// # Safety
/// `a` live.
pub unsafe fn flat_view(a: *mut Array) -> KResult<*mut Array> {
    let ar = &*a;
    if !crate::nd::is_c_contiguous(ar) {
        return err(
            ErrorKind::ValueError,
            "a.flat[i] = v writes into a only when a is contiguous, and this array is a \
             strided view: assign through an index tuple, for idx in np.ndindex(a.shape): \
             a[idx] = v, or into a copy, b = a.copy(); b.flat[i] = v",
        );
    }
    make_view(a, ar.data, &[ar.size], &[1])
}

/// `np.linalg.matrix_power(a, n)` for `n >= 0`, with NumPy's order of products.
/// # Safety
/// `a` live.
pub unsafe fn matrix_power(a: *mut Array, n: i64) -> KResult<*mut Array> {
    let ar = &*a;
    if dims(ar) != 2 || ar.shape[0] != ar.shape[1] {
        return err(
            ErrorKind::ValueError,
            "Last 2 dimensions of the array must be square",
        );
    }
    if n < 0 {
        return err(
            ErrorKind::ValueError,
            "matrix_power() of a negative power needs the matrix inverse, which Kiln lacks: \
             use a non-negative power and solve with loops",
        );
    }
    let dt = DType::from_i64(ar.dtype);
    match n {
        0 => return eye(ar.shape[0], dt),
        1 => {
            kiln_incref(a as *mut u8);
            return Ok(a);
        }
        2 => return dot(a, a),
        3 => {
            let sq = dot(a, a)?;
            let r = dot(sq, a);
            kiln_decref(sq as *mut u8);
            return r;
        }
        _ => {}
    }
    let (mut z, mut result): (*mut Array, *mut Array) =
        (std::ptr::null_mut(), std::ptr::null_mut());
    let mut n = n;
    let release = |p: *mut Array| {
        if !p.is_null() {
            kiln_decref(p as *mut u8);
        }
    };
    while n > 0 {
        z = if z.is_null() {
            kiln_incref(a as *mut u8);
            a
        } else {
            match dot(z, z) {
                Ok(q) => {
                    release(z);
                    q
                }
                Err(e) => {
                    release(z);
                    release(result);
                    return Err(e);
                }
            }
        };
        let bit = n % 2;
        n /= 2;
        if bit == 1 {
            result = if result.is_null() {
                kiln_incref(z as *mut u8);
                z
            } else {
                match dot(result, z) {
                    Ok(q) => {
                        release(result);
                        q
                    }
                    Err(e) => {
                        release(z);
                        release(result);
                        return Err(e);
                    }
                }
            };
        }
    }
    release(z);
    Ok(result)
}

// ---------------------------------------------------------------------------------------
// Entry points

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_flip(ctx: *mut ExecCtx, a: *mut Array, axis: i64) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || flip(a, axis))
}

/// # Safety
/// `ctx` live; `arrs` points at `n` live arrays.
#[no_mangle]
pub unsafe extern "C" fn kiln_join(
    ctx: *mut ExecCtx,
    arrs: *const *mut Array,
    n: i64,
    axis: i64,
    mode: i64,
    dtype: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        let list = std::slice::from_raw_parts(arrs, n.max(0) as usize);
        join(list, axis, mode, DType::from_i64(dtype))
    })
}

/// # Safety
/// `ctx` live; `x`, `y` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_meshgrid(
    ctx: *mut ExecCtx,
    x: *const Array,
    y: *const Array,
    which: i64,
    ij: i64,
    dtype: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        meshgrid(x, y, which, ij != 0, DType::from_i64(dtype))
    })
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_flat_view(ctx: *mut ExecCtx, a: *mut Array) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || flat_view(a))
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_diagonal(ctx: *mut ExecCtx, a: *mut Array) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || diagonal(a))
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_matrix_power(ctx: *mut ExecCtx, a: *mut Array, n: i64) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || matrix_power(a, n))
}
