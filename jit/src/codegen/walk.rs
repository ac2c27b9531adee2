//! Walks over the typed IR that the backend's pre-passes share: every node of a body, and
//! the places a body assigns.

use crate::ir::{self, Expr, ExprKind, Place, Program, Stmt};
use std::collections::{HashMap, HashSet};

/// A statement or an expression met by [`visit`].
pub(crate) enum Node<'a> {
    Stmt(&'a Stmt),
    Expr(&'a Expr),
}

/// Every statement and expression of a body, recursively, parents first (map bodies and
/// parallel loop bodies included): the one walk over the IR the backend's pre-passes use.
pub(crate) fn visit<'a>(body: &'a [Stmt], f: &mut dyn FnMut(Node<'a>)) {
    fn expr<'a>(e: &'a Expr, f: &mut dyn FnMut(Node<'a>)) {
        f(Node::Expr(e));
        match &e.kind {
            ExprKind::Cast(a) | ExprKind::Unary(_, a) | ExprKind::TupleGet(a, _) => expr(a, f),
            ExprKind::Binary(_, a, b, _)
            | ExprKind::Compare(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Let(_, a, b) => {
                expr(a, f);
                expr(b, f);
            }
            ExprKind::Select(c, a, b) => {
                expr(c, f);
                expr(a, f);
                expr(b, f);
            }
            ExprKind::Call { args, .. }
            | ExprKind::Builtin { args, .. }
            | ExprKind::Tuple(args) => args.iter().for_each(|a| expr(a, f)),
            ExprKind::Index { array, index, .. } => {
                expr(array, f);
                index.iter().for_each(|a| expr(a, f));
            }
            ExprKind::Map(m, _) | ExprKind::MapReduce(m, _, _) => map(m, f),
            _ => {}
        }
    }
    fn map<'a>(m: &'a ir::ArrayMap, f: &mut dyn FnMut(Node<'a>)) {
        m.inputs.iter().chain(&m.scalars).for_each(|a| expr(a, f));
        expr(&m.body, f);
    }
    fn place<'a>(p: &'a Place, f: &mut dyn FnMut(Node<'a>)) {
        match p {
            Place::Elem { array, index, .. } => {
                expr(array, f);
                index.iter().for_each(|a| expr(a, f));
            }
            Place::Tuple(items) => items.iter().for_each(|i| place(i, f)),
            _ => {}
        }
    }
    for s in body {
        f(Node::Stmt(s));
        match s {
            Stmt::Assign { place: p, value } => {
                place(p, f);
                expr(value, f);
            }
            Stmt::Eval(e) | Stmt::Return(Some(e)) => expr(e, f),
            Stmt::If { cond, then, els } => {
                expr(cond, f);
                visit(then, f);
                visit(els, f);
            }
            Stmt::While { cond, body } => {
                expr(cond, f);
                visit(body, f);
            }
            Stmt::For { ranges, body, .. } => {
                for r in ranges {
                    expr(&r.start, f);
                    expr(&r.stop, f);
                    expr(&r.step, f);
                }
                visit(body, f);
            }
            Stmt::MapInto { dest, map: m, .. } => {
                expr(dest, f);
                map(m, f);
            }
            Stmt::Print { args, sep, end, .. } => {
                args.iter().chain(sep).chain(end).for_each(|a| expr(a, f));
            }
            _ => {}
        }
    }
}

/// Every place a body assigns (tuple targets unpacked): assignments and loop variables.
pub(super) fn assigned_places(body: &[Stmt], f: &mut dyn FnMut(&Place)) {
    fn place(p: &Place, f: &mut dyn FnMut(&Place)) {
        match p {
            Place::Tuple(items) => items.iter().for_each(|i| place(i, f)),
            _ => f(p),
        }
    }
    visit(body, &mut |n| match n {
        Node::Stmt(Stmt::Assign { place: p, .. }) => place(p, f),
        Node::Stmt(Stmt::For { vars, .. }) => vars.iter().for_each(|v| place(v, f)),
        _ => {}
    });
}

/// How many places in a body assign each variable (`Let` temporaries included).
pub(crate) fn assignment_counts(body: &[Stmt]) -> HashMap<ir::VarId, usize> {
    let mut out: HashMap<ir::VarId, usize> = HashMap::new();
    assigned_places(body, &mut |p| {
        if let Place::Var(v) = p {
            *out.entry(*v).or_default() += 1;
        }
    });
    visit(body, &mut |n| {
        if let Node::Expr(Expr {
            kind: ExprKind::Let(v, _, _),
            ..
        }) = n
        {
            *out.entry(*v).or_default() += 1;
        }
    });
    out
}

/// Globals that some user function assigns (`global x`): any body that calls one may see
/// them change.
pub(super) fn globals_assigned_by_functions(prog: &Program) -> HashSet<ir::GlobalId> {
    let mut out = HashSet::new();
    for (k, f) in prog.funcs.iter().enumerate() {
        if k as u32 != prog.entry {
            assigned_places(&f.body, &mut |p| {
                if let Place::Global(g) = p {
                    out.insert(*g);
                }
            });
        }
    }
    out
}
