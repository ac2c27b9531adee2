//! `for` loops over `range`, `prange`, `ndrange` and arrays, with their annotations
//! (`@par`, `@serial`, `@gpu`) and the private names and reductions of a parallel body.

use super::*;

impl<'a> Env<'a> {
    pub(crate) fn for_loop(
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
                        return type_err(iter.span, "iterating over the rows of a multi-dimensional array is not supported in Kiln")
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
        // A parallel loop nested in another one runs serially on the worker that owns it.
        if cx.par.is_some() {
            loop_target = Target::Serial;
        }
        let mut target_names: Vec<String> = Vec::new();
        collect_target_names(target, &mut target_names);
        if loop_target == Target::Gpu {
            let print_is_builtin = !self.input.funcs.contains_key("print");
            crate::parallel::check_device_body(body, print_is_builtin).map_err(LErr::Diag)?;
        }
        let plan = if matches!(loop_target, Target::Par | Target::Gpu) {
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
    pub(crate) fn for_body(
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
}
