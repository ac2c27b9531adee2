//! ctypes, read statically: libraries and their functions as values, `restype` and
//! `argtypes` assignments as declarations, and every call of a C function as a typed call
//! (`ir::FfiCall`) with the conversions and checks ctypes (and NumPy's `ndpointer`) make,
//! with their messages. Declarations apply from their statement on, in the order the
//! lowering meets them; the session keeps them for later cells (`ffi::ForeignTable`).

use super::*;
use crate::ffi::ctype::{self, CScalar, CSig, CType};
use crate::ir::{FfiArg, FfiCall};
use std::rc::Rc;

/// A pointer's address as the `i64` it is (one word either way).
fn retype(v: Expr, ty: Ty) -> Expr {
    Expr { ty, ..v }
}

/// A C type as a compile-time value (no machine words), as `convert::dtype_value` is a
/// dtype's.
pub(crate) fn ctype_value(t: CType) -> Expr {
    Expr::new(ExprKind::None, Ty::CType(Rc::new(t)))
}

fn argument_error<T>(span: Span, argno: usize, msg: impl std::fmt::Display) -> LResult<T> {
    err(
        ErrorKind::ArgumentError,
        span,
        format!("argument {argno}: TypeError: {msg}"),
    )
}

/// The ctypes type a call's argument names by its constructor (`c_double(x)`), which ctypes
/// passes as that type when the function declares no `argtypes`.
fn constructor_type(e: &ast::Expr) -> Option<CType> {
    let ast::ExprKind::Call { func, .. } = &e.kind else {
        return None;
    };
    let (name, module) = super::calls::callee_name(func)?;
    if module.is_some_and(|m| m != "ctypes") {
        return None;
    }
    ctype::ctypes_scalar(&name)
}

/// A ctypes name that is a type (`c_int`, `c_void_p`), or the reason Kiln has no such type.
pub(crate) fn ctypes_type_name(name: &str) -> Option<Result<CType, (String, &'static str)>> {
    if let Some(t) = ctype::ctypes_scalar(name) {
        return Some(Ok(t));
    }
    match name {
        "c_void_p" => Some(Ok(CType::VoidP)),
        "c_char_p" | "c_wchar_p" | "c_wchar" => Some(Err((
            format!("{name} (C strings) is not supported in Kiln"),
            "pass text as a uint8 array of its bytes, declared np.ctypeslib.ndpointer(np.uint8)",
        ))),
        "c_longdouble" => Some(Err((
            "c_longdouble is not supported in Kiln".into(),
            "use c_double",
        ))),
        "Structure"
        | "Union"
        | "Array"
        | "CFUNCTYPE"
        | "byref"
        | "pointer"
        | "cast"
        | "create_string_buffer"
        | "addressof" => Some(Err((
            format!("ctypes.{name} is not supported in Kiln"),
            "pass arrays with np.ctypeslib.ndpointer argtypes: the C function reads and \
             writes their elements in place",
        ))),
        _ => None,
    }
}

impl<'a> Env<'a> {
    /// The library number of a `CDLL(...)` call site: the same in every round.
    pub(crate) fn ffi_library_id(&mut self, cx: &FnCx, span: Span) -> u32 {
        let next = self.input.ffi.next_lib + self.ffi_lib_sites.len() as u32;
        let id = *self.ffi_lib_sites.entry((cx.cell, span.lo)).or_insert(next);
        self.ffi.next_lib = self.ffi.next_lib.max(id + 1);
        id
    }

    /// The ctypes type `name` as a value: `ctypes.NAME`, or `NAME` alone (`bare`, after
    /// `from ctypes import ...`), where only the types resolve, so that an undefined `cast`
    /// or `Array` of a program without ctypes is still a NameError.
    pub(crate) fn ctypes_type_value(
        &self,
        name: &str,
        bare: bool,
        span: Span,
    ) -> Option<LResult<Expr>> {
        let found = ctypes_type_name(name)?;
        if bare && !name.starts_with("c_") {
            return None;
        }
        Some(match found {
            Ok(t) => Ok(ctype_value(t)),
            Err((msg, hint)) => type_err(span, msg).map_err(|e| with_hint(e, hint)),
        })
    }

    /// `lib.name`: the function's address, looked up when it runs.
    pub(crate) fn ffi_symbol(&mut self, cx: &mut FnCx, lib: Expr, name: &str, span: Span) -> Expr {
        let Ty::CLib(id) = lib.ty else {
            unreachable!("ffi_symbol of a {}", lib.ty)
        };
        let ty = Ty::CFunc {
            lib: id,
            name: name.into(),
        };
        self.builtin(cx, Builtin::FfiSym(name.into()), vec![lib], ty, span)
    }

    /// `v` as the C scalar `kind` holds it (`c_int(v)`, or an argument declared `c_int`):
    /// integers wrap to the type's width as ctypes' do, floats convert, anything is true or
    /// false for `c_bool`. None when ctypes would not take `v` ("wrong type").
    pub(crate) fn ffi_convert(
        &mut self,
        cx: &mut FnCx,
        v: Expr,
        kind: CScalar,
        span: Span,
    ) -> Option<Expr> {
        let numeric = matches!(v.ty, Ty::Bool | Ty::I64 | Ty::F64 | Ty::F32);
        // c_bool takes any object by its truth, as ctypes does: None is False.
        let none_as_bool = kind == CScalar::Bool && v.ty == Ty::None;
        if !numeric && !none_as_bool {
            return None;
        }
        Some(match kind {
            CScalar::Bool => self.truth(v, span).ok()?,
            CScalar::F64 => cast(v, Ty::F64),
            // ctypes makes a C double of the value first, then a float: an int rounds
            // twice (2**60 + 2**36 + 1 becomes 2**60, not 2**60 + 2**37).
            CScalar::F32 => cast(cast(v, Ty::F64), Ty::F32),
            _ if v.ty.is_float() => return None,
            CScalar::I64 | CScalar::U64 => cast(v, Ty::I64),
            k => {
                let d = k.dtype().expect("narrow integers have a dtype");
                let v = cast(v, Ty::I64);
                self.builtin(cx, Builtin::WrapInt(d), vec![v], Ty::I64, span)
            }
        })
    }

    /// `c_int(v)` as a value.
    pub(crate) fn ffi_scalar_value(
        &mut self,
        cx: &mut FnCx,
        v: Expr,
        kind: CScalar,
        name: &str,
        span: Span,
    ) -> LResult<Expr> {
        let given = v.ty.python_name();
        let v = self.ffi_convert(cx, v, kind, span);
        match v {
            Some(v) if kind.is_float() => Ok(cast(v, Ty::F64)),
            Some(v) => Ok(v),
            // ctypes' own texts (`c_int(0.5)`, `c_double(None)`).
            None if kind.is_float() => type_err(span, format!("must be real number, not {given}")),
            None => type_err(
                span,
                format!("'{given}' object cannot be interpreted as an integer"),
            )
            .map_err(|e| {
                with_hint(
                    e,
                    format!("{name}() takes an integer: convert with int(...)"),
                )
            }),
        }
    }

    /// `f.restype = T` / `f.argtypes = [T, ...]` (`f` a C function): a declaration, applied
    /// from here on. None when `target.attr` is no such declaration.
    pub(crate) fn ffi_declare(
        &mut self,
        cx: &mut FnCx,
        target: &ast::Expr,
        value: &ast::Expr,
    ) -> LResult<Option<Vec<Stmt>>> {
        let ast::ExprKind::Attribute {
            value: func,
            attr,
            attr_span,
        } = &target.kind
        else {
            return Ok(None);
        };
        if !matches!(attr.as_str(), "restype" | "argtypes" | "errcheck") {
            return Ok(None);
        }
        // An undefined `f` is its NameError (a later round may know it); anything but a C
        // function is the ordinary assignment's to report.
        let f = self.expr(cx, func)?;
        let Ty::CFunc { lib, name } = f.ty.clone() else {
            return Ok(None);
        };
        if !cx.is_cell {
            return type_err(
                target.span,
                format!(
                    "a C function's {attr} is a declaration: assign it at the top level of a cell"
                ),
            )
            .map(Some);
        }
        let mut sig = self.ffi.sig(lib, &name);
        match attr.as_str() {
            "restype" => sig.restype = self.ffi_restype(cx, value)?,
            "argtypes" => {
                let items = match &value.kind {
                    ast::ExprKind::List(items) | ast::ExprKind::Tuple(items) => items,
                    ast::ExprKind::None => {
                        sig.argtypes = None;
                        return self.ffi_commit(lib, name, sig, f).map(Some);
                    }
                    _ => {
                        return type_err(
                            value.span,
                            "argtypes must be a list or tuple of ctypes types, written in the assignment",
                        )
                        .map(Some)
                    }
                };
                let mut types = Vec::with_capacity(items.len());
                for (k, item) in items.iter().enumerate() {
                    let t = self.expr(cx, item)?;
                    match t.ty {
                        Ty::CType(t) => types.push((*t).clone()),
                        _ => {
                            return type_err(
                                item.span,
                                format!("item {} in _argtypes_ has no from_param method", k + 1),
                            )
                            .map(Some)
                        }
                    }
                }
                sig.argtypes = Some(types);
            }
            _ => {
                return type_err(*attr_span, "errcheck is not supported in Kiln")
                    .map_err(|e| with_hint(e, "check the result after the call"))
                    .map(Some)
            }
        }
        self.ffi_commit(lib, name, sig, f).map(Some)
    }

    fn ffi_commit(&mut self, lib: u32, name: Rc<str>, sig: CSig, f: Expr) -> LResult<Vec<Stmt>> {
        self.ffi.sigs.insert((lib, name), sig);
        // `lib.f.restype = ...` still looks `f` up, as ctypes does (an AttributeError if
        // the library has no `f`); reading a variable does nothing.
        Ok(match f.kind {
            ExprKind::Builtin { .. } => vec![Stmt::Eval(f)],
            _ => vec![],
        })
    }

    fn ffi_restype(&mut self, cx: &mut FnCx, value: &ast::Expr) -> LResult<Option<CType>> {
        if matches!(value.kind, ast::ExprKind::None) {
            return Ok(None);
        }
        let t = self.expr(cx, value)?;
        match t.ty {
            Ty::CType(t) => match &*t {
                CType::Scalar { .. } | CType::VoidP => Ok(Some((*t).clone())),
                other => type_err(
                    value.span,
                    format!("a C function returning {other} is not supported in Kiln"),
                )
                .map_err(|e| {
                    with_hint(e, "return results through an array argument (an ndpointer)")
                }),
            },
            _ => type_err(value.span, "restype must be a type, a callable, or None"),
        }
    }

    /// A call of a C function `f` (its address) with the arguments as written.
    pub(crate) fn ffi_call(
        &mut self,
        cx: &mut FnCx,
        f: Expr,
        args: &[ast::Expr],
        keywords: &[ast::Keyword],
        span: Span,
    ) -> LResult<Expr> {
        let Ty::CFunc { lib, name } = f.ty.clone() else {
            unreachable!("ffi_call of a {}", f.ty)
        };
        if let Some(k) = keywords.first() {
            return type_err(k.span, "this function takes no keyword arguments");
        }
        let sig = self.ffi.sig(lib, &name);
        // Python evaluates every argument before ctypes counts or converts any of them
        // (`f(1.5, c_int(0.5))` raises c_int's TypeError, not argument 1's).
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.expr_opt(cx, a)?);
        }
        if self.ffi.c_cells.contains(&lib) {
            let n = sig.argtypes.as_ref().map_or(0, Vec::len);
            if args.len() != n {
                return type_err(
                    span,
                    format!(
                        "{name}() takes {n} argument{} ({} given)",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                );
            }
        }
        if let Some(types) = &sig.argtypes {
            if args.len() < types.len() {
                let n = types.len();
                return type_err(
                    span,
                    format!(
                        "this function takes at least {n} argument{} ({} given)",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                );
            }
        }
        let mut operands = vec![f];
        let mut kinds = Vec::with_capacity(args.len());
        for (k, (a, v)) in args.iter().zip(values).enumerate() {
            let argno = k + 1;
            let declared = sig.argtypes.as_ref().and_then(|t| t.get(k)).cloned();
            let written = constructor_type(a);
            // A ctypes instance of another type is refused, as ctypes' from_param refuses
            // it (`c_int(5)` for a c_double); c_bool takes anything by its truth, and
            // aliases (c_int32 and c_int) are one type, under one name.
            if let (Some(CType::Scalar { kind, name: d }), Some(CType::Scalar { name: w, .. })) =
                (&declared, &written)
            {
                if d != w && *kind != CScalar::Bool {
                    return argument_error(a.span, argno, "wrong type");
                }
            }
            let (v, kind) = match declared.or(written) {
                Some(t) => self.ffi_arg(cx, v, &t, argno, a.span)?,
                None => self.ffi_default_arg(v, argno, a.span)?,
            };
            operands.push(v);
            kinds.push(kind);
        }
        let ret = match &sig.restype {
            None => None,
            Some(CType::Scalar { kind, .. }) => Some(*kind),
            Some(_) => Some(CScalar::U64),
        };
        let ty = match ret {
            None => Ty::None,
            Some(CScalar::Bool) => Ty::Bool,
            Some(CScalar::F32 | CScalar::F64) => Ty::F64,
            Some(_) => Ty::I64,
        };
        let call = FfiCall {
            name: name.clone(),
            args: kinds,
            ret,
        };
        Ok(self.builtin(cx, Builtin::FfiCall(Rc::new(call)), operands, ty, span))
    }

    /// An argument ctypes converts by its own rules, with no declared type: an integer is
    /// a C `int`, None a NULL pointer; nothing else.
    fn ffi_default_arg(&self, v: Expr, argno: usize, span: Span) -> LResult<(Expr, FfiArg)> {
        match v.ty {
            Ty::CPointer(_) => Ok((retype(v, Ty::I64), FfiArg::Value(CScalar::U64))),
            Ty::Bool | Ty::I64 => {
                let v = cast(v, Ty::I64);
                Ok((v, FfiArg::Value(CScalar::I32)))
            }
            Ty::None => Ok((Expr::int(0), FfiArg::Value(CScalar::U64))),
            _ => argument_error(
                span,
                argno,
                format!("Don't know how to convert parameter {argno}"),
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "declare the function's argtypes (c_double, np.ctypeslib.ndpointer(...), ...)",
                )
            }),
        }
    }

    /// An argument of declared type `t`.
    fn ffi_arg(
        &mut self,
        cx: &mut FnCx,
        v: Expr,
        t: &CType,
        argno: usize,
        span: Span,
    ) -> LResult<(Expr, FfiArg)> {
        match t {
            CType::Scalar { kind, .. } => match self.ffi_convert(cx, v, *kind, span) {
                Some(v) => Ok((v, FfiArg::Value(*kind))),
                None => argument_error(span, argno, "wrong type"),
            },
            CType::VoidP => match v.ty {
                Ty::None => Ok((Expr::int(0), FfiArg::Value(CScalar::U64))),
                Ty::I64 | Ty::Bool => Ok((cast(v, Ty::I64), FfiArg::Value(CScalar::U64))),
                Ty::CPointer(_) => Ok((retype(v, Ty::I64), FfiArg::Value(CScalar::U64))),
                _ => argument_error(span, argno, "wrong type"),
            },
            CType::Pointer(to) => match v.ty {
                Ty::None => Ok((Expr::int(0), FfiArg::Value(CScalar::U64))),
                Ty::CPointer(ref p) if p == to => {
                    Ok((retype(v, Ty::I64), FfiArg::Value(CScalar::U64)))
                }
                ref other => {
                    let given = match other {
                        Ty::CPointer(p) => format!("LP_{p}"),
                        t => t.python_name().to_string(),
                    };
                    argument_error(span, argno, format!("expected LP_{to} instance instead of {given}"))
                        .map_err(|e| {
                            with_hint(
                                e,
                                "declare the argument np.ctypeslib.ndpointer(dtype, flags='C_CONTIGUOUS') to pass an array",
                            )
                        })
                }
            },
            CType::NdPointer(p) => {
                let (dtype, ndim) = match v.ty {
                    Ty::Array { dtype, ndim } => (dtype, ndim),
                    Ty::None if p.nullable => {
                        return Ok((Expr::int(0), FfiArg::Value(CScalar::U64)))
                    }
                    _ => return argument_error(span, argno, "argument must be an ndarray"),
                };
                if let Some(want) = p.dtype {
                    if want != dtype {
                        return argument_error(
                            span,
                            argno,
                            format!("array must have data type {}", want.numpy_name()),
                        )
                        .map_err(|e| {
                            with_hint(
                                e,
                                format!(
                                    "this array is {}; a.astype(np.{}) makes a copy of that type",
                                    dtype.numpy_name(),
                                    want.numpy_name()
                                ),
                            )
                        });
                    }
                }
                if let Some(want) = p.ndim {
                    if want != ndim {
                        return argument_error(
                            span,
                            argno,
                            format!("array must have {want} dimension(s)"),
                        );
                    }
                }
                Ok((
                    v,
                    FfiArg::Array {
                        flags: p.flags,
                        argno: argno as u32,
                    },
                ))
            }
        }
    }

    /// `a.ctypes.data` (the address, an int) and `a.ctypes.data_as(POINTER(T))` (a pointer
    /// to pass where ctypes wants an `LP_T`); `call` holds a method's arguments.
    pub(crate) fn array_ctypes(
        &mut self,
        cx: &mut FnCx,
        arr: &ast::Expr,
        attr: &str,
        call: Option<(&[ast::Expr], &[ast::Keyword])>,
        span: Span,
    ) -> LResult<Expr> {
        let a = self.expr(cx, arr)?;
        if !matches!(a.ty, Ty::Array { .. }) {
            return type_err(arr.span, format!("a {} has no attribute 'ctypes'", a.ty));
        }
        match (attr, call) {
            ("data", None) => Ok(self.builtin(cx, Builtin::FfiDataPtr, vec![a], Ty::I64, span)),
            ("data_as", Some(([t], []))) => {
                let t = self.expr(cx, t)?;
                let Ty::CType(ct) = &t.ty else {
                    return type_err(span, format!("data_as() takes a ctypes pointer type such as POINTER(c_double), not a {}", t.ty));
                };
                let to = match &**ct {
                    CType::Pointer(to) => to.clone(),
                    CType::VoidP => Rc::new(CType::VoidP),
                    other => {
                        return type_err(
                            span,
                            format!("data_as() takes a pointer type, not {other}"),
                        )
                    }
                };
                Ok(self.builtin(cx, Builtin::FfiDataPtr, vec![a], Ty::CPointer(to), span))
            }
            _ => type_err(span, format!("a.ctypes.{attr} is not supported in Kiln"))
                .map_err(|e| with_hint(e, "use a.ctypes.data or a.ctypes.data_as(POINTER(T))")),
        }
    }

    /// Whether `name` is a variable holding a C function here.
    pub(crate) fn names_c_function(&self, cx: &FnCx, name: &str) -> bool {
        let local = cx
            .locals
            .get(name)
            .and_then(|&v| cx.vars[v as usize].1.as_ref());
        let t = match local {
            Some(t) => Some(t.clone()),
            None if cx.local_names.contains(name) => None,
            None => self.global_ty(name),
        };
        matches!(t, Some(Ty::CFunc { .. }))
    }
}
