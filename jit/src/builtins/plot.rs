//! Figures as matplotlib's `pyplot` draws them (also as `plt.plot`, ... after `import
//! matplotlib.pyplot as plt`): `plot`, `scatter`, `hist`, `imshow`, `title`, `xlabel`,
//! `ylabel`, `legend`, `figure`, `show`, `colorbar`. Each lowers to one `kiln_plot` call
//! whose operands sit in `plot::slot` order; the figure itself is `crate::plot`'s.

use super::*;
use crate::codegen::clif::Vals;
use crate::ir::Builtin;
use crate::lower::{type_err, with_hint};
use crate::plot::{slot, PlotOp};
use cranelift_codegen::ir::{types, InstBuilder, StackSlotData, StackSlotKind};

/// A positional-only parameter that also takes a list literal (`plot([1, 2, 4])`).
const fn data(name: &'static str) -> Param {
    Param {
        form: Form::Literal,
        ..pos(name)
    }
}

const fn data_opt(name: &'static str) -> Param {
    Param {
        form: Form::Literal,
        ..pos_opt(name, "None")
    }
}

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["plot"],
        params: &[
            data("x"),
            data_opt("y"),
            pos_opt("fmt", "None"),
            kw("color", "None"),
            kw("label", "None"),
            kw("title", "None"),
            kw("xlabel", "None"),
            kw("ylabel", "None"),
        ],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Draw y against x (or against 0, 1, 2, ... for plot(y)) on the cell's figure, \
               with a format string such as 'r--', 'o' or 'k.' (colour, line style, marker).",
        lower: plot,
    },
    Def {
        names: &["scatter"],
        params: &[
            data("x"),
            data("y"),
            kw("c", "None"),
            kw("color", "None"),
            kw("marker", "None"),
            kw("label", "None"),
            kw("title", "None"),
            kw("xlabel", "None"),
            kw("ylabel", "None"),
        ],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Draw a marker at each (x, y) on the cell's figure.",
        lower: scatter,
    },
    Def {
        names: &["hist"],
        params: &[
            data("x"),
            opt("bins", "10"),
            kw("color", "None"),
            kw("label", "None"),
            kw("title", "None"),
            kw("xlabel", "None"),
            kw("ylabel", "None"),
        ],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Draw a histogram of the values in equal-width bins (NaN and inf left out).",
        lower: hist,
    },
    Def {
        names: &["imshow"],
        params: &[
            pos("X"),
            kw("cmap", "'viridis'"),
            kw("title", "None"),
            kw("xlabel", "None"),
            kw("ylabel", "None"),
        ],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Draw a 2-D real array as an image through a colormap (viridis, magma, inferno, \
               plasma, cividis, turbo, gray; '_r' reverses), with a colorbar.",
        lower: imshow,
    },
    Def {
        names: &["title"],
        params: &[arg("label")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Set the title of the cell's figure.",
        lower: title,
    },
    Def {
        names: &["xlabel"],
        params: &[arg("xlabel")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Set the label of the figure's x axis.",
        lower: xlabel,
    },
    Def {
        names: &["ylabel"],
        params: &[arg("ylabel")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Set the label of the figure's y axis.",
        lower: ylabel,
    },
    Def {
        names: &["legend"],
        params: &[kw("loc", "'best'")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Show a legend of the series drawn with label=... ('best', 'upper right', \
               'upper left', 'lower left', 'lower right').",
        lower: legend,
    },
    Def {
        names: &["figure"],
        params: &[kw("figsize", "None")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Start a new figure (figsize=(width, height) in inches, 6.4 by 4.8 by default); \
               the one before is shown.",
        lower: figure,
    },
    Def {
        names: &["show"],
        params: &[],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Show the figure now, instead of when the cell ends.",
        lower: show,
    },
    Def {
        names: &["savefig"],
        params: &[pos("fname")],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "Write the figure drawn so far to a PNG file (it is still shown when the cell ends).",
        lower: savefig,
    },
    Def {
        names: &["xticks", "yticks"],
        params: &[
            Param {
                form: Form::Literal,
                ..opt("ticks", "None")
            },
            opt("labels", "None"),
        ],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "xticks([]) / yticks([]): draw that axis without ticks (Kiln places round ticks \
               itself).",
        lower: no_ticks,
    },
    Def {
        names: &["colorbar"],
        params: &[],
        arrays: Arrays::Rejected,
        method: Method::No,
        help: "imshow() draws its colorbar already: accepted after it, and changes nothing.",
        lower: colorbar,
    },
];

/// The operands of one `kiln_plot` call, all absent at first.
fn operands() -> Vec<Expr> {
    vec![Expr::none(); slot::COUNT]
}

fn call(env: &mut Env<'_>, cx: &mut FnCx, c: &Call<'_>, op: PlotOp, args: Vec<Expr>) -> Expr {
    env.builtin(cx, Builtin::Plot(op), args, Ty::None, c.span)
}

/// Parameter `k` as data: an array of real numbers (a list literal becomes one), at most
/// `max_ndim`-dimensional.
fn data_arg(
    env: &mut Env<'_>,
    cx: &mut FnCx,
    c: &mut Call<'_>,
    k: usize,
    max_ndim: u8,
) -> LResult<Option<Expr>> {
    let v = match c.literal(k) {
        Some(lit) => env.array_literal(cx, lit, Some(DType::F64), c.span_of(k))?,
        None => match c.value(env, cx, k)? {
            Some(v) => v,
            None => return Ok(None),
        },
    };
    check_data(c, k, v, max_ndim).map(Some)
}

fn check_data(c: &Call<'_>, k: usize, v: Expr, max_ndim: u8) -> LResult<Expr> {
    match v.ty {
        Ty::Array { ndim, dtype } if ndim <= max_ndim && dtype != DType::C128 => Ok(v),
        Ty::Array {
            dtype: DType::C128, ..
        } => type_err(
            c.span_of(k),
            format!("{}() takes real numbers, not complex ones", c.name),
        )
        .map_err(|e| with_hint(e, "plot z.real, z.imag or abs(z)")),
        Ty::Array { ndim, .. } => type_err(
            c.span_of(k),
            format!(
                "{}() takes {} arrays, not a {ndim}-D one",
                c.name,
                if max_ndim == 1 { "1-D" } else { "1-D or 2-D" }
            ),
        ),
        ref t => type_err(
            c.span_of(k),
            format!("{}() takes arrays of numbers, not a {t}", c.name),
        )
        .map_err(|e| {
            with_hint(
                e,
                "pass an array, e.g. array([1.0, 2.0]) or linspace(0, 1, n)",
            )
        }),
    }
}

/// Parameter `k` as text, if given.
fn text(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, k: usize) -> LResult<Expr> {
    match c.value(env, cx, k)? {
        Some(v) if v.ty == Ty::Str => Ok(v),
        Some(v) if v.ty == Ty::None => Ok(Expr::none()),
        Some(v) => type_err(
            c.span_of(k),
            format!(
                "{}() takes a string for this argument, not a {}",
                c.name, v.ty
            ),
        ),
        None => Ok(Expr::none()),
    }
}

/// `color=` (parameter `color`), then `label=`, `title=`, `xlabel=`, `ylabel=` (parameters
/// `first` to `first + 3`).
fn labels(
    env: &mut Env<'_>,
    cx: &mut FnCx,
    c: &mut Call<'_>,
    a: &mut [Expr],
    color: usize,
    first: usize,
) -> LResult<()> {
    a[slot::COLOR] = text(env, cx, c, color)?;
    for (j, s) in [slot::LABEL, slot::TITLE, slot::XLABEL, slot::YLABEL]
        .into_iter()
        .enumerate()
    {
        a[s] = text(env, cx, c, first + j)?;
    }
    Ok(())
}

fn plot(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let mut a = operands();
    let first = data_arg(env, cx, c, 0, 2)?.expect("required");
    // plot(y, 'r--'): a string second is the format.
    let second_is_fmt =
        c.literal(1).is_none() && matches!(c.value(env, cx, 1)?, Some(ref v) if v.ty == Ty::Str);
    if second_is_fmt {
        if c.given(2) {
            return type_err(
                c.span_of(2),
                "plot() takes plot(y, fmt) or plot(x, y, fmt); call plot() once per line",
            );
        }
        a[slot::FMT] = text(env, cx, c, 1)?;
        a[slot::X] = first;
    } else {
        match data_arg(env, cx, c, 1, 2)? {
            Some(y) => {
                if let Ty::Array { ndim: 2, .. } = first.ty {
                    return type_err(c.span_of(0), "plot() takes a 1-D x, not a 2-D one");
                }
                a[slot::X] = first;
                a[slot::Y] = y;
            }
            None => a[slot::X] = first,
        }
        a[slot::FMT] = text(env, cx, c, 2)?;
    }
    labels(env, cx, c, &mut a, 3, 4)?;
    Ok(call(env, cx, c, PlotOp::Plot, a))
}

fn scatter(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let mut a = operands();
    a[slot::X] = data_arg(env, cx, c, 0, 1)?.expect("required");
    a[slot::Y] = data_arg(env, cx, c, 1, 1)?.expect("required");
    a[slot::FMT] = text(env, cx, c, 4)?;
    // `c=` is a colour here (a string); colour-mapped values are not drawn.
    let cc = text(env, cx, c, 2)?;
    labels(env, cx, c, &mut a, 3, 5)?;
    if a[slot::COLOR].ty == Ty::None {
        a[slot::COLOR] = cc;
    }
    Ok(call(env, cx, c, PlotOp::Scatter, a))
}

fn hist(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let mut a = operands();
    a[slot::X] = data_arg(env, cx, c, 0, 1)?.expect("required");
    a[slot::N] = match c.value(env, cx, 1)? {
        Some(v) => env.int_arg(v, c.span_of(1), "hist")?,
        None => Expr::int(10),
    };
    labels(env, cx, c, &mut a, 2, 3)?;
    Ok(call(env, cx, c, PlotOp::Hist, a))
}

fn imshow(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let mut a = operands();
    let x = c.req(env, cx, 0)?;
    let real_2d = matches!(x.ty, Ty::Array { ndim: 2, dtype } if dtype != DType::C128);
    if !real_2d {
        return type_err(
            c.span,
            format!("imshow() takes a 2-D real array, not {}", x.ty),
        );
    }
    a[slot::X] = x;
    a[slot::FMT] = text(env, cx, c, 1)?;
    a[slot::TITLE] = text(env, cx, c, 2)?;
    a[slot::XLABEL] = text(env, cx, c, 3)?;
    a[slot::YLABEL] = text(env, cx, c, 4)?;
    Ok(call(env, cx, c, PlotOp::Imshow, a))
}

fn one_text(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>, op: PlotOp) -> LResult<Expr> {
    let mut a = operands();
    a[slot::FMT] = text(env, cx, c, 0)?;
    Ok(call(env, cx, c, op, a))
}

fn title(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    one_text(env, cx, c, PlotOp::Title)
}

fn xlabel(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    one_text(env, cx, c, PlotOp::XLabel)
}

fn ylabel(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    one_text(env, cx, c, PlotOp::YLabel)
}

fn legend(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    one_text(env, cx, c, PlotOp::Legend)
}

fn figure(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let mut a = operands();
    if let Some(v) = c.value(env, cx, 0)? {
        match &v.ty {
            Ty::Tuple(ts) if ts.len() == 2 && ts.iter().all(|t| t.is_numeric()) => {
                let Some(ast::ExprKind::Tuple(items)) = c.tree(0).map(|t| &t.kind) else {
                    return type_err(
                        c.span_of(0),
                        "figure() takes figsize as a tuple written out: figsize=(8, 4)",
                    );
                };
                for (k, item) in items.iter().enumerate() {
                    let e = env.expr(cx, item)?;
                    if e.ty == Ty::C128 {
                        return type_err(item.span, "figsize takes real numbers");
                    }
                    a[slot::N + k] = crate::lower::cast(e, Ty::F64);
                }
            }
            Ty::None => {}
            t => {
                return type_err(
                    c.span_of(0),
                    format!("figsize takes (width, height) in inches, not a {t}"),
                )
            }
        }
    }
    Ok(call(env, cx, c, PlotOp::Figure, a))
}

fn show(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    Ok(call(env, cx, c, PlotOp::Show, operands()))
}

fn savefig(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    one_text(env, cx, c, PlotOp::Savefig)
}

/// `xticks([])` / `yticks([])`, the one form Kiln takes: ticks at chosen places are
/// matplotlib's, Kiln's axes place round ones.
fn no_ticks(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    let empty = matches!(c.tree(0).map(|t| &t.kind), Some(ast::ExprKind::List(items) | ast::ExprKind::Tuple(items)) if items.is_empty());
    if !empty || c.given(1) {
        return type_err(
            c.span,
            format!("{}() takes only [] in Kiln (no ticks on that axis)", c.name),
        )
        .map_err(|e| {
            crate::lower::with_hint(
                e,
                "the axes fit the data with round ticks: plot only the range you want to see",
            )
        });
    }
    let op = if c.name == "xticks" {
        PlotOp::NoXTicks
    } else {
        PlotOp::NoYTicks
    };
    Ok(call(env, cx, c, op, operands()))
}

fn colorbar(env: &mut Env<'_>, cx: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    Ok(call(env, cx, c, PlotOp::Colorbar, operands()))
}

pub(super) fn clif(g: &mut Gen<'_, '_>, op: &Builtin, o: &Operands) -> Result<Vals, String> {
    let Builtin::Plot(op) = op else {
        return Err(format!("{op:?} is not a plotting builtin"));
    };
    // The operand words in a stack slot: a value's first word, 0 for one not given.
    let slot = g.b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        8 * slot::COUNT as u32,
        3,
    ));
    for k in 0..slot::COUNT {
        let x = match o.vals.get(k).and_then(|v| v.first()) {
            Some(&x) => x,
            None => g.iconst(0),
        };
        g.b.ins().stack_store(types::I64, x, slot, 8 * k as i32);
    }
    let p = g.b.ins().stack_addr(types::I64, slot, 0);
    let code = g.iconst(*op as i64);
    g.call_rt("kiln_plot", &[g.ctx, code, p]);
    g.check_err(o.site);
    Ok(vec![])
}
