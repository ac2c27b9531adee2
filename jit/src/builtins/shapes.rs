//! Arrays made of other arrays: `flip`/`flipud`/`fliplr` (views with negative strides),
//! `concatenate`, `stack`, `hstack`, `vstack` (a tuple or list of arrays of one rank, their
//! dtypes promoted as NumPy's) and `meshgrid` (a tuple of 2-D arrays). The runtime's
//! `shapes.rs` does the work.

use super::*;
use crate::ir::{Builtin, ExprKind};
use crate::lower::{err, type_err};

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["flip"],
        params: &[arg("m"), opt("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The elements in reverse order along an axis, or along every axis (a view).",
        lower: flip,
    },
    Def {
        names: &["flipud"],
        params: &[arg("m")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The rows in reverse order, m[::-1] (a view).",
        lower: flip,
    },
    Def {
        names: &["fliplr"],
        params: &[arg("m")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The columns in reverse order, m[:, ::-1] (a view).",
        lower: flip,
    },
    Def {
        names: &["concatenate"],
        params: &[literal("arrays"), opt("axis", "0")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The arrays of a tuple joined along an existing axis: concatenate((a, b), axis=0).",
        lower: join,
    },
    Def {
        names: &["stack"],
        params: &[literal("arrays"), opt("axis", "0")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Arrays of one shape joined along a new axis: stack((a, b), axis=0).",
        lower: join,
    },
    Def {
        names: &["hstack"],
        params: &[literal("tup")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Arrays joined column-wise (along axis 1; 1-D arrays end to end).",
        lower: join,
    },
    Def {
        names: &["vstack"],
        params: &[literal("tup")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Arrays joined row-wise (along axis 0; a 1-D array is one row).",
        lower: join,
    },
    Def {
        names: &["meshgrid"],
        params: &[star("xi"), kw("indexing", "'xy'")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Coordinate matrices X, Y of two 1-D arrays: shape (len(y), len(x)), or \
               (len(x), len(y)) with indexing='ij'.",
        lower: meshgrid,
    },
];

fn flip(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = c.req(env, cx, 0)?;
    let Ty::Array { ndim, .. } = a.ty else {
        return type_err(span, format!("{}() takes an array, not a {}", c.name, a.ty));
    };
    let axis = match c.name {
        "flipud" => Expr::int(0),
        "fliplr" => {
            if ndim < 2 {
                return err(ErrorKind::ValueError, span, "Input must be >= 2-d.");
            }
            Expr::int(1)
        }
        _ => match c.value(env, cx, 1)? {
            Some(ax) if ax.ty != Ty::None => env.int_arg(ax, span, "flip")?,
            _ => Expr::int(i64::MIN),
        },
    };
    let t = a.ty.clone();
    Ok(env.builtin(cx, Builtin::Flip, vec![a, axis], t, span))
}

/// The arrays of a tuple or list argument (a literal's items, or a tuple value's).
/// A tuple value that is not a variable is held once in `hold` (the variable and the value),
/// its items read from there.
fn array_items(
    env: &mut Env<'_>,
    cx: &mut FnCx,
    c: &mut Call<'_>,
    k: usize,
    hold: &mut Option<(crate::ir::VarId, Expr)>,
) -> LResult<Vec<Expr>> {
    let span = c.span_of(k);
    let items: Vec<Expr> = match c.literal(k) {
        Some(lit) => {
            let (ast::ExprKind::List(xs) | ast::ExprKind::Tuple(xs)) = &lit.kind else {
                unreachable!("a sequence literal")
            };
            xs.iter().map(|x| env.expr(cx, x)).collect::<LResult<_>>()?
        }
        None => {
            let v = c.req(env, cx, k)?;
            match (&v.kind, &v.ty) {
                (ExprKind::Tuple(xs), _) => xs.clone(),
                (_, Ty::Tuple(ts)) => {
                    let ts = ts.to_vec();
                    let t = v.ty.clone();
                    let tuple = if matches!(v.kind, ExprKind::Var(_)) {
                        v
                    } else {
                        let var = cx.new_var("join_arrays", t.clone());
                        *hold = Some((var, v));
                        Expr::new(ExprKind::Var(var), t)
                    };
                    ts.into_iter()
                        .enumerate()
                        .map(|(i, t)| {
                            Expr::new(ExprKind::TupleGet(Box::new(tuple.clone()), i as u32), t)
                        })
                        .collect()
                }
                (_, Ty::Array { .. }) => {
                    return type_err(
                        span,
                        format!(
                            "{}() takes a tuple of arrays: write {}((a, b))",
                            c.name, c.name
                        ),
                    )
                }
                (_, t) => {
                    return type_err(
                        span,
                        format!("{}() takes a tuple of arrays, not a {t}", c.name),
                    )
                    .map_err(|e| {
                        crate::lower::with_hint(
                            e,
                            "write the arrays in the call: concatenate((a, b))",
                        )
                    })
                }
            }
        }
    };
    if items.is_empty() {
        return err(
            ErrorKind::ValueError,
            span,
            "need at least one array to concatenate",
        );
    }
    Ok(items)
}

/// `concatenate`, `stack`, `hstack`, `vstack`.
fn join(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let mut hold = None;
    let items = array_items(env, cx, c, 0, &mut hold)?;
    let mut dtype: Option<DType> = None;
    let mut rank = None;
    for (i, x) in items.iter().enumerate() {
        let Ty::Array { dtype: d, ndim } = x.ty else {
            return type_err(
                span,
                format!(
                    "{}() joins arrays; item {i} is a {} (make it one with array([...]))",
                    c.name, x.ty
                ),
            );
        };
        dtype = Some(match dtype {
            None => d,
            Some(p) => DType::promote(p, d),
        });
        match rank {
            None => rank = Some(ndim),
            Some(r) if r != ndim => {
                return err(
                    ErrorKind::ValueError,
                    span,
                    format!(
                        "all the input arrays must have same number of dimensions, but the array \
                         at index 0 has {r} dimension(s) and the array at index {i} has {ndim} \
                         dimension(s)"
                    ),
                )
            }
            _ => {}
        }
    }
    let d = dtype.unwrap_or(DType::F64);
    let nd = rank.unwrap_or(1) as usize;
    let (mode, out_nd) = match c.name {
        "stack" => (1, nd + 1),
        "hstack" => (2, nd),
        "vstack" => (3, nd.max(2)),
        _ => (0, nd),
    };
    if out_nd > 4 {
        return type_err(span, "arrays have 1 to 4 dimensions in Kiln");
    }
    let axis = match c.name {
        "concatenate" | "stack" => match c.value(env, cx, 1)? {
            Some(ax) if ax.ty == Ty::None => {
                return type_err(
                    span,
                    format!(
                        "{}(..., axis=None) is not supported in Kiln: flatten first, \
                         concatenate((a.ravel(), b.ravel()))",
                        c.name
                    ),
                )
            }
            Some(ax) => env.int_arg(ax, span, c.name)?,
            None => Expr::int(0),
        },
        _ => Expr::int(0),
    };
    let mut args = items;
    args.push(axis);
    let t = Ty::array(d, out_nd);
    let joined = env.builtin(cx, Builtin::Join(mode), args, t.clone(), span);
    Ok(match hold {
        Some((var, v)) => Expr::new(ExprKind::Let(var, Box::new(v), Box::new(joined)), t),
        None => joined,
    })
}

fn meshgrid(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let xi = c.rest();
    let [x, y]: [Expr; 2] = match xi.try_into() {
        Ok(xy) => xy,
        Err(xi) => {
            let n = xi.len();
            let (names, loops) = match n {
                1 => ("x", "use x.copy(): the grid of one array is the array"),
                _ => (
                    "x, y, z",
                    "loop over ndrange(len(x), len(y), len(z)) and index the arrays: \
                     out[i, j, k] = f(x[i], y[j], z[k])",
                ),
            };
            return type_err(
                span,
                format!(
                    "meshgrid() of {n} arrays ({names}) is not supported in Kiln; it takes two"
                ),
            )
            .map_err(|e| crate::lower::with_hint(e, loops));
        }
    };
    let ij = match c.value(env, cx, 1)? {
        None => false,
        Some(Expr {
            kind: ExprKind::Str(s),
            ..
        }) => match &*s {
            "xy" => false,
            "ij" => true,
            _ => {
                return err(
                    ErrorKind::ValueError,
                    span,
                    "Valid values for `indexing` are 'xy' and 'ij'.",
                )
            }
        },
        Some(_) => return type_err(span, "meshgrid() takes indexing='xy' or indexing='ij'"),
    };
    let (Ty::Array { dtype: dx, .. }, Ty::Array { dtype: dy, .. }) = (&x.ty, &y.ty) else {
        return type_err(
            span,
            "meshgrid() takes two arrays (make a scalar one with array([v]))",
        );
    };
    let (dx, dy) = (*dx, *dy);
    // Each operand is evaluated once: a variable is read twice, anything else is held.
    let mut lets = Vec::new();
    let mut hold = |cx: &mut FnCx, v: Expr, name: &str| match v.kind {
        ExprKind::Var(_) => v,
        _ => {
            let t = v.ty.clone();
            let var = cx.new_var(name, t.clone());
            lets.push((var, v));
            Expr::new(ExprKind::Var(var), t)
        }
    };
    let rx = hold(cx, x, "meshgrid_x");
    let ry = hold(cx, y, "meshgrid_y");
    let mut grid = |which: u8, d: DType| {
        env.builtin(
            cx,
            Builtin::Meshgrid { which, ij },
            vec![rx.clone(), ry.clone()],
            Ty::array(d, 2),
            span,
        )
    };
    let gx = grid(0, dx);
    let gy = grid(1, dy);
    let t = Ty::tuple(vec![gx.ty.clone(), gy.ty.clone()]);
    let mut e = Expr::new(ExprKind::Tuple(vec![gx, gy]), t.clone());
    for (var, v) in lets.into_iter().rev() {
        e = Expr::new(ExprKind::Let(var, Box::new(v), Box::new(e)), t.clone());
    }
    Ok(e)
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx, site) = (&o.vals, g.ctx, o.site);
    let dtype_of = |t: &Ty| match t {
        Ty::Array { dtype, .. } => *dtype as i64,
        _ => 0,
    };
    let a = match op {
        Builtin::Flip => g.call_rt1("kiln_flip", &[ctx, vals[0][0], vals[1][0]]),
        Builtin::FlatView => g.call_rt1("kiln_flat_view", &[ctx, vals[0][0]]),
        Builtin::Join(mode) => {
            let n = vals.len() - 1;
            let ptrs: Vec<_> = vals[..n].iter().map(|v| v[0]).collect();
            let slot = g.shape_slot(&ptrs);
            let nn = g.iconst(n as i64);
            let m = g.iconst(*mode);
            let d = g.iconst(dtype_of(o.ty));
            g.call_rt1("kiln_join", &[ctx, slot, nn, vals[n][0], m, d])
        }
        Builtin::Meshgrid { which, ij } => {
            let w = g.iconst(*which as i64);
            let ij = g.iconst(*ij as i64);
            let d = g.iconst(dtype_of(o.ty));
            g.call_rt1("kiln_meshgrid", &[ctx, vals[0][0], vals[1][0], w, ij, d])
        }
        other => return Err(format!("{other:?} is not a shapes builtin")),
    };
    g.check_null(a, site);
    Ok(vec![a])
}
