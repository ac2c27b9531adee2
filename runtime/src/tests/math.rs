use super::py_cases::{FLOORDIV_MOD_CASES, ROUND_CASES};
use super::{ctx, take_err};
use crate::error::ErrorKind;
use crate::math::*;

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

#[test]
fn python_round() {
    for &(x, n, want) in ROUND_CASES {
        let got = kiln_m_round_n(x, n);
        assert!(
            same(got, want),
            "round({x:?}, {n}) = {got:?}, want {want:?}"
        );
    }
    assert!(kiln_m_round_n(f64::NAN, 2).is_nan());
    assert_eq!(kiln_m_round_n(f64::INFINITY, 2), f64::INFINITY);
}

#[test]
fn python_floordiv_and_mod() {
    for &(a, b, q, r) in FLOORDIV_MOD_CASES {
        let (gq, gr) = (kiln_m_py_floordiv(a, b), kiln_m_py_fmod(a, b));
        assert!(same(gq, q), "{a:?} // {b:?} = {gq:?}, want {q:?}");
        assert!(same(gr, r), "{a:?} % {b:?} = {gr:?}, want {r:?}");
    }
    assert!(kiln_m_py_fmod(1.0, 0.0).is_nan());
    assert!(kiln_m_py_floordiv(1.0, 0.0).is_nan());
}

#[test]
fn numpy_round() {
    assert_eq!(kiln_m_np_round_n(2.675, 2), 2.68); // NumPy scales, unlike Python
    assert_eq!(kiln_m_np_round_n(2.5, 0), 2.0);
    assert_eq!(kiln_m_np_round_n(1250.0, -2), 1200.0);
}

#[test]
fn integer_power() {
    let mut c = ctx();
    unsafe {
        assert_eq!(kiln_pow_i64(&mut *c, 3, 4), 81);
        assert_eq!(kiln_pow_i64(&mut *c, -2, 5), -32);
        assert_eq!(kiln_pow_i64(&mut *c, 7, 0), 1);
        assert_eq!(kiln_pow_i64(&mut *c, 2, 64), 0); // wraps like NumPy int64
        assert_eq!(kiln_pow_i64(&mut *c, 3, 41), 3i64.wrapping_pow(41));
        assert_eq!(take_err(&mut c), None);
        assert_eq!(kiln_pow_i64(&mut *c, 2, -1), 0);
        assert_eq!(
            take_err(&mut c),
            Some((
                ErrorKind::ValueError,
                "Integers to negative integer powers are not allowed.".to_string()
            ))
        );
    }
}

fn close(a: (f64, f64), b: (f64, f64)) -> bool {
    let d = (a.0 - b.0).hypot(a.1 - b.1);
    d <= 1e-13 * (1.0 + b.0.hypot(b.1))
}

#[test]
fn complex_functions() {
    let mut out = [0.0f64; 2];
    unsafe {
        kiln_c_div(1.0, 2.0, 3.0, 4.0, out.as_mut_ptr());
        assert!(close((out[0], out[1]), (0.44, 0.08)));
        kiln_c_div(1.0, 1.0, 0.0, 0.0, out.as_mut_ptr());
        assert_eq!(out, [f64::INFINITY, f64::INFINITY]);
        kiln_c_pow(0.0, 1.0, 2.0, 0.0, out.as_mut_ptr());
        assert_eq!(out, [-1.0, 0.0]);
        kiln_c_pow(1.0, 1.0, -2.0, 0.0, out.as_mut_ptr());
        assert!(close((out[0], out[1]), (0.0, -0.5)));
        kiln_c_pow(2.0, 0.0, 0.5, 0.0, out.as_mut_ptr());
        assert!(close((out[0], out[1]), (2f64.sqrt(), 0.0)));
        kiln_c_sqrt(-4.0, 0.0, out.as_mut_ptr());
        assert_eq!(out, [0.0, 2.0]);
        kiln_c_sqrt(-4.0, -0.0, out.as_mut_ptr());
        assert_eq!(out, [0.0, -2.0]);
        kiln_c_exp(0.0, std::f64::consts::PI, out.as_mut_ptr());
        assert!(close((out[0], out[1]), (-1.0, 0.0)));
        kiln_c_log(-1.0, 0.0, out.as_mut_ptr());
        assert!(close((out[0], out[1]), (0.0, std::f64::consts::PI)));
        kiln_c_sin(1.0, 1.0, out.as_mut_ptr());
        assert!(close(
            (out[0], out[1]),
            (1.2984575814159773, 0.6349639147847361)
        ));
        kiln_c_cos(1.0, 1.0, out.as_mut_ptr());
        assert!(close(
            (out[0], out[1]),
            (0.8337300251311491, -0.9888977057628651)
        ));
        kiln_c_tanh(1.0, 1.0, out.as_mut_ptr());
        assert!(close(
            (out[0], out[1]),
            (1.0839233273386946, 0.2717525853195118)
        ));
        kiln_c_tan(1.0, 1.0, out.as_mut_ptr());
        assert!(close(
            (out[0], out[1]),
            (0.2717525853195118, 1.0839233273386946)
        ));
        kiln_c_tanh(800.0, 1.0, out.as_mut_ptr());
        assert_eq!(out[0], 1.0);
        kiln_c_arcsin(0.5, 0.0, out.as_mut_ptr());
        assert!(close((out[0], out[1]), (0.5f64.asin(), 0.0)));
        kiln_c_arctan(1.0, 1.0, out.as_mut_ptr());
        assert!(close(
            (out[0], out[1]),
            (1.0172219678978514, 0.4023594781085251)
        ));
        kiln_c_arccos(2.0, 0.0, out.as_mut_ptr());
        assert!(close(
            (out[0].abs(), out[1].abs()),
            (0.0, 1.3169578969248166)
        ));
    }
    assert_eq!(kiln_c_abs(3.0, 4.0), 5.0);
    assert_eq!(kiln_m_hypot(3.0, 4.0), 5.0);
    assert_eq!(kiln_m_exp(0.0), 1.0);
    assert_eq!(kiln_m_arctan2(1.0, 1.0), std::f64::consts::FRAC_PI_4);
}
