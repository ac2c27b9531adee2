//! Sorting: `np.sort` (a sorted copy), `a.sort()` (in place), `np.argsort` and `np.median`,
//! along one axis or over the flattened array. NumPy's order: NaN after every number
//! (a complex number with a NaN part after every other, complex compared by real part, then
//! imaginary part). `argsort` is stable (NumPy's `kind="stable"`): equal elements keep their
//! order, where NumPy's default quicksort may order them either way.

use crate::alloc::new_array;
use crate::array::{Array, DType, MAX_NDIM};
use crate::array_ops::Scalar;
use crate::ctx::ExecCtx;
use crate::guard::{guard, KResult};
use crate::nd::{astype, dims, norm_axis, read_e, write_e, E};
use crate::obj::kiln_decref;
use std::cmp::Ordering;

/// `axis` meaning NumPy's `axis=None`: the flattened array.
pub const AXIS_NONE: i64 = i64::MIN;

fn nan_last(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        (x, y) => x.cmp(&y),
    }
}

/// NumPy's sort order of two elements of one dtype.
fn order(a: &E, b: &E) -> Ordering {
    match (a, b) {
        (E::B(x), E::B(y)) => x.cmp(y),
        (E::I(x), E::I(y)) => x.cmp(y),
        (E::F(x), E::F(y)) => nan_last(*x, *y),
        (E::S(x), E::S(y)) => nan_last(*x as f64, *y as f64),
        (E::C(ar, ai), E::C(br, bi)) => {
            let (na, nb) = (ar.is_nan() || ai.is_nan(), br.is_nan() || bi.is_nan());
            if na || nb {
                return na.cmp(&nb);
            }
            nan_last(*ar, *br).then(nan_last(*ai, *bi))
        }
        _ => Ordering::Equal,
    }
}

/// The element offsets (in elements, from `data`) of every lane along `axis` of an array of
/// `shape` and `strides`: one `Vec` per lane, in C order of the other axes.
fn lanes(shape: &[i64], strides: &[i64], axis: usize) -> Vec<Vec<i64>> {
    let nd = shape.len();
    let n = shape[axis].max(0);
    let others: Vec<usize> = (0..nd).filter(|&k| k != axis).collect();
    let count: i64 = others.iter().map(|&k| shape[k].max(0)).product();
    let mut out = Vec::with_capacity(count.max(0) as usize);
    let mut idx = [0i64; MAX_NDIM];
    for _ in 0..count {
        let base: i64 = others.iter().map(|&k| idx[k] * strides[k]).sum();
        out.push((0..n).map(|i| base + i * strides[axis]).collect());
        for &k in others.iter().rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// A C-contiguous copy of `a`, flattened to one axis when `axis` is [`AXIS_NONE`]; and the
/// axis to work along in it.
unsafe fn working_copy(a: *mut Array, axis: i64) -> KResult<(*mut Array, usize)> {
    let dt = DType::from_i64((*a).dtype);
    let copy = astype(a, dt)?;
    if axis != AXIS_NONE {
        return match norm_axis(axis, dims(&*copy)) {
            Ok(ax) => Ok((copy, ax)),
            Err(e) => {
                kiln_decref(copy as *mut u8);
                Err(e)
            }
        };
    }
    let c = &mut *copy;
    c.shape[0] = c.size;
    c.strides[0] = 1;
    c.ndim = 1;
    Ok((copy, 0))
}

/// Sorts every lane along `axis` of the array at `data` in place.
unsafe fn sort_in(ar: &Array, axis: usize) {
    let dt = DType::from_i64(ar.dtype);
    let nd = dims(ar);
    let w = dt.size() as isize;
    for lane in lanes(&ar.shape[..nd], &ar.strides[..nd], axis) {
        let at = |o: i64| ar.data.offset(o as isize * w);
        let mut vals: Vec<E> = lane.iter().map(|&o| read_e(dt, at(o))).collect();
        vals.sort_by(order);
        for (&o, v) in lane.iter().zip(vals) {
            write_e(dt, at(o), v);
        }
    }
}

/// `np.sort(a, axis)`: a sorted C-contiguous copy.
/// # Safety
/// `a` live.
pub unsafe fn sorted(a: *mut Array, axis: i64) -> KResult<*mut Array> {
    let (copy, ax) = working_copy(a, axis)?;
    sort_in(&*copy, ax);
    Ok(copy)
}

/// `a.sort(axis)`: sorts `a`'s own elements (a view sorts its base's).
/// # Safety
/// `a` live.
pub unsafe fn sort_in_place(a: *mut Array, axis: i64) -> KResult<()> {
    let ar = &*a;
    let ax = norm_axis(axis, dims(ar))?;
    sort_in(ar, ax);
    crate::array::mark_host_written(a);
    Ok(())
}

/// `np.argsort(a, axis)`: the indices that sort each lane, stable.
/// # Safety
/// `a` live.
pub unsafe fn argsort(a: *mut Array, axis: i64) -> KResult<*mut Array> {
    let (copy, ax) = working_copy(a, axis)?;
    let c = &*copy;
    let nd = dims(c);
    let out = match new_array(DType::I64, &c.shape[..nd]) {
        Ok(o) => o,
        Err(e) => {
            kiln_decref(copy as *mut u8);
            return Err(e);
        }
    };
    let dt = DType::from_i64(c.dtype);
    let w = dt.size() as isize;
    let od = (*out).data as *mut i64;
    // `copy` and `out` are both C-contiguous of one shape: a lane has the same offsets in each.
    for lane in lanes(&c.shape[..nd], &c.strides[..nd], ax) {
        let vals: Vec<E> = lane
            .iter()
            .map(|&o| read_e(dt, c.data.offset(o as isize * w)))
            .collect();
        let mut order_idx: Vec<usize> = (0..lane.len()).collect();
        order_idx.sort_by(|&i, &j| order(&vals[i], &vals[j]));
        for (&o, i) in lane.iter().zip(order_idx) {
            *od.offset(o as isize) = i as i64;
        }
    }
    kiln_decref(copy as *mut u8);
    Ok(out)
}

/// The dtype of `np.median` over `dt`: float32 and complex keep theirs, the rest are float64.
pub fn median_dtype(dt: DType) -> DType {
    match dt {
        DType::F32 | DType::C128 => dt,
        _ => DType::F64,
    }
}

/// The median of one sorted lane, as NumPy computes it (the mean of the two middle elements
/// for an even length; NaN when the lane holds one, since NaNs sort last).
fn median_of(sorted: &[E], out_dt: DType) -> E {
    let n = sorted.len();
    if n == 0 {
        return E::F(f64::NAN);
    }
    let as_f64 = |e: &E| match *e {
        E::B(b) => b as i64 as f64,
        E::I(v) => v as f64,
        E::F(v) => v,
        E::S(v) => v as f64,
        E::C(r, _) => r,
    };
    let last = &sorted[n - 1];
    let (lo, hi) = (&sorted[(n - 1) / 2], &sorted[n / 2]);
    match out_dt {
        DType::F32 => {
            let f = |e: &E| match *e {
                E::S(v) => v,
                _ => 0.0,
            };
            if f(last).is_nan() {
                return E::S(f32::NAN);
            }
            E::S((f(lo) + f(hi)) / 2.0)
        }
        DType::C128 => {
            let c = |e: &E| match *e {
                E::C(r, i) => (r, i),
                _ => (0.0, 0.0),
            };
            let (lr, li) = c(last);
            if lr.is_nan() || li.is_nan() {
                return E::C(f64::NAN, f64::NAN);
            }
            let ((ar, ai), (br, bi)) = (c(lo), c(hi));
            E::C((ar + br) / 2.0, (ai + bi) / 2.0)
        }
        _ => {
            if as_f64(last).is_nan() {
                return E::F(f64::NAN);
            }
            E::F((as_f64(lo) + as_f64(hi)) / 2.0)
        }
    }
}

/// `np.median(a, axis)`: over the flattened array (a 0-d array, read as a scalar by the
/// caller) or along `axis` (an array without that axis).
/// # Safety
/// `a` live.
pub unsafe fn median(a: *mut Array, axis: i64) -> KResult<*mut Array> {
    let (copy, ax) = working_copy(a, axis)?;
    let c = &*copy;
    let nd = dims(c);
    let dt = DType::from_i64(c.dtype);
    let out_dt = median_dtype(dt);
    let out_shape: Vec<i64> = (0..nd).filter(|&k| k != ax).map(|k| c.shape[k]).collect();
    let out = match new_array(out_dt, &out_shape) {
        Ok(o) => o,
        Err(e) => {
            kiln_decref(copy as *mut u8);
            return Err(e);
        }
    };
    let w = dt.size() as isize;
    let ow = out_dt.size() as isize;
    for (k, lane) in lanes(&c.shape[..nd], &c.strides[..nd], ax)
        .into_iter()
        .enumerate()
    {
        let mut vals: Vec<E> = lane
            .iter()
            .map(|&o| read_e(dt, c.data.offset(o as isize * w)))
            .collect();
        vals.sort_by(order);
        write_e(
            out_dt,
            (*out).data.offset(k as isize * ow),
            median_of(&vals, out_dt),
        );
    }
    kiln_decref(copy as *mut u8);
    Ok(out)
}

/// `np.median(a)` over every element, as a scalar.
/// # Safety
/// `a` live.
pub unsafe fn median_all(a: *mut Array) -> KResult<Scalar> {
    let m = median(a, AXIS_NONE)?;
    let dt = DType::from_i64((*m).dtype);
    let s = match read_e(dt, (*m).data) {
        E::S(v) => Scalar::F32(v),
        E::C(r, i) => Scalar::C128(r, i),
        E::F(v) => Scalar::F64(v),
        _ => Scalar::F64(f64::NAN),
    };
    kiln_decref(m as *mut u8);
    Ok(s)
}

/// Writes `np.median(a)` to `out` and returns 0, or raises and returns 1.
/// # Safety
/// `ctx` live; `a` live; `out` has room for 16 bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_median_all(ctx: *mut ExecCtx, a: *mut Array, out: *mut u8) -> i64 {
    guard(ctx, 1, || {
        median_all(a)?.write_to(out);
        Ok(0)
    })
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_sort(ctx: *mut ExecCtx, a: *mut Array, axis: i64) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || sorted(a, axis))
}

/// Returns 0, or 1 after raising.
/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_sort_in_place(ctx: *mut ExecCtx, a: *mut Array, axis: i64) -> i64 {
    guard(ctx, 1, || sort_in_place(a, axis).map(|_| 0))
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_argsort(ctx: *mut ExecCtx, a: *mut Array, axis: i64) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || argsort(a, axis))
}

/// # Safety
/// `ctx` live; `a` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_median(ctx: *mut ExecCtx, a: *mut Array, axis: i64) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || median(a, axis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nd::E;

    #[test]
    fn nan_sorts_last_and_complex_by_parts() {
        let mut v = [E::F(2.0), E::F(f64::NAN), E::F(-1.0), E::F(0.5)];
        v.sort_by(order);
        assert!(matches!(v[..3], [E::F(a), E::F(b), E::F(c)] if a == -1.0 && b == 0.5 && c == 2.0));
        assert!(matches!(v[3], E::F(x) if x.is_nan()));
        let mut c = [
            E::C(1.0, 2.0),
            E::C(1.0, -1.0),
            E::C(f64::NAN, 0.0),
            E::C(0.0, 9.0),
        ];
        c.sort_by(order);
        assert!(matches!(
            c[..3],
            [E::C(0.0, 9.0), E::C(1.0, -1.0), E::C(1.0, 2.0)]
        ));
    }

    #[test]
    fn lanes_walk_every_axis() {
        // A 2x3 C-contiguous array: rows are lanes of axis 1, columns of axis 0.
        assert_eq!(
            lanes(&[2, 3], &[3, 1], 1),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        assert_eq!(
            lanes(&[2, 3], &[3, 1], 0),
            vec![vec![0, 3], vec![1, 4], vec![2, 5]]
        );
        assert!(lanes(&[0, 3], &[3, 1], 1).is_empty());
    }

    #[test]
    fn median_of_even_and_nan_lanes() {
        assert!(matches!(median_of(&[E::I(1), E::I(4)], DType::F64), E::F(v) if v == 2.5));
        assert!(
            matches!(median_of(&[E::F(1.0), E::F(f64::NAN)], DType::F64), E::F(v) if v.is_nan())
        );
        assert!(
            matches!(median_of(&[E::S(1.0), E::S(2.0), E::S(7.0)], DType::F32), E::S(v) if v == 2.0)
        );
    }
}
