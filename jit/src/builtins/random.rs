//! Random numbers from the runtime's xoshiro256** generator (the same numbers on every
//! machine for a seed): `rand`, `randn`, `random`, `randint`, `seed` (`np.random.` optional).

use super::*;
use crate::ir::{Builtin, ExprKind};
use crate::lower::type_err;

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["rand"],
        params: &[star("shape")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Uniform floats in [0, 1): rand() one, rand(d0, d1, ...) an array of that shape.",
        lower: uniform,
    },
    Def {
        names: &["random"],
        params: &[star("size")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Uniform floats in [0, 1): random() one, random(shape) an array.",
        lower: uniform,
    },
    Def {
        names: &["randn"],
        params: &[star("shape")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Standard normal floats: randn() one, randn(d0, d1, ...) an array of that shape.",
        lower: uniform,
    },
    Def {
        names: &["randint"],
        params: &[arg("low"), arg("high"), opt("size", "None")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "An i64 array of the shape size, uniform in [low, high).",
        lower: randint,
    },
    Def {
        names: &["seed"],
        params: &[arg("seed")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Restart the generator from seed: the numbers that follow repeat on any machine.",
        lower: seed,
    },
];

/// `rand`, `random`, `randn`: one float, or an array of the shape given.
fn uniform(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let mut vals = c.rest();
    if vals.is_empty() {
        return Ok(env.builtin(cx, Builtin::RandScalar, vec![], Ty::F64, span));
    }
    let tup = if vals.len() == 1 {
        vals.pop().unwrap()
    } else {
        let t = Ty::tuple(vals.iter().map(|v| v.ty.clone()).collect());
        Expr::new(ExprKind::Tuple(vals), t)
    };
    let shape = env.shape_arg(tup, span)?;
    let nd = match &shape.ty {
        Ty::Tuple(t) => t.len(),
        _ => 1,
    };
    let op = if c.name == "randn" {
        Builtin::Randn
    } else {
        Builtin::Rand
    };
    Ok(env.builtin(cx, op, vec![shape], Ty::array(DType::F64, nd), span))
}

fn randint(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let Some(size) = c.value(env, cx, 2)? else {
        return type_err(
            span,
            "randint(low, high, size) needs a size in Kiln: it makes arrays",
        );
    };
    let shape = env.shape_arg(size, span)?;
    let nd = match &shape.ty {
        Ty::Tuple(t) => t.len(),
        _ => 1,
    };
    let lo = c.req(env, cx, 0)?;
    let lo = env.int_arg(lo, c.span_of(0), "randint")?;
    let hi = c.req(env, cx, 1)?;
    let hi = env.int_arg(hi, c.span_of(1), "randint")?;
    Ok(env.builtin(
        cx,
        Builtin::Randint,
        vec![lo, hi, shape],
        Ty::array(DType::I64, nd),
        span,
    ))
}

fn seed(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let n = c.req(env, cx, 0)?;
    let n = env.int_arg(n, c.span_of(0), "seed")?;
    Ok(env.builtin(cx, Builtin::Seed, vec![n], Ty::None, c.span))
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx, site) = (&o.vals, g.ctx, o.site);
    Ok(match op {
        Builtin::Rand | Builtin::Randn => {
            let dims = vals[0].clone();
            let shape = g.shape_slot(&dims);
            let nd = g.iconst(dims.len() as i64);
            let name = if *op == Builtin::Rand {
                "kiln_rand"
            } else {
                "kiln_randn"
            };
            let a = g.call_rt1(name, &[ctx, nd, shape]);
            g.check_null(a, site);
            vec![a]
        }
        Builtin::Randint => {
            let dims = vals[2].clone();
            let shape = g.shape_slot(&dims);
            let nd = g.iconst(dims.len() as i64);
            let a = g.call_rt1("kiln_randint", &[ctx, vals[0][0], vals[1][0], nd, shape]);
            g.check_null(a, site);
            vec![a]
        }
        Builtin::Seed => {
            g.call_rt("kiln_seed", &[vals[0][0]]);
            vec![]
        }
        Builtin::RandScalar => vec![g.call_rt1("kiln_rand_scalar", &[])],
        other => return Err(format!("{other:?} is not a random builtin")),
    })
}
