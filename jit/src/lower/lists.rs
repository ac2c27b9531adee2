//! Lists, as Numba's reflected lists: homogeneous lists of scalars shared by reference.
//! Literals, `[x] * n`, `+`, indexing and element assignment, the methods (`append`, `pop`,
//! `insert`, `sort`, `reverse`, `copy`), `in`, `len`/`sum`/`min`/`max`, `sorted`, `list`,
//! `np.array(xs)` and comprehensions (one `for`, an optional `if`). The operations are
//! `ir::ListOp`s, whose instructions are in `builtins/lists.rs`.
//!
//! A comprehension is a loop, and expressions have no statements: its loop is lowered into
//! `FnCx::pre`, which the statement that contains it puts first (`Env::stmt`). Where that
//! would change when it runs (inside `and`/`or`, a conditional expression or a `while`
//! condition) it is an error.

use super::*;
use crate::ir::ListOp;

const LIST_HINT: &str = "Kiln lists hold numbers of one type (bool, int, float or complex)";

impl<'a> Env<'a> {
    pub(crate) fn list_op(
        &mut self,
        cx: &FnCx,
        op: ListOp,
        args: Vec<Expr>,
        ty: Ty,
        span: Span,
    ) -> Expr {
        self.builtin(cx, Builtin::List(op), args, ty, span)
    }

    /// Lists cannot be used in a parallel body (appends from parallel iterations would race).
    fn no_par_list(&self, cx: &FnCx, span: Span) -> LResult<()> {
        if cx.par.is_some() {
            return err(
                ErrorKind::SyntaxError,
                span,
                "lists cannot be used in a @par or @gpu loop's body: its iterations run at the same time",
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "make an array before the loop (a = np.array(xs), or zeros(n)) and index it",
                )
            });
        }
        Ok(())
    }

    /// A list value read by name inside a parallel body is an error (see `no_par_list`).
    pub(crate) fn check_par_list(&self, cx: &FnCx, v: &Expr, span: Span) -> LResult<()> {
        if matches!(v.ty, Ty::List(_)) {
            self.no_par_list(cx, span)?;
        }
        Ok(())
    }

    /// The element type of a list, which an empty literal may not know yet.
    pub(crate) fn list_elem(&self, list: &Ty, span: Span) -> LResult<Ty> {
        match list.list_elem() {
            Some(Ty::None) => Err(LErr::Unknown(
                Diagnostic::new(
                    ErrorKind::TypeError,
                    span,
                    "the type of this empty list's elements is not known: nothing is appended to it",
                )
                .with_hint("start it with a typed empty list such as `[0.0] * 0`, or with its first element"),
            )),
            Some(t) => Ok(t.clone()),
            None => type_err(span, format!("a list is expected here, not a {}", list)),
        }
    }

    /// Checks that a value can be a list's element: a number.
    fn element_value(&self, v: &Expr, span: Span) -> LResult<()> {
        let what = match &v.ty {
            t if t.is_numeric() => return Ok(()),
            Ty::List(_) => "lists of lists are not supported in Kiln",
            Ty::Array { .. } => "lists of arrays are not supported in Kiln",
            Ty::Tuple(_) => "lists of tuples are not supported in Kiln",
            Ty::Str => "lists of strings are not supported in Kiln",
            _ => "this value cannot be a list's element",
        };
        let hint = match &v.ty {
            Ty::List(_) | Ty::Array { .. } => {
                "use a 2-D array: np.array([[1, 2], [3, 4]]), or zeros((n, m)) filled row by row"
            }
            _ => LIST_HINT,
        };
        type_err(span, format!("{what} (this element is a {})", v.ty))
            .map_err(|e| with_hint(e, hint))
    }

    /// `[a, b, c]`: the element type is the items' common type (int and float give float).
    pub(crate) fn list_literal(
        &mut self,
        cx: &mut FnCx,
        items: &[ast::Expr],
        span: Span,
    ) -> LResult<Expr> {
        self.no_par_list(cx, span)?;
        let mut vals = Vec::new();
        let mut elem = Ty::None;
        for it in items {
            let v = self.expr(cx, it)?;
            self.element_value(&v, it.span)?;
            elem = if elem == Ty::None {
                v.ty.clone()
            } else {
                match promote(&elem, &v.ty) {
                    Some(t) => t,
                    None => {
                        return type_err(
                            it.span,
                            format!(
                                "a list has one element type: a {} and a {} do not mix",
                                elem, v.ty
                            ),
                        )
                    }
                }
            };
            vals.push(v);
        }
        let vals = vals.into_iter().map(|v| cast(v, elem.clone())).collect();
        Ok(self.list_op(cx, ListOp::Lit, vals, Ty::list(elem), span))
    }

    /// `xs[i]`.
    pub(crate) fn list_get(
        &mut self,
        cx: &mut FnCx,
        list: Expr,
        index: &[ast::Expr],
        span: Span,
    ) -> LResult<Expr> {
        let i = self.list_index(cx, index, span)?;
        let elem = self.list_elem(&list.ty, span)?;
        Ok(self.list_op(cx, ListOp::Get, vec![list, i], elem, span))
    }

    fn list_index(&mut self, cx: &mut FnCx, index: &[ast::Expr], span: Span) -> LResult<Expr> {
        match index {
            [i] if matches!(i.kind, ast::ExprKind::Slice { .. }) => {
                type_err(i.span, "list slices are not supported in Kiln").map_err(|e| {
                    with_hint(e, "copy with list(xs), or make an array: np.array(xs)[a:b]")
                })
            }
            [i] => {
                let v = self.expr(cx, i)?;
                match v.ty {
                    Ty::I64 | Ty::Bool => Ok(cast(v, Ty::I64)),
                    t => type_err(i.span, format!("list indices must be integers, not {t}")),
                }
            }
            _ => type_err(span, "list indices must be integers, not tuple"),
        }
    }

    /// `xs[i] = v`.
    pub(crate) fn list_set(
        &mut self,
        cx: &mut FnCx,
        list: Expr,
        index: &[ast::Expr],
        v: Expr,
        span: Span,
    ) -> LResult<Vec<Stmt>> {
        let i = self.list_index(cx, index, span)?;
        let elem = self.list_elem(&list.ty, span)?;
        let v = self.element_of(v, &elem, span)?;
        Ok(vec![Stmt::Eval(self.list_op(
            cx,
            ListOp::Set,
            vec![list, i, v],
            Ty::None,
            span,
        ))])
    }

    /// `v` converted to a list's element type `elem`, or the error that says it cannot be.
    fn element_of(&self, v: Expr, elem: &Ty, span: Span) -> LResult<Expr> {
        self.element_value(&v, span)?;
        if crate::types::converts_to(&v.ty, elem) {
            return Ok(cast(v, elem.clone()));
        }
        type_err(
            span,
            format!(
                "a {} cannot be stored in a list[{elem}]: a list has one element type",
                v.ty
            ),
        )
        .map_err(|e| {
            with_hint(
                e,
                "start the list with values of the wider type, e.g. [0.0] for floats",
            )
        })
    }

    /// `xs.name(args)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn list_method(
        &mut self,
        cx: &mut FnCx,
        recv: Expr,
        recv_ast: &ast::Expr,
        name: &str,
        name_span: Span,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        let nargs = |lo: usize, hi: usize| -> LResult<()> {
            if let Some(k) = keywords
                .iter()
                .find(|k| !(name == "sort" && k.name == "reverse"))
            {
                return type_err(
                    k.span,
                    format!("list.{name}() takes no keyword argument '{}'", k.name),
                );
            }
            if args.len() < lo || args.len() > hi {
                let want = if lo == hi {
                    format!("exactly {lo} argument{}", if lo == 1 { "" } else { "s" })
                } else {
                    format!("at most {hi} argument{}", if hi == 1 { "" } else { "s" })
                };
                return type_err(
                    span,
                    format!("list.{name}() takes {want} ({} given)", args.len()),
                );
            }
            Ok(())
        };
        match name {
            "append" => {
                nargs(1, 1)?;
                let v = self.expr(cx, &args[0])?;
                self.element_value(&v, args[0].span)?;
                let mut list = recv;
                // An empty literal takes its element type from the first append.
                if list.ty.list_elem() == Some(&Ty::None) {
                    if let ast::ExprKind::Name(n) = &recv_ast.kind {
                        let (_, t) = self.name_place(cx, n, &Ty::list(v.ty.clone()), span)?;
                        list.ty = t;
                    }
                }
                let elem = self.list_elem(&list.ty, recv_ast.span)?;
                let v = self.element_of(v, &elem, args[0].span)?;
                Ok(self.list_op(cx, ListOp::Append, vec![list, v], Ty::None, span))
            }
            "insert" => {
                nargs(2, 2)?;
                let i = self.list_index(cx, &args[..1], span)?;
                let v = self.expr(cx, &args[1])?;
                let elem = self.list_elem(&recv.ty, recv_ast.span)?;
                let v = self.element_of(v, &elem, args[1].span)?;
                Ok(self.list_op(cx, ListOp::Insert, vec![recv, i, v], Ty::None, span))
            }
            "pop" => {
                nargs(0, 1)?;
                let elem = self.list_elem(&recv.ty, recv_ast.span)?;
                let mut operands = vec![recv];
                if !args.is_empty() {
                    operands.push(self.list_index(cx, args, span)?);
                }
                let op = ListOp::Pop {
                    index: operands.len() == 2,
                };
                Ok(self.list_op(cx, op, operands, elem, span))
            }
            "sort" => {
                nargs(0, 0)?;
                let reverse = self.reverse_kw(cx, keywords)?;
                self.sortable(&recv.ty, span)?;
                let op = ListOp::Sort {
                    reverse,
                    copy: false,
                };
                Ok(self.list_op(cx, op, vec![recv], Ty::None, span))
            }
            "reverse" => {
                nargs(0, 0)?;
                let op = ListOp::Reverse { copy: false };
                Ok(self.list_op(cx, op, vec![recv], Ty::None, span))
            }
            "extend" => {
                nargs(1, 1)?;
                let other = self.expr(cx, &args[0])?;
                self.list_extend(cx, recv, other, args[0].span, span)
            }
            "copy" => {
                nargs(0, 0)?;
                let ty = recv.ty.clone();
                Ok(self.list_op(cx, ListOp::Copy, vec![recv], ty, span))
            }
            _ => type_err(name_span, format!("'list' object has no method '{name}' in Kiln"))
                .map_err(|e| {
                    with_hint(
                        e,
                        "lists have append, extend, pop, insert, sort, reverse and copy; for more, make an array: np.array(xs)",
                    )
                }),
        }
    }

    /// `xs.extend(ys)` and `xs += ys`: in place, as Python (a name bound to the same list
    /// sees the new elements).
    pub(crate) fn list_extend(
        &mut self,
        cx: &FnCx,
        list: Expr,
        other: Expr,
        other_span: Span,
        span: Span,
    ) -> LResult<Expr> {
        let Ty::List(_) = other.ty else {
            return type_err(
                other_span,
                format!("a list extends by a list in Kiln, not by a {}", other.ty),
            );
        };
        let elem = self.list_elem(&list.ty, span)?;
        let other = match other.ty.list_elem() {
            Some(e) if e == &elem || *e == Ty::None => {
                Expr::new(other.kind, Ty::list(elem.clone()))
            }
            _ => self.convert(other, &Ty::list(elem.clone()), other_span)?,
        };
        Ok(self.list_op(cx, ListOp::Extend, vec![list, other], Ty::None, span))
    }

    fn reverse_kw(&mut self, cx: &mut FnCx, keywords: &[ast::Keyword]) -> LResult<bool> {
        let Some(k) = keywords.iter().find(|k| k.name == "reverse") else {
            return Ok(false);
        };
        match self.expr(cx, &k.value)?.kind {
            ExprKind::Bool(b) => Ok(b),
            ExprKind::Int(i) => Ok(i != 0),
            _ => type_err(
                k.value.span,
                "reverse= takes a constant in Kiln: True or False",
            ),
        }
    }

    fn sortable(&self, list: &Ty, span: Span) -> LResult<()> {
        if self.list_elem(list, span)? == Ty::C128 {
            return type_err(
                span,
                "'<' not supported between instances of 'complex' and 'complex'",
            );
        }
        Ok(())
    }

    /// `sorted(xs)`, `list(xs)`, `list(range(...))`, `list(reversed(xs))` and `list()`:
    /// `None` when `name` is none of these, or its argument is not a list or a range.
    pub(crate) fn list_call(
        &mut self,
        cx: &mut FnCx,
        name: &str,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Option<Expr>> {
        if !matches!(name, "sorted" | "list" | "reversed") {
            return Ok(None);
        }
        if name == "reversed" {
            return type_err(
                span,
                "reversed() is supported only as what a `for` loop runs over in Kiln",
            )
            .map_err(|e| with_hint(e, "for x in reversed(xs): ..., or make a reversed copy: ys = list(xs); ys.reverse()"))
            .map(Some);
        }
        if let Some(k) = keywords
            .iter()
            .find(|k| !(name == "sorted" && k.name == "reverse"))
        {
            return type_err(
                k.span,
                format!("'{}' is an invalid keyword argument for {name}()", k.name),
            );
        }
        self.no_par_list(cx, span)?;
        if name == "list" && args.is_empty() {
            return Ok(Some(self.list_op(
                cx,
                ListOp::Lit,
                vec![],
                Ty::list(Ty::None),
                span,
            )));
        }
        if args.len() != 1 {
            let what = if name == "list" {
                "at most 1 argument"
            } else {
                "exactly 1 positional argument"
            };
            return type_err(
                span,
                format!("{name}() takes {what} ({} given)", args.len()),
            );
        }
        let arg = &args[0];
        if let ast::ExprKind::Call {
            func,
            args: rargs,
            keywords: rkw,
        } = &arg.kind
        {
            let inner = callee_name(func).map(|(n, _)| n);
            let builtin =
                |n: &str| inner.as_deref() == Some(n) && !self.input.funcs.contains_key(n);
            if builtin("range") && rkw.is_empty() && (1..=3).contains(&rargs.len()) {
                let mut vals = Vec::new();
                for a in rargs {
                    let v = self.expr(cx, a)?;
                    vals.push(self.int_arg(v, a.span, "range")?);
                }
                if vals.len() == 3 && matches!(vals[2].kind, ExprKind::Int(0)) {
                    return err(
                        ErrorKind::ValueError,
                        rargs[2].span,
                        "range() arg 3 must not be zero",
                    );
                }
                let (start, stop, step) = super::loops::range_bounds(vals);
                let l = self.list_op(
                    cx,
                    ListOp::Range,
                    vec![start, stop, step],
                    Ty::list(Ty::I64),
                    span,
                );
                if name == "list" {
                    return Ok(Some(l));
                }
                let reverse = self.reverse_kw(cx, keywords)?;
                let op = ListOp::Sort {
                    reverse,
                    copy: true,
                };
                return Ok(Some(self.list_op(cx, op, vec![l], Ty::list(Ty::I64), span)));
            }
            if builtin("reversed") && rkw.is_empty() && rargs.len() == 1 && name == "list" {
                let v = self.expr(cx, &rargs[0])?;
                if matches!(v.ty, Ty::List(_)) {
                    let ty = v.ty.clone();
                    let op = ListOp::Reverse { copy: true };
                    return Ok(Some(self.list_op(cx, op, vec![v], ty, span)));
                }
                return type_err(
                    rargs[0].span,
                    format!(
                        "list(reversed(...)) takes a list or a range in Kiln, not a {}",
                        v.ty
                    ),
                );
            }
        }
        let v = self.expr(cx, arg)?;
        if !matches!(v.ty, Ty::List(_)) {
            let hint = if matches!(v.ty, Ty::Array { .. }) {
                "Kiln keeps arrays as arrays: index them, or copy one with a.copy()"
            } else {
                "give it a list or a range"
            };
            return type_err(
                arg.span,
                format!("{name}() of a {} is not supported in Kiln", v.ty),
            )
            .map_err(|e| with_hint(e, hint))
            .map(Some);
        }
        let ty = v.ty.clone();
        if name == "list" {
            return Ok(Some(self.list_op(cx, ListOp::Copy, vec![v], ty, span)));
        }
        let reverse = self.reverse_kw(cx, keywords)?;
        if ty.list_elem() != Some(&Ty::None) {
            self.sortable(&ty, arg.span)?;
        }
        let op = ListOp::Sort {
            reverse,
            copy: true,
        };
        Ok(Some(self.list_op(cx, op, vec![v], ty, span)))
    }

    /// A builtin function called with a list argument: `len`, `sum`, `min`, `max` and
    /// `array`/`asarray` take one; anything else is a TypeError that says so.
    pub(crate) fn list_builtin(
        &mut self,
        cx: &mut FnCx,
        name: &str,
        args: Vec<(Expr, Span)>,
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        let ok = matches!(
            name,
            "len" | "sum" | "min" | "max" | "any" | "all" | "array" | "asarray"
        ) && args.len() == 1
            && matches!(args[0].0.ty, Ty::List(_));
        let dtype_kw = keywords.iter().find(|k| k.name == "dtype");
        if !ok
            || keywords.iter().any(|k| k.name != "dtype")
            || (dtype_kw.is_some() && !name.contains("array"))
        {
            return type_err(span, format!("{name}() does not take a list in Kiln"))
                .map_err(|e| with_hint(e, "make an array of it first: np.array(xs)"));
        }
        let (v, vspan) = args.into_iter().next().unwrap();
        let ty = v.ty.clone();
        Ok(match name {
            "len" => self.list_op(cx, ListOp::Len, vec![v], Ty::I64, span),
            "sum" => {
                let elem = match self.list_elem(&ty, vspan) {
                    Ok(t) => t,
                    // sum([]) is 0.
                    Err(LErr::Unknown(_)) => return Ok(Expr::int(0)),
                    Err(e) => return Err(e),
                };
                let t = if elem == Ty::Bool { Ty::I64 } else { elem };
                self.list_op(cx, ListOp::Reduce(0), vec![v], t, span)
            }
            "any" | "all" => {
                let elem = match self.list_elem(&ty, vspan) {
                    Ok(t) => t,
                    // any([]) is False, all([]) is True.
                    Err(LErr::Unknown(_)) => {
                        return Ok(Expr::new(ExprKind::Bool(name == "all"), Ty::Bool))
                    }
                    Err(e) => return Err(e),
                };
                if elem != Ty::Bool {
                    return type_err(
                        vspan,
                        format!("{name}() of a list takes a list of bool in Kiln, not a {ty}"),
                    )
                    .map_err(|e| {
                        with_hint(
                            e,
                            format!("compare each element: {name}(x != 0 for x in xs)"),
                        )
                    });
                }
                // any: a True in it; all: no False in it.
                let probe = Expr::new(ExprKind::Bool(name == "any"), Ty::Bool);
                let found = self.list_op(cx, ListOp::Contains, vec![v, probe], Ty::Bool, span);
                if name == "any" {
                    found
                } else {
                    Expr::new(ExprKind::Unary(UnOp::Not, Box::new(found)), Ty::Bool)
                }
            }
            "min" | "max" => {
                let elem = self.list_elem(&ty, vspan)?;
                self.sortable(&ty, vspan)?;
                let k = if name == "min" { 1 } else { 2 };
                self.list_op(cx, ListOp::Reduce(k), vec![v], elem, span)
            }
            _ => {
                let elem = match ty.list_elem() {
                    Some(Ty::None) | None => Ty::F64,
                    Some(t) => t.clone(),
                };
                let d = elem.dtype().unwrap_or(DType::F64);
                let want = match dtype_kw {
                    Some(k) => self.dtype_arg(cx, &k.value)?,
                    None => d,
                };
                let a = self.list_op(cx, ListOp::ToArray(d), vec![v], Ty::array(d, 1), span);
                if want == d {
                    return Ok(a);
                }
                // `np.array(xs, dtype=...)`: made in the list's own dtype, then cast as
                // `astype` casts.
                self.builtin(cx, Builtin::AsType(want), vec![a], Ty::array(want, 1), span)
            }
        })
    }

    /// `a + b` and `a * n` / `n * a` with a list operand.
    pub(crate) fn list_binary(
        &mut self,
        cx: &FnCx,
        op: ast::BinOp,
        a: Expr,
        b: Expr,
        span: Span,
    ) -> LResult<Expr> {
        match (op, &a.ty, &b.ty) {
            (ast::BinOp::Add, Ty::List(x), Ty::List(y)) => {
                let t = match unify(&a.ty, &b.ty) {
                    Some(t) if x == y || **x == Ty::None || **y == Ty::None => t,
                    _ => {
                        return type_err(
                            span,
                            format!("a {} and a {} cannot be joined: a list has one element type", a.ty, b.ty),
                        )
                    }
                };
                let (a, b) = (self.convert(a, &t, span)?, self.convert(b, &t, span)?);
                Ok(self.list_op(cx, ListOp::Concat, vec![a, b], t, span))
            }
            (ast::BinOp::Mul, Ty::List(_), n) | (ast::BinOp::Mul, n, Ty::List(_))
                if n.is_int_like() =>
            {
                let (l, n) = if matches!(a.ty, Ty::List(_)) { (a, b) } else { (b, a) };
                let ty = l.ty.clone();
                Ok(self.list_op(cx, ListOp::Repeat, vec![l, cast(n, Ty::I64)], ty, span))
            }
            _ => type_err(
                span,
                format!(
                    "unsupported operand type(s) for {}: '{}' and '{}'",
                    op.symbol(),
                    a.ty,
                    b.ty
                ),
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "lists join with + and repeat with * n; for arithmetic, make an array: np.array(xs)",
                )
            }),
        }
    }

    /// `v in xs` / `v not in xs`.
    pub(crate) fn list_contains(
        &mut self,
        cx: &FnCx,
        v: Expr,
        list: Expr,
        negate: bool,
        span: Span,
    ) -> LResult<Expr> {
        let elem = match self.list_elem(&list.ty, span) {
            Ok(t) => t,
            Err(LErr::Unknown(_)) => return Ok(Expr::new(ExprKind::Bool(negate), Ty::Bool)),
            Err(e) => return Err(e),
        };
        if !v.ty.is_numeric() {
            return type_err(span, format!("a list[{elem}] holds no {}", v.ty));
        }
        // Compare in the wider of the two types: `2.5 in [1, 2]` is False, not `2 in`.
        let Some(t) = promote(&elem, &v.ty) else {
            return type_err(span, format!("a list[{elem}] holds no {}", v.ty));
        };
        if t != elem {
            return type_err(
                span,
                format!(
                    "`in` of a {} in a list[{elem}] is not supported in Kiln",
                    v.ty
                ),
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "convert the value to the list's element type first, e.g. int(v) in xs",
                )
            });
        }
        let found = self.list_op(
            cx,
            ListOp::Contains,
            vec![list, cast(v, elem)],
            Ty::Bool,
            span,
        );
        Ok(if negate {
            Expr::new(ExprKind::Unary(UnOp::Not, Box::new(found)), Ty::Bool)
        } else {
            found
        })
    }

    /// A list literal or `[x] * n` converted to a wider element type (the only lists that
    /// convert: any other list may be shared, and its elements cannot change type).
    pub(crate) fn convert_list(&self, v: Expr, to: &Ty, span: Span) -> LResult<Expr> {
        let Some(elem) = to.list_elem() else {
            return type_err(span, format!("a {} where a {to} is expected", v.ty));
        };
        let from = v.ty.clone();
        match v.kind {
            ExprKind::Builtin {
                op: Builtin::List(ListOp::Lit),
                args,
                site,
            } => {
                let mut items = Vec::new();
                for a in args {
                    items.push(self.element_of(a, elem, span)?);
                }
                Ok(Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::List(ListOp::Lit),
                        args: items,
                        site,
                    },
                    to.clone(),
                ))
            }
            ExprKind::Builtin {
                op: Builtin::List(ListOp::Repeat),
                mut args,
                site,
            } => {
                let n = args.pop().unwrap();
                let l = self.convert_list(args.pop().unwrap(), to, span)?;
                Ok(Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::List(ListOp::Repeat),
                        args: vec![l, n],
                        site,
                    },
                    to.clone(),
                ))
            }
            _ => type_err(
                span,
                format!("a {from} cannot be used as a {to}: lists are shared, so their element type cannot change"),
            )
            .map_err(|e| with_hint(e, "make the element types agree where the list is made, e.g. [1.0, 2.0] for floats")),
        }
    }

    /// `[elt for target in iter if cond]`: the loop goes into `cx.pre`; the value is the
    /// hidden variable it fills.
    pub(crate) fn list_comp(&mut self, cx: &mut FnCx, e: &ast::Expr) -> LResult<Expr> {
        let ast::ExprKind::ListComp {
            elt,
            target,
            iter,
            cond,
        } = &e.kind
        else {
            unreachable!("list_comp of a comprehension");
        };
        self.no_par_list(cx, e.span)?;
        if cx.no_hoist > 0 {
            return type_err(
                e.span,
                "a list comprehension cannot stand here in Kiln: inside `and`/`or`, a conditional expression or a `while` condition",
            )
            .map_err(|er| with_hint(er, "assign it to a name first, on a line of its own"));
        }
        // The comprehension's own names (its target and its result) live in a scope of
        // their own, as in Python 3; their variables persist across inference rounds.
        let key = e.span.lo;
        let mut names = Vec::new();
        collect_target_names(target, &mut names);
        let mut scope = HashMap::new();
        for n in names.iter().map(String::as_str).chain(["<comp>"]) {
            let v = match cx.comp_vars.get(&(key, n.to_string())) {
                Some(&v) => v,
                None => {
                    // A cell's rounds each start a new FnCx: its types persist in `Env`.
                    let t = if cx.is_cell {
                        self.comp_types.get(&(key, n.to_string())).cloned()
                    } else {
                        None
                    };
                    cx.vars.push((n.to_string(), t, e.span));
                    let v = (cx.vars.len() - 1) as u32;
                    cx.comp_vars.insert((key, n.to_string()), v);
                    v
                }
            };
            scope.insert(n.to_string(), v);
        }
        let acc = scope["<comp>"];
        let acc_ty = cx.vars[acc as usize]
            .1
            .clone()
            .unwrap_or(Ty::list(Ty::None));
        if cx.vars[acc as usize].1.is_none() {
            cx.vars[acc as usize].1 = Some(acc_ty.clone());
            self.changed = true;
        }
        // The loop `for target in iter: if cond: <comp>.append(elt)`, made of syntax.
        let mk = |kind: ast::ExprKind, span: Span| ast::Expr { kind, span, id: 0 };
        let append = mk(
            ast::ExprKind::Call {
                func: Box::new(mk(
                    ast::ExprKind::Attribute {
                        value: Box::new(mk(ast::ExprKind::Name("<comp>".into()), elt.span)),
                        attr: "append".into(),
                        attr_span: elt.span,
                    },
                    elt.span,
                )),
                args: vec![(**elt).clone()],
                keywords: vec![],
            },
            elt.span,
        );
        let stmt = |kind: ast::StmtKind, span: Span| ast::Stmt {
            kind,
            span,
            target: None,
        };
        let mut body = vec![stmt(ast::StmtKind::Expr(append), elt.span)];
        if let Some(c) = cond {
            body = vec![stmt(
                ast::StmtKind::If {
                    test: (**c).clone(),
                    body,
                    orelse: vec![],
                },
                c.span,
            )];
        }
        let for_stmt = stmt(
            ast::StmtKind::For {
                target: (**target).clone(),
                iter: (**iter).clone(),
                body: body.clone(),
            },
            e.span,
        );
        let start = self.list_op(cx, ListOp::Lit, vec![], acc_ty.clone(), e.span);
        cx.comp_scopes.push(scope);
        // The loop's own statements, with their own hoisted comprehensions, go in order.
        let outer_pre = std::mem::take(&mut cx.pre);
        let lowered = self.for_loop(cx, &for_stmt, target, iter, &body);
        let inner_pre = std::mem::replace(&mut cx.pre, outer_pre);
        cx.comp_scopes.pop();
        if cx.is_cell {
            for n in names.iter().map(String::as_str).chain(["<comp>"]) {
                let v = cx.comp_vars[&(key, n.to_string())];
                if let Some(t) = cx.vars[v as usize].1.clone() {
                    if self.comp_types.get(&(key, n.to_string())) != Some(&t) {
                        self.comp_types.insert((key, n.to_string()), t);
                        self.globals_changed = true;
                    }
                }
            }
        }
        let lowered = lowered?;
        cx.pre.push(Stmt::Assign {
            place: Place::Var(acc),
            value: start,
        });
        cx.pre.extend(inner_pre);
        cx.pre.extend(lowered);
        let ty = cx.vars[acc as usize].1.clone().unwrap_or(acc_ty);
        Ok(Expr::new(ExprKind::Var(acc), ty))
    }
}
