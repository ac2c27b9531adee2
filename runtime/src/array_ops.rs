//! Array constructors and whole-array operations that compiled code calls: `full`,
//! `arange`, `linspace`, `copy`, reductions, and raising errors with NumPy's words.

use crate::alloc::{fill_bytes, new_array, read_shape};
use crate::array::{Array, DType};
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};

/// Float → int64 as C casts on x86-64 (NumPy's unsafe cast): NaN and out-of-range values
/// give `i64::MIN` rather than Rust's saturation.
pub fn f64_to_i64_c(v: f64) -> i64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if v.is_nan() || !(-TWO63..TWO63).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// The bytes of one element of `dtype` holding the complex value `re + im·j`, converted as
/// NumPy's unsafe cast does (complex → real drops the imaginary part).
pub(crate) fn elem_from_c128(dtype: DType, re: f64, im: f64) -> Vec<u8> {
    crate::nd::elem_bytes(dtype, crate::nd::E::C(re, im))
}

pub(crate) fn elem_from_i64(dtype: DType, v: i64) -> Vec<u8> {
    crate::nd::elem_bytes(dtype, crate::nd::E::I(v))
}

unsafe fn full_with(
    ctx: *mut ExecCtx,
    dtype: i64,
    ndim: i64,
    shape: *const i64,
    elem: impl FnOnce(DType) -> Vec<u8>,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        let dt = DType::from_i64(dtype);
        let a = new_array(dt, read_shape(ndim, shape)?)?;
        fill_bytes(a, &elem(dt));
        Ok(a)
    })
}

/// # Safety
/// `ctx` live; `shape` points at `ndim` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_full_i64(
    ctx: *mut ExecCtx,
    dtype: i64,
    ndim: i64,
    shape: *const i64,
    v: i64,
) -> *mut Array {
    let dt = DType::from_i64(dtype);
    if let Some((lo, hi)) = dt.int_range() {
        if !(lo..=hi).contains(&v) {
            kiln_int_bounds_error(ctx, v, dtype);
            return std::ptr::null_mut();
        }
    }
    full_with(ctx, dtype, ndim, shape, |dt| elem_from_i64(dt, v))
}

/// # Safety
/// `ctx` live; `shape` points at `ndim` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_full_f64(
    ctx: *mut ExecCtx,
    dtype: i64,
    ndim: i64,
    shape: *const i64,
    v: f64,
) -> *mut Array {
    full_with(ctx, dtype, ndim, shape, |dt| elem_from_c128(dt, v, 0.0))
}

/// # Safety
/// `ctx` live; `shape` points at `ndim` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_full_c128(
    ctx: *mut ExecCtx,
    dtype: i64,
    ndim: i64,
    shape: *const i64,
    re: f64,
    im: f64,
) -> *mut Array {
    full_with(ctx, dtype, ndim, shape, |dt| elem_from_c128(dt, re, im))
}

/// `a.fill(v)`: every element of `a` (a view: of its base's elements it shows) set to `e`,
/// converted to `a`'s dtype.
/// # Safety
/// `a` live.
unsafe fn fill_with(a: *mut Array, e: crate::nd::E) {
    let dt = DType::from_i64((*a).dtype);
    let bytes = crate::nd::elem_bytes(dt, e);
    for off in element_offsets(a) {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), (*a).data.offset(off), bytes.len());
    }
    crate::array::mark_host_written(a);
}

/// # Safety
/// `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_fill_i64(a: *mut Array, v: i64) {
    fill_with(a, crate::nd::E::I(v))
}

/// # Safety
/// `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_fill_f64(a: *mut Array, v: f64) {
    fill_with(a, crate::nd::E::F(v))
}

/// # Safety
/// `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_fill_c128(a: *mut Array, re: f64, im: f64) {
    fill_with(a, crate::nd::E::C(re, im))
}

/// `arange(start, stop, step)` over ints: length `ceil((stop - start) / step)`.
pub fn arange_i64(start: i64, stop: i64, step: i64) -> KResult<*mut Array> {
    if step == 0 {
        return err(ErrorKind::ValueError, "Maximum allowed size exceeded");
    }
    let (span, st) = (stop as i128 - start as i128, step as i128);
    let len = if st > 0 {
        (span + st - 1).div_euclid(st)
    } else {
        (-span + -st - 1).div_euclid(-st)
    }
    .max(0);
    let len = i64::try_from(len).map_err(|_| {
        (
            ErrorKind::ValueError,
            "Maximum allowed size exceeded".into(),
        )
    })?;
    let a = new_array(DType::I64, &[len])?;
    // SAFETY: fresh contiguous i64 array of `len` elements.
    let out = unsafe { std::slice::from_raw_parts_mut((*a).data as *mut i64, len as usize) };
    for (i, o) in out.iter_mut().enumerate() {
        *o = start.wrapping_add((i as i64).wrapping_mul(step));
    }
    Ok(a)
}

/// `arange` over floats, as NumPy computes it: length `ceil((stop - start) / step)`,
/// `a[i] = start + i * delta` where `delta = (start + step) - start` (NumPy's `DOUBLE_fill`).
pub fn arange_f64(start: f64, stop: f64, step: f64) -> KResult<*mut Array> {
    if step == 0.0 {
        return err(ErrorKind::ValueError, "Maximum allowed size exceeded");
    }
    let q = ((stop - start) / step).ceil();
    if q.is_nan() {
        return err(ErrorKind::ValueError, "arange: cannot compute length");
    }
    if q > i64::MAX as f64 {
        return err(ErrorKind::ValueError, "Maximum allowed size exceeded");
    }
    let len = if q > 0.0 { q as i64 } else { 0 };
    let a = new_array(DType::F64, &[len])?;
    // SAFETY: fresh contiguous f64 array of `len` elements.
    let out = unsafe { std::slice::from_raw_parts_mut((*a).data as *mut f64, len as usize) };
    if len > 0 {
        out[0] = start;
    }
    if len > 1 {
        out[1] = start + step;
    }
    let delta = (start + step) - start;
    for (i, o) in out.iter_mut().enumerate().skip(2) {
        *o = start + i as f64 * delta;
    }
    Ok(a)
}

/// # Safety
/// `ctx` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_arange_i64(
    ctx: *mut ExecCtx,
    start: i64,
    stop: i64,
    step: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || arange_i64(start, stop, step))
}

/// # Safety
/// `ctx` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_arange_f64(
    ctx: *mut ExecCtx,
    start: f64,
    stop: f64,
    step: f64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || arange_f64(start, stop, step))
}

/// `np.linspace(start, stop, num)` values, bit for bit as `numpy/_core/function_base.py`:
/// `y = arange(num) * step + start` (or `/ div * delta` when `step` underflows to 0), and
/// the last element set to `stop`.
pub fn linspace_values(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = num as i64 - 1;
    let delta = stop - start;
    let mut y: Vec<f64> = (0..num).map(|i| i as f64).collect();
    if div > 0 {
        let step = delta / div as f64;
        if step == 0.0 {
            for v in &mut y {
                *v = *v / div as f64 * delta;
            }
        } else {
            for v in &mut y {
                *v *= step;
            }
        }
    } else {
        for v in &mut y {
            *v *= delta;
        }
    }
    for v in &mut y {
        *v += start;
    }
    if num > 1 {
        y[num - 1] = stop;
    }
    y
}

pub fn linspace(start: f64, stop: f64, num: i64, dtype: DType) -> KResult<*mut Array> {
    if num < 0 {
        return err(
            ErrorKind::ValueError,
            format!("Number of samples, {num}, must be non-negative."),
        );
    }
    let y = linspace_values(start, stop, num as usize);
    let a = new_array(dtype, &[num])?;
    // SAFETY: fresh contiguous array of `num` elements of `dtype`.
    unsafe {
        let d = (*a).data;
        for (i, &v) in y.iter().enumerate() {
            // NumPy floors before casting to an integer dtype.
            let v = if dtype.is_int() { v.floor() } else { v };
            crate::nd::write_e(dtype, d.add(i * dtype.size()), crate::nd::E::F(v));
        }
    }
    Ok(a)
}

/// # Safety
/// `ctx` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_linspace(
    ctx: *mut ExecCtx,
    start: f64,
    stop: f64,
    num: i64,
    dtype: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        linspace(start, stop, num, DType::from_i64(dtype))
    })
}

/// Byte offsets of every element of `a` in logical C order.
/// # Safety
/// `a` must be a live array.
pub unsafe fn element_offsets(a: *const Array) -> Vec<isize> {
    let a = &*a;
    let nd = a.ndim.clamp(0, crate::array::MAX_NDIM as i64) as usize;
    let w = DType::from_i64(a.dtype).size() as isize;
    let shape = &a.shape[..nd];
    let strides = &a.strides[..nd];
    let total: i64 = shape.iter().product();
    let mut out = Vec::with_capacity(total.max(0) as usize);
    if total <= 0 {
        return out;
    }
    let mut idx = [0i64; crate::array::MAX_NDIM];
    loop {
        let off: i64 = (0..nd).map(|k| idx[k] * strides[k]).sum();
        out.push(off as isize * w);
        let mut k = nd;
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// A fresh C-contiguous copy of any (possibly strided) array.
/// # Safety
/// `a` must be a live array.
pub unsafe fn copy_array(a: *const Array) -> KResult<*mut Array> {
    let dt = DType::from_i64((*a).dtype);
    let nd = (*a).ndim.clamp(0, crate::array::MAX_NDIM as i64) as usize;
    let shape = (*a).shape;
    let strides = (*a).strides;
    let out = new_array(dt, &shape[..nd])?;
    let n = (*out).size as usize;
    if n == 0 {
        return Ok(out);
    }
    let w = dt.size();
    let (src, dst) = ((*a).data, (*out).data);
    let out_strides = (*out).strides;
    if out_strides[..nd] == strides[..nd] {
        std::ptr::copy_nonoverlapping(src, dst, n * w);
        return Ok(out);
    }
    // Walk the outer dimensions with an odometer and copy each innermost row, so a copy
    // needs no memory beyond the result.
    let (inner_n, inner_s) = if nd == 0 {
        (1, 1)
    } else {
        (shape[nd - 1] as usize, strides[nd - 1] as isize)
    };
    let outer = nd.saturating_sub(1);
    let mut idx = [0i64; crate::array::MAX_NDIM];
    let mut d = dst;
    loop {
        let base: i64 = (0..outer).map(|k| idx[k] * strides[k]).sum();
        let row = src.offset(base as isize * w as isize);
        if inner_s == 1 {
            std::ptr::copy_nonoverlapping(row, d, inner_n * w);
        } else {
            for j in 0..inner_n {
                std::ptr::copy_nonoverlapping(
                    row.offset(j as isize * inner_s * w as isize),
                    d.add(j * w),
                    w,
                );
            }
        }
        d = d.add(inner_n * w);
        let mut k = outer;
        loop {
            if k == 0 {
                return Ok(out);
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// A copy of `a` that keeps sharing as it was: arrays with the same owner (an array and its
/// views, or two views of one array) are copied into views of one new owner, through
/// `owners` (old owner → new owner, each holding one reference the caller releases).
/// `%%compare` keeps the session's arrays this way, so a write through a view still reaches
/// the array it views after the copies are put back.
/// # Safety
/// `a` a live array; `owners` holds live arrays made by earlier calls.
pub unsafe fn copy_keeping_views(
    a: *mut Array,
    owners: &mut std::collections::HashMap<usize, *mut Array>,
) -> KResult<*mut Array> {
    let owner = if (*a).base.is_null() { a } else { (*a).base };
    let copy = match owners.get(&(owner as usize)) {
        Some(&c) => c,
        None => {
            let dt = DType::from_i64((*owner).dtype);
            let nd = (*owner).ndim.clamp(0, crate::array::MAX_NDIM as i64) as usize;
            let bytes = (*owner).size.max(0) as usize * dt.size();
            let shape = (*owner).shape;
            let c = new_array(dt, &shape[..nd])?;
            if bytes > 0 {
                // The owner's bytes as they lie (its strides kept), so views map the same.
                std::ptr::copy_nonoverlapping((*owner).data, (*c).data, bytes);
            }
            (*c).strides = (*owner).strides;
            owners.insert(owner as usize, c);
            c
        }
    };
    if owner == a {
        crate::obj::kiln_incref(copy as *mut u8);
        return Ok(copy);
    }
    let nd = (*a).ndim.clamp(0, crate::array::MAX_NDIM as i64) as usize;
    let off = (*a).data.offset_from((*owner).data);
    let (shape, strides) = ((*a).shape, (*a).strides);
    crate::nd::make_view(copy, (*copy).data.offset(off), &shape[..nd], &strides[..nd])
}

/// # Safety
/// `ctx` live; `a` a live array.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_copy(ctx: *mut ExecCtx, a: *const Array) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        if a.is_null() {
            return err(ErrorKind::InternalError, "copy of a null array");
        }
        copy_array(a)
    })
}

// ---------------------------------------------------------------------------------------
// Reductions

/// NumPy's `pairwise_sum` (numpy/_core/src/umath/loops_utils.h.src) over `n` elements
/// read by `get`: 8 accumulators for blocks up to 128, halving above.
pub(crate) fn pairwise<T, F>(get: &F, lo: usize, n: usize) -> T
where
    T: Copy + std::ops::Add<Output = T> + Default,
    F: Fn(usize) -> T,
{
    if n < 8 {
        let mut res = T::default();
        for i in 0..n {
            res = res + get(lo + i);
        }
        res
    } else if n <= 128 {
        let mut r = [T::default(); 8];
        for (j, rj) in r.iter_mut().enumerate() {
            *rj = get(lo + j);
        }
        let mut i = 8;
        while i < n - n % 8 {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj = *rj + get(lo + i + j);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res = res + get(lo + i);
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(get, lo, n2) + pairwise(get, lo + n2, n - n2)
    }
}

/// NumPy's complex `pairwise_sum`: it walks real/imag halves with `n` counted in f64
/// units, so blocks hold 4 complex numbers and the block limit is 64 of them.
pub(crate) fn pairwise_c(get: &dyn Fn(usize) -> (f64, f64), lo: usize, n: usize) -> (f64, f64) {
    // `n` and offsets are in half-elements (2 per complex), as in NumPy.
    let at = |i: usize| get(lo + i / 2);
    if n < 8 {
        let (mut rr, mut ri) = (0.0, 0.0);
        let mut i = 0;
        while i < n {
            let (a, b) = at(i);
            rr += a;
            ri += b;
            i += 2;
        }
        (rr, ri)
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        for k in 0..4 {
            let (a, b) = at(2 * k);
            r[2 * k] = a;
            r[2 * k + 1] = b;
        }
        let mut i = 8;
        while i < n - n % 8 {
            for k in 0..4 {
                let (a, b) = at(i + 2 * k);
                r[2 * k] += a;
                r[2 * k + 1] += b;
            }
            i += 8;
        }
        let mut rr = (r[0] + r[2]) + (r[4] + r[6]);
        let mut ri = (r[1] + r[3]) + (r[5] + r[7]);
        while i < n {
            let (a, b) = at(i);
            rr += a;
            ri += b;
            i += 2;
        }
        (rr, ri)
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        let (a, b) = pairwise_c(get, lo, n2);
        let (c, d) = pairwise_c(get, lo + n2 / 2, n - n2);
        (a + c, b + d)
    }
}

/// The order NumPy's iterator walks a reduction in: axes sorted by |stride| (largest
/// outermost), size-1 axes dropped, contiguous runs coalesced. Returns (outer element
/// offsets, inner length, inner stride), offsets and stride in elements.
unsafe fn reduction_layout(a: &Array) -> (Vec<i64>, usize, i64) {
    let nd = a.ndim.clamp(0, crate::array::MAX_NDIM as i64) as usize;
    let mut dims: Vec<(i64, i64)> = (0..nd)
        .filter(|&k| a.shape[k] != 1)
        .map(|k| (a.shape[k], a.strides[k]))
        .collect();
    if dims.iter().any(|d| d.0 == 0) {
        return (Vec::new(), 0, 1);
    }
    dims.sort_by_key(|d| std::cmp::Reverse(d.1.unsigned_abs()));
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for d in dims {
        match merged.last_mut() {
            Some(last) if last.1 == d.1 * d.0 => *last = (last.0 * d.0, d.1),
            _ => merged.push(d),
        }
    }
    let (inner_n, inner_s) = merged.pop().unwrap_or((1, 1));
    let mut outer = vec![0i64];
    for (n, s) in merged {
        outer = outer
            .iter()
            .flat_map(|&o| (0..n).map(move |i| o + i * s))
            .collect();
    }
    (outer, inner_n as usize, inner_s)
}

/// Reduction operators.
pub const RED_SUM: i64 = 0;
pub const RED_PROD: i64 = 1;
pub const RED_MIN: i64 = 2;
pub const RED_MAX: i64 = 3;
pub const RED_MEAN: i64 = 4;

/// NumPy's buffer size: casting reductions (int/bool mean in f64) sum buffers of this many.
pub(crate) const NPY_BUFSIZE: usize = 8192;

/// The result of a reduction in its natural representation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    I64(i64),
    F64(f64),
    F32(f32),
    C128(f64, f64),
}

impl Scalar {
    /// Writes the value to `out` (bool one byte, c128 two f64).
    /// # Safety
    /// `out` must have room for the value.
    pub unsafe fn write_to(self, out: *mut u8) {
        match self {
            Scalar::Bool(b) => *out = b as u8,
            Scalar::I64(v) => (out as *mut i64).write_unaligned(v),
            Scalar::F64(v) => (out as *mut f64).write_unaligned(v),
            Scalar::F32(v) => (out as *mut f32).write_unaligned(v),
            Scalar::C128(r, i) => {
                (out as *mut f64).write_unaligned(r);
                (out as *mut f64).add(1).write_unaligned(i);
            }
        }
    }
}

/// NumPy's `min`/`max` step: NaN wins, otherwise the smaller/larger.
pub(crate) fn pick_f64(acc: f64, x: f64, want_max: bool) -> f64 {
    if acc.is_nan() {
        acc
    } else if x.is_nan() || (if want_max { x > acc } else { x < acc }) {
        x
    } else {
        acc
    }
}

/// Complex order is lexicographic (real, then imaginary); a NaN anywhere propagates.
pub(crate) fn pick_c(acc: (f64, f64), x: (f64, f64), want_max: bool) -> (f64, f64) {
    if acc.0.is_nan() || acc.1.is_nan() {
        return acc;
    }
    if x.0.is_nan() || x.1.is_nan() {
        return x;
    }
    let better = if want_max {
        x.0 > acc.0 || (x.0 == acc.0 && x.1 > acc.1)
    } else {
        x.0 < acc.0 || (x.0 == acc.0 && x.1 < acc.1)
    };
    if better {
        x
    } else {
        acc
    }
}

/// Complex division as NumPy's `CDOUBLE_divide` (Smith's method; x/0 gives inf/nan).
pub fn c_div(ar: f64, ai: f64, br: f64, bi: f64) -> (f64, f64) {
    let (abr, abi) = (br.abs(), bi.abs());
    if abr >= abi {
        if abr == 0.0 && abi == 0.0 {
            (ar / abr, ai / abr)
        } else {
            let rat = bi / br;
            let scl = 1.0 / (br + bi * rat);
            ((ar + ai * rat) * scl, (ai - ar * rat) * scl)
        }
    } else {
        let rat = br / bi;
        let scl = 1.0 / (bi + br * rat);
        ((ar * rat + ai) * scl, (ai * rat - ar) * scl)
    }
}

/// Reduces the whole array `a` with `op` (see the `RED_*` constants).
/// # Safety
/// `a` must be a live array.
pub unsafe fn reduce(a: *const Array, op: i64) -> KResult<Scalar> {
    let a = &*a;
    let stored = DType::from_i64(a.dtype);
    // A narrow integer's elements read as int64 and reduce as int64's do.
    let dt = if stored.is_int() { DType::I64 } else { stored };
    let n = a.shape[..a.ndim.clamp(0, 4) as usize]
        .iter()
        .product::<i64>() as usize;
    let (outer, inner_n, inner_s) = reduction_layout(a);
    let base = a.data;
    // Element `j` of the outer row starting at element offset `o`.
    let at = |o: i64, j: usize| o + j as i64 * inner_s;
    let rd_f64 = |e: i64| *(base as *const f64).offset(e as isize);
    let rd_f32 = |e: i64| *(base as *const f32).offset(e as isize);
    let rd_i64 = |e: i64| stored.read_int(base.offset(e as isize * stored.size() as isize));
    let rd_b = |e: i64| *base.offset(e as isize) != 0;
    let rd_c = |e: i64| {
        let p = (base as *const f64).offset(2 * e as isize);
        (*p, *p.add(1))
    };
    // Every element in iteration order (for the order-insensitive reductions).
    let each = |f: &mut dyn FnMut(i64)| {
        for &o in &outer {
            for j in 0..inner_n {
                f(at(o, j));
            }
        }
    };
    if (op == RED_MIN || op == RED_MAX) && n == 0 {
        let name = if op == RED_MIN { "minimum" } else { "maximum" };
        return err(
            ErrorKind::ValueError,
            format!("zero-size array to reduction operation {name} which has no identity"),
        );
    }
    let want_max = op == RED_MAX;
    Ok(match (op, dt) {
        (RED_SUM, DType::Bool) => {
            let mut s = 0i64;
            each(&mut |e| s += rd_b(e) as i64);
            Scalar::I64(s)
        }
        (RED_SUM, DType::I64) => {
            let mut s = 0i64;
            each(&mut |e| s = s.wrapping_add(rd_i64(e)));
            Scalar::I64(s)
        }
        (RED_PROD, DType::Bool) => {
            let mut s = 1i64;
            each(&mut |e| s *= rd_b(e) as i64);
            Scalar::I64(s)
        }
        (RED_PROD, DType::I64) => {
            let mut s = 1i64;
            each(&mut |e| s = s.wrapping_mul(rd_i64(e)));
            Scalar::I64(s)
        }
        (RED_SUM | RED_MEAN, DType::F64) => {
            let mut s = 0.0f64;
            for &o in &outer {
                s += pairwise(&|j| rd_f64(at(o, j)), 0, inner_n);
            }
            if op == RED_MEAN {
                Scalar::F64(s / n as f64)
            } else {
                Scalar::F64(s)
            }
        }
        (RED_SUM | RED_MEAN, DType::F32) => {
            let mut s = 0.0f32;
            for &o in &outer {
                s += pairwise(&|j| rd_f32(at(o, j)), 0, inner_n);
            }
            if op == RED_MEAN {
                Scalar::F32(s / n as f32)
            } else {
                Scalar::F32(s)
            }
        }
        (RED_SUM | RED_MEAN, DType::C128) => {
            let (mut sr, mut si) = (0.0f64, 0.0f64);
            for &o in &outer {
                let (r, i) = pairwise_c(&|j| rd_c(at(o, j)), 0, 2 * inner_n);
                sr += r;
                si += i;
            }
            if op == RED_MEAN {
                let (r, i) = c_div(sr, si, n as f64, 0.0);
                Scalar::C128(r, i)
            } else {
                Scalar::C128(sr, si)
            }
        }
        (RED_MEAN, DType::Bool | DType::I64) => {
            // NumPy sums in float64 through its casting buffer: pairwise within each
            // buffer of 8192 elements, buffers added in order.
            let mut vals = Vec::with_capacity(n.min(NPY_BUFSIZE));
            let mut s = 0.0f64;
            each(&mut |e| {
                vals.push(if dt == DType::Bool {
                    rd_b(e) as i64 as f64
                } else {
                    rd_i64(e) as f64
                });
                if vals.len() == NPY_BUFSIZE {
                    s += pairwise(&|j| vals[j], 0, vals.len());
                    vals.clear();
                }
            });
            if !vals.is_empty() {
                s += pairwise(&|j| vals[j], 0, vals.len());
            }
            Scalar::F64(s / n as f64)
        }
        (RED_PROD, DType::F64) => {
            let mut s = 1.0f64;
            each(&mut |e| s *= rd_f64(e));
            Scalar::F64(s)
        }
        (RED_PROD, DType::F32) => {
            let mut s = 1.0f32;
            each(&mut |e| s *= rd_f32(e));
            Scalar::F32(s)
        }
        (RED_PROD, DType::C128) => {
            let (mut sr, mut si) = (1.0f64, 0.0f64);
            each(&mut |e| {
                let (r, i) = rd_c(e);
                (sr, si) = (sr * r - si * i, sr * i + si * r);
            });
            Scalar::C128(sr, si)
        }
        (RED_MIN | RED_MAX, DType::Bool) => {
            let mut s = !want_max;
            each(&mut |e| {
                if want_max {
                    s |= rd_b(e)
                } else {
                    s &= rd_b(e)
                }
            });
            Scalar::Bool(s)
        }
        (RED_MIN | RED_MAX, DType::I64) => {
            let mut s = if want_max { i64::MIN } else { i64::MAX };
            each(&mut |e| {
                let x = rd_i64(e);
                s = if want_max { s.max(x) } else { s.min(x) };
            });
            Scalar::I64(s)
        }
        (RED_MIN | RED_MAX, DType::F64) => {
            let mut s: Option<f64> = None;
            each(&mut |e| {
                let x = rd_f64(e);
                s = Some(s.map_or(x, |acc| pick_f64(acc, x, want_max)));
            });
            Scalar::F64(s.unwrap_or(f64::NAN))
        }
        (RED_MIN | RED_MAX, DType::F32) => {
            let mut s: Option<f64> = None;
            each(&mut |e| {
                let x = rd_f32(e) as f64;
                s = Some(s.map_or(x, |acc| pick_f64(acc, x, want_max)));
            });
            Scalar::F32(s.unwrap_or(f64::NAN) as f32)
        }
        (RED_MIN | RED_MAX, DType::C128) => {
            let mut s: Option<(f64, f64)> = None;
            each(&mut |e| {
                let x = rd_c(e);
                s = Some(s.map_or(x, |acc| pick_c(acc, x, want_max)));
            });
            let (r, i) = s.unwrap_or((f64::NAN, f64::NAN));
            Scalar::C128(r, i)
        }
        _ => return err(ErrorKind::InternalError, format!("unknown reduction {op}")),
    })
}

/// Whole-array reduction (`RED_*` here and in [`crate::nd`]: std, var, argmin, argmax, any,
/// all); writes the result to `out` and returns 0, or raises and returns 1.
/// # Safety
/// `ctx` live; `a` a live array; `out` has room for the result (16 bytes suffice).
#[no_mangle]
pub unsafe extern "C" fn kiln_array_reduce(
    ctx: *mut ExecCtx,
    a: *const Array,
    op: i64,
    out: *mut u8,
) -> i64 {
    guard(ctx, 1, || {
        if a.is_null() || out.is_null() {
            return err(ErrorKind::InternalError, "reduce on a null pointer");
        }
        crate::nd::reduce_whole(a, op)?.write_to(out);
        Ok(0)
    })
}

/// NumPy's message for an out-of-range index (also what `@gpu` kernels report).
pub fn index_error_message(index: i64, axis: i64, size: i64) -> String {
    format!("index {index} is out of bounds for axis {axis} with size {size}")
}

/// Raises NumPy's IndexError for an out-of-range index.
/// # Safety
/// `ctx` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_index_error(ctx: *mut ExecCtx, index: i64, axis: i64, size: i64) {
    if !ctx.is_null() {
        (*ctx).raise(
            ErrorKind::IndexError,
            index_error_message(index, axis, size),
        );
    }
}

/// NumPy 2's message for a Python integer that a narrow integer type cannot hold
/// (`np.uint8(300)`, `a + 300` for an int8 array).
pub fn int_bounds_message(v: i64, dtype: DType) -> String {
    format!(
        "Python integer {v} out of bounds for {}",
        dtype.numpy_name()
    )
}

/// Raises NumPy's OverflowError for `v` outside the range of integer `dtype`.
/// # Safety
/// `ctx` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_int_bounds_error(ctx: *mut ExecCtx, v: i64, dtype: i64) {
    if !ctx.is_null() {
        (*ctx).raise(
            ErrorKind::OverflowError,
            int_bounds_message(v, DType::from_i64(dtype)),
        );
    }
}

/// Raises `kind` with a UTF-8 message (invalid bytes are replaced).
/// # Safety
/// `ctx` live; `msg` points at `len` readable bytes (or is null with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn kiln_raise_msg(ctx: *mut ExecCtx, kind: i64, msg: *const u8, len: i64) {
    if ctx.is_null() {
        return;
    }
    let text = crate::strings::bytes_to_string(msg, len);
    (*ctx).raise(ErrorKind::from_i64(kind), text);
}
