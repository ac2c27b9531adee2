//! Loop versioning for bounds checks: which element accesses of a `for` loop's body one test
//! before the loop can prove in range for every iteration.
//!
//! `for j in range(start, stop): img[i, j] = ...` checks `i` and `j` against the image's
//! shape on every iteration, and loads the shape to do it. When `img` and `i` cannot change
//! inside the loop, `0 <= i < img.shape[0]` and `0 <= start`, `stop <= img.shape[1]` say,
//! before the first iteration, that no check in the loop can fail. The backend then emits the
//! loop twice: a copy without those checks, which runs when the test passes, and the checked
//! copy, which runs otherwise (an index that counts from the end, a loop that runs past the
//! array) and raises exactly where the unversioned loop would. Numba and C skip the checks
//! altogether; this keeps them and pays for them once per loop instead of once per element.

use super::walk::{assigned_places, assignment_counts, visit, Node};
use crate::ir::{self, BinOp, Expr, ExprKind, Place, Stmt};
use crate::types::Ty;
use std::collections::HashMap;

/// Largest counter offset (`a[j + k]`) considered: far from overflowing any shape.
const MAX_OFFSET: i64 = 1 << 20;

/// Why an index is in range on every iteration, given the test before the loop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Proof {
    /// Counter `counter` of the loop (nest) plus `offset`: in range when
    /// `first + offset >= 0` and `last + offset < n`, for the first and last values the
    /// counter takes (it counts up).
    Counter { counter: usize, offset: i64 },
    /// A value no iteration changes: in range when `0 <= index < n`.
    Invariant,
}

/// One index of one element access that the test before the loop can prove in range.
pub(super) struct ProvenIndex<'a> {
    /// The array: a variable or a global that the loop cannot reassign.
    pub array: &'a Expr,
    pub axis: usize,
    pub index: &'a Expr,
    pub proof: Proof,
}

/// The statements at the top of a loop body that copy one variable into another place
/// (`user = counter`): how the lowering gives the user's loop variable (a local, or a global
/// at the top level of a cell) the hidden counter's value.
fn leading_copies(body: &[Stmt]) -> impl Iterator<Item = (&Place, ir::VarId)> {
    body.iter().map_while(|st| match st {
        Stmt::Assign {
            place: p @ (Place::Var(_) | Place::Global(_)),
            value: Expr {
                kind: ExprKind::Var(c),
                ..
            },
        } => Some((p, *c)),
        _ => None,
    })
}

/// The loop's counter and the user's local copies of it: both keep the counter's value for
/// the whole iteration when nothing else in the body assigns them.
pub(super) fn counter_copies(
    counter: ir::VarId,
    body: &[Stmt],
    assignments: &HashMap<ir::VarId, usize>,
) -> Vec<ir::VarId> {
    if assignments.contains_key(&counter) {
        return Vec::new();
    }
    let mut copies = vec![counter];
    for (p, c) in leading_copies(body) {
        if let Place::Var(user) = p {
            if copies.contains(&c) && assignments.get(user) == Some(&1) {
                copies.push(*user);
            }
        }
    }
    copies
}

/// The indices of the body of a `for` loop or `ndrange` nest (whose `counters` count up)
/// that a test before the loop can prove in range. `fixed_global` says whether nothing
/// outside the body (a user function it may call) can assign a global. Empty when the body
/// holds another loop: versioning the innermost loop of each access keeps the number of
/// copies of any body at two.
pub(super) fn provable_indices<'a>(
    counters: &[ir::VarId],
    body: &'a [Stmt],
    fixed_global: &dyn Fn(ir::GlobalId) -> bool,
) -> Vec<ProvenIndex<'a>> {
    let mut nested = false;
    visit(body, &mut |n| {
        nested |= matches!(n, Node::Stmt(Stmt::For { .. } | Stmt::While { .. }));
    });
    if nested {
        return Vec::new();
    }
    let assignments = assignment_counts(body);
    // For each counter, the variables (and, at the top level of a cell, globals) that hold
    // its value for the whole iteration.
    let copies: Vec<Vec<ir::VarId>> = counters
        .iter()
        .map(|&c| counter_copies(c, body, &assignments))
        .collect();
    // At the top level of a cell the user's loop variable is a global, copied from the
    // counter the same way.
    let mut global_counts: HashMap<ir::GlobalId, usize> = HashMap::new();
    assigned_places(body, &mut |p| {
        if let Place::Global(g) = p {
            *global_counts.entry(*g).or_default() += 1;
        }
    });
    let mut global_copies: Vec<(ir::GlobalId, usize)> = Vec::new();
    for (p, c) in leading_copies(body) {
        let Place::Global(user) = p else { continue };
        let Some(d) = copies.iter().position(|cs| cs.contains(&c)) else {
            continue;
        };
        if global_counts.get(user) == Some(&1) && fixed_global(*user) {
            global_copies.push((*user, d));
        }
    }
    let array_fixed = |a: &Expr| match a.kind {
        ExprKind::Var(v) => !assignments.contains_key(&v),
        ExprKind::Global(g) => !global_counts.contains_key(&g) && fixed_global(g),
        _ => false,
    };
    let proof = |e: &Expr| -> Option<Proof> {
        let counter_of = |x: &Expr| match x.kind {
            ExprKind::Var(v) => copies.iter().position(|cs| cs.contains(&v)),
            ExprKind::Global(g) => global_copies
                .iter()
                .find(|&&(u, _)| u == g)
                .map(|&(_, d)| d),
            _ => None,
        };
        match &e.kind {
            ExprKind::Var(_) | ExprKind::Global(_) if counter_of(e).is_some() => {
                Some(Proof::Counter {
                    counter: counter_of(e)?,
                    offset: 0,
                })
            }
            ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b, _) => {
                let (counter, k) = match (&a.kind, &b.kind) {
                    (_, ExprKind::Int(k)) => (counter_of(a)?, *k),
                    (ExprKind::Int(k), _) if *op == BinOp::Add => (counter_of(b)?, *k),
                    _ => return None,
                };
                let offset = if *op == BinOp::Sub {
                    k.checked_neg()?
                } else {
                    k
                };
                (offset.abs() <= MAX_OFFSET).then_some(Proof::Counter { counter, offset })
            }
            ExprKind::Var(v) if e.ty == Ty::I64 && !assignments.contains_key(v) => {
                Some(Proof::Invariant)
            }
            ExprKind::Global(g)
                if e.ty == Ty::I64 && !global_counts.contains_key(g) && fixed_global(*g) =>
            {
                Some(Proof::Invariant)
            }
            ExprKind::Int(k) if *k >= 0 => Some(Proof::Invariant),
            _ => None,
        }
    };
    let mut out = Vec::new();
    let mut access = |array: &'a Expr, index: &'a [Expr]| {
        if !array_fixed(array) {
            return;
        }
        for (axis, index) in index.iter().enumerate() {
            if let Some(proof) = proof(index) {
                out.push(ProvenIndex {
                    array,
                    axis,
                    index,
                    proof,
                });
            }
        }
    };
    visit(body, &mut |n| match n {
        Node::Expr(Expr {
            kind: ExprKind::Index { array, index, .. },
            ..
        }) => access(array, index),
        Node::Stmt(Stmt::Assign { place, .. }) => {
            fn elems<'b>(p: &'b Place, f: &mut dyn FnMut(&'b Expr, &'b [Expr])) {
                match p {
                    Place::Elem { array, index, .. } => f(array, index),
                    Place::Tuple(items) => items.iter().for_each(|p| elems(p, f)),
                    _ => {}
                }
            }
            elems(place, &mut access);
        }
        _ => {}
    });
    out
}
