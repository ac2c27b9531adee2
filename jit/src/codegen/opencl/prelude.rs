//! The OpenCL C helpers a kernel may need, each the device twin of what the CPU does (the
//! runtime's `kiln_m_py_floordiv`, `kiln_pow_i64`, `c_div`, ...), so that a kernel computes
//! the same values as the serial loop. A kernel's source includes only those it uses.

/// (name, names it needs first, text)
const HELPERS: &[(&str, &[&str], &str)] = &[
    (
        "kiln_fail",
        &[],
        "/* An error in iteration C->kk. The main build only marks the work-item failed (the
   kernel's end keeps the lowest failing iteration); the replay build (KILN_REPLAY), run
   for that one iteration, records what failed and where. Stores to global memory on the
   error paths would stop PoCL from vectorising the main build. */
#if KILN_REPLAY
void kiln_fail(__private kiln_ctx* C, long code, long site, long a, long b, long c) {
    C->failed = 1;
    C->err[1] = code; C->err[2] = a; C->err[3] = b; C->err[4] = c;
    C->err[5] = 1; C->err[6] = site;
}
/* A call that failed: add its site to the chain (innermost first). */
void kiln_trace(__private kiln_ctx* C, long site) {
    if (C->err[5] < 26) { C->err[6 + C->err[5]] = site; C->err[5] += 1; }
}
#else
void kiln_fail(__private kiln_ctx* C, long code, long site, long a, long b, long c) {
    C->failed = 1;
}
void kiln_trace(__private kiln_ctx* C, long site) {}
#endif
",
    ),
    (
        "kiln_floordiv_i64",
        &[],
        "/* Python's // on integers (b != 0): floor, and LONG_MIN // -1 wraps. */
long kiln_floordiv_i64(long a, long b) {
    if (b == -1) return (long)(0UL - (ulong)a);
    long q = a / b, r = a % b;
    return (r != 0 && (r ^ b) < 0) ? q - 1 : q;
}
",
    ),
    (
        "kiln_mod_i64",
        &[],
        "/* Python's % on integers (b != 0): the result takes the divisor's sign. */
long kiln_mod_i64(long a, long b) {
    if (b == -1) return 0;
    long r = a % b;
    return (r != 0 && (r ^ b) < 0) ? r + b : r;
}
",
    ),
    (
        "kiln_pow_i64",
        &[],
        "/* i64 ** i64 (b >= 0) by squaring, wrapping as the CPU does. */
long kiln_pow_i64(long a, long b) {
    ulong base = (ulong)a, r = 1;
    ulong e = (ulong)b;
    while (e > 0) { if (e & 1) r *= base; base *= base; e >>= 1; }
    return (long)r;
}
",
    ),
    (
        "kiln_floordiv_f64",
        &[],
        "/* Python's float // (CPython's float_div_mod); x // 0.0 is x / 0.0, as in NumPy. */
double kiln_floordiv_f64(double a, double b) {
    if (b == 0.0) return a / b;
    double m = fmod(a, b);
    double div = (a - m) / b;
    if (m != 0.0 && ((b < 0.0) != (m < 0.0))) div -= 1.0;
    if (div != 0.0) {
        double fd = floor(div);
        if (div - fd > 0.5) fd += 1.0;
        return fd;
    }
    return copysign(0.0, a / b);
}
",
    ),
    (
        "kiln_mod_f64",
        &[],
        "/* Python's float %: the result takes the divisor's sign; % 0.0 is nan. */
double kiln_mod_f64(double a, double b) {
    if (b == 0.0) return (double)NAN;
    double m = fmod(a, b);
    if (m != 0.0) return ((b < 0.0) != (m < 0.0)) ? m + b : m;
    return copysign(0.0, b);
}
",
    ),
    (
        "kiln_floordiv_f32",
        &[],
        "float kiln_floordiv_f32(float a, float b) {
    if (b == 0.0f) return a / b;
    float m = fmod(a, b);
    float div = (a - m) / b;
    if (m != 0.0f && ((b < 0.0f) != (m < 0.0f))) div -= 1.0f;
    if (div != 0.0f) {
        float fd = floor(div);
        if (div - fd > 0.5f) fd += 1.0f;
        return fd;
    }
    return copysign(0.0f, a / b);
}
",
    ),
    (
        "kiln_mod_f32",
        &[],
        "float kiln_mod_f32(float a, float b) {
    if (b == 0.0f) return NAN;
    float m = fmod(a, b);
    if (m != 0.0f) return ((b < 0.0f) != (m < 0.0f)) ? m + b : m;
    return copysign(0.0f, b);
}
",
    ),
    (
        "kiln_cmul",
        &[],
        "/* Complex product, in the CPU's order of operations. */
double2 kiln_cmul(double2 a, double2 b) {
    return (double2)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
",
    ),
    (
        "kiln_cdiv",
        &[],
        "/* Complex quotient by Smith's method, as the runtime's c_div. */
double2 kiln_cdiv(double2 a, double2 b) {
    double abr = fabs(b.x), abi = fabs(b.y);
    if (abr >= abi) {
        if (abr == 0.0 && abi == 0.0) return (double2)(a.x / abr, a.y / abr);
        double rat = b.y / b.x, scl = 1.0 / (b.x + b.y * rat);
        return (double2)((a.x + a.y * rat) * scl, (a.y - a.x * rat) * scl);
    }
    double rat = b.x / b.y, scl = 1.0 / (b.y + b.x * rat);
    return (double2)((a.x * rat + a.y) * scl, (a.y * rat - a.x) * scl);
}
",
    ),
    (
        "kiln_cexp",
        &[],
        "/* Complex exp, as the runtime's c_exp (a real argument stays real). */
double2 kiln_cexp(double2 z) {
    if (z.y == 0.0) return (double2)(exp(z.x), z.y);
    double e = exp(z.x);
    return (double2)(e * cos(z.y), e * sin(z.y));
}
",
    ),
    (
        "kiln_clog",
        &[],
        "/* Complex log (principal branch), as the runtime's c_log. */
double2 kiln_clog(double2 z) {
    return (double2)(log(hypot(z.x, z.y)), atan2(z.y, z.x));
}
",
    ),
    (
        "kiln_csqrt",
        &[],
        "/* C99 csqrt, as the runtime's c_sqrt: branch cut along the negative real axis,
   signed zeros respected. */
double2 kiln_csqrt(double2 z) {
    double a = z.x, b = z.y;
    if (a == 0.0 && b == 0.0) return (double2)(0.0, b);
    if (isinf(b)) return (double2)((double)INFINITY, b);
    if (isnan(a)) return (double2)(a, NAN);
    if (isinf(a)) {
        if (a > 0.0) return (double2)(a, isnan(b) ? b : copysign(0.0, b));
        return (double2)(isnan(b) ? NAN : 0.0, copysign((double)INFINITY, b));
    }
    double t = sqrt((fabs(a) + hypot(a, b)) * 0.5);
    if (a >= 0.0) return (double2)(t, b / (2.0 * t));
    return (double2)(fabs(b) / (2.0 * t), copysign(t, b));
}
",
    ),
    (
        "kiln_cpow",
        &["kiln_cmul", "kiln_cdiv", "kiln_clog", "kiln_cexp"],
        "/* Complex power, as the runtime's c_pow (NumPy's npy_cpow): small integer powers
   exactly, by squaring; otherwise exp(b log a). */
double2 kiln_cpow(double2 a, double2 b) {
    if (b.x == 0.0 && b.y == 0.0) return (double2)(1.0, 0.0);
    if (a.x == 0.0 && a.y == 0.0)
        return b.x > 0.0 ? (double2)(0.0, 0.0) : (double2)(NAN, NAN);
    if (b.y == 0.0 && floor(b.x) == b.x && fabs(b.x) < 100.0) {
        long n = (long)b.x;
        if (n == 1) return a;
        if (n == 2) return kiln_cmul(a, a);
        if (n == 3) return kiln_cmul(a, kiln_cmul(a, a));
        ulong m = (ulong)(n < 0 ? -n : n);
        double2 acc = (double2)(1.0, 0.0), p = a;
        for (;;) {
            if (m & 1) acc = kiln_cmul(acc, p);
            m >>= 1;
            if (m == 0) break;
            p = kiln_cmul(p, p);
        }
        return n < 0 ? kiln_cdiv((double2)(1.0, 0.0), acc) : acc;
    }
    return kiln_cexp(kiln_cmul(b, kiln_clog(a)));
}
",
    ),
    (
        "kiln_csin",
        &[],
        "double2 kiln_csin(double2 z) {
    return (double2)(sin(z.x) * cosh(z.y), cos(z.x) * sinh(z.y));
}
",
    ),
    (
        "kiln_ccos",
        &[],
        "double2 kiln_ccos(double2 z) {
    return (double2)(cos(z.x) * cosh(z.y), -(sin(z.x) * sinh(z.y)));
}
",
    ),
    (
        "kiln_ctanh",
        &[],
        "/* Complex tanh, as the runtime's c_tanh (saturating without overflow). */
double2 kiln_ctanh(double2 z) {
    double a = z.x, b = z.y;
    if (fabs(a) > 22.0) {
        double e = exp(-2.0 * fabs(a));
        return (double2)(copysign(1.0, a), 4.0 * sin(b) * cos(b) * e);
    }
    double d = cosh(2.0 * a) + cos(2.0 * b);
    return (double2)(sinh(2.0 * a) / d, sin(2.0 * b) / d);
}
",
    ),
];

/// The helpers a kernel uses, in a fixed order (dependencies first).
#[derive(Default)]
pub(crate) struct Prelude {
    used: Vec<&'static str>,
}

impl Prelude {
    pub(crate) fn need(&mut self, name: &'static str) {
        if self.used.contains(&name) {
            return;
        }
        if let Some((_, deps, _)) = HELPERS.iter().find(|(n, _, _)| *n == name) {
            for d in *deps {
                self.need(d);
            }
        }
        self.used.push(name);
    }

    pub(crate) fn text(&self) -> String {
        HELPERS
            .iter()
            .filter(|(n, _, _)| self.used.contains(n))
            .map(|(_, _, t)| *t)
            .collect::<Vec<_>>()
            .join("")
    }
}
