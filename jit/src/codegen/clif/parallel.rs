//! Parallel loops: a `@par` body outlined into `fn(ctx, env, lo, hi, red)`, its environment
//! packed on the parent's stack, globals read once per chunk, and the chunk loop.

use super::*;

/// Parallel loops of a body, in program order (nested ones were lowered as serial).
pub(super) fn collect_par_loops<'a>(
    body: &'a [Stmt],
    func: usize,
    out: &mut Vec<(usize, &'a Stmt)>,
) {
    visit(body, &mut |n| {
        // A `@gpu` loop is a kernel launch, not an outlined body.
        if let Node::Stmt(
            s @ Stmt::For {
                par: Some(_),
                target,
                ..
            },
        ) = n
        {
            if *target != crate::syntax::ast::Target::Gpu {
                out.push((func, s));
            }
        }
    });
}

/// A global read once at the entry of an outlined parallel loop body.
pub(super) struct FrozenGlobal {
    pub(super) vals: Vals,
    /// For a heap value: whether the slot was null (the global is undefined).
    pub(super) undefined: Option<Value>,
}

/// Zeroed memory the size of any object header: what a frozen heap global that is undefined
/// points at, so that header loads hoisted above its NameError check read zeros, not null.
#[repr(align(64))]
pub(super) struct NullStandIn(pub(super) [u64; 32]);

pub(super) static NULL_STAND_IN: NullStandIn = NullStandIn([0; 32]);

const _: () = assert!(
    std::mem::size_of::<NullStandIn>() >= std::mem::size_of::<kiln_runtime::array::Array>()
);

/// The globals a parallel loop's body reads that nothing can write while it runs: the rules
/// of parallel loops forbid the body to assign an outer name it also reads (private names are
/// locals of the outlined function), and the cell itself waits for the loop. What is left is
/// a global the body assigns anyway, or one that a user function (`global x`) assigns, as the
/// body may call it; those are read where they are used. The others are read once per chunk,
/// so a global like the image width or the image itself is not reloaded for every pixel.
pub(super) fn frozen_globals(
    by_functions: &std::collections::HashSet<ir::GlobalId>,
    body: &[Stmt],
) -> Vec<ir::GlobalId> {
    use std::collections::HashSet;
    let mut written = by_functions.clone();
    assigned_places(body, &mut |p: &Place| {
        if let Place::Global(g) = p {
            written.insert(*g);
        }
    });
    let mut read = HashSet::new();
    visit(body, &mut |n| {
        if let Node::Expr(Expr {
            kind: ExprKind::Global(g),
            ..
        }) = n
        {
            read.insert(*g);
        }
    });
    let mut frozen: Vec<ir::GlobalId> = read.difference(&written).copied().collect();
    frozen.sort_unstable();
    frozen
}

impl<'a, 'b> Gen<'a, 'b> {
    /// Word offsets of every variable of the function in a parallel loop's environment,
    /// and the total (the loop's start/step/count per dimension follow the variables).
    pub(super) fn env_layout(&self) -> (Vec<usize>, usize) {
        let mut offs = Vec::new();
        let mut n = 0;
        for v in &self.func.vars {
            offs.push(n);
            n += clif_types(&v.ty).len();
        }
        (offs, n)
    }

    /// A parallel loop in its parent: pack the environment, call the runtime, combine.
    pub(super) fn par_for(
        &mut self,
        ranges: &[ir::Range],
        par: &ir::ParInfo,
        site: ir::SiteId,
    ) -> Result<(), String> {
        let dims = self.loop_bounds(ranges, site)?;
        let mut total = self.iconst(1);
        for &(_, _, c) in &dims {
            total = self.b.ins().imul(total, c);
        }
        let (env, _) = self.pack_loop_env(&dims);
        let (ops, tys, io) = self.pack_reductions(par)?;
        let lanes = self.lane_fns.get(&par.id).map(|l| l.1);
        let body = lanes.unwrap_or(self.par_fns[&par.id]);
        let fref = self.module.declare_func_in_func(body, self.b.func);
        let faddr = self.b.ins().func_addr(types::I64, fref);
        let envp = self.b.ins().stack_addr(types::I64, env, 0);
        let opsp = self.b.ins().stack_addr(types::I64, ops, 0);
        let tysp = self.b.ins().stack_addr(types::I64, tys, 0);
        let iop = self.b.ins().stack_addr(types::I64, io, 0);
        let nr = self.iconst(par.reductions.len() as i64);
        let rc = if lanes.is_some() {
            let granule = self.iconst(super::lanes::lanes() as i64);
            self.call_rt1(
                "kiln_par_for_lanes",
                &[self.ctx, faddr, envp, total, nr, opsp, tysp, iop, granule],
            )
        } else {
            self.call_rt1(
                "kiln_par_for",
                &[self.ctx, faddr, envp, total, nr, opsp, tysp, iop],
            )
        };
        self.fail_if(rc, |_| vec![], site);
        self.unpack_reductions(par, io)
    }

    /// A parallel loop's environment on the stack: every variable of the function, then
    /// (start, step, count) per dimension. Returns the slot and the word where the
    /// dimensions start.
    pub(super) fn pack_loop_env(&mut self, dims: &[(Value, Value, Value)]) -> (StackSlot, usize) {
        let (offs, nwords) = self.env_layout();
        let env_words = nwords + 3 * dims.len();
        let env = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * env_words.max(1) as u32,
            3,
        ));
        for (v, vars) in self.vars.clone().iter().enumerate() {
            for (j, &var) in vars.iter().enumerate() {
                let val = self.b.use_var(var);
                self.b
                    .ins()
                    .stack_store(types::I64, val, env, 8 * (offs[v] + j) as i32);
            }
        }
        for (d, &(start, step, count)) in dims.iter().enumerate() {
            let base = 8 * (nwords + 3 * d) as i32;
            self.b.ins().stack_store(types::I64, start, env, base);
            self.b.ins().stack_store(types::I64, step, env, base + 8);
            self.b.ins().stack_store(types::I64, count, env, base + 16);
        }
        (env, nwords)
    }

    /// The reductions' operator and type codes, and their values before the loop (the
    /// runtime leaves the combined values in the same slot).
    pub(super) fn pack_reductions(
        &mut self,
        par: &ir::ParInfo,
    ) -> Result<(StackSlot, StackSlot, StackSlot), String> {
        let nred = par.reductions.len();
        let red_words: usize = par.reductions.iter().map(|r| r.ty.slots()).sum();
        let slot = |g: &mut Self, words: usize| {
            g.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                8 * words.max(1) as u32,
                3,
            ))
        };
        let ops = slot(self, nred);
        let tys = slot(self, nred);
        let io = slot(self, red_words);
        let mut w = 0;
        for (r, red) in par.reductions.iter().enumerate() {
            let op = self.iconst(red.op as i64);
            let tc = self.iconst(red_type_code(&red.ty)?);
            self.b.ins().stack_store(types::I64, op, ops, 8 * r as i32);
            self.b.ins().stack_store(types::I64, tc, tys, 8 * r as i32);
            let cur = self.read_place(&red.outer);
            for v in cur {
                self.b.ins().stack_store(types::I64, v, io, 8 * w);
                w += 1;
            }
        }
        Ok((ops, tys, io))
    }

    /// Store the combined reductions into their outer places.
    pub(super) fn unpack_reductions(
        &mut self,
        par: &ir::ParInfo,
        io: StackSlot,
    ) -> Result<(), String> {
        let mut w = 0;
        for red in &par.reductions {
            let vals: Vals = clif_types(&red.ty)
                .into_iter()
                .map(|ct| {
                    let v = self.b.ins().stack_load(types::I64, ct, io, 8 * w);
                    w += 1;
                    v
                })
                .collect();
            self.store(&red.outer, vals)?;
        }
        Ok(())
    }

    /// The outlined body of a parallel loop: `fn(ctx, env, lo, hi, red)` runs the
    /// iterations `lo..hi` of the flattened index space, one at a time or (`lanes`) in
    /// vector lanes.
    pub(super) fn outlined(&mut self, st: &Stmt, lanes: bool) -> Result<(), String> {
        let Stmt::For {
            vars,
            ranges,
            body,
            par: Some(par),
            site,
            ..
        } = st
        else {
            return Err("outlining a non-parallel loop".into());
        };
        // The outlined body's setup belongs to the loop header's line (`%%asm`).
        self.b
            .set_srcloc(cranelift_codegen::ir::SourceLoc::new(*site));
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let p = self.b.block_params(entry).to_vec();
        let (env, lo, hi, red) = (p[1], p[2], p[3], p[4]);
        self.ctx = p[0];
        // Plain loads in the entry block stay there (a pure load would be placed at its
        // first use, and its address constant, rematerialized there, would keep it inside
        // the loops); what the body computes from these values hoists as usual.
        for g in frozen_globals(self.globals_by_functions, body) {
            let ty = self.prog.globals[g as usize].ty.clone();
            let base = self.global_addr(g);
            let mut vals = self.load_flat(&ty, base);
            let mut undefined = None;
            if ty.is_heap() {
                // A global never assigned holds null, and NameError is raised where it is
                // read. Header loads (which may move) would be hoisted above that check, to
                // here: they read a zeroed stand-in header instead of address 0.
                let (p, z) = self.stand_in_if_null(vals[0]);
                vals[0] = p;
                undefined = Some(z);
            }
            self.frozen.insert(g, FrozenGlobal { vals, undefined });
        }
        let mut private = std::collections::HashSet::new();
        assigned_vars(body, &mut private);
        for v in vars {
            if let Place::Var(id) = v {
                private.insert(*id);
            }
        }
        for r in &par.reductions {
            private.insert(r.acc);
        }
        let (offs, nwords) = self.env_layout();
        let ro = MemFlagsData::trusted().with_readonly().with_can_move();
        for (k, v) in self.func.vars.iter().enumerate() {
            let mut vs = Vec::new();
            if !self.declares(k) {
                self.vars.push(vs);
                continue;
            }
            for (j, t) in clif_types(&v.ty).into_iter().enumerate() {
                let var = self.b.declare_var(t);
                // Captured variables are read-only copies (heap ones borrowed, not owned);
                // private ones start from zero in every chunk.
                let val = if private.contains(&(k as u32)) {
                    self.zero(t)
                } else {
                    self.b.ins().load(t, ro, env, 8 * (offs[k] + j) as i32)
                };
                self.b.def_var(var, val);
                vs.push(var);
            }
            self.vars.push(vs);
        }
        let mut w = 0;
        for r in &par.reductions {
            let vars = self.vars[r.acc as usize].clone();
            for (var, ct) in vars.into_iter().zip(clif_types(&r.ty)) {
                let v = self.b.ins().load(ct, MemFlagsData::trusted(), red, 8 * w);
                self.b.def_var(var, v);
                w += 1;
            }
        }
        self.load_interrupt_flag_addr();
        self.prepare_scalar_consts(body);
        self.exit = self.b.create_block();
        self.err_block = self.b.create_block();
        self.b.set_cold_block(self.err_block);
        let n = ranges.len();
        let mut dims = Vec::new();
        for d in 0..n {
            let base = 8 * (nwords + 3 * d) as i32;
            let start = self.b.ins().load(types::I64, ro, env, base);
            let step = self.b.ins().load(types::I64, ro, env, base + 8);
            let count = self.b.ins().load(types::I64, ro, env, base + 16);
            dims.push((start, step, count));
        }
        if lanes {
            let lane_fns = self.lane_fns;
            let plan = &lane_fns[&par.id].0;
            let replay = self.par_fns[&par.id];
            self.lane_chunk_loop(
                plan, vars, body, par, *site, &dims, lo, hi, env, replay, &private,
            )?;
            return self.outlined_exit(par, &private, red);
        }
        // With a lane body, this one only replays a failed lane's iteration: no copy
        // without checks.
        let replay_only = self.lane_fns.contains_key(&par.id);
        let proven = if replay_only {
            Vec::new()
        } else {
            self.versionable(vars, body).unwrap_or_default()
        };
        if !proven.is_empty() {
            // Every counter's whole range, from which each chunk takes a part: the first
            // value is `start`, the last `start + step * (count - 1)`, and the step must be
            // positive.
            let mut spans = Vec::new();
            let mut up = None;
            for &(start, step, count) in &dims {
                let steps = self.b.ins().iadd_imm_s(count, -1);
                let span = self.b.ins().imul(step, steps);
                let last = self.b.ins().iadd(start, span);
                spans.push((start, last));
                let pos = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, step, 0);
                up = Some(match up {
                    None => pos,
                    Some(u) => self.b.ins().band(u, pos),
                });
            }
            let in_range = self.in_range_before_loop(&proven, &spans)?;
            let in_range = match up {
                Some(u) => self.b.ins().band(in_range, u),
                None => in_range,
            };
            self.versioned(in_range, &proven, |g| {
                g.chunk_loop(vars, ranges, body, *site, &dims, lo, hi)
            })?;
        }
        self.chunk_loop(vars, ranges, body, *site, &dims, lo, hi)?;
        self.outlined_exit(par, &private, red)
    }

    /// The end of an outlined body: the error exit joins the normal one, the accumulators
    /// go to the reduction buffer, private heap values are released.
    fn outlined_exit(
        &mut self,
        par: &ir::ParInfo,
        private: &std::collections::HashSet<ir::VarId>,
        red: Value,
    ) -> Result<(), String> {
        self.b.switch_to_block(self.err_block);
        self.jump(self.exit, &[]);
        self.b.switch_to_block(self.exit);
        let mut w = 0;
        for r in &par.reductions {
            let vars = self.vars[r.acc as usize].clone();
            for var in vars {
                let v = self.b.use_var(var);
                self.b.ins().store(MemFlagsData::trusted(), v, red, 8 * w);
                w += 1;
            }
        }
        for (k, v) in self.func.vars.iter().enumerate() {
            if v.ty.has_heap() && private.contains(&(k as u32)) {
                let vals: Vals = self.vars[k].iter().map(|&x| self.b.use_var(x)).collect();
                let t = v.ty.clone();
                self.release(&t, &vals);
            }
        }
        self.b.ins().return_(&[]);
        self.b.seal_all_blocks();
        Ok(())
    }

    /// The loop over one chunk `[lo, hi)` of a parallel loop's flat index space, from the
    /// current block to `self.exit`. `dims` holds each counter's (start, step, count).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn chunk_loop(
        &mut self,
        vars: &[Place],
        ranges: &[ir::Range],
        body: &[Stmt],
        site: ir::SiteId,
        dims: &[(Value, Value, Value)],
        lo: Value,
        hi: Value,
    ) -> Result<(), String> {
        let n = dims.len();
        // Split `lo` into per-dimension indices (row-major, the last fastest).
        let idx: Vec<Variable> = (0..n).map(|_| self.b.declare_var(types::I64)).collect();
        let mut rest = lo;
        for d in (0..n).rev() {
            if d == 0 {
                self.b.def_var(idx[d], rest);
            } else {
                let c = dims[d].2;
                let r = self.b.ins().srem(rest, c);
                self.b.def_var(idx[d], r);
                rest = self.b.ins().sdiv(rest, c);
            }
        }
        let k = self.b.declare_var(types::I64);
        self.b.def_var(k, lo);
        let head = self.b.create_block();
        let bodyb = self.b.create_block();
        let latch = self.b.create_block();
        self.jump(head, &[]);
        self.b.switch_to_block(head);
        let kv = self.b.use_var(k);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, kv, hi);
        self.b.ins().brif(more, bodyb, &[], self.exit, &[]);
        self.b.switch_to_block(bodyb);
        for d in 0..n {
            let Place::Var(cv) = vars[d] else {
                return Err("parallel loop counter".into());
            };
            let i = self.b.use_var(idx[d]);
            let scaled = self.b.ins().imul(i, dims[d].1);
            let val = self.b.ins().iadd(dims[d].0, scaled);
            let var = self.vars[cv as usize][0];
            self.b.def_var(var, val);
        }
        self.loops.push((latch, self.exit));
        self.loop_body(nonneg_counters(vars, ranges, body), body)?;
        self.loops.pop();
        if !self.terminated() {
            self.jump(latch, &[]);
        }
        // Next iteration: bump the flat counter and carry through the indices.
        self.b.switch_to_block(latch);
        let kv = self.b.use_var(k);
        let k1 = self.b.ins().iadd_imm_s(kv, 1);
        self.b.def_var(k, k1);
        self.poll_interrupt(site);
        for d in (0..n).rev() {
            let i = self.b.use_var(idx[d]);
            let i1 = self.b.ins().iadd_imm_s(i, 1);
            if d == 0 {
                self.b.def_var(idx[d], i1);
                self.jump(head, &[]);
            } else {
                let wrap = self
                    .b
                    .ins()
                    .icmp(IntCC::SignedGreaterThanOrEqual, i1, dims[d].2);
                let z = self.iconst(0);
                let nv = self.b.ins().select(wrap, z, i1);
                self.b.def_var(idx[d], nv);
                let carry = self.b.create_block();
                self.b.ins().brif(wrap, carry, &[], head, &[]);
                self.b.switch_to_block(carry);
            }
        }
        Ok(())
    }
}
