//! Complex numbers: `complex(re, im)` and the parts of a number — `real`, `imag`, `conj`
//! (`z.conjugate()`), `angle` — elementwise over arrays.

use super::*;
use crate::ir::{Builtin, ExprKind};
use crate::lower::{cast, type_err};
use cranelift_codegen::ir::InstBuilder;

/// A part of a number, element by element over arrays.
macro_rules! part {
    ([$($name:literal),+], $method:expr, $help:literal) => {
        Def {
            names: &[$($name),+],
            params: &[pos("val")],
            arrays: Arrays::Elementwise(part),
            method: $method,
            help: $help,
            lower: part,
        }
    };
}

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["complex"],
        params: &[pos_opt("real", "0"), pos_opt("imag", "0")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "The complex number real + imag*1j (a c128).",
        lower: complex,
    },
    part!(["real"], Method::No, "The real part (z.real)."),
    part!(
        ["imag"],
        Method::No,
        "The imaginary part (z.imag); 0 for a real number."
    ),
    part!(
        ["conj", "conjugate"],
        Method::Numbers,
        "The complex conjugate (z.conjugate()); a real number is its own."
    ),
    part!(
        ["angle"],
        Method::No,
        "The argument of a complex number, in radians."
    ),
];

fn complex(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let zero = || Expr::new(ExprKind::Float(0.0), Ty::F64);
    let re = c.value(env, cx, 0)?.unwrap_or_else(zero);
    let im = c.value(env, cx, 1)?.unwrap_or_else(zero);
    if re.ty == Ty::C128 || im.ty == Ty::C128 {
        return type_err(span, "complex() takes real parts in Kiln");
    }
    Ok(make_complex(env, cx, re, im, span))
}

/// `re + im*1j` from two real numbers (`complex(re, im)`, `c128(re, im)`).
pub(super) fn make_complex(
    env: &mut Env<'_>,
    cx: &mut FnCx,
    re: Expr,
    im: Expr,
    span: Span,
) -> Expr {
    env.builtin(
        cx,
        Builtin::MakeComplex,
        vec![cast(re, Ty::F64), cast(im, Ty::F64)],
        Ty::C128,
        span,
    )
}

fn part(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let v = c.req(env, cx, 0)?;
    let op = match c.name {
        "real" => Builtin::Real,
        "imag" => Builtin::Imag,
        "angle" => Builtin::Angle,
        _ => Builtin::Conj,
    };
    env.complex_part(cx, op, v, c.span)
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let vals = &o.vals;
    Ok(match op {
        Builtin::Real => vec![vals[0][0]],
        Builtin::Imag => vec![vals[0][1]],
        Builtin::Conj => vec![vals[0][0], g.b.ins().fneg(vals[0][1])],
        Builtin::Angle => vec![g.call_rt1("kiln_m_arctan2", &[vals[0][1], vals[0][0]])],
        Builtin::MakeComplex => vec![vals[0][0], vals[1][0]],
        other => return Err(format!("{other:?} is not a complex builtin")),
    })
}

/// The parts of a complex number in a kernel (`double2`: `.x` real, `.y` imaginary).
pub(super) fn opencl(op: &Builtin, o: &ClOperands) -> GResult<String> {
    let x = &o.args[0];
    Ok(match op {
        Builtin::Real => format!("{x}.x"),
        Builtin::Imag => format!("{x}.y"),
        Builtin::Conj => format!("(double2)({x}.x, -{x}.y)"),
        Builtin::Angle => format!("atan2({x}.y, {x}.x)"),
        Builtin::MakeComplex => format!("(double2)({x}, {})", o.args[1]),
        other => return gpu_err(o.site, format!("{other:?} is not a complex builtin"), ""),
    })
}
