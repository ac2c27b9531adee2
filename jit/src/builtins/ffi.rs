//! ctypes: opening a C library (`ctypes.CDLL`, `ctypes.cdll.LoadLibrary`), finding one
//! (`ctypes.util.find_library`), the C types as values (`POINTER(T)`,
//! `np.ctypeslib.ndpointer(...)`, `sizeof(T)`, `c_int(v)`), and the instructions of a call
//! into C. Which calls are made, with what conversions, is `lower/ffi.rs`'s; the runtime's
//! `ffi` module opens libraries, looks up symbols and guards each call against faults.

use super::*;
use crate::ffi::ctype::{self, CScalar, CType, NdPointer};
use crate::ir::{Builtin, ExprKind, FfiArg};
use crate::lower::{ctype_value, type_err};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind};
use std::rc::Rc;

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["CDLL", "LoadLibrary"],
        params: &[arg("name")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "ctypes.CDLL(path): the C library at path (a name without '/' is searched for \
               as the system's loader does); its functions are its attributes.",
        lower: open_library,
    },
    Def {
        names: &["load_library"],
        params: &[arg("libname"), arg("loader_path")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "np.ctypeslib.load_library(name, path): the library name (with '.so' added when \
               it has no extension) in the directory path (or path's directory, when path is \
               a file), opened as ctypes.CDLL opens it.",
        lower: load_library,
    },
    Def {
        names: &["find_library"],
        params: &[arg("name")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "ctypes.util.find_library(name): the file name of the system library 'lib<name>' \
               (as ldconfig knows it, e.g. 'libm.so.6'), or None.",
        lower: find_library,
    },
    Def {
        names: &["POINTER"],
        params: &[pos("type")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "ctypes.POINTER(T): the C type 'pointer to T' (None passes NULL; an array passes \
               as a.ctypes.data_as(POINTER(T))).",
        lower: pointer,
    },
    Def {
        names: &["ndpointer"],
        params: &[
            opt("dtype", "None"),
            opt("ndim", "None"),
            opt("shape", "None"),
            opt("flags", "None"),
        ],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "np.ctypeslib.ndpointer(dtype, ndim, shape, flags): a C argument type that takes \
               an array with that dtype, rank, shape and flags ('C_CONTIGUOUS', ...) as the \
               address of its first element.",
        lower: ndpointer,
    },
    Def {
        names: &["sizeof"],
        params: &[pos("obj")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "ctypes.sizeof(T): the size of the C type T in bytes.",
        lower: sizeof,
    },
    Def {
        names: &[
            "c_int",
            "c_double",
            "c_float",
            "c_long",
            "c_longlong",
            "c_short",
            "c_byte",
            "c_char",
            "c_ubyte",
            "c_ushort",
            "c_uint",
            "c_ulong",
            "c_ulonglong",
            "c_bool",
            "c_int8",
            "c_int16",
            "c_int32",
            "c_int64",
            "c_uint8",
            "c_uint16",
            "c_uint32",
            "c_uint64",
            "c_size_t",
            "c_ssize_t",
        ],
        params: &[pos_opt("value", "0")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "ctypes.c_int(v), c_double(v), ...: v as that C type (an integer wrapped to its \
               width); passed to a C function, it is passed as that type.",
        lower: c_scalar,
    },
];

/// A C type given as an argument (`POINTER(c_int)`, `sizeof(c_double)`).
fn ctype_arg(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, k: usize) -> LResult<CType> {
    let v = c.req(env, cx, k)?;
    match v.ty {
        Ty::CType(t) => Ok((*t).clone()),
        other => type_err(
            c.span_of(k),
            format!(
                "{}() takes a ctypes type such as c_double, not a {other}",
                c.name
            ),
        ),
    }
}

fn open_library(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let path = c.req(env, cx, 0)?;
    // `CDLL(None)`: the program itself and the libraries it loaded (libc, libm).
    if !matches!(path.ty, Ty::Str | Ty::None) {
        return type_err(
            c.span_of(0),
            format!(
                "{}() takes the library's path as a str, not a {}",
                c.name, path.ty
            ),
        );
    }
    let path = if path.ty == Ty::None {
        Expr::int(0)
    } else {
        path
    };
    Ok(open(env, cx, c, path))
}

/// The library at `path` (a str, or 0 for the program itself), opened when the call runs.
fn open(env: &mut Env<'_>, cx: &mut FnCx, c: &Call<'_>, path: Expr) -> Expr {
    let id = env.ffi_library_id(cx, c.span);
    env.builtin(cx, Builtin::FfiOpen, vec![path], Ty::CLib(id), c.span)
}

fn load_library(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    // Both are literals in the programs that use it; NumPy's path rules, applied while
    // compiling (a file as `loader_path` means its directory, as `__file__` is passed).
    let literal =
        |env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, k: usize| -> LResult<String> {
            match c.req(env, cx, k)?.kind {
                ExprKind::Str(s) => Ok(s.to_string()),
                _ => type_err(
                    c.span_of(k),
                    "load_library() takes string literals in Kiln (or use ctypes.CDLL(path))",
                ),
            }
        };
    let name = literal(env, cx, c, 0)?;
    let dir = literal(env, cx, c, 1)?;
    let dir = std::path::Path::new(&dir);
    let dir = if dir.is_file() {
        dir.parent().unwrap_or(std::path::Path::new("."))
    } else {
        dir
    };
    let file = if std::path::Path::new(&name).extension().is_some() {
        name
    } else {
        format!("{name}.so")
    };
    let path = dir.join(file).to_string_lossy().into_owned();
    let path = Expr::new(ExprKind::Str(path.into()), Ty::Str);
    Ok(open(env, cx, c, path))
}

fn find_library(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    // The answer depends only on the machine: found while compiling, it types the value
    // (a str, or None), as ctypes' answer would be the same when the cell ran.
    let name = c.req(env, cx, 0)?;
    let ExprKind::Str(name) = &name.kind else {
        return type_err(
            c.span_of(0),
            "find_library() takes the library's name as a string literal in Kiln",
        );
    };
    Ok(match kiln_runtime::ffi::find_library(name) {
        Some(found) => Expr::new(ExprKind::Str(found.into()), Ty::Str),
        None => Expr::none(),
    })
}

fn pointer(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let t = ctype_arg(env, cx, c, 0)?;
    Ok(ctype_value(CType::Pointer(Rc::new(t))))
}

fn sizeof(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let t = ctype_arg(env, cx, c, 0)?;
    Ok(Expr::int(match t {
        CType::Scalar { kind, .. } => kind.bytes() as i64,
        _ => 8,
    }))
}

/// `ndpointer(flags=...)`: a name, a comma-separated string of names, or a list or tuple of
/// them (NumPy's spellings: `C_CONTIGUOUS`, `CONTIGUOUS`, `C`, ...).
fn flag_bits(spec: &ast::Expr) -> Result<i64, String> {
    let one = |name: &str| -> Result<i64, String> {
        Ok(match name.trim().to_ascii_uppercase().as_str() {
            "C_CONTIGUOUS" | "CONTIGUOUS" | "C" => ctype::FLAG_C_CONTIGUOUS,
            "F_CONTIGUOUS" | "FORTRAN" | "F" => ctype::FLAG_F_CONTIGUOUS,
            "ALIGNED" | "A" => ctype::FLAG_ALIGNED,
            "WRITEABLE" | "W" => ctype::FLAG_WRITEABLE,
            "OWNDATA" | "O" => ctype::FLAG_OWNDATA,
            other => return Err(format!("unknown flag '{other}'")),
        })
    };
    match &spec.kind {
        ast::ExprKind::Str(s) => s.split(',').try_fold(0, |acc, f| Ok(acc | one(f)?)),
        ast::ExprKind::List(items) | ast::ExprKind::Tuple(items) => {
            items.iter().try_fold(0, |acc, item| match &item.kind {
                ast::ExprKind::Str(s) => Ok(acc | one(s)?),
                _ => Err("flags are strings such as 'C_CONTIGUOUS'".to_string()),
            })
        }
        ast::ExprKind::None => Ok(0),
        _ => Err("flags are written as a string such as 'C_CONTIGUOUS' or a list of them".into()),
    }
}

fn ndpointer(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    // The dtype as NumPy takes it: np.int32, 'int32', a.dtype, or a ctypes type (c_int).
    let dtype = match c.value(env, cx, 0)? {
        None => None,
        Some(v) => match (&v.ty, &v.kind) {
            (Ty::None, _) => None,
            (Ty::DType { dtype, .. }, _) => Some(*dtype),
            (Ty::CType(t), _) => match &**t {
                CType::Scalar { kind, .. } => kind.dtype(),
                _ => None,
            }
            .map(Some)
            .ok_or_else(|| {
                LErr::Diag(Diagnostic::new(
                    ErrorKind::TypeError,
                    c.span_of(0),
                    format!("ndpointer() has no array dtype for {t}"),
                ))
            })?,
            (Ty::Str, ExprKind::Str(name)) => {
                Some(crate::lower::dtype_of_name(name).ok_or_else(|| {
                    LErr::Diag(Diagnostic::new(
                        ErrorKind::TypeError,
                        c.span_of(0),
                        format!("data type '{name}' not understood"),
                    ))
                })?)
            }
            (t, _) => {
                return type_err(
                    c.span_of(0),
                    format!("ndpointer() takes a dtype such as np.float64 or c_double, not a {t}"),
                )
            }
        },
    };
    let ndim = match c.value(env, cx, 1)? {
        None => None,
        Some(v) if v.ty == Ty::None => None,
        Some(v) => match v.kind {
            ExprKind::Int(n) if (0..=kiln_runtime::array::MAX_NDIM as i64).contains(&n) => {
                Some(n as u8)
            }
            _ => {
                return type_err(
                    c.span_of(1),
                    format!(
                        "ndpointer(ndim=...) takes an integer literal from 0 to {}",
                        kiln_runtime::array::MAX_NDIM
                    ),
                )
            }
        },
    };
    if c.tree(2)
        .is_some_and(|t| !matches!(t.kind, ast::ExprKind::None))
    {
        return type_err(
            c.span_of(2),
            "ndpointer(shape=...) is not supported in Kiln",
        )
        .map_err(|e| crate::lower::with_hint(e, "check a.shape before the call, or give ndim="));
    }
    let flags = match c.tree(3) {
        None => 0,
        Some(t) => flag_bits(t)
            .map_err(|m| LErr::Diag(Diagnostic::new(ErrorKind::TypeError, c.span_of(3), m)))?,
    };
    Ok(ctype_value(CType::NdPointer(Rc::new(NdPointer {
        dtype,
        ndim,
        flags,
        nullable: false,
    }))))
}

/// `c_int(v)`: the value as that C type would hold it. A call's argument written this way is
/// also passed as that type (`lower/ffi.rs` reads the syntax).
fn c_scalar(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let Some(CType::Scalar { kind, name }) = ctype::ctypes_scalar(c.name) else {
        return type_err(c.span, format!("{}() is not a ctypes scalar type", c.name));
    };
    let v = match c.value(env, cx, 0)? {
        Some(v) => v,
        None => Expr::int(0),
    };
    env.ffi_scalar_value(cx, v, kind, name, c.span_of(0))
}

// ----- instructions -------------------------------------------------------------------------

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let (vals, ctx, site) = (&o.vals, g.ctx, o.site);
    match op {
        Builtin::FfiOpen => {
            let lib = g.call_rt1("kiln_ffi_open", &[ctx, vals[0][0]]);
            g.check_null(lib, site);
            Ok(vec![lib])
        }
        Builtin::FfiSym(name) => {
            let (p, n) = g.static_bytes(name);
            let f = g.call_rt1("kiln_ffi_sym", &[ctx, vals[0][0], p, n]);
            g.check_null(f, site);
            Ok(vec![f])
        }
        Builtin::FfiDataPtr => {
            let none = g.iconst(0);
            let p = g.call_rt1("kiln_ffi_array_data", &[ctx, vals[0][0], none, none]);
            g.check_err(site);
            Ok(vec![p])
        }
        Builtin::FfiCall(call) => {
            // The arguments go into one buffer, [address, arg..., result], read by a thunk
            // that makes the call with the C signature; the runtime runs the thunk under a
            // guard that turns a fault into an error.
            let n = call.args.len();
            let slot = g.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                8 * (n as u32 + 2),
                3,
            ));
            let buf = g.b.ins().stack_addr(types::I64, slot, 0);
            let flags = MemFlagsData::trusted();
            g.b.ins().store(flags, vals[0][0], buf, 0);
            let mut abi = Vec::with_capacity(n);
            for (k, a) in call.args.iter().enumerate() {
                let v = vals[k + 1][0];
                let (word, scalar) = match a {
                    FfiArg::Value(s) => (v, *s),
                    FfiArg::Array { flags, argno } => {
                        let f = g.iconst(*flags);
                        let k = g.iconst(*argno as i64);
                        let p = g.call_rt1("kiln_ffi_array_data", &[ctx, v, f, k]);
                        g.check_err(site);
                        (p, CScalar::U64)
                    }
                };
                g.b.ins().store(flags, word, buf, 8 * (k as i32 + 1));
                abi.push(scalar);
            }
            let thunk = g.ffi_thunk(&abi, call.ret)?;
            // The guard is C (`guard.c`), called directly; only a fault calls into the
            // runtime, which words the error.
            let fault =
                g.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3));
            let fault_addr = g.b.ins().stack_addr(types::I64, fault, 0);
            let sig = g.call_rt1("kiln_ffi_guarded", &[thunk, buf, fault_addr]);
            let name = call.name.clone();
            g.fail_if(
                sig,
                |g| {
                    let sig = g.b.ins().sextend(types::I64, sig);
                    let addr = g.b.ins().load(types::I64, flags, fault_addr, 0);
                    let (p, len) = g.static_bytes(&name);
                    g.call_rt("kiln_ffi_fault", &[g.ctx, sig, addr, p, len])
                },
                site,
            );
            Ok(match call.ret {
                None => vec![],
                Some(r) => {
                    let t = crate::codegen::clif::ffi::result_type(r);
                    vec![g.b.ins().load(t, flags, buf, 8 * (n as i32 + 1))]
                }
            })
        }
        other => Err(format!("{other:?} is not a C-call builtin")),
    }
}
