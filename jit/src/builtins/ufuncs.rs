//! NumPy's ufuncs named after operators (`add`, `less`, `logical_and`, `negative`, ...) and the
//! small arithmetic ones (`square`, `fabs`, `degrees`, `radians`): each is the operator's own
//! lowering, so promotion and Python/NumPy semantics are those of `+`, `<`, `-x`, ...; over
//! arrays they are elementwise and fuse with the expression around them.

use super::*;
use crate::ir::Builtin;
use crate::lower::{cast, type_err};
use crate::syntax::ast::{BinOp, CmpOp, UnaryOp};

/// The parameters of a ufunc of two operands, and of one.
const X1_X2: &[Param] = &[pos("x1"), pos("x2")];
const X: &[Param] = &[pos("x")];

pub(crate) static DEFS: &[Def] = &[
    ufunc!(
        ["add"],
        X1_X2,
        |e, cx, c| op(e, cx, c, BinOp::Add),
        "x1 + x2, element by element."
    ),
    ufunc!(
        ["subtract"],
        X1_X2,
        |e, cx, c| op(e, cx, c, BinOp::Sub),
        "x1 - x2, element by element."
    ),
    ufunc!(
        ["multiply"],
        X1_X2,
        |e, cx, c| op(e, cx, c, BinOp::Mul),
        "x1 * x2, element by element."
    ),
    ufunc!(
        ["divide", "true_divide"],
        X1_X2,
        |e, cx, c| op(e, cx, c, BinOp::Div),
        "x1 / x2 (true division), element by element."
    ),
    ufunc!(
        ["floor_divide"],
        X1_X2,
        |e, cx, c| op(e, cx, c, BinOp::FloorDiv),
        "x1 // x2, element by element."
    ),
    ufunc!(
        ["remainder", "mod"],
        X1_X2,
        |e, cx, c| op(e, cx, c, BinOp::Mod),
        "x1 % x2 (the sign of x2, as Python's %), element by element."
    ),
    ufunc!(
        ["power"],
        X1_X2,
        |e, cx, c| op(e, cx, c, BinOp::Pow),
        "x1 ** x2, element by element."
    ),
    ufunc!(
        ["less"],
        X1_X2,
        |e, cx, c| cmp(e, cx, c, CmpOp::Lt),
        "x1 < x2, element by element."
    ),
    ufunc!(
        ["less_equal"],
        X1_X2,
        |e, cx, c| cmp(e, cx, c, CmpOp::LtE),
        "x1 <= x2, element by element."
    ),
    ufunc!(
        ["greater"],
        X1_X2,
        |e, cx, c| cmp(e, cx, c, CmpOp::Gt),
        "x1 > x2, element by element."
    ),
    ufunc!(
        ["greater_equal"],
        X1_X2,
        |e, cx, c| cmp(e, cx, c, CmpOp::GtE),
        "x1 >= x2, element by element."
    ),
    ufunc!(
        ["equal"],
        X1_X2,
        |e, cx, c| cmp(e, cx, c, CmpOp::Eq),
        "x1 == x2, element by element."
    ),
    ufunc!(
        ["not_equal"],
        X1_X2,
        |e, cx, c| cmp(e, cx, c, CmpOp::NotEq),
        "x1 != x2, element by element."
    ),
    ufunc!(
        ["logical_and"],
        X1_X2,
        |e, cx, c| logical(e, cx, c, BinOp::BitAnd),
        "The truth of x1 and of x2, both (a bool), element by element."
    ),
    ufunc!(
        ["logical_or"],
        X1_X2,
        |e, cx, c| logical(e, cx, c, BinOp::BitOr),
        "The truth of x1 or of x2 (a bool), element by element."
    ),
    ufunc!(
        ["logical_xor"],
        X1_X2,
        |e, cx, c| logical(e, cx, c, BinOp::BitXor),
        "The truth of exactly one of x1 and x2 (a bool), element by element."
    ),
    ufunc!(
        ["logical_not"],
        X,
        logical_not,
        "Whether x is false (a bool), element by element."
    ),
    ufunc!(
        ["negative"],
        X,
        |e, cx, c| neg_pos(e, cx, c, UnaryOp::Neg),
        "-x, element by element."
    ),
    ufunc!(
        ["positive"],
        X,
        |e, cx, c| neg_pos(e, cx, c, UnaryOp::Pos),
        "+x, element by element."
    ),
    ufunc!(["square"], X, square, "x * x, element by element."),
    ufunc!(
        ["reciprocal"],
        X,
        reciprocal,
        "1 / x, element by element, in x's type (an integer's is 1, -1 or 0, as NumPy's)."
    ),
    ufunc!(
        ["fabs"],
        X,
        fabs,
        "The absolute value of a real number as a float (math.fabs, np.fabs)."
    ),
    ufunc!(
        ["degrees", "rad2deg"],
        X,
        |e, cx, c| scaled(e, cx, c, 180.0 / std::f64::consts::PI),
        "Radians to degrees: x * (180 / pi)."
    ),
    ufunc!(
        ["radians", "deg2rad"],
        X,
        |e, cx, c| scaled(e, cx, c, std::f64::consts::PI / 180.0),
        "Degrees to radians: x * (pi / 180)."
    ),
];

/// A numeric operand (a bool counts as an int, as NumPy takes it).
fn numeric(c: &Call<'_>, k: usize, v: Expr) -> LResult<Expr> {
    if v.ty.is_numeric() {
        Ok(v)
    } else {
        type_err(
            c.span_of(k),
            format!("ufunc '{}' did not contain a loop for a {}", c.name, v.ty),
        )
    }
}

fn operands(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<(Expr, Expr)> {
    let a = c.req(env, cx, 0)?;
    let a = numeric(c, 0, a)?;
    let b = c.req(env, cx, 1)?;
    let b = numeric(c, 1, b)?;
    Ok((a, b))
}

fn op(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, o: BinOp) -> LResult<Expr> {
    let (a, b) = operands(env, cx, c)?;
    env.binary(cx, o, a, b, c.span)
}

fn cmp(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, o: CmpOp) -> LResult<Expr> {
    let (a, b) = operands(env, cx, c)?;
    env.compare(o, a, b, c.span)
}

/// `logical_and(x1, x2)`: both operands' truth, always both evaluated (a ufunc, not `and`).
fn logical(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, o: BinOp) -> LResult<Expr> {
    let (a, b) = operands(env, cx, c)?;
    let a = env.truth(a, c.span_of(0))?;
    let b = env.truth(b, c.span_of(1))?;
    env.binary(cx, o, a, b, c.span)
}

fn logical_not(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let v = c.req(env, cx, 0)?;
    let v = numeric(c, 0, v)?;
    let t = env.truth(v, c.span_of(0))?;
    env.unary(UnaryOp::Not, t, c.span)
}

fn neg_pos(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, o: UnaryOp) -> LResult<Expr> {
    let v = c.req(env, cx, 0)?;
    let v = numeric(c, 0, v)?;
    // NumPy's negative of a bool is an error; of a number, the operator's result.
    if v.ty == Ty::Bool {
        return type_err(
            c.span_of(0),
            format!(
                "ufunc '{}' of a bool is not supported: use logical_not",
                c.name
            ),
        );
    }
    env.unary(o, v, c.span)
}

/// `square(x)`: `x ** 2`, which Kiln computes as `x * x` (NumPy's square, bit for bit).
fn square(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let v = c.req(env, cx, 0)?;
    let v = numeric(c, 0, v)?;
    let v = if v.ty == Ty::Bool {
        cast(v, Ty::I64)
    } else {
        v
    };
    env.binary(cx, BinOp::Pow, v, Expr::int(2), c.span)
}

/// `reciprocal(x)`: `1 / x` in x's own type. NumPy's integer reciprocal is C's `1 / x`:
/// 1 for 1, -1 for -1, 0 otherwise, and the most negative int64 for 0 (x86's result).
fn reciprocal(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    use crate::ir::ExprKind;
    let span = c.span;
    let v = c.req(env, cx, 0)?;
    let v = numeric(c, 0, v)?;
    if !v.ty.is_int_like() {
        // A float literal is weak: `1.0 / x` keeps an f32 an f32 and a c128 a c128.
        let one = Expr::new(ExprKind::Float(1.0), Ty::F64);
        return env.binary(cx, BinOp::Div, one, v, span);
    }
    let v = cast(v, Ty::I64);
    // The operand is read up to three times: a leaf or a variable as it is, anything else
    // once into a temporary.
    let (x, hold) = match v.kind {
        ExprKind::Var(_) | ExprKind::Elem(_) | ExprKind::MapScalar(_) | ExprKind::Int(_) => {
            (v, None)
        }
        _ => {
            let t = cx.new_var("reciprocal_x", Ty::I64);
            (Expr::new(ExprKind::Var(t), Ty::I64), Some((t, v)))
        }
    };
    let eq = |env: &mut Env<'_>, k: i64| env.compare(CmpOp::Eq, x.clone(), Expr::int(k), span);
    let sel = |c: Expr, a: Expr, b: Expr| {
        Expr::new(
            ExprKind::Select(Box::new(c), Box::new(a), Box::new(b)),
            Ty::I64,
        )
    };
    let body = sel(
        eq(env, 0)?,
        Expr::int(i64::MIN),
        sel(
            eq(env, 1)?,
            Expr::int(1),
            sel(eq(env, -1)?, Expr::int(-1), Expr::int(0)),
        ),
    );
    Ok(match hold {
        Some((t, v)) => Expr::new(ExprKind::Let(t, Box::new(v), Box::new(body)), Ty::I64),
        None => body,
    })
}

/// `math.fabs(x)` is a Python float; `np.fabs(x)` keeps an `f32` an `f32`. Complex numbers
/// have no fabs (NumPy's TypeError).
fn fabs(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let v = c.req(env, cx, 0)?;
    let v = numeric(c, 0, v)?;
    let t = match v.ty {
        Ty::F32 if c.module != Some("math") => Ty::F32,
        Ty::C128 => {
            return type_err(
                c.span_of(0),
                "fabs() of a complex number: use abs(z) for its modulus",
            )
        }
        _ => Ty::F64,
    };
    let v = cast(v, t.clone());
    Ok(env.builtin(cx, Builtin::Abs, vec![v], t, c.span))
}

/// `degrees(x)`, `radians(x)`: `x * factor`, the factor rounded once as NumPy's is.
fn scaled(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, factor: f64) -> LResult<Expr> {
    let v = c.req(env, cx, 0)?;
    let v = numeric(c, 0, v)?;
    let t = match v.ty {
        Ty::F32 => Ty::F32,
        Ty::C128 => return type_err(c.span_of(0), format!("{}() takes real numbers", c.name)),
        _ => Ty::F64,
    };
    let v = cast(v, t.clone());
    let f = Expr::new(crate::ir::ExprKind::Float(factor), t);
    env.binary(cx, BinOp::Mul, v, f, c.span)
}
