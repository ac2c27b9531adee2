//! NumPy-style array operations beyond creation: views (`reshape`, `.T`, basic slicing),
//! `astype`, `eye`, `cumsum`, reductions along an axis and the whole-array reductions
//! that are not plain folds (`std`, `var`, `argmin`, `argmax`, `any`, `all`).
//!
//! Float sums follow NumPy's order: pairwise (`pairwise_sum`) along the reduced axis when
//! that axis is the innermost one in memory, else one element after the other (NumPy adds
//! row by row when it reduces an outer axis). Integer and bool means sum in float64 in
//! buffers of 8192 elements, as NumPy's casting buffer does.

use crate::alloc::{c_strides, new_array, one_bytes};
use crate::array::{Array, DType, KIND_ARRAY, MAX_NDIM};
use crate::array_ops::{
    c_div, copy_array, element_offsets, f64_to_i64_c, pairwise, pairwise_c, pick_c, pick_f64,
    reduce, Scalar, NPY_BUFSIZE, RED_MAX, RED_MEAN, RED_MIN, RED_PROD, RED_SUM,
};
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};
use crate::obj::{kiln_decref, kiln_incref, note_alloc};
use std::sync::atomic::AtomicI64;

pub const RED_STD: i64 = 5;
pub const RED_VAR: i64 = 6;
pub const RED_ARGMIN: i64 = 7;
pub const RED_ARGMAX: i64 = 8;
pub const RED_ANY: i64 = 9;
pub const RED_ALL: i64 = 10;
/// `np.nanmin`, `np.nanmax`: NumPy's `fmin`/`fmax` reductions (NaN skipped; all NaN gives NaN).
pub const RED_NANMIN: i64 = 11;
pub const RED_NANMAX: i64 = 12;

pub(crate) fn dims(a: &Array) -> usize {
    a.ndim.clamp(0, MAX_NDIM as i64) as usize
}

fn null_check(a: *const Array) -> KResult<&'static Array> {
    if a.is_null() {
        err(ErrorKind::InternalError, "array operation on a null array")
    } else {
        // SAFETY: callers pass live arrays.
        Ok(unsafe { &*a })
    }
}

/// A view of `base`'s data (holds a reference to the array that owns the data).
/// # Safety
/// `base` live; `data`, `shape`, `strides` must describe memory inside its data.
pub unsafe fn make_view(
    base: *mut Array,
    data: *mut u8,
    shape: &[i64],
    strides: &[i64],
) -> KResult<*mut Array> {
    if shape.len() > MAX_NDIM {
        return err(
            ErrorKind::ValueError,
            format!(
                "arrays have at most {MAX_NDIM} dimensions, got {}",
                shape.len()
            ),
        );
    }
    let owner = if (*base).base.is_null() {
        base
    } else {
        (*base).base
    };
    kiln_incref(owner as *mut u8);
    let mut sh = [0i64; MAX_NDIM];
    let mut sd = [0i64; MAX_NDIM];
    sh[..shape.len()].copy_from_slice(shape);
    sd[..strides.len()].copy_from_slice(strides);
    note_alloc();
    Ok(Box::into_raw(Box::new(Array {
        refcount: AtomicI64::new(1),
        kind: KIND_ARRAY,
        data,
        ndim: shape.len() as i64,
        dtype: (*base).dtype,
        size: shape.iter().product(),
        shape: sh,
        strides: sd,
        base: owner,
        alloc_bytes: 0,
        host_written: 1,
    })))
}

/// Whether the elements lie in C order with no gaps (size-1 axes ignored).
pub fn is_c_contiguous(a: &Array) -> bool {
    let nd = dims(a);
    let mut acc = 1i64;
    for k in (0..nd).rev() {
        if a.shape[k] == 0 {
            return true;
        }
        if a.shape[k] != 1 && a.strides[k] != acc {
            return false;
        }
        acc *= a.shape[k];
    }
    true
}

// ---------------------------------------------------------------------------------------
// Views

/// `a.reshape(shape)`: a view when `a` is C-contiguous, else a reshaped copy. One negative
/// dimension is inferred.
/// # Safety
/// `a` live.
pub unsafe fn reshape(a: *mut Array, new: &[i64]) -> KResult<*mut Array> {
    let ar = null_check(a)?;
    if new.len() > MAX_NDIM {
        return err(
            ErrorKind::ValueError,
            format!(
                "arrays have at most {MAX_NDIM} dimensions, got {}",
                new.len()
            ),
        );
    }
    let size: i64 = ar.shape[..dims(ar)].iter().product();
    let unknown: Vec<usize> = (0..new.len()).filter(|&k| new[k] < 0).collect();
    if unknown.len() > 1 {
        return err(
            ErrorKind::ValueError,
            "can only specify one unknown dimension",
        );
    }
    let mismatch = || {
        let parts: Vec<String> = new
            .iter()
            .map(|&d| {
                if d < 0 {
                    "newaxis".to_string()
                } else {
                    d.to_string()
                }
            })
            .collect();
        let sh = if parts.len() == 1 {
            format!("({},)", parts[0])
        } else {
            format!("({})", parts.join(","))
        };
        (
            ErrorKind::ValueError,
            format!("cannot reshape array of size {size} into shape {sh}"),
        )
    };
    let mut known: Option<i64> = Some(1);
    for &d in new.iter().filter(|d| **d >= 0) {
        known = known.and_then(|k| k.checked_mul(d));
    }
    let known = known.ok_or_else(mismatch)?;
    let mut shape = new.to_vec();
    if let Some(&u) = unknown.first() {
        if known == 0 || size % known != 0 {
            return Err(mismatch());
        }
        shape[u] = size / known;
    } else if known != size {
        return Err(mismatch());
    }
    let st = c_strides(&shape);
    if is_c_contiguous(ar) {
        return make_view(a, ar.data, &shape, &st[..shape.len()]);
    }
    let c = copy_array(a)?;
    // The copy is fresh and not yet seen by anyone: its header may still change.
    (*c).ndim = shape.len() as i64;
    let mut sh = [0i64; MAX_NDIM];
    sh[..shape.len()].copy_from_slice(&shape);
    (*c).shape = sh;
    (*c).strides = st;
    Ok(c)
}

/// `a.T`: the axes reversed (a view).
/// # Safety
/// `a` live.
pub unsafe fn transpose(a: *mut Array) -> KResult<*mut Array> {
    let ar = null_check(a)?;
    let nd = dims(ar);
    let shape: Vec<i64> = ar.shape[..nd].iter().rev().copied().collect();
    let strides: Vec<i64> = ar.strides[..nd].iter().rev().copied().collect();
    make_view(a, ar.data, &shape, &strides)
}

/// "Absent" in a slice spec.
pub const SLICE_NONE: i64 = i64::MIN;

/// Python's `slice(start, stop, step).indices(len)` and the resulting length.
pub fn slice_indices(len: i64, start: i64, stop: i64, step: i64) -> KResult<(i64, i64, i64)> {
    let step = if step == SLICE_NONE { 1 } else { step };
    if step == 0 {
        return err(ErrorKind::ValueError, "slice step cannot be zero");
    }
    let (lower, upper) = if step < 0 { (-1, len - 1) } else { (0, len) };
    let clamp = |v: i64| {
        if v < 0 {
            (v.saturating_add(len)).max(lower)
        } else {
            v.min(upper)
        }
    };
    let start = if start == SLICE_NONE {
        if step < 0 {
            upper
        } else {
            lower
        }
    } else {
        clamp(start)
    };
    let stop = if stop == SLICE_NONE {
        if step < 0 {
            lower
        } else {
            upper
        }
    } else {
        clamp(stop)
    };
    let n = if step > 0 {
        if stop > start {
            (stop - start - 1) / step + 1
        } else {
            0
        }
    } else if start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    };
    Ok((start, step, n))
}

/// Basic indexing `a[s0, s1, ...]`: `specs` holds 4 i64 per axis (kind 0 = integer index
/// in `specs[1]`, kind 1 = slice `(start, stop, step)` with [`SLICE_NONE`] for absent);
/// axes past the specs are taken whole. The result is a view.
/// # Safety
/// `a` live.
pub unsafe fn slice(a: *mut Array, specs: &[[i64; 4]]) -> KResult<*mut Array> {
    let ar = null_check(a)?;
    let nd = dims(ar);
    if specs.len() > nd {
        return err(
            ErrorKind::IndexError,
            format!(
                "too many indices for array: array is {nd}-dimensional, but {} were indexed",
                specs.len()
            ),
        );
    }
    let w = DType::from_i64(ar.dtype).size() as isize;
    let mut off: isize = 0;
    let mut shape = Vec::new();
    let mut strides = Vec::new();
    for k in 0..nd {
        let (len, st) = (ar.shape[k], ar.strides[k]);
        match specs.get(k) {
            Some(&[0, i, _, _]) => {
                let j = if i < 0 { i.wrapping_add(len) } else { i };
                if !(0..len).contains(&j) {
                    return err(
                        ErrorKind::IndexError,
                        format!("index {i} is out of bounds for axis {k} with size {len}"),
                    );
                }
                off += (j * st) as isize;
            }
            Some(&[_, start, stop, step]) => {
                let (s0, step, n) = slice_indices(len, start, stop, step)?;
                if n > 0 {
                    off += (s0 * st) as isize;
                }
                shape.push(n);
                strides.push(st * step);
            }
            None => {
                shape.push(len);
                strides.push(st);
            }
        }
    }
    let size: i64 = shape.iter().product();
    let data = if size == 0 {
        ar.data
    } else {
        ar.data.offset(off * w)
    };
    make_view(a, data, &shape, &strides)
}

// ---------------------------------------------------------------------------------------
// Elements and casts

/// One element, in its dtype's representation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum E {
    B(bool),
    I(i64),
    F(f64),
    S(f32),
    C(f64, f64),
}

/// # Safety
/// `p` points at an element of `dt`.
pub(crate) unsafe fn read_e(dt: DType, p: *const u8) -> E {
    match dt {
        DType::Bool => E::B(*p != 0),
        DType::I64 => E::I((p as *const i64).read_unaligned()),
        DType::F64 => E::F((p as *const f64).read_unaligned()),
        DType::F32 => E::S((p as *const f32).read_unaligned()),
        DType::C128 => {
            let q = p as *const f64;
            E::C(q.read_unaligned(), q.add(1).read_unaligned())
        }
        crate::narrow_ints!() => E::I(dt.read_int(p)),
    }
}

/// The bytes of one element of `dt` holding `e`, converted as [`write_e`] does.
pub(crate) fn elem_bytes(dt: DType, e: E) -> Vec<u8> {
    let mut b = vec![0u8; dt.size()];
    // SAFETY: `b` has room for one element of `dt`.
    unsafe { write_e(dt, b.as_mut_ptr(), e) };
    b
}

/// `e` as an int64, as NumPy's cast does (floats truncate toward zero; a narrower integer
/// type then keeps the low bits).
fn e_to_i64(e: E) -> i64 {
    match e {
        E::B(b) => b as i64,
        E::I(v) => v,
        E::F(v) => f64_to_i64_c(v),
        E::S(v) => f64_to_i64_c(v as f64),
        E::C(r, _) => f64_to_i64_c(r),
    }
}

/// Writes `e` converted to `dt` as NumPy's (unsafe) cast does.
/// # Safety
/// `p` has room for an element of `dt`.
pub(crate) unsafe fn write_e(dt: DType, p: *mut u8, e: E) {
    match dt {
        DType::Bool => {
            *p = match e {
                E::B(b) => b,
                E::I(v) => v != 0,
                E::F(v) => v != 0.0,
                E::S(v) => v != 0.0,
                E::C(r, i) => r != 0.0 || i != 0.0,
            } as u8
        }
        DType::I64 => (p as *mut i64).write_unaligned(e_to_i64(e)),
        DType::I8 | DType::U8 => *p = e_to_i64(e) as u8,
        DType::I16 | DType::U16 => (p as *mut u16).write_unaligned(e_to_i64(e) as u16),
        DType::I32 | DType::U32 => (p as *mut u32).write_unaligned(e_to_i64(e) as u32),
        DType::F64 => (p as *mut f64).write_unaligned(match e {
            E::B(b) => b as i64 as f64,
            E::I(v) => v as f64,
            E::F(v) => v,
            E::S(v) => v as f64,
            E::C(r, _) => r,
        }),
        DType::F32 => (p as *mut f32).write_unaligned(match e {
            E::B(b) => b as i64 as f32,
            E::I(v) => v as f32,
            E::F(v) => v as f32,
            E::S(v) => v,
            E::C(r, _) => r as f32,
        }),
        DType::C128 => {
            let (r, i) = match e {
                E::B(b) => (b as i64 as f64, 0.0),
                E::I(v) => (v as f64, 0.0),
                E::F(v) => (v, 0.0),
                E::S(v) => (v as f64, 0.0),
                E::C(r, i) => (r, i),
            };
            let q = p as *mut f64;
            q.write_unaligned(r);
            q.add(1).write_unaligned(i);
        }
    }
}

/// `a.astype(dtype)`: a fresh C-contiguous array.
/// # Safety
/// `a` live.
pub unsafe fn astype(a: *const Array, dt: DType) -> KResult<*mut Array> {
    let ar = null_check(a)?;
    let src = DType::from_i64(ar.dtype);
    let out = new_array(dt, &ar.shape[..dims(ar)])?;
    let (w, d) = (dt.size(), (*out).data);
    for (i, off) in element_offsets(a).into_iter().enumerate() {
        write_e(dt, d.add(i * w), read_e(src, ar.data.offset(off)));
    }
    Ok(out)
}

/// `np.eye(n, dtype=dtype)`.
pub fn eye(n: i64, dt: DType) -> KResult<*mut Array> {
    let a = new_array(dt, &[n, n])?;
    let one = one_bytes(dt);
    // SAFETY: fresh n×n contiguous array.
    unsafe {
        for i in 0..n.max(0) as usize {
            let p = (*a).data.add((i * n as usize + i) * one.len());
            std::ptr::copy_nonoverlapping(one.as_ptr(), p, one.len());
        }
    }
    Ok(a)
}

/// `np.cumsum(a)`: flattened; bool sums in int64.
/// # Safety
/// `a` live.
pub unsafe fn cumsum(a: *const Array) -> KResult<*mut Array> {
    let ar = null_check(a)?;
    let dt = DType::from_i64(ar.dtype);
    // NumPy sums bool and the narrow integers in int64.
    let odt = if dt == DType::Bool || dt.is_int() {
        DType::I64
    } else {
        dt
    };
    let offs = element_offsets(a);
    let out = new_array(odt, &[offs.len() as i64])?;
    let d = (*out).data;
    let mut acc = match odt {
        DType::I64 => E::I(0),
        DType::F64 => E::F(0.0),
        DType::F32 => E::S(0.0),
        _ => E::C(0.0, 0.0),
    };
    for (i, off) in offs.into_iter().enumerate() {
        acc = match (acc, read_e(dt, ar.data.offset(off))) {
            (E::I(s), E::B(b)) => E::I(s + b as i64),
            (E::I(s), E::I(v)) => E::I(s.wrapping_add(v)),
            (E::F(s), E::F(v)) => E::F(s + v),
            (E::S(s), E::S(v)) => E::S(s + v),
            (E::C(sr, si), E::C(r, im)) => E::C(sr + r, si + im),
            (acc, _) => acc,
        };
        write_e(odt, d.add(i * odt.size()), acc);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Reductions

/// NumPy's result dtype of reduction `op` over `dt`.
pub fn reduce_dtype(op: i64, dt: DType) -> DType {
    match op {
        RED_SUM | RED_PROD if dt == DType::Bool || dt.is_int() => DType::I64,
        RED_MEAN | RED_STD | RED_VAR if dt == DType::Bool || dt.is_int() => DType::F64,
        RED_STD | RED_VAR if dt == DType::C128 => DType::F64,
        RED_ARGMIN | RED_ARGMAX => DType::I64,
        RED_ANY | RED_ALL => DType::Bool,
        _ => dt,
    }
}

fn op_name(op: i64) -> &'static str {
    match op {
        RED_MIN => "minimum",
        RED_NANMIN => "fmin",
        RED_NANMAX => "fmax",
        _ => "maximum",
    }
}

fn truthy(e: E) -> bool {
    match e {
        E::B(b) => b,
        E::I(v) => v != 0,
        E::F(v) => v != 0.0,
        E::S(v) => v != 0.0,
        E::C(r, i) => r != 0.0 || i != 0.0,
    }
}

/// Float64 sum of `n` values: pairwise (in casting buffers of 8192 when `buffered`) or in
/// order.
fn sum_f64(get: &dyn Fn(usize) -> f64, n: usize, pw: bool, buffered: bool) -> f64 {
    if !pw {
        return (0..n).fold(0.0, |s, i| s + get(i));
    }
    if !buffered {
        return pairwise(&get, 0, n);
    }
    let mut s = 0.0;
    let mut lo = 0;
    while lo < n {
        let m = (n - lo).min(NPY_BUFSIZE);
        s += pairwise(&|j| get(lo + j), 0, m);
        lo += m;
    }
    s
}

fn sum_f32(get: &dyn Fn(usize) -> f32, n: usize, pw: bool) -> f32 {
    if pw {
        pairwise(&get, 0, n)
    } else {
        (0..n).fold(0.0f32, |s, i| s + get(i))
    }
}

fn sum_c(get: &dyn Fn(usize) -> (f64, f64), n: usize, pw: bool) -> (f64, f64) {
    if pw {
        pairwise_c(get, 0, 2 * n)
    } else {
        (0..n).fold((0.0, 0.0), |(a, b), i| {
            let (r, im) = get(i);
            (a + r, b + im)
        })
    }
}

/// Reduces the `n` elements at element offsets `o + i*s` of `a` with `op`; `pw` says
/// whether NumPy sums them pairwise (innermost axis) or in order.
/// # Safety
/// The offsets must lie inside `a`'s data.
unsafe fn reduce_row(
    a: &Array,
    o: isize,
    s: isize,
    n: usize,
    op: i64,
    pw: bool,
) -> KResult<Scalar> {
    let stored = DType::from_i64(a.dtype);
    let w = stored.size() as isize;
    let at = |i: usize| read_e(stored, a.data.offset((o + i as isize * s) * w));
    // A narrow integer's elements read as int64 and reduce as int64's do.
    let dt = if stored.is_int() { DType::I64 } else { stored };
    let f = |i: usize| match at(i) {
        E::B(b) => b as i64 as f64,
        E::I(v) => v as f64,
        E::F(v) => v,
        E::S(v) => v as f64,
        E::C(r, _) => r,
    };
    let iv = |i: usize| match at(i) {
        E::B(b) => b as i64,
        E::I(v) => v,
        _ => 0,
    };
    let sv = |i: usize| match at(i) {
        E::S(v) => v,
        _ => 0.0,
    };
    let cv = |i: usize| match at(i) {
        E::C(r, im) => (r, im),
        _ => (0.0, 0.0),
    };
    if n == 0 {
        match op {
            RED_MIN | RED_MAX | RED_NANMIN | RED_NANMAX => {
                return err(
                    ErrorKind::ValueError,
                    format!(
                        "zero-size array to reduction operation {} which has no identity",
                        op_name(op)
                    ),
                )
            }
            RED_ARGMIN | RED_ARGMAX => {
                let what = if op == RED_ARGMIN { "argmin" } else { "argmax" };
                return err(
                    ErrorKind::ValueError,
                    format!("attempt to get {what} of an empty sequence"),
                );
            }
            _ => {}
        }
    }
    let int_like = matches!(dt, DType::Bool | DType::I64);
    // The mean NumPy's `_mean`/`_var` compute.
    let mean = || -> Scalar {
        match dt {
            DType::F32 => Scalar::F32(sum_f32(&sv, n, pw) / n as f32),
            DType::C128 => {
                let (r, i) = sum_c(&cv, n, pw);
                let (r, i) = c_div(r, i, n as f64, 0.0);
                Scalar::C128(r, i)
            }
            _ => Scalar::F64(sum_f64(&f, n, pw, int_like) / n as f64),
        }
    };
    Ok(match op {
        RED_SUM => match dt {
            DType::Bool | DType::I64 | crate::narrow_ints!() => {
                Scalar::I64((0..n).fold(0i64, |acc, i| acc.wrapping_add(iv(i))))
            }
            DType::F64 => Scalar::F64(sum_f64(&f, n, pw, false)),
            DType::F32 => Scalar::F32(sum_f32(&sv, n, pw)),
            DType::C128 => {
                let (r, i) = sum_c(&cv, n, pw);
                Scalar::C128(r, i)
            }
        },
        RED_PROD => match dt {
            DType::Bool | DType::I64 | crate::narrow_ints!() => {
                Scalar::I64((0..n).fold(1i64, |acc, i| acc.wrapping_mul(iv(i))))
            }
            DType::F64 => Scalar::F64((0..n).fold(1.0, |acc, i| acc * f(i))),
            DType::F32 => Scalar::F32((0..n).fold(1.0f32, |acc, i| acc * sv(i))),
            DType::C128 => {
                // Along an outer axis NumPy multiplies row by row with its SIMD complex
                // multiply, which fuses one product into each part (as `mul_add` here).
                let (r, i) = (0..n).fold((1.0f64, 0.0f64), |(sr, si), i| {
                    let (r, im) = cv(i);
                    if pw {
                        (sr * r - si * im, sr * im + si * r)
                    } else {
                        (sr.mul_add(r, -(si * im)), sr.mul_add(im, si * r))
                    }
                });
                Scalar::C128(r, i)
            }
        },
        RED_MIN | RED_MAX => {
            let mx = op == RED_MAX;
            match dt {
                DType::Bool => {
                    let it = (0..n).map(|i| iv(i) != 0);
                    Scalar::Bool(if mx {
                        it.fold(false, |a, b| a | b)
                    } else {
                        it.fold(true, |a, b| a & b)
                    })
                }
                DType::I64 | crate::narrow_ints!() => {
                    let it = (0..n).map(iv);
                    Scalar::I64(if mx { it.max() } else { it.min() }.unwrap_or(0))
                }
                DType::F64 | DType::F32 => {
                    let v = (1..n).fold(f(0), |acc, i| pick_f64(acc, f(i), mx));
                    if dt == DType::F32 {
                        Scalar::F32(v as f32)
                    } else {
                        Scalar::F64(v)
                    }
                }
                DType::C128 => {
                    let (r, i) = (1..n).fold(cv(0), |acc, i| pick_c(acc, cv(i), mx));
                    Scalar::C128(r, i)
                }
            }
        }
        RED_NANMIN | RED_NANMAX if matches!(dt, DType::F64 | DType::F32) => {
            let mx = op == RED_NANMAX;
            let v = (0..n).map(f).fold(f64::NAN, |acc, x| {
                if x.is_nan() || (!acc.is_nan() && (if mx { x <= acc } else { x >= acc })) {
                    acc
                } else {
                    x
                }
            });
            if dt == DType::F32 {
                Scalar::F32(v as f32)
            } else {
                Scalar::F64(v)
            }
        }
        RED_NANMIN | RED_NANMAX => {
            let plain = if op == RED_NANMIN { RED_MIN } else { RED_MAX };
            return reduce_row(a, o, s, n, plain, pw);
        }
        RED_MEAN => mean(),
        RED_STD | RED_VAR => {
            let m = mean();
            let v = match (dt, m) {
                (DType::F32, Scalar::F32(m)) => {
                    let x = |i: usize| (sv(i) - m) * (sv(i) - m);
                    Scalar::F32(sum_f32(&x, n, pw) / n as f32)
                }
                (DType::C128, Scalar::C128(mr, mi)) => {
                    let x = |i: usize| {
                        let (r, im) = cv(i);
                        let (dr, di) = (r - mr, im - mi);
                        dr * dr + di * di
                    };
                    Scalar::F64(sum_f64(&x, n, pw, false) / n as f64)
                }
                (_, Scalar::F64(m)) => {
                    let x = |i: usize| (f(i) - m) * (f(i) - m);
                    Scalar::F64(sum_f64(&x, n, pw, false) / n as f64)
                }
                _ => return err(ErrorKind::InternalError, "var: unexpected mean"),
            };
            match (op, v) {
                (RED_STD, Scalar::F32(v)) => Scalar::F32(v.sqrt()),
                (RED_STD, Scalar::F64(v)) => Scalar::F64(v.sqrt()),
                _ => v,
            }
        }
        RED_ARGMIN | RED_ARGMAX => {
            let mx = op == RED_ARGMAX;
            let mut best = 0usize;
            match dt {
                DType::Bool | DType::I64 | crate::narrow_ints!() => {
                    for i in 1..n {
                        let (x, b) = (iv(i), iv(best));
                        if (mx && x > b) || (!mx && x < b) {
                            best = i;
                        }
                    }
                }
                DType::F64 | DType::F32 => {
                    if !f(0).is_nan() {
                        for i in 1..n {
                            let (x, b) = (f(i), f(best));
                            if x.is_nan() {
                                best = i;
                                break;
                            }
                            if (mx && x > b) || (!mx && x < b) {
                                best = i;
                            }
                        }
                    }
                }
                DType::C128 => {
                    let nan = |c: (f64, f64)| c.0.is_nan() || c.1.is_nan();
                    if !nan(cv(0)) {
                        for i in 1..n {
                            let (x, b) = (cv(i), cv(best));
                            if nan(x) {
                                best = i;
                                break;
                            }
                            let better = if mx {
                                x.0 > b.0 || (x.0 == b.0 && x.1 > b.1)
                            } else {
                                x.0 < b.0 || (x.0 == b.0 && x.1 < b.1)
                            };
                            if better {
                                best = i;
                            }
                        }
                    }
                }
            }
            Scalar::I64(best as i64)
        }
        RED_ANY => Scalar::Bool((0..n).any(|i| truthy(at(i)))),
        RED_ALL => Scalar::Bool((0..n).all(|i| truthy(at(i)))),
        _ => return err(ErrorKind::InternalError, format!("unknown reduction {op}")),
    })
}

/// Whole-array reductions `std`, `var`, `argmin`, `argmax`, `any`, `all` (the folds are in
/// [`crate::array_ops::reduce`]).
/// # Safety
/// `a` live.
pub unsafe fn reduce_whole(a: *const Array, op: i64) -> KResult<Scalar> {
    let ar = null_check(a)?;
    let nd = dims(ar);
    let n: i64 = ar.shape[..nd].iter().product();
    match op {
        RED_STD | RED_VAR => {
            // NumPy: mean over the whole array, then the squared deviations (an array laid
            // out like `a`, so summed pairwise in memory order).
            let m = reduce(a, RED_MEAN)?;
            let dt = DType::from_i64(ar.dtype);
            let mut offs = element_offsets(a);
            // Memory order of `a` (NumPy allocates the deviations in `a`'s layout).
            offs.sort_unstable();
            let at = |i: usize| read_e(dt, ar.data.offset(offs[i]));
            let nn = offs.len();
            let v = match m {
                Scalar::F32(m) => {
                    let x = |i: usize| match at(i) {
                        E::S(v) => (v - m) * (v - m),
                        _ => 0.0,
                    };
                    Scalar::F32(sum_f32(&x, nn, true) / n as f32)
                }
                Scalar::C128(mr, mi) => {
                    let x = |i: usize| match at(i) {
                        E::C(r, im) => (r - mr) * (r - mr) + (im - mi) * (im - mi),
                        _ => 0.0,
                    };
                    Scalar::F64(sum_f64(&x, nn, true, false) / n as f64)
                }
                Scalar::F64(m) => {
                    let x = |i: usize| {
                        let v = match at(i) {
                            E::B(b) => b as i64 as f64,
                            E::I(v) => v as f64,
                            E::F(v) => v,
                            _ => 0.0,
                        };
                        (v - m) * (v - m)
                    };
                    Scalar::F64(sum_f64(&x, nn, true, false) / n as f64)
                }
                _ => return err(ErrorKind::InternalError, "var: unexpected mean"),
            };
            Ok(match (op, v) {
                (RED_STD, Scalar::F32(v)) => Scalar::F32(v.sqrt()),
                (RED_STD, Scalar::F64(v)) => Scalar::F64(v.sqrt()),
                _ => v,
            })
        }
        RED_ARGMIN | RED_ARGMAX | RED_ANY | RED_ALL | RED_NANMIN | RED_NANMAX => {
            if is_c_contiguous(ar) {
                return reduce_row(ar, 0, 1, n as usize, op, true);
            }
            let c = copy_array(a)?;
            let r = reduce_row(&*c, 0, 1, n as usize, op, true);
            kiln_decref(c as *mut u8);
            r
        }
        _ => reduce(a, op),
    }
}

/// Normalises a possibly negative axis, or raises NumPy's AxisError text.
pub fn norm_axis(axis: i64, nd: usize) -> KResult<usize> {
    let ax = if axis < 0 { axis + nd as i64 } else { axis };
    if ax < 0 || ax >= nd as i64 {
        return err(
            ErrorKind::AxisError,
            format!("axis {axis} is out of bounds for array of dimension {nd}"),
        );
    }
    Ok(ax as usize)
}

/// `a.<op>(axis=axis)`: a new array of `a`'s shape without that axis.
/// # Safety
/// `a` live.
pub unsafe fn reduce_axis(a: *const Array, op: i64, axis: i64) -> KResult<*mut Array> {
    let ar = null_check(a)?;
    if !(RED_SUM..=RED_NANMAX).contains(&op) {
        return err(ErrorKind::InternalError, format!("unknown reduction {op}"));
    }
    let nd = dims(ar);
    let dt = DType::from_i64(ar.dtype);
    let odt = reduce_dtype(op, dt);
    if nd == 0 {
        // NumPy accepts axis 0 (or -1) on a 0-d array and reduces its one element.
        norm_axis(axis, 1).map_err(|_| {
            (
                ErrorKind::AxisError,
                format!("axis {axis} is out of bounds for array of dimension 0"),
            )
        })?;
        let out = new_array(odt, &[])?;
        match reduce_row(ar, 0, 1, 1, op, true) {
            Ok(v) => v.write_to((*out).data),
            Err(e) => {
                kiln_decref(out as *mut u8);
                return Err(e);
            }
        }
        return Ok(out);
    }
    let ax = norm_axis(axis, nd)?;
    let (n, s) = (ar.shape[ax], ar.strides[ax]);
    let pw = (0..nd).all(|k| k == ax || ar.shape[k] <= 1 || ar.strides[k].abs() >= s.abs());
    let oshape: Vec<i64> = (0..nd).filter(|&k| k != ax).map(|k| ar.shape[k]).collect();
    let ostr: Vec<i64> = (0..nd)
        .filter(|&k| k != ax)
        .map(|k| ar.strides[k])
        .collect();
    let out = new_array(odt, &oshape)?;
    let total: i64 = oshape.iter().product();
    let ow = odt.size();
    let mut idx = [0i64; MAX_NDIM];
    for j in 0..total.max(0) as usize {
        let o: i64 = (0..oshape.len()).map(|k| idx[k] * ostr[k]).sum();
        match reduce_row(ar, o as isize, s as isize, n as usize, op, pw) {
            Ok(v) => v.write_to((*out).data.add(j * ow)),
            Err(e) => {
                kiln_decref(out as *mut u8);
                return Err(e);
            }
        }
        for k in (0..oshape.len()).rev() {
            idx[k] += 1;
            if idx[k] < oshape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    if total == 0
        && n == 0
        && matches!(
            op,
            RED_MIN | RED_MAX | RED_ARGMIN | RED_ARGMAX | RED_NANMIN | RED_NANMAX
        )
    {
        // NumPy refuses an empty reduction axis even when the result is empty.
        kiln_decref(out as *mut u8);
        return reduce_row(ar, 0, 1, 0, op, pw).map(|_| std::ptr::null_mut());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Entry points

/// # Safety
/// `ctx` live; `a` live; `shape` points at `ndim` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_reshape(
    ctx: *mut ExecCtx,
    a: *mut Array,
    ndim: i64,
    shape: *const i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        if !(0..=MAX_NDIM as i64).contains(&ndim) {
            return err(
                ErrorKind::ValueError,
                format!("arrays have at most {MAX_NDIM} dimensions, got {ndim}"),
            );
        }
        let sh = if ndim == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(shape, ndim as usize)
        };
        reshape(a, sh)
    })
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_transpose(ctx: *mut ExecCtx, a: *mut Array) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || transpose(a))
}

/// # Safety
/// `ctx` live; `a` live; `specs` points at `4 * nspec` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_slice(
    ctx: *mut ExecCtx,
    a: *mut Array,
    specs: *const i64,
    nspec: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        let nspec = nspec.max(0) as usize;
        let sp: Vec<[i64; 4]> = (0..nspec)
            .map(|k| {
                let p = specs.add(4 * k);
                [*p, *p.add(1), *p.add(2), *p.add(3)]
            })
            .collect();
        slice(a, &sp)
    })
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_astype(
    ctx: *mut ExecCtx,
    a: *const Array,
    dtype: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        astype(a, DType::from_i64(dtype))
    })
}

/// # Safety
/// `ctx` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_eye(ctx: *mut ExecCtx, n: i64, dtype: i64) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || eye(n, DType::from_i64(dtype)))
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_cumsum(ctx: *mut ExecCtx, a: *const Array) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || cumsum(a))
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_reduce_axis(
    ctx: *mut ExecCtx,
    a: *const Array,
    op: i64,
    axis: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || reduce_axis(a, op, axis))
}
