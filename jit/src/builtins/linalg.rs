//! Linear algebra: `dot` / `a.dot(b)` and `matmul` (the `@` operator's function): a scalar
//! for two 1-D arrays, a new array when either operand is 2-D.

use super::*;
use crate::ir::Builtin;

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
];

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
        other => return Err(format!("{other:?} is not a linear-algebra builtin")),
    })
}
