//! Arithmetic and comparisons on flattened scalars: Python's floor division and modulo,
//! complex arithmetic, and `x * 2.0` as `x + x`.

use super::*;

impl<'a, 'b> Gen<'a, 'b> {
    pub(super) fn unary(&mut self, op: UnOp, t: &Ty, v: Vals) -> Result<Vals, String> {
        Ok(match (op, t) {
            (UnOp::Neg, Ty::I64) => vec![self.b.ins().ineg(v[0])],
            (UnOp::Neg, Ty::F64 | Ty::F32) => vec![self.b.ins().fneg(v[0])],
            (UnOp::Neg, Ty::C128) => vec![self.b.ins().fneg(v[0]), self.b.ins().fneg(v[1])],
            (UnOp::Not, Ty::Bool) | (UnOp::Invert, Ty::Bool) => {
                vec![self.b.ins().bxor_imm_s(v[0], 1)]
            }
            (UnOp::Invert, Ty::I64) => vec![self.b.ins().bnot(v[0])],
            (op, t) => return Err(format!("unary {op:?} on {t}")),
        })
    }

    /// `2*x` as `x + x`: the same bits (doubling is exact both ways, NaN and inf included),
    /// but on recent Intel cores an add has half a multiply's latency (Golden Cove: 2 against
    /// 4 cycles), and it sits on the critical path of loops like Mandelbrot's
    /// `2.0 * zr * zi` (measured: ~15 % of that loop).
    pub(super) fn fmul_or_double(&mut self, a: Value, b: Value) -> Value {
        if self.is_const_two(a) {
            self.b.ins().fadd(b, b)
        } else if self.is_const_two(b) {
            self.b.ins().fadd(a, a)
        } else {
            self.b.ins().fmul(a, b)
        }
    }

    /// Whether `v` is the float constant 2.0 (scalar or splatted), however it was made.
    pub(super) fn is_const_two(&self, v: Value) -> bool {
        let two = 2.0f64.to_bits();
        if self
            .fconsts
            .iter()
            .any(|(&(bits, _), &c)| c == v && bits == two)
            || self.map_vconsts.get(&two) == Some(&v)
        {
            return true;
        }
        let dfg = &self.b.func.dfg;
        let cranelift_codegen::ir::ValueDef::Result(inst, _) = dfg.value_def(v) else {
            return false;
        };
        match dfg.insts[inst] {
            InstructionData::UnaryIeee64 { imm, .. } => f64::from_bits(imm.bits()) == 2.0,
            InstructionData::UnaryIeee32 { imm, .. } => f32::from_bits(imm.bits()) == 2.0,
            InstructionData::Unary {
                opcode: Opcode::Splat,
                arg,
            } => self.is_const_two(arg),
            _ => false,
        }
    }

    pub(super) fn binary(
        &mut self,
        op: BinOp,
        t: &Ty,
        x: Vals,
        y: Vals,
        site: ir::SiteId,
    ) -> Result<Vals, String> {
        let (a, b) = (x[0], y[0]);
        Ok(match t {
            Ty::I64 => vec![match op {
                BinOp::Add => self.b.ins().iadd(a, b),
                BinOp::Sub => self.b.ins().isub(a, b),
                BinOp::Mul => self.b.ins().imul(a, b),
                BinOp::FloorDiv | BinOp::Mod => self.int_divmod(op, a, b, site),
                BinOp::Pow => {
                    let r = self.call_rt1("kiln_pow_i64", &[self.ctx, a, b]);
                    self.check_err(site);
                    r
                }
                BinOp::BitAnd => self.b.ins().band(a, b),
                BinOp::BitOr => self.b.ins().bor(a, b),
                BinOp::BitXor => self.b.ins().bxor(a, b),
                BinOp::Shl => self.b.ins().ishl(a, b),
                BinOp::Shr => self.b.ins().sshr(a, b),
                BinOp::Div => return Err("integer true division reached codegen".into()),
            }],
            Ty::Bool => vec![match op {
                BinOp::BitAnd => self.b.ins().band(a, b),
                BinOp::BitOr => self.b.ins().bor(a, b),
                BinOp::BitXor => self.b.ins().bxor(a, b),
                _ => return Err(format!("bool {op:?} reached codegen")),
            }],
            Ty::F64 | Ty::F32 => vec![match op {
                BinOp::Add => self.b.ins().fadd(a, b),
                BinOp::Sub => self.b.ins().fsub(a, b),
                BinOp::Mul => self.fmul_or_double(a, b),
                BinOp::Div => self.b.ins().fdiv(a, b),
                BinOp::FloorDiv => {
                    // NumPy: x // 0.0 is ±inf or nan, like x / 0.0.
                    let r = self.f64_call("kiln_m_py_floordiv", t, &[a, b]);
                    let z = self.zero(clif_types(t)[0]);
                    let is0 = self.b.ins().fcmp(FloatCC::Equal, b, z);
                    let q = self.b.ins().fdiv(a, b);
                    self.b.ins().select(is0, q, r)
                }
                BinOp::Mod => self.f64_call("kiln_m_py_fmod", t, &[a, b]),
                BinOp::Pow => self.f64_call("kiln_m_pow", t, &[a, b]),
                _ => return Err(format!("float {op:?} reached codegen")),
            }],
            Ty::C128 => {
                let (ar, ai, br, bi) = (x[0], x[1], y[0], y[1]);
                match op {
                    BinOp::Add => vec![self.b.ins().fadd(ar, br), self.b.ins().fadd(ai, bi)],
                    BinOp::Sub => vec![self.b.ins().fsub(ar, br), self.b.ins().fsub(ai, bi)],
                    BinOp::Mul => {
                        let rr = self.b.ins().fmul(ar, br);
                        let ii = self.b.ins().fmul(ai, bi);
                        let ri = self.b.ins().fmul(ar, bi);
                        let ir = self.b.ins().fmul(ai, br);
                        vec![self.b.ins().fsub(rr, ii), self.b.ins().fadd(ri, ir)]
                    }
                    BinOp::Div => self.complex_call("kiln_c_div", &[ar, ai, br, bi]),
                    BinOp::Pow => self.complex_call("kiln_c_pow", &[ar, ai, br, bi]),
                    _ => return Err(format!("complex {op:?} reached codegen")),
                }
            }
            t => return Err(format!("{op:?} on {t} reached codegen")),
        })
    }

    /// Python's `//` and `%` on i64: floor semantics, ZeroDivisionError, and no trap on
    /// `i64::MIN // -1` (it wraps, as NumPy does).
    pub(super) fn int_divmod(&mut self, op: BinOp, a: Value, b: Value, site: ir::SiteId) -> Value {
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        let msg = if op == BinOp::Mod {
            "integer modulo by zero"
        } else {
            "integer division or modulo by zero"
        };
        self.fail_if(
            zero,
            |g| g.raise_msg(ErrorKind::ZeroDivisionError, msg),
            site,
        );
        let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
        let one = self.iconst(1);
        let b1 = self.b.ins().select(m1, one, b);
        let q = self.b.ins().sdiv(a, b1);
        let r = self.b.ins().srem(a, b1);
        let na = self.b.ins().ineg(a);
        let z = self.iconst(0);
        let q = self.b.ins().select(m1, na, q);
        let r = self.b.ins().select(m1, z, r);
        let rnz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let x = self.b.ins().bxor(r, b);
        let sneg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
        let adj = self.b.ins().band(rnz, sneg);
        if op == BinOp::FloorDiv {
            let adj64 = self.b.ins().uextend(types::I64, adj);
            self.b.ins().isub(q, adj64)
        } else {
            let rb = self.b.ins().iadd(r, b);
            self.b.ins().select(adj, rb, r)
        }
    }

    pub(super) fn compare(
        &mut self,
        op: CmpOp,
        t: &Ty,
        x: &[Value],
        y: &[Value],
    ) -> Result<Value, String> {
        Ok(match t {
            // Bools compare unsigned (True above False), also as all-ones lane masks.
            Ty::I64 | Ty::Bool => self.b.ins().icmp(int_cc(op, *t == Ty::I64), x[0], y[0]),
            Ty::F64 | Ty::F32 => self.b.ins().fcmp(float_cc(op), x[0], y[0]),
            Ty::C128 => {
                let cc = if op == CmpOp::Eq {
                    FloatCC::Equal
                } else {
                    FloatCC::NotEqual
                };
                let a = self.b.ins().fcmp(cc, x[0], y[0]);
                let b = self.b.ins().fcmp(cc, x[1], y[1]);
                if op == CmpOp::Eq {
                    self.b.ins().band(a, b)
                } else {
                    self.b.ins().bor(a, b)
                }
            }
            t => return Err(format!("comparison of {t} reached codegen")),
        })
    }
}

/// Python's comparison as a Cranelift float condition (NaN: only `!=` holds).
pub(super) fn float_cc(op: CmpOp) -> FloatCC {
    match op {
        CmpOp::Eq => FloatCC::Equal,
        CmpOp::Ne => FloatCC::NotEqual,
        CmpOp::Lt => FloatCC::LessThan,
        CmpOp::Le => FloatCC::LessThanOrEqual,
        CmpOp::Gt => FloatCC::GreaterThan,
        CmpOp::Ge => FloatCC::GreaterThanOrEqual,
    }
}

/// Python's comparison as a Cranelift integer condition, signed or unsigned.
pub(super) fn int_cc(op: CmpOp, signed: bool) -> IntCC {
    match op {
        CmpOp::Eq => IntCC::Equal,
        CmpOp::Ne => IntCC::NotEqual,
        CmpOp::Lt if signed => IntCC::SignedLessThan,
        CmpOp::Le if signed => IntCC::SignedLessThanOrEqual,
        CmpOp::Gt if signed => IntCC::SignedGreaterThan,
        CmpOp::Ge if signed => IntCC::SignedGreaterThanOrEqual,
        CmpOp::Lt => IntCC::UnsignedLessThan,
        CmpOp::Le => IntCC::UnsignedLessThanOrEqual,
        CmpOp::Gt => IntCC::UnsignedGreaterThan,
        CmpOp::Ge => IntCC::UnsignedGreaterThanOrEqual,
    }
}
