//! Whole-array loops and reductions on the worker pool: the outlined map body and the
//! parent's call to `kiln_par_for` with the map's operands.

use super::*;

/// What an outlined whole-array loop does with its range of elements.
#[derive(Clone, Copy, Debug)]
pub(super) enum MapKind {
    /// Write elements to the last operand (a new array or a destination) of this dtype.
    Write(DType),
    /// Sum f64 elements into the reduction buffer (pairwise within the range).
    SumF64,
    /// Sum, multiply, or take the min or max of i64 elements, or the min or max of floats,
    /// into the reduction buffer: exact in any grouping (integer arithmetic wraps, as
    /// NumPy's does; a float min or max picks one of the elements).
    Reduce(ir::Reduce, RedTy),
}

/// What a threaded whole-array loop gives back to the code that started it.
#[derive(Clone, Copy)]
pub(super) enum ParResult {
    Nothing,
    /// The f64 sum in NumPy's pairwise order.
    PairwiseSum,
    /// An exact reduction (`MapKind::Reduce`).
    Reduce(ir::Reduce, RedTy),
}

pub(super) enum Job<'a> {
    Func,
    ParLoop(&'a Stmt),
    /// The same loop's body in vector lanes (`lanes.rs`).
    LaneLoop(&'a Stmt),
    Map(&'a ir::ArrayMap, MapKind),
}

/// Whole-array loops below this many elements stay on the calling thread (the pool's
/// wake-up costs more than a second core saves).
/// Measured with bench/par_threshold.sh on an idle 16-core Xeon with 2 worker threads:
/// parallel wins from 2^19 elements on (0.67x the serial time), loses below (1.17x at 2^18).
pub const PAR_MAP_THRESHOLD: i64 = 1 << 19;

impl<'a, 'b> Gen<'a, 'b> {
    /// Run an outlined whole-array loop over `0..total` on the worker pool. For a pairwise
    /// sum or an integer reduction, returns the combined value (else a dummy 0).
    pub(super) fn run_par_map(
        &mut self,
        fid: FuncId,
        counts: &[Value],
        ops: &[Operand],
        total: Value,
        how: ParResult,
        site: ir::SiteId,
    ) -> Value {
        let ndim = counts.len();
        let scalars: Vec<Value> = self.map_scalars.iter().flatten().copied().collect();
        let words = ndim + ops.len() * (1 + ndim) + scalars.len();
        let env = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * words as u32,
            3,
        ));
        let mut w = 0;
        let mut put = |g: &mut Self, v: Value| {
            g.b.ins().stack_store(types::I64, v, env, 8 * w);
            w += 1;
        };
        for &c in counts {
            put(self, c);
        }
        for op in ops {
            put(self, op.data);
            for &st in &op.strides {
                put(self, st);
            }
        }
        for &x in &scalars {
            put(self, x);
        }
        // A sum runs over the nodes of NumPy's pairwise tree (one node per iteration), each
        // summed exactly as NumPy sums it; the node sums are then combined in the tree's
        // order, so the threaded result equals the serial one bit for bit.
        let mut nodes = None;
        let sum = matches!(how, ParResult::PairwiseSum);
        if sum {
            let table = self.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                16 * MAX_PW_NODES as u32,
                3,
            ));
            let sums = self.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                8 * MAX_PW_NODES as u32,
                3,
            ));
            let tp = self.b.ins().stack_addr(types::I64, table, 0);
            let sp = self.b.ins().stack_addr(types::I64, sums, 0);
            let maxn = self.iconst(MAX_PW_NODES);
            let count = self.call_rt1("kiln_pw_nodes", &[total, maxn, tp]);
            nodes = Some((count, tp, sp));
        }
        let extra = if sum { 2 } else { 0 };
        let env2 = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * (words + extra).max(1) as u32,
            3,
        ));
        for k in 0..words {
            let v = self
                .b
                .ins()
                .stack_load(types::I64, types::I64, env, 8 * k as i32);
            self.b.ins().stack_store(types::I64, v, env2, 8 * k as i32);
        }
        if let Some((_, tp, sp)) = nodes {
            self.b
                .ins()
                .stack_store(types::I64, tp, env2, 8 * words as i32);
            self.b
                .ins()
                .stack_store(types::I64, sp, env2, 8 * (words + 1) as i32);
        }
        let env = env2;
        let one = |g: &mut Self, v: i64| {
            let slot =
                g.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3));
            let c = g.iconst(v);
            g.b.ins().stack_store(types::I64, c, slot, 0);
            (slot, g.b.ins().stack_addr(types::I64, slot, 0))
        };
        // An integer reduction is the runtime's one reduction (each chunk's partial combined
        // in chunk order, starting from `init`); the other kinds use none.
        let (red_op, init, nred) = match how {
            ParResult::Reduce(op, rt) => {
                let (red_op, init) = reduce_op(op, rt);
                (red_op, init, 1)
            }
            _ => (ir::RedOp::Add, 0, 0),
        };
        let (_, opsp) = one(self, red_op as i64);
        let red_ty = match how {
            ParResult::Reduce(_, rt) => rt.ty(),
            _ => Ty::I64,
        };
        let ty_code = red_type_code(&red_ty).unwrap_or(1);
        let (_, tysp) = one(self, ty_code);
        let (io, iop) = one(self, init);
        let fref = self.module.declare_func_in_func(fid, self.b.func);
        let faddr = self.b.ins().func_addr(types::I64, fref);
        let envp = self.b.ins().stack_addr(types::I64, env, 0);
        let nred = self.iconst(nred);
        let maxn_value = self.iconst(MAX_PW_NODES);
        let iterations = nodes.map(|(c, _, _)| c).unwrap_or(total);
        let rc = self.call_rt1(
            "kiln_par_for",
            &[self.ctx, faddr, envp, iterations, nred, opsp, tysp, iop],
        );
        self.fail_if(rc, |_| vec![], site);
        match (nodes, how) {
            (Some((_, _, sp)), _) => self.call_rt1("kiln_pw_combine", &[total, maxn_value, sp]),
            (None, ParResult::Reduce(_, rt)) => {
                self.b.ins().stack_load(types::I64, rt.clif(), io, 0)
            }
            (None, _) => self.iconst(0),
        }
    }

    /// The outlined body of a whole-array loop: `fn(ctx, env, lo, hi, red)` does elements
    /// `lo..hi` (the environment holds the counts, each operand's data and strides, and the
    /// scalar operands).
    pub(super) fn outlined_map(&mut self, m: &ir::ArrayMap, kind: MapKind) -> Result<(), String> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let p = self.b.block_params(entry).to_vec();
        // A map writes or sums through `env`; an integer reduction also uses the reduction
        // buffer (p[4]).
        let (env, lo, hi) = (p[1], p[2], p[3]);
        self.ctx = p[0];
        self.load_interrupt_flag_addr();
        self.exit = self.b.create_block();
        self.err_block = self.b.create_block();
        self.b.set_cold_block(self.err_block);
        let ro = MemFlagsData::trusted().with_readonly().with_can_move();
        let ndim = m.ndim as usize;
        let mut w = 0;
        let mut get = |g: &mut Self, t: types::Type| {
            let v = g.b.ins().load(t, ro, env, 8 * w);
            w += 1;
            v
        };
        let counts: Vec<Value> = (0..ndim).map(|_| get(self, types::I64)).collect();
        let mut dtypes: Vec<DType> = m
            .inputs
            .iter()
            .map(|i| match i.ty {
                Ty::Array { dtype, .. } => dtype,
                _ => DType::F64,
            })
            .collect();
        if let MapKind::Write(d) = kind {
            dtypes.push(d);
        }
        let mut ops = Vec::new();
        for d in dtypes {
            let data = get(self, types::I64);
            let strides = (0..ndim).map(|_| get(self, types::I64)).collect();
            ops.push(Operand {
                data,
                dtype: d,
                strides,
            });
        }
        let mut scalars = Vec::new();
        for x in &m.scalars {
            let vals: Vals = clif_types(&x.ty)
                .into_iter()
                .map(|t| get(self, t))
                .collect();
            scalars.push(vals);
        }
        self.map_scalars = scalars;
        match kind {
            MapKind::Write(d) => self.map_loop(m, &counts, &ops, lo, hi, d)?,
            MapKind::SumF64 => {
                // Iterations are pairwise-tree nodes: (start, len) from the table; each
                // node's sum goes to its slot.
                let table = get(self, types::I64);
                let sums = get(self, types::I64);
                let k = self.b.declare_var(types::I64);
                self.b.def_var(k, lo);
                let head = self.b.create_block();
                let body = self.b.create_block();
                let done = self.b.create_block();
                self.jump(head, &[]);
                self.b.switch_to_block(head);
                let kv = self.b.use_var(k);
                let more = self.b.ins().icmp(IntCC::SignedLessThan, kv, hi);
                self.b.ins().brif(more, body, &[], done, &[]);
                self.b.switch_to_block(body);
                let kv = self.b.use_var(k);
                let off = self.b.ins().imul_imm_s(kv, 16);
                let ent = self.b.ins().iadd(table, off);
                let start = self
                    .b
                    .ins()
                    .load(types::I64, MemFlagsData::trusted(), ent, 0);
                let len = self
                    .b
                    .ins()
                    .load(types::I64, MemFlagsData::trusted(), ent, 8);
                let end = self.b.ins().iadd(start, len);
                let s = self.pairwise_range(m, &counts, &ops, start, end, false)?;
                let kv = self.b.use_var(k);
                let off = self.b.ins().imul_imm_s(kv, 8);
                let slot = self.b.ins().iadd(sums, off);
                self.b.ins().store(MemFlagsData::trusted(), s, slot, 0);
                let k1 = self.b.ins().iadd_imm_s(kv, 1);
                self.b.def_var(k, k1);
                self.jump(head, &[]);
                self.b.switch_to_block(done);
            }
            MapKind::Reduce(op, rt) => {
                // This chunk's partial goes to its slot of the reduction buffer.
                let red = p[4];
                let acc = self.b.declare_var(rt.clif());
                let identity = reduce_op(op, rt).1;
                let init = match rt {
                    RedTy::I64 => self.iconst(identity),
                    RedTy::F64 => self.b.ins().f64const(f64::from_bits(identity as u64)),
                    RedTy::F32 => self.b.ins().f32const(f32::from_bits(identity as u32)),
                };
                self.b.def_var(acc, init);
                let walk = ops.clone();
                self.odometer(&counts, &walk, lo, hi, &mut |g, addrs, _| {
                    let v = g.map_body(m, &ops, addrs)?;
                    let cur = g.b.use_var(acc);
                    let new = match rt {
                        RedTy::I64 => g.int_reduce_step(op, cur, v[0])?,
                        _ => g.min_max_step(op, &rt.ty(), cur, v[0]),
                    };
                    g.b.def_var(acc, new);
                    Ok(())
                })?;
                let r = self.b.use_var(acc);
                self.b.ins().store(MemFlagsData::trusted(), r, red, 0);
            }
        }
        self.jump(self.exit, &[]);
        self.b.switch_to_block(self.err_block);
        self.jump(self.exit, &[]);
        self.b.switch_to_block(self.exit);
        self.b.ins().return_(&[]);
        self.b.seal_all_blocks();
        Ok(())
    }
}
