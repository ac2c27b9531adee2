//! Reductions of whole-array expressions: NumPy's pairwise order for float sums, exact
//! integer reductions, NumPy's NaN rule for float minima and maxima, and the branch to the
//! worker pool above the threshold.

use super::*;

/// The element type of a threaded reduction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum RedTy {
    I64,
    F64,
    F32,
}

/// How many nodes of NumPy's pairwise tree a threaded sum is split into (at most).
pub(super) const MAX_PW_NODES: i64 = 64;

/// Whether a reduction of elements of type `elem` to a result of type `result` may run on
/// the worker pool because any grouping gives the same result: i64 sums, products, minima
/// and maxima, and float minima and maxima. (f64 sums go by NumPy's pairwise tree instead.)
pub(super) fn threaded_reduce(op: ir::Reduce, elem: &Ty, result: &Ty) -> Option<RedTy> {
    use ir::Reduce as R;
    if elem != result {
        return None;
    }
    match (op, RedTy::of(elem)?) {
        (R::Sum | R::Prod | R::Min | R::Max, RedTy::I64) => Some(RedTy::I64),
        (R::Min | R::Max, rt) => Some(rt),
        _ => None,
    }
}

/// The combine operator of the parallel runtime for a threaded reduction, and where each
/// chunk's accumulation starts (the operator's identity, as the word the buffer holds).
pub(super) fn reduce_op(op: ir::Reduce, rt: RedTy) -> (ir::RedOp, i64) {
    use ir::Reduce as R;
    let float = |x64: f64| match rt {
        RedTy::F32 => (x64 as f32).to_bits() as i64,
        _ => x64.to_bits() as i64,
    };
    match (op, rt) {
        (R::Min, RedTy::I64) => (ir::RedOp::Min, i64::MAX),
        (R::Max, RedTy::I64) => (ir::RedOp::Max, i64::MIN),
        (R::Min, _) => (ir::RedOp::NpMin, float(f64::INFINITY)),
        (R::Max, _) => (ir::RedOp::NpMax, float(f64::NEG_INFINITY)),
        (R::Prod, _) => (ir::RedOp::Mul, 1),
        _ => (ir::RedOp::Add, 0),
    }
}

impl<'a, 'b> Gen<'a, 'b> {
    /// A reduction over a map without materialising it. Float sums follow NumPy's pairwise
    /// order block by block, so they equal `np.sum` of the materialised array bit for bit.
    pub(super) fn map_reduce(
        &mut self,
        m: &ir::ArrayMap,
        op: ir::Reduce,
        ty: &Ty,
        site: ir::SiteId,
    ) -> Result<Vals, String> {
        use ir::Reduce as R;
        let ndim = m.ndim as usize;
        let (ins, owned) = self.map_operands(m)?;
        let (_, counts) = self.map_shape(ndim, &ins, None, site);
        let ops: Vec<Operand> = m
            .inputs
            .iter()
            .zip(&ins)
            .map(|(i, &a)| self.operand(a, &i.ty, ndim))
            .collect();
        let ops2: Vec<Operand> = ops.clone();
        let mut total = self.iconst(1);
        for &c in &counts {
            total = self.b.ins().imul(total, c);
        }
        let zero = self.iconst(0);
        let elem_ty = m.body.ty.clone();
        let result: Vals = match (op, &elem_ty) {
            (R::Sum | R::Mean, Ty::F64 | Ty::F32) => {
                let is32 = elem_ty == Ty::F32;
                let s = match self
                    .map_fns
                    .get(&(m as *const ir::ArrayMap as usize))
                    .copied()
                {
                    // Large f64 sums: chunks summed pairwise on the workers, combined in order.
                    Some(_) if !is32 => {
                        let how = ParResult::PairwiseSum;
                        let join =
                            self.threaded_above_threshold(m, &counts, &ops2, total, how, site);
                        let r = self.pairwise_range(m, &counts, &ops2, zero, total, false)?;
                        self.jump(join, &[r]);
                        self.b.switch_to_block(join);
                        self.b.block_params(join)[0]
                    }
                    _ => self.pairwise_range(m, &counts, &ops2, zero, total, is32)?,
                };
                let s = if is32 {
                    self.b.ins().fdemote(types::F32, s)
                } else {
                    s
                };
                if op == R::Mean {
                    let n = if is32 {
                        self.b.ins().fcvt_from_sint(types::F32, total)
                    } else {
                        self.b.ins().fcvt_from_sint(types::F64, total)
                    };
                    vec![self.b.ins().fdiv(s, n)]
                } else {
                    vec![s]
                }
            }
            _ => {
                // Sequential accumulation (exact for integers, min/max, and any/all).
                let acc_ty = ty.clone();
                let cts = clif_types(&acc_ty);
                let accs: Vec<Variable> = cts.iter().map(|&t| self.b.declare_var(t)).collect();
                if matches!(op, R::Min | R::Max) {
                    let empty = self.b.ins().icmp_imm_s(IntCC::Equal, total, 0);
                    let name = if op == R::Min { "minimum" } else { "maximum" };
                    let msg = format!(
                        "zero-size array to reduction operation {name} which has no identity"
                    );
                    self.fail_if(empty, |g| g.raise_msg(ErrorKind::ValueError, &msg), site);
                }
                // Large exact reductions (`threaded_reduce`): partials of fixed chunks on the
                // workers, combined in chunk order, the same result in any grouping.
                let outlined = self
                    .map_fns
                    .contains_key(&(m as *const ir::ArrayMap as usize));
                let threaded = match threaded_reduce(op, &elem_ty, &acc_ty) {
                    Some(rt) if outlined => {
                        let how = ParResult::Reduce(op, rt);
                        Some(self.threaded_above_threshold(m, &counts, &ops2, total, how, site))
                    }
                    _ => None,
                };
                let init: Vals = match op {
                    R::Prod => {
                        let one = ir::Expr::new(ExprKind::Int(1), Ty::I64);
                        let v = self.expr(&one)?;
                        self.cast(&Ty::I64, &acc_ty, v)?
                    }
                    R::Min | R::Max => {
                        // Start from the operator's identity (the array is not empty here):
                        // every element then compares against it, NaN included.
                        let is_min = op == R::Min;
                        vec![match &acc_ty {
                            Ty::F64 => self.b.ins().f64const(if is_min {
                                f64::INFINITY
                            } else {
                                f64::NEG_INFINITY
                            }),
                            Ty::F32 => self.b.ins().f32const(if is_min {
                                f32::INFINITY
                            } else {
                                f32::NEG_INFINITY
                            }),
                            Ty::I64 => self.iconst(if is_min { i64::MAX } else { i64::MIN }),
                            _ => self.b.ins().iconst(types::I8, is_min as i64),
                        }]
                    }
                    _ => cts.iter().map(|&t| self.zero(t)).collect(),
                };
                for (a, v) in accs.iter().zip(init) {
                    self.b.def_var(*a, v);
                }
                let acc_ty2 = acc_ty.clone();
                let et = elem_ty.clone();
                self.odometer(&counts, &ops2, zero, total, &mut |g, addrs, _| {
                    let v = g.map_body(m, &ops, addrs)?;
                    let v = if et != acc_ty2 && matches!(op, R::Sum | R::Prod | R::Mean) {
                        g.cast(&et, &acc_ty2, v)?
                    } else {
                        v
                    };
                    let cur: Vals = accs.iter().map(|&a| g.b.use_var(a)).collect();
                    let new = match op {
                        R::Sum | R::Mean => g.binary(BinOp::Add, &acc_ty2, cur, v, 0)?,
                        R::Prod => g.binary(BinOp::Mul, &acc_ty2, cur, v, 0)?,
                        R::Min | R::Max => vec![g.min_max_step(op, &acc_ty2, cur[0], v[0])],
                    };
                    for (a, v) in accs.iter().zip(new) {
                        g.b.def_var(*a, v);
                    }
                    Ok(())
                })?;
                let mut r: Vals = accs.iter().map(|&a| self.b.use_var(a)).collect();
                if let Some(join) = threaded {
                    self.jump(join, &r);
                    self.b.switch_to_block(join);
                    r = vec![self.b.block_params(join)[0]];
                }
                if op == R::Mean {
                    // Integer and complex means: sum / n in f64 (complex: both parts).
                    let n = self.b.ins().fcvt_from_sint(types::F64, total);
                    match &acc_ty {
                        Ty::C128 => vec![self.b.ins().fdiv(r[0], n), self.b.ins().fdiv(r[1], n)],
                        _ => r,
                    }
                } else {
                    r
                }
            }
        };
        self.release_inputs(m, &ins, &owned);
        Ok(result)
    }

    /// NumPy's pairwise sum of a map's elements `lo..hi` (as f64; f32 sums in f32).
    pub(super) fn pairwise_range(
        &mut self,
        m: &ir::ArrayMap,
        counts: &[Value],
        ops: &[Operand],
        lo: Value,
        hi: Value,
        is32: bool,
    ) -> Result<Value, String> {
        let w = if is32 { 4 } else { 8 };
        let f32flag = self.iconst(is32 as i64);
        let n = self.b.ins().isub(hi, lo);
        let plan = self.call_rt1("kiln_pw_begin", &[n, f32flag]);
        if vectorizable(m) && !is32 {
            self.prepare_vector_consts(m);
        }
        let buf = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * crate::codegen::support::PW_BLOCK as u32,
            4,
        ));
        let cur =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 3));
        let head = self.b.create_block();
        let leaf = self.b.create_block();
        let done = self.b.create_block();
        self.jump(head, &[]);
        self.b.switch_to_block(head);
        let lop = self.b.ins().stack_addr(types::I64, cur, 0);
        let lenp = self.b.ins().stack_addr(types::I64, cur, 8);
        let more = self.call_rt1("kiln_pw_next", &[plan, lop, lenp]);
        self.b.ins().brif(more, leaf, &[], done, &[]);
        self.b.switch_to_block(leaf);
        let rel = self.b.ins().stack_load(types::I64, types::I64, cur, 0);
        let start = self.b.ins().iadd(lo, rel);
        let len = self.b.ins().stack_load(types::I64, types::I64, cur, 8);
        let end = self.b.ins().iadd(start, len);
        let bufp = self.b.ins().stack_addr(types::I64, buf, 0);
        let mut scalar = |g: &mut Self, addrs: &[Value], flat: Value| {
            let v = g.map_body(m, ops, addrs)?;
            let r = g.b.ins().isub(flat, start);
            let off = g.b.ins().imul_imm_s(r, w);
            let a = g.b.ins().iadd(bufp, off);
            g.b.ins().store(MemFlagsData::trusted(), v[0], a, 0);
            Ok(())
        };
        let mut vector = |g: &mut Self, addrs: &[Value], flat: Value| {
            let v = g.map_body_vec(m, addrs)?;
            let r = g.b.ins().isub(flat, start);
            let off = g.b.ins().imul_imm_s(r, 8);
            let a = g.b.ins().iadd(bufp, off);
            g.b.ins().store(MemFlagsData::new().with_notrap(), v, a, 0);
            Ok(())
        };
        let vec_ok = vectorizable(m) && !is32;
        self.odometer_vec(
            counts,
            ops,
            start,
            end,
            &mut scalar,
            if vec_ok { Some(&mut vector) } else { None },
        )?;
        self.call_rt("kiln_pw_leaf", &[plan, bufp, len, f32flag]);
        self.jump(head, &[]);
        self.b.switch_to_block(done);
        Ok(self.call_rt1("kiln_pw_end", &[plan]))
    }

    /// Branches to a new block for the worker pool when a whole-array loop of `total`
    /// elements is big enough for it (any size under `@par`, else the measured threshold;
    /// `@serial` loops are never outlined), else to one for this thread: (pool, serial).
    pub(super) fn branch_on_size(
        &mut self,
        m: &ir::ArrayMap,
        total: Value,
    ) -> (cranelift_codegen::ir::Block, cranelift_codegen::ir::Block) {
        let (par_b, ser_b) = (self.b.create_block(), self.b.create_block());
        let min = match m.threads {
            ir::MapThreads::Par => 1,
            _ => self.par_min,
        };
        let big = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, total, min);
        self.b.ins().brif(big, par_b, &[], ser_b, &[]);
        (par_b, ser_b)
    }

    /// Runs a whole-array reduction on the workers when it has at least `par_min` elements:
    /// returns the join block (one parameter, the result) after switching to the block where
    /// the serial version is to be generated, which must jump to the join with its result.
    pub(super) fn threaded_above_threshold(
        &mut self,
        m: &ir::ArrayMap,
        counts: &[Value],
        ops: &[Operand],
        total: Value,
        how: ParResult,
        site: ir::SiteId,
    ) -> cranelift_codegen::ir::Block {
        let join = self.b.create_block();
        let ty = match how {
            ParResult::Reduce(_, rt) => rt.clif(),
            _ => types::F64,
        };
        self.b.append_block_param(join, ty);
        let (par_b, ser_b) = self.branch_on_size(m, total);
        self.b.switch_to_block(par_b);
        let fid = self.map_fns[&(m as *const ir::ArrayMap as usize)];
        let r = self.run_par_map(fid, counts, ops, total, how, site);
        self.jump(join, &[r]);
        self.b.switch_to_block(ser_b);
        join
    }

    /// One step of a min or max reduction: `x` replaces `acc` when it is smaller (larger),
    /// or a NaN (NumPy's NaN propagation; the last NaN met wins).
    pub(super) fn min_max_step(&mut self, op: ir::Reduce, ty: &Ty, acc: Value, x: Value) -> Value {
        let is_min = op == ir::Reduce::Min;
        let better = match ty {
            Ty::F64 | Ty::F32 => {
                let cc = if is_min {
                    FloatCC::LessThan
                } else {
                    FloatCC::GreaterThan
                };
                let c = self.b.ins().fcmp(cc, x, acc);
                let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                self.b.ins().bor(c, nan)
            }
            Ty::I64 => {
                let cc = if is_min {
                    IntCC::SignedLessThan
                } else {
                    IntCC::SignedGreaterThan
                };
                self.b.ins().icmp(cc, x, acc)
            }
            _ => {
                let cc = if is_min {
                    IntCC::UnsignedLessThan
                } else {
                    IntCC::UnsignedGreaterThan
                };
                self.b.ins().icmp(cc, x, acc)
            }
        };
        self.b.ins().select(better, x, acc)
    }

    /// One step of an integer reduction, as the serial accumulation does it.
    pub(super) fn int_reduce_step(
        &mut self,
        op: ir::Reduce,
        acc: Value,
        x: Value,
    ) -> Result<Value, String> {
        use ir::Reduce as R;
        Ok(match op {
            R::Min | R::Max => self.min_max_step(op, &Ty::I64, acc, x),
            R::Prod => self.binary(BinOp::Mul, &Ty::I64, vec![acc], vec![x], 0)?[0],
            _ => self.binary(BinOp::Add, &Ty::I64, vec![acc], vec![x], 0)?[0],
        })
    }
}
