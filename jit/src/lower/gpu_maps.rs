//! `@gpu` on a whole-array assignment. The fused map the assignment lowered to becomes a
//! `@gpu` loop over its broadcast shape, so it runs through the same kernel backend, data
//! movement, error replay and teaching views as a loop the user wrote:
//!
//! ```text
//! y = f(x, s)        →  shp = broadcast_shape(x)          (NumPy's ValueError on a mismatch)
//!                       xv = broadcast_to(x, shp)          (stride 0 on broadcast axes)
//!                       out = empty(shp)                (never uploaded: the kernel writes it all)
//!                       @gpu for c0, c1 in ndrange(*shp): out[c0, c1] = f(xv[c0, c1], s)
//!                       y = out
//! d[...] = f(x)      →  shp = broadcast_shape(into d; x)   (d's shape)
//!                       xv = broadcast_to(x, shp), copied first when it may share memory
//!                            with d (so `a[1:] = a[:-1]` reads the old values, as NumPy)
//!                       @gpu for ...: d[c0, c1] = f(xv[c0, c1])
//! ```
//!
//! A 4-D map runs as a 3-D NDRange whose first index covers the first two axes.

use super::arrays::rewrite_leaves;
use super::*;
use crate::codegen::walk::{visit, Node};
use crate::syntax::ast::Target;

impl<'a> Env<'a> {
    /// Rewrite the maps an `@gpu` assignment lowered to (`stmts`) into `@gpu` loops.
    pub(crate) fn gpu_assignment(
        &mut self,
        cx: &mut FnCx,
        stmts: Vec<Stmt>,
        span: Span,
    ) -> LResult<Vec<Stmt>> {
        let mut out = Vec::new();
        for s in stmts {
            match s {
                Stmt::Assign {
                    place,
                    value:
                        Expr {
                            kind: ExprKind::Map(m, site),
                            ty,
                        },
                } if m.threads == ir::MapThreads::Gpu => {
                    let Ty::Array { dtype, .. } = ty else {
                        return type_err(span, "a whole-array expression of a non-array type");
                    };
                    let nd = m.ndim as usize;
                    self.check_gpu_ndim(nd, span)?;
                    let (shape, views, scalars) =
                        self.gpu_operands(cx, &m, None, nd, site, &mut out);
                    let dest = cx.new_var("out", Ty::array(dtype, nd));
                    let alloc = self.builtin(
                        cx,
                        Builtin::KernelOut(dtype),
                        vec![shape.clone()],
                        Ty::array(dtype, nd),
                        span,
                    );
                    out.push(Stmt::Assign {
                        place: Place::Var(dest),
                        value: alloc,
                    });
                    let dest_e = Expr::new(ExprKind::Var(dest), Ty::array(dtype, nd));
                    out.push(self.gpu_loop(cx, &m, dest_e.clone(), &shape, &views, &scalars, span));
                    out.push(Stmt::Assign {
                        place,
                        value: dest_e,
                    });
                }
                Stmt::MapInto { dest, map, site } if map.threads == ir::MapThreads::Gpu => {
                    let Ty::Array { ndim, .. } = dest.ty else {
                        return type_err(span, "an assignment into a non-array");
                    };
                    let nd = ndim as usize;
                    self.check_gpu_ndim(nd, span)?;
                    let d = hold(cx, dest, "dest", &mut out);
                    let (shape, views, scalars) =
                        self.gpu_operands(cx, &map, Some(&d), nd, site, &mut out);
                    out.push(self.gpu_loop(cx, &map, d, &shape, &views, &scalars, span));
                }
                other => {
                    if let Some(reduction) = gpu_map_left(&other) {
                        if reduction {
                            return err(
                                ErrorKind::DeviceError,
                                span,
                                "@gpu does not run a whole-array reduction (sum, mean, min, dot, ...): its result is one value, not an array",
                            )
                            .map_err(|e| with_hint(e, "write it as a @gpu loop that reduces (`for i in range(len(a)): s += a[i]`), or use @par"));
                        }
                        return err(
                            ErrorKind::DeviceError,
                            span,
                            "@gpu runs a whole-array assignment (`y = expr`, `y[...] = expr`, `y += expr`) as one kernel; this statement's array work is not such an assignment",
                        )
                        .map_err(|e| with_hint(e, "assign the whole-array expression to a name on a line of its own, or write the work as a @gpu loop (a reduction as `s += a[i]`)"));
                    }
                    out.push(other)
                }
            }
        }
        Ok(out)
    }

    fn check_gpu_ndim(&self, nd: usize, span: Span) -> LResult<()> {
        if nd == 0 {
            return err(
                ErrorKind::DeviceError,
                span,
                "@gpu has no kernel to run for a 0-dimensional array: it holds one value",
            )
            .map_err(|e| {
                with_hint(
                    e,
                    "drop @gpu: the host computes one value faster than a launch",
                )
            });
        }
        Ok(())
    }

    /// The map's operands, evaluated once before the loop: the broadcast shape (a variable
    /// holding a tuple), each input broadcast to it, and the scalars.
    fn gpu_operands(
        &mut self,
        cx: &mut FnCx,
        m: &ir::ArrayMap,
        dest: Option<&Expr>,
        nd: usize,
        site: ir::SiteId,
        out: &mut Vec<Stmt>,
    ) -> (Expr, Vec<Expr>, Vec<Expr>) {
        let span = self.sites[site as usize].span;
        let inputs: Vec<Expr> = m
            .inputs
            .iter()
            .map(|i| hold(cx, i.clone(), "in", out))
            .collect();
        let scalars: Vec<Expr> = m
            .scalars
            .iter()
            .map(|x| hold(cx, x.clone(), "s", out))
            .collect();
        let shape_ty = Ty::tuple(vec![Ty::I64; nd]);
        let mut args: Vec<Expr> = dest.into_iter().cloned().collect();
        args.extend(inputs.iter().cloned());
        let shape = self.builtin(
            cx,
            Builtin::BroadcastShape {
                into: dest.is_some(),
            },
            args,
            shape_ty.clone(),
            span,
        );
        let shape = hold_always(cx, shape, "shape", out);
        let mut views = Vec::new();
        for i in inputs {
            let Ty::Array { dtype, .. } = i.ty else {
                continue;
            };
            let vty = Ty::array(dtype, nd);
            let view = self.builtin(
                cx,
                Builtin::BroadcastTo,
                vec![i.clone(), shape.clone()],
                vty.clone(),
                span,
            );
            let view = match dest {
                Some(d) => {
                    let overlap =
                        self.builtin(cx, Builtin::MayOverlap, vec![d.clone(), i], Ty::Bool, span);
                    let copy =
                        self.builtin(cx, Builtin::Copy, vec![view.clone()], vty.clone(), span);
                    Expr::new(
                        ExprKind::Select(Box::new(overlap), Box::new(copy), Box::new(view)),
                        vty,
                    )
                }
                None => view,
            };
            views.push(hold_always(cx, view, "view", out));
        }
        (shape, views, scalars)
    }

    /// `@gpu for c... in ndrange(*shape): dest[c...] = body`, the body's leaves read from the
    /// broadcast views and scalars.
    #[allow(clippy::too_many_arguments)]
    fn gpu_loop(
        &mut self,
        cx: &mut FnCx,
        m: &ir::ArrayMap,
        dest: Expr,
        shape: &Expr,
        views: &[Expr],
        scalars: &[Expr],
        span: Span,
    ) -> Stmt {
        let site = self.site(cx, span);
        let nd = match shape.ty {
            Ty::Tuple(ref items) => items.len(),
            _ => 0,
        };
        let dim = |k: usize| {
            Expr::new(
                ExprKind::TupleGet(Box::new(shape.clone()), k as u32),
                Ty::I64,
            )
        };
        let var = |v: ir::VarId| Expr::new(ExprKind::Var(v), Ty::I64);
        let counters: Vec<ir::VarId> = (0..nd.min(3))
            .map(|k| cx.new_var(&format!("c{k}"), Ty::I64))
            .collect();
        let mut ranges: Vec<Expr> = (0..nd).map(dim).collect();
        let mut body = Vec::new();
        let index: Vec<Expr> = if nd == 4 {
            // Axes 0 and 1 share the NDRange's slowest dimension: c0 = f // n1, c1 = f % n1.
            let (a0, a1) = (cx.new_var("c0", Ty::I64), cx.new_var("c1", Ty::I64));
            let f = var(counters[0]);
            for (v, op) in [(a0, BinOp::FloorDiv), (a1, BinOp::Mod)] {
                let value = Expr::new(
                    ExprKind::Binary(op, Box::new(f.clone()), Box::new(dim(1)), site),
                    Ty::I64,
                );
                body.push(Stmt::Assign {
                    place: Place::Var(v),
                    value,
                });
            }
            let n01 = Expr::new(
                ExprKind::Binary(BinOp::Mul, Box::new(dim(0)), Box::new(dim(1)), site),
                Ty::I64,
            );
            ranges.splice(0..2, [n01]);
            vec![var(a0), var(a1), var(counters[1]), var(counters[2])]
        } else {
            counters.iter().map(|&c| var(c)).collect()
        };
        // Each input's element is read once, into a private variable (a body may use it
        // many times: `x**3` reads x thrice).
        let mut elems = Vec::new();
        for v in views {
            let Ty::Array { dtype, .. } = v.ty else {
                unreachable!("a map input that is not an array")
            };
            let ety = Ty::from_dtype(dtype);
            let e = cx.new_var("e", ety.clone());
            body.push(Stmt::Assign {
                place: Place::Var(e),
                value: Expr::new(
                    ExprKind::Index {
                        array: Box::new(v.clone()),
                        index: index.clone(),
                        site,
                    },
                    ety.clone(),
                ),
            });
            elems.push(Expr::new(ExprKind::Var(e), ety));
        }
        let value = rewrite_leaves(m.body.clone(), &|leaf| match leaf.kind {
            ExprKind::Elem(k) => Some(elems[k as usize].clone()),
            ExprKind::MapScalar(k) => Some(scalars[k as usize].clone()),
            _ => None,
        });
        let Ty::Array { dtype, .. } = dest.ty else {
            unreachable!("gpu map into a non-array")
        };
        let elem_ty = Ty::from_dtype(dtype);
        let value = if value.ty == elem_ty {
            value
        } else {
            Expr::new(ExprKind::Cast(Box::new(value)), elem_ty)
        };
        body.push(Stmt::Assign {
            place: Place::Elem {
                array: dest,
                index,
                site,
            },
            value,
        });
        self.par_count += 1;
        Stmt::For {
            vars: counters.into_iter().map(Place::Var).collect(),
            ranges: ranges
                .into_iter()
                .map(|stop| ir::Range {
                    start: Expr::int(0),
                    stop,
                    step: Expr::int(1),
                })
                .collect(),
            body,
            target: Target::Gpu,
            site,
            par: Some(ir::ParInfo {
                id: self.par_count - 1,
                reductions: Vec::new(),
            }),
        }
    }
}

/// `e` as an operand evaluated once: itself when it is a name or a constant, else a new
/// variable assigned before the loop.
fn hold(cx: &mut FnCx, e: Expr, name: &str, out: &mut Vec<Stmt>) -> Expr {
    match e.kind {
        ExprKind::Var(_)
        | ExprKind::Global(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Complex(..) => e,
        _ => hold_always(cx, e, name, out),
    }
}

/// Does a statement still hold a map marked for the device (one the rewrite did not take)?
/// `Some(true)` when one is a reduction.
fn gpu_map_left(s: &Stmt) -> Option<bool> {
    let mut found = None;
    visit(std::slice::from_ref(s), &mut |n| match n {
        Node::Stmt(Stmt::MapInto { map, .. }) if map.threads == ir::MapThreads::Gpu => {
            found = found.or(Some(false))
        }
        Node::Expr(Expr {
            kind: ExprKind::Map(m, _),
            ..
        }) if m.threads == ir::MapThreads::Gpu => found = found.or(Some(false)),
        Node::Expr(Expr {
            kind: ExprKind::MapReduce(m, _, _),
            ..
        }) if m.threads == ir::MapThreads::Gpu => found = Some(true),
        _ => {}
    });
    found
}
