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
//!   An error branch also releases the temporaries in flight (`Gen::held`).
//! - Loops poll the session's interrupt flag at every back-edge.

use crate::ir::{self, BinOp, Builtin, CmpOp, Expr, ExprKind, Place, Program, Stmt, UnOp};
use crate::types::Ty;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, BlockArg, InstBuilder, InstructionData, MemFlagsData, Opcode, Signature,
    StackSlot, StackSlotData, StackSlotKind, Value,
};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};
use kiln_runtime::array::{ARRAY_DATA_OFFSET, ARRAY_SHAPE_OFFSET, ARRAY_STRIDES_OFFSET};
use kiln_runtime::ctx::{
    CTX_CONSTS_OFFSET, CTX_DEPTH_OFFSET, CTX_ERR_OFFSET, CTX_INTERRUPT_OFFSET,
    CTX_MAX_DEPTH_OFFSET, CTX_PROGRESS_OFFSET,
};
use kiln_runtime::{DType, ErrorKind, ExecCtx};
use std::collections::HashMap;
use std::sync::OnceLock;

mod arith;
mod builtins;
mod exprs;
pub(crate) mod ffi;
mod function;
mod lanes;
pub use lanes::lanes;
mod gpu;
mod loops;
mod maps;
mod parallel;
mod parallel_maps;
mod reductions;
mod runtime_calls;
mod stmts;
mod text;

use loops::*;
use maps::*;
use parallel::*;
pub use parallel_maps::PAR_MAP_THRESHOLD;
use parallel_maps::*;
use reductions::*;
pub(crate) use runtime_calls::red_type_code;

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
    /// Parallel loops run in vector lanes where they can (`%vector on|off`).
    pub lanes: bool,
    /// Whole-array loops with at least this many elements run on the worker pool.
    pub par_min_elements: i64,
    /// Leave out the interrupt poll at loop back-edges. Only for measuring what the poll
    /// costs (`KILN_BENCH_NO_POLL=1`); such code cannot be interrupted.
    pub no_interrupt_poll: bool,
    /// Keep every call out of line (`KILN_BENCH_NO_INLINE=1`): to measure what inlining
    /// small leaf functions gains.
    pub no_inline: bool,
    /// The kernel of each `@gpu` loop by its `ParInfo` id: the address of its
    /// `kiln_runtime::opencl::KernelSpec`, which must outlive the compiled code.
    pub gpu_kernels: HashMap<u32, usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            keep_clif: false,
            keep_code: false,
            no_bounds_checks: false,
            lanes: true,
            par_min_elements: PAR_MAP_THRESHOLD,
            no_interrupt_poll: false,
            no_inline: false,
            gpu_kernels: HashMap::new(),
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
    /// Each function's machine code (kept for `%%asm`).
    pub code: Vec<crate::disasm::MachineCode>,
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
        Ty::None | Ty::DType { .. } | Ty::CType(_) => vec![],
        Ty::Bool => vec![types::I8],
        Ty::I64
        | Ty::Str
        | Ty::Array { .. }
        | Ty::List(_)
        | Ty::CLib(_)
        | Ty::CFunc { .. }
        | Ty::CPointer(_) => {
            vec![types::I64]
        }
        Ty::F64 => vec![types::F64],
        Ty::F32 => vec![types::F32],
        Ty::C128 => vec![types::F64, types::F64],
        Ty::Tuple(items) => items.iter().flat_map(clif_types).collect(),
        Ty::Optional(t) => [types::I8].into_iter().chain(clif_types(t)).collect(),
    }
}

/// Compile a whole program: every function instance and the cell entry.
pub fn compile(prog: &Program, opts: &Options) -> Result<Compiled, String> {
    // Globals the user's functions assign, before a long cell's pieces become functions too.
    let globals_by_functions = globals_assigned_by_functions(prog);
    let split = super::chunks::split_cell(prog);
    let (prog, pieces_from) = match &split {
        Some(sp) => (&sp.program, sp.first),
        None => (prog, u32::MAX),
    };
    let isa = isa()?;
    let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    for (name, ptr) in kiln_runtime::symbols()
        .into_iter()
        .chain(super::support::symbols())
        .chain(crate::plot::symbols())
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
    // Those whose iterations can run side by side in vector lanes get a second body.
    let mut lane_fns: HashMap<u32, (super::lanes::Plan, FuncId)> = HashMap::new();
    if opts.lanes {
        for (k, st) in &par_loops {
            let Stmt::For { par: Some(p), .. } = st else {
                continue;
            };
            let planned = super::lanes::plan(prog, *k as u32, st)
                .and_then(|p| super::lanes::cpu_worthwhile(prog, &p, st).map(|()| p));
            let Ok(plan) = planned else {
                continue;
            };
            let mut sig = Signature::new(call_conv);
            for _ in 0..5 {
                sig.params.push(AbiParam::new(ptr));
            }
            let id = module
                .declare_function(&format!("kiln_lanes{}", p.id), Linkage::Local, &sig)
                .map_err(|e| e.to_string())?;
            lane_fns.insert(p.id, (plan, id));
        }
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
    let mut ffi_thunks: Vec<(ffi::ThunkAbi, FuncId)> = Vec::new();
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
        .chain(par_loops.iter().filter_map(|(k, st)| match st {
            Stmt::For { par: Some(p), .. } if lane_fns.contains_key(&p.id) => {
                Some((*k, Job::LaneLoop(st)))
            }
            _ => None,
        }))
        .chain(maps.iter().map(|(k, m, kind)| (*k, Job::Map(m, *kind))))
        .collect();
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
            Job::LaneLoop(Stmt::For { par: Some(p), .. }) => {
                let fid = lane_fns[&p.id].1;
                (
                    fid,
                    outlined_sig(fid, &module),
                    format!("{} (parallel loop {} in lanes)", f.name, p.id),
                )
            }
            Job::ParLoop(_) | Job::LaneLoop(_) => return Err("outlined a non-parallel loop".into()),
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
                lane_fns: &lane_fns,
                gpu_kernels: &opts.gpu_kernels,
                map_fns: &map_fns,
                imports: &mut imports,
                ffi_thunks: &mut ffi_thunks,
                strings: &mut strings,
                consts: &mut consts,
                depth_counted: false,
                vars: Vec::new(),
                ctx: Value::from_u32(0),
                interrupt: Value::from_u32(0),
                exit: cranelift_codegen::ir::Block::from_u32(0),
                err_block: cranelift_codegen::ir::Block::from_u32(0),
                loops: Vec::new(),
                progress: None,
                // A piece of the cell is the cell's code: its loops show progress.
                is_entry: k as u32 == prog.entry || k as u32 >= pieces_from,
                pieces_from,
                only_vars: split.as_ref().and_then(|sp| sp.vars_of(k as u32)),
                bounds: !opts.no_bounds_checks,
                poll: !opts.no_interrupt_poll,
                par_min: opts.par_min_elements,
                held: Vec::new(),
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
                Job::ParLoop(st) => g.outlined(st, false)?,
                Job::LaneLoop(st) => g.outlined(st, true)?,
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

    let user_fns: std::collections::HashSet<u32> = ids.iter().map(|(id, _)| id.as_u32()).collect();
    // The cell's pieces stay out of line: the cell calls each once.
    let pieces: std::collections::HashSet<FuncId> = ids
        .iter()
        .skip(pieces_from as usize)
        .map(|(id, _)| *id)
        .collect();
    let inliner = super::inline::LeafInliner::new(
        built
            .iter()
            .filter(|(fid, _, _)| *fid != ids[prog.entry as usize].0 && !pieces.contains(fid))
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
                let calls = call_targets(&ctx.func, cc.buffer.relocs(), &module);
                // Source locations are the sites of `ir::Stmt::Line` marks.
                let lines = cc
                    .buffer
                    .get_srclocs_sorted()
                    .iter()
                    .filter(|l| !l.loc.is_default())
                    .map(|l| (l.start, l.end, l.loc.bits()))
                    .collect();
                code.push((name, fid, cc.code_buffer().to_vec(), calls, lines));
            }
        }
        module.clear_context(&mut ctx);
    }
    ffi::define_thunks(&mut module, &ffi_thunks, &mut fctx)?;
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let code = code
        .into_iter()
        .map(
            |(name, fid, bytes, calls, lines)| crate::disasm::MachineCode {
                name,
                addr: module.get_finalized_function(fid) as usize,
                bytes,
                calls,
                lines,
            },
        )
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

/// The relocated fields of a function's code and the names they point at (the functions
/// and runtime entries it calls), for `%%asm`.
fn call_targets(
    func: &cranelift_codegen::ir::Function,
    relocs: &[cranelift_codegen::FinalizedMachReloc],
    module: &JITModule,
) -> Vec<(u32, String)> {
    use cranelift_codegen::ir::ExternalName;
    use cranelift_codegen::FinalizedRelocTarget;
    relocs
        .iter()
        .filter_map(|r| {
            let FinalizedRelocTarget::ExternalName(ExternalName::User(u)) = &r.target else {
                return None;
            };
            let user = func.params.user_named_funcs().get(*u)?;
            let id = FuncId::from_u32(user.index);
            let decl = module.declarations().get_function_decl(id);
            Some((r.offset, decl.linkage_name(id).into_owned()))
        })
        .collect()
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

pub(crate) struct Gen<'a, 'b> {
    prog: &'a Program,
    func: &'a ir::Func,
    pub(crate) b: FunctionBuilder<'b>,
    module: &'a mut JITModule,
    ids: &'a [(FuncId, Signature)],
    par_fns: &'a HashMap<u32, FuncId>,
    /// The lane bodies of the parallel loops that have one, with their plans.
    lane_fns: &'a HashMap<u32, (super::lanes::Plan, FuncId)>,
    gpu_kernels: &'a HashMap<u32, usize>,
    map_fns: &'a HashMap<usize, FuncId>,
    imports: &'a mut HashMap<&'static str, FuncId>,
    /// The thunks of the C signatures the unit calls (`ffi.rs`).
    ffi_thunks: &'a mut Vec<(ffi::ThunkAbi, FuncId)>,
    strings: &'a mut Vec<Box<[u8]>>,
    /// The unit's table of scalar float constants (f32 ones in the low half of a word),
    /// reached at run time through `ExecCtx::consts`.
    consts: &'a mut Vec<u64>,
    /// Whether this function counts its calls towards the recursion limit
    /// (`counts_depth`, decided once in `function`).
    depth_counted: bool,
    vars: Vec<Vec<Variable>>,
    pub(crate) ctx: Value,
    interrupt: Value,
    exit: cranelift_codegen::ir::Block,
    err_block: cranelift_codegen::ir::Block,
    /// (continue target, break target) of the enclosing loops.
    loops: Vec<(cranelift_codegen::ir::Block, cranelift_codegen::ir::Block)>,
    /// While a top-level `for` loop of the cell is generated: the `Progress` it writes its
    /// counter into (see `runtime::progress`); each copy of its outer level stores there.
    progress: Option<Value>,
    is_entry: bool,
    /// Functions from this index on are pieces of the cell (`chunks`): a failure in one is
    /// the cell's own, so calling one adds no frame to the traceback.
    pieces_from: u32,
    /// The variables this function declares, where not all of `func.vars` (a piece).
    only_vars: Option<&'a std::collections::HashSet<u32>>,
    bounds: bool,
    poll: bool,
    par_min: i64,
    /// Owned heap temporaries the code being generated still has to release (map inputs
    /// and outputs, builtin and call arguments, an indexed array): an error exit releases
    /// them, innermost first, before it leaves. Pushed and popped in nested order.
    held: Vec<(Ty, Vals)>,
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

pub(crate) type Vals = Vec<Value>;

pub(crate) fn header_flags() -> MemFlagsData {
    // Array headers never change after creation: loads from them can move and merge.
    MemFlagsData::trusted().with_readonly().with_can_move()
}

impl<'a, 'b> Gen<'a, 'b> {
    /// Note a host-side write into `arr`'s elements on the array that owns them (a view's
    /// base), so that a device copy of it is no longer taken as current (`Array::host_written`).
    /// One store of a constant: the owner's address comes from header loads that hoist.
    pub(crate) fn mark_host_written(&mut self, arr: Value) {
        use kiln_runtime::array::{ARRAY_BASE_OFFSET, ARRAY_HOST_WRITTEN_OFFSET};
        let base = self
            .b
            .ins()
            .load(types::I64, header_flags(), arr, ARRAY_BASE_OFFSET);
        let is_view = self.b.ins().icmp_imm_s(IntCC::NotEqual, base, 0);
        let owner = self.b.ins().select(is_view, base, arr);
        let one = self.iconst(1);
        self.b.ins().store(
            MemFlagsData::trusted(),
            one,
            owner,
            ARRAY_HOST_WRITTEN_OFFSET,
        );
    }
}
