//! Conversions between scalar types: `int(x)`, `float(x)`, `bool(x)`, and NumPy's scalar
//! types as functions (`np.float32(x)`, `np.int64(x)`, ...). Each gives its type's zero
//! without an argument, as Python's and NumPy's do.

use super::*;
use crate::ir::ExprKind;
use crate::lower::{cast, dtype_of_name, type_err, zero_of};

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
        ["bool", "bool_"],
        "Python's truth of x: False for zero, True otherwise."
    ),
    conversion!(
        ["c128", "complex128"],
        "x as a c128 (a complex of two f64)."
    ),
];

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
    if !v.ty.is_numeric() {
        return type_err(span, format!("{name}() of a {}", v.ty));
    }
    if target == Ty::Bool {
        return env.truth(v, span);
    }
    if let (ExprKind::Float(x), Ty::F32) = (&v.kind, &target) {
        return Ok(Expr::new(ExprKind::Float(*x as f32 as f64), Ty::F32));
    }
    Ok(cast(v, target))
}
