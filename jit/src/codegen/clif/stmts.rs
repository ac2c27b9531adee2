//! Statements: blocks, stores to variables, globals and array elements, and `print`.

use super::*;

impl<'a, 'b> Gen<'a, 'b> {
    // ----- statements ----------------------------------------------------------------------

    pub(super) fn block(&mut self, body: &[Stmt]) -> Result<(), String> {
        for s in body {
            if let Stmt::Line(site) = s {
                // The site's number is the source location: `%%asm` maps it back to a line.
                self.b
                    .set_srcloc(cranelift_codegen::ir::SourceLoc::new(*site));
                continue;
            }
            self.ensure_open();
            self.stmt(s)?;
        }
        Ok(())
    }

    pub(super) fn stmt(&mut self, s: &Stmt) -> Result<(), String> {
        match s {
            Stmt::Assign { place, value } => {
                let v = match (&value.kind, place) {
                    // `y = <array expression>` writes into y's array when y holds its only
                    // reference and it has the result's dtype and shape.
                    (ExprKind::Map(m, site), Place::Var(_) | Place::Global(_)) => {
                        let old = self.read_place(place)[0];
                        vec![self.map_new(m, &value.ty, Some(old), *site)?]
                    }
                    _ => self.expr(value)?,
                };
                self.store(place, v)?;
            }
            Stmt::MapInto { dest, map, site } => self.map_into(dest, map, *site)?,
            Stmt::Line(_) => {}
            Stmt::Eval(e) => {
                let v = self.expr(e)?;
                self.release(&e.ty, &v);
            }
            Stmt::If { cond, then, els } => {
                let c = self.expr(cond)?[0];
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                let join = self.b.create_block();
                self.b.ins().brif(c, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                self.block(then)?;
                if !self.terminated() {
                    self.jump(join, &[]);
                }
                self.b.switch_to_block(eb);
                self.block(els)?;
                if !self.terminated() {
                    self.jump(join, &[]);
                }
                self.b.switch_to_block(join);
            }
            Stmt::While { cond, body } => {
                let head = self.b.create_block();
                let bodyb = self.b.create_block();
                let latch = self.b.create_block();
                let exit = self.b.create_block();
                self.jump(head, &[]);
                self.b.switch_to_block(head);
                let c = self.expr(cond)?[0];
                self.b.ins().brif(c, bodyb, &[], exit, &[]);
                self.b.switch_to_block(bodyb);
                self.loops.push((latch, exit));
                self.block(body)?;
                self.loops.pop();
                if !self.terminated() {
                    self.jump(latch, &[]);
                }
                self.b.switch_to_block(latch);
                self.poll_interrupt(0);
                self.jump(head, &[]);
                self.b.switch_to_block(exit);
            }
            Stmt::For {
                vars,
                ranges,
                body,
                site,
                par,
                target,
            } => match par {
                Some(p) if *target == crate::syntax::ast::Target::Gpu => {
                    self.gpu_for(ranges, p, *site)?
                }
                Some(p) => self.par_for(ranges, p, *site)?,
                None => self.for_loop(vars, ranges, body, *site)?,
            },
            Stmt::Break => {
                let (_, brk) = *self.loops.last().ok_or("break outside loop")?;
                self.jump(brk, &[]);
            }
            Stmt::Continue => {
                let (cont, _) = *self.loops.last().ok_or("continue outside loop")?;
                self.jump(cont, &[]);
            }
            Stmt::Return(e) => {
                let v = match e {
                    Some(e) => self.expr(e)?,
                    None => vec![],
                };
                self.jump(self.exit, &v);
            }
            Stmt::Print {
                args,
                sep,
                end,
                stderr,
            } => {
                let stream = self.iconst(*stderr as i64);
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        self.write_opt(sep.as_ref(), " ", stream)?;
                    }
                    let s = self.format_expr(a, "", false, 0)?;
                    self.call_rt("kiln_write_str", &[self.ctx, stream, s]);
                    self.call_rt("kiln_decref", &[s]);
                }
                self.write_opt(end.as_ref(), "\n", stream)?;
            }
        }
        Ok(())
    }

    pub(super) fn write_opt(
        &mut self,
        e: Option<&Expr>,
        default: &str,
        stream: Value,
    ) -> Result<(), String> {
        match e {
            Some(e) => {
                let (v, owned) = self.expr_borrow(e)?;
                self.call_rt("kiln_write_str", &[self.ctx, stream, v[0]]);
                if owned {
                    self.release(&Ty::Str, &v);
                }
            }
            None => {
                let (p, n) = self.static_bytes(default);
                self.call_rt("kiln_write", &[self.ctx, stream, p, n]);
            }
        }
        Ok(())
    }

    /// Current value of a variable or global place (numeric; no reference taken).
    pub(super) fn read_place(&mut self, p: &Place) -> Vals {
        match p {
            Place::Var(v) => self.vars[*v as usize]
                .iter()
                .map(|&x| self.b.use_var(x))
                .collect(),
            Place::Global(g) => {
                let ty = self.prog.globals[*g as usize].ty.clone();
                let base = self.global_addr(*g);
                self.load_flat(&ty, base)
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn global_addr(&mut self, g: ir::GlobalId) -> Value {
        let addr = self.prog.globals[g as usize].addr as i64;
        self.iconst(addr)
    }

    pub(super) fn load_flat(&mut self, t: &Ty, base: Value) -> Vals {
        clif_types(t)
            .into_iter()
            .enumerate()
            .map(|(k, ct)| {
                self.b
                    .ins()
                    .load(ct, MemFlagsData::trusted(), base, (8 * k) as i32)
            })
            .collect()
    }

    pub(super) fn store_flat(&mut self, vals: &[Value], base: Value) {
        for (k, &v) in vals.iter().enumerate() {
            self.b
                .ins()
                .store(MemFlagsData::trusted(), v, base, (8 * k) as i32);
        }
    }

    /// Store an owned value into a place (the place's old value is released).
    pub(super) fn store(&mut self, place: &Place, v: Vals) -> Result<(), String> {
        match place {
            Place::Var(id) => {
                let ty = self.func.vars[*id as usize].ty.clone();
                let vars = self.vars[*id as usize].clone();
                let old: Vals = vars.iter().map(|&x| self.b.use_var(x)).collect();
                for (var, val) in vars.into_iter().zip(v) {
                    self.b.def_var(var, val);
                }
                self.release(&ty, &old);
            }
            Place::Global(g) => {
                let ty = self.prog.globals[*g as usize].ty.clone();
                let base = self.global_addr(*g);
                let old = self.load_flat(&ty, base);
                self.store_flat(&v, base);
                self.release(&ty, &old);
            }
            Place::Elem { array, index, site } => {
                let (addr, dtype, arr, owned) = self.elem_addr(array, index, *site)?;
                self.store_elem(dtype, addr, &v);
                self.mark_host_written(arr);
                if owned {
                    self.release(&array.ty, &[arr]);
                }
            }
            Place::Tuple(items) => {
                let mut k = 0;
                for p in items {
                    let n = clif_types(&self.place_ty(p)).len();
                    self.store(p, v[k..k + n].to_vec())?;
                    k += n;
                }
            }
        }
        Ok(())
    }

    pub(super) fn place_ty(&self, p: &Place) -> Ty {
        match p {
            Place::Var(v) => self.func.vars[*v as usize].ty.clone(),
            Place::Global(g) => self.prog.globals[*g as usize].ty.clone(),
            Place::Elem { array, .. } => match array.ty {
                Ty::Array { dtype, .. } => Ty::from_dtype(dtype),
                _ => Ty::None,
            },
            Place::Tuple(items) => Ty::tuple(items.iter().map(|p| self.place_ty(p)).collect()),
        }
    }
}
