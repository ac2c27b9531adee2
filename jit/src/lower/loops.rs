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
        let mut elem_source: Option<Elements> = None;
        // Whether one name takes the whole index tuple even over one axis (`ndindex`).
        let mut index_tuples = false;
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
                let (start, stop, step) = range_bounds(vals);
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
            Some((name, args, keywords))
                if name == "ndindex" && !self.input.funcs.contains_key(&name) =>
            {
                // `np.ndindex(a.shape)` or `np.ndindex(3, 4)`: index tuples, row-major, as
                // ndrange's (a one-axis index is a 1-tuple, as NumPy's).
                index_tuples = true;
                if !keywords.is_empty() || args.is_empty() {
                    return type_err(
                        iter.span,
                        "ndindex() takes a shape: ndindex(a.shape) or ndindex(3, 4)",
                    );
                }
                let mut extents = Vec::new();
                for a in args {
                    let v = self.expr(cx, a)?;
                    match &v.ty {
                        Ty::Tuple(ts) if args.len() == 1 => {
                            let ts = ts.to_vec();
                            let held = if matches!(v.kind, ExprKind::Var(_)) || ts.is_empty() {
                                v
                            } else {
                                hold_always(cx, v, "shape", &mut out)
                            };
                            for (k, t) in ts.into_iter().enumerate() {
                                let item = Expr::new(
                                    ExprKind::TupleGet(Box::new(held.clone()), k as u32),
                                    t,
                                );
                                extents.push((self.int_arg(item, a.span, "ndindex")?, a.span));
                            }
                        }
                        _ => extents.push((self.int_arg(v, a.span, "ndindex")?, a.span)),
                    }
                }
                if extents.is_empty() || extents.len() > 4 {
                    return type_err(iter.span, "ndindex() takes 1 to 4 integer extents in Kiln");
                }
                for (stop, _) in extents {
                    ranges.push(ir::Range {
                        start: Expr::int(0),
                        stop,
                        step: Expr::int(1),
                    });
                }
            }
            _ => {
                let (elems, len) = self.iter_elements(cx, iter, &mut out)?;
                elem_source = Some(elems);
                ranges.push(ir::Range {
                    start: Expr::int(0),
                    stop: len,
                    step: Expr::int(1),
                });
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
        let result = self.for_body(
            cx,
            target,
            body,
            &counters,
            elem_source,
            ranges.len(),
            index_tuples,
        );
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
        body: &[ast::Stmt],
        counters: &[ir::VarId],
        elem_source: Option<Elements>,
        nranges: usize,
        index_tuples: bool,
    ) -> LResult<Vec<Stmt>> {
        let counter = |k: usize| Expr::new(ExprKind::Var(counters[k]), Ty::I64);
        let target_items: Vec<&ast::Expr> = match &target.kind {
            ast::ExprKind::Tuple(items) if nranges > 1 || index_tuples => items.iter().collect(),
            _ => vec![target],
        };
        let mut body_pre = Vec::new();
        if let Some(elems) = elem_source {
            let e = elems.element(&counter(0));
            body_pre.extend(self.assign(cx, target, e, target.span)?);
        } else if target_items.len() == nranges
            && (!index_tuples || matches!(target.kind, ast::ExprKind::Tuple(_)))
        {
            for (k, t) in target_items.iter().enumerate() {
                body_pre.extend(self.assign(cx, t, counter(k), t.span)?);
            }
        } else if nranges > 1 || index_tuples {
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

    /// What `for ... in iter` runs over when `iter` is not a range: a 1-D array, or
    /// `enumerate(...)` / `zip(...)` of arrays and ranges (nested as Python allows). Each
    /// operand is evaluated once, before the loop, into a hidden variable (`out`); returns the
    /// elements and the loop's trip count (the shortest operand's, as `zip` stops).
    fn iter_elements(
        &mut self,
        cx: &mut FnCx,
        iter: &ast::Expr,
        out: &mut Vec<Stmt>,
    ) -> LResult<(Elements, Expr)> {
        let site = self.site(cx, iter.span);
        if let ast::ExprKind::Call {
            func,
            args,
            keywords,
        } = &iter.kind
        {
            let name = callee_name(func).map(|(n, _)| n);
            let builtin = |n: &str| name.as_deref() == Some(n) && !self.input.funcs.contains_key(n);
            if builtin("enumerate") {
                let start_kw = keywords.iter().find(|k| k.name == "start");
                if let Some(k) = keywords.iter().find(|k| k.name != "start") {
                    return type_err(
                        k.span,
                        format!(
                            "'{}' is an invalid keyword argument for enumerate()",
                            k.name
                        ),
                    );
                }
                let start = match (args.as_slice(), start_kw) {
                    ([_], None) => None,
                    ([_, s], None) | ([_], Some(ast::Keyword { value: s, .. })) => Some(s),
                    ([_, _], Some(_)) => {
                        return type_err(
                            iter.span,
                            "argument for enumerate() given by name ('start') and position (2)",
                        )
                    }
                    _ => {
                        return type_err(
                            iter.span,
                            format!("enumerate() takes 1 or 2 arguments ({} given)", args.len()),
                        )
                    }
                };
                let start = match start {
                    Some(s) => {
                        let v = self.expr(cx, s)?;
                        let v = self.int_arg(v, s.span, "enumerate")?;
                        hold_const(cx, out, "start", v)
                    }
                    None => Expr::int(0),
                };
                let (inner, len) = self.iter_elements(cx, &args[0], out)?;
                let elems = Elements::Enumerate {
                    start,
                    inner: Box::new(inner),
                    site,
                };
                return Ok((elems, len));
            }
            if builtin("zip") {
                if let Some(k) = keywords.first() {
                    return type_err(
                        k.span,
                        format!("zip() takes no keyword argument '{}' in Kiln", k.name),
                    );
                }
                if args.is_empty() {
                    return type_err(
                        iter.span,
                        "zip() of no iterables runs no iterations: give it at least one",
                    );
                }
                let mut items = Vec::new();
                let mut len: Option<Expr> = None;
                for a in args {
                    let (e, n) = self.iter_elements(cx, a, out)?;
                    items.push(e);
                    let n = hold_const(cx, out, "len", n);
                    len = Some(match len {
                        None => n,
                        Some(m) => if_less(n.clone(), m.clone(), n, m),
                    });
                }
                return Ok((Elements::Zip(items), len.unwrap()));
            }
            if builtin("reversed") {
                if !keywords.is_empty() || args.len() != 1 {
                    return type_err(
                        iter.span,
                        format!(
                            "reversed() takes exactly one argument ({} given)",
                            args.len()
                        ),
                    );
                }
                let (inner, len) = self.iter_elements(cx, &args[0], out)?;
                if matches!(inner, Elements::Enumerate { .. } | Elements::Zip(_)) {
                    return type_err(
                        args[0].span,
                        "reversed() of enumerate() or zip() is not supported in Kiln (Python rejects it too)",
                    );
                }
                let len = hold_const(cx, out, "len", len);
                let elems = Elements::Reversed {
                    inner: Box::new(inner),
                    len: len.clone(),
                    site,
                };
                return Ok((elems, len));
            }
            if builtin("range") && !keywords.is_empty() {
                return type_err(iter.span, "range() takes no keyword arguments");
            }
            if builtin("range") && (1..=3).contains(&args.len()) {
                return self.range_elements(cx, args, site, out);
            }
        }
        let arr = self.expr(cx, iter)?;
        match &arr.ty {
            Ty::Array { dtype, ndim: 1 } => {
                let elem_ty = Ty::from_dtype(*dtype);
                let var = hold_always(cx, arr, "iter", out);
                let dim = Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::Dim(0),
                        args: vec![var.clone()],
                        site: 0,
                    },
                    Ty::I64,
                );
                Ok((Elements::Array { var, elem_ty, site }, dim))
            }
            Ty::List(_) => {
                let elem_ty = self.list_elem(&arr.ty, iter.span)?;
                let var = hold_always(cx, arr, "iter", out);
                let len = self.list_op(cx, ir::ListOp::Len, vec![var.clone()], Ty::I64, iter.span);
                Ok((Elements::List { var, elem_ty, site }, len))
            }
            Ty::Array { .. } => {
                type_err(iter.span, "iterating over the rows of a multi-dimensional array is not supported in Kiln")
                    .map_err(|e| with_hint(e, "loop over `ndrange(*a.shape)` or `range(len(a))` instead"))
            }
            t => type_err(
                iter.span,
                format!("a for loop runs over range(), prange(), ndrange(), a 1-D array, enumerate() or zip(), not a {t}"),
            ),
        }
    }

    /// `range(...)` as an operand of `zip`/`enumerate`: its k-th value is `start + k * step`.
    /// The step must be a constant there (its sign decides how the length is counted).
    fn range_elements(
        &mut self,
        cx: &mut FnCx,
        args: &[ast::Expr],
        site: ir::SiteId,
        out: &mut Vec<Stmt>,
    ) -> LResult<(Elements, Expr)> {
        let mut vals = Vec::new();
        for a in args {
            let v = self.expr(cx, a)?;
            vals.push(self.int_arg(v, a.span, "range")?);
        }
        let step = if vals.len() == 3 {
            match vals.pop().unwrap().kind {
                ExprKind::Int(0) => {
                    return err(
                        ErrorKind::ValueError,
                        args[2].span,
                        "range() arg 3 must not be zero",
                    )
                }
                ExprKind::Int(k) => k,
                _ => {
                    return type_err(
                        args[2].span,
                        "range() inside zip() or enumerate() takes a constant step in Kiln",
                    )
                }
            }
        } else {
            1
        };
        let stop = hold_const(cx, out, "stop", vals.pop().unwrap());
        let start = match vals.pop() {
            Some(v) => hold_const(cx, out, "start", v),
            None => Expr::int(0),
        };
        // Python's len(range(start, stop, step)): max(0, ceil((stop - start) / step)).
        let (from, to, by) = if step > 0 {
            (start.clone(), stop, step)
        } else {
            (stop, start.clone(), -step)
        };
        let span_len = int_op(ir::BinOp::Sub, to, from, site);
        let rounded_up = int_op(ir::BinOp::Add, span_len, Expr::int(by - 1), site);
        let n = int_op(ir::BinOp::FloorDiv, rounded_up, Expr::int(by), site);
        let n = hold_const(cx, out, "len", n);
        let len = if_less(n.clone(), Expr::int(0), Expr::int(0), n);
        Ok((Elements::Range { start, step, site }, len))
    }
}

/// `v` evaluated once, before the loop (a constant is its own value).
fn hold_const(cx: &mut FnCx, out: &mut Vec<Stmt>, name: &str, v: Expr) -> Expr {
    match v.kind {
        ExprKind::Int(_) => v,
        _ => hold_always(cx, v, name, out),
    }
}

/// An `i64` operation of the loop's bookkeeping.
fn int_op(op: ir::BinOp, a: Expr, b: Expr, site: ir::SiteId) -> Expr {
    Expr::new(
        ExprKind::Binary(op, Box::new(a), Box::new(b), site),
        Ty::I64,
    )
}

/// `if a < b { then } else { els }`, of `i64`s.
fn if_less(a: Expr, b: Expr, then: Expr, els: Expr) -> Expr {
    let less = Expr::new(
        ExprKind::Compare(ir::CmpOp::Lt, Box::new(a), Box::new(b)),
        Ty::Bool,
    );
    Expr::new(
        ExprKind::Select(Box::new(less), Box::new(then), Box::new(els)),
        Ty::I64,
    )
}

/// The values a `for` loop's target takes when the loop is not over ranges: the element for
/// the loop's hidden counter `k`.
pub(crate) enum Elements {
    /// `for x in a`: `a[k]` (a 1-D array held in a hidden variable).
    Array {
        var: Expr,
        elem_ty: Ty,
        site: ir::SiteId,
    },
    /// `range(start, stop, step)` inside `zip`/`enumerate`: `start + k * step`.
    Range {
        start: Expr,
        step: i64,
        site: ir::SiteId,
    },
    /// `enumerate(inner, start)`: `(start + k, inner's element)`.
    Enumerate {
        start: Expr,
        inner: Box<Elements>,
        site: ir::SiteId,
    },
    /// `zip(a, b, ...)`: the tuple of each operand's element.
    Zip(Vec<Elements>),
    /// `for x in xs` of a list: `xs[k]` (the list held in a hidden variable; its length is
    /// read when the loop starts, and an element removed since is an IndexError).
    List {
        var: Expr,
        elem_ty: Ty,
        site: ir::SiteId,
    },
    /// `reversed(inner)`: inner's element `len - 1 - k`.
    Reversed {
        inner: Box<Elements>,
        len: Expr,
        site: ir::SiteId,
    },
}

impl Elements {
    fn element(&self, k: &Expr) -> Expr {
        match self {
            Elements::Array { var, elem_ty, site } => Expr::new(
                ExprKind::Index {
                    array: Box::new(var.clone()),
                    index: vec![k.clone()],
                    site: *site,
                },
                elem_ty.clone(),
            ),
            Elements::Range { start, step, site } => {
                let scaled = int_op(ir::BinOp::Mul, k.clone(), Expr::int(*step), *site);
                int_op(ir::BinOp::Add, start.clone(), scaled, *site)
            }
            Elements::Enumerate { start, inner, site } => {
                let i = int_op(ir::BinOp::Add, start.clone(), k.clone(), *site);
                tuple(vec![i, inner.element(k)])
            }
            Elements::Zip(items) => tuple(items.iter().map(|e| e.element(k)).collect()),
            Elements::List { var, elem_ty, site } => Expr::new(
                ExprKind::Builtin {
                    op: Builtin::List(ir::ListOp::Get),
                    args: vec![var.clone(), k.clone()],
                    site: *site,
                },
                elem_ty.clone(),
            ),
            Elements::Reversed { inner, len, site } => {
                let last = int_op(ir::BinOp::Sub, len.clone(), Expr::int(1), *site);
                inner.element(&int_op(ir::BinOp::Sub, last, k.clone(), *site))
            }
        }
    }
}

fn tuple(items: Vec<Expr>) -> Expr {
    let ty = Ty::tuple(items.iter().map(|e| e.ty.clone()).collect());
    Expr::new(ExprKind::Tuple(items), ty)
}

/// `range`'s one to three arguments as (start, stop, step).
pub(crate) fn range_bounds(mut vals: Vec<Expr>) -> (Expr, Expr, Expr) {
    match vals.len() {
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
    }
}
