//! Text: `str(x)` and `repr(x)` of any value (Python's formatting of numbers, NumPy's of
//! arrays), and the string operations f-strings, `+`, `len` and `==` lower to.

use super::*;
use crate::ir::Builtin;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::InstBuilder;

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["str"],
        params: &[pos("object")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The text print shows for object (Python's float repr, NumPy's array printing).",
        lower: text,
    },
    Def {
        names: &["repr"],
        params: &[pos("object")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Python's repr of object: strings quoted, arrays as array([...]).",
        lower: text,
    },
];

fn text(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let v = c.req(env, cx, 0)?;
    env.format(cx, v, "", c.name == "repr", c.span)
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx) = (&o.vals, g.ctx);
    Ok(match op {
        Builtin::Format { spec, repr } => {
            vec![g.format_vals(&o.arg_ty(), &vals[0], spec, *repr, o.site)?]
        }
        Builtin::Concat => {
            let r = g.call_rt1("kiln_str_concat", &[ctx, vals[0][0], vals[1][0]]);
            g.check_null(r, o.site);
            vec![r]
        }
        Builtin::StrLen => vec![g.call_rt1("kiln_str_len", &[vals[0][0]])],
        Builtin::StrEq => {
            let r = g.call_rt1("kiln_str_eq", &[vals[0][0], vals[1][0]]);
            vec![g.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0)]
        }
        Builtin::AssertFail => {
            let k = g.iconst(kiln_runtime::ErrorKind::AssertionError as i64);
            g.call_rt("kiln_raise_str", &[ctx, k, vals[0][0]]);
            g.check_err(o.site);
            vec![]
        }
        Builtin::Raise(kind) => {
            let k = g.iconst(*kind as i64);
            g.call_rt("kiln_raise_str", &[ctx, k, vals[0][0]]);
            g.check_err(o.site);
            vec![]
        }
        Builtin::Unwrap => {
            let flag = vals[0][0];
            let none = g.b.ins().icmp_imm_s(IntCC::Equal, flag, 0);
            g.fail_if(
                none,
                |g| {
                    g.raise_msg(
                        kiln_runtime::ErrorKind::TypeError,
                        "the value is None here, where a number is needed (test it with `is None` first)",
                    )
                },
                o.site,
            );
            vals[0][1..].to_vec()
        }
        other => return Err(format!("{other:?} is not a text builtin")),
    })
}
