//! Calls: user functions (argument binding, per-type instances lowered on first use) and the
//! dispatch of every other call to a method or a builtin.

use super::*;

/// Strips a module prefix: `np.zeros` → ("zeros", Some("np")).
pub(crate) fn callee_name(e: &ast::Expr) -> Option<(String, Option<&'static str>)> {
    match &e.kind {
        ast::ExprKind::Name(n) => Some((n.clone(), None)),
        ast::ExprKind::Attribute { value, attr, .. } => {
            let module = module_of(value)?;
            Some((attr.clone(), Some(module)))
        }
        _ => None,
    }
}

/// `njit`, `jit`, `numba.njit`, `nb.jit` as written before a call.
fn is_jit_name(e: &ast::Expr) -> bool {
    match callee_name(e) {
        Some((n, None | Some("numba"))) => n == "njit" || n == "jit",
        _ => false,
    }
}

/// A Numba decorator called as a function on a name: `njit(f)`, `jit(f, nopython=True)`,
/// `numba.njit(f)`, `njit(parallel=True)(f)`, `jit(nopython=True)(f)`: the name `f` and its
/// span. Like `@njit` on a `def`, the wrapper changes nothing: the result is `f` itself.
/// (A session function called `njit` or `jit` shadows the decorator; the caller checks.)
pub(crate) fn jit_wrapped(e: &ast::Expr) -> Option<(&str, Span)> {
    let ast::ExprKind::Call {
        func,
        args,
        keywords,
    } = &e.kind
    else {
        return None;
    };
    let arg = if is_jit_name(func) {
        // `njit(f, ...)`: the function first, options after it.
        args.first()?
    } else {
        // `njit(...)(f)`: the decorator made with options, then called on the function.
        let ast::ExprKind::Call { func: inner, .. } = &func.kind else {
            return None;
        };
        if !is_jit_name(inner) || args.len() != 1 || !keywords.is_empty() {
            return None;
        }
        &args[0]
    };
    match &arg.kind {
        ast::ExprKind::Name(f) => Some((f.as_str(), arg.span)),
        _ => None,
    }
}

/// `np`, `numpy.random`, `math`, ... as the module prefix of a call.
pub(crate) fn module_of(e: &ast::Expr) -> Option<&'static str> {
    match &e.kind {
        ast::ExprKind::Name(m) => Some(match m.as_str() {
            "np" | "numpy" => "np",
            "math" | "cmath" => "math",
            "numba" | "nb" => "numba",
            "sys" => "sys",
            "plt" | "pyplot" => "plt",
            "ctypes" => "ctypes",
            _ => return None,
        }),
        // ctypes.util.find_library, ctypes.cdll.LoadLibrary, np.ctypeslib.ndpointer.
        ast::ExprKind::Attribute { value, attr, .. } if attr == "util" || attr == "cdll" => {
            module_of(value).filter(|m| *m == "ctypes")
        }
        ast::ExprKind::Attribute { value, attr, .. } if attr == "ctypeslib" => {
            module_of(value).filter(|m| *m == "np").map(|_| "ctypes")
        }
        // matplotlib.pyplot.plot
        ast::ExprKind::Attribute { value, attr, .. } if attr == "pyplot" => {
            matches!(&value.kind, ast::ExprKind::Name(m) if m == "matplotlib").then_some("plt")
        }
        // np.random.rand, np.linalg.norm: the submodule's functions are builtins too.
        ast::ExprKind::Attribute { value, attr, .. } if attr == "random" || attr == "linalg" => {
            module_of(value).filter(|m| *m == "np")
        }
        _ => None,
    }
}

/// `np.linalg.norm` as written, for messages.
fn dotted_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ast::ExprKind::Name(n) => Some(n.clone()),
        ast::ExprKind::Attribute { value, attr, .. } => {
            Some(format!("{}.{attr}", dotted_name(value)?))
        }
        _ => None,
    }
}

pub(crate) const MODULES: &[&str] = &[
    "np",
    "numpy",
    "math",
    "cmath",
    "numba",
    "nb",
    "sys",
    "plt",
    "pyplot",
    "matplotlib",
    "ctypes",
];

impl<'a> Env<'a> {
    // ----- calls -------------------------------------------------------------------------------

    /// Whether `name` means a module here (`np`, `math`, ...): it does unless a global of the
    /// session shadows it.
    pub(crate) fn names_module(&self, name: &str) -> bool {
        MODULES.contains(&name) && self.global_ty(name).is_none()
    }

    pub(crate) fn call(
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
                ast::ExprKind::Name(m) => self.names_module(m),
                _ => module_of(value).is_some(),
            };
            if let ast::ExprKind::Attribute {
                value: arr,
                attr: ct,
                ..
            } = &value.kind
            {
                if ct == "ctypes" && !is_module {
                    return self.array_ctypes(cx, arr, attr, Some((args, keywords)), span);
                }
            }
            if !is_module {
                let recv = self.expr(cx, value)?;
                if matches!(recv.ty, Ty::CLib(_)) {
                    let f = self.ffi_symbol(cx, recv, attr, func.span);
                    return self.ffi_call(cx, f, args, keywords, span);
                }
                if matches!(recv.ty, Ty::List(_)) {
                    return self
                        .list_method(cx, recv, value, attr, *attr_span, args, keywords, span);
                }
                if attr == "format" && recv.ty == Ty::Str {
                    return self.str_format(cx, recv, args, keywords, value.span, span);
                }
                return self.method(cx, recv, attr, *attr_span, args, keywords, span);
            }
        }
        let Some((name, module)) = callee_name(func) else {
            return type_err(func.span, "only named functions can be called in Kiln");
        };
        if module.is_none() && self.names_c_function(cx, &name) {
            let f = self.expr(cx, func)?;
            return self.ffi_call(cx, f, args, keywords, span);
        }
        if module.is_none() {
            if let Some(def) = self.input.funcs.get(&name).cloned() {
                return self.call_user(cx, &name, &def, args, keywords, span);
            }
        }
        if module.is_none() && !self.input.funcs.contains_key(&name) {
            if let Some(v) = self.list_call(cx, &name, args, keywords, span)? {
                return Ok(v);
            }
        }
        let Some(def) = builtins::lookup(&name) else {
            let hint = similar_name(&name, self, cx).map(|s| format!("did you mean '{s}'?"));
            let written = dotted_name(func).unwrap_or_else(|| name.clone());
            return Err(builtins::unknown(
                &name,
                &written,
                module.is_some(),
                span,
                hint,
            ));
        };
        let written = builtins::CallSyntax {
            name: &name,
            module,
            span,
            keywords,
            method: false,
        };
        builtins::lower_call(self, cx, def, written, None, args)
    }

    /// `recv.name(args)`: a builtin that has the receiver's type as a method, called with the
    /// receiver as its first argument.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn method(
        &mut self,
        cx: &mut FnCx,
        recv: Expr,
        name: &str,
        name_span: Span,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        let def = builtins::lookup(name).filter(|d| builtins::is_method_of(d, &recv.ty));
        let Some(def) = def else {
            return Err(builtins::unknown_method(&recv.ty, name, name_span));
        };
        let written = builtins::CallSyntax {
            name,
            module: None,
            span,
            keywords,
            method: true,
        };
        builtins::lower_call(self, cx, def, written, Some(recv), args)
    }

    pub(crate) fn call_user(
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
            // A number or None passes as it is (the parameter is then optional too).
            slots[k] = Some(self.expr_opt(cx, a)?);
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
            slots[k] = Some(self.expr_opt(cx, &kw.value)?);
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
                    let v = self.unwrap_opt(cx, v, span);
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
        // A parameter the body widens (`p += 0.5` with an int `p`) has the unified type in
        // the instance (one type per variable, SPEC §2): the argument is widened to it.
        if let Some(f) = &self.funcs[id as usize] {
            let param_tys: Vec<Ty> = f
                .params
                .iter()
                .map(|&v| f.vars[v as usize].ty.clone())
                .collect();
            vals = vals
                .into_iter()
                .zip(&param_tys)
                .map(|(v, t)| self.convert(v, t, span))
                .collect::<LResult<Vec<Expr>>>()?;
        }
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
    pub(crate) fn instance(
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

    pub(crate) fn lower_instance(
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
            falls_through: may_fall_through(&d.body),
            loop_depth: 0,
            par: None,
            id: Some(id),
            temps: Vec::new(),
            temp_cursor: 0,
            pre: Vec::new(),
            no_hoist: 0,
            comp_scopes: Vec::new(),
            comp_vars: HashMap::new(),
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
}
