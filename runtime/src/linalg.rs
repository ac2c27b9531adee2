//! Matrix products: `a @ b` / `np.dot` for 1-D and 2-D operands. Float64 and float32 go
//! through the `matrixmultiply` crate (blocked, SIMD kernels); int64, bool and complex128
//! use a plain loop. Mixed operands are first promoted to their common dtype.

use crate::alloc::new_array;
use crate::array::{Array, DType};
use crate::array_ops::Scalar;
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};
use crate::nd::{astype, dims};
use crate::obj::kiln_decref;

/// NumPy's promotion of two array dtypes.
pub fn promote(a: DType, b: DType) -> DType {
    DType::promote(a, b)
}

/// An operand converted to `dt` (a new reference either way; the caller decrefs it).
unsafe fn as_dtype(a: *mut Array, dt: DType) -> KResult<*mut Array> {
    if DType::from_i64((*a).dtype) == dt {
        crate::obj::kiln_incref(a as *mut u8);
        Ok(a)
    } else {
        astype(a, dt)
    }
}

fn mismatch(bk: i64, ak: i64) -> KResult<()> {
    err(
        ErrorKind::ValueError,
        format!(
            "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc \
             signature (n?,k),(k,m?)->(n?,m?) (size {bk} is different from {ak})"
        ),
    )
}

/// The operands as matrices: A is (n, k) with strides (rsa, csa), B is (k, m) with
/// strides (rsb, csb), in elements; a 1-D `a` is a row, a 1-D `b` a column.
struct Mats {
    n: usize,
    k: usize,
    m: usize,
    rsa: isize,
    csa: isize,
    rsb: isize,
    csb: isize,
}

unsafe fn layout(a: &Array, b: &Array) -> KResult<Mats> {
    let (na, nb) = (dims(a), dims(b));
    if !(1..=2).contains(&na) || !(1..=2).contains(&nb) {
        return err(
            ErrorKind::ValueError,
            format!("matmul: only 1-D and 2-D operands are supported, got {na}-D and {nb}-D"),
        );
    }
    let (n, ak, rsa, csa) = if na == 2 {
        (a.shape[0], a.shape[1], a.strides[0], a.strides[1])
    } else {
        (1, a.shape[0], 0, a.strides[0])
    };
    let (bk, m, rsb, csb) = if nb == 2 {
        (b.shape[0], b.shape[1], b.strides[0], b.strides[1])
    } else {
        (b.shape[0], 1, b.strides[0], 0)
    };
    if ak != bk {
        mismatch(bk, ak)?;
    }
    Ok(Mats {
        n: n as usize,
        k: ak as usize,
        m: m as usize,
        rsa: rsa as isize,
        csa: csa as isize,
        rsb: rsb as isize,
        csb: csb as isize,
    })
}

/// C (n×m, contiguous, zeroed) = A·B on operands already of dtype `dt`.
unsafe fn gemm(dt: DType, a: &Array, b: &Array, l: &Mats, c: *mut u8) {
    let Mats {
        n,
        k,
        m,
        rsa,
        csa,
        rsb,
        csb,
    } = *l;
    if n == 0 || m == 0 || k == 0 {
        return; // the result is empty or all zeros, as allocated
    }
    let (pa, pb) = (a.data, b.data);
    match dt {
        crate::narrow_ints!() => unreachable!("narrow integers multiply as int64"),
        DType::F64 => matrixmultiply::dgemm(
            n,
            k,
            m,
            1.0,
            pa as *const f64,
            rsa,
            csa,
            pb as *const f64,
            rsb,
            csb,
            0.0,
            c as *mut f64,
            m as isize,
            1,
        ),
        DType::F32 => matrixmultiply::sgemm(
            n,
            k,
            m,
            1.0,
            pa as *const f32,
            rsa,
            csa,
            pb as *const f32,
            rsb,
            csb,
            0.0,
            c as *mut f32,
            m as isize,
            1,
        ),
        DType::I64 => {
            let (x, y, z) = (pa as *const i64, pb as *const i64, c as *mut i64);
            for i in 0..n {
                for p in 0..k {
                    let av = *x.offset(i as isize * rsa + p as isize * csa);
                    if av == 0 {
                        continue;
                    }
                    for j in 0..m {
                        let bv = *y.offset(p as isize * rsb + j as isize * csb);
                        let o = z.add(i * m + j);
                        *o = (*o).wrapping_add(av.wrapping_mul(bv));
                    }
                }
            }
        }
        DType::Bool => {
            for i in 0..n {
                for j in 0..m {
                    let any = (0..k).any(|p| {
                        *pa.offset(i as isize * rsa + p as isize * csa) != 0
                            && *pb.offset(p as isize * rsb + j as isize * csb) != 0
                    });
                    *c.add(i * m + j) = any as u8;
                }
            }
        }
        DType::C128 => {
            let (x, y, z) = (pa as *const f64, pb as *const f64, c as *mut f64);
            for i in 0..n {
                for j in 0..m {
                    let (mut sr, mut si) = (0.0, 0.0);
                    for p in 0..k {
                        let u = x.offset(2 * (i as isize * rsa + p as isize * csa));
                        let v = y.offset(2 * (p as isize * rsb + j as isize * csb));
                        let (ar, ai, br, bi) = (*u, *u.add(1), *v, *v.add(1));
                        sr += ar * br - ai * bi;
                        si += ar * bi + ai * br;
                    }
                    *z.add(2 * (i * m + j)) = sr;
                    *z.add(2 * (i * m + j) + 1) = si;
                }
            }
        }
    }
}

/// `a @ b` for 1-D/2-D operands (1-D @ 1-D gives a 0-d array).
/// # Safety
/// `a`, `b` live.
pub unsafe fn dot(a: *mut Array, b: *mut Array) -> KResult<*mut Array> {
    if a.is_null() || b.is_null() {
        return err(ErrorKind::InternalError, "matmul of a null array");
    }
    let l = layout(&*a, &*b)?;
    let dt = promote(DType::from_i64((*a).dtype), DType::from_i64((*b).dtype));
    let (na, nb) = (dims(&*a), dims(&*b));
    let shape: Vec<i64> = match (na, nb) {
        (2, 2) => vec![l.n as i64, l.m as i64],
        (2, 1) => vec![l.n as i64],
        (1, 2) => vec![l.m as i64],
        _ => vec![],
    };
    // Narrow integers multiply in int64 and wrap at the end (the same low bits).
    let (stored, dt) = (dt, if dt.is_int() { DType::I64 } else { dt });
    let out = new_array(dt, &shape)?;
    let ca = match as_dtype(a, dt) {
        Ok(x) => x,
        Err(e) => {
            kiln_decref(out as *mut u8);
            return Err(e);
        }
    };
    let cb = match as_dtype(b, dt) {
        Ok(x) => x,
        Err(e) => {
            kiln_decref(out as *mut u8);
            kiln_decref(ca as *mut u8);
            return Err(e);
        }
    };
    // The casts are C-contiguous copies of the same shapes: recompute their strides.
    match layout(&*ca, &*cb) {
        Ok(l2) => gemm(dt, &*ca, &*cb, &l2, (*out).data),
        Err(e) => {
            for p in [out, ca, cb] {
                kiln_decref(p as *mut u8);
            }
            return Err(e);
        }
    }
    kiln_decref(ca as *mut u8);
    kiln_decref(cb as *mut u8);
    if stored != dt {
        let narrow = astype(out, stored);
        kiln_decref(out as *mut u8);
        return narrow;
    }
    Ok(out)
}

/// `a @ b` for two 1-D arrays: the scalar of their common dtype.
/// # Safety
/// `a`, `b` live.
pub unsafe fn dot_scalar(a: *mut Array, b: *mut Array) -> KResult<Scalar> {
    let r = dot(a, b)?;
    let dt = DType::from_i64((*r).dtype);
    let d = (*r).data;
    let v = if (*r).size != 1 {
        Err((
            ErrorKind::InternalError,
            "dot_scalar needs two 1-D operands".to_string(),
        ))
    } else {
        Ok(match dt {
            DType::Bool => Scalar::Bool(*d != 0),
            DType::I64 => Scalar::I64(*(d as *const i64)),
            crate::narrow_ints!() => match crate::nd::read_e(dt, d) {
                crate::nd::E::I(v) => Scalar::I64(v),
                _ => unreachable!("a narrow integer reads as an integer"),
            },
            DType::F64 => Scalar::F64(*(d as *const f64)),
            DType::F32 => Scalar::F32(*(d as *const f32)),
            DType::C128 => Scalar::C128(*(d as *const f64), *(d as *const f64).add(1)),
        })
    };
    kiln_decref(r as *mut u8);
    v
}

/// # Safety
/// `ctx` live; `a`, `b` live arrays.
#[no_mangle]
pub unsafe extern "C" fn kiln_dot(ctx: *mut ExecCtx, a: *mut Array, b: *mut Array) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || dot(a, b))
}

/// 1-D · 1-D; writes the scalar (of the operands' common dtype) to `out`, returns 0, or
/// raises and returns 1.
/// # Safety
/// `ctx` live; `a`, `b` live; `out` has room for 16 bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_dot_scalar(
    ctx: *mut ExecCtx,
    a: *mut Array,
    b: *mut Array,
    out: *mut u8,
) -> i64 {
    guard(ctx, 1, || {
        if out.is_null() || a.is_null() || b.is_null() {
            return err(ErrorKind::InternalError, "dot on a null pointer");
        }
        if dims(&*a) != 1 || dims(&*b) != 1 {
            return err(
                ErrorKind::InternalError,
                "kiln_dot_scalar needs two 1-D operands",
            );
        }
        dot_scalar(a, b)?.write_to(out);
        Ok(0)
    })
}
