//! Strings: formatting values (`str`, `repr`, format specs) and concatenation.

use super::*;

impl<'a, 'b> Gen<'a, 'b> {
    /// The text of a value: `str(v)`, `format(v, spec)` or `repr(v)` as a new string.
    pub(super) fn format_expr(
        &mut self,
        e: &Expr,
        spec: &str,
        repr: bool,
        site: ir::SiteId,
    ) -> Result<Value, String> {
        let (v, owned) = self.expr_borrow(e)?;
        let s = self.format_vals(&e.ty, &v, spec, repr, site)?;
        if owned {
            self.release(&e.ty, &v);
        }
        Ok(s)
    }

    pub(crate) fn format_vals(
        &mut self,
        t: &Ty,
        v: &[Value],
        spec: &str,
        repr: bool,
        site: ir::SiteId,
    ) -> Result<Value, String> {
        let (sp, sn) = self.static_bytes(spec);
        let ctx = self.ctx;
        let s = match t {
            Ty::None => {
                let (p, n) = self.static_bytes("None");
                return Ok(self.call_rt1("kiln_str_new", &[p, n]));
            }
            Ty::DType { dtype, class } => {
                let shown = kiln_runtime::repr_value(&kiln_runtime::Value::DType {
                    name: dtype.numpy_name(),
                    class: *class,
                });
                let text = if *class || repr {
                    shown
                } else {
                    dtype.numpy_name().to_string()
                };
                // (The lowering turns formatted dtypes into strings; this is for the rest.)
                let (p, n) = self.static_bytes(&text);
                return Ok(self.call_rt1("kiln_str_new", &[p, n]));
            }
            Ty::CType(_) | Ty::CLib(_) | Ty::CFunc { .. } | Ty::CPointer(_) => {
                let text = crate::ffi::describe(t);
                let (p, n) = self.static_bytes(&text);
                return Ok(self.call_rt1("kiln_str_new", &[p, n]));
            }
            Ty::I64 => self.call_rt1("kiln_fmt_i64", &[ctx, v[0], sp, sn]),
            Ty::Bool => {
                let w = self.b.ins().uextend(types::I64, v[0]);
                self.call_rt1("kiln_fmt_bool", &[ctx, w, sp, sn])
            }
            Ty::F64 => self.call_rt1("kiln_fmt_f64", &[ctx, v[0], sp, sn]),
            Ty::F32 => self.call_rt1("kiln_fmt_f32", &[ctx, v[0], sp, sn]),
            Ty::C128 => self.call_rt1("kiln_fmt_c128", &[ctx, v[0], v[1], sp, sn]),
            Ty::Str if repr => self.call_rt1("kiln_repr_str", &[ctx, v[0]]),
            Ty::Str => self.call_rt1("kiln_fmt_str", &[ctx, v[0], sp, sn]),
            Ty::Array { .. } if repr => self.call_rt1("kiln_repr_array", &[ctx, v[0]]),
            Ty::Array { .. } => self.call_rt1("kiln_fmt_array", &[ctx, v[0], sp, sn]),
            Ty::List(_) => {
                let code = self.iconst(crate::builtins::lists::elem_code(t));
                self.call_rt1("kiln_list_repr", &[v[0], code])
            }
            Ty::Optional(inner) => {
                // "None", or the value.
                let some = self.b.create_block();
                let none = self.b.create_block();
                let join = self.b.create_block();
                self.b.append_block_param(join, types::I64);
                self.b.ins().brif(v[0], some, &[], none, &[]);
                self.b.switch_to_block(some);
                let s = self.format_vals(inner, &v[1..], spec, repr, site)?;
                self.jump(join, &[s]);
                self.b.switch_to_block(none);
                let (p, n) = self.static_bytes("None");
                let s = self.call_rt1("kiln_str_new", &[p, n]);
                self.jump(join, &[s]);
                self.b.switch_to_block(join);
                return Ok(self.b.block_params(join)[0]);
            }
            Ty::Tuple(items) => {
                // Python: items by repr, "(a, b)", and "(a,)" for one item.
                let (p, n) = self.static_bytes("(");
                let mut acc = self.call_rt1("kiln_str_new", &[p, n]);
                let mut pos = 0;
                for (k, it) in items.iter().enumerate() {
                    let m = clif_types(it).len();
                    let piece = self.format_vals(it, &v[pos..pos + m], "", true, site)?;
                    pos += m;
                    acc = self.concat_owned(acc, piece, site);
                    let sep = if k + 1 < items.len() {
                        ", "
                    } else if items.len() == 1 {
                        ",)"
                    } else {
                        ")"
                    };
                    let (p, n) = self.static_bytes(sep);
                    let s = self.call_rt1("kiln_str_new", &[p, n]);
                    acc = self.concat_owned(acc, s, site);
                }
                if items.is_empty() {
                    let (p, n) = self.static_bytes(")");
                    let s = self.call_rt1("kiln_str_new", &[p, n]);
                    acc = self.concat_owned(acc, s, site);
                }
                return Ok(acc);
            }
        };
        self.check_null(s, site);
        Ok(s)
    }

    pub(super) fn concat_owned(&mut self, a: Value, b: Value, site: ir::SiteId) -> Value {
        let r = self.call_rt1("kiln_str_concat", &[self.ctx, a, b]);
        self.call_rt("kiln_decref", &[a]);
        self.call_rt("kiln_decref", &[b]);
        self.check_null(r, site);
        r
    }
}
