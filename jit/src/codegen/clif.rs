//! Loop IR → Cranelift IR → machine code, through `cranelift-jit`.
//!
//! Conventions the generated code keeps (ARCHITECTURE.md has the full list):
//! - Every function takes the `ExecCtx*` first. A failed operation records its error in the
//!   context (`ctx.err != 0`), calls `kiln_trace(ctx, site)` and leaves through the
//!   function's exit block; callers check `ctx.err` after every call that can fail.
//! - Values are flattened: a complex is two `f64`, a tuple the concatenation of its items,
//!   a `bool` one `i8`, arrays and strings one pointer.
//! - Reference counts: every expression yields an *owned* reference; reading a variable
//!   increfs, except where the consumer only borrows (indexing, calls, printing), which read
//!   variables without touching the count. Each function decrefs its heap locals on exit.
//! - Loops poll the session's interrupt flag at every back-edge.

use crate::ir::{self, BinOp, Builtin, CmpOp, Expr, ExprKind, MathFn, Place, Program, Stmt, UnOp};
use crate::types::Ty;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, BlockArg, InstBuilder, InstructionData, MemFlagsData, Opcode, Signature,
    StackSlotData, StackSlotKind, Value,
};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};
use kiln_runtime::array::{
    ARRAY_DATA_OFFSET, ARRAY_SHAPE_OFFSET, ARRAY_SIZE_OFFSET, ARRAY_STRIDES_OFFSET,
};
use kiln_runtime::ctx::{
    CTX_CONSTS_OFFSET, CTX_DEPTH_OFFSET, CTX_ERR_OFFSET, CTX_INTERRUPT_OFFSET, CTX_MAX_DEPTH_OFFSET,
};
use kiln_runtime::{DType, ErrorKind, ExecCtx};
use std::collections::HashMap;
use std::sync::OnceLock;

use super::versioning::{counter_copies, provable_indices, Proof, ProvenIndex};
use super::walk::{assigned_places, assignment_counts, globals_assigned_by_functions, visit, Node};

#[derive(Clone, Debug)]
pub struct Options {
    /// Keep the CLIF text of every function (`%clif`, `--emit clif`).
    pub keep_clif: bool,
    /// Keep the machine code bytes of every function (`%asm`, `--emit asm`).
    pub keep_code: bool,
    /// Array bounds checks (`%bounds on/off`).
    pub no_bounds_checks: bool,
    /// Whole-array loops with at least this many elements run on the worker pool.
    pub par_min_elements: i64,
    /// Leave out the interrupt poll at loop back-edges. Only for measuring what the poll
    /// costs (`KILN_BENCH_NO_POLL=1`); such code cannot be interrupted.
    pub no_interrupt_poll: bool,
    /// Keep every call out of line (`KILN_BENCH_NO_INLINE=1`): to measure what inlining
    /// small leaf functions gains.
    pub no_inline: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            keep_clif: false,
            keep_code: false,
            no_bounds_checks: false,
            par_min_elements: PAR_MAP_THRESHOLD,
            no_interrupt_poll: false,
            no_inline: false,
        }
    }
}

/// Machine code for one cell, alive as long as this value.
pub struct Compiled {
    module: Option<JITModule>,
    entry: *const u8,
    /// Literal text the code points at.
    _strings: Vec<Box<[u8]>>,
    /// The float constants of every function of the unit (`ExecCtx::consts` while it runs).
    consts: Vec<u64>,
    pub clif: Vec<(String, String)>,
    /// (function name, address, bytes)
    pub code: Vec<(String, usize, Vec<u8>)>,
}

impl Compiled {
    /// Run the cell.
    ///
    /// # Safety
    /// `ctx` must be a live context whose globals match those the program was compiled for.
    pub unsafe fn run(&self, ctx: *mut ExecCtx) {
        (*ctx).consts = self.consts.as_ptr();
        let f: extern "C" fn(*mut ExecCtx) = std::mem::transmute(self.entry);
        f(ctx)
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: nothing refers to this unit's code once the cell has finished.
            unsafe { m.free_memory() };
        }
    }
}

fn isa() -> Result<OwnedTargetIsa, String> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        let set =
            |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| e.to_string());
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        set(
            &mut flags,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        let isa = cranelift_native::builder().map_err(|e| e.to_string())?;
        isa.finish(settings::Flags::new(flags))
            .map_err(|e| e.to_string())
    })
    .clone()
}

/// The Cranelift types a Kiln type flattens to.
pub fn clif_types(t: &Ty) -> Vec<types::Type> {
    match t {
        Ty::None => vec![],
        Ty::Bool => vec![types::I8],
        Ty::I64 | Ty::Str | Ty::Array { .. } => vec![types::I64],
        Ty::F64 => vec![types::F64],
        Ty::F32 => vec![types::F32],
        Ty::C128 => vec![types::F64, types::F64],
        Ty::Tuple(items) => items.iter().flat_map(clif_types).collect(),
    }
}

/// Compile a whole program: every function instance and the cell entry.
pub fn compile(prog: &Program, opts: &Options) -> Result<Compiled, String> {
    let isa = isa()?;
    let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    for (name, ptr) in kiln_runtime::symbols()
        .into_iter()
        .chain(super::support::symbols())
    {
        builder.symbol(name, ptr);
    }
    let mut module = JITModule::new(builder);
    let ptr = types::I64;
    let call_conv = module.isa().default_call_conv();

    let mut ids = Vec::new();
    for (k, f) in prog.funcs.iter().enumerate() {
        let mut sig = Signature::new(call_conv);
        sig.params.push(AbiParam::new(ptr));
        if k as u32 != prog.entry {
            for &p in &f.params {
                for t in clif_types(&f.vars[p as usize].ty) {
                    sig.params.push(AbiParam::new(t));
                }
            }
            for t in clif_types(&f.ret) {
                sig.returns.push(AbiParam::new(t));
            }
        }
        let linkage = if k as u32 == prog.entry {
            Linkage::Export
        } else {
            Linkage::Local
        };
        let name = format!("kiln_fn{k}");
        let id = module
            .declare_function(&name, linkage, &sig)
            .map_err(|e| e.to_string())?;
        ids.push((id, sig));
    }

    // Parallel loops: each body is outlined into `fn(ctx, env, lo, hi, red)`.
    let mut par_loops: Vec<(usize, &Stmt)> = Vec::new();
    for (k, f) in prog.funcs.iter().enumerate() {
        collect_par_loops(&f.body, k, &mut par_loops);
    }
    let mut par_fns: HashMap<u32, FuncId> = HashMap::new();
    for (_, st) in &par_loops {
        let Stmt::For { par: Some(p), .. } = st else {
            continue;
        };
        let mut sig = Signature::new(call_conv);
        for _ in 0..5 {
            sig.params.push(AbiParam::new(ptr));
        }
        let id = module
            .declare_function(&format!("kiln_par{}", p.id), Linkage::Local, &sig)
            .map_err(|e| e.to_string())?;
        par_fns.insert(p.id, id);
    }

    // Large whole-array loops run on the worker pool: each map is also outlined.
    let mut maps: Vec<(usize, &ir::ArrayMap, MapKind)> = Vec::new();
    for (k, f) in prog.funcs.iter().enumerate() {
        collect_maps(&f.body, k, &mut maps);
    }
    let mut map_fns: HashMap<usize, FuncId> = HashMap::new();
    for (n, (_, m, _)) in maps.iter().enumerate() {
        let mut sig = Signature::new(call_conv);
        for _ in 0..5 {
            sig.params.push(AbiParam::new(ptr));
        }
        let id = module
            .declare_function(&format!("kiln_map{n}"), Linkage::Local, &sig)
            .map_err(|e| e.to_string())?;
        map_fns.insert(*m as *const ir::ArrayMap as usize, id);
    }

    let mut strings: Vec<Box<[u8]>> = Vec::new();
    let mut consts: Vec<u64> = Vec::new();
    let mut imports: HashMap<&'static str, FuncId> = HashMap::new();
    let mut fctx = FunctionBuilderContext::new();
    let mut ctx = module.make_context();
    let mut clif = Vec::new();
    let mut code = Vec::new();
    // Every job is built to CLIF first, so that small leaf functions can be inlined into
    // their callers before anything is compiled.
    let mut built: Vec<(FuncId, String, cranelift_codegen::ir::Function)> = Vec::new();
    let jobs: Vec<(usize, Job)> = (0..prog.funcs.len())
        .map(|k| (k, Job::Func))
        .chain(par_loops.iter().map(|(k, st)| (*k, Job::ParLoop(st))))
        .chain(maps.iter().map(|(k, m, kind)| (*k, Job::Map(m, *kind))))
        .collect();
    let globals_by_functions = globals_assigned_by_functions(prog);
    for (k, job) in jobs {
        let f = &prog.funcs[k];
        let outlined_sig = |fid: FuncId, module: &JITModule| {
            module
                .declarations()
                .get_function_decl(fid)
                .signature
                .clone()
        };
        let (fid, sig, name) = match &job {
            Job::Func => (ids[k].0, ids[k].1.clone(), f.name.clone()),
            Job::ParLoop(Stmt::For { par: Some(p), .. }) => {
                let fid = par_fns[&p.id];
                (
                    fid,
                    outlined_sig(fid, &module),
                    format!("{} (parallel loop {})", f.name, p.id),
                )
            }
            Job::ParLoop(_) => return Err("outlined a non-parallel loop".into()),
            Job::Map(m, _) => {
                let fid = map_fns[&(*m as *const ir::ArrayMap as usize)];
                (
                    fid,
                    outlined_sig(fid, &module),
                    format!("{} (array loop)", f.name),
                )
            }
        };
        ctx.func.signature = sig;
        {
            let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let mut g = Gen {
                prog,
                func: f,
                b,
                module: &mut module,
                ids: &ids,
                par_fns: &par_fns,
                map_fns: &map_fns,
                imports: &mut imports,
                strings: &mut strings,
                consts: &mut consts,
                depth_counted: false,
                vars: Vec::new(),
                ctx: Value::from_u32(0),
                interrupt: Value::from_u32(0),
                exit: cranelift_codegen::ir::Block::from_u32(0),
                err_block: cranelift_codegen::ir::Block::from_u32(0),
                loops: Vec::new(),
                is_entry: k as u32 == prog.entry,
                bounds: !opts.no_bounds_checks,
                poll: !opts.no_interrupt_poll,
                par_min: opts.par_min_elements,
                map_elems: Vec::new(),
                map_scalars: Vec::new(),
                map_velems: Vec::new(),
                map_vconsts: HashMap::new(),
                map_vscalars: Vec::new(),
                fconsts: HashMap::new(),
                frozen: HashMap::new(),
                nonneg: std::collections::HashSet::new(),
                globals_by_functions: &globals_by_functions,
                proven: std::collections::HashSet::new(),
                defined_vars: std::collections::HashSet::new(),
                defined_globals: std::collections::HashSet::new(),
            };
            match job {
                Job::Func => g.function()?,
                Job::ParLoop(st) => g.outlined(st)?,
                Job::Map(m, kind) => g.outlined_map(m, kind)?,
            }
            let target = g.module.target_config();
            g.b.finalize(target);
        }
        super::prune::prune_dead_block_params(&mut ctx.func);
        built.push((
            fid,
            name,
            std::mem::replace(&mut ctx.func, cranelift_codegen::ir::Function::new()),
        ));
        module.clear_context(&mut ctx);
    }

    let user_fns: Vec<u32> = ids.iter().map(|(id, _)| id.as_u32()).collect();
    let inliner = super::inline::LeafInliner::new(
        built
            .iter()
            .filter(|(fid, _, _)| *fid != ids[prog.entry as usize].0)
            .map(|(fid, _, func)| (fid.as_u32(), func)),
        &user_fns,
    );
    let entry_id = ids[prog.entry as usize].0;
    let mut finished = Vec::with_capacity(built.len());
    for (fid, name, func) in built {
        ctx.func = func;
        if !opts.no_inline {
            ctx.inline(&inliner)
                .map_err(|e| format!("Cranelift could not inline into {name}: {e:?}"))?;
        }
        super::inline::thread_error_exits(&mut ctx.func, CTX_ERR_OFFSET);
        super::prune::order_loop_params(&mut ctx.func);
        let func = std::mem::replace(&mut ctx.func, cranelift_codegen::ir::Function::new());
        finished.push((fid, name, func));
        module.clear_context(&mut ctx);
    }
    // A function inlined at every call site has no caller left: it is not compiled.
    let called = super::inline::called_functions(finished.iter().map(|(_, _, f)| f));
    for (fid, name, func) in finished {
        if fid != entry_id && user_fns.contains(&fid.as_u32()) && !called.contains(&fid.as_u32()) {
            continue;
        }
        ctx.func = func;
        if opts.keep_clif {
            clif.push((name.clone(), ctx.func.display().to_string()));
        }
        module
            .define_function(fid, &mut ctx)
            .map_err(|e| format!("Cranelift rejected {name}: {e:?}"))?;
        if opts.keep_code {
            if let Some(cc) = ctx.compiled_code() {
                code.push((name, fid, cc.code_buffer().to_vec()));
            }
        }
        module.clear_context(&mut ctx);
    }
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let code = code
        .into_iter()
        .map(|(name, fid, bytes)| (name, module.get_finalized_function(fid) as usize, bytes))
        .collect();
    let entry = module.get_finalized_function(ids[prog.entry as usize].0);
    Ok(Compiled {
        module: Some(module),
        entry,
        _strings: strings,
        consts,
        clif,
        code,
    })
}

/// What an outlined whole-array loop does with its range of elements.
#[derive(Clone, Copy, Debug)]
enum MapKind {
    /// Write elements to the last operand (a new array or a destination) of this dtype.
    Write(DType),
    /// Sum f64 elements into the reduction buffer (pairwise within the range).
    SumF64,
    /// Sum, multiply, or take the min or max of i64 elements, or the min or max of floats,
    /// into the reduction buffer: exact in any grouping (integer arithmetic wraps, as
    /// NumPy's does; a float min or max picks one of the elements).
    Reduce(ir::Reduce, RedTy),
}

/// The element type of a threaded reduction.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RedTy {
    I64,
    F64,
    F32,
}

impl RedTy {
    fn of(t: &Ty) -> Option<RedTy> {
        match t {
            Ty::I64 => Some(RedTy::I64),
            Ty::F64 => Some(RedTy::F64),
            Ty::F32 => Some(RedTy::F32),
            _ => None,
        }
    }

    fn clif(self) -> types::Type {
        match self {
            RedTy::I64 => types::I64,
            RedTy::F64 => types::F64,
            RedTy::F32 => types::F32,
        }
    }

    fn ty(self) -> Ty {
        match self {
            RedTy::I64 => Ty::I64,
            RedTy::F64 => Ty::F64,
            RedTy::F32 => Ty::F32,
        }
    }
}

/// What a threaded whole-array loop gives back to the code that started it.
#[derive(Clone, Copy)]
enum ParResult {
    Nothing,
    /// The f64 sum in NumPy's pairwise order.
    PairwiseSum,
    /// An exact reduction (`MapKind::Reduce`).
    Reduce(ir::Reduce, RedTy),
}

enum Job<'a> {
    Func,
    ParLoop(&'a Stmt),
    Map(&'a ir::ArrayMap, MapKind),
}

/// Whole-array loops below this many elements stay on the calling thread (the pool's
/// wake-up costs more than a second core saves).
/// Measured with bench/par_threshold.sh on an idle 16-core Xeon with 2 worker threads:
/// parallel wins from 2^19 elements on (0.67x the serial time), loses below (1.17x at 2^18).
pub const PAR_MAP_THRESHOLD: i64 = 1 << 19;

/// How many nodes of NumPy's pairwise tree a threaded sum is split into (at most).
const MAX_PW_NODES: i64 = 64;

/// Whether one run of `body` takes bounded time: no loops, no calls, no whole-array work
/// (each of those polls for interrupts itself or may run long). Only scalar statements,
/// element reads and writes, and math functions.
fn bounded_body(body: &[Stmt]) -> bool {
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

/// Whether a reduction of elements of type `elem` to a result of type `result` may run on
/// the worker pool because any grouping gives the same result: i64 sums, products, minima
/// and maxima, and float minima and maxima. (f64 sums go by NumPy's pairwise tree instead.)
fn threaded_reduce(op: ir::Reduce, elem: &Ty, result: &Ty) -> Option<RedTy> {
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
fn reduce_op(op: ir::Reduce, rt: RedTy) -> (ir::RedOp, i64) {
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

/// The whole-array loops of a body that may run on the worker pool (all but `@serial` ones).
fn collect_maps<'a>(
    body: &'a [Stmt],
    func: usize,
    out: &mut Vec<(usize, &'a ir::ArrayMap, MapKind)>,
) {
    let mut all = Vec::new();
    visit(body, &mut |n| match n {
        Node::Stmt(Stmt::MapInto { dest, map, .. }) => {
            if let Ty::Array { dtype, .. } = dest.ty {
                all.push((func, map, MapKind::Write(dtype)));
            }
        }
        Node::Expr(Expr {
            kind: ExprKind::Map(m, _),
            ty: Ty::Array { dtype, .. },
        }) => all.push((func, &**m, MapKind::Write(*dtype))),
        Node::Expr(Expr {
            kind: ExprKind::MapReduce(m, op, _),
            ..
        }) if matches!(op, ir::Reduce::Sum | ir::Reduce::Mean) && m.body.ty == Ty::F64 => {
            all.push((func, &**m, MapKind::SumF64))
        }
        Node::Expr(Expr {
            kind: ExprKind::MapReduce(m, op, _),
            ty,
        }) => {
            if let Some(rt) = threaded_reduce(*op, &m.body.ty, ty) {
                all.push((func, &**m, MapKind::Reduce(*op, rt)))
            }
        }
        _ => {}
    });
    out.extend(
        all.into_iter()
            .filter(|(_, m, _)| m.threads != ir::MapThreads::Serial),
    );
}

/// Parallel loops of a body, in program order (nested ones were lowered as serial).
fn collect_par_loops<'a>(body: &'a [Stmt], func: usize, out: &mut Vec<(usize, &'a Stmt)>) {
    visit(body, &mut |n| {
        if let Node::Stmt(s @ Stmt::For { par: Some(_), .. }) = n {
            out.push((func, s));
        }
    });
}

/// The variables that are never negative in the body of a `for` nest: counters whose range
/// starts at a literal 0 or more and steps up by a literal, and the user's loop variables,
/// which the lowering copies from those counters at the top of the body, when nothing else in
/// the body assigns them.
fn nonneg_counters(vars: &[Place], ranges: &[ir::Range], body: &[Stmt]) -> Vec<ir::VarId> {
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

/// A global read once at the entry of an outlined parallel loop body.
struct FrozenGlobal {
    vals: Vals,
    /// For a heap value: whether the slot was null (the global is undefined).
    undefined: Option<Value>,
}

/// Zeroed memory the size of any object header: what a frozen heap global that is undefined
/// points at, so that header loads hoisted above its NameError check read zeros, not null.
#[repr(align(64))]
struct NullStandIn([u64; 32]);
static NULL_STAND_IN: NullStandIn = NullStandIn([0; 32]);
const _: () = assert!(
    std::mem::size_of::<NullStandIn>() >= std::mem::size_of::<kiln_runtime::array::Array>()
);

/// The globals a parallel loop's body reads that nothing can write while it runs: the rules
/// of parallel loops forbid the body to assign an outer name it also reads (private names are
/// locals of the outlined function), and the cell itself waits for the loop. What is left is
/// a global the body assigns anyway, or one that a user function (`global x`) assigns, as the
/// body may call it; those are read where they are used. The others are read once per chunk,
/// so a global like the image width or the image itself is not reloaded for every pixel.
fn frozen_globals(
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

/// Variables a body assigns (they are private to an iteration of a parallel loop).
fn assigned_vars(body: &[Stmt], out: &mut std::collections::HashSet<ir::VarId>) {
    out.extend(assignment_counts(body).into_keys());
}

/// Type codes of reduction values for `kiln_par_for`.
fn red_type_code(t: &Ty) -> Result<i64, String> {
    Ok(match t {
        Ty::Bool => 0,
        Ty::I64 => 1,
        Ty::F64 => 2,
        Ty::F32 => 3,
        Ty::C128 => 4,
        t => return Err(format!("a reduction of type {t}")),
    })
}

/// Signatures of the runtime functions the generated code calls (all take/return i64 for
/// pointers and integers).
fn runtime_sig(name: &str) -> (Vec<types::Type>, Vec<types::Type>) {
    use types::{F32, F64, I64};
    let p = I64;
    match name {
        "kiln_incref" | "kiln_decref" => (vec![p], vec![]),
        "kiln_trace" => (vec![p, I64], vec![]),
        "kiln_raise_interrupt" | "kiln_raise_recursion" => (vec![p], vec![]),
        "kiln_raise_msg" => (vec![p, I64, p, I64], vec![]),
        "kiln_index_error" => (vec![p, I64, I64, I64], vec![]),
        "kiln_array_new" => (vec![p, I64, I64, p, I64], vec![p]),
        "kiln_array_full_i64" => (vec![p, I64, I64, p, I64], vec![p]),
        "kiln_array_full_f64" => (vec![p, I64, I64, p, F64], vec![p]),
        "kiln_array_full_c128" => (vec![p, I64, I64, p, F64, F64], vec![p]),
        "kiln_arange_i64" => (vec![p, I64, I64, I64], vec![p]),
        "kiln_arange_f64" => (vec![p, F64, F64, F64], vec![p]),
        "kiln_linspace" => (vec![p, F64, F64, I64, I64], vec![p]),
        "kiln_array_copy" => (vec![p, p], vec![p]),
        "kiln_array_reduce" => (vec![p, p, I64, p], vec![I64]),
        "kiln_str_new" => (vec![p, I64], vec![p]),
        "kiln_str_concat" => (vec![p, p, p], vec![p]),
        "kiln_str_len" => (vec![p], vec![I64]),
        "kiln_str_eq" => (vec![p, p], vec![I64]),
        "kiln_fmt_i64" | "kiln_fmt_bool" => (vec![p, I64, p, I64], vec![p]),
        "kiln_fmt_f64" => (vec![p, F64, p, I64], vec![p]),
        "kiln_fmt_f32" => (vec![p, F32, p, I64], vec![p]),
        "kiln_fmt_c128" => (vec![p, F64, F64, p, I64], vec![p]),
        "kiln_fmt_str" | "kiln_fmt_array" => (vec![p, p, p, I64], vec![p]),
        "kiln_repr_str" | "kiln_repr_array" => (vec![p, p], vec![p]),
        "kiln_write" => (vec![p, I64, p, I64], vec![]),
        "kiln_write_str" => (vec![p, I64, p], vec![]),
        "kiln_par_for" => (vec![p, p, p, I64, I64, p, p, p], vec![I64]),
        "kiln_bcast" => (vec![p, I64, p, I64, p, p], vec![I64]),
        "kiln_array_slice" | "kiln_array_reshape" => (vec![p, p, p, I64], vec![p]),
        "kiln_dot" => (vec![p, p, p], vec![p]),
        "kiln_dot_scalar" => (vec![p, p, p, p], vec![I64]),
        "kiln_array_astype" => (vec![p, p, I64], vec![p]),
        "kiln_array_reduce_axis" => (vec![p, p, I64, I64], vec![p]),
        "kiln_array_transpose" | "kiln_cumsum" => (vec![p, p], vec![p]),
        "kiln_eye" => (vec![p, I64, I64], vec![p]),
        "kiln_seed" => (vec![I64], vec![]),
        "kiln_display" => (vec![p, p, I64], vec![]),
        "kiln_clear_output" => (vec![p, I64], vec![]),
        "kiln_imshow" => (vec![p, p, p, p], vec![]),
        "kiln_round_int" => (vec![I64, I64], vec![I64]),
        "kiln_cumsum_axis" => (vec![p, p, I64], vec![p]),
        "kiln_rand_scalar" => (vec![], vec![F64]),
        "kiln_rand" | "kiln_randn" => (vec![p, I64, p], vec![p]),
        "kiln_randint" => (vec![p, I64, I64, I64, p], vec![p]),
        "kiln_may_overlap" => (vec![p, p], vec![I64]),
        "kiln_reuse_or_new" => (vec![p, p, I64, I64, p], vec![p]),
        "kiln_pw_begin" => (vec![I64, I64], vec![p]),
        "kiln_pw_next" => (vec![p, p, p], vec![I64]),
        "kiln_pw_leaf" => (vec![p, p, I64, I64], vec![]),
        "kiln_pw_end" => (vec![p], vec![F64]),
        "kiln_pw_nodes" => (vec![I64, I64, p], vec![I64]),
        "kiln_pw_combine" => (vec![I64, I64, p], vec![F64]),
        "kiln_pow_i64" => (vec![p, I64, I64], vec![I64]),
        "kiln_m_arctan2" | "kiln_m_hypot" | "kiln_m_pow" | "kiln_m_py_fmod"
        | "kiln_m_py_floordiv" => (vec![F64, F64], vec![F64]),
        "kiln_m_round_n" | "kiln_m_np_round_n" => (vec![F64, I64], vec![F64]),
        "kiln_c_div" | "kiln_c_pow" => (vec![F64, F64, F64, F64, p], vec![]),
        "kiln_c_abs" => (vec![F64, F64], vec![F64]),
        n if n.starts_with("kiln_c_") => (vec![F64, F64, p], vec![]),
        n if n.starts_with("kiln_m_") => (vec![F64], vec![F64]),
        other => panic!("no signature for runtime function {other}"),
    }
}

struct Gen<'a, 'b> {
    prog: &'a Program,
    func: &'a ir::Func,
    b: FunctionBuilder<'b>,
    module: &'a mut JITModule,
    ids: &'a [(FuncId, Signature)],
    par_fns: &'a HashMap<u32, FuncId>,
    map_fns: &'a HashMap<usize, FuncId>,
    imports: &'a mut HashMap<&'static str, FuncId>,
    strings: &'a mut Vec<Box<[u8]>>,
    /// The unit's table of scalar float constants (f32 ones in the low half of a word),
    /// reached at run time through `ExecCtx::consts`.
    consts: &'a mut Vec<u64>,
    /// Whether this function counts its calls towards the recursion limit
    /// (`counts_depth`, decided once in `function`).
    depth_counted: bool,
    vars: Vec<Vec<Variable>>,
    ctx: Value,
    interrupt: Value,
    exit: cranelift_codegen::ir::Block,
    err_block: cranelift_codegen::ir::Block,
    /// (continue target, break target) of the enclosing loops.
    loops: Vec<(cranelift_codegen::ir::Block, cranelift_codegen::ir::Block)>,
    is_entry: bool,
    bounds: bool,
    poll: bool,
    par_min: i64,
    /// Inside a map's body: the current element of each input, and the scalar operands.
    map_elems: Vec<Vals>,
    map_scalars: Vec<Vals>,
    /// The same, two lanes at a time (F64X2), in a vectorised map body.
    map_velems: Vec<Value>,
    /// Splatted constants and scalar operands of the map being generated, made once before
    /// its loop (Cranelift would otherwise rebuild them in every iteration).
    map_vconsts: HashMap<u64, Value>,
    map_vscalars: Vec<Value>,
    /// Scalar float constants of the function, loaded once in its entry block.
    fconsts: HashMap<(u64, bool), Value>,
    /// Globals that cannot change while this function runs (the outlined body of a
    /// parallel loop: see `frozen_globals`), loaded once in its entry block.
    frozen: HashMap<ir::GlobalId, FrozenGlobal>,
    /// Counters of the enclosing `range` loops that are never negative (see
    /// `nonneg_counters`): indexing with one needs no wrap-around from the end.
    nonneg: std::collections::HashSet<ir::VarId>,
    /// Globals that some user function assigns (`global x`), so that a body calling it may
    /// see them change.
    globals_by_functions: &'a std::collections::HashSet<ir::GlobalId>,
    /// In the unchecked copy of a versioned loop (see `versioning`): the index expressions
    /// the test before the loop proved in range, and the arrays it proved defined.
    proven: std::collections::HashSet<*const Expr>,
    defined_vars: std::collections::HashSet<ir::VarId>,
    defined_globals: std::collections::HashSet<ir::GlobalId>,
}

/// Can this map's body run two f64 lanes at a time? (f64 inputs and result, and only
/// operations with a vector instruction.)
fn vectorizable(m: &ir::ArrayMap) -> bool {
    fn ok(e: &Expr) -> bool {
        if e.ty != Ty::F64 {
            return false;
        }
        match &e.kind {
            ExprKind::Elem(_) | ExprKind::MapScalar(_) | ExprKind::Float(_) => true,
            ExprKind::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, a, b, _) => {
                ok(a) && ok(b)
            }
            ExprKind::Unary(UnOp::Neg, a) => ok(a),
            ExprKind::Builtin {
                op:
                    Builtin::Math(
                        MathFn::Sqrt | MathFn::Floor | MathFn::Ceil | MathFn::Trunc | MathFn::Rint,
                    )
                    | Builtin::Abs,
                args,
                ..
            } => ok(&args[0]),
            _ => false,
        }
    }
    m.inputs.iter().all(|i| {
        matches!(
            i.ty,
            Ty::Array {
                dtype: DType::F64,
                ..
            }
        )
    }) && ok(&m.body)
}

/// What a whole-array loop does for an element (or two lanes): gets each operand's address
/// and the element's flat index.
type ElemFn<'f, 'a, 'b> =
    &'f mut dyn FnMut(&mut Gen<'a, 'b>, &[Value], Value) -> Result<(), String>;

/// An operand of a whole-array loop: its data pointer, element size and its stride (in
/// elements) along each dimension of the loop (0 where it is broadcast).
#[derive(Clone)]
struct Operand {
    data: Value,
    dtype: DType,
    strides: Vec<Value>,
}

type Vals = Vec<Value>;

fn header_flags() -> MemFlagsData {
    // Array headers never change after creation: loads from them can move and merge.
    MemFlagsData::trusted().with_readonly().with_can_move()
}

impl<'a, 'b> Gen<'a, 'b> {
    /// Loads the address of the session's interrupt flag from `ctx`. The address never
    /// changes while code runs, so the load is pure to Cranelift: an unused one (an inlined
    /// leaf that polls nothing) disappears, and repeated ones merge.
    fn load_interrupt_flag_addr(&mut self) {
        let ro = MemFlagsData::trusted().with_readonly().with_can_move();
        self.interrupt = self
            .b
            .ins()
            .load(types::I64, ro, self.ctx, CTX_INTERRUPT_OFFSET);
    }

    fn function(&mut self) -> Result<(), String> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.ctx = self.b.block_params(entry)[0];
        let params: Vec<Value> = self.b.block_params(entry)[1..].to_vec();
        // Every variable starts as zero (null for arrays and strings, so exit decrefs are safe).
        for v in &self.func.vars {
            let mut vs = Vec::new();
            for t in clif_types(&v.ty) {
                let var = self.b.declare_var(t);
                let z = self.zero(t);
                self.b.def_var(var, z);
                vs.push(var);
            }
            self.vars.push(vs);
        }
        let mut k = 0;
        for &p in &self.func.params {
            let ty = self.func.vars[p as usize].ty.clone();
            let n = clif_types(&ty).len();
            let vals = params[k..k + n].to_vec();
            k += n;
            // Parameters are borrowed from the caller; the callee owns its locals.
            self.incref(&ty, &vals);
            for (var, v) in self.vars[p as usize].clone().into_iter().zip(vals) {
                self.b.def_var(var, v);
            }
        }
        self.load_interrupt_flag_addr();
        let body = self.func.body.as_slice();
        self.prepare_scalar_consts(body);
        self.exit = self.b.create_block();
        for t in clif_types(&self.func.ret) {
            self.b.append_block_param(self.exit, t);
        }
        self.err_block = self.b.create_block();
        self.b.set_cold_block(self.err_block);
        self.depth_counted = self.counts_depth();
        if self.depth_counted {
            // Recursion depth: a RecursionError instead of a stack overflow.
            let d = self.b.ins().load(
                types::I64,
                MemFlagsData::trusted(),
                self.ctx,
                CTX_DEPTH_OFFSET,
            );
            let d1 = self.b.ins().iadd_imm_s(d, 1);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), d1, self.ctx, CTX_DEPTH_OFFSET);
            let max = self.b.ins().load(
                types::I64,
                MemFlagsData::trusted(),
                self.ctx,
                CTX_MAX_DEPTH_OFFSET,
            );
            let over = self.b.ins().icmp(IntCC::SignedGreaterThan, d1, max);
            let site = self.func.entry_site;
            self.fail_if(over, |g| g.call_rt("kiln_raise_recursion", &[g.ctx]), site);
        }
        let body = &self.func.body;
        self.block(body)?;
        if !self.terminated() {
            let zeros = self.zeros_of(&self.func.ret.clone());
            self.jump(self.exit, &zeros);
        }
        // Error exit: zero results (the caller looks at ctx.err, not at them). It has its own
        // copy of the exit sequence, marked, so that where this function is inlined the error
        // path can jump straight to the caller's (see `inline::thread_error_exits`).
        self.b.switch_to_block(self.err_block);
        self.b
            .ins()
            .iconst(types::I64, super::inline::ERR_EXIT_MARK);
        let zeros = self.zeros_of(&self.func.ret.clone());
        self.exit_sequence(&zeros);
        // The normal exit.
        self.b.switch_to_block(self.exit);
        let rets: Vals = self.b.block_params(self.exit).to_vec();
        self.exit_sequence(&rets);
        self.b.seal_all_blocks();
        Ok(())
    }

    /// Whether this function counts its calls towards the recursion limit. A function that
    /// calls no user function cannot recurse, and runs at most one frame past the limit, so
    /// it does not (that is six memory operations less per call of a small hot helper).
    fn counts_depth(&self) -> bool {
        if self.is_entry {
            return false;
        }
        let mut calls = false;
        visit(&self.func.body, &mut |n| {
            calls |= matches!(
                n,
                Node::Expr(Expr {
                    kind: ExprKind::Call { .. },
                    ..
                })
            );
        });
        calls
    }

    /// Release the locals, restore the recursion depth, return `rets`.
    fn exit_sequence(&mut self, rets: &[Value]) {
        for (k, v) in self.func.vars.iter().enumerate() {
            if v.ty.has_heap() {
                let vals: Vals = self.vars[k]
                    .iter()
                    .map(|&var| self.b.use_var(var))
                    .collect();
                let t = v.ty.clone();
                self.release(&t, &vals);
            }
        }
        if self.depth_counted {
            let d = self.b.ins().load(
                types::I64,
                MemFlagsData::trusted(),
                self.ctx,
                CTX_DEPTH_OFFSET,
            );
            let d1 = self.b.ins().iadd_imm_s(d, -1);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), d1, self.ctx, CTX_DEPTH_OFFSET);
        }
        self.b.ins().return_(rets);
    }

    // ----- small helpers -------------------------------------------------------------------

    fn terminated(&self) -> bool {
        let Some(block) = self.b.current_block() else {
            return true;
        };
        match self.b.func.layout.last_inst(block) {
            Some(inst) => self.b.func.dfg.insts[inst].opcode().is_terminator(),
            None => false,
        }
    }

    /// Make sure there is an open block to emit into (after `break`/`return`, code is dead).
    fn ensure_open(&mut self) {
        if self.terminated() {
            let dead = self.b.create_block();
            self.b.switch_to_block(dead);
        }
    }

    fn jump(&mut self, block: cranelift_codegen::ir::Block, args: &[Value]) {
        let a: Vec<BlockArg> = args.iter().map(|&v| BlockArg::Value(v)).collect();
        self.b.ins().jump(block, &a);
    }

    /// A float constant, loaded from memory the unit owns: Cranelift rematerialises
    /// `f64const` inside every loop iteration, while a read-only load can be hoisted out of
    /// the loop or folded into the arithmetic instruction.
    fn float_const(&mut self, v: f64, f32: bool) -> Value {
        let bytes: Box<[u8]> = if f32 {
            Box::new((v as f32).to_le_bytes())
        } else {
            Box::new(v.to_le_bytes())
        };
        let addr = bytes.as_ptr() as i64;
        self.strings.push(bytes);
        let p = self.iconst(addr);
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        self.b
            .ins()
            .load(if f32 { types::F32 } else { types::F64 }, flags, p, 0)
    }

    fn zero(&mut self, t: types::Type) -> Value {
        match t {
            types::F64 => self.b.ins().f64const(0.0),
            types::F32 => self.b.ins().f32const(0.0),
            t => self.b.ins().iconst(t, 0),
        }
    }

    fn zeros_of(&mut self, t: &Ty) -> Vals {
        clif_types(t).into_iter().map(|c| self.zero(c)).collect()
    }

    fn import(&mut self, name: &'static str) -> cranelift_codegen::ir::FuncRef {
        let id = match self.imports.get(name) {
            Some(&id) => id,
            None => {
                let (ps, rs) = runtime_sig(name);
                let mut sig = self.module.make_signature();
                sig.params.extend(ps.into_iter().map(AbiParam::new));
                sig.returns.extend(rs.into_iter().map(AbiParam::new));
                let id = self
                    .module
                    .declare_function(name, Linkage::Import, &sig)
                    .expect("runtime import");
                self.imports.insert(name, id);
                id
            }
        };
        self.module.declare_func_in_func(id, self.b.func)
    }

    fn call_rt(&mut self, name: &'static str, args: &[Value]) -> Vals {
        let f = self.import(name);
        let inst = self.b.ins().call(f, args);
        self.b.inst_results(inst).to_vec()
    }

    fn call_rt1(&mut self, name: &'static str, args: &[Value]) -> Value {
        self.call_rt(name, args)[0]
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// Static bytes the code can point at (kept alive by the `Compiled` unit).
    fn static_bytes(&mut self, s: &str) -> (Value, Value) {
        let bytes: Box<[u8]> = s.as_bytes().into();
        let p = bytes.as_ptr() as i64;
        let n = bytes.len() as i64;
        self.strings.push(bytes);
        (self.iconst(p), self.iconst(n))
    }

    /// If `cond` is true: run `raise` (which records the error), add `site` to the trace and
    /// leave through the error exit.
    fn fail_if(&mut self, cond: Value, raise: impl FnOnce(&mut Self) -> Vals, site: ir::SiteId) {
        let bad = self.b.create_block();
        let ok = self.b.create_block();
        self.b.set_cold_block(bad);
        // (The order of the two targets used to matter: the published Cranelift 0.135
        // elaborator stops hoisting out of a loop after visiting an error path like `bad`.
        // The patched one in third_party/ does not; `thread_error_exits` expects this shape.)
        let fine = self.b.ins().icmp_imm_s(IntCC::Equal, cond, 0);
        self.b.ins().brif(fine, ok, &[], bad, &[]);
        self.b.switch_to_block(bad);
        raise(self);
        let s = self.iconst(site as i64);
        self.call_rt("kiln_trace", &[self.ctx, s]);
        self.b.ins().jump(self.err_block, &[]);
        self.b.switch_to_block(ok);
    }

    fn raise_msg(&mut self, kind: ErrorKind, msg: &str) -> Vals {
        let k = self.iconst(kind as i64);
        let (p, n) = self.static_bytes(msg);
        self.call_rt("kiln_raise_msg", &[self.ctx, k, p, n])
    }

    /// After a call that may have failed: leave if `ctx.err` is set.
    fn check_err(&mut self, site: ir::SiteId) {
        let e = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.ctx,
            CTX_ERR_OFFSET,
        );
        self.fail_if(e, |_| vec![], site);
    }

    /// After a runtime call returning a new object: null means it failed.
    fn check_null(&mut self, v: Value, site: ir::SiteId) {
        let z = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
        self.fail_if(z, |_| vec![], site);
    }

    fn heap_leaves(t: &Ty, out: &mut Vec<(usize, bool)>, base: &mut usize) {
        match t {
            Ty::Tuple(items) => items.iter().for_each(|i| Self::heap_leaves(i, out, base)),
            t => {
                let n = clif_types(t).len();
                if t.is_heap() {
                    out.push((*base, true));
                }
                *base += n;
            }
        }
    }

    fn refcount(&mut self, t: &Ty, vals: &[Value], name: &'static str) {
        if !t.has_heap() {
            return;
        }
        let mut leaves = Vec::new();
        Self::heap_leaves(t, &mut leaves, &mut 0);
        for (k, _) in leaves {
            self.call_rt(name, &[vals[k]]);
        }
    }

    fn incref(&mut self, t: &Ty, vals: &[Value]) {
        self.refcount(t, vals, "kiln_incref");
    }

    fn release(&mut self, t: &Ty, vals: &[Value]) {
        self.refcount(t, vals, "kiln_decref");
    }

    // ----- statements ----------------------------------------------------------------------

    fn block(&mut self, body: &[Stmt]) -> Result<(), String> {
        for s in body {
            self.ensure_open();
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), String> {
        match s {
            Stmt::Assign { place, value } => {
                let v = match (&value.kind, place) {
                    // `y = <array expression>` writes into y's array when y holds its only
                    // reference and it has the result's dtype and shape.
                    (ExprKind::Map(m, site), Place::Var(_) | Place::Global(_)) => {
                        let old = self.read_place(place)[0];
                        vec![self.map_new(m, &value.ty, Some(old), *site)?]
                    }
                    _ => self.expr(value)?,
                };
                self.store(place, v)?;
            }
            Stmt::MapInto { dest, map, site } => self.map_into(dest, map, *site)?,
            Stmt::Eval(e) => {
                let v = self.expr(e)?;
                self.release(&e.ty, &v);
            }
            Stmt::If { cond, then, els } => {
                let c = self.expr(cond)?[0];
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                let join = self.b.create_block();
                self.b.ins().brif(c, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                self.block(then)?;
                if !self.terminated() {
                    self.jump(join, &[]);
                }
                self.b.switch_to_block(eb);
                self.block(els)?;
                if !self.terminated() {
                    self.jump(join, &[]);
                }
                self.b.switch_to_block(join);
            }
            Stmt::While { cond, body } => {
                let head = self.b.create_block();
                let bodyb = self.b.create_block();
                let latch = self.b.create_block();
                let exit = self.b.create_block();
                self.jump(head, &[]);
                self.b.switch_to_block(head);
                let c = self.expr(cond)?[0];
                self.b.ins().brif(c, bodyb, &[], exit, &[]);
                self.b.switch_to_block(bodyb);
                self.loops.push((latch, exit));
                self.block(body)?;
                self.loops.pop();
                if !self.terminated() {
                    self.jump(latch, &[]);
                }
                self.b.switch_to_block(latch);
                self.poll_interrupt(0);
                self.jump(head, &[]);
                self.b.switch_to_block(exit);
            }
            Stmt::For {
                vars,
                ranges,
                body,
                site,
                par,
                ..
            } => match par {
                Some(p) => self.par_for(ranges, p, *site)?,
                None => self.for_loop(vars, ranges, body, *site)?,
            },
            Stmt::Break => {
                let (_, brk) = *self.loops.last().ok_or("break outside loop")?;
                self.jump(brk, &[]);
            }
            Stmt::Continue => {
                let (cont, _) = *self.loops.last().ok_or("continue outside loop")?;
                self.jump(cont, &[]);
            }
            Stmt::Return(e) => {
                let v = match e {
                    Some(e) => self.expr(e)?,
                    None => vec![],
                };
                self.jump(self.exit, &v);
            }
            Stmt::Print {
                args,
                sep,
                end,
                stderr,
            } => {
                let stream = self.iconst(*stderr as i64);
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        self.write_opt(sep.as_ref(), " ", stream)?;
                    }
                    let s = self.format_expr(a, "", false, 0)?;
                    self.call_rt("kiln_write_str", &[self.ctx, stream, s]);
                    self.call_rt("kiln_decref", &[s]);
                }
                self.write_opt(end.as_ref(), "\n", stream)?;
            }
        }
        Ok(())
    }

    fn write_opt(&mut self, e: Option<&Expr>, default: &str, stream: Value) -> Result<(), String> {
        match e {
            Some(e) => {
                let (v, owned) = self.expr_borrow(e)?;
                self.call_rt("kiln_write_str", &[self.ctx, stream, v[0]]);
                if owned {
                    self.release(&Ty::Str, &v);
                }
            }
            None => {
                let (p, n) = self.static_bytes(default);
                self.call_rt("kiln_write", &[self.ctx, stream, p, n]);
            }
        }
        Ok(())
    }

    fn poll_interrupt(&mut self, site: ir::SiteId) {
        if !self.poll {
            return;
        }
        let flag = self
            .b
            .ins()
            .load(types::I8, MemFlagsData::trusted(), self.interrupt, 0);
        self.fail_if(flag, |g| g.call_rt("kiln_raise_interrupt", &[g.ctx]), site);
    }

    // ----- whole-array loops ----------------------------------------------------------

    /// Evaluate a map's inputs and scalars; returns (input values, owned flags).
    fn map_operands(&mut self, m: &ir::ArrayMap) -> Result<(Vec<Value>, Vec<bool>), String> {
        let mut ins = Vec::new();
        let mut owned = Vec::new();
        for i in &m.inputs {
            let (v, o) = self.expr_borrow(i)?;
            ins.push(v[0]);
            owned.push(o);
        }
        let mut scalars = Vec::new();
        for x in &m.scalars {
            scalars.push(self.expr(x)?);
        }
        self.map_scalars = scalars;
        Ok((ins, owned))
    }

    fn release_inputs(&mut self, m: &ir::ArrayMap, ins: &[Value], owned: &[bool]) {
        for (k, i) in m.inputs.iter().enumerate() {
            if owned[k] {
                self.release(&i.ty, &[ins[k]]);
            }
        }
    }

    /// Broadcast shape of the inputs (to the destination's shape if given): the loop's
    /// per-dimension counts, or an error exit.
    fn map_shape(
        &mut self,
        ndim: usize,
        ins: &[Value],
        dest: Option<Value>,
        site: ir::SiteId,
    ) -> (Value, Vec<Value>) {
        let shape = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * ndim.max(1) as u32,
            3,
        ));
        let arrs = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * ins.len().max(1) as u32,
            3,
        ));
        for (k, &a) in ins.iter().enumerate() {
            self.b.ins().stack_store(types::I64, a, arrs, 8 * k as i32);
        }
        let sp = self.b.ins().stack_addr(types::I64, shape, 0);
        let ap = self.b.ins().stack_addr(types::I64, arrs, 0);
        let nd = self.iconst(ndim as i64);
        let n = self.iconst(ins.len() as i64);
        let d = dest.unwrap_or_else(|| self.iconst(0));
        let rc = self.call_rt1("kiln_bcast", &[self.ctx, nd, sp, n, ap, d]);
        self.fail_if(rc, |_| vec![], site);
        let counts = (0..ndim)
            .map(|k| {
                self.b
                    .ins()
                    .stack_load(types::I64, types::I64, shape, 8 * k as i32)
            })
            .collect();
        (sp, counts)
    }

    /// An array as a loop operand over `ndim` dimensions: broadcast axes get stride 0.
    fn operand(&mut self, arr: Value, ty: &Ty, ndim: usize) -> Operand {
        let Ty::Array { dtype, ndim: an } = *ty else {
            unreachable!("operand of a non-array")
        };
        let an = an as usize;
        let data = self
            .b
            .ins()
            .load(types::I64, header_flags(), arr, ARRAY_DATA_OFFSET);
        let mut strides = Vec::new();
        for d in 0..ndim {
            if d + an < ndim {
                strides.push(self.iconst(0));
                continue;
            }
            let k = (d + an - ndim) as i32;
            let dim =
                self.b
                    .ins()
                    .load(types::I64, header_flags(), arr, ARRAY_SHAPE_OFFSET + 8 * k);
            let st = self.b.ins().load(
                types::I64,
                header_flags(),
                arr,
                ARRAY_STRIDES_OFFSET + 8 * k,
            );
            let one = self.b.ins().icmp_imm_s(IntCC::Equal, dim, 1);
            let z = self.iconst(0);
            strides.push(self.b.ins().select(one, z, st));
        }
        Operand {
            data,
            dtype,
            strides,
        }
    }

    /// The loop over flat indices `lo..hi` of an index space with these counts (row-major),
    /// giving `f` each operand's element address. It runs row segments: the outer loop
    /// finds where a segment starts (div/mod per dimension, once per row) and polls the
    /// interrupt flag; the inner loop only bumps pointers by each operand's byte stride.
    fn odometer(
        &mut self,
        counts: &[Value],
        ops: &[Operand],
        lo: Value,
        hi: Value,
        f: ElemFn<'_, 'a, 'b>,
    ) -> Result<(), String> {
        self.odometer_vec(counts, ops, lo, hi, f, None)
    }

    /// `odometer` with an optional two-lane body: when every operand of a row segment is
    /// contiguous f64 (byte stride 8), pairs of elements go through `vector` (F64X2), the
    /// remainder through `f`.
    fn odometer_vec(
        &mut self,
        counts: &[Value],
        ops: &[Operand],
        lo: Value,
        hi: Value,
        f: ElemFn<'_, 'a, 'b>,
        mut vector: Option<ElemFn<'_, 'a, 'b>>,
    ) -> Result<(), String> {
        let n = counts.len();
        let flat = self.b.declare_var(types::I64);
        let j = self.b.declare_var(types::I64);
        let ptrs: Vec<Variable> = ops.iter().map(|_| self.b.declare_var(types::I64)).collect();
        self.b.def_var(flat, lo);
        let outer = self.b.create_block();
        let row = self.b.create_block();
        let inner = self.b.create_block();
        let elem = self.b.create_block();
        let row_end = self.b.create_block();
        let exit = self.b.create_block();
        self.jump(outer, &[]);
        self.b.switch_to_block(outer);
        let fv = self.b.use_var(flat);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, fv, hi);
        self.b.ins().brif(more, row, &[], exit, &[]);
        self.b.switch_to_block(row);
        let mut rest = fv;
        let mut idx = vec![fv; n];
        for d in (0..n).rev() {
            if d == 0 {
                idx[d] = rest;
            } else {
                idx[d] = self.b.ins().srem(rest, counts[d]);
                rest = self.b.ins().sdiv(rest, counts[d]);
            }
        }
        // The segment: to the end of the row, of the range, and at most 64Ki elements (so
        // long 1-D loops still poll the interrupt flag).
        let row_left = self.b.ins().isub(counts[n - 1], idx[n - 1]);
        let range_left = self.b.ins().isub(hi, fv);
        let seg = self.b.ins().smin(row_left, range_left);
        let cap = self.iconst(1 << 16);
        let seg = self.b.ins().smin(seg, cap);
        let mut bstrides = Vec::new();
        for (k, op) in ops.iter().enumerate() {
            let mut off = self.iconst(0);
            for (&i, &st) in idx.iter().zip(&op.strides) {
                let t = self.b.ins().imul(i, st);
                off = self.b.ins().iadd(off, t);
            }
            let size = op.dtype.size() as i64;
            let bytes = self.b.ins().imul_imm_s(off, size);
            let p = self.b.ins().iadd(op.data, bytes);
            self.b.def_var(ptrs[k], p);
            bstrides.push(self.b.ins().imul_imm_s(op.strides[n - 1], size));
        }
        let z = self.iconst(0);
        self.b.def_var(j, z);
        if let Some(vf) = vector.as_mut() {
            let mut contiguous = self.b.ins().iconst(types::I8, 1);
            for &bs in &bstrides {
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, bs, 8);
                contiguous = self.b.ins().band(contiguous, c);
            }
            // Four elements (two pairs) per trip while they fit, then one pair, then scalars.
            let vhead4 = self.b.create_block();
            let vbody4 = self.b.create_block();
            let vhead = self.b.create_block();
            let vbody = self.b.create_block();
            let vcheck = self.b.create_block();
            self.b.ins().brif(contiguous, vhead4, &[], inner, &[]);
            for (head, body, lanes, next) in
                [(vhead4, vbody4, 4i64, vhead), (vhead, vbody, 2, vcheck)]
            {
                self.b.switch_to_block(head);
                let jv = self.b.use_var(j);
                let jn = self.b.ins().iadd_imm_s(jv, lanes);
                let fits = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, jn, seg);
                self.b.ins().brif(fits, body, &[], next, &[]);
                self.b.switch_to_block(body);
                let fl = self.b.use_var(flat);
                for pair in 0..lanes / 2 {
                    let addrs: Vec<Value> = ptrs
                        .iter()
                        .map(|&p| {
                            let pv = self.b.use_var(p);
                            self.b.ins().iadd_imm_s(pv, 16 * pair)
                        })
                        .collect();
                    let jp = self.b.ins().iadd_imm_s(jv, 2 * pair);
                    let here = self.b.ins().iadd(fl, jp);
                    vf(self, &addrs, here)?;
                }
                for &p in &ptrs {
                    let pv = self.b.use_var(p);
                    let p1 = self.b.ins().iadd_imm_s(pv, 8 * lanes);
                    self.b.def_var(p, p1);
                }
                self.b.def_var(j, jn);
                self.jump(head, &[]);
            }
            self.b.switch_to_block(vcheck);
        }
        self.jump(inner, &[]);
        self.b.switch_to_block(inner);
        let jv = self.b.use_var(j);
        let go = self.b.ins().icmp(IntCC::SignedLessThan, jv, seg);
        self.b.ins().brif(go, elem, &[], row_end, &[]);
        self.b.switch_to_block(elem);
        let addrs: Vec<Value> = ptrs.iter().map(|&p| self.b.use_var(p)).collect();
        let here = self.b.ins().iadd(fv, jv);
        f(self, &addrs, here)?;
        for (k, &p) in ptrs.iter().enumerate() {
            let pv = self.b.use_var(p);
            let p1 = self.b.ins().iadd(pv, bstrides[k]);
            self.b.def_var(p, p1);
        }
        let jv = self.b.use_var(j);
        let j1 = self.b.ins().iadd_imm_s(jv, 1);
        self.b.def_var(j, j1);
        self.jump(inner, &[]);
        self.b.switch_to_block(row_end);
        let f1 = self.b.ins().iadd(fv, seg);
        self.b.def_var(flat, f1);
        self.poll_interrupt(0);
        self.jump(outer, &[]);
        self.b.switch_to_block(exit);
        Ok(())
    }

    /// A vectorisable body (see `vectorizable`) on two lanes.
    fn vexpr(&mut self, e: &Expr) -> Result<Value, String> {
        let v2 = types::F64X2;
        Ok(match &e.kind {
            ExprKind::Elem(k) => self.map_velems[*k as usize],
            ExprKind::MapScalar(k) => match self.map_vscalars.get(*k as usize) {
                Some(&v) => v,
                None => {
                    let x = self.map_scalars[*k as usize][0];
                    self.b.ins().splat(v2, x)
                }
            },
            ExprKind::Float(v) => match self.map_vconsts.get(&v.to_bits()) {
                Some(&c) => c,
                None => {
                    let x = self.float_const(*v, false);
                    self.b.ins().splat(v2, x)
                }
            },
            ExprKind::Binary(op, a, b, _) => {
                let (x, y) = (self.vexpr(a)?, self.vexpr(b)?);
                match op {
                    BinOp::Add => self.b.ins().fadd(x, y),
                    BinOp::Sub => self.b.ins().fsub(x, y),
                    BinOp::Mul => self.fmul_or_double(x, y),
                    _ => self.b.ins().fdiv(x, y),
                }
            }
            ExprKind::Unary(_, a) => {
                let x = self.vexpr(a)?;
                self.b.ins().fneg(x)
            }
            ExprKind::Builtin { op, args, .. } => {
                let x = self.vexpr(&args[0])?;
                match op {
                    Builtin::Math(MathFn::Sqrt) => self.b.ins().sqrt(x),
                    Builtin::Math(MathFn::Floor) => self.b.ins().floor(x),
                    Builtin::Math(MathFn::Ceil) => self.b.ins().ceil(x),
                    Builtin::Math(MathFn::Trunc) => self.b.ins().trunc(x),
                    Builtin::Math(MathFn::Rint) => self.b.ins().nearest(x),
                    _ => self.b.ins().fabs(x),
                }
            }
            _ => return Err("vexpr of a non-vectorisable expression".into()),
        })
    }

    /// Load the function's float constants (a dozen at most, so they do not crowd the
    /// registers) as pure loads that Cranelift places out of loops; an `f64const` would be
    /// rebuilt in every iteration.
    fn prepare_scalar_consts(&mut self, body: &[Stmt]) {
        let mut found: Vec<(u64, bool)> = Vec::new();
        visit(body, &mut |n| {
            if let Node::Expr(
                e @ Expr {
                    kind: ExprKind::Float(v),
                    ..
                },
            ) = n
            {
                let v = *v;
                let key = (v.to_bits(), e.ty == Ty::F32);
                if !found.contains(&key) && found.len() < 12 {
                    found.push(key);
                }
            }
        });
        if found.is_empty() {
            return;
        }
        // Loads rooted at the context parameter are pure values computed from the entry
        // block, so Cranelift hoists them out of every loop, also where this function is
        // inlined into a caller's loop. An address constant is rematerialised at each use,
        // pinning the load inside the loop; an argument-less `symbol_value` is hoisted only
        // one loop up from its first use (once inlined: into the caller's loop).
        let ro = MemFlagsData::trusted().with_readonly().with_can_move();
        let table = self
            .b
            .ins()
            .load(types::I64, ro, self.ctx, CTX_CONSTS_OFFSET);
        for (bits, is32) in found {
            let word = if is32 {
                u64::from((f64::from_bits(bits) as f32).to_bits())
            } else {
                bits
            };
            let k = match self.consts.iter().position(|&w| w == word) {
                Some(k) => k,
                None => {
                    self.consts.push(word);
                    self.consts.len() - 1
                }
            };
            let t = if is32 { types::F32 } else { types::F64 };
            let c = self.b.ins().load(t, ro, table, (8 * k) as i32);
            self.fconsts.insert((bits, is32), c);
        }
    }

    /// Make the splatted constants and scalars of a vectorisable body, before its loop.
    fn prepare_vector_consts(&mut self, m: &ir::ArrayMap) {
        fn floats(e: &Expr, out: &mut Vec<f64>) {
            match &e.kind {
                ExprKind::Float(v) => out.push(*v),
                ExprKind::Binary(_, a, b, _) => {
                    floats(a, out);
                    floats(b, out);
                }
                ExprKind::Unary(_, a) => floats(a, out),
                ExprKind::Builtin { args, .. } => args.iter().for_each(|a| floats(a, out)),
                _ => {}
            }
        }
        let mut vals = Vec::new();
        floats(&m.body, &mut vals);
        self.map_vconsts.clear();
        // Plain loads (not `can_move`) stay where they are, before the loop, and their
        // results stay in registers; pure splats would be sunk back into the loop.
        let fixed = MemFlagsData::trusted();
        for v in vals {
            if !self.map_vconsts.contains_key(&v.to_bits()) {
                let mut bytes = Vec::with_capacity(16);
                bytes.extend_from_slice(&v.to_le_bytes());
                bytes.extend_from_slice(&v.to_le_bytes());
                let bytes: Box<[u8]> = bytes.into();
                let addr = bytes.as_ptr() as i64;
                self.strings.push(bytes);
                let p = self.iconst(addr);
                let c = self
                    .b
                    .ins()
                    .load(types::F64X2, MemFlagsData::new().with_notrap(), p, 0);
                self.map_vconsts.insert(v.to_bits(), c);
            }
        }
        let scalars = self.map_scalars.clone();
        self.map_vscalars = scalars
            .iter()
            .map(|x| {
                if x.len() == 1 && self.b.func.dfg.value_type(x[0]) == types::F64 {
                    let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                        StackSlotKind::ExplicitSlot,
                        16,
                        4,
                    ));
                    self.b.ins().stack_store(types::I64, x[0], slot, 0);
                    self.b.ins().stack_store(types::I64, x[0], slot, 8);
                    let p = self.b.ins().stack_addr(types::I64, slot, 0);
                    self.b.ins().load(types::F64X2, fixed, p, 0)
                } else {
                    x[0]
                }
            })
            .collect();
    }

    /// Evaluate a vectorisable map's body for two elements at each input address.
    fn map_body_vec(&mut self, m: &ir::ArrayMap, addrs: &[Value]) -> Result<Value, String> {
        let flags = MemFlagsData::new().with_notrap();
        let elems: Vec<Value> = (0..m.inputs.len())
            .map(|k| self.b.ins().load(types::F64X2, flags, addrs[k], 0))
            .collect();
        let saved = std::mem::replace(&mut self.map_velems, elems);
        let v = self.vexpr(&m.body);
        self.map_velems = saved;
        v
    }

    /// Evaluate a map's body for the elements at `addrs` (inputs first).
    fn map_body(
        &mut self,
        m: &ir::ArrayMap,
        ops: &[Operand],
        addrs: &[Value],
    ) -> Result<Vals, String> {
        let mut elems = Vec::new();
        for (k, op) in ops.iter().enumerate().take(m.inputs.len()) {
            elems.push(self.load_elem(op.dtype, addrs[k]));
        }
        let saved = std::mem::replace(&mut self.map_elems, elems);
        let v = self.expr(&m.body);
        self.map_elems = saved;
        v
    }

    /// Materialise a map into a new array (or into `reuse` when that is allowed).
    fn map_new(
        &mut self,
        m: &ir::ArrayMap,
        ty: &Ty,
        reuse: Option<Value>,
        site: ir::SiteId,
    ) -> Result<Value, String> {
        let Ty::Array { dtype, .. } = *ty else {
            return Err("map of a non-array type".into());
        };
        let ndim = m.ndim as usize;
        let (ins, owned) = self.map_operands(m)?;
        let (shape, counts) = self.map_shape(ndim, &ins, None, site);
        let old = reuse.unwrap_or_else(|| self.iconst(0));
        let dt = self.iconst(dtype as i64);
        let nd = self.iconst(ndim as i64);
        let out = self.call_rt1("kiln_reuse_or_new", &[self.ctx, old, dt, nd, shape]);
        self.check_null(out, site);
        let mut ops: Vec<Operand> = m
            .inputs
            .iter()
            .zip(&ins)
            .map(|(i, &a)| self.operand(a, &i.ty, ndim))
            .collect();
        ops.push(self.operand(out, ty, ndim));
        let total = self.product(&counts);
        self.map_write(m, &counts, &ops, total, dtype, site)?;
        self.release_inputs(m, &ins, &owned);
        Ok(out)
    }

    fn product(&mut self, counts: &[Value]) -> Value {
        let mut total = self.iconst(1);
        for &c in counts {
            total = self.b.ins().imul(total, c);
        }
        total
    }

    /// All of a map's elements written to the last operand: on the worker pool when there
    /// are enough of them, else on this thread.
    fn map_write(
        &mut self,
        m: &ir::ArrayMap,
        counts: &[Value],
        ops: &[Operand],
        total: Value,
        dtype: DType,
        site: ir::SiteId,
    ) -> Result<(), String> {
        let zero = self.iconst(0);
        let Some(fid) = self
            .map_fns
            .get(&(m as *const ir::ArrayMap as usize))
            .copied()
        else {
            return self.map_loop(m, counts, ops, zero, total, dtype);
        };
        let join = self.b.create_block();
        let (par_b, ser_b) = self.branch_on_size(m, total);
        self.b.switch_to_block(par_b);
        self.run_par_map(fid, counts, ops, total, ParResult::Nothing, site);
        self.jump(join, &[]);
        self.b.switch_to_block(ser_b);
        self.map_loop(m, counts, ops, zero, total, dtype)?;
        self.jump(join, &[]);
        self.b.switch_to_block(join);
        Ok(())
    }

    /// The loop writing a map's elements `lo..hi` to the last operand (of `dtype`),
    /// two lanes at a time where the body allows it.
    fn map_loop(
        &mut self,
        m: &ir::ArrayMap,
        counts: &[Value],
        ops: &[Operand],
        lo: Value,
        hi: Value,
        dtype: DType,
    ) -> Result<(), String> {
        let nin = m.inputs.len();
        let mut scalar = |g: &mut Self, addrs: &[Value], _: Value| {
            let v = g.map_body(m, ops, addrs)?;
            g.store_elem(dtype, addrs[nin], &v);
            Ok(())
        };
        let mut vector = |g: &mut Self, addrs: &[Value], _: Value| {
            let v = g.map_body_vec(m, addrs)?;
            g.b.ins()
                .store(MemFlagsData::new().with_notrap(), v, addrs[nin], 0);
            Ok(())
        };
        let vec_ok = vectorizable(m) && dtype == DType::F64;
        if vec_ok {
            self.prepare_vector_consts(m);
        }
        self.odometer_vec(
            counts,
            ops,
            lo,
            hi,
            &mut scalar,
            if vec_ok { Some(&mut vector) } else { None },
        )
    }

    /// `dest[...] = map`, through a temporary when an input may share memory with dest.
    fn map_into(&mut self, dest: &Expr, m: &ir::ArrayMap, site: ir::SiteId) -> Result<(), String> {
        let Ty::Array { dtype, ndim: dn } = dest.ty else {
            return Err("map into a non-array".into());
        };
        let ndim = dn as usize;
        let (dv, downed) = self.expr_borrow(dest)?;
        let d = dv[0];
        let (ins, owned) = self.map_operands(m)?;
        let (_, counts) = self.map_shape(ndim, &ins, Some(d), site);
        let mut overlap = self.iconst(0);
        for &a in &ins {
            let o = self.call_rt1("kiln_may_overlap", &[d, a]);
            overlap = self.b.ins().bor(overlap, o);
        }
        let mut total = self.iconst(1);
        for &c in &counts {
            total = self.b.ins().imul(total, c);
        }
        let zero = self.iconst(0);
        let via_tmp = self.b.create_block();
        let direct = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(overlap, via_tmp, &[], direct, &[]);
        // Direct: compute straight into the destination.
        self.b.switch_to_block(direct);
        let mut ops: Vec<Operand> = m
            .inputs
            .iter()
            .zip(&ins)
            .map(|(i, &a)| self.operand(a, &i.ty, ndim))
            .collect();
        ops.push(self.operand(d, &dest.ty, ndim));
        self.map_write(m, &counts, &ops, total, dtype, site)?;
        self.jump(done, &[]);
        // Overlapping: compute into a temporary of the destination's shape, then copy.
        self.b.switch_to_block(via_tmp);
        let shape = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * ndim as u32,
            3,
        ));
        for (k, &c) in counts.iter().enumerate() {
            self.b.ins().stack_store(types::I64, c, shape, 8 * k as i32);
        }
        let sp = self.b.ins().stack_addr(types::I64, shape, 0);
        let dt = self.iconst(dtype as i64);
        let nd = self.iconst(ndim as i64);
        let tmp = self.call_rt1("kiln_reuse_or_new", &[self.ctx, zero, dt, nd, sp]);
        self.check_null(tmp, site);
        let mut ops: Vec<Operand> = m
            .inputs
            .iter()
            .zip(&ins)
            .map(|(i, &a)| self.operand(a, &i.ty, ndim))
            .collect();
        ops.push(self.operand(tmp, &dest.ty, ndim));
        self.map_loop(m, &counts, &ops, zero, total, dtype)?;
        let copy = vec![
            self.operand(tmp, &dest.ty, ndim),
            self.operand(d, &dest.ty, ndim),
        ];
        self.odometer(&counts, &copy, zero, total, &mut |g, addrs, _| {
            let v = g.load_elem(dtype, addrs[0]);
            g.store_elem(dtype, addrs[1], &v);
            Ok(())
        })?;
        self.call_rt("kiln_decref", &[tmp]);
        self.jump(done, &[]);
        self.b.switch_to_block(done);
        self.release_inputs(m, &ins, &owned);
        if downed {
            self.release(&dest.ty, &[d]);
        }
        Ok(())
    }

    /// A reduction over a map without materialising it. Float sums follow NumPy's pairwise
    /// order block by block, so they equal `np.sum` of the materialised array bit for bit.
    fn map_reduce(
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
    fn pairwise_range(
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
            8 * super::support::PW_BLOCK as u32,
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
    fn branch_on_size(
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
    fn threaded_above_threshold(
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
    fn min_max_step(&mut self, op: ir::Reduce, ty: &Ty, acc: Value, x: Value) -> Value {
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
    fn int_reduce_step(&mut self, op: ir::Reduce, acc: Value, x: Value) -> Result<Value, String> {
        use ir::Reduce as R;
        Ok(match op {
            R::Min | R::Max => self.min_max_step(op, &Ty::I64, acc, x),
            R::Prod => self.binary(BinOp::Mul, &Ty::I64, vec![acc], vec![x], 0)?[0],
            _ => self.binary(BinOp::Add, &Ty::I64, vec![acc], vec![x], 0)?[0],
        })
    }

    /// Run an outlined whole-array loop over `0..total` on the worker pool. For a pairwise
    /// sum or an integer reduction, returns the combined value (else a dummy 0).
    fn run_par_map(
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
    fn outlined_map(&mut self, m: &ir::ArrayMap, kind: MapKind) -> Result<(), String> {
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

    /// Word offsets of every variable of the function in a parallel loop's environment,
    /// and the total (the loop's start/step/count per dimension follow the variables).
    fn env_layout(&self) -> (Vec<usize>, usize) {
        let mut offs = Vec::new();
        let mut n = 0;
        for v in &self.func.vars {
            offs.push(n);
            n += clif_types(&v.ty).len();
        }
        (offs, n)
    }

    /// Evaluate a loop's bounds (checking zero steps) and its trip count per dimension.
    fn loop_bounds(
        &mut self,
        ranges: &[ir::Range],
        site: ir::SiteId,
    ) -> Result<Vec<(Value, Value, Value)>, String> {
        let mut out = Vec::new();
        for (start, stop, step, _) in self.range_bounds(ranges, site)? {
            // count = ceil((stop - start) / step), at least 0, for either sign of step.
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
            let count = self.b.ins().select(neg, z, q);
            out.push((start, step, count));
        }
        Ok(out)
    }

    /// A loop nest's bounds, each evaluated once before the nest (as Python evaluates
    /// `range(...)`): (start, stop, step, the step when it is a constant). A step that may be
    /// zero is checked here.
    #[allow(clippy::type_complexity)]
    fn range_bounds(
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

    /// A parallel loop in its parent: pack the environment, call the runtime, combine.
    fn par_for(
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
        let fref = self
            .module
            .declare_func_in_func(self.par_fns[&par.id], self.b.func);
        let faddr = self.b.ins().func_addr(types::I64, fref);
        let envp = self.b.ins().stack_addr(types::I64, env, 0);
        let opsp = self.b.ins().stack_addr(types::I64, ops, 0);
        let tysp = self.b.ins().stack_addr(types::I64, tys, 0);
        let iop = self.b.ins().stack_addr(types::I64, io, 0);
        let nr = self.iconst(nred as i64);
        let rc = self.call_rt1(
            "kiln_par_for",
            &[self.ctx, faddr, envp, total, nr, opsp, tysp, iop],
        );
        self.fail_if(rc, |_| vec![], site);
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

    /// Current value of a variable or global place (numeric; no reference taken).
    fn read_place(&mut self, p: &Place) -> Vals {
        match p {
            Place::Var(v) => self.vars[*v as usize]
                .iter()
                .map(|&x| self.b.use_var(x))
                .collect(),
            Place::Global(g) => {
                let ty = self.prog.globals[*g as usize].ty.clone();
                let base = self.global_addr(*g);
                self.load_flat(&ty, base)
            }
            _ => Vec::new(),
        }
    }

    /// The outlined body of a parallel loop: `fn(ctx, env, lo, hi, red)` runs the
    /// iterations `lo..hi` of the flattened index space.
    fn outlined(&mut self, st: &Stmt) -> Result<(), String> {
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
        let proven = self.versionable(vars, body).unwrap_or_default();
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
    fn chunk_loop(
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

    /// A `for` loop over ranges. A loop (nest) that counts up by constant steps, whose body
    /// indexes arrays with its counters or with values the body does not change, is
    /// versioned: a test before the loop decides whether those indices are in range on every
    /// iteration, and a copy of the loop without their bounds checks runs if so (see
    /// `versioning`).
    fn for_loop(
        &mut self,
        vars: &[Place],
        ranges: &[ir::Range],
        body: &[Stmt],
        site: ir::SiteId,
    ) -> Result<(), String> {
        let bounds = self.range_bounds(ranges, site)?;
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
        Ok(())
    }

    /// The indices of a loop's body that a test before it can prove in range (see
    /// `versioning`); `None` when bounds checks are off or a counter is not a variable.
    fn versionable<'e>(&self, vars: &[Place], body: &'e [Stmt]) -> Option<Vec<ProvenIndex<'e>>> {
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
    fn versioned(
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
    fn in_range_before_loop(
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
    fn header_or_stand_in(&mut self, array: &Expr) -> Value {
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
    fn stand_in_if_null(&mut self, p: Value) -> (Value, Value) {
        let z = self.b.ins().icmp_imm_s(IntCC::Equal, p, 0);
        let stand_in = self.iconst(NULL_STAND_IN.0.as_ptr() as i64);
        (self.b.ins().select(z, stand_in, p), z)
    }

    /// One version of a `for` loop, from the current block to `exit`. A one-range loop with
    /// step 1 whose body has no loops and no calls is emitted twice, and the copy without the
    /// interrupt poll runs when the loop has at most `SHORT_LOOP` iterations: its whole run
    /// then takes bounded time, and the enclosing loop (or the caller's) still polls. In
    /// Mandelbrot's escape loop the poll was a fifth of the instructions of every iteration.
    fn for_loop_copies(
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
    fn loop_body(&mut self, counters: Vec<ir::VarId>, body: &[Stmt]) -> Result<(), String> {
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
    fn for_loop_nest(
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
        self.loop_body(nonneg_counters(vars, ranges, body), body)?;
        self.loops.pop();
        if !self.terminated() {
            self.jump(latches[n - 1], &[]);
        }
        for k in (0..n).rev() {
            self.b.switch_to_block(latches[k]);
            let i = self.b.use_var(counters[k]);
            let i1 = self.b.ins().iadd(i, bounds[k].2);
            self.b.def_var(counters[k], i1);
            if k == n - 1 {
                self.poll_interrupt(site);
            }
            let c = cond(self, k, i1);
            let out = if k == 0 { exit } else { latches[k - 1] };
            self.b.ins().brif(c, tops[k], &[], out, &[]);
        }
        Ok(())
    }

    fn global_addr(&mut self, g: ir::GlobalId) -> Value {
        let addr = self.prog.globals[g as usize].addr as i64;
        self.iconst(addr)
    }

    fn load_flat(&mut self, t: &Ty, base: Value) -> Vals {
        clif_types(t)
            .into_iter()
            .enumerate()
            .map(|(k, ct)| {
                self.b
                    .ins()
                    .load(ct, MemFlagsData::trusted(), base, (8 * k) as i32)
            })
            .collect()
    }

    fn store_flat(&mut self, vals: &[Value], base: Value) {
        for (k, &v) in vals.iter().enumerate() {
            self.b
                .ins()
                .store(MemFlagsData::trusted(), v, base, (8 * k) as i32);
        }
    }

    /// Store an owned value into a place (the place's old value is released).
    fn store(&mut self, place: &Place, v: Vals) -> Result<(), String> {
        match place {
            Place::Var(id) => {
                let ty = self.func.vars[*id as usize].ty.clone();
                let vars = self.vars[*id as usize].clone();
                let old: Vals = vars.iter().map(|&x| self.b.use_var(x)).collect();
                for (var, val) in vars.into_iter().zip(v) {
                    self.b.def_var(var, val);
                }
                self.release(&ty, &old);
            }
            Place::Global(g) => {
                let ty = self.prog.globals[*g as usize].ty.clone();
                let base = self.global_addr(*g);
                let old = self.load_flat(&ty, base);
                self.store_flat(&v, base);
                self.release(&ty, &old);
            }
            Place::Elem { array, index, site } => {
                let (addr, dtype, arr, owned) = self.elem_addr(array, index, *site)?;
                self.store_elem(dtype, addr, &v);
                if owned {
                    self.release(&array.ty, &[arr]);
                }
            }
            Place::Tuple(items) => {
                let mut k = 0;
                for p in items {
                    let n = clif_types(&self.place_ty(p)).len();
                    self.store(p, v[k..k + n].to_vec())?;
                    k += n;
                }
            }
        }
        Ok(())
    }

    fn place_ty(&self, p: &Place) -> Ty {
        match p {
            Place::Var(v) => self.func.vars[*v as usize].ty.clone(),
            Place::Global(g) => self.prog.globals[*g as usize].ty.clone(),
            Place::Elem { array, .. } => match array.ty {
                Ty::Array { dtype, .. } => Ty::from_dtype(dtype),
                _ => Ty::None,
            },
            Place::Tuple(items) => Ty::tuple(items.iter().map(|p| self.place_ty(p)).collect()),
        }
    }

    fn store_elem(&mut self, dtype: DType, addr: Value, v: &[Value]) {
        let f = MemFlagsData::trusted();
        self.b.ins().store(f, v[0], addr, 0);
        if dtype == DType::C128 {
            self.b.ins().store(f, v[1], addr, 8);
        }
    }

    fn load_elem(&mut self, dtype: DType, addr: Value) -> Vals {
        let f = MemFlagsData::trusted();
        match dtype {
            DType::Bool => vec![self.b.ins().load(types::I8, f, addr, 0)],
            DType::I64 => vec![self.b.ins().load(types::I64, f, addr, 0)],
            DType::F64 => vec![self.b.ins().load(types::F64, f, addr, 0)],
            DType::F32 => vec![self.b.ins().load(types::F32, f, addr, 0)],
            DType::C128 => vec![
                self.b.ins().load(types::F64, f, addr, 0),
                self.b.ins().load(types::F64, f, addr, 8),
            ],
        }
    }

    /// Address of `array[index...]`, bounds-checked (negative indices count from the end).
    /// Returns the address, the dtype, the array pointer and whether it is owned.
    fn elem_addr(
        &mut self,
        array: &Expr,
        index: &[Expr],
        site: ir::SiteId,
    ) -> Result<(Value, DType, Value, bool), String> {
        let Ty::Array { dtype, .. } = array.ty else {
            return Err("indexing a non-array".into());
        };
        let (av, owned) = self.expr_borrow(array)?;
        let arr = av[0];
        let mut idx = Vec::new();
        for e in index {
            idx.push(self.expr(e)?[0]);
        }
        let mut off: Option<Value> = None;
        for (k, &i) in idx.iter().enumerate() {
            let e = &index[k];
            // An index the test before a versioned loop proved in range needs no check.
            let i = if self.bounds && !self.proven.contains(&(e as *const Expr)) {
                let n = self.b.ins().load(
                    types::I64,
                    header_flags(),
                    arr,
                    ARRAY_SHAPE_OFFSET + 8 * k as i32,
                );
                // A counter of a `range` that starts at 0 or later and counts up is never
                // negative: one unsigned compare checks it.
                let counter = matches!(e.kind, ExprKind::Var(v) if self.nonneg.contains(&v));
                let i2 = if counter {
                    i
                } else {
                    let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, i, 0);
                    let wrapped = self.b.ins().iadd(i, n);
                    self.b.ins().select(neg, wrapped, i)
                };
                let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i2, n);
                let orig = i;
                self.fail_if(
                    oob,
                    |g| {
                        let axis = g.iconst(k as i64);
                        g.call_rt("kiln_index_error", &[g.ctx, orig, axis, n])
                    },
                    site,
                );
                i2
            } else {
                i
            };
            let stride = self.b.ins().load(
                types::I64,
                header_flags(),
                arr,
                ARRAY_STRIDES_OFFSET + 8 * k as i32,
            );
            let term = self.b.ins().imul(i, stride);
            off = Some(match off {
                None => term,
                Some(o) => self.b.ins().iadd(o, term),
            });
        }
        let data = self
            .b
            .ins()
            .load(types::I64, header_flags(), arr, ARRAY_DATA_OFFSET);
        let off = off.unwrap_or_else(|| self.iconst(0));
        let bytes = self.b.ins().imul_imm_s(off, dtype.size() as i64);
        let addr = self.b.ins().iadd(data, bytes);
        Ok((addr, dtype, arr, owned))
    }

    // ----- expressions ---------------------------------------------------------------------

    /// Evaluate, borrowing variables' heap references instead of taking new ones. The bool
    /// says whether the caller owns (and must release) the result.
    fn expr_borrow(&mut self, e: &Expr) -> Result<(Vals, bool), String> {
        if e.ty.has_heap() {
            match e.kind {
                ExprKind::Var(v) => return Ok((self.read_var(v), false)),
                ExprKind::Global(g) => return Ok((self.read_global(g), false)),
                _ => {}
            }
        }
        Ok((self.expr(e)?, true))
    }

    fn read_var(&mut self, v: ir::VarId) -> Vals {
        let vals: Vals = self.vars[v as usize]
            .iter()
            .map(|&x| self.b.use_var(x))
            .collect();
        let ty = &self.func.vars[v as usize].ty;
        if ty.is_heap() && !self.func.params.contains(&v) && !self.defined_vars.contains(&v) {
            let name = self.func.vars[v as usize].name.clone();
            let z = self.b.ins().icmp_imm_s(IntCC::Equal, vals[0], 0);
            let site = self.func.entry_site;
            self.fail_if(
                z,
                |g| {
                    g.raise_msg(
                        ErrorKind::NameError,
                        &format!("local variable '{name}' referenced before assignment"),
                    )
                },
                site,
            );
        }
        vals
    }

    fn read_global(&mut self, gid: ir::GlobalId) -> Vals {
        let g = self.prog.globals[gid as usize].clone();
        let (vals, undefined) = match self.frozen.get(&gid) {
            Some(f) => (f.vals.clone(), f.undefined),
            None => {
                let base = self.global_addr(gid);
                let vals = self.load_flat(&g.ty, base);
                let undefined =
                    g.ty.is_heap()
                        .then(|| self.b.ins().icmp_imm_s(IntCC::Equal, vals[0], 0));
                (vals, undefined)
            }
        };
        if let Some(z) = undefined.filter(|_| !self.defined_globals.contains(&gid)) {
            let site = self.func.entry_site;
            self.fail_if(
                z,
                |gg| {
                    gg.raise_msg(
                        ErrorKind::NameError,
                        &format!("name '{}' is not defined", g.name),
                    )
                },
                site,
            );
        }
        vals
    }

    fn expr(&mut self, e: &Expr) -> Result<Vals, String> {
        Ok(match &e.kind {
            ExprKind::None => vec![],
            ExprKind::Bool(b) => vec![self.b.ins().iconst(types::I8, *b as i64)],
            ExprKind::Int(v) => vec![self.iconst(*v)],
            ExprKind::Float(v) => vec![match self.fconsts.get(&(v.to_bits(), e.ty == Ty::F32)) {
                Some(&c) => c,
                None => self.float_const(*v, e.ty == Ty::F32),
            }],
            ExprKind::Complex(re, im) => {
                vec![self.b.ins().f64const(*re), self.b.ins().f64const(*im)]
            }
            ExprKind::Str(s) => {
                let (p, n) = self.static_bytes(s);
                vec![self.call_rt1("kiln_str_new", &[p, n])]
            }
            ExprKind::Var(v) => {
                let vals = self.read_var(*v);
                self.incref(&e.ty, &vals);
                vals
            }
            ExprKind::Global(g) => {
                let vals = self.read_global(*g);
                self.incref(&e.ty, &vals);
                vals
            }
            ExprKind::Cast(x) => {
                let v = self.expr(x)?;
                self.cast(&x.ty, &e.ty, v)?
            }
            ExprKind::Unary(op, x) => {
                let v = self.expr(x)?;
                self.unary(*op, &x.ty, v)?
            }
            ExprKind::Binary(op, a, b, site) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                self.binary(*op, &a.ty, x, y, *site)?
            }
            ExprKind::Compare(op, a, b) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                vec![self.compare(*op, &a.ty, &x, &y)?]
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let x = self.expr(a)?;
                let t = self.truth(&a.ty, &x)?;
                let rhs = self.b.create_block();
                let join = self.b.create_block();
                let cts = clif_types(&e.ty);
                for &c in &cts {
                    self.b.append_block_param(join, c);
                }
                let xa: Vec<BlockArg> = x.iter().map(|&v| BlockArg::Value(v)).collect();
                if is_and {
                    self.b.ins().brif(t, rhs, &[], join, &xa);
                } else {
                    self.b.ins().brif(t, join, &xa, rhs, &[]);
                }
                self.b.switch_to_block(rhs);
                let y = self.expr(b)?;
                self.jump(join, &y);
                self.b.switch_to_block(join);
                self.b.block_params(join).to_vec()
            }
            ExprKind::Let(v, x, body) => {
                let val = self.expr(x)?;
                self.store(&Place::Var(*v), val)?;
                self.expr(body)?
            }
            ExprKind::Select(c, a, b) => {
                let cv = self.expr(c)?[0];
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                let join = self.b.create_block();
                for ct in clif_types(&e.ty) {
                    self.b.append_block_param(join, ct);
                }
                self.b.ins().brif(cv, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                let x = self.expr(a)?;
                self.jump(join, &x);
                self.b.switch_to_block(eb);
                let y = self.expr(b)?;
                self.jump(join, &y);
                self.b.switch_to_block(join);
                self.b.block_params(join).to_vec()
            }
            ExprKind::Call { func, args, site } => {
                let mut flat = vec![self.ctx];
                let mut temps = Vec::new();
                for a in args {
                    let (v, owned) = self.expr_borrow(a)?;
                    flat.extend(&v);
                    if owned && a.ty.has_heap() {
                        temps.push((a.ty.clone(), v));
                    }
                }
                let (fid, _) = &self.ids[*func as usize];
                let fref = self.module.declare_func_in_func(*fid, self.b.func);
                let inst = self.b.ins().call(fref, &flat);
                let rets = self.b.inst_results(inst).to_vec();
                for (t, v) in temps {
                    self.release(&t, &v);
                }
                self.check_err(*site);
                rets
            }
            ExprKind::Builtin { op, args, site } => self.builtin(op, args, &e.ty, *site)?,
            ExprKind::Index { array, index, site } => {
                let (addr, dtype, arr, owned) = self.elem_addr(array, index, *site)?;
                let v = self.load_elem(dtype, addr);
                if owned {
                    self.release(&array.ty, &[arr]);
                }
                v
            }
            ExprKind::Tuple(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.extend(self.expr(i)?);
                }
                out
            }
            ExprKind::Map(m, site) => vec![self.map_new(m, &e.ty, None, *site)?],
            ExprKind::MapReduce(m, op, site) => self.map_reduce(m, *op, &e.ty, *site)?,
            ExprKind::Elem(k) => self
                .map_elems
                .get(*k as usize)
                .cloned()
                .ok_or("Elem outside a map")?,
            ExprKind::MapScalar(k) => self
                .map_scalars
                .get(*k as usize)
                .cloned()
                .ok_or("MapScalar outside a map")?,
            ExprKind::TupleGet(t, k) => {
                let Ty::Tuple(items) = &t.ty else {
                    return Err("TupleGet of a non-tuple".into());
                };
                let (vals, owned) = self.expr_borrow(t)?;
                let mut start = 0;
                for it in &items[..*k as usize] {
                    start += clif_types(it).len();
                }
                let item_ty = &items[*k as usize];
                let n = clif_types(item_ty).len();
                let picked = vals[start..start + n].to_vec();
                if owned {
                    // Release every other item of the temporary tuple.
                    let mut pos = 0;
                    for (j, it) in items.iter().enumerate() {
                        let m = clif_types(it).len();
                        if j != *k as usize {
                            self.release(it, &vals[pos..pos + m]);
                        }
                        pos += m;
                    }
                } else {
                    self.incref(item_ty, &picked);
                }
                picked
            }
        })
    }

    fn truth(&mut self, t: &Ty, v: &[Value]) -> Result<Value, String> {
        Ok(match t {
            Ty::Bool => v[0],
            Ty::I64 => self.b.ins().icmp_imm_s(IntCC::NotEqual, v[0], 0),
            Ty::F64 | Ty::F32 => {
                let z = self.zero(clif_types(t)[0]);
                self.b.ins().fcmp(FloatCC::NotEqual, v[0], z)
            }
            Ty::C128 => {
                let z = self.b.ins().f64const(0.0);
                let a = self.b.ins().fcmp(FloatCC::NotEqual, v[0], z);
                let b = self.b.ins().fcmp(FloatCC::NotEqual, v[1], z);
                self.b.ins().bor(a, b)
            }
            t => return Err(format!("truth value of a {t} in codegen")),
        })
    }

    fn cast(&mut self, from: &Ty, to: &Ty, v: Vals) -> Result<Vals, String> {
        use types::{F32, F64, I64};
        let x = v.first().copied();
        Ok(match (from, to) {
            (a, b) if a == b => v,
            (Ty::Bool, Ty::I64) => vec![self.b.ins().uextend(I64, x.unwrap())],
            (Ty::Bool, Ty::F64) => vec![self.b.ins().fcvt_from_uint(F64, x.unwrap())],
            (Ty::Bool, Ty::F32) => vec![self.b.ins().fcvt_from_uint(F32, x.unwrap())],
            (Ty::I64, Ty::F64) => vec![self.b.ins().fcvt_from_sint(F64, x.unwrap())],
            (Ty::I64, Ty::F32) => vec![self.b.ins().fcvt_from_sint(F32, x.unwrap())],
            (Ty::F64, Ty::I64) | (Ty::F32, Ty::I64) => {
                vec![self.b.ins().fcvt_to_sint_sat(I64, x.unwrap())]
            }
            (Ty::F32, Ty::F64) => vec![self.b.ins().fpromote(F64, x.unwrap())],
            (Ty::F64, Ty::F32) => vec![self.b.ins().fdemote(F32, x.unwrap())],
            (Ty::I64 | Ty::F64 | Ty::F32, Ty::Bool) => vec![self.truth(from, &v)?],
            (Ty::Bool | Ty::I64 | Ty::F32 | Ty::F64, Ty::C128) => {
                let re = self.cast(from, &Ty::F64, v)?[0];
                let im = self.b.ins().f64const(0.0);
                vec![re, im]
            }
            (Ty::C128, Ty::Bool) => vec![self.truth(from, &v)?],
            (f, t) => return Err(format!("no conversion from {f} to {t}")),
        })
    }

    fn unary(&mut self, op: UnOp, t: &Ty, v: Vals) -> Result<Vals, String> {
        Ok(match (op, t) {
            (UnOp::Neg, Ty::I64) => vec![self.b.ins().ineg(v[0])],
            (UnOp::Neg, Ty::F64 | Ty::F32) => vec![self.b.ins().fneg(v[0])],
            (UnOp::Neg, Ty::C128) => vec![self.b.ins().fneg(v[0]), self.b.ins().fneg(v[1])],
            (UnOp::Not, Ty::Bool) | (UnOp::Invert, Ty::Bool) => {
                vec![self.b.ins().bxor_imm_s(v[0], 1)]
            }
            (UnOp::Invert, Ty::I64) => vec![self.b.ins().bnot(v[0])],
            (op, t) => return Err(format!("unary {op:?} on {t}")),
        })
    }

    fn f64_call(&mut self, name: &'static str, t: &Ty, args: &[Value]) -> Value {
        if *t == Ty::F32 {
            let wide: Vec<Value> = args
                .iter()
                .map(|&a| self.b.ins().fpromote(types::F64, a))
                .collect();
            let r = self.call_rt1(name, &wide);
            self.b.ins().fdemote(types::F32, r)
        } else {
            self.call_rt1(name, args)
        }
    }

    /// A complex runtime function writing its result through a pointer.
    fn complex_call(&mut self, name: &'static str, args: &[Value]) -> Vals {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 3));
        let p = self.b.ins().stack_addr(types::I64, slot, 0);
        let mut a = args.to_vec();
        a.push(p);
        self.call_rt(name, &a);
        let re = self.b.ins().stack_load(types::I64, types::F64, slot, 0);
        let im = self.b.ins().stack_load(types::I64, types::F64, slot, 8);
        vec![re, im]
    }

    /// `2*x` as `x + x`: the same bits (doubling is exact both ways, NaN and inf included),
    /// but on recent Intel cores an add has half a multiply's latency (Golden Cove: 2 against
    /// 4 cycles), and it sits on the critical path of loops like Mandelbrot's
    /// `2.0 * zr * zi` (measured: ~15 % of that loop).
    fn fmul_or_double(&mut self, a: Value, b: Value) -> Value {
        if self.is_const_two(a) {
            self.b.ins().fadd(b, b)
        } else if self.is_const_two(b) {
            self.b.ins().fadd(a, a)
        } else {
            self.b.ins().fmul(a, b)
        }
    }

    /// Whether `v` is the float constant 2.0 (scalar or splatted), however it was made.
    fn is_const_two(&self, v: Value) -> bool {
        let two = 2.0f64.to_bits();
        if self
            .fconsts
            .iter()
            .any(|(&(bits, _), &c)| c == v && bits == two)
            || self.map_vconsts.get(&two) == Some(&v)
        {
            return true;
        }
        let dfg = &self.b.func.dfg;
        let cranelift_codegen::ir::ValueDef::Result(inst, _) = dfg.value_def(v) else {
            return false;
        };
        match dfg.insts[inst] {
            InstructionData::UnaryIeee64 { imm, .. } => f64::from_bits(imm.bits()) == 2.0,
            InstructionData::UnaryIeee32 { imm, .. } => f32::from_bits(imm.bits()) == 2.0,
            InstructionData::Unary {
                opcode: Opcode::Splat,
                arg,
            } => self.is_const_two(arg),
            _ => false,
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        t: &Ty,
        x: Vals,
        y: Vals,
        site: ir::SiteId,
    ) -> Result<Vals, String> {
        let (a, b) = (x[0], y[0]);
        Ok(match t {
            Ty::I64 => vec![match op {
                BinOp::Add => self.b.ins().iadd(a, b),
                BinOp::Sub => self.b.ins().isub(a, b),
                BinOp::Mul => self.b.ins().imul(a, b),
                BinOp::FloorDiv | BinOp::Mod => self.int_divmod(op, a, b, site),
                BinOp::Pow => {
                    let r = self.call_rt1("kiln_pow_i64", &[self.ctx, a, b]);
                    self.check_err(site);
                    r
                }
                BinOp::BitAnd => self.b.ins().band(a, b),
                BinOp::BitOr => self.b.ins().bor(a, b),
                BinOp::BitXor => self.b.ins().bxor(a, b),
                BinOp::Shl => self.b.ins().ishl(a, b),
                BinOp::Shr => self.b.ins().sshr(a, b),
                BinOp::Div => return Err("integer true division reached codegen".into()),
            }],
            Ty::Bool => vec![match op {
                BinOp::BitAnd => self.b.ins().band(a, b),
                BinOp::BitOr => self.b.ins().bor(a, b),
                BinOp::BitXor => self.b.ins().bxor(a, b),
                _ => return Err(format!("bool {op:?} reached codegen")),
            }],
            Ty::F64 | Ty::F32 => vec![match op {
                BinOp::Add => self.b.ins().fadd(a, b),
                BinOp::Sub => self.b.ins().fsub(a, b),
                BinOp::Mul => self.fmul_or_double(a, b),
                BinOp::Div => self.b.ins().fdiv(a, b),
                BinOp::FloorDiv => {
                    // NumPy: x // 0.0 is ±inf or nan, like x / 0.0.
                    let r = self.f64_call("kiln_m_py_floordiv", t, &[a, b]);
                    let z = self.zero(clif_types(t)[0]);
                    let is0 = self.b.ins().fcmp(FloatCC::Equal, b, z);
                    let q = self.b.ins().fdiv(a, b);
                    self.b.ins().select(is0, q, r)
                }
                BinOp::Mod => self.f64_call("kiln_m_py_fmod", t, &[a, b]),
                BinOp::Pow => self.f64_call("kiln_m_pow", t, &[a, b]),
                _ => return Err(format!("float {op:?} reached codegen")),
            }],
            Ty::C128 => {
                let (ar, ai, br, bi) = (x[0], x[1], y[0], y[1]);
                match op {
                    BinOp::Add => vec![self.b.ins().fadd(ar, br), self.b.ins().fadd(ai, bi)],
                    BinOp::Sub => vec![self.b.ins().fsub(ar, br), self.b.ins().fsub(ai, bi)],
                    BinOp::Mul => {
                        let rr = self.b.ins().fmul(ar, br);
                        let ii = self.b.ins().fmul(ai, bi);
                        let ri = self.b.ins().fmul(ar, bi);
                        let ir = self.b.ins().fmul(ai, br);
                        vec![self.b.ins().fsub(rr, ii), self.b.ins().fadd(ri, ir)]
                    }
                    BinOp::Div => self.complex_call("kiln_c_div", &[ar, ai, br, bi]),
                    BinOp::Pow => self.complex_call("kiln_c_pow", &[ar, ai, br, bi]),
                    _ => return Err(format!("complex {op:?} reached codegen")),
                }
            }
            t => return Err(format!("{op:?} on {t} reached codegen")),
        })
    }

    /// Python's `//` and `%` on i64: floor semantics, ZeroDivisionError, and no trap on
    /// `i64::MIN // -1` (it wraps, as NumPy does).
    fn int_divmod(&mut self, op: BinOp, a: Value, b: Value, site: ir::SiteId) -> Value {
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        let msg = if op == BinOp::Mod {
            "integer modulo by zero"
        } else {
            "integer division or modulo by zero"
        };
        self.fail_if(
            zero,
            |g| g.raise_msg(ErrorKind::ZeroDivisionError, msg),
            site,
        );
        let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
        let one = self.iconst(1);
        let b1 = self.b.ins().select(m1, one, b);
        let q = self.b.ins().sdiv(a, b1);
        let r = self.b.ins().srem(a, b1);
        let na = self.b.ins().ineg(a);
        let z = self.iconst(0);
        let q = self.b.ins().select(m1, na, q);
        let r = self.b.ins().select(m1, z, r);
        let rnz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let x = self.b.ins().bxor(r, b);
        let sneg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
        let adj = self.b.ins().band(rnz, sneg);
        if op == BinOp::FloorDiv {
            let adj64 = self.b.ins().uextend(types::I64, adj);
            self.b.ins().isub(q, adj64)
        } else {
            let rb = self.b.ins().iadd(r, b);
            self.b.ins().select(adj, rb, r)
        }
    }

    fn compare(&mut self, op: CmpOp, t: &Ty, x: &[Value], y: &[Value]) -> Result<Value, String> {
        Ok(match t {
            Ty::I64 | Ty::Bool => {
                let signed = *t == Ty::I64;
                let cc = match op {
                    CmpOp::Eq => IntCC::Equal,
                    CmpOp::Ne => IntCC::NotEqual,
                    CmpOp::Lt if signed => IntCC::SignedLessThan,
                    CmpOp::Le if signed => IntCC::SignedLessThanOrEqual,
                    CmpOp::Gt if signed => IntCC::SignedGreaterThan,
                    CmpOp::Ge if signed => IntCC::SignedGreaterThanOrEqual,
                    CmpOp::Lt => IntCC::UnsignedLessThan,
                    CmpOp::Le => IntCC::UnsignedLessThanOrEqual,
                    CmpOp::Gt => IntCC::UnsignedGreaterThan,
                    CmpOp::Ge => IntCC::UnsignedGreaterThanOrEqual,
                };
                self.b.ins().icmp(cc, x[0], y[0])
            }
            Ty::F64 | Ty::F32 => {
                let cc = match op {
                    CmpOp::Eq => FloatCC::Equal,
                    CmpOp::Ne => FloatCC::NotEqual,
                    CmpOp::Lt => FloatCC::LessThan,
                    CmpOp::Le => FloatCC::LessThanOrEqual,
                    CmpOp::Gt => FloatCC::GreaterThan,
                    CmpOp::Ge => FloatCC::GreaterThanOrEqual,
                };
                self.b.ins().fcmp(cc, x[0], y[0])
            }
            Ty::C128 => {
                let cc = if op == CmpOp::Eq {
                    FloatCC::Equal
                } else {
                    FloatCC::NotEqual
                };
                let a = self.b.ins().fcmp(cc, x[0], y[0]);
                let b = self.b.ins().fcmp(cc, x[1], y[1]);
                if op == CmpOp::Eq {
                    self.b.ins().band(a, b)
                } else {
                    self.b.ins().bor(a, b)
                }
            }
            t => return Err(format!("comparison of {t} reached codegen")),
        })
    }

    /// The text of a value: `str(v)`, `format(v, spec)` or `repr(v)` as a new string.
    fn format_expr(
        &mut self,
        e: &Expr,
        spec: &str,
        repr: bool,
        site: ir::SiteId,
    ) -> Result<Value, String> {
        let (v, owned) = self.expr_borrow(e)?;
        let s = self.format_vals(&e.ty, &v, spec, repr, site)?;
        if owned {
            self.release(&e.ty, &v);
        }
        Ok(s)
    }

    fn format_vals(
        &mut self,
        t: &Ty,
        v: &[Value],
        spec: &str,
        repr: bool,
        site: ir::SiteId,
    ) -> Result<Value, String> {
        let (sp, sn) = self.static_bytes(spec);
        let ctx = self.ctx;
        let s = match t {
            Ty::None => {
                let (p, n) = self.static_bytes("None");
                return Ok(self.call_rt1("kiln_str_new", &[p, n]));
            }
            Ty::I64 => self.call_rt1("kiln_fmt_i64", &[ctx, v[0], sp, sn]),
            Ty::Bool => {
                let w = self.b.ins().uextend(types::I64, v[0]);
                self.call_rt1("kiln_fmt_bool", &[ctx, w, sp, sn])
            }
            Ty::F64 => self.call_rt1("kiln_fmt_f64", &[ctx, v[0], sp, sn]),
            Ty::F32 => self.call_rt1("kiln_fmt_f32", &[ctx, v[0], sp, sn]),
            Ty::C128 => self.call_rt1("kiln_fmt_c128", &[ctx, v[0], v[1], sp, sn]),
            Ty::Str if repr => self.call_rt1("kiln_repr_str", &[ctx, v[0]]),
            Ty::Str => self.call_rt1("kiln_fmt_str", &[ctx, v[0], sp, sn]),
            Ty::Array { .. } if repr => self.call_rt1("kiln_repr_array", &[ctx, v[0]]),
            Ty::Array { .. } => self.call_rt1("kiln_fmt_array", &[ctx, v[0], sp, sn]),
            Ty::Tuple(items) => {
                // Python: items by repr, "(a, b)", and "(a,)" for one item.
                let (p, n) = self.static_bytes("(");
                let mut acc = self.call_rt1("kiln_str_new", &[p, n]);
                let mut pos = 0;
                for (k, it) in items.iter().enumerate() {
                    let m = clif_types(it).len();
                    let piece = self.format_vals(it, &v[pos..pos + m], "", true, site)?;
                    pos += m;
                    acc = self.concat_owned(acc, piece, site);
                    let sep = if k + 1 < items.len() {
                        ", "
                    } else if items.len() == 1 {
                        ",)"
                    } else {
                        ")"
                    };
                    let (p, n) = self.static_bytes(sep);
                    let s = self.call_rt1("kiln_str_new", &[p, n]);
                    acc = self.concat_owned(acc, s, site);
                }
                if items.is_empty() {
                    let (p, n) = self.static_bytes(")");
                    let s = self.call_rt1("kiln_str_new", &[p, n]);
                    acc = self.concat_owned(acc, s, site);
                }
                return Ok(acc);
            }
        };
        self.check_null(s, site);
        Ok(s)
    }

    fn concat_owned(&mut self, a: Value, b: Value, site: ir::SiteId) -> Value {
        let r = self.call_rt1("kiln_str_concat", &[self.ctx, a, b]);
        self.call_rt("kiln_decref", &[a]);
        self.call_rt("kiln_decref", &[b]);
        self.check_null(r, site);
        r
    }

    /// A shape tuple (i64 values) written to a stack slot for the runtime.
    fn shape_slot(&mut self, dims: &[Value]) -> Value {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * dims.len().max(1) as u32,
            3,
        ));
        for (k, &d) in dims.iter().enumerate() {
            self.b.ins().stack_store(types::I64, d, slot, 8 * k as i32);
        }
        self.b.ins().stack_addr(types::I64, slot, 0)
    }

    fn builtin(
        &mut self,
        op: &Builtin,
        args: &[Expr],
        ty: &Ty,
        site: ir::SiteId,
    ) -> Result<Vals, String> {
        // Borrowed arguments; owned temporaries are released after the operation.
        let mut vals = Vec::new();
        let mut temps = Vec::new();
        for a in args {
            let (v, owned) = self.expr_borrow(a)?;
            if owned && a.ty.has_heap() {
                temps.push((a.ty.clone(), v.clone()));
            }
            vals.push(v);
        }
        let arg_ty = args.first().map(|a| a.ty.clone()).unwrap_or(Ty::None);
        let ctx = self.ctx;
        let out: Vals = match op {
            Builtin::Math(m) | Builtin::MathChecked(m) => {
                let checked = matches!(op, Builtin::MathChecked(_));
                let x = vals[0].clone();
                if arg_ty == Ty::C128 {
                    let name = match m {
                        MathFn::Sqrt => "kiln_c_sqrt",
                        MathFn::Exp => "kiln_c_exp",
                        MathFn::Log => "kiln_c_log",
                        MathFn::Sin => "kiln_c_sin",
                        MathFn::Cos => "kiln_c_cos",
                        MathFn::Tanh => "kiln_c_tanh",
                        other => {
                            return Err(format!(
                                "{} of a complex number is not supported",
                                other.name()
                            ))
                        }
                    };
                    self.complex_call(name, &x)
                } else {
                    let r = match m {
                        MathFn::Sqrt => self.b.ins().sqrt(x[0]),
                        MathFn::Floor => self.b.ins().floor(x[0]),
                        MathFn::Ceil => self.b.ins().ceil(x[0]),
                        MathFn::Trunc => self.b.ins().trunc(x[0]),
                        MathFn::Rint => self.b.ins().nearest(x[0]),
                        MathFn::Exp => self.f64_call("kiln_m_exp", &arg_ty, &x),
                        MathFn::Log => self.f64_call("kiln_m_log", &arg_ty, &x),
                        MathFn::Log2 => self.f64_call("kiln_m_log2", &arg_ty, &x),
                        MathFn::Log10 => self.f64_call("kiln_m_log10", &arg_ty, &x),
                        MathFn::Sin => self.f64_call("kiln_m_sin", &arg_ty, &x),
                        MathFn::Cos => self.f64_call("kiln_m_cos", &arg_ty, &x),
                        MathFn::Tan => self.f64_call("kiln_m_tan", &arg_ty, &x),
                        MathFn::Arcsin => self.f64_call("kiln_m_arcsin", &arg_ty, &x),
                        MathFn::Arccos => self.f64_call("kiln_m_arccos", &arg_ty, &x),
                        MathFn::Arctan => self.f64_call("kiln_m_arctan", &arg_ty, &x),
                        MathFn::Sinh => self.f64_call("kiln_m_sinh", &arg_ty, &x),
                        MathFn::Cosh => self.f64_call("kiln_m_cosh", &arg_ty, &x),
                        MathFn::Tanh => self.f64_call("kiln_m_tanh", &arg_ty, &x),
                    };
                    if checked {
                        // Python's math raises where NumPy returns nan (or -inf for log(0)).
                        let rnan = self.b.ins().fcmp(FloatCC::Unordered, r, r);
                        let xok = self.b.ins().fcmp(FloatCC::Ordered, x[0], x[0]);
                        let mut bad = self.b.ins().band(rnan, xok);
                        if matches!(m, MathFn::Log | MathFn::Log2 | MathFn::Log10) {
                            let z = self.zero(clif_types(&arg_ty)[0]);
                            let is0 = self.b.ins().fcmp(FloatCC::Equal, x[0], z);
                            bad = self.b.ins().bor(bad, is0);
                        }
                        self.fail_if(
                            bad,
                            |g| g.raise_msg(ErrorKind::ValueError, "math domain error"),
                            site,
                        );
                    }
                    vec![r]
                }
            }
            Builtin::Abs => match arg_ty {
                Ty::I64 => {
                    let x = vals[0][0];
                    let n = self.b.ins().ineg(x);
                    let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                    vec![self.b.ins().select(neg, n, x)]
                }
                Ty::F64 | Ty::F32 => vec![self.b.ins().fabs(vals[0][0])],
                Ty::C128 => vec![self.call_rt1("kiln_c_abs", &vals[0])],
                ref t => return Err(format!("abs of {t}")),
            },
            Builtin::Min | Builtin::Max => {
                let (a, b) = (vals[0][0], vals[1][0]);
                let is_min = *op == Builtin::Min;
                // Python: min(a, b) is b only if b < a (the first of equals wins).
                let c = match arg_ty {
                    Ty::F64 | Ty::F32 => self.b.ins().fcmp(
                        if is_min {
                            FloatCC::LessThan
                        } else {
                            FloatCC::GreaterThan
                        },
                        b,
                        a,
                    ),
                    Ty::I64 => self.b.ins().icmp(
                        if is_min {
                            IntCC::SignedLessThan
                        } else {
                            IntCC::SignedGreaterThan
                        },
                        b,
                        a,
                    ),
                    _ => self.b.ins().icmp(
                        if is_min {
                            IntCC::UnsignedLessThan
                        } else {
                            IntCC::UnsignedGreaterThan
                        },
                        b,
                        a,
                    ),
                };
                vec![self.b.ins().select(c, b, a)]
            }
            Builtin::RoundInt => {
                let r = self.b.ins().nearest(vals[0][0]);
                vec![self.b.ins().fcvt_to_sint_sat(types::I64, r)]
            }
            Builtin::FloorInt | Builtin::CeilInt => {
                let r = if *op == Builtin::FloorInt {
                    self.b.ins().floor(vals[0][0])
                } else {
                    self.b.ins().ceil(vals[0][0])
                };
                vec![self.b.ins().fcvt_to_sint_sat(types::I64, r)]
            }
            Builtin::RoundN => vec![self.call_rt1("kiln_m_round_n", &[vals[0][0], vals[1][0]])],
            Builtin::RoundIntN => vec![self.call_rt1("kiln_round_int", &[vals[0][0], vals[1][0]])],
            Builtin::NpRoundN => {
                vec![self.call_rt1("kiln_m_np_round_n", &[vals[0][0], vals[1][0]])]
            }
            Builtin::Atan2 => {
                vec![self.f64_call("kiln_m_arctan2", &arg_ty, &[vals[0][0], vals[1][0]])]
            }
            Builtin::Hypot => {
                vec![self.f64_call("kiln_m_hypot", &arg_ty, &[vals[0][0], vals[1][0]])]
            }
            Builtin::Real => vec![vals[0][0]],
            Builtin::Imag => vec![vals[0][1]],
            Builtin::Conj => vec![vals[0][0], self.b.ins().fneg(vals[0][1])],
            Builtin::Angle => vec![self.call_rt1("kiln_m_arctan2", &[vals[0][1], vals[0][0]])],
            Builtin::IsNan => {
                let x = vals[0][0];
                vec![self.b.ins().fcmp(FloatCC::Unordered, x, x)]
            }
            Builtin::IsInf => {
                let x = vals[0][0];
                let a = self.b.ins().fabs(x);
                let inf = if arg_ty == Ty::F32 {
                    self.b.ins().f32const(f32::INFINITY)
                } else {
                    self.b.ins().f64const(f64::INFINITY)
                };
                vec![self.b.ins().fcmp(FloatCC::Equal, a, inf)]
            }
            Builtin::Sign => {
                let x = vals[0][0];
                match arg_ty {
                    Ty::I64 => {
                        let p = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, x, 0);
                        let n = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                        let p = self.b.ins().uextend(types::I64, p);
                        let n = self.b.ins().uextend(types::I64, n);
                        vec![self.b.ins().isub(p, n)]
                    }
                    _ => {
                        let ct = clif_types(&arg_ty)[0];
                        let z = self.zero(ct);
                        let (one, mone) = if ct == types::F32 {
                            (self.b.ins().f32const(1.0), self.b.ins().f32const(-1.0))
                        } else {
                            (self.b.ins().f64const(1.0), self.b.ins().f64const(-1.0))
                        };
                        let p = self.b.ins().fcmp(FloatCC::GreaterThan, x, z);
                        let n = self.b.ins().fcmp(FloatCC::LessThan, x, z);
                        // Zero (of either sign) gives +0.0 and nan stays nan, as in NumPy.
                        let zero_or_nan = self.b.ins().fadd(x, z);
                        let r = self.b.ins().select(n, mone, zero_or_nan);
                        vec![self.b.ins().select(p, one, r)]
                    }
                }
            }
            Builtin::MakeComplex => vec![vals[0][0], vals[1][0]],
            Builtin::Zeros(d) | Builtin::Ones(d) | Builtin::Empty(d) => {
                let fill = match op {
                    Builtin::Zeros(_) => 0,
                    Builtin::Ones(_) => 1,
                    _ => 2,
                };
                let dims = vals[0].clone();
                let shape = self.shape_slot(&dims);
                let dt = self.iconst(*d as i64);
                let nd = self.iconst(dims.len() as i64);
                let f = self.iconst(fill);
                let a = self.call_rt1("kiln_array_new", &[ctx, dt, nd, shape, f]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Full(d) => {
                let dims = vals[0].clone();
                let shape = self.shape_slot(&dims);
                let dt = self.iconst(*d as i64);
                let nd = self.iconst(dims.len() as i64);
                let v = &vals[1];
                let a = match args[1].ty {
                    Ty::C128 => {
                        self.call_rt1("kiln_array_full_c128", &[ctx, dt, nd, shape, v[0], v[1]])
                    }
                    Ty::F64 => self.call_rt1("kiln_array_full_f64", &[ctx, dt, nd, shape, v[0]]),
                    Ty::F32 => {
                        let w = self.b.ins().fpromote(types::F64, v[0]);
                        self.call_rt1("kiln_array_full_f64", &[ctx, dt, nd, shape, w])
                    }
                    Ty::Bool => {
                        let w = self.b.ins().uextend(types::I64, v[0]);
                        self.call_rt1("kiln_array_full_i64", &[ctx, dt, nd, shape, w])
                    }
                    _ => self.call_rt1("kiln_array_full_i64", &[ctx, dt, nd, shape, v[0]]),
                };
                self.check_null(a, site);
                vec![a]
            }
            Builtin::ArangeInt | Builtin::ArangeFloat => {
                let name = if *op == Builtin::ArangeInt {
                    "kiln_arange_i64"
                } else {
                    "kiln_arange_f64"
                };
                let a = self.call_rt1(name, &[ctx, vals[0][0], vals[1][0], vals[2][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Linspace(d) => {
                let dt = self.iconst(*d as i64);
                let a = self.call_rt1(
                    "kiln_linspace",
                    &[ctx, vals[0][0], vals[1][0], vals[2][0], dt],
                );
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Copy => {
                let a = self.call_rt1("kiln_array_copy", &[ctx, vals[0][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Reduce(r) => {
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    16,
                    3,
                ));
                let p = self.b.ins().stack_addr(types::I64, slot, 0);
                let code = self.iconst(*r as i64);
                let rc = self.call_rt1("kiln_array_reduce", &[ctx, vals[0][0], code, p]);
                self.fail_if(rc, |_| vec![], site);
                clif_types(ty)
                    .into_iter()
                    .enumerate()
                    .map(|(k, ct)| self.b.ins().stack_load(types::I64, ct, slot, 8 * k as i32))
                    .collect()
            }
            Builtin::Dim(k) => vec![self.b.ins().load(
                types::I64,
                header_flags(),
                vals[0][0],
                ARRAY_SHAPE_OFFSET + 8 * *k as i32,
            )],
            Builtin::Size => {
                vec![self
                    .b
                    .ins()
                    .load(types::I64, header_flags(), vals[0][0], ARRAY_SIZE_OFFSET)]
            }
            Builtin::Shape => {
                let Ty::Tuple(items) = ty else {
                    return Err("shape of wrong type".into());
                };
                (0..items.len())
                    .map(|k| {
                        self.b.ins().load(
                            types::I64,
                            header_flags(),
                            vals[0][0],
                            ARRAY_SHAPE_OFFSET + 8 * k as i32,
                        )
                    })
                    .collect()
            }
            Builtin::Format { spec, repr } => {
                vec![self.format_vals(&arg_ty, &vals[0], spec, *repr, site)?]
            }
            Builtin::Concat => {
                let r = self.call_rt1("kiln_str_concat", &[ctx, vals[0][0], vals[1][0]]);
                self.check_null(r, site);
                vec![r]
            }
            Builtin::StrLen => vec![self.call_rt1("kiln_str_len", &[vals[0][0]])],
            Builtin::Slice(n) => {
                let flat: Vec<Value> = vals[1..].iter().map(|v| v[0]).collect();
                let specs = self.shape_slot(&flat);
                let nn = self.iconst(*n as i64);
                let a = self.call_rt1("kiln_array_slice", &[ctx, vals[0][0], specs, nn]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Reshape => {
                let dims = vals[1].clone();
                let shape = self.shape_slot(&dims);
                let nd = self.iconst(dims.len() as i64);
                let a = self.call_rt1("kiln_array_reshape", &[ctx, vals[0][0], nd, shape]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Dot => {
                let a = self.call_rt1("kiln_dot", &[ctx, vals[0][0], vals[1][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::DotScalar => {
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    16,
                    3,
                ));
                let p = self.b.ins().stack_addr(types::I64, slot, 0);
                let rc = self.call_rt1("kiln_dot_scalar", &[ctx, vals[0][0], vals[1][0], p]);
                self.fail_if(rc, |_| vec![], site);
                clif_types(ty)
                    .into_iter()
                    .enumerate()
                    .map(|(k, ct)| self.b.ins().stack_load(types::I64, ct, slot, 8 * k as i32))
                    .collect()
            }
            Builtin::AsType(d) => {
                let c = self.iconst(*d as i64);
                let a = self.call_rt1("kiln_array_astype", &[ctx, vals[0][0], c]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::ReduceAxis(code) => {
                let c = self.iconst(*code);
                let a = self.call_rt1("kiln_array_reduce_axis", &[ctx, vals[0][0], c, vals[1][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Transpose | Builtin::Cumsum => {
                let name = if *op == Builtin::Transpose {
                    "kiln_array_transpose"
                } else {
                    "kiln_cumsum"
                };
                let a = self.call_rt1(name, &[ctx, vals[0][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::CumsumAxis => {
                let a = self.call_rt1("kiln_cumsum_axis", &[ctx, vals[0][0], vals[1][0]]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Eye(d) => {
                let dt = self.iconst(*d as i64);
                let a = self.call_rt1("kiln_eye", &[ctx, vals[0][0], dt]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::ReduceAll(code) => {
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    16,
                    3,
                ));
                let p = self.b.ins().stack_addr(types::I64, slot, 0);
                let c = self.iconst(*code);
                let rc = self.call_rt1("kiln_array_reduce", &[ctx, vals[0][0], c, p]);
                self.fail_if(rc, |_| vec![], site);
                clif_types(ty)
                    .into_iter()
                    .enumerate()
                    .map(|(k, ct)| self.b.ins().stack_load(types::I64, ct, slot, 8 * k as i32))
                    .collect()
            }
            Builtin::Rand | Builtin::Randn => {
                let dims = vals[0].clone();
                let shape = self.shape_slot(&dims);
                let nd = self.iconst(dims.len() as i64);
                let name = if *op == Builtin::Rand {
                    "kiln_rand"
                } else {
                    "kiln_randn"
                };
                let a = self.call_rt1(name, &[ctx, nd, shape]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Randint => {
                let dims = vals[2].clone();
                let shape = self.shape_slot(&dims);
                let nd = self.iconst(dims.len() as i64);
                let a = self.call_rt1("kiln_randint", &[ctx, vals[0][0], vals[1][0], nd, shape]);
                self.check_null(a, site);
                vec![a]
            }
            Builtin::Seed => {
                self.call_rt("kiln_seed", &[vals[0][0]]);
                vec![]
            }
            Builtin::RandScalar => vec![self.call_rt1("kiln_rand_scalar", &[])],
            Builtin::Display(k) => {
                let v = &vals[0];
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8 * v.len().max(1) as u32,
                    3,
                ));
                for (j, &x) in v.iter().enumerate() {
                    self.b.ins().stack_store(types::I64, x, slot, 8 * j as i32);
                }
                let p = self.b.ins().stack_addr(types::I64, slot, 0);
                let kk = self.iconst(*k as i64);
                self.call_rt("kiln_display", &[ctx, p, kk]);
                vec![]
            }
            Builtin::Imshow => {
                let z = self.iconst(0);
                let cm = vals[1].first().copied().unwrap_or(z);
                let ti = vals[2].first().copied().unwrap_or(z);
                self.call_rt("kiln_imshow", &[ctx, vals[0][0], cm, ti]);
                self.check_err(site);
                vec![]
            }
            Builtin::ClearOutput => {
                let w = self.b.ins().uextend(types::I64, vals[0][0]);
                self.call_rt("kiln_clear_output", &[ctx, w]);
                vec![]
            }
            Builtin::ArrayLit(d, shape) => {
                let dims: Vec<Value> = shape.iter().map(|&n| self.iconst(n)).collect();
                let sp = self.shape_slot(&dims);
                let dt = self.iconst(*d as i64);
                let nd = self.iconst(dims.len() as i64);
                let z = self.iconst(2);
                let a = self.call_rt1("kiln_array_new", &[ctx, dt, nd, sp, z]);
                self.check_null(a, site);
                let data = self
                    .b
                    .ins()
                    .load(types::I64, header_flags(), a, ARRAY_DATA_OFFSET);
                for (k, v) in vals.iter().enumerate() {
                    let addr = self.b.ins().iadd_imm_s(data, (k * d.size()) as i64);
                    self.store_elem(*d, addr, v);
                }
                vec![a]
            }
            Builtin::StrEq => {
                let r = self.call_rt1("kiln_str_eq", &[vals[0][0], vals[1][0]]);
                vec![self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0)]
            }
        };
        for (t, v) in temps {
            self.release(&t, &v);
        }
        Ok(out)
    }
}
