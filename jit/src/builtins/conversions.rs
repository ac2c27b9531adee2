//! Conversions between scalar types: `int(x)`, `float(x)`, `bool(x)`, and NumPy's scalar
//! types as functions (`np.float32(x)`, `np.int64(x)`, ...). Each gives its type's zero
//! without an argument, as Python's and NumPy's do.

use super::*;
use crate::ir::{Builtin, ExprKind};
use crate::lower::{cast, dtype_of_name, type_err, zero_of};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value};

/// A conversion to the scalar type of its names.
macro_rules! conversion {
    ([$($name:literal),+], $help:literal) => {
        Def {
            names: &[$($name),+],
            params: &[pos_opt("x", "0")],
            arrays: Arrays::Rejected,
            method: Method::No,
            help: $help,
            lower: convert,
        }
    };
}

pub(crate) static DEFS: &[Def] = &[
    conversion!(
        ["int", "i64", "int64", "int_"],
        "x as an i64: a float is truncated towards zero, a bool is 0 or 1."
    ),
    conversion!(
        ["float", "f64", "float64", "double"],
        "x as an f64 (a 64-bit float)."
    ),
    conversion!(
        ["f32", "float32", "single"],
        "x as an f32 (a 32-bit float, rounded to nearest)."
    ),
    conversion!(
        ["int8", "int16", "int32", "uint8", "uint16", "uint32"],
        "x as an integer of that type's range, held as an i64 (NumPy 2: OverflowError when x does not fit)."
    ),
    conversion!(
        ["bool", "bool_"],
        "Python's truth of x: False for zero, True otherwise."
    ),
    Def {
        names: &["c128", "complex128"],
        params: &[pos_opt("x", "0"), pos_opt("imag", "None")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "x as a c128 (a complex of two f64); c128(re, im) is re + im*1j.",
        lower: to_complex,
    },
];

/// `c128(x)` converts; `c128(re, im)` builds `re + im*1j` from two real parts.
fn to_complex(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let im = match c.value(env, cx, 1)? {
        Some(v) if v.ty != Ty::None => v,
        _ => return convert(env, cx, c),
    };
    let re = c
        .value(env, cx, 0)?
        .unwrap_or_else(|| Expr::new(ExprKind::Float(0.0), Ty::F64));
    for v in [&re, &im] {
        if !v.ty.is_numeric() {
            return type_err(span, format!("{}() of a {}", c.name, v.ty));
        }
    }
    if re.ty == Ty::C128 || im.ty == Ty::C128 {
        // NumPy's complex128(re, im) takes real parts only.
        return type_err(span, format!("{}(re, im) takes real parts", c.name))
            .map_err(|e| crate::lower::with_hint(e, "use re + im * 1j for complex parts"));
    }
    Ok(super::complex::make_complex(env, cx, re, im, span))
}

fn convert(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let (name, span) = (c.name, c.span);
    let Some(dtype) = dtype_of_name(name) else {
        return type_err(span, format!("{name}() is not a conversion"));
    };
    let target = Ty::from_dtype(dtype);
    let Some(v) = c.value(env, cx, 0)? else {
        return Ok(zero_of(&target));
    };
    if v.ty == Ty::C128 && target != Ty::C128 {
        return type_err(span, format!("can't convert complex to {name}"));
    }
    if target == Ty::Bool && matches!(v.ty, Ty::DType { .. }) {
        return env.truth(v, span);
    }
    if !v.ty.is_numeric() {
        return type_err(span, format!("{name}() of a {}", v.ty));
    }
    if target == Ty::Bool {
        return env.truth(v, span);
    }
    if dtype.narrow_int().is_some() {
        // NumPy converts a float towards zero first, then checks the integer.
        let v = if v.ty.is_float() {
            env.builtin(cx, Builtin::TruncInt, vec![v], Ty::I64, span)
        } else {
            cast(v, Ty::I64)
        };
        return env.fit_narrow(cx, v, dtype, span);
    }
    if let (ExprKind::Float(x), Ty::F32) = (&v.kind, &target) {
        return Ok(Expr::new(ExprKind::Float(*x as f32 as f64), Ty::F32));
    }
    if target == Ty::I64 && matches!(v.ty, Ty::F64 | Ty::F32) {
        return Ok(match v.kind {
            ExprKind::Float(x) if int64_error(x).is_none() => Expr::int(x as i64),
            // A literal out of range still raises when the statement runs, as in Python.
            _ => env.builtin(cx, Builtin::TruncInt, vec![v], Ty::I64, span),
        });
    }
    Ok(cast(v, target))
}

/// -2**63 and 2**63 as f64 (both exact): a float converts to int64 when it lies in
/// `[MIN, MAX)`.
const INT64_MIN_F: f64 = -9_223_372_036_854_775_808.0;
const INT64_END_F: f64 = 9_223_372_036_854_775_808.0;

/// Python's errors for `int(x)` of a float that does not fit an int64 (Python's int has no
/// bound, so the last is Kiln's, worded like CPython's overflow into a C integer).
const NAN_TO_INT: (ErrorKind, &str) =
    (ErrorKind::ValueError, "cannot convert float NaN to integer");
const INF_TO_INT: (ErrorKind, &str) = (
    ErrorKind::OverflowError,
    "cannot convert float infinity to integer",
);
const TOO_BIG_FOR_INT64: (ErrorKind, &str) = (
    ErrorKind::OverflowError,
    "int too large to convert to int64",
);

fn int64_error(x: f64) -> Option<(ErrorKind, &'static str)> {
    if x.is_nan() {
        Some(NAN_TO_INT)
    } else if x.is_infinite() {
        Some(INF_TO_INT)
    } else if !(INT64_MIN_F..INT64_END_F).contains(&x) {
        Some(TOO_BIG_FOR_INT64)
    } else {
        None
    }
}

/// The instructions of `TruncInt`, `WrapInt` and `CheckIntRange`.
pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    match *op {
        Builtin::TruncInt => {}
        Builtin::WrapInt(d) => {
            let Some((bits, signed)) = d.narrow_int() else {
                return Ok(vec![o.vals[0][0]]);
            };
            let narrow = types::Type::int(bits as u16).expect("8, 16 or 32 bits");
            let x = g.b.ins().ireduce(narrow, o.vals[0][0]);
            return Ok(vec![if signed {
                g.b.ins().sextend(types::I64, x)
            } else {
                g.b.ins().uextend(types::I64, x)
            }]);
        }
        Builtin::CheckIntRange(d) => {
            let x = o.vals[0][0];
            let Some((lo, hi)) = d.int_range() else {
                return Ok(vec![x]);
            };
            let under = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, lo);
            let over = g.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, x, hi);
            let bad = g.b.ins().bor(under, over);
            g.fail_if(
                bad,
                |g| {
                    let code = g.iconst(d as i64);
                    g.call_rt("kiln_int_bounds_error", &[g.ctx, x, code])
                },
                o.site,
            );
            return Ok(vec![x]);
        }
        _ => return Err(format!("{op:?} is not a conversion")),
    }
    let mut x = o.vals[0][0];
    if o.arg_ty() == Ty::F32 {
        x = g.b.ins().fpromote(types::F64, x);
    }
    Ok(vec![to_int64_checked(g, x, o.site)])
}

/// An f64 with no fraction (or one truncated) as an i64, raising Python's error where it has
/// none: one range test (NaN fails it too) guards the conversion; the cold path picks the
/// error. `round`, `math.floor` and `math.ceil` end with it too.
pub(super) fn to_int64_checked(g: &mut Gen<'_, '_>, x: Value, site: ir::SiteId) -> Value {
    let lo = g.b.ins().f64const(INT64_MIN_F);
    let end = g.b.ins().f64const(INT64_END_F);
    let under = g.b.ins().fcmp(FloatCC::UnorderedOrLessThan, x, lo);
    let over =
        g.b.ins()
            .fcmp(FloatCC::UnorderedOrGreaterThanOrEqual, x, end);
    let bad = g.b.ins().bor(under, over);
    g.fail_if(
        bad,
        |g| {
            let nan = g.b.create_block();
            let not_nan = g.b.create_block();
            let inf = g.b.create_block();
            let big = g.b.create_block();
            let done = g.b.create_block();
            for b in [nan, not_nan, inf, big, done] {
                g.b.set_cold_block(b);
            }
            let is_nan = g.b.ins().fcmp(FloatCC::Unordered, x, x);
            g.b.ins().brif(is_nan, nan, &[], not_nan, &[]);
            g.b.switch_to_block(not_nan);
            let size = g.b.ins().fabs(x);
            let infinity = g.b.ins().f64const(f64::INFINITY);
            let is_inf = g.b.ins().fcmp(FloatCC::Equal, size, infinity);
            g.b.ins().brif(is_inf, inf, &[], big, &[]);
            for (block, (kind, msg)) in [
                (nan, NAN_TO_INT),
                (inf, INF_TO_INT),
                (big, TOO_BIG_FOR_INT64),
            ] {
                g.b.switch_to_block(block);
                g.raise_msg(kind, msg);
                g.b.ins().jump(done, &[]);
            }
            g.b.switch_to_block(done);
            vec![]
        },
        site,
    );
    g.b.ins().fcvt_to_sint_sat(types::I64, x)
}

/// `TruncInt` in a `@gpu` kernel: the same test, and the kernel's error protocol (the
/// failing iteration is replayed on the host, which raises the serial run's error).
pub(super) fn opencl(e: &mut Emit<'_, '_>, op: &Builtin, o: &ClOperands) -> GResult<String> {
    match *op {
        Builtin::TruncInt => opencl_to_int64_checked(e, &o.args[0], o.site),
        Builtin::WrapInt(d) => Ok(match d.narrow_int() {
            Some(_) => format!(
                "((long)({})({}))",
                crate::codegen::opencl::elem_name(d),
                o.args[0]
            ),
            None => o.args[0].clone(),
        }),
        Builtin::CheckIntRange(d) => {
            let Some((lo, hi)) = d.int_range() else {
                return Ok(o.args[0].clone());
            };
            let x = e.temp(&Ty::I64, &o.args[0], o.site)?;
            // The failing iteration is replayed on the host, which words the error.
            e.fail(
                &format!("{x} < {lo}L || {x} > {hi}L"),
                ErrorKind::OverflowError,
                "Python integer out of bounds",
                o.site,
                ["0", "0", "0"],
            );
            Ok(x)
        }
        _ => gpu_err(o.site, format!("{op:?} is not a conversion"), ""),
    }
}

/// `to_int64_checked` in a kernel.
pub(super) fn opencl_to_int64_checked(
    e: &mut Emit<'_, '_>,
    value: &str,
    site: ir::SiteId,
) -> GResult<String> {
    let x = e.temp(&Ty::F64, &format!("(double)({value})"), site)?;
    let lo = format!("{INT64_MIN_F:?}");
    let end = format!("{INT64_END_F:?}");
    e.fail(
        &format!("isnan({x})"),
        NAN_TO_INT.0,
        NAN_TO_INT.1,
        site,
        ["0", "0", "0"],
    );
    e.fail(
        &format!("isinf({x})"),
        INF_TO_INT.0,
        INF_TO_INT.1,
        site,
        ["0", "0", "0"],
    );
    e.fail(
        &format!("!({x} >= {lo} && {x} < {end})"),
        TOO_BIG_FOR_INT64.0,
        TOO_BIG_FOR_INT64.1,
        site,
        ["0", "0", "0"],
    );
    Ok(format!("convert_long_rtz({x})"))
}
