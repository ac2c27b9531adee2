//! Choosing values: Python's `min`/`max` of scalars (NumPy's of an array, with `axis=`),
//! NumPy's elementwise `minimum`/`maximum`, `clip` and `where`.

use super::*;
use crate::ir::{Builtin, ExprKind};
use crate::lower::{cast, err, type_err};
use crate::types::promote;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::InstBuilder;

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["min", "amin"],
        params: &[star("args"), kw("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "The smallest of the arguments (the first of equals), or of an array's elements: \
               min(a, axis=None).",
        lower: min_max,
    },
    Def {
        names: &["max", "amax"],
        params: &[star("args"), kw("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "The largest of the arguments (the first of equals), or of an array's elements: \
               max(a, axis=None).",
        lower: min_max,
    },
    Def {
        names: &["minimum", "fmin"],
        params: &[pos("x1"), pos("x2")],
        arrays: Arrays::Elementwise(fold_min_max),
        method: Method::No,
        help: "The smaller of x1 and x2, element by element.",
        lower: fold_min_max,
    },
    Def {
        names: &["maximum", "fmax"],
        params: &[pos("x1"), pos("x2")],
        arrays: Arrays::Elementwise(fold_min_max),
        method: Method::No,
        help: "The larger of x1 and x2, element by element.",
        lower: fold_min_max,
    },
    Def {
        names: &["clip"],
        params: &[pos("a"), pos("a_min"), pos("a_max")],
        arrays: Arrays::Elementwise(clip),
        method: Method::No,
        help: "a limited to [a_min, a_max], element by element.",
        lower: clip,
    },
    Def {
        names: &["where"],
        params: &[pos("condition"), pos_opt("x", "None"), pos_opt("y", "None")],
        arrays: Arrays::Elementwise(select),
        method: Method::No,
        help: "x where condition holds, else y, element by element.",
        lower: select,
    },
];

fn is_min(name: &str) -> bool {
    name.contains("min")
}

/// `min(a, b, ...)` of scalars; `min(a)`, `min(a, axis)` or `a.min(axis)` of an array.
fn min_max(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let (name, span) = (c.name, c.span);
    let key = if is_min(name) { "min" } else { "max" };
    let mut vals = c.rest();
    if vals
        .first()
        .is_some_and(|v| matches!(v.ty, Ty::Array { .. }))
    {
        if vals.len() > 2 {
            return type_err(
                span,
                format!(
                    "{name}() of an array takes from 1 to 2 positional arguments but {} were given",
                    vals.len()
                ),
            );
        }
        let axis = match (vals.get(1).cloned(), c.value(env, cx, 1)?) {
            (Some(_), Some(_)) => {
                return type_err(
                    span,
                    format!("{name}() got multiple values for argument 'axis'"),
                )
            }
            (a, b) => a.or(b),
        };
        return env.reduction(cx, key, vals.swap_remove(0), axis, span);
    }
    if c.given(1) {
        return type_err(span, format!("{name}() takes axis= only for an array"));
    }
    match vals.len() {
        0 => type_err(span, format!("{name} expected at least 1 argument, got 0")),
        1 => type_err(span, format!("{name}() of one scalar")),
        _ => fold(env, cx, name, vals, span),
    }
}

/// `minimum(x1, x2)` / `maximum(x1, x2)` of scalars (of array elements, through the ufunc).
fn fold_min_max(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let a = c.req(env, cx, 0)?;
    let b = c.req(env, cx, 1)?;
    fold(env, cx, c.name, vec![a, b], c.span)
}

/// Python's `min(a, b, ...)`: the first of equals wins, left to right.
fn fold(
    env: &mut Env<'_>,
    cx: &mut FnCx,
    name: &str,
    vals: Vec<Expr>,
    span: Span,
) -> LResult<Expr> {
    let op = if is_min(name) {
        Builtin::Min
    } else {
        Builtin::Max
    };
    let mut vals = vals.into_iter();
    let mut acc = vals.next().expect("two or more values");
    for v in vals {
        let Some(t) = env.arith_type(&acc, &v) else {
            return type_err(span, format!("{name}() of a {} and a {}", acc.ty, v.ty));
        };
        if t == Ty::C128 {
            return type_err(span, format!("{name}() of complex numbers"));
        }
        acc = env.builtin(
            cx,
            op.clone(),
            vec![cast(acc, t.clone()), cast(v, t.clone())],
            t,
            span,
        );
    }
    Ok(acc)
}

fn clip(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let x = c.req(env, cx, 0)?;
    let lo = c.req(env, cx, 1)?;
    let hi = c.req(env, cx, 2)?;
    let t = env
        .arith_type(&x, &lo)
        .and_then(|t| promote(&t, &hi.ty))
        .filter(|t| *t != Ty::C128)
        .map_or_else(|| type_err(span, "clip() takes real numbers"), Ok)?;
    let m = env.builtin(
        cx,
        Builtin::Max,
        vec![cast(x, t.clone()), cast(lo, t.clone())],
        t.clone(),
        span,
    );
    Ok(env.builtin(cx, Builtin::Min, vec![m, cast(hi, t.clone())], t, span))
}

fn select(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let cond = c.req(env, cx, 0)?;
    let (a, b) = match (c.value(env, cx, 1)?, c.value(env, cx, 2)?) {
        (Some(a), Some(b)) => (a, b),
        (None, None) => {
            return type_err(
                span,
                "where(condition) with one argument (NumPy's nonzero) is not supported in Kiln",
            )
        }
        _ => {
            return err(
                ErrorKind::ValueError,
                span,
                "either both or neither of x and y should be given",
            )
        }
    };
    let cond = env.truth(cond, c.span_of(0))?;
    let Some(t) = env.arith_type(&a, &b) else {
        return type_err(span, format!("where() of a {} and a {}", a.ty, b.ty));
    };
    Ok(Expr::new(
        ExprKind::Select(
            Box::new(cond),
            Box::new(cast(a, t.clone())),
            Box::new(cast(b, t.clone())),
        ),
        t,
    ))
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (a, b) = (o.vals[0][0], o.vals[1][0]);
    let is_min = *op == Builtin::Min;
    // Python: min(a, b) is b only if b < a (the first of equals wins).
    let c = match o.arg_ty() {
        Ty::F64 | Ty::F32 => g.b.ins().fcmp(
            if is_min {
                FloatCC::LessThan
            } else {
                FloatCC::GreaterThan
            },
            b,
            a,
        ),
        Ty::I64 => g.b.ins().icmp(
            if is_min {
                IntCC::SignedLessThan
            } else {
                IntCC::SignedGreaterThan
            },
            b,
            a,
        ),
        _ => g.b.ins().icmp(
            if is_min {
                IntCC::UnsignedLessThan
            } else {
                IntCC::UnsignedGreaterThan
            },
            b,
            a,
        ),
    };
    Ok(vec![g.b.ins().select(c, b, a)])
}

/// `min(a, b)` / `max(a, b)` in a kernel: Python's pick (`b` only if `b < a`).
pub(super) fn opencl(op: &Builtin, o: &ClOperands) -> GResult<String> {
    let (a, b) = (&o.args[0], &o.args[1]);
    let rel = if *op == Builtin::Min { "<" } else { ">" };
    Ok(format!("(({b} {rel} {a}) ? {b} : {a})"))
}
