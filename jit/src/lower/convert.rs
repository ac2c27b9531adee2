//! Conversions: truthiness, numeric casts (folded for literals), annotations and dtype
//! arguments, and the int and shape arguments builtins take.

use super::*;

pub(crate) fn dtype_of_name(name: &str) -> Option<DType> {
    Some(match name {
        "f64" | "float" | "float64" | "double" => DType::F64,
        "f32" | "float32" | "single" => DType::F32,
        "i64" | "int" | "int64" | "int_" | "intp" | "longlong" => DType::I64,
        "int8" | "byte" => DType::I8,
        "int16" | "short" => DType::I16,
        "int32" | "intc" => DType::I32,
        "uint8" | "ubyte" => DType::U8,
        "uint16" | "ushort" => DType::U16,
        "uint32" | "uintc" => DType::U32,
        "bool" | "bool_" => DType::Bool,
        "c128" | "complex" | "complex128" | "complex_" => DType::C128,
        _ => return None,
    })
}

/// NumPy's fixed-width types Kiln's arrays do not store.
pub(crate) const NARROW_DTYPES: &[&str] = &[
    "uint64",
    "ulonglong",
    "uint",
    "complex64",
    "csingle",
    "float16",
    "half",
];

/// Why a NumPy type in [`NARROW_DTYPES`] has no Kiln array, and what to use instead.
pub(crate) fn unsupported_dtype(name: &str) -> (String, &'static str) {
    let hint = match name {
        "complex64" | "csingle" => "use np.complex128",
        "float16" | "half" => "use np.float32",
        _ => "use np.int64, or np.uint32 for values below 2**32",
    };
    let why = match name {
        "complex64" | "csingle" => "complex numbers are complex128",
        "float16" | "half" => "the narrowest float is float32",
        _ => "Kiln's integers are signed 64-bit, which cannot hold a uint64 from 2**63 on",
    };
    (
        format!("{name} arrays are not supported in Kiln: {why}"),
        hint,
    )
}

/// The NumPy scalar types that name a dtype as values (`dt = np.float32`).
pub(crate) fn numpy_scalar_type(attr: &str) -> Option<DType> {
    match attr {
        "float64" | "float32" | "int64" | "bool_" | "complex128" | "double" | "single" | "intp" => {
            dtype_of_name(attr)
        }
        name => dtype_of_name(name).filter(|d| d.narrow_int().is_some()),
    }
}

/// A dtype as a compile-time value (no machine words).
pub(crate) fn dtype_value(d: DType, class: bool) -> Expr {
    Expr::new(ExprKind::None, Ty::DType { dtype: d, class })
}

pub(crate) fn zero_of(t: &Ty) -> Expr {
    match t {
        Ty::Bool => Expr::new(ExprKind::Bool(false), Ty::Bool),
        Ty::I64 => Expr::int(0),
        Ty::F64 | Ty::F32 => Expr::new(ExprKind::Float(0.0), t.clone()),
        Ty::C128 => Expr::new(ExprKind::Complex(0.0, 0.0), Ty::C128),
        _ => Expr::none(),
    }
}

/// A numeric conversion, folded for literals.
pub fn cast(v: Expr, to: Ty) -> Expr {
    if v.ty == to {
        return v;
    }
    match (&v.kind, &to) {
        (ExprKind::Int(k), Ty::F64 | Ty::F32) => return Expr::new(ExprKind::Float(*k as f64), to),
        (ExprKind::Int(k), Ty::C128) => return Expr::new(ExprKind::Complex(*k as f64, 0.0), to),
        (ExprKind::Float(x), Ty::F32) => return Expr::new(ExprKind::Float(*x as f32 as f64), to),
        (ExprKind::Float(x), Ty::F64) => return Expr::new(ExprKind::Float(*x), to),
        (ExprKind::Float(x), Ty::C128) => return Expr::new(ExprKind::Complex(*x, 0.0), to),
        (ExprKind::Bool(b), Ty::I64) => return Expr::int(*b as i64),
        (ExprKind::Bool(b), Ty::F64 | Ty::F32) => {
            return Expr::new(ExprKind::Float(*b as i64 as f64), to)
        }
        _ => {}
    }
    Expr::new(ExprKind::Cast(Box::new(v)), to)
}

impl<'a> Env<'a> {
    /// NumPy's casting on element assignment: any real number into any real dtype.
    pub(crate) fn store_cast(&mut self, v: Expr, elem: &Ty, span: Span) -> LResult<Expr> {
        if v.ty == *elem {
            return Ok(v);
        }
        if v.ty == Ty::C128 && *elem != Ty::C128 {
            return type_err(
                span,
                format!("cannot store a complex value in a {elem} array"),
            )
            .map_err(|e| with_hint(e, "take `.real` or `abs(...)` first"));
        }
        if !v.ty.is_numeric() {
            return type_err(span, format!("cannot store a {} in a {elem} array", v.ty));
        }
        Ok(cast(v, elem.clone()))
    }

    pub(crate) fn int_arg(&self, v: Expr, span: Span, what: &str) -> LResult<Expr> {
        match v.ty {
            Ty::I64 => Ok(v),
            Ty::Bool => Ok(cast(v, Ty::I64)),
            ref t => type_err(span, format!("{what}() needs integers, got a {t}")).map_err(|e| {
                with_hint(
                    e,
                    "convert with int(...): a float cannot be interpreted as an integer",
                )
            }),
        }
    }

    // ----- types from annotations -----------------------------------------------------------

    pub(crate) fn annotation(&self, e: &ast::Expr) -> LResult<Ty> {
        let bad = || {
            type_err(e.span, "not a Kiln type (use bool, int/i64, float/f64, f32, complex/c128, str, or an array like f64[:, :])")
        };
        match &e.kind {
            ast::ExprKind::Name(n) if n == "str" => Ok(Ty::Str),
            ast::ExprKind::Name(n) if n == "list" => {
                type_err(e.span, "a list annotation names its element type in Kiln")
                    .map_err(|er| with_hint(er, "write list[float] (or list[int], list[bool], list[complex]), or leave the parameter unannotated"))
            }
            // `list[float]`: a list of that scalar type.
            ast::ExprKind::Subscript { value, index }
                if matches!(&value.kind, ast::ExprKind::Name(n) if n == "list") =>
            {
                match index.as_slice() {
                    [i] => match self.annotation(i)? {
                        t if t.is_numeric() => Ok(Ty::list(t)),
                        t => type_err(
                            i.span,
                            format!("Kiln lists hold numbers of one type, not {t}"),
                        ),
                    },
                    _ => bad(),
                }
            }
            ast::ExprKind::Name(n) => dtype_of_name(n).map(Ty::from_dtype).map_or_else(bad, Ok),
            ast::ExprKind::Attribute { attr, .. } => {
                dtype_of_name(attr).map(Ty::from_dtype).map_or_else(bad, Ok)
            }
            ast::ExprKind::Subscript { value, index } => {
                // `int32[:]`: an array of a narrow type (whose scalars are i64).
                let spelled = match &value.kind {
                    ast::ExprKind::Name(n) => dtype_of_name(n),
                    ast::ExprKind::Attribute { attr, .. } => dtype_of_name(attr),
                    _ => None,
                };
                let elem = self.annotation(value)?;
                let Some(d) = spelled.or(elem.dtype()) else {
                    return bad();
                };
                if index.is_empty()
                    || index.len() > 4
                    || !index
                        .iter()
                        .all(|i| matches!(i.kind, ast::ExprKind::Slice { .. }))
                {
                    return bad();
                }
                Ok(Ty::array(d, index.len()))
            }
            ast::ExprKind::Tuple(items) => {
                let tys: LResult<Vec<Ty>> = items.iter().map(|i| self.annotation(i)).collect();
                Ok(Ty::tuple(tys?))
            }
            ast::ExprKind::None => Ok(Ty::None),
            _ => bad(),
        }
    }

    /// A dtype written as syntax: `f32`, `np.float64`, `"int64"`, or an array's `a.dtype`.
    pub(crate) fn dtype_arg(&mut self, cx: &mut FnCx, e: &ast::Expr) -> LResult<DType> {
        // What a dtype is called, when it is written as one (`np.int32`, `"uint8"`).
        let spelled = match &e.kind {
            ast::ExprKind::Attribute { attr, value, .. } if matches!(&value.kind, ast::ExprKind::Name(m) if self.names_module(m)) => {
                Some(attr.as_str())
            }
            ast::ExprKind::Str(s) => Some(s.as_str()),
            ast::ExprKind::Name(n) if !self.is_local(cx, n) && self.global_ty(n).is_none() => {
                Some(n.as_str())
            }
            _ => None,
        };
        let mut d = spelled.and_then(dtype_of_name);
        if d.is_none() && spelled.is_none() {
            // A dtype held by a variable, a parameter (`def f(n, dtype=np.float64)`) or
            // any expression whose type is a dtype.
            d = self.expr(cx, e)?.ty.dtype_value();
        }
        d.map_or_else(
            || match spelled.filter(|n| NARROW_DTYPES.contains(n)) {
                Some(n) => {
                    let (msg, hint) = unsupported_dtype(n);
                    type_err(e.span, msg).map_err(|e| with_hint(e, hint))
                }
                None => type_err(
                    e.span,
                    "not a dtype (use f64, f32, i64, bool or c128, or np.float64 and friends)",
                ),
            },
            Ok,
        )
    }

    /// A Python integer stored into a narrow integer type must fit it (NumPy 2's
    /// OverflowError, `Python integer 300 out of bounds for uint8`), checked when the
    /// statement runs (a literal that fits needs no check). Other values are returned as
    /// they are.
    pub(crate) fn fit_narrow(
        &mut self,
        cx: &FnCx,
        v: Expr,
        dtype: DType,
        span: Span,
    ) -> LResult<Expr> {
        let Some((lo, hi)) = dtype.int_range().filter(|_| dtype.narrow_int().is_some()) else {
            return Ok(v);
        };
        if v.ty != Ty::I64 {
            return Ok(v);
        }
        match v.kind {
            ExprKind::Int(x) if (lo..=hi).contains(&x) => Ok(v),
            // Already wrapped to the type (`a[i] += 1`).
            ExprKind::Builtin {
                op: Builtin::WrapInt(w),
                ..
            } if w == dtype => Ok(v),
            _ => Ok(self.builtin(cx, Builtin::CheckIntRange(dtype), vec![v], Ty::I64, span)),
        }
    }

    /// Python truthiness as a `Bool` condition.
    pub(crate) fn truth(&self, v: Expr, span: Span) -> LResult<Expr> {
        Ok(match &v.ty {
            Ty::Bool => v,
            Ty::I64 | Ty::F64 | Ty::F32 | Ty::C128 => {
                let z = zero_of(&v.ty);
                Expr::new(ExprKind::Compare(CmpOp::Ne, Box::new(v), Box::new(z)), Ty::Bool)
            }
            Ty::None => Expr::new(ExprKind::Bool(false), Ty::Bool),
            // `if r:` of a number or None: present and not zero, read from a name twice.
            Ty::Optional(inner) if matches!(v.kind, ExprKind::Var(_) | ExprKind::Global(_)) => {
                let flag = Expr::new(ExprKind::TupleGet(Box::new(v.clone()), 0), Ty::Bool);
                let inner = (**inner).clone();
                let val = Expr::new(ExprKind::TupleGet(Box::new(v), 1), inner);
                let nz = self.truth(val, span)?;
                Expr::new(ExprKind::And(Box::new(flag), Box::new(nz)), Ty::Bool)
            }
            Ty::Optional(_) => {
                return type_err(span, "the truth of a value that may be None is ambiguous here")
                    .map_err(|e| with_hint(e, "assign it to a name first, or test it with `is not None`"))
            }
            // A dtype (or scalar type) is always true in Python.
            Ty::DType { .. } | Ty::CType(_) | Ty::CLib(_) | Ty::CFunc { .. } | Ty::CPointer(_) => {
                Expr::new(ExprKind::Bool(true), Ty::Bool)
            }
            Ty::Tuple(items) => Expr::new(ExprKind::Bool(!items.is_empty()), Ty::Bool),
            Ty::List(_) => {
                let len = Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::List(ir::ListOp::Len),
                        args: vec![v],
                        site: 0,
                    },
                    Ty::I64,
                );
                Expr::new(ExprKind::Compare(CmpOp::Ne, Box::new(len), Box::new(Expr::int(0))), Ty::Bool)
            }
            Ty::Str => {
                let len = Expr::new(
                    ExprKind::Builtin {
                        op: Builtin::StrLen,
                        args: vec![v],
                        site: 0,
                    },
                    Ty::I64,
                );
                Expr::new(ExprKind::Compare(CmpOp::Ne, Box::new(len), Box::new(Expr::int(0))), Ty::Bool)
            }
            Ty::Array { .. } => {
                return err(
                    ErrorKind::ValueError,
                    span,
                    "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()",
                )
            }
        })
    }

    pub(crate) fn to_float(&self, v: Expr) -> Expr {
        match v.ty {
            Ty::F64 | Ty::F32 | Ty::C128 => v,
            _ => cast(v, Ty::F64),
        }
    }

    /// Implicit conversion for assignment to a variable of type `to`.
    pub(crate) fn convert(&self, v: Expr, to: &Ty, span: Span) -> LResult<Expr> {
        if v.ty == *to {
            return Ok(v);
        }
        match (&v.ty, to) {
            (a, b) if a.is_numeric() && b.is_numeric() => {
                if unify(a, b).as_ref() == Some(b) {
                    Ok(cast(v, to.clone()))
                } else {
                    type_err(span, format!("cannot convert {a} to {b} implicitly"))
                }
            }
            (Ty::Tuple(a), Ty::Tuple(b)) if a.len() == b.len() => {
                let items: Vec<Expr> = (0..a.len())
                    .map(|k| {
                        Expr::new(
                            ExprKind::TupleGet(Box::new(v.clone()), k as u32),
                            a[k].clone(),
                        )
                    })
                    .collect();
                let mut out = Vec::new();
                for (k, it) in items.into_iter().enumerate() {
                    out.push(self.convert(it, &b[k], span)?);
                }
                Ok(Expr::new(ExprKind::Tuple(out), to.clone()))
            }
            // A number, or None, where a number or None is expected (SPEC §2's optional).
            (Ty::None, Ty::Optional(t)) => Ok(Expr::new(
                ExprKind::Tuple(vec![Expr::new(ExprKind::Bool(false), Ty::Bool), zero_of(t)]),
                to.clone(),
            )),
            (a, Ty::Optional(t)) if a.is_numeric() => {
                let v = self.convert(v, t, span)?;
                Ok(Expr::new(
                    ExprKind::Tuple(vec![Expr::new(ExprKind::Bool(true), Ty::Bool), v]),
                    to.clone(),
                ))
            }
            (Ty::Optional(a), Ty::Optional(b))
                if matches!(v.kind, ExprKind::Var(_) | ExprKind::Global(_)) =>
            {
                let flag = Expr::new(ExprKind::TupleGet(Box::new(v.clone()), 0), Ty::Bool);
                let a = (**a).clone();
                let val = Expr::new(ExprKind::TupleGet(Box::new(v), 1), a);
                Ok(Expr::new(
                    ExprKind::Tuple(vec![flag, self.convert(val, b, span)?]),
                    to.clone(),
                ))
            }
            (Ty::List(_), Ty::List(_)) => self.convert_list(v, to, span),
            (a, b) => type_err(span, format!("a {a} where a {b} is expected")),
        }
    }

    /// A shape argument: an int or a tuple of ints, as a tuple of i64.
    pub(crate) fn shape_arg(&self, v: Expr, span: Span) -> LResult<Expr> {
        match &v.ty {
            Ty::I64 | Ty::Bool => Ok(Expr::new(
                ExprKind::Tuple(vec![cast(v, Ty::I64)]),
                Ty::tuple(vec![Ty::I64]),
            )),
            Ty::Tuple(items) if items.iter().all(|t| t.is_int_like()) => {
                let n = items.len();
                let t = Ty::tuple(vec![Ty::I64; n]);
                self.convert(v, &t, span)
            }
            t => type_err(
                span,
                format!("a shape is an int or a tuple of ints, not a {t}"),
            ),
        }
    }
}
