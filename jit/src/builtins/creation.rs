//! New arrays: `zeros`, `ones`, `empty`, `full`, `arange`, `linspace`, `eye`/`identity`, and
//! `array([...])` from a nested list literal (or a copy of an array).

use super::*;
use crate::codegen::clif::header_flags;
use crate::ir::{Builtin, ExprKind};
use crate::lower::{cast, type_err};
use cranelift_codegen::ir::{types, InstBuilder, Value};
use kiln_runtime::array::ARRAY_DATA_OFFSET;

/// `zeros`, `ones`, `empty`: a new array of a shape.
macro_rules! filled {
    ($name:literal, $help:literal) => {
        Def {
            names: &[$name],
            params: &[arg("shape"), dtype("f64")],
            arrays: Arrays::Taken,
            method: Method::No,
            help: $help,
            lower: filled,
        }
    };
}

/// `zeros_like`, `ones_like`, `empty_like`: a new array shaped like another.
macro_rules! like {
    ($name:literal, $help:literal) => {
        Def {
            names: &[$name],
            params: &[arg("a"), dtype("None")],
            arrays: Arrays::Taken,
            method: Method::No,
            help: $help,
            lower: like,
        }
    };
}

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["fill"],
        params: &[arg("a"), arg("value")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "a.fill(value): every element of a set to value (a view's, in its base).",
        lower: fill,
    },
    filled!("zeros", "A new array of the given shape filled with zeros."),
    filled!("ones", "A new array of the given shape filled with ones."),
    filled!(
        "empty",
        "A new array of the given shape (its contents are unspecified)."
    ),
    Def {
        names: &["full"],
        params: &[arg("shape"), arg("fill_value"), dtype("None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "A new array filled with fill_value (of its dtype unless dtype is given).",
        lower: filled,
    },
    like!(
        "zeros_like",
        "A new array of zeros with the shape (and dtype) of an array."
    ),
    like!(
        "ones_like",
        "A new array of ones with the shape (and dtype) of an array."
    ),
    like!(
        "empty_like",
        "A new array with the shape (and dtype) of an array (its contents are unspecified)."
    ),
    Def {
        names: &["full_like"],
        params: &[arg("a"), arg("fill_value"), dtype("None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "A new array with the shape (and dtype) of an array, filled with fill_value \
               (cast to that dtype, as NumPy does).",
        lower: like,
    },
    Def {
        names: &["arange"],
        params: &[
            pos("start"),
            pos_opt("stop", "None"),
            pos_opt("step", "1"),
            kw_dtype("None"),
        ],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Evenly spaced values in [start, stop): arange(stop), arange(start, stop[, step]); \
               i64 if every argument is an int, else f64.",
        lower: arange,
    },
    Def {
        names: &["linspace"],
        params: &[arg("start"), arg("stop"), opt("num", "50"), kw_dtype("f64")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "num evenly spaced values from start to stop inclusive.",
        lower: linspace,
    },
    Def {
        names: &["eye", "identity"],
        params: &[arg("N"), kw_dtype("f64")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "The N x N identity matrix.",
        lower: eye,
    },
    Def {
        names: &["array", "asarray"],
        params: &[literal("object"), dtype("None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "An array from a nested list literal (array([[1, 2], [3, 4]])), or a copy of an \
               array; dtype from the elements unless given.",
        lower: array,
    },
];

/// `zeros(shape)`, `ones`, `empty`, `full(shape, v)`.
fn filled(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let (name, span) = (c.name, c.span);
    let is_full = name == "full";
    let fill = if is_full {
        Some(c.req(env, cx, 1)?)
    } else {
        None
    };
    if let Some(v) = fill.as_ref().filter(|v| matches!(v.ty, Ty::Array { .. })) {
        return type_err(c.span_of(1), format!("full() fill value of type {}", v.ty));
    }
    let dtype = match c.dtype(env, cx, if is_full { 2 } else { 1 })? {
        Some(d) => d,
        None => match &fill {
            Some(v) => match v.ty.dtype() {
                Some(d) => d,
                None => return type_err(span, format!("full() fill value of type {}", v.ty)),
            },
            None => DType::F64,
        },
    };
    let shape = c.req(env, cx, 0)?;
    let shape = env.shape_arg(shape, c.span_of(0))?;
    let ndim = match &shape.ty {
        Ty::Tuple(t) => t.len(),
        _ => 1,
    };
    if ndim == 0 || ndim > 4 {
        return type_err(c.span_of(0), "arrays have 1 to 4 dimensions in Kiln");
    }
    let fill = match fill {
        Some(v) => Some(env.store_cast(v, &Ty::from_dtype(dtype), span)?),
        None => None,
    };
    Ok(filled_array(env, cx, name, shape, ndim, dtype, fill, span))
}

/// The new array of `zeros`/`ones`/`empty`/`full` (and their `_like` forms): `fill` is
/// `full`'s value, already of `dtype`.
#[allow(clippy::too_many_arguments)]
fn filled_array(
    env: &mut Env<'_>,
    cx: &mut FnCx,
    name: &str,
    shape: Expr,
    ndim: usize,
    dtype: DType,
    fill: Option<Expr>,
    span: Span,
) -> Expr {
    let mut args = vec![shape];
    let op = match (name.trim_end_matches("_like"), fill) {
        ("zeros", _) => Builtin::Zeros(dtype),
        ("ones", _) => Builtin::Ones(dtype),
        (_, Some(v)) => {
            args.push(v);
            Builtin::Full(dtype)
        }
        _ => Builtin::Empty(dtype),
    };
    env.builtin(cx, op, args, Ty::array(dtype, ndim), span)
}

/// `zeros_like(a)`, `ones_like`, `empty_like`, `full_like(a, v)`: the shape of `a`, its
/// dtype unless `dtype=` is given (a fill value is cast to it, as NumPy casts it).
fn like(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let (name, span) = (c.name, c.span);
    let a = c.req(env, cx, 0)?;
    let Ty::Array {
        dtype: a_dtype,
        ndim,
    } = a.ty.clone()
    else {
        return type_err(
            c.span_of(0),
            format!("{name}() takes an array, not a {}", a.ty),
        );
    };
    let is_full = name == "full_like";
    let fill = if is_full {
        Some(c.req(env, cx, 1)?)
    } else {
        None
    };
    if let Some(v) = fill.as_ref().filter(|v| !v.ty.is_numeric()) {
        return type_err(
            c.span_of(1),
            format!("{name}() fill value of type {}", v.ty),
        );
    }
    let dtype = c
        .dtype(env, cx, if is_full { 2 } else { 1 })?
        .unwrap_or(a_dtype);
    let shape = env.builtin(
        cx,
        Builtin::Shape,
        vec![a],
        Ty::tuple(vec![Ty::I64; ndim as usize]),
        span,
    );
    // NumPy casts the fill value unsafely (full_like(int_array, 2.5) holds 2s).
    let fill = fill.map(|v| cast(v, Ty::from_dtype(dtype)));
    Ok(filled_array(
        env,
        cx,
        name,
        shape,
        ndim as usize,
        dtype,
        fill,
        span,
    ))
}

fn arange(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let mut vals = Vec::new();
    for k in 0..3 {
        if let Some(v) = c.value(env, cx, k)? {
            vals.push(v);
        }
    }
    let all_int = vals.iter().all(|v| v.ty.is_int_like());
    if vals.iter().any(|v| !v.ty.is_numeric() || v.ty == Ty::C128) {
        return type_err(span, "arange() takes real numbers");
    }
    let t = if all_int { Ty::I64 } else { Ty::F64 };
    let mut v: Vec<Expr> = vals.into_iter().map(|v| cast(v, t.clone())).collect();
    let (zero, one) = if all_int {
        (Expr::int(0), Expr::int(1))
    } else {
        (
            Expr::new(ExprKind::Float(0.0), Ty::F64),
            Expr::new(ExprKind::Float(1.0), Ty::F64),
        )
    };
    let a = match v.len() {
        1 => vec![zero, v.pop().unwrap(), one],
        2 => {
            v.push(one);
            v
        }
        _ => v,
    };
    let (op, et) = if all_int {
        (Builtin::ArangeInt, DType::I64)
    } else {
        (Builtin::ArangeFloat, DType::F64)
    };
    let r = env.builtin(cx, op, a, Ty::array(et, 1), span);
    // arange(..., dtype=d): computed as NumPy does, then cast.
    Ok(match c.dtype(env, cx, 3)? {
        Some(d) => env.astype(cx, r, d, span),
        None => r,
    })
}

/// `a.fill(v)`: the runtime writes `v` (an i64, f64 or c128, by what it is) as `a`'s dtype.
fn fill(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = c.req(env, cx, 0)?;
    let Ty::Array { dtype, .. } = a.ty else {
        return type_err(span, format!("'{}' object has no attribute 'fill'", a.ty));
    };
    let v = c.req(env, cx, 1)?;
    if !v.ty.is_numeric() {
        return type_err(span, format!("fill() takes a number, not a {}", v.ty));
    }
    if v.ty == Ty::C128 && dtype != DType::C128 {
        return type_err(
            span,
            format!("cannot store a complex value in a {} array", a.ty),
        )
        .map_err(|e| crate::lower::with_hint(e, "take `.real` or `abs(...)` first"));
    }
    let v = env.fit_narrow(cx, v, dtype, span)?;
    let v = match (&v.ty, dtype) {
        (_, DType::C128) => cast(v, Ty::C128),
        (Ty::I64 | Ty::Bool, _) => cast(v, Ty::I64),
        _ => cast(v, Ty::F64),
    };
    Ok(env.builtin(cx, Builtin::Fill, vec![a, v], Ty::None, span))
}

fn linspace(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let dtype = c.dtype(env, cx, 3)?.unwrap_or(DType::F64);
    let num = c.value(env, cx, 2)?.unwrap_or(Expr::int(50));
    let num = env.int_arg(num, span, "linspace")?;
    let a = c.req(env, cx, 0)?;
    let b = c.req(env, cx, 1)?;
    if !a.ty.is_numeric() || !b.ty.is_numeric() || a.ty == Ty::C128 || b.ty == Ty::C128 {
        return type_err(span, "linspace() takes real numbers");
    }
    if dtype == DType::C128 || dtype == DType::Bool {
        return type_err(span, "linspace() makes float or int arrays in Kiln");
    }
    Ok(env.builtin(
        cx,
        Builtin::Linspace(dtype),
        vec![cast(a, Ty::F64), cast(b, Ty::F64), num],
        Ty::array(dtype, 1),
        span,
    ))
}

fn eye(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let d = c.dtype(env, cx, 1)?.unwrap_or(DType::F64);
    let n = c.req(env, cx, 0)?;
    let n = env.int_arg(n, c.span_of(0), c.name)?;
    Ok(env.builtin(cx, Builtin::Eye(d), vec![n], Ty::array(d, 2), c.span))
}

/// `array([...])` of a literal, or `array(a)` of an array (a copy, or `astype`).
fn array(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let d = c.dtype(env, cx, 1)?;
    if let Some(lit) = c.literal(0) {
        return env.array_literal(cx, lit, d, span);
    }
    let v = c.req(env, cx, 0)?;
    if matches!(v.ty, Ty::Array { .. }) {
        return Ok(match d {
            Some(d) => env.astype(cx, v, d, span),
            None => {
                let t = v.ty.clone();
                env.builtin(cx, Builtin::Copy, vec![v], t, span)
            }
        });
    }
    match c.tree(0) {
        Some(t) => env.array_literal(cx, t, d, span),
        None => type_err(span, format!("array() of a {}", v.ty)),
    }
}

/// A new array by the runtime: `kiln_array_new(ctx, dtype, ndim, shape, fill)`.
fn new_array(g: &mut Gen<'_, '_>, d: DType, dims: &[Value], fill: i64, site: ir::SiteId) -> Value {
    let shape = g.shape_slot(dims);
    let dt = g.iconst(d as i64);
    let nd = g.iconst(dims.len() as i64);
    let f = g.iconst(fill);
    let a = g.call_rt1("kiln_array_new", &[g.ctx, dt, nd, shape, f]);
    g.check_null(a, site);
    a
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx, site) = (&o.vals, g.ctx, o.site);
    Ok(match op {
        Builtin::Zeros(d) => vec![new_array(g, *d, &vals[0], 0, site)],
        Builtin::Ones(d) => vec![new_array(g, *d, &vals[0], 1, site)],
        Builtin::Empty(d) => vec![new_array(g, *d, &vals[0], 2, site)],
        Builtin::KernelOut(d) => vec![new_array(g, *d, &vals[0], 3, site)],
        Builtin::Full(d) => {
            let dims = vals[0].clone();
            let shape = g.shape_slot(&dims);
            let dt = g.iconst(*d as i64);
            let nd = g.iconst(dims.len() as i64);
            let v = &vals[1];
            let a = match o.args[1].ty {
                Ty::C128 => g.call_rt1("kiln_array_full_c128", &[ctx, dt, nd, shape, v[0], v[1]]),
                Ty::F64 => g.call_rt1("kiln_array_full_f64", &[ctx, dt, nd, shape, v[0]]),
                Ty::F32 => {
                    let w = g.b.ins().fpromote(types::F64, v[0]);
                    g.call_rt1("kiln_array_full_f64", &[ctx, dt, nd, shape, w])
                }
                Ty::Bool => {
                    let w = g.b.ins().uextend(types::I64, v[0]);
                    g.call_rt1("kiln_array_full_i64", &[ctx, dt, nd, shape, w])
                }
                _ => g.call_rt1("kiln_array_full_i64", &[ctx, dt, nd, shape, v[0]]),
            };
            g.check_null(a, site);
            vec![a]
        }
        Builtin::ArangeInt | Builtin::ArangeFloat => {
            let name = if *op == Builtin::ArangeInt {
                "kiln_arange_i64"
            } else {
                "kiln_arange_f64"
            };
            let a = g.call_rt1(name, &[ctx, vals[0][0], vals[1][0], vals[2][0]]);
            g.check_null(a, site);
            vec![a]
        }
        Builtin::Linspace(d) => {
            let dt = g.iconst(*d as i64);
            let a = g.call_rt1(
                "kiln_linspace",
                &[ctx, vals[0][0], vals[1][0], vals[2][0], dt],
            );
            g.check_null(a, site);
            vec![a]
        }
        Builtin::Eye(d) => {
            let dt = g.iconst(*d as i64);
            let a = g.call_rt1("kiln_eye", &[ctx, vals[0][0], dt]);
            g.check_null(a, site);
            vec![a]
        }
        Builtin::Fill => {
            let name = match o.args[1].ty {
                Ty::C128 => "kiln_fill_c128",
                Ty::I64 => "kiln_fill_i64",
                _ => "kiln_fill_f64",
            };
            let mut args = vec![vals[0][0]];
            args.extend(vals[1].iter().copied());
            g.call_rt(name, &args);
            return Ok(vec![]);
        }
        Builtin::ArrayLit(d, shape) => {
            let dims: Vec<Value> = shape.iter().map(|&n| g.iconst(n)).collect();
            let a = new_array(g, *d, &dims, 2, site);
            let data =
                g.b.ins()
                    .load(types::I64, header_flags(), a, ARRAY_DATA_OFFSET);
            for (k, v) in vals.iter().enumerate() {
                let addr = g.b.ins().iadd_imm_s(data, (k * d.size()) as i64);
                g.store_elem(*d, addr, v);
            }
            vec![a]
        }
        other => return Err(format!("{other:?} is not an array-creation builtin")),
    })
}
