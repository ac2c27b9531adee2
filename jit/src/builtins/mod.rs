//! Kiln's builtin functions, each declared once.
//!
//! A builtin is one [`Def`] in the table of its family (a file here): the names a cell calls
//! it by, its parameters (bound by one binder, [`Call::bind`], with Python's messages for
//! missing, extra and unexpected arguments), whether it maps over arrays element by element
//! (NumPy's ufuncs), its help line for `name?` and completion, and its *lowering*: a function
//! from the bound arguments to typed IR. The IR operations a family lowers to
//! ([`ir::Builtin`]) are turned into Cranelift instructions by the same file's `clif`
//! function, so a builtin's typing and its machine code sit side by side, as in Numba's
//! registries (`@overload` beside `lower_builtin`). Adding a NumPy function means adding an
//! entry to one family's `DEFS` (and, for a new IR operation, its arm in that family's
//! `clif`).
//!
//! Module prefixes are stripped before the lookup (`np.sqrt`, `numpy.sqrt` and `sqrt` are one
//! builtin); a lowering that behaves differently under `math.` reads [`Call::module`].

mod arrays;
mod complex;
mod conversions;
mod creation;
mod iteration;
mod linalg;
mod math;
mod minmax;
mod output;
mod random;
mod reductions;
mod text;
mod unsupported;

use crate::codegen::clif::{Gen, Vals};
use crate::diag::Diagnostic;
use crate::ir::{self, Expr};
use crate::lower::{Env, FnCx, LErr, LResult};
use crate::syntax::ast::{self, Span};
use crate::types::Ty;
use kiln_runtime::{DType, ErrorKind};
use std::collections::HashMap;
use std::sync::OnceLock;

pub(crate) use math::{lanes_f64x2, math_f64x2};

/// Every family's table; the order is the order of completion lists.
static FAMILIES: &[&[Def]] = &[
    conversions::DEFS,
    math::DEFS,
    minmax::DEFS,
    complex::DEFS,
    creation::DEFS,
    arrays::DEFS,
    reductions::DEFS,
    linalg::DEFS,
    random::DEFS,
    output::DEFS,
    text::DEFS,
    iteration::DEFS,
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

/// `name?` for a builtin: its signature and its help line.
pub fn help(name: &str) -> Option<(String, &'static str)> {
    let def = lookup(name)?;
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
pub(crate) fn unknown(
    name: &str,
    module: Option<&'static str>,
    span: Span,
    hint: Option<String>,
) -> LErr {
    let shown = match module {
        Some(m) => format!("{m}.{name}"),
        None => name.to_string(),
    };
    if let Some(instead) = unsupported::instead(name) {
        let d = Diagnostic::new(
            ErrorKind::NameError,
            span,
            format!("'{shown}' is not supported in Kiln"),
        );
        return LErr::Diag(d.with_hint(instead));
    }
    let mut d = Diagnostic::new(
        ErrorKind::NameError,
        span,
        match module {
            Some(_) => format!("'{shown}' is not a Kiln builtin"),
            None => format!("name '{name}' is not defined"),
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

/// One argument as the binder holds it.
enum Arg<'c> {
    Missing,
    /// A positional value, lowered before the call was bound, and its tree (none for a
    /// method's receiver or a ufunc's element).
    Value(Expr, Span, Option<&'c ast::Expr>),
    /// A keyword argument, lowered when the builtin asks for it; or a dtype or a literal,
    /// read as syntax.
    Tree(&'c ast::Expr),
}

/// A positional argument before binding.
pub(crate) enum Positional<'c> {
    Value(Expr, Span, Option<&'c ast::Expr>),
    Tree(&'c ast::Expr),
}

/// A call bound to its builtin's parameters.
pub(crate) struct Call<'c> {
    /// The name as the cell wrote it (an alias stays an alias in messages).
    pub name: &'c str,
    /// `np`, `math`, ... when the cell wrote a module prefix.
    pub module: Option<&'static str>,
    pub span: Span,
    args: Vec<Arg<'c>>,
    /// The values of a `*args` parameter.
    rest: Vec<Expr>,
}

/// A call as the lowering meets it.
#[derive(Clone, Copy)]
pub(crate) struct Site<'c> {
    pub name: &'c str,
    pub module: Option<&'static str>,
    pub span: Span,
    pub keywords: &'c [ast::Keyword],
}

fn type_error(span: Span, msg: String) -> LErr {
    LErr::Diag(Diagnostic::new(ErrorKind::TypeError, span, msg))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: Python's list of missing parameters.
fn quoted_list(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match q.len() {
        1 => q[0].clone(),
        2 => format!("{} and {}", q[0], q[1]),
        n => format!("{}, and {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

/// How many leading parameters can be passed by position.
fn by_position(def: &Def) -> usize {
    def.params
        .iter()
        .take_while(|p| matches!(p.kind, Kind::Positional | Kind::Either))
        .count()
}

impl<'c> Call<'c> {
    /// Bind a call's arguments to `def`'s parameters as Python does, with Python's messages
    /// and in CPython's order: positional arguments fill their parameters (the rest go to
    /// `*args`), then each keyword in turn (the first that names no parameter, or a
    /// parameter already filled, is the error), then the count of positional arguments, then
    /// the missing ones.
    fn bind(def: &Def, site: &Site<'c>, positional: Vec<Positional<'c>>) -> LResult<Call<'c>> {
        let name = site.name;
        let given = positional.len();
        let star = def.params.iter().any(|p| p.kind == Kind::Star);
        let by_position = by_position(def);
        let mut call = Call {
            name,
            module: site.module,
            span: site.span,
            args: def.params.iter().map(|_| Arg::Missing).collect(),
            rest: Vec::new(),
        };
        for (k, p) in positional.into_iter().enumerate() {
            if k >= by_position {
                if let Positional::Value(v, ..) = p {
                    call.rest.push(v);
                }
                continue;
            }
            call.args[k] = match p {
                Positional::Value(v, s, t) => Arg::Value(v, s, t),
                Positional::Tree(t) => Arg::Tree(t),
            };
        }
        for kwarg in site.keywords {
            let slot = def.params.iter().position(|p| {
                p.name == kwarg.name && matches!(p.kind, Kind::Either | Kind::Keyword)
            });
            let Some(j) = slot else {
                // CPython names every positional-only parameter passed by keyword, in the
                // order of the parameters, before it calls a keyword unexpected.
                let positional_only: Vec<&str> = def
                    .params
                    .iter()
                    .filter(|p| p.kind == Kind::Positional)
                    .filter(|p| site.keywords.iter().any(|k| k.name == p.name))
                    .map(|p| p.name)
                    .collect();
                let msg = if positional_only.is_empty() {
                    format!(
                        "{name}() got an unexpected keyword argument '{}'",
                        kwarg.name
                    )
                } else {
                    format!(
                        "{name}() got some positional-only arguments passed as keyword \
                         arguments: '{}'",
                        positional_only.join(", ")
                    )
                };
                return Err(type_error(kwarg.span, msg));
            };
            if !matches!(call.args[j], Arg::Missing) {
                return Err(type_error(
                    kwarg.span,
                    format!("{name}() got multiple values for argument '{}'", kwarg.name),
                ));
            }
            call.args[j] = Arg::Tree(&kwarg.value);
        }
        if !star && given > by_position {
            let defaults = def.params[..by_position]
                .iter()
                .filter(|p| p.default.is_some())
                .count();
            let takes = if defaults > 0 {
                format!(
                    "from {} to {by_position} positional arguments",
                    by_position - defaults
                )
            } else {
                plural(by_position, "positional argument", "positional arguments")
            };
            let keyword_only = def
                .params
                .iter()
                .zip(&call.args)
                .filter(|(p, a)| p.kind == Kind::Keyword && !matches!(a, Arg::Missing))
                .count();
            let given_text = if keyword_only > 0 {
                format!(
                    "{given} positional argument{} (and {} were",
                    if given == 1 { "" } else { "s" },
                    plural(
                        keyword_only,
                        "keyword-only argument)",
                        "keyword-only arguments)"
                    )
                )
            } else if given == 1 {
                "1 was".to_string()
            } else {
                format!("{given} were")
            };
            return Err(type_error(
                site.span,
                format!("{name}() takes {takes} but {given_text} given"),
            ));
        }
        let missing: Vec<&str> = def
            .params
            .iter()
            .zip(&call.args)
            .filter(|(p, a)| {
                p.default.is_none() && p.kind != Kind::Star && matches!(a, Arg::Missing)
            })
            .map(|(p, _)| p.name)
            .collect();
        if !missing.is_empty() {
            return Err(type_error(
                site.span,
                format!(
                    "{name}() missing {} required positional argument{}: {}",
                    missing.len(),
                    if missing.len() == 1 { "" } else { "s" },
                    quoted_list(&missing)
                ),
            ));
        }
        Ok(call)
    }

    /// Whether parameter `k` was given.
    pub fn given(&self, k: usize) -> bool {
        !matches!(self.args[k], Arg::Missing)
    }

    /// The value of parameter `k`, if given (a keyword argument is lowered now, once).
    pub fn value(&mut self, env: &mut Env<'_>, cx: &mut FnCx, k: usize) -> LResult<Option<Expr>> {
        match &self.args[k] {
            Arg::Missing => Ok(None),
            Arg::Value(v, ..) => Ok(Some(v.clone())),
            Arg::Tree(t) => {
                let t = *t;
                let v = env.expr(cx, t)?;
                self.args[k] = Arg::Value(v.clone(), t.span, Some(t));
                Ok(Some(v))
            }
        }
    }

    /// The value of a required parameter (the binder has checked that it is there).
    pub fn req(&mut self, env: &mut Env<'_>, cx: &mut FnCx, k: usize) -> LResult<Expr> {
        Ok(self
            .value(env, cx, k)?
            .expect("the binder checks required parameters"))
    }

    /// Parameter `k` read as a dtype (`f32`, `np.float64`, `"int64"`, or an array's
    /// `a.dtype`), if given.
    pub fn dtype(&self, env: &mut Env<'_>, cx: &mut FnCx, k: usize) -> LResult<Option<DType>> {
        match &self.args[k] {
            Arg::Tree(t) => {
                if let ast::ExprKind::Attribute { value, attr, .. } = &t.kind {
                    let of_module = matches!(&value.kind, ast::ExprKind::Name(m)
                        if crate::lower::MODULES.contains(&m.as_str()) && env.global_ty(m).is_none());
                    if attr == "dtype" && !of_module {
                        if let Ty::Array { dtype, .. } = env.expr(cx, value)?.ty {
                            return Ok(Some(dtype));
                        }
                    }
                }
                Ok(Some(env.dtype_arg(t)?))
            }
            Arg::Missing => Ok(None),
            Arg::Value(..) => Err(type_error(
                self.span_of(k),
                format!("{}() takes a dtype such as f64 or np.float32", self.name),
            )),
        }
    }

    /// Parameter `k` when it is a list or tuple literal, as syntax.
    pub fn literal(&self, k: usize) -> Option<&'c ast::Expr> {
        match &self.args[k] {
            Arg::Tree(t) if is_sequence_literal(t) => Some(t),
            _ => None,
        }
    }

    /// The tree of argument `k` as written, if it has one.
    pub fn tree(&self, k: usize) -> Option<&'c ast::Expr> {
        match &self.args[k] {
            Arg::Value(_, _, t) => *t,
            Arg::Tree(t) => Some(t),
            Arg::Missing => None,
        }
    }

    /// Where argument `k` was written (the call, for one not given or a method's receiver).
    pub fn span_of(&self, k: usize) -> Span {
        match &self.args[k] {
            Arg::Value(_, s, _) => *s,
            Arg::Tree(t) => t.span,
            Arg::Missing => self.span,
        }
    }

    /// The values of the `*args` parameter.
    pub fn rest(&mut self) -> Vec<Expr> {
        std::mem::take(&mut self.rest)
    }
}

fn is_sequence_literal(t: &ast::Expr) -> bool {
    matches!(t.kind, ast::ExprKind::List(_) | ast::ExprKind::Tuple(_))
}

/// Lower a call of builtin `def` (`receiver`: a method call's object): the positional
/// arguments are lowered in order (a dtype or a literal is kept as syntax); a ufunc with an
/// array among them is mapped over the elements; a builtin that does not take arrays rejects
/// them; then the call is bound and lowered.
pub(crate) fn lower_call<'c>(
    env: &mut Env<'_>,
    cx: &mut FnCx,
    def: &'static Def,
    site: Site<'c>,
    receiver: Option<Expr>,
    args: &'c [ast::Expr],
) -> LResult<Expr> {
    let mut positional: Vec<Positional<'c>> = Vec::new();
    if let Some(r) = receiver {
        positional.push(Positional::Value(r, site.span, None));
    }
    let by_position = by_position(def);
    for t in args {
        let k = positional.len();
        let form = match def.params.get(k.min(by_position)) {
            Some(p) if k < by_position => p.form,
            _ => Form::Value,
        };
        let as_tree = match form {
            Form::DType => true,
            Form::Literal => is_sequence_literal(t),
            Form::Value => false,
        };
        positional.push(if as_tree {
            Positional::Tree(t)
        } else {
            Positional::Value(env.expr(cx, t)?, t.span, Some(t))
        });
    }
    let is_array =
        |p: &Positional| matches!(p, Positional::Value(v, ..) if matches!(v.ty, Ty::Array { .. }));
    match def.arrays {
        Arrays::Elementwise(scalar) if positional.iter().any(is_array) => {
            let s = env.site(cx, site.span);
            let values: Vec<Expr> = positional
                .into_iter()
                .filter_map(|p| match p {
                    Positional::Value(v, ..) => Some(v),
                    Positional::Tree(_) => None,
                })
                .collect();
            let inner = Site {
                module: Some("np"),
                ..site
            };
            return env.elementwise(s, values, site.span, |env, leaves| {
                let leaves = leaves
                    .into_iter()
                    .map(|v| Positional::Value(v, site.span, None))
                    .collect();
                let mut call = Call::bind(def, &inner, leaves)?;
                scalar(env, cx, &mut call)
            });
        }
        Arrays::Rejected => {
            for p in &positional {
                if let Positional::Value(v, s, _) = p {
                    if matches!(v.ty, Ty::Array { .. }) {
                        let e = type_error(
                            *s,
                            format!("{}() takes a scalar, not an array ({})", site.name, v.ty),
                        );
                        return Err(crate::lower::with_hint(
                            e,
                            "apply it element by element in a loop",
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    let mut call = Call::bind(def, &site, positional)?;
    (def.lower)(env, cx, &mut call)
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
        B::Real | B::Imag | B::Conj | B::Angle | B::MakeComplex => complex::clif(g, op, o),
        B::Zeros(_)
        | B::Ones(_)
        | B::Empty(_)
        | B::Full(_)
        | B::ArangeInt
        | B::ArangeFloat
        | B::Linspace(_)
        | B::Eye(_)
        | B::ArrayLit(..) => creation::clif(g, op, o),
        B::Copy
        | B::Dim(_)
        | B::Size
        | B::Shape
        | B::Slice(_)
        | B::AsType(_)
        | B::Reshape
        | B::Transpose => arrays::clif(g, op, o),
        B::Reduce(_) | B::ReduceAxis(_) | B::ReduceAll(_) | B::Cumsum | B::CumsumAxis => {
            reductions::clif(g, op, o)
        }
        B::Dot | B::DotScalar => linalg::clif(g, op, o),
        B::Rand | B::Randn | B::Randint | B::Seed | B::RandScalar => random::clif(g, op, o),
        B::Display(_) | B::ClearOutput | B::Imshow => output::clif(g, op, o),
        B::Format { .. } | B::Concat | B::StrLen | B::StrEq => text::clif(g, op, o),
    }
}

#[cfg(test)]
mod tests;
