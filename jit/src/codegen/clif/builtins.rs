//! Builtin operations.

use super::*;

impl<'a, 'b> Gen<'a, 'b> {
    pub(crate) fn builtin(
        &mut self,
        op: &Builtin,
        args: &[Expr],
        ty: &Ty,
        site: ir::SiteId,
    ) -> Result<Vals, String> {
        // Borrowed arguments; owned temporaries are released after the operation.
        let mut vals = Vec::new();
        let mut temps = Vec::new();
        for a in args {
            let (v, owned) = self.expr_borrow(a)?;
            if owned && a.ty.has_heap() {
                temps.push((a.ty.clone(), v.clone()));
            }
            vals.push(v);
        }
        let arg_ty = args.first().map(|a| a.ty.clone()).unwrap_or(Ty::None);
        let ctx = self.ctx;
        let out: Vals = match op {
            Builtin::Math(m) | Builtin::MathChecked(m) => {
                let checked = matches!(op, Builtin::MathChecked(_));
                let x = vals[0].clone();
                if arg_ty == Ty::C128 {
                    let name = match m {
                        MathFn::Sqrt => "kiln_c_sqrt",
                        MathFn::Exp => "kiln_c_exp",
                        MathFn::Log => "kiln_c_log",
                        MathFn::Sin => "kiln_c_sin",
                        MathFn::Cos => "kiln_c_cos",
                        MathFn::Tanh => "kiln_c_tanh",
                        other => {
                            return Err(format!(
                                "{} of a complex number is not supported",
                                other.name()
                            ))
                        }
                    };
                    self.complex_call(name, &x)
                } else {
                    let r = match m {
                        MathFn::Sqrt => self.b.ins().sqrt(x[0]),
                        MathFn::Floor => self.b.ins().floor(x[0]),
                        MathFn::Ceil => self.b.ins().ceil(x[0]),
                        MathFn::Trunc => self.b.ins().trunc(x[0]),
                        MathFn::Rint => self.b.ins().nearest(x[0]),
                        MathFn::Exp => self.f64_call("kiln_m_exp", &arg_ty, &x),
                        MathFn::Log => self.f64_call("kiln_m_log", &arg_ty, &x),
                        MathFn::Log2 => self.f64_call("kiln_m_log2", &arg_ty, &x),
                        MathFn::Log10 => self.f64_call("kiln_m_log10", &arg_ty, &x),
                        MathFn::Sin => self.f64_call("kiln_m_sin", &arg_ty, &x),
                        MathFn::Cos => self.f64_call("kiln_m_cos", &arg_ty, &x),
                        MathFn::Tan => self.f64_call("kiln_m_tan", &arg_ty, &x),
                        MathFn::Arcsin => self.f64_call("kiln_m_arcsin", &arg_ty, &x),
                        MathFn::Arccos => self.f64_call("kiln_m_arccos", &arg_ty, &x),
                        MathFn::Arctan => self.f64_call("kiln_m_arctan", &arg_ty, &x),
                        MathFn::Sinh => self.f64_call("kiln_m_sinh", &arg_ty, &x),
                        MathFn::Cosh => self.f64_call("kiln_m_cosh", &arg_ty, &x),
                        MathFn::Tanh => self.f64_call("kiln_m_tanh", &arg_ty, &x),
                    };
                    if checked {
                        // Python's math raises where NumPy returns nan (or -inf for log(0)).
                        let rnan = self.b.ins().fcmp(FloatCC::Unordered, r, r);
                        let xok = self.b.ins().fcmp(FloatCC::Ordered, x[0], x[0]);
                        let mut bad = self.b.ins().band(rnan, xok);
                        if matches!(m, MathFn::Log | MathFn::Log2 | MathFn::Log10) {
                            let z = self.zero(clif_types(&arg_ty)[0]);
                            let is0 = self.b.ins().fcmp(FloatCC::Equal, x[0], z);
                            bad = self.b.ins().bor(bad, is0);
                        }
                        self.fail_if(
                            bad,
                            |g| g.raise_msg(ErrorKind::ValueError, "math domain error"),
                            site,
                        );
                    }
                    vec![r]
                }
            }
            Builtin::Abs => match arg_ty {
                Ty::I64 => {
                    let x = vals[0][0];
                    let n = self.b.ins().ineg(x);
                    let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                    vec![self.b.ins().select(neg, n, x)]
                }
                Ty::F64 | Ty::F32 => vec![self.b.ins().fabs(vals[0][0])],
                Ty::C128 => vec![self.call_rt1("kiln_c_abs", &vals[0])],
                ref t => return Err(format!("abs of {t}")),
            },
            Builtin::Min | Builtin::Max => {
                let (a, b) = (vals[0][0], vals[1][0]);
                let is_min = *op == Builtin::Min;
                // Python: min(a, b) is b only if b < a (the first of equals wins).
                let c = match arg_ty {
                    Ty::F64 | Ty::F32 => self.b.ins().fcmp(
                        if is_min {
                            FloatCC::LessThan
                        } else {
                            FloatCC::GreaterThan
                        },
                        b,
                        a,
                    ),
                    Ty::I64 => self.b.ins().icmp(
                        if is_min {
                            IntCC::SignedLessThan
                        } else {
                            IntCC::SignedGreaterThan
                        },
                        b,
                        a,
                    ),
                    _ => self.b.ins().icmp(
                        if is_min {
                            IntCC::UnsignedLessThan
                        } else {
                            IntCC::UnsignedGreaterThan
                        },
                        b,
                        a,
                    ),
                };
                vec![self.b.ins().select(c, b, a)]
            }
            Builtin::RoundInt => {
                let r = self.b.ins().nearest(vals[0][0]);
                vec![self.b.ins().fcvt_to_sint_sat(types::I64, r)]
            }
            Builtin::FloorInt | Builtin::CeilInt => {
                let r = if *op == Builtin::FloorInt {
                    self.b.ins().floor(vals[0][0])
                } else {
                    self.b.ins().ceil(vals[0][0])
                };
                vec![self.b.ins().fcvt_to_sint_sat(types::I64, r)]
            }
            Builtin::RoundN => vec![self.call_rt1("kiln_m_round_n", &[vals[0][0], vals[1][0]])],
            Builtin::RoundIntN => vec![self.call_rt1("kiln_round_int", &[vals[0][0], vals[1][0]])],
            Builtin::NpRoundN => {
                vec![self.call_rt1("kiln_m_np_round_n", &[vals[0][0], vals[1][0]])]
            }
            Builtin::Atan2 => {
                vec![self.f64_call("kiln_m_arctan2", &arg_ty, &[vals[0][0], vals[1][0]])]
            }
            Builtin::Hypot => {
                vec![self.f64_call("kiln_m_hypot", &arg_ty, &[vals[0][0], vals[1][0]])]
            }
            Builtin::Real => vec![vals[0][0]],
            Builtin::Imag => vec![vals[0][1]],
            Builtin::Conj => vec![vals[0][0], self.b.ins().fneg(vals[0][1])],
            Builtin::Angle => vec![self.call_rt1("kiln_m_arctan2", &[vals[0][1], vals[0][0]])],
            Builtin::IsNan => {
                let x = vals[0][0];
                vec![self.b.ins().fcmp(FloatCC::Unordered, x, x)]
            }
            Builtin::IsInf => {
                let x = vals[0][0];
                let a = self.b.ins().fabs(x);
                let inf = if arg_ty == Ty::F32 {
                    self.b.ins().f32const(f32::INFINITY)
                } else {
                    self.b.ins().f64const(f64::INFINITY)
                };
                vec![self.b.ins().fcmp(FloatCC::Equal, a, inf)]
            }
            Builtin::Sign => {
                let x = vals[0][0];
                match arg_ty {
                    Ty::I64 => {
                        let p = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, x, 0);
                        let n = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                        let p = self.b.ins().uextend(types::I64, p);
                        let n = self.b.ins().uextend(types::I64, n);
                        vec![self.b.ins().isub(p, n)]
                    }
                    _ => {
                        let ct = clif_types(&arg_ty)[0];
                        let z = self.zero(ct);
                        let (one, mone) = if ct == types::F32 {
                            (self.b.ins().f32const(1.0), self.b.ins().f32const(-1.0))
                        } else {
                            (self.b.ins().f64const(1.0), self.b.ins().f64const(-1.0))
                        };
                        let p = self.b.ins().fcmp(FloatCC::GreaterThan, x, z);
                        let n = self.b.ins().fcmp(FloatCC::LessThan, x, z);
                        // Zero (of either sign) gives +0.0 and nan stays nan, as in NumPy.
                        let zero_or_nan = self.b.ins().fadd(x, z);
                        let r = self.b.ins().select(n, mone, zero_or_nan);
                        vec![self.b.ins().select(p, one, r)]
                    }
                }
            }
            Builtin::MakeComplex => vec![vals[0][0], vals[1][0]],
            Builtin::Zeros(d) | Builtin::Ones(d) | Builtin::Empty(d) => {
                let fill = match op {
                    Builtin::Zeros(_) => 0,
                    Builtin::Ones(_) => 1,
                    _ => 2,
                };
                let dims = vals[0].clone();
                let shape = self.shape_slot(&dims);
                let dt = self.iconst(*d as i64);
                let nd = self.iconst(dims.len() as i64);
                let f = self.iconst(fill);
                let a = self.call_rt1("kiln_array_new", &[ctx, dt, nd, shape, f]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Full(d) => {
                let dims = vals[0].clone();
                let shape = self.shape_slot(&dims);
                let dt = self.iconst(*d as i64);
                let nd = self.iconst(dims.len() as i64);
                let v = &vals[1];
                let a = match args[1].ty {
                    Ty::C128 => {
                        self.call_rt1("kiln_array_full_c128", &[ctx, dt, nd, shape, v[0], v[1]])
                    }
                    Ty::F64 => self.call_rt1("kiln_array_full_f64", &[ctx, dt, nd, shape, v[0]]),
                    Ty::F32 => {
                        let w = self.b.ins().fpromote(types::F64, v[0]);
                        self.call_rt1("kiln_array_full_f64", &[ctx, dt, nd, shape, w])
                    }
                    Ty::Bool => {
                        let w = self.b.ins().uextend(types::I64, v[0]);
                        self.call_rt1("kiln_array_full_i64", &[ctx, dt, nd, shape, w])
                    }
                    _ => self.call_rt1("kiln_array_full_i64", &[ctx, dt, nd, shape, v[0]]),
                };
                self.check_null(a, site);
                vec![a]
            }
            Builtin::ArangeInt | Builtin::ArangeFloat => {
                let name = if *op == Builtin::ArangeInt {
                    "kiln_arange_i64"
                } else {
                    "kiln_arange_f64"
                };
                let a = self.call_rt1(name, &[ctx, vals[0][0], vals[1][0], vals[2][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Linspace(d) => {
                let dt = self.iconst(*d as i64);
                let a = self.call_rt1(
                    "kiln_linspace",
                    &[ctx, vals[0][0], vals[1][0], vals[2][0], dt],
                );
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Copy => {
                let a = self.call_rt1("kiln_array_copy", &[ctx, vals[0][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Reduce(r) => {
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    16,
                    3,
                ));
                let p = self.b.ins().stack_addr(types::I64, slot, 0);
                let code = self.iconst(*r as i64);
                let rc = self.call_rt1("kiln_array_reduce", &[ctx, vals[0][0], code, p]);
                self.fail_if(rc, |_| vec![], site);
                clif_types(ty)
                    .into_iter()
                    .enumerate()
                    .map(|(k, ct)| self.b.ins().stack_load(types::I64, ct, slot, 8 * k as i32))
                    .collect()
            }
            Builtin::Dim(k) => vec![self.b.ins().load(
                types::I64,
                header_flags(),
                vals[0][0],
                ARRAY_SHAPE_OFFSET + 8 * *k as i32,
            )],
            Builtin::Size => {
                vec![self
                    .b
                    .ins()
                    .load(types::I64, header_flags(), vals[0][0], ARRAY_SIZE_OFFSET)]
            }
            Builtin::Shape => {
                let Ty::Tuple(items) = ty else {
                    return Err("shape of wrong type".into());
                };
                (0..items.len())
                    .map(|k| {
                        self.b.ins().load(
                            types::I64,
                            header_flags(),
                            vals[0][0],
                            ARRAY_SHAPE_OFFSET + 8 * k as i32,
                        )
                    })
                    .collect()
            }
            Builtin::Format { spec, repr } => {
                vec![self.format_vals(&arg_ty, &vals[0], spec, *repr, site)?]
            }
            Builtin::Concat => {
                let r = self.call_rt1("kiln_str_concat", &[ctx, vals[0][0], vals[1][0]]);
                self.check_null(r, site);
                vec![r]
            }
            Builtin::StrLen => vec![self.call_rt1("kiln_str_len", &[vals[0][0]])],
            Builtin::Slice(n) => {
                let flat: Vec<Value> = vals[1..].iter().map(|v| v[0]).collect();
                let specs = self.shape_slot(&flat);
                let nn = self.iconst(*n as i64);
                let a = self.call_rt1("kiln_array_slice", &[ctx, vals[0][0], specs, nn]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Reshape => {
                let dims = vals[1].clone();
                let shape = self.shape_slot(&dims);
                let nd = self.iconst(dims.len() as i64);
                let a = self.call_rt1("kiln_array_reshape", &[ctx, vals[0][0], nd, shape]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Dot => {
                let a = self.call_rt1("kiln_dot", &[ctx, vals[0][0], vals[1][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::DotScalar => {
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    16,
                    3,
                ));
                let p = self.b.ins().stack_addr(types::I64, slot, 0);
                let rc = self.call_rt1("kiln_dot_scalar", &[ctx, vals[0][0], vals[1][0], p]);
                self.fail_if(rc, |_| vec![], site);
                clif_types(ty)
                    .into_iter()
                    .enumerate()
                    .map(|(k, ct)| self.b.ins().stack_load(types::I64, ct, slot, 8 * k as i32))
                    .collect()
            }
            Builtin::AsType(d) => {
                let c = self.iconst(*d as i64);
                let a = self.call_rt1("kiln_array_astype", &[ctx, vals[0][0], c]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::ReduceAxis(code) => {
                let c = self.iconst(*code);
                let a = self.call_rt1("kiln_array_reduce_axis", &[ctx, vals[0][0], c, vals[1][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Transpose | Builtin::Cumsum => {
                let name = if *op == Builtin::Transpose {
                    "kiln_array_transpose"
                } else {
                    "kiln_cumsum"
                };
                let a = self.call_rt1(name, &[ctx, vals[0][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::CumsumAxis => {
                let a = self.call_rt1("kiln_cumsum_axis", &[ctx, vals[0][0], vals[1][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Eye(d) => {
                let dt = self.iconst(*d as i64);
                let a = self.call_rt1("kiln_eye", &[ctx, vals[0][0], dt]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::ReduceAll(code) => {
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    16,
                    3,
                ));
                let p = self.b.ins().stack_addr(types::I64, slot, 0);
                let c = self.iconst(*code);
                let rc = self.call_rt1("kiln_array_reduce", &[ctx, vals[0][0], c, p]);
                self.fail_if(rc, |_| vec![], site);
                clif_types(ty)
                    .into_iter()
                    .enumerate()
                    .map(|(k, ct)| self.b.ins().stack_load(types::I64, ct, slot, 8 * k as i32))
                    .collect()
            }
            Builtin::Rand | Builtin::Randn => {
                let dims = vals[0].clone();
                let shape = self.shape_slot(&dims);
                let nd = self.iconst(dims.len() as i64);
                let name = if *op == Builtin::Rand {
                    "kiln_rand"
                } else {
                    "kiln_randn"
                };
                let a = self.call_rt1(name, &[ctx, nd, shape]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Randint => {
                let dims = vals[2].clone();
                let shape = self.shape_slot(&dims);
                let nd = self.iconst(dims.len() as i64);
                let a = self.call_rt1("kiln_randint", &[ctx, vals[0][0], vals[1][0], nd, shape]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Seed => {
                self.call_rt("kiln_seed", &[vals[0][0]]);
                vec![]
            }
            Builtin::RandScalar => vec![self.call_rt1("kiln_rand_scalar", &[])],
            Builtin::Display(k) => {
                let v = &vals[0];
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8 * v.len().max(1) as u32,
                    3,
                ));
                for (j, &x) in v.iter().enumerate() {
                    self.b.ins().stack_store(types::I64, x, slot, 8 * j as i32);
                }
                let p = self.b.ins().stack_addr(types::I64, slot, 0);
                let kk = self.iconst(*k as i64);
                self.call_rt("kiln_display", &[ctx, p, kk]);
                vec![]
            }
            Builtin::Imshow => {
                let z = self.iconst(0);
                let cm = vals[1].first().copied().unwrap_or(z);
                let ti = vals[2].first().copied().unwrap_or(z);
                self.call_rt("kiln_imshow", &[ctx, vals[0][0], cm, ti]);
                self.check_err(site);
                vec![]
            }
            Builtin::ClearOutput => {
                let w = self.b.ins().uextend(types::I64, vals[0][0]);
                self.call_rt("kiln_clear_output", &[ctx, w]);
                vec![]
            }
            Builtin::ArrayLit(d, shape) => {
                let dims: Vec<Value> = shape.iter().map(|&n| self.iconst(n)).collect();
                let sp = self.shape_slot(&dims);
                let dt = self.iconst(*d as i64);
                let nd = self.iconst(dims.len() as i64);
                let z = self.iconst(2);
                let a = self.call_rt1("kiln_array_new", &[ctx, dt, nd, sp, z]);
                self.check_null(a, site);
                let data = self
                    .b
                    .ins()
                    .load(types::I64, header_flags(), a, ARRAY_DATA_OFFSET);
                for (k, v) in vals.iter().enumerate() {
                    let addr = self.b.ins().iadd_imm_s(data, (k * d.size()) as i64);
                    self.store_elem(*d, addr, v);
                }
                vec![a]
            }
            Builtin::StrEq => {
                let r = self.call_rt1("kiln_str_eq", &[vals[0][0], vals[1][0]]);
                vec![self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0)]
            }
        };
        for (t, v) in temps {
            self.release(&t, &v);
        }
        Ok(out)
    }
}
