//! Kiln's builtin functions, each declared once.
//!
//! A builtin is one `Def` in the table of its family (a file here): the names a cell calls
//! it by, its parameters (bound by the one binder in `binder.rs`, with CPython's messages for
//! missing, extra and unexpected arguments), whether it maps over arrays element by element
//! (NumPy's ufuncs), its help line for `name?` and completion, and its *lowering*: a function
//! from the bound arguments to typed IR. The IR operations a family lowers to
//! ([`ir::Builtin`]) are turned into Cranelift instructions by the same file's `clif`
//! function, so a builtin's typing and its machine code sit side by side, as in Numba's
//! registries (`@overload` beside `lower_builtin`). Adding a NumPy function means adding an
//! entry to one family's `DEFS` (and, for a new IR operation, its arm in that family's
//! `clif`). Constants (`pi`, `inf`, ...) are in `constants.rs`; the NumPy and Python
//! functions Kiln does not have, with what to use instead, in `unsupported.rs`.
//!
//! Module prefixes are stripped before the lookup (`np.sqrt`, `numpy.sqrt` and `sqrt` are one
//! builtin); a lowering that behaves differently under `math.` reads `Call::module`.

/// An elementwise builtin (a NumPy ufunc) whose scalar lowering is `$lower`: mapped over the
/// elements of array arguments and fused, called as is on scalars.
macro_rules! ufunc {
    ([$($name:literal),+], $params:expr, $lower:expr, $help:literal) => {
        Def {
            names: &[$($name),+],
            params: $params,
            arrays: Arrays::Elementwise($lower),
            method: Method::No,
            help: $help,
            lower: $lower,
        }
    };
}

mod arrays;
mod binder;
mod complex;
mod constants;
mod conversions;
mod creation;
mod ffi;
mod iteration;
mod linalg;
pub(crate) mod lists;
mod math;
mod minmax;
mod output;
mod plot;
mod random;
mod reductions;
mod shapes;
mod sorting;
mod text;
mod ufuncs;
mod unsupported;

use crate::codegen::clif::{Gen, Vals};
use crate::codegen::opencl::{gpu_err, Emit, GResult};
use crate::diag::Diagnostic;
use crate::ir::{self, Expr};
use crate::lower::{Env, FnCx, LErr, LResult};
use crate::syntax::ast::{self, Span};
use crate::types::Ty;
use kiln_runtime::{DType, ErrorKind};
use std::collections::HashMap;
use std::sync::OnceLock;

pub(crate) use binder::{lower_call, Call, CallSyntax};
pub(crate) use constants::constant;
pub use constants::constant_names;
pub(crate) use math::{lanes_f64x2, math_f64x2};

/// Every family's table; the order is the order of completion lists.
static FAMILIES: &[&[Def]] = &[
    conversions::DEFS,
    math::DEFS,
    ufuncs::DEFS,
    minmax::DEFS,
    complex::DEFS,
    creation::DEFS,
    arrays::DEFS,
    shapes::DEFS,
    sorting::DEFS,
    reductions::DEFS,
    linalg::DEFS,
    random::DEFS,
    output::DEFS,
    plot::DEFS,
    text::DEFS,
    iteration::DEFS,
    ffi::DEFS,
];

/// A builtin's lowering: the bound call to typed IR.
pub(crate) type Lower = fn(&mut Env<'_>, &mut FnCx, &mut Call<'_>) -> LResult<Expr>;

/// One builtin function.
pub(crate) struct Def {
    /// The names a cell calls it by: its own first, then aliases (`acos` for `arccos`).
    pub names: &'static [&'static str],
    /// Its parameters, in order, as Python declares them.
    pub params: &'static [Param],
    /// What it does with array arguments.
    pub arrays: Arrays,
    /// `x.name(...)` calls it with `x` as the first argument, for receivers of these types.
    pub method: Method,
    /// One line for `name?`.
    pub help: &'static str,
    pub lower: Lower,
}

/// How a builtin treats an array argument.
#[derive(Clone, Copy)]
pub(crate) enum Arrays {
    /// Arrays are not arguments of this builtin (a TypeError that says so).
    Rejected,
    /// It takes arrays as they are (creation, reductions, views, output).
    Taken,
    /// A ufunc: with any array among its positional arguments it is applied to each element
    /// (broadcast, fused with the rest of the expression) through this scalar lowering.
    Elementwise(Lower),
}

/// Which values have the builtin as a method.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    No,
    /// `a.sum()`, `a.reshape(2, 3)`, ...
    Arrays,
    /// `z.conjugate()` on any number or array.
    Numbers,
}

/// A parameter: its name, how it may be passed, its default as the signature shows it, and
/// how its argument is read.
#[derive(Clone, Copy)]
pub(crate) struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
    pub form: Form,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// By position only (Python's `/`): `abs(x)`, NumPy's ufunc operands.
    Positional,
    /// By position or by name: `zeros(shape=(2, 3))`.
    Either,
    /// `*args`: the remaining positional arguments.
    Star,
    /// By name only (after `*`): `imshow(a, cmap="gray")`.
    Keyword,
}

/// How an argument is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// As a value.
    Value,
    /// As a dtype: `f32`, `np.int64`, `"float64"`, `bool`.
    DType,
    /// A list or tuple literal is read as syntax (`array([[1, 2], [3, 4]])`), anything else
    /// as a value.
    Literal,
}

const fn param(name: &'static str, kind: Kind, default: Option<&'static str>) -> Param {
    Param {
        name,
        kind,
        default,
        form: Form::Value,
    }
}

/// A required positional-only parameter.
pub(crate) const fn pos(name: &'static str) -> Param {
    param(name, Kind::Positional, None)
}

/// An optional positional-only parameter.
pub(crate) const fn pos_opt(name: &'static str, default: &'static str) -> Param {
    param(name, Kind::Positional, Some(default))
}

/// A required parameter, by position or name.
pub(crate) const fn arg(name: &'static str) -> Param {
    param(name, Kind::Either, None)
}

/// An optional parameter, by position or name.
pub(crate) const fn opt(name: &'static str, default: &'static str) -> Param {
    param(name, Kind::Either, Some(default))
}

/// `*name`.
pub(crate) const fn star(name: &'static str) -> Param {
    param(name, Kind::Star, None)
}

/// An optional keyword-only parameter.
pub(crate) const fn kw(name: &'static str, default: &'static str) -> Param {
    param(name, Kind::Keyword, Some(default))
}

/// `dtype=default`, by position or name, read as a dtype.
pub(crate) const fn dtype(default: &'static str) -> Param {
    Param {
        form: Form::DType,
        ..opt("dtype", default)
    }
}

/// `dtype=default`, by name only.
pub(crate) const fn kw_dtype(default: &'static str) -> Param {
    Param {
        form: Form::DType,
        ..kw("dtype", default)
    }
}

/// A required parameter that takes a list or tuple literal as syntax.
pub(crate) const fn literal(name: &'static str) -> Param {
    Param {
        form: Form::Literal,
        ..arg(name)
    }
}

impl Def {
    /// The signature as `name?` shows it, in Python's notation: `sqrt(x, /)`,
    /// `zeros(shape, dtype=f64)`, `imshow(X, /, *, cmap='viridis')`.
    pub fn signature(&self) -> String {
        let mut parts = Vec::new();
        let mut starred = false;
        for (k, p) in self.params.iter().enumerate() {
            let next = self.params.get(k + 1).map(|q| q.kind);
            if p.kind == Kind::Positional && next != Some(Kind::Positional) {
                parts.push(param_text(p));
                parts.push("/".into());
                continue;
            }
            match p.kind {
                Kind::Star => {
                    starred = true;
                    parts.push(format!("*{}", p.name));
                }
                Kind::Keyword if !starred => {
                    starred = true;
                    parts.push("*".into());
                    parts.push(param_text(p));
                }
                _ => parts.push(param_text(p)),
            }
        }
        format!("{}({})", self.names[0], parts.join(", "))
    }
}

fn param_text(p: &Param) -> String {
    match p.default {
        Some(d) => format!("{}={d}", p.name),
        None => p.name.to_string(),
    }
}

fn table() -> &'static HashMap<&'static str, &'static Def> {
    static TABLE: OnceLock<HashMap<&'static str, &'static Def>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        for family in FAMILIES {
            for def in family.iter() {
                for name in def.names {
                    let old = t.insert(*name, def);
                    assert!(old.is_none(), "builtin '{name}' is declared twice");
                }
            }
        }
        t
    })
}

/// The builtin a cell means by `name` (module prefix already stripped).
pub(crate) fn lookup(name: &str) -> Option<&'static Def> {
    table().get(name).copied()
}

/// Every name a cell can call, for completion and "did you mean" hints.
pub fn names() -> impl Iterator<Item = &'static str> {
    FAMILIES
        .iter()
        .flat_map(|f| f.iter())
        .flat_map(|d| d.names.iter().copied())
}

/// Every method name of arrays and numbers (`x.` completion).
pub fn method_names() -> impl Iterator<Item = &'static str> {
    FAMILIES
        .iter()
        .flat_map(|f| f.iter())
        .filter(|d| d.method != Method::No)
        .flat_map(|d| d.names.iter().copied())
}

/// `name?` for a builtin (its signature and its help line) or a constant (its value).
pub fn help(name: &str) -> Option<(String, &'static str)> {
    let Some(def) = lookup(name) else {
        return constants::help(name);
    };
    let sig = def.signature();
    let sig = if def.names[0] == name {
        sig
    } else {
        format!("{sig}  (also {name})")
    };
    Some((sig, def.help))
}

/// The error for a name that is neither a variable, a function of the session nor a builtin:
/// NumPy and Python functions Kiln does not have say so, with what to use instead.
/// `written` is the callee as the cell wrote it (`np.linalg.norm`).
pub(crate) fn unknown(
    name: &str,
    written: &str,
    in_module: bool,
    span: Span,
    hint: Option<String>,
) -> LErr {
    if let Some(instead) = unsupported::instead(name) {
        let d = Diagnostic::new(
            ErrorKind::NameError,
            span,
            format!("'{written}' is not supported in Kiln"),
        );
        return LErr::Diag(d.with_hint(instead));
    }
    let mut d = Diagnostic::new(
        ErrorKind::NameError,
        span,
        if in_module {
            format!("'{written}' is not a Kiln builtin")
        } else {
            format!("name '{name}' is not defined")
        },
    );
    d.hint = hint;
    LErr::Diag(d)
}

/// A method name that arrays (or numbers) do not have in Kiln, with what to use instead.
pub(crate) fn unknown_method(ty: &Ty, name: &str, span: Span) -> LErr {
    let d = Diagnostic::new(
        ErrorKind::TypeError,
        span,
        format!("'{ty}' has no method '{name}' in Kiln"),
    );
    LErr::Diag(match unsupported::instead(name) {
        Some(instead) => d.with_hint(instead),
        None => d,
    })
}

/// The receiver types that have `def` as a method.
pub(crate) fn is_method_of(def: &Def, ty: &Ty) -> bool {
    match def.method {
        Method::No => false,
        Method::Arrays => matches!(ty, Ty::Array { .. }),
        Method::Numbers => ty.is_numeric() || matches!(ty, Ty::Array { .. }),
    }
}

/// What the Cranelift backend hands a builtin's instructions: the arguments' flattened
/// values (borrowed), their IR, the result type and the call site for errors.
pub(crate) struct Operands<'o> {
    pub vals: Vec<Vals>,
    pub args: &'o [Expr],
    pub ty: &'o Ty,
    pub site: ir::SiteId,
}

impl Operands<'_> {
    /// The first argument's type (most builtins dispatch on it).
    pub fn arg_ty(&self) -> Ty {
        self.args.first().map(|a| a.ty.clone()).unwrap_or(Ty::None)
    }
}

/// The OpenCL C spelling of one IR builtin operation in a `@gpu` kernel, from the family that
/// lowers to it: `args` are the operands' C texts (names or literals, safe to repeat), `tys`
/// their types. Operations a device cannot do (allocation, text, output) are errors that
/// say so.
pub(crate) fn opencl(
    e: &mut Emit<'_, '_>,
    op: &ir::Builtin,
    args: &[String],
    tys: &[Ty],
    ret: &Ty,
    site: ir::SiteId,
) -> GResult<String> {
    use ir::Builtin as B;
    let o = ClOperands {
        args,
        tys,
        ret,
        site,
    };
    match op {
        B::Math(_)
        | B::MathChecked(_)
        | B::Abs
        | B::RoundInt
        | B::RoundN
        | B::RoundIntN
        | B::NpRoundN
        | B::FloorInt
        | B::CeilInt
        | B::Atan2
        | B::Hypot
        | B::IsNan
        | B::IsInf
        | B::Sign => math::opencl(e, op, &o),
        B::Min | B::Max => minmax::opencl(op, &o),
        B::TruncInt | B::WrapInt(_) | B::CheckIntRange(_) => conversions::opencl(e, op, &o),
        B::Real | B::Imag | B::Conj | B::Angle | B::MakeComplex => complex::opencl(op, &o),
        B::Dim(_) | B::Size | B::Shape => arrays::opencl(e, op, &o),
        B::Copy
        | B::Slice(_)
        | B::AsType(_)
        | B::Reshape
        | B::Transpose
        | B::MaskSelect
        | B::Take
        | B::MaskAssign
        | B::MaskAssignArray
        | B::BroadcastTo
        | B::BroadcastShape { .. }
        | B::Flip
        | B::Sort
        | B::ArgSort
        | B::Median
        | B::MedianAll
        | B::SortInPlace
        | B::Diagonal
        | B::FlatView
        | B::MayOverlap => e.no_alloc("making an array view or copy", site),
        B::Zeros(_)
        | B::Ones(_)
        | B::Empty(_)
        | B::KernelOut(_)
        | B::Full(_)
        | B::ArangeInt
        | B::ArangeFloat
        | B::Linspace(_)
        | B::Eye(_)
        | B::ArrayLit(..)
        | B::Fill
        | B::Cumsum
        | B::CumsumAxis
        | B::ReduceAxis(_)
        | B::Join(_)
        | B::Meshgrid { .. }
        | B::MatrixPower
        | B::Dot => e.no_alloc("making an array", site),
        B::Reduce(_) | B::ReduceAll(_) | B::DotScalar => gpu_err(
            site,
            "a reduction over a whole array cannot run inside a @gpu body: every work-item would loop over the array",
            "reduce with the loop itself (`s += a[i]`), or compute it before the loop",
        ),
        B::Rand | B::Randn | B::Randint | B::Seed | B::RandScalar => gpu_err(
            site,
            "random numbers cannot be drawn in a @gpu body: the generator lives on the host",
            "draw them into an array before the loop (`r = rand(n)`) and read r[i] in the body",
        ),
        B::FfiOpen | B::FfiSym(_) | B::FfiCall(_) | B::FfiDataPtr => gpu_err(
            site,
            "a C function cannot be called from a @gpu body: it is machine code for the host",
            "call it from a @par loop, or before or after the @gpu loop",
        ),
        B::Display(_) | B::ClearOutput | B::Plot(_) => gpu_err(
            site,
            "output cannot be shown from a @gpu body: the kernel runs on the device",
            "show it after the loop",
        ),
        B::Unwrap => gpu_err(
            site,
            "a value that may be None cannot be used in a @gpu body",
            "test it with `is None` before the loop and pass the number",
        ),
        B::Raise(_) => gpu_err(
            site,
            "unpacking an array (`x, y = p`) cannot run in a @gpu body: its length check raises with a message built on the host",
            "index the elements instead: x, y = p[0], p[1]",
        ),
        B::List(_) => gpu_err(
            site,
            "lists cannot be used in a @gpu body: a kernel computes with numbers and arrays",
            "make an array of the list before the loop: a = np.array(xs)",
        ),
        B::Format { .. } | B::Concat | B::StrLen | B::StrEq | B::AssertFail => gpu_err(
            site,
            "strings cannot be used in a @gpu body: kernels compute with numbers and arrays",
            "build text after the loop, on the host",
        ),
    }
}

/// The operands of a builtin in a kernel (see [`opencl`]).
pub(crate) struct ClOperands<'a> {
    pub(crate) args: &'a [String],
    pub(crate) tys: &'a [Ty],
    pub(crate) ret: &'a Ty,
    pub(crate) site: ir::SiteId,
}

/// The Cranelift instructions of one IR builtin operation, from the family that lowers to it.
pub(crate) fn clif(g: &mut Gen<'_, '_>, op: &ir::Builtin, o: &Operands) -> Result<Vals, String> {
    use ir::Builtin as B;
    match op {
        B::Math(_)
        | B::MathChecked(_)
        | B::Abs
        | B::RoundInt
        | B::RoundN
        | B::RoundIntN
        | B::NpRoundN
        | B::FloorInt
        | B::CeilInt
        | B::Atan2
        | B::Hypot
        | B::IsNan
        | B::IsInf
        | B::Sign => math::clif(g, op, o),
        B::Min | B::Max => minmax::clif(g, op, o),
        B::TruncInt | B::WrapInt(_) | B::CheckIntRange(_) => conversions::clif(g, op, o),
        B::Real | B::Imag | B::Conj | B::Angle | B::MakeComplex => complex::clif(g, op, o),
        B::Zeros(_)
        | B::Ones(_)
        | B::Empty(_)
        | B::KernelOut(_)
        | B::Full(_)
        | B::ArangeInt
        | B::ArangeFloat
        | B::Linspace(_)
        | B::Eye(_)
        | B::ArrayLit(..)
        | B::Fill => creation::clif(g, op, o),
        B::Copy
        | B::Dim(_)
        | B::Size
        | B::Shape
        | B::Slice(_)
        | B::AsType(_)
        | B::Reshape
        | B::Transpose
        | B::MaskSelect
        | B::Take
        | B::MaskAssign
        | B::MaskAssignArray
        | B::BroadcastShape { .. }
        | B::BroadcastTo
        | B::MayOverlap => arrays::clif(g, op, o),
        B::Reduce(_) | B::ReduceAxis(_) | B::ReduceAll(_) | B::Cumsum | B::CumsumAxis => {
            reductions::clif(g, op, o)
        }
        B::Dot | B::DotScalar | B::Diagonal | B::MatrixPower => linalg::clif(g, op, o),
        B::Flip | B::Join(_) | B::Meshgrid { .. } | B::FlatView => shapes::clif(g, op, o),
        B::Sort | B::ArgSort | B::Median | B::MedianAll | B::SortInPlace => sorting::clif(g, op, o),
        B::Rand | B::Randn | B::Randint | B::Seed | B::RandScalar => random::clif(g, op, o),
        B::Display(_) | B::ClearOutput => output::clif(g, op, o),
        B::Plot(_) => plot::clif(g, op, o),
        B::Format { .. }
        | B::Concat
        | B::StrLen
        | B::StrEq
        | B::AssertFail
        | B::Raise(_)
        | B::Unwrap => text::clif(g, op, o),
        B::List(_) => lists::clif(g, op, o),
        B::FfiOpen | B::FfiSym(_) | B::FfiCall(_) | B::FfiDataPtr => ffi::clif(g, op, o),
    }
}

#[cfg(test)]
mod tests;
