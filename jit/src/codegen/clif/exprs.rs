//! Expressions: variables and globals, array element addresses (bounds checks, wrapping from
//! the end), loads and stores of elements, truthiness and casts.

use super::*;

impl<'a, 'b> Gen<'a, 'b> {
    pub(crate) fn store_elem(&mut self, dtype: DType, addr: Value, v: &[Value]) {
        let f = MemFlagsData::trusted();
        if let Some((bits, _)) = dtype.narrow_int() {
            // Keeps the low bits: NumPy's wrap-around cast.
            match bits {
                8 => self.b.ins().istore8(f, v[0], addr, 0),
                16 => self.b.ins().istore16(f, v[0], addr, 0),
                _ => self.b.ins().istore32(f, v[0], addr, 0),
            };
            return;
        }
        self.b.ins().store(f, v[0], addr, 0);
        if dtype == DType::C128 {
            self.b.ins().store(f, v[1], addr, 8);
        }
    }

    pub(super) fn load_elem(&mut self, dtype: DType, addr: Value) -> Vals {
        let f = MemFlagsData::trusted();
        match dtype {
            DType::Bool => vec![self.b.ins().load(types::I8, f, addr, 0)],
            DType::I64 => vec![self.b.ins().load(types::I64, f, addr, 0)],
            DType::F64 => vec![self.b.ins().load(types::F64, f, addr, 0)],
            DType::F32 => vec![self.b.ins().load(types::F32, f, addr, 0)],
            DType::C128 => vec![
                self.b.ins().load(types::F64, f, addr, 0),
                self.b.ins().load(types::F64, f, addr, 8),
            ],
            kiln_runtime::narrow_ints!() => {
                let (bits, signed) = dtype.narrow_int().unwrap_or((64, true));
                let ins = self.b.ins();
                vec![match (bits, signed) {
                    (8, true) => ins.sload8(types::I64, f, addr, 0),
                    (8, false) => ins.uload8(types::I64, f, addr, 0),
                    (16, true) => ins.sload16(types::I64, f, addr, 0),
                    (16, false) => ins.uload16(types::I64, f, addr, 0),
                    (_, true) => ins.sload32(f, addr, 0),
                    (_, false) => ins.uload32(f, addr, 0),
                }]
            }
        }
    }

    /// Address of `array[index...]`, bounds-checked (negative indices count from the end).
    /// Returns the address, the dtype, the array pointer and whether it is owned.
    pub(super) fn elem_addr(
        &mut self,
        array: &Expr,
        index: &[Expr],
        site: ir::SiteId,
    ) -> Result<(Value, DType, Value, bool), String> {
        let Ty::Array { dtype, .. } = array.ty else {
            return Err("indexing a non-array".into());
        };
        let (av, owned) = self.expr_borrow(array)?;
        let arr = av[0];
        let mark = self.held.len();
        if owned {
            self.hold(&array.ty, &av);
        }
        let mut idx = Vec::new();
        for e in index {
            idx.push(self.expr(e)?[0]);
        }
        let mut off: Option<Value> = None;
        for (k, &i) in idx.iter().enumerate() {
            let e = &index[k];
            // An index the test before a versioned loop proved in range needs no check.
            let i = if self.bounds && !self.proven.contains(&(e as *const Expr)) {
                let n = self.b.ins().load(
                    types::I64,
                    header_flags(),
                    arr,
                    ARRAY_SHAPE_OFFSET + 8 * k as i32,
                );
                // A counter of a `range` that starts at 0 or later and counts up is never
                // negative: one unsigned compare checks it.
                let counter = matches!(e.kind, ExprKind::Var(v) if self.nonneg.contains(&v));
                let i2 = if counter {
                    i
                } else {
                    let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, i, 0);
                    let wrapped = self.b.ins().iadd(i, n);
                    self.b.ins().select(neg, wrapped, i)
                };
                let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i2, n);
                let orig = i;
                self.fail_if(
                    oob,
                    |g| {
                        let axis = g.iconst(k as i64);
                        g.call_rt("kiln_index_error", &[g.ctx, orig, axis, n])
                    },
                    site,
                );
                i2
            } else {
                i
            };
            let stride = self.b.ins().load(
                types::I64,
                header_flags(),
                arr,
                ARRAY_STRIDES_OFFSET + 8 * k as i32,
            );
            let term = self.b.ins().imul(i, stride);
            off = Some(match off {
                None => term,
                Some(o) => self.b.ins().iadd(o, term),
            });
        }
        let data = self
            .b
            .ins()
            .load(types::I64, header_flags(), arr, ARRAY_DATA_OFFSET);
        let off = off.unwrap_or_else(|| self.iconst(0));
        let bytes = self.b.ins().imul_imm_s(off, dtype.size() as i64);
        let addr = self.b.ins().iadd(data, bytes);
        self.let_go(mark);
        Ok((addr, dtype, arr, owned))
    }

    // ----- expressions ---------------------------------------------------------------------

    /// Evaluate, borrowing variables' heap references instead of taking new ones. The bool
    /// says whether the caller owns (and must release) the result.
    pub(super) fn expr_borrow(&mut self, e: &Expr) -> Result<(Vals, bool), String> {
        if e.ty.has_heap() {
            match e.kind {
                ExprKind::Var(v) => return Ok((self.read_var(v), false)),
                ExprKind::Global(g) => return Ok((self.read_global(g), false)),
                _ => {}
            }
        }
        Ok((self.expr(e)?, true))
    }

    pub(super) fn read_var(&mut self, v: ir::VarId) -> Vals {
        let vals: Vals = self.vars[v as usize]
            .iter()
            .map(|&x| self.b.use_var(x))
            .collect();
        let ty = &self.func.vars[v as usize].ty;
        if ty.is_heap() && !self.func.params.contains(&v) && !self.defined_vars.contains(&v) {
            let name = self.func.vars[v as usize].name.clone();
            let z = self.b.ins().icmp_imm_s(IntCC::Equal, vals[0], 0);
            let site = self.func.entry_site;
            self.fail_if(
                z,
                |g| {
                    g.raise_msg(
                        ErrorKind::NameError,
                        &format!("local variable '{name}' referenced before assignment"),
                    )
                },
                site,
            );
        }
        vals
    }

    pub(super) fn read_global(&mut self, gid: ir::GlobalId) -> Vals {
        let g = self.prog.globals[gid as usize].clone();
        let (vals, undefined) = match self.frozen.get(&gid) {
            Some(f) => (f.vals.clone(), f.undefined),
            None => {
                let base = self.global_addr(gid);
                let vals = self.load_flat(&g.ty, base);
                let undefined =
                    g.ty.is_heap()
                        .then(|| self.b.ins().icmp_imm_s(IntCC::Equal, vals[0], 0));
                (vals, undefined)
            }
        };
        if let Some(z) = undefined.filter(|_| !self.defined_globals.contains(&gid)) {
            let site = self.func.entry_site;
            self.fail_if(
                z,
                |gg| {
                    gg.raise_msg(
                        ErrorKind::NameError,
                        &format!("name '{}' is not defined", g.name),
                    )
                },
                site,
            );
        }
        vals
    }

    pub(super) fn expr(&mut self, e: &Expr) -> Result<Vals, String> {
        Ok(match &e.kind {
            ExprKind::None => vec![],
            ExprKind::Bool(b) => vec![self.b.ins().iconst(types::I8, *b as i64)],
            ExprKind::Int(v) => vec![self.iconst(*v)],
            ExprKind::Float(v) => vec![match self.fconsts.get(&(v.to_bits(), e.ty == Ty::F32)) {
                Some(&c) => c,
                None => self.float_const(*v, e.ty == Ty::F32),
            }],
            ExprKind::Complex(re, im) => {
                vec![self.b.ins().f64const(*re), self.b.ins().f64const(*im)]
            }
            ExprKind::Str(s) => {
                let (p, n) = self.static_bytes(s);
                vec![self.call_rt1("kiln_str_new", &[p, n])]
            }
            ExprKind::Var(v) => {
                let vals = self.read_var(*v);
                self.incref(&e.ty, &vals);
                vals
            }
            ExprKind::Global(g) => {
                let vals = self.read_global(*g);
                self.incref(&e.ty, &vals);
                vals
            }
            ExprKind::Cast(x) => {
                let v = self.expr(x)?;
                self.cast(&x.ty, &e.ty, v)?
            }
            ExprKind::Unary(op, x) => {
                let v = self.expr(x)?;
                self.unary(*op, &x.ty, v)?
            }
            ExprKind::Binary(op, a, b, site) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                self.binary(*op, &a.ty, x, y, *site)?
            }
            ExprKind::Compare(op, a, b) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                vec![self.compare(*op, &a.ty, &x, &y)?]
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let x = self.expr(a)?;
                let t = self.truth(&a.ty, &x)?;
                let rhs = self.b.create_block();
                let join = self.b.create_block();
                let cts = clif_types(&e.ty);
                for &c in &cts {
                    self.b.append_block_param(join, c);
                }
                let xa: Vec<BlockArg> = x.iter().map(|&v| BlockArg::Value(v)).collect();
                if is_and {
                    self.b.ins().brif(t, rhs, &[], join, &xa);
                } else {
                    self.b.ins().brif(t, join, &xa, rhs, &[]);
                }
                self.b.switch_to_block(rhs);
                let y = self.expr(b)?;
                self.jump(join, &y);
                self.b.switch_to_block(join);
                self.b.block_params(join).to_vec()
            }
            ExprKind::Let(v, x, body) => {
                let val = self.expr(x)?;
                self.store(&Place::Var(*v), val)?;
                self.expr(body)?
            }
            ExprKind::Select(c, a, b) => {
                let cv = self.expr(c)?[0];
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                let join = self.b.create_block();
                for ct in clif_types(&e.ty) {
                    self.b.append_block_param(join, ct);
                }
                self.b.ins().brif(cv, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                let x = self.expr(a)?;
                self.jump(join, &x);
                self.b.switch_to_block(eb);
                let y = self.expr(b)?;
                self.jump(join, &y);
                self.b.switch_to_block(join);
                self.b.block_params(join).to_vec()
            }
            ExprKind::Call { func, args, site } => {
                let mut flat = vec![self.ctx];
                let mut temps = Vec::new();
                let mark = self.held.len();
                for a in args {
                    let (v, owned) = self.expr_borrow(a)?;
                    flat.extend(&v);
                    if owned && a.ty.has_heap() {
                        self.hold(&a.ty, &v);
                        temps.push((a.ty.clone(), v));
                    }
                }
                self.let_go(mark);
                let (fid, _) = &self.ids[*func as usize];
                let fref = self.module.declare_func_in_func(*fid, self.b.func);
                let inst = self.b.ins().call(fref, &flat);
                let rets = self.b.inst_results(inst).to_vec();
                for (t, v) in temps {
                    self.release(&t, &v);
                }
                if *func >= self.pieces_from {
                    self.leave_on_err();
                } else {
                    self.check_err(*site);
                }
                rets
            }
            ExprKind::Builtin { op, args, site } => self.builtin(op, args, &e.ty, *site)?,
            ExprKind::Index { array, index, site } => {
                let (addr, dtype, arr, owned) = self.elem_addr(array, index, *site)?;
                let v = self.load_elem(dtype, addr);
                if owned {
                    self.release(&array.ty, &[arr]);
                }
                v
            }
            ExprKind::Tuple(items) => {
                let mut out = Vec::new();
                let mark = self.held.len();
                for i in items {
                    let v = self.expr(i)?;
                    self.hold(&i.ty, &v);
                    out.extend(v);
                }
                self.let_go(mark);
                out
            }
            ExprKind::Map(m, site) => vec![self.map_new(m, &e.ty, None, *site)?],
            ExprKind::MapReduce(m, op, site) => self.map_reduce(m, *op, &e.ty, *site)?,
            ExprKind::Elem(k) => self
                .map_elems
                .get(*k as usize)
                .cloned()
                .ok_or("Elem outside a map")?,
            ExprKind::MapScalar(k) => self
                .map_scalars
                .get(*k as usize)
                .cloned()
                .ok_or("MapScalar outside a map")?,
            ExprKind::TupleGet(t, k) => {
                let Some(items) = t.ty.items() else {
                    return Err("TupleGet of a non-tuple".into());
                };
                let (vals, owned) = self.expr_borrow(t)?;
                let mut start = 0;
                for it in &items[..*k as usize] {
                    start += clif_types(it).len();
                }
                let item_ty = &items[*k as usize];
                let n = clif_types(item_ty).len();
                let picked = vals[start..start + n].to_vec();
                if owned {
                    // Release every other item of the temporary tuple.
                    let mut pos = 0;
                    for (j, it) in items.iter().enumerate() {
                        let m = clif_types(it).len();
                        if j != *k as usize {
                            self.release(it, &vals[pos..pos + m]);
                        }
                        pos += m;
                    }
                } else {
                    self.incref(item_ty, &picked);
                }
                picked
            }
        })
    }

    pub(super) fn truth(&mut self, t: &Ty, v: &[Value]) -> Result<Value, String> {
        Ok(match t {
            Ty::Bool => v[0],
            Ty::I64 => self.b.ins().icmp_imm_s(IntCC::NotEqual, v[0], 0),
            Ty::F64 | Ty::F32 => {
                let z = self.zero(clif_types(t)[0]);
                self.b.ins().fcmp(FloatCC::NotEqual, v[0], z)
            }
            Ty::C128 => {
                let z = self.b.ins().f64const(0.0);
                let a = self.b.ins().fcmp(FloatCC::NotEqual, v[0], z);
                let b = self.b.ins().fcmp(FloatCC::NotEqual, v[1], z);
                self.b.ins().bor(a, b)
            }
            t => return Err(format!("truth value of a {t} in codegen")),
        })
    }

    pub(super) fn cast(&mut self, from: &Ty, to: &Ty, v: Vals) -> Result<Vals, String> {
        use types::{F32, F64, I64};
        let x = v.first().copied();
        Ok(match (from, to) {
            (a, b) if a == b => v,
            (Ty::Bool, Ty::I64) => vec![self.b.ins().uextend(I64, x.unwrap())],
            (Ty::Bool, Ty::F64) => vec![self.b.ins().fcvt_from_uint(F64, x.unwrap())],
            (Ty::Bool, Ty::F32) => vec![self.b.ins().fcvt_from_uint(F32, x.unwrap())],
            (Ty::I64, Ty::F64) => vec![self.b.ins().fcvt_from_sint(F64, x.unwrap())],
            (Ty::I64, Ty::F32) => vec![self.b.ins().fcvt_from_sint(F32, x.unwrap())],
            (Ty::F64, Ty::I64) | (Ty::F32, Ty::I64) => {
                vec![self.b.ins().fcvt_to_sint_sat(I64, x.unwrap())]
            }
            (Ty::F32, Ty::F64) => vec![self.b.ins().fpromote(F64, x.unwrap())],
            (Ty::F64, Ty::F32) => vec![self.b.ins().fdemote(F32, x.unwrap())],
            (Ty::I64 | Ty::F64 | Ty::F32, Ty::Bool) => vec![self.truth(from, &v)?],
            (Ty::Bool | Ty::I64 | Ty::F32 | Ty::F64, Ty::C128) => {
                let re = self.cast(from, &Ty::F64, v)?[0];
                let im = self.b.ins().f64const(0.0);
                vec![re, im]
            }
            (Ty::C128, Ty::Bool) => vec![self.truth(from, &v)?],
            (f, t) => return Err(format!("no conversion from {f} to {t}")),
        })
    }
}
