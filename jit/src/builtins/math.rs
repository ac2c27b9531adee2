//! Math: NumPy's unary ufuncs (`sqrt`, `exp`, `sin`, ..., `floor`, `rint`) and Python's
//! `math` module (which returns ints from `floor`/`ceil`/`trunc` and raises on a domain
//! error), `abs`, `sign`, `round`, `pow`, `hypot`, `arctan2`, `isnan`, `isinf`, `isfinite`.

use super::*;
use crate::codegen::clif::clif_types;
use crate::ir::{Builtin, ExprKind, MathFn, UnOp};
use crate::lower::{cast, type_err};
use crate::syntax::ast::BinOp;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value};

/// A unary float function: elementwise over arrays, the same lowering for scalars.
macro_rules! unary {
    ($f:ident, $help:literal, $($name:literal),+) => {
        Def {
            names: &[$($name),+],
            params: &[pos("x")],
            arrays: Arrays::Elementwise(|env, cx, c| unary_math(env, cx, c, MathFn::$f)),
            method: Method::No,
            help: $help,
            lower: |env, cx, c| unary_math(env, cx, c, MathFn::$f),
        }
    };
}

pub(crate) static DEFS: &[Def] = &[
    unary!(
        Sqrt,
        "Square root (NumPy's: nan for a negative float; math.sqrt raises ValueError).",
        "sqrt"
    ),
    unary!(Exp, "e to the power x.", "exp"),
    unary!(
        Expm1,
        "e to the power x, minus 1 (exact for x near 0, where exp(x) - 1 is not).",
        "expm1"
    ),
    unary!(Exp2, "2 to the power x.", "exp2"),
    unary!(
        Cbrt,
        "The real cube root (negative for a negative x).",
        "cbrt"
    ),
    unary!(
        Log,
        "Natural logarithm (NumPy's: nan below 0, -inf at 0; math.log raises).",
        "log"
    ),
    unary!(
        Log1p,
        "The natural logarithm of 1 + x (exact for x near 0, where log(1 + x) is not).",
        "log1p"
    ),
    unary!(Log2, "Base-2 logarithm.", "log2"),
    unary!(Log10, "Base-10 logarithm.", "log10"),
    unary!(Sin, "Sine (radians).", "sin"),
    unary!(Cos, "Cosine (radians).", "cos"),
    unary!(Tan, "Tangent (radians).", "tan"),
    unary!(Arcsin, "Inverse sine, in [-pi/2, pi/2].", "arcsin", "asin"),
    unary!(Arccos, "Inverse cosine, in [0, pi].", "arccos", "acos"),
    unary!(
        Arctan,
        "Inverse tangent, in [-pi/2, pi/2].",
        "arctan",
        "atan"
    ),
    unary!(Sinh, "Hyperbolic sine.", "sinh"),
    unary!(Cosh, "Hyperbolic cosine.", "cosh"),
    unary!(Tanh, "Hyperbolic tangent.", "tanh"),
    unary!(
        Floor,
        "Largest integer <= x, as a float (math.floor gives an int).",
        "floor"
    ),
    unary!(
        Ceil,
        "Smallest integer >= x, as a float (math.ceil gives an int).",
        "ceil"
    ),
    unary!(
        Trunc,
        "x rounded towards zero, as a float (math.trunc gives an int).",
        "trunc"
    ),
    unary!(
        Rint,
        "x rounded to the nearest integer, half to even, as a float.",
        "rint"
    ),
    ufunc!(
        ["abs", "absolute"],
        &[pos("x")],
        abs,
        "Absolute value (the modulus of a complex)."
    ),
    ufunc!(
        ["sign"],
        &[pos("x")],
        sign,
        "-1, 0 or 1 by the sign of x (NumPy's: nan stays nan, zero gives 0)."
    ),
    Def {
        names: &["round"],
        params: &[pos("number"), pos_opt("ndigits", "None")],
        // NumPy's round of an array stays float (half to even).
        arrays: Arrays::Elementwise(np_round),
        // `a.round(2)`: NumPy's method.
        method: Method::Arrays,
        help: "Python's round: half to even; an int without ndigits. Of an array, NumPy's (also a.round(n)).",
        lower: round,
    },
    ufunc!(
        ["around"],
        &[pos("a"), pos_opt("decimals", "0")],
        np_round,
        "NumPy's round: half to even, a float for a float."
    ),
    ufunc!(
        ["pow"],
        &[pos("base"), pos("exp")],
        pow,
        "base ** exp (Python's rules: an int to a negative int power is a float)."
    ),
    ufunc!(
        ["hypot"],
        &[pos("x1"), pos("x2")],
        hypot_atan2,
        "sqrt(x1**2 + x2**2) without overflow."
    ),
    ufunc!(
        ["arctan2", "atan2"],
        &[pos("y"), pos("x")],
        hypot_atan2,
        "The angle of the point (x, y), in [-pi, pi]."
    ),
    ufunc!(["isnan"], &[pos("x")], float_class, "Whether x is nan."),
    ufunc!(
        ["isinf"],
        &[pos("x")],
        float_class,
        "Whether x is +inf or -inf."
    ),
    ufunc!(
        ["isfinite"],
        &[pos("x")],
        float_class,
        "Whether x is neither nan nor infinite."
    ),
];

fn unary_math(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, m: MathFn) -> LResult<Expr> {
    let (name, span) = (c.name, c.span);
    let is_math = c.module == Some("math");
    let v = number(c.req(env, cx, 0)?, name, span)?;
    let rounding = matches!(m, MathFn::Floor | MathFn::Ceil | MathFn::Trunc);
    if is_math && rounding {
        // Python's math.floor/ceil/trunc return an int.
        if v.ty.is_int_like() {
            return Ok(cast(v, Ty::I64));
        }
        let v = env.to_float(v);
        if v.ty == Ty::C128 {
            return type_err(span, format!("math.{name}() of a complex number"));
        }
        let v = cast(v, Ty::F64);
        return Ok(match m {
            MathFn::Floor => env.builtin(cx, Builtin::FloorInt, vec![v], Ty::I64, span),
            MathFn::Ceil => env.builtin(cx, Builtin::CeilInt, vec![v], Ty::I64, span),
            _ => env.builtin(cx, Builtin::TruncInt, vec![v], Ty::I64, span),
        });
    }
    // NumPy 2.3 on: floor, ceil and trunc of an integer or bool keep its type; rint gives
    // a float.
    if rounding && v.ty.is_int_like() {
        return Ok(v);
    }
    let integral = rounding || m == MathFn::Rint;
    if integral && v.ty.is_int_like() {
        return Ok(cast(v, Ty::F64));
    }
    let v = env.to_float(v);
    if v.ty == Ty::C128 && integral {
        return type_err(span, format!("{name}() of a complex number"));
    }
    if v.ty == Ty::C128 && complex_symbol(m).is_none() {
        return type_err(
            span,
            format!("{name}() of a complex number is not supported in Kiln"),
        )
        .map_err(|e| {
            crate::lower::with_hint(
                e,
                "Kiln's complex functions: sqrt, exp, log, sin, cos, tanh",
            )
        });
    }
    let t = v.ty.clone();
    let op = if is_math && t != Ty::C128 {
        Builtin::MathChecked(m)
    } else {
        Builtin::Math(m)
    };
    Ok(env.builtin(cx, op, vec![v], t, span))
}

/// `v` if it is a number, else Python's TypeError for `name`.
fn number(v: Expr, name: &str, span: Span) -> LResult<Expr> {
    if v.ty.is_numeric() {
        return Ok(v);
    }
    type_err(span, format!("{name}() takes a number, not a {}", v.ty))
}

fn abs(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let v = c.req(env, cx, 0)?;
    let t = match v.ty {
        Ty::C128 => Ty::F64,
        Ty::Bool => Ty::I64,
        ref t if t.is_numeric() => t.clone(),
        ref t => return type_err(span, format!("bad operand type for abs(): '{t}'")),
    };
    let v = if v.ty == Ty::Bool {
        cast(v, Ty::I64)
    } else {
        v
    };
    Ok(env.builtin(cx, Builtin::Abs, vec![v], t, span))
}

fn sign(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let v = c.req(env, cx, 0)?;
    let v = if v.ty == Ty::Bool {
        cast(v, Ty::I64)
    } else {
        v
    };
    if v.ty == Ty::C128 || !v.ty.is_numeric() {
        return type_err(span, format!("sign() of a {}", v.ty));
    }
    let t = v.ty.clone();
    Ok(env.builtin(cx, Builtin::Sign, vec![v], t, span))
}

/// Python's `round(x)` (an int, half to even) and `round(x, n)`.
fn round(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let x = number(c.req(env, cx, 0)?, c.name, span)?;
    if let Some(n) = c.value(env, cx, 1)? {
        let n = env.int_arg(n, c.span_of(1), "round")?;
        if x.ty == Ty::C128 {
            return type_err(span, "round() of a complex number");
        }
        if x.ty.is_int_like() {
            // Python: an int stays an int; a negative n rounds to tens, hundreds, ... (half
            // to even).
            let x = cast(x, Ty::I64);
            return Ok(env.builtin(cx, Builtin::RoundIntN, vec![x, n], Ty::I64, span));
        }
        let x = cast(env.to_float(x), Ty::F64);
        return Ok(env.builtin(cx, Builtin::RoundN, vec![x, n], Ty::F64, span));
    }
    if x.ty.is_int_like() {
        return Ok(cast(x, Ty::I64));
    }
    if x.ty == Ty::C128 {
        return type_err(span, "round() of a complex number");
    }
    let x = cast(x, Ty::F64);
    Ok(env.builtin(cx, Builtin::RoundInt, vec![x], Ty::I64, span))
}

/// NumPy's round: `rint` without digits, a scaled `rint` with them (not Python's rule).
fn np_round(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let Some(n) = c.value(env, cx, 1)? else {
        // NumPy rounds integers to themselves (keeping their type), floats to even.
        let x = c.req(env, cx, 0)?;
        if x.ty == Ty::I64 {
            return Ok(x);
        }
        return unary_math(env, cx, c, MathFn::Rint);
    };
    let n = env.int_arg(n, span, "round")?;
    let x = number(c.req(env, cx, 0)?, c.name, span)?;
    if x.ty == Ty::C128 {
        return type_err(span, format!("{}() of a complex number", c.name));
    }
    if x.ty.is_int_like() {
        // An integer keeps its type: unchanged to n >= 0 digits, else rounded to tens,
        // hundreds, ... half to even through a float, as NumPy does.
        if matches!(n.kind, ExprKind::Int(k) if k >= 0) {
            return Ok(cast(x, Ty::I64));
        }
        let f = cast(x, Ty::F64);
        let r = env.builtin(cx, Builtin::NpRoundN, vec![f, n], Ty::F64, span);
        return Ok(cast(r, Ty::I64));
    }
    let x = cast(env.to_float(x), Ty::F64);
    Ok(env.builtin(cx, Builtin::NpRoundN, vec![x, n], Ty::F64, span))
}

fn pow(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let a = c.req(env, cx, 0)?;
    let b = c.req(env, cx, 1)?;
    env.binary(cx, BinOp::Pow, a, b, c.span)
}

fn hypot_atan2(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let (name, span) = (c.name, c.span);
    let a = c.req(env, cx, 0)?;
    let b = c.req(env, cx, 1)?;
    let t = match env.arith_type(&a, &b) {
        Some(Ty::F32) => Ty::F32,
        Some(Ty::C128) | None => return type_err(span, format!("{name}() takes real numbers")),
        _ => Ty::F64,
    };
    let op = if name == "hypot" {
        Builtin::Hypot
    } else {
        Builtin::Atan2
    };
    Ok(env.builtin(
        cx,
        op,
        vec![cast(a, t.clone()), cast(b, t.clone())],
        t,
        span,
    ))
}

/// `isnan`, `isinf`, `isfinite`.
fn float_class(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let (name, span) = (c.name, c.span);
    let v = c.req(env, cx, 0)?;
    if !v.ty.is_numeric() {
        return type_err(span, format!("{name}() of a {}", v.ty));
    }
    if v.ty.is_int_like() {
        return Ok(Expr::new(ExprKind::Bool(name == "isfinite"), Ty::Bool));
    }
    if name == "isfinite" {
        let nan = env.builtin(cx, Builtin::IsNan, vec![v.clone()], Ty::Bool, span);
        let inf = env.builtin(cx, Builtin::IsInf, vec![v], Ty::Bool, span);
        let either = Expr::new(ExprKind::Or(Box::new(nan), Box::new(inf)), Ty::Bool);
        return Ok(Expr::new(
            ExprKind::Unary(UnOp::Not, Box::new(either)),
            Ty::Bool,
        ));
    }
    let op = if name == "isnan" {
        Builtin::IsNan
    } else {
        Builtin::IsInf
    };
    Ok(env.builtin(cx, op, vec![v], Ty::Bool, span))
}

/// Whether the two-lane (F64X2) loop of a whole-array statement has this operation.
pub(crate) fn lanes_f64x2(op: &Builtin) -> bool {
    matches!(
        op,
        Builtin::Math(MathFn::Sqrt | MathFn::Floor | MathFn::Ceil | MathFn::Trunc | MathFn::Rint)
            | Builtin::Abs
    )
}

/// The operation on two f64 lanes at once (one of those `lanes_f64x2` accepts).
pub(crate) fn math_f64x2(g: &mut Gen<'_, '_>, op: &Builtin, x: Value) -> Value {
    match op {
        Builtin::Math(MathFn::Sqrt) => g.b.ins().sqrt(x),
        Builtin::Math(MathFn::Floor) => g.b.ins().floor(x),
        Builtin::Math(MathFn::Ceil) => g.b.ins().ceil(x),
        Builtin::Math(MathFn::Trunc) => g.b.ins().trunc(x),
        Builtin::Math(MathFn::Rint) => g.b.ins().nearest(x),
        _ => g.b.ins().fabs(x),
    }
}

/// The runtime's complex version of a math function, where it has one.
fn complex_symbol(m: MathFn) -> Option<&'static str> {
    Some(match m {
        MathFn::Sqrt => "kiln_c_sqrt",
        MathFn::Exp => "kiln_c_exp",
        MathFn::Log => "kiln_c_log",
        MathFn::Sin => "kiln_c_sin",
        MathFn::Cos => "kiln_c_cos",
        MathFn::Tanh => "kiln_c_tanh",
        _ => return None,
    })
}

/// The OpenCL prelude's twin of [`complex_symbol`]'s runtime function.
fn complex_opencl_helper(m: MathFn) -> Option<&'static str> {
    Some(match m {
        MathFn::Sqrt => "kiln_csqrt",
        MathFn::Exp => "kiln_cexp",
        MathFn::Log => "kiln_clog",
        MathFn::Sin => "kiln_csin",
        MathFn::Cos => "kiln_ccos",
        MathFn::Tanh => "kiln_ctanh",
        _ => return None,
    })
}

/// The runtime's (libm's) real version of a math function that has no instruction.
fn real_symbol(m: MathFn) -> Option<&'static str> {
    Some(match m {
        MathFn::Exp => "kiln_m_exp",
        MathFn::Expm1 => "kiln_m_expm1",
        MathFn::Exp2 => "kiln_m_exp2",
        MathFn::Cbrt => "kiln_m_cbrt",
        MathFn::Log1p => "kiln_m_log1p",
        MathFn::Log => "kiln_m_log",
        MathFn::Log2 => "kiln_m_log2",
        MathFn::Log10 => "kiln_m_log10",
        MathFn::Sin => "kiln_m_sin",
        MathFn::Cos => "kiln_m_cos",
        MathFn::Tan => "kiln_m_tan",
        MathFn::Arcsin => "kiln_m_arcsin",
        MathFn::Arccos => "kiln_m_arccos",
        MathFn::Arctan => "kiln_m_arctan",
        MathFn::Sinh => "kiln_m_sinh",
        MathFn::Cosh => "kiln_m_cosh",
        MathFn::Tanh => "kiln_m_tanh",
        MathFn::Sqrt | MathFn::Floor | MathFn::Ceil | MathFn::Trunc | MathFn::Rint => return None,
    })
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let arg_ty = o.arg_ty();
    let vals = &o.vals;
    Ok(match op {
        Builtin::Math(m) | Builtin::MathChecked(m) => {
            let checked = matches!(op, Builtin::MathChecked(_));
            let x = vals[0].clone();
            if arg_ty == Ty::C128 {
                let Some(name) = complex_symbol(*m) else {
                    return Err(format!("{} of a complex number is not supported", m.name()));
                };
                return Ok(g.complex_call(name, &x));
            }
            let r = match m {
                MathFn::Sqrt => g.b.ins().sqrt(x[0]),
                MathFn::Floor => g.b.ins().floor(x[0]),
                MathFn::Ceil => g.b.ins().ceil(x[0]),
                MathFn::Trunc => g.b.ins().trunc(x[0]),
                MathFn::Rint => g.b.ins().nearest(x[0]),
                other => match real_symbol(*other) {
                    Some(name) => g.f64_call(name, &arg_ty, &x),
                    None => return Err(format!("no runtime function for {}", other.name())),
                },
            };
            if checked {
                // Python's math raises where NumPy returns nan (or -inf for log(0)).
                let rnan = g.b.ins().fcmp(FloatCC::Unordered, r, r);
                let xok = g.b.ins().fcmp(FloatCC::Ordered, x[0], x[0]);
                let mut bad = g.b.ins().band(rnan, xok);
                if matches!(m, MathFn::Log | MathFn::Log2 | MathFn::Log10) {
                    let z = g.zero(clif_types(&arg_ty)[0]);
                    let is0 = g.b.ins().fcmp(FloatCC::Equal, x[0], z);
                    bad = g.b.ins().bor(bad, is0);
                }
                if *m == MathFn::Log1p {
                    // math.log1p(-1.0) raises where NumPy gives -inf.
                    let minus_one = g.float_const(-1.0, arg_ty == Ty::F32);
                    let at_pole = g.b.ins().fcmp(FloatCC::Equal, x[0], minus_one);
                    bad = g.b.ins().bor(bad, at_pole);
                }
                g.fail_if(
                    bad,
                    |g| g.raise_msg(ErrorKind::ValueError, "math domain error"),
                    o.site,
                );
            }
            vec![r]
        }
        Builtin::Abs => match arg_ty {
            Ty::I64 => {
                let x = vals[0][0];
                let n = g.b.ins().ineg(x);
                let neg = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                vec![g.b.ins().select(neg, n, x)]
            }
            Ty::F64 | Ty::F32 => vec![g.b.ins().fabs(vals[0][0])],
            Ty::C128 => vec![g.call_rt1("kiln_c_abs", &vals[0])],
            ref t => return Err(format!("abs of {t}")),
        },
        // Python's int results: NaN, ±inf or a value beyond int64 raise (`int(x)`'s errors).
        Builtin::RoundInt | Builtin::FloorInt | Builtin::CeilInt => {
            let x = vals[0][0];
            let mut r = match op {
                Builtin::RoundInt => g.b.ins().nearest(x),
                Builtin::FloorInt => g.b.ins().floor(x),
                _ => g.b.ins().ceil(x),
            };
            if arg_ty == Ty::F32 {
                r = g.b.ins().fpromote(types::F64, r);
            }
            vec![super::conversions::to_int64_checked(g, r, o.site)]
        }
        Builtin::RoundN => vec![g.call_rt1("kiln_m_round_n", &[vals[0][0], vals[1][0]])],
        Builtin::RoundIntN => vec![g.call_rt1("kiln_round_int", &[vals[0][0], vals[1][0]])],
        Builtin::NpRoundN => vec![g.call_rt1("kiln_m_np_round_n", &[vals[0][0], vals[1][0]])],
        Builtin::Atan2 => vec![g.f64_call("kiln_m_arctan2", &arg_ty, &[vals[0][0], vals[1][0]])],
        Builtin::Hypot => vec![g.f64_call("kiln_m_hypot", &arg_ty, &[vals[0][0], vals[1][0]])],
        Builtin::IsNan => {
            let x = vals[0][0];
            vec![g.b.ins().fcmp(FloatCC::Unordered, x, x)]
        }
        Builtin::IsInf => {
            let x = vals[0][0];
            let a = g.b.ins().fabs(x);
            let inf = if arg_ty == Ty::F32 {
                g.b.ins().f32const(f32::INFINITY)
            } else {
                g.b.ins().f64const(f64::INFINITY)
            };
            vec![g.b.ins().fcmp(FloatCC::Equal, a, inf)]
        }
        Builtin::Sign => {
            let x = vals[0][0];
            match arg_ty {
                Ty::I64 => {
                    let p = g.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, x, 0);
                    let n = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                    let p = g.b.ins().uextend(types::I64, p);
                    let n = g.b.ins().uextend(types::I64, n);
                    vec![g.b.ins().isub(p, n)]
                }
                _ => {
                    let ct = clif_types(&arg_ty)[0];
                    let z = g.zero(ct);
                    let (one, mone) = if ct == types::F32 {
                        (g.b.ins().f32const(1.0), g.b.ins().f32const(-1.0))
                    } else {
                        (g.b.ins().f64const(1.0), g.b.ins().f64const(-1.0))
                    };
                    let p = g.b.ins().fcmp(FloatCC::GreaterThan, x, z);
                    let n = g.b.ins().fcmp(FloatCC::LessThan, x, z);
                    // Zero (of either sign) gives +0.0 and nan stays nan, as in NumPy.
                    let zero_or_nan = g.b.ins().fadd(x, z);
                    let r = g.b.ins().select(n, mone, zero_or_nan);
                    vec![g.b.ins().select(p, one, r)]
                }
            }
        }
        other => return Err(format!("{other:?} is not a math builtin")),
    })
}

/// OpenCL C's name of a real math function (its built-ins take `float` or `double`): NumPy's
/// name but for the inverse trigonometric ones.
fn opencl_name(m: MathFn) -> &'static str {
    match m {
        MathFn::Arcsin => "asin",
        MathFn::Arccos => "acos",
        MathFn::Arctan => "atan",
        other => other.name(),
    }
}

/// The math builtins in a `@gpu` kernel. `sqrt`, `floor`, `ceil`, `trunc`, `rint` and `abs`
/// are exact on every device; the others are OpenCL's built-ins, within its ulp bounds of
/// the CPU's libm.
pub(super) fn opencl(e: &mut Emit<'_, '_>, op: &Builtin, o: &ClOperands) -> GResult<String> {
    let t = &o.tys[0];
    let x = &o.args[0];
    let single = *t == Ty::F32;
    let lit = |v: f64| {
        if single {
            format!("{v:?}f")
        } else {
            format!("{v:?}")
        }
    };
    Ok(match op {
        Builtin::Math(m) | Builtin::MathChecked(m) => {
            if *t == Ty::C128 {
                // The CPU's complex functions (the runtime's `c_*`), as prelude helpers.
                let Some(h) = complex_opencl_helper(*m) else {
                    return gpu_err(
                        o.site,
                        format!("complex {} cannot run in a @gpu body", m.name()),
                        "compute it from the real and imaginary parts, or run the loop with @par",
                    );
                };
                e.u.prelude.need(h);
                return Ok(format!("{h}({x})"));
            }
            let r = format!("{}({x})", opencl_name(*m));
            if matches!(op, Builtin::MathChecked(_)) {
                // Python's math raises where NumPy returns nan (or -inf for log(0)).
                let r = e.temp(o.ret, &r, o.site)?;
                let mut bad = format!("(isnan({r}) && !isnan({x}))");
                if matches!(m, MathFn::Log | MathFn::Log2 | MathFn::Log10) {
                    bad = format!("({bad} || {x} == {})", lit(0.0));
                }
                if *m == MathFn::Log1p {
                    bad = format!("({bad} || {x} == {})", lit(-1.0));
                }
                e.fail(
                    &bad,
                    ErrorKind::ValueError,
                    "math domain error",
                    o.site,
                    ["0", "0", "0"],
                );
                r
            } else {
                r
            }
        }
        Builtin::Abs => match t {
            Ty::I64 => format!("(({x} < 0) ? (long)(0UL - (ulong){x}) : {x})"),
            Ty::C128 => format!("hypot({x}.x, {x}.y)"),
            _ => format!("fabs({x})"),
        },
        Builtin::RoundInt => {
            super::conversions::opencl_to_int64_checked(e, &format!("rint({x})"), o.site)?
        }
        Builtin::FloorInt => {
            super::conversions::opencl_to_int64_checked(e, &format!("floor({x})"), o.site)?
        }
        Builtin::CeilInt => {
            super::conversions::opencl_to_int64_checked(e, &format!("ceil({x})"), o.site)?
        }
        Builtin::Atan2 => format!("atan2({x}, {})", o.args[1]),
        Builtin::Hypot => format!("hypot({x}, {})", o.args[1]),
        Builtin::IsNan => format!("(isnan({x}) != 0)"),
        Builtin::IsInf => format!("(isinf({x}) != 0)"),
        Builtin::Sign => match t {
            Ty::I64 => format!("(long)(({x} > 0) - ({x} < 0))"),
            // Zero (of either sign) gives +0.0 and nan stays nan, as in NumPy.
            _ => format!(
                "(({x} > {z}) ? {one} : (({x} < {z}) ? -{one} : {x} + {z}))",
                z = lit(0.0),
                one = lit(1.0)
            ),
        },
        Builtin::RoundN | Builtin::RoundIntN | Builtin::NpRoundN => {
            return gpu_err(
                o.site,
                "round(x, ndigits) cannot run in a @gpu body: it rounds through decimal text",
                "round after the loop, or use round(x) / floor in the kernel",
            )
        }
        other => return gpu_err(o.site, format!("{other:?} is not a math builtin"), ""),
    })
}
