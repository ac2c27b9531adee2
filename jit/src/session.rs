//! The session: the one API the CLI, the REPL and the Jupyter kernel use.
//!
//! A cell goes source → AST → (check + lower) → loop IR → verifier → Cranelift → machine
//! code, and runs on a worker thread with a large stack (so deep recursion is a
//! RecursionError from the depth counter, never a stack overflow). Globals live in slots the
//! session owns; the compiled code reads and writes them in place, so a runtime error keeps
//! what was assigned before it, as in Python.

use crate::builtins;
use crate::codegen::{self, Compiled, Options};
use crate::diag::Diagnostic;
use crate::disasm;
use crate::ir;
use crate::lower::{self, FnDef, SessionGlobal, RESULT};
use crate::magics::{self, Host, Settings};
pub use crate::outcome::{CellError, ExecResult, GpuTimes, Output, ProgressLine, Stage, Timings};
use crate::report;
use crate::syntax::{self, ast};
use crate::types::Ty;
use kiln_runtime::{ArrayRef, ErrorKind, ExecCtx, Stream, Value};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

pub struct Completion {
    pub matches: Vec<String>,
    pub cursor_start: usize,
    pub cursor_end: usize,
}

/// A global: its type and its slot (flattened 8-byte words; heap values hold one reference).
struct Global {
    ty: Ty,
    slot: Box<[u64]>,
}

impl Global {
    fn new(ty: Ty) -> Global {
        let n = ty.slots().max(1);
        Global {
            ty,
            slot: vec![0u64; n].into_boxed_slice(),
        }
    }
    fn addr(&self) -> usize {
        self.slot.as_ptr() as usize
    }
}

impl Drop for Global {
    fn drop(&mut self) {
        // SAFETY: the slot holds values of `ty`, heap ones with one reference each.
        unsafe { release_slot(&self.ty, self.slot.as_ptr()) };
    }
}

/// A cell still running after `PROGRESS_AFTER` shows a progress line, renewed every
/// `PROGRESS_EVERY`; the session looks every `PROGRESS_TICK` when the cell is quiet.
const PROGRESS_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
const PROGRESS_TICK: std::time::Duration = std::time::Duration::from_millis(50);

/// The running cell's `Progress`, handed to its thread (the session's `Arc` outlives it).
#[derive(Clone, Copy)]
struct ProgressAddr(*const kiln_runtime::progress::Progress);
// SAFETY: it points at atomics the session keeps alive until the cell's thread is joined.
unsafe impl Send for ProgressAddr {}

/// Stack of the thread that runs compiled code, and the call depth that raises
/// RecursionError well before it is used up.
const RUN_STACK_BYTES: usize = 1 << 30;
pub const MAX_DEPTH: i64 = 20_000;

pub struct Session {
    interrupt: Arc<AtomicBool>,
    /// Set by `clear_interrupt`: the next cell keeps the flag as it is then.
    interrupt_cleared: bool,
    funcs: HashMap<String, FnDef>,
    globals: HashMap<String, Global>,
    /// Sources of every cell run so far (cell n is `sources[n - 1]`), for error reports.
    sources: Vec<Rc<str>>,
    /// What the magics set: bounds checks, the target of annotated loops.
    pub settings: Settings,
    /// Times of the last `execute`.
    pub timings: Timings,
    /// Every OpenCL kernel compiled so far: (the function its loop is in, its listing), for
    /// `%opencl NAME`.
    opencl_log: Vec<(String, String)>,
    /// The C declarations made so far (`ctypes` argtypes/restype, `%%c` prototypes).
    pub(crate) ffi: crate::ffi::ForeignTable,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

fn cell_error(kind: ErrorKind, message: impl Into<String>, traceback: Vec<String>) -> CellError {
    let evalue = message.into();
    CellError {
        ename: kind.name().to_string(),
        evalue,
        traceback,
    }
}

impl Session {
    pub fn new() -> Session {
        // A compiler panic becomes an InternalError for the user; the log gets one line
        // instead of a backtrace.
        static QUIET_PANICS: std::sync::Once = std::sync::Once::new();
        QUIET_PANICS.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                eprintln!("kiln: internal error (reported to the cell as InternalError): {info}");
            }));
        });
        Session {
            interrupt: Arc::new(AtomicBool::new(false)),
            interrupt_cleared: false,
            funcs: HashMap::new(),
            globals: HashMap::new(),
            sources: Vec::new(),
            settings: Settings::default(),
            timings: Timings::default(),
            opencl_log: Vec::new(),
            ffi: Default::default(),
        }
    }

    /// Setting this flag (from any thread) stops the running cell with KeyboardInterrupt.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// Forgets an interrupt that came while no cell ran, now rather than when the next
    /// cell starts. A front end that announces a cell before running it (Jupyter's
    /// `execute_input`, which clients wait for before they interrupt) calls this before the
    /// announcement, so that an interrupt sent after it is never lost. Otherwise `execute`
    /// forgets such an interrupt itself.
    pub fn clear_interrupt(&mut self) {
        self.interrupt.store(false, Ordering::SeqCst);
        self.interrupt_cleared = true;
    }

    /// Compile and run one cell. `sink` receives output while the cell runs (on the calling
    /// thread). Never panics and never ends the process, whatever the cell does.
    pub fn execute(&mut self, code: &str, sink: &mut dyn FnMut(Output)) -> ExecResult {
        self.begin_cell();
        self.execute_part(code, sink)
    }

    /// A new cell starts: an interrupt that came before it is forgotten, unless
    /// `clear_interrupt` already did that. Only the outermost call does this, so that an
    /// interrupt during one part of a cell (a `!` line, a magic's first run) is not
    /// forgotten by the next part.
    fn begin_cell(&mut self) {
        if !std::mem::take(&mut self.interrupt_cleared) {
            self.interrupt.store(false, Ordering::Relaxed);
        }
    }

    /// `execute` within a cell already begun (magics run their bodies through this).
    fn execute_part(&mut self, code: &str, sink: &mut dyn FnMut(Output)) -> ExecResult {
        if let Some(m) = magics::parse(code) {
            return magics::run(self, m, sink);
        }
        let Some(parts) = magics::split_line_magics(code) else {
            return self.repeat_part(code, 1, sink);
        };
        // Line magics and `!` lines among code lines (IPython's convention): the parts run
        // in order, and the first error stops the cell.
        let mut last = ExecResult::Ok(None);
        for part in parts {
            last = self.execute_part(&part, sink);
            if let ExecResult::Err(_) = last {
                break;
            }
        }
        last
    }

    /// Like `execute`, but compiles once and runs the cell `repeat` times (benchmarks,
    /// `%timeit`); the result is the last run's. A magic cell (`%bounds off`), and a cell
    /// with `!` or `%` lines among its code, runs once.
    pub fn execute_repeat(
        &mut self,
        code: &str,
        repeat: u32,
        sink: &mut dyn FnMut(Output),
    ) -> ExecResult {
        self.begin_cell();
        self.repeat_part(code, repeat, sink)
    }

    fn repeat_part(&mut self, code: &str, repeat: u32, sink: &mut dyn FnMut(Output)) -> ExecResult {
        if repeat > 1
            && (magics::parse(code).is_some() || magics::split_line_magics(code).is_some())
        {
            return self.execute_part(code, sink);
        }
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.execute_inner(code, repeat.max(1), sink)
        }));
        match caught {
            Ok(r) => r,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                ExecResult::Err(cell_error(
                    ErrorKind::InternalError,
                    format!("the compiler failed: {msg}"),
                    vec![
                        format!("InternalError: the compiler failed: {msg}"),
                        "This is a bug in Kiln; the session is intact.".into(),
                    ],
                ))
            }
        }
    }

    /// Print a compiler stage of `code` instead of running it. The trees are built, printed
    /// and dropped on the compiler's thread (`crate::stack`).
    pub fn emit(&mut self, code: &str, stage: Stage) -> Result<String, CellError> {
        crate::stack::on_compiler_stack(|| self.emit_here(code, stage))
    }

    fn emit_here(&mut self, code: &str, stage: Stage) -> Result<String, CellError> {
        match stage {
            Stage::Tokens => {
                return syntax::tokenize(code)
                    .map(|t| syntax::dump_tokens(&t))
                    .map_err(|d| self.diag_error(&d, code, self.sources.len() + 1));
            }
            Stage::Ast => {
                let (m, diags) = syntax::parse(code);
                if let Some(d) = diags.first() {
                    return Err(self.diag_error(d, code, self.sources.len() + 1));
                }
                return Ok(syntax::dump_ast(&m));
            }
            _ => {}
        }
        let cell = self.sources.len() + 1;
        let unit = self.compile(code, cell, Some(stage))?;
        Ok(match stage {
            Stage::Ir => {
                let prog = &unit.lowered.program;
                let mut text = prog.to_string();
                let remarks =
                    codegen::lanes::remarks(prog, codegen::clif::lanes(), self.settings.vector);
                for (site, remark) in remarks {
                    let line = self
                        .site_line(prog, code, cell, site)
                        .map(|l| l.trim_start().to_string())
                        .unwrap_or_default();
                    text.push_str(&format!("# lanes, loop at line {line}\n#     {remark}\n"));
                }
                text
            }
            Stage::OpenCl if unit.kernels.list.is_empty() => {
                "# this cell has no @gpu loop: nothing runs as OpenCL\n".to_string()
            }
            Stage::OpenCl => unit.kernels.listing(),
            Stage::Clif => unit
                .compiled
                .as_ref()
                .map(|c| {
                    let source = |site| self.site_line(&unit.lowered.program, code, cell, site);
                    c.clif
                        .iter()
                        .map(|(n, t)| format!("; {n}\n{}", disasm::annotate_clif(t, &source)))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default(),
            _ => unit
                .compiled
                .as_ref()
                .map(|c| {
                    let source = |site| self.site_line(&unit.lowered.program, code, cell, site);
                    disasm::disassemble(&c.code, &source)
                })
                .unwrap_or_default(),
        })
    }

    /// The source line a site points at, as a listing shows it: `3  s += x[i]` in the cell
    /// being compiled (`cell`, whose source is `code`), `In [2] line 3  ...` in an earlier one.
    fn site_line(&self, prog: &ir::Program, code: &str, cell: usize, site: u32) -> Option<String> {
        let s = prog.sites.get(site as usize)?;
        let source = if s.cell == cell {
            code
        } else {
            self.sources.get(s.cell.checked_sub(1)?)?
        };
        let (line, _) = report::line_col(source, s.span.lo as usize);
        let text = source.lines().nth(line - 1)?.trim_end();
        Some(if s.cell == cell {
            format!("{line:>3}  {text}")
        } else {
            format!("In [{}] line {line}  {text}", s.cell)
        })
    }

    /// A `@gpu` loop that cannot run on a device: a SyntaxError at the offending line.
    fn gpu_error(
        &self,
        e: &codegen::opencl::GpuError,
        prog: &ir::Program,
        source: &str,
        cell: usize,
    ) -> CellError {
        let site = prog.sites.get(e.site as usize);
        let mut d = Diagnostic::new(
            ErrorKind::SyntaxError,
            site.map(|s| s.span).unwrap_or_default(),
            e.message.clone(),
        );
        if let Some(h) = &e.hint {
            d = d.with_hint(h.clone());
        }
        d.cell = site.map(|s| s.cell);
        self.diag_error(&d, source, cell)
    }

    /// The OpenCL C of every kernel compiled so far for loops in the function `name`
    /// (`<cell>` for loops at top level), for `%opencl NAME`.
    pub fn opencl_listings(&self, name: &str) -> Vec<String> {
        self.opencl_log
            .iter()
            .filter(|(f, _)| f == name)
            .map(|(_, l)| l.clone())
            .collect()
    }

    fn diag_error(&self, d: &Diagnostic, source: &str, cell: usize) -> CellError {
        let (source, cell) = match d.cell {
            Some(c) if c != cell => (self.sources.get(c - 1).map(|s| &**s).unwrap_or(source), c),
            _ => (source, cell),
        };
        let lines = report::render_diagnostic(d, source, cell);
        let mut e = cell_error(d.kind, d.message.clone(), lines);
        if d.kind == ErrorKind::InternalError {
            e.evalue = format!("{} (a bug in Kiln; the session is intact)", d.message);
        }
        e
    }

    /// Compile a cell; `emit` names the stage a caller will print instead of running.
    fn compile(&mut self, code: &str, cell: usize, emit: Option<Stage>) -> Result<Unit, CellError> {
        let t0 = Instant::now();
        let (module, diags) = syntax::parse(code);
        if let Some(d) = diags.first() {
            return Err(self.diag_error(d, code, cell));
        }
        let t1 = Instant::now();
        let mut funcs = self.funcs.clone();
        for s in &module.body {
            match &s.kind {
                ast::StmtKind::FunctionDef(def) => {
                    funcs.insert(
                        def.name.clone(),
                        FnDef {
                            def: def.clone(),
                            cell,
                        },
                    );
                }
                // `fast = njit(f)`: `fast` is the function `f` is at this point of the cell
                // (a later `def f` does not change it, as in Python).
                ast::StmtKind::Assign { targets, value } => {
                    let wrapped = lower::jit_wrapped(value)
                        .filter(|_| !funcs.contains_key("njit") && !funcs.contains_key("jit"))
                        .and_then(|(f, _)| funcs.get(f).cloned());
                    if let Some(def) = wrapped {
                        for t in targets {
                            if let ast::ExprKind::Name(n) = &t.kind {
                                funcs.insert(n.clone(), def.clone());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let globals: HashMap<String, SessionGlobal> = self
            .globals
            .iter()
            .map(|(k, g)| {
                (
                    k.clone(),
                    SessionGlobal {
                        ty: g.ty.clone(),
                        addr: g.addr(),
                    },
                )
            })
            .collect();
        // The sources this cell's reports may point into (earlier cells and this one).
        let input = lower::LowerInput {
            module: &module,
            cell,
            funcs: &funcs,
            globals: &globals,
            target_override: self.settings.target_override,
            mark_lines: matches!(emit, Some(Stage::Asm | Stage::Clif)),
            ffi: &self.ffi,
        };
        let mut lowered = lower::lower_cell(&input).map_err(|d| self.diag_error(&d, code, cell))?;
        let t2 = Instant::now();
        // Slots: reuse a global's slot when its type is unchanged, else a fresh one.
        let mut fresh: HashMap<String, Global> = HashMap::new();
        for g in lowered.program.globals.iter_mut() {
            match self.globals.get(&g.name) {
                Some(old) if old.ty == g.ty && g.name != RESULT => g.addr = old.addr(),
                _ => {
                    let slot = Global::new(g.ty.clone());
                    g.addr = slot.addr();
                    fresh.insert(g.name.clone(), slot);
                }
            }
        }
        if let Err(e) = ir::verify(&lowered.program) {
            return Err(cell_error(
                ErrorKind::InternalError,
                e.clone(),
                vec![format!("InternalError: {e}")],
            ));
        }
        let kernels = codegen::opencl::generate(
            &lowered.program,
            &codegen::opencl::Options {
                bounds_checks: self.settings.bounds_checks,
                lanes: self.settings.vector,
            },
        )
        .map_err(|e| self.gpu_error(&e, &lowered.program, code, cell))?;
        let t3 = Instant::now();
        // Printing the IR or the OpenCL C needs no machine code; CLIF and assembly keep
        // what they print.
        let compiled = if !matches!(emit, Some(Stage::Ir | Stage::OpenCl)) {
            let opts = Options {
                keep_clif: emit == Some(Stage::Clif),
                keep_code: emit == Some(Stage::Asm),
                no_bounds_checks: !self.settings.bounds_checks,
                lanes: self.settings.vector,
                no_interrupt_poll: std::env::var_os("KILN_BENCH_NO_POLL").is_some(),
                no_inline: std::env::var_os("KILN_BENCH_NO_INLINE").is_some(),
                // A measurement knob for bench/par_threshold.sh.
                par_min_elements: std::env::var("KILN_PAR_MIN")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(codegen::clif::PAR_MAP_THRESHOLD),
                gpu_kernels: kernels.addresses(),
            };
            Some(codegen::compile(&lowered.program, &opts).map_err(|e| {
                cell_error(
                    ErrorKind::InternalError,
                    e.clone(),
                    vec![format!("InternalError: {e}")],
                )
            })?)
        } else {
            None
        };
        let t4 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        self.timings = Timings {
            parse_ms: ms(t0, t1),
            check_ms: lowered.check_time.as_secs_f64() * 1e3,
            // The lowering's final round, slot assignment and the IR verifier.
            lower_ms: lowered.lower_time.as_secs_f64() * 1e3 + ms(t2, t3),
            codegen_ms: ms(t3, t4),
            run_ms: Vec::new(),
            gpu: None,
            gpu_runs: Vec::new(),
        };
        Ok(Unit {
            lowered,
            compiled,
            kernels,
            fresh,
            funcs,
        })
    }

    fn execute_inner(
        &mut self,
        code: &str,
        repeat: u32,
        sink: &mut dyn FnMut(Output),
    ) -> ExecResult {
        let cell = self.sources.len() + 1;
        // Deep trees need the compiler's big stack (`crate::stack`); the unit's IR is dropped
        // here, but its depth is the AST's, which the parser bounds.
        let unit = match crate::stack::on_compiler_stack(|| self.compile(code, cell, None)) {
            Ok(u) => u,
            Err(e) => {
                // A cell that fails to compile runs nothing, but still counts (its source is
                // needed if a later report points into it).
                self.sources.push(code.into());
                return ExecResult::Err(e);
            }
        };
        self.sources.push(code.into());
        let Unit {
            mut lowered,
            compiled,
            kernels,
            mut fresh,
            funcs,
        } = unit;
        for k in &kernels.list {
            let listing = format!("{}{}", codegen::opencl::header(k), k.spec.source);
            if !self.opencl_log.iter().any(|(_, l)| *l == listing) {
                self.opencl_log.push((k.func.clone(), listing));
            }
        }
        let compiled = compiled.expect("compiled");
        // The cell's functions exist from now on, even if it fails at run time; so do its
        // C declarations.
        self.funcs = funcs;
        self.ffi = std::mem::take(&mut lowered.ffi);
        // Globals rebound to a wider type keep their value (an i64 read as f64, ...).
        for (name, g) in fresh.iter_mut() {
            if let Some(old) = self.globals.get(name) {
                // SAFETY: both slots hold values of their types.
                unsafe { convert_slot(&old.ty, old.slot.as_ptr(), &g.ty, g.slot.as_mut_ptr()) };
            }
        }
        let mut result_slot = fresh.remove(RESULT);
        // Commit slots before running: the compiled code writes into them.
        for (name, g) in fresh {
            self.globals.insert(name, g);
        }
        let mut run_ms = Vec::new();
        let mut gpu_runs: Vec<GpuTimes> = Vec::new();
        let mut error = None;
        for _ in 0..repeat {
            let t = Instant::now();
            error = self.run(&compiled, &lowered.program.display_types, sink);
            run_ms.push((Instant::now() - t).as_secs_f64() * 1e3);
            if !kernels.list.is_empty() {
                gpu_runs.push(kiln_runtime::opencl::take_stats().into());
            }
            if error.is_some() {
                break;
            }
        }
        self.timings.run_ms = run_ms;
        if !gpu_runs.is_empty() {
            let mut all = GpuTimes::default();
            gpu_runs.iter().for_each(|g| all.add(g));
            self.timings.gpu = Some(all);
        }
        self.timings.gpu_runs = gpu_runs;
        drop(compiled);
        drop(kernels);
        if let Some(err) = error {
            return ExecResult::Err(self.runtime_error(err, &lowered.program));
        }
        let value = match result_slot.as_mut() {
            Some(g) if lowered.result_ty != Ty::None => {
                // SAFETY: the slot holds a value of the result type. An optional that is
                // None shows nothing, as Python's None result.
                Some(unsafe { read_slot(&g.ty, g.slot.as_ptr()) })
                    .filter(|v| !matches!(v, Value::None))
            }
            _ => None,
        };
        ExecResult::Ok(value)
    }

    /// Run compiled code on the big-stack thread, forwarding output as it comes.
    fn run(
        &self,
        compiled: &Compiled,
        display_types: &[Ty],
        sink: &mut dyn FnMut(Output),
    ) -> Option<kiln_runtime::RuntimeError> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let interrupt = self.interrupt.clone();
        let progress = Arc::new(kiln_runtime::progress::Progress::new());
        let watched = ProgressAddr(Arc::as_ptr(&progress));
        let code = compiled as *const Compiled as usize;
        // Types hold `Rc`s, which are not Send; the scoped thread ends before they can go.
        struct Types(*const [Ty]);
        // SAFETY: only read on the worker, which the scope joins before `display_types` ends.
        unsafe impl Send for Types {}
        let types = Types(display_types as *const [Ty]);
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("kiln-cell".into())
                .stack_size(RUN_STACK_BYTES)
                .spawn_scoped(scope, move || {
                    let dtx = tx.clone();
                    let types = types;
                    crate::codegen::support::set_display_hook(Some(Box::new(move |ev| {
                        let msg = match ev {
                            // SAFETY: see `Types`.
                            crate::codegen::support::DisplayEvent::Value(p, k) => {
                                match unsafe { &*types.0 }.get(k) {
                                    // SAFETY: the generated code wrote a value of this type at p.
                                    Some(t) => Msg::Display(unsafe { read_slot(t, p) }),
                                    None => return,
                                }
                            }
                            crate::codegen::support::DisplayEvent::Clear(w) => Msg::Clear(w),
                            crate::codegen::support::DisplayEvent::Image(png, title) => {
                                Msg::Image(png, title)
                            }
                        };
                        let _ = dtx.send(msg);
                    })));
                    let out: kiln_runtime::ctx::OutputFn = Box::new(move |s, text: &str| {
                        let _ = tx.send(Msg::Text(s, text.to_string()));
                    });
                    let mut ctx = ExecCtx::new(interrupt, MAX_DEPTH, out);
                    let watched = watched;
                    ctx.progress = watched.0;
                    // SAFETY: `compiled` outlives this scope; ctx is live for the call.
                    unsafe { (*(code as *const Compiled)).run(&mut ctx) };
                    // The cell's figure is shown even when the cell failed after drawing.
                    crate::plot::finish_cell(&mut ctx);
                    ctx.flush();
                    crate::codegen::support::set_display_hook(None);
                    ctx.take_error()
                });
            let worker = match worker {
                Ok(w) => w,
                Err(e) => {
                    return Some(kiln_runtime::RuntimeError {
                        kind: ErrorKind::MemoryError,
                        message: format!("cannot start the thread that runs cells: {e}"),
                        sites: Vec::new(),
                    })
                }
            };
            // Output as it comes; after the first second, the progress line a few times a
            // second, and its final state when the cell ends.
            let started = Instant::now();
            let mut shown: Option<Instant> = None;
            loop {
                match rx.recv_timeout(PROGRESS_TICK) {
                    Ok(msg) => sink(match msg {
                        Msg::Text(Stream::Stdout, text) => Output::Stdout(text),
                        Msg::Text(Stream::Stderr, text) => Output::Stderr(text),
                        Msg::Display(v) => Output::Display(v),
                        Msg::Clear(wait) => Output::ClearOutput { wait },
                        Msg::Image(png, title) => Output::Image { png, title },
                    }),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                let now = Instant::now();
                if now - started >= PROGRESS_AFTER
                    && shown.is_none_or(|t| now - t >= PROGRESS_EVERY)
                {
                    shown = Some(now);
                    sink(Output::Progress(ProgressLine {
                        loop_done: progress.fraction(),
                        elapsed_s: (now - started).as_secs_f64(),
                        finished: false,
                    }));
                }
            }
            if shown.is_some() {
                sink(Output::Progress(ProgressLine {
                    loop_done: None,
                    elapsed_s: started.elapsed().as_secs_f64(),
                    finished: true,
                }));
            }
            match worker.join() {
                Ok(e) => e,
                Err(_) => Some(kiln_runtime::RuntimeError {
                    kind: ErrorKind::InternalError,
                    message: "the cell's thread panicked".into(),
                    sites: Vec::new(),
                }),
            }
        })
    }

    fn runtime_error(&self, err: kiln_runtime::RuntimeError, prog: &ir::Program) -> CellError {
        // Sites come innermost first; Python prints the outermost first.
        let mut frames: Vec<report::Frame> = err
            .sites
            .iter()
            .filter_map(|&s| prog.sites.get(s as usize))
            .map(|site| report::Frame {
                func: site.func.clone(),
                span: site.span,
                source: self
                    .sources
                    .get(site.cell.wrapping_sub(1))
                    .cloned()
                    .unwrap_or_else(|| "".into()),
                cell: site.cell,
            })
            .collect();
        frames.reverse();
        let hint = match err.kind {
            ErrorKind::RecursionError => Some(
                "each call nests deeper; check the base case, or rewrite the recursion as a loop",
            ),
            _ => None,
        };
        let message = err.message.clone();
        // Like Python, a run of identical frames (deep recursion) shows three and a count.
        let mut tb = vec!["Traceback (most recent call last):".to_string()];
        let mut k = 0;
        while k < frames.len() {
            let same = |f: &report::Frame| f.cell == frames[k].cell && f.span == frames[k].span;
            let run = frames[k..].iter().take_while(|f| same(f)).count();
            for f in &frames[k..k + run.min(3)] {
                let lines = report::render_traceback(std::slice::from_ref(f), "", "", None);
                tb.extend(lines[1..lines.len() - 1].iter().cloned());
            }
            if run > 3 {
                tb.push(format!("  [Previous line repeated {} more times]", run - 3));
            }
            k += run;
        }
        let tail = report::render_traceback(&[], err.kind.name(), &message, hint);
        tb.extend(tail.into_iter().skip(1));
        cell_error(err.kind, message, tb)
    }

    /// Forget every global and function.
    pub fn reset(&mut self) {
        self.globals.clear();
        self.funcs.clear();
        // Library numbers are never reused: a function compiled earlier keeps its own.
        self.ffi.sigs.clear();
    }

    /// Completions at byte offset `cursor` of `code`.
    pub fn complete(&self, code: &str, cursor: usize) -> Completion {
        let cursor = cursor.min(code.len());
        let before = &code[..cursor];
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '.')
            .last()
            .map(|(i, _)| i)
            .unwrap_or(cursor);
        let word = &code[start..cursor];
        // `%na` or `%%na` at the start of a line: the magics (IPython completes them too).
        let line_start = before[..start].rfind('\n').map_or(0, |k| k + 1);
        let percents = &before[line_start..start];
        if !word.contains('.') && (percents == "%" || percents == "%%") {
            let list = if percents == "%" {
                magics::LINE_MAGICS
            } else {
                magics::CELL_MAGICS
            };
            let mut matches: Vec<String> = list
                .iter()
                .filter(|m| m.starts_with(word))
                .map(|m| format!("{percents}{m}"))
                .collect();
            matches.sort();
            return Completion {
                matches,
                cursor_start: line_start,
                cursor_end: cursor,
            };
        }
        let (prefix, stem) = match word.rfind('.') {
            Some(k) => (&word[..=k], &word[k + 1..]),
            None => ("", word),
        };
        let mut names: Vec<String> = Vec::new();
        if prefix.is_empty() {
            names.extend(self.globals.keys().filter(|k| *k != RESULT).cloned());
            names.extend(self.funcs.keys().cloned());
            names.extend(builtins::names().map(String::from));
            names.extend(builtins::constant_names().map(String::from));
            names.extend(KEYWORDS.iter().map(|s| s.to_string()));
        } else if matches!(prefix, "np." | "numpy." | "math." | "plt.") {
            names.extend(builtins::names().map(String::from));
            names.extend(builtins::constant_names().map(String::from));
        } else {
            names.extend(builtins::method_names().map(String::from));
            names.extend(ATTRIBUTES.iter().map(|s| s.to_string()));
        }
        let mut matches: Vec<String> = names
            .into_iter()
            .filter(|n| n.starts_with(stem))
            .map(|n| format!("{prefix}{n}"))
            .collect();
        matches.sort();
        matches.dedup();
        Completion {
            matches,
            cursor_start: start,
            cursor_end: cursor,
        }
    }

    /// Help text for the name at `cursor` (signature and doc, or type and shape of a global).
    pub fn inspect(&self, code: &str, cursor: usize) -> Option<String> {
        let cursor = cursor.min(code.len());
        let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
        // The name starts after the last non-name character, which may be several bytes.
        let start = code[..cursor]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_ident(c))
            .map_or(0, |(k, c)| k + c.len_utf8());
        let end = code[cursor..]
            .find(|c: char| !is_ident(c))
            .map(|k| k + cursor)
            .unwrap_or(code.len());
        let word = code[start..end].trim_matches('.');
        let name = word.rsplit('.').next().unwrap_or(word);
        if name.is_empty() {
            return None;
        }
        if let Some(g) = self.globals.get(name) {
            // SAFETY: the slot holds a value of its type.
            let v = unsafe { read_slot(&g.ty, g.slot.as_ptr()) };
            let mut s = format!("Type: {}\n", g.ty);
            if let Value::Array(a) = &v {
                s.push_str(&format!("Shape: {}\n", shape_text(a.shape())));
            }
            s.push_str(&format!("Value: {}", kiln_runtime::repr_value(&v)));
            return Some(s);
        }
        if let Some(f) = self.funcs.get(name) {
            let params: Vec<String> = f.def.params.iter().map(|p| p.name.clone()).collect();
            return Some(format!("Signature: {}({})\nType: function (compiled per argument types)\nDefined in cell {}", name, params.join(", "), f.cell));
        }
        builtins::help(name).map(|(sig, doc)| format!("Signature: {sig}\nDocstring: {doc}"))
    }

    /// A copy of every global (`%%compare`).
    pub fn snapshot(&self) -> Result<Snapshot, String> {
        copy_globals(&self.globals)
    }

    /// Replace every global with those of `s`.
    pub fn restore(&mut self, s: Snapshot) {
        self.globals = s.globals;
    }

    /// Globals as (name, type, shape-or-value summary) for `%who`.
    pub fn globals(&self) -> Vec<(String, String, String)> {
        let mut out: Vec<(String, String, String)> = self
            .globals
            .iter()
            .filter(|(k, _)| *k != RESULT)
            .map(|(k, g)| {
                // SAFETY: the slot holds a value of its type.
                let v = unsafe { read_slot(&g.ty, g.slot.as_ptr()) };
                let summary = match &v {
                    Value::Array(a) => {
                        format!("shape {}, {} bytes", shape_text(a.shape()), a.nbytes())
                    }
                    v => kiln_runtime::repr_value(v),
                };
                (k.clone(), g.ty.to_string(), summary)
            })
            .collect();
        out.sort();
        out
    }
}

/// A copy of the session's globals, for `%%compare`, which runs one cell once per target
/// from the same start. Arrays are copied with their sharing kept (an array and its views
/// stay views of one copy); strings are immutable and shared.
pub struct Snapshot {
    globals: HashMap<String, Global>,
}

impl Snapshot {
    /// The values, by name (the cell-result slot left out), sorted by name.
    pub fn values(&self) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = self
            .globals
            .iter()
            .filter(|(k, _)| *k != RESULT)
            // SAFETY: the slot holds a value of its type.
            .map(|(k, g)| (k.clone(), unsafe { read_slot(&g.ty, g.slot.as_ptr()) }))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Another copy of the same values.
    pub fn copy(&self) -> Result<Snapshot, String> {
        copy_globals(&self.globals)
    }
}

/// Copies of `globals` (see [`Snapshot`]); an error when memory runs out.
fn copy_globals(globals: &HashMap<String, Global>) -> Result<Snapshot, String> {
    let mut owners = HashMap::new();
    let mut out = HashMap::new();
    let mut failed = None;
    for (name, g) in globals {
        let mut c = Global::new(g.ty.clone());
        // SAFETY: `g`'s slot holds a value of its type; `c`'s is zeroed (null references),
        // which its drop releases safely if the copy stops half way.
        if let Err(e) =
            unsafe { copy_slot(&g.ty, g.slot.as_ptr(), c.slot.as_mut_ptr(), &mut owners) }
        {
            failed = Some(e);
            break;
        }
        out.insert(name.clone(), c);
    }
    for (_, o) in owners {
        // SAFETY: each new owner holds the one reference `copy_keeping_views` made.
        unsafe { kiln_runtime::kiln_decref(o as *mut u8) };
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(Snapshot { globals: out }),
    }
}

/// Copy a slot of type `t` from `src` to `dst`: new arrays (sharing kept through `owners`),
/// a new reference to a string.
///
/// # Safety
/// `src` holds a value of `t`; `dst` is a zeroed slot of `t`.
unsafe fn copy_slot(
    t: &Ty,
    src: *const u64,
    dst: *mut u64,
    owners: &mut HashMap<usize, *mut kiln_runtime::Array>,
) -> Result<(), String> {
    match t {
        Ty::Array { .. } => {
            let a = *(src as *const *mut kiln_runtime::Array);
            if !a.is_null() {
                let c = kiln_runtime::array_ops::copy_keeping_views(a, owners)
                    .map_err(|(k, m)| format!("{}: {m}", k.name()))?;
                *(dst as *mut *mut kiln_runtime::Array) = c;
            }
        }
        Ty::Str => {
            let p = *(src as *const *mut u8);
            kiln_runtime::kiln_incref(p);
            *(dst as *mut *mut u8) = p;
        }
        // A list is copied (two globals naming one list get a copy each).
        Ty::List(_) => {
            let p = *(src as *const *mut u8);
            if !p.is_null() {
                *(dst as *mut *mut u8) = kiln_runtime::kiln_list_concat(p, std::ptr::null_mut());
            }
        }
        Ty::Tuple(items) => {
            let mut k = 0;
            for it in items.iter() {
                copy_slot(it, src.add(k), dst.add(k), owners)?;
                k += it.slots();
            }
        }
        _ => std::ptr::copy_nonoverlapping(src, dst, t.slots().max(1)),
    }
    Ok(())
}

/// What the cell's thread sends while it runs.
enum Msg {
    Text(Stream, String),
    Display(Value),
    Clear(bool),
    Image(Vec<u8>, Option<String>),
}

struct Unit {
    lowered: lower::Lowered,
    compiled: Option<Compiled>,
    /// The cell's OpenCL kernels: the compiled code points at their specs, so they are
    /// dropped after it.
    kernels: codegen::opencl::Kernels,
    fresh: HashMap<String, Global>,
    funcs: HashMap<String, FnDef>,
}

/// A shape as NumPy prints it: `(3,)`, `(2, 3)`.
fn shape_text(s: &[i64]) -> String {
    match s {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            s.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

const KEYWORDS: &[&str] = &[
    "and", "break", "continue", "def", "elif", "else", "for", "from", "global", "if", "import",
    "in", "is", "not", "or", "pass", "return", "while", "True", "False", "None",
];

/// What follows `x.` besides methods: the attributes of arrays and numbers.
const ATTRIBUTES: &[&str] = &["shape", "size", "ndim", "dtype", "T", "real", "imag"];

/// Read a flattened value of type `t` at `p` as a `Value` (taking new references).
///
/// # Safety
/// `p` must point at `t.slots()` words holding a value of `t`.
pub unsafe fn read_slot(t: &Ty, p: *const u64) -> Value {
    match t {
        Ty::None => Value::None,
        Ty::DType { dtype, class } => Value::DType {
            name: dtype.numpy_name(),
            class: *class,
        },
        Ty::CType(_) | Ty::CLib(_) | Ty::CFunc { .. } | Ty::CPointer(_) => {
            Value::Opaque(crate::ffi::describe(t))
        }
        Ty::Bool => Value::Bool(*(p as *const u8) != 0),
        Ty::I64 => Value::Int(*(p as *const i64)),
        Ty::F64 => Value::Float(*(p as *const f64)),
        Ty::F32 => Value::F32(*(p as *const f32)),
        Ty::C128 => Value::Complex(*(p as *const f64), *(p.add(1) as *const f64)),
        Ty::Str => {
            let s = *(p as *const *const kiln_runtime::KStr);
            if s.is_null() {
                Value::None
            } else {
                Value::Str((*s).s.clone())
            }
        }
        Ty::Array { .. } => {
            let a = *(p as *const *mut kiln_runtime::Array);
            if a.is_null() {
                Value::None
            } else {
                Value::Array(Arc::new(ArrayRef::from_borrowed(a)))
            }
        }
        Ty::Tuple(items) => {
            let mut k = 0;
            let mut out = Vec::new();
            for it in items.iter() {
                out.push(read_slot(it, p.add(k)));
                k += it.slots();
            }
            Value::Tuple(out)
        }
        Ty::List(elem) => {
            let l = *(p as *const *const kiln_runtime::lists::KList);
            if l.is_null() {
                return Value::None;
            }
            let w = (*l).width as usize;
            let words = &(*l).words;
            let elem = match &**elem {
                Ty::None => Ty::I64,
                t => t.clone(),
            };
            Value::List(
                words
                    .chunks(w)
                    .map(|c| read_slot(&elem, c.as_ptr()))
                    .collect(),
            )
        }
        Ty::Optional(t) => {
            if *(p as *const u8) == 0 {
                Value::None
            } else {
                read_slot(t, p.add(1))
            }
        }
    }
}

/// Release the heap references a slot of type `t` holds.
///
/// # Safety
/// `p` must point at a slot of type `t`.
unsafe fn release_slot(t: &Ty, p: *const u64) {
    match t {
        Ty::Str | Ty::Array { .. } | Ty::List(_) => {
            kiln_runtime::kiln_decref(*(p as *const *mut u8))
        }
        Ty::Tuple(items) => {
            let mut k = 0;
            for it in items.iter() {
                release_slot(it, p.add(k));
                k += it.slots();
            }
        }
        _ => {}
    }
}

/// Copy a global's old value into its new slot when the new type widens the old one.
///
/// # Safety
/// Both pointers must point at slots of their types.
unsafe fn convert_slot(from: &Ty, src: *const u64, to: &Ty, dst: *mut u64) {
    let num = |t: &Ty, p: *const u64| -> Option<(f64, f64, i64)> {
        Some(match t {
            Ty::Bool => {
                let v = *(p as *const u8) as i64;
                (v as f64, 0.0, v)
            }
            Ty::I64 => {
                let v = *(p as *const i64);
                (v as f64, 0.0, v)
            }
            Ty::F64 => (*(p as *const f64), 0.0, 0),
            Ty::F32 => (*(p as *const f32) as f64, 0.0, 0),
            Ty::C128 => (*(p as *const f64), *(p.add(1) as *const f64), 0),
            _ => return None,
        })
    };
    if from.is_numeric() && to.is_numeric() && crate::types::converts_to(from, to) {
        let Some((re, im, i)) = num(from, src) else {
            return;
        };
        match to {
            Ty::I64 => *(dst as *mut i64) = i,
            Ty::F64 => *(dst as *mut f64) = re,
            Ty::F32 => *(dst as *mut f32) = re as f32,
            Ty::C128 => {
                *(dst as *mut f64) = re;
                *(dst.add(1) as *mut f64) = im;
            }
            Ty::Bool => *(dst as *mut u8) = (i != 0) as u8,
            _ => {}
        }
    } else if let (Ty::Tuple(a), Ty::Tuple(b)) = (from, to) {
        if a.len() == b.len() {
            let (mut i, mut j) = (0, 0);
            for (x, y) in a.iter().zip(b.iter()) {
                convert_slot(x, src.add(i), y, dst.add(j));
                i += x.slots();
                j += y.slots();
            }
        }
    } else if let (Ty::List(a), Ty::List(b)) = (from, to) {
        if !crate::types::converts_to(from, to) {
            return;
        }
        // A list whose element type a later cell widened: a new list of the converted
        // elements (an empty `[]` becomes an empty list of the new type).
        let old = *(src as *const *const kiln_runtime::lists::KList);
        if old.is_null() {
            return;
        }
        let wb: i64 = if **b == Ty::C128 { 2 } else { 1 };
        let new = kiln_runtime::lists::KList::new_raw(wb, (*old).len());
        let wa = (*old).width as usize;
        for chunk in (*old).words.chunks(wa) {
            let p = kiln_runtime::kiln_list_push(new as *mut u8);
            if **a == Ty::None {
                std::ptr::copy_nonoverlapping(chunk.as_ptr(), p, chunk.len().min(wb as usize));
            } else {
                convert_slot(a, chunk.as_ptr(), b, p);
            }
        }
        *(dst as *mut *mut kiln_runtime::lists::KList) = new;
    } else if let Ty::Optional(y) = to {
        // A number becomes a present optional; None stays absent (the new slot is zeroed).
        match from {
            Ty::Optional(x) => {
                *(dst as *mut u8) = *(src as *const u8);
                convert_slot(x, src.add(1), y, dst.add(1));
            }
            t if t.is_numeric() => {
                *(dst as *mut u8) = 1;
                convert_slot(t, src, y, dst.add(1));
            }
            _ => {}
        }
    }
}

impl Host for Session {
    fn define_c_functions(&mut self, funcs: Vec<crate::ffi::cell::CFunction>) {
        // One library number per `%%c` cell: its functions' signatures are their own.
        let lib = self.ffi.next_lib;
        self.ffi.next_lib += 1;
        self.ffi.c_cells.insert(lib);
        for f in funcs {
            let name: Rc<str> = f.name.as_str().into();
            self.ffi.sigs.insert((lib, name.clone()), f.sig);
            let mut g = Global::new(Ty::CFunc { lib, name });
            g.slot[0] = f.addr as u64;
            self.globals.insert(f.name, g);
        }
    }
    fn execute(&mut self, code: &str, sink: &mut dyn FnMut(Output)) -> ExecResult {
        self.execute_part(code, sink)
    }
    fn execute_repeat(
        &mut self,
        code: &str,
        repeat: u32,
        sink: &mut dyn FnMut(Output),
    ) -> ExecResult {
        self.repeat_part(code, repeat, sink)
    }
    fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }
    fn emit(&mut self, code: &str, stage: Stage) -> Result<String, CellError> {
        Session::emit(self, code, stage)
    }
    fn timings(&mut self) -> &mut Timings {
        &mut self.timings
    }
    fn settings(&mut self) -> &mut Settings {
        &mut self.settings
    }
    fn globals(&self) -> Vec<(String, String, String)> {
        Session::globals(self)
    }
    fn opencl_listings(&self, name: &str) -> Vec<String> {
        Session::opencl_listings(self, name)
    }
    fn reset(&mut self) {
        Session::reset(self)
    }
    fn snapshot(&self) -> Result<Snapshot, String> {
        Session::snapshot(self)
    }
    fn restore(&mut self, s: Snapshot) {
        Session::restore(self, s)
    }
}
