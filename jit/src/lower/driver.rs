//! The fixpoint driver: probe rounds over a cell's body until no variable type widens, then
//! the final round that lowers for real and reports errors (see the module docs of `lower`).

use super::*;

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
        name_uses: crate::parallel::NameUses::new(&input.module.body),
        comp_types: HashMap::new(),
        ffi: input.ffi.clone(),
        ffi_lib_sites: HashMap::new(),
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
        ffi: env.ffi,
    })
}

/// Names a block assigns (for deciding what is local to a function).
pub(crate) fn assigned_names(
    body: &[ast::Stmt],
    out: &mut HashSet<String>,
    globals: &mut HashSet<String>,
) {
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

impl<'a> Env<'a> {
    pub(crate) fn reset_round(&mut self) {
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
        self.ffi.sigs = self.input.ffi.sigs.clone();
    }

    // ----- the cell ------------------------------------------------------------------------

    pub(crate) fn lower_cell_body(&mut self, cx: &mut FnCx) -> LResult<(Vec<Stmt>, Ty)> {
        let module = self.input.module;
        let mut out = Vec::new();
        let n = module.body.len();
        let mut result_ty = Ty::None;
        for (k, s) in module.body.iter().enumerate() {
            // A `def` compiles to no code in the cell.
            if self.input.mark_lines && !matches!(s.kind, ast::StmtKind::FunctionDef(_)) {
                let site = self.site(cx, s.span);
                out.push(Stmt::Line(site));
            }
            let is_last = k + 1 == n;
            if is_last {
                if let ast::StmtKind::Expr(e) = &s.kind {
                    if !is_print_call(e) {
                        // An optional result shows its number, or nothing when None.
                        let outer = std::mem::take(&mut cx.pre);
                        let v = self.expr_opt(cx, e);
                        let mut pre = std::mem::replace(&mut cx.pre, outer);
                        if v.is_ok() {
                            out.append(&mut pre);
                        }
                        match v {
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

    pub(crate) fn skip_or_fail(&self, e: LErr) -> LResult<()> {
        match e {
            LErr::Unknown(d) if !self.probe => Err(LErr::Diag(d)),
            LErr::Unknown(_) => Ok(()),
            LErr::Diag(d) => Err(LErr::Diag(d)),
        }
    }
}
