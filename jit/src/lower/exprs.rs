//! Expressions: literals, f-strings, names, indexing, attributes (`a.shape`, `z.real`), and
//! text formatting.

use super::convert::{dtype_value, numpy_scalar_type};
use super::*;

use crate::builtins::constant;

impl<'a> Env<'a> {
    // ----- expressions -------------------------------------------------------------------------

    /// An expression whose value is used as a number, a string, an array...: a value that may
    /// be None (an optional) is checked and unwrapped, raising TypeError when it is None (as
    /// Numba does with an Optional, and as Python would fail on None there).
    pub(crate) fn expr(&mut self, cx: &mut FnCx, e: &ast::Expr) -> LResult<Expr> {
        let v = self.expr_opt(cx, e)?;
        Ok(self.unwrap_opt(cx, v, e.span))
    }

    /// `v` itself, or the number in it when it is an optional.
    pub(crate) fn unwrap_opt(&mut self, cx: &FnCx, v: Expr, span: Span) -> Expr {
        match &v.ty {
            Ty::Optional(t) => {
                let t = (**t).clone();
                self.builtin(cx, Builtin::Unwrap, vec![v], t, span)
            }
            _ => v,
        }
    }

    /// An expression whose value may stay an optional (a number or None): assigned to a name,
    /// returned, printed or formatted, or tested with `is None`.
    pub(crate) fn expr_opt(&mut self, cx: &mut FnCx, e: &ast::Expr) -> LResult<Expr> {
        use ast::ExprKind as A;
        Ok(match &e.kind {
            A::Int(v) => Expr::int(*v),
            A::Float(v) => Expr::new(ExprKind::Float(*v), Ty::F64),
            A::Imag(v) => Expr::new(ExprKind::Complex(0.0, *v), Ty::C128),
            A::Bool(b) => Expr::new(ExprKind::Bool(*b), Ty::Bool),
            A::None => Expr::none(),
            A::Str(s) => Expr::new(ExprKind::Str(s.as_str().into()), Ty::Str),
            A::FString(parts) => {
                let mut acc: Option<Expr> = None;
                for p in parts {
                    let piece = match p {
                        ast::FStringPart::Lit(s) => {
                            Expr::new(ExprKind::Str(s.as_str().into()), Ty::Str)
                        }
                        ast::FStringPart::Expr {
                            expr,
                            conversion,
                            spec,
                        } => {
                            let v = self.expr_opt(cx, expr)?;
                            // `!r`/`!s`/`!a` first, then the spec: as `str.format`'s fields.
                            let spec = spec.as_deref().unwrap_or("");
                            self.format_field(cx, v, *conversion, spec, expr.span)?
                        }
                    };
                    acc = Some(match acc {
                        None => piece,
                        Some(a) => {
                            self.builtin(cx, Builtin::Concat, vec![a, piece], Ty::Str, e.span)
                        }
                    });
                }
                acc.unwrap_or_else(|| Expr::new(ExprKind::Str("".into()), Ty::Str))
            }
            A::Name(n) => self.read_name(cx, n, e.span)?,
            A::Attribute {
                value,
                attr,
                attr_span,
            } => self.attribute(cx, value, attr, *attr_span, e.span)?,
            A::Subscript { value, index } => {
                let v = self.expr(cx, value)?;
                match &v.ty {
                    Ty::List(_) => return self.list_get(cx, v, index, e.span),
                    Ty::Array { dtype, ndim } => {
                        let (dtype, ndim) = (*dtype, *ndim as usize);
                        let first = match self.mask_column(cx, &v, index, e.span)? {
                            Ok((col, mask)) => return self.advanced_index(cx, col, mask, e.span),
                            Err(Some(first)) => Some(first),
                            Err(None) => self.array_index(cx, index)?,
                        };
                        if let Some(ix) = first.as_ref().filter(|ix| is_array(ix)) {
                            return self.advanced_index(cx, v, ix.clone(), e.span);
                        }
                        if let Some(idx) = self.tuple_index(cx, index, ndim, e.span)? {
                            let site = self.site(cx, e.span);
                            return Ok(Expr::new(
                                ExprKind::Index {
                                    array: Box::new(v),
                                    index: idx,
                                    site,
                                },
                                Ty::from_dtype(dtype),
                            ));
                        }
                        if index.iter().any(|i| matches!(i.kind, A::Slice { .. }))
                            || index.len() < ndim
                        {
                            return self.slice(cx, v, index, e.span);
                        }
                        let idx = self.indices(cx, index, first, ndim, e.span)?;
                        let site = self.site(cx, e.span);
                        Expr::new(
                            ExprKind::Index {
                                array: Box::new(v),
                                index: idx,
                                site,
                            },
                            Ty::from_dtype(dtype),
                        )
                    }
                    Ty::Tuple(items) => {
                        let items = items.clone();
                        if let [i @ ast::Expr {
                            kind: A::Slice { lower, upper, step },
                            ..
                        }] = index.as_slice()
                        {
                            let bounds = [lower, upper, step];
                            return self.tuple_slice(cx, v, &items, bounds, i.span);
                        }
                        let k = match index.as_slice() {
                            [i] => match self.expr(cx, i)?.kind {
                                ExprKind::Int(k) => k,
                                _ => return type_err(i.span, "a tuple index must be an integer constant (tuples have one type per item)"),
                            },
                            _ => return type_err(e.span, "a tuple takes one index"),
                        };
                        let n = items.len() as i64;
                        let kk = if k < 0 { k + n } else { k };
                        if kk < 0 || kk >= n {
                            return err(ErrorKind::IndexError, e.span, "tuple index out of range");
                        }
                        Expr::new(
                            ExprKind::TupleGet(Box::new(v), kk as u32),
                            items[kk as usize].clone(),
                        )
                    }
                    t => return type_err(value.span, format!("'{t}' object is not subscriptable")),
                }
            }
            A::Slice { .. } => {
                return err(
                    ErrorKind::SyntaxError,
                    e.span,
                    "a slice only appears inside []",
                )
            }
            A::Call {
                func,
                args,
                keywords,
            } => self.call(cx, func, args, keywords, e.span)?,
            A::Unary { op, operand } => {
                let v = self.expr(cx, operand)?;
                if matches!(v.ty, Ty::Array { .. }) {
                    if *op == ast::UnaryOp::Not {
                        return type_err(e.span, "`not` of an array is ambiguous")
                            .map_err(|er| with_hint(er, "use ~ for elementwise logical not"));
                    }
                    let site = self.site(cx, e.span);
                    let op = *op;
                    let span = e.span;
                    self.elementwise(site, vec![v], span, |s, l| {
                        s.unary(op, l.into_iter().next().unwrap(), span)
                    })?
                } else {
                    self.unary(*op, v, e.span)?
                }
            }
            A::Binary { op, left, right } => {
                let a = self.expr(cx, left)?;
                let b = self.expr(cx, right)?;
                if *op == ast::BinOp::Mod && a.ty == Ty::Str {
                    return self.percent_format(cx, a, b, left.span, e.span);
                }
                self.binary(cx, *op, a, b, e.span)?
            }
            A::BoolOp { op, values } => {
                let mut acc = self.expr(cx, &values[0])?;
                for v in &values[1..] {
                    cx.no_hoist += 1;
                    let b = self.expr(cx, v);
                    cx.no_hoist -= 1;
                    let b = b?;
                    acc = self.boolop(*op, acc, b, e.span)?;
                }
                acc
            }
            A::Compare { left, ops } => {
                // `a < b < c` is `a < b and b < c`, with b evaluated once: a middle operand
                // that is not a plain name or literal goes through a temporary, bound just
                // before the comparison that first reads it (short-circuiting as Python).
                let is_none_test =
                    ops.len() == 1 && matches!(ops[0].0, ast::CmpOp::Is | ast::CmpOp::IsNot);
                let mut prev = if is_none_test {
                    self.expr_opt(cx, left)?
                } else {
                    self.expr(cx, left)?
                };
                let mut cmps: Vec<(Option<(ir::VarId, Expr)>, Expr)> = Vec::new();
                for (k, (op, rhs)) in ops.iter().enumerate() {
                    let mut r = if is_none_test {
                        self.expr_opt(cx, rhs)?
                    } else {
                        self.expr(cx, rhs)?
                    };
                    let mut bind = None;
                    if k + 1 < ops.len()
                        && !arrays::is_leafy(&r)
                        && !r.is_literal()
                        && r.ty.is_numeric()
                    {
                        let v = cx.new_var("cmp", r.ty.clone());
                        let ty = r.ty.clone();
                        bind = Some((v, r));
                        r = Expr::new(ExprKind::Var(v), ty);
                    }
                    if matches!(op, ast::CmpOp::In | ast::CmpOp::NotIn)
                        && matches!(r.ty, Ty::List(_))
                    {
                        let negate = *op == ast::CmpOp::NotIn;
                        let c = self.list_contains(cx, prev, r.clone(), negate, e.span)?;
                        cmps.push((bind, c));
                        prev = r;
                        continue;
                    }
                    let c = if matches!(prev.ty, Ty::Array { .. })
                        || matches!(r.ty, Ty::Array { .. })
                    {
                        if ops.len() > 1 {
                            return type_err(e.span, "chained comparisons of arrays are ambiguous")
                                .map_err(|er| {
                                    with_hint(
                                        er,
                                        "combine two comparisons with &: (a < b) & (b < c)",
                                    )
                                });
                        }
                        let site = self.site(cx, e.span);
                        let (op, span) = (*op, e.span);
                        self.elementwise(site, vec![prev, r.clone()], span, |s, l| {
                            let mut l = l.into_iter();
                            let (x, y) = (l.next().unwrap(), l.next().unwrap());
                            s.compare(op, x, y, span)
                        })?
                    } else {
                        self.compare(*op, prev, r.clone(), e.span)?
                    };
                    cmps.push((bind, c));
                    prev = r;
                }
                let mut acc: Option<Expr> = None;
                for (bind, c) in cmps.into_iter().rev() {
                    let ty = c.ty.clone();
                    let joined = match acc {
                        None => c,
                        Some(rest) => {
                            Expr::new(ExprKind::And(Box::new(c), Box::new(rest)), ty.clone())
                        }
                    };
                    acc = Some(match bind {
                        Some((v, val)) => {
                            Expr::new(ExprKind::Let(v, Box::new(val), Box::new(joined)), ty)
                        }
                        None => joined,
                    });
                }
                acc.unwrap()
            }
            A::IfExp { test, body, orelse } => {
                let c = self.expr_opt(cx, test)?;
                let c = self.truth(c, test.span)?;
                cx.no_hoist += 1;
                let ab = self
                    .expr(cx, body)
                    .and_then(|a| Ok((a, self.expr(cx, orelse)?)));
                cx.no_hoist -= 1;
                let (a, b) = ab?;
                let Some(t) = unify(&a.ty, &b.ty) else {
                    return type_err(
                        e.span,
                        format!(
                            "the two branches have types {} and {}; an expression has one type",
                            a.ty, b.ty
                        ),
                    );
                };
                let (a, b) = if matches!(t, Ty::Optional(_)) {
                    (
                        self.convert(a, &t, body.span)?,
                        self.convert(b, &t, orelse.span)?,
                    )
                } else {
                    (cast(a, t.clone()), cast(b, t.clone()))
                };
                Expr::new(ExprKind::Select(Box::new(c), Box::new(a), Box::new(b)), t)
            }
            A::Tuple(items) => {
                let mut vals = Vec::new();
                for i in items {
                    vals.push(self.expr(cx, i)?);
                }
                let ty = Ty::tuple(vals.iter().map(|v| v.ty.clone()).collect());
                Expr::new(ExprKind::Tuple(vals), ty)
            }
            A::List(items) => return self.list_literal(cx, items, e.span),
            A::ListComp { .. } => return self.list_comp(cx, e),
        })
    }

    /// `t[a:b:c]` of a tuple: a tuple of the items Python's `slice(a, b, c).indices(len(t))`
    /// picks. The bounds must be constants, since every item has its own type.
    fn tuple_slice(
        &mut self,
        cx: &mut FnCx,
        t: Expr,
        items: &[Ty],
        bounds: [&Option<Box<ast::Expr>>; 3],
        span: Span,
    ) -> LResult<Expr> {
        let mut got = [None; 3];
        for (k, b) in bounds.iter().enumerate() {
            let Some(b) = b else { continue };
            let v = self.expr(cx, b)?;
            got[k] = match v.kind {
                ExprKind::Int(x) => Some(x),
                ExprKind::Bool(x) => Some(x as i64),
                ExprKind::None => None,
                _ => {
                    return type_err(
                        b.span,
                        "the bounds of a tuple slice must be integer constants (tuples have one type per item)",
                    )
                }
            };
        }
        let n = items.len() as i64;
        let step = got[2].unwrap_or(1);
        if step == 0 {
            return err(ErrorKind::ValueError, span, "slice step cannot be zero");
        }
        // CPython's PySlice_AdjustIndices.
        let adjust = |x: Option<i64>, default: i64| -> i64 {
            let Some(mut x) = x else { return default };
            if x < 0 {
                x += n;
                if x < 0 {
                    x = if step < 0 { -1 } else { 0 };
                }
            } else if x >= n {
                x = if step < 0 { n - 1 } else { n };
            }
            x
        };
        let (start, stop) = if step > 0 {
            (adjust(got[0], 0), adjust(got[1], n))
        } else {
            (adjust(got[0], n - 1), adjust(got[1], -1))
        };
        let mut picked = Vec::new();
        let mut k = start;
        while (step > 0 && k < stop) || (step < 0 && k > stop) {
            picked.push(k as usize);
            k += step;
        }
        // The tuple is evaluated once, into a temporary unless it is a name.
        let (read, bind) = match t.kind {
            ExprKind::Var(_) | ExprKind::Global(_) => (t, None),
            _ => {
                let tmp = cx.new_var("tup", t.ty.clone());
                (Expr::new(ExprKind::Var(tmp), t.ty.clone()), Some((tmp, t)))
            }
        };
        let out_ty = Ty::tuple(picked.iter().map(|&k| items[k].clone()).collect());
        let vals = picked
            .iter()
            .map(|&k| {
                Expr::new(
                    ExprKind::TupleGet(Box::new(read.clone()), k as u32),
                    items[k].clone(),
                )
            })
            .collect();
        let tuple = Expr::new(ExprKind::Tuple(vals), out_ty.clone());
        Ok(match bind {
            Some((v, val)) => Expr::new(ExprKind::Let(v, Box::new(val), Box::new(tuple)), out_ty),
            None => tuple,
        })
    }

    /// `a[idx]` with a variable holding a tuple of integers (`for idx in np.ndindex(...)`):
    /// its items index the axes, as NumPy's. `None` when the index is anything else.
    pub(crate) fn tuple_index(
        &mut self,
        cx: &mut FnCx,
        index: &[ast::Expr],
        ndim: usize,
        span: Span,
    ) -> LResult<Option<Vec<Expr>>> {
        let [i] = index else { return Ok(None) };
        let ast::ExprKind::Name(name) = &i.kind else {
            return Ok(None);
        };
        // Only a name already known as a tuple is lowered here (every other index is lowered
        // once, by the caller).
        if !matches!(self.name_ty(cx, name), Some(Ty::Tuple(_))) {
            return Ok(None);
        }
        let v = self.expr(cx, i)?;
        let Ty::Tuple(items) = &v.ty else {
            return Ok(None);
        };
        let items = items.to_vec();
        if items.len() != ndim {
            return err(
                ErrorKind::IndexError,
                span,
                format!(
                    "a tuple of {} indices for a {ndim}-dimensional array: Kiln reads an \
                     element with one index per axis",
                    items.len()
                ),
            );
        }
        let mut out = Vec::new();
        for (k, t) in items.into_iter().enumerate() {
            let item = Expr::new(ExprKind::TupleGet(Box::new(v.clone()), k as u32), t.clone());
            out.push(match t {
                Ty::I64 => item,
                Ty::Bool => cast(item, Ty::I64),
                t => {
                    return err(
                        ErrorKind::IndexError,
                        i.span,
                        format!("only integers are valid indices, not {t}"),
                    )
                }
            });
        }
        Ok(Some(out))
    }

    /// The integer indices of an element, one per axis; `first` is `index[0]` when the
    /// caller has lowered it already.
    pub(crate) fn indices(
        &mut self,
        cx: &mut FnCx,
        index: &[ast::Expr],
        mut first: Option<Expr>,
        ndim: usize,
        span: Span,
    ) -> LResult<Vec<Expr>> {
        if index.len() != ndim {
            return err(
                ErrorKind::IndexError,
                span,
                format!(
                    "too many indices for array: array is {ndim}-dimensional, but {} were indexed",
                    index.len()
                ),
            );
        }
        let mut out = Vec::new();
        for i in index {
            let v = match first.take() {
                Some(v) => v,
                None => self.expr(cx, i)?,
            };
            out.push(match v.ty {
                Ty::I64 => v,
                Ty::Bool => cast(v, Ty::I64),
                ref t => {
                    return err(
                        ErrorKind::IndexError,
                        i.span,
                        format!("only integers are valid indices, not {t}"),
                    )
                    .map_err(|e| with_hint(e, "convert with int(...)"))
                }
            });
        }
        Ok(out)
    }

    pub(crate) fn attribute(
        &mut self,
        cx: &mut FnCx,
        value: &ast::Expr,
        attr: &str,
        attr_span: Span,
        span: Span,
    ) -> LResult<Expr> {
        if let ast::ExprKind::Name(m) = &value.kind {
            if self.names_module(m) {
                if let Some(c) = constant(attr) {
                    return Ok(c);
                }
                if let Some(d) = numpy_scalar_type(attr) {
                    return Ok(dtype_value(d, true));
                }
                if let Some(v) = self.ctypes_type_value(attr, false, attr_span) {
                    return v;
                }
                if super::convert::NARROW_DTYPES.contains(&attr) {
                    let (msg, hint) = super::convert::unsupported_dtype(attr);
                    return type_err(attr_span, msg).map_err(|e| with_hint(e, hint));
                }
                return type_err(
                    attr_span,
                    format!("module '{m}' has no value named '{attr}' in Kiln"),
                );
            }
        }
        // `plt.cm.hot`, `matplotlib.cm.hot`, `cm.hot`: a colormap is its name to `imshow`.
        let is_cm = match &value.kind {
            ast::ExprKind::Attribute { value: m, attr, .. } => {
                attr == "cm" && matches!(&m.kind, ast::ExprKind::Name(n) if self.names_module(n))
            }
            ast::ExprKind::Name(n) => n == "cm" && self.global_ty(n).is_none(),
            _ => false,
        };
        if is_cm {
            return Ok(Expr::new(ExprKind::Str(attr.into()), Ty::Str));
        }
        if let ast::ExprKind::Attribute {
            value: arr,
            attr: ct,
            ..
        } = &value.kind
        {
            if ct == "ctypes" {
                return self.array_ctypes(cx, arr, attr, None, span);
            }
        }
        let v = self.expr(cx, value)?;
        if matches!(v.ty, Ty::CLib(_)) {
            return Ok(self.ffi_symbol(cx, v, attr, span));
        }
        match (&v.ty, attr) {
            (Ty::Array { ndim, .. }, "shape") => {
                let n = *ndim as usize;
                Ok(self.builtin(
                    cx,
                    Builtin::Shape,
                    vec![v],
                    Ty::tuple(vec![Ty::I64; n]),
                    span,
                ))
            }
            (Ty::Array { dtype, .. }, "dtype") => Ok(dtype_value(*dtype, false)),
            (Ty::DType { dtype, .. }, "name") => {
                Ok(Expr::new(ExprKind::Str(dtype.numpy_name().into()), Ty::Str))
            }
            (
                Ty::DType {
                    dtype,
                    class: false,
                },
                "itemsize",
            ) => Ok(Expr::int(dtype.size() as i64)),
            (Ty::Array { .. }, "T") => {
                let t = v.ty.clone();
                Ok(self.builtin(cx, Builtin::Transpose, vec![v], t, span))
            }
            (Ty::Array { .. }, "size") => {
                Ok(self.builtin(cx, Builtin::Size, vec![v], Ty::I64, span))
            }
            (Ty::Array { dtype, .. }, "itemsize") => Ok(Expr::int(dtype.size() as i64)),
            (Ty::Array { dtype, .. }, "nbytes") => {
                let size = dtype.size() as i64;
                let n = self.builtin(cx, Builtin::Size, vec![v], Ty::I64, span);
                let site = self.site(cx, span);
                Ok(Expr::new(
                    ExprKind::Binary(ir::BinOp::Mul, Box::new(n), Box::new(Expr::int(size)), site),
                    Ty::I64,
                ))
            }
            (Ty::Array { ndim, .. }, "ndim") => Ok(Expr::int(*ndim as i64)),
            (Ty::Array { .. }, "flat") => {
                // The elements as one axis: a view when `a` is contiguous (so `a.flat[i] = v`
                // writes into `a`), else a copy to read.
                let shape = Expr::new(
                    ExprKind::Tuple(vec![Expr::int(-1)]),
                    Ty::tuple(vec![Ty::I64]),
                );
                self.reshape(cx, v, shape, span)
            }
            (t, "real" | "imag") if t.is_numeric() => {
                let op = if attr == "real" {
                    Builtin::Real
                } else {
                    Builtin::Imag
                };
                self.complex_part(cx, op, v, span)
            }
            (t, _) => type_err(attr_span, format!("'{t}' has no attribute '{attr}'")),
        }
    }

    pub(crate) fn complex_part(
        &mut self,
        cx: &mut FnCx,
        op: Builtin,
        v: Expr,
        span: Span,
    ) -> LResult<Expr> {
        match v.ty {
            Ty::C128 => {
                let t = if op == Builtin::Conj {
                    Ty::C128
                } else {
                    Ty::F64
                };
                Ok(self.builtin(cx, op, vec![v], t, span))
            }
            ref t if t.is_numeric() => Ok(match op {
                Builtin::Real | Builtin::Conj => v,
                Builtin::Angle => {
                    let f = self.to_float(v);
                    let zero = Expr::new(ExprKind::Float(0.0), f.ty.clone());
                    let t = f.ty.clone();
                    self.builtin(cx, Builtin::Atan2, vec![zero, f], t, span)
                }
                // imag of a real number is a zero of its type.
                _ => zero_of(&v.ty),
            }),
            ref t => type_err(span, format!("{} of a {t}", crate::ir::builtin_name(&op))),
        }
    }

    /// `"%5d, %.3f" % (i, x)`: Python's printf-style formatting. The format string must be a
    /// literal: it is parsed here, each conversion matched with its argument (a tuple's items,
    /// or the one value), and the errors Python raises for the wrong number of arguments or a
    /// conversion of the wrong type are raised when the cell compiles. Each conversion becomes
    /// one `Format` whose spec starts with `pyfmt::PRINTF` (the runtime's printf rules).
    fn percent_format(
        &mut self,
        cx: &mut FnCx,
        fmt: Expr,
        args: Expr,
        fmt_span: Span,
        span: Span,
    ) -> LResult<Expr> {
        let ExprKind::Str(f) = &fmt.kind else {
            return type_err(
                fmt_span,
                "the format string before `%` must be a string literal in Kiln",
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "write the format in place (\"%5.2f\" % x), or use an f-string: f\"{x:5.2f}\"",
                )
            });
        };
        let f: Vec<char> = f.chars().collect();
        // The arguments: a tuple's items (read once from a temporary), or the one value.
        let mut bind = None;
        let items: Vec<Expr> = match (args.ty.clone(), args.kind) {
            (Ty::Tuple(_), ExprKind::Tuple(vals)) => vals,
            (Ty::Tuple(tys), kind) => {
                let t = Expr::new(kind, args.ty.clone());
                let read = match t.kind {
                    ExprKind::Var(_) | ExprKind::Global(_) => t,
                    _ => {
                        let tmp = cx.new_var("fmt_args", t.ty.clone());
                        let ty = t.ty.clone();
                        bind = Some((tmp, t));
                        Expr::new(ExprKind::Var(tmp), ty)
                    }
                };
                (0..tys.len())
                    .map(|k| {
                        Expr::new(
                            ExprKind::TupleGet(Box::new(read.clone()), k as u32),
                            tys[k].clone(),
                        )
                    })
                    .collect()
            }
            (ty, kind) => vec![Expr::new(kind, ty)],
        };
        let mut items = items.into_iter();
        let text = |s: &str| Expr::new(ExprKind::Str(s.into()), Ty::Str);
        let mut pieces: Vec<Expr> = Vec::new();
        let mut lit = String::new();
        let n = f.len();
        let mut k = 0;
        while k < n {
            let ch = f[k];
            k += 1;
            if ch != '%' {
                lit.push(ch);
                continue;
            }
            if k < n && f[k] == '%' {
                lit.push('%');
                k += 1;
                continue;
            }
            if k < n && f[k] == '(' {
                return type_err(span, "format requires a mapping").map_err(|e| {
                    with_hint(
                        e,
                        "Kiln has no dicts: use positional conversions, \"%s\" % (x,)",
                    )
                });
            }
            let mut spec = String::new();
            while k < n && "-+ #0".contains(f[k]) {
                spec.push(f[k]);
                k += 1;
            }
            let star = |k: usize| k < n && f[k] == '*';
            let digits = |k: &mut usize, spec: &mut String| {
                while *k < n && f[*k].is_ascii_digit() {
                    spec.push(f[*k]);
                    *k += 1;
                }
            };
            let star_err = || {
                type_err(
                    span,
                    "a `*` width or precision is not supported in Kiln's `%` formatting",
                )
                .map_err(|e| with_hint(e, "write the number into the format string: \"%8.3f\""))
            };
            if star(k) {
                return star_err();
            }
            digits(&mut k, &mut spec);
            if k < n && f[k] == '.' {
                spec.push('.');
                k += 1;
                if star(k) {
                    return star_err();
                }
                digits(&mut k, &mut spec);
            }
            for part in spec.split(['.', '-', '+', ' ', '#']) {
                if part.len() > 9 {
                    return err(ErrorKind::ValueError, span, "width too big");
                }
            }
            while k < n && "hlL".contains(f[k]) {
                k += 1;
            }
            if k >= n {
                return err(ErrorKind::ValueError, span, "incomplete format");
            }
            let conv = f[k];
            k += 1;
            let Some(arg) = items.next() else {
                return type_err(span, "not enough arguments for format string");
            };
            if !"diouxXeEfFgGcrsa".contains(conv) {
                return err(
                    ErrorKind::ValueError,
                    span,
                    format!(
                        "unsupported format character '{conv}' (0x{:x}) at index {}",
                        conv as u32,
                        k - 1
                    ),
                );
            }
            spec.push(conv);
            let piece = self.percent_conv(cx, arg, &spec, conv, span)?;
            if !lit.is_empty() {
                pieces.push(text(&std::mem::take(&mut lit)));
            }
            pieces.push(piece);
        }
        if items.next().is_some() {
            return type_err(span, "not all arguments converted during string formatting");
        }
        if !lit.is_empty() || pieces.is_empty() {
            pieces.push(text(&lit));
        }
        let mut pieces = pieces.into_iter();
        let mut acc = pieces.next().expect("one piece");
        for p in pieces {
            acc = self.builtin(cx, Builtin::Concat, vec![acc, p], Ty::Str, span);
        }
        Ok(match bind {
            Some((v, val)) => Expr::new(ExprKind::Let(v, Box::new(val), Box::new(acc)), Ty::Str),
            None => acc,
        })
    }

    /// `"{} {:.3f} {x!r:>8}".format(a, b, x=c)`: Python's `str.format` on a literal. The
    /// arguments are evaluated once, in order, before any formatting; the fields are parsed
    /// here, and the errors Python raises for a malformed string, a missing argument or mixed
    /// numbering are raised when the cell compiles. Each field is the f-string's `format`.
    pub(crate) fn str_format(
        &mut self,
        cx: &mut FnCx,
        fmt: Expr,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        fmt_span: Span,
        span: Span,
    ) -> LResult<Expr> {
        let ExprKind::Str(f) = &fmt.kind else {
            return type_err(
                fmt_span,
                "the string before .format() must be a string literal in Kiln",
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "write the format in place, or use an f-string: f\"{x:.3f}\"",
                )
            });
        };
        let f: Vec<char> = f.chars().collect();
        let mut binds: Vec<(ir::VarId, Expr)> = Vec::new();
        let mut hold = |cx: &mut FnCx, v: Expr| match v.kind {
            ExprKind::Var(_)
            | ExprKind::Global(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Str(_)
            | ExprKind::None
            | ExprKind::Complex(..) => v,
            _ => {
                let tmp = cx.new_var("fmt_arg", v.ty.clone());
                let ty = v.ty.clone();
                binds.push((tmp, v));
                Expr::new(ExprKind::Var(tmp), ty)
            }
        };
        let mut pos = Vec::new();
        for a in args {
            let v = self.expr_opt(cx, a)?;
            pos.push(hold(cx, v));
        }
        let mut kw: Vec<(&str, Expr)> = Vec::new();
        for k in keywords {
            let v = self.expr_opt(cx, &k.value)?;
            kw.push((k.name.as_str(), hold(cx, v)));
        }
        let value_err = |msg: &str| err(ErrorKind::ValueError, span, msg.to_string());
        let text = |s: &str| Expr::new(ExprKind::Str(s.into()), Ty::Str);
        let mut pieces: Vec<Expr> = Vec::new();
        let mut lit = String::new();
        // Automatic numbering (`{}`) and manual (`{0}`) cannot mix.
        let (mut auto, mut manual) = (0usize, false);
        let n = f.len();
        let mut k = 0;
        while k < n {
            let ch = f[k];
            k += 1;
            if ch == '}' {
                if k < n && f[k] == '}' {
                    lit.push('}');
                    k += 1;
                    continue;
                }
                return value_err("Single '}' encountered in format string");
            }
            if ch != '{' {
                lit.push(ch);
                continue;
            }
            if k < n && f[k] == '{' {
                lit.push('{');
                k += 1;
                continue;
            }
            if k >= n {
                return value_err("Single '{' encountered in format string");
            }
            // The field runs to its matching '}'.
            let start = k;
            let mut depth = 1;
            while k < n {
                match f[k] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
            if k >= n {
                return value_err("expected '}' before end of string");
            }
            let field: String = f[start..k].iter().collect();
            k += 1;
            // name [!conv] [:spec]; a ':' or '!' inside [...] belongs to the name.
            let mut cut = field.len();
            let mut in_brackets = false;
            for (i, c) in field.char_indices() {
                match c {
                    '[' => in_brackets = true,
                    ']' => in_brackets = false,
                    ':' | '!' if !in_brackets => {
                        cut = i;
                        break;
                    }
                    _ => {}
                }
            }
            let (name, rest) = field.split_at(cut);
            let (conv, spec) = match rest.strip_prefix('!') {
                Some(r) => {
                    let mut cs = r.chars();
                    let Some(c) = cs.next() else {
                        return value_err("end of string while looking for conversion specifier");
                    };
                    let after = cs.as_str();
                    match after.strip_prefix(':') {
                        Some(spec) => (Some(c), spec),
                        None if after.is_empty() => (Some(c), ""),
                        None => return value_err("expected ':' after conversion specifier"),
                    }
                }
                None => (None, rest.strip_prefix(':').unwrap_or("")),
            };
            if spec.contains('{') {
                return type_err(
                    span,
                    "a replacement field inside a format spec ('{:>{w}}') is not supported in Kiln",
                )
                .map_err(|e| with_hint(e, "write the width into the spec: '{:>8}'"));
            }
            if name.contains(['.', '[']) {
                return type_err(
                    span,
                    format!("attribute and item lookups in a replacement field ('{{{name}}}') are not supported in Kiln"),
                )
                .map_err(|e| with_hint(e, "pass the value itself: '{}'.format(t[0])"));
            }
            let arg = if name.is_empty() {
                if manual {
                    return value_err(
                        "cannot switch from manual field specification to automatic field numbering",
                    );
                }
                auto += 1;
                Some(auto - 1)
            } else if name.chars().all(|c| c.is_ascii_digit()) {
                if auto > 0 {
                    return value_err(
                        "cannot switch from automatic field numbering to manual field specification",
                    );
                }
                manual = true;
                match name.parse::<usize>() {
                    Ok(i) => Some(i),
                    Err(_) => return value_err("Too many decimal digits in format string"),
                }
            } else {
                None
            };
            let v = match arg {
                Some(i) => match pos.get(i) {
                    Some(v) => v.clone(),
                    None => {
                        return err(
                            ErrorKind::IndexError,
                            span,
                            format!("Replacement index {i} out of range for positional args tuple"),
                        )
                    }
                },
                None => match kw.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => v.clone(),
                    None => return err(ErrorKind::KeyError, span, format!("'{name}'")),
                },
            };
            let piece = self.format_field(cx, v, conv, spec, span)?;
            if !lit.is_empty() {
                pieces.push(text(&std::mem::take(&mut lit)));
            }
            pieces.push(piece);
        }
        if !lit.is_empty() || pieces.is_empty() {
            pieces.push(text(&lit));
        }
        let mut pieces = pieces.into_iter();
        let mut acc = pieces.next().expect("one piece");
        for p in pieces {
            acc = self.builtin(cx, Builtin::Concat, vec![acc, p], Ty::Str, span);
        }
        for (v, val) in binds.into_iter().rev() {
            acc = Expr::new(ExprKind::Let(v, Box::new(val), Box::new(acc)), Ty::Str);
        }
        Ok(acc)
    }

    /// One replacement field of `str.format`: `!s`/`!r`/`!a` first, then the spec.
    fn format_field(
        &mut self,
        cx: &mut FnCx,
        v: Expr,
        conv: Option<char>,
        spec: &str,
        span: Span,
    ) -> LResult<Expr> {
        let v = match conv {
            None => {
                let owner = match v.ty {
                    Ty::None => Some("NoneType"),
                    Ty::Tuple(_) => Some("tuple"),
                    _ => None,
                };
                if let (Some(t), false) = (owner, spec.is_empty()) {
                    return type_err(
                        span,
                        format!("unsupported format string passed to {t}.__format__"),
                    );
                }
                return self.format(cx, v, spec, false, span);
            }
            Some('s') => self.format(cx, v, "", false, span)?,
            Some('r') => self.format(cx, v, "", true, span)?,
            Some('a') => {
                let r = self.format(cx, v, "", true, span)?;
                let spec = format!("{}a", kiln_runtime::pyfmt::PRINTF);
                self.format(cx, r, &spec, false, span)?
            }
            Some(c) => {
                return err(
                    ErrorKind::ValueError,
                    span,
                    format!("Unknown conversion specifier {c}"),
                )
            }
        };
        if spec.is_empty() {
            return Ok(v);
        }
        self.format(cx, v, spec, false, span)
    }

    /// One conversion of `%` formatting: `spec` is `[flags][width][.precision]conv`.
    fn percent_conv(
        &mut self,
        cx: &mut FnCx,
        arg: Expr,
        spec: &str,
        conv: char,
        span: Span,
    ) -> LResult<Expr> {
        let printf = |s: &str| format!("{}{s}", kiln_runtime::pyfmt::PRINTF);
        let to_text = |env: &mut Self, v: Expr| {
            env.builtin(
                cx,
                Builtin::Format {
                    spec: printf(spec).into(),
                    repr: false,
                },
                vec![v],
                Ty::Str,
                span,
            )
        };
        if matches!(conv, 's' | 'r' | 'a') {
            let s = self.format(cx, arg, "", conv != 's', span)?;
            return Ok(if spec == "s" { s } else { to_text(self, s) });
        }
        let arg = self.unwrap_opt(cx, arg, span);
        let name = match &arg.ty {
            Ty::I64 | Ty::Bool => return Ok(to_text(self, cast(arg, Ty::I64))),
            Ty::F64 | Ty::F32 if !matches!(conv, 'x' | 'X' | 'o' | 'c') => {
                return Ok(to_text(self, arg))
            }
            Ty::Str if conv == 'c' => return Ok(to_text(self, arg)),
            t => t.python_name(),
        };
        let msg = match conv {
            'c' => "%c requires int or char".to_string(),
            'd' | 'i' | 'u' => format!("%{conv} format: a real number is required, not {name}"),
            'x' | 'X' | 'o' => format!("%{conv} format: an integer is required, not {name}"),
            _ if name == "numpy.ndarray" => {
                "only 0-dimensional arrays can be converted to Python scalars".to_string()
            }
            _ => format!("must be real number, not {name}"),
        };
        type_err(span, msg)
    }

    pub(crate) fn format(
        &mut self,
        cx: &FnCx,
        v: Expr,
        spec: &str,
        repr: bool,
        span: Span,
    ) -> LResult<Expr> {
        // A literal None is known; a call that returns None still runs (the backend's
        // formatting of a None value is the text "None").
        if v.ty == Ty::None && matches!(v.kind, ExprKind::None) {
            return Ok(Expr::new(ExprKind::Str("None".into()), Ty::Str));
        }
        if let Ty::DType { dtype, class } = v.ty {
            // Known at compile time. NumPy's dtypes take no format spec (a repr does).
            if !spec.is_empty() && !repr {
                return type_err(
                    span,
                    format!(
                        "unsupported format string passed to numpy.dtype.__format__ (format {}.name instead)",
                        if class { "np.dtype(...)" } else { "a.dtype" }
                    ),
                );
            }
            let shown = kiln_runtime::Value::DType {
                name: dtype.numpy_name(),
                class,
            };
            let text = if repr || class {
                kiln_runtime::repr_value(&shown)
            } else {
                kiln_runtime::str_value(&shown)
            };
            let s = Expr::new(ExprKind::Str(text.as_str().into()), Ty::Str);
            return if spec.is_empty() {
                Ok(s)
            } else {
                self.format(cx, s, spec, false, span)
            };
        }
        if matches!(v.ty, Ty::List(_)) && !spec.is_empty() {
            return type_err(span, "unsupported format string passed to list.__format__");
        }
        // format(None, spec) is a TypeError in Python, as the unwrap's is.
        let v = if spec.is_empty() {
            v
        } else {
            self.unwrap_opt(cx, v, span)
        };
        Ok(self.builtin(
            cx,
            Builtin::Format {
                spec: spec.into(),
                repr,
            },
            vec![v],
            Ty::Str,
            span,
        ))
    }
}

fn is_array(e: &Expr) -> bool {
    matches!(e.ty, Ty::Array { .. })
}
