//! The one argument binder of every builtin: a call's arguments bound to a [`Def`]'s
//! parameters in CPython's order and with CPython's messages, and [`lower_call`], which
//! lowers the positional arguments, maps a ufunc over arrays, binds and applies the lowering.

use super::*;

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

/// A call bound to its builtin's parameters.
pub(crate) struct Call<'c> {
    /// The name as the cell wrote it (an alias stays an alias in messages).
    pub name: &'c str,
    /// `np`, `math`, ... when the cell wrote a module prefix.
    pub module: Option<&'static str>,
    pub span: Span,
    /// Called as a method (`a.sort()`), the receiver being argument 0.
    pub method: bool,
    args: Vec<Arg<'c>>,
    /// The values of a `*args` parameter.
    rest: Vec<Expr>,
}

/// A call as the cell wrote it: the name, its module prefix, where, and its keywords.
#[derive(Clone, Copy)]
pub(crate) struct CallSyntax<'c> {
    pub name: &'c str,
    pub module: Option<&'static str>,
    pub span: Span,
    pub keywords: &'c [ast::Keyword],
    pub method: bool,
}

/// NumPy's float functions (`sqrt`, `exp`, `hypot`, ...) of 8- and 16-bit integer arrays
/// give the smallest float that holds them: float16, which Kiln has not, or float32.
fn small_int_float_result(
    def: &Def,
    arrays_dtype: Option<kiln_runtime::DType>,
    mapped: Expr,
    span: Span,
) -> LResult<Expr> {
    let bits = arrays_dtype.and_then(|d| d.narrow_int()).map(|(b, _)| b);
    let float_fn = || super::math::DEFS.iter().any(|d| d.names == def.names);
    match (bits, &mapped.ty) {
        (
            Some(b @ (8 | 16)),
            Ty::Array {
                dtype: kiln_runtime::DType::F64,
                ndim,
            },
        ) if float_fn() => {
            let d = arrays_dtype.map(|d| d.numpy_name()).unwrap_or_default();
            if b == 8 {
                return Err(type_error(
                    span,
                    format!(
                        "{}() of an {d} array is float16 in NumPy, which Kiln does not have",
                        def.names[0]
                    ),
                ))
                .map_err(|e| crate::lower::with_hint(e, "convert first: a.astype(np.float32)"));
            }
            let ndim = *ndim;
            let crate::ir::ExprKind::Map(mut m, site) = mapped.kind else {
                return Ok(mapped);
            };
            m.body = crate::lower::cast(m.body, Ty::F32);
            Ok(Expr::new(
                crate::ir::ExprKind::Map(m, site),
                Ty::array(kiln_runtime::DType::F32, ndim as usize),
            ))
        }
        _ => Ok(mapped),
    }
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
pub(super) fn by_position(def: &Def) -> usize {
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
    fn bind(def: &Def, site: &CallSyntax<'c>, positional: Vec<Arg<'c>>) -> LResult<Call<'c>> {
        let name = site.name;
        let given = positional.len();
        let star = def.params.iter().any(|p| p.kind == Kind::Star);
        let by_position = by_position(def);
        let mut call = Call {
            name,
            module: site.module,
            span: site.span,
            method: site.method,
            args: def.params.iter().map(|_| Arg::Missing).collect(),
            rest: Vec::new(),
        };
        for (k, p) in positional.into_iter().enumerate() {
            if k < by_position {
                call.args[k] = p;
            } else if let Arg::Value(v, ..) = p {
                call.rest.push(v);
            }
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
            Arg::Tree(t) => Ok(Some(env.dtype_arg(cx, t)?)),
            Arg::Missing => Ok(None),
            Arg::Value(v, ..) if matches!(v.ty, Ty::DType { .. }) => Ok(v.ty.dtype_value()),
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
    site: CallSyntax<'c>,
    receiver: Option<Expr>,
    args: &'c [ast::Expr],
) -> LResult<Expr> {
    let mut positional: Vec<Arg<'c>> = Vec::new();
    if let Some(r) = receiver {
        positional.push(Arg::Value(r, site.span, None));
    }
    let by_position = by_position(def);
    for t in args {
        let k = positional.len();
        let form = if k < by_position {
            def.params[k].form
        } else {
            Form::Value
        };
        let as_tree = match form {
            Form::DType => true,
            Form::Literal => is_sequence_literal(t),
            Form::Value => false,
        };
        positional.push(if as_tree {
            Arg::Tree(t)
        } else {
            Arg::Value(env.expr(cx, t)?, t.span, Some(t))
        });
    }
    let is_array = |p: &Arg| matches!(p, Arg::Value(v, ..) if matches!(v.ty, Ty::Array { .. }));
    match def.arrays {
        Arrays::Elementwise(scalar) if positional.iter().any(is_array) => {
            for p in &positional {
                if let Arg::Value(v, s, _) = p {
                    if !v.ty.is_numeric() && !matches!(v.ty, Ty::Array { .. }) {
                        return Err(type_error(
                            *s,
                            format!("{}() of an array takes numbers, not a {}", site.name, v.ty),
                        ));
                    }
                }
            }
            let s = env.site(cx, site.span);
            let values: Vec<Expr> = positional
                .into_iter()
                .filter_map(|p| match p {
                    Arg::Value(v, ..) => Some(v),
                    _ => None,
                })
                .collect();
            let inner = CallSyntax {
                module: Some("np"),
                ..site
            };
            let arrays_dtype = values
                .iter()
                .filter_map(|v| match v.ty {
                    Ty::Array { dtype, .. } => Some(dtype),
                    _ => None,
                })
                .reduce(kiln_runtime::DType::promote);
            let mapped = env.elementwise(s, values, site.span, |env, leaves| {
                let leaves = leaves
                    .into_iter()
                    .map(|v| Arg::Value(v, site.span, None))
                    .collect();
                let mut call = Call::bind(def, &inner, leaves)?;
                scalar(env, cx, &mut call)
            })?;
            return small_int_float_result(def, arrays_dtype, mapped, site.span);
        }
        Arrays::Rejected => {
            for p in &positional {
                if let Arg::Value(v, s, _) = p {
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
    let is_list = |p: &Arg| matches!(p, Arg::Value(v, ..) if matches!(v.ty, Ty::List(_)));
    let takes_any = matches!(def.names[0], "str" | "repr" | "display" | "print");
    if !takes_any && positional.iter().any(is_list) {
        let mut values = Vec::new();
        for p in positional {
            match p {
                Arg::Value(v, s, _) => values.push((v, s)),
                Arg::Tree(t) => values.push((env.expr(cx, t)?, t.span)),
                Arg::Missing => {}
            }
        }
        return env.list_builtin(cx, site.name, values, site.keywords, site.span);
    }
    let mut call = Call::bind(def, &site, positional)?;
    (def.lower)(env, cx, &mut call)
}
