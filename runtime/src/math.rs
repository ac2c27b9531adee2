//! Math that Cranelift has no instruction for. Pure functions (no context): real functions
//! go to the platform libm through Rust's `f64` methods; Python's `round`, `%` and `//`
//! follow CPython's algorithms; complex functions return through an `out` pointer.

use crate::ctx::ExecCtx;
use crate::error::ErrorKind;

macro_rules! unary {
    ($($name:ident => $f:expr;)*) => {$(
        #[no_mangle]
        pub extern "C" fn $name(x: f64) -> f64 {
            let f: fn(f64) -> f64 = $f;
            f(x)
        }
    )*};
}

unary! {
    kiln_m_exp => f64::exp;
    kiln_m_expm1 => f64::exp_m1;
    kiln_m_cbrt => f64::cbrt;
    kiln_m_exp2 => f64::exp2;
    kiln_m_log1p => f64::ln_1p;
    kiln_m_log => f64::ln;
    kiln_m_log2 => f64::log2;
    kiln_m_log10 => f64::log10;
    kiln_m_sin => f64::sin;
    kiln_m_cos => f64::cos;
    kiln_m_tan => f64::tan;
    kiln_m_arcsin => f64::asin;
    kiln_m_arccos => f64::acos;
    kiln_m_arctan => f64::atan;
    kiln_m_sinh => f64::sinh;
    kiln_m_cosh => f64::cosh;
    kiln_m_tanh => f64::tanh;
}

#[no_mangle]
pub extern "C" fn kiln_m_arctan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[no_mangle]
pub extern "C" fn kiln_m_hypot(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

#[no_mangle]
pub extern "C" fn kiln_m_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// Python's `round(x, n)`: round the exact binary value to `n` decimals, ties to even, via
/// a correctly rounded decimal string (CPython's `double_round`), so
/// `round(2.675, 2) == 2.67`. A result too large for a float comes back as inf.
#[no_mangle]
pub extern "C" fn kiln_m_round_n(x: f64, n: i64) -> f64 {
    crate::guard::guard_pure(f64::NAN, || round_n(x, n))
}

pub fn round_n(x: f64, n: i64) -> f64 {
    // CPython's NDIGITS_MAX / NDIGITS_MIN: beyond them the answer is x or a signed zero.
    if !x.is_finite() || n > 323 {
        return x;
    }
    if n < -308 {
        return 0.0 * x;
    }
    if n >= 0 {
        // `{:.n}` rounds the exact value half-to-even, as dtoa mode 3 does.
        return format!("{:.*}", n as usize, x).parse().unwrap_or(x);
    }
    // Negative n: take the exact decimal expansion and round it at 10^(-n) by hand.
    let k = (-n) as usize;
    let exact = format!("{:.1074}", x.abs());
    let (ip, fp) = exact.split_once('.').unwrap_or((&exact, ""));
    let ip = ip.trim_start_matches('0');
    if ip.len() < k {
        // |x| < 10^(k-1), less than half of 10^k: the result is a zero with x's sign.
        return 0.0f64.copysign(x);
    }
    let (head, tail) = ip.split_at(ip.len() - k);
    let mut head_digits: Vec<u8> = head.bytes().collect();
    let cmp = compare_half(tail, fp);
    let last_odd = head_digits.last().is_some_and(|d| (d - b'0') % 2 == 1);
    if cmp == std::cmp::Ordering::Greater || (cmp == std::cmp::Ordering::Equal && last_odd) {
        // Add one at the last kept digit.
        let mut i = head_digits.len();
        loop {
            if i == 0 {
                head_digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if head_digits[i] == b'9' {
                head_digits[i] = b'0';
            } else {
                head_digits[i] += 1;
                break;
            }
        }
    }
    if head_digits.is_empty() {
        head_digits.push(b'0');
    }
    let s = format!(
        "{}{}e{}",
        if x < 0.0 { "-" } else { "" },
        std::str::from_utf8(&head_digits).unwrap_or("0"),
        k
    );
    s.parse().unwrap_or(x)
}

/// Compares the decimal fraction 0.`tail``frac` with one half.
fn compare_half(tail: &str, frac: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let mut digits = tail.bytes().chain(frac.bytes());
    match digits.next() {
        None => Less,
        Some(d) if d < b'5' => Less,
        Some(d) if d > b'5' => Greater,
        Some(_) => {
            if digits.any(|d| d != b'0') {
                Greater
            } else {
                Equal
            }
        }
    }
}

/// NumPy's `np.round(x, n)` for arrays: `rint(x * 10**n) / 10**n` (or `rint(x / 10**-n) *
/// 10**-n`), with NumPy's `power_of_ten`.
#[no_mangle]
pub extern "C" fn kiln_m_np_round_n(x: f64, n: i64) -> f64 {
    let p = |n: i64| -> f64 {
        const P10: [f64; 9] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
        if n < 9 {
            P10[n as usize]
        } else {
            let mut r = 1e9;
            for _ in 9..n.min(400) {
                r *= 10.0;
            }
            r
        }
    };
    if n >= 0 {
        let f = p(n);
        (x * f).round_ties_even() / f
    } else {
        let f = p(-n);
        (x / f).round_ties_even() * f
    }
}

/// Python's float `%`: the result takes the divisor's sign. `b == 0` gives NaN (the
/// compiler raises ZeroDivisionError before calling when it must).
#[no_mangle]
pub extern "C" fn kiln_m_py_fmod(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return f64::NAN;
    }
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

/// Python's float `//` (CPython's `_float_div_mod`): `1 // 0.1 == 9.0`.
#[no_mangle]
pub extern "C" fn kiln_m_py_floordiv(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return f64::NAN;
    }
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let mut fd = div.floor();
        if div - fd > 0.5 {
            fd += 1.0;
        }
        fd
    } else {
        0.0f64.copysign(a / b)
    }
}

/// `a ** b` for i64: wrapping, by squaring. A negative exponent is a ValueError.
/// # Safety
/// `ctx` live.
#[no_mangle]
pub unsafe extern "C" fn kiln_pow_i64(ctx: *mut ExecCtx, a: i64, b: i64) -> i64 {
    if b < 0 {
        if !ctx.is_null() {
            (*ctx).raise(
                ErrorKind::ValueError,
                "Integers to negative integer powers are not allowed.",
            );
        }
        return 0;
    }
    let (mut base, mut e, mut r) = (a, b as u64, 1i64);
    while e > 0 {
        if e & 1 == 1 {
            r = r.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    r
}

// ---------------------------------------------------------------------------------------
// Complex

type C = (f64, f64);

fn cmul(a: C, b: C) -> C {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

pub fn c_exp(z: C) -> C {
    if z.1 == 0.0 {
        return (z.0.exp(), z.1);
    }
    let e = z.0.exp();
    (e * z.1.cos(), e * z.1.sin())
}

pub fn c_log(z: C) -> C {
    (z.0.hypot(z.1).ln(), z.1.atan2(z.0))
}

/// C99 `csqrt`: branch cut along the negative real axis, signed zeros respected.
pub fn c_sqrt(z: C) -> C {
    let (a, b) = z;
    if a == 0.0 && b == 0.0 {
        return (0.0, b);
    }
    if b.is_infinite() {
        return (f64::INFINITY, b);
    }
    if a.is_nan() {
        return (a, f64::NAN);
    }
    if a.is_infinite() {
        return if a > 0.0 {
            (a, if b.is_nan() { b } else { 0.0f64.copysign(b) })
        } else {
            (
                if b.is_nan() { f64::NAN } else { 0.0 },
                f64::INFINITY.copysign(b),
            )
        };
    }
    // Scale to avoid overflow in |z| for huge inputs.
    let t = ((a.abs() + a.hypot(b)) * 0.5).sqrt();
    if a >= 0.0 {
        (t, b / (2.0 * t))
    } else {
        (b.abs() / (2.0 * t), t.copysign(b))
    }
}

/// NumPy's `npy_cpow`: exact small integer powers by squaring, else `exp(b·log a)`.
pub fn c_pow(a: C, b: C) -> C {
    let (ar, ai) = a;
    let (br, bi) = b;
    if br == 0.0 && bi == 0.0 {
        return (1.0, 0.0);
    }
    if ar == 0.0 && ai == 0.0 {
        return if br > 0.0 {
            (0.0, 0.0)
        } else {
            (f64::NAN, f64::NAN)
        };
    }
    if bi == 0.0 && br == (br as i64) as f64 && br.abs() < 100.0 {
        let n = br as i64;
        match n {
            1 => return a,
            2 => return cmul(a, a),
            3 => return cmul(a, cmul(a, a)),
            _ => {
                let mut m = n.unsigned_abs();
                let mut acc = (1.0, 0.0);
                let mut p = a;
                loop {
                    if m & 1 == 1 {
                        acc = cmul(acc, p);
                    }
                    m >>= 1;
                    if m == 0 {
                        break;
                    }
                    p = cmul(p, p);
                }
                if n < 0 {
                    return crate::array_ops::c_div(1.0, 0.0, acc.0, acc.1);
                }
                return acc;
            }
        }
    }
    let l = c_log(a);
    c_exp(cmul(b, l))
}

pub fn c_sin(z: C) -> C {
    (z.0.sin() * z.1.cosh(), z.0.cos() * z.1.sinh())
}

pub fn c_cos(z: C) -> C {
    (z.0.cos() * z.1.cosh(), -(z.0.sin() * z.1.sinh()))
}

pub fn c_tanh(z: C) -> C {
    let (a, b) = z;
    if a.abs() > 22.0 {
        // tanh saturates; keep the tiny imaginary part's sign and scale without overflow.
        let e = (-2.0 * a.abs()).exp();
        return (1.0f64.copysign(a), 4.0 * b.sin() * b.cos() * e);
    }
    let d = (2.0 * a).cosh() + (2.0 * b).cos();
    ((2.0 * a).sinh() / d, (2.0 * b).sin() / d)
}

pub fn c_tan(z: C) -> C {
    // tan z = -i · tanh(i z)
    let t = c_tanh((-z.1, z.0));
    (t.1, -t.0)
}

pub fn c_sinh(z: C) -> C {
    (z.0.sinh() * z.1.cos(), z.0.cosh() * z.1.sin())
}

pub fn c_cosh(z: C) -> C {
    (z.0.cosh() * z.1.cos(), z.0.sinh() * z.1.sin())
}

pub fn c_arcsin(z: C) -> C {
    // asin z = -i · log(i z + sqrt(1 - z²))
    let zz = cmul(z, z);
    let s = c_sqrt((1.0 - zz.0, -zz.1));
    let l = c_log((s.0 - z.1, s.1 + z.0));
    (l.1, -l.0)
}

pub fn c_arccos(z: C) -> C {
    let s = c_arcsin(z);
    (std::f64::consts::FRAC_PI_2 - s.0, -s.1)
}

pub fn c_arctan(z: C) -> C {
    // atan z = (i/2) · log((i + z) / (i - z))
    let q = crate::array_ops::c_div(z.0, 1.0 + z.1, -z.0, 1.0 - z.1);
    let l = c_log(q);
    (-0.5 * l.1, 0.5 * l.0)
}

macro_rules! complex_unary {
    ($($name:ident => $f:expr;)*) => {$(
        /// # Safety
        /// `out` points at two writable f64.
        #[no_mangle]
        pub unsafe extern "C" fn $name(ar: f64, ai: f64, out: *mut f64) {
            let f: fn(C) -> C = $f;
            let (r, i) = f((ar, ai));
            *out = r;
            *out.add(1) = i;
        }
    )*};
}

complex_unary! {
    kiln_c_exp => c_exp;
    kiln_c_log => c_log;
    kiln_c_log2 => |z| { let l = c_log(z); (l.0 / std::f64::consts::LN_2, l.1 / std::f64::consts::LN_2) };
    kiln_c_log10 => |z| { let l = c_log(z); (l.0 / std::f64::consts::LN_10, l.1 / std::f64::consts::LN_10) };
    kiln_c_sqrt => c_sqrt;
    kiln_c_sin => c_sin;
    kiln_c_cos => c_cos;
    kiln_c_tan => c_tan;
    kiln_c_sinh => c_sinh;
    kiln_c_cosh => c_cosh;
    kiln_c_tanh => c_tanh;
    kiln_c_arcsin => c_arcsin;
    kiln_c_arccos => c_arccos;
    kiln_c_arctan => c_arctan;
}

/// Complex division as NumPy (Smith's method); `x / 0` gives inf/nan.
/// # Safety
/// `out` points at two writable f64.
#[no_mangle]
pub unsafe extern "C" fn kiln_c_div(ar: f64, ai: f64, br: f64, bi: f64, out: *mut f64) {
    let (r, i) = crate::array_ops::c_div(ar, ai, br, bi);
    *out = r;
    *out.add(1) = i;
}

/// # Safety
/// `out` points at two writable f64.
#[no_mangle]
pub unsafe extern "C" fn kiln_c_pow(ar: f64, ai: f64, br: f64, bi: f64, out: *mut f64) {
    let (r, i) = c_pow((ar, ai), (br, bi));
    *out = r;
    *out.add(1) = i;
}

#[no_mangle]
pub extern "C" fn kiln_c_abs(ar: f64, ai: f64) -> f64 {
    ar.hypot(ai)
}
