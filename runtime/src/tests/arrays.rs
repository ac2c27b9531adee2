use super::np_cases::{ARANGE_F_CASES, LINSPACE_CASES};
use super::np_cases::{BOOL_MEAN, C_MEAN, C_SUM, F32_MEAN, F32_SUM, INT_MEAN, INT_SUM};
use super::np_cases::{SUM_CASES, SUM_REV, SUM_STRIDED, SUM_T};
use super::{ctx, ctx_capture, make_array, serial, take_err, Data};
use crate::alloc::size_to_string;
use crate::array::{Array, DType};
use crate::array_ops::{Scalar, RED_MAX, RED_MEAN, RED_MIN, RED_PROD, RED_SUM};
use crate::error::ErrorKind;
use crate::obj::{live_objects_here as live_objects, KStr};
use crate::value::ArrayRef;
use crate::*;

/// The deterministic data NumPy's reduction expectations were computed from
/// (`gen` in runtime/testgen/gen_np.py).
fn gen(i: usize) -> f64 {
    ((i * 7919) % 1013) as f64 / 17.0 * (1.0 + (i % 7) as f64 * 1e-3) - 29.0
}

fn gen_array(dtype: DType, n: usize, f: fn(usize) -> (f64, f64)) -> ArrayRef {
    unsafe { ArrayRef::from_owned(make_array(dtype, &[n as i64], &Data::Gen(f))) }
}

fn reduce(a: *const Array, op: i64) -> Result<Scalar, (ErrorKind, String)> {
    unsafe { crate::array_ops::reduce(a, op) }
}

fn bits(x: f64) -> u64 {
    x.to_bits()
}

#[test]
fn numpy_size_strings() {
    for (n, want) in [
        (0u128, "0 bytes"),
        (16, "16 bytes"),
        (1023, "1023 bytes"),
        (1024, "1.00 KiB"),
        (1_000_000, "977. KiB"),
        (8_000_000_000_000, "7.28 TiB"),
        (1_073_740_800, "1.00 GiB"),
        (800_000_000_000_000_000_000, "694. EiB"),
        (1 << 70, "1024. EiB"),
        (1_048_576_000, "1000. MiB"),
    ] {
        assert_eq!(size_to_string(n), want, "{n}");
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri backs the terabyte-sized mmap it asks for with real memory and is killed"
)]
fn allocation_errors() {
    let _g = serial();
    let mut c = ctx();
    let before = live_objects();
    unsafe {
        let shape = [1_000_000i64, 1_000_000];
        let a = kiln_array_new(&mut *c, DType::F64 as i64, 2, shape.as_ptr(), 0);
        assert!(a.is_null());
        assert_eq!(
            take_err(&mut c),
            Some((
                ErrorKind::MemoryError,
                "Unable to allocate 7.28 TiB for an array with shape (1000000, 1000000) and \
                 data type float64"
                    .to_string()
            ))
        );
        let shape = [i64::MAX, 4];
        assert!(kiln_array_new(&mut *c, DType::C128 as i64, 2, shape.as_ptr(), 1).is_null());
        let (k, m) = take_err(&mut c).unwrap();
        assert_eq!(k, ErrorKind::MemoryError);
        assert!(
            m.ends_with(
                "for an array with shape (9223372036854775807, 4) and data type complex128"
            ),
            "{m}"
        );
        let shape = [3i64, -1];
        assert!(kiln_array_new(&mut *c, 2, 2, shape.as_ptr(), 0).is_null());
        assert_eq!(
            take_err(&mut c),
            Some((
                ErrorKind::ValueError,
                "negative dimensions are not allowed".to_string()
            ))
        );
    }
    assert_eq!(live_objects(), before);
}

#[test]
fn new_full_and_free() {
    let _g = serial();
    let mut c = ctx();
    let before = live_objects();
    unsafe {
        let shape = [2i64, 3];
        let z = kiln_array_new(&mut *c, DType::F64 as i64, 2, shape.as_ptr(), 0);
        let o = kiln_array_new(&mut *c, DType::I64 as i64, 2, shape.as_ptr(), 1);
        assert_eq!(live_objects(), before + 2);
        assert_eq!((*z).size, 6);
        assert_eq!(
            {
                let s = (*z).strides;
                s[..2].to_vec()
            },
            [3, 1]
        );
        assert_eq!((*z).data as usize % 64, 0);
        assert_eq!(ArrayRef::from_borrowed(z).to_f64_vec(), vec![0.0; 6]);
        assert_eq!(ArrayRef::from_borrowed(o).to_i64_vec(), vec![1; 6]);
        // A big array comes from mmap and is zeroed.
        let big = [1i64 << 20];
        let b = kiln_array_new(&mut *c, DType::F64 as i64, 1, big.as_ptr(), 2);
        assert_eq!(*((*b).data as *const f64).add((1 << 20) - 1), 0.0);
        kiln_decref(b as *mut u8);

        let f = kiln_array_full_f64(&mut *c, DType::I64 as i64, 1, shape.as_ptr(), -2.7);
        assert_eq!(ArrayRef::from_owned(f).to_i64_vec(), vec![-2, -2]);
        let f = kiln_array_full_f64(&mut *c, DType::I64 as i64, 1, shape.as_ptr(), f64::NAN);
        assert_eq!(ArrayRef::from_owned(f).to_i64_vec(), vec![i64::MIN; 2]);
        let f = kiln_array_full_f64(&mut *c, DType::Bool as i64, 1, shape.as_ptr(), 0.5);
        assert_eq!(ArrayRef::from_owned(f).repr(), "array([ True,  True])");
        let f = kiln_array_full_i64(&mut *c, DType::F32 as i64, 1, shape.as_ptr(), 7);
        assert_eq!(
            ArrayRef::from_owned(f).repr(),
            "array([7., 7.], dtype=float32)"
        );
        let f = kiln_array_full_c128(&mut *c, DType::C128 as i64, 1, shape.as_ptr(), 1.0, -2.0);
        assert_eq!(ArrayRef::from_owned(f).repr(), "array([1.-2.j, 1.-2.j])");
        let f = kiln_array_full_c128(&mut *c, DType::F64 as i64, 1, shape.as_ptr(), 1.5, -2.0);
        assert_eq!(ArrayRef::from_owned(f).repr(), "array([1.5, 1.5])");

        kiln_decref(z as *mut u8);
        kiln_decref(o as *mut u8);
        kiln_decref(std::ptr::null_mut());
        kiln_incref(std::ptr::null_mut());
    }
    assert_eq!(live_objects(), before);
    assert!(take_err(&mut c).is_none());
}

#[test]
fn views_keep_base_alive_and_copy() {
    let _g = serial();
    let mut c = ctx();
    let before = live_objects();
    unsafe {
        let a = make_array(DType::I64, &[3, 4], &Data::Gen(|i| (i as f64, 0.0)));
        // a.T: shape (4, 3), strides (1, 4)
        let (shape, strides) = ([4i64, 3], [1i64, 4]);
        let t = kiln_array_view(&mut *c, a, (*a).data, 2, shape.as_ptr(), strides.as_ptr());
        // a view of the view: the first row of a.T reversed... t[0, ::-1]
        let (s2, st2) = ([3i64], [-4i64]);
        let data = (*a).data.add(8 * 8);
        let v = kiln_array_view(&mut *c, t, data, 1, s2.as_ptr(), st2.as_ptr());
        assert_eq!((*v).base, a, "views point at the owner");
        kiln_decref(a as *mut u8); // the views still hold it
        assert_eq!(live_objects(), before + 3);
        assert_eq!(
            ArrayRef::from_borrowed(t).repr(),
            "array([[ 0,  4,  8],\n       [ 1,  5,  9],\n       [ 2,  6, 10],\n       [ 3,  7, 11]])"
        );
        assert_eq!(ArrayRef::from_borrowed(v).to_i64_vec(), vec![8, 4, 0]);
        let cp = kiln_array_copy(&mut *c, t);
        assert_eq!(
            {
                let s = (*cp).strides;
                s[..2].to_vec()
            },
            [3, 1]
        );
        assert!((*cp).base.is_null());
        assert_eq!(
            ArrayRef::from_owned(cp).to_i64_vec(),
            vec![0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
        );
        let r = reduce(v, RED_SUM).unwrap();
        assert_eq!(r, Scalar::I64(12));
        kiln_decref(t as *mut u8);
        assert_eq!(live_objects(), before + 2);
        kiln_decref(v as *mut u8);
    }
    assert_eq!(live_objects(), before);
}

#[test]
fn arange() {
    let _g = serial();
    let mut c = ctx();
    unsafe {
        let a = ArrayRef::from_owned(kiln_arange_i64(&mut *c, 0, 10, 3));
        assert_eq!(a.to_i64_vec(), vec![0, 3, 6, 9]);
        let a = ArrayRef::from_owned(kiln_arange_i64(&mut *c, 10, 0, -4));
        assert_eq!(a.to_i64_vec(), vec![10, 6, 2]);
        let a = ArrayRef::from_owned(kiln_arange_i64(&mut *c, 5, 0, 1));
        assert_eq!(a.size(), 0);
        assert!(kiln_arange_i64(&mut *c, 0, 10, 0).is_null());
        assert_eq!(
            take_err(&mut c),
            Some((
                ErrorKind::ValueError,
                "Maximum allowed size exceeded".to_string()
            ))
        );
        assert!(kiln_arange_f64(&mut *c, 0.0, f64::NAN, 1.0).is_null());
        assert_eq!(
            take_err(&mut c).map(|e| e.1),
            Some("arange: cannot compute length".to_string())
        );
        for &(start, stop, step, want) in ARANGE_F_CASES {
            let a = ArrayRef::from_owned(kiln_arange_f64(&mut *c, start, stop, step));
            let got = a.to_f64_vec();
            assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "arange({start}, {stop}, {step}) = {got:?}"
            );
        }
    }
}

#[test]
fn linspace() {
    let _g = serial();
    let mut c = ctx();
    unsafe {
        for &(start, stop, num, want) in LINSPACE_CASES {
            let a = ArrayRef::from_owned(kiln_linspace(&mut *c, start, stop, num as i64, 2));
            let v = a.to_f64_vec();
            let got: Vec<f64> = if num < 20 {
                v
            } else {
                [0, 1, 2, num / 3, num / 2, num - 2, num - 1]
                    .iter()
                    .map(|&i| v[i])
                    .collect()
            };
            assert_eq!(
                got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "linspace({start}, {stop}, {num}) = {got:?}, want {want:?}"
            );
        }
        let a = ArrayRef::from_owned(kiln_linspace(&mut *c, 0.0, 1.0, 5, 2));
        assert_eq!(a.repr(), "array([0.  , 0.25, 0.5 , 0.75, 1.  ])");
        let a = ArrayRef::from_owned(kiln_linspace(&mut *c, -1.0, 2.0, 4, DType::I64 as i64));
        assert_eq!(a.to_i64_vec(), vec![-1, 0, 1, 2]);
        assert!(kiln_linspace(&mut *c, 0.0, 1.0, -1, 2).is_null());
        assert_eq!(
            take_err(&mut c),
            Some((
                ErrorKind::ValueError,
                "Number of samples, -1, must be non-negative.".to_string()
            ))
        );
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "30 000-element arrays: minutes each under Miri; the small cases cover the same code"
)]
fn float_sums_match_numpy_bits() {
    let _g = serial();
    for &(n, sum, mean, min, max, prod50) in SUM_CASES {
        let a = gen_array(DType::F64, n, |i| (gen(i), 0.0));
        let p = a.as_ptr();
        assert_eq!(reduce(p, RED_SUM), Ok(Scalar::F64(sum)), "sum n={n}");
        assert_eq!(reduce(p, RED_MEAN), Ok(Scalar::F64(mean)), "mean n={n}");
        assert_eq!(reduce(p, RED_MIN), Ok(Scalar::F64(min)), "min n={n}");
        assert_eq!(reduce(p, RED_MAX), Ok(Scalar::F64(max)), "max n={n}");
        let head = gen_array(DType::F64, n.min(50), |i| (gen(i), 0.0));
        assert_eq!(
            reduce(head.as_ptr(), RED_PROD),
            Ok(Scalar::F64(prod50)),
            "prod n={n}"
        );
    }
    // Views: NumPy walks a transpose in memory order, and a reversed view backwards.
    let _a = gen_array(DType::F64, 30000, |i| (gen(i), 0.0));
    let mut c = ctx();
    unsafe {
        let a = _a.as_ptr();
        let (sh, st) = ([200i64, 150], [1i64, 200]);
        let t = ArrayRef::from_owned(kiln_array_view(
            &mut *c,
            a,
            (*a).data,
            2,
            sh.as_ptr(),
            st.as_ptr(),
        ));
        assert_eq!(
            reduce(t.as_ptr(), RED_SUM)
                .map(|s| matches!(s, Scalar::F64(x) if bits(x) == bits(SUM_T))),
            Ok(true)
        );
        let (sh, st) = ([150i64, 100], [200i64, 2]);
        let s = ArrayRef::from_owned(kiln_array_view(
            &mut *c,
            a,
            (*a).data,
            2,
            sh.as_ptr(),
            st.as_ptr(),
        ));
        assert_eq!(reduce(s.as_ptr(), RED_SUM), Ok(Scalar::F64(SUM_STRIDED)));
        let (sh, st) = ([30000i64], [-1i64]);
        let last = (*a).data.add(8 * 29999);
        let r = ArrayRef::from_owned(kiln_array_view(
            &mut *c,
            a,
            last,
            1,
            sh.as_ptr(),
            st.as_ptr(),
        ));
        assert_eq!(reduce(r.as_ptr(), RED_SUM), Ok(Scalar::F64(SUM_REV)));
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "30 000-element arrays: minutes each under Miri; the small cases cover the same code"
)]
fn other_dtype_reductions_match_numpy() {
    let _g = serial();
    let ints = gen_array(DType::I64, 30011, |i| ((gen(i) * 1e15).trunc(), 0.0));
    assert_eq!(reduce(ints.as_ptr(), RED_SUM), Ok(Scalar::I64(INT_SUM)));
    assert_eq!(reduce(ints.as_ptr(), RED_MEAN), Ok(Scalar::F64(INT_MEAN)));
    let f = gen_array(DType::F32, 30011, |i| (gen(i), 0.0));
    assert_eq!(reduce(f.as_ptr(), RED_SUM), Ok(Scalar::F32(F32_SUM)));
    assert_eq!(reduce(f.as_ptr(), RED_MEAN), Ok(Scalar::F32(F32_MEAN)));
    let z = gen_array(DType::C128, 30011, |i| (gen(i), gen(30010 - i)));
    assert_eq!(
        reduce(z.as_ptr(), RED_SUM),
        Ok(Scalar::C128(C_SUM.0, C_SUM.1))
    );
    assert_eq!(
        reduce(z.as_ptr(), RED_MEAN),
        Ok(Scalar::C128(C_MEAN.0, C_MEAN.1))
    );
    let b = gen_array(DType::Bool, 30011, |i| ((i % 3 == 0) as i64 as f64, 0.0));
    assert_eq!(reduce(b.as_ptr(), RED_MEAN), Ok(Scalar::F64(BOOL_MEAN)));
    assert_eq!(reduce(b.as_ptr(), RED_SUM), Ok(Scalar::I64(10004)));
    assert_eq!(reduce(b.as_ptr(), RED_MAX), Ok(Scalar::Bool(true)));
    assert_eq!(reduce(b.as_ptr(), RED_MIN), Ok(Scalar::Bool(false)));
    assert_eq!(reduce(b.as_ptr(), RED_PROD), Ok(Scalar::I64(0)));
}

#[test]
fn small_reductions_by_hand() {
    let _g = serial();
    let a = super::f64_array(&[4], &[1.0, f64::NAN, -3.0, 2.0]);
    assert!(matches!(reduce(a.as_ptr(), RED_MIN), Ok(Scalar::F64(x)) if x.is_nan()));
    assert!(matches!(reduce(a.as_ptr(), RED_MAX), Ok(Scalar::F64(x)) if x.is_nan()));
    let i = unsafe {
        ArrayRef::from_owned(make_array(DType::I64, &[2, 2], &Data::I64(&[3, -7, 5, 2])))
    };
    assert_eq!(reduce(i.as_ptr(), RED_SUM), Ok(Scalar::I64(3)));
    assert_eq!(reduce(i.as_ptr(), RED_PROD), Ok(Scalar::I64(-210)));
    assert_eq!(reduce(i.as_ptr(), RED_MIN), Ok(Scalar::I64(-7)));
    assert_eq!(reduce(i.as_ptr(), RED_MAX), Ok(Scalar::I64(5)));
    assert_eq!(reduce(i.as_ptr(), RED_MEAN), Ok(Scalar::F64(0.75)));
    let z = unsafe {
        ArrayRef::from_owned(make_array(
            DType::C128,
            &[3],
            &Data::C128(&[1.0, 5.0, 1.0, -1.0, 0.5, 9.0]),
        ))
    };
    assert_eq!(reduce(z.as_ptr(), RED_MIN), Ok(Scalar::C128(0.5, 9.0)));
    assert_eq!(reduce(z.as_ptr(), RED_MAX), Ok(Scalar::C128(1.0, 5.0)));
    // (1+5j)(1-1j) = 6+4j; (6+4j)(0.5+9j) = 3-36 + (54+2)j
    assert_eq!(reduce(z.as_ptr(), RED_PROD), Ok(Scalar::C128(-33.0, 56.0)));

    let mut c = ctx();
    let e = super::f64_array(&[0], &[]);
    let mut out = [0u8; 16];
    unsafe {
        assert_eq!(
            kiln_array_reduce(&mut *c, e.as_ptr(), RED_MAX, out.as_mut_ptr()),
            1
        );
        assert_eq!(
            take_err(&mut c),
            Some((
                ErrorKind::ValueError,
                "zero-size array to reduction operation maximum which has no identity".to_string()
            ))
        );
        assert_eq!(
            kiln_array_reduce(&mut *c, e.as_ptr(), RED_MIN, out.as_mut_ptr()),
            1
        );
        assert!(take_err(&mut c).unwrap().1.contains("operation minimum"));
        assert_eq!(
            kiln_array_reduce(&mut *c, e.as_ptr(), RED_MEAN, out.as_mut_ptr()),
            0
        );
        assert!(f64::from_ne_bytes(out[..8].try_into().unwrap()).is_nan());
        assert_eq!(
            kiln_array_reduce(&mut *c, e.as_ptr(), RED_SUM, out.as_mut_ptr()),
            0
        );
        assert_eq!(f64::from_ne_bytes(out[..8].try_into().unwrap()), 0.0);
        assert_eq!(
            kiln_array_reduce(&mut *c, i.as_ptr(), RED_SUM, out.as_mut_ptr()),
            0
        );
        assert_eq!(i64::from_ne_bytes(out[..8].try_into().unwrap()), 3);
        let f = super::f64_array(&[2], &[0.25, 0.5]);
        assert_eq!(
            kiln_array_reduce(&mut *c, f.as_ptr(), RED_MEAN, out.as_mut_ptr()),
            0
        );
        assert_eq!(f64::from_ne_bytes(out[..8].try_into().unwrap()), 0.375);
    }
}

#[test]
fn errors_with_numpy_words() {
    let mut c = ctx();
    unsafe {
        kiln_index_error(&mut *c, 10, 0, 10);
        assert_eq!(
            take_err(&mut c),
            Some((
                ErrorKind::IndexError,
                "index 10 is out of bounds for axis 0 with size 10".to_string()
            ))
        );
        let m = "shapes (3,) and (4,) differ";
        kiln_raise_msg(
            &mut *c,
            ErrorKind::ValueError as i64,
            m.as_ptr(),
            m.len() as i64,
        );
        assert_eq!(
            take_err(&mut c),
            Some((ErrorKind::ValueError, m.to_string()))
        );
    }
}

#[test]
fn strings_and_output() {
    let _g = serial();
    let before = live_objects();
    let (mut c, out) = ctx_capture();
    unsafe {
        let a = kiln_str_new("héllo ".as_ptr(), "héllo ".len() as i64);
        let b = kiln_str_new("wörld".as_ptr(), "wörld".len() as i64);
        let ab = kiln_str_concat(&mut *c, a, b);
        assert_eq!(KStr::as_str(ab), "héllo wörld");
        assert_eq!(kiln_str_len(ab), 11);
        let ab2 = kiln_str_new("héllo wörld".as_ptr(), "héllo wörld".len() as i64);
        assert_eq!(kiln_str_eq(ab, ab2), 1);
        assert_eq!(kiln_str_eq(a, b), 0);
        assert_eq!(live_objects(), before + 4);
        kiln_write_str(&mut *c, 0, ab);
        kiln_write(&mut *c, 0, "!\n".as_ptr(), 2);
        kiln_write(&mut *c, 1, "oops\n".as_ptr(), 5);
        for p in [a, b, ab, ab2] {
            kiln_decref(p);
        }
    }
    assert_eq!(live_objects(), before);
    let got = out.lock().unwrap().clone();
    assert_eq!(
        got,
        vec![
            (Stream::Stdout, "héllo wörld!\n".to_string()),
            (Stream::Stderr, "oops\n".to_string())
        ]
    );
}

#[test]
fn array_ref_counts() {
    let _g = serial();
    let before = live_objects();
    let a = super::f64_array(&[2], &[1.0, 2.0]);
    let p = a.as_ptr();
    let b = a.clone();
    assert_eq!(
        unsafe { (*p).refcount.load(std::sync::atomic::Ordering::SeqCst) },
        2
    );
    drop(a);
    assert_eq!(b.shape(), &[2]);
    assert_eq!(b.dtype(), DType::F64);
    assert_eq!(b.nbytes(), 16);
    assert_eq!(b.to_c128_vec(), vec![(1.0, 0.0), (2.0, 0.0)]);
    drop(b);
    assert_eq!(live_objects(), before);
}

#[test]
fn copy_of_row_slices() {
    let _g = serial();
    let mut c = ctx();
    unsafe {
        let a = ArrayRef::from_owned(make_array(
            DType::F32,
            &[2, 3, 4],
            &Data::Gen(|i| (i as f64, 0.0)),
        ));
        // a[:, 1:, 1:3]: shape (2, 2, 2), strides (12, 4, 1)
        let (sh, st) = ([2i64, 2, 2], [12i64, 4, 1]);
        let data = (*a.as_ptr()).data.add(4 * 5);
        let v = ArrayRef::from_owned(kiln_array_view(
            &mut *c,
            a.as_ptr(),
            data,
            3,
            sh.as_ptr(),
            st.as_ptr(),
        ));
        let cp = ArrayRef::from_owned(kiln_array_copy(&mut *c, v.as_ptr()));
        assert_eq!(
            cp.to_f64_vec(),
            vec![5.0, 6.0, 9.0, 10.0, 17.0, 18.0, 21.0, 22.0]
        );
        assert_eq!(cp.strides(), &[4, 2, 1]);
    }
}

#[test]
#[cfg_attr(miri, ignore = "fills 3 MiB blocks byte by byte: minutes under Miri")]
fn reused_big_blocks_come_back_zeroed() {
    // Big blocks are kept after they are freed and handed out again: whatever the last
    // array left in one, a new array sees zeros (NumPy's `zeros`, and `empty`-free code).
    use crate::alloc::{alloc_data, free_data};
    let bytes = (3 << 20) + 8; // over the mmap threshold, not a whole number of pages
    let mut seen = Vec::new();
    for round in 0..4u8 {
        let p = alloc_data(bytes).expect("3 MiB");
        // SAFETY: `p` has `bytes` bytes that only this test uses until it frees them.
        let block = unsafe { std::slice::from_raw_parts_mut(p, bytes) };
        assert!(
            block.iter().all(|&b| b == 0),
            "round {round}: a reused block was not zeroed"
        );
        block.fill(0xA5 ^ round);
        seen.push(p as usize);
        unsafe { free_data(p, bytes) };
    }
    // The cache did its job: at least one round got a block an earlier round freed (other
    // tests may take a block in between, so not necessarily every round).
    let reused = seen.windows(2).filter(|w| w[0] == w[1]).count();
    assert!(reused > 0, "no block was reused: {seen:x?}");
}
