//! A function's frame: its entry and exit sequence, the recursion-depth counter, constants,
//! error exits (`fail_if`, `check_err`) and reference counting of heap values.

use super::*;

impl<'a, 'b> Gen<'a, 'b> {
    /// Loads the address of the session's interrupt flag from `ctx`. The address never
    /// changes while code runs, so the load is pure to Cranelift: an unused one (an inlined
    /// leaf that polls nothing) disappears, and repeated ones merge.
    pub(super) fn load_interrupt_flag_addr(&mut self) {
        let ro = MemFlagsData::trusted().with_readonly().with_can_move();
        self.interrupt = self
            .b
            .ins()
            .load(types::I64, ro, self.ctx, CTX_INTERRUPT_OFFSET);
    }

    pub(super) fn function(&mut self) -> Result<(), String> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.ctx = self.b.block_params(entry)[0];
        let params: Vec<Value> = self.b.block_params(entry)[1..].to_vec();
        // Every variable starts as zero (null for arrays and strings, so exit decrefs are safe).
        for (k, v) in self.func.vars.iter().enumerate() {
            let mut vs = Vec::new();
            if !self.declares(k) {
                self.vars.push(vs);
                continue;
            }
            for t in clif_types(&v.ty) {
                let var = self.b.declare_var(t);
                let z = self.zero(t);
                self.b.def_var(var, z);
                vs.push(var);
            }
            self.vars.push(vs);
        }
        let mut k = 0;
        for &p in &self.func.params {
            let ty = self.func.vars[p as usize].ty.clone();
            let n = clif_types(&ty).len();
            let vals = params[k..k + n].to_vec();
            k += n;
            // Parameters are borrowed from the caller; the callee owns its locals.
            self.incref(&ty, &vals);
            for (var, v) in self.vars[p as usize].clone().into_iter().zip(vals) {
                self.b.def_var(var, v);
            }
        }
        self.load_interrupt_flag_addr();
        let body = self.func.body.as_slice();
        self.prepare_scalar_consts(body);
        self.exit = self.b.create_block();
        for t in clif_types(&self.func.ret) {
            self.b.append_block_param(self.exit, t);
        }
        self.err_block = self.b.create_block();
        self.b.set_cold_block(self.err_block);
        self.depth_counted = self.counts_depth();
        if self.depth_counted {
            // Recursion depth: a RecursionError instead of a stack overflow.
            let d = self.b.ins().load(
                types::I64,
                MemFlagsData::trusted(),
                self.ctx,
                CTX_DEPTH_OFFSET,
            );
            let d1 = self.b.ins().iadd_imm_s(d, 1);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), d1, self.ctx, CTX_DEPTH_OFFSET);
            let max = self.b.ins().load(
                types::I64,
                MemFlagsData::trusted(),
                self.ctx,
                CTX_MAX_DEPTH_OFFSET,
            );
            let over = self.b.ins().icmp(IntCC::SignedGreaterThan, d1, max);
            let site = self.func.entry_site;
            self.fail_if(over, |g| g.call_rt("kiln_raise_recursion", &[g.ctx]), site);
        }
        let body = &self.func.body;
        self.block(body)?;
        if !self.terminated() {
            let zeros = self.zeros_of(&self.func.ret.clone());
            self.jump(self.exit, &zeros);
        }
        // Error exit: zero results (the caller looks at ctx.err, not at them). It has its own
        // copy of the exit sequence, marked, so that where this function is inlined the error
        // path can jump straight to the caller's (see `inline::thread_error_exits`).
        self.b.switch_to_block(self.err_block);
        self.b
            .ins()
            .iconst(types::I64, crate::codegen::inline::ERR_EXIT_MARK);
        let zeros = self.zeros_of(&self.func.ret.clone());
        self.exit_sequence(&zeros);
        // The normal exit.
        self.b.switch_to_block(self.exit);
        let rets: Vals = self.b.block_params(self.exit).to_vec();
        self.exit_sequence(&rets);
        self.b.seal_all_blocks();
        Ok(())
    }

    /// Whether this function has variable `k` (a piece of a cell has only those it uses).
    pub(super) fn declares(&self, k: usize) -> bool {
        self.only_vars.is_none_or(|vars| vars.contains(&(k as u32)))
    }

    /// Whether this function counts its calls towards the recursion limit. A function that
    /// calls no user function cannot recurse, and runs at most one frame past the limit, so
    /// it does not (that is six memory operations less per call of a small hot helper).
    pub(super) fn counts_depth(&self) -> bool {
        if self.is_entry {
            return false;
        }
        let mut calls = false;
        visit(&self.func.body, &mut |n| {
            calls |= matches!(
                n,
                Node::Expr(Expr {
                    kind: ExprKind::Call { .. },
                    ..
                })
            );
        });
        calls
    }

    /// Release the locals, restore the recursion depth, return `rets`.
    pub(super) fn exit_sequence(&mut self, rets: &[Value]) {
        for (k, v) in self.func.vars.iter().enumerate() {
            if v.ty.has_heap() && self.declares(k) {
                let vals: Vals = self.vars[k]
                    .iter()
                    .map(|&var| self.b.use_var(var))
                    .collect();
                let t = v.ty.clone();
                self.release(&t, &vals);
            }
        }
        if self.depth_counted {
            let d = self.b.ins().load(
                types::I64,
                MemFlagsData::trusted(),
                self.ctx,
                CTX_DEPTH_OFFSET,
            );
            let d1 = self.b.ins().iadd_imm_s(d, -1);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), d1, self.ctx, CTX_DEPTH_OFFSET);
        }
        self.b.ins().return_(rets);
    }

    // ----- small helpers -------------------------------------------------------------------

    pub(super) fn terminated(&self) -> bool {
        let Some(block) = self.b.current_block() else {
            return true;
        };
        match self.b.func.layout.last_inst(block) {
            Some(inst) => self.b.func.dfg.insts[inst].opcode().is_terminator(),
            None => false,
        }
    }

    /// Make sure there is an open block to emit into (after `break`/`return`, code is dead).
    pub(super) fn ensure_open(&mut self) {
        if self.terminated() {
            let dead = self.b.create_block();
            self.b.switch_to_block(dead);
        }
    }

    pub(super) fn jump(&mut self, block: cranelift_codegen::ir::Block, args: &[Value]) {
        let a: Vec<BlockArg> = args.iter().map(|&v| BlockArg::Value(v)).collect();
        self.b.ins().jump(block, &a);
    }

    /// A float constant, loaded from memory the unit owns: Cranelift rematerialises
    /// `f64const` inside every loop iteration, while a read-only load can be hoisted out of
    /// the loop or folded into the arithmetic instruction.
    pub(crate) fn float_const(&mut self, v: f64, f32: bool) -> Value {
        let bytes: Box<[u8]> = if f32 {
            Box::new((v as f32).to_le_bytes())
        } else {
            Box::new(v.to_le_bytes())
        };
        let addr = bytes.as_ptr() as i64;
        self.strings.push(bytes);
        let p = self.iconst(addr);
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        self.b
            .ins()
            .load(if f32 { types::F32 } else { types::F64 }, flags, p, 0)
    }

    pub(crate) fn zero(&mut self, t: types::Type) -> Value {
        match t {
            types::F64 => self.b.ins().f64const(0.0),
            types::F32 => self.b.ins().f32const(0.0),
            t => self.b.ins().iconst(t, 0),
        }
    }

    pub(super) fn zeros_of(&mut self, t: &Ty) -> Vals {
        clif_types(t).into_iter().map(|c| self.zero(c)).collect()
    }

    pub(crate) fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// Static bytes the code can point at (kept alive by the `Compiled` unit).
    pub(crate) fn static_bytes(&mut self, s: &str) -> (Value, Value) {
        let bytes: Box<[u8]> = s.as_bytes().into();
        let p = bytes.as_ptr() as i64;
        let n = bytes.len() as i64;
        self.strings.push(bytes);
        (self.iconst(p), self.iconst(n))
    }

    /// If `cond` is true: run `raise` (which records the error), add `site` to the trace and
    /// leave through the error exit.
    pub(crate) fn fail_if(
        &mut self,
        cond: Value,
        raise: impl FnOnce(&mut Self) -> Vals,
        site: ir::SiteId,
    ) {
        let bad = self.b.create_block();
        let ok = self.b.create_block();
        self.b.set_cold_block(bad);
        // (The order of the two targets used to matter: the published Cranelift 0.135
        // elaborator stops hoisting out of a loop after visiting an error path like `bad`.
        // The patched one in third_party/ does not; `thread_error_exits` expects this shape.)
        let fine = self.b.ins().icmp_imm_s(IntCC::Equal, cond, 0);
        self.b.ins().brif(fine, ok, &[], bad, &[]);
        self.b.switch_to_block(bad);
        raise(self);
        let held = std::mem::take(&mut self.held);
        for (t, v) in held.iter().rev() {
            self.release(t, v);
        }
        self.held = held;
        let s = self.iconst(site as i64);
        self.call_rt("kiln_trace", &[self.ctx, s]);
        self.b.ins().jump(self.err_block, &[]);
        self.b.switch_to_block(ok);
    }

    /// Keeps an owned temporary on the list an error exit releases (see `held`).
    pub(super) fn hold(&mut self, t: &Ty, v: &[Value]) {
        if t.has_heap() {
            self.held.push((t.clone(), v.to_vec()));
        }
    }

    /// Takes the temporaries held since `mark` off the list (the code releases them itself).
    pub(super) fn let_go(&mut self, mark: usize) {
        self.held.truncate(mark);
    }

    pub(crate) fn raise_msg(&mut self, kind: ErrorKind, msg: &str) -> Vals {
        let k = self.iconst(kind as i64);
        let (p, n) = self.static_bytes(msg);
        self.call_rt("kiln_raise_msg", &[self.ctx, k, p, n])
    }

    /// After a call that may have failed: leave if `ctx.err` is set.
    pub(crate) fn check_err(&mut self, site: ir::SiteId) {
        let e = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.ctx,
            CTX_ERR_OFFSET,
        );
        self.fail_if(e, |_| vec![], site);
    }

    /// After a call whose failure already carries every frame: leave if `ctx.err` is set.
    pub(crate) fn leave_on_err(&mut self) {
        let e = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.ctx,
            CTX_ERR_OFFSET,
        );
        let ok = self.b.create_block();
        self.b.ins().brif(e, self.err_block, &[], ok, &[]);
        self.b.switch_to_block(ok);
    }

    /// After a runtime call returning a new object: null means it failed.
    pub(crate) fn check_null(&mut self, v: Value, site: ir::SiteId) {
        let z = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
        self.fail_if(z, |_| vec![], site);
    }

    pub(super) fn heap_leaves(t: &Ty, out: &mut Vec<(usize, bool)>, base: &mut usize) {
        match t {
            Ty::Tuple(items) => items.iter().for_each(|i| Self::heap_leaves(i, out, base)),
            Ty::Optional(t) => {
                *base += 1;
                Self::heap_leaves(t, out, base)
            }
            t => {
                let n = clif_types(t).len();
                if t.is_heap() {
                    out.push((*base, true));
                }
                *base += n;
            }
        }
    }

    pub(super) fn refcount(&mut self, t: &Ty, vals: &[Value], name: &'static str) {
        if !t.has_heap() {
            return;
        }
        let mut leaves = Vec::new();
        Self::heap_leaves(t, &mut leaves, &mut 0);
        for (k, _) in leaves {
            self.call_rt(name, &[vals[k]]);
        }
    }

    pub(super) fn incref(&mut self, t: &Ty, vals: &[Value]) {
        self.refcount(t, vals, "kiln_incref");
    }

    pub(super) fn release(&mut self, t: &Ty, vals: &[Value]) {
        self.refcount(t, vals, "kiln_decref");
    }
}
