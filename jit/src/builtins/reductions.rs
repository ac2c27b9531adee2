//! Reductions: `sum`, `prod`, `mean`, `std`, `var`, `argmin`, `argmax`, `any`, `all` of an
//! array (functions and methods, with `axis=`), and `cumsum`. A reduction of a whole-array
//! expression is fused into its loop (`lower/arrays.rs`); one of a plain array, or along an
//! axis, is the runtime's.

use super::*;
use crate::ir::{Builtin, ExprKind};
use crate::lower::{type_err, zero_of};

/// A reduction of an array, whole or along an axis.
macro_rules! reduction {
    ([$($name:literal),+], $help:literal) => {
        Def {
            names: &[$($name),+],
            params: &[pos("a"), opt("axis", "None")],
            arrays: Arrays::Taken,
            method: Method::Arrays,
            help: $help,
            lower: reduce,
        }
    };
}

pub(crate) static DEFS: &[Def] = &[
    reduction!(
        ["sum"],
        "The sum of the elements (NumPy's pairwise summation), or along an axis."
    ),
    Def {
        names: &["nansum"],
        params: &[pos("a"), opt("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The sum of the elements with nan counted as zero, or along an axis.",
        lower: nansum,
    },
    Def {
        names: &["nanmin"],
        params: &[pos("a"), opt("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help:
            "The smallest element, nan skipped (nan when every element is nan), or along an axis.",
        lower: nan_extreme,
    },
    Def {
        names: &["nanmax"],
        params: &[pos("a"), opt("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The largest element, nan skipped (nan when every element is nan), or along an axis.",
        lower: nan_extreme,
    },
    reduction!(["prod"], "The product of the elements, or along an axis."),
    reduction!(
        ["mean"],
        "The arithmetic mean of the elements, or along an axis."
    ),
    reduction!(
        ["std"],
        "The standard deviation (ddof=0), or along an axis."
    ),
    reduction!(["var"], "The variance (ddof=0), or along an axis."),
    reduction!(
        ["argmin"],
        "The flat index of the first smallest element, or along an axis."
    ),
    reduction!(
        ["argmax"],
        "The flat index of the first largest element, or along an axis."
    ),
    reduction!(["any"], "Whether any element is true, or along an axis."),
    reduction!(["all"], "Whether every element is true, or along an axis."),
    Def {
        names: &["cumsum"],
        params: &[pos("a"), opt("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "Running sums: of the flattened array, or along an axis (same shape).",
        lower: cumsum,
    },
];

fn reduce(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let a = c.req(env, cx, 0)?;
    if !matches!(a.ty, Ty::Array { .. }) {
        return type_err(c.span, format!("{}() takes an array", c.name));
    }
    let axis = c.value(env, cx, 1)?;
    env.reduction(cx, c.name, a, axis, c.span)
}

/// NumPy's nansum: nan replaced by zero, then the same (pairwise) sum, fused into one loop.
fn nansum(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = c.req(env, cx, 0)?;
    let Ty::Array { dtype, .. } = a.ty else {
        return type_err(span, "nansum() takes an array");
    };
    let axis = c.value(env, cx, 1)?;
    let a = match dtype {
        DType::F64 | DType::F32 => {
            let site = env.site(cx, span);
            env.elementwise(site, vec![a], span, |env, leaves| {
                let x = leaves.into_iter().next().expect("one operand");
                let t = x.ty.clone();
                let nan = env.builtin(cx, Builtin::IsNan, vec![x.clone()], Ty::Bool, span);
                let zero = zero_of(&t);
                Ok(Expr::new(
                    ExprKind::Select(Box::new(nan), Box::new(zero), Box::new(x)),
                    t,
                ))
            })?
        }
        DType::C128 => {
            return type_err(span, "nansum() of a complex array is not supported in Kiln")
        }
        _ => a,
    };
    env.reduction(cx, "sum", a, axis, span)
}

/// `nanmin`, `nanmax`: NumPy's `fmin`/`fmax` reductions (the runtime's); on integers and
/// bools they are `min` and `max`.
fn nan_extreme(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = c.req(env, cx, 0)?;
    let Ty::Array { dtype, .. } = a.ty else {
        return type_err(span, format!("{}() takes an array", c.name));
    };
    let axis = c.value(env, cx, 1)?;
    let name = match (dtype, c.name) {
        (DType::C128, _) => {
            return type_err(
                span,
                format!("{}() of a complex array is not supported in Kiln", c.name),
            )
            .map_err(|e| {
                crate::lower::with_hint(e, "compare the parts: nanmin(z.real), nanmax(abs(z))")
            })
        }
        (DType::F64 | DType::F32, n) => n,
        (_, "nanmin") => "min",
        _ => "max",
    };
    env.reduction(cx, name, a, axis, span)
}

fn cumsum(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = c.req(env, cx, 0)?;
    let Ty::Array { dtype, ndim } = a.ty else {
        return type_err(span, "cumsum() takes an array");
    };
    let d = match dtype {
        DType::Bool => DType::I64,
        d => d,
    };
    match c.value(env, cx, 1)? {
        Some(ax) if ax.ty != Ty::None => {
            let ax = env.int_arg(ax, span, "cumsum")?;
            Ok(env.builtin(
                cx,
                Builtin::CumsumAxis,
                vec![a, ax],
                Ty::array(d, ndim as usize),
                span,
            ))
        }
        _ => Ok(env.builtin(cx, Builtin::Cumsum, vec![a], Ty::array(d, 1), span)),
    }
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx, site) = (&o.vals, g.ctx, o.site);
    let new_array = |g: &mut Gen<'_, '_>, name, args: &[_]| {
        let a = g.call_rt1(name, args);
        g.check_null(a, site);
        vec![a]
    };
    Ok(match op {
        Builtin::Reduce(r) => g.call_rt_result("kiln_array_reduce", o.ty, site, |g, p| {
            let code = g.iconst(*r as i64);
            vec![ctx, vals[0][0], code, p]
        }),
        Builtin::ReduceAll(code) => g.call_rt_result("kiln_array_reduce", o.ty, site, |g, p| {
            let c = g.iconst(*code);
            vec![ctx, vals[0][0], c, p]
        }),
        Builtin::ReduceAxis(code) => {
            let c = g.iconst(*code);
            new_array(
                g,
                "kiln_array_reduce_axis",
                &[ctx, vals[0][0], c, vals[1][0]],
            )
        }
        Builtin::Cumsum => new_array(g, "kiln_cumsum", &[ctx, vals[0][0]]),
        Builtin::CumsumAxis => new_array(g, "kiln_cumsum_axis", &[ctx, vals[0][0], vals[1][0]]),
        other => return Err(format!("{other:?} is not a reduction builtin")),
    })
}
