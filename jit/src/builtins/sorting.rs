//! Sorting: `np.sort` (a sorted copy) and `a.sort()` (in place), `np.argsort`, `np.median`,
//! along an axis (the last by default) or over the flattened array (`axis=None`). The
//! runtime's `sorting.rs` does the work, in NumPy's order (NaN last).

use super::*;
use crate::ir::Builtin;
use crate::lower::type_err;
use kiln_runtime::sorting::{median_dtype, AXIS_NONE};

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["sort"],
        params: &[arg("a"), opt("axis", "-1"), opt("kind", "None")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "np.sort(a): a sorted copy along the last axis (axis=None: of the flattened \
               array), NaN last; a.sort() sorts a in place.",
        lower: sort,
    },
    Def {
        names: &["argsort"],
        params: &[arg("a"), opt("axis", "-1"), opt("kind", "None")],
        arrays: Arrays::Taken,
        method: Method::Arrays,
        help: "The indices that sort a along the last axis (axis=None: the flattened array); \
               equal elements keep their order.",
        lower: sort,
    },
    Def {
        names: &["median"],
        params: &[arg("a"), opt("axis", "None")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The median of every element (axis=k: along that axis): the middle element, or \
               the mean of the two middle ones; nan if there is a NaN.",
        lower: sort,
    },
];

/// The axis argument: an int, or `None` for the flattened array.
fn axis_arg(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, default: i64) -> LResult<Expr> {
    match c.value(env, cx, 1)? {
        Some(ax) if ax.ty == Ty::None => Ok(Expr::int(AXIS_NONE)),
        Some(ax) => env.int_arg(ax, c.span_of(1), c.name),
        None => Ok(Expr::int(default)),
    }
}

fn sort(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = c.req(env, cx, 0)?;
    let Ty::Array { dtype, ndim } = a.ty else {
        return type_err(
            span,
            format!(
                "{}() takes an array, not a {} (make one with array([...]))",
                c.name, a.ty
            ),
        );
    };
    let flat = |axis: &Expr| matches!(axis.kind, crate::ir::ExprKind::Int(AXIS_NONE));
    Ok(match c.name {
        "median" => {
            let axis = axis_arg(env, cx, c, AXIS_NONE)?;
            let out = median_dtype(dtype);
            if flat(&axis) || ndim == 1 {
                let t = Ty::from_dtype(out);
                return Ok(env.builtin(cx, Builtin::MedianAll, vec![a], t, span));
            }
            let t = Ty::array(out, ndim as usize - 1);
            env.builtin(cx, Builtin::Median, vec![a, axis], t, span)
        }
        "sort" if c.method => {
            let axis = axis_arg(env, cx, c, -1)?;
            if flat(&axis) {
                return type_err(span, "a.sort() sorts along an axis: give an int axis").map_err(
                    |e| crate::lower::with_hint(e, "np.sort(a, axis=None) sorts a flattened copy"),
                );
            }
            env.builtin(cx, Builtin::SortInPlace, vec![a, axis], Ty::None, span)
        }
        name => {
            let axis = axis_arg(env, cx, c, -1)?;
            let nd = if flat(&axis) { 1 } else { ndim as usize };
            let (op, d) = if name == "argsort" {
                (Builtin::ArgSort, kiln_runtime::DType::I64)
            } else {
                (Builtin::Sort, dtype)
            };
            env.builtin(cx, op, vec![a, axis], Ty::array(d, nd), span)
        }
    })
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx, site) = (&o.vals, g.ctx, o.site);
    let name = match op {
        Builtin::Sort => "kiln_sort",
        Builtin::ArgSort => "kiln_argsort",
        Builtin::Median => "kiln_median",
        Builtin::MedianAll => {
            return Ok(g.call_rt_result("kiln_median_all", o.ty, site, |_, p| {
                vec![ctx, vals[0][0], p]
            }))
        }
        Builtin::SortInPlace => {
            g.call_rt1("kiln_sort_in_place", &[ctx, vals[0][0], vals[1][0]]);
            g.check_err(site);
            return Ok(vec![]);
        }
        other => return Err(format!("{other:?} is not a sorting builtin")),
    };
    let a = g.call_rt1(name, &[ctx, vals[0][0], vals[1][0]]);
    g.check_null(a, site);
    Ok(vec![a])
}
