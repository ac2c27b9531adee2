//! Whole-array loops: a map's operands and broadcast shape, the odometer over row segments,
//! two-lane (F64X2) bodies where every operand is contiguous, and writes into new or existing
//! arrays.

use super::*;

/// The whole-array loops of a body that may run on the worker pool (all but `@serial` ones).
pub(super) fn collect_maps<'a>(
    body: &'a [Stmt],
    func: usize,
    out: &mut Vec<(usize, &'a ir::ArrayMap, MapKind)>,
) {
    let mut all = Vec::new();
    visit(body, &mut |n| match n {
        Node::Stmt(Stmt::MapInto { dest, map, .. }) => {
            if let Ty::Array { dtype, .. } = dest.ty {
                all.push((func, map, MapKind::Write(dtype)));
            }
        }
        Node::Expr(Expr {
            kind: ExprKind::Map(m, _),
            ty: Ty::Array { dtype, .. },
        }) => all.push((func, &**m, MapKind::Write(*dtype))),
        Node::Expr(Expr {
            kind: ExprKind::MapReduce(m, op, _),
            ..
        }) if matches!(op, ir::Reduce::Sum | ir::Reduce::Mean) && m.body.ty == Ty::F64 => {
            all.push((func, &**m, MapKind::SumF64))
        }
        Node::Expr(Expr {
            kind: ExprKind::MapReduce(m, op, _),
            ty,
        }) => {
            if let Some(rt) = threaded_reduce(*op, &m.body.ty, ty) {
                all.push((func, &**m, MapKind::Reduce(*op, rt)))
            }
        }
        _ => {}
    });
    out.extend(
        all.into_iter()
            .filter(|(_, m, _)| m.threads != ir::MapThreads::Serial),
    );
}

/// Can this map's body run two f64 lanes at a time? (f64 inputs and result, and only
/// operations with a vector instruction.)
pub(super) fn vectorizable(m: &ir::ArrayMap) -> bool {
    fn ok(e: &Expr) -> bool {
        if e.ty != Ty::F64 {
            return false;
        }
        match &e.kind {
            ExprKind::Elem(_) | ExprKind::MapScalar(_) | ExprKind::Float(_) => true,
            ExprKind::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, a, b, _) => {
                ok(a) && ok(b)
            }
            ExprKind::Unary(UnOp::Neg, a) => ok(a),
            ExprKind::Builtin { op, args, .. } if crate::builtins::lanes_f64x2(op) => ok(&args[0]),
            _ => false,
        }
    }
    m.inputs.iter().all(|i| {
        matches!(
            i.ty,
            Ty::Array {
                dtype: DType::F64,
                ..
            }
        )
    }) && ok(&m.body)
}

impl<'a, 'b> Gen<'a, 'b> {
    // ----- whole-array loops ----------------------------------------------------------

    /// Evaluate a map's inputs and scalars; returns (input values, owned flags).
    pub(super) fn map_operands(
        &mut self,
        m: &ir::ArrayMap,
    ) -> Result<(Vec<Value>, Vec<bool>), String> {
        let mut ins = Vec::new();
        let mut owned = Vec::new();
        for i in &m.inputs {
            let (v, o) = self.expr_borrow(i)?;
            if o {
                self.hold(&i.ty, &v);
            }
            ins.push(v[0]);
            owned.push(o);
        }
        let mut scalars = Vec::new();
        for x in &m.scalars {
            scalars.push(self.expr(x)?);
        }
        self.map_scalars = scalars;
        Ok((ins, owned))
    }

    /// Releases the inputs `map_operands` evaluated (and takes them off the held list).
    pub(super) fn release_inputs(&mut self, m: &ir::ArrayMap, ins: &[Value], owned: &[bool]) {
        let n = (m.inputs.iter().zip(owned))
            .filter(|(i, o)| **o && i.ty.has_heap())
            .count();
        self.let_go(self.held.len() - n);
        for (k, i) in m.inputs.iter().enumerate() {
            if owned[k] {
                self.release(&i.ty, &[ins[k]]);
            }
        }
    }

    /// Broadcast shape of the inputs (to the destination's shape if given): the loop's
    /// per-dimension counts, or an error exit.
    pub(crate) fn map_shape(
        &mut self,
        ndim: usize,
        ins: &[Value],
        dest: Option<Value>,
        site: ir::SiteId,
    ) -> (Value, Vec<Value>) {
        let shape = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * ndim.max(1) as u32,
            3,
        ));
        let arrs = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * ins.len().max(1) as u32,
            3,
        ));
        for (k, &a) in ins.iter().enumerate() {
            self.b.ins().stack_store(types::I64, a, arrs, 8 * k as i32);
        }
        let sp = self.b.ins().stack_addr(types::I64, shape, 0);
        let ap = self.b.ins().stack_addr(types::I64, arrs, 0);
        let nd = self.iconst(ndim as i64);
        let n = self.iconst(ins.len() as i64);
        let d = dest.unwrap_or_else(|| self.iconst(0));
        let rc = self.call_rt1("kiln_bcast", &[self.ctx, nd, sp, n, ap, d]);
        self.fail_if(rc, |_| vec![], site);
        let counts = (0..ndim)
            .map(|k| {
                self.b
                    .ins()
                    .stack_load(types::I64, types::I64, shape, 8 * k as i32)
            })
            .collect();
        (sp, counts)
    }

    /// An array as a loop operand over `ndim` dimensions: broadcast axes get stride 0.
    pub(super) fn operand(&mut self, arr: Value, ty: &Ty, ndim: usize) -> Operand {
        let Ty::Array { dtype, ndim: an } = *ty else {
            unreachable!("operand of a non-array")
        };
        let an = an as usize;
        let data = self
            .b
            .ins()
            .load(types::I64, header_flags(), arr, ARRAY_DATA_OFFSET);
        let mut strides = Vec::new();
        for d in 0..ndim {
            if d + an < ndim {
                strides.push(self.iconst(0));
                continue;
            }
            let k = (d + an - ndim) as i32;
            let dim =
                self.b
                    .ins()
                    .load(types::I64, header_flags(), arr, ARRAY_SHAPE_OFFSET + 8 * k);
            let st = self.b.ins().load(
                types::I64,
                header_flags(),
                arr,
                ARRAY_STRIDES_OFFSET + 8 * k,
            );
            let one = self.b.ins().icmp_imm_s(IntCC::Equal, dim, 1);
            let z = self.iconst(0);
            strides.push(self.b.ins().select(one, z, st));
        }
        Operand {
            data,
            dtype,
            strides,
        }
    }

    /// The loop over flat indices `lo..hi` of an index space with these counts (row-major),
    /// giving `f` each operand's element address. It runs row segments: the outer loop
    /// finds where a segment starts (div/mod per dimension, once per row) and polls the
    /// interrupt flag; the inner loop only bumps pointers by each operand's byte stride.
    pub(super) fn odometer(
        &mut self,
        counts: &[Value],
        ops: &[Operand],
        lo: Value,
        hi: Value,
        f: ElemFn<'_, 'a, 'b>,
    ) -> Result<(), String> {
        self.odometer_vec(counts, ops, lo, hi, f, None)
    }

    /// `odometer` with an optional two-lane body: when every operand of a row segment is
    /// contiguous f64 (byte stride 8), pairs of elements go through `vector` (F64X2), the
    /// remainder through `f`.
    pub(super) fn odometer_vec(
        &mut self,
        counts: &[Value],
        ops: &[Operand],
        lo: Value,
        hi: Value,
        f: ElemFn<'_, 'a, 'b>,
        mut vector: Option<ElemFn<'_, 'a, 'b>>,
    ) -> Result<(), String> {
        let n = counts.len();
        let flat = self.b.declare_var(types::I64);
        let j = self.b.declare_var(types::I64);
        let ptrs: Vec<Variable> = ops.iter().map(|_| self.b.declare_var(types::I64)).collect();
        self.b.def_var(flat, lo);
        let outer = self.b.create_block();
        let row = self.b.create_block();
        let inner = self.b.create_block();
        let elem = self.b.create_block();
        let row_end = self.b.create_block();
        let exit = self.b.create_block();
        self.jump(outer, &[]);
        self.b.switch_to_block(outer);
        let fv = self.b.use_var(flat);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, fv, hi);
        self.b.ins().brif(more, row, &[], exit, &[]);
        self.b.switch_to_block(row);
        let mut rest = fv;
        let mut idx = vec![fv; n];
        for d in (0..n).rev() {
            if d == 0 {
                idx[d] = rest;
            } else {
                idx[d] = self.b.ins().srem(rest, counts[d]);
                rest = self.b.ins().sdiv(rest, counts[d]);
            }
        }
        // The segment: to the end of the row, of the range, and at most 64Ki elements (so
        // long 1-D loops still poll the interrupt flag).
        let row_left = self.b.ins().isub(counts[n - 1], idx[n - 1]);
        let range_left = self.b.ins().isub(hi, fv);
        let seg = self.b.ins().smin(row_left, range_left);
        let cap = self.iconst(1 << 16);
        let seg = self.b.ins().smin(seg, cap);
        let mut bstrides = Vec::new();
        for (k, op) in ops.iter().enumerate() {
            let mut off = self.iconst(0);
            for (&i, &st) in idx.iter().zip(&op.strides) {
                let t = self.b.ins().imul(i, st);
                off = self.b.ins().iadd(off, t);
            }
            let size = op.dtype.size() as i64;
            let bytes = self.b.ins().imul_imm_s(off, size);
            let p = self.b.ins().iadd(op.data, bytes);
            self.b.def_var(ptrs[k], p);
            bstrides.push(self.b.ins().imul_imm_s(op.strides[n - 1], size));
        }
        let z = self.iconst(0);
        self.b.def_var(j, z);
        if let Some(vf) = vector.as_mut() {
            let mut contiguous = self.b.ins().iconst(types::I8, 1);
            for &bs in &bstrides {
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, bs, 8);
                contiguous = self.b.ins().band(contiguous, c);
            }
            // Four elements (two pairs) per trip while they fit, then one pair, then scalars.
            let vhead4 = self.b.create_block();
            let vbody4 = self.b.create_block();
            let vhead = self.b.create_block();
            let vbody = self.b.create_block();
            let vcheck = self.b.create_block();
            self.b.ins().brif(contiguous, vhead4, &[], inner, &[]);
            for (head, body, lanes, next) in
                [(vhead4, vbody4, 4i64, vhead), (vhead, vbody, 2, vcheck)]
            {
                self.b.switch_to_block(head);
                let jv = self.b.use_var(j);
                let jn = self.b.ins().iadd_imm_s(jv, lanes);
                let fits = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, jn, seg);
                self.b.ins().brif(fits, body, &[], next, &[]);
                self.b.switch_to_block(body);
                let fl = self.b.use_var(flat);
                for pair in 0..lanes / 2 {
                    let addrs: Vec<Value> = ptrs
                        .iter()
                        .map(|&p| {
                            let pv = self.b.use_var(p);
                            self.b.ins().iadd_imm_s(pv, 16 * pair)
                        })
                        .collect();
                    let jp = self.b.ins().iadd_imm_s(jv, 2 * pair);
                    let here = self.b.ins().iadd(fl, jp);
                    vf(self, &addrs, here)?;
                }
                for &p in &ptrs {
                    let pv = self.b.use_var(p);
                    let p1 = self.b.ins().iadd_imm_s(pv, 8 * lanes);
                    self.b.def_var(p, p1);
                }
                self.b.def_var(j, jn);
                self.jump(head, &[]);
            }
            self.b.switch_to_block(vcheck);
        }
        self.jump(inner, &[]);
        self.b.switch_to_block(inner);
        let jv = self.b.use_var(j);
        let go = self.b.ins().icmp(IntCC::SignedLessThan, jv, seg);
        self.b.ins().brif(go, elem, &[], row_end, &[]);
        self.b.switch_to_block(elem);
        let addrs: Vec<Value> = ptrs.iter().map(|&p| self.b.use_var(p)).collect();
        let here = self.b.ins().iadd(fv, jv);
        f(self, &addrs, here)?;
        for (k, &p) in ptrs.iter().enumerate() {
            let pv = self.b.use_var(p);
            let p1 = self.b.ins().iadd(pv, bstrides[k]);
            self.b.def_var(p, p1);
        }
        let jv = self.b.use_var(j);
        let j1 = self.b.ins().iadd_imm_s(jv, 1);
        self.b.def_var(j, j1);
        self.jump(inner, &[]);
        self.b.switch_to_block(row_end);
        let f1 = self.b.ins().iadd(fv, seg);
        self.b.def_var(flat, f1);
        self.poll_interrupt(0);
        self.jump(outer, &[]);
        self.b.switch_to_block(exit);
        Ok(())
    }

    /// A vectorisable body (see `vectorizable`) on two lanes.
    pub(super) fn vexpr(&mut self, e: &Expr) -> Result<Value, String> {
        let v2 = types::F64X2;
        Ok(match &e.kind {
            ExprKind::Elem(k) => self.map_velems[*k as usize],
            ExprKind::MapScalar(k) => match self.map_vscalars.get(*k as usize) {
                Some(&v) => v,
                None => {
                    let x = self.map_scalars[*k as usize][0];
                    self.b.ins().splat(v2, x)
                }
            },
            ExprKind::Float(v) => match self.map_vconsts.get(&v.to_bits()) {
                Some(&c) => c,
                None => {
                    let x = self.float_const(*v, false);
                    self.b.ins().splat(v2, x)
                }
            },
            ExprKind::Binary(op, a, b, _) => {
                let (x, y) = (self.vexpr(a)?, self.vexpr(b)?);
                match op {
                    BinOp::Add => self.b.ins().fadd(x, y),
                    BinOp::Sub => self.b.ins().fsub(x, y),
                    BinOp::Mul => self.fmul_or_double(x, y),
                    _ => self.b.ins().fdiv(x, y),
                }
            }
            ExprKind::Unary(_, a) => {
                let x = self.vexpr(a)?;
                self.b.ins().fneg(x)
            }
            ExprKind::Builtin { op, args, .. } => {
                let x = self.vexpr(&args[0])?;
                crate::builtins::math_f64x2(self, op, x)
            }
            _ => return Err("vexpr of a non-vectorisable expression".into()),
        })
    }

    /// Load the function's float constants (a dozen at most, so they do not crowd the
    /// registers) as pure loads that Cranelift places out of loops; an `f64const` would be
    /// rebuilt in every iteration.
    pub(super) fn prepare_scalar_consts(&mut self, body: &[Stmt]) {
        let mut found: Vec<(u64, bool)> = Vec::new();
        visit(body, &mut |n| {
            if let Node::Expr(
                e @ Expr {
                    kind: ExprKind::Float(v),
                    ..
                },
            ) = n
            {
                let v = *v;
                let key = (v.to_bits(), e.ty == Ty::F32);
                if !found.contains(&key) && found.len() < 12 {
                    found.push(key);
                }
            }
        });
        if found.is_empty() {
            return;
        }
        // Loads rooted at the context parameter are pure values computed from the entry
        // block, so Cranelift hoists them out of every loop, also where this function is
        // inlined into a caller's loop. An address constant is rematerialised at each use,
        // pinning the load inside the loop; an argument-less `symbol_value` is hoisted only
        // one loop up from its first use (once inlined: into the caller's loop).
        let ro = MemFlagsData::trusted().with_readonly().with_can_move();
        let table = self
            .b
            .ins()
            .load(types::I64, ro, self.ctx, CTX_CONSTS_OFFSET);
        for (bits, is32) in found {
            let word = if is32 {
                u64::from((f64::from_bits(bits) as f32).to_bits())
            } else {
                bits
            };
            let k = match self.consts.iter().position(|&w| w == word) {
                Some(k) => k,
                None => {
                    self.consts.push(word);
                    self.consts.len() - 1
                }
            };
            let t = if is32 { types::F32 } else { types::F64 };
            let c = self.b.ins().load(t, ro, table, (8 * k) as i32);
            self.fconsts.insert((bits, is32), c);
        }
    }

    /// Make the splatted constants and scalars of a vectorisable body, before its loop.
    pub(super) fn prepare_vector_consts(&mut self, m: &ir::ArrayMap) {
        fn floats(e: &Expr, out: &mut Vec<f64>) {
            match &e.kind {
                ExprKind::Float(v) => out.push(*v),
                ExprKind::Binary(_, a, b, _) => {
                    floats(a, out);
                    floats(b, out);
                }
                ExprKind::Unary(_, a) => floats(a, out),
                ExprKind::Builtin { args, .. } => args.iter().for_each(|a| floats(a, out)),
                _ => {}
            }
        }
        let mut vals = Vec::new();
        floats(&m.body, &mut vals);
        self.map_vconsts.clear();
        // Plain loads (not `can_move`) stay where they are, before the loop, and their
        // results stay in registers; pure splats would be sunk back into the loop.
        let fixed = MemFlagsData::trusted();
        for v in vals {
            if !self.map_vconsts.contains_key(&v.to_bits()) {
                let mut bytes = Vec::with_capacity(16);
                bytes.extend_from_slice(&v.to_le_bytes());
                bytes.extend_from_slice(&v.to_le_bytes());
                let bytes: Box<[u8]> = bytes.into();
                let addr = bytes.as_ptr() as i64;
                self.strings.push(bytes);
                let p = self.iconst(addr);
                let c = self
                    .b
                    .ins()
                    .load(types::F64X2, MemFlagsData::new().with_notrap(), p, 0);
                self.map_vconsts.insert(v.to_bits(), c);
            }
        }
        let scalars = self.map_scalars.clone();
        self.map_vscalars = scalars
            .iter()
            .map(|x| {
                if x.len() == 1 && self.b.func.dfg.value_type(x[0]) == types::F64 {
                    let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                        StackSlotKind::ExplicitSlot,
                        16,
                        4,
                    ));
                    self.b.ins().stack_store(types::I64, x[0], slot, 0);
                    self.b.ins().stack_store(types::I64, x[0], slot, 8);
                    let p = self.b.ins().stack_addr(types::I64, slot, 0);
                    self.b.ins().load(types::F64X2, fixed, p, 0)
                } else {
                    x[0]
                }
            })
            .collect();
    }

    /// Evaluate a vectorisable map's body for two elements at each input address.
    pub(super) fn map_body_vec(
        &mut self,
        m: &ir::ArrayMap,
        addrs: &[Value],
    ) -> Result<Value, String> {
        let flags = MemFlagsData::new().with_notrap();
        let elems: Vec<Value> = (0..m.inputs.len())
            .map(|k| self.b.ins().load(types::F64X2, flags, addrs[k], 0))
            .collect();
        let saved = std::mem::replace(&mut self.map_velems, elems);
        let v = self.vexpr(&m.body);
        self.map_velems = saved;
        v
    }

    /// Evaluate a map's body for the elements at `addrs` (inputs first).
    pub(super) fn map_body(
        &mut self,
        m: &ir::ArrayMap,
        ops: &[Operand],
        addrs: &[Value],
    ) -> Result<Vals, String> {
        let mut elems = Vec::new();
        for (k, op) in ops.iter().enumerate().take(m.inputs.len()) {
            elems.push(self.load_elem(op.dtype, addrs[k]));
        }
        let saved = std::mem::replace(&mut self.map_elems, elems);
        let v = self.expr(&m.body);
        self.map_elems = saved;
        v
    }

    /// Materialise a map into a new array (or into `reuse` when that is allowed).
    pub(super) fn map_new(
        &mut self,
        m: &ir::ArrayMap,
        ty: &Ty,
        reuse: Option<Value>,
        site: ir::SiteId,
    ) -> Result<Value, String> {
        let Ty::Array { dtype, .. } = *ty else {
            return Err("map of a non-array type".into());
        };
        let ndim = m.ndim as usize;
        let (ins, owned) = self.map_operands(m)?;
        let (shape, counts) = self.map_shape(ndim, &ins, None, site);
        let old = reuse.unwrap_or_else(|| self.iconst(0));
        let dt = self.iconst(dtype as i64);
        let nd = self.iconst(ndim as i64);
        let out = self.call_rt1("kiln_reuse_or_new", &[self.ctx, old, dt, nd, shape]);
        self.check_null(out, site);
        let out_mark = self.held.len();
        self.hold(ty, &[out]);
        let mut ops: Vec<Operand> = m
            .inputs
            .iter()
            .zip(&ins)
            .map(|(i, &a)| self.operand(a, &i.ty, ndim))
            .collect();
        ops.push(self.operand(out, ty, ndim));
        let total = self.product(&counts);
        self.map_write(m, &counts, &ops, total, dtype, site)?;
        self.let_go(out_mark);
        self.release_inputs(m, &ins, &owned);
        Ok(out)
    }

    pub(super) fn product(&mut self, counts: &[Value]) -> Value {
        let mut total = self.iconst(1);
        for &c in counts {
            total = self.b.ins().imul(total, c);
        }
        total
    }

    /// All of a map's elements written to the last operand: on the worker pool when there
    /// are enough of them, else on this thread.
    pub(super) fn map_write(
        &mut self,
        m: &ir::ArrayMap,
        counts: &[Value],
        ops: &[Operand],
        total: Value,
        dtype: DType,
        site: ir::SiteId,
    ) -> Result<(), String> {
        let zero = self.iconst(0);
        let Some(fid) = self
            .map_fns
            .get(&(m as *const ir::ArrayMap as usize))
            .copied()
        else {
            return self.map_loop(m, counts, ops, zero, total, dtype);
        };
        let join = self.b.create_block();
        let (par_b, ser_b) = self.branch_on_size(m, total);
        self.b.switch_to_block(par_b);
        self.run_par_map(fid, counts, ops, total, ParResult::Nothing, site);
        self.jump(join, &[]);
        self.b.switch_to_block(ser_b);
        self.map_loop(m, counts, ops, zero, total, dtype)?;
        self.jump(join, &[]);
        self.b.switch_to_block(join);
        Ok(())
    }

    /// The loop writing a map's elements `lo..hi` to the last operand (of `dtype`),
    /// two lanes at a time where the body allows it.
    pub(super) fn map_loop(
        &mut self,
        m: &ir::ArrayMap,
        counts: &[Value],
        ops: &[Operand],
        lo: Value,
        hi: Value,
        dtype: DType,
    ) -> Result<(), String> {
        let nin = m.inputs.len();
        let mut scalar = |g: &mut Self, addrs: &[Value], _: Value| {
            let v = g.map_body(m, ops, addrs)?;
            g.store_elem(dtype, addrs[nin], &v);
            Ok(())
        };
        let mut vector = |g: &mut Self, addrs: &[Value], _: Value| {
            let v = g.map_body_vec(m, addrs)?;
            g.b.ins()
                .store(MemFlagsData::new().with_notrap(), v, addrs[nin], 0);
            Ok(())
        };
        let vec_ok = vectorizable(m) && dtype == DType::F64;
        if vec_ok {
            self.prepare_vector_consts(m);
        }
        self.odometer_vec(
            counts,
            ops,
            lo,
            hi,
            &mut scalar,
            if vec_ok { Some(&mut vector) } else { None },
        )
    }

    /// `dest[...] = map`, through a temporary when an input may share memory with dest.
    pub(super) fn map_into(
        &mut self,
        dest: &Expr,
        m: &ir::ArrayMap,
        site: ir::SiteId,
    ) -> Result<(), String> {
        let Ty::Array { dtype, ndim: dn } = dest.ty else {
            return Err("map into a non-array".into());
        };
        let ndim = dn as usize;
        let (dv, downed) = self.expr_borrow(dest)?;
        let d = dv[0];
        let dest_mark = self.held.len();
        if downed {
            self.hold(&dest.ty, &dv);
        }
        self.mark_host_written(d);
        let (ins, owned) = self.map_operands(m)?;
        let (_, counts) = self.map_shape(ndim, &ins, Some(d), site);
        let mut overlap = self.iconst(0);
        for &a in &ins {
            let o = self.call_rt1("kiln_may_overlap", &[d, a]);
            overlap = self.b.ins().bor(overlap, o);
        }
        let mut total = self.iconst(1);
        for &c in &counts {
            total = self.b.ins().imul(total, c);
        }
        let zero = self.iconst(0);
        let via_tmp = self.b.create_block();
        let direct = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(overlap, via_tmp, &[], direct, &[]);
        // Direct: compute straight into the destination.
        self.b.switch_to_block(direct);
        let mut ops: Vec<Operand> = m
            .inputs
            .iter()
            .zip(&ins)
            .map(|(i, &a)| self.operand(a, &i.ty, ndim))
            .collect();
        ops.push(self.operand(d, &dest.ty, ndim));
        self.map_write(m, &counts, &ops, total, dtype, site)?;
        self.jump(done, &[]);
        // Overlapping: compute into a temporary of the destination's shape, then copy.
        self.b.switch_to_block(via_tmp);
        let shape = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * ndim as u32,
            3,
        ));
        for (k, &c) in counts.iter().enumerate() {
            self.b.ins().stack_store(types::I64, c, shape, 8 * k as i32);
        }
        let sp = self.b.ins().stack_addr(types::I64, shape, 0);
        let dt = self.iconst(dtype as i64);
        let nd = self.iconst(ndim as i64);
        let tmp = self.call_rt1("kiln_reuse_or_new", &[self.ctx, zero, dt, nd, sp]);
        self.check_null(tmp, site);
        let tmp_mark = self.held.len();
        self.hold(&dest.ty, &[tmp]);
        let mut ops: Vec<Operand> = m
            .inputs
            .iter()
            .zip(&ins)
            .map(|(i, &a)| self.operand(a, &i.ty, ndim))
            .collect();
        ops.push(self.operand(tmp, &dest.ty, ndim));
        self.map_loop(m, &counts, &ops, zero, total, dtype)?;
        let copy = vec![
            self.operand(tmp, &dest.ty, ndim),
            self.operand(d, &dest.ty, ndim),
        ];
        self.odometer(&counts, &copy, zero, total, &mut |g, addrs, _| {
            let v = g.load_elem(dtype, addrs[0]);
            g.store_elem(dtype, addrs[1], &v);
            Ok(())
        })?;
        self.let_go(tmp_mark);
        self.call_rt("kiln_decref", &[tmp]);
        self.jump(done, &[]);
        self.b.switch_to_block(done);
        self.release_inputs(m, &ins, &owned);
        self.let_go(dest_mark);
        if downed {
            self.release(&dest.ty, &[d]);
        }
        Ok(())
    }
}
