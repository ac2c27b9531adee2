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

use crate::builtins;
use crate::diag::Diagnostic;
use crate::ir::{self, BinOp, Builtin, CmpOp, Expr, ExprKind, Place, Reduce, Stmt, UnOp};
use crate::syntax::ast::{self, Span, Target};
use crate::types::{promote, unify, Ty};
use kiln_runtime::{DType, ErrorKind};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

mod arrays;
mod calls;
mod convert;
mod driver;
mod exprs;
mod ffi;
mod gpu_maps;
mod lists;
mod loops;
mod names;
mod operators;
mod stmts;

pub(crate) use calls::jit_wrapped;
use calls::*;
pub use convert::cast;
pub(crate) use convert::{dtype_of_name, zero_of};
pub use driver::lower_cell;
use driver::*;
pub(crate) use ffi::ctype_value;
use names::*;
pub(crate) use stmts::collect_target_names;
use stmts::*;

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
    /// Mark each statement's source line in the IR (`ir::Stmt::Line`), for a listing that
    /// interleaves source and machine code.
    pub mark_lines: bool,
    /// The session's C declarations before this cell.
    pub ffi: &'a crate::ffi::ForeignTable,
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
    /// The C declarations after this cell (the session keeps them once it compiles).
    pub ffi: crate::ffi::ForeignTable,
}

/// The hidden global that receives the cell's result value.
pub const RESULT: &str = "<result>";

pub(crate) enum LErr {
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

pub(crate) type LResult<T> = Result<T, LErr>;

pub(crate) fn err<T>(kind: ErrorKind, span: Span, msg: impl Into<String>) -> LResult<T> {
    Err(LErr::Diag(Diagnostic::new(kind, span, msg)))
}

pub(crate) fn type_err<T>(span: Span, msg: impl Into<String>) -> LResult<T> {
    err(ErrorKind::TypeError, span, msg)
}

pub(crate) struct Env<'a> {
    pub(crate) input: &'a LowerInput<'a>,
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
    pub(crate) display_types: Vec<Ty>,
    /// Where the whole-array loops being made run: set while an annotated assignment
    /// (`@par`, `@serial`) is lowered, and back to `Auto` inside the functions it calls.
    map_threads: std::cell::Cell<ir::MapThreads>,
    /// Whole-array loops made under an annotation (one with none is an error).
    annotated_maps: std::cell::Cell<usize>,
    /// Where each name occurs in the cell, for `assigned_before_read` on its globals.
    name_uses: crate::parallel::NameUses,
    /// Types of the cell's comprehension variables, by (span start, name), kept across
    /// rounds (the cell's `FnCx` is new each round).
    comp_types: HashMap<(u32, String), Ty>,
    /// C declarations as this round has met them so far (reset to the session's at every
    /// round: a declaration applies from its statement on).
    pub(crate) ffi: crate::ffi::ForeignTable,
    /// The library number of each `CDLL(...)` call site of the cell, kept across rounds so
    /// that a library's type is the same in every round.
    pub(crate) ffi_lib_sites: HashMap<(usize, u32), u32>,
}

/// Per-function lowering state (the cell is a function whose assigned names are globals).
pub(crate) struct FnCx {
    display: String,
    cell: usize,
    is_cell: bool,
    vars: Vec<(String, Option<Ty>, Span)>,
    locals: HashMap<String, ir::VarId>,
    /// Names that are local to this function (assigned in it and not declared `global`).
    local_names: HashSet<String>,
    ret_annot: Option<Ty>,
    ret: Option<Ty>,
    /// The function's body can end without a `return` (so it also returns None).
    falls_through: bool,
    loop_depth: usize,
    /// Set while lowering a parallel loop's body: its private variables and reductions.
    par: Option<ParScope>,
    id: Option<ir::FuncId>,
    /// Variables the lowering makes itself (temporaries, loop counters, parallel privates),
    /// in creation order. Each inference round walks the body in the same order, so round k
    /// reuses them instead of piling up copies.
    temps: Vec<ir::VarId>,
    temp_cursor: usize,
    /// Statements the statement being lowered needs first: the loops of the list
    /// comprehensions in it (`lists.rs`).
    pre: Vec<Stmt>,
    /// Set inside `and`/`or`, conditional expressions and `while` conditions, where a
    /// comprehension's loop cannot be moved before the statement.
    no_hoist: u32,
    /// The names of the comprehensions being lowered (innermost last).
    comp_scopes: Vec<HashMap<String, ir::VarId>>,
    /// Each comprehension's variables, by (its span's start, name), kept across rounds.
    comp_vars: HashMap<(u32, String), ir::VarId>,
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
    /// A comprehension's own variable named `name`.
    fn comp_var(&self, name: &str) -> Option<ir::VarId> {
        self.comp_scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name).copied())
    }

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
            falls_through: false,
            loop_depth: 0,
            par: None,
            id: None,
            temps: Vec::new(),
            temp_cursor: 0,
            pre: Vec::new(),
            no_hoist: 0,
            comp_scopes: Vec::new(),
            comp_vars: HashMap::new(),
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

    pub(crate) fn new_var(&mut self, name: &str, ty: Ty) -> ir::VarId {
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

impl<'a> Env<'a> {
    pub(crate) fn site(&mut self, cx: &FnCx, span: Span) -> ir::SiteId {
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

    pub(crate) fn builtin(
        &mut self,
        cx: &FnCx,
        op: Builtin,
        args: Vec<Expr>,
        ty: Ty,
        span: Span,
    ) -> Expr {
        let site = self.site(cx, span);
        Expr::new(ExprKind::Builtin { op, args, site }, ty)
    }
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

/// `e` evaluated once, before a loop: a new variable assigned in `out`, and the read of it.
fn hold_always(cx: &mut FnCx, e: Expr, name: &str, out: &mut Vec<Stmt>) -> Expr {
    let ty = e.ty.clone();
    let v = cx.new_var(name, ty.clone());
    out.push(Stmt::Assign {
        place: Place::Var(v),
        value: e,
    });
    Expr::new(ExprKind::Var(v), ty)
}

pub(crate) fn with_hint(e: LErr, hint: impl Into<String>) -> LErr {
    match e {
        LErr::Diag(d) => LErr::Diag(d.with_hint(hint)),
        LErr::Unknown(d) => LErr::Unknown(d.with_hint(hint)),
    }
}
