//! A parallel loop's chunk run in vector lanes (see `codegen::lanes` for the model): `lanes()`
//! consecutive iterations per step, each value that differs between lanes held as
//! a few 128-bit vectors (F64X2 for floats, I64X2 for integers and for masks: all ones
//! where true), uniform values as scalars. Cranelift's x86-64 backend has 128-bit vectors
//! only, so several are kept in flight per step to fill the floating-point pipelines.
//!
//! Nothing in lane code raises: a failing check (an index out of bounds) takes its lanes out
//! of the mask and into `failed`. At the end of a step with failed lanes, the lowest one's
//! iteration is run again by the scalar body (the loop's other outlined function), which
//! raises exactly the serial error, with its operands and traceback.

use super::*;
use crate::codegen::lanes::Plan;

/// Iterations per step: 4, as two F64X2 vectors per value. Measured on Mandelbrot
/// (`bench/run.py mandelbrot_par`): with 8 lanes, four vectors per value, the escape loop's
/// values (`zr`, `zi`, `cr`, `ci`, the mask, the result) need 24 of x86-64's 16 vector
/// registers and the loop spills. `KILN_LANES=8` (or 16) measures the wider steps.
pub fn lanes() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("KILN_LANES")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| matches!(n, 2 | 4 | 8 | 16))
            .unwrap_or(4)
    })
}

/// 128-bit vectors per value (two 64-bit lanes each).
fn groups() -> usize {
    lanes() / 2
}

/// One flattened scalar of a value in lane code.
#[derive(Clone, Debug)]
enum Slot {
    /// The same in every lane: a scalar (`I8` 0/1 for a bool).
    U(Value),
    /// One vector per group.
    V(Vec<Value>),
}

/// A variable of a frame: scalar variables, or one per group.
#[derive(Clone, Debug)]
enum VarSlot {
    U(Variable),
    V(Vec<Variable>),
}

type LoopMasks = (Option<Vec<Variable>>, Option<Vec<Variable>>);

/// The lanes' state while a frame (the loop body or an inlined call) is generated.
struct Frame {
    id: usize,
    vars: HashMap<ir::VarId, Vec<VarSlot>>,
    /// The call's result (absent in frame 0).
    ret: Vec<VarSlot>,
    /// The enclosing loops of this frame: their break and continue masks, where they
    /// have a `break` or a `continue`.
    loops: Vec<LoopMasks>,
}

pub(super) struct LaneCx<'p> {
    plan: &'p Plan,
    frames: Vec<Frame>,
    /// Lanes running the current statement.
    cur: Vec<Variable>,
    /// Lanes whose iteration failed a check in this step.
    failed: Vec<Variable>,
    /// Inside a region where lanes of the frame are masked off (a varying `if`, a loop that
    /// lanes leave at different times): assignments keep those lanes' values.
    ctl: bool,
    /// Where masked-off lanes load from and store to.
    scratch: Value,
    /// The reduction accumulators of the loop (always blended: they outlive a step).
    accs: std::collections::HashSet<ir::VarId>,
}

fn lane_clif(t: &Ty) -> Vec<(types::Type, types::Type)> {
    let one = |t: &Ty| match t {
        Ty::F64 => (types::F64X2, types::F64),
        Ty::Bool => (types::I64X2, types::I8),
        _ => (types::I64X2, types::I64),
    };
    match t {
        Ty::Tuple(items) => items.iter().map(one).collect(),
        t => vec![one(t)],
    }
}

impl<'a, 'b> Gen<'a, 'b> {
    // ----- masks and slots ---------------------------------------------------------------

    fn mask_const(&mut self, on: bool) -> Vec<Value> {
        let x = self.iconst(if on { -1 } else { 0 });
        let v = self.b.ins().splat(types::I64X2, x);
        vec![v; groups()]
    }

    fn use_mask(&mut self, m: &[Variable]) -> Vec<Value> {
        m.iter().map(|&v| self.b.use_var(v)).collect()
    }

    fn def_mask(&mut self, m: &[Variable], v: &[Value]) {
        for (&var, &x) in m.iter().zip(v) {
            self.b.def_var(var, x);
        }
    }

    fn new_mask(&mut self, v: &[Value]) -> Vec<Variable> {
        let m: Vec<Variable> = (0..groups())
            .map(|_| self.b.declare_var(types::I64X2))
            .collect();
        self.def_mask(&m, v);
        m
    }

    fn mask_op(
        &mut self,
        a: &[Value],
        b: &[Value],
        op: fn(&mut Self, Value, Value) -> Value,
    ) -> Vec<Value> {
        a.iter().zip(b).map(|(&x, &y)| op(self, x, y)).collect()
    }

    // The mask operations fold masks known to be all off or all on (a lane that returned
    // leaves an all-off mask behind): Cranelift keeps a splatted zero live across a loop
    // instead.
    fn and(&mut self, a: &[Value], b: &[Value]) -> Vec<Value> {
        self.mask_op(a, b, |g, x, y| match (g.mask_known(x), g.mask_known(y)) {
            (Some(false), _) | (_, Some(true)) => x,
            (_, Some(false)) | (Some(true), _) => y,
            _ => g.b.ins().band(x, y),
        })
    }

    fn and_not(&mut self, a: &[Value], b: &[Value]) -> Vec<Value> {
        self.mask_op(a, b, |g, x, y| match (g.mask_known(x), g.mask_known(y)) {
            (Some(false), _) | (_, Some(false)) => x,
            _ => g.b.ins().band_not(x, y),
        })
    }

    fn or(&mut self, a: &[Value], b: &[Value]) -> Vec<Value> {
        self.mask_op(a, b, |g, x, y| match (g.mask_known(x), g.mask_known(y)) {
            (Some(false), _) | (_, Some(true)) => y,
            (_, Some(false)) | (Some(true), _) => x,
            _ => g.b.ins().bor(x, y),
        })
    }

    /// Whether a mask is a splatted constant: all off or all on.
    fn mask_known(&self, v: Value) -> Option<bool> {
        let dfg = &self.b.func.dfg;
        let cranelift_codegen::ir::ValueDef::Result(inst, _) = dfg.value_def(v) else {
            return None;
        };
        let InstructionData::Unary {
            opcode: Opcode::Splat,
            arg,
        } = dfg.insts[inst]
        else {
            return None;
        };
        let cranelift_codegen::ir::ValueDef::Result(c, _) = dfg.value_def(arg) else {
            return None;
        };
        match dfg.insts[c] {
            InstructionData::UnaryImm { imm, .. } => match imm.bits() {
                0 => Some(false),
                -1 => Some(true),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether any lane of the mask is on (an `I8`).
    fn any(&mut self, m: &[Value]) -> Value {
        let mut acc = m[0];
        for &x in &m[1..] {
            acc = self.b.ins().bor(acc, x);
        }
        self.b.ins().vany_true(acc)
    }

    /// A slot as vectors (a uniform one splatted; a bool becomes a mask).
    fn vectors(&mut self, s: &Slot, ty: types::Type) -> Vec<Value> {
        match s {
            Slot::V(v) => v.clone(),
            Slot::U(x) => {
                let x = if self.b.func.dfg.value_type(*x) == types::I8 {
                    let w = self.b.ins().uextend(types::I64, *x);
                    self.b.ins().ineg(w)
                } else {
                    *x
                };
                let v = self.b.ins().splat(ty, x);
                vec![v; groups()]
            }
        }
    }

    fn mask_of(&mut self, s: &Slot) -> Vec<Value> {
        self.vectors(s, types::I64X2)
    }

    /// `mask ? new : old`, lane by lane.
    fn blend(&mut self, mask: &[Value], new: &[Value], old: &[Value]) -> Vec<Value> {
        (0..groups())
            .map(|g| {
                let t = self.b.func.dfg.value_type(new[g]);
                let m = if t == types::I64X2 {
                    mask[g]
                } else {
                    self.b.ins().bitcast(t, MemFlagsData::new(), mask[g])
                };
                self.b.ins().bitselect(m, new[g], old[g])
            })
            .collect()
    }

    /// One lane of a varying slot as a scalar.
    fn lane(&mut self, s: &Slot, l: usize) -> Value {
        match s {
            Slot::U(x) => *x,
            Slot::V(v) => self.b.ins().extractlane(v[l / 2], (l % 2) as u8),
        }
    }

    /// Vectors made of one scalar per lane.
    fn vector_of_lanes(&mut self, xs: &[Value], ty: types::Type) -> Vec<Value> {
        (0..groups())
            .map(|g| {
                let v = self.b.ins().scalar_to_vector(ty, xs[2 * g]);
                self.b.ins().insertlane(v, xs[2 * g + 1], 1)
            })
            .collect()
    }

    /// A per-lane `I8` flag: whether the lane is on in the mask.
    fn lane_on(&mut self, m: &[Value], l: usize) -> Value {
        let x = self.b.ins().extractlane(m[l / 2], (l % 2) as u8);
        self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0)
    }

    // ----- variables ---------------------------------------------------------------------

    fn lane_declare(&mut self, cx: &LaneCx, frame: usize, v: ir::VarId, ty: &Ty) -> Vec<VarSlot> {
        let varying = cx.plan.var_varying(cx.frames[frame].id, v);
        lane_clif(ty)
            .into_iter()
            .map(|(vt, st)| {
                if varying {
                    let vs: Vec<Variable> = (0..groups()).map(|_| self.b.declare_var(vt)).collect();
                    let z = self.zero_vec(vt);
                    for &x in &vs {
                        self.b.def_var(x, z);
                    }
                    VarSlot::V(vs)
                } else {
                    let x = self.b.declare_var(st);
                    let z = self.zero(st);
                    self.b.def_var(x, z);
                    VarSlot::U(x)
                }
            })
            .collect()
    }

    fn zero_vec(&mut self, t: types::Type) -> Value {
        if t == types::F64X2 {
            let z = self.b.ins().f64const(0.0);
            self.b.ins().splat(t, z)
        } else {
            let z = self.iconst(0);
            self.b.ins().splat(t, z)
        }
    }

    fn frame_var(&mut self, cx: &mut LaneCx, v: ir::VarId) -> Option<Vec<VarSlot>> {
        let top = cx.frames.len() - 1;
        if let Some(s) = cx.frames[top].vars.get(&v) {
            return Some(s.clone());
        }
        if top == 0 {
            return None;
        }
        // A callee's variable met first here (assigned before any read).
        let func = cx.plan.frames[cx.frames[top].id].func;
        let ty = self.prog.funcs[func as usize].vars[v as usize].ty.clone();
        let s = self.lane_declare(cx, top, v, &ty);
        cx.frames[top].vars.insert(v, s.clone());
        Some(s)
    }

    fn read_lane_var(&mut self, cx: &mut LaneCx, v: ir::VarId) -> Vec<Slot> {
        match self.frame_var(cx, v) {
            Some(slots) => slots
                .iter()
                .map(|s| match s {
                    VarSlot::U(x) => Slot::U(self.b.use_var(*x)),
                    VarSlot::V(xs) => Slot::V(xs.iter().map(|&x| self.b.use_var(x)).collect()),
                })
                .collect(),
            // The loop's captured variables: the parent's values, the same in every lane.
            None => self.read_var(v).into_iter().map(Slot::U).collect(),
        }
    }

    fn write_slots(&mut self, cx: &LaneCx, slots: &[VarSlot], vals: &[Slot], blend: bool) {
        for (s, v) in slots.iter().zip(vals) {
            match s {
                VarSlot::U(x) => {
                    // The plan makes a variable uniform only where every lane assigns it
                    // the same value, so any lane's copy of a vector is that value.
                    let val = self.lane(v, 0);
                    self.b.def_var(*x, val);
                }
                VarSlot::V(xs) => {
                    let first = self.b.use_var(xs[0]);
                    let t = self.b.func.dfg.value_type(first);
                    let new = self.vectors(v, t);
                    let new = if blend {
                        let cur = self.use_mask(&cx.cur);
                        let old: Vec<Value> = xs.iter().map(|&x| self.b.use_var(x)).collect();
                        self.blend(&cur, &new, &old)
                    } else {
                        new
                    };
                    for (&x, &n) in xs.iter().zip(&new) {
                        self.b.def_var(x, n);
                    }
                }
            }
        }
    }

    fn assign_lane_var(&mut self, cx: &mut LaneCx, v: ir::VarId, vals: &[Slot]) {
        let slots = self
            .frame_var(cx, v)
            .expect("lane code assigns its own variables");
        let blend = cx.ctl || (cx.frames.len() == 1 && cx.accs.contains(&v));
        self.write_slots(cx, &slots, vals, blend);
    }

    // ----- the chunk ---------------------------------------------------------------------

    /// The loop over one chunk `[lo, hi)` in steps of `lanes()` iterations, from the current
    /// block to `self.exit`. `replay` is the scalar body's function, `red_words` the size of
    /// its reduction buffer.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn lane_chunk_loop(
        &mut self,
        plan: &Plan,
        vars: &[Place],
        body: &[Stmt],
        par: &ir::ParInfo,
        site: ir::SiteId,
        dims: &[(Value, Value, Value)],
        lo: Value,
        hi: Value,
        env: Value,
        replay: FuncId,
        private: &std::collections::HashSet<ir::VarId>,
    ) -> Result<(), String> {
        let n = dims.len();
        let scratch_slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 64, 4));
        let scratch = self.b.ins().stack_addr(types::I64, scratch_slot, 0);
        let mut cx = LaneCx {
            plan,
            frames: vec![Frame {
                id: 0,
                vars: HashMap::new(),
                ret: vec![],
                loops: vec![],
            }],
            cur: vec![],
            failed: vec![],
            ctl: false,
            scratch,
            accs: par.reductions.iter().map(|r| r.acc).collect(),
        };
        let on = self.mask_const(true);
        cx.cur = self.new_mask(&on);
        let off = self.mask_const(false);
        cx.failed = self.new_mask(&off);
        // `continue` in the body ends a lane's iteration: the step is its loop.
        let root_continue = loop_exits(body).1.then(|| self.new_mask(&off));
        cx.frames[0].loops.push((None, root_continue.clone()));
        // The body's private variables and the accumulators (each lane starts from the
        // chunk's initial value: the operator's identity).
        let mut private: Vec<ir::VarId> = private.iter().copied().collect();
        private.sort_unstable();
        for v in private {
            let ty = self.func.vars[v as usize].ty.clone();
            let slots = self.lane_declare(&cx, 0, v, &ty);
            if cx.accs.contains(&v) {
                let init: Vec<Slot> = self.read_var(v).into_iter().map(Slot::U).collect();
                self.write_slots(&cx, &slots, &init, false);
            }
            cx.frames[0].vars.insert(v, slots);
        }
        // Per-dimension index of each lane, from `lo + l` (row-major, the last fastest).
        let mut idx: Vec<Vec<Variable>> = Vec::new();
        let mut per_lane: Vec<Vec<Value>> = vec![Vec::new(); n];
        for l in 0..lanes() {
            let mut rest = self.b.ins().iadd_imm_s(lo, l as i64);
            for d in (0..n).rev() {
                if d == 0 {
                    per_lane[d].push(rest);
                } else {
                    let c = dims[d].2;
                    per_lane[d].push(self.b.ins().srem(rest, c));
                    rest = self.b.ins().sdiv(rest, c);
                }
            }
        }
        for lanes in per_lane.iter().take(n) {
            let v = self.vector_of_lanes(lanes, types::I64X2);
            idx.push(self.new_mask(&v));
        }
        let k = self.b.declare_var(types::I64);
        self.b.def_var(k, lo);
        let head = self.b.create_block();
        let bodyb = self.b.create_block();
        let latch = self.b.create_block();
        let done_b = self.b.create_block();
        self.jump(head, &[]);
        self.b.switch_to_block(head);
        let kv = self.b.use_var(k);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, kv, hi);
        self.b.ins().brif(more, bodyb, &[], done_b, &[]);
        self.b.switch_to_block(bodyb);
        // Lanes past the chunk's end start dead.
        let lane_k: Vec<Value> = (0..lanes())
            .map(|l| self.b.ins().iadd_imm_s(kv, l as i64))
            .collect();
        let lane_k = self.vector_of_lanes(&lane_k, types::I64X2);
        let hiv = self.b.ins().splat(types::I64X2, hi);
        let alive: Vec<Value> = lane_k
            .iter()
            .map(|&x| self.b.ins().icmp(IntCC::SignedLessThan, x, hiv))
            .collect();
        self.def_mask(&cx.cur.clone(), &alive);
        let off = self.mask_const(false);
        self.def_mask(&cx.failed.clone(), &off);
        if let Some(c) = &root_continue {
            self.def_mask(c, &off);
        }
        for d in 0..n {
            let Place::Var(cv) = vars[d] else {
                return Err("parallel loop counter".into());
            };
            let (start, step, _) = dims[d];
            let i = self.use_mask(&idx[d]);
            let st = self.b.ins().splat(types::I64X2, step);
            let s0 = self.b.ins().splat(types::I64X2, start);
            let val: Vec<Value> = i
                .iter()
                .map(|&x| {
                    let m = self.b.ins().imul(x, st);
                    self.b.ins().iadd(s0, m)
                })
                .collect();
            self.assign_lane_var(&mut cx, cv, &[Slot::V(val)]);
        }
        self.lane_stmts(&mut cx, body)?;
        // A failed lane: the scalar body runs the lowest one's iteration again and raises.
        let failed = self.use_mask(&cx.failed);
        let any_failed = self.any(&failed);
        let replay_b = self.b.create_block();
        self.b.ins().brif(any_failed, replay_b, &[], latch, &[]);
        self.b.switch_to_block(replay_b);
        self.b.set_cold_block(replay_b);
        let mut bits = self.iconst(0);
        for (g, &m) in failed.iter().enumerate() {
            let hb = self.b.ins().vhigh_bits(types::I64, m);
            let sh = self.b.ins().ishl_imm_s(hb, 2 * g as i64);
            bits = self.b.ins().bor(bits, sh);
        }
        let lane = self.b.ins().ctz(bits);
        let kv = self.b.use_var(k);
        let first = self.b.ins().iadd(kv, lane);
        let next = self.b.ins().iadd_imm_s(first, 1);
        let red_words: usize = par.reductions.iter().map(|r| r.ty.slots()).sum();
        let red_slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * red_words.max(1) as u32,
            3,
        ));
        let redp = self.b.ins().stack_addr(types::I64, red_slot, 0);
        let fref = self.module.declare_func_in_func(replay, self.b.func);
        self.b.ins().call(fref, &[self.ctx, env, first, next, redp]);
        self.leave_on_err();
        self.jump(latch, &[]);
        // Next step: the flat counter and the lanes' indices, carried row by row.
        self.b.switch_to_block(latch);
        let kv = self.b.use_var(k);
        let k1 = self.b.ins().iadd_imm_s(kv, lanes() as i64);
        self.b.def_var(k, k1);
        self.poll_interrupt(site);
        let w = self.iconst(lanes() as i64);
        let wv = self.b.ins().splat(types::I64X2, w);
        let last = self.use_mask(&idx[n - 1]);
        let bumped: Vec<Value> = last.iter().map(|&x| self.b.ins().iadd(x, wv)).collect();
        self.def_mask(&idx[n - 1], &bumped);
        for d in (1..n).rev() {
            let carry = self.b.create_block();
            let again = self.b.create_block();
            let done = self.b.create_block();
            self.jump(again, &[]);
            self.b.switch_to_block(again);
            let cv = self.b.ins().splat(types::I64X2, dims[d].2);
            let i = self.use_mask(&idx[d]);
            let wrap: Vec<Value> = i
                .iter()
                .map(|&x| self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, x, cv))
                .collect();
            let any = self.any(&wrap);
            self.b.ins().brif(any, carry, &[], done, &[]);
            self.b.switch_to_block(carry);
            let sub = self.and(&wrap, &vec![cv; groups()]);
            let i2: Vec<Value> = (0..groups())
                .map(|g| self.b.ins().isub(i[g], sub[g]))
                .collect();
            self.def_mask(&idx[d], &i2);
            let up = self.use_mask(&idx[d - 1]);
            let up2: Vec<Value> = (0..groups())
                .map(|g| self.b.ins().isub(up[g], wrap[g]))
                .collect();
            self.def_mask(&idx[d - 1], &up2);
            self.jump(again, &[]);
            self.b.switch_to_block(done);
        }
        self.jump(head, &[]);
        // The accumulators: each lane's partial, combined in lane order.
        self.b.switch_to_block(done_b);
        for r in &par.reductions {
            let slots = cx.frames[0].vars[&r.acc].clone();
            let VarSlot::V(xs) = &slots[0] else { continue };
            let vs: Vec<Value> = xs.iter().map(|&x| self.b.use_var(x)).collect();
            let mut acc: Option<Value> = None;
            for l in 0..lanes() {
                let x = self.b.ins().extractlane(vs[l / 2], (l % 2) as u8);
                acc = Some(match acc {
                    None => x,
                    Some(a) => self.combine(r.op, a, x),
                });
            }
            let mut acc = acc.unwrap_or_else(|| self.iconst(0));
            if r.ty == Ty::Bool {
                acc = self.b.ins().ireduce(types::I8, acc);
                acc = self.b.ins().band_imm_s(acc, 1);
            }
            let scalar = &self.vars[r.acc as usize];
            let var = scalar[0];
            self.b.def_var(var, acc);
        }
        self.jump(self.exit, &[]);
        Ok(())
    }

    fn combine(&mut self, op: ir::RedOp, a: Value, b: Value) -> Value {
        use ir::RedOp::*;
        match op {
            Add => self.b.ins().iadd(a, b),
            Mul => self.b.ins().imul(a, b),
            BitAnd => self.b.ins().band(a, b),
            BitOr => self.b.ins().bor(a, b),
            Min | NpMin => self.b.ins().smin(a, b),
            Max | NpMax => self.b.ins().smax(a, b),
        }
    }

    // ----- statements --------------------------------------------------------------------

    fn lane_stmts(&mut self, cx: &mut LaneCx, body: &[Stmt]) -> Result<(), String> {
        for s in body {
            self.lane_stmt(cx, s)?;
        }
        Ok(())
    }

    fn lane_stmt(&mut self, cx: &mut LaneCx, s: &Stmt) -> Result<(), String> {
        match s {
            Stmt::Assign { place, value } => {
                let v = self.lane_expr(cx, value)?;
                self.lane_assign(cx, place, v)
            }
            Stmt::Eval(e) => self.lane_expr(cx, e).map(|_| ()),
            Stmt::If { cond, then, els } => self.lane_if(cx, cond, then, els),
            Stmt::While { cond, body } => self.lane_loop(cx, Some(cond), None, body),
            Stmt::For {
                vars,
                ranges,
                body,
                site,
                ..
            } => {
                let Place::Var(v) = vars[0] else {
                    return Err("lane loop counter".into());
                };
                self.lane_loop(cx, None, Some((v, &ranges[0], *site)), body)
            }
            Stmt::Break | Stmt::Continue => {
                let top = cx.frames.len() - 1;
                let (brk, cont) = cx.frames[top]
                    .loops
                    .last()
                    .cloned()
                    .ok_or("break outside a loop in lane code")?;
                let target = if matches!(s, Stmt::Break) { brk } else { cont }
                    .ok_or("a loop exit the lane plan did not see")?;
                let cur = self.use_mask(&cx.cur);
                let t = self.use_mask(&target);
                let t2 = self.or(&t, &cur);
                self.def_mask(&target, &t2);
                let off = self.mask_const(false);
                self.def_mask(&cx.cur.clone(), &off);
                Ok(())
            }
            Stmt::Return(Some(e)) => {
                let v = self.lane_expr(cx, e)?;
                let top = cx.frames.len() - 1;
                let ret = cx.frames[top].ret.clone();
                // The result keeps earlier lanes' values: always blended.
                let saved = cx.ctl;
                cx.ctl = true;
                self.write_slots(cx, &ret, &v, true);
                cx.ctl = saved;
                let off = self.mask_const(false);
                self.def_mask(&cx.cur.clone(), &off);
                Ok(())
            }
            Stmt::Line(_) => Ok(()),
            other => Err(format!("lane code met {other:?}")),
        }
    }

    fn lane_assign(&mut self, cx: &mut LaneCx, place: &Place, v: Vec<Slot>) -> Result<(), String> {
        match place {
            Place::Var(id) => {
                self.assign_lane_var(cx, *id, &v);
                Ok(())
            }
            Place::Tuple(items) => {
                let mut k = 0;
                for p in items {
                    let n = match p {
                        Place::Var(id) => {
                            let ty = self.lane_var_ty(cx, *id);
                            lane_clif(&ty).len()
                        }
                        _ => 1,
                    };
                    self.lane_assign(cx, p, v[k..k + n].to_vec())?;
                    k += n;
                }
                Ok(())
            }
            Place::Elem { array, index, .. } => {
                let addrs = self.lane_elem_addrs(cx, array, index)?;
                let arr = self.lane_array(cx, array)?;
                self.mark_host_written(arr);
                let f = MemFlagsData::trusted();
                for (l, &a) in addrs.iter().enumerate() {
                    let x = self.lane(&v[0], l);
                    self.b.ins().store(f, x, a, 0);
                }
                Ok(())
            }
            Place::Global(_) => Err("lane code assigns a global".into()),
        }
    }

    fn lane_var_ty(&self, cx: &LaneCx, v: ir::VarId) -> Ty {
        let func = cx.plan.frames[cx.frames[cx.frames.len() - 1].id].func;
        self.prog.funcs[func as usize].vars[v as usize].ty.clone()
    }

    fn lane_if(
        &mut self,
        cx: &mut LaneCx,
        cond: &Expr,
        then: &[Stmt],
        els: &[Stmt],
    ) -> Result<(), String> {
        let c = self.lane_expr(cx, cond)?;
        if let Slot::U(c) = c[0] {
            // The same in every lane: an ordinary branch.
            let tb = self.b.create_block();
            let eb = self.b.create_block();
            let join = self.b.create_block();
            self.b.ins().brif(c, tb, &[], eb, &[]);
            self.b.switch_to_block(tb);
            self.lane_stmts(cx, then)?;
            self.jump(join, &[]);
            self.b.switch_to_block(eb);
            self.lane_stmts(cx, els)?;
            self.jump(join, &[]);
            self.b.switch_to_block(join);
            return Ok(());
        }
        let c = self.mask_of(&c[0]);
        let entry = self.use_mask(&cx.cur);
        let saved = cx.ctl;
        cx.ctl = true;
        let mut outs = Vec::new();
        for (branch, take) in [(then, true), (els, false)] {
            let m = if take {
                self.and(&entry, &c)
            } else {
                self.and_not(&entry, &c)
            };
            self.def_mask(&cx.cur.clone(), &m);
            // A short branch runs under its mask without a test (a branch around it would
            // split the loop's block and keep its values live across, in memory); one with
            // loops, calls or stores is skipped when no lane takes it.
            if !branch.is_empty() && !cheap_branch(branch) {
                let any = self.any(&m);
                let bb = self.b.create_block();
                let join = self.b.create_block();
                self.b.ins().brif(any, bb, &[], join, &[]);
                self.b.switch_to_block(bb);
                self.lane_stmts(cx, branch)?;
                self.jump(join, &[]);
                self.b.switch_to_block(join);
            } else {
                self.lane_stmts(cx, branch)?;
            }
            outs.push(self.use_mask(&cx.cur));
        }
        cx.ctl = saved;
        let merged = self.or(&outs[0], &outs[1]);
        self.def_mask(&cx.cur.clone(), &merged);
        Ok(())
    }

    /// A `while` (with `cond`) or a `for` over a range (with its counter) in lane code: it
    /// runs while any lane is still in it. A condition that is the same in every lane ends
    /// the loop for all of them at once; a varying one lets lanes leave one by one (`left`).
    fn lane_loop(
        &mut self,
        cx: &mut LaneCx,
        cond: Option<&Expr>,
        counted: Option<(ir::VarId, &ir::Range, ir::SiteId)>,
        body: &[Stmt],
    ) -> Result<(), String> {
        let top = cx.frames.len() - 1;
        let fid = cx.frames[top].id;
        let ranges = counted.map(|c| std::slice::from_ref(c.1)).unwrap_or(&[]);
        let diverges = cx.plan.loop_diverges(fid, cond, ranges, body);
        let (has_break, has_continue) = loop_exits(body);
        // A counted loop's position: a scalar, or per lane when its bounds vary.
        let mut counter: Option<(Vec<Variable>, Slot, Value)> = None;
        if let Some((_, r, _)) = counted {
            let start = self.lane_expr(cx, &r.start)?.remove(0);
            let stop = self.lane_expr(cx, &r.stop)?.remove(0);
            let step = self.lane_expr(cx, &r.step)?.remove(0);
            let Slot::U(step) = step else {
                return Err("lane loop with a varying step".into());
            };
            // A zero step fails every running lane (the scalar replay raises ValueError).
            let zero = self.b.ins().icmp_imm_s(IntCC::Equal, step, 0);
            self.fail_lanes_if(cx, &Slot::U(zero));
            let ks = match (&start, &stop) {
                (Slot::U(s), Slot::U(_)) => {
                    let k = self.b.declare_var(types::I64);
                    self.b.def_var(k, *s);
                    vec![k]
                }
                _ => {
                    let sv = self.vectors(&start, types::I64X2);
                    self.new_mask(&sv)
                }
            };
            counter = Some((ks, stop, step));
        }
        let varying_cond = cond.is_some_and(|c| cx.plan.varying(fid, c))
            || counter.as_ref().is_some_and(|(ks, _, _)| ks.len() > 1);
        let off = self.mask_const(false);
        let brk = has_break.then(|| self.new_mask(&off));
        let cont = has_continue.then(|| self.new_mask(&off));
        let left = varying_cond.then(|| self.new_mask(&off));
        cx.frames[top].loops.push((brk.clone(), cont.clone()));
        let head = self.b.create_block();
        let bodyb = self.b.create_block();
        let exit = self.b.create_block();
        self.jump(head, &[]);
        self.b.switch_to_block(head);
        // Whether the loop goes on: a scalar, and per lane when it varies.
        let mut more: Option<Value> = None;
        let mut lane_more: Option<Vec<Value>> = None;
        if let Some((ks, stop, step)) = &counter {
            let k = self.read_counter(ks);
            let up = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, *step, 0);
            match (&k, stop) {
                (Slot::U(k), Slot::U(stop)) => {
                    let lt = self.b.ins().icmp(IntCC::SignedLessThan, *k, *stop);
                    let gt = self.b.ins().icmp(IntCC::SignedGreaterThan, *k, *stop);
                    more = Some(self.b.ins().select(up, lt, gt));
                }
                _ => {
                    let kv = self.vectors(&k, types::I64X2);
                    let sv = self.vectors(stop, types::I64X2);
                    let upm = self.mask_of(&Slot::U(up));
                    lane_more = Some(
                        (0..groups())
                            .map(|g| {
                                let lt = self.b.ins().icmp(IntCC::SignedLessThan, kv[g], sv[g]);
                                let gt = self.b.ins().icmp(IntCC::SignedGreaterThan, kv[g], sv[g]);
                                self.b.ins().bitselect(upm[g], lt, gt)
                            })
                            .collect(),
                    );
                }
            }
        }
        if let Some(c) = cond {
            let saved = cx.ctl;
            cx.ctl = cx.ctl || diverges;
            let cv = self.lane_expr(cx, c)?.remove(0);
            cx.ctl = saved;
            match cv {
                Slot::U(c) => more = Some(c),
                v => lane_more = Some(self.mask_of(&v)),
            }
        }
        let cur = self.use_mask(&cx.cur);
        let go = match (&lane_more, &left) {
            (Some(m), Some(left)) => {
                let stay = self.and(&cur, m);
                let leaving = self.and_not(&cur, m);
                let l = self.use_mask(left);
                let l2 = self.or(&l, &leaving);
                self.def_mask(left, &l2);
                self.def_mask(&cx.cur.clone(), &stay);
                self.any(&stay)
            }
            _ => self.any(&cur),
        };
        let go = match more {
            Some(m) => self.b.ins().band(m, go),
            None => go,
        };
        self.b.ins().brif(go, bodyb, &[], exit, &[]);
        self.b.switch_to_block(bodyb);
        let saved = cx.ctl;
        cx.ctl = cx.ctl || diverges;
        if let Some((v, _, _)) = counted {
            let (ks, _, _) = counter.as_ref().expect("counted loop");
            let k = self.read_counter(ks);
            self.assign_lane_var(cx, v, &[k]);
        }
        self.lane_stmts(cx, body)?;
        cx.ctl = saved;
        // Lanes that continued go round again with the others.
        if let Some(cont) = &cont {
            let cur = self.use_mask(&cx.cur);
            let c = self.use_mask(cont);
            let back = self.or(&cur, &c);
            self.def_mask(&cx.cur.clone(), &back);
            let off = self.mask_const(false);
            self.def_mask(cont, &off);
        }
        if let Some((ks, _, step)) = &counter {
            let k = self.read_counter(ks);
            let k1 = match k {
                Slot::U(k) => vec![self.b.ins().iadd(k, *step)],
                Slot::V(kv) => {
                    let sv = self.b.ins().splat(types::I64X2, *step);
                    kv.iter().map(|&x| self.b.ins().iadd(x, sv)).collect()
                }
            };
            self.def_mask(ks, &k1);
        }
        let site = counted.map(|c| c.2).unwrap_or(self.func.entry_site);
        self.poll_interrupt(site);
        self.jump(head, &[]);
        self.b.switch_to_block(exit);
        cx.frames[top].loops.pop();
        // After the loop: the lanes still in it when it ended, those that left by its
        // condition and those that broke out.
        let mut after = self.use_mask(&cx.cur);
        for m in [&left, &brk].into_iter().flatten() {
            let x = self.use_mask(m);
            after = self.or(&after, &x);
        }
        self.def_mask(&cx.cur.clone(), &after);
        Ok(())
    }

    fn read_counter(&mut self, ks: &[Variable]) -> Slot {
        if ks.len() == 1 {
            Slot::U(self.b.use_var(ks[0]))
        } else {
            Slot::V(self.use_mask(ks))
        }
    }

    /// Take the running lanes where `bad` holds out of the mask, into `failed`.
    fn fail_lanes_if(&mut self, cx: &mut LaneCx, bad: &Slot) {
        let bad = self.mask_of(bad);
        let cur = self.use_mask(&cx.cur);
        let hit = self.and(&cur, &bad);
        let f = self.use_mask(&cx.failed);
        let f2 = self.or(&f, &hit);
        self.def_mask(&cx.failed.clone(), &f2);
        let c2 = self.and_not(&cur, &bad);
        self.def_mask(&cx.cur.clone(), &c2);
    }

    // ----- expressions -------------------------------------------------------------------

    fn lane_array(&mut self, cx: &mut LaneCx, a: &Expr) -> Result<Value, String> {
        match a.kind {
            ExprKind::Var(v) => match self.read_lane_var(cx, v).first() {
                Some(Slot::U(p)) => Ok(*p),
                _ => Err("an array that varies between lanes".into()),
            },
            ExprKind::Global(g) => Ok(self.read_global(g)[0]),
            _ => Err("lane code indexes a computed array".into()),
        }
    }

    /// The address of `array[index...]` in each lane: bounds-checked (negative indices
    /// from the end), lanes that fail taken out, masked-off lanes pointed at scratch memory.
    fn lane_elem_addrs(
        &mut self,
        cx: &mut LaneCx,
        array: &Expr,
        index: &[Expr],
    ) -> Result<Vec<Value>, String> {
        let Ty::Array { dtype, .. } = array.ty else {
            return Err("indexing a non-array".into());
        };
        let arr = self.lane_array(cx, array)?;
        let mut idx = Vec::new();
        for e in index {
            idx.push(self.lane_expr(cx, e)?.remove(0));
        }
        let mut wrapped = Vec::new();
        for (k, i) in idx.iter().enumerate() {
            let n = self.b.ins().load(
                types::I64,
                header_flags(),
                arr,
                ARRAY_SHAPE_OFFSET + 8 * k as i32,
            );
            match i {
                Slot::U(i) => {
                    let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, *i, 0);
                    let w = self.b.ins().iadd(*i, n);
                    let i2 = self.b.ins().select(neg, w, *i);
                    if self.bounds {
                        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i2, n);
                        self.fail_lanes_if(cx, &Slot::U(oob));
                    }
                    wrapped.push(Slot::U(i2));
                }
                Slot::V(iv) => {
                    let nv = self.b.ins().splat(types::I64X2, n);
                    let z = self.zero_vec(types::I64X2);
                    let i2: Vec<Value> = iv
                        .iter()
                        .map(|&x| {
                            let neg = self.b.ins().icmp(IntCC::SignedLessThan, x, z);
                            let w = self.b.ins().iadd(x, nv);
                            self.b.ins().bitselect(neg, w, x)
                        })
                        .collect();
                    if self.bounds {
                        let oob: Vec<Value> = i2
                            .iter()
                            .map(|&x| self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, x, nv))
                            .collect();
                        self.fail_lanes_if(cx, &Slot::V(oob));
                    }
                    wrapped.push(Slot::V(i2));
                }
            }
        }
        let data = self
            .b
            .ins()
            .load(types::I64, header_flags(), arr, ARRAY_DATA_OFFSET);
        let strides: Vec<Value> = (0..index.len())
            .map(|k| {
                self.b.ins().load(
                    types::I64,
                    header_flags(),
                    arr,
                    ARRAY_STRIDES_OFFSET + 8 * k as i32,
                )
            })
            .collect();
        let cur = self.use_mask(&cx.cur);
        let size = dtype.size() as i64;
        let mut out = Vec::new();
        for l in 0..lanes() {
            let mut off: Option<Value> = None;
            for (k, w) in wrapped.iter().enumerate() {
                let i = self.lane(w, l);
                let t = self.b.ins().imul(i, strides[k]);
                off = Some(match off {
                    None => t,
                    Some(o) => self.b.ins().iadd(o, t),
                });
            }
            let off = off.unwrap_or_else(|| self.iconst(0));
            let bytes = self.b.ins().imul_imm_s(off, size);
            let a = self.b.ins().iadd(data, bytes);
            let on = self.lane_on(&cur, l);
            out.push(self.b.ins().select(on, a, cx.scratch));
        }
        Ok(out)
    }

    fn lane_expr(&mut self, cx: &mut LaneCx, e: &Expr) -> Result<Vec<Slot>, String> {
        let fid = cx.frames[cx.frames.len() - 1].id;
        Ok(match &e.kind {
            ExprKind::Bool(b) => vec![Slot::U(self.b.ins().iconst(types::I8, *b as i64))],
            ExprKind::Int(i) => vec![Slot::U(self.iconst(*i))],
            ExprKind::Float(x) => vec![Slot::U(self.float_const(*x, false))],
            ExprKind::Var(v) => self.read_lane_var(cx, *v),
            ExprKind::Global(g) => self.read_global(*g).into_iter().map(Slot::U).collect(),
            ExprKind::Tuple(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.extend(self.lane_expr(cx, i)?);
                }
                out
            }
            ExprKind::TupleGet(t, k) => {
                let Ty::Tuple(items) = &t.ty else {
                    return Err("tuple item of a non-tuple".into());
                };
                let start: usize = items[..*k as usize]
                    .iter()
                    .map(|t| lane_clif(t).len())
                    .sum();
                let all = self.lane_expr(cx, t)?;
                all[start..start + lane_clif(&items[*k as usize]).len()].to_vec()
            }
            ExprKind::Let(v, a, b) => {
                let x = self.lane_expr(cx, a)?;
                self.assign_lane_var(cx, *v, &x);
                self.lane_expr(cx, b)?
            }
            ExprKind::Cast(a) => {
                let x = self.lane_expr(cx, a)?.remove(0);
                vec![self.lane_cast(&a.ty, &e.ty, x)?]
            }
            ExprKind::Unary(op, a) => {
                let x = self.lane_expr(cx, a)?.remove(0);
                vec![match x {
                    Slot::U(x) => Slot::U(self.unary(*op, &a.ty, vec![x])?[0]),
                    Slot::V(v) => Slot::V(
                        v.iter()
                            .map(|&x| match (op, &a.ty) {
                                (UnOp::Neg, Ty::F64) => self.b.ins().fneg(x),
                                (UnOp::Neg, _) => self.b.ins().ineg(x),
                                _ => self.b.ins().bnot(x),
                            })
                            .collect(),
                    ),
                }]
            }
            ExprKind::Binary(op, a, b, site) => {
                let x = self.lane_expr(cx, a)?.remove(0);
                let y = self.lane_expr(cx, b)?.remove(0);
                vec![self.lane_binary(*op, &e.ty, (x, a), (y, b), *site)?]
            }
            ExprKind::Compare(op, a, b) => {
                let x = self.lane_expr(cx, a)?.remove(0);
                let y = self.lane_expr(cx, b)?.remove(0);
                vec![self.lane_compare(*op, &a.ty, x, y)?]
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let x = self.lane_expr(cx, a)?.remove(0);
                if let Slot::U(_) = x {
                    if !cx.plan.varying(fid, b) {
                        let y = self.lane_expr(cx, b)?.remove(0);
                        let (Slot::U(x), Slot::U(y)) = (x, y) else {
                            unreachable!()
                        };
                        // Both evaluate to plain bools without effects that differ by lane.
                        return Ok(vec![Slot::U(if is_and {
                            self.b.ins().band(x, y)
                        } else {
                            self.b.ins().bor(x, y)
                        })]);
                    }
                }
                // The right operand runs only in the lanes that need it.
                let xm = self.mask_of(&x);
                let entry = self.use_mask(&cx.cur);
                let sub = if is_and {
                    self.and(&entry, &xm)
                } else {
                    self.and_not(&entry, &xm)
                };
                self.def_mask(&cx.cur.clone(), &sub);
                let saved = cx.ctl;
                cx.ctl = true;
                let y = self.lane_expr(cx, b)?.remove(0);
                cx.ctl = saved;
                let after = self.use_mask(&cx.cur);
                let failed_now = self.and_not(&sub, &after);
                let restored = self.and_not(&entry, &failed_now);
                self.def_mask(&cx.cur.clone(), &restored);
                let ym = self.mask_of(&y);
                vec![Slot::V(if is_and {
                    self.and(&xm, &ym)
                } else {
                    self.or(&xm, &ym)
                })]
            }
            ExprKind::Select(c, a, b)
                if !cx.plan.varying(fid, c)
                    && !cx.plan.varying(fid, a)
                    && !cx.plan.varying(fid, b) =>
            {
                // The same choice in every lane: uniform values on a branch.
                let Slot::U(cv) = self.lane_expr(cx, c)?.remove(0) else {
                    return Err("a uniform condition in lanes".into());
                };
                let join = self.b.create_block();
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                for (_, st) in lane_clif(&e.ty) {
                    self.b.append_block_param(join, st);
                }
                self.b.ins().brif(cv, tb, &[], eb, &[]);
                for (block, arm) in [(tb, a), (eb, b)] {
                    self.b.switch_to_block(block);
                    let vals = self.lane_expr(cx, arm)?;
                    let args: Vec<BlockArg> = (0..vals.len())
                        .map(|k| BlockArg::Value(self.lane(&vals[k], 0)))
                        .collect();
                    self.b.ins().jump(join, &args);
                }
                self.b.switch_to_block(join);
                self.b
                    .block_params(join)
                    .iter()
                    .map(|&v| Slot::U(v))
                    .collect()
            }
            ExprKind::Select(c, a, b) => {
                let cv = self.lane_expr(cx, c)?.remove(0);
                let cm = self.mask_of(&cv);
                let entry = self.use_mask(&cx.cur);
                let saved = cx.ctl;
                cx.ctl = true;
                let ta = self.and(&entry, &cm);
                self.def_mask(&cx.cur.clone(), &ta);
                let x = self.lane_expr(cx, a)?;
                let after_a = self.use_mask(&cx.cur);
                let fa = self.and_not(&ta, &after_a);
                let tb = self.and_not(&entry, &cm);
                self.def_mask(&cx.cur.clone(), &tb);
                let y = self.lane_expr(cx, b)?;
                let after_b = self.use_mask(&cx.cur);
                let fb = self.and_not(&tb, &after_b);
                cx.ctl = saved;
                let gone = self.or(&fa, &fb);
                let restored = self.and_not(&entry, &gone);
                self.def_mask(&cx.cur.clone(), &restored);
                let mut out = Vec::new();
                for ((xs, ys), (vt, _)) in x.iter().zip(&y).zip(lane_clif(&e.ty)) {
                    let xv = self.vectors(xs, vt);
                    let yv = self.vectors(ys, vt);
                    out.push(Slot::V(self.blend(&cm, &xv, &yv)));
                }
                out
            }
            ExprKind::Index { array, index, .. } => {
                let Ty::Array { dtype, .. } = array.ty else {
                    return Err("indexing a non-array".into());
                };
                let addrs = self.lane_elem_addrs(cx, array, index)?;
                let (st, vt) = if dtype == DType::F64 {
                    (types::F64, types::F64X2)
                } else {
                    (types::I64, types::I64X2)
                };
                let f = MemFlagsData::trusted();
                if !index.iter().any(|i| cx.plan.varying(fid, i)) {
                    // The same element in every lane (masked-off lanes read scratch).
                    let first = (0..addrs.len()).rev().fold(cx.scratch, |acc, l| {
                        let on = self.b.ins().icmp(IntCC::NotEqual, addrs[l], cx.scratch);
                        self.b.ins().select(on, addrs[l], acc)
                    });
                    return Ok(vec![Slot::U(self.b.ins().load(st, f, first, 0))]);
                }
                let xs: Vec<Value> = addrs
                    .iter()
                    .map(|&a| self.b.ins().load(st, f, a, 0))
                    .collect();
                vec![Slot::V(self.vector_of_lanes(&xs, vt))]
            }
            ExprKind::Call { args, .. } => self.lane_call(cx, e, args)?,
            ExprKind::Builtin { op, args, .. } => self.lane_builtin(cx, op, args, &e.ty)?,
            other => return Err(format!("lane code met {other:?}")),
        })
    }

    fn lane_cast(&mut self, from: &Ty, to: &Ty, x: Slot) -> Result<Slot, String> {
        if from == to {
            return Ok(x);
        }
        let v = match x {
            Slot::U(x) => return Ok(Slot::U(self.cast(from, to, vec![x])?[0])),
            Slot::V(v) => v,
        };
        Ok(Slot::V(match (from, to) {
            (Ty::I64, Ty::F64) => {
                let xs: Vec<Value> = (0..lanes())
                    .map(|l| {
                        let i = self.b.ins().extractlane(v[l / 2], (l % 2) as u8);
                        self.b.ins().fcvt_from_sint(types::F64, i)
                    })
                    .collect();
                self.vector_of_lanes(&xs, types::F64X2)
            }
            (Ty::Bool, Ty::I64) => v.iter().map(|&m| self.b.ins().ushr_imm_s(m, 63)).collect(),
            (Ty::Bool, Ty::F64) => {
                let one = self.b.ins().f64const(1.0);
                let one = self.b.ins().splat(types::F64X2, one);
                let zero = self.zero_vec(types::F64X2);
                let ones = vec![one; groups()];
                let zeros = vec![zero; groups()];
                self.blend(&v, &ones, &zeros)
            }
            (f, t) => return Err(format!("lane cast {f} -> {t}")),
        }))
    }

    fn lane_binary(
        &mut self,
        op: BinOp,
        t: &Ty,
        (x, lhs): (Slot, &Expr),
        (y, rhs): (Slot, &Expr),
        site: ir::SiteId,
    ) -> Result<Slot, String> {
        if let (Slot::U(a), Slot::U(b)) = (&x, &y) {
            return Ok(Slot::U(self.binary(op, t, vec![*a], vec![*b], site)?[0]));
        }
        let vt = lane_clif(t)[0].0;
        let two = |e: &Expr| op == BinOp::Mul && matches!(e.kind, ExprKind::Float(v) if v == 2.0);
        let (lhs_is_two, rhs_two) = (two(lhs), two(rhs));
        let xv = self.vectors(&x, vt);
        let yv = self.vectors(&y, vt);
        Ok(Slot::V(
            (0..groups())
                .map(|g| {
                    let (a, b) = (xv[g], yv[g]);
                    let ins = self.b.ins();
                    match (op, t) {
                        // `2.0 * z` as `z + z`: the same bits, as the scalar code does.
                        (BinOp::Mul, Ty::F64) if lhs_is_two => ins.fadd(b, b),
                        (BinOp::Mul, Ty::F64) if rhs_two => ins.fadd(a, a),
                        (BinOp::Add, Ty::F64) => ins.fadd(a, b),
                        (BinOp::Sub, Ty::F64) => ins.fsub(a, b),
                        (BinOp::Mul, Ty::F64) => ins.fmul(a, b),
                        (BinOp::Div, Ty::F64) => ins.fdiv(a, b),
                        (BinOp::Add, _) => ins.iadd(a, b),
                        (BinOp::Sub, _) => ins.isub(a, b),
                        (BinOp::Mul, _) => ins.imul(a, b),
                        (BinOp::BitAnd, _) => ins.band(a, b),
                        (BinOp::BitOr, _) => ins.bor(a, b),
                        _ => ins.bxor(a, b),
                    }
                })
                .collect(),
        ))
    }

    fn lane_compare(&mut self, op: CmpOp, t: &Ty, x: Slot, y: Slot) -> Result<Slot, String> {
        let float = *t == Ty::F64;
        if let (Slot::U(a), Slot::U(b)) = (&x, &y) {
            return Ok(Slot::U(self.compare(op, t, &[*a], &[*b])?));
        }
        // Masks are all ones for True: unsigned order puts True above False, as Python.
        let unsigned = *t == Ty::Bool;
        let vt = if float { types::F64X2 } else { types::I64X2 };
        let xv = self.vectors(&x, vt);
        let yv = self.vectors(&y, vt);
        Ok(Slot::V(
            (0..groups())
                .map(|g| {
                    if float {
                        self.b.ins().fcmp(super::arith::float_cc(op), xv[g], yv[g])
                    } else {
                        self.b
                            .ins()
                            .icmp(super::arith::int_cc(op, !unsigned), xv[g], yv[g])
                    }
                })
                .collect(),
        ))
    }

    fn lane_builtin(
        &mut self,
        cx: &mut LaneCx,
        op: &Builtin,
        args: &[Expr],
        t: &Ty,
    ) -> Result<Vec<Slot>, String> {
        if let Builtin::Dim(_) | Builtin::Size = op {
            let arr = self.lane_array(cx, &args[0])?;
            let Ty::Array { ndim, .. } = args[0].ty else {
                return Err("dim of a non-array".into());
            };
            let load = |g: &mut Self, k: u8| {
                g.b.ins().load(
                    types::I64,
                    header_flags(),
                    arr,
                    ARRAY_SHAPE_OFFSET + 8 * k as i32,
                )
            };
            return Ok(vec![Slot::U(match op {
                Builtin::Dim(k) => load(self, *k),
                _ => {
                    let mut n = self.iconst(1);
                    for k in 0..ndim {
                        let d = load(self, k);
                        n = self.b.ins().imul(n, d);
                    }
                    n
                }
            })]);
        }
        let mut xs = Vec::new();
        for a in args {
            xs.push(self.lane_expr(cx, a)?.remove(0));
        }
        if xs.iter().all(|x| matches!(x, Slot::U(_))) {
            // The scalar code's own instructions.
            let vals: Vec<Vals> = xs
                .iter()
                .map(|x| match x {
                    Slot::U(v) => vec![*v],
                    Slot::V(_) => unreachable!(),
                })
                .collect();
            let o = crate::builtins::Operands {
                vals,
                args,
                ty: t,
                site: self.func.entry_site,
            };
            let r = crate::builtins::clif(self, op, &o)?;
            return Ok(vec![Slot::U(r[0])]);
        }
        let vt = lane_clif(t)[0].0;
        let float = *t == Ty::F64;
        let v: Vec<Vec<Value>> = xs.iter().map(|x| self.vectors(x, vt)).collect();
        Ok(vec![Slot::V(
            (0..groups())
                .map(|g| match op {
                    Builtin::Abs if float => self.b.ins().fabs(v[0][g]),
                    Builtin::Abs => {
                        let x = v[0][g];
                        let n = self.b.ins().ineg(x);
                        let z = self.zero_vec(types::I64X2);
                        let neg = self.b.ins().icmp(IntCC::SignedLessThan, x, z);
                        self.b.ins().bitselect(neg, n, x)
                    }
                    Builtin::Math(_) => self.b.ins().sqrt(v[0][g]),
                    _ => {
                        // Python: min(a, b) is b only if b < a (the first of equals wins).
                        let (a, b) = (v[0][g], v[1][g]);
                        let is_min = *op == Builtin::Min;
                        if float {
                            let c = self.b.ins().fcmp(
                                if is_min {
                                    FloatCC::LessThan
                                } else {
                                    FloatCC::GreaterThan
                                },
                                b,
                                a,
                            );
                            let m = self.b.ins().bitcast(types::F64X2, MemFlagsData::new(), c);
                            self.b.ins().bitselect(m, b, a)
                        } else {
                            let c = self.b.ins().icmp(
                                if is_min {
                                    IntCC::SignedLessThan
                                } else {
                                    IntCC::SignedGreaterThan
                                },
                                b,
                                a,
                            );
                            self.b.ins().bitselect(c, b, a)
                        }
                    }
                })
                .collect(),
        )])
    }

    /// A user function inlined into lane code: its own frame, its `return`s taking lanes
    /// out of the call.
    fn lane_call(
        &mut self,
        cx: &mut LaneCx,
        call: &Expr,
        args: &[Expr],
    ) -> Result<Vec<Slot>, String> {
        let caller = cx.frames[cx.frames.len() - 1].id;
        let id = cx
            .plan
            .callee(caller, call)
            .ok_or("lane call without a frame")?;
        let func = cx.plan.frames[id].func;
        let callee = &self.prog.funcs[func as usize];
        let mut vals = Vec::new();
        for a in args {
            vals.push(self.lane_expr(cx, a)?);
        }
        cx.frames.push(Frame {
            id,
            vars: HashMap::new(),
            ret: vec![],
            loops: vec![],
        });
        let top = cx.frames.len() - 1;
        for (&p, v) in callee.params.iter().zip(&vals) {
            let ty = callee.vars[p as usize].ty.clone();
            let slots = if matches!(ty, Ty::Array { .. }) {
                let Slot::U(ptr) = v[0] else {
                    return Err("a varying array argument".into());
                };
                let x = self.b.declare_var(types::I64);
                self.b.def_var(x, ptr);
                vec![VarSlot::U(x)]
            } else {
                let s = self.lane_declare(cx, top, p, &ty);
                let saved = cx.ctl;
                cx.ctl = false;
                self.write_slots(cx, &s, v, false);
                cx.ctl = saved;
                s
            };
            cx.frames[top].vars.insert(p, slots);
        }
        let ret_varying = cx.plan.frames[id].ret_varying;
        let ret: Vec<VarSlot> = lane_clif(&callee.ret)
            .into_iter()
            .map(|(vt, st)| {
                if ret_varying {
                    let vs: Vec<Variable> = (0..groups()).map(|_| self.b.declare_var(vt)).collect();
                    let z = self.zero_vec(vt);
                    vs.iter().for_each(|&x| self.b.def_var(x, z));
                    VarSlot::V(vs)
                } else {
                    let x = self.b.declare_var(st);
                    let z = self.zero(st);
                    self.b.def_var(x, z);
                    VarSlot::U(x)
                }
            })
            .collect();
        cx.frames[top].ret = ret.clone();
        let entry = self.use_mask(&cx.cur);
        let saved = cx.ctl;
        cx.ctl = false;
        let body = callee.body.clone();
        self.lane_stmts(cx, &body)?;
        cx.ctl = saved;
        cx.frames.pop();
        // Every lane that called is back, less those that failed inside.
        let failed = self.use_mask(&cx.failed);
        let back = self.and_not(&entry, &failed);
        self.def_mask(&cx.cur.clone(), &back);
        Ok(ret
            .iter()
            .map(|s| match s {
                VarSlot::U(x) => Slot::U(self.b.use_var(*x)),
                VarSlot::V(xs) => Slot::V(xs.iter().map(|&x| self.b.use_var(x)).collect()),
            })
            .collect())
    }
}

/// Whether a branch is only assignments to names, `break`/`continue`/`return` and pure
/// expressions: cheaper to run under a mask than to test for.
fn cheap_branch(body: &[Stmt]) -> bool {
    let mut cheap = true;
    crate::codegen::walk::visit(body, &mut |n| match n {
        crate::codegen::walk::Node::Stmt(s) => match s {
            Stmt::Assign { place, .. } => cheap &= !matches!(place, Place::Elem { .. }),
            Stmt::If { .. } | Stmt::Break | Stmt::Continue | Stmt::Return(_) | Stmt::Line(_) => {}
            _ => cheap = false,
        },
        crate::codegen::walk::Node::Expr(e) => {
            cheap &= !matches!(e.kind, ExprKind::Call { .. } | ExprKind::Index { .. })
        }
    });
    cheap && body.len() <= 4
}

/// Whether a loop body has a `break` and a `continue` of its own (not of a loop inside).
fn loop_exits(body: &[Stmt]) -> (bool, bool) {
    let mut out = (false, false);
    for s in body {
        match s {
            Stmt::Break => out.0 = true,
            Stmt::Continue => out.1 = true,
            Stmt::If { then, els, .. } => {
                for b in [then, els] {
                    let (x, y) = loop_exits(b);
                    out.0 |= x;
                    out.1 |= y;
                }
            }
            _ => {}
        }
    }
    out
}
