//! Lanes: which parallel loops run several iterations side by side in vector registers
//! (SPMD on SIMD, as ISPC does), and, in such a loop, which values are the same in every lane
//! (*uniform*) and which differ (*varying*).
//!
//! The iterations of a `@par`/`prange`/`ndrange`/`@gpu` loop are independent (SPEC §7's race
//! rules), so a backend may give each one a lane. Control flow that differs between lanes
//! becomes masks: an `if` on a varying condition runs both branches, each under its lanes; a
//! loop runs while any lane is still in it; `return` in a called function (inlined into the
//! lane code) takes its lanes out of the call. Every lane does exactly its serial iteration's
//! operations in their order, so results are bit for bit the scalar loop's.
//!
//! This file is backend-independent: it decides whether a loop can run in lanes (the reason
//! when not, printed by `%%ir`) and classifies every variable of the loop body and of each
//! function it calls (one *frame* per call site, as they are inlined). `clif/lanes.rs` and
//! `opencl/lanes.rs` read the same plan.

use crate::ir::{self, BinOp, Builtin, Expr, ExprKind, MathFn, Place, Program, RedOp, Stmt, VarId};
use crate::types::Ty;
use kiln_runtime::DType;
use std::collections::{HashMap, HashSet};

/// How deep calls are inlined into lane code (a deeper chain stays scalar).
const MAX_CALL_DEPTH: usize = 8;
/// How many call sites one lane loop may inline in all.
const MAX_FRAMES: usize = 64;

/// The variables of one function body as the lane code runs it: the loop body itself
/// (frame 0) or one inlined call.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The function whose variables these are (the loop's own function for frame 0).
    pub func: ir::FuncId,
    /// Variables whose value may differ between lanes.
    pub varying: HashSet<VarId>,
    /// Whether the call's result may differ between lanes (frame 0: unused).
    pub ret_varying: bool,
    /// The functions on the call chain down to this one (recursion is refused).
    chain: Vec<ir::FuncId>,
}

/// A parallel loop that runs in lanes.
#[derive(Clone, Debug)]
pub struct Plan {
    pub frames: Vec<Frame>,
    /// The frame of each call: (calling frame, the call expression's address).
    calls: HashMap<(usize, usize), usize>,
}

impl Plan {
    /// The frame inlined for `call`, made from `frame`.
    pub fn callee(&self, frame: usize, call: &Expr) -> Option<usize> {
        self.calls
            .get(&(frame, call as *const Expr as usize))
            .copied()
    }

    pub fn var_varying(&self, frame: usize, v: VarId) -> bool {
        self.frames[frame].varying.contains(&v)
    }

    /// Whether `e`, evaluated in `frame`, may differ between lanes.
    pub fn varying(&self, frame: usize, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Var(v) => self.var_varying(frame, *v),
            ExprKind::Call { args, .. } => {
                args.iter().any(|a| self.varying(frame, a))
                    || self
                        .callee(frame, e)
                        .is_some_and(|c| self.frames[c].ret_varying)
            }
            ExprKind::Let(v, a, b) => {
                self.var_varying(frame, *v) || self.varying(frame, a) || self.varying(frame, b)
            }
            _ => {
                let mut any = false;
                children(e, &mut |c| any |= self.varying(frame, c));
                any
            }
        }
    }

    /// Whether some statement of `body` (in `frame`) runs under a mask that differs from
    /// its frame's: inside an `if` on a varying condition, or in a loop that lanes leave at
    /// different times other than by `return`. Assignments there must keep the other lanes'
    /// values (blend); elsewhere every lane still in the frame executes them.
    pub fn loop_diverges(
        &self,
        frame: usize,
        cond: Option<&Expr>,
        ranges: &[ir::Range],
        body: &[Stmt],
    ) -> bool {
        cond.is_some_and(|c| self.varying(frame, c))
            || ranges.iter().any(|r| {
                self.varying(frame, &r.start)
                    || self.varying(frame, &r.stop)
                    || self.varying(frame, &r.step)
            })
            || self.exits_vary(frame, body, false)
    }

    /// Whether `break` or `continue` of the loop whose body this is may run in some lanes
    /// only.
    fn exits_vary(&self, frame: usize, body: &[Stmt], under: bool) -> bool {
        body.iter().any(|s| match s {
            Stmt::Break | Stmt::Continue => under,
            Stmt::If { cond, then, els } => {
                let u = under || self.varying(frame, cond);
                self.exits_vary(frame, then, u) || self.exits_vary(frame, els, u)
            }
            _ => false,
        })
    }
}

/// The plan for a parallel loop, or why its iterations must run one at a time.
pub fn plan(prog: &Program, func: ir::FuncId, st: &Stmt) -> Result<Plan, String> {
    let Stmt::For {
        vars,
        body,
        par: Some(par),
        ..
    } = st
    else {
        return Err("not a parallel loop".into());
    };
    let f = &prog.funcs[func as usize];
    let mut private = HashSet::new();
    super::walk::assigned_places(body, &mut |p| {
        if let Place::Var(v) = p {
            private.insert(*v);
        }
    });
    let mut a = Analysis {
        prog,
        plan: Plan {
            frames: vec![Frame {
                func,
                varying: HashSet::new(),
                ret_varying: false,
                chain: vec![],
            }],
            calls: HashMap::new(),
        },
        changed: false,
    };
    for r in &par.reductions {
        if !matches!(r.ty, Ty::I64 | Ty::Bool)
            || !matches!(
                r.op,
                RedOp::Add | RedOp::Mul | RedOp::Min | RedOp::Max | RedOp::BitAnd | RedOp::BitOr
            )
        {
            return Err(format!(
                "a {} reduction ({}): per-lane partials would round differently",
                r.ty.python_name(),
                red_name(r.op)
            ));
        }
        private.insert(r.acc);
        a.plan.frames[0].varying.insert(r.acc);
    }
    for v in vars {
        let Place::Var(v) = v else {
            return Err("a loop variable that is not a name".into());
        };
        a.plan.frames[0].varying.insert(*v);
    }
    for &v in &private {
        scalar_var(&f.vars[v as usize].ty, &f.vars[v as usize].name)?;
    }
    a.check_body(0, body, true)?;
    // Varying-ness only grows, so this ends.
    loop {
        a.changed = false;
        a.stmts(0, body, false)?;
        if !a.changed {
            break;
        }
    }
    Ok(a.plan)
}

fn red_name(op: RedOp) -> &'static str {
    match op {
        RedOp::Add => "+=",
        RedOp::Mul => "*=",
        RedOp::Min => "min",
        RedOp::Max => "max",
        RedOp::BitOr => "|=",
        RedOp::BitAnd => "&=",
        RedOp::NpMin => "np.min",
        RedOp::NpMax => "np.max",
    }
}

/// A type a lane holds: a number, a bool, or a tuple of them.
fn lane_type(t: &Ty) -> bool {
    match t {
        Ty::Bool | Ty::I64 | Ty::F64 => true,
        Ty::Tuple(items) => items
            .iter()
            .all(|t| matches!(t, Ty::Bool | Ty::I64 | Ty::F64)),
        _ => false,
    }
}

fn scalar_var(t: &Ty, name: &str) -> Result<(), String> {
    if lane_type(t) {
        Ok(())
    } else {
        Err(format!("assigns `{name}`, a {} value", t.python_name()))
    }
}

/// The direct subexpressions of `e`.
pub(crate) fn children<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    match &e.kind {
        ExprKind::Cast(a) | ExprKind::Unary(_, a) | ExprKind::TupleGet(a, _) => f(a),
        ExprKind::Binary(_, a, b, _)
        | ExprKind::Compare(_, a, b)
        | ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Let(_, a, b) => {
            f(a);
            f(b);
        }
        ExprKind::Select(c, a, b) => {
            f(c);
            f(a);
            f(b);
        }
        ExprKind::Call { args, .. } | ExprKind::Builtin { args, .. } | ExprKind::Tuple(args) => {
            args.iter().for_each(f)
        }
        ExprKind::Index { array, index, .. } => {
            f(array);
            index.iter().for_each(f);
        }
        _ => {}
    }
}

struct Analysis<'p> {
    prog: &'p Program,
    plan: Plan,
    changed: bool,
}

impl Analysis<'_> {
    fn func(&self, frame: usize) -> &ir::Func {
        &self.prog.funcs[self.plan.frames[frame].func as usize]
    }

    fn mark(&mut self, frame: usize, v: VarId) {
        if self.plan.frames[frame].varying.insert(v) {
            self.changed = true;
        }
    }

    fn mark_place(&mut self, frame: usize, p: &Place) {
        match p {
            Place::Var(v) => self.mark(frame, *v),
            Place::Tuple(items) => items.iter().for_each(|i| self.mark_place(frame, i)),
            _ => {}
        }
    }

    // ----- what lane code can run --------------------------------------------------------

    fn check_body(&mut self, frame: usize, body: &[Stmt], top: bool) -> Result<(), String> {
        for s in body {
            self.check_stmt(frame, s, top)?;
        }
        Ok(())
    }

    fn check_stmt(&mut self, frame: usize, s: &Stmt, top: bool) -> Result<(), String> {
        match s {
            Stmt::Assign { place, value } => {
                self.check_place(frame, place)?;
                self.check_expr(frame, value)
            }
            Stmt::Eval(e) => self.check_expr(frame, e),
            Stmt::If { cond, then, els } => {
                self.check_cond(frame, cond)?;
                self.check_body(frame, then, top)?;
                self.check_body(frame, els, top)
            }
            Stmt::While { cond, body } => {
                self.check_cond(frame, cond)?;
                self.check_body(frame, body, false)
            }
            Stmt::For {
                vars,
                ranges,
                body,
                par,
                ..
            } => {
                if par.is_some() {
                    return Err("has a parallel loop inside".into());
                }
                if ranges.len() != 1 || vars.len() != 1 {
                    return Err("has an `ndrange` loop inside".into());
                }
                if !matches!(vars[0], Place::Var(_)) {
                    return Err("a loop variable that is not a name".into());
                }
                let r = &ranges[0];
                for e in [&r.start, &r.stop, &r.step] {
                    if e.ty != Ty::I64 {
                        return Err("a loop over something other than a range".into());
                    }
                    self.check_expr(frame, e)?;
                }
                self.check_body(frame, body, false)
            }
            Stmt::Break | Stmt::Continue | Stmt::Line(_) => Ok(()),
            Stmt::Return(e) => {
                if frame == 0 {
                    return Err("returns from the loop".into());
                }
                match e {
                    Some(e) => self.check_expr(frame, e),
                    None => Err("returns None".into()),
                }
            }
            Stmt::Print { .. } => Err("calls print".into()),
            Stmt::MapInto { .. } => Err("assigns to a slice of an array".into()),
        }
    }

    fn check_cond(&mut self, frame: usize, c: &Expr) -> Result<(), String> {
        if c.ty != Ty::Bool {
            return Err(format!("tests a {} value", c.ty.python_name()));
        }
        self.check_expr(frame, c)
    }

    fn check_place(&mut self, frame: usize, p: &Place) -> Result<(), String> {
        match p {
            Place::Var(v) => {
                let var = &self.func(frame).vars[*v as usize];
                scalar_var(&var.ty, &var.name)
            }
            Place::Tuple(items) => items.iter().try_for_each(|i| self.check_place(frame, i)),
            Place::Global(_) => Err("assigns a global".into()),
            Place::Elem { array, index, .. } => {
                self.check_array(frame, array)?;
                index.iter().try_for_each(|i| self.check_index(frame, i))
            }
        }
    }

    fn check_array(&mut self, frame: usize, a: &Expr) -> Result<(), String> {
        let Ty::Array { dtype, .. } = a.ty else {
            return Err(format!("indexes a {} value", a.ty.python_name()));
        };
        if !matches!(dtype, DType::F64 | DType::I64) {
            return Err(format!("reads or writes a {} array", dtype.numpy_name()));
        }
        // The same array in every lane: a name (`check_place` refuses assigning an array
        // in lane code, so a variable holding one is the loop's capture or a parameter).
        let _ = frame;
        match a.kind {
            ExprKind::Var(_) | ExprKind::Global(_) => Ok(()),
            _ => Err("indexes an array it computes".into()),
        }
    }

    fn check_index(&mut self, frame: usize, i: &Expr) -> Result<(), String> {
        if i.ty != Ty::I64 {
            return Err(format!("indexes with a {} value", i.ty.python_name()));
        }
        self.check_expr(frame, i)
    }

    fn check_expr(&mut self, frame: usize, e: &Expr) -> Result<(), String> {
        let simple = |t: &Ty| lane_type(t);
        match &e.kind {
            ExprKind::Bool(_) | ExprKind::Int(_) => Ok(()),
            ExprKind::Float(_) if e.ty == Ty::F64 => Ok(()),
            ExprKind::Var(v) => {
                let ty = &self.func(frame).vars[*v as usize].ty;
                if simple(ty) || matches!(ty, Ty::Array { .. }) {
                    Ok(())
                } else {
                    Err(format!("reads a {} value", ty.python_name()))
                }
            }
            ExprKind::Global(g) => {
                let ty = &self.prog.globals[*g as usize].ty;
                if simple(ty) || matches!(ty, Ty::Array { .. }) {
                    Ok(())
                } else {
                    Err(format!("reads a {} global", ty.python_name()))
                }
            }
            ExprKind::Cast(a) => {
                let ok = matches!(
                    (&a.ty, &e.ty),
                    (Ty::I64, Ty::F64) | (Ty::Bool, Ty::I64) | (Ty::Bool, Ty::F64)
                ) || a.ty == e.ty;
                if !ok {
                    return Err(format!(
                        "converts {} to {}",
                        a.ty.python_name(),
                        e.ty.python_name()
                    ));
                }
                self.check_expr(frame, a)
            }
            ExprKind::Unary(_, a) => {
                self.scalar(e)?;
                self.check_expr(frame, a)
            }
            ExprKind::Binary(op, a, b, _) => {
                self.scalar(e)?;
                match (op, &e.ty) {
                    (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, Ty::F64) => {}
                    (BinOp::Add | BinOp::Sub | BinOp::Mul, Ty::I64) => {}
                    (BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor, Ty::I64 | Ty::Bool) => {}
                    (op, t) => {
                        return Err(format!(
                            "uses `{}` on {} values",
                            op.symbol(),
                            t.python_name()
                        ))
                    }
                }
                self.check_expr(frame, a)?;
                self.check_expr(frame, b)
            }
            ExprKind::Compare(_, a, b) => {
                if !matches!(a.ty, Ty::F64 | Ty::I64 | Ty::Bool) {
                    return Err(format!("compares {} values", a.ty.python_name()));
                }
                self.check_expr(frame, a)?;
                self.check_expr(frame, b)
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                if e.ty != Ty::Bool {
                    return Err(format!("uses `and`/`or` on {} values", e.ty.python_name()));
                }
                self.check_expr(frame, a)?;
                self.check_expr(frame, b)
            }
            ExprKind::Let(v, a, b) => {
                let var = &self.func(frame).vars[*v as usize];
                scalar_var(&var.ty, &var.name)?;
                self.check_expr(frame, a)?;
                self.check_expr(frame, b)
            }
            ExprKind::Select(c, a, b) => {
                self.scalar(e)?;
                self.check_cond(frame, c)?;
                self.check_expr(frame, a)?;
                self.check_expr(frame, b)
            }
            ExprKind::Tuple(items) => {
                self.scalar(e)?;
                items.iter().try_for_each(|i| self.check_expr(frame, i))
            }
            ExprKind::TupleGet(a, _) => {
                self.scalar(a)?;
                self.check_expr(frame, a)
            }
            ExprKind::Index { array, index, .. } => {
                self.check_array(frame, array)?;
                index.iter().try_for_each(|i| self.check_index(frame, i))
            }
            ExprKind::Call { func, args, .. } => self.check_call(frame, e, *func, args),
            ExprKind::Builtin { op, args, .. } => {
                match op {
                    Builtin::Abs | Builtin::Min | Builtin::Max
                        if matches!(e.ty, Ty::F64 | Ty::I64) => {}
                    Builtin::Math(MathFn::Sqrt) if e.ty == Ty::F64 => {}
                    Builtin::Dim(_) | Builtin::Size => {
                        return self.check_array(frame, &args[0]);
                    }
                    op => return Err(format!("calls {}", builtin_name(op))),
                }
                args.iter().try_for_each(|a| self.check_expr(frame, a))
            }
            _ => Err(format!("computes a {} value", e.ty.python_name())),
        }
    }

    fn scalar(&self, e: &Expr) -> Result<(), String> {
        if lane_type(&e.ty) {
            Ok(())
        } else {
            Err(format!("computes a {} value", e.ty.python_name()))
        }
    }

    fn check_call(
        &mut self,
        frame: usize,
        call: &Expr,
        func: ir::FuncId,
        args: &[Expr],
    ) -> Result<(), String> {
        let callee = &self.prog.funcs[func as usize];
        let chain = &self.plan.frames[frame].chain;
        if chain.contains(&func) || self.plan.frames[frame].func == func && frame != 0 {
            return Err(format!("calls `{}` recursively", callee.display));
        }
        if chain.len() >= MAX_CALL_DEPTH {
            return Err("nests calls too deeply".into());
        }
        if self.plan.frames.len() >= MAX_FRAMES {
            return Err("calls too many functions".into());
        }
        if !lane_type(&callee.ret) {
            return Err(format!(
                "calls `{}`, which returns a {} value",
                callee.display,
                callee.ret.python_name()
            ));
        }
        for a in args {
            self.check_expr(frame, a)?;
        }
        for (&p, a) in callee.params.iter().zip(args) {
            let ty = &callee.vars[p as usize].ty;
            if matches!(ty, Ty::Array { .. }) {
                if !matches!(a.kind, ExprKind::Var(_) | ExprKind::Global(_)) {
                    return Err(format!("passes `{}` an array it computes", callee.display));
                }
            } else if !lane_type(ty) {
                return Err(format!(
                    "passes `{}` a {} value",
                    callee.display,
                    ty.python_name()
                ));
            }
        }
        let mut chain = self.plan.frames[frame].chain.clone();
        chain.push(func);
        let id = self.plan.frames.len();
        self.plan.frames.push(Frame {
            func,
            varying: HashSet::new(),
            ret_varying: false,
            chain,
        });
        self.plan
            .calls
            .insert((frame, call as *const Expr as usize), id);
        self.check_body(id, &callee.body, true)
    }

    // ----- uniform and varying -----------------------------------------------------------

    /// One pass over a body: `ctl` says whether it runs under a mask narrower than its
    /// frame's (see `Plan::loop_diverges`).
    fn stmts(&mut self, frame: usize, body: &[Stmt], ctl: bool) -> Result<(), String> {
        for s in body {
            match s {
                Stmt::Assign { place, value } => {
                    self.expr(frame, value, ctl);
                    if let Place::Elem { array, index, .. } = place {
                        self.expr(frame, array, ctl);
                        index.iter().for_each(|i| self.expr(frame, i, ctl));
                    }
                    if ctl || self.plan.varying(frame, value) {
                        self.mark_place(frame, place);
                    }
                }
                Stmt::Eval(e) => self.expr(frame, e, ctl),
                Stmt::If { cond, then, els } => {
                    self.expr(frame, cond, ctl);
                    let c = ctl || self.plan.varying(frame, cond);
                    self.stmts(frame, then, c)?;
                    self.stmts(frame, els, c)?;
                }
                Stmt::While { cond, body } => {
                    self.expr(frame, cond, ctl);
                    let c = ctl || self.plan.loop_diverges(frame, Some(cond), &[], body);
                    self.stmts(frame, body, c)?;
                }
                Stmt::For {
                    vars, ranges, body, ..
                } => {
                    for r in ranges {
                        for e in [&r.start, &r.stop, &r.step] {
                            self.expr(frame, e, ctl);
                        }
                    }
                    let c = ctl || self.plan.loop_diverges(frame, None, ranges, body);
                    if c {
                        vars.iter().for_each(|v| self.mark_place(frame, v));
                    }
                    self.stmts(frame, body, c)?;
                }
                Stmt::Return(Some(e)) => {
                    self.expr(frame, e, ctl);
                    if (ctl || self.plan.varying(frame, e)) && !self.plan.frames[frame].ret_varying
                    {
                        self.plan.frames[frame].ret_varying = true;
                        self.changed = true;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The `Let` temporaries and the calls inside an expression.
    fn expr(&mut self, frame: usize, e: &Expr, ctl: bool) {
        match &e.kind {
            ExprKind::Let(v, a, b) => {
                self.expr(frame, a, ctl);
                if ctl || self.plan.varying(frame, a) {
                    self.mark(frame, *v);
                }
                self.expr(frame, b, ctl);
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.expr(frame, a, ctl);
                let c = ctl || self.plan.varying(frame, a);
                self.expr(frame, b, c);
            }
            ExprKind::Select(c, a, b) => {
                self.expr(frame, c, ctl);
                let u = ctl || self.plan.varying(frame, c);
                self.expr(frame, a, u);
                self.expr(frame, b, u);
            }
            ExprKind::Call { args, .. } => {
                args.iter().for_each(|a| self.expr(frame, a, ctl));
                let Some(id) = self.plan.callee(frame, e) else {
                    return;
                };
                let callee = &self.prog.funcs[self.plan.frames[id].func as usize];
                for (&p, a) in callee.params.iter().zip(args) {
                    if self.plan.varying(frame, a) {
                        self.mark(id, p);
                    }
                }
                // A call's own frame starts with every lane that called it.
                let _ = self.stmts(id, &callee.body, false);
            }
            _ => children(e, &mut |c| self.expr(frame, c, ctl)),
        }
    }
}

/// A builtin's name for a remark.
fn builtin_name(op: &Builtin) -> String {
    match op {
        Builtin::Math(m) | Builtin::MathChecked(m) => format!("`{}`", m.name()),
        op => {
            let s = format!("{op:?}");
            let name: String = s.chars().take_while(|c| c.is_alphanumeric()).collect();
            format!("`{}`", name.to_lowercase())
        }
    }
}

/// Whether lanes pay on the CPU for a loop the plan takes: its iterations must compute.
/// A body without a loop of its own (or in a function it calls) is a few loads and stores
/// per iteration, which lane code makes per-lane moves: measured, a `b[i] = a[i] * 2.0 +
/// 1.0` loop ran 1.6x slower in lanes and a body of one divergent `if` 2.6x slower. (An
/// OpenCL CPU device vectorises such a kernel itself.)
pub fn cpu_worthwhile(prog: &Program, plan: &Plan, st: &Stmt) -> Result<(), String> {
    let Stmt::For { body, .. } = st else {
        return Err("not a parallel loop".into());
    };
    // For testing the lane code on every loop it can run (the differential tester does).
    if std::env::var_os("KILN_LANES_EVERYWHERE").is_some() {
        return Ok(());
    }
    let loops_inside = |b: &[Stmt]| {
        let mut any = false;
        super::walk::visit(b, &mut |n| {
            any |= matches!(
                n,
                super::walk::Node::Stmt(Stmt::While { .. } | Stmt::For { .. })
            )
        });
        any
    };
    let computes = loops_inside(body)
        || plan.frames[1..]
            .iter()
            .any(|fr| loops_inside(&prog.funcs[fr.func as usize].body));
    if computes {
        Ok(())
    } else {
        Err(
            "no loop in the body or the functions it calls (a few loads and stores per \
             iteration run faster one at a time)"
                .into(),
        )
    }
}

/// What `%%ir` says about each parallel loop of a program: (the loop's header site, the
/// remark). `cpu_lanes` is how many iterations a CPU step runs; `on` is `%vector`.
pub fn remarks(prog: &Program, cpu_lanes: usize, on: bool) -> Vec<(ir::SiteId, String)> {
    let mut out = Vec::new();
    for (k, f) in prog.funcs.iter().enumerate() {
        super::walk::visit(&f.body, &mut |n| {
            let super::walk::Node::Stmt(
                st @ Stmt::For {
                    par: Some(_),
                    target,
                    site,
                    ..
                },
            ) = n
            else {
                return;
            };
            let gpu = *target == crate::syntax::ast::Target::Gpu;
            let planned = plan(prog, k as u32, st).and_then(|p| {
                if gpu {
                    Ok(p)
                } else {
                    cpu_worthwhile(prog, &p, st).map(|()| p)
                }
            });
            let text = match planned {
                _ if !on => "not vectorised: %vector is off".to_string(),
                Ok(_) if gpu => format!(
                    "vectorised on CPU OpenCL devices: {} iterations per work-item \
                     (double{0}/long{0} lanes with an alive mask); one per work-item on a GPU",
                    OPENCL_LANES
                ),
                Ok(_) => format!(
                    "vectorised: {cpu_lanes} iterations side by side ({} x F64X2/I64X2 per \
                     value), masks for the control flow that differs between them",
                    cpu_lanes / 2
                ),
                Err(why) => format!("not vectorised: {why}"),
            };
            out.push((*site, text));
        });
    }
    out
}

/// Iterations per work-item of a lane kernel on a CPU OpenCL device (`double16`).
pub const OPENCL_LANES: usize = 16;
