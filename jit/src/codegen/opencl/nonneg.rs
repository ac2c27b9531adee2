//! Which integer variables of a kernel are provably never negative, so that indexing with
//! them needs no Python-style wrap of a negative index. The wrap (`if (i < 0) i += n`) makes
//! an address non-affine in the work-item id, and PoCL's work-group vectoriser gives up on
//! the whole kernel: a plain `y[i] = f(x[i])` runs ~3.5× slower with it (measured on PoCL
//! 3.1). The upper bound check stays.
//!
//! Non-negative: a counter of a loop whose start is a literal ≥ 0 and step a literal > 0,
//! and a variable assigned exactly once, from a non-negative expression (a non-negative
//! literal, such a variable, or the sum of two such).

use crate::codegen::walk::{assignment_counts, visit, Node};
use crate::ir::{BinOp, Expr, ExprKind, Place, Stmt, VarId};
use std::collections::HashSet;

pub(super) fn nonneg_vars(body: &[Stmt]) -> HashSet<VarId> {
    let counts = assignment_counts(body);
    let once = |v: &VarId| counts.get(v) == Some(&1);
    let mut set = HashSet::new();
    let mut sources: Vec<(VarId, &Expr)> = Vec::new();
    visit(body, &mut |n| match n {
        Node::Stmt(Stmt::For { vars, ranges, .. }) => {
            for (v, r) in vars.iter().zip(ranges) {
                let counting_up = matches!(r.start.kind, ExprKind::Int(s) if s >= 0)
                    && matches!(r.step.kind, ExprKind::Int(s) if s > 0);
                if let Place::Var(id) = v {
                    if counting_up && once(id) {
                        set.insert(*id);
                    }
                }
            }
        }
        Node::Stmt(Stmt::Assign {
            place: Place::Var(id),
            value,
        }) if once(id) => sources.push((*id, value)),
        _ => {}
    });
    loop {
        let before = set.len();
        for (id, e) in &sources {
            if is_nonneg(e, &set) {
                set.insert(*id);
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// Is this integer expression never negative, given the non-negative variables? (Sums of
/// loop counters and small literals cannot reach i64's wrap: a counter is below its stop.)
pub(super) fn is_nonneg(e: &Expr, vars: &HashSet<VarId>) -> bool {
    match &e.kind {
        ExprKind::Int(k) => *k >= 0,
        ExprKind::Var(v) => vars.contains(v),
        ExprKind::Binary(BinOp::Add, a, b, _) => {
            let small = |x: &Expr| matches!(x.kind, ExprKind::Int(k) if (0..1 << 32).contains(&k));
            (small(a) && is_nonneg(b, vars)) || (small(b) && is_nonneg(a, vars))
        }
        _ => false,
    }
}
