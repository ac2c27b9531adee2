use super::np_cases::NP_CASES;
use super::py_cases::*;
use super::{ctx, make_array, serial, take_err};
use crate::error::ErrorKind;
use crate::obj::KStr;
use crate::pyfmt::*;
use crate::value::{repr_value, str_value, ArrayRef, Value};

fn show(x: f64) -> String {
    format!("{x:?}")
}

#[test]
#[cfg_attr(miri, ignore = "thousands of cases: minutes under Miri; safe code")]
fn python_float_cases() {
    let mut bad = Vec::new();
    for &(x, spec, want) in F64_CASES {
        match format_f64(x, spec) {
            Ok(got) if got == want => {}
            other => bad.push(format!(
                "format({}, {spec:?}) = {other:?}, want {want:?}",
                show(x)
            )),
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn python_int_cases() {
    let mut bad = Vec::new();
    for &(x, spec, want) in I64_CASES {
        match format_i64(x, spec) {
            Ok(got) if got == want => {}
            other => bad.push(format!("format({x}, {spec:?}) = {other:?}, want {want:?}")),
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn python_str_bool_complex_cases() {
    let mut bad = Vec::new();
    for &(x, spec, want) in STR_CASES {
        match format_str(x, spec) {
            Ok(got) if got == want => {}
            other => bad.push(format!(
                "format({x:?}, {spec:?}) = {other:?}, want {want:?}"
            )),
        }
    }
    for &(x, want) in STR_REPR_CASES {
        if str_repr(x) != want {
            bad.push(format!("repr({x:?}) = {:?}, want {want:?}", str_repr(x)));
        }
    }
    for &(x, spec, want) in BOOL_CASES {
        match format_bool(x, spec) {
            Ok(got) if got == want => {}
            other => bad.push(format!("format({x}, {spec:?}) = {other:?}, want {want:?}")),
        }
    }
    for &(re, im, spec, want) in C128_CASES {
        match format_complex(re, im, spec) {
            Ok(got) if got == want => {}
            other => bad.push(format!(
                "format(complex({re:?}, {im:?}), {spec:?}) = {other:?}, want {want:?}"
            )),
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn python_format_errors() {
    let mut bad = Vec::new();
    for &(ty, spec, want) in ERR_CASES {
        let got = match ty {
            "float" => format_f64(1.0, spec),
            "int" => format_i64(1, spec),
            "str" => format_str("a", spec),
            _ => format_complex(0.0, 1.0, spec),
        };
        match got {
            Err((ErrorKind::ValueError, m)) if m == want => {}
            other => bad.push(format!("{ty} {spec:?}: {other:?}, want {want:?}")),
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert_eq!(
        format_i64(0x110000, "c"),
        Err((
            ErrorKind::OverflowError,
            "%c arg not in range(0x110000)".to_string()
        ))
    );
}

#[test]
fn float_repr_rules() {
    assert_eq!(float_repr(1.0), "1.0");
    // A tie at a power of two: the even candidate (…062) is another double (CPython).
    assert_eq!(float_repr(2f64.powi(-24)), "5.960464477539063e-08");
    assert_eq!(float_repr(0.1 + 0.2), "0.30000000000000004");
    assert_eq!(float_repr(1e-5), "1e-05");
    assert_eq!(float_repr(1e16), "1e+16");
    assert_eq!(float_repr(9999999999999998.0), "9999999999999998.0");
    assert_eq!(float_repr(1.5e300), "1.5e+300");
    assert_eq!(float_repr(0.0001), "0.0001");
    assert_eq!(float_repr(-0.0), "-0.0");
    assert_eq!(float_repr(f64::NAN), "nan");
    assert_eq!(float_repr(-f64::NAN), "nan");
    assert_eq!(float_repr(f64::NEG_INFINITY), "-inf");
    assert_eq!(f32_repr(0.1), "0.1");
    assert_eq!(f32_repr(1.0 / 3.0), "0.33333334");
    assert_eq!(f32_repr(16777216.0), "1.6777216e+07");
    assert_eq!(f32_repr(999999.94), "999999.94");
    assert_eq!(f32_repr(1e-4), "1e-04");
    assert_eq!(f32_repr(0.00012345), "0.00012345");
    // Exactly halfway between two shortest candidates: Python takes the even digit.
    assert_eq!(float_repr(1577249453099395.0 + 0.25), "1577249453099395.2");
    assert_eq!(float_repr(1577249453099395.0 + 0.75), "1577249453099395.8");
    assert_eq!(f32_repr(1e20), "1e+20");
    assert_eq!(f32_repr(1e-5), "1e-05");
    assert_eq!(complex_repr(1.0, 2.0), "(1+2j)");
    assert_eq!(complex_repr(0.0, 2.0), "2j");
    assert_eq!(complex_repr(-0.0, -1.0), "(-0-1j)");
    assert_eq!(complex_repr(1.5, 0.0), "(1.5+0j)");
    assert_eq!(complex_repr(f64::NAN, f64::INFINITY), "(nan+infj)");
    assert_eq!(format_f32(0.1, ".3f").unwrap(), "0.100");
    assert_eq!(format_f32(0.1, "").unwrap(), "0.1");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "a minute under Miri; the entry points' test covers the unsafe part"
)]
fn numpy_array_printing() {
    let _g = serial();
    let mut bad = Vec::new();
    for c in NP_CASES {
        let a = unsafe { ArrayRef::from_owned(make_array(c.dtype, c.shape, &c.data)) };
        let (r, s) = (a.repr(), a.str());
        if r != c.repr {
            bad.push(format!("{} repr:\n{r}\nwant:\n{}", c.name, c.repr));
        }
        if s != c.str {
            bad.push(format!("{} str:\n{s}\nwant:\n{}", c.name, c.str));
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn values_repr_and_str() {
    let _g = serial();
    assert_eq!(repr_value(&Value::Float(1.0)), "1.0");
    assert_eq!(repr_value(&Value::Int(3)), "3");
    assert_eq!(repr_value(&Value::Bool(true)), "True");
    assert_eq!(repr_value(&Value::Complex(1.0, 2.0)), "(1+2j)");
    assert_eq!(repr_value(&Value::Str("text".into())), "'text'");
    assert_eq!(str_value(&Value::Str("text".into())), "text");
    assert_eq!(
        repr_value(&Value::Tuple(vec![Value::Int(200), Value::Int(300)])),
        "(200, 300)"
    );
    assert_eq!(repr_value(&Value::Tuple(vec![Value::Int(1)])), "(1,)");
    assert_eq!(repr_value(&Value::Tuple(vec![])), "()");
    assert_eq!(repr_value(&Value::None), "None");
    let a = super::f64_array(&[3], &[0.0, 0.5, 1.0]);
    let v = Value::Array(std::sync::Arc::new(a));
    assert_eq!(repr_value(&v), "array([0. , 0.5, 1. ])");
    assert_eq!(str_value(&v), "[0.  0.5 1. ]");
}

#[test]
fn extern_formatting_entry_points() {
    let _g = serial();
    let mut c = ctx();
    unsafe {
        let spec = ".3f";
        let s = crate::kiln_fmt_f64(&mut *c, 1.23456, spec.as_ptr(), spec.len() as i64);
        assert_eq!(KStr::as_str(s), "1.235");
        crate::kiln_decref(s);
        let bad = ".3q";
        let s = crate::kiln_fmt_f64(&mut *c, 1.0, bad.as_ptr(), 3);
        assert!(s.is_null());
        assert_eq!(
            take_err(&mut c),
            Some((
                ErrorKind::ValueError,
                "Unknown format code 'q' for object of type 'float'".to_string()
            ))
        );
        let s = crate::kiln_fmt_bool(&mut *c, 1, std::ptr::null(), 0);
        assert_eq!(KStr::as_str(s), "True");
        crate::kiln_decref(s);
        let s = crate::kiln_fmt_c128(&mut *c, 0.0, 2.0, std::ptr::null(), 0);
        assert_eq!(KStr::as_str(s), "2j");
        crate::kiln_decref(s);
        let s = crate::kiln_fmt_f32(&mut *c, 0.1, std::ptr::null(), 0);
        assert_eq!(KStr::as_str(s), "0.1");
        crate::kiln_decref(s);
        let w = ">6";
        let s = crate::kiln_fmt_i64(&mut *c, 42, w.as_ptr(), 2);
        assert_eq!(KStr::as_str(s), "    42");
        let r = crate::kiln_repr_str(&mut *c, s);
        assert_eq!(KStr::as_str(r), "'    42'");
        let f = crate::kiln_fmt_str(&mut *c, r, "^11".as_ptr(), 3);
        assert_eq!(KStr::as_str(f), " '    42'  "); // Python puts the odd space right
        for p in [s, r, f] {
            crate::kiln_decref(p);
        }
        let a = super::f64_array(&[5], &[0.0, 0.25, 0.5, 0.75, 1.0]);
        let s = crate::kiln_repr_array(&mut *c, a.as_ptr());
        assert_eq!(KStr::as_str(s), "array([0.  , 0.25, 0.5 , 0.75, 1.  ])");
        crate::kiln_decref(s);
        let s = crate::kiln_fmt_array(&mut *c, a.as_ptr(), std::ptr::null(), 0);
        assert_eq!(KStr::as_str(s), "[0.   0.25 0.5  0.75 1.  ]");
        crate::kiln_decref(s);
        let s = crate::kiln_fmt_array(&mut *c, a.as_ptr(), ">5".as_ptr(), 2);
        assert!(s.is_null());
        assert_eq!(take_err(&mut c).map(|e| e.0), Some(ErrorKind::TypeError));
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "2 098 reprs, each writing 800 digits to test for a tie: minutes under Miri"
)]
fn every_power_of_two_reads_back() {
    // Where a tie is broken, the digits chosen must still be the shortest that read back.
    for k in -1074i64..=1023 {
        // Exactly 2**k: a subnormal's one bit, or a normal's exponent field.
        let v = if k < -1022 {
            f64::from_bits(1u64 << (k + 1074))
        } else {
            f64::from_bits(((k + 1023) as u64) << 52)
        };
        let text = float_repr(v);
        assert_eq!(text.parse::<f64>().ok(), Some(v), "2**{k} printed {text}");
    }
}
