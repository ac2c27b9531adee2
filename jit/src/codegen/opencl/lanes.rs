//! The lane kernel of a `@gpu` loop, for CPU devices: each work-item runs [`W`] consecutive
//! flat iterations of the loop side by side in `double16`/`long16` vectors (SPMD on SIMD),
//! because PoCL does not vectorise a divergent loop across work-items. What runs in lanes
//! and which values are uniform or varying is `codegen::lanes::plan`'s; this file writes it
//! as OpenCL C.
//!
//! Uniform values stay scalars; varying ones are vectors, varying bools `long16` masks (-1
//! true, 0 false, as vector comparisons give). Control flow that differs between lanes runs
//! under masks: a stack of mask variables (the frame's lanes, a loop's, an iteration's, a
//! branch's), each a subset of the one below; `break`, `continue`, `return` and a failing
//! lane clear their lanes from the levels down to the one they leave. Every user function
//! the loop calls is inlined, one frame per call site, with its own variables. A varying
//! assignment keeps the other lanes' values (`select`); array elements are read and written
//! lane by lane, only for live lanes, bounds checked per lane. A failing lane records its
//! own flat iteration (`atom_min`, as the scalar kernel does) and leaves; the runtime replays
//! that iteration with the scalar kernel, which reports the serial error.
//!
//! The lane kernel sits in the same source as the scalar one, under `#if KILN_LANES`: the
//! runtime builds with `-DKILN_LANES=1` only for CPU devices (never for the replay).

use super::ctypes::{float_lit, int_lit};
use super::emit::{global_name, reduction_c, var_name, Unit};
use super::{gpu_err, GResult, LOCAL_SIZE};
use crate::codegen::lanes::Plan;
use crate::ir::{
    self, BinOp, Builtin, CmpOp, Expr, ExprKind, MathFn, Place, Program, SiteId, Stmt, UnOp, VarId,
};
use crate::types::Ty;
use kiln_runtime::DType;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Iterations per work-item in a lane kernel.
pub const W: usize = 16;

/// A value in lane code: a C expression that is either uniform (a scalar) or varying (a
/// vector), or a tuple of such.
#[derive(Clone, Debug)]
enum LV {
    One(String, bool),
    Tup(Vec<LV>),
}

fn one(t: impl Into<String>, vary: bool) -> LV {
    LV::One(t.into(), vary)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// The lanes in a frame (frame 0: the lanes alive in this work-item).
    Frame,
    /// The lanes still in a loop whose lanes leave at different times.
    Loop,
    /// The lanes still in the current iteration of such a loop.
    Iter,
    /// The lanes of a branch.
    Cond,
}

struct Level {
    name: String,
    kind: Kind,
}

struct FrameCtx {
    /// Index of the frame's level in `levels`.
    level: usize,
    ret: LV,
    ret_varying: bool,
    ret_ty: Ty,
}

struct Lanes<'a, 'p> {
    u: &'a mut Unit<'p>,
    plan: &'a Plan,
    prog: &'p Program,
    out: String,
    indent: usize,
    tmp: u32,
    levels: Vec<Level>,
    /// The loops being emitted, innermost last: true for a loop every lane runs alike (a C
    /// loop with C `break`/`continue`).
    loops: Vec<bool>,
    frames: Vec<FrameCtx>,
    /// Array parameters of inlined frames: the C name of the caller's array.
    arrays: HashMap<(usize, VarId), String>,
    /// Frame 0's variables private to an iteration (the others are captured).
    private: &'a HashSet<VarId>,
    bounds_checks: bool,
    nesting: usize,
    /// Frame 0's reduction accumulators.
    accs: HashSet<VarId>,
}

type LResult<T> = GResult<T>;

fn bad<T>(what: impl Into<String>) -> LResult<T> {
    gpu_err(0, what, "")
}

/// The C type of a lane value.
fn ctype(t: &Ty, vary: bool) -> LResult<&'static str> {
    Ok(match (t, vary) {
        (Ty::Bool, false) => "bool",
        (Ty::I64, false) => "long",
        (Ty::F64, false) => "double",
        (Ty::Bool | Ty::I64, true) => "long16",
        (Ty::F64, true) => "double16",
        (t, _) => return bad(format!("a {} value in lanes", t.python_name())),
    })
}

fn zero(t: &Ty, vary: bool) -> &'static str {
    match (t, vary) {
        (Ty::Bool, false) => "false",
        (Ty::I64, false) => "0L",
        (Ty::F64, false) => "0.0",
        (Ty::F64, true) => "(double16)(0.0)",
        _ => "(long16)(0L)",
    }
}

/// A uniform value as a vector of its lanes.
fn widen(t: &Ty, s: &str) -> String {
    match t {
        Ty::F64 => format!("(double16)({s})"),
        Ty::Bool => format!("(long16)(-(long)({s}))"),
        _ => format!("(long16)({s})"),
    }
}

fn vec_of(t: &Ty, s: &str, vary: bool) -> String {
    if vary {
        s.to_string()
    } else {
        widen(t, s)
    }
}

fn is_atom(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '>' | '-'))
        && !v.starts_with('-')
        && !v.contains("--")
}

/// An expression that neither reads memory nor calls: evaluating it in every lane is safe.
fn pure(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Index { .. } | ExprKind::Call { .. } => false,
        _ => {
            let mut ok = true;
            crate::codegen::lanes::children(e, &mut |c| ok &= pure(c));
            ok
        }
    }
}

const SPILL_EVERY: usize = 24;

impl<'a, 'p> Lanes<'a, 'p> {
    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn fresh(&mut self, p: &str) -> String {
        self.tmp += 1;
        format!("{p}{}", self.tmp)
    }

    fn need_fp64(&mut self, t: &Ty) {
        if *t == Ty::F64 {
            self.u.types.fp64 = true;
        }
    }

    fn temp(&mut self, t: &Ty, vary: bool, value: &str) -> LResult<String> {
        self.need_fp64(t);
        let n = self.fresh("t");
        let ct = ctype(t, vary)?;
        self.line(&format!("{ct} {n} = {value};"));
        Ok(n)
    }

    /// Every part of `v` in a temporary unless it is already a name or a literal.
    fn spill(&mut self, t: &Ty, v: LV) -> LResult<LV> {
        match (v, t) {
            (LV::One(s, vary), t) => {
                if is_atom(&s) {
                    Ok(LV::One(s, vary))
                } else {
                    Ok(LV::One(self.temp(t, vary, &s)?, vary))
                }
            }
            (LV::Tup(items), Ty::Tuple(ts)) => {
                let mut out = Vec::new();
                for (it, t) in items.into_iter().zip(ts.iter()) {
                    out.push(self.spill(t, it)?);
                }
                Ok(LV::Tup(out))
            }
            _ => bad("a tuple of the wrong type"),
        }
    }

    fn cur(&self) -> String {
        self.levels.last().expect("frame 0's level").name.clone()
    }

    fn push_level(&mut self, kind: Kind, name: String) {
        self.levels.push(Level { name, kind });
    }

    /// Take the lanes of `mask` out of every level from `from` up.
    fn clear_from(&mut self, from: usize, mask: &str) {
        let x = self.fresh("kx");
        self.line(&format!("long16 {x} = {mask};"));
        for k in from..self.levels.len() {
            let n = self.levels[k].name.clone();
            self.line(&format!("{n} &= ~{x};"));
        }
    }

    /// The lanes of `mask` fail: each records its flat iteration and leaves.
    fn fail_lanes(&mut self, mask: &str) {
        self.line(&format!("if (any({mask})) {{"));
        self.indent += 1;
        self.line(&format!("kiln_lane_fail(C, {mask});"));
        self.clear_from(0, mask);
        self.indent -= 1;
        self.line("}");
    }

    // ----- variables -----------------------------------------------------------------------

    fn func(&self, frame: usize) -> &'p ir::Func {
        &self.prog.funcs[self.plan.frames[frame].func as usize]
    }

    fn vname(&self, frame: usize, v: VarId) -> String {
        let f = self.func(frame);
        if frame == 0 {
            var_name(f, v)
        } else {
            format!("f{frame}_{}", var_name(f, v))
        }
    }

    fn var_lv(&self, frame: usize, v: VarId) -> LResult<LV> {
        let f = self.func(frame);
        let ty = &f.vars[v as usize].ty;
        let vary = self.plan.var_varying(frame, v);
        let base = self.vname(frame, v);
        let captured = frame == 0 && !self.private.contains(&v);
        Ok(match ty {
            Ty::Tuple(items) => LV::Tup(
                (0..items.len())
                    .map(|k| {
                        if captured {
                            one(format!("{base}.f{k}"), false)
                        } else {
                            one(format!("{base}_f{k}"), vary)
                        }
                    })
                    .collect(),
            ),
            Ty::Array { .. } => return bad("an array as a value"),
            _ => one(base, vary && !captured),
        })
    }

    fn declare(&mut self, name: &str, t: &Ty, vary: bool) -> LResult<()> {
        match t {
            Ty::Tuple(items) => {
                for (k, it) in items.iter().enumerate() {
                    self.declare(&format!("{name}_f{k}"), it, vary)?;
                }
                Ok(())
            }
            Ty::None | Ty::Array { .. } => Ok(()),
            t => {
                self.need_fp64(t);
                let ct = ctype(t, vary)?;
                let z = zero(t, vary);
                self.line(&format!("{ct} {name} = {z};"));
                Ok(())
            }
        }
    }

    fn lv_of(&self, name: &str, t: &Ty, vary: bool) -> LV {
        match t {
            Ty::Tuple(items) => LV::Tup(
                items
                    .iter()
                    .enumerate()
                    .map(|(k, it)| self.lv_of(&format!("{name}_f{k}"), it, vary))
                    .collect(),
            ),
            _ => one(name, vary),
        }
    }

    /// `dst = src`, keeping the other lanes' values of a varying `dst` when `blend`.
    fn set(&mut self, dst: &LV, src: &LV, t: &Ty, blend: bool) -> LResult<()> {
        self.set_as(dst, src, t, blend, false)
    }

    /// `set`; `always`: blend even at a frame's own level (a call's result, which the
    /// lanes that returned earlier keep).
    fn set_as(&mut self, dst: &LV, src: &LV, t: &Ty, blend: bool, always: bool) -> LResult<()> {
        match (dst, src, t) {
            (LV::Tup(ds), LV::Tup(ss), Ty::Tuple(ts)) => {
                for ((d, s), t) in ds.iter().zip(ss).zip(ts.iter()) {
                    self.set_as(d, s, t, blend, always)?;
                }
                Ok(())
            }
            (LV::One(d, dv), LV::One(s, sv), t) => {
                if *dv {
                    let v = vec_of(t, s, *sv);
                    // Lanes outside the current mask keep their values only where some are
                    // still in the frame (a branch, a loop's exits): at a frame's own level
                    // every lane not in it has left the frame and reads none of its
                    // variables again.
                    if blend
                        && (always || self.levels.last().is_some_and(|l| l.kind != Kind::Frame))
                    {
                        let c = self.cur();
                        self.line(&format!("{d} = select({d}, {v}, {c});"));
                    } else {
                        self.line(&format!("{d} = {v};"));
                    }
                } else {
                    if *sv {
                        return bad("a varying value into a uniform variable");
                    }
                    self.line(&format!("{d} = {s};"));
                }
                Ok(())
            }
            _ => bad("a tuple assigned to a non-tuple"),
        }
    }

    fn array_name(&mut self, frame: usize, a: &Expr) -> LResult<String> {
        match a.kind {
            ExprKind::Var(v) => {
                if frame == 0 {
                    Ok(var_name(self.func(0), v))
                } else {
                    match self.arrays.get(&(frame, v)) {
                        Some(n) => Ok(n.clone()),
                        None => bad("an array that is not a parameter"),
                    }
                }
            }
            ExprKind::Global(g) => {
                self.u.globals.insert(g);
                Ok(format!("C->{}", global_name(self.prog, g)))
            }
            _ => bad("an array it computes"),
        }
    }

    // ----- statements ----------------------------------------------------------------------

    fn block(&mut self, frame: usize, body: &[Stmt]) -> LResult<()> {
        for s in body {
            self.stmt(frame, s)?;
        }
        Ok(())
    }

    fn nested(&mut self, frame: usize, body: &[Stmt]) -> LResult<()> {
        self.indent += 1;
        let r = self.block(frame, body);
        self.indent -= 1;
        r
    }

    fn assign_place(&mut self, frame: usize, p: &Place, v: &LV, t: &Ty) -> LResult<()> {
        match p {
            Place::Var(id) if frame == 0 && self.accs.contains(id) => {
                // A reduction's per-lane partial: dead lanes keep theirs (the identity).
                let (LV::One(d, _), LV::One(s, sv)) = (self.var_lv(frame, *id)?, v) else {
                    return bad("a tuple reduction");
                };
                let v = vec_of(t, s, *sv);
                let c = self.cur();
                self.line(&format!("{d} = select({d}, {v}, {c});"));
                Ok(())
            }
            Place::Var(id) => {
                let d = self.var_lv(frame, *id)?;
                self.set(&d, v, t, true)
            }
            Place::Tuple(items) => {
                let (LV::Tup(vs), Ty::Tuple(ts)) = (v, t) else {
                    return bad("unpacking a non-tuple");
                };
                for ((p, v), t) in items.iter().zip(vs).zip(ts.iter()) {
                    self.assign_place(frame, p, v, t)?;
                }
                Ok(())
            }
            Place::Elem { array, index, site } => {
                let LV::One(s, sv) = v else {
                    return bad("a tuple into an element");
                };
                self.store(frame, array, index, *site, s, *sv)
            }
            Place::Global(_) => bad("assigns a global"),
        }
    }

    fn stmt(&mut self, frame: usize, s: &Stmt) -> LResult<()> {
        match s {
            Stmt::Assign { place, value } => {
                let v = self.expr(frame, value)?;
                let v = if matches!(place, Place::Tuple(_)) {
                    self.spill(&value.ty, v)?
                } else {
                    v
                };
                self.assign_place(frame, place, &v, &value.ty)
            }
            Stmt::Eval(e) => {
                self.expr(frame, e)?;
                Ok(())
            }
            Stmt::If { cond, then, els } => {
                let (c, cv) = self.scalar(frame, cond)?;
                if !cv {
                    self.line(&format!("if ({c}) {{"));
                    self.nested(frame, then)?;
                    if !els.is_empty() {
                        self.line("} else {");
                        self.nested(frame, els)?;
                    }
                    self.line("}");
                    return Ok(());
                }
                let cur = self.cur();
                let c = if is_atom(&c) {
                    c
                } else {
                    self.temp(&Ty::Bool, true, &c)?
                };
                let mt = self.fresh("km");
                self.line(&format!("long16 {mt} = {cur} & {c};"));
                let me = self.fresh("km");
                if !els.is_empty() {
                    self.line(&format!("long16 {me} = {cur} & ~{c};"));
                }
                self.line(&format!("if (any({mt})) {{"));
                self.push_level(Kind::Cond, mt);
                let r = self.nested(frame, then);
                self.levels.pop();
                r?;
                self.line("}");
                if !els.is_empty() {
                    self.line(&format!("if (any({me})) {{"));
                    self.push_level(Kind::Cond, me);
                    let r = self.nested(frame, els);
                    self.levels.pop();
                    r?;
                    self.line("}");
                }
                Ok(())
            }
            Stmt::While { cond, body } => {
                if !self.plan.loop_diverges(frame, Some(cond), &[], body) {
                    let cur = self.cur();
                    self.line("for (;;) {");
                    self.indent += 1;
                    self.line(&format!("if (!any({cur})) break;"));
                    let (c, cv) = self.scalar(frame, cond)?;
                    if cv {
                        return bad("a uniform loop with a varying condition");
                    }
                    self.line(&format!("if (!({c})) break;"));
                    self.loops.push(true);
                    let r = self.block(frame, body);
                    self.loops.pop();
                    r?;
                    self.indent -= 1;
                    self.line("}");
                    return Ok(());
                }
                let cur = self.cur();
                let lm = self.fresh("kl");
                self.line(&format!("long16 {lm} = {cur};"));
                self.line("for (;;) {");
                self.indent += 1;
                self.push_level(Kind::Loop, lm.clone());
                let r = (|| -> LResult<()> {
                    let (c, cv) = self.scalar(frame, cond)?;
                    let c = vec_of(&Ty::Bool, &c, cv);
                    self.line(&format!("{lm} &= {c};"));
                    self.line(&format!("if (!any({lm})) break;"));
                    let cm = self.fresh("kc");
                    self.line(&format!("long16 {cm} = {lm};"));
                    self.push_level(Kind::Iter, cm);
                    self.loops.push(false);
                    let r = self.block(frame, body);
                    self.loops.pop();
                    self.levels.pop();
                    r
                })();
                self.levels.pop();
                r?;
                self.indent -= 1;
                self.line("}");
                Ok(())
            }
            Stmt::For {
                vars,
                ranges,
                body,
                site,
                ..
            } => self.serial_for(frame, vars, ranges, body, *site),
            Stmt::Break | Stmt::Continue => {
                let is_break = matches!(s, Stmt::Break);
                match self.loops.last() {
                    Some(true) => self.line(if is_break { "break;" } else { "continue;" }),
                    Some(false) => {
                        let want = if is_break { Kind::Loop } else { Kind::Iter };
                        let Some(at) = self.levels.iter().rposition(|l| l.kind == want) else {
                            return bad("a loop exit outside its loop");
                        };
                        let cur = self.cur();
                        self.clear_from(at, &cur);
                    }
                    None => {
                        // The @gpu loop's own body: the lanes are done with this iteration.
                        let at = self.frames.last().map_or(0, |f| f.level);
                        let cur = self.cur();
                        self.clear_from(at, &cur);
                    }
                }
                Ok(())
            }
            Stmt::Line(_) => Ok(()),
            Stmt::Return(Some(e)) => {
                let Some(fc) = self.frames.last() else {
                    return bad("returns from the loop");
                };
                let (level, ret, rv, rt) =
                    (fc.level, fc.ret.clone(), fc.ret_varying, fc.ret_ty.clone());
                let v = self.expr(frame, e)?;
                let v = self.spill(&e.ty, v)?;
                let cur = self.cur();
                if rv {
                    self.set_as(&ret, &v, &rt, true, true)?;
                } else {
                    self.line(&format!("if (any({cur})) {{"));
                    self.indent += 1;
                    self.set(&ret, &v, &rt, false)?;
                    self.indent -= 1;
                    self.line("}");
                }
                self.clear_from(level, &cur);
                Ok(())
            }
            Stmt::Return(None) => bad("returns None"),
            Stmt::Print { .. } => bad("calls print"),
            Stmt::MapInto { .. } => bad("assigns to a slice"),
        }
    }

    fn serial_for(
        &mut self,
        frame: usize,
        vars: &[Place],
        ranges: &[ir::Range],
        body: &[Stmt],
        _site: SiteId,
    ) -> LResult<()> {
        let [r] = ranges else {
            return bad("an ndrange loop inside");
        };
        let [Place::Var(v)] = vars else {
            return bad("a loop variable that is not a name");
        };
        let var = self.var_lv(frame, *v)?;
        let LV::One(vn, vv) = var.clone() else {
            return bad("a tuple loop variable");
        };
        let (start, sv) = self.scalar(frame, &r.start)?;
        let start = self.temp(&Ty::I64, sv, &start)?;
        let (stop, tv) = self.scalar(frame, &r.stop)?;
        let stop = self.temp(&Ty::I64, tv, &stop)?;
        let step_const = match r.step.kind {
            ExprKind::Int(k) => Some(k),
            _ => None,
        };
        let (step, pv) = self.scalar(frame, &r.step)?;
        let step = self.temp(&Ty::I64, pv, &step)?;
        if step_const.is_none() {
            // range() with a zero step raises; the scalar replay says so.
            let cur = self.cur();
            let z = if pv {
                format!("({cur} & ({step} == (long16)(0L)))")
            } else {
                format!("({cur} & (long16)(-(long)({step} == 0L)))")
            };
            let bad = self.temp(&Ty::Bool, true, &z)?;
            self.fail_lanes(&bad);
        }
        let diverges = self.plan.loop_diverges(frame, None, ranges, body);
        let cur = self.cur();
        if !sv && !tv && !pv {
            // Uniform bounds: a scalar counter; a varying loop variable takes its value in
            // the lanes still in the loop.
            let k = self.fresh("kk");
            let test = match step_const {
                Some(s) if s > 0 => format!("{k} < {stop}"),
                Some(_) => format!("{k} > {stop}"),
                None => format!("({step} > 0 ? {k} < {stop} : {k} > {stop})"),
            };
            let lm = if diverges {
                let lm = self.fresh("kl");
                self.line(&format!("long16 {lm} = {cur};"));
                lm
            } else {
                cur.clone()
            };
            let setv = |s: &mut Self, mask: &str| {
                if vv {
                    s.line(&format!("{vn} = select({vn}, (long16)({k}), {mask});"));
                } else {
                    s.line(&format!("{vn} = {k};"));
                }
            };
            self.line(&format!("long {k};"));
            self.line(&format!("for ({k} = {start}; {test}; {k} += {step}) {{"));
            self.indent += 1;
            self.line(&format!("if (!any({lm})) break;"));
            setv(self, &lm);
            if diverges {
                self.push_level(Kind::Loop, lm.clone());
                let cm = self.fresh("kc");
                self.line(&format!("long16 {cm} = {lm};"));
                self.push_level(Kind::Iter, cm);
                self.loops.push(false);
                let r = self.block(frame, body);
                self.loops.pop();
                self.levels.pop();
                self.levels.pop();
                r?;
            } else {
                self.loops.push(true);
                let r = self.block(frame, body);
                self.loops.pop();
                r?;
            }
            self.indent -= 1;
            self.line("}");
            // Python leaves the counter as the scalar kernel's C loop does.
            setv(self, &lm);
            return Ok(());
        }
        if !vv {
            return bad("a uniform counter of a loop with varying bounds");
        }
        let (start, stop, step) = (
            vec_of(&Ty::I64, &start, sv),
            vec_of(&Ty::I64, &stop, tv),
            vec_of(&Ty::I64, &step, pv),
        );
        let lm = self.fresh("kl");
        self.line(&format!("long16 {lm} = {cur};"));
        let k = self.fresh("kk");
        self.line(&format!("long16 {k} = {start};"));
        let test = match step_const {
            Some(s) if s > 0 => format!("({k} < {stop})"),
            Some(_) => format!("({k} > {stop})"),
            None => format!("select({k} > {stop}, {k} < {stop}, {step} > (long16)(0L))"),
        };
        self.line("for (;;) {");
        self.indent += 1;
        let t = self.fresh("kt");
        self.line(&format!("long16 {t} = {test};"));
        // Lanes leaving normally keep the counter's last value, as the scalar C loop does.
        self.line(&format!("{vn} = select({vn}, {k}, {lm} & ~{t});"));
        self.line(&format!("{lm} &= {t};"));
        self.line(&format!("if (!any({lm})) break;"));
        self.line(&format!("{vn} = select({vn}, {k}, {lm});"));
        self.push_level(Kind::Loop, lm.clone());
        let cm = self.fresh("kc");
        self.line(&format!("long16 {cm} = {lm};"));
        self.push_level(Kind::Iter, cm);
        self.loops.push(false);
        let r = self.block(frame, body);
        self.loops.pop();
        self.levels.pop();
        self.levels.pop();
        r?;
        self.line(&format!(
            "{k} = as_long16(as_ulong16({k}) + as_ulong16({step}));"
        ));
        self.indent -= 1;
        self.line("}");
        Ok(())
    }

    // ----- expressions ---------------------------------------------------------------------

    fn scalar(&mut self, frame: usize, e: &Expr) -> LResult<(String, bool)> {
        match self.expr(frame, e)? {
            LV::One(s, v) => Ok((s, v)),
            LV::Tup(_) => bad("a tuple where a number was expected"),
        }
    }

    /// A scalar operand that may be repeated in the text.
    fn atom(&mut self, frame: usize, e: &Expr) -> LResult<(String, bool)> {
        let (s, v) = self.scalar(frame, e)?;
        if is_atom(&s) {
            Ok((s, v))
        } else {
            Ok((self.temp(&e.ty, v, &s)?, v))
        }
    }

    fn expr(&mut self, frame: usize, e: &Expr) -> LResult<LV> {
        self.nesting += 1;
        let r = self.expr_text(frame, e);
        self.nesting -= 1;
        let r = r?;
        if let LV::One(s, v) = &r {
            if self.nesting > 0 && self.nesting.is_multiple_of(SPILL_EVERY) && !is_atom(s) {
                return Ok(one(self.temp(&e.ty, *v, s)?, *v));
            }
        }
        Ok(r)
    }

    fn expr_text(&mut self, frame: usize, e: &Expr) -> LResult<LV> {
        Ok(match &e.kind {
            ExprKind::Bool(b) => one(if *b { "true" } else { "false" }, false),
            ExprKind::Int(v) => one(int_lit(*v), false),
            ExprKind::Float(v) => {
                self.u.types.fp64 = true;
                one(float_lit(*v, false), false)
            }
            ExprKind::Var(v) => self.var_lv(frame, *v)?,
            ExprKind::Global(g) => {
                self.u.globals.insert(*g);
                let n = format!("C->{}", global_name(self.prog, *g));
                match &e.ty {
                    Ty::Tuple(items) => LV::Tup(
                        (0..items.len())
                            .map(|k| one(format!("{n}.f{k}"), false))
                            .collect(),
                    ),
                    _ => one(n, false),
                }
            }
            ExprKind::Cast(a) => {
                let (x, v) = self.scalar(frame, a)?;
                self.need_fp64(&e.ty);
                let t = match (&a.ty, &e.ty, v) {
                    (f, t, _) if f == t => x,
                    (Ty::I64, Ty::F64, true) => format!("convert_double16({x})"),
                    (Ty::Bool, Ty::F64, true) => format!("convert_double16(-({x}))"),
                    (Ty::Bool, Ty::I64, true) => format!("(-({x}))"),
                    (_, Ty::F64, false) => format!("(double)({x})"),
                    (_, Ty::I64, false) => format!("(long)({x})"),
                    (f, t, _) => return bad(format!("a conversion from {f} to {t}")),
                };
                one(t, v)
            }
            ExprKind::Unary(op, a) => {
                let (x, v) = self.scalar(frame, a)?;
                let t = match (op, &a.ty, v) {
                    (UnOp::Neg, Ty::I64, false) => format!("(long)(0UL - (ulong)({x}))"),
                    (UnOp::Neg, Ty::I64, true) => {
                        format!("as_long16((ulong16)(0UL) - as_ulong16({x}))")
                    }
                    (UnOp::Neg, Ty::F64, _) => format!("(-({x}))"),
                    (UnOp::Not, _, false) | (UnOp::Invert, Ty::Bool, false) => {
                        format!("(!({x}))")
                    }
                    (UnOp::Not, Ty::Bool, true) | (UnOp::Invert, _, _) => format!("(~({x}))"),
                    (op, t, _) => return bad(format!("{op:?} on {t}")),
                };
                one(t, v)
            }
            ExprKind::Binary(op, a, b, _) => {
                let x = self.scalar(frame, a)?;
                let y = self.scalar(frame, b)?;
                self.binary(*op, &e.ty, x, y)?
            }
            ExprKind::Compare(op, a, b) => {
                let (x, xv) = self.scalar(frame, a)?;
                let (y, yv) = self.scalar(frame, b)?;
                let s = op.symbol();
                if !xv && !yv {
                    one(format!("({x} {s} {y})"), false)
                } else {
                    let (x, y) = (vec_of(&a.ty, &x, xv), vec_of(&b.ty, &y, yv));
                    let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
                    if a.ty == Ty::Bool && ordered {
                        // Masks are -1 for true: compare 0/1 as Python does.
                        one(format!("((-({x})) {s} (-({y})))"), true)
                    } else {
                        one(format!("({x} {s} {y})"), true)
                    }
                }
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let (x, xv) = self.atom(frame, a)?;
                if pure(b) {
                    let (y, yv) = self.scalar(frame, b)?;
                    if !xv && !yv {
                        let op = if is_and { "&&" } else { "||" };
                        one(format!("({x} {op} {y})"), false)
                    } else {
                        let op = if is_and { "&" } else { "|" };
                        let (x, y) = (vec_of(&Ty::Bool, &x, xv), vec_of(&Ty::Bool, &y, yv));
                        one(format!("({x} {op} {y})"), true)
                    }
                } else if !xv {
                    let yv = self.plan.varying(frame, b);
                    let t = self.temp(&Ty::Bool, yv, &vec_of(&Ty::Bool, &x, !yv))?;
                    let c = if is_and { x } else { format!("!({x})") };
                    self.line(&format!("if ({c}) {{"));
                    self.indent += 1;
                    let (y, v2) = self.scalar(frame, b)?;
                    if v2 && !yv {
                        return bad("a varying operand the plan calls uniform");
                    }
                    let y = if yv { vec_of(&Ty::Bool, &y, v2) } else { y };
                    self.line(&format!("{t} = {y};"));
                    self.indent -= 1;
                    self.line("}");
                    one(t, yv)
                } else {
                    let t = self.temp(&Ty::Bool, true, &x)?;
                    let cur = self.cur();
                    let m = self.fresh("km");
                    let sel = if is_and { x } else { format!("~{x}") };
                    self.line(&format!("long16 {m} = {cur} & {sel};"));
                    self.line(&format!("if (any({m})) {{"));
                    self.indent += 1;
                    self.push_level(Kind::Cond, m.clone());
                    let r = self.scalar(frame, b);
                    self.levels.pop();
                    let (y, yv) = r?;
                    let y = vec_of(&Ty::Bool, &y, yv);
                    self.line(&format!("{t} = select({t}, {y}, {m});"));
                    self.indent -= 1;
                    self.line("}");
                    one(t, true)
                }
            }
            ExprKind::Let(v, a, b) => {
                let x = self.expr(frame, a)?;
                let d = self.var_lv(frame, *v)?;
                self.set(&d, &x, &a.ty, true)?;
                self.expr(frame, b)?
            }
            ExprKind::Select(c, a, b) => {
                let (cv_text, cv) = self.atom(frame, c)?;
                if matches!(e.ty, Ty::Tuple(_)) {
                    return bad("a conditional tuple");
                }
                if pure(a) && pure(b) {
                    let (x, xv) = self.scalar(frame, a)?;
                    let (y, yv) = self.scalar(frame, b)?;
                    if !cv && !xv && !yv {
                        one(format!("(({cv_text}) ? {x} : {y})"), false)
                    } else {
                        let (x, y) = (vec_of(&e.ty, &x, xv), vec_of(&e.ty, &y, yv));
                        let c = vec_of(&Ty::Bool, &cv_text, cv);
                        one(format!("select({y}, {x}, {c})"), true)
                    }
                } else if !cv {
                    let rv = self.plan.varying(frame, a) || self.plan.varying(frame, b);
                    self.need_fp64(&e.ty);
                    let t = self.fresh("t");
                    let ct = ctype(&e.ty, rv)?;
                    self.line(&format!("{ct} {t} = {};", zero(&e.ty, rv)));
                    self.line(&format!("if ({cv_text}) {{"));
                    self.indent += 1;
                    let (x, xv) = self.scalar(frame, a)?;
                    let x = if rv { vec_of(&e.ty, &x, xv) } else { x };
                    self.line(&format!("{t} = {x};"));
                    self.indent -= 1;
                    self.line("} else {");
                    self.indent += 1;
                    let (y, yv) = self.scalar(frame, b)?;
                    let y = if rv { vec_of(&e.ty, &y, yv) } else { y };
                    self.line(&format!("{t} = {y};"));
                    self.indent -= 1;
                    self.line("}");
                    one(t, rv)
                } else {
                    self.need_fp64(&e.ty);
                    let t = self.fresh("t");
                    let ct = ctype(&e.ty, true)?;
                    self.line(&format!("{ct} {t} = {};", zero(&e.ty, true)));
                    let cur = self.cur();
                    let mt = self.fresh("km");
                    let me = self.fresh("km");
                    self.line(&format!("long16 {mt} = {cur} & {cv_text};"));
                    self.line(&format!("long16 {me} = {cur} & ~{cv_text};"));
                    for (m, arm) in [(mt, a), (me, b)] {
                        self.line(&format!("if (any({m})) {{"));
                        self.indent += 1;
                        self.push_level(Kind::Cond, m.clone());
                        let r = self.scalar(frame, arm);
                        self.levels.pop();
                        let (x, xv) = r?;
                        let x = vec_of(&e.ty, &x, xv);
                        self.line(&format!("{t} = select({t}, {x}, {m});"));
                        self.indent -= 1;
                        self.line("}");
                    }
                    one(t, true)
                }
            }
            ExprKind::Tuple(items) => {
                let mut out = Vec::new();
                for it in items {
                    let v = self.expr(frame, it)?;
                    out.push(self.spill(&it.ty, v)?);
                }
                LV::Tup(out)
            }
            ExprKind::TupleGet(a, k) => match self.expr(frame, a)? {
                LV::Tup(mut items) if (*k as usize) < items.len() => items.swap_remove(*k as usize),
                _ => return bad("an item of a non-tuple"),
            },
            ExprKind::Index { array, index, site } => self.load(frame, array, index, *site)?,
            ExprKind::Call { func, args, .. } => self.call(frame, e, *func, args)?,
            ExprKind::Builtin { op, args, .. } => self.builtin(frame, op, args, &e.ty)?,
            _ => return bad(format!("computes a {} value", e.ty.python_name())),
        })
    }

    fn binary(
        &mut self,
        op: BinOp,
        t: &Ty,
        (x, xv): (String, bool),
        (y, yv): (String, bool),
    ) -> LResult<LV> {
        let v = xv || yv;
        let sym = match (t, op) {
            (Ty::I64 | Ty::F64, BinOp::Add | BinOp::Sub | BinOp::Mul) | (Ty::F64, BinOp::Div) => {
                op.symbol()
            }
            (Ty::I64 | Ty::Bool, BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor) => op.symbol(),
            (t, op) => return bad(format!("{op:?} on {t}")),
        };
        let (x, y) = if v {
            (vec_of(t, &x, xv), vec_of(t, &y, yv))
        } else {
            (x, y)
        };
        // Integer `+ - *` wrap: computed unsigned, as the scalar kernel does.
        let s = match (t, op) {
            (Ty::I64, BinOp::Add | BinOp::Sub | BinOp::Mul) if v => {
                format!("as_long16(as_ulong16({x}) {sym} as_ulong16({y}))")
            }
            (Ty::I64, BinOp::Add | BinOp::Sub | BinOp::Mul) => {
                format!("(long)((ulong)({x}) {sym} (ulong)({y}))")
            }
            _ => format!("({x} {sym} {y})"),
        };
        Ok(one(s, v))
    }

    fn builtin(&mut self, frame: usize, op: &Builtin, args: &[Expr], t: &Ty) -> LResult<LV> {
        match op {
            Builtin::Dim(k) => {
                let a = self.array_name(frame, &args[0])?;
                Ok(one(format!("{a}.n[{k}]"), false))
            }
            Builtin::Size => {
                let a = self.array_name(frame, &args[0])?;
                let Ty::Array { ndim, .. } = args[0].ty else {
                    return bad("the size of a non-array");
                };
                let dims: Vec<String> = (0..ndim).map(|k| format!("{a}.n[{k}]")).collect();
                Ok(one(
                    if dims.is_empty() {
                        "1L".into()
                    } else {
                        format!("({})", dims.join(" * "))
                    },
                    false,
                ))
            }
            Builtin::Abs => {
                let (x, v) = self.atom(frame, &args[0])?;
                Ok(match (t, v) {
                    (Ty::I64, false) => one(
                        format!("(({x} < 0) ? (long)(0UL - (ulong){x}) : {x})"),
                        false,
                    ),
                    (Ty::I64, true) => one(
                        format!(
                            "select({x}, as_long16((ulong16)(0UL) - as_ulong16({x})), {x} < (long16)(0L))"
                        ),
                        true,
                    ),
                    (_, v) => one(format!("fabs({x})"), v),
                })
            }
            Builtin::Min | Builtin::Max if args.len() == 2 => {
                let (a, av) = self.atom(frame, &args[0])?;
                let (b, bv) = self.atom(frame, &args[1])?;
                let rel = if *op == Builtin::Min { "<" } else { ">" };
                if !av && !bv {
                    Ok(one(format!("(({b} {rel} {a}) ? {b} : {a})"), false))
                } else {
                    let (a, b) = (vec_of(t, &a, av), vec_of(t, &b, bv));
                    let (a, b) = if is_atom(&a) && is_atom(&b) {
                        (a, b)
                    } else {
                        (self.temp(t, true, &a)?, self.temp(t, true, &b)?)
                    };
                    Ok(one(format!("select({a}, {b}, {b} {rel} {a})"), true))
                }
            }
            Builtin::Math(MathFn::Sqrt) => {
                let (x, v) = self.scalar(frame, &args[0])?;
                Ok(one(format!("sqrt({x})"), v))
            }
            op => bad(format!("calls {op:?}")),
        }
    }

    /// The element offset of `array[index...]` (checked per lane), and the array's name.
    fn offset(
        &mut self,
        frame: usize,
        array: &Expr,
        index: &[Expr],
    ) -> LResult<(String, String, bool)> {
        let a = self.array_name(frame, array)?;
        let mut terms = Vec::new();
        let mut vary = false;
        for (k, ix) in index.iter().enumerate() {
            let (v, iv) = self.scalar(frame, ix)?;
            vary |= iv;
            let n = format!("{a}.n[{k}]");
            let i = if self.bounds_checks {
                let i = self.temp(&Ty::I64, iv, &v)?;
                let cur = self.cur();
                if iv {
                    self.line(&format!(
                        "{i} = select({i}, {i} + (long16)({n}), {i} < (long16)(0L));"
                    ));
                    let b = self.temp(
                        &Ty::Bool,
                        true,
                        &format!("{cur} & (as_ulong16({i}) >= (ulong16)((ulong)({n})))"),
                    )?;
                    self.fail_lanes(&b);
                } else {
                    self.line(&format!("if ({i} < 0) {i} += {n};"));
                    let b = self.temp(
                        &Ty::Bool,
                        true,
                        &format!("{cur} & (long16)(-(long)((ulong){i} >= (ulong){n}))"),
                    )?;
                    self.fail_lanes(&b);
                }
                i
            } else {
                v
            };
            terms.push((i, iv, format!("{a}.s[{k}]")));
        }
        let mut off = if vary {
            format!("(long16)({a}.off)")
        } else {
            format!("{a}.off")
        };
        for (i, iv, s) in terms {
            if vary {
                let i = vec_of(&Ty::I64, &i, iv);
                off = format!("{off} + {i} * (long16)({s})");
            } else {
                off = format!("{off} + {i} * {s}");
            }
        }
        Ok((a, off, vary))
    }

    fn elem_type(array: &Expr) -> LResult<(Ty, &'static str)> {
        match array.ty {
            Ty::Array {
                dtype: DType::F64, ..
            } => Ok((Ty::F64, "double")),
            Ty::Array {
                dtype: DType::I64, ..
            } => Ok((Ty::I64, "long")),
            _ => bad("an array of another dtype"),
        }
    }

    fn load(&mut self, frame: usize, array: &Expr, index: &[Expr], _site: SiteId) -> LResult<LV> {
        let (t, et) = Self::elem_type(array)?;
        self.need_fp64(&t);
        let (a, off, vary) = self.offset(frame, array, index)?;
        let cur = self.cur();
        if !vary {
            let r = self.temp(&t, false, zero(&t, false))?;
            self.line(&format!("if (any({cur})) {r} = {a}.d[{off}];"));
            return Ok(one(r, false));
        }
        // Every lane alive at consecutive elements: one vector load; else lane by lane.
        let ko = self.temp(&Ty::I64, true, &off)?;
        let r = self.fresh("t");
        let vt = ctype(&t, true)?;
        self.line(&format!("{vt} {r};"));
        self.if_consecutive(&cur, &ko);
        self.line(&format!("    {r} = vload16(0, {a}.d + {ko}.s0);"));
        self.line("} else {");
        self.indent += 1;
        let (ki, km) = self.lanes_in_memory(&cur, &ko);
        let kv = self.fresh("kv");
        self.line(&format!("{et} {kv}[16];"));
        self.line(&format!(
            "for (int l = 0; l < 16; l++) {kv}[l] = {km}[l] ? {a}.d[{ki}[l]] : 0;"
        ));
        self.line(&format!("{r} = vload16(0, {kv});"));
        self.indent -= 1;
        self.line("}");
        Ok(one(r, true))
    }

    /// Opens `if (every lane alive at consecutive elements) {`: one vector move then.
    fn if_consecutive(&mut self, cur: &str, ko: &str) {
        self.line(&format!(
            "if (all({cur}) && all({ko} == (long16)({ko}.s0) + KILN_LANE_IDS)) {{"
        ));
    }

    /// The lanes' element offsets and alive mask as private arrays, for a lane-by-lane
    /// access.
    fn lanes_in_memory(&mut self, cur: &str, ko: &str) -> (String, String) {
        let (ki, km) = (self.fresh("ki"), self.fresh("km"));
        self.line(&format!("long {ki}[16]; vstore16({ko}, 0, {ki});"));
        self.line(&format!("long {km}[16]; vstore16({cur}, 0, {km});"));
        (ki, km)
    }

    fn store(
        &mut self,
        frame: usize,
        array: &Expr,
        index: &[Expr],
        _site: SiteId,
        v: &str,
        vv: bool,
    ) -> LResult<()> {
        let (t, et) = Self::elem_type(array)?;
        self.need_fp64(&t);
        let v = if is_atom(v) {
            v.to_string()
        } else {
            self.temp(&t, vv, v)?
        };
        let (a, off, vary) = self.offset(frame, array, index)?;
        let cur = self.cur();
        if !vary && !vv {
            self.line(&format!("if (any({cur})) {a}.d[{off}] = {v};"));
            return Ok(());
        }
        let off = vec_of(&Ty::I64, &off, vary);
        let val = vec_of(&t, &v, vv);
        let ko = self.temp(&Ty::I64, true, &off)?;
        // Every lane alive at consecutive elements: one vector store; else lane by lane,
        // in lane order (the serial order of the iterations).
        self.if_consecutive(&cur, &ko);
        self.line(&format!("    vstore16({val}, 0, {a}.d + {ko}.s0);"));
        self.line("} else {");
        self.indent += 1;
        let (ki, km) = self.lanes_in_memory(&cur, &ko);
        let kv = self.fresh("kv");
        self.line(&format!("{et} {kv}[16]; vstore16({val}, 0, {kv});"));
        self.line(&format!(
            "for (int l = 0; l < 16; l++) if ({km}[l]) {a}.d[{ki}[l]] = {kv}[l];"
        ));
        self.indent -= 1;
        self.line("}");
        Ok(())
    }

    fn call(&mut self, frame: usize, e: &Expr, f: ir::FuncId, args: &[Expr]) -> LResult<LV> {
        let Some(id) = self.plan.callee(frame, e) else {
            return bad("a call without a frame");
        };
        let callee = &self.prog.funcs[f as usize];
        let mut vals = Vec::new();
        for (&p, a) in callee.params.iter().zip(args) {
            if matches!(callee.vars[p as usize].ty, Ty::Array { .. }) {
                let n = self.array_name(frame, a)?;
                self.arrays.insert((id, p), n);
                vals.push(None);
            } else {
                let v = self.expr(frame, a)?;
                vals.push(Some(self.spill(&a.ty, v)?));
            }
        }
        let rv = self.plan.frames[id].ret_varying;
        let rn = self.fresh("kr");
        self.declare(&rn, &callee.ret, rv)?;
        let ret = self.lv_of(&rn, &callee.ret, rv);
        self.line("{");
        self.indent += 1;
        for (k, var) in callee.vars.iter().enumerate() {
            let n = self.vname(id, k as VarId);
            self.declare(&n, &var.ty, self.plan.var_varying(id, k as VarId))?;
        }
        for (&p, v) in callee.params.iter().zip(vals) {
            if let Some(v) = v {
                let d = self.var_lv(id, p)?;
                self.set(&d, &v, &callee.vars[p as usize].ty, false)?;
            }
        }
        let cur = self.cur();
        let fm = self.fresh("kf");
        self.line(&format!("long16 {fm} = {cur};"));
        self.push_level(Kind::Frame, fm);
        self.frames.push(FrameCtx {
            level: self.levels.len() - 1,
            ret: ret.clone(),
            ret_varying: rv,
            ret_ty: callee.ret.clone(),
        });
        let saved = std::mem::take(&mut self.loops);
        let r = self.block(id, &callee.body);
        self.loops = saved;
        self.frames.pop();
        self.levels.pop();
        r?;
        self.indent -= 1;
        self.line("}");
        Ok(ret)
    }
}

/// Whether some statement of the loop (or of a function it calls) runs under control flow
/// that differs between lanes: a branch on a varying condition, or a loop that lanes leave
/// at different times. Without one, PoCL vectorises the one-iteration-per-work-item kernel
/// across work-items itself, faster than the lane kernel does (measured: the `poly_gpu`
/// bench, 195 ms against 350 ms), so only divergent loops get a lane kernel.
pub(super) fn diverges(prog: &Program, plan: &Plan, body: &[Stmt]) -> bool {
    fn walk(plan: &Plan, frame: usize, body: &[Stmt]) -> bool {
        body.iter().any(|s| match s {
            Stmt::If { cond, then, els } => {
                plan.varying(frame, cond) || walk(plan, frame, then) || walk(plan, frame, els)
            }
            Stmt::While { cond, body } => {
                plan.loop_diverges(frame, Some(cond), &[], body) || walk(plan, frame, body)
            }
            Stmt::For { ranges, body, .. } => {
                plan.loop_diverges(frame, None, ranges, body) || walk(plan, frame, body)
            }
            _ => false,
        })
    }
    (0..plan.frames.len()).any(|k| {
        let b = if k == 0 {
            body
        } else {
            &prog.funcs[plan.frames[k].func as usize].body[..]
        };
        walk(plan, k, b)
    })
}

/// What the kernel assembly needs of a lane body.
pub(super) struct LaneBody {
    pub text: String,
    pub decls: Vec<String>,
}

/// The lane code of one `@gpu` loop's body and the declarations of its private variables,
/// or why it cannot be written (then the loop runs one iteration per work-item everywhere).
#[allow(clippy::too_many_arguments)]
pub(super) fn body<'p>(
    u: &mut Unit<'p>,
    prog: &'p Program,
    fi: usize,
    plan: &Plan,
    body: &[Stmt],
    used: &BTreeSet<VarId>,
    private: &HashSet<VarId>,
    accs: &[VarId],
    indent: usize,
) -> Result<LaneBody, String> {
    let func = &prog.funcs[fi];
    let mut l = Lanes {
        bounds_checks: u.bounds_checks,
        u,
        plan,
        prog,
        out: String::new(),
        indent: 0,
        tmp: 0,
        levels: vec![Level {
            name: "kalive".into(),
            kind: Kind::Frame,
        }],
        loops: Vec::new(),
        frames: Vec::new(),
        arrays: HashMap::new(),
        private,
        nesting: 0,
        accs: accs.iter().copied().collect(),
    };
    let mut decls = Vec::new();
    for &v in used {
        if private.contains(&v) {
            let ty = &func.vars[v as usize].ty;
            l.declare(&var_name(func, v), ty, plan.var_varying(0, v))
                .map_err(|e| e.message)?;
        }
    }
    for d in std::mem::take(&mut l.out).lines() {
        decls.push(d.trim().to_string());
    }
    l.indent = indent;
    l.block(0, body).map_err(|e| e.message)?;
    Ok(LaneBody { text: l.out, decls })
}

/// The helper a failing lane calls: the lowest failing lane's flat iteration into the error
/// buffer, as a failing work-item of the scalar kernel does.
const LANE_FAIL: &str = "void kiln_lane_fail(__private kiln_ctx* C, long16 bad) {
    long b[16];
    vstore16(bad, 0, b);
    for (int l = 0; l < 16; l++)
        if (b[l]) { atom_min((volatile __global long*)&C->err[0], C->kk + l); return; }
}
";

/// What the kernel assembly hands the lane kernel.
pub(super) struct Shape<'a> {
    pub name: &'a str,
    pub params: &'a [String],
    pub prologue: &'a [String],
    pub red_locals: &'a [String],
    pub ndim: usize,
    pub ranges: &'a [ir::Range],
    pub counters: &'a [String],
    pub func: &'a ir::Func,
    pub reductions: &'a [ir::ParReduction],
    pub plan: &'a Plan,
}

/// The lane kernel's text (under `#if KILN_LANES`) and its launch line for `%%opencl`.
pub(super) fn kernel(s: &Shape, b: &LaneBody) -> (String, String) {
    let ndim = s.ndim;
    // clang warns that a `long16` argument of a builtin changes the ABI without AVX-512.
    let mut k = String::from("#if KILN_LANES\n#pragma clang diagnostic ignored \"-Wpsabi\"\n");
    k.push_str(LANE_FAIL);
    let ids = (0..W).map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
    k.push_str(&format!("#define KILN_LANE_IDS ((long16)({ids}))\n"));
    k.push_str(&format!(
        "\n/* {W} consecutive flat iterations per work-item, in vector lanes. */\n__kernel void {}_l{W}(\n    {})\n{{\n",
        s.name,
        s.params.join(",\n    ")
    ));
    for l in s.red_locals {
        k.push_str(&format!("    {l}\n"));
    }
    k.push_str("    kiln_ctx C0;\n    __private kiln_ctx* C = &C0;\n");
    k.push_str("    C->err = kerr; C->only = only; C->failed = 0; C->kk = 0;\n");
    for l in s.prologue {
        k.push_str(&format!("    {l}\n"));
    }
    for l in &b.decls {
        k.push_str(&format!("    {l}\n"));
    }
    let total = (0..ndim)
        .map(|d| format!("count{d}"))
        .collect::<Vec<_>>()
        .join(" * ");
    k.push_str(&format!("    long total = {total};\n"));
    let lanes = (0..W).map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
    let gdecl = (0..ndim)
        .map(|d| format!("g{d}"))
        .collect::<Vec<_>>()
        .join(", ");
    let start = |ind: &str| -> String {
        let mut t = format!(
            "{ind}C->kk = kbase;\n{ind}long16 kalive = ((long16)(kbase) + (long16)({lanes})) < (long16)(total);\n{ind}long16 r = (long16)(kbase) + (long16)({lanes});\n"
        );
        for d in (0..ndim).rev() {
            if d == 0 {
                t.push_str(&format!("{ind}g0 = r;\n"));
            } else {
                t.push_str(&format!(
                    "{ind}g{d} = r % (long16)(count{d}); r = r / (long16)(count{d});\n"
                ));
            }
        }
        for d in 0..ndim {
            let value = match (&s.ranges[d].start.kind, &s.ranges[d].step.kind) {
                (ExprKind::Int(0), ExprKind::Int(1)) => format!("g{d}"),
                _ => format!("(long16)(start{d}) + (long16)(step{d}) * g{d}"),
            };
            t.push_str(&format!("{ind}{} = {value};\n", s.counters[d]));
        }
        t
    };
    let launch = if s.reductions.is_empty() {
        k.push_str(&format!("    long16 {gdecl};\n"));
        k.push_str(&format!(
            "    long kbase = (long)get_global_id(0) * {W};\n    if (kbase >= total) return;\n"
        ));
        k.push_str(&start("    "));
        k.push_str(&b.text);
        format!(
            "global (round_up(ceil(N / {W}), {LOCAL_SIZE})), local ({LOCAL_SIZE}) for N = {total} iterations; {W} consecutive iterations per work-item"
        )
    } else {
        for red in s.reductions {
            let (id, _) = reduction_c(red.op, &red.ty);
            let acc = var_name(s.func, red.acc);
            let id = if red.ty == Ty::Bool {
                format!("(long16)(-(long)({id}))")
            } else {
                format!("(long16)({id})")
            };
            k.push_str(&format!("    {acc} = {id};\n"));
        }
        k.push_str(&format!("    long16 {gdecl};\n"));
        k.push_str(&format!(
            "    for (long kbase = (long)get_global_id(0) * {W}; kbase < total; kbase += (long)get_global_size(0) * {W}) {{\n"
        ));
        k.push_str(&start("        "));
        k.push_str(&b.text);
        k.push_str("    }\n");
        k.push_str("    /* The lanes' partials, in lane order, then the work-group's tree. */\n    int lid = get_local_id(0);\n");
        for (r, red) in s.reductions.iter().enumerate() {
            let acc = var_name(s.func, red.acc);
            let (_, comb) = reduction_c(red.op, &red.ty);
            let (st, lane) = if red.ty == Ty::Bool {
                ("bool", format!("(kp{r}[l] != 0)"))
            } else {
                ("long", format!("kp{r}[l]"))
            };
            let first = if red.ty == Ty::Bool {
                format!("(kp{r}[0] != 0)")
            } else {
                format!("kp{r}[0]")
            };
            let c = comb(&format!("ks{r}"), &lane);
            k.push_str(&format!(
                "    long kp{r}[16]; vstore16({acc}, 0, kp{r});\n    {st} ks{r} = {first};\n    for (int l = 1; l < 16; l++) ks{r} = {c};\n"
            ));
            let store = if red.ty == Ty::Bool {
                format!("(uchar)ks{r}")
            } else {
                format!("ks{r}")
            };
            k.push_str(&format!("    kred{r}[lid] = {store};\n"));
        }
        k.push_str("    barrier(CLK_LOCAL_MEM_FENCE);\n");
        k.push_str(&format!(
            "    for (int s = {}; s > 0; s >>= 1) {{\n        if (lid < s) {{\n",
            LOCAL_SIZE / 2
        ));
        for (r, red) in s.reductions.iter().enumerate() {
            let (_, comb) = reduction_c(red.op, &red.ty);
            let c = comb(&format!("kred{r}[lid]"), &format!("kred{r}[lid + s]"));
            k.push_str(&format!("            kred{r}[lid] = {c};\n"));
        }
        k.push_str(
            "        }\n        barrier(CLK_LOCAL_MEM_FENCE);\n    }\n    if (lid == 0) {\n",
        );
        for r in 0..s.reductions.len() {
            k.push_str(&format!(
                "        partial{r}[get_group_id(0)] = kred{r}[0];\n"
            ));
        }
        k.push_str("    }\n");
        format!(
            "global (min(ceil(N / {W} / {LOCAL_SIZE}), 256) * {LOCAL_SIZE}), local ({LOCAL_SIZE}) for N = {total} iterations; each work-item takes {W} consecutive iterations at a time, every global-size-th block, and combines its lanes' partials in lane order"
        )
    };
    let _ = s.plan;
    k.push_str("}\n#undef KILN_LANE_IDS\n#endif\n");
    (k, launch)
}
