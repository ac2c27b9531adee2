//! Statements: blocks, assignments (plain, augmented, tuple, slice and element stores), `if`,
//! `while`, `return`, `global`, and `print` as a statement.

use super::*;

pub(crate) fn collect_target_names(e: &ast::Expr, out: &mut Vec<String>) {
    match &e.kind {
        ast::ExprKind::Name(n) => out.push(n.clone()),
        ast::ExprKind::Tuple(items) | ast::ExprKind::List(items) => {
            items.iter().for_each(|i| collect_target_names(i, out))
        }
        _ => {}
    }
}

/// Can the end of this body be reached (so a function returns None there)? Conservative in
/// the other direction: only a last `return`, an `if` whose branches both end so, or a
/// `while True:` with no `break` of its own end a function.
pub(crate) fn may_fall_through(body: &[ast::Stmt]) -> bool {
    fn breaks(body: &[ast::Stmt]) -> bool {
        body.iter().any(|s| match &s.kind {
            ast::StmtKind::Break => true,
            ast::StmtKind::If { body, orelse, .. } => breaks(body) || breaks(orelse),
            _ => false,
        })
    }
    match body.last().map(|s| &s.kind) {
        Some(ast::StmtKind::Return(_)) => false,
        Some(ast::StmtKind::If { body, orelse, .. }) => {
            may_fall_through(body) || may_fall_through(orelse)
        }
        Some(ast::StmtKind::While { test, body }) => {
            !matches!(test.kind, ast::ExprKind::Bool(true)) || breaks(body)
        }
        _ => true,
    }
}

/// A tuple or an optional converted to a wider type is read item by item: one that is not a
/// name (a call's result) goes through a temporary first, so it is evaluated once.
fn hold_for_convert(cx: &mut FnCx, v: Expr, to: &Ty) -> (Vec<Stmt>, Expr) {
    let compound = matches!(v.ty, Ty::Tuple(_) | Ty::Optional(_));
    let simple = matches!(
        v.kind,
        ExprKind::Var(_) | ExprKind::Global(_) | ExprKind::Tuple(_)
    );
    if !compound || simple || v.ty == *to {
        return (vec![], v);
    }
    let ty = v.ty.clone();
    let tmp = cx.new_var("widen", ty.clone());
    (
        vec![Stmt::Assign {
            place: Place::Var(tmp),
            value: v,
        }],
        Expr::new(ExprKind::Var(tmp), ty),
    )
}

pub(crate) fn is_print_call(e: &ast::Expr) -> bool {
    matches!(&e.kind, ast::ExprKind::Call { func, .. } if matches!(&func.kind, ast::ExprKind::Name(n) if n == "print"))
}

impl<'a> Env<'a> {
    // ----- statements ------------------------------------------------------------------------

    pub(crate) fn block(&mut self, cx: &mut FnCx, body: &[ast::Stmt]) -> LResult<Vec<Stmt>> {
        let mut out = Vec::new();
        for s in body {
            if self.input.mark_lines && !matches!(s.kind, ast::StmtKind::FunctionDef(_)) {
                let site = self.site(cx, s.span);
                out.push(Stmt::Line(site));
            }
            match self.stmt(cx, s) {
                Ok(mut v) => out.append(&mut v),
                Err(e) => self.skip_or_fail(e)?,
            }
        }
        Ok(out)
    }

    pub(crate) fn stmt(&mut self, cx: &mut FnCx, s: &ast::Stmt) -> LResult<Vec<Stmt>> {
        // The loops of the list comprehensions in the statement run first (`lists.rs`).
        let outer = std::mem::take(&mut cx.pre);
        let out = self.stmt_here(cx, s);
        let mut pre = std::mem::replace(&mut cx.pre, outer);
        let mut out = out?;
        if pre.is_empty() {
            return Ok(out);
        }
        pre.append(&mut out);
        Ok(pre)
    }

    fn stmt_here(&mut self, cx: &mut FnCx, s: &ast::Stmt) -> LResult<Vec<Stmt>> {
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
            Target::Gpu if cx.par.is_none() => ir::MapThreads::Gpu,
            _ => ir::MapThreads::Serial,
        };
        self.map_threads.set(threads);
        self.annotated_maps.set(0);
        let out = self.stmt_kind(cx, s);
        self.map_threads.set(ir::MapThreads::Auto);
        let out = out?;
        // `@par y = zeros(n)`: a whole-array value with nothing to split (Numba's `parallel=True`
        // accepts such lines too) runs as written.
        let whole_array_value = target == Target::Par
            && out.iter().any(|st| {
                matches!(st, Stmt::Assign { value, .. } if matches!(value.ty, Ty::Array { .. }))
            });
        if self.annotated_maps.get() == 0 && !whole_array_value {
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
        if threads == ir::MapThreads::Gpu {
            return self.gpu_assignment(cx, out, span);
        }
        Ok(out)
    }

    /// Where a whole-array loop made now runs (see `map_threads`).
    pub(crate) fn new_map_threads(&self) -> ir::MapThreads {
        let t = self.map_threads.get();
        if t != ir::MapThreads::Auto {
            self.annotated_maps.set(self.annotated_maps.get() + 1);
        }
        t
    }

    /// `assert test, msg`: when `test` is false, AssertionError with `str(msg)` (evaluated
    /// only then, as Python does) or no message.
    fn assert_stmt(
        &mut self,
        cx: &mut FnCx,
        test: &ast::Expr,
        msg: Option<&ast::Expr>,
    ) -> LResult<Vec<Stmt>> {
        let t = self.expr(cx, test)?;
        let ok = self.truth(t, test.span)?;
        let text = match msg {
            Some(m) => {
                let v = self.expr(cx, m)?;
                self.format(cx, v, "", false, m.span)?
            }
            None => Expr::new(ExprKind::Str("".into()), Ty::Str),
        };
        let site = self.site(cx, msg.map_or(test.span, |m| test.span.to(m.span)));
        let fail = Expr::new(
            ExprKind::Builtin {
                op: Builtin::AssertFail,
                args: vec![text],
                site,
            },
            Ty::None,
        );
        let failed = Expr::new(ExprKind::Unary(ir::UnOp::Not, Box::new(ok)), Ty::Bool);
        Ok(vec![Stmt::If {
            cond: failed,
            then: vec![Stmt::Eval(fail)],
            els: vec![],
        }])
    }

    pub(crate) fn stmt_kind(&mut self, cx: &mut FnCx, s: &ast::Stmt) -> LResult<Vec<Stmt>> {
        match &s.kind {
            ast::StmtKind::Expr(e) => {
                if let Some(p) = self.try_print(cx, e)? {
                    return Ok(vec![p]);
                }
                let v = self.expr(cx, e)?;
                Ok(vec![Stmt::Eval(v)])
            }
            ast::StmtKind::Assign { targets, value } => {
                if let [target] = &targets[..] {
                    if let Some(done) = self.ffi_declare(cx, target, value)? {
                        return Ok(done);
                    }
                }
                if let Some(done) = self.jit_wrap_assign(cx, targets, value)? {
                    return Ok(done);
                }
                // A name may take a value that may be None; an element or a tuple may not.
                let v = if targets
                    .iter()
                    .all(|t| matches!(t.kind, ast::ExprKind::Name(_)))
                {
                    self.expr_opt(cx, value)?
                } else {
                    self.expr(cx, value)?
                };
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
                if matches!(cur.ty, Ty::List(_)) && *op == ast::BinOp::Add {
                    // `xs += ys` extends the list in place, as Python does.
                    let e = self.list_extend(cx, cur, rhs, value.span, s.span)?;
                    return Ok(vec![Stmt::Eval(e)]);
                }
                if matches!(cur.ty, Ty::List(_)) && *op == ast::BinOp::Mul && rhs.ty.is_int_like() {
                    let n = cast(rhs, Ty::I64);
                    let e = self.list_op(
                        cx,
                        ir::ListOp::RepeatInPlace,
                        vec![cur, n],
                        Ty::None,
                        s.span,
                    );
                    return Ok(vec![Stmt::Eval(e)]);
                }
                let advanced = matches!(
                    &cur.kind,
                    ExprKind::Builtin {
                        op: Builtin::MaskSelect | Builtin::Take,
                        ..
                    }
                );
                if matches!(cur.ty, Ty::Array { .. }) && !advanced {
                    // NumPy: `a += b` writes into a's memory (views included); `a[m] += b`
                    // is `a[m] = a[m] + b` (a copy read, then written back).
                    let dest = cur.clone();
                    let new = self.binary(cx, *op, cur, rhs, s.span)?;
                    return self.map_into(cx, dest, new, s.span).map(|s| vec![s]);
                }
                // An element of a narrow integer array is a NumPy scalar of its type there:
                // `a[i] += 1` wraps (only a Python int operand must fit the type).
                let narrow = match &cur.kind {
                    ExprKind::Index { array, .. } => match array.ty {
                        Ty::Array { dtype, .. } if dtype.narrow_int().is_some() => Some(dtype),
                        _ => None,
                    },
                    _ => None,
                };
                let rhs = match narrow {
                    Some(d) => self.fit_narrow(cx, rhs, d, value.span)?,
                    None => rhs,
                };
                let mut new = self.binary(cx, *op, cur, rhs, s.span)?;
                if let Some(d) = narrow.filter(|_| new.ty == Ty::I64) {
                    new = self.builtin(cx, Builtin::WrapInt(d), vec![new], Ty::I64, s.span);
                }
                self.assign(cx, target, new, s.span)
            }
            ast::StmtKind::If { test, body, orelse } => {
                let cond = self.expr_opt(cx, test)?;
                let cond = self.truth(cond, test.span)?;
                let then = self.block(cx, body)?;
                let els = self.block(cx, orelse)?;
                Ok(vec![Stmt::If { cond, then, els }])
            }
            ast::StmtKind::While { test, body } => {
                cx.no_hoist += 1;
                let cond = self.expr_opt(cx, test);
                cx.no_hoist -= 1;
                let cond = self.truth(cond?, test.span)?;
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
            ast::StmtKind::Assert { test, msg } => self.assert_stmt(cx, test, msg.as_ref()),
            ast::StmtKind::Return(e) => {
                if cx.is_cell {
                    return err(ErrorKind::SyntaxError, s.span, "'return' outside function");
                }
                let v = match e {
                    Some(e) => self.expr_opt(cx, e)?,
                    None => Expr::none(),
                };
                let span = e.as_ref().map(|e| e.span).unwrap_or(s.span);
                let target = match (&cx.ret_annot, &cx.ret) {
                    (Some(t), _) => t.clone(),
                    (None, None) => {
                        // A function that can end without a `return` also returns None.
                        let t = if cx.falls_through && v.ty.is_numeric() {
                            Ty::optional(v.ty.clone())
                        } else {
                            v.ty.clone()
                        };
                        cx.ret = Some(t.clone());
                        self.changed = true;
                        t
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
                            let e = type_err::<()>(
                                span,
                                format!(
                                    "`{}` returns {} here but {} elsewhere; a function returns one type",
                                    cx.display, v.ty, old
                                ),
                            )
                            .unwrap_err();
                            return Err(if v.ty == Ty::None || *old == Ty::None {
                                with_hint(e, "a function can return None on some paths only where it returns a number on the others (an optional number)")
                            } else {
                                e
                            });
                        }
                    },
                };
                if let Some(id) = cx.id {
                    self.in_progress.insert(id, Some(target.clone()));
                }
                // `return f()` of a function returning None still calls it.
                let mut out = Vec::new();
                let v = if v.ty == Ty::None && !matches!(v.kind, ExprKind::None) {
                    out.push(Stmt::Eval(v));
                    Expr::none()
                } else {
                    v
                };
                let (mut held, v) = hold_for_convert(cx, v, &target);
                out.append(&mut held);
                let v = self.convert(v, &target, span)?;
                out.push(Stmt::Return(if v.ty == Ty::None { None } else { Some(v) }));
                Ok(out)
            }
            ast::StmtKind::FunctionDef(_) => {
                if !cx.is_cell {
                    return err(
                        ErrorKind::SyntaxError,
                        s.span,
                        "nested functions are not supported in Kiln; define it at the top level",
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
                if [
                    "numpy",
                    "math",
                    "cmath",
                    "sys",
                    "numba",
                    "matplotlib",
                    "ctypes",
                ]
                .contains(&root)
                {
                    Ok(vec![])
                } else {
                    err(
                        ErrorKind::NameError,
                        s.span,
                        format!("No module named '{module}' in Kiln (numpy, math, sys, numba, matplotlib and ctypes are accepted and do nothing)"),
                    )
                }
            }
        }
    }

    /// `fast = njit(f)` (and the other spellings `jit_wrapped` knows): the session made
    /// `fast` a name of the function `f` when it read the cell, so there is nothing to run.
    /// `None` when the statement is not such a wrapping.
    fn jit_wrap_assign(
        &mut self,
        cx: &mut FnCx,
        targets: &[ast::Expr],
        value: &ast::Expr,
    ) -> LResult<Option<Vec<Stmt>>> {
        let funcs = self.input.funcs;
        if funcs.contains_key("njit") || funcs.contains_key("jit") {
            return Ok(None);
        }
        let Some((f, f_span)) = jit_wrapped(value) else {
            return Ok(None);
        };
        if !funcs.contains_key(f) {
            if self.global_ty(f).is_some() || cx.locals.contains_key(f) {
                return type_err(
                    f_span,
                    format!(
                        "njit() and jit() take a function defined with def; '{f}' is a variable"
                    ),
                )
                .map(Some);
            }
            return err(
                ErrorKind::NameError,
                f_span,
                format!("name '{f}' is not defined"),
            )
            .map_err(|e| with_hint(e, "njit(f) wraps a function defined with def"))
            .map(Some);
        }
        let names = targets
            .iter()
            .all(|t| matches!(&t.kind, ast::ExprKind::Name(_)));
        let registered = targets
            .iter()
            .all(|t| matches!(&t.kind, ast::ExprKind::Name(n) if funcs.contains_key(n)));
        if cx.is_cell && names && !registered {
            // The `def` comes later in the cell: Python has no `f` yet either.
            return err(
                ErrorKind::NameError,
                f_span,
                format!("name '{f}' is not defined"),
            )
            .map_err(|e| with_hint(e, format!("define {f} before wrapping it")))
            .map(Some);
        }
        if !cx.is_cell || !names {
            return type_err(
                value.span,
                "a function wrapped with njit() can only be given a name at the top level of a cell",
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "functions are not values in Kiln: write `fast = njit(f)` outside any def, or call f directly",
                )
            })
            .map(Some);
        }
        Ok(Some(vec![]))
    }

    /// `x, y = p` for an array `p`: NumPy arrays unpack like sequences, into their elements
    /// (1-D) or rows, after Python's length check (a ValueError that says how many there were).
    fn unpack_array(
        &mut self,
        cx: &mut FnCx,
        items: &[ast::Expr],
        v: Expr,
        span: Span,
    ) -> LResult<Vec<Stmt>> {
        let Ty::Array { dtype, ndim } = v.ty else {
            unreachable!("unpack_array of an array")
        };
        let arr_ty = v.ty.clone();
        let n = items.len() as i64;
        let tmp = cx.new_var("unpack", arr_ty.clone());
        let read = || Expr::new(ExprKind::Var(tmp), arr_ty.clone());
        let mut out = vec![Stmt::Assign {
            place: Place::Var(tmp),
            value: v,
        }];
        let site = self.site(cx, span);
        let len = Expr::new(
            ExprKind::Builtin {
                op: Builtin::Dim(0),
                args: vec![read()],
                site,
            },
            Ty::I64,
        );
        let len_var = cx.new_var("unpack_len", Ty::I64);
        let len_read = || Expr::new(ExprKind::Var(len_var), Ty::I64);
        out.push(Stmt::Assign {
            place: Place::Var(len_var),
            value: len,
        });
        let raise = |msg: Expr| {
            Stmt::Eval(Expr::new(
                ExprKind::Builtin {
                    op: Builtin::Raise(ErrorKind::ValueError),
                    args: vec![msg],
                    site,
                },
                Ty::None,
            ))
        };
        let text = |s: String| Expr::new(ExprKind::Str(s.into()), Ty::Str);
        let too_many = raise(text(format!("too many values to unpack (expected {n})")));
        let got = self.format(cx, len_read(), "", false, span)?;
        let msg = self.builtin(
            cx,
            Builtin::Concat,
            vec![
                text(format!("not enough values to unpack (expected {n}, got ")),
                got,
            ],
            Ty::Str,
            span,
        );
        let msg = self.builtin(
            cx,
            Builtin::Concat,
            vec![msg, text(")".into())],
            Ty::Str,
            span,
        );
        let cmp = |op, k: i64| {
            Expr::new(
                ExprKind::Compare(op, Box::new(len_read()), Box::new(Expr::int(k))),
                Ty::Bool,
            )
        };
        out.push(Stmt::If {
            cond: cmp(ir::CmpOp::Ne, n),
            then: vec![Stmt::If {
                cond: cmp(ir::CmpOp::Gt, n),
                then: vec![too_many],
                els: vec![raise(msg)],
            }],
            els: vec![],
        });
        for (k, item) in items.iter().enumerate() {
            let elem = if ndim == 1 {
                Expr::new(
                    ExprKind::Index {
                        array: Box::new(read()),
                        index: vec![Expr::int(k as i64)],
                        site,
                    },
                    Ty::from_dtype(dtype),
                )
            } else {
                // Row k, a view: `a[k]`.
                let absent = || Expr::int(i64::MIN);
                self.builtin(
                    cx,
                    Builtin::Slice(1),
                    vec![
                        read(),
                        Expr::int(0),
                        Expr::int(k as i64),
                        absent(),
                        absent(),
                    ],
                    Ty::array(dtype, ndim as usize - 1),
                    span,
                )
            };
            out.extend(self.assign(cx, item, elem, span)?);
        }
        Ok(out)
    }

    /// Assign `v` to the target expression.
    pub(crate) fn assign(
        &mut self,
        cx: &mut FnCx,
        target: &ast::Expr,
        v: Expr,
        span: Span,
    ) -> LResult<Vec<Stmt>> {
        match &target.kind {
            ast::ExprKind::Tuple(items) | ast::ExprKind::List(items)
                if matches!(v.ty, Ty::Array { .. }) =>
            {
                self.unpack_array(cx, items, v, span)
            }
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
                let (mut out, v) = hold_for_convert(cx, v, &t);
                let v = self.convert(v, &t, target.span)?;
                out.push(Stmt::Assign { place, value: v });
                Ok(out)
            }
            ast::ExprKind::Subscript { value, index } => {
                let arr = match &value.kind {
                    // `a.flat[i] = v` writes into `a` itself.
                    ast::ExprKind::Attribute {
                        value: inner, attr, ..
                    } if attr == "flat" => {
                        let a = self.expr(cx, inner)?;
                        match a.ty {
                            Ty::Array { dtype, .. } => self.builtin(
                                cx,
                                Builtin::FlatView,
                                vec![a],
                                Ty::array(dtype, 1),
                                value.span,
                            ),
                            _ => self.attribute(cx, inner, attr, value.span, value.span)?,
                        }
                    }
                    _ => self.expr(cx, value)?,
                };
                if matches!(arr.ty, Ty::List(_)) {
                    return self.list_set(cx, arr, index, v, target.span);
                }
                let Ty::Array { dtype, ndim } = arr.ty else {
                    return type_err(
                        value.span,
                        format!("'{}' object does not support item assignment", arr.ty),
                    );
                };
                let first = match self.mask_column(cx, &arr, index, target.span)? {
                    Ok((col, mask)) => {
                        return self.mask_assign(cx, col, mask, v, target.span, span)
                    }
                    Err(Some(first)) => Some(first),
                    Err(None) => self.array_index(cx, index)?,
                };
                if let Some(ix) = first
                    .as_ref()
                    .filter(|ix| matches!(ix.ty, Ty::Array { .. }))
                {
                    return self.mask_assign(cx, arr, ix.clone(), v, target.span, span);
                }
                let tuple_idx = self.tuple_index(cx, index, ndim as usize, target.span)?;
                let is_view = tuple_idx.is_none()
                    && (index
                        .iter()
                        .any(|i| matches!(i.kind, ast::ExprKind::Slice { .. }))
                        || index.len() < ndim as usize);
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
                let idx = match tuple_idx {
                    Some(idx) => idx,
                    None => self.indices(cx, index, first, ndim as usize, target.span)?,
                };
                let elem = Ty::from_dtype(dtype);
                let v = self.fit_narrow(cx, v, dtype, span)?;
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

    pub(crate) fn try_print(&mut self, cx: &mut FnCx, e: &ast::Expr) -> LResult<Option<Stmt>> {
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
            vals.push(self.expr_opt(cx, a)?);
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
}
