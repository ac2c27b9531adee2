//! Builtin calls and methods.

use super::*;

pub(crate) fn math_fn(name: &str) -> Option<MathFn> {
    Some(match name {
        "sqrt" => MathFn::Sqrt,
        "exp" => MathFn::Exp,
        "log" => MathFn::Log,
        "log2" => MathFn::Log2,
        "log10" => MathFn::Log10,
        "sin" => MathFn::Sin,
        "cos" => MathFn::Cos,
        "tan" => MathFn::Tan,
        "arcsin" | "asin" => MathFn::Arcsin,
        "arccos" | "acos" => MathFn::Arccos,
        "arctan" | "atan" => MathFn::Arctan,
        "sinh" => MathFn::Sinh,
        "cosh" => MathFn::Cosh,
        "tanh" => MathFn::Tanh,
        "floor" => MathFn::Floor,
        "ceil" => MathFn::Ceil,
        "trunc" => MathFn::Trunc,
        "rint" => MathFn::Rint,
        _ => return None,
    })
}

/// Every builtin name a user can call (for NameError hints and completion).
pub const BUILTINS: &[&str] = &[
    "print", "range", "prange", "ndrange", "len", "int", "float", "complex", "bool", "str", "repr",
    "f32", "f64", "i64", "c128", "abs", "min", "max", "sum", "round", "pow", "sqrt", "exp", "log",
    "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "floor", "ceil", "trunc", "rint", "hypot", "arctan2", "atan2", "real", "imag", "conj", "angle",
    "isnan", "isinf", "sign", "minimum", "maximum", "clip", "zeros", "ones", "empty", "full",
    "arange", "linspace", "pi", "e", "inf", "nan",
];

impl<'a> Env<'a> {
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
        match (&recv.ty, name) {
            (
                Ty::Array { .. },
                "sum" | "prod" | "min" | "max" | "mean" | "std" | "var" | "argmin" | "argmax"
                | "any" | "all",
            ) => {
                let axis = match (args.first(), keywords.iter().find(|k| k.name == "axis")) {
                    (Some(a), None) => Some(self.expr(cx, a)?),
                    (None, Some(k)) => Some(self.expr(cx, &k.value)?),
                    (None, None) => None,
                    _ => return type_err(span, format!("{name}() got multiple values for 'axis'")),
                };
                if let Some(k) = keywords.iter().find(|k| k.name != "axis") {
                    return type_err(
                        k.span,
                        format!("{name}() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                self.reduction(cx, name, recv, axis, span)
            }
            (Ty::Array { .. }, "reshape") => {
                let vals: LResult<Vec<Expr>> = args.iter().map(|a| self.expr(cx, a)).collect();
                let mut vals = vals?;
                let shape = if vals.len() == 1 {
                    self.shape_arg(vals.pop().unwrap(), span)?
                } else {
                    let tup = Expr::new(
                        ExprKind::Tuple(vals.to_vec()),
                        Ty::tuple(vals.iter().map(|v| v.ty.clone()).collect()),
                    );
                    self.shape_arg(tup, span)?
                };
                self.reshape(cx, recv, shape, span)
            }
            (Ty::Array { .. }, "ravel" | "flatten") => {
                let shape = Expr::new(
                    ExprKind::Tuple(vec![Expr::int(-1)]),
                    Ty::tuple(vec![Ty::I64]),
                );
                let r = self.reshape(cx, recv, shape, span)?;
                if name == "flatten" {
                    let t = r.ty.clone();
                    return Ok(self.builtin(cx, Builtin::Copy, vec![r], t, span));
                }
                Ok(r)
            }
            (Ty::Array { .. }, "astype") => {
                let Some(a) = args.first() else {
                    return type_err(span, "astype() needs a dtype");
                };
                let d = self.dtype_arg(a)?;
                let Ty::Array { ndim, .. } = recv.ty else {
                    unreachable!()
                };
                Ok(self.builtin(
                    cx,
                    Builtin::AsType(d),
                    vec![recv],
                    Ty::array(d, ndim as usize),
                    span,
                ))
            }
            (Ty::Array { .. }, "transpose") => {
                let t = recv.ty.clone();
                Ok(self.builtin(cx, Builtin::Transpose, vec![recv], t, span))
            }
            (Ty::Array { dtype, ndim }, "cumsum") => {
                let (d, nd) = (
                    match dtype {
                        DType::Bool => DType::I64,
                        d => *d,
                    },
                    *ndim as usize,
                );
                let axis = match (args.first(), keywords.iter().find(|k| k.name == "axis")) {
                    (Some(a), None) => Some(self.expr(cx, a)?),
                    (None, Some(k)) => Some(self.expr(cx, &k.value)?),
                    _ => None,
                };
                match axis {
                    Some(ax) if ax.ty != Ty::None => {
                        let ax = self.int_arg(ax, span, "cumsum")?;
                        Ok(self.builtin(
                            cx,
                            Builtin::CumsumAxis,
                            vec![recv, ax],
                            Ty::array(d, nd),
                            span,
                        ))
                    }
                    _ => Ok(self.builtin(cx, Builtin::Cumsum, vec![recv], Ty::array(d, 1), span)),
                }
            }
            (Ty::Array { .. }, "dot") => {
                let Some(a) = args.first() else {
                    return type_err(span, "dot() needs an operand");
                };
                let b = self.expr(cx, a)?;
                self.matmul(cx, recv, b, span)
            }
            (Ty::Array { .. }, "copy") => {
                let t = recv.ty.clone();
                Ok(self.builtin(cx, Builtin::Copy, vec![recv], t, span))
            }
            (t, "conjugate" | "conj") if t.is_numeric() => {
                self.complex_part(cx, Builtin::Conj, recv, span)
            }
            (t, _) => type_err(name_span, format!("'{t}' has no method '{name}' in Kiln")),
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
        if matches!(arr.kind, ExprKind::Map(..)) {
            return self.map_reduce(cx, op, arr, ty, span);
        }
        self.builtin(cx, Builtin::Reduce(op), vec![arr], ty, span)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn call_builtin(
        &mut self,
        cx: &mut FnCx,
        name: &str,
        module: Option<&'static str>,
        mut vals: Vec<Expr>,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        let is_math = module == Some("math");
        let nargs = vals.len();
        let want = |lo: usize, hi: usize| -> LResult<()> {
            if nargs < lo || nargs > hi {
                let n = if lo == hi {
                    format!("{lo}")
                } else {
                    format!("{lo} to {hi}")
                };
                return type_err(
                    span,
                    format!("{name}() takes {n} arguments ({nargs} given)"),
                );
            }
            Ok(())
        };
        let no_kw = |ks: &[ast::Keyword]| -> LResult<()> {
            if let Some(k) = ks.first() {
                return type_err(
                    k.span,
                    format!("{name}() got an unexpected keyword argument '{}'", k.name),
                );
            }
            Ok(())
        };
        let kw = |n: &str| keywords.iter().find(|k| k.name == n);
        let float_like = |v: Expr, s: &Self| s.to_float(v);
        let array_arg = |v: &Expr, s: Span| -> LResult<()> {
            if matches!(v.ty, Ty::Array { .. }) {
                return type_err(
                    s,
                    format!("{name}() of a whole array arrives with the arrays issue"),
                )
                .map_err(|e| with_hint(e, "apply it element by element in a loop"));
            }
            Ok(())
        };
        // Elementwise builtins over arrays: the scalar builtin applied to a map's leaves.
        let elementwise = math_fn(name).is_some()
            || matches!(
                name,
                "abs"
                    | "minimum"
                    | "maximum"
                    | "fmin"
                    | "fmax"
                    | "clip"
                    | "where"
                    | "isnan"
                    | "isinf"
                    | "isfinite"
                    | "sign"
                    | "real"
                    | "imag"
                    | "conj"
                    | "conjugate"
                    | "angle"
                    | "hypot"
                    | "arctan2"
                    | "atan2"
                    | "pow"
                    | "round"
                    | "around"
            );
        if elementwise && vals.iter().any(|v| matches!(v.ty, Ty::Array { .. })) {
            let site = self.site(cx, span);
            // NumPy's round of an array stays float (half to even).
            let scalar_name = match (name, nargs) {
                ("round" | "around", 1) => "rint",
                ("round" | "around", _) => "np_round",
                ("minimum" | "fmin", _) => "minimum",
                ("maximum" | "fmax", _) => "maximum",
                (n, _) => n,
            };
            let scalar_name = scalar_name.to_string();
            return self.elementwise(site, vals, span, |s, leaves| {
                s.call_builtin(cx, &scalar_name, Some("np"), leaves, args, keywords, span)
            });
        }
        for (k, v) in vals.iter().enumerate() {
            if !matches!(
                name,
                "len"
                    | "sum"
                    | "min"
                    | "max"
                    | "mean"
                    | "prod"
                    | "str"
                    | "repr"
                    | "zeros"
                    | "ones"
                    | "empty"
                    | "full"
                    | "copy"
                    | "any"
                    | "all"
                    | "std"
                    | "var"
                    | "argmin"
                    | "argmax"
                    | "cumsum"
                    | "dot"
                    | "reshape"
                    | "transpose"
                    | "astype"
                    | "array"
                    | "display"
                    | "imshow"
            ) {
                array_arg(v, args[k].span)?;
            }
        }
        if let Some(m) = math_fn(name) {
            no_kw(keywords)?;
            want(1, 1)?;
            let v = vals.pop().unwrap();
            if is_math && matches!(m, MathFn::Floor | MathFn::Ceil | MathFn::Trunc) {
                // Python's math.floor/ceil/trunc return an int.
                if v.ty.is_int_like() {
                    return Ok(cast(v, Ty::I64));
                }
                let v = float_like(v, self);
                if v.ty == Ty::C128 {
                    return type_err(span, format!("math.{name}() of a complex number"));
                }
                let v = cast(v, Ty::F64);
                return Ok(match m {
                    MathFn::Floor => self.builtin(cx, Builtin::FloorInt, vec![v], Ty::I64, span),
                    MathFn::Ceil => self.builtin(cx, Builtin::CeilInt, vec![v], Ty::I64, span),
                    _ => cast(v, Ty::I64),
                });
            }
            if matches!(
                m,
                MathFn::Floor | MathFn::Ceil | MathFn::Trunc | MathFn::Rint
            ) && v.ty.is_int_like()
            {
                return Ok(cast(v, Ty::F64));
            }
            let v = float_like(v, self);
            if v.ty == Ty::C128
                && matches!(
                    m,
                    MathFn::Floor | MathFn::Ceil | MathFn::Trunc | MathFn::Rint
                )
            {
                return type_err(span, format!("{name}() of a complex number"));
            }
            let t = v.ty.clone();
            let op = if is_math && t != Ty::C128 {
                Builtin::MathChecked(m)
            } else {
                Builtin::Math(m)
            };
            return Ok(self.builtin(cx, op, vec![v], t, span));
        }
        match name {
            "len" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                return match &v.ty {
                    Ty::Array { .. } => {
                        Ok(self.builtin(cx, Builtin::Dim(0), vec![v], Ty::I64, span))
                    }
                    Ty::Str => Ok(self.builtin(cx, Builtin::StrLen, vec![v], Ty::I64, span)),
                    Ty::Tuple(items) => Ok(Expr::int(items.len() as i64)),
                    t => type_err(span, format!("object of type '{t}' has no len()")),
                };
            }
            "int" | "i64" | "float" | "f64" | "f32" | "bool" | "c128" | "float64" | "float32"
            | "int64" | "int_" | "bool_" | "complex128" | "double" | "single" => {
                no_kw(keywords)?;
                want(0, 1)?;
                let target = Ty::from_dtype(dtype_of_name(name).unwrap());
                let Some(v) = vals.pop() else {
                    return Ok(zero_of(&target));
                };
                if v.ty == Ty::C128 && target != Ty::C128 {
                    return type_err(span, format!("can't convert complex to {name}"));
                }
                if !v.ty.is_numeric() {
                    return type_err(span, format!("{name}() of a {}", v.ty));
                }
                if target == Ty::Bool {
                    return self.truth(v, span);
                }
                if let (ExprKind::Float(x), Ty::F32) = (&v.kind, &target) {
                    return Ok(Expr::new(ExprKind::Float(*x as f32 as f64), Ty::F32));
                }
                return Ok(cast(v, target));
            }
            "complex" => {
                no_kw(keywords)?;
                want(0, 2)?;
                let im = if nargs == 2 {
                    vals.pop().unwrap()
                } else {
                    Expr::new(ExprKind::Float(0.0), Ty::F64)
                };
                let re = vals
                    .pop()
                    .unwrap_or_else(|| Expr::new(ExprKind::Float(0.0), Ty::F64));
                if re.ty == Ty::C128 || im.ty == Ty::C128 {
                    return type_err(span, "complex() takes real parts in Kiln");
                }
                return Ok(self.builtin(
                    cx,
                    Builtin::MakeComplex,
                    vec![cast(re, Ty::F64), cast(im, Ty::F64)],
                    Ty::C128,
                    span,
                ));
            }
            "str" | "repr" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                return self.format(cx, v, "", name == "repr", span);
            }
            "abs" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                let t = match v.ty {
                    Ty::C128 => Ty::F64,
                    Ty::Bool => Ty::I64,
                    ref t if t.is_numeric() => t.clone(),
                    ref t => return type_err(span, format!("bad operand type for abs(): '{t}'")),
                };
                let v = if v.ty == Ty::Bool {
                    cast(v, Ty::I64)
                } else {
                    v
                };
                return Ok(self.builtin(cx, Builtin::Abs, vec![v], t, span));
            }
            "min" | "max" | "minimum" | "maximum" | "fmin" | "fmax" => {
                no_kw(keywords)?;
                if nargs == 1 {
                    if let Ty::Array { dtype, .. } = vals[0].ty {
                        let key = if name.ends_with("in") || name == "minimum" {
                            "min"
                        } else {
                            "max"
                        };
                        return Ok(self.reduce(cx, key, vals.pop().unwrap(), dtype, span));
                    }
                    return type_err(span, format!("{name}() of one scalar"));
                }
                if nargs < 2 {
                    return type_err(span, format!("{name}() expected at least 2 arguments"));
                }
                let op = if name.contains("min") {
                    Builtin::Min
                } else {
                    Builtin::Max
                };
                let mut acc = vals.remove(0);
                for v in vals {
                    let Some(t) = self.arith_type(&acc, &v) else {
                        return type_err(span, format!("{name}() of a {} and a {}", acc.ty, v.ty));
                    };
                    if t == Ty::C128 {
                        return type_err(span, format!("{name}() of complex numbers"));
                    }
                    acc = self.builtin(
                        cx,
                        op.clone(),
                        vec![cast(acc, t.clone()), cast(v, t.clone())],
                        t,
                        span,
                    );
                }
                return Ok(acc);
            }
            "sum" | "prod" | "mean" | "std" | "var" | "argmin" | "argmax" | "any" | "all"
            | "nansum"
                if vals
                    .first()
                    .is_some_and(|v| matches!(v.ty, Ty::Array { .. })) =>
            {
                want(1, 2)?;
                let axis = match (vals.get(1), keywords.iter().find(|k| k.name == "axis")) {
                    (Some(a), None) => Some(a.clone()),
                    (None, Some(k)) => Some(self.expr(cx, &k.value)?),
                    (None, None) => None,
                    _ => return type_err(span, format!("{name}() got multiple values for 'axis'")),
                };
                let v = vals.swap_remove(0);
                return self.reduction(cx, name, v, axis, span);
            }
            "sum" | "prod" | "mean" | "std" | "var" | "argmin" | "argmax" | "any" | "all" => {
                return type_err(span, format!("{name}() takes an array"));
            }
            "cumsum" | "transpose" | "copy" | "ravel" | "flatten" | "astype" | "reshape" => {
                if vals.is_empty() || !matches!(vals[0].ty, Ty::Array { .. }) {
                    return type_err(span, format!("{name}() takes an array"));
                }
                let recv = vals.remove(0);
                return self.method(cx, recv, name, span, &args[1..], keywords, span);
            }
            "dot" | "matmul" => {
                want(2, 2)?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                return self.matmul(cx, a, b, span);
            }
            "eye" | "identity" => {
                want(1, 1)?;
                let d = match kw("dtype") {
                    Some(k) => self.dtype_arg(&k.value)?,
                    None => DType::F64,
                };
                let n = vals.pop().unwrap();
                let n = self.int_arg(n, args[0].span, name)?;
                return Ok(self.builtin(cx, Builtin::Eye(d), vec![n], Ty::array(d, 2), span));
            }
            "array" | "asarray" => {
                want(1, 1)?;
                let d = match kw("dtype") {
                    Some(k) => Some(self.dtype_arg(&k.value)?),
                    None => None,
                };
                if matches!(vals[0].ty, Ty::Array { .. }) {
                    let v = vals.pop().unwrap();
                    return Ok(match d {
                        Some(d) => self.astype(cx, v, d, span),
                        None => {
                            let t = v.ty.clone();
                            self.builtin(cx, Builtin::Copy, vec![v], t, span)
                        }
                    });
                }
                return self.array_literal(cx, &args[0], d, span);
            }
            "rand" | "randn" | "random" => {
                no_kw(keywords)?;
                if vals.is_empty() {
                    return Ok(self.builtin(cx, Builtin::RandScalar, vec![], Ty::F64, span));
                }
                let tup = if vals.len() == 1 {
                    vals.pop().unwrap()
                } else {
                    Expr::new(
                        ExprKind::Tuple(vals.clone()),
                        Ty::tuple(vals.iter().map(|v| v.ty.clone()).collect()),
                    )
                };
                let shape = self.shape_arg(tup, span)?;
                let nd = match &shape.ty {
                    Ty::Tuple(t) => t.len(),
                    _ => 1,
                };
                let op = if name == "randn" {
                    Builtin::Randn
                } else {
                    Builtin::Rand
                };
                return Ok(self.builtin(cx, op, vec![shape], Ty::array(DType::F64, nd), span));
            }
            "randint" => {
                want(2, 3)?;
                let size = match (vals.get(2), kw("size")) {
                    (Some(s), _) => s.clone(),
                    (None, Some(k)) => self.expr(cx, &k.value)?,
                    _ => {
                        return type_err(
                            span,
                            "randint(lo, hi, shape) needs a shape in Kiln (arrays only)",
                        )
                    }
                };
                let shape = self.shape_arg(size, span)?;
                let nd = match &shape.ty {
                    Ty::Tuple(t) => t.len(),
                    _ => 1,
                };
                let lo = self.int_arg(vals[0].clone(), args[0].span, "randint")?;
                let hi = self.int_arg(vals[1].clone(), args[1].span, "randint")?;
                return Ok(self.builtin(
                    cx,
                    Builtin::Randint,
                    vec![lo, hi, shape],
                    Ty::array(DType::I64, nd),
                    span,
                ));
            }
            "seed" => {
                want(1, 1)?;
                let n = self.int_arg(vals.pop().unwrap(), args[0].span, "seed")?;
                return Ok(self.builtin(cx, Builtin::Seed, vec![n], Ty::None, span));
            }
            "np_round" => {
                // NumPy's round(x, n) for array elements (scaled rint, not Python's).
                let n = vals.pop().unwrap();
                let n = self.int_arg(n, span, "round")?;
                let x = vals.pop().unwrap();
                if x.ty.is_int_like() {
                    return Ok(cast(x, Ty::I64));
                }
                let x = cast(float_like(x, self), Ty::F64);
                return Ok(self.builtin(cx, Builtin::NpRoundN, vec![x, n], Ty::F64, span));
            }
            "round" => {
                no_kw(keywords)?;
                want(1, 2)?;
                if nargs == 2 {
                    let n = vals.pop().unwrap();
                    let n = self.int_arg(n, args[1].span, "round")?;
                    let x = vals.pop().unwrap();
                    if x.ty.is_int_like() {
                        // Python: an int stays an int; a negative n rounds to tens,
                        // hundreds, ... (half to even).
                        let x = cast(x, Ty::I64);
                        return Ok(self.builtin(cx, Builtin::RoundIntN, vec![x, n], Ty::I64, span));
                    }
                    let x = cast(float_like(x, self), Ty::F64);
                    return Ok(self.builtin(cx, Builtin::RoundN, vec![x, n], Ty::F64, span));
                }
                let x = vals.pop().unwrap();
                if x.ty.is_int_like() {
                    return Ok(cast(x, Ty::I64));
                }
                if x.ty == Ty::C128 {
                    return type_err(span, "round() of a complex number");
                }
                let x = cast(x, Ty::F64);
                return Ok(self.builtin(cx, Builtin::RoundInt, vec![x], Ty::I64, span));
            }
            "pow" => {
                no_kw(keywords)?;
                want(2, 2)?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                return self.binary(cx, ast::BinOp::Pow, a, b, span);
            }
            "hypot" | "arctan2" | "atan2" => {
                no_kw(keywords)?;
                want(2, 2)?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                let t = match self.arith_type(&a, &b) {
                    Some(Ty::F32) => Ty::F32,
                    Some(Ty::C128) | None => {
                        return type_err(span, format!("{name}() takes real numbers"))
                    }
                    _ => Ty::F64,
                };
                let op = if name == "hypot" {
                    Builtin::Hypot
                } else {
                    Builtin::Atan2
                };
                return Ok(self.builtin(
                    cx,
                    op,
                    vec![cast(a, t.clone()), cast(b, t.clone())],
                    t,
                    span,
                ));
            }
            "real" | "imag" | "conj" | "conjugate" | "angle" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                let op = match name {
                    "real" => Builtin::Real,
                    "imag" => Builtin::Imag,
                    "angle" => Builtin::Angle,
                    _ => Builtin::Conj,
                };
                return self.complex_part(cx, op, v, span);
            }
            "isnan" | "isinf" | "isfinite" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                if !v.ty.is_numeric() {
                    return type_err(span, format!("{name}() of a {}", v.ty));
                }
                if v.ty.is_int_like() {
                    return Ok(Expr::new(ExprKind::Bool(name == "isfinite"), Ty::Bool));
                }
                if name == "isfinite" {
                    let nan = self.builtin(cx, Builtin::IsNan, vec![v.clone()], Ty::Bool, span);
                    let inf = self.builtin(cx, Builtin::IsInf, vec![v], Ty::Bool, span);
                    let either = Expr::new(ExprKind::Or(Box::new(nan), Box::new(inf)), Ty::Bool);
                    return Ok(Expr::new(
                        ExprKind::Unary(UnOp::Not, Box::new(either)),
                        Ty::Bool,
                    ));
                }
                let op = if name == "isnan" {
                    Builtin::IsNan
                } else {
                    Builtin::IsInf
                };
                return Ok(self.builtin(cx, op, vec![v], Ty::Bool, span));
            }
            "where" => {
                no_kw(keywords)?;
                want(3, 3)?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                let c = vals.pop().unwrap();
                let c = self.truth(c, args[0].span)?;
                let Some(t) = self.arith_type(&a, &b) else {
                    return type_err(span, format!("where() of a {} and a {}", a.ty, b.ty));
                };
                return Ok(Expr::new(
                    ExprKind::Select(
                        Box::new(c),
                        Box::new(cast(a, t.clone())),
                        Box::new(cast(b, t.clone())),
                    ),
                    t,
                ));
            }
            "sign" => {
                no_kw(keywords)?;
                want(1, 1)?;
                let v = vals.pop().unwrap();
                let v = if v.ty == Ty::Bool {
                    cast(v, Ty::I64)
                } else {
                    v
                };
                if v.ty == Ty::C128 || !v.ty.is_numeric() {
                    return type_err(span, format!("sign() of a {}", v.ty));
                }
                let t = v.ty.clone();
                return Ok(self.builtin(cx, Builtin::Sign, vec![v], t, span));
            }
            "clip" => {
                no_kw(keywords)?;
                want(3, 3)?;
                let hi = vals.pop().unwrap();
                let lo = vals.pop().unwrap();
                let x = vals.pop().unwrap();
                let t = self
                    .arith_type(&x, &lo)
                    .and_then(|t| promote(&t, &hi.ty))
                    .filter(|t| *t != Ty::C128)
                    .map_or_else(|| type_err(span, "clip() takes real numbers"), Ok)?;
                let m = self.builtin(
                    cx,
                    Builtin::Max,
                    vec![cast(x, t.clone()), cast(lo, t.clone())],
                    t.clone(),
                    span,
                );
                return Ok(self.builtin(cx, Builtin::Min, vec![m, cast(hi, t.clone())], t, span));
            }
            "zeros" | "ones" | "empty" | "full" => {
                let need = if name == "full" { 2 } else { 1 };
                want(need, need + 1)?;
                let dtype_kw = kw("dtype");
                if let Some(k) = keywords.iter().find(|k| k.name != "dtype") {
                    return type_err(
                        k.span,
                        format!("{name}() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                let fill = if name == "full" {
                    Some(vals.remove(1))
                } else {
                    None
                };
                let dtype = match (dtype_kw, args.get(need)) {
                    (Some(k), _) => self.dtype_arg(&k.value)?,
                    (None, Some(a)) => self.dtype_arg(a)?,
                    (None, None) => match &fill {
                        Some(v) => match v.ty.dtype() {
                            Some(d) => d,
                            None => {
                                return type_err(
                                    span,
                                    format!("full() fill value of type {}", v.ty),
                                )
                            }
                        },
                        None => DType::F64,
                    },
                };
                let shape = self.shape_arg(vals.remove(0), args[0].span)?;
                let ndim = match &shape.ty {
                    Ty::Tuple(t) => t.len(),
                    _ => 1,
                };
                if ndim == 0 || ndim > 4 {
                    return type_err(args[0].span, "arrays have 1 to 4 dimensions in Kiln");
                }
                let aty = Ty::array(dtype, ndim);
                let mut a = vec![shape];
                let op = match name {
                    "zeros" => Builtin::Zeros(dtype),
                    "ones" => Builtin::Ones(dtype),
                    "empty" => Builtin::Empty(dtype),
                    _ => {
                        let v = fill.unwrap();
                        let v = self.store_cast(v, &Ty::from_dtype(dtype), span)?;
                        a.push(v);
                        Builtin::Full(dtype)
                    }
                };
                return Ok(self.builtin(cx, op, a, aty, span));
            }
            "arange" => {
                if let Some(k) = keywords.iter().find(|k| k.name != "dtype") {
                    return type_err(
                        k.span,
                        format!("arange() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                if let Some(k) = kw("dtype") {
                    // arange(..., dtype=d): compute as NumPy does, then cast.
                    let d = self.dtype_arg(&k.value)?;
                    let inner = self.call_builtin(cx, "arange", module, vals, args, &[], span)?;
                    return Ok(self.astype(cx, inner, d, span));
                }
                want(1, 3)?;
                let all_int = vals.iter().all(|v| v.ty.is_int_like());
                if vals.iter().any(|v| !v.ty.is_numeric() || v.ty == Ty::C128) {
                    return type_err(span, "arange() takes real numbers");
                }
                let t = if all_int { Ty::I64 } else { Ty::F64 };
                let mut v: Vec<Expr> = vals.into_iter().map(|v| cast(v, t.clone())).collect();
                let (zero, one) = if all_int {
                    (Expr::int(0), Expr::int(1))
                } else {
                    (
                        Expr::new(ExprKind::Float(0.0), Ty::F64),
                        Expr::new(ExprKind::Float(1.0), Ty::F64),
                    )
                };
                let a = match v.len() {
                    1 => vec![zero, v.pop().unwrap(), one],
                    2 => {
                        v.push(one);
                        v
                    }
                    _ => v,
                };
                let (op, et) = if all_int {
                    (Builtin::ArangeInt, DType::I64)
                } else {
                    (Builtin::ArangeFloat, DType::F64)
                };
                return Ok(self.builtin(cx, op, a, Ty::array(et, 1), span));
            }
            "linspace" => {
                want(2, 3)?;
                let num_kw = kw("num");
                let dtype = match kw("dtype") {
                    Some(k) => self.dtype_arg(&k.value)?,
                    None => DType::F64,
                };
                if let Some(k) = keywords
                    .iter()
                    .find(|k| k.name != "dtype" && k.name != "num")
                {
                    return type_err(
                        k.span,
                        format!("linspace() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                let num = match (vals.len(), num_kw) {
                    (3, _) => vals.pop().unwrap(),
                    (_, Some(k)) => self.expr(cx, &k.value)?,
                    _ => Expr::int(50),
                };
                let num = self.int_arg(num, span, "linspace")?;
                let b = vals.pop().unwrap();
                let a = vals.pop().unwrap();
                if !a.ty.is_numeric() || !b.ty.is_numeric() || a.ty == Ty::C128 || b.ty == Ty::C128
                {
                    return type_err(span, "linspace() takes real numbers");
                }
                if dtype == DType::C128 || dtype == DType::Bool {
                    return type_err(span, "linspace() makes float or int arrays in Kiln");
                }
                return Ok(self.builtin(
                    cx,
                    Builtin::Linspace(dtype),
                    vec![cast(a, Ty::F64), cast(b, Ty::F64), num],
                    Ty::array(dtype, 1),
                    span,
                ));
            }
            "range" | "prange" | "ndrange" => {
                return type_err(
                    span,
                    format!("{name}() can only be used as the iterable of a for loop"),
                );
            }
            "display" => {
                if vals.len() != 1 {
                    return type_err(span, "display() shows one value at a time in Kiln");
                }
                let v = vals.pop().unwrap();
                self.display_types.push(v.ty.clone());
                let k = (self.display_types.len() - 1) as u32;
                return Ok(self.builtin(cx, Builtin::Display(k), vec![v], Ty::None, span));
            }
            "imshow" => {
                want(1, 1)?;
                let a = vals.pop().unwrap();
                if !matches!(a.ty, Ty::Array { ndim: 2, .. })
                    || matches!(
                        a.ty,
                        Ty::Array {
                            dtype: DType::C128,
                            ..
                        }
                    )
                {
                    return type_err(
                        span,
                        format!("imshow() takes a 2-D real array, not {}", a.ty),
                    );
                }
                let mut text = |k: &str| -> LResult<Expr> {
                    match keywords.iter().find(|kw| kw.name == k) {
                        Some(kw) => {
                            let v = self.expr(cx, &kw.value)?;
                            if v.ty != Ty::Str {
                                return type_err(kw.value.span, format!("{k}= takes a string"));
                            }
                            Ok(v)
                        }
                        None => Ok(Expr::none()),
                    }
                };
                let cmap = text("cmap")?;
                let title = text("title")?;
                if let Some(k) = keywords
                    .iter()
                    .find(|k| !["cmap", "title", "xlabel", "ylabel"].contains(&k.name.as_str()))
                {
                    return type_err(
                        k.span,
                        format!("imshow() got an unexpected keyword argument '{}'", k.name),
                    );
                }
                return Ok(self.builtin(cx, Builtin::Imshow, vec![a, cmap, title], Ty::None, span));
            }
            "clear_output" => {
                let wait = match (vals.pop(), keywords.iter().find(|k| k.name == "wait")) {
                    (Some(v), _) => v,
                    (None, Some(k)) => self.expr(cx, &k.value)?,
                    (None, None) => Expr::new(ExprKind::Bool(false), Ty::Bool),
                };
                let wait = self.truth(wait, span)?;
                return Ok(self.builtin(cx, Builtin::ClearOutput, vec![wait], Ty::None, span));
            }
            _ => {}
        }
        let hint = similar_name(name, self, cx).map(|s| format!("did you mean '{s}'?"));
        let mut d = Diagnostic::new(
            ErrorKind::NameError,
            span,
            match module {
                Some(m) => format!("'{m}.{name}' is not a Kiln builtin"),
                None => format!("name '{name}' is not defined"),
            },
        );
        d.hint = hint;
        Err(LErr::Diag(d))
    }
}
