//! Whole-array expressions: fusion by construction.
//!
//! Every elementwise operation on arrays yields an [`ArrayMap`] — its array operands, its
//! scalar operands and a scalar body over `Elem(k)`/`MapScalar(k)` leaves. Combining two
//! maps merges them, so one statement's expression (`2*x**3 - 3*x**2 + 4*x - 1`) becomes one
//! loop with no temporaries. The scalar rules (promotion, weak literals, casts, Python/NumPy
//! semantics) are reused as they are: the body is built by the ordinary scalar lowering
//! applied to the leaves. A map is only materialised where a value is needed (an
//! assignment, a call argument, printing); a reduction over a map is fused too.

use super::*;
use crate::ir::ArrayMap;

impl<'a> Env<'a> {
    /// An array-typed expression as a map (a plain array becomes the map `$0`).
    pub(crate) fn as_map(&self, e: Expr) -> ArrayMap {
        match e.kind {
            ExprKind::Map(m, _) => *m,
            _ => {
                let Ty::Array { dtype, ndim } = e.ty else {
                    unreachable!("as_map of a non-array")
                };
                ArrayMap {
                    inputs: vec![e],
                    scalars: vec![],
                    body: Expr::new(ExprKind::Elem(0), Ty::from_dtype(dtype)),
                    ndim,
                    threads: self.new_map_threads(),
                }
            }
        }
    }

    /// Add an operand to a map under construction; returns its leaf in the map's body.
    pub(crate) fn map_operand(&self, m: &mut ArrayMap, e: Expr) -> Expr {
        match &e.ty {
            Ty::Array { .. } => {
                let other = self.as_map(e);
                m.ndim = m.ndim.max(other.ndim);
                let mut in_map = Vec::new();
                for inp in other.inputs {
                    // The same variable twice is loaded once (x*x*x reads x once).
                    let same = m.inputs.iter().position(|x| same_leaf(x, &inp));
                    in_map.push(match same {
                        Some(k) => k as u32,
                        None => {
                            m.inputs.push(inp);
                            (m.inputs.len() - 1) as u32
                        }
                    });
                }
                let base = m.scalars.len() as u32;
                m.scalars.extend(other.scalars);
                reindex(other.body, &in_map, base)
            }
            _ if e.is_literal() => e,
            _ => {
                let ty = e.ty.clone();
                m.scalars.push(e);
                Expr::new(ExprKind::MapScalar((m.scalars.len() - 1) as u32), ty)
            }
        }
    }

    /// Build a map from operands (at least one an array): `f` gets their leaves and returns
    /// the element's value, built by the scalar lowering.
    pub(crate) fn elementwise(
        &mut self,
        site: ir::SiteId,
        operands: Vec<Expr>,
        span: Span,
        f: impl FnOnce(&mut Self, Vec<Expr>) -> LResult<Expr>,
    ) -> LResult<Expr> {
        let mut m = ArrayMap {
            inputs: vec![],
            scalars: vec![],
            body: Expr::none(),
            ndim: 0,
            threads: self.new_map_threads(),
        };
        // NumPy's result type of the arrays alone (scalars are Python's numbers: weak).
        let arrays_dtype = operands
            .iter()
            .filter_map(|e| match e.ty {
                Ty::Array { dtype, .. } => Some(dtype),
                _ => None,
            })
            .reduce(DType::promote);
        let any_narrow = operands
            .iter()
            .any(|e| matches!(e.ty, Ty::Array { dtype, .. } if dtype.narrow_int().is_some()));
        let weak_ints: Vec<bool> = operands.iter().map(|e| e.ty == Ty::I64).collect();
        let leaves: Vec<Expr> = operands
            .into_iter()
            .map(|e| self.map_operand(&mut m, e))
            .collect();
        // The leaves of Python int operands (a literal or a `MapScalar`, small): an array
        // operand's leaf is its whole fused body, not copied.
        let weak_leaves: Vec<ExprKind> = leaves
            .iter()
            .zip(&weak_ints)
            .filter(|(_, &w)| w)
            .map(|(l, _)| l.kind.clone())
            .collect();
        let body = f(self, leaves)?;
        let Some(mut dtype) = body.ty.dtype() else {
            return type_err(span, format!("an array of {} values", body.ty));
        };
        let mut body = body;
        match arrays_dtype {
            // Integer arithmetic on narrow integer arrays: each operation's result wraps to
            // the arrays' type, and a Python integer operand must fit it (NumPy 2).
            Some(narrow) if dtype == DType::I64 && narrow.narrow_int().is_some() => {
                let (lo, hi) = narrow.int_range().unwrap_or((i64::MIN, i64::MAX));
                let checked = |v: Expr| {
                    Expr::new(
                        ExprKind::Builtin {
                            op: Builtin::CheckIntRange(narrow),
                            args: vec![v],
                            site,
                        },
                        Ty::I64,
                    )
                };
                for leaf in weak_leaves {
                    match leaf {
                        ExprKind::Int(v) if !(lo..=hi).contains(&v) => {
                            // Raised before the loop, when the statement runs: the literal
                            // becomes a checked scalar operand.
                            m.scalars.push(checked(Expr::int(v)));
                            let k = (m.scalars.len() - 1) as u32;
                            body = rewrite_leaves(body, &|e| {
                                matches!(e.kind, ExprKind::Int(x) if x == v)
                                    .then(|| Expr::new(ExprKind::MapScalar(k), Ty::I64))
                            });
                        }
                        ExprKind::MapScalar(k) => {
                            let s = &mut m.scalars[k as usize];
                            *s = checked(std::mem::replace(s, Expr::none()));
                        }
                        _ => {}
                    }
                }
                if !matches!(body.kind, ExprKind::Elem(_)) {
                    body = Expr::new(
                        ExprKind::Builtin {
                            op: Builtin::WrapInt(narrow),
                            args: vec![body],
                            site,
                        },
                        Ty::I64,
                    );
                }
                dtype = narrow;
            }
            // float32 arrays with 8- or 16-bit integer arrays compute in float32.
            Some(DType::F32) if dtype == DType::F64 && any_narrow => {
                body = cast(body, Ty::F32);
                dtype = DType::F32;
            }
            _ => {}
        }
        m.body = body;
        let ty = Ty::Array {
            dtype,
            ndim: m.ndim,
        };
        Ok(Expr::new(ExprKind::Map(Box::new(m), site), ty))
    }

    /// `a[1:-1, ::2]`, `a[i]` of a 2-D array, ...: a view sharing a's memory.
    pub(crate) fn slice(
        &mut self,
        cx: &mut FnCx,
        arr: Expr,
        index: &[ast::Expr],
        span: Span,
    ) -> LResult<Expr> {
        let Ty::Array { dtype, ndim } = arr.ty else {
            return type_err(span, format!("'{}' object is not subscriptable", arr.ty));
        };
        if index.len() > ndim as usize {
            return err(
                ErrorKind::IndexError,
                span,
                format!(
                    "too many indices for array: array is {ndim}-dimensional, but {} were indexed",
                    index.len()
                ),
            );
        }
        let absent = || Expr::int(i64::MIN);
        let mut args = vec![arr];
        let mut out_ndim = ndim as usize;
        for i in index {
            match &i.kind {
                ast::ExprKind::Slice { lower, upper, step } => {
                    args.push(Expr::int(1));
                    for part in [lower, upper, step] {
                        args.push(match part {
                            Some(p) => {
                                let v = self.expr(cx, p)?;
                                self.int_arg(v, p.span, "slice")?
                            }
                            None => absent(),
                        });
                    }
                }
                _ => {
                    let v = self.expr(cx, i)?;
                    let v = match v.ty {
                        Ty::I64 | Ty::Bool => cast(v, Ty::I64),
                        ref t => {
                            return err(
                                ErrorKind::IndexError,
                                i.span,
                                format!("only integers and slices are valid indices, not {t}"),
                            )
                        }
                    };
                    args.push(Expr::int(0));
                    args.push(v);
                    args.push(absent());
                    args.push(absent());
                    out_ndim -= 1;
                }
            }
        }
        if out_ndim == 0 {
            return type_err(
                span,
                "indexing every axis gives an element; use integers only (a[i, j])",
            );
        }
        Ok(self.builtin(
            cx,
            Builtin::Slice(index.len() as u8),
            args,
            Ty::array(dtype, out_ndim),
            span,
        ))
    }

    /// `dest[...] = value` for an array destination: NumPy broadcasting and casting.
    pub(crate) fn map_into(
        &mut self,
        cx: &mut FnCx,
        dest: Expr,
        value: Expr,
        span: Span,
    ) -> LResult<Stmt> {
        let Ty::Array { dtype, ndim } = dest.ty else {
            return type_err(span, "assignment into a non-array");
        };
        let elem = Ty::from_dtype(dtype);
        let mut m = match &value.ty {
            Ty::Array { .. } => self.as_map(value),
            t if t.is_numeric() => {
                let value = self.fit_narrow(cx, value, dtype, span)?;
                // A scalar is evaluated once, before the loop (a map body only reads leaves).
                let mut m = ArrayMap {
                    inputs: vec![],
                    scalars: vec![],
                    body: Expr::none(),
                    ndim,
                    threads: self.new_map_threads(),
                };
                m.body = self.map_operand(&mut m, value);
                m
            }
            t => return type_err(span, format!("cannot store a {t} in a {elem} array")),
        };
        if m.ndim > ndim {
            return err(
                ErrorKind::ValueError,
                span,
                format!(
                    "could not broadcast a {}-d value into a {ndim}-d array",
                    m.ndim
                ),
            );
        }
        m.ndim = ndim;
        let body = std::mem::replace(&mut m.body, Expr::none());
        // NumPy's same_kind casting: within a kind, or from bool/int up to a float kind
        // (`a32[1:3] = 3` stores 3.0 as NumPy does).
        let ok = body.ty == elem
            || crate::types::converts_to(&body.ty, &elem)
            || (body.ty.is_float() && elem.is_float())
            || (body.ty.is_int_like() && elem.is_float());
        if !ok {
            return type_err(
                span,
                format!(
                    "Cannot cast a {} result to the {} array's dtype ({})",
                    body.ty,
                    elem,
                    dtype.numpy_name()
                ),
            )
            .map_err(|e| with_hint(e, format!("convert explicitly, e.g. with .astype({elem})")));
        }
        m.body = cast(body, elem);
        let site = self.site(cx, span);
        Ok(Stmt::MapInto { dest, map: m, site })
    }

    /// `a @ b` and `dot(a, b)`: the runtime's GEMM for 2-D, a dot product for 1-D.
    pub(crate) fn matmul(&mut self, cx: &FnCx, a: Expr, b: Expr, span: Span) -> LResult<Expr> {
        let (
            Ty::Array {
                dtype: da,
                ndim: na,
            },
            Ty::Array {
                dtype: db,
                ndim: nb,
            },
        ) = (&a.ty, &b.ty)
        else {
            return type_err(
                span,
                format!("matmul: operands must be arrays, not {} and {}", a.ty, b.ty),
            );
        };
        let (na, nb) = (*na, *nb);
        if na > 2 || nb > 2 {
            return type_err(
                span,
                "matmul of arrays with more than 2 dimensions is not supported in Kiln",
            );
        }
        let Some(t) = promote(&Ty::from_dtype(*da), &Ty::from_dtype(*db)) else {
            return type_err(span, "matmul of non-numeric arrays");
        };
        let t = if t == Ty::Bool { Ty::I64 } else { t };
        // The runtime multiplies narrow integers in int64 and wraps the result to their type.
        let d = match DType::promote(*da, *db) {
            n if n.narrow_int().is_some() => n,
            _ => t.dtype().unwrap(),
        };
        let a = self.astype(cx, a, d, span);
        let b = self.astype(cx, b, d, span);
        if na == 1 && nb == 1 {
            return Ok(self.builtin(cx, Builtin::DotScalar, vec![a, b], t, span));
        }
        let nd = if na == 1 || nb == 1 { 1 } else { 2 };
        Ok(self.builtin(cx, Builtin::Dot, vec![a, b], Ty::array(d, nd), span))
    }

    /// `a.astype(d)`: a new array (or the same one when the dtype already matches).
    pub(crate) fn astype(&mut self, cx: &FnCx, a: Expr, d: DType, span: Span) -> Expr {
        match a.ty {
            Ty::Array { dtype, ndim } if dtype != d => self.builtin(
                cx,
                Builtin::AsType(d),
                vec![a],
                Ty::array(d, ndim as usize),
                span,
            ),
            _ => a,
        }
    }

    /// `a.sum(axis=k)`, `np.argmax(a)`, ...: fused for the plain reductions over the whole
    /// array, else done by the runtime (over the materialised array).
    pub(crate) fn reduction(
        &mut self,
        cx: &mut FnCx,
        name: &str,
        arr: Expr,
        axis: Option<Expr>,
        span: Span,
    ) -> LResult<Expr> {
        let Ty::Array { dtype, ndim } = arr.ty else {
            return type_err(span, format!("{name}() takes an array"));
        };
        let code: i64 = match name {
            "sum" => 0,
            "prod" => 1,
            "min" => 2,
            "max" => 3,
            "mean" => 4,
            "std" => 5,
            "var" => 6,
            "argmin" => 7,
            "argmax" => 8,
            "any" => 9,
            "nanmin" => 11,
            "nanmax" => 12,
            _ => 10,
        };
        let scalar = match code {
            0 | 1 => match dtype {
                DType::Bool | DType::I64 => Ty::I64,
                d => Ty::from_dtype(d),
            },
            2 | 3 | 11 | 12 => Ty::from_dtype(dtype),
            4 => match dtype {
                DType::F32 => Ty::F32,
                DType::C128 => Ty::C128,
                _ => Ty::F64,
            },
            5 | 6 => {
                if dtype == DType::F32 {
                    Ty::F32
                } else {
                    Ty::F64
                }
            }
            7 | 8 => Ty::I64,
            _ => Ty::Bool,
        };
        let axis = match axis {
            Some(a) if a.ty == Ty::None => None,
            Some(a) => Some(self.int_arg(a, span, name)?),
            None => None,
        };
        // Over one axis the reduction is the whole array's, but the axis must exist, as the
        // runtime checks it for more dimensions.
        if let (
            Some(Expr {
                kind: ExprKind::Int(k),
                ..
            }),
            1,
        ) = (&axis, ndim)
        {
            if !(-1..=0).contains(k) {
                return err(
                    ErrorKind::AxisError,
                    span,
                    format!("axis {k} is out of bounds for array of dimension 1"),
                );
            }
        }
        match axis {
            Some(ax) if ndim > 1 => {
                let d = scalar.dtype().unwrap_or(DType::F64);
                Ok(self.builtin(
                    cx,
                    Builtin::ReduceAxis(code),
                    vec![arr, ax],
                    Ty::array(d, ndim as usize - 1),
                    span,
                ))
            }
            _ if code <= 4 => Ok(self.reduce(cx, name, arr, dtype, span)),
            _ => Ok(self.builtin(cx, Builtin::ReduceAll(code), vec![arr], scalar, span)),
        }
    }

    pub(crate) fn reduce(
        &mut self,
        cx: &FnCx,
        name: &str,
        arr: Expr,
        dtype: DType,
        span: Span,
    ) -> Expr {
        let (op, ty) = match name {
            "sum" | "prod" => (
                if name == "sum" {
                    Reduce::Sum
                } else {
                    Reduce::Prod
                },
                match dtype {
                    DType::Bool | DType::I64 => Ty::I64,
                    d => Ty::from_dtype(d),
                },
            ),
            "min" => (Reduce::Min, Ty::from_dtype(dtype)),
            "max" => (Reduce::Max, Ty::from_dtype(dtype)),
            _ => (
                Reduce::Mean,
                match dtype {
                    DType::F32 => Ty::F32,
                    DType::C128 => Ty::C128,
                    _ => Ty::F64,
                },
            ),
        };
        // A plain array's reduction is the runtime's (NumPy's order for any layout, and no
        // loop to compile: a whole-array loop would cost the cell ~0.5 ms of codegen).
        // Complex minima and maxima (NumPy's lexicographic order) are the runtime's too: the
        // fused loops order real numbers only.
        let lexicographic = dtype == DType::C128 && matches!(op, Reduce::Min | Reduce::Max);
        if matches!(arr.kind, ExprKind::Map(..)) && !lexicographic {
            return self.map_reduce(cx, op, arr, ty, span);
        }
        self.builtin(cx, Builtin::Reduce(op), vec![arr], ty, span)
    }

    pub(crate) fn reshape(
        &mut self,
        cx: &mut FnCx,
        arr: Expr,
        shape: Expr,
        span: Span,
    ) -> LResult<Expr> {
        let Ty::Array { dtype, .. } = arr.ty else {
            return type_err(span, "reshape() takes an array");
        };
        let nd = match &shape.ty {
            Ty::Tuple(t) => t.len(),
            _ => 1,
        };
        if nd == 0 || nd > 4 {
            return type_err(span, "arrays have 1 to 4 dimensions in Kiln");
        }
        Ok(self.builtin(
            cx,
            Builtin::Reshape,
            vec![arr, shape],
            Ty::array(dtype, nd),
            span,
        ))
    }

    /// `array([[1, 2], [3, 4]])`: the shape and dtype come from the literal.
    pub(crate) fn array_literal(
        &mut self,
        cx: &mut FnCx,
        lit: &ast::Expr,
        dtype: Option<DType>,
        span: Span,
    ) -> LResult<Expr> {
        fn walk(
            e: &ast::Expr,
            depth: usize,
            shape: &mut Vec<i64>,
            out: &mut Vec<ast::Expr>,
        ) -> Result<(), String> {
            match &e.kind {
                ast::ExprKind::List(items) | ast::ExprKind::Tuple(items) => {
                    if shape.len() == depth {
                        shape.push(items.len() as i64);
                    } else if shape.get(depth) != Some(&(items.len() as i64)) {
                        return Err("setting an array element with a sequence. The requested array has an inhomogeneous shape".into());
                    }
                    for i in items {
                        walk(i, depth + 1, shape, out)?;
                    }
                    Ok(())
                }
                _ => {
                    if shape.len() != depth {
                        return Err("setting an array element with a sequence. The requested array has an inhomogeneous shape".into());
                    }
                    out.push(e.clone());
                    Ok(())
                }
            }
        }
        let mut shape = Vec::new();
        let mut elems = Vec::new();
        walk(lit, 0, &mut shape, &mut elems)
            .map_err(|m| LErr::Diag(Diagnostic::new(ErrorKind::ValueError, span, m)))?;
        if shape.is_empty() || shape.len() > 4 {
            return type_err(
                span,
                "array() takes a (nested) list literal of 1 to 4 dimensions",
            );
        }
        let mut vals = Vec::new();
        for e in &elems {
            let v = self.expr(cx, e)?;
            if !v.ty.is_numeric() {
                return type_err(
                    e.span,
                    format!("an array element must be a number, not {}", v.ty),
                );
            }
            vals.push(v);
        }
        let d = match dtype {
            Some(d) => d,
            None => {
                let mut t = Ty::Bool;
                for v in &vals {
                    t = promote(&t, &v.ty).unwrap_or(Ty::F64);
                }
                if vals.is_empty() {
                    t = Ty::F64;
                }
                t.dtype().unwrap_or(DType::F64)
            }
        };
        let et = Ty::from_dtype(d);
        let mut cast_vals = Vec::new();
        for v in vals {
            let v = self.fit_narrow(cx, v, d, span)?;
            cast_vals.push(self.store_cast(v, &et, span)?);
        }
        let nd = shape.len();
        Ok(self.builtin(
            cx,
            Builtin::ArrayLit(d, shape),
            cast_vals,
            Ty::array(d, nd),
            span,
        ))
    }

    /// A reduction over an array or a fused expression.
    pub(crate) fn map_reduce(
        &mut self,
        cx: &FnCx,
        op: Reduce,
        arr: Expr,
        ty: Ty,
        span: Span,
    ) -> Expr {
        let site = self.site(cx, span);
        let m = self.as_map(arr);
        Expr::new(ExprKind::MapReduce(Box::new(m), op, site), ty)
    }
}

/// Two inputs that are the same variable (read once).
fn same_leaf(a: &Expr, b: &Expr) -> bool {
    match (&a.kind, &b.kind) {
        (ExprKind::Var(x), ExprKind::Var(y)) => x == y,
        (ExprKind::Global(x), ExprKind::Global(y)) => x == y,
        _ => false,
    }
}

/// Renumber a merged map's leaves: inputs through `inputs`, scalars shifted by `base`.
fn reindex(e: Expr, inputs: &[u32], base: u32) -> Expr {
    rewrite_leaves(e, &|leaf| match leaf.kind {
        ExprKind::Elem(k) => Some(Expr::new(
            ExprKind::Elem(inputs[k as usize]),
            leaf.ty.clone(),
        )),
        ExprKind::MapScalar(k) => Some(Expr::new(ExprKind::MapScalar(k + base), leaf.ty.clone())),
        _ => None,
    })
}

/// A map body with each `Elem`/`MapScalar` leaf replaced by what `f` gives for it (the leaf
/// is kept where `f` gives nothing).
pub(crate) fn rewrite_leaves(e: Expr, f: &dyn Fn(&Expr) -> Option<Expr>) -> Expr {
    if matches!(e.kind, ExprKind::Elem(_) | ExprKind::MapScalar(_)) {
        return f(&e).unwrap_or(e);
    }
    let ty = e.ty.clone();
    let r = |x: Box<Expr>| Box::new(rewrite_leaves(*x, f));
    let kind = match e.kind {
        ExprKind::Cast(x) => ExprKind::Cast(r(x)),
        ExprKind::Unary(op, x) => ExprKind::Unary(op, r(x)),
        ExprKind::Binary(op, a, b, s) => ExprKind::Binary(op, r(a), r(b), s),
        ExprKind::Compare(op, a, b) => ExprKind::Compare(op, r(a), r(b)),
        ExprKind::And(a, b) => ExprKind::And(r(a), r(b)),
        ExprKind::Or(a, b) => ExprKind::Or(r(a), r(b)),
        ExprKind::Select(c, a, b) => ExprKind::Select(r(c), r(a), r(b)),
        ExprKind::Builtin { op, args, site } => ExprKind::Builtin {
            op,
            args: args.into_iter().map(|a| rewrite_leaves(a, f)).collect(),
            site,
        },
        ExprKind::Tuple(items) => {
            ExprKind::Tuple(items.into_iter().map(|a| rewrite_leaves(a, f)).collect())
        }
        ExprKind::TupleGet(t, k) => ExprKind::TupleGet(r(t), k),
        other => other,
    };
    Expr::new(kind, ty)
}

/// Is this expression a map body leaf or a variable (cheap to repeat)?
pub(crate) fn is_leafy(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Var(_)
            | ExprKind::Global(_)
            | ExprKind::Float(_)
            | ExprKind::Int(_)
            | ExprKind::Elem(_)
            | ExprKind::MapScalar(_)
    )
}

impl<'a> Env<'a> {
    /// The one index of `a[...]`, lowered, when its form can make an array (a name of an
    /// array, a call, a comparison, an operator): an array there is a boolean mask or int64
    /// indices. A scalar lowered here is handed on to `indices`, so that it is lowered once;
    /// every other index is lowered by the element and slice paths.
    pub(crate) fn array_index(
        &mut self,
        cx: &mut FnCx,
        index: &[ast::Expr],
    ) -> LResult<Option<Expr>> {
        use ast::ExprKind as A;
        let [i] = index else { return Ok(None) };
        let may_be_array = match &i.kind {
            A::Name(n) => matches!(self.name_ty(cx, n), Some(Ty::Array { .. })),
            A::Call { .. } | A::Compare { .. } | A::Binary { .. } | A::Unary { .. } => true,
            _ => false,
        };
        if !may_be_array {
            return Ok(None);
        }
        self.expr(cx, i).map(Some)
    }

    /// `A[mask, j]` of a 2-D `A` and a 1-D boolean mask: the column view `A[:, j]` and the
    /// mask, which `MaskSelect` reads and `mask_assign` writes through (NumPy's result: the
    /// column's elements where the mask is true). Otherwise `Err` with the first index when
    /// this lowered it (it is lowered once: the caller hands it to `indices`).
    pub(crate) fn mask_column(
        &mut self,
        cx: &mut FnCx,
        arr: &Expr,
        index: &[ast::Expr],
        span: Span,
    ) -> LResult<Result<(Expr, Expr), Option<Expr>>> {
        use ast::ExprKind as A;
        let (Ty::Array { ndim: 2, .. }, [first, col]) = (&arr.ty, index) else {
            return Ok(Err(None));
        };
        if matches!(col.kind, A::Slice { .. }) {
            return Ok(Err(None));
        }
        let Some(mask) = self.array_index(cx, std::slice::from_ref(first))? else {
            return Ok(Err(None));
        };
        match mask.ty {
            Ty::Array {
                dtype: DType::Bool,
                ndim: 1,
            } => {}
            Ty::Array { .. } => {
                return type_err(
                    first.span,
                    format!(
                        "A[rows, j] takes a 1-D boolean mask for rows in Kiln, not a {}",
                        mask.ty
                    ),
                )
            }
            _ => return Ok(Err(Some(mask))),
        }
        let all = ast::Expr {
            kind: A::Slice {
                lower: None,
                upper: None,
                step: None,
            },
            span: first.span,
            id: 0,
        };
        let view = self.slice(cx, arr.clone(), &[all, col.clone()], span)?;
        Ok(Ok((view, mask)))
    }

    /// `a[mask]` and `a[idx]`: NumPy's advanced indexing on the first axis, a copy.
    pub(crate) fn advanced_index(
        &mut self,
        cx: &mut FnCx,
        a: Expr,
        ix: Expr,
        span: Span,
    ) -> LResult<Expr> {
        let Ty::Array { dtype, ndim } = a.ty else {
            unreachable!("advanced_index of a non-array")
        };
        match ix.ty {
            Ty::Array {
                dtype: DType::Bool, ..
            } => Ok(self.builtin(
                cx,
                Builtin::MaskSelect,
                vec![a, ix],
                Ty::array(dtype, 1),
                span,
            )),
            Ty::Array {
                dtype: DType::I64,
                ndim: ni,
            } => {
                let out = ni as usize + ndim as usize - 1;
                if out > kiln_runtime::array::MAX_NDIM {
                    return type_err(span, "the result would have more than 4 dimensions");
                }
                Ok(self.builtin(cx, Builtin::Take, vec![a, ix], Ty::array(dtype, out), span))
            }
            ref t => type_err(
                span,
                format!("arrays used as indices must be of integer (or boolean) type, not {t}"),
            ),
        }
    }

    /// `a[mask] = v` with a scalar `v`, written where the mask is true.
    pub(crate) fn mask_assign(
        &mut self,
        cx: &mut FnCx,
        a: Expr,
        mask: Expr,
        v: Expr,
        target: Span,
        span: Span,
    ) -> LResult<Vec<Stmt>> {
        let Ty::Array { dtype, .. } = a.ty else {
            unreachable!("mask_assign into a non-array")
        };
        if !matches!(
            mask.ty,
            Ty::Array {
                dtype: DType::Bool,
                ..
            }
        ) {
            return type_err(
                target,
                "assigning through an index array is not supported in Kiln: only a boolean mask (`a[a < 0] = 0`)",
            )
            .map_err(|e| with_hint(e, "write the loop: `for k in range(len(idx)): a[idx[k]] = v`"));
        }
        if let Ty::Array {
            dtype: vd,
            ndim: vn,
        } = v.ty
        {
            // The values go, in order, where the mask is true (`a[m] = b[m]`).
            if vn != 1 {
                return type_err(
                    span,
                    "a boolean mask assignment takes a scalar or a 1-D array of values",
                )
                .map_err(|e| {
                    with_hint(
                        e,
                        "for arrays of the array's shape use `a[:] = where(m, b, a)`",
                    )
                });
            }
            let v = if vd == dtype {
                v
            } else {
                self.builtin(
                    cx,
                    Builtin::AsType(dtype),
                    vec![v],
                    Ty::array(dtype, 1),
                    span,
                )
            };
            let call = self.builtin(
                cx,
                Builtin::MaskAssignArray,
                vec![a, mask, v],
                Ty::None,
                span,
            );
            return Ok(vec![Stmt::Eval(call)]);
        }
        let v = self.fit_narrow(cx, v, dtype, span)?;
        let v = self.store_cast(v, &Ty::from_dtype(dtype), span)?;
        let call = self.builtin(cx, Builtin::MaskAssign, vec![a, mask, v], Ty::None, span);
        Ok(vec![Stmt::Eval(call)])
    }
}
