//! Linear algebra: `dot` / `a.dot(b)` and `matmul` (the `@` operator's function): a scalar
//! for two 1-D arrays, a new array when either operand is 2-D; `np.linalg.norm` (fused
//! reductions of |x|), `trace` (the sum of the diagonal view) and
//! `np.linalg.matrix_power`.

use super::*;
use crate::ir::{Builtin, ExprKind};
use crate::lower::{cast, err, type_err};

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["dot"],
        params: &[pos("a"), pos("b")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "The dot product of two 1-D arrays, or the matrix product with a 2-D one (a @ b).",
        lower: matmul,
    },
    Def {
        names: &["matmul"],
        params: &[pos("x1"), pos("x2")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The matrix product x1 @ x2.",
        lower: matmul,
    },
    Def {
        names: &["norm"],
        params: &[arg("x"), opt("ord", "None"), opt("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "np.linalg.norm: the 2-norm of a vector, the Frobenius norm of a matrix; \
               ord=1, 2, inf, -inf or p for vectors, 'fro', 1, inf for matrices; axis=k.",
        lower: norm,
    },
    Def {
        names: &["trace"],
        params: &[arg("a")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "The sum of the main diagonal of a 2-D array.",
        lower: trace,
    },
    Def {
        names: &["diagonal"],
        params: &[arg("a")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "The main diagonal of a 2-D array, as a 1-D view.",
        lower: trace,
    },
    Def {
        names: &["matrix_power"],
        params: &[arg("a"), arg("n")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "np.linalg.matrix_power: a square matrix times itself n times (n >= 0; eye for 0).",
        lower: matrix_power,
    },
];

/// A literal `ord=` as a number (`2`, `np.inf`, `-np.inf`, `1.5`).
fn literal_number(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Int(k) => Some(*k as f64),
        ExprKind::Float(x) => Some(*x),
        ExprKind::Cast(v) => literal_number(v),
        ExprKind::Unary(crate::ir::UnOp::Neg, v) => literal_number(v).map(|x| -x),
        _ => None,
    }
}

/// `|x|` element by element (`|x|**2` when `square`), as a float.
fn abs_map(env: &mut Env<'_>, cx: &mut FnCx, x: Expr, square: bool, span: Span) -> LResult<Expr> {
    let site = env.site(cx, span);
    env.elementwise(site, vec![x], span, |env, leaves| {
        let v = leaves.into_iter().next().expect("one operand");
        let v = if v.ty.is_int_like() {
            cast(v, Ty::F64)
        } else {
            v
        };
        if v.ty == Ty::C128 {
            let re = env.builtin(cx, Builtin::Real, vec![v.clone()], Ty::F64, span);
            let im = env.builtin(cx, Builtin::Imag, vec![v], Ty::F64, span);
            if square {
                let rr = env.binary(cx, ast::BinOp::Mul, re.clone(), re, span)?;
                let ii = env.binary(cx, ast::BinOp::Mul, im.clone(), im, span)?;
                return env.binary(cx, ast::BinOp::Add, rr, ii, span);
            }
            return Ok(env.builtin(cx, Builtin::Hypot, vec![re, im], Ty::F64, span));
        }
        if square {
            env.binary(cx, ast::BinOp::Mul, v.clone(), v, span)
        } else {
            let t = v.ty.clone();
            Ok(env.builtin(cx, Builtin::Abs, vec![v], t, span))
        }
    })
}

fn sqrt_of(env: &mut Env<'_>, cx: &mut FnCx, v: Expr, span: Span) -> LResult<Expr> {
    if matches!(v.ty, Ty::Array { .. }) {
        let site = env.site(cx, span);
        return env.elementwise(site, vec![v], span, |env, l| {
            let x = l.into_iter().next().expect("one operand");
            let t = x.ty.clone();
            Ok(env.builtin(cx, Builtin::Math(crate::ir::MathFn::Sqrt), vec![x], t, span))
        });
    }
    let t = v.ty.clone();
    Ok(env.builtin(cx, Builtin::Math(crate::ir::MathFn::Sqrt), vec![v], t, span))
}

fn norm(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let x = c.req(env, cx, 0)?;
    let Ty::Array { ndim, .. } = x.ty else {
        return type_err(span, format!("norm() takes an array, not a {}", x.ty))
            .map_err(|e| crate::lower::with_hint(e, "use abs(x) for a number"));
    };
    let ord = c.value(env, cx, 1)?.filter(|o| o.ty != Ty::None);
    let axis = c.value(env, cx, 2)?.filter(|a| a.ty != Ty::None);
    let fro = |o: &Option<Expr>| match o {
        None => true,
        Some(e) => matches!(&e.kind, ExprKind::Str(s) if &**s == "fro"),
    };
    if axis.is_some() || ndim == 1 {
        if axis.is_some()
            && ndim > 1
            && !fro(&ord)
            && ord.as_ref().and_then(literal_number) != Some(2.0)
        {
            return type_err(
                span,
                "norm(x, ord, axis=k) is the 2-norm in Kiln: leave out ord",
            )
            .map_err(|e| {
                crate::lower::with_hint(
                    e,
                    "write other norms along an axis as sums: abs(x).sum(axis=k)",
                )
            });
        }
        let p = match &ord {
            None => 2.0,
            Some(o) => match literal_number(o) {
                Some(p) => p,
                None => {
                    return err(
                        ErrorKind::ValueError,
                        span,
                        "Invalid norm order for vectors: Kiln reads ord as a literal number \
                         (1, 2, np.inf, -np.inf)",
                    )
                }
            },
        };
        if p == 2.0 {
            let sq = abs_map(env, cx, x, true, span)?;
            let s = env.reduction(cx, "sum", sq, axis, span)?;
            return sqrt_of(env, cx, s, span);
        }
        let a = abs_map(env, cx, x, false, span)?;
        if p == f64::INFINITY {
            return env.reduction(cx, "max", a, None, span);
        }
        if p == f64::NEG_INFINITY {
            return env.reduction(cx, "min", a, None, span);
        }
        if p == 1.0 {
            return env.reduction(cx, "sum", a, None, span);
        }
        if p == 0.0 {
            return type_err(span, "norm(x, 0) is not supported in Kiln").map_err(|e| {
                crate::lower::with_hint(e, "count the nonzero elements: (x != 0).sum()")
            });
        }
        let site = env.site(cx, span);
        let pw = env.elementwise(site, vec![a], span, |env, l| {
            let v = l.into_iter().next().expect("one operand");
            env.binary(
                cx,
                ast::BinOp::Pow,
                v,
                Expr::new(ExprKind::Float(p), Ty::F64),
                span,
            )
        })?;
        let s = env.reduction(cx, "sum", pw, None, span)?;
        return env.binary(
            cx,
            ast::BinOp::Pow,
            s,
            Expr::new(ExprKind::Float(1.0 / p), Ty::F64),
            span,
        );
    }
    if ndim != 2 {
        if ord.is_none() {
            let sq = abs_map(env, cx, x, true, span)?;
            let s = env.reduction(cx, "sum", sq, None, span)?;
            return sqrt_of(env, cx, s, span);
        }
        return err(
            ErrorKind::ValueError,
            span,
            "Improper number of dimensions to norm.",
        );
    }
    if fro(&ord) {
        let sq = abs_map(env, cx, x, true, span)?;
        let s = env.reduction(cx, "sum", sq, None, span)?;
        return sqrt_of(env, cx, s, span);
    }
    let p = ord.as_ref().and_then(literal_number);
    let choice = p.and_then(|p| {
        [
            (1.0, 0, "max"),
            (-1.0, 0, "min"),
            (f64::INFINITY, 1, "max"),
            (f64::NEG_INFINITY, 1, "min"),
        ]
        .into_iter()
        .find(|c| c.0 == p)
    });
    let Some((_, sum_axis, pick)) = choice else {
        return err(
            ErrorKind::ValueError,
            span,
            "norm() of a matrix takes ord=None, 'fro', 1, -1, np.inf or -np.inf in Kiln",
        )
        .map_err(|e| {
            crate::lower::with_hint(
                e,
                "ord=2 is the largest singular value: estimate it by power iteration on \
                 A.T @ A, with np.linalg.norm(v) of the iterate",
            )
        });
    };
    let a = abs_map(env, cx, x, false, span)?;
    let sums = env.reduction(cx, "sum", a, Some(Expr::int(sum_axis)), span)?;
    env.reduction(cx, pick, sums, None, span)
}

/// `trace(a)` (the sum of `diagonal(a)`) and `diagonal(a)`.
fn trace(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = c.req(env, cx, 0)?;
    let Ty::Array { dtype, ndim } = a.ty else {
        return type_err(
            span,
            format!("{}() takes a 2-D array, not a {}", c.name, a.ty),
        );
    };
    if ndim != 2 {
        return err(
            ErrorKind::ValueError,
            span,
            "diag requires an array of at least two dimensions",
        )
        .map_err(|e| crate::lower::with_hint(e, "Kiln's trace and diagonal take 2-D arrays"));
    }
    let d = env.builtin(cx, Builtin::Diagonal, vec![a], Ty::array(dtype, 1), span);
    if c.name == "diagonal" {
        return Ok(d);
    }
    env.reduction(cx, "sum", d, None, span)
}

fn matrix_power(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = c.req(env, cx, 0)?;
    let n = c.req(env, cx, 1)?;
    let Ty::Array { dtype, ndim } = a.ty else {
        return type_err(
            span,
            format!("matrix_power() takes a 2-D array, not a {}", a.ty),
        );
    };
    if ndim != 2 {
        return err(
            ErrorKind::ValueError,
            span,
            format!("{ndim}-dimensional array given. Array must be at least two-dimensional"),
        );
    }
    if !n.ty.is_int_like() {
        return type_err(span, "exponent must be an integer");
    }
    let n = cast(n, Ty::I64);
    let d = if dtype == DType::Bool {
        DType::Bool
    } else {
        dtype
    };
    Ok(env.builtin(cx, Builtin::MatrixPower, vec![a, n], Ty::array(d, 2), span))
}

fn matmul(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let a = c.req(env, cx, 0)?;
    let b = c.req(env, cx, 1)?;
    env.matmul(cx, a, b, c.span)
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx, site) = (&o.vals, g.ctx, o.site);
    Ok(match op {
        Builtin::Dot => {
            let a = g.call_rt1("kiln_dot", &[ctx, vals[0][0], vals[1][0]]);
            g.check_null(a, site);
            vec![a]
        }
        Builtin::DotScalar => g.call_rt_result("kiln_dot_scalar", o.ty, site, |_, p| {
            vec![ctx, vals[0][0], vals[1][0], p]
        }),
        Builtin::Diagonal => {
            let a = g.call_rt1("kiln_diagonal", &[ctx, vals[0][0]]);
            g.check_null(a, site);
            vec![a]
        }
        Builtin::MatrixPower => {
            let a = g.call_rt1("kiln_matrix_power", &[ctx, vals[0][0], vals[1][0]]);
            g.check_null(a, site);
            vec![a]
        }
        other => return Err(format!("{other:?} is not a linear-algebra builtin")),
    })
}
