//! One `@gpu` loop as a kernel: which of the function's variables it captures (kernel
//! arguments, read from the host's environment block) and which are private to a work-item,
//! the mapping of work-items to iterations (a 1–3-D NDRange, the loop's last index on
//! dimension 0), reductions through fixed work-group partials, and the assembled source.

use super::emit::{func_name, global_name, reduction_c, var_name, Emit, Unit};
use super::{gpu_err, GResult, Kernel, Options, BUILD_OPTIONS, LOCAL_SIZE};
use crate::codegen::walk::{assigned_places, visit, Node};
use crate::ir::{self, Expr, ExprKind, FuncId, Place, Program, Stmt};
use crate::syntax::ast::Target;
use crate::types::Ty;
use kiln_runtime::opencl::{ArgSource, KernelArg, KernelSpec, ReductionSpec, ScalarKind};
use std::collections::{BTreeSet, HashSet};

/// The `@gpu` loops of a body (outermost only: loops nested in one run inside its kernel).
pub(super) fn collect_gpu_loops<'a>(body: &'a [Stmt], out: &mut Vec<&'a Stmt>) {
    for s in body {
        match s {
            Stmt::For {
                target: Target::Gpu,
                par: Some(_),
                ..
            } => out.push(s),
            Stmt::For { body, .. } | Stmt::While { body, .. } => collect_gpu_loops(body, out),
            Stmt::If { then, els, .. } => {
                collect_gpu_loops(then, out);
                collect_gpu_loops(els, out);
            }
            _ => {}
        }
    }
}

/// Word offsets of the function's variables in the environment block the host packs (the
/// same layout as a `@par` loop's: every variable, flattened, in id order).
fn env_offsets(f: &ir::Func) -> Vec<usize> {
    let mut offs = Vec::new();
    let mut n = 0;
    for v in &f.vars {
        offs.push(n);
        n += v.ty.slots();
    }
    offs
}

/// Variables a body mentions, and those it assigns (private to an iteration).
fn var_uses(body: &[Stmt]) -> (BTreeSet<ir::VarId>, HashSet<ir::VarId>) {
    let mut used = BTreeSet::new();
    let mut assigned = HashSet::new();
    visit(body, &mut |n| match n {
        Node::Expr(Expr {
            kind: ExprKind::Var(v),
            ..
        }) => {
            used.insert(*v);
        }
        Node::Expr(Expr {
            kind: ExprKind::Let(v, ..),
            ..
        }) => {
            used.insert(*v);
            assigned.insert(*v);
        }
        _ => {}
    });
    assigned_places(body, &mut |p| {
        if let Place::Var(v) = p {
            used.insert(*v);
            assigned.insert(*v);
        }
    });
    (used, assigned)
}

/// Whether a function writes array elements (itself or through the functions it calls).
fn writes_elements(prog: &Program, f: FuncId, seen: &mut HashSet<FuncId>) -> bool {
    if !seen.insert(f) {
        return false;
    }
    let mut stores = false;
    let mut calls = Vec::new();
    visit(&prog.funcs[f as usize].body, &mut |n| match n {
        Node::Stmt(Stmt::Assign { place, .. }) => {
            let mut p = vec![place];
            while let Some(q) = p.pop() {
                match q {
                    Place::Elem { .. } => stores = true,
                    Place::Tuple(items) => p.extend(items.iter()),
                    _ => {}
                }
            }
        }
        Node::Expr(Expr {
            kind: ExprKind::Call { func, .. },
            ..
        }) => calls.push(*func),
        _ => {}
    });
    stores || calls.into_iter().any(|c| writes_elements(prog, c, seen))
}

/// The arrays (variables and globals) a kernel body may write: those it stores into, those
/// it passes to a function that stores into arrays, and, when it stores through an array
/// variable of its own, those it assigns to such variables.
fn written_arrays(prog: &Program, body: &[Stmt]) -> (HashSet<ir::VarId>, HashSet<ir::GlobalId>) {
    let mut vars = HashSet::new();
    let mut globals = HashSet::new();
    let mut through_private = false;
    fn mark(e: &Expr, vars: &mut HashSet<ir::VarId>, globals: &mut HashSet<ir::GlobalId>) {
        match e.kind {
            ExprKind::Var(v) => {
                vars.insert(v);
            }
            ExprKind::Global(g) => {
                globals.insert(g);
            }
            _ => {}
        }
    }
    let mut array_sources: Vec<&Expr> = Vec::new();
    visit(body, &mut |n| match n {
        Node::Stmt(Stmt::Assign { place, value }) => {
            let mut p = vec![place];
            while let Some(q) = p.pop() {
                match q {
                    Place::Elem { array, .. } => {
                        mark(array, &mut vars, &mut globals);
                        through_private |= matches!(array.kind, ExprKind::Var(_));
                    }
                    Place::Tuple(items) => p.extend(items.iter()),
                    Place::Var(_) if matches!(value.ty, Ty::Array { .. }) => {
                        array_sources.push(value)
                    }
                    _ => {}
                }
            }
        }
        Node::Expr(Expr {
            kind: ExprKind::Call { func, args, .. },
            ..
        }) if writes_elements(prog, *func, &mut HashSet::new()) => {
            for a in args {
                mark(a, &mut vars, &mut globals);
            }
        }
        _ => {}
    });
    if through_private {
        for e in array_sources {
            visit(&[Stmt::Eval(e.clone())], &mut |n| {
                if let Node::Expr(x) = n {
                    mark(x, &mut vars, &mut globals);
                }
            });
        }
    }
    (vars, globals)
}

fn scalar_kind(t: &Ty) -> Option<ScalarKind> {
    Some(match t {
        Ty::Bool => ScalarKind::Bool,
        Ty::I64 => ScalarKind::I64,
        Ty::F64 => ScalarKind::F64,
        Ty::F32 => ScalarKind::F32,
        Ty::C128 => ScalarKind::C128,
        _ => return None,
    })
}

/// The OpenCL type a scalar kernel argument arrives as (`bool` cannot be a kernel argument).
fn arg_ctype(k: &ScalarKind) -> &'static str {
    match k {
        ScalarKind::Bool => "uchar",
        ScalarKind::I64 => "long",
        ScalarKind::F64 => "double",
        ScalarKind::F32 => "float",
        ScalarKind::C128 => "double2",
    }
}

/// A captured value (a variable of the loop's function or a global) as kernel arguments:
/// the parameters it adds and the statements that rebuild it inside the kernel as `dest`.
struct Capture<'a> {
    params: &'a mut Vec<String>,
    args: &'a mut Vec<KernelArg>,
    prologue: &'a mut Vec<String>,
}

impl Capture<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        u: &mut Unit,
        ty: &Ty,
        dest: &str,
        pname: &str,
        src: &dyn Fn(usize) -> ArgSource,
        word: usize,
        written: bool,
        display: &str,
        site: ir::SiteId,
    ) -> GResult<usize> {
        match ty {
            Ty::Array { dtype, ndim } => {
                let nd = *ndim as usize;
                let elem = u.types.elem(*dtype);
                self.params.push(format!("__global {elem}* {pname}_d"));
                self.params.push(format!("long {pname}_off"));
                for k in 0..nd {
                    self.params.push(format!("long {pname}_n{k}"));
                }
                for k in 0..nd {
                    self.params.push(format!("long {pname}_s{k}"));
                }
                let _ = u.types.c(ty);
                // Bit j of KILN_C (set per launch by the runtime) says array argument j is
                // C-contiguous from its buffer's start: then its offset and strides are
                // known to the compiler, addresses are affine in the work-item id, and
                // PoCL vectorises across work-items (~1.4x on a plain elementwise kernel).
                let j = self
                    .args
                    .iter()
                    .filter(|a| matches!(a, KernelArg::Array { .. }))
                    .count();
                self.prologue.push(format!("{dest}.d = {pname}_d;"));
                for k in 0..nd {
                    self.prologue.push(format!("{dest}.n[{k}] = {pname}_n{k};"));
                }
                if j < 63 {
                    self.prologue.push(format!("#if (KILN_C >> {j}) & 1"));
                    self.prologue.push(format!("{dest}.off = 0;"));
                    for k in (0..nd).rev() {
                        let s = if k + 1 == nd {
                            "1L".to_string()
                        } else {
                            format!("{dest}.s[{}] * {dest}.n[{}]", k + 1, k + 1)
                        };
                        self.prologue.push(format!("{dest}.s[{k}] = {s};"));
                    }
                    self.prologue.push("#else".into());
                }
                self.prologue.push(format!("{dest}.off = {pname}_off;"));
                for k in 0..nd {
                    self.prologue.push(format!("{dest}.s[{k}] = {pname}_s{k};"));
                }
                if j < 63 {
                    self.prologue.push("#endif".into());
                }
                self.args.push(KernelArg::Array {
                    src: src(word),
                    ndim: nd,
                    dtype: *dtype,
                    written,
                    name: display.to_string(),
                });
                Ok(1)
            }
            Ty::Tuple(items) => {
                let mut w = 0;
                for (k, it) in items.iter().enumerate() {
                    w += self.add(
                        u,
                        it,
                        &format!("{dest}.f{k}"),
                        &format!("{pname}_{k}"),
                        src,
                        word + w,
                        written,
                        display,
                        site,
                    )?;
                }
                Ok(w)
            }
            Ty::None => Ok(0),
            t => {
                let Some(kind) = scalar_kind(t) else {
                    return gpu_err(
                        site,
                        format!("`{display}` is a {t}, which a @gpu body cannot use: kernels compute with numbers and arrays"),
                        "use it after the loop, on the host",
                    );
                };
                let _ = u.types.c(t);
                self.params.push(format!("{} {pname}", arg_ctype(&kind)));
                let v = if kind == ScalarKind::Bool {
                    format!("({pname} != 0)")
                } else {
                    pname.to_string()
                };
                self.prologue.push(format!("{dest} = {v};"));
                self.args.push(KernelArg::Scalar {
                    kind,
                    src: src(word),
                });
                Ok(t.slots())
            }
        }
    }
}

/// A user function called from a kernel, as an OpenCL C function (emitted once per kernel).
pub(super) fn check_function(u: &mut Unit, f: FuncId) -> GResult<()> {
    let prog = u.prog;
    let func = &prog.funcs[f as usize];
    let site = func.entry_site;
    let mut e = Emit::new(u, func, site);
    e.nonneg = super::nonneg::nonneg_vars(&func.body);
    let ret = e.cty(&func.ret, site)?;
    let mut params = Vec::new();
    for &p in &func.params {
        let ty = &func.vars[p as usize].ty;
        if *ty == Ty::None {
            continue;
        }
        let ct = e.cty(ty, site)?;
        params.push(format!("{ct} {}", var_name(func, p)));
    }
    params.push("__private kiln_ctx* C".into());
    let proto = format!("{ret} {}({})", func_name(prog, f), params.join(", "));
    // Every local, declared at the top with a zero value (C needs them declared; Kiln's
    // lowering has already checked that each is assigned before it is read).
    for (k, v) in func.vars.iter().enumerate() {
        if func.params.contains(&(k as u32)) || v.ty == Ty::None {
            continue;
        }
        let ct = e.cty(&v.ty, site)?;
        let z = e.zero(&v.ty, site)?;
        e.line(&format!("{ct} {} = {z};", var_name(func, k as u32)));
    }
    e.block(&func.body)?;
    let zero = e.zero(&func.ret, site)?;
    let fallback = if func.ret == Ty::None {
        "return;".to_string()
    } else {
        format!("return {zero};")
    };
    if e.out.contains("goto kfail;") {
        e.set_indent(0);
        e.line(&format!("kfail: {fallback}"));
    } else if func.ret == Ty::None {
        // Falling off the end returns None.
    } else {
        e.line(&fallback);
    }
    let body = std::mem::take(&mut e.out);
    u.func_texts
        .push((format!("{proto};\n"), format!("{proto} {{\n{body}}}\n")));
    Ok(())
}

/// The kernel of one `@gpu` loop of function `fi`.
pub(super) fn kernel(prog: &Program, fi: usize, st: &Stmt, opts: &Options) -> GResult<Kernel> {
    let Stmt::For {
        vars,
        ranges,
        body,
        site,
        par: Some(par),
        ..
    } = st
    else {
        return gpu_err(0, "a kernel from a non-parallel loop", "");
    };
    let site = *site;
    let func = &prog.funcs[fi];
    let ndim = ranges.len();
    if ndim > 3 {
        return gpu_err(
            site,
            format!("a @gpu loop runs over at most 3 dimensions (an OpenCL NDRange), not {ndim}"),
            "make the outer dimensions a serial loop around it",
        );
    }
    let name = format!("kiln_gpu{}_{}", par.id, super::ctypes::ident(&func.display));
    let mut u = Unit::new(prog, opts.bounds_checks);
    u.stack.push(fi as FuncId);

    let (mut used, assigned) = var_uses(body);
    let mut private: HashSet<ir::VarId> = assigned;
    for v in vars {
        if let Place::Var(id) = v {
            private.insert(*id);
            used.insert(*id);
        }
    }
    for r in &par.reductions {
        private.insert(r.acc);
        used.insert(r.acc);
    }
    let (written_vars, written_globals) = written_arrays(prog, body);

    // The body first: it finds the globals and functions the kernel needs.
    let mut e = Emit::new(&mut u, func, site);
    e.nonneg = super::nonneg::nonneg_vars(std::slice::from_ref(st));
    e.set_indent(if par.reductions.is_empty() { 2 } else { 3 });
    e.block(body)?;
    let body_text = std::mem::take(&mut e.out);
    let mut decls = Vec::new();
    for &v in &used {
        if private.contains(&v) {
            let ty = &func.vars[v as usize].ty;
            let ct = e.cty(ty, site)?;
            let z = e.zero(ty, site)?;
            decls.push(format!("{ct} {} = {z};", var_name(func, v)));
        }
    }
    drop(e);

    // The lane kernel's body, before the captures: it may name globals too.
    let lane_indent = if par.reductions.is_empty() { 1 } else { 2 };
    let lane = if !opts.lanes {
        Err("%vector off".to_string())
    } else {
        crate::codegen::lanes::plan(prog, fi as FuncId, st).and_then(|plan| {
            if !super::lanes::diverges(prog, &plan, body) {
                return Err("no control flow differs between iterations, and PoCL vectorises the one-iteration kernel itself".to_string());
            }
            let accs: Vec<ir::VarId> = par.reductions.iter().map(|r| r.acc).collect();
            super::lanes::body(
                &mut u,
                prog,
                fi,
                &plan,
                body,
                &used,
                &private,
                &accs,
                lane_indent,
            )
            .map(|b| (plan, b))
        })
    };

    let mut params: Vec<String> = Vec::new();
    for d in 0..ndim {
        params.push(format!("long start{d}, long step{d}, long count{d}"));
    }
    let mut args = Vec::new();
    let mut prologue = Vec::new();
    let offs = env_offsets(func);
    {
        let mut cap = Capture {
            params: &mut params,
            args: &mut args,
            prologue: &mut prologue,
        };
        for &v in &used {
            if private.contains(&v) {
                continue;
            }
            let ty = func.vars[v as usize].ty.clone();
            let dest = var_name(func, v);
            let ct = u.types.c(&ty).unwrap_or_default();
            if !ct.is_empty() && ty != Ty::None {
                cap.prologue.push(format!("{ct} {dest};"));
            }
            cap.add(
                &mut u,
                &ty,
                &dest,
                &format!("a{v}"),
                &|w| ArgSource::Env(w),
                offs[v as usize],
                written_vars.contains(&v),
                &func.vars[v as usize].name,
                site,
            )?;
        }
        for &g in &u.globals.clone() {
            let gr = &prog.globals[g as usize];
            let addr = gr.addr;
            cap.add(
                &mut u,
                &gr.ty.clone(),
                &format!("C->{}", global_name(prog, g)),
                &format!("gl{g}"),
                &|w| ArgSource::Global(addr + 8 * w),
                0,
                written_globals.contains(&g),
                &gr.name,
                site,
            )?;
        }
    }
    params.push("__global long* kerr".into());
    params.push("long only".into());
    let mut reductions = Vec::new();
    let mut red_locals = Vec::new();
    for (k, r) in par.reductions.iter().enumerate() {
        let storage = match &r.ty {
            Ty::Bool => "uchar".to_string(),
            t => u.types.c(t).map_err(|w| super::GpuError {
                site,
                message: format!("a reduction of {w}"),
                hint: None,
            })?,
        };
        if r.ty == Ty::C128 && r.op != ir::RedOp::Add {
            u.prelude.need("kiln_cmul");
        }
        params.push(format!("__global {storage}* partial{k}"));
        red_locals.push(format!("__local {storage} kred{k}[{LOCAL_SIZE}];"));
        reductions.push(ReductionSpec {
            op: r.op as i64,
            // The codes `kiln_par_for` uses, which the runtime's combine reads.
            ty: crate::codegen::clif::red_type_code(&r.ty).map_err(|m| super::GpuError {
                site,
                message: m,
                hint: None,
            })?,
        });
    }

    // The context struct: the error protocol and the globals' kernel copies.
    let mut ctx = String::from(
        "typedef struct {\n    __global long* err;  /* the error buffer */\n    long kk;             /* this work-item's iteration, row-major */\n    long only;           /* >= 0: replaying that one failed iteration */\n    int failed;\n",
    );
    for &g in &u.globals {
        let ct = u.types.c(&prog.globals[g as usize].ty).unwrap_or_default();
        ctx.push_str(&format!("    {ct} {};\n", global_name(prog, g)));
    }
    ctx.push_str("} kiln_ctx;\n");

    // The kernel's own text.
    let mut k = String::new();
    k.push_str(&format!(
        "__kernel void {name}(\n    {})\n{{\n",
        params.join(",\n    ")
    ));
    for l in &red_locals {
        k.push_str(&format!("    {l}\n"));
    }
    k.push_str("    kiln_ctx C0;\n    __private kiln_ctx* C = &C0;\n");
    k.push_str("    C->err = kerr; C->only = only; C->failed = 0; C->kk = 0;\n");
    for l in &prologue {
        k.push_str(&format!("    {l}\n"));
    }
    for l in &decls {
        k.push_str(&format!("    {l}\n"));
    }
    let counters: Vec<String> = vars
        .iter()
        .map(|v| match v {
            Place::Var(id) => var_name(func, *id),
            _ => String::new(),
        })
        .collect();
    // Row-major flat index → per-dimension indices, and the counters' values.
    let split = |from: &str, ind: &str| -> String {
        let mut s = format!("{ind}long r = {from};\n");
        for d in (0..ndim).rev() {
            if d == 0 {
                s.push_str(&format!("{ind}g0 = r;\n"));
            } else {
                s.push_str(&format!("{ind}g{d} = r % count{d}; r /= count{d};\n"));
            }
        }
        s
    };
    // A literal start and step go into the text: `i = g0` keeps addresses affine in the
    // work-item id, which PoCL's vectoriser needs (see nonneg.rs).
    let set_counters = |ind: &str| -> String {
        (0..ndim)
            .map(|d| {
                let value = match (&ranges[d].start.kind, &ranges[d].step.kind) {
                    (ExprKind::Int(0), ExprKind::Int(1)) => format!("g{d}"),
                    (ExprKind::Int(a), ExprKind::Int(b)) => format!("{a}L + {b}L * g{d}"),
                    _ => format!("start{d} + step{d} * g{d}"),
                };
                format!("{ind}{} = {value};\n", counters[d])
            })
            .collect()
    };
    let gdecl = (0..ndim)
        .map(|d| format!("g{d}"))
        .collect::<Vec<_>>()
        .join(", ");
    let uses_fail = body_text.contains("goto kfail;");
    let launch = if par.reductions.is_empty() {
        // Dimension 0 of the NDRange is the loop's last (fastest) index.
        k.push_str(&format!("    long {gdecl};\n"));
        for d in 0..ndim {
            k.push_str(&format!("    g{d} = get_global_id({});\n", ndim - 1 - d));
        }
        let last = ndim - 1;
        k.push_str(&format!(
            "    if (only < 0) {{\n        if (g{last} >= count{last}) return;\n    }} else {{\n        if (get_global_id(0) != 0) return;\n{}    }}\n",
            split("only", "        ")
        ));
        let flat = (1..ndim).fold("g0".to_string(), |acc, d| {
            format!("({acc}) * count{d} + g{d}")
        });
        k.push_str(&format!("    C->kk = {flat};\n"));
        k.push_str(&set_counters("    "));
        k.push_str("    do {\n");
        k.push_str(&body_text);
        k.push_str("    } while (0);\n");
        if uses_fail {
            k.push_str("kfail:\n#if !KILN_REPLAY\n    if (C->failed) atom_min((volatile __global long*)&kerr[0], C->kk);\n#endif\n    ;\n");
        }
        let dims: Vec<String> = (0..ndim)
            .rev()
            .enumerate()
            .map(|(g, d)| {
                if g == 0 {
                    format!("round_up(count{d}, {LOCAL_SIZE})")
                } else {
                    format!("count{d}")
                }
            })
            .collect();
        let local: Vec<String> = (0..ndim)
            .map(|g| {
                if g == 0 {
                    LOCAL_SIZE.to_string()
                } else {
                    "1".into()
                }
            })
            .collect();
        format!(
            "global ({}), local ({}); one work-item per iteration",
            dims.join(", "),
            local.join(", ")
        )
    } else {
        for red in &par.reductions {
            let (id, _) = reduction_c(red.op, &red.ty);
            let acc = var_name(func, red.acc);
            k.push_str(&format!("    {acc} = {id};\n"));
        }
        let total = (0..ndim)
            .map(|d| format!("count{d}"))
            .collect::<Vec<_>>()
            .join(" * ");
        k.push_str(&format!("    long {gdecl};\n    long total = {total};\n"));
        k.push_str("    long first = get_global_id(0), stride = get_global_size(0);\n");
        k.push_str("    if (only >= 0) { first = get_global_id(0) == 0 ? only : total; stride = total; }\n");
        k.push_str("    for (long kk = first; kk < total; kk += stride) {\n        C->kk = kk;\n");
        k.push_str(&split("kk", "        "));
        k.push_str(&set_counters("        "));
        k.push_str("        do {\n");
        k.push_str(&body_text);
        k.push_str("        } while (0);\n    }\n");
        if uses_fail {
            k.push_str("kfail:\n#if !KILN_REPLAY\n    if (C->failed) atom_min((volatile __global long*)&kerr[0], C->kk);\n#endif\n    ;\n");
        }
        k.push_str("    /* This work-group's partial: a fixed tree over its work-items. */\n    int lid = get_local_id(0);\n");
        for (r, red) in par.reductions.iter().enumerate() {
            let acc = var_name(func, red.acc);
            let store = if red.ty == Ty::Bool {
                format!("(uchar){acc}")
            } else {
                acc.clone()
            };
            k.push_str(&format!("    kred{r}[lid] = {store};\n"));
        }
        k.push_str("    barrier(CLK_LOCAL_MEM_FENCE);\n");
        k.push_str(&format!(
            "    for (int s = {}; s > 0; s >>= 1) {{\n        if (lid < s) {{\n",
            LOCAL_SIZE / 2
        ));
        for (r, red) in par.reductions.iter().enumerate() {
            let (_, comb) = reduction_c(red.op, &red.ty);
            let (a, b) = (format!("kred{r}[lid]"), format!("kred{r}[lid + s]"));
            let c = comb(&a, &b);
            k.push_str(&format!("            kred{r}[lid] = {c};\n"));
        }
        k.push_str(
            "        }\n        barrier(CLK_LOCAL_MEM_FENCE);\n    }\n    if (lid == 0) {\n",
        );
        for r in 0..par.reductions.len() {
            k.push_str(&format!(
                "        partial{r}[get_group_id(0)] = kred{r}[0];\n"
            ));
        }
        k.push_str("    }\n");
        format!(
            "global (min(ceil(N / {LOCAL_SIZE}), 256) * {LOCAL_SIZE}), local ({LOCAL_SIZE}) for N = {total} iterations; each work-item takes every global-size-th iteration, each work-group writes one partial per reduction, and the host combines the partials in group order"
        )
    };
    k.push_str("}\n");

    let mut src = String::from("#pragma OPENCL FP_CONTRACT OFF\n");
    let fp64 = u.types.fp64;
    if fp64 {
        src.push_str("#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
    }
    src.push_str("#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable\n");
    src.push_str("#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable\n");
    src.push_str("/* Bit j: array argument j is C-contiguous from its buffer's start (-DKILN_C=...,\n   chosen by the runtime at each launch). */\n#ifndef KILN_C\n#define KILN_C 0\n#endif\n/* 1 in the build that replays one failed iteration to record its error. */\n#ifndef KILN_REPLAY\n#define KILN_REPLAY 0\n#endif\n/* 1 in the build for CPU devices, which adds the lane kernel. */\n#ifndef KILN_LANES\n#define KILN_LANES 0\n#endif\n\n");
    src.push_str(&u.types.text());
    src.push_str(&ctx);
    src.push('\n');
    let prelude = u.prelude.text();
    if !prelude.is_empty() {
        src.push_str(&prelude);
        src.push('\n');
    }
    if !u.func_texts.is_empty() {
        for (p, _) in &u.func_texts {
            src.push_str(p);
        }
        src.push('\n');
        for (_, d) in &u.func_texts {
            src.push_str(d);
            src.push('\n');
        }
    }
    src.push_str(&k);
    let (lane_kernel, lanes_note) = match &lane {
        Ok((plan, b)) => {
            let (text, lane_launch) = super::lanes::kernel(
                &super::lanes::Shape {
                    name: &name,
                    params: &params,
                    prologue: &prologue,
                    red_locals: &red_locals,
                    ndim,
                    ranges,
                    counters: &counters,
                    func,
                    reductions: &par.reductions,
                    plan,
                },
                b,
            );
            src.push('\n');
            src.push_str(&text);
            (
                Some(format!("{name}_l{}", super::lanes::W)),
                format!(
                    "// lanes: {} iterations per work-item (double{}), kernel {name}_l{} on CPU devices\n// launch on CPU devices: {lane_launch}\n",
                    super::lanes::W,
                    super::lanes::W,
                    super::lanes::W
                ),
            )
        }
        Err(why) => (None, format!("// not vectorised: {why}\n")),
    };
    Ok(Kernel {
        par_id: par.id,
        func: func.display.clone(),
        spec: Box::new(KernelSpec {
            source: src,
            name,
            options: BUILD_OPTIONS.to_string(),
            ndim,
            args,
            reductions,
            errors: u.errors,
            uses_fp64: fp64,
            local_size: LOCAL_SIZE,
            lane_kernel,
            lane_width: super::lanes::W,
        }),
        launch,
        lanes_note,
    })
}
