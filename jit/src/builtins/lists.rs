//! Lists (Numba's reflected lists of scalars): the instructions of the `ir::ListOp`
//! operations. Their typing is `lower/lists.rs` (lists have methods of their own, and
//! `sorted`/`list`/`reversed` only take lists and ranges, so none of them is a `Def`).
//! Every operation is a call into `runtime/src/lists.rs`; an element is loaded from or stored
//! to the address the runtime returns, with the element's own machine type.

use super::*;
use crate::ir::{Builtin, ListOp};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};

/// The runtime's code for a list's element type (the `DType` codes).
pub(crate) fn elem_code(list: &Ty) -> i64 {
    list.list_elem()
        .and_then(|e| e.dtype())
        .map_or(1, |d| d as i64)
}

/// Words per element of a list (complex takes two).
fn width(list: &Ty) -> i64 {
    match list.list_elem() {
        Some(Ty::C128) => 2,
        _ => 1,
    }
}

fn load_elem(g: &mut Gen<'_, '_>, t: &Ty, addr: Value) -> Vals {
    let fl = MemFlagsData::trusted();
    match t {
        Ty::Bool => vec![g.b.ins().load(types::I8, fl, addr, 0)],
        Ty::F64 => vec![g.b.ins().load(types::F64, fl, addr, 0)],
        Ty::F32 => vec![g.b.ins().load(types::F32, fl, addr, 0)],
        Ty::C128 => vec![
            g.b.ins().load(types::F64, fl, addr, 0),
            g.b.ins().load(types::F64, fl, addr, 8),
        ],
        _ => vec![g.b.ins().load(types::I64, fl, addr, 0)],
    }
}

fn store_elem(g: &mut Gen<'_, '_>, vals: &[Value], addr: Value) {
    let fl = MemFlagsData::trusted();
    for (k, &v) in vals.iter().enumerate() {
        g.b.ins().store(fl, v, addr, 8 * k as i32);
    }
}

/// A value as the two i64 words `kiln_list_contains` compares.
fn words(g: &mut Gen<'_, '_>, t: &Ty, vals: &[Value]) -> (Value, Value) {
    let fl = MemFlagsData::new();
    let w = |g: &mut Gen<'_, '_>, v: Value| match g.b.func.dfg.value_type(v) {
        types::I8 => g.b.ins().uextend(types::I64, v),
        types::F64 => g.b.ins().bitcast(types::I64, fl, v),
        types::F32 => {
            let i = g.b.ins().bitcast(types::I32, fl, v);
            g.b.ins().uextend(types::I64, i)
        }
        _ => v,
    };
    let a = w(g, vals[0]);
    let b = match t {
        Ty::C128 => w(g, vals[1]),
        _ => g.iconst(0),
    };
    (a, b)
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let Builtin::List(op) = op else {
        return Err(format!("{op:?} is not a list builtin"));
    };
    let ctx = g.ctx;
    let vals = &o.vals;
    let list_ty = o.arg_ty();
    let elem = list_ty.list_elem().cloned().unwrap_or(Ty::None);
    Ok(match op {
        ListOp::Lit => {
            let (w, n) = (g.iconst(width(o.ty)), g.iconst(o.args.len() as i64));
            let l = g.call_rt1("kiln_list_new", &[w, n]);
            g.check_null(l, o.site);
            for v in vals {
                let addr = g.call_rt1("kiln_list_push", &[l]);
                store_elem(g, v, addr);
            }
            vec![l]
        }
        ListOp::Len => vec![g.call_rt1("kiln_list_len", &[vals[0][0]])],
        ListOp::Get | ListOp::Set => {
            let addr = g.call_rt1("kiln_list_at", &[ctx, vals[0][0], vals[1][0]]);
            g.check_null(addr, o.site);
            if *op == ListOp::Get {
                load_elem(g, &elem, addr)
            } else {
                store_elem(g, &vals[2], addr);
                vec![]
            }
        }
        ListOp::Append => {
            let addr = g.call_rt1("kiln_list_push", &[vals[0][0]]);
            store_elem(g, &vals[1], addr);
            vec![]
        }
        ListOp::Insert => {
            let addr = g.call_rt1("kiln_list_insert", &[vals[0][0], vals[1][0]]);
            store_elem(g, &vals[2], addr);
            vec![]
        }
        ListOp::Pop { index } => {
            let (i, has) = if *index {
                (vals[1][0], g.iconst(1))
            } else {
                (g.iconst(0), g.iconst(0))
            };
            let addr = g.call_rt1("kiln_list_pop", &[ctx, vals[0][0], i, has]);
            g.check_null(addr, o.site);
            load_elem(g, &elem, addr)
        }
        ListOp::Concat => vec![g.call_rt1("kiln_list_concat", &[vals[0][0], vals[1][0]])],
        ListOp::Extend => {
            g.call_rt("kiln_list_extend", &[vals[0][0], vals[1][0]]);
            vec![]
        }
        ListOp::Copy => {
            let z = g.iconst(0);
            vec![g.call_rt1("kiln_list_concat", &[vals[0][0], z])]
        }
        ListOp::Repeat => {
            let l = g.call_rt1("kiln_list_repeat", &[ctx, vals[0][0], vals[1][0]]);
            g.check_null(l, o.site);
            vec![l]
        }
        ListOp::RepeatInPlace => {
            let r = g.call_rt1("kiln_list_imul", &[ctx, vals[0][0], vals[1][0]]);
            let bad = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
            g.fail_if(bad, |_| vec![], o.site);
            vec![]
        }
        ListOp::Range => vec![g.call_rt1("kiln_list_range", &[vals[0][0], vals[1][0], vals[2][0]])],
        ListOp::Reverse { copy } | ListOp::Sort { copy, .. } => {
            let l = if *copy {
                let z = g.iconst(0);
                g.call_rt1("kiln_list_concat", &[vals[0][0], z])
            } else {
                vals[0][0]
            };
            if let ListOp::Sort { reverse, .. } = op {
                let (c, r) = (g.iconst(elem_code(&list_ty)), g.iconst(*reverse as i64));
                g.call_rt("kiln_list_sort", &[l, c, r]);
            } else {
                g.call_rt("kiln_list_reverse", &[l]);
            }
            if *copy {
                vec![l]
            } else {
                vec![]
            }
        }
        ListOp::Contains => {
            let (a, b) = words(g, &elem, &vals[1]);
            let c = g.iconst(elem_code(&list_ty));
            let r = g.call_rt1("kiln_list_contains", &[vals[0][0], c, a, b]);
            vec![g.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0)]
        }
        ListOp::Reduce(k) => {
            let (c, k) = (g.iconst(elem_code(&list_ty)), g.iconst(*k as i64));
            let addr = g.call_rt1("kiln_list_reduce", &[ctx, vals[0][0], c, k]);
            g.check_null(addr, o.site);
            load_elem(g, o.ty, addr)
        }
        ListOp::ToArray(d) => {
            let c = g.iconst(*d as i64);
            let a = g.call_rt1("kiln_list_to_array", &[ctx, vals[0][0], c]);
            g.check_null(a, o.site);
            vec![a]
        }
    })
}
