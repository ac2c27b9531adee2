//! Operators on scalars: unary, `and`/`or`, comparisons (chained), and arithmetic with NumPy's
//! promotion and Python's semantics (floor `//` and `%`, true `/`, `**`).

use super::*;

/// Python's TypeError for an operator that does not apply to its operands' types.
pub(crate) fn unsupported<T>(op: ast::BinOp, a: &Expr, b: &Expr, span: Span) -> LResult<T> {
    type_err(
        span,
        format!(
            "unsupported operand type(s) for {}: '{}' and '{}'",
            op.symbol(),
            a.ty,
            b.ty
        ),
    )
}

impl<'a> Env<'a> {
    pub(crate) fn unary(&self, op: ast::UnaryOp, v: Expr, span: Span) -> LResult<Expr> {
        Ok(match op {
            ast::UnaryOp::Pos => {
                if !v.ty.is_numeric() {
                    return type_err(span, format!("bad operand type for unary +: '{}'", v.ty));
                }
                if v.ty == Ty::Bool {
                    cast(v, Ty::I64)
                } else {
                    v
                }
            }
            ast::UnaryOp::Neg => {
                if !v.ty.is_numeric() {
                    return type_err(span, format!("bad operand type for unary -: '{}'", v.ty));
                }
                if let ExprKind::Int(k) = v.kind {
                    return Ok(Expr::int(k.wrapping_neg()));
                }
                if let ExprKind::Float(k) = v.kind {
                    return Ok(Expr::new(ExprKind::Float(-k), v.ty));
                }
                let v = if v.ty == Ty::Bool {
                    cast(v, Ty::I64)
                } else {
                    v
                };
                let t = v.ty.clone();
                Expr::new(ExprKind::Unary(UnOp::Neg, Box::new(v)), t)
            }
            ast::UnaryOp::Not => {
                let c = self.truth(v, span)?;
                Expr::new(ExprKind::Unary(UnOp::Not, Box::new(c)), Ty::Bool)
            }
            ast::UnaryOp::Invert => match v.ty {
                Ty::I64 | Ty::Bool => {
                    let t = v.ty.clone();
                    Expr::new(ExprKind::Unary(UnOp::Invert, Box::new(v)), t)
                }
                ref t => return type_err(span, format!("bad operand type for unary ~: '{t}'")),
            },
        })
    }

    pub(crate) fn boolop(&self, op: ast::BoolOp, a: Expr, b: Expr, span: Span) -> LResult<Expr> {
        if matches!(a.ty, Ty::Array { .. }) || matches!(b.ty, Ty::Array { .. }) {
            return type_err(span, "`and`/`or` on arrays are ambiguous")
                .map_err(|e| with_hint(e, "use & and | for elementwise logic"));
        }
        let (a, b) = if a.ty == Ty::Bool && b.ty == Ty::Bool {
            (a, b)
        } else {
            let Some(t) = unify(&a.ty, &b.ty) else {
                // Mixed kinds: use truthiness (the value of `x and y` is rarely used then).
                return Ok(Expr::new(
                    match op {
                        ast::BoolOp::And => ExprKind::And(
                            Box::new(self.truth(a, span)?),
                            Box::new(self.truth(b, span)?),
                        ),
                        ast::BoolOp::Or => ExprKind::Or(
                            Box::new(self.truth(a, span)?),
                            Box::new(self.truth(b, span)?),
                        ),
                    },
                    Ty::Bool,
                ));
            };
            (cast(a, t.clone()), cast(b, t))
        };
        let t = a.ty.clone();
        Ok(Expr::new(
            match op {
                ast::BoolOp::And => ExprKind::And(Box::new(a), Box::new(b)),
                ast::BoolOp::Or => ExprKind::Or(Box::new(a), Box::new(b)),
            },
            t,
        ))
    }

    pub(crate) fn compare(&self, op: ast::CmpOp, a: Expr, b: Expr, span: Span) -> LResult<Expr> {
        use ast::CmpOp as C;
        if matches!(op, C::Is | C::IsNot) {
            // `r is None` of an optional: its flag.
            let opt = match (&a.ty, &b.ty) {
                (Ty::Optional(_), Ty::None) => Some(a.clone()),
                (Ty::None, Ty::Optional(_)) => Some(b.clone()),
                _ => None,
            };
            if let Some(v) = opt {
                let present = Expr::new(ExprKind::TupleGet(Box::new(v), 0), Ty::Bool);
                return Ok(if op == C::IsNot {
                    present
                } else {
                    Expr::new(ExprKind::Unary(UnOp::Not, Box::new(present)), Ty::Bool)
                });
            }
            let same = (a.ty == Ty::None) == (b.ty == Ty::None) && (a.ty == Ty::None);
            let v = if op == C::Is { same } else { !same };
            if a.ty != Ty::None && b.ty != Ty::None {
                return type_err(span, "`is` compares with None only in Kiln")
                    .map_err(|e| with_hint(e, "use == to compare values"));
            }
            return Ok(Expr::new(ExprKind::Bool(v), Ty::Bool));
        }
        let cop = match op {
            C::Eq => CmpOp::Eq,
            C::NotEq => CmpOp::Ne,
            C::Lt => CmpOp::Lt,
            C::LtE => CmpOp::Le,
            C::Gt => CmpOp::Gt,
            C::GtE => CmpOp::Ge,
            _ => return type_err(span, format!("`{}` is not supported in Kiln", op.symbol())),
        };
        if let Some(eq) = dtype_equality(&a, &b) {
            if !matches!(cop, CmpOp::Eq | CmpOp::Ne) {
                return type_err(span, "dtypes compare with == and != only");
            }
            return Ok(Expr::new(
                ExprKind::Bool(eq == (cop == CmpOp::Eq)),
                Ty::Bool,
            ));
        }
        if a.ty == Ty::Str && b.ty == Ty::Str {
            if !matches!(cop, CmpOp::Eq | CmpOp::Ne) {
                return type_err(span, "strings compare with == and != only in Kiln");
            }
            let eq = Expr::new(
                ExprKind::Builtin {
                    op: Builtin::StrEq,
                    args: vec![a, b],
                    site: 0,
                },
                Ty::Bool,
            );
            return Ok(if cop == CmpOp::Eq {
                eq
            } else {
                Expr::new(ExprKind::Unary(UnOp::Not, Box::new(eq)), Ty::Bool)
            });
        }
        if matches!(a.ty, Ty::Array { .. }) || matches!(b.ty, Ty::Array { .. }) {
            return type_err(
                span,
                "this comparison of whole arrays is not supported in Kiln",
            );
        }
        let Some(t) = self.arith_type(&a, &b) else {
            return type_err(
                span,
                format!(
                    "'{}' not supported between a {} and a {}",
                    op.symbol(),
                    a.ty,
                    b.ty
                ),
            );
        };
        if t == Ty::C128 && !matches!(cop, CmpOp::Eq | CmpOp::Ne) {
            return type_err(
                span,
                format!("'{}' not supported between complex numbers", op.symbol()),
            );
        }
        Ok(Expr::new(
            ExprKind::Compare(cop, Box::new(cast(a, t.clone())), Box::new(cast(b, t))),
            Ty::Bool,
        ))
    }

    /// The common type of two numeric operands with NumPy 2's weak literals: a Python
    /// literal next to an `f32` stays `f32`.
    pub(crate) fn arith_type(&self, a: &Expr, b: &Expr) -> Option<Ty> {
        if a.ty == Ty::F32 && b.is_literal() && b.ty != Ty::C128 {
            return Some(Ty::F32);
        }
        if b.ty == Ty::F32 && a.is_literal() && a.ty != Ty::C128 {
            return Some(Ty::F32);
        }
        promote(&a.ty, &b.ty)
    }

    pub(crate) fn binary(
        &mut self,
        cx: &FnCx,
        op: ast::BinOp,
        a: Expr,
        b: Expr,
        span: Span,
    ) -> LResult<Expr> {
        use ast::BinOp as B;
        if matches!(a.ty, Ty::List(_)) || matches!(b.ty, Ty::List(_)) {
            return self.list_binary(cx, op, a, b, span);
        }
        let arrays = matches!(a.ty, Ty::Array { .. }) || matches!(b.ty, Ty::Array { .. });
        if op == B::MatMul {
            return self.matmul(cx, a, b, span);
        }
        if arrays {
            if !(a.ty.is_numeric() || matches!(a.ty, Ty::Array { .. }))
                || !(b.ty.is_numeric() || matches!(b.ty, Ty::Array { .. }))
            {
                return unsupported(op, &a, &b, span);
            }
            let site = self.site(cx, span);
            return self.elementwise(site, vec![a, b], span, |s, l| {
                let mut l = l.into_iter();
                let (x, y) = (l.next().unwrap(), l.next().unwrap());
                // NumPy keeps bool arrays bool: + is or, * is and, - is an error.
                if x.ty == Ty::Bool && y.ty == Ty::Bool {
                    let op = match op {
                        B::Add => B::BitOr,
                        B::Mul => B::BitAnd,
                        B::Sub => {
                            return type_err(
                                span,
                                "numpy boolean subtract, the `-` operator, is not supported",
                            )
                            .map_err(|e| with_hint(e, "use ^ (logical xor) or & ~ instead"))
                        }
                        other => other,
                    };
                    return s.binary(cx, op, x, y, span);
                }
                s.binary(cx, op, x, y, span)
            });
        }
        if a.ty == Ty::Str || b.ty == Ty::Str {
            if op == B::Add && a.ty == Ty::Str && b.ty == Ty::Str {
                return Ok(self.builtin(cx, Builtin::Concat, vec![a, b], Ty::Str, span));
            }
            return unsupported(op, &a, &b, span);
        }
        let Some(mut t) = self.arith_type(&a, &b) else {
            return unsupported(op, &a, &b, span);
        };
        let site = self.site(cx, span);
        let mk = |op: BinOp, a: Expr, b: Expr, t: Ty| {
            Expr::new(ExprKind::Binary(op, Box::new(a), Box::new(b), site), t)
        };
        Ok(match op {
            B::Add | B::Sub | B::Mul | B::FloorDiv | B::Mod => {
                if t == Ty::Bool {
                    t = Ty::I64;
                }
                if t == Ty::C128 && matches!(op, B::FloorDiv | B::Mod) {
                    return type_err(
                        span,
                        format!("unsupported operand type(s) for {}: complex", op.symbol()),
                    );
                }
                let iop = match op {
                    B::Add => BinOp::Add,
                    B::Sub => BinOp::Sub,
                    B::Mul => BinOp::Mul,
                    B::FloorDiv => BinOp::FloorDiv,
                    _ => BinOp::Mod,
                };
                mk(iop, cast(a, t.clone()), cast(b, t.clone()), t)
            }
            B::Div => {
                if t.is_int_like() {
                    t = Ty::F64;
                }
                mk(BinOp::Div, cast(a, t.clone()), cast(b, t.clone()), t)
            }
            B::Pow => {
                if t == Ty::Bool {
                    t = Ty::I64;
                }
                // Small integer powers of floats become multiplications (NumPy's `x**3`
                // calls pow and is ~10x slower than x*x*x).
                if t.is_float() || t == Ty::C128 {
                    if let ExprKind::Int(k) = b.kind {
                        // x**2 is exact either way; x**3 and x**4 are multiplied out only in
                        // whole-array code (NumPy's pow is ~10x slower), while scalars keep
                        // Python's pow so `xi**3` prints as CPython does.
                        let in_map = matches!(a.kind, ExprKind::Elem(_) | ExprKind::MapScalar(_));
                        let pure = arrays::is_leafy(&a) && (k == 2 || in_map);
                        if pure && (1..=4).contains(&k) && t != Ty::C128 {
                            let x = cast(a, t.clone());
                            let mut acc = x.clone();
                            for _ in 1..k {
                                acc = mk(BinOp::Mul, acc, x.clone(), t.clone());
                            }
                            return Ok(acc);
                        }
                    }
                }
                mk(BinOp::Pow, cast(a, t.clone()), cast(b, t.clone()), t)
            }
            B::BitAnd | B::BitOr | B::BitXor => {
                if !t.is_int_like() {
                    return unsupported(op, &a, &b, span);
                }
                let iop = match op {
                    B::BitAnd => BinOp::BitAnd,
                    B::BitOr => BinOp::BitOr,
                    _ => BinOp::BitXor,
                };
                mk(iop, cast(a, t.clone()), cast(b, t.clone()), t)
            }
            B::Shl | B::Shr => {
                if !t.is_int_like() {
                    return unsupported(op, &a, &b, span);
                }
                let iop = if op == B::Shl { BinOp::Shl } else { BinOp::Shr };
                mk(iop, cast(a, Ty::I64), cast(b, Ty::I64), Ty::I64)
            }
            B::MatMul => unreachable!(),
        })
    }
}

/// `a.dtype == np.float64`, `a.dtype == b.dtype`, `a.dtype == "float32"`: decided at compile
/// time, as NumPy decides it (a dtype equals its scalar type and its name). None when
/// neither side is a dtype.
fn dtype_equality(a: &Expr, b: &Expr) -> Option<bool> {
    let name_of = |e: &Expr| match (&e.ty, &e.kind) {
        (Ty::DType { dtype, .. }, _) => Some(Some(*dtype)),
        (Ty::Str, ExprKind::Str(s)) => Some(super::convert::dtype_of_name(s)),
        _ => None,
    };
    if !matches!(a.ty, Ty::DType { .. }) && !matches!(b.ty, Ty::DType { .. }) {
        return None;
    }
    match (name_of(a), name_of(b)) {
        (Some(x), Some(y)) => Some(x.is_some() && x == y),
        // A dtype and anything else (a number, an array) are never equal.
        _ => Some(false),
    }
}
