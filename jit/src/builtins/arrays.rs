//! An array's shape and views: `len`, `copy`, `astype`, `reshape`, `ravel`, `flatten`,
//! `transpose` (functions and methods alike), and the operations behind `a.shape`, `a.size`,
//! `a.T` and slicing.

use super::*;
use crate::codegen::clif::header_flags;
use crate::ir::{Builtin, ExprKind};
use crate::lower::type_err;
use cranelift_codegen::ir::{types, InstBuilder, StackSlotData, StackSlotKind, Value};
use kiln_runtime::array::{ARRAY_SHAPE_OFFSET, ARRAY_SIZE_OFFSET};

/// An array method that also is a function of the array (`a.copy()`, `np.copy(a)`).
macro_rules! method {
    ($name:literal, [$($param:expr),*], $lower:expr, $help:literal) => {
        Def {
            names: &[$name],
            params: &[pos("a"), $($param),*],
            arrays: Arrays::Taken,
            method: Method::Arrays,
            help: $help,
            lower: $lower,
        }
    };
}

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["len"],
        params: &[pos("obj")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The length of an array's first axis, of a string or of a tuple.",
        lower: len,
    },
    method!(
        "copy",
        [],
        copy,
        "A new array with the same elements (a.copy())."
    ),
    method!(
        "astype",
        [Param {
            form: Form::DType,
            ..arg("dtype")
        }],
        astype,
        "A new array of the elements converted to dtype (a.astype(f32))."
    ),
    method!(
        "reshape",
        [star("shape")],
        reshape,
        "The elements in a new shape (a view when a is contiguous); one axis may be -1."
    ),
    method!(
        "ravel",
        [],
        flat,
        "The elements as one axis (a view when contiguous)."
    ),
    method!("flatten", [], flat, "A copy of the elements as one axis."),
    method!(
        "transpose",
        [],
        transpose,
        "The axes reversed, as a view (a.T)."
    ),
];

fn len(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let v = c.req(env, cx, 0)?;
    match &v.ty {
        Ty::Array { .. } => Ok(env.builtin(cx, Builtin::Dim(0), vec![v], Ty::I64, span)),
        Ty::Str => Ok(env.builtin(cx, Builtin::StrLen, vec![v], Ty::I64, span)),
        Ty::Tuple(items) => Ok(Expr::int(items.len() as i64)),
        t => type_err(span, format!("object of type '{t}' has no len()")),
    }
}

/// The array argument of an array method, or a TypeError.
fn the_array(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let a = c.req(env, cx, 0)?;
    if !matches!(a.ty, Ty::Array { .. }) {
        return type_err(c.span, format!("{}() takes an array", c.name));
    }
    Ok(a)
}

fn copy(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let a = the_array(env, cx, c)?;
    let t = a.ty.clone();
    Ok(env.builtin(cx, Builtin::Copy, vec![a], t, c.span))
}

fn astype(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let a = the_array(env, cx, c)?;
    let d = c
        .dtype(env, cx, 1)?
        .expect("the binder checks required parameters");
    let Ty::Array { ndim, .. } = a.ty else {
        unreachable!("checked by the_array")
    };
    Ok(env.builtin(
        cx,
        Builtin::AsType(d),
        vec![a],
        Ty::array(d, ndim as usize),
        c.span,
    ))
}

fn reshape(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = the_array(env, cx, c)?;
    let mut dims = c.rest();
    let shape = if dims.len() == 1 {
        dims.pop().unwrap()
    } else {
        let t = Ty::tuple(dims.iter().map(|v| v.ty.clone()).collect());
        Expr::new(ExprKind::Tuple(dims), t)
    };
    let shape = env.shape_arg(shape, span)?;
    env.reshape(cx, a, shape, span)
}

/// `ravel` (a view when it can be) and `flatten` (always a copy).
fn flat(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let span = c.span;
    let a = the_array(env, cx, c)?;
    let shape = Expr::new(
        ExprKind::Tuple(vec![Expr::int(-1)]),
        Ty::tuple(vec![Ty::I64]),
    );
    let r = env.reshape(cx, a, shape, span)?;
    if c.name == "flatten" {
        let t = r.ty.clone();
        return Ok(env.builtin(cx, Builtin::Copy, vec![r], t, span));
    }
    Ok(r)
}

fn transpose(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let a = the_array(env, cx, c)?;
    let t = a.ty.clone();
    Ok(env.builtin(cx, Builtin::Transpose, vec![a], t, c.span))
}

/// A runtime call that returns a new array (null on error).
fn array_call(g: &mut Gen<'_, '_>, name: &'static str, args: &[Value], site: ir::SiteId) -> Value {
    let a = g.call_rt1(name, args);
    g.check_null(a, site);
    a
}

fn shape_word(g: &mut Gen<'_, '_>, a: Value, k: usize) -> Value {
    g.b.ins().load(
        types::I64,
        header_flags(),
        a,
        ARRAY_SHAPE_OFFSET + 8 * k as i32,
    )
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx, site) = (&o.vals, g.ctx, o.site);
    Ok(match op {
        Builtin::Copy => vec![array_call(g, "kiln_array_copy", &[ctx, vals[0][0]], site)],
        Builtin::Dim(k) => vec![shape_word(g, vals[0][0], *k as usize)],
        Builtin::Size => {
            vec![g
                .b
                .ins()
                .load(types::I64, header_flags(), vals[0][0], ARRAY_SIZE_OFFSET)]
        }
        Builtin::Shape => {
            let Ty::Tuple(items) = o.ty else {
                return Err("shape of wrong type".into());
            };
            (0..items.len())
                .map(|k| shape_word(g, vals[0][0], k))
                .collect()
        }
        Builtin::Slice(n) => {
            let flat: Vec<Value> = vals[1..].iter().map(|v| v[0]).collect();
            let specs = g.shape_slot(&flat);
            let nn = g.iconst(*n as i64);
            vec![array_call(
                g,
                "kiln_array_slice",
                &[ctx, vals[0][0], specs, nn],
                site,
            )]
        }
        Builtin::Reshape => {
            let dims = vals[1].clone();
            let shape = g.shape_slot(&dims);
            let nd = g.iconst(dims.len() as i64);
            vec![array_call(
                g,
                "kiln_array_reshape",
                &[ctx, vals[0][0], nd, shape],
                site,
            )]
        }
        Builtin::AsType(d) => {
            let c = g.iconst(*d as i64);
            vec![array_call(
                g,
                "kiln_array_astype",
                &[ctx, vals[0][0], c],
                site,
            )]
        }
        Builtin::Transpose => vec![array_call(
            g,
            "kiln_array_transpose",
            &[ctx, vals[0][0]],
            site,
        )],
        Builtin::MaskSelect => vec![array_call(
            g,
            "kiln_mask_select",
            &[ctx, vals[0][0], vals[1][0]],
            site,
        )],
        Builtin::Take => vec![array_call(
            g,
            "kiln_take",
            &[ctx, vals[0][0], vals[1][0]],
            site,
        )],
        Builtin::MaskAssign => {
            // The value goes to memory in the array's element layout; the runtime copies it.
            let Ty::Array { dtype, .. } = o.args[0].ty else {
                return Err("mask assignment into a non-array".into());
            };
            let slot =
                g.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 3));
            let p = g.b.ins().stack_addr(types::I64, slot, 0);
            g.store_elem(dtype, p, &vals[2]);
            g.call_rt1("kiln_mask_assign", &[ctx, vals[0][0], vals[1][0], p]);
            g.check_err(site);
            vec![]
        }
        Builtin::MaskAssignArray => {
            g.call_rt1(
                "kiln_mask_assign_array",
                &[ctx, vals[0][0], vals[1][0], vals[2][0]],
            );
            g.check_err(site);
            vec![]
        }
        Builtin::BroadcastShape { into } => {
            let Ty::Tuple(items) = o.ty else {
                return Err("broadcast shape of wrong type".into());
            };
            let arrs: Vec<Value> = vals.iter().map(|v| v[0]).collect();
            let (dest, ins) = if *into {
                (Some(arrs[0]), &arrs[1..])
            } else {
                (None, &arrs[..])
            };
            g.map_shape(items.len(), ins, dest, site).1
        }
        Builtin::BroadcastTo => {
            let dims = vals[1].clone();
            let shape = g.shape_slot(&dims);
            let nd = g.iconst(dims.len() as i64);
            vec![array_call(
                g,
                "kiln_broadcast_view",
                &[ctx, vals[0][0], nd, shape],
                site,
            )]
        }
        Builtin::MayOverlap => {
            let o = g.call_rt1("kiln_may_overlap", &[vals[0][0], vals[1][0]]);
            vec![g
                .b
                .ins()
                .icmp_imm_s(cranelift_codegen::ir::condcodes::IntCC::NotEqual, o, 0)]
        }
        other => return Err(format!("{other:?} is not an array builtin")),
    })
}

/// An array's shape in a kernel (the view struct carries it).
pub(super) fn opencl(e: &mut Emit<'_, '_>, op: &Builtin, o: &ClOperands) -> GResult<String> {
    let a = &o.args[0];
    let Ty::Array { ndim, .. } = o.tys[0] else {
        return gpu_err(o.site, "the shape of a non-array", "");
    };
    Ok(match op {
        Builtin::Dim(k) => format!("{a}.n[{k}]"),
        Builtin::Size => {
            let dims: Vec<String> = (0..ndim).map(|k| format!("{a}.n[{k}]")).collect();
            if dims.is_empty() {
                "1L".into()
            } else {
                format!("({})", dims.join(" * "))
            }
        }
        _ => {
            let t = e.temp_decl(o.ret, o.site)?;
            for k in 0..ndim {
                e.line(&format!("{t}.f{k} = {a}.n[{k}];"));
            }
            t
        }
    })
}
