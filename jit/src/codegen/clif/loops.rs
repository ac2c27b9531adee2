//! Scalar loops: rotated `for` loops and `ndrange` nests, interrupt polling (and the short-loop
//! copy without it), and versioned loops whose bounds are tested once before the loop.

use super::*;
use kiln_runtime::progress::{
    PROGRESS_COUNT_OFFSET, PROGRESS_POS_OFFSET, PROGRESS_START_OFFSET, PROGRESS_STEP_OFFSET,
};

/// Whether one run of `body` takes bounded time: no loops, no calls, no whole-array work
/// (each of those polls for interrupts itself or may run long). Only scalar statements,
/// element reads and writes, and math functions.
pub(super) fn bounded_body(body: &[Stmt]) -> bool {
    let mut ok = true;
    visit(body, &mut |n| match n {
        Node::Stmt(s) => {
            ok &= matches!(
                s,
                Stmt::Assign { .. }
                    | Stmt::If { .. }
                    | Stmt::Break
                    | Stmt::Continue
                    | Stmt::Return(_)
                    | Stmt::Eval(_)
                    | Stmt::Line(_)
            )
        }
        Node::Expr(e) => {
            ok &= match &e.kind {
                ExprKind::Call { .. } | ExprKind::Map(..) | ExprKind::MapReduce(..) => false,
                ExprKind::Builtin { op, .. } => matches!(op, Builtin::Math(_)),
                _ => true,
            }
        }
    });
    ok
}

/// The variables that are never negative in the body of a `for` nest: counters whose range
/// starts at a literal 0 or more and steps up by a literal, and the user's loop variables,
/// which the lowering copies from those counters at the top of the body, when nothing else in
/// the body assigns them.
pub(super) fn nonneg_counters(
    vars: &[Place],
    ranges: &[ir::Range],
    body: &[Stmt],
) -> Vec<ir::VarId> {
    let assignments = assignment_counts(body);
    vars.iter()
        .zip(ranges)
        .filter_map(|(p, r)| match (p, &r.start.kind, &r.step.kind) {
            (Place::Var(v), ExprKind::Int(start), ExprKind::Int(step))
                if *start >= 0 && *step > 0 =>
            {
                Some(counter_copies(*v, body, &assignments))
            }
            _ => None,
        })
        .flatten()
        .collect()
}

/// Variables a body assigns (they are private to an iteration of a parallel loop).
pub(super) fn assigned_vars(body: &[Stmt], out: &mut std::collections::HashSet<ir::VarId>) {
    out.extend(assignment_counts(body).into_keys());
}

impl<'a, 'b> Gen<'a, 'b> {
    pub(super) fn poll_interrupt(&mut self, site: ir::SiteId) {
        if !self.poll {
            return;
        }
        let flag = self
            .b
            .ins()
            .load(types::I8, MemFlagsData::trusted(), self.interrupt, 0);
        self.fail_if(flag, |g| g.call_rt("kiln_raise_interrupt", &[g.ctx]), site);
    }

    /// Evaluate a loop's bounds (checking zero steps) and its trip count per dimension.
    pub(super) fn loop_bounds(
        &mut self,
        ranges: &[ir::Range],
        site: ir::SiteId,
    ) -> Result<Vec<(Value, Value, Value)>, String> {
        let mut out = Vec::new();
        for (start, stop, step, _) in self.range_bounds(ranges, site)? {
            let count = self.trip_count(start, stop, step);
            out.push((start, step, count));
        }
        Ok(out)
    }

    /// `len(range(start, stop, step))`: ceil((stop - start) / step), at least 0, for
    /// either sign of a non-zero step.
    pub(super) fn trip_count(&mut self, start: Value, stop: Value, step: Value) -> Value {
        let pos = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, step, 0);
        let span = self.b.ins().isub(stop, start);
        let one = self.iconst(1);
        let m1 = self.iconst(-1);
        let adj = self.b.ins().select(pos, m1, one);
        let num = self.b.ins().iadd(span, step);
        let num = self.b.ins().iadd(num, adj);
        let q = self.b.ins().sdiv(num, step);
        let z = self.iconst(0);
        let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, q, 0);
        self.b.ins().select(neg, z, q)
    }

    /// A top-level `for` loop of the cell starts: its first level's start, step and trip
    /// count go to the session's `Progress` (the count last, so a reader that sees it sees
    /// the others). Returns the `Progress` address, for the counter's stores.
    fn progress_begin(&mut self, start: Value, stop: Value, step: Value) -> Value {
        let ro = MemFlagsData::trusted().with_readonly().with_can_move();
        let p = self
            .b
            .ins()
            .load(types::I64, ro, self.ctx, CTX_PROGRESS_OFFSET);
        let count = self.trip_count(start, stop, step);
        let f = MemFlagsData::trusted();
        self.b.ins().store(f, start, p, PROGRESS_START_OFFSET);
        self.b.ins().store(f, step, p, PROGRESS_STEP_OFFSET);
        self.b.ins().store(f, start, p, PROGRESS_POS_OFFSET);
        self.b.ins().store(f, count, p, PROGRESS_COUNT_OFFSET);
        p
    }

    /// A loop nest's bounds, each evaluated once before the nest (as Python evaluates
    /// `range(...)`): (start, stop, step, the step when it is a constant). A step that may be
    /// zero is checked here.
    #[allow(clippy::type_complexity)]
    pub(super) fn range_bounds(
        &mut self,
        ranges: &[ir::Range],
        site: ir::SiteId,
    ) -> Result<Vec<(Value, Value, Value, Option<i64>)>, String> {
        let mut out = Vec::new();
        for r in ranges {
            let start = self.expr(&r.start)?[0];
            let stop = self.expr(&r.stop)?[0];
            let step_const = match r.step.kind {
                ExprKind::Int(k) => Some(k),
                _ => None,
            };
            let step = self.expr(&r.step)?[0];
            if step_const.is_none() {
                let z = self.b.ins().icmp_imm_s(IntCC::Equal, step, 0);
                self.fail_if(
                    z,
                    |g| g.raise_msg(ErrorKind::ValueError, "range() arg 3 must not be zero"),
                    site,
                );
            }
            out.push((start, stop, step, step_const));
        }
        Ok(out)
    }

    /// A `for` loop over ranges. A loop (nest) that counts up by constant steps, whose body
    /// indexes arrays with its counters or with values the body does not change, is
    /// versioned: a test before the loop decides whether those indices are in range on every
    /// iteration, and a copy of the loop without their bounds checks runs if so (see
    /// `versioning`).
    pub(super) fn for_loop(
        &mut self,
        vars: &[Place],
        ranges: &[ir::Range],
        body: &[Stmt],
        site: ir::SiteId,
    ) -> Result<(), String> {
        let bounds = self.range_bounds(ranges, site)?;
        // The cell's own loops, outside any other, show how far they are.
        let followed = self.is_entry && self.loops.is_empty();
        if followed {
            let (start, stop, step, _) = bounds[0];
            self.progress = Some(self.progress_begin(start, stop, step));
        }
        let exit = self.b.create_block();
        let counting_up = bounds.iter().all(|b| matches!(b.3, Some(s) if s > 0));
        let proven = match self.versionable(vars, body) {
            Some(proven) if counting_up => proven,
            _ => Vec::new(),
        };
        if !proven.is_empty() {
            // The last value a counter takes is at most stop - 1.
            let mut spans = Vec::new();
            for &(start, stop, _, _) in &bounds {
                let last = self.b.ins().iadd_imm_s(stop, -1);
                spans.push((start, last));
            }
            let in_range = self.in_range_before_loop(&proven, &spans)?;
            self.versioned(in_range, &proven, |g| {
                g.for_loop_copies(vars, ranges, &bounds, body, site, exit)
            })?;
        }
        self.for_loop_copies(vars, ranges, &bounds, body, site, exit)?;
        self.b.switch_to_block(exit);
        if let Some(p) = self.progress.take() {
            let done = self.iconst(-1);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), done, p, PROGRESS_COUNT_OFFSET);
        }
        Ok(())
    }

    /// The indices of a loop's body that a test before it can prove in range (see
    /// `versioning`); `None` when bounds checks are off or a counter is not a variable.
    pub(super) fn versionable<'e>(
        &self,
        vars: &[Place],
        body: &'e [Stmt],
    ) -> Option<Vec<ProvenIndex<'e>>> {
        if !self.bounds {
            return None;
        }
        let mut counters = Vec::new();
        for v in vars {
            let Place::Var(c) = v else { return None };
            counters.push(*c);
        }
        let fixed = |g: ir::GlobalId| {
            self.frozen.contains_key(&g) || !self.globals_by_functions.contains(&g)
        };
        Some(provable_indices(&counters, body, &fixed))
    }

    /// Branches on `in_range` to a copy of a loop (`emit`) generated without the bounds
    /// checks of `proven` and without the definedness checks of their arrays, and leaves the
    /// builder at the start of the other branch, for the checked copy.
    pub(super) fn versioned(
        &mut self,
        in_range: Value,
        proven: &[ProvenIndex],
        emit: impl FnOnce(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        let (unchecked, checked) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(in_range, unchecked, &[], checked, &[]);
        self.b.switch_to_block(unchecked);
        for p in proven {
            self.proven.insert(p.index as *const Expr);
            match p.array.kind {
                ExprKind::Var(v) => self.defined_vars.insert(v),
                ExprKind::Global(g) => self.defined_globals.insert(g),
                _ => false,
            };
        }
        // The body holds no loop (`provable_indices`), so no other versioned loop is being
        // generated around this one.
        let r = emit(self);
        self.proven.clear();
        self.defined_vars.clear();
        self.defined_globals.clear();
        r?;
        self.b.switch_to_block(checked);
        Ok(())
    }

    /// The test before a versioned loop: whether every index in `proven` is in range on
    /// every iteration, given the first and last value of each counter (`spans`; counters
    /// count up). An array that is not defined yet reads as a zeroed stand-in header, whose
    /// shape fails every test.
    pub(super) fn in_range_before_loop(
        &mut self,
        proven: &[ProvenIndex],
        spans: &[(Value, Value)],
    ) -> Result<Value, String> {
        let mut headers: HashMap<(bool, u32), Value> = HashMap::new();
        let mut all: Option<Value> = None;
        for p in proven {
            let key = match p.array.kind {
                ExprKind::Var(v) => (false, v),
                ExprKind::Global(g) => (true, g),
                _ => return Err("a versioned access to an array expression".into()),
            };
            let arr = match headers.get(&key) {
                Some(&a) => a,
                None => {
                    let a = self.header_or_stand_in(p.array);
                    headers.insert(key, a);
                    a
                }
            };
            let n = self.b.ins().load(
                types::I64,
                header_flags(),
                arr,
                ARRAY_SHAPE_OFFSET + 8 * p.axis as i32,
            );
            let ok = match p.proof {
                // first + k >= 0 and last + k < n, written so that nothing overflows.
                Proof::Counter { counter, offset } => {
                    let (first, last) = spans[counter];
                    let low =
                        self.b
                            .ins()
                            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, first, -offset);
                    let limit = self.b.ins().iadd_imm_s(n, -offset);
                    let high = self.b.ins().icmp(IntCC::SignedLessThan, last, limit);
                    self.b.ins().band(low, high)
                }
                Proof::Invariant => {
                    let i = self.expr(p.index)?[0];
                    self.b.ins().icmp(IntCC::UnsignedLessThan, i, n)
                }
            };
            all = Some(match all {
                None => ok,
                Some(a) => self.b.ins().band(a, ok),
            });
        }
        all.ok_or_else(|| "versioning a loop without proven indices".into())
    }

    /// The header of an array variable or global, or the zeroed stand-in where it is not
    /// defined yet (null).
    pub(super) fn header_or_stand_in(&mut self, array: &Expr) -> Value {
        let (p, maybe_null) = match array.kind {
            ExprKind::Var(v) => (
                self.b.use_var(self.vars[v as usize][0]),
                !self.func.params.contains(&v),
            ),
            ExprKind::Global(g) => match self.frozen.get(&g) {
                // Already the stand-in when undefined.
                Some(f) => (f.vals[0], false),
                None => {
                    let ty = self.prog.globals[g as usize].ty.clone();
                    let base = self.global_addr(g);
                    (self.load_flat(&ty, base)[0], true)
                }
            },
            _ => unreachable!("versioned arrays are variables or globals"),
        };
        if !maybe_null {
            return p;
        }
        self.stand_in_if_null(p).0
    }

    /// A heap pointer, or the zeroed stand-in header where it is null; and whether it was.
    pub(super) fn stand_in_if_null(&mut self, p: Value) -> (Value, Value) {
        let z = self.b.ins().icmp_imm_s(IntCC::Equal, p, 0);
        let stand_in = self.iconst(NULL_STAND_IN.0.as_ptr() as i64);
        (self.b.ins().select(z, stand_in, p), z)
    }

    /// One version of a `for` loop, from the current block to `exit`. A one-range loop with
    /// step 1 whose body has no loops and no calls is emitted twice, and the copy without the
    /// interrupt poll runs when the loop has at most `SHORT_LOOP` iterations: its whole run
    /// then takes bounded time, and the enclosing loop (or the caller's) still polls. In
    /// Mandelbrot's escape loop the poll was a fifth of the instructions of every iteration.
    pub(super) fn for_loop_copies(
        &mut self,
        vars: &[Place],
        ranges: &[ir::Range],
        bounds: &[(Value, Value, Value, Option<i64>)],
        body: &[Stmt],
        site: ir::SiteId,
        exit: cranelift_codegen::ir::Block,
    ) -> Result<(), String> {
        /// Iterations a poll-free loop may run.
        const SHORT_LOOP: i64 = 1 << 16;
        if self.poll && ranges.len() == 1 && bounds[0].3 == Some(1) && bounded_body(body) {
            let (start, stop, _, _) = bounds[0];
            // stop - start <= SHORT_LOOP, without overflow: start < MAX - SHORT_LOOP first.
            let room = self
                .b
                .ins()
                .icmp_imm_s(IntCC::SignedLessThan, start, i64::MAX - SHORT_LOOP);
            let last = self.b.ins().iadd_imm_s(start, SHORT_LOOP);
            let few = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, stop, last);
            let short = self.b.ins().band(room, few);
            let (quiet, polled) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(short, quiet, &[], polled, &[]);
            self.b.switch_to_block(quiet);
            self.poll = false;
            let r = self.for_loop_nest(vars, ranges, bounds, body, site, exit);
            self.poll = true;
            r?;
            self.b.switch_to_block(polled);
        }
        self.for_loop_nest(vars, ranges, bounds, body, site, exit)
    }

    /// Generates a loop body, with the counters `nonneg_counters` finds known not to be
    /// negative inside it.
    pub(super) fn loop_body(
        &mut self,
        counters: Vec<ir::VarId>,
        body: &[Stmt],
    ) -> Result<(), String> {
        let fresh: Vec<ir::VarId> = counters
            .into_iter()
            .filter(|v| self.nonneg.insert(*v))
            .collect();
        let r = self.block(body);
        for v in fresh {
            self.nonneg.remove(&v);
        }
        r
    }

    /// One copy of a `for` nest, from the current block to `exit`.
    pub(super) fn for_loop_nest(
        &mut self,
        vars: &[Place],
        ranges: &[ir::Range],
        bounds: &[(Value, Value, Value, Option<i64>)],
        body: &[Stmt],
        site: ir::SiteId,
        exit: cranelift_codegen::ir::Block,
    ) -> Result<(), String> {
        let var_of = |p: &Place| -> Result<u32, String> {
            match p {
                Place::Var(v) => Ok(*v),
                _ => Err("for loop counter must be a variable".into()),
            }
        };
        // Rotated loops: the condition is tested once before the loop and then at the bottom,
        // so an iteration takes one branch back instead of a jump to a test at the top.
        let n = bounds.len();
        let tops: Vec<_> = (0..n).map(|_| self.b.create_block()).collect();
        let latches: Vec<_> = (0..n).map(|_| self.b.create_block()).collect();
        let mut counters = Vec::new();
        for v in vars {
            counters.push(self.vars[var_of(v)? as usize][0]);
        }
        let cond = |g: &mut Self, k: usize, i: Value| {
            let (_, stop, step, step_const) = bounds[k];
            match step_const {
                Some(s) if s > 0 => g.b.ins().icmp(IntCC::SignedLessThan, i, stop),
                Some(_) => g.b.ins().icmp(IntCC::SignedGreaterThan, i, stop),
                None => {
                    let up = g.b.ins().icmp(IntCC::SignedLessThan, i, stop);
                    let down = g.b.ins().icmp(IntCC::SignedGreaterThan, i, stop);
                    let pos = g.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, step, 0);
                    g.b.ins().select(pos, up, down)
                }
            }
        };
        // Entering level k (from before the nest, or from the top of level k - 1).
        let enter = |g: &mut Self, k: usize| {
            let start = bounds[k].0;
            g.b.def_var(counters[k], start);
            let c = cond(g, k, start);
            let out = if k == 0 { exit } else { latches[k - 1] };
            g.b.ins().brif(c, tops[k], &[], out, &[]);
        };
        enter(self, 0);
        for (k, &top) in tops.iter().enumerate() {
            self.b.switch_to_block(top);
            if k + 1 < n {
                enter(self, k + 1);
            }
        }
        self.loops.push((latches[n - 1], exit));
        // Loops in the body are not followed; this nest's other copies are.
        let progress = self.progress.take();
        let r = self.loop_body(nonneg_counters(vars, ranges, body), body);
        self.progress = progress;
        r?;
        self.loops.pop();
        if !self.terminated() {
            self.jump(latches[n - 1], &[]);
        }
        for k in (0..n).rev() {
            self.b.switch_to_block(latches[k]);
            let i = self.b.use_var(counters[k]);
            let i1 = self.b.ins().iadd(i, bounds[k].2);
            self.b.def_var(counters[k], i1);
            if let (0, Some(p)) = (k, self.progress) {
                self.b
                    .ins()
                    .store(MemFlagsData::trusted(), i1, p, PROGRESS_POS_OFFSET);
            }
            if k == n - 1 {
                self.poll_interrupt(site);
            }
            let c = cond(self, k, i1);
            let out = if k == 0 { exit } else { latches[k - 1] };
            self.b.ins().brif(c, tops[k], &[], out, &[]);
        }
        Ok(())
    }
}
