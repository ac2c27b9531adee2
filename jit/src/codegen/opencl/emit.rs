//! Statements and expressions of the loop IR as OpenCL C, for a kernel's body and for the
//! user functions it calls. An expression becomes a C expression; what must happen before
//! it (a checked index, a call that may fail, a lazy operand) is written as statements
//! first. Python's semantics come from the prelude's helpers; the device rules of SPEC §7
//! are errors here.

use super::ctypes::{float_lit, ident, int_lit, TypeDecls};
use super::prelude::Prelude;
use super::{gpu_err, GResult};
use crate::ir::{
    self, BinOp, CmpOp, Expr, ExprKind, FuncId, GlobalId, Place, Program, RedOp, SiteId, Stmt, UnOp,
};
use crate::types::Ty;
use kiln_runtime::opencl::ErrorSpec;
use kiln_runtime::ErrorKind;
use std::collections::{BTreeSet, HashSet};

const NO_ALLOC_HINT: &str =
    "make the array before the loop and write into it; a @gpu body only reads and writes elements";
const PAR_HINT: &str = "or run the loop on CPU threads with @par";

/// What one kernel's source gathers while its body and functions are emitted.
pub(crate) struct Unit<'p> {
    pub(crate) prog: &'p Program,
    pub(crate) types: TypeDecls,
    pub(crate) prelude: Prelude,
    pub(crate) errors: Vec<ErrorSpec>,
    /// Globals the kernel or its functions read (passed in through the context struct).
    pub(crate) globals: BTreeSet<GlobalId>,
    /// User functions to emit, in order of first call.
    pub(crate) funcs: Vec<FuncId>,
    /// The call chain being emitted (to find recursion).
    pub(crate) stack: Vec<FuncId>,
    pub(crate) bounds_checks: bool,
    /// Each emitted function: its prototype and its definition.
    pub(crate) func_texts: Vec<(String, String)>,
}

impl<'p> Unit<'p> {
    pub(crate) fn new(prog: &'p Program, bounds_checks: bool) -> Unit<'p> {
        Unit {
            prog,
            types: TypeDecls::default(),
            prelude: Prelude::default(),
            errors: Vec::new(),
            globals: BTreeSet::new(),
            funcs: Vec::new(),
            stack: Vec::new(),
            bounds_checks,
            func_texts: Vec::new(),
        }
    }

    /// The code of an error the kernel can report (its index in `KernelSpec::errors`).
    pub(crate) fn error_code(&mut self, kind: ErrorKind, message: &str) -> usize {
        if let Some(k) = self
            .errors
            .iter()
            .position(|e| e.kind == kind && e.message == message)
        {
            return k;
        }
        self.errors.push(ErrorSpec {
            kind,
            message: message.to_string(),
        });
        self.errors.len() - 1
    }
}

/// The C name of a variable.
pub(crate) fn var_name(f: &ir::Func, v: ir::VarId) -> String {
    format!("v{v}_{}", ident(&f.vars[v as usize].name))
}

/// The C name of a global inside the context struct.
pub(crate) fn global_name(prog: &Program, g: GlobalId) -> String {
    format!("g{g}_{}", ident(&prog.globals[g as usize].name))
}

/// The C name of a user function.
pub(crate) fn func_name(prog: &Program, f: FuncId) -> String {
    format!("kiln_f{f}_{}", ident(&prog.funcs[f as usize].display))
}

/// How a `break` leaves the loop it is in.
enum LoopExit {
    /// A C loop of its own: `break`.
    Plain,
    /// A nest of C loops (an `ndrange`): a jump past the nest.
    Label(String),
}

/// Emits one C function body (the kernel's or a user function's).
pub(crate) struct Emit<'u, 'p> {
    pub(crate) u: &'u mut Unit<'p>,
    pub(crate) func: &'p ir::Func,
    pub(crate) out: String,
    indent: usize,
    tmp: u32,
    loops: Vec<LoopExit>,
    /// The site errors of statements without their own site point at (the loop header).
    pub(crate) site: SiteId,
    /// Integer variables never negative here: indexing with them skips the negative wrap.
    pub(crate) nonneg: HashSet<ir::VarId>,
    /// How deep `expr` is in the expression being written (see `SPILL_EVERY`).
    nesting: usize,
}

/// Every this many levels of a deep expression, its value goes into a temporary: the C text
/// of a 2 000-level chain would nest its parentheses past the OpenCL compiler's limit
/// (clang's bracket depth, 256), and a temporary costs nothing once compiled.
const SPILL_EVERY: usize = 24;

impl<'u, 'p> Emit<'u, 'p> {
    pub(crate) fn new(u: &'u mut Unit<'p>, func: &'p ir::Func, site: SiteId) -> Self {
        Emit {
            u,
            func,
            out: String::new(),
            indent: 1,
            tmp: 0,
            loops: Vec::new(),
            site,
            nonneg: HashSet::new(),
            nesting: 0,
        }
    }

    pub(crate) fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    pub(crate) fn set_indent(&mut self, n: usize) {
        self.indent = n;
    }

    pub(crate) fn cty(&mut self, t: &Ty, site: SiteId) -> GResult<String> {
        match self.u.types.c(t) {
            Ok(c) => Ok(c),
            Err(what) => gpu_err(
                site,
                format!(
                    "{what} cannot be used in a @gpu body: kernels compute with numbers and arrays"
                ),
                if what.starts_with("an optional") {
                    "test it with `is None` on the host and pass the number to the loop"
                } else {
                    "build text after the loop, on the host"
                },
            ),
        }
    }

    /// A fresh temporary holding `value`.
    pub(crate) fn temp(&mut self, t: &Ty, value: &str, site: SiteId) -> GResult<String> {
        let name = format!("t{}", self.tmp);
        self.tmp += 1;
        let ct = self.cty(t, site)?;
        self.line(&format!("{ct} {name} = {value};"));
        Ok(name)
    }

    /// A fresh temporary declared without a value (assigned on every path that follows).
    pub(crate) fn temp_decl(&mut self, t: &Ty, site: SiteId) -> GResult<String> {
        let name = format!("t{}", self.tmp);
        self.tmp += 1;
        let ct = self.cty(t, site)?;
        let zero = self.zero(t, site)?;
        self.line(&format!("{ct} {name} = {zero};"));
        Ok(name)
    }

    /// The zero value of a type (what a failed function returns).
    pub(crate) fn zero(&mut self, t: &Ty, site: SiteId) -> GResult<String> {
        Ok(match t {
            Ty::Bool => "false".into(),
            Ty::I64 => "0L".into(),
            Ty::F64 => "0.0".into(),
            Ty::F32 => "0.0f".into(),
            Ty::C128 => "(double2)(0.0, 0.0)".into(),
            Ty::None => String::new(),
            _ => {
                let ct = self.cty(t, site)?;
                format!("({ct}){{0}}")
            }
        })
    }

    /// Record an error of this iteration and leave the function (or the work-item's body).
    pub(crate) fn fail(
        &mut self,
        cond: &str,
        kind: ErrorKind,
        msg: &str,
        site: SiteId,
        abc: [&str; 3],
    ) {
        let code = self.u.error_code(kind, msg);
        self.u.prelude.need("kiln_fail");
        self.line(&format!(
            "if ({cond}) {{ kiln_fail(C, {code}, {site}, {}, {}, {}); goto kfail; }}",
            abc[0], abc[1], abc[2]
        ));
    }

    // ----- statements ------------------------------------------------------------------------

    pub(crate) fn block(&mut self, body: &[Stmt]) -> GResult<()> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn nested(&mut self, body: &[Stmt]) -> GResult<()> {
        self.indent += 1;
        let r = self.block(body);
        self.indent -= 1;
        r
    }

    fn stmt(&mut self, s: &Stmt) -> GResult<()> {
        match s {
            Stmt::Assign { place, value } => {
                let v = self.expr(value)?;
                self.assign(place, &v, &value.ty)
            }
            Stmt::Eval(e) => {
                // Only calls have effects, and `call` writes them as statements.
                self.expr(e)?;
                Ok(())
            }
            Stmt::If { cond, then, els } => {
                let c = self.truth(cond)?;
                self.line(&format!("if {} {{", parenthesized(&c)));
                self.nested(then)?;
                if !els.is_empty() {
                    self.line("} else {");
                    self.nested(els)?;
                }
                self.line("}");
                Ok(())
            }
            Stmt::While { cond, body } => {
                self.line("for (;;) {");
                self.indent += 1;
                let c = self.truth(cond)?;
                self.line(&format!("if (!({c})) break;"));
                self.loops.push(LoopExit::Plain);
                let r = self.block(body);
                self.loops.pop();
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
                par,
                ..
            } => self.serial_for(vars, ranges, body, *site, par.as_ref()),
            Stmt::Break => {
                match self.loops.last() {
                    Some(LoopExit::Label(l)) => {
                        let l = l.clone();
                        self.line(&format!("goto {l};"));
                    }
                    _ => self.line("break;"),
                }
                Ok(())
            }
            Stmt::Continue => {
                self.line("continue;");
                Ok(())
            }
            Stmt::Line(_) => Ok(()),
            Stmt::Return(v) => {
                match v {
                    Some(e) if e.ty != Ty::None => {
                        let x = self.expr(e)?;
                        self.line(&format!("return {x};"));
                    }
                    Some(e) => {
                        self.expr(e)?;
                        self.line("return;");
                    }
                    None => self.line("return;"),
                }
                Ok(())
            }
            Stmt::Print { .. } => gpu_err(
                self.site,
                "print cannot run in a @gpu body: the kernel runs on the device, which has no output",
                "store the values in an array and print them after the loop, or run the loop with @par",
            ),
            Stmt::MapInto { site, .. } => gpu_err(
                *site,
                "whole-array assignments cannot run inside a @gpu body",
                "write the elements with an index (`a[i] = ...`), or annotate the assignment itself with @gpu outside the loop",
            ),
        }
    }

    /// A loop nested in the kernel (or in a device function): C `for` loops, one per range,
    /// with Python's `range` semantics (bounds evaluated once, either sign of step).
    fn serial_for(
        &mut self,
        vars: &[Place],
        ranges: &[ir::Range],
        body: &[Stmt],
        site: SiteId,
        par: Option<&ir::ParInfo>,
    ) -> GResult<()> {
        // A parallel loop inside a device function runs serially: its reductions accumulate
        // in order from the value before the loop, as the serial run does.
        if let Some(p) = par {
            for r in &p.reductions {
                let cur = self.place_value(&r.outer)?;
                let acc = var_name(self.func, r.acc);
                self.line(&format!("{acc} = {cur};"));
            }
        }
        let mut bounds = Vec::new();
        for r in ranges {
            let start = self.expr(&r.start)?;
            let start = self.temp(&Ty::I64, &start, site)?;
            let stop = self.expr(&r.stop)?;
            let stop = self.temp(&Ty::I64, &stop, site)?;
            let step_const = match r.step.kind {
                ExprKind::Int(k) => Some(k),
                _ => None,
            };
            let step = self.expr(&r.step)?;
            let step = if step_const.is_none() {
                let t = self.temp(&Ty::I64, &step, site)?;
                self.fail(
                    &format!("{t} == 0"),
                    ErrorKind::ValueError,
                    "range() arg 3 must not be zero",
                    site,
                    ["0", "0", "0"],
                );
                t
            } else {
                step
            };
            bounds.push((start, stop, step, step_const));
        }
        let label = (ranges.len() > 1).then(|| {
            self.tmp += 1;
            format!("kbreak{}", self.tmp)
        });
        let opened = self.indent;
        for (k, (start, stop, step, sc)) in bounds.iter().enumerate() {
            let Place::Var(v) = vars[k] else {
                return gpu_err(site, "a loop counter that is not a variable", "");
            };
            let i = var_name(self.func, v);
            let test = match sc {
                Some(s) if *s > 0 => format!("{i} < {stop}"),
                Some(_) => format!("{i} > {stop}"),
                None => format!("({step} > 0 ? {i} < {stop} : {i} > {stop})"),
            };
            self.line(&format!("for ({i} = {start}; {test}; {i} += {step}) {{"));
            self.indent += 1;
        }
        self.loops.push(match &label {
            Some(l) => LoopExit::Label(l.clone()),
            None => LoopExit::Plain,
        });
        let r = self.block(body);
        self.loops.pop();
        r?;
        while self.indent > opened {
            self.indent -= 1;
            self.line("}");
        }
        if let Some(l) = label {
            self.line(&format!("{l}: ;"));
        }
        if let Some(p) = par {
            for r in &p.reductions {
                let acc = var_name(self.func, r.acc);
                self.assign(&r.outer, &acc, &r.ty)?;
            }
        }
        Ok(())
    }

    /// The current value of a place (a reduction's outer variable).
    fn place_value(&mut self, p: &Place) -> GResult<String> {
        match p {
            Place::Var(v) => Ok(var_name(self.func, *v)),
            Place::Global(g) => {
                self.u.globals.insert(*g);
                Ok(format!("C->{}", global_name(self.u.prog, *g)))
            }
            _ => gpu_err(self.site, "a reduction into an element", ""),
        }
    }

    pub(crate) fn assign(&mut self, place: &Place, v: &str, ty: &Ty) -> GResult<()> {
        match place {
            Place::Var(id) => {
                let n = var_name(self.func, *id);
                self.line(&format!("{n} = {v};"));
            }
            Place::Global(g) => {
                let name = &self.u.prog.globals[*g as usize].name;
                return gpu_err(
                    self.site,
                    format!("a @gpu body cannot assign the global `{name}`: the kernel's copy of it is read-only"),
                    "make it a reduction of the loop (`s += ...`), or return the value from the function",
                );
            }
            Place::Elem { array, index, site } => {
                let Ty::Array { dtype, .. } = array.ty else {
                    return gpu_err(*site, "an element of a non-array", "");
                };
                let at = self.elem_ref(array, index, *site)?;
                let v = if dtype == kiln_runtime::DType::Bool {
                    format!("(uchar)({v})")
                } else {
                    v.to_string()
                };
                self.line(&format!("{at} = {v};"));
            }
            Place::Tuple(items) => {
                // The whole value first (`a, b = b, a`), then each part.
                let t = if v.starts_with('t') && v[1..].chars().all(|c| c.is_ascii_digit()) {
                    v.to_string()
                } else {
                    self.temp(ty, v, self.site)?
                };
                let Ty::Tuple(tys) = ty else {
                    return gpu_err(self.site, "unpacking a non-tuple", "");
                };
                for (k, (p, it)) in items.iter().zip(tys.iter()).enumerate() {
                    self.assign(p, &format!("{t}.f{k}"), it)?;
                }
            }
        }
        Ok(())
    }

    // ----- expressions -----------------------------------------------------------------------

    /// Python's truth of a value, as a C condition.
    pub(crate) fn truth(&mut self, e: &Expr) -> GResult<String> {
        let v = self.expr(e)?;
        Ok(truth_of(&e.ty, &v))
    }

    /// Evaluate into a temporary unless the text is already a name or a literal.
    fn simple(&mut self, e: &Expr) -> GResult<String> {
        let v = self.expr(e)?;
        if is_atom(&v) {
            Ok(v)
        } else {
            self.temp(&e.ty, &v, self.site)
        }
    }

    /// Emit what `e` needs into a separate buffer: (statements, value).
    fn captured(&mut self, e: &Expr) -> GResult<(String, String)> {
        let saved = std::mem::take(&mut self.out);
        self.indent += 1;
        let r = self.expr(e);
        self.indent -= 1;
        let pre = std::mem::replace(&mut self.out, saved);
        Ok((pre, r?))
    }

    pub(crate) fn expr(&mut self, e: &Expr) -> GResult<String> {
        self.nesting += 1;
        let text = self.expr_text(e);
        self.nesting -= 1;
        let text = text?;
        let scalar = matches!(e.ty, Ty::Bool | Ty::I64 | Ty::F64 | Ty::F32 | Ty::C128);
        if self.nesting > 0 && self.nesting.is_multiple_of(SPILL_EVERY) && scalar && !is_atom(&text)
        {
            return self.temp(&e.ty, &text, self.site);
        }
        Ok(text)
    }

    fn expr_text(&mut self, e: &Expr) -> GResult<String> {
        let site = self.site;
        Ok(match &e.kind {
            ExprKind::None => String::new(),
            ExprKind::Bool(b) => if *b { "true" } else { "false" }.into(),
            ExprKind::Int(v) => int_lit(*v),
            ExprKind::Float(v) => float_lit(*v, e.ty == Ty::F32),
            ExprKind::Complex(re, im) => {
                self.u.types.fp64 = true;
                format!("(double2)({}, {})", float_lit(*re, false), float_lit(*im, false))
            }
            ExprKind::Str(_) => {
                return gpu_err(
                    site,
                    "strings cannot be used in a @gpu body: kernels compute with numbers and arrays",
                    "build text after the loop, on the host",
                )
            }
            ExprKind::Var(v) => {
                self.cty(&e.ty, site)?;
                var_name(self.func, *v)
            }
            ExprKind::Global(g) => {
                self.cty(&e.ty, site)?;
                self.u.globals.insert(*g);
                format!("C->{}", global_name(self.u.prog, *g))
            }
            ExprKind::Cast(a) => {
                let v = self.expr(a)?;
                self.cast(&a.ty, &e.ty, &v)?
            }
            ExprKind::Unary(op, a) => {
                let v = self.expr(a)?;
                match (op, &a.ty) {
                    (UnOp::Neg, Ty::I64) => format!("(long)(0UL - (ulong)({v}))"),
                    (UnOp::Neg, _) => format!("(-({v}))"),
                    (UnOp::Not, _) | (UnOp::Invert, Ty::Bool) => format!("(!({v}))"),
                    (UnOp::Invert, _) => format!("(~({v}))"),
                }
            }
            ExprKind::Binary(op, a, b, bsite) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                self.binary(*op, &a.ty, x, y, *bsite)?
            }
            ExprKind::Compare(op, a, b) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                compare(*op, &a.ty, &x, &y)
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let x = self.expr(a)?;
                let (pre, y) = self.captured(b)?;
                if e.ty == Ty::Bool && pre.is_empty() {
                    let op = if is_and { "&&" } else { "||" };
                    format!("({x} {op} {y})")
                } else {
                    // Python's value semantics: `a and b` is a if a is false, else b.
                    let t = self.temp(&e.ty, &x, site)?;
                    let c = truth_of(&e.ty, &t);
                    let c = if is_and { c } else { format!("!({c})") };
                    self.line(&format!("if ({c}) {{"));
                    self.out.push_str(&pre);
                    self.indent += 1;
                    self.line(&format!("{t} = {y};"));
                    self.indent -= 1;
                    self.line("}");
                    t
                }
            }
            ExprKind::Let(v, a, b) => {
                let x = self.expr(a)?;
                let n = var_name(self.func, *v);
                self.line(&format!("{n} = {x};"));
                self.expr(b)?
            }
            ExprKind::Select(c, a, b) => {
                let cv = self.truth(c)?;
                let (pa, x) = self.captured(a)?;
                let (pb, y) = self.captured(b)?;
                if pa.is_empty() && pb.is_empty() {
                    format!("(({cv}) ? {x} : {y})")
                } else {
                    let t = self.temp_decl(&e.ty, site)?;
                    self.line(&format!("if ({cv}) {{"));
                    self.out.push_str(&pa);
                    self.indent += 1;
                    self.line(&format!("{t} = {x};"));
                    self.indent -= 1;
                    self.line("} else {");
                    self.out.push_str(&pb);
                    self.indent += 1;
                    self.line(&format!("{t} = {y};"));
                    self.indent -= 1;
                    self.line("}");
                    t
                }
            }
            ExprKind::Call { func, args, site } => self.call(*func, args, &e.ty, *site)?,
            ExprKind::Builtin { op, args, site } => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.simple(a)?);
                }
                let tys: Vec<Ty> = args.iter().map(|a| a.ty.clone()).collect();
                crate::builtins::opencl(self, op, &vals, &tys, &e.ty, *site)?
            }
            ExprKind::Index { array, index, site } => {
                let Ty::Array { dtype, .. } = array.ty else {
                    return gpu_err(*site, "indexing a non-array", "");
                };
                let at = self.elem_ref(array, index, *site)?;
                if dtype == kiln_runtime::DType::Bool {
                    format!("(bool)({at})")
                } else {
                    at
                }
            }
            ExprKind::Tuple(items) => {
                let t = self.temp_decl(&e.ty, site)?;
                for (k, it) in items.iter().enumerate() {
                    let v = self.expr(it)?;
                    self.line(&format!("{t}.f{k} = {v};"));
                }
                t
            }
            ExprKind::TupleGet(a, k) => {
                let v = self.simple(a)?;
                format!("{v}.f{k}")
            }
            ExprKind::Map(_, site) | ExprKind::MapReduce(_, _, site) => {
                return gpu_err(
                    *site,
                    "whole-array expressions cannot run inside a @gpu body: each would allocate or loop over a whole array in every work-item",
                    NO_ALLOC_HINT,
                )
            }
            ExprKind::Elem(_) | ExprKind::MapScalar(_) => {
                return gpu_err(site, "a map leaf outside a map", "")
            }
        })
    }

    /// An allocation in a kernel: the error every creating builtin gives.
    pub(crate) fn no_alloc<T>(&self, what: &str, site: SiteId) -> GResult<T> {
        gpu_err(
            site,
            format!("{what} cannot run in a @gpu body: a kernel cannot allocate arrays"),
            NO_ALLOC_HINT,
        )
    }

    /// `array[index...]` as an lvalue: indices wrapped from the end and checked.
    fn elem_ref(&mut self, array: &Expr, index: &[Expr], site: SiteId) -> GResult<String> {
        let a = self.simple(array)?;
        let mut terms = Vec::new();
        for (k, ix) in index.iter().enumerate() {
            let v = self.expr(ix)?;
            let i = if self.u.bounds_checks {
                let orig = if is_atom(&v) {
                    v.clone()
                } else {
                    self.temp(&Ty::I64, &v, site)?
                };
                let i = self.temp(&Ty::I64, &orig, site)?;
                let n = format!("{a}.n[{k}]");
                if !super::nonneg::is_nonneg(ix, &self.nonneg) {
                    self.line(&format!("if ({i} < 0) {i} += {n};"));
                }
                let ks = k.to_string();
                self.fail(
                    &format!("(ulong){i} >= (ulong){n}"),
                    ErrorKind::IndexError,
                    "",
                    site,
                    [&orig, &ks, &n],
                );
                i
            } else {
                v
            };
            terms.push(format!("{i} * {a}.s[{k}]"));
        }
        let off = if terms.is_empty() {
            String::new()
        } else {
            format!(" + {}", terms.join(" + "))
        };
        Ok(format!("{a}.d[{a}.off{off}]"))
    }

    fn call(&mut self, f: FuncId, args: &[Expr], ret: &Ty, site: SiteId) -> GResult<String> {
        let callee = &self.u.prog.funcs[f as usize];
        if self.u.stack.contains(&f) {
            let name = &callee.display;
            return gpu_err(
                site,
                format!("`{name}` is recursive, and OpenCL C has no recursion: a @gpu body cannot call it"),
                &format!("rewrite `{name}` with a loop, {PAR_HINT}"),
            );
        }
        if !self.u.funcs.contains(&f) {
            self.u.funcs.push(f);
            // Emit it now (depth first), so recursion through it is found at this call.
            self.u.stack.push(f);
            let r = super::kernel::check_function(self.u, f);
            self.u.stack.pop();
            r?;
        }
        let mut vals = Vec::new();
        for a in args {
            vals.push(self.expr(a)?);
        }
        vals.push("C".into());
        let name = func_name(self.u.prog, f);
        let call = format!("{name}({})", vals.join(", "));
        self.u.prelude.need("kiln_fail");
        let r = if *ret == Ty::None {
            self.line(&format!("{call};"));
            String::new()
        } else {
            self.temp(ret, &call, site)?
        };
        self.line(&format!(
            "if (C->failed) {{ kiln_trace(C, {site}); goto kfail; }}"
        ));
        Ok(r)
    }

    pub(crate) fn cast(&mut self, from: &Ty, to: &Ty, v: &str) -> GResult<String> {
        Ok(match (from, to) {
            (a, b) if a == b => v.to_string(),
            (Ty::F64 | Ty::F32, Ty::I64) => format!("convert_long_sat({v})"),
            (_, Ty::I64) => format!("(long)({v})"),
            (_, Ty::F64) => format!("(double)({v})"),
            (_, Ty::F32) => format!("(float)({v})"),
            (t, Ty::Bool) => truth_of(t, v),
            (Ty::Bool | Ty::I64 | Ty::F32 | Ty::F64, Ty::C128) => {
                self.u.types.fp64 = true;
                format!("(double2)((double)({v}), 0.0)")
            }
            (f, t) => return gpu_err(self.site, format!("no conversion from {f} to {t}"), ""),
        })
    }

    fn binary(&mut self, op: BinOp, t: &Ty, x: String, y: String, site: SiteId) -> GResult<String> {
        Ok(match t {
            Ty::I64 => match op {
                // Integers wrap: unsigned arithmetic has no undefined overflow.
                BinOp::Add => format!("(long)((ulong)({x}) + (ulong)({y}))"),
                BinOp::Sub => format!("(long)((ulong)({x}) - (ulong)({y}))"),
                BinOp::Mul => format!("(long)((ulong)({x}) * (ulong)({y}))"),
                BinOp::FloorDiv | BinOp::Mod | BinOp::Pow => {
                    let b = if is_atom(&y) {
                        y
                    } else {
                        self.temp(&Ty::I64, &y, site)?
                    };
                    let (cond, kind, msg, helper) = match op {
                        BinOp::FloorDiv => (
                            format!("{b} == 0"),
                            ErrorKind::ZeroDivisionError,
                            "integer division or modulo by zero",
                            "kiln_floordiv_i64",
                        ),
                        BinOp::Mod => (
                            format!("{b} == 0"),
                            ErrorKind::ZeroDivisionError,
                            "integer modulo by zero",
                            "kiln_mod_i64",
                        ),
                        _ => (
                            format!("{b} < 0"),
                            ErrorKind::ValueError,
                            "Integers to negative integer powers are not allowed.",
                            "kiln_pow_i64",
                        ),
                    };
                    let a = if is_atom(&x) {
                        x
                    } else {
                        self.temp(&Ty::I64, &x, site)?
                    };
                    self.fail(&cond, kind, msg, site, ["0", "0", "0"]);
                    self.u.prelude.need(helper);
                    format!("{helper}({a}, {b})")
                }
                BinOp::BitAnd => format!("({x} & {y})"),
                BinOp::BitOr => format!("({x} | {y})"),
                BinOp::BitXor => format!("({x} ^ {y})"),
                // OpenCL C takes the shift count modulo 64, as the CPU's shifts do.
                BinOp::Shl => format!("(long)((ulong)({x}) << ({y}))"),
                BinOp::Shr => format!("(({x}) >> ({y}))"),
                BinOp::Div => {
                    return gpu_err(site, "integer true division reached the backend", "")
                }
            },
            Ty::Bool => match op {
                BinOp::BitAnd => format!("({x} & {y})"),
                BinOp::BitOr => format!("({x} | {y})"),
                BinOp::BitXor => format!("({x} ^ {y})"),
                _ => return gpu_err(site, format!("bool {op:?} reached the backend"), ""),
            },
            Ty::F64 | Ty::F32 => {
                let sfx = if *t == Ty::F32 { "f32" } else { "f64" };
                match op {
                    BinOp::Add => format!("({x} + {y})"),
                    BinOp::Sub => format!("({x} - {y})"),
                    BinOp::Mul => format!("({x} * {y})"),
                    BinOp::Div => format!("({x} / {y})"),
                    BinOp::FloorDiv => {
                        let h = if sfx == "f32" {
                            "kiln_floordiv_f32"
                        } else {
                            "kiln_floordiv_f64"
                        };
                        self.u.prelude.need(h);
                        format!("{h}({x}, {y})")
                    }
                    BinOp::Mod => {
                        let h = if sfx == "f32" {
                            "kiln_mod_f32"
                        } else {
                            "kiln_mod_f64"
                        };
                        self.u.prelude.need(h);
                        format!("{h}({x}, {y})")
                    }
                    BinOp::Pow => format!("pow({x}, {y})"),
                    _ => return gpu_err(site, format!("float {op:?} reached the backend"), ""),
                }
            }
            Ty::C128 => match op {
                BinOp::Add => format!("({x} + {y})"),
                BinOp::Sub => format!("({x} - {y})"),
                BinOp::Mul => {
                    self.u.prelude.need("kiln_cmul");
                    format!("kiln_cmul({x}, {y})")
                }
                BinOp::Div => {
                    self.u.prelude.need("kiln_cdiv");
                    format!("kiln_cdiv({x}, {y})")
                }
                BinOp::Pow => {
                    self.u.prelude.need("kiln_cpow");
                    format!("kiln_cpow({x}, {y})")
                }
                _ => return gpu_err(site, format!("complex {op:?} reached the backend"), ""),
            },
            t => return gpu_err(site, format!("{op:?} on {t} reached the backend"), ""),
        })
    }
}

/// `combine(a, b)` as C text.
pub(crate) type Combine = Box<dyn Fn(&str, &str) -> String>;

/// A reduction's identity and combine, in C, for the work-group tree (the runtime's `par.rs`
/// combines the groups' partials the same way).
pub(crate) fn reduction_c(op: RedOp, t: &Ty) -> (String, Combine) {
    let single = *t == Ty::F32;
    let fl = move |v: f64| float_lit(v, single);
    let identity = match (op, t) {
        (RedOp::Mul | RedOp::Min | RedOp::BitAnd, Ty::Bool) => "true".to_string(),
        (_, Ty::Bool) => "false".to_string(),
        (RedOp::Mul, Ty::I64) => "1L".into(),
        (RedOp::Min, Ty::I64) => "LONG_MAX".into(),
        (RedOp::Max, Ty::I64) => "LONG_MIN".into(),
        (RedOp::BitAnd, Ty::I64) => "(-1L)".into(),
        (_, Ty::I64) => "0L".into(),
        (RedOp::Mul, Ty::C128) => "(double2)(1.0, 0.0)".into(),
        (_, Ty::C128) => "(double2)(0.0, 0.0)".into(),
        (RedOp::Mul, _) => fl(1.0),
        (RedOp::Min | RedOp::NpMin, _) => fl(f64::INFINITY),
        (RedOp::Max | RedOp::NpMax, _) => fl(f64::NEG_INFINITY),
        _ => fl(0.0),
    };
    let t = t.clone();
    let comb: Combine = Box::new(move |a: &str, b: &str| match (&t, op) {
        (Ty::Bool, RedOp::Add | RedOp::Max | RedOp::BitOr) => format!("({a} || {b})"),
        (Ty::Bool, _) => format!("({a} && {b})"),
        (Ty::C128, RedOp::Add) => format!("({a} + {b})"),
        (Ty::C128, _) => format!("kiln_cmul({a}, {b})"),
        (Ty::I64, RedOp::Add) => format!("(long)((ulong){a} + (ulong){b})"),
        (Ty::I64, RedOp::Mul) => format!("(long)((ulong){a} * (ulong){b})"),
        (_, RedOp::Add) => format!("({a} + {b})"),
        (_, RedOp::Mul) => format!("({a} * {b})"),
        (_, RedOp::Min) => format!("(({b} < {a}) ? {b} : {a})"),
        (_, RedOp::Max) => format!("(({b} > {a}) ? {b} : {a})"),
        (_, RedOp::NpMin) => format!("(({b} < {a} || isnan({b})) ? {b} : {a})"),
        (_, RedOp::NpMax) => format!("(({b} > {a} || isnan({b})) ? {b} : {a})"),
        (_, RedOp::BitOr) => format!("({a} | {b})"),
        (_, RedOp::BitAnd) => format!("({a} & {b})"),
    });
    (identity, comb)
}

/// `(c)` for an `if`, without doubling the parentheses `c` already has (clang warns about
/// `if ((a == b))`).
fn parenthesized(c: &str) -> String {
    let b = c.as_bytes();
    if b.first() == Some(&b'(') && b.last() == Some(&b')') {
        // The first parenthesis must close at the very end.
        let mut depth = 0;
        for (k, &ch) in b.iter().enumerate() {
            match ch {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 && k + 1 < b.len() {
                        return format!("({c})");
                    }
                }
                _ => {}
            }
        }
        return c.to_string();
    }
    format!("({c})")
}

/// Python's truth of a C value of type `t`.
pub(crate) fn truth_of(t: &Ty, v: &str) -> String {
    match t {
        Ty::Bool => v.to_string(),
        Ty::C128 => format!("({v}.x != 0.0 || {v}.y != 0.0)"),
        Ty::F32 => format!("({v} != 0.0f)"),
        Ty::F64 => format!("({v} != 0.0)"),
        _ => format!("({v} != 0)"),
    }
}

fn compare(op: CmpOp, t: &Ty, x: &str, y: &str) -> String {
    if *t == Ty::C128 {
        return if op == CmpOp::Eq {
            format!("({x}.x == {y}.x && {x}.y == {y}.y)")
        } else {
            format!("({x}.x != {y}.x || {x}.y != {y}.y)")
        };
    }
    format!("({x} {} {y})", op.symbol())
}

/// A name, a literal or a member of one: safe to repeat in the C text.
fn is_atom(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '>' | '-'))
        && !v.starts_with('-')
        && !v.contains("--")
}
