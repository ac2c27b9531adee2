//! Output: `print` (a statement: `lower/stmts.rs` lowers it), `display(v)` (a rich value in
//! Jupyter) and `clear_output(wait)`; figures are `plot.rs`'s.

use super::*;
use crate::codegen::clif::Vals;
use crate::ir::{Builtin, ExprKind};
use crate::lower::type_err;
use cranelift_codegen::ir::{types, InstBuilder, StackSlotData, StackSlotKind};

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["print"],
        params: &[
            star("objects"),
            kw("sep", "' '"),
            kw("end", "'\\n'"),
            kw("file", "sys.stdout"),
        ],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Print the values, as Python does (a statement: it has no value).",
        lower: print,
    },
    Def {
        names: &["display"],
        params: &[star("objs")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Show a value as the cell's output would (an HTML table for a small 2-D array).",
        lower: display,
    },
    Def {
        names: &["clear_output"],
        params: &[opt("wait", "False")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Clear the cell's output (with wait=True, when the next output arrives).",
        lower: clear_output,
    },
];

fn print(_: &mut Env<'_>, _: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    type_err(c.span, "print() returns None and cannot be used as a value")
}

fn display(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let mut vals = c.rest();
    if vals.len() != 1 {
        return type_err(c.span, "display() shows one value at a time in Kiln");
    }
    let v = vals.pop().unwrap();
    env.display_types.push(v.ty.clone());
    let k = (env.display_types.len() - 1) as u32;
    Ok(env.builtin(cx, Builtin::Display(k), vec![v], Ty::None, c.span))
}

fn clear_output(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let wait = c
        .value(env, cx, 0)?
        .unwrap_or_else(|| Expr::new(ExprKind::Bool(false), Ty::Bool));
    let wait = env.truth(wait, c.span)?;
    Ok(env.builtin(cx, Builtin::ClearOutput, vec![wait], Ty::None, c.span))
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx) = (&o.vals, g.ctx);
    match op {
        Builtin::Display(k) => {
            // The value's flattened words in a stack slot, its type by index.
            let v = &vals[0];
            let slot = g.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                8 * v.len().max(1) as u32,
                3,
            ));
            for (j, &x) in v.iter().enumerate() {
                g.b.ins().stack_store(types::I64, x, slot, 8 * j as i32);
            }
            let p = g.b.ins().stack_addr(types::I64, slot, 0);
            let kk = g.iconst(*k as i64);
            g.call_rt("kiln_display", &[ctx, p, kk]);
        }
        Builtin::ClearOutput => {
            let w = g.b.ins().uextend(types::I64, vals[0][0]);
            g.call_rt("kiln_clear_output", &[ctx, w]);
        }
        other => return Err(format!("{other:?} is not an output builtin")),
    }
    Ok(vec![])
}
