//! `check` + `lower`: type inference and lowering of the AST to the typed loop IR, in one walk.
//!
//! Inference is Numba-style and flow-insensitive: every variable has one type, the
//! unification of the types of all its assignments. We get it by running the lowering itself
//! to a fixpoint: each *probe* round walks the whole body with the variable types known so
//! far (a statement that reads a still-unknown type is skipped), widening types as it meets
//! assignments; when a round changes nothing, a final round lowers for real and reports every
//! error. Types only widen in a finite lattice, so this terminates (in 2–3 rounds in
//! practice). One code path for typing and lowering means the two cannot disagree.
//!
//! Generic functions are instantiated per tuple of argument types (`Instance`). Everything a
//! cell needs — the cell itself and each function instance it calls, transitively — becomes
//! one [`ir::Program`].

use crate::diag::Diagnostic;
use crate::ir::{self, BinOp, Builtin, CmpOp, Expr, ExprKind, MathFn, Place, Reduce, Stmt, UnOp};
use crate::syntax::ast::{self, Span, Target};
use crate::types::{promote, unify, Ty};
use kiln_runtime::{DType, ErrorKind};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

mod arrays;

/// A `def` known to the session: the tree, and the cell it came from (for error reports).
#[derive(Clone)]
pub struct FnDef {
    pub def: Rc<ast::FunctionDef>,
    pub cell: usize,
}

/// A global as the session has it before this cell runs.
#[derive(Clone, Debug)]
pub struct SessionGlobal {
    pub ty: Ty,
    pub addr: usize,
}

/// What the lowering needs from the session.
pub struct LowerInput<'a> {
    pub module: &'a ast::Module,
    pub cell: usize,
    pub funcs: &'a HashMap<String, FnDef>,
    pub globals: &'a HashMap<String, SessionGlobal>,
    /// Run every annotated loop on this target instead (`%%target`).
    pub target_override: Option<Target>,
}

/// The result: the program, the globals whose slots are new (fresh type) and the type of the
/// cell's result (stored in the global named [`RESULT`]).
pub struct Lowered {
    pub program: ir::Program,
    /// Globals assigned by this cell with their final types.
    pub assigned: HashMap<String, Ty>,
    pub result_ty: Ty,
    /// Time spent in the probe rounds (type inference) and in the final round (lowering),
    /// reported by `%time` and `--timings`.
    pub check_time: std::time::Duration,
    pub lower_time: std::time::Duration,
}

/// The hidden global that receives the cell's result value.
pub const RESULT: &str = "<result>";

enum LErr {
    /// A type was not known yet; in a probe round the statement is skipped, in the final
    /// round the diagnostic is the error.
    Unknown(Diagnostic),
    Diag(Diagnostic),
}

impl From<Diagnostic> for LErr {
    fn from(d: Diagnostic) -> LErr {
        LErr::Diag(d)
    }
}

type LResult<T> = Result<T, LErr>;

fn err<T>(kind: ErrorKind, span: Span, msg: impl Into<String>) -> LResult<T> {
    Err(LErr::Diag(Diagnostic::new(kind, span, msg)))
}

fn type_err<T>(span: Span, msg: impl Into<String>) -> LResult<T> {
    err(ErrorKind::TypeError, span, msg)
}

/// Global slot addresses are chosen by the session after lowering; during lowering the
/// globals are named and typed only. The session patches `addr`.
pub fn lower_cell(input: &LowerInput) -> Result<Lowered, Diagnostic> {
    let mut env = Env {
        input,
        cell_globals: HashMap::new(),
        globals: Vec::new(),
        global_index: HashMap::new(),
        funcs: Vec::new(),
        instances: HashMap::new(),
        in_progress: HashMap::new(),
        sites: Vec::new(),
        changed: false,
        globals_changed: false,
        probe: true,
        cell_final: false,
        par_types: HashMap::new(),
        par_count: 0,
        display_types: Vec::new(),
        map_threads: Default::default(),
        annotated_maps: Default::default(),
    };
    let started = std::time::Instant::now();
    let mut rounds = 0;
    loop {
        rounds += 1;
        env.reset_round();
        let mut cx = FnCx::cell(input.cell);
        if let Err(LErr::Diag(d)) = env.lower_cell_body(&mut cx) {
            return Err(d);
        }
        if !env.globals_changed {
            break;
        }
        if rounds > 40 {
            return Err(Diagnostic::new(
                ErrorKind::InternalError,
                Span::default(),
                "type inference did not converge",
            ));
        }
    }
    // Converged: one more round, for real.
    let check_time = started.elapsed();
    let lowering = std::time::Instant::now();
    env.reset_round();
    env.probe = false;
    env.cell_final = true;
    let mut cx = FnCx::cell(input.cell);
    let (body, result_ty) = env.lower_cell_body(&mut cx).map_err(|e| match e {
        LErr::Unknown(d) | LErr::Diag(d) => d,
    })?;
    let entry_site = env.site(&cx, Span::default());
    let entry = ir::Func {
        name: "<cell>".into(),
        display: "<cell>".into(),
        params: Vec::new(),
        ret: Ty::None,
        vars: cx.finish_vars(),
        body,
        entry_site,
    };
    env.funcs.push(Some(entry));
    let entry_id = (env.funcs.len() - 1) as u32;
    let funcs = env
        .funcs
        .into_iter()
        .map(|f| f.expect("instance lowered"))
        .collect();
    let assigned = env
        .cell_globals
        .iter()
        .map(|(k, (t, _))| (k.clone(), t.clone()))
        .collect();
    Ok(Lowered {
        program: ir::Program {
            funcs,
            entry: entry_id,
            globals: env.globals,
            sites: env.sites,
            display_types: env.display_types,
        },
        assigned,
        result_ty,
        check_time,
        lower_time: lowering.elapsed(),
    })
}

struct Env<'a> {
    input: &'a LowerInput<'a>,
    /// Globals this cell (or a function it calls) assigns: type so far and first assignment.
    cell_globals: HashMap<String, (Ty, Span)>,
    globals: Vec<ir::GlobalRef>,
    global_index: HashMap<String, ir::GlobalId>,
    funcs: Vec<Option<ir::Func>>,
    instances: HashMap<(String, Vec<Ty>), ir::FuncId>,
    /// Instances being lowered (for recursion): their return type so far.
    in_progress: HashMap<ir::FuncId, Option<Ty>>,
    sites: Vec<ir::Site>,
    /// A local variable or return type of the function being lowered widened this round.
    changed: bool,
    /// A global's type widened this round (drives the cell's fixpoint).
    globals_changed: bool,
    /// In a probe round, statements that read still-unknown types are skipped.
    probe: bool,
    /// The cell's final round: every instance's own final round is strict.
    cell_final: bool,
    /// Types of parallel loops' private variables, kept across rounds.
    par_types: HashMap<(u32, String), Ty>,
    /// Parallel loops lowered this round (ids for the backends).
    par_count: u32,
    /// Types of the values passed to `display(...)` this round.
    display_types: Vec<Ty>,
    /// Where the whole-array loops being made run: set while an annotated assignment
    /// (`@par`, `@serial`) is lowered, and back to `Auto` inside the functions it calls.
    map_threads: std::cell::Cell<ir::MapThreads>,
    /// Whole-array loops made under an annotation (one with none is an error).
    annotated_maps: std::cell::Cell<usize>,
}

/// Per-function lowering state (the cell is a function whose assigned names are globals).
struct FnCx {
    display: String,
    cell: usize,
    is_cell: bool,
    vars: Vec<(String, Option<Ty>, Span)>,
    locals: HashMap<String, ir::VarId>,
    /// Names that are local to this function (assigned in it and not declared `global`).
    local_names: HashSet<String>,
    ret_annot: Option<Ty>,
    ret: Option<Ty>,
    loop_depth: usize,
    /// Set while lowering a parallel loop's body: its private variables and reductions.
    par: Option<ParScope>,
    id: Option<ir::FuncId>,
    /// Variables the lowering makes itself (temporaries, loop counters, parallel privates),
    /// in creation order. Each inference round walks the body in the same order, so round k
    /// reuses them instead of piling up copies.
    temps: Vec<ir::VarId>,
    temp_cursor: usize,
}

/// Names of a parallel loop's body that do not refer to the enclosing scope.
struct ParScope {
    /// Identifies the loop across inference rounds (its span's start).
    key: u32,
    /// Private variables (and loop targets): one per iteration.
    vars: HashMap<String, ir::VarId>,
    /// Reduction variables: the per-worker accumulator that stands for them in the body.
    reductions: HashMap<String, (ir::RedOp, ir::VarId)>,
}

impl FnCx {
    fn par_var(&self, name: &str) -> Option<ir::VarId> {
        let p = self.par.as_ref()?;
        p.vars
            .get(name)
            .or_else(|| p.reductions.get(name).map(|(_, v)| v))
            .copied()
    }

    fn cell(cell: usize) -> FnCx {
        FnCx {
            display: "<cell>".into(),
            cell,
            is_cell: true,
            vars: Vec::new(),
            locals: HashMap::new(),
            local_names: HashSet::new(),
            ret_annot: None,
            ret: None,
            loop_depth: 0,
            par: None,
            id: None,
            temps: Vec::new(),
            temp_cursor: 0,
        }
    }

    fn finish_vars(&self) -> Vec<ir::Var> {
        self.vars
            .iter()
            .map(|(n, t, _)| ir::Var {
                name: n.clone(),
                ty: t.clone().unwrap_or(Ty::None),
            })
            .collect()
    }

    fn new_var(&mut self, name: &str, ty: Ty) -> ir::VarId {
        self.temp_var(name, Some(ty), Span::default())
    }

    /// The lowering's next own variable of this round (see `temps`).
    fn temp_var(&mut self, name: &str, ty: Option<Ty>, span: Span) -> ir::VarId {
        let entry = (name.to_string(), ty, span);
        let v = match self.temps.get(self.temp_cursor) {
            Some(&v) => {
                self.vars[v as usize] = entry;
                v
            }
            None => {
                self.vars.push(entry);
                let v = (self.vars.len() - 1) as u32;
                self.temps.push(v);
                v
            }
        };
        self.temp_cursor += 1;
        v
    }
}

/// Names a block assigns (for deciding what is local to a function).
fn assigned_names(body: &[ast::Stmt], out: &mut HashSet<String>, globals: &mut HashSet<String>) {
    fn target_names(e: &ast::Expr, out: &mut HashSet<String>) {
        match &e.kind {
            ast::ExprKind::Name(n) => {
                out.insert(n.clone());
            }
            ast::ExprKind::Tuple(items) | ast::ExprKind::List(items) => {
                items.iter().for_each(|i| target_names(i, out))
            }
            _ => {}
        }
    }
    for s in body {
        match &s.kind {
            ast::StmtKind::Assign { targets, .. } => {
                targets.iter().for_each(|t| target_names(t, out))
            }
            ast::StmtKind::AugAssign { target, .. } => target_names(target, out),
            ast::StmtKind::AnnAssign { target, .. } => target_names(target, out),
            ast::StmtKind::For { target, body, .. } => {
                target_names(target, out);
                assigned_names(body, out, globals);
            }
            ast::StmtKind::If { body, orelse, .. } => {
                assigned_names(body, out, globals);
                assigned_names(orelse, out, globals);
            }
            ast::StmtKind::While { body, .. } => assigned_names(body, out, globals),
            ast::StmtKind::Global(names) => names.iter().for_each(|(n, _)| {
                globals.insert(n.clone());
            }),
            _ => {}
        }
    }
}

fn dtype_of_name(name: &str) -> Option<DType> {
    Some(match name {
        "f64" | "float" | "float64" | "double" => DType::F64,
        "f32" | "float32" | "single" => DType::F32,
        "i64" | "int" | "int64" | "int_" | "intp" => DType::I64,
        "bool" | "bool_" => DType::Bool,
        "c128" | "complex" | "complex128" | "complex_" => DType::C128,
        _ => return None,
    })
}

/// Strips a module prefix: `np.zeros` → ("zeros", Some("np")).
fn callee_name(e: &ast::Expr) -> Option<(String, Option<&'static str>)> {
    match &e.kind {
        ast::ExprKind::Name(n) => Some((n.clone(), None)),
        ast::ExprKind::Attribute { value, attr, .. } => {
            let module = module_of(value)?;
            Some((attr.clone(), Some(module)))
        }
        _ => None,
    }
}

/// `np`, `numpy.random`, `math`, ... as the module prefix of a call.
fn module_of(e: &ast::Expr) -> Option<&'static str> {
    match &e.kind {
        ast::ExprKind::Name(m) => Some(match m.as_str() {
            "np" | "numpy" => "np",
            "math" | "cmath" => "math",
            "numba" | "nb" => "numba",
            "sys" => "sys",
            _ => return None,
        }),
        // np.random.rand, np.linalg.norm: the submodule's functions are builtins too.
        ast::ExprKind::Attribute { value, attr, .. } if attr == "random" || attr == "linalg" => {
            module_of(value).filter(|m| *m == "np")
        }
        _ => None,
    }
}

const MODULES: &[&str] = &["np", "numpy", "math", "cmath", "numba", "nb", "sys"];

fn math_fn(name: &str) -> Option<MathFn> {
    Some(match name {
        "sqrt" => MathFn::Sqrt,
        "exp" => MathFn::Exp,
        "log" => MathFn::Log,
        "log2" => MathFn::Log2,
        "log10" => MathFn::Log10,
        "sin" => MathFn::Sin,
        "cos" => MathFn::Cos,
        "tan" => MathFn::Tan,
        "arcsin" | "asin" => MathFn::Arcsin,
        "arccos" | "acos" => MathFn::Arccos,
        "arctan" | "atan" => MathFn::Arctan,
        "sinh" => MathFn::Sinh,
        "cosh" => MathFn::Cosh,
        "tanh" => MathFn::Tanh,
        "floor" => MathFn::Floor,
        "ceil" => MathFn::Ceil,
        "trunc" => MathFn::Trunc,
        "rint" => MathFn::Rint,
        _ => return None,
    })
}

/// Every builtin name a user can call (for NameError hints and completion).
pub const BUILTINS: &[&str] = &[
    "print", "range", "prange", "ndrange", "len", "int", "float", "complex", "bool", "str", "repr",
    "f32", "f64", "i64", "c128", "abs", "min", "max", "sum", "round", "pow", "sqrt", "exp", "log",
    "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "floor", "ceil", "trunc", "rint", "hypot", "arctan2", "atan2", "real", "imag", "conj", "angle",
    "isnan", "isinf", "sign", "minimum", "maximum", "clip", "zeros", "ones", "empty", "full",
    "arange", "linspace", "pi", "e", "inf", "nan",
];

impl<'a> Env<'a> {
    fn reset_round(&mut self) {
        self.globals.clear();
        self.global_index.clear();
        self.funcs.clear();
        self.instances.clear();
        self.in_progress.clear();
        self.sites.clear();
        self.changed = false;
        self.globals_changed = false;
        self.par_count = 0;
        self.display_types.clear();
    }

    fn site(&mut self, cx: &FnCx, span: Span) -> ir::SiteId {
        self.sites.push(ir::Site {
            func: cx.display.clone(),
            cell: cx.cell,
            span,
        });
        (self.sites.len() - 1) as u32
    }

    fn unknown<T>(&self, span: Span, msg: String) -> LResult<T> {
        Err(LErr::Unknown(Diagnostic::new(
            ErrorKind::NameError,
            span,
            msg,
        )))
    }

    // ----- the cell ------------------------------------------------------------------------

    fn lower_cell_body(&mut self, cx: &mut FnCx) -> LResult<(Vec<Stmt>, Ty)> {
        let module = self.input.module;
        let mut out = Vec::new();
        let n = module.body.len();
        let mut result_ty = Ty::None;
        for (k, s) in module.body.iter().enumerate() {
            let is_last = k + 1 == n;
            if is_last {
                if let ast::StmtKind::Expr(e) = &s.kind {
                    if !is_print_call(e) {
                        match self.expr(cx, e) {
                            Ok(v) => {
                                if v.ty != Ty::None {
                                    result_ty = v.ty.clone();
                                    let g = self.global_ref(RESULT, v.ty.clone());
                                    out.push(Stmt::Assign {
                                        place: Place::Global(g),
                                        value: v,
                                    });
                                } else {
                                    out.push(Stmt::Eval(v));
                                }
                            }
                            Err(e) => self.skip_or_fail(e)?,
                        }
                        continue;
                    }
                }
            }
            match self.stmt(cx, s) {
                Ok(mut v) => out.append(&mut v),
                Err(e) => self.skip_or_fail(e)?,
            }
        }
        Ok((out, result_ty))
    }

    fn skip_or_fail(&self, e: LErr) -> LResult<()> {
        match e {
            LErr::Unknown(d) if !self.probe => Err(LErr::Diag(d)),
            LErr::Unknown(_) => Ok(()),
            LErr::Diag(d) => Err(LErr::Diag(d)),
        }
    }

    fn global_ref(&mut self, name: &str, ty: Ty) -> ir::GlobalId {
        if let Some(&g) = self.global_index.get(name) {
            return g;
        }
        self.globals.push(ir::GlobalRef {
            name: name.to_string(),
            ty,
            addr: 0,
        });
        let g = (self.globals.len() - 1) as u32;
        self.global_index.insert(name.to_string(), g);
        g
    }

    /// The type a global has inside this cell.
    fn global_ty(&self, name: &str) -> Option<Ty> {
        if let Some((t, _)) = self.cell_globals.get(name) {
            return Some(t.clone());
        }
        self.input.globals.get(name).map(|g| g.ty.clone())
    }

    /// Record an assignment of `ty` to global `name`; returns the global's type in this cell.
    fn assign_global(&mut self, name: &str, ty: &Ty, span: Span) -> LResult<Ty> {
        match self.cell_globals.get(name).cloned() {
            Some((old, first)) => match unify(&old, ty) {
                Some(t) => {
                    if t != old {
                        self.globals_changed = true;
                        self.cell_globals
                            .insert(name.to_string(), (t.clone(), first));
                    }
                    Ok(t)
                }
                None => Err(conflict(name, &old, first, ty, span)),
            },
            None => {
                // Widen the session's type when that works, so a value read before this
                // cell's assignment stays meaningful; otherwise the global is rebound.
                // A cell that assigns the global before any read rebinds it (Python); one that
                // may read the old value first widens the old type so the value stays valid.
                let rebinds = crate::parallel::assigned_before_read(&self.input.module.body, name);
                let t = match self.input.globals.get(name) {
                    Some(g) if !rebinds => unify(&g.ty, ty).unwrap_or_else(|| ty.clone()),
                    _ => ty.clone(),
                };
                self.globals_changed = true;
                self.cell_globals
                    .insert(name.to_string(), (t.clone(), span));
                Ok(t)
            }
        }
    }

    // ----- names -----------------------------------------------------------------------------

    fn is_local(&self, cx: &FnCx, name: &str) -> bool {
        !cx.is_cell && cx.local_names.contains(name)
    }

    fn read_name(&mut self, cx: &mut FnCx, name: &str, span: Span) -> LResult<Expr> {
        if let Some(v) = cx.par_var(name) {
            return match &cx.vars[v as usize].1 {
                Some(t) => Ok(Expr::new(ExprKind::Var(v), t.clone())),
                None => self.unknown(
                    span,
                    format!("'{name}' is read before it is assigned in this parallel loop's body"),
                ),
            };
        }
        if self.is_local(cx, name) {
            return match cx.locals.get(name) {
                Some(&v) => match &cx.vars[v as usize].1 {
                    Some(t) => Ok(Expr::new(ExprKind::Var(v), t.clone())),
                    None => self.unknown(
                        span,
                        format!("local variable '{name}' referenced before assignment"),
                    ),
                },
                None => self.unknown(
                    span,
                    format!("local variable '{name}' referenced before assignment"),
                ),
            };
        }
        if let Some(t) = self.global_ty(name) {
            let g = self.global_ref(name, t.clone());
            return Ok(Expr::new(ExprKind::Global(g), t));
        }
        if let Some(c) = constant(name) {
            return Ok(c);
        }
        if self.input.funcs.contains_key(name) {
            return type_err(span, format!("function '{name}' used as a value"))
                .map_err(|e| with_hint(e, "functions are not values in Kiln v1; call it instead"));
        }
        if MODULES.contains(&name) {
            return type_err(span, format!("module '{name}' used as a value"));
        }
        // Unknown, not an error yet: a later statement may still assign it (the probe rounds
        // see that); the final round reports it.
        // The hint costs an edit-distance scan: only the final round, which reports, makes it.
        let hint = if self.probe {
            None
        } else {
            similar_name(name, self, cx).map(|s| format!("did you mean '{s}'?"))
        };
        let mut d = Diagnostic::new(
            ErrorKind::NameError,
            span,
            format!("name '{name}' is not defined"),
        );
        d.hint = hint;
        Err(LErr::Unknown(d))
    }

    /// The place for assigning `name`, recording the assigned type.
    fn name_place(
        &mut self,
        cx: &mut FnCx,
        name: &str,
        ty: &Ty,
        span: Span,
    ) -> LResult<(Place, Ty)> {
        if let Some(v) = cx.par_var(name) {
            let t = self.assign_var(cx, v, name, ty, span)?;
            // Private types persist across rounds (the scope is rebuilt each round).
            let key = (
                cx.par.as_ref().map(|p| p.key).unwrap_or(0),
                name.to_string(),
            );
            if self.par_types.get(&key) != Some(&t) {
                self.par_types.insert(key, t.clone());
                self.globals_changed = true;
            }
            return Ok((Place::Var(v), t));
        }
        if self.is_local(cx, name) {
            let v = match cx.locals.get(name) {
                Some(&v) => v,
                None => {
                    cx.vars.push((name.to_string(), None, span));
                    let v = (cx.vars.len() - 1) as u32;
                    cx.locals.insert(name.to_string(), v);
                    v
                }
            };
            let t = self.assign_var(cx, v, name, ty, span)?;
            return Ok((Place::Var(v), t));
        }
        let t = self.assign_global(name, ty, span)?;
        let g = self.global_ref(name, t.clone());
        Ok((Place::Global(g), t))
    }

    /// Record an assignment of `ty` to local variable `v`; returns its (widened) type.
    fn assign_var(
        &mut self,
        cx: &mut FnCx,
        v: ir::VarId,
        name: &str,
        ty: &Ty,
        span: Span,
    ) -> LResult<Ty> {
        let slot = &mut cx.vars[v as usize];
        Ok(match &slot.1 {
            None => {
                slot.1 = Some(ty.clone());
                slot.2 = span;
                self.changed = true;
                ty.clone()
            }
            Some(old) => match unify(old, ty) {
                Some(t) => {
                    if &t != old {
                        slot.1 = Some(t.clone());
                        self.changed = true;
                    }
                    t
                }
                None => return Err(conflict(name, old, slot.2, ty, span)),
            },
        })
    }

    // ----- statements ------------------------------------------------------------------------

    fn block(&mut self, cx: &mut FnCx, body: &[ast::Stmt]) -> LResult<Vec<Stmt>> {
        let mut out = Vec::new();
        for s in body {
            match self.stmt(cx, s) {
                Ok(mut v) => out.append(&mut v),
                Err(e) => self.skip_or_fail(e)?,
            }
        }
        Ok(out)
    }

    fn stmt(&mut self, cx: &mut FnCx, s: &ast::Stmt) -> LResult<Vec<Stmt>> {
        let mut assign_target = None;
        if let Some((target, span)) = s.target {
            let ok = matches!(
                s.kind,
                ast::StmtKind::For { .. }
                    | ast::StmtKind::Assign { .. }
                    | ast::StmtKind::AugAssign { .. }
            );
            if !ok {
                return err(ErrorKind::SyntaxError, span, "a target annotation must stand right before a `for` loop or an array assignment");
            }
            if !matches!(s.kind, ast::StmtKind::For { .. }) {
                // `%%target T` re-targets annotated assignments as it does annotated loops.
                let target = self.input.target_override.unwrap_or(target);
                if target == Target::Gpu {
                    return err(
                        ErrorKind::DeviceError,
                        span,
                        "@gpu whole-array assignments need Kiln's OpenCL backend, which this build does not have yet",
                    )
                    .map_err(|e| with_hint(e, "use @par to run it on every CPU core"));
                }
                assign_target = Some((target, span));
            }
        }
        let Some((target, span)) = assign_target else {
            return self.stmt_kind(cx, s);
        };
        // Whole-array work nested in a parallel loop runs on the worker that owns the
        // iteration, as nested loops do.
        let threads = match target {
            Target::Par if cx.par.is_none() => ir::MapThreads::Par,
            _ => ir::MapThreads::Serial,
        };
        self.map_threads.set(threads);
        self.annotated_maps.set(0);
        let out = self.stmt_kind(cx, s);
        self.map_threads.set(ir::MapThreads::Auto);
        let out = out?;
        if self.annotated_maps.get() == 0 {
            return err(
                ErrorKind::SyntaxError,
                span,
                "this assignment has no whole-array work for a target annotation to place",
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "annotate a `for` loop, or an assignment of a whole-array expression such as `y[:] = 2 * x + 1`",
                )
            });
        }
        Ok(out)
    }

    /// Where a whole-array loop made now runs (see `map_threads`).
    pub(super) fn new_map_threads(&self) -> ir::MapThreads {
        let t = self.map_threads.get();
        if t != ir::MapThreads::Auto {
            self.annotated_maps.set(self.annotated_maps.get() + 1);
        }
        t
    }

    fn stmt_kind(&mut self, cx: &mut FnCx, s: &ast::Stmt) -> LResult<Vec<Stmt>> {
        match &s.kind {
            ast::StmtKind::Expr(e) => {
                if let Some(p) = self.try_print(cx, e)? {
                    return Ok(vec![p]);
                }
                let v = self.expr(cx, e)?;
                Ok(vec![Stmt::Eval(v)])
            }
            ast::StmtKind::Assign { targets, value } => {
                let v = self.expr(cx, value)?;
                if targets.len() == 1 {
                    return self.assign(cx, &targets[0], v, s.span);
                }
                // `a = b = v`: evaluate once into a temporary.
                let tmp = cx.new_var("tmp", v.ty.clone());
                let mut out = vec![Stmt::Assign {
                    place: Place::Var(tmp),
                    value: v.clone(),
                }];
                for t in targets {
                    let read = Expr::new(ExprKind::Var(tmp), v.ty.clone());
                    out.extend(self.assign(cx, t, read, s.span)?);
                }
                Ok(out)
            }
            ast::StmtKind::AnnAssign {
                target,
                annotation,
                value,
            } => {
                let ty = self.annotation(annotation)?;
                let ast::ExprKind::Name(name) = &target.kind else {
                    return err(
                        ErrorKind::SyntaxError,
                        target.span,
                        "only a name can be annotated",
                    );
                };
                let (place, t) = self.name_place(cx, name, &ty, target.span)?;
                match value {
                    Some(v) => {
                        let v = self.expr(cx, v)?;
                        let v = self.convert(v, &t, target.span)?;
                        Ok(vec![Stmt::Assign { place, value: v }])
                    }
                    None => Ok(vec![]),
                }
            }
            ast::StmtKind::AugAssign { target, op, value } => {
                let cur = self.expr(cx, target)?;
                let rhs = self.expr(cx, value)?;
                if matches!(cur.ty, Ty::Array { .. }) {
                    // NumPy: `a += b` writes into a's memory (views included).
                    let dest = cur.clone();
                    let new = self.binary(cx, *op, cur, rhs, s.span)?;
                    return self.map_into(cx, dest, new, s.span).map(|s| vec![s]);
                }
                let new = self.binary(cx, *op, cur, rhs, s.span)?;
                self.assign(cx, target, new, s.span)
            }
            ast::StmtKind::If { test, body, orelse } => {
                let cond = self.expr(cx, test)?;
                let cond = self.truth(cond, test.span)?;
                let then = self.block(cx, body)?;
                let els = self.block(cx, orelse)?;
                Ok(vec![Stmt::If { cond, then, els }])
            }
            ast::StmtKind::While { test, body } => {
                let cond = self.expr(cx, test)?;
                let cond = self.truth(cond, test.span)?;
                cx.loop_depth += 1;
                let body = self.block(cx, body);
                cx.loop_depth -= 1;
                Ok(vec![Stmt::While { cond, body: body? }])
            }
            ast::StmtKind::For { target, iter, body } => self.for_loop(cx, s, target, iter, body),
            ast::StmtKind::Break | ast::StmtKind::Continue => {
                if cx.loop_depth == 0 {
                    let w = if matches!(s.kind, ast::StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    return err(
                        ErrorKind::SyntaxError,
                        s.span,
                        format!("'{w}' outside loop"),
                    );
                }
                Ok(vec![if matches!(s.kind, ast::StmtKind::Break) {
                    Stmt::Break
                } else {
                    Stmt::Continue
                }])
            }
            ast::StmtKind::Pass => Ok(vec![]),
            ast::StmtKind::Return(e) => {
                if cx.is_cell {
                    return err(ErrorKind::SyntaxError, s.span, "'return' outside function");
                }
                let v = match e {
                    Some(e) => self.expr(cx, e)?,
                    None => Expr::none(),
                };
                let span = e.as_ref().map(|e| e.span).unwrap_or(s.span);
                let target = match (&cx.ret_annot, &cx.ret) {
                    (Some(t), _) => t.clone(),
                    (None, None) => {
                        cx.ret = Some(v.ty.clone());
                        self.changed = true;
                        v.ty.clone()
                    }
                    (None, Some(old)) => match unify(old, &v.ty) {
                        Some(t) => {
                            if &t != old {
                                cx.ret = Some(t.clone());
                                self.changed = true;
                            }
                            t
                        }
                        None => {
                            return type_err(
                                span,
                                format!(
                                    "`{}` returns {} here but {} elsewhere; a function returns one type",
                                    cx.display, v.ty, old
                                ),
                            )
                        }
                    },
                };
                if let Some(id) = cx.id {
                    self.in_progress.insert(id, Some(target.clone()));
                }
                let v = self.convert(v, &target, span)?;
                Ok(vec![Stmt::Return(if v.ty == Ty::None {
                    None
                } else {
                    Some(v)
                })])
            }
            ast::StmtKind::FunctionDef(_) => {
                if !cx.is_cell {
                    return err(
                        ErrorKind::SyntaxError,
                        s.span,
                        "nested functions are not supported in Kiln v1; define it at the top level",
                    );
                }
                Ok(vec![])
            }
            ast::StmtKind::Global(names) => {
                if cx.is_cell {
                    return Ok(vec![]);
                }
                for (n, span) in names {
                    if cx.locals.contains_key(n) {
                        return err(
                            ErrorKind::SyntaxError,
                            *span,
                            format!("name '{n}' is assigned to before global declaration"),
                        );
                    }
                }
                Ok(vec![])
            }
            ast::StmtKind::Import { module, .. } => {
                let root = module.split('.').next().unwrap_or("");
                if ["numpy", "math", "cmath", "sys", "numba"].contains(&root) {
                    Ok(vec![])
                } else {
                    err(
                        ErrorKind::NameError,
                        s.span,
                        format!("No module named '{module}' in Kiln (numpy, math, sys and numba are accepted and do nothing)"),
                    )
                }
            }
        }
    }

    /// Assign `v` to the target expression.
    fn assign(
        &mut self,
        cx: &mut FnCx,
        target: &ast::Expr,
        v: Expr,
        span: Span,
    ) -> LResult<Vec<Stmt>> {
        match &target.kind {
            ast::ExprKind::Tuple(items) | ast::ExprKind::List(items) => {
                let Ty::Tuple(tys) = v.ty.clone() else {
                    return type_err(
                        span,
                        format!("cannot unpack a {} into {} names", v.ty, items.len()),
                    );
                };
                if tys.len() != items.len() {
                    return err(
                        ErrorKind::ValueError,
                        span,
                        format!(
                            "{} values to unpack (expected {})",
                            if tys.len() > items.len() {
                                "too many"
                            } else {
                                "not enough"
                            },
                            items.len()
                        ),
                    );
                }
                // Evaluate the whole right side first (`a, b = b, a + b`), then store.
                let tmp = cx.new_var("tup", v.ty.clone());
                let mut out = vec![Stmt::Assign {
                    place: Place::Var(tmp),
                    value: v.clone(),
                }];
                for (k, item) in items.iter().enumerate() {
                    let read = Expr::new(
                        ExprKind::TupleGet(
                            Box::new(Expr::new(ExprKind::Var(tmp), v.ty.clone())),
                            k as u32,
                        ),
                        tys[k].clone(),
                    );
                    out.extend(self.assign(cx, item, read, span)?);
                }
                Ok(out)
            }
            ast::ExprKind::Name(name) => {
                let (place, t) = self.name_place(cx, name, &v.ty, target.span)?;
                let v = self.convert(v, &t, target.span)?;
                Ok(vec![Stmt::Assign { place, value: v }])
            }
            ast::ExprKind::Subscript { value, index } => {
                let arr = self.expr(cx, value)?;
                let Ty::Array { dtype, ndim } = arr.ty else {
                    return type_err(
                        value.span,
                        format!("'{}' object does not support item assignment", arr.ty),
                    );
                };
                let is_view = index
                    .iter()
                    .any(|i| matches!(i.kind, ast::ExprKind::Slice { .. }))
                    || index.len() < ndim as usize;
                if is_view || matches!(v.ty, Ty::Array { .. }) {
                    let dest = if is_view {
                        self.slice(cx, arr, index, target.span)?
                    } else {
                        return type_err(
                            span,
                            format!(
                                "cannot store an array in one element of a {} array",
                                Ty::from_dtype(dtype)
                            ),
                        );
                    };
                    return self.map_into(cx, dest, v, span).map(|s| vec![s]);
                }
                let idx = self.indices(cx, index, ndim as usize, target.span)?;
                let elem = Ty::from_dtype(dtype);
                let v = self.store_cast(v, &elem, span)?;
                let site = self.site(cx, target.span);
                Ok(vec![Stmt::Assign {
                    place: Place::Elem {
                        array: arr,
                        index: idx,
                        site,
                    },
                    value: v,
                }])
            }
            ast::ExprKind::Attribute { .. } => {
                type_err(target.span, "attributes cannot be assigned in Kiln")
            }
            _ => err(
                ErrorKind::SyntaxError,
                target.span,
                "cannot assign to expression",
            ),
        }
    }

    /// NumPy's casting on element assignment: any real number into any real dtype.
    fn store_cast(&mut self, v: Expr, elem: &Ty, span: Span) -> LResult<Expr> {
        if v.ty == *elem {
            return Ok(v);
        }
        if v.ty == Ty::C128 && *elem != Ty::C128 {
            return type_err(
                span,
                format!("cannot store a complex value in a {elem} array"),
            )
            .map_err(|e| with_hint(e, "take `.real` or `abs(...)` first"));
        }
        if !v.ty.is_numeric() {
            return type_err(span, format!("cannot store a {} in a {elem} array", v.ty));
        }
        Ok(cast(v, elem.clone()))
    }

    fn for_loop(
        &mut self,
        cx: &mut FnCx,
        s: &ast::Stmt,
        target: &ast::Expr,
        iter: &ast::Expr,
        body: &[ast::Stmt],
    ) -> LResult<Vec<Stmt>> {
        let mut loop_target = s.target.map(|(t, _)| t).unwrap_or(Target::Serial);
        let mut ranges = Vec::new();
        let call = match &iter.kind {
            ast::ExprKind::Call {
                func,
                args,
                keywords,
            } => callee_name(func).map(|(n, _)| (n, args, keywords)),
            _ => None,
        };
        let mut out = Vec::new();
        // Per-iteration assignments to the user's variables, from the hidden counters.
        let mut elem_source: Option<(ir::VarId, Ty)> = None;
        match call {
            Some((name, args, keywords))
                if (name == "range" || name == "prange")
                    && !self.input.funcs.contains_key(&name) =>
            {
                if !keywords.is_empty() || args.is_empty() || args.len() > 3 {
                    return type_err(
                        iter.span,
                        format!("{name}() takes 1 to 3 integer arguments"),
                    );
                }
                if name == "prange" && s.target.is_none() {
                    loop_target = Target::Par;
                }
                let mut vals = Vec::new();
                for a in args {
                    let v = self.expr(cx, a)?;
                    vals.push(self.int_arg(v, a.span, &name)?);
                }
                let (start, stop, step) = match vals.len() {
                    1 => (Expr::int(0), vals.pop().unwrap(), Expr::int(1)),
                    2 => {
                        let stop = vals.pop().unwrap();
                        (vals.pop().unwrap(), stop, Expr::int(1))
                    }
                    _ => {
                        let step = vals.pop().unwrap();
                        let stop = vals.pop().unwrap();
                        (vals.pop().unwrap(), stop, step)
                    }
                };
                if let ExprKind::Int(0) = step.kind {
                    return err(
                        ErrorKind::ValueError,
                        args[2].span,
                        "range() arg 3 must not be zero",
                    );
                }
                ranges.push(ir::Range { start, stop, step });
            }
            Some((name, args, keywords))
                if name == "ndrange" && !self.input.funcs.contains_key(&name) =>
            {
                if !keywords.is_empty() || args.is_empty() || args.len() > 4 {
                    return type_err(iter.span, "ndrange() takes 1 to 4 integer extents");
                }
                for a in args {
                    let v = self.expr(cx, a)?;
                    let stop = self.int_arg(v, a.span, "ndrange")?;
                    ranges.push(ir::Range {
                        start: Expr::int(0),
                        stop,
                        step: Expr::int(1),
                    });
                }
            }
            _ => {
                let arr = self.expr(cx, iter)?;
                match &arr.ty {
                    Ty::Array { dtype, ndim: 1 } => {
                        let v = cx.new_var("iter", arr.ty.clone());
                        let dim = Expr::new(
                            ExprKind::Builtin {
                                op: Builtin::Dim(0),
                                args: vec![Expr::new(ExprKind::Var(v), arr.ty.clone())],
                                site: 0,
                            },
                            Ty::I64,
                        );
                        elem_source = Some((v, Ty::from_dtype(*dtype)));
                        out.push(Stmt::Assign {
                            place: Place::Var(v),
                            value: arr,
                        });
                        ranges.push(ir::Range {
                            start: Expr::int(0),
                            stop: dim,
                            step: Expr::int(1),
                        });
                    }
                    Ty::Array { .. } => {
                        return type_err(iter.span, "iterating over a multi-dimensional array gives rows (views), which arrive with the arrays issue")
                            .map_err(|e| with_hint(e, "loop over `ndrange(*a.shape)` or `range(len(a))` instead"));
                    }
                    t => {
                        return type_err(iter.span, format!("a for loop runs over range(), prange(), ndrange() or a 1-D array, not a {t}"));
                    }
                }
            }
        }
        if let Some(o) = self.input.target_override {
            if s.target.is_some() || loop_target != Target::Serial {
                loop_target = o;
            }
        }
        if loop_target == Target::Gpu {
            let span = s.target.map(|(_, sp)| sp).unwrap_or(s.span);
            return err(
                ErrorKind::DeviceError,
                span,
                "@gpu loops need Kiln's OpenCL backend, which this build does not have yet",
            )
            .map_err(|e| with_hint(e, "use @par to run the loop on every CPU core"));
        }
        // A parallel loop nested in another one runs serially on the worker that owns it.
        if cx.par.is_some() {
            loop_target = Target::Serial;
        }
        let mut target_names: Vec<String> = Vec::new();
        collect_target_names(target, &mut target_names);
        let plan = if loop_target == Target::Par {
            let defined = |n: &str| {
                cx.locals.contains_key(n) || (!self.is_local(cx, n) && self.global_ty(n).is_some())
            };
            Some(crate::parallel::analyze(body, &target_names, &defined).map_err(LErr::Diag)?)
        } else {
            None
        };
        // Hidden counters, one per range.
        let counters: Vec<ir::VarId> = (0..ranges.len())
            .map(|k| cx.new_var(&format!("i{k}"), Ty::I64))
            .collect();
        if let Some(plan) = &plan {
            let key = s.span.lo;
            let mut scope = ParScope {
                key,
                vars: HashMap::new(),
                reductions: HashMap::new(),
            };
            for name in &plan.private {
                let ty = self.par_types.get(&(key, name.clone())).cloned();
                let v = cx.temp_var(name, ty, s.span);
                scope.vars.insert(name.clone(), v);
            }
            for (name, op) in &plan.reductions {
                let outer = self.read_name(cx, name, s.span)?;
                let acc = cx.new_var(name, outer.ty.clone());
                scope.reductions.insert(name.clone(), (*op, acc));
            }
            cx.par = Some(scope);
        }
        let result = self.for_body(cx, target, iter, body, &counters, elem_source, ranges.len());
        // Only the loop that opened the parallel scope closes it (nested loops run inside it).
        let scope = if plan.is_some() { cx.par.take() } else { None };
        let body_pre = result?;
        let par = match (plan, scope) {
            (Some(plan), Some(scope)) => {
                let mut reductions = Vec::new();
                for (name, op) in &plan.reductions {
                    let (_, acc) = scope.reductions[name];
                    let acc_ty = cx.vars[acc as usize].1.clone().unwrap_or(Ty::None);
                    let (outer, ty) = self.name_place(cx, name, &acc_ty, s.span)?;
                    if ty != acc_ty {
                        // The outer variable is wider: the next round starts the
                        // accumulator at that type.
                        self.globals_changed = true;
                        self.changed = true;
                    }
                    reductions.push(ir::ParReduction {
                        op: *op,
                        acc,
                        outer,
                        ty,
                    });
                }
                self.par_count += 1;
                Some(ir::ParInfo {
                    id: self.par_count - 1,
                    reductions,
                })
            }
            _ => None,
        };
        let site = self.site(cx, iter.span);
        out.push(Stmt::For {
            vars: counters.into_iter().map(Place::Var).collect(),
            ranges,
            body: body_pre,
            target: loop_target,
            site,
            par,
        });
        Ok(out)
    }

    /// The body of a for loop, preceded by the assignments of the user's loop variables
    /// from the hidden counters.
    #[allow(clippy::too_many_arguments)]
    fn for_body(
        &mut self,
        cx: &mut FnCx,
        target: &ast::Expr,
        iter: &ast::Expr,
        body: &[ast::Stmt],
        counters: &[ir::VarId],
        elem_source: Option<(ir::VarId, Ty)>,
        nranges: usize,
    ) -> LResult<Vec<Stmt>> {
        let counter = |k: usize| Expr::new(ExprKind::Var(counters[k]), Ty::I64);
        let target_items: Vec<&ast::Expr> = match &target.kind {
            ast::ExprKind::Tuple(items) if nranges > 1 => items.iter().collect(),
            _ => vec![target],
        };
        let mut body_pre = Vec::new();
        if let Some((arr_var, elem_ty)) = elem_source {
            let arr_ty = cx.vars[arr_var as usize].1.clone().unwrap();
            let site = self.site(cx, iter.span);
            let e = Expr::new(
                ExprKind::Index {
                    array: Box::new(Expr::new(ExprKind::Var(arr_var), arr_ty)),
                    index: vec![counter(0)],
                    site,
                },
                elem_ty,
            );
            body_pre.extend(self.assign(cx, target, e, target.span)?);
        } else if target_items.len() == nranges {
            for (k, t) in target_items.iter().enumerate() {
                body_pre.extend(self.assign(cx, t, counter(k), t.span)?);
            }
        } else if nranges > 1 {
            let tup = Expr::new(
                ExprKind::Tuple((0..nranges).map(counter).collect()),
                Ty::tuple(vec![Ty::I64; nranges]),
            );
            body_pre.extend(self.assign(cx, target, tup, target.span)?);
        } else {
            return err(
                ErrorKind::ValueError,
                target.span,
                format!("cannot unpack an integer into {} names", target_items.len()),
            );
        }
        cx.loop_depth += 1;
        let body = self.block(cx, body);
        cx.loop_depth -= 1;
        body_pre.extend(body?);
        Ok(body_pre)
    }

    fn int_arg(&self, v: Expr, span: Span, what: &str) -> LResult<Expr> {
        match v.ty {
            Ty::I64 => Ok(v),
            Ty::Bool => Ok(cast(v, Ty::I64)),
            ref t => type_err(span, format!("{what}() needs integers, got a {t}")).map_err(|e| {
                with_hint(
                    e,
                    "convert with int(...): a float cannot be interpreted as an integer",
                )
            }),
        }
    }

    fn try_print(&mut self, cx: &mut FnCx, e: &ast::Expr) -> LResult<Option<Stmt>> {
        let ast::ExprKind::Call {
            func,
            args,
            keywords,
        } = &e.kind
        else {
            return Ok(None);
        };
        match callee_name(func) {
            Some((n, None)) if n == "print" && !self.input.funcs.contains_key("print") => {}
            _ => return Ok(None),
        }
        let mut vals = Vec::new();
        for a in args {
            vals.push(self.expr(cx, a)?);
        }
        let (mut sep, mut end, mut stderr) = (None, None, false);
        for kw in keywords {
            match kw.name.as_str() {
                "sep" | "end" => {
                    let v = self.expr(cx, &kw.value)?;
                    let v = match v.ty {
                        Ty::Str => v,
                        Ty::None => Expr::new(
                            ExprKind::Str(if kw.name == "sep" { " " } else { "\n" }.into()),
                            Ty::Str,
                        ),
                        ref t => {
                            return type_err(
                                kw.value.span,
                                format!("{} must be None or a string, not {t}", kw.name),
                            )
                        }
                    };
                    if kw.name == "sep" {
                        sep = Some(v);
                    } else {
                        end = Some(v);
                    }
                }
                "file" => {
                    let ok = match &kw.value.kind {
                        ast::ExprKind::Name(n) => n == "stderr" || n == "stdout",
                        ast::ExprKind::Attribute { value, attr, .. } => {
                            matches!(&value.kind, ast::ExprKind::Name(m) if m == "sys")
                                && (attr == "stderr" || attr == "stdout")
                        }
                        _ => false,
                    };
                    if !ok {
                        return type_err(
                            kw.value.span,
                            "print(file=...) takes sys.stderr or sys.stdout",
                        );
                    }
                    stderr = matches!(&kw.value.kind, ast::ExprKind::Name(n) if n == "stderr")
                        || matches!(&kw.value.kind, ast::ExprKind::Attribute { attr, .. } if attr == "stderr");
                }
                "flush" => {}
                other => {
                    return type_err(
                        kw.span,
                        format!("'{other}' is an invalid keyword argument for print()"),
                    )
                }
            }
        }
        Ok(Some(Stmt::Print {
            args: vals,
            sep,
            end,
            stderr,
        }))
    }

    // ----- types from annotations -----------------------------------------------------------

    fn annotation(&self, e: &ast::Expr) -> LResult<Ty> {
        let bad = || {
            type_err(e.span, "not a Kiln type (use bool, int/i64, float/f64, f32, complex/c128, str, or an array like f64[:, :])")
        };
        match &e.kind {
            ast::ExprKind::Name(n) if n == "str" => Ok(Ty::Str),
            ast::ExprKind::Name(n) => dtype_of_name(n).map(Ty::from_dtype).map_or_else(bad, Ok),
            ast::ExprKind::Attribute { attr, .. } => {
                dtype_of_name(attr).map(Ty::from_dtype).map_or_else(bad, Ok)
            }
            ast::ExprKind::Subscript { value, index } => {
                let elem = self.annotation(value)?;
                let Some(d) = elem.dtype() else { return bad() };
                if index.is_empty()
                    || index.len() > 4
                    || !index
                        .iter()
                        .all(|i| matches!(i.kind, ast::ExprKind::Slice { .. }))
                {
                    return bad();
                }
                Ok(Ty::array(d, index.len()))
            }
            ast::ExprKind::Tuple(items) => {
                let tys: LResult<Vec<Ty>> = items.iter().map(|i| self.annotation(i)).collect();
                Ok(Ty::tuple(tys?))
            }
            ast::ExprKind::None => Ok(Ty::None),
            _ => bad(),
        }
    }

    fn dtype_arg(&self, e: &ast::Expr) -> LResult<DType> {
        let d = match &e.kind {
            ast::ExprKind::Name(n) => dtype_of_name(n),
            ast::ExprKind::Attribute { attr, .. } => dtype_of_name(attr),
            ast::ExprKind::Str(s) => dtype_of_name(s),
            _ => None,
        };
        d.map_or_else(
            || {
                type_err(
                    e.span,
                    "not a dtype (use f64, f32, i64, bool or c128, or np.float64 and friends)",
                )
            },
            Ok,
        )
    }

    // ----- expressions -------------------------------------------------------------------------

    fn expr(&mut self, cx: &mut FnCx, e: &ast::Expr) -> LResult<Expr> {
        use ast::ExprKind as A;
        Ok(match &e.kind {
            A::Int(v) => Expr::int(*v),
            A::Float(v) => Expr::new(ExprKind::Float(*v), Ty::F64),
            A::Imag(v) => Expr::new(ExprKind::Complex(0.0, *v), Ty::C128),
            A::Bool(b) => Expr::new(ExprKind::Bool(*b), Ty::Bool),
            A::None => Expr::none(),
            A::Str(s) => Expr::new(ExprKind::Str(s.as_str().into()), Ty::Str),
            A::FString(parts) => {
                let mut acc: Option<Expr> = None;
                for p in parts {
                    let piece = match p {
                        ast::FStringPart::Lit(s) => {
                            Expr::new(ExprKind::Str(s.as_str().into()), Ty::Str)
                        }
                        ast::FStringPart::Expr {
                            expr,
                            conversion,
                            spec,
                        } => {
                            let v = self.expr(cx, expr)?;
                            self.format(
                                cx,
                                v,
                                spec.as_deref().unwrap_or(""),
                                *conversion == Some('r'),
                                expr.span,
                            )?
                        }
                    };
                    acc = Some(match acc {
                        None => piece,
                        Some(a) => {
                            self.builtin(cx, Builtin::Concat, vec![a, piece], Ty::Str, e.span)
                        }
                    });
                }
                acc.unwrap_or_else(|| Expr::new(ExprKind::Str("".into()), Ty::Str))
            }
            A::Name(n) => self.read_name(cx, n, e.span)?,
            A::Attribute {
                value,
                attr,
                attr_span,
            } => self.attribute(cx, value, attr, *attr_span, e.span)?,
            A::Subscript { value, index } => {
                let v = self.expr(cx, value)?;
                match &v.ty {
                    Ty::Array { dtype, ndim } => {
                        let (dtype, ndim) = (*dtype, *ndim as usize);
                        if index.iter().any(|i| matches!(i.kind, A::Slice { .. }))
                            || index.len() < ndim
                        {
                            return self.slice(cx, v, index, e.span);
                        }
                        let idx = self.indices(cx, index, ndim, e.span)?;
                        let site = self.site(cx, e.span);
                        Expr::new(
                            ExprKind::Index {
                                array: Box::new(v),
                                index: idx,
                                site,
                            },
                            Ty::from_dtype(dtype),
                        )
                    }
                    Ty::Tuple(items) => {
                        let items = items.clone();
                        let k = match index.as_slice() {
                            [i] => match self.expr(cx, i)?.kind {
                                ExprKind::Int(k) => k,
                                _ => return type_err(i.span, "a tuple index must be an integer constant (tuples have one type per item)"),
                            },
                            _ => return type_err(e.span, "a tuple takes one index"),
                        };
                        let n = items.len() as i64;
                        let kk = if k < 0 { k + n } else { k };
                        if kk < 0 || kk >= n {
                            return err(ErrorKind::IndexError, e.span, "tuple index out of range");
                        }
                        Expr::new(
                            ExprKind::TupleGet(Box::new(v), kk as u32),
                            items[kk as usize].clone(),
                        )
                    }
                    t => return type_err(value.span, format!("'{t}' object is not subscriptable")),
                }
            }
            A::Slice { .. } => {
                return err(
                    ErrorKind::SyntaxError,
                    e.span,
                    "a slice only appears inside []",
                )
            }
            A::Call {
                func,
                args,
                keywords,
            } => self.call(cx, func, args, keywords, e.span)?,
            A::Unary { op, operand } => {
                let v = self.expr(cx, operand)?;
                if matches!(v.ty, Ty::Array { .. }) {
                    if *op == ast::UnaryOp::Not {
                        return type_err(e.span, "`not` of an array is ambiguous")
                            .map_err(|er| with_hint(er, "use ~ for elementwise logical not"));
                    }
                    let site = self.site(cx, e.span);
                    let op = *op;
                    let span = e.span;
                    self.elementwise(site, vec![v], span, |s, l| {
                        s.unary(op, l.into_iter().next().unwrap(), span)
                    })?
                } else {
                    self.unary(*op, v, e.span)?
                }
            }
            A::Binary { op, left, right } => {
                let a = self.expr(cx, left)?;
                let b = self.expr(cx, right)?;
                self.binary(cx, *op, a, b, e.span)?
            }
            A::BoolOp { op, values } => {
                let mut acc = self.expr(cx, &values[0])?;
                for v in &values[1..] {
                    let b = self.expr(cx, v)?;
                    acc = self.boolop(*op, acc, b, e.span)?;
                }
                acc
            }
            A::Compare { left, ops } => {
                // `a < b < c` is `a < b and b < c`, with b evaluated once: a middle operand
                // that is not a plain name or literal goes through a temporary, bound just
                // before the comparison that first reads it (short-circuiting as Python).
                let mut prev = self.expr(cx, left)?;
                let mut cmps: Vec<(Option<(ir::VarId, Expr)>, Expr)> = Vec::new();
                for (k, (op, rhs)) in ops.iter().enumerate() {
                    let mut r = self.expr(cx, rhs)?;
                    let mut bind = None;
                    if k + 1 < ops.len()
                        && !arrays::is_leafy(&r)
                        && !r.is_literal()
                        && r.ty.is_numeric()
                    {
                        let v = cx.new_var("cmp", r.ty.clone());
                        let ty = r.ty.clone();
                        bind = Some((v, r));
                        r = Expr::new(ExprKind::Var(v), ty);
                    }
                    let c = if matches!(prev.ty, Ty::Array { .. })
                        || matches!(r.ty, Ty::Array { .. })
                    {
                        if ops.len() > 1 {
                            return type_err(e.span, "chained comparisons of arrays are ambiguous")
                                .map_err(|er| {
                                    with_hint(
                                        er,
                                        "combine two comparisons with &: (a < b) & (b < c)",
                                    )
                                });
                        }
                        let site = self.site(cx, e.span);
                        let (op, span) = (*op, e.span);
                        self.elementwise(site, vec![prev, r.clone()], span, |s, l| {
                            let mut l = l.into_iter();
                            let (x, y) = (l.next().unwrap(), l.next().unwrap());
                            s.compare(op, x, y, span)
                        })?
                    } else {
                        self.compare(*op, prev, r.clone(), e.span)?
                    };
                    cmps.push((bind, c));
                    prev = r;
                }
                let mut acc: Option<Expr> = None;
                for (bind, c) in cmps.into_iter().rev() {
                    let ty = c.ty.clone();
                    let joined = match acc {
                        None => c,
                        Some(rest) => {
                            Expr::new(ExprKind::And(Box::new(c), Box::new(rest)), ty.clone())
                        }
                    };
                    acc = Some(match bind {
                        Some((v, val)) => {
                            Expr::new(ExprKind::Let(v, Box::new(val), Box::new(joined)), ty)
                        }
                        None => joined,
                    });
                }
                acc.unwrap()
            }
            A::IfExp { test, body, orelse } => {
                let c = self.expr(cx, test)?;
                let c = self.truth(c, test.span)?;
                let a = self.expr(cx, body)?;
                let b = self.expr(cx, orelse)?;
                let Some(t) = unify(&a.ty, &b.ty) else {
                    return type_err(
                        e.span,
                        format!(
                            "the two branches have types {} and {}; an expression has one type",
                            a.ty, b.ty
                        ),
                    );
                };
                let (a, b) = (cast(a, t.clone()), cast(b, t.clone()));
                Expr::new(ExprKind::Select(Box::new(c), Box::new(a), Box::new(b)), t)
            }
            A::Tuple(items) => {
                let mut vals = Vec::new();
                for i in items {
                    vals.push(self.expr(cx, i)?);
                }
                let ty = Ty::tuple(vals.iter().map(|v| v.ty.clone()).collect());
                Expr::new(ExprKind::Tuple(vals), ty)
            }
            A::List(_) => {
                return type_err(e.span, "list literals make arrays with array([...]), which arrives with the arrays issue")
                    .map_err(|er| with_hint(er, "use a tuple for a shape: zeros((h, w))"));
            }
        })
    }

    fn indices(
        &mut self,
        cx: &mut FnCx,
        index: &[ast::Expr],
        ndim: usize,
        span: Span,
    ) -> LResult<Vec<Expr>> {
        if index.len() != ndim {
            return err(
                ErrorKind::IndexError,
                span,
                format!(
                    "too many indices for array: array is {ndim}-dimensional, but {} were indexed",
                    index.len()
                ),
            );
        }
        let mut out = Vec::new();
        for i in index {
            let v = self.expr(cx, i)?;
            out.push(match v.ty {
                Ty::I64 => v,
                Ty::Bool => cast(v, Ty::I64),
                ref t => {
                    return err(
                        ErrorKind::IndexError,
                        i.span,
                        format!("only integers are valid indices, not {t}"),
                    )
                    .map_err(|e| with_hint(e, "convert with int(...)"))
                }
            });
        }
        Ok(out)
    }

    fn attribute(
        &mut self,
        cx: &mut FnCx,
        value: &ast::Expr,
        attr: &str,
        attr_span: Span,
        span: Span,
    ) -> LResult<Expr> {
        if let ast::ExprKind::Name(m) = &value.kind {
            if MODULES.contains(&m.as_str()) && self.global_ty(m).is_none() {
                if let Some(c) = constant(attr) {
                    return Ok(c);
                }
                return type_err(
                    attr_span,
                    format!("module '{m}' has no value named '{attr}' in Kiln"),
                );
            }
        }
        let v = self.expr(cx, value)?;
        match (&v.ty, attr) {
            (Ty::Array { ndim, .. }, "shape") => {
                let n = *ndim as usize;
                Ok(self.builtin(
                    cx,
                    Builtin::Shape,
                    vec![v],
                    Ty::tuple(vec![Ty::I64; n]),
                    span,
                ))
            }
            (Ty::Array { dtype, .. }, "dtype") => {
                // The dtype's name as a string: prints, formats and compares as NumPy's
                // dtype does (`float64`); only its repr differs (no `dtype('...')` wrapper).
                Ok(Expr::new(ExprKind::Str(dtype.numpy_name().into()), Ty::Str))
            }
            (Ty::Array { .. }, "T") => {
                let t = v.ty.clone();
                Ok(self.builtin(cx, Builtin::Transpose, vec![v], t, span))
            }
            (Ty::Array { .. }, "size") => {
                Ok(self.builtin(cx, Builtin::Size, vec![v], Ty::I64, span))
            }
            (Ty::Array { ndim, .. }, "ndim") => Ok(Expr::int(*ndim as i64)),
            (t, "real" | "imag") if t.is_numeric() => {
                let op = if attr == "real" {
                    Builtin::Real
                } else {
                    Builtin::Imag
                };
                self.complex_part(cx, op, v, span)
            }
            (t, _) => type_err(attr_span, format!("'{t}' has no attribute '{attr}'")),
        }
    }

    fn complex_part(&mut self, cx: &mut FnCx, op: Builtin, v: Expr, span: Span) -> LResult<Expr> {
        match v.ty {
            Ty::C128 => {
                let t = if op == Builtin::Conj {
                    Ty::C128
                } else {
                    Ty::F64
                };
                Ok(self.builtin(cx, op, vec![v], t, span))
            }
            ref t if t.is_numeric() => Ok(match op {
                Builtin::Real | Builtin::Conj => v,
                Builtin::Angle => {
                    let f = self.to_float(v);
                    let zero = Expr::new(ExprKind::Float(0.0), f.ty.clone());
                    let t = f.ty.clone();
                    self.builtin(cx, Builtin::Atan2, vec![zero, f], t, span)
                }
                // imag of a real number is a zero of its type.
                _ => zero_of(&v.ty),
            }),
            ref t => type_err(span, format!("{} of a {t}", crate::ir::builtin_name(&op))),
        }
    }

    fn builtin(&mut self, cx: &FnCx, op: Builtin, args: Vec<Expr>, ty: Ty, span: Span) -> Expr {
        let site = self.site(cx, span);
        Expr::new(ExprKind::Builtin { op, args, site }, ty)
    }

    fn format(&mut self, cx: &FnCx, v: Expr, spec: &str, repr: bool, span: Span) -> LResult<Expr> {
        if v.ty == Ty::None {
            return Ok(Expr::new(ExprKind::Str("None".into()), Ty::Str));
        }
        Ok(self.builtin(
            cx,
            Builtin::Format {
                spec: spec.into(),
                repr,
            },
            vec![v],
            Ty::Str,
            span,
        ))
    }

    /// Python truthiness as a `Bool` condition.
    fn truth(&self, v: Expr, span: Span) -> LResult<Expr> {
        Ok(match &v.ty {
            Ty::Bool => v,
            Ty::I64 | Ty::F64 | Ty::F32 | Ty::C128 => {
                let z = zero_of(&v.ty);
                Expr::new(ExprKind::Compare(CmpOp::Ne, Box::new(v), Box::new(z)), Ty::Bool)
            }
            Ty::None => Expr::new(ExprKind::Bool(false), Ty::Bool),
            Ty::Tuple(items) => Expr::new(ExprKind::Bool(!items.is_empty()), Ty::Bool),
            Ty::Str => {
                let len = Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::StrLen,
                        args: vec![v],
                        site: 0,
                    },
                    Ty::I64,
                );
                Expr::new(ExprKind::Compare(CmpOp::Ne, Box::new(len), Box::new(Expr::int(0))), Ty::Bool)
            }
            Ty::Array { .. } => {
                return err(
                    ErrorKind::ValueError,
                    span,
                    "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()",
                )
            }
        })
    }

    fn to_float(&self, v: Expr) -> Expr {
        match v.ty {
            Ty::F64 | Ty::F32 | Ty::C128 => v,
            _ => cast(v, Ty::F64),
        }
    }

    /// Implicit conversion for assignment to a variable of type `to`.
    fn convert(&self, v: Expr, to: &Ty, span: Span) -> LResult<Expr> {
        if v.ty == *to {
            return Ok(v);
        }
        match (&v.ty, to) {
            (a, b) if a.is_numeric() && b.is_numeric() => {
                if unify(a, b).as_ref() == Some(b) {
                    Ok(cast(v, to.clone()))
                } else {
                    type_err(span, format!("cannot convert {a} to {b} implicitly"))
                }
            }
            (Ty::Tuple(a), Ty::Tuple(b)) if a.len() == b.len() => {
                let items: Vec<Expr> = (0..a.len())
                    .map(|k| {
                        Expr::new(
                            ExprKind::TupleGet(Box::new(v.clone()), k as u32),
                            a[k].clone(),
                        )
                    })
                    .collect();
                let mut out = Vec::new();
                for (k, it) in items.into_iter().enumerate() {
                    out.push(self.convert(it, &b[k], span)?);
                }
                Ok(Expr::new(ExprKind::Tuple(out), to.clone()))
            }
            (a, b) => type_err(span, format!("a {a} where a {b} is expected")),
        }
    }

    fn unary(&self, op: ast::UnaryOp, v: Expr, span: Span) -> LResult<Expr> {
        Ok(match op {
            ast::UnaryOp::Pos => {
                if !v.ty.is_numeric() {
                    return type_err(span, format!("bad operand type for unary +: '{}'", v.ty));
                }
                if v.ty == Ty::Bool {
                    cast(v, Ty::I64)
                } else {
                    v
                }
            }
            ast::UnaryOp::Neg => {
                if !v.ty.is_numeric() {
                    return type_err(span, format!("bad operand type for unary -: '{}'", v.ty));
                }
                if let ExprKind::Int(k) = v.kind {
                    return Ok(Expr::int(k.wrapping_neg()));
                }
                if let ExprKind::Float(k) = v.kind {
                    return Ok(Expr::new(ExprKind::Float(-k), v.ty));
                }
                let v = if v.ty == Ty::Bool {
                    cast(v, Ty::I64)
                } else {
                    v
                };
                let t = v.ty.clone();
                Expr::new(ExprKind::Unary(UnOp::Neg, Box::new(v)), t)
            }
            ast::UnaryOp::Not => {
                let c = self.truth(v, span)?;
                Expr::new(ExprKind::Unary(UnOp::Not, Box::new(c)), Ty::Bool)
            }
            ast::UnaryOp::Invert => match v.ty {
                Ty::I64 | Ty::Bool => {
                    let t = v.ty.clone();
                    Expr::new(ExprKind::Unary(UnOp::Invert, Box::new(v)), t)
                }
                ref t => return type_err(span, format!("bad operand type for unary ~: '{t}'")),
            },
        })
    }

    fn boolop(&self, op: ast::BoolOp, a: Expr, b: Expr, span: Span) -> LResult<Expr> {
        if matches!(a.ty, Ty::Array { .. }) || matches!(b.ty, Ty::Array { .. }) {
            return type_err(span, "`and`/`or` on arrays are ambiguous")
                .map_err(|e| with_hint(e, "use & and | for elementwise logic"));
        }
        let (a, b) = if a.ty == Ty::Bool && b.ty == Ty::Bool {
            (a, b)
        } else {
            let Some(t) = unify(&a.ty, &b.ty) else {
                // Mixed kinds: use truthiness (the value of `x and y` is rarely used then).
                return Ok(Expr::new(
                    match op {
                        ast::BoolOp::And => ExprKind::And(
                            Box::new(self.truth(a, span)?),
                            Box::new(self.truth(b, span)?),
                        ),
                        ast::BoolOp::Or => ExprKind::Or(
                            Box::new(self.truth(a, span)?),
                            Box::new(self.truth(b, span)?),
                        ),
                    },
                    Ty::Bool,
                ));
            };
            (cast(a, t.clone()), cast(b, t))
        };
        let t = a.ty.clone();
        Ok(Expr::new(
            match op {
                ast::BoolOp::And => ExprKind::And(Box::new(a), Box::new(b)),
                ast::BoolOp::Or => ExprKind::Or(Box::new(a), Box::new(b)),
            },
            t,
        ))
    }

    fn compare(&self, op: ast::CmpOp, a: Expr, b: Expr, span: Span) -> LResult<Expr> {
        use ast::CmpOp as C;
        if matches!(op, C::Is | C::IsNot) {
            let same = (a.ty == Ty::None) == (b.ty == Ty::None) && (a.ty == Ty::None);
            let v = if op == C::Is { same } else { !same };
            if a.ty != Ty::None && b.ty != Ty::None {
                return type_err(span, "`is` compares with None only in Kiln")
                    .map_err(|e| with_hint(e, "use == to compare values"));
            }
            return Ok(Expr::new(ExprKind::Bool(v), Ty::Bool));
        }
        let cop = match op {
            C::Eq => CmpOp::Eq,
            C::NotEq => CmpOp::Ne,
            C::Lt => CmpOp::Lt,
            C::LtE => CmpOp::Le,
            C::Gt => CmpOp::Gt,
            C::GtE => CmpOp::Ge,
            _ => {
                return type_err(
                    span,
                    format!("`{}` is not supported in Kiln v1", op.symbol()),
                )
            }
        };
        if a.ty == Ty::Str && b.ty == Ty::Str {
            if !matches!(cop, CmpOp::Eq | CmpOp::Ne) {
                return type_err(span, "strings compare with == and != only in Kiln");
            }
            let eq = Expr::new(
                ExprKind::Builtin {
                    op: Builtin::StrEq,
                    args: vec![a, b],
                    site: 0,
                },
                Ty::Bool,
            );
            return Ok(if cop == CmpOp::Eq {
                eq
            } else {
                Expr::new(ExprKind::Unary(UnOp::Not, Box::new(eq)), Ty::Bool)
            });
        }
        if matches!(a.ty, Ty::Array { .. }) || matches!(b.ty, Ty::Array { .. }) {
            return type_err(
                span,
                "elementwise comparison of arrays arrives with the arrays issue",
            );
        }
        let Some(t) = self.arith_type(&a, &b) else {
            return type_err(
                span,
                format!(
                    "'{}' not supported between a {} and a {}",
                    op.symbol(),
                    a.ty,
                    b.ty
                ),
            );
        };
        if t == Ty::C128 && !matches!(cop, CmpOp::Eq | CmpOp::Ne) {
            return type_err(
                span,
                format!("'{}' not supported between complex numbers", op.symbol()),
            );
        }
        Ok(Expr::new(
            ExprKind::Compare(cop, Box::new(cast(a, t.clone())), Box::new(cast(b, t))),
            Ty::Bool,
        ))
    }

    /// The common type of two numeric operands with NumPy 2's weak literals: a Python
    /// literal next to an `f32` stays `f32`.
    fn arith_type(&self, a: &Expr, b: &Expr) -> Option<Ty> {
        if a.ty == Ty::F32 && b.is_literal() && b.ty != Ty::C128 {
            return Some(Ty::F32);
        }
        if b.ty == Ty::F32 && a.is_literal() && a.ty != Ty::C128 {
            return Some(Ty::F32);
        }
        promote(&a.ty, &b.ty)
    }

    fn binary(&mut self, cx: &FnCx, op: ast::BinOp, a: Expr, b: Expr, span: Span) -> LResult<Expr> {
        use ast::BinOp as B;
        let arrays = matches!(a.ty, Ty::Array { .. }) || matches!(b.ty, Ty::Array { .. });
        if op == B::MatMul {
            return self.matmul(cx, a, b, span);
        }
        if arrays {
            if !(a.ty.is_numeric() || matches!(a.ty, Ty::Array { .. }))
                || !(b.ty.is_numeric() || matches!(b.ty, Ty::Array { .. }))
            {
                return unsupported(op, &a, &b, span);
            }
            let site = self.site(cx, span);
            return self.elementwise(site, vec![a, b], span, |s, l| {
                let mut l = l.into_iter();
                let (x, y) = (l.next().unwrap(), l.next().unwrap());
                // NumPy keeps bool arrays bool: + is or, * is and, - is an error.
                if x.ty == Ty::Bool && y.ty == Ty::Bool {
                    let op = match op {
                        B::Add => B::BitOr,
                        B::Mul => B::BitAnd,
                        B::Sub => {
                            return type_err(
                                span,
                                "numpy boolean subtract, the `-` operator, is not supported",
                            )
                            .map_err(|e| with_hint(e, "use ^ (logical xor) or & ~ instead"))
                        }
                        other => other,
                    };
                    return s.binary(cx, op, x, y, span);
                }
                s.binary(cx, op, x, y, span)
            });
        }
        if a.ty == Ty::Str || b.ty == Ty::Str {
            if op == B::Add && a.ty == Ty::Str && b.ty == Ty::Str {
                return Ok(self.builtin(cx, Builtin::Concat, vec![a, b], Ty::Str, span));
            }
            return unsupported(op, &a, &b, span);
        }
        let Some(mut t) = self.arith_type(&a, &b) else {
            return unsupported(op, &a, &b, span);
        };
        let site = self.site(cx, span);
        let mk = |op: BinOp, a: Expr, b: Expr, t: Ty| {
            Expr::new(ExprKind::Binary(op, Box::new(a), Box::new(b), site), t)
        };
        Ok(match op {
            B::Add | B::Sub | B::Mul | B::FloorDiv | B::Mod => {
                if t == Ty::Bool {
                    t = Ty::I64;
                }
                if t == Ty::C128 && matches!(op, B::FloorDiv | B::Mod) {
                    return type_err(
                        span,
                        format!("unsupported operand type(s) for {}: complex", op.symbol()),
                    );
                }
                let iop = match op {
                    B::Add => BinOp::Add,
                    B::Sub => BinOp::Sub,
                    B::Mul => BinOp::Mul,
                    B::FloorDiv => BinOp::FloorDiv,
                    _ => BinOp::Mod,
                };
                mk(iop, cast(a, t.clone()), cast(b, t.clone()), t)
            }
            B::Div => {
                if t.is_int_like() {
                    t = Ty::F64;
                }
                mk(BinOp::Div, cast(a, t.clone()), cast(b, t.clone()), t)
            }
            B::Pow => {
                if t == Ty::Bool {
                    t = Ty::I64;
                }
                // Small integer powers of floats become multiplications (NumPy's `x**3`
                // calls pow and is ~10x slower than x*x*x).
                if t.is_float() || t == Ty::C128 {
                    if let ExprKind::Int(k) = b.kind {
                        // x**2 is exact either way; x**3 and x**4 are multiplied out only in whole-array
                        // code (the arrays issue asks for it: NumPy's pow is ~10x slower), while
                        // scalars keep Python's pow so `xi**3` prints as CPython does.
                        let in_map = matches!(a.kind, ExprKind::Elem(_) | ExprKind::MapScalar(_));
                        let pure = arrays::is_leafy(&a) && (k == 2 || in_map);
                        if pure && (1..=4).contains(&k) && t != Ty::C128 {
                            let x = cast(a, t.clone());
                            let mut acc = x.clone();
                            for _ in 1..k {
                                acc = mk(BinOp::Mul, acc, x.clone(), t.clone());
                            }
                            return Ok(acc);
                        }
                    }
                }
                mk(BinOp::Pow, cast(a, t.clone()), cast(b, t.clone()), t)
            }
            B::BitAnd | B::BitOr | B::BitXor => {
                if !t.is_int_like() {
                    return unsupported(op, &a, &b, span);
                }
                let iop = match op {
                    B::BitAnd => BinOp::BitAnd,
                    B::BitOr => BinOp::BitOr,
                    _ => BinOp::BitXor,
                };
                mk(iop, cast(a, t.clone()), cast(b, t.clone()), t)
            }
            B::Shl | B::Shr => {
                if !t.is_int_like() {
                    return unsupported(op, &a, &b, span);
                }
                let iop = if op == B::Shl { BinOp::Shl } else { BinOp::Shr };
                mk(iop, cast(a, Ty::I64), cast(b, Ty::I64), Ty::I64)
            }
            B::MatMul => unreachable!(),
        })
    }

    // ----- calls -------------------------------------------------------------------------------

    fn call(
        &mut self,
        cx: &mut FnCx,
        func: &ast::Expr,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        // Methods: a.sum(), z.conjugate(), ...
        if let ast::ExprKind::Attribute {
            value,
            attr,
            attr_span,
        } = &func.kind
        {
            let is_module = match &value.kind {
                ast::ExprKind::Name(m) => {
                    MODULES.contains(&m.as_str()) && self.global_ty(m).is_none()
                }
                _ => module_of(value).is_some(),
            };
            if !is_module {
                let recv = self.expr(cx, value)?;
                return self.method(cx, recv, attr, *attr_span, args, keywords, span);
            }
        }
        let Some((name, module)) = callee_name(func) else {
            return type_err(func.span, "only named functions can be called in Kiln v1");
        };
        if module.is_none() {
            if let Some(def) = self.input.funcs.get(&name).cloned() {
                return self.call_user(cx, &name, &def, args, keywords, span);
            }
        }
        if name == "print" {
            return type_err(span, "print() returns None and cannot be used as a value");
        }
        if matches!(name.as_str(), "array" | "asarray")
            && matches!(
                args.first().map(|a| &a.kind),
                Some(ast::ExprKind::List(_) | ast::ExprKind::Tuple(_))
            )
        {
            let d = match keywords.iter().find(|k| k.name == "dtype") {
                Some(k) => Some(self.dtype_arg(&k.value)?),
                None => None,
            };
            return self.array_literal(cx, &args[0], d, span);
        }
        let mut vals = Vec::new();
        for a in args {
            vals.push(self.expr(cx, a)?);
        }
        self.call_builtin(cx, &name, module, vals, args, keywords, span)
    }

    fn call_user(
        &mut self,
        cx: &mut FnCx,
        name: &str,
        def: &FnDef,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        let params = &def.def.params;
        if args.len() > params.len() {
            return type_err(
                span,
                format!(
                    "{name}() takes {} positional arguments but {} were given",
                    params.len(),
                    args.len()
                ),
            );
        }
        let mut slots: Vec<Option<Expr>> = vec![None; params.len()];
        for (k, a) in args.iter().enumerate() {
            slots[k] = Some(self.expr(cx, a)?);
        }
        for kw in keywords {
            let Some(k) = params.iter().position(|p| p.name == kw.name) else {
                return type_err(
                    kw.span,
                    format!("{name}() got an unexpected keyword argument '{}'", kw.name),
                );
            };
            if slots[k].is_some() {
                return type_err(
                    kw.span,
                    format!("{name}() got multiple values for argument '{}'", kw.name),
                );
            }
            slots[k] = Some(self.expr(cx, &kw.value)?);
        }
        let mut vals = Vec::new();
        let mut tys = Vec::new();
        for (k, p) in params.iter().enumerate() {
            let v = match slots[k].take() {
                Some(v) => v,
                None => match &p.default {
                    Some(d) => self.expr(cx, d)?,
                    None => {
                        return type_err(
                            span,
                            format!("{name}() missing required argument: '{}'", p.name),
                        );
                    }
                },
            };
            let v = match &p.annotation {
                Some(a) => {
                    let t = self.annotation(a)?;
                    self.convert(v, &t, span).map_err(|e| {
                        with_hint(
                            e,
                            format!("parameter '{}' of {name}() is annotated {t}", p.name),
                        )
                    })?
                }
                None => v,
            };
            if v.ty == Ty::None {
                return type_err(span, format!("argument '{}' of {name}() is None", p.name));
            }
            tys.push(v.ty.clone());
            vals.push(v);
        }
        let (id, ret) = self.instance(name, def, tys, span)?;
        let site = self.site(cx, span);
        Ok(Expr::new(
            ExprKind::Call {
                func: id,
                args: vals,
                site,
            },
            ret,
        ))
    }

    /// Lower (or find) the instance of `def` for these argument types.
    /// A function's instance for argument types `tys`, lowered on first use. An annotation
    /// on the assignment that calls it does not reach into its body.
    fn instance(
        &mut self,
        name: &str,
        def: &FnDef,
        tys: Vec<Ty>,
        span: Span,
    ) -> LResult<(ir::FuncId, Ty)> {
        let threads = self.map_threads.replace(ir::MapThreads::Auto);
        let r = self.lower_instance(name, def, tys, span);
        self.map_threads.set(threads);
        r
    }

    fn lower_instance(
        &mut self,
        name: &str,
        def: &FnDef,
        tys: Vec<Ty>,
        span: Span,
    ) -> LResult<(ir::FuncId, Ty)> {
        let key = (name.to_string(), tys.clone());
        if let Some(&id) = self.instances.get(&key) {
            if let Some(f) = &self.funcs[id as usize] {
                return Ok((id, f.ret.clone()));
            }
            // Recursive call of an instance being lowered.
            return match self.in_progress.get(&id).cloned().flatten() {
                Some(t) => Ok((id, t)),
                None => Err(LErr::Unknown(
                    Diagnostic::new(
                        ErrorKind::TypeError,
                        span,
                        format!("cannot infer the return type of recursive function '{name}'"),
                    )
                    .with_hint(format!("annotate it: def {name}(...) -> i64:")),
                )),
            };
        }
        self.funcs.push(None);
        let id = (self.funcs.len() - 1) as u32;
        self.instances.insert(key, id);
        let d = def.def.clone();
        let ret_annot = match &d.returns {
            Some(r) => Some(self.annotation(r)?),
            None => None,
        };
        self.in_progress.insert(id, ret_annot.clone());
        let mut local_names = HashSet::new();
        let mut declared = HashSet::new();
        for p in &d.params {
            local_names.insert(p.name.clone());
        }
        assigned_names(&d.body, &mut local_names, &mut declared);
        for g in &declared {
            local_names.remove(g);
        }
        let mut fx = FnCx {
            display: name.to_string(),
            cell: def.cell,
            is_cell: false,
            vars: Vec::new(),
            locals: HashMap::new(),
            local_names,
            ret_annot: ret_annot.clone(),
            ret: None,
            loop_depth: 0,
            par: None,
            id: Some(id),
            temps: Vec::new(),
            temp_cursor: 0,
        };
        let mut params = Vec::new();
        for (p, t) in d.params.iter().zip(&tys) {
            fx.vars.push((p.name.clone(), Some(t.clone()), p.span));
            let v = (fx.vars.len() - 1) as u32;
            fx.locals.insert(p.name.clone(), v);
            params.push(v);
        }
        // The instance's own fixpoint: its locals and return type widen until stable. Its
        // final round is strict whenever the cell's is, even when this instance is first met
        // in a probe round of its caller (it is cached and reused by the caller's later rounds).
        let outer_changed = self.changed;
        let outer_probe = self.probe;
        let mut rounds = 0;
        let result = loop {
            rounds += 1;
            self.changed = false;
            self.probe = true;
            fx.temp_cursor = 0;
            if let Err(LErr::Diag(e)) = self.block(&mut fx, &d.body) {
                break Err(LErr::Diag(e));
            }
            if !self.changed || rounds > 40 {
                self.probe = !self.cell_final;
                fx.temp_cursor = 0;
                break self.block(&mut fx, &d.body);
            }
        };
        self.changed = outer_changed;
        self.probe = outer_probe;
        let body = result.map_err(|e| match e {
            LErr::Diag(mut d) => {
                d.cell.get_or_insert(def.cell);
                LErr::Diag(d)
            }
            LErr::Unknown(mut d) => {
                d.cell.get_or_insert(def.cell);
                LErr::Unknown(d)
            }
        })?;
        let ret = ret_annot.or(fx.ret.clone()).unwrap_or(Ty::None);
        let entry_site = self.site(&fx, d.name_span);
        let sig: Vec<String> = tys.iter().map(|t| t.to_string()).collect();
        self.funcs[id as usize] = Some(ir::Func {
            name: format!("{name}({})", sig.join(", ")),
            display: name.to_string(),
            params,
            ret: ret.clone(),
            vars: fx.finish_vars(),
            body,
            entry_site,
        });
        self.in_progress.remove(&id);
        Ok((id, ret))
    }

    #[allow(clippy::too_many_arguments)]
    fn method(
        &mut self,
        cx: &mut FnCx,
        recv: Expr,
        name: &str,
        name_span: Span,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        match (&recv.ty, name) {
            (
                Ty::Array { .. },
                "sum" | "prod" | "min" | "max" | "mean" | "std" | "var" | "argmin" | "argmax"
                | "any" | "all",
            ) => {
                let axis = match (args.first(), keywords.iter().find(|k| k.name == "axis")) {
                    (Some(a), None) => Some(self.expr(cx, a)?),
                    (None, Some(k)) => Some(self.expr(cx, &k.value)?),
                    (None, None) => None,
                    _ => return type_err(span, format!("{name}() got multiple values for 'axis'")),
                };
                if let Some(k) = keywords.iter().find(|k| k.name != "axis") {
                    return type_err(
                        k.span,
                        format!("{name}() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                self.reduction(cx, name, recv, axis, span)
            }
            (Ty::Array { .. }, "reshape") => {
                let vals: LResult<Vec<Expr>> = args.iter().map(|a| self.expr(cx, a)).collect();
                let mut vals = vals?;
                let shape = if vals.len() == 1 {
                    self.shape_arg(vals.pop().unwrap(), span)?
                } else {
                    let tup = Expr::new(
                        ExprKind::Tuple(vals.to_vec()),
                        Ty::tuple(vals.iter().map(|v| v.ty.clone()).collect()),
                    );
                    self.shape_arg(tup, span)?
                };
                self.reshape(cx, recv, shape, span)
            }
            (Ty::Array { .. }, "ravel" | "flatten") => {
                let shape = Expr::new(
                    ExprKind::Tuple(vec![Expr::int(-1)]),
                    Ty::tuple(vec![Ty::I64]),
                );
                let r = self.reshape(cx, recv, shape, span)?;
                if name == "flatten" {
                    let t = r.ty.clone();
                    return Ok(self.builtin(cx, Builtin::Copy, vec![r], t, span));
                }
                Ok(r)
            }
            (Ty::Array { .. }, "astype") => {
                let Some(a) = args.first() else {
                    return type_err(span, "astype() needs a dtype");
                };
                let d = self.dtype_arg(a)?;
                let Ty::Array { ndim, .. } = recv.ty else {
                    unreachable!()
                };
                Ok(self.builtin(
                    cx,
                    Builtin::AsType(d),
                    vec![recv],
                    Ty::array(d, ndim as usize),
                    span,
                ))
            }
            (Ty::Array { .. }, "transpose") => {
                let t = recv.ty.clone();
                Ok(self.builtin(cx, Builtin::Transpose, vec![recv], t, span))
            }
            (Ty::Array { dtype, ndim }, "cumsum") => {
                let (d, nd) = (
                    match dtype {
                        DType::Bool => DType::I64,
                        d => *d,
                    },
                    *ndim as usize,
                );
                let axis = match (args.first(), keywords.iter().find(|k| k.name == "axis")) {
                    (Some(a), None) => Some(self.expr(cx, a)?),
                    (None, Some(k)) => Some(self.expr(cx, &k.value)?),
                    _ => None,
                };
                match axis {
                    Some(ax) if ax.ty != Ty::None => {
                        let ax = self.int_arg(ax, span, "cumsum")?;
                        Ok(self.builtin(
                            cx,
                            Builtin::CumsumAxis,
                            vec![recv, ax],
                            Ty::array(d, nd),
                            span,
                        ))
                    }
                    _ => Ok(self.builtin(cx, Builtin::Cumsum, vec![recv], Ty::array(d, 1), span)),
                }
            }
            (Ty::Array { .. }, "dot") => {
                let Some(a) = args.first() else {
                    return type_err(span, "dot() needs an operand");
                };
                let b = self.expr(cx, a)?;
                self.matmul(cx, recv, b, span)
            }
            (Ty::Array { .. }, "copy") => {
                let t = recv.ty.clone();
                Ok(self.builtin(cx, Builtin::Copy, vec![recv], t, span))
            }
            (t, "conjugate" | "conj") if t.is_numeric() => {
                self.complex_part(cx, Builtin::Conj, recv, span)
            }
            (t, _) => type_err(name_span, format!("'{t}' has no method '{name}' in Kiln")),
        }
    }

    fn reduce(&mut self, cx: &FnCx, name: &str, arr: Expr, dtype: DType, span: Span) -> Expr {
        let (op, ty) = match name {
            "sum" | "prod" => (
                if name == "sum" {
                    Reduce::Sum
                } else {
                    Reduce::Prod
                },
                match dtype {
                    DType::Bool | DType::I64 => Ty::I64,
                    d => Ty::from_dtype(d),
                },
            ),
            "min" => (Reduce::Min, Ty::from_dtype(dtype)),
            "max" => (Reduce::Max, Ty::from_dtype(dtype)),
            _ => (
                Reduce::Mean,
                match dtype {
                    DType::F32 => Ty::F32,
                    DType::C128 => Ty::C128,
                    _ => Ty::F64,
                },
            ),
        };
        // A plain array's reduction is the runtime's (NumPy's order for any layout, and no
        // loop to compile: a whole-array loop would cost the cell ~0.5 ms of codegen).
        if matches!(arr.kind, ExprKind::Map(..)) {
            return self.map_reduce(cx, op, arr, ty, span);
        }
        self.builtin(cx, Builtin::Reduce(op), vec![arr], ty, span)
    }

    #[allow(clippy::too_many_arguments)]
    fn call_builtin(
        &mut self,
        cx: &mut FnCx,
        name: &str,
        module: Option<&'static str>,
        mut vals: Vec<Expr>,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        let is_math = module == Some("math");
        let nargs = vals.len();
        let want = |lo: usize, hi: usize| -> LResult<()> {
            if nargs < lo || nargs > hi {
                let n = if lo == hi {
                    format!("{lo}")
                } else {
                    format!("{lo} to {hi}")
                };
                return type_err(
                    span,
                    format!("{name}() takes {n} arguments ({nargs} given)"),
                );
            }
            Ok(())
        };
        let no_kw = |ks: &[ast::Keyword]| -> LResult<()> {
            if let Some(k) = ks.first() {
                return type_err(
                    k.span,
                    format!("{name}() got an unexpected keyword argument '{}'", k.name),
                );
            }
            Ok(())
        };
        let kw = |n: &str| keywords.iter().find(|k| k.name == n);
        let float_like = |v: Expr, s: &Self| s.to_float(v);
        let array_arg = |v: &Expr, s: Span| -> LResult<()> {
            if matches!(v.ty, Ty::Array { .. }) {
                return type_err(
                    s,
                    format!("{name}() of a whole array arrives with the arrays issue"),
                )
                .map_err(|e| with_hint(e, "apply it element by element in a loop"));
            }
            Ok(())
        };
        // Elementwise builtins over arrays: the scalar builtin applied to a map's leaves.
        let elementwise = math_fn(name).is_some()
            || matches!(
                name,
                "abs"
                    | "minimum"
                    | "maximum"
                    | "fmin"
                    | "fmax"
                    | "clip"
                    | "where"
                    | "isnan"
                    | "isinf"
                    | "isfinite"
                    | "sign"
                    | "real"
                    | "imag"
                    | "conj"
                    | "conjugate"
                    | "angle"
                    | "hypot"
                    | "arctan2"
                    | "atan2"
                    | "pow"
                    | "round"
                    | "around"
            );
        if elementwise && vals.iter().any(|v| matches!(v.ty, Ty::Array { .. })) {
            let site = self.site(cx, span);
            // NumPy's round of an array stays float (half to even).
            let scalar_name = match (name, nargs) {
                ("round" | "around", 1) => "rint",
                ("round" | "around", _) => "np_round",
                ("minimum" | "fmin", _) => "minimum",
                ("maximum" | "fmax", _) => "maximum",
                (n, _) => n,
            };
            let scalar_name = scalar_name.to_string();
            return self.elementwise(site, vals, span, |s, leaves| {
                s.call_builtin(cx, &scalar_name, Some("np"), leaves, args, keywords, span)
            });
        }
        for (k, v) in vals.iter().enumerate() {
            if !matches!(
                name,
                "len"
                    | "sum"
                    | "min"
                    | "max"
                    | "mean"
                    | "prod"
                    | "str"
                    | "repr"
                    | "zeros"
                    | "ones"
                    | "empty"
                    | "full"
                    | "copy"
                    | "any"
                    | "all"
                    | "std"
                    | "var"
                    | "argmin"
                    | "argmax"
                    | "cumsum"
                    | "dot"
                    | "reshape"
                    | "transpose"
                    | "astype"
                    | "array"
                    | "display"
                    | "imshow"
            ) {
                array_arg(v, args[k].span)?;
            }
        }
        if let Some(m) = math_fn(name) {
            no_kw(keywords)?;
            want(1, 1)?;
            let v = vals.pop().unwrap();
            if is_math && matches!(m, MathFn::Floor | MathFn::Ceil | MathFn::Trunc) {
                // Python's math.floor/ceil/trunc return an int.
                if v.ty.is_int_like() {
                    return Ok(cast(v, Ty::I64));
                }
                let v = float_like(v, self);
                if v.ty == Ty::C128 {
                    return type_err(span, format!("math.{name}() of a complex number"));
                }
                let v = cast(v, Ty::F64);
                return Ok(match m {
                    MathFn::Floor => self.builtin(cx, Builtin::FloorInt, vec![v], Ty::I64, span),
                    MathFn::Ceil => self.builtin(cx, Builtin::CeilInt, vec![v], Ty::I64, span),
                    _ => cast(v, Ty::I64),
                });
            }
            if matches!(
                m,
                MathFn::Floor | MathFn::Ceil | MathFn::Trunc | MathFn::Rint
            ) && v.ty.is_int_like()
            {
                return Ok(cast(v, Ty::F64));
            }
            let v = float_like(v, self);
            if v.ty == Ty::C128
                && matches!(
                    m,
                    MathFn::Floor | MathFn::Ceil | MathFn::Trunc | MathFn::Rint
                )
            {
                return type_err(span, format!("{name}() of a complex number"));
            }
            let t = v.ty.clone();
            let op = if is_math && t != Ty::C128 {
                Builtin::MathChecked(m)
            } else {
                Builtin::Math(m)
            };
            return Ok(self.builtin(cx, op, vec![v], t, span));
        }
        match name {
            "len" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                return match &v.ty {
                    Ty::Array { .. } => {
                        Ok(self.builtin(cx, Builtin::Dim(0), vec![v], Ty::I64, span))
                    }
                    Ty::Str => Ok(self.builtin(cx, Builtin::StrLen, vec![v], Ty::I64, span)),
                    Ty::Tuple(items) => Ok(Expr::int(items.len() as i64)),
                    t => type_err(span, format!("object of type '{t}' has no len()")),
                };
            }
            "int" | "i64" | "float" | "f64" | "f32" | "bool" | "c128" | "float64" | "float32"
            | "int64" | "int_" | "bool_" | "complex128" | "double" | "single" => {
                no_kw(keywords)?;
                want(0, 1)?;
                let target = Ty::from_dtype(dtype_of_name(name).unwrap());
                let Some(v) = vals.pop() else {
                    return Ok(zero_of(&target));
                };
                if v.ty == Ty::C128 && target != Ty::C128 {
                    return type_err(span, format!("can't convert complex to {name}"));
                }
                if !v.ty.is_numeric() {
                    return type_err(span, format!("{name}() of a {}", v.ty));
                }
                if target == Ty::Bool {
                    return self.truth(v, span);
                }
                if let (ExprKind::Float(x), Ty::F32) = (&v.kind, &target) {
                    return Ok(Expr::new(ExprKind::Float(*x as f32 as f64), Ty::F32));
                }
                return Ok(cast(v, target));
            }
            "complex" => {
                no_kw(keywords)?;
                want(0, 2)?;
                let im = if nargs == 2 {
                    vals.pop().unwrap()
                } else {
                    Expr::new(ExprKind::Float(0.0), Ty::F64)
                };
                let re = vals
                    .pop()
                    .unwrap_or_else(|| Expr::new(ExprKind::Float(0.0), Ty::F64));
                if re.ty == Ty::C128 || im.ty == Ty::C128 {
                    return type_err(span, "complex() takes real parts in Kiln");
                }
                return Ok(self.builtin(
                    cx,
                    Builtin::MakeComplex,
                    vec![cast(re, Ty::F64), cast(im, Ty::F64)],
                    Ty::C128,
                    span,
                ));
            }
            "str" | "repr" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                return self.format(cx, v, "", name == "repr", span);
            }
            "abs" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                let t = match v.ty {
                    Ty::C128 => Ty::F64,
                    Ty::Bool => Ty::I64,
                    ref t if t.is_numeric() => t.clone(),
                    ref t => return type_err(span, format!("bad operand type for abs(): '{t}'")),
                };
                let v = if v.ty == Ty::Bool {
                    cast(v, Ty::I64)
                } else {
                    v
                };
                return Ok(self.builtin(cx, Builtin::Abs, vec![v], t, span));
            }
            "min" | "max" | "minimum" | "maximum" | "fmin" | "fmax" => {
                no_kw(keywords)?;
                if nargs == 1 {
                    if let Ty::Array { dtype, .. } = vals[0].ty {
                        let key = if name.ends_with("in") || name == "minimum" {
                            "min"
                        } else {
                            "max"
                        };
                        return Ok(self.reduce(cx, key, vals.pop().unwrap(), dtype, span));
                    }
                    return type_err(span, format!("{name}() of one scalar"));
                }
                if nargs < 2 {
                    return type_err(span, format!("{name}() expected at least 2 arguments"));
                }
                let op = if name.contains("min") {
                    Builtin::Min
                } else {
                    Builtin::Max
                };
                let mut acc = vals.remove(0);
                for v in vals {
                    let Some(t) = self.arith_type(&acc, &v) else {
                        return type_err(span, format!("{name}() of a {} and a {}", acc.ty, v.ty));
                    };
                    if t == Ty::C128 {
                        return type_err(span, format!("{name}() of complex numbers"));
                    }
                    acc = self.builtin(
                        cx,
                        op.clone(),
                        vec![cast(acc, t.clone()), cast(v, t.clone())],
                        t,
                        span,
                    );
                }
                return Ok(acc);
            }
            "sum" | "prod" | "mean" | "std" | "var" | "argmin" | "argmax" | "any" | "all"
            | "nansum"
                if vals
                    .first()
                    .is_some_and(|v| matches!(v.ty, Ty::Array { .. })) =>
            {
                want(1, 2)?;
                let axis = match (vals.get(1), keywords.iter().find(|k| k.name == "axis")) {
                    (Some(a), None) => Some(a.clone()),
                    (None, Some(k)) => Some(self.expr(cx, &k.value)?),
                    (None, None) => None,
                    _ => return type_err(span, format!("{name}() got multiple values for 'axis'")),
                };
                let v = vals.swap_remove(0);
                return self.reduction(cx, name, v, axis, span);
            }
            "sum" | "prod" | "mean" | "std" | "var" | "argmin" | "argmax" | "any" | "all" => {
                return type_err(span, format!("{name}() takes an array"));
            }
            "cumsum" | "transpose" | "copy" | "ravel" | "flatten" | "astype" | "reshape" => {
                if vals.is_empty() || !matches!(vals[0].ty, Ty::Array { .. }) {
                    return type_err(span, format!("{name}() takes an array"));
                }
                let recv = vals.remove(0);
                return self.method(cx, recv, name, span, &args[1..], keywords, span);
            }
            "dot" | "matmul" => {
                want(2, 2)?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                return self.matmul(cx, a, b, span);
            }
            "eye" | "identity" => {
                want(1, 1)?;
                let d = match kw("dtype") {
                    Some(k) => self.dtype_arg(&k.value)?,
                    None => DType::F64,
                };
                let n = vals.pop().unwrap();
                let n = self.int_arg(n, args[0].span, name)?;
                return Ok(self.builtin(cx, Builtin::Eye(d), vec![n], Ty::array(d, 2), span));
            }
            "array" | "asarray" => {
                want(1, 1)?;
                let d = match kw("dtype") {
                    Some(k) => Some(self.dtype_arg(&k.value)?),
                    None => None,
                };
                if matches!(vals[0].ty, Ty::Array { .. }) {
                    let v = vals.pop().unwrap();
                    return Ok(match d {
                        Some(d) => self.astype(cx, v, d, span),
                        None => {
                            let t = v.ty.clone();
                            self.builtin(cx, Builtin::Copy, vec![v], t, span)
                        }
                    });
                }
                return self.array_literal(cx, &args[0], d, span);
            }
            "rand" | "randn" | "random" => {
                no_kw(keywords)?;
                if vals.is_empty() {
                    return Ok(self.builtin(cx, Builtin::RandScalar, vec![], Ty::F64, span));
                }
                let tup = if vals.len() == 1 {
                    vals.pop().unwrap()
                } else {
                    Expr::new(
                        ExprKind::Tuple(vals.clone()),
                        Ty::tuple(vals.iter().map(|v| v.ty.clone()).collect()),
                    )
                };
                let shape = self.shape_arg(tup, span)?;
                let nd = match &shape.ty {
                    Ty::Tuple(t) => t.len(),
                    _ => 1,
                };
                let op = if name == "randn" {
                    Builtin::Randn
                } else {
                    Builtin::Rand
                };
                return Ok(self.builtin(cx, op, vec![shape], Ty::array(DType::F64, nd), span));
            }
            "randint" => {
                want(2, 3)?;
                let size = match (vals.get(2), kw("size")) {
                    (Some(s), _) => s.clone(),
                    (None, Some(k)) => self.expr(cx, &k.value)?,
                    _ => {
                        return type_err(
                            span,
                            "randint(lo, hi, shape) needs a shape in Kiln (arrays only)",
                        )
                    }
                };
                let shape = self.shape_arg(size, span)?;
                let nd = match &shape.ty {
                    Ty::Tuple(t) => t.len(),
                    _ => 1,
                };
                let lo = self.int_arg(vals[0].clone(), args[0].span, "randint")?;
                let hi = self.int_arg(vals[1].clone(), args[1].span, "randint")?;
                return Ok(self.builtin(
                    cx,
                    Builtin::Randint,
                    vec![lo, hi, shape],
                    Ty::array(DType::I64, nd),
                    span,
                ));
            }
            "seed" => {
                want(1, 1)?;
                let n = self.int_arg(vals.pop().unwrap(), args[0].span, "seed")?;
                return Ok(self.builtin(cx, Builtin::Seed, vec![n], Ty::None, span));
            }
            "np_round" => {
                // NumPy's round(x, n) for array elements (scaled rint, not Python's).
                let n = vals.pop().unwrap();
                let n = self.int_arg(n, span, "round")?;
                let x = vals.pop().unwrap();
                if x.ty.is_int_like() {
                    return Ok(cast(x, Ty::I64));
                }
                let x = cast(float_like(x, self), Ty::F64);
                return Ok(self.builtin(cx, Builtin::NpRoundN, vec![x, n], Ty::F64, span));
            }
            "round" => {
                no_kw(keywords)?;
                want(1, 2)?;
                if nargs == 2 {
                    let n = vals.pop().unwrap();
                    let n = self.int_arg(n, args[1].span, "round")?;
                    let x = vals.pop().unwrap();
                    if x.ty.is_int_like() {
                        // Python: an int stays an int; a negative n rounds to tens,
                        // hundreds, ... (half to even).
                        let x = cast(x, Ty::I64);
                        return Ok(self.builtin(cx, Builtin::RoundIntN, vec![x, n], Ty::I64, span));
                    }
                    let x = cast(float_like(x, self), Ty::F64);
                    return Ok(self.builtin(cx, Builtin::RoundN, vec![x, n], Ty::F64, span));
                }
                let x = vals.pop().unwrap();
                if x.ty.is_int_like() {
                    return Ok(cast(x, Ty::I64));
                }
                if x.ty == Ty::C128 {
                    return type_err(span, "round() of a complex number");
                }
                let x = cast(x, Ty::F64);
                return Ok(self.builtin(cx, Builtin::RoundInt, vec![x], Ty::I64, span));
            }
            "pow" => {
                no_kw(keywords)?;
                want(2, 2)?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                return self.binary(cx, ast::BinOp::Pow, a, b, span);
            }
            "hypot" | "arctan2" | "atan2" => {
                no_kw(keywords)?;
                want(2, 2)?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                let t = match self.arith_type(&a, &b) {
                    Some(Ty::F32) => Ty::F32,
                    Some(Ty::C128) | None => {
                        return type_err(span, format!("{name}() takes real numbers"))
                    }
                    _ => Ty::F64,
                };
                let op = if name == "hypot" {
                    Builtin::Hypot
                } else {
                    Builtin::Atan2
                };
                return Ok(self.builtin(
                    cx,
                    op,
                    vec![cast(a, t.clone()), cast(b, t.clone())],
                    t,
                    span,
                ));
            }
            "real" | "imag" | "conj" | "conjugate" | "angle" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                let op = match name {
                    "real" => Builtin::Real,
                    "imag" => Builtin::Imag,
                    "angle" => Builtin::Angle,
                    _ => Builtin::Conj,
                };
                return self.complex_part(cx, op, v, span);
            }
            "isnan" | "isinf" | "isfinite" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                if !v.ty.is_numeric() {
                    return type_err(span, format!("{name}() of a {}", v.ty));
                }
                if v.ty.is_int_like() {
                    return Ok(Expr::new(ExprKind::Bool(name == "isfinite"), Ty::Bool));
                }
                if name == "isfinite" {
                    let nan = self.builtin(cx, Builtin::IsNan, vec![v.clone()], Ty::Bool, span);
                    let inf = self.builtin(cx, Builtin::IsInf, vec![v], Ty::Bool, span);
                    let either = Expr::new(ExprKind::Or(Box::new(nan), Box::new(inf)), Ty::Bool);
                    return Ok(Expr::new(
                        ExprKind::Unary(UnOp::Not, Box::new(either)),
                        Ty::Bool,
                    ));
                }
                let op = if name == "isnan" {
                    Builtin::IsNan
                } else {
                    Builtin::IsInf
                };
                return Ok(self.builtin(cx, op, vec![v], Ty::Bool, span));
            }
            "where" => {
                no_kw(keywords)?;
                want(3, 3)?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                let c = vals.pop().unwrap();
                let c = self.truth(c, args[0].span)?;
                let Some(t) = self.arith_type(&a, &b) else {
                    return type_err(span, format!("where() of a {} and a {}", a.ty, b.ty));
                };
                return Ok(Expr::new(
                    ExprKind::Select(
                        Box::new(c),
                        Box::new(cast(a, t.clone())),
                        Box::new(cast(b, t.clone())),
                    ),
                    t,
                ));
            }
            "sign" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                let v = if v.ty == Ty::Bool {
                    cast(v, Ty::I64)
                } else {
                    v
                };
                if v.ty == Ty::C128 || !v.ty.is_numeric() {
                    return type_err(span, format!("sign() of a {}", v.ty));
                }
                let t = v.ty.clone();
                return Ok(self.builtin(cx, Builtin::Sign, vec![v], t, span));
            }
            "clip" => {
                no_kw(keywords)?;
                want(3, 3)?;
                let hi = vals.pop().unwrap();
                let lo = vals.pop().unwrap();
                let x = vals.pop().unwrap();
                let t = self
                    .arith_type(&x, &lo)
                    .and_then(|t| promote(&t, &hi.ty))
                    .filter(|t| *t != Ty::C128)
                    .map_or_else(|| type_err(span, "clip() takes real numbers"), Ok)?;
                let m = self.builtin(
                    cx,
                    Builtin::Max,
                    vec![cast(x, t.clone()), cast(lo, t.clone())],
                    t.clone(),
                    span,
                );
                return Ok(self.builtin(cx, Builtin::Min, vec![m, cast(hi, t.clone())], t, span));
            }
            "zeros" | "ones" | "empty" | "full" => {
                let need = if name == "full" { 2 } else { 1 };
                want(need, need + 1)?;
                let dtype_kw = kw("dtype");
                if let Some(k) = keywords.iter().find(|k| k.name != "dtype") {
                    return type_err(
                        k.span,
                        format!("{name}() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                let fill = if name == "full" {
                    Some(vals.remove(1))
                } else {
                    None
                };
                let dtype = match (dtype_kw, args.get(need)) {
                    (Some(k), _) => self.dtype_arg(&k.value)?,
                    (None, Some(a)) => self.dtype_arg(a)?,
                    (None, None) => match &fill {
                        Some(v) => match v.ty.dtype() {
                            Some(d) => d,
                            None => {
                                return type_err(
                                    span,
                                    format!("full() fill value of type {}", v.ty),
                                )
                            }
                        },
                        None => DType::F64,
                    },
                };
                let shape = self.shape_arg(vals.remove(0), args[0].span)?;
                let ndim = match &shape.ty {
                    Ty::Tuple(t) => t.len(),
                    _ => 1,
                };
                if ndim == 0 || ndim > 4 {
                    return type_err(args[0].span, "arrays have 1 to 4 dimensions in Kiln");
                }
                let aty = Ty::array(dtype, ndim);
                let mut a = vec![shape];
                let op = match name {
                    "zeros" => Builtin::Zeros(dtype),
                    "ones" => Builtin::Ones(dtype),
                    "empty" => Builtin::Empty(dtype),
                    _ => {
                        let v = fill.unwrap();
                        let v = self.store_cast(v, &Ty::from_dtype(dtype), span)?;
                        a.push(v);
                        Builtin::Full(dtype)
                    }
                };
                return Ok(self.builtin(cx, op, a, aty, span));
            }
            "arange" => {
                if let Some(k) = keywords.iter().find(|k| k.name != "dtype") {
                    return type_err(
                        k.span,
                        format!("arange() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                if let Some(k) = kw("dtype") {
                    // arange(..., dtype=d): compute as NumPy does, then cast.
                    let d = self.dtype_arg(&k.value)?;
                    let inner = self.call_builtin(cx, "arange", module, vals, args, &[], span)?;
                    return Ok(self.astype(cx, inner, d, span));
                }
                want(1, 3)?;
                let all_int = vals.iter().all(|v| v.ty.is_int_like());
                if vals.iter().any(|v| !v.ty.is_numeric() || v.ty == Ty::C128) {
                    return type_err(span, "arange() takes real numbers");
                }
                let t = if all_int { Ty::I64 } else { Ty::F64 };
                let mut v: Vec<Expr> = vals.into_iter().map(|v| cast(v, t.clone())).collect();
                let (zero, one) = if all_int {
                    (Expr::int(0), Expr::int(1))
                } else {
                    (
                        Expr::new(ExprKind::Float(0.0), Ty::F64),
                        Expr::new(ExprKind::Float(1.0), Ty::F64),
                    )
                };
                let a = match v.len() {
                    1 => vec![zero, v.pop().unwrap(), one],
                    2 => {
                        v.push(one);
                        v
                    }
                    _ => v,
                };
                let (op, et) = if all_int {
                    (Builtin::ArangeInt, DType::I64)
                } else {
                    (Builtin::ArangeFloat, DType::F64)
                };
                return Ok(self.builtin(cx, op, a, Ty::array(et, 1), span));
            }
            "linspace" => {
                want(2, 3)?;
                let num_kw = kw("num");
                let dtype = match kw("dtype") {
                    Some(k) => self.dtype_arg(&k.value)?,
                    None => DType::F64,
                };
                if let Some(k) = keywords
                    .iter()
                    .find(|k| k.name != "dtype" && k.name != "num")
                {
                    return type_err(
                        k.span,
                        format!("linspace() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                let num = match (vals.len(), num_kw) {
                    (3, _) => vals.pop().unwrap(),
                    (_, Some(k)) => self.expr(cx, &k.value)?,
                    _ => Expr::int(50),
                };
                let num = self.int_arg(num, span, "linspace")?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                if !a.ty.is_numeric() || !b.ty.is_numeric() || a.ty == Ty::C128 || b.ty == Ty::C128
                {
                    return type_err(span, "linspace() takes real numbers");
                }
                if dtype == DType::C128 || dtype == DType::Bool {
                    return type_err(span, "linspace() makes float or int arrays in Kiln");
                }
                return Ok(self.builtin(
                    cx,
                    Builtin::Linspace(dtype),
                    vec![cast(a, Ty::F64), cast(b, Ty::F64), num],
                    Ty::array(dtype, 1),
                    span,
                ));
            }
            "range" | "prange" | "ndrange" => {
                return type_err(
                    span,
                    format!("{name}() can only be used as the iterable of a for loop"),
                );
            }
            "display" => {
                if vals.len() != 1 {
                    return type_err(span, "display() shows one value at a time in Kiln");
                }
                let v = vals.pop().unwrap();
                self.display_types.push(v.ty.clone());
                let k = (self.display_types.len() - 1) as u32;
                return Ok(self.builtin(cx, Builtin::Display(k), vec![v], Ty::None, span));
            }
            "imshow" => {
                want(1, 1)?;
                let a = vals.pop().unwrap();
                if !matches!(a.ty, Ty::Array { ndim: 2, .. })
                    || matches!(
                        a.ty,
                        Ty::Array {
                            dtype: DType::C128,
                            ..
                        }
                    )
                {
                    return type_err(
                        span,
                        format!("imshow() takes a 2-D real array, not {}", a.ty),
                    );
                }
                let mut text = |k: &str| -> LResult<Expr> {
                    match keywords.iter().find(|kw| kw.name == k) {
                        Some(kw) => {
                            let v = self.expr(cx, &kw.value)?;
                            if v.ty != Ty::Str {
                                return type_err(kw.value.span, format!("{k}= takes a string"));
                            }
                            Ok(v)
                        }
                        None => Ok(Expr::none()),
                    }
                };
                let cmap = text("cmap")?;
                let title = text("title")?;
                if let Some(k) = keywords
                    .iter()
                    .find(|k| !["cmap", "title", "xlabel", "ylabel"].contains(&k.name.as_str()))
                {
                    return type_err(
                        k.span,
                        format!("imshow() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                return Ok(self.builtin(cx, Builtin::Imshow, vec![a, cmap, title], Ty::None, span));
            }
            "clear_output" => {
                let wait = match (vals.pop(), keywords.iter().find(|k| k.name == "wait")) {
                    (Some(v), _) => v,
                    (None, Some(k)) => self.expr(cx, &k.value)?,
                    (None, None) => Expr::new(ExprKind::Bool(false), Ty::Bool),
                };
                let wait = self.truth(wait, span)?;
                return Ok(self.builtin(cx, Builtin::ClearOutput, vec![wait], Ty::None, span));
            }
            _ => {}
        }
        let hint = similar_name(name, self, cx).map(|s| format!("did you mean '{s}'?"));
        let mut d = Diagnostic::new(
            ErrorKind::NameError,
            span,
            match module {
                Some(m) => format!("'{m}.{name}' is not a Kiln builtin"),
                None => format!("name '{name}' is not defined"),
            },
        );
        d.hint = hint;
        Err(LErr::Diag(d))
    }

    /// A shape argument: an int or a tuple of ints, as a tuple of i64.
    fn shape_arg(&self, v: Expr, span: Span) -> LResult<Expr> {
        match &v.ty {
            Ty::I64 | Ty::Bool => Ok(Expr::new(
                ExprKind::Tuple(vec![cast(v, Ty::I64)]),
                Ty::tuple(vec![Ty::I64]),
            )),
            Ty::Tuple(items) if items.iter().all(|t| t.is_int_like()) => {
                let n = items.len();
                let t = Ty::tuple(vec![Ty::I64; n]);
                self.convert(v, &t, span)
            }
            t => type_err(
                span,
                format!("a shape is an int or a tuple of ints, not a {t}"),
            ),
        }
    }
}

/// Python's TypeError for an operator that does not apply to its operands' types.
fn unsupported<T>(op: ast::BinOp, a: &Expr, b: &Expr, span: Span) -> LResult<T> {
    type_err(
        span,
        format!(
            "unsupported operand type(s) for {}: '{}' and '{}'",
            op.symbol(),
            a.ty,
            b.ty
        ),
    )
}

fn collect_target_names(e: &ast::Expr, out: &mut Vec<String>) {
    match &e.kind {
        ast::ExprKind::Name(n) => out.push(n.clone()),
        ast::ExprKind::Tuple(items) | ast::ExprKind::List(items) => {
            items.iter().for_each(|i| collect_target_names(i, out))
        }
        _ => {}
    }
}

fn is_print_call(e: &ast::Expr) -> bool {
    matches!(&e.kind, ast::ExprKind::Call { func, .. } if matches!(&func.kind, ast::ExprKind::Name(n) if n == "print"))
}

fn constant(name: &str) -> Option<Expr> {
    let f = |v: f64| Some(Expr::new(ExprKind::Float(v), Ty::F64));
    match name {
        "pi" => f(std::f64::consts::PI),
        "e" => f(std::f64::consts::E),
        "inf" | "Inf" | "infty" => f(f64::INFINITY),
        "nan" | "NaN" | "NAN" => f(f64::NAN),
        "True" => Some(Expr::new(ExprKind::Bool(true), Ty::Bool)),
        "False" => Some(Expr::new(ExprKind::Bool(false), Ty::Bool)),
        _ => None,
    }
}

fn zero_of(t: &Ty) -> Expr {
    match t {
        Ty::Bool => Expr::new(ExprKind::Bool(false), Ty::Bool),
        Ty::I64 => Expr::int(0),
        Ty::F64 | Ty::F32 => Expr::new(ExprKind::Float(0.0), t.clone()),
        Ty::C128 => Expr::new(ExprKind::Complex(0.0, 0.0), Ty::C128),
        _ => Expr::none(),
    }
}

/// A numeric conversion, folded for literals.
pub fn cast(v: Expr, to: Ty) -> Expr {
    if v.ty == to {
        return v;
    }
    match (&v.kind, &to) {
        (ExprKind::Int(k), Ty::F64 | Ty::F32) => return Expr::new(ExprKind::Float(*k as f64), to),
        (ExprKind::Int(k), Ty::C128) => return Expr::new(ExprKind::Complex(*k as f64, 0.0), to),
        (ExprKind::Float(x), Ty::F32) => return Expr::new(ExprKind::Float(*x as f32 as f64), to),
        (ExprKind::Float(x), Ty::F64) => return Expr::new(ExprKind::Float(*x), to),
        (ExprKind::Float(x), Ty::C128) => return Expr::new(ExprKind::Complex(*x, 0.0), to),
        (ExprKind::Bool(b), Ty::I64) => return Expr::int(*b as i64),
        (ExprKind::Bool(b), Ty::F64 | Ty::F32) => {
            return Expr::new(ExprKind::Float(*b as i64 as f64), to)
        }
        _ => {}
    }
    Expr::new(ExprKind::Cast(Box::new(v)), to)
}

fn conflict(name: &str, old: &Ty, first: Span, new: &Ty, span: Span) -> LErr {
    LErr::Diag(
        Diagnostic::new(
            ErrorKind::TypeError,
            span,
            format!(
                "`{name}` is assigned {} here but {} elsewhere; a variable has one type",
                a(new),
                a(old)
            ),
        )
        .with_note(first, format!("`{name}` first assigned {} here", a(old)))
        .with_hint("use a new name for the new value"),
    )
}

/// "an i64", "a f64[:]": the type with its article, for messages.
fn a(t: &Ty) -> String {
    let s = t.to_string();
    let vowel = matches!(t, Ty::I64 | Ty::F64 | Ty::F32 | Ty::Array { .. })
        && !matches!(
            t,
            Ty::Array {
                dtype: DType::Bool | DType::C128,
                ..
            }
        );
    if vowel {
        format!("an {s}")
    } else {
        format!("a {s}")
    }
}

fn with_hint(e: LErr, hint: impl Into<String>) -> LErr {
    match e {
        LErr::Diag(d) => LErr::Diag(d.with_hint(hint)),
        LErr::Unknown(d) => LErr::Unknown(d.with_hint(hint)),
    }
}

/// The closest known name within edit distance 2, for "did you mean" hints.
fn similar_name(name: &str, env: &Env, cx: &FnCx) -> Option<String> {
    let mut cands: Vec<&str> = BUILTINS.to_vec();
    cands.extend(env.input.funcs.keys().map(|s| s.as_str()));
    cands.extend(env.input.globals.keys().map(|s| s.as_str()));
    cands.extend(cx.locals.keys().map(|s| s.as_str()));
    cands
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        // Close enough to be a typo: one edit in a short name, two in a long one.
        .filter(|(d, c)| {
            let n = name.chars().count().min(c.len());
            (*d == 1 && n >= 3) || (*d == 2 && n >= 6)
        })
        .min()
        .map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
