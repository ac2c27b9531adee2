//! A long cell's top level compiled as several functions, called one after the other.
//!
//! Cranelift's register allocator takes time that grows with the square of the values live
//! at once, and in one straight-line function they pile up: each global's address constant
//! is shared by every statement that names it, a value stored into a global is forwarded to
//! every later read of it, and each small function inlined into the cell adds its own. A
//! cell of 10 000 lines took seconds in the allocator alone. Cut into pieces of bounded size
//! (a call clobbers memory, so nothing is forwarded across a piece), the cell compiles in
//! time linear in its length, and a cell of ordinary size is left whole. Each piece declares
//! only the cell's variables it uses (its own temporaries), so the pieces together declare
//! each variable once.

use super::walk::{visit, Node};
use crate::ir::{Expr, ExprKind, Func, Place, Program, Stmt};
use crate::types::Ty;
use std::collections::HashSet;

/// IR nodes (statements and expressions) per piece: a few hundred source lines. Large
/// enough that the calls between pieces cost nothing next to the code, small enough that
/// the allocator's superlinear part stays small.
pub(crate) const PIECE_NODES: usize = 4000;

/// A cell cut into pieces.
pub(crate) struct Split {
    /// The cell's program with the entry calling the pieces, which follow its own functions.
    pub program: Program,
    /// The index of the first piece.
    pub first: u32,
    /// Per piece, the variables of the cell it uses: each declares only those.
    piece_vars: Vec<HashSet<u32>>,
    /// The entry's (none: it only calls the pieces).
    entry_vars: HashSet<u32>,
}

impl Split {
    /// The variables function `k` declares, where that is not all of its `vars`.
    pub fn vars_of(&self, k: u32) -> Option<&HashSet<u32>> {
        if k == self.program.entry {
            return Some(&self.entry_vars);
        }
        self.piece_vars.get(k.checked_sub(self.first)? as usize)
    }
}

/// The program with its entry cut into pieces, or `None` when the cell is left whole: it is
/// short, or a variable is used by two pieces (a statement-local temporary never is;
/// anything else is kept in one function rather than guessed at).
pub(crate) fn split_cell(prog: &Program) -> Option<Split> {
    let entry = &prog.funcs[prog.entry as usize];
    // Cut between top-level statements, once a piece has PIECE_NODES nodes.
    let mut cuts = vec![0];
    let mut nodes = 0;
    for (k, s) in entry.body.iter().enumerate() {
        if nodes >= PIECE_NODES {
            cuts.push(k);
            nodes = 0;
        }
        visit(std::slice::from_ref(s), &mut |_| nodes += 1);
    }
    if cuts.len() < 2 {
        return None;
    }
    cuts.push(entry.body.len());
    let pieces: Vec<&[Stmt]> = cuts.windows(2).map(|w| &entry.body[w[0]..w[1]]).collect();
    let mut owner: Vec<Option<usize>> = vec![None; entry.vars.len()];
    let mut piece_vars = Vec::with_capacity(pieces.len());
    for (k, piece) in pieces.iter().enumerate() {
        let mut shared = false;
        let mut used = HashSet::new();
        let mut note = |v: u32| {
            used.insert(v);
            match &mut owner[v as usize] {
                Some(o) => shared |= *o != k,
                slot => *slot = Some(k),
            }
        };
        visit(piece, &mut |n| match n {
            Node::Expr(Expr {
                kind: ExprKind::Var(v) | ExprKind::Let(v, _, _),
                ..
            }) => note(*v),
            Node::Stmt(Stmt::Assign { place, .. }) => place_vars(place, &mut note),
            Node::Stmt(Stmt::For { vars, par, .. }) => {
                vars.iter().for_each(|p| place_vars(p, &mut note));
                for r in par.iter().flat_map(|p| &p.reductions) {
                    note(r.acc);
                    place_vars(&r.outer, &mut note);
                }
            }
            _ => {}
        });
        if shared {
            return None;
        }
        piece_vars.push(used);
    }
    let first = prog.funcs.len() as u32;
    let mut funcs = prog.funcs.clone();
    let calls = (0..pieces.len())
        .map(|k| {
            Stmt::Eval(Expr::new(
                ExprKind::Call {
                    func: first + k as u32,
                    args: Vec::new(),
                    site: entry.entry_site,
                },
                Ty::None,
            ))
        })
        .collect();
    funcs.extend(pieces.iter().map(|piece| Func {
        name: entry.name.clone(),
        display: entry.display.clone(),
        params: Vec::new(),
        ret: Ty::None,
        vars: entry.vars.clone(),
        body: piece.to_vec(),
        entry_site: entry.entry_site,
    }));
    funcs[prog.entry as usize].body = calls;
    Some(Split {
        program: Program {
            funcs,
            entry: prog.entry,
            globals: prog.globals.clone(),
            sites: prog.sites.clone(),
            display_types: prog.display_types.clone(),
        },
        first,
        piece_vars,
        entry_vars: HashSet::new(),
    })
}

fn place_vars(p: &Place, note: &mut dyn FnMut(u32)) {
    match p {
        Place::Var(v) => note(*v),
        Place::Tuple(items) => items.iter().for_each(|i| place_vars(i, note)),
        _ => {}
    }
}
