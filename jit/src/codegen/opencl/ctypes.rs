//! Kiln's types spelled in OpenCL C: scalars, the struct of an array view (buffer, offset,
//! shape, strides) per element type and rank, and a struct per tuple type. A kernel's
//! source declares the structs it uses, in the order they were first needed.

use crate::types::Ty;
use kiln_runtime::DType;

/// The struct types one kernel's source uses, in order of first use.
#[derive(Default)]
pub(crate) struct TypeDecls {
    /// (the type, its C name, its declaration)
    decls: Vec<(Ty, String, String)>,
    pub(crate) fp64: bool,
}

impl TypeDecls {
    /// The OpenCL C spelling of a value type; declares its struct on first use.
    pub(crate) fn c(&mut self, t: &Ty) -> Result<String, String> {
        Ok(match t {
            Ty::None => "void".into(),
            Ty::DType { .. } => {
                return Err("a dtype is not a value an OpenCL kernel can hold".into())
            }
            Ty::Bool => "bool".into(),
            Ty::I64 => "long".into(),
            Ty::F64 => {
                self.fp64 = true;
                "double".into()
            }
            Ty::F32 => "float".into(),
            Ty::C128 => {
                self.fp64 = true;
                "double2".into()
            }
            Ty::Str => return Err("a string".into()),
            Ty::List(_) => return Err("a list".into()),
            Ty::CType(_) | Ty::CLib(_) | Ty::CFunc { .. } | Ty::CPointer(_) => {
                return Err("a C library, function or type".into())
            }
            Ty::Optional(_) => return Err("an optional value (a number or None)".into()),
            Ty::Array { dtype, ndim } => {
                let name = array_struct(*dtype, *ndim as usize);
                if !self.decls.iter().any(|(u, _, _)| u == t) {
                    let elem = self.elem(*dtype);
                    let n = *ndim as usize;
                    let decl = format!(
                        "typedef struct {{ __global {elem}* d; long off; long n[{n}]; long s[{n}]; }} {name};\n"
                    );
                    self.decls.push((t.clone(), name.clone(), decl));
                }
                name
            }
            Ty::Tuple(items) => {
                if let Some((_, n, _)) = self.decls.iter().find(|(u, _, _)| u == t) {
                    return Ok(n.clone());
                }
                let mut fields = String::new();
                for (k, it) in items.iter().enumerate() {
                    let ct = self.c(it)?;
                    fields.push_str(&format!(" {ct} f{k};"));
                }
                let name = format!("kiln_tuple{}", self.decls.len());
                let decl = format!("typedef struct {{{fields} }} {name};\n");
                self.decls.push((t.clone(), name.clone(), decl));
                name
            }
        })
    }

    /// The element type of an array's buffer (`bool` is stored as one byte).
    pub(crate) fn elem(&mut self, d: DType) -> &'static str {
        match d {
            DType::Bool => "uchar",
            DType::I64 => "long",
            DType::F64 => {
                self.fp64 = true;
                "double"
            }
            DType::F32 => "float",
            DType::C128 => {
                self.fp64 = true;
                "double2"
            }
            kiln_runtime::narrow_ints!() => elem_name(d),
        }
    }

    /// The declarations, in order (a tuple's fields are declared before it).
    pub(crate) fn text(&self) -> String {
        self.decls.iter().map(|(_, _, d)| d.as_str()).collect()
    }
}

/// The OpenCL C type of a narrow integer dtype's elements.
pub(crate) fn elem_name(d: DType) -> &'static str {
    match d {
        DType::I8 => "char",
        DType::I16 => "short",
        DType::I32 => "int",
        DType::U8 => "uchar",
        DType::U16 => "ushort",
        DType::U32 => "uint",
        _ => "long",
    }
}

/// `kiln_f64_2`: the view struct of a 2-D f64 array.
pub(crate) fn array_struct(d: DType, ndim: usize) -> String {
    let e = match d {
        DType::Bool => "bool",
        DType::I64 => "i64",
        DType::F64 => "f64",
        DType::F32 => "f32",
        DType::C128 => "c128",
        DType::I8 => "i8",
        DType::I16 => "i16",
        DType::I32 => "i32",
        DType::U8 => "u8",
        DType::U16 => "u16",
        DType::U32 => "u32",
    };
    format!("kiln_{e}_{ndim}")
}

/// A float literal that reads back as exactly `v` (`inf`/`nan` spelled with OpenCL's macros).
pub(crate) fn float_lit(v: f64, single: bool) -> String {
    if v.is_nan() {
        return if single {
            "NAN".into()
        } else {
            "(double)NAN".into()
        };
    }
    if v.is_infinite() {
        let s = if v < 0.0 { "-" } else { "" };
        return if single {
            format!("{s}INFINITY")
        } else {
            format!("{s}(double)INFINITY")
        };
    }
    if single {
        // Rust prints the shortest text that reads back as the same f32.
        let t = format!("{:?}", v as f32);
        let t = if t.contains(['.', 'e']) {
            t
        } else {
            format!("{t}.0")
        };
        format!("{t}f")
    } else {
        let t = format!("{v:?}");
        if t.contains(['.', 'e']) {
            t
        } else {
            format!("{t}.0")
        }
    }
}

/// An i64 literal (`LONG_MIN` cannot be written as a negated literal).
pub(crate) fn int_lit(v: i64) -> String {
    if v == i64::MIN {
        "LONG_MIN".into()
    } else if v < 0 {
        format!("({v}L)")
    } else {
        format!("{v}L")
    }
}

/// A C identifier from a Kiln name (hidden names carry other characters).
pub(crate) fn ident(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
