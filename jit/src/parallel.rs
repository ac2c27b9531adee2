//! The compile-time rules of parallel loops (SPEC.md §7), checked on a loop's body before it
//! is lowered: which names are private to an iteration, which are reductions, and the
//! violations that would be races (each an error pointing at the line, with the fix).

use crate::diag::Diagnostic;
use crate::ir::RedOp;
use crate::syntax::ast::{self, BinOp, Expr, ExprKind, Span, Stmt, StmtKind};
use kiln_runtime::ErrorKind;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default)]
pub struct ParPlan {
    /// Names private to an iteration (loop targets included).
    pub private: Vec<String>,
    /// Reduction variables and their combine operators.
    pub reductions: Vec<(String, RedOp)>,
}

/// Analyse the body of a parallel loop whose targets are `targets`. `defined_outside` tells
/// whether a name exists before the loop (a local or a global).
pub fn analyze(
    body: &[Stmt],
    targets: &[String],
    defined_outside: &dyn Fn(&str) -> bool,
) -> Result<ParPlan, Diagnostic> {
    check_exits(body, false)?;
    let mut assigns: HashMap<String, Vec<(Span, Option<RedOp>)>> = HashMap::new();
    collect_assigns(body, &mut assigns);
    let mut plan = ParPlan::default();
    let mut names: Vec<&String> = assigns.keys().collect();
    names.sort();
    for name in names {
        let sites = &assigns[name];
        if targets.contains(name) {
            continue;
        }
        let ops: HashSet<Option<RedOp>> = sites.iter().map(|(_, op)| *op).collect();
        let single_op = if ops.len() == 1 {
            *ops.iter().next().unwrap()
        } else {
            None
        };
        if let Some(op) = single_op {
            if defined_outside(name) {
                if reads_outside_reductions(body, name) == 0 {
                    plan.reductions.push((name.clone(), op));
                    continue;
                }
                return Err(Diagnostic::new(
                    ErrorKind::SyntaxError,
                    sites[0].0,
                    format!(
                        "`{name}` is a reduction in this parallel loop but the body also reads it; each worker only sees its own partial value"
                    ),
                )
                .with_hint(format!(
                    "read `{name}` after the loop, or run the loop serially with @serial"
                )));
            }
        }
        if !defined_outside(name) || assigned_before_read_from(body, name, false).0 {
            plan.private.push(name.clone());
            continue;
        }
        let span = sites[0].0;
        return Err(Diagnostic::new(
            ErrorKind::SyntaxError,
            span,
            format!(
                "`{name}` is assigned in every iteration of a parallel loop; only reductions like `{name} += ...` are allowed here"
            ),
        )
        .with_hint(format!(
            "make `{name}` a reduction (`{name} += e`, `{name} = max({name}, e)`, ...), assign it before reading it in the body to make it private, or run the loop serially with @serial"
        )));
    }
    plan.private.extend(targets.iter().cloned());
    // Writes to arrays must depend on the iteration, or two iterations write one element.
    let mut dependent: HashSet<String> = targets.iter().cloned().collect();
    loop {
        let before = dependent.len();
        grow_dependent(body, &mut dependent);
        if dependent.len() == before {
            break;
        }
    }
    check_array_writes(body, &dependent, &plan)?;
    Ok(plan)
}

fn check_exits(body: &[Stmt], nested: bool) -> Result<(), Diagnostic> {
    for s in body {
        match &s.kind {
            StmtKind::Return(_) => {
                return Err(Diagnostic::new(
                    ErrorKind::SyntaxError,
                    s.span,
                    "`return` inside a parallel loop's body: iterations run independently",
                )
                .with_hint("record the result in an array or a reduction, or run the loop serially with @serial"))
            }
            StmtKind::Break if !nested => {
                return Err(Diagnostic::new(
                    ErrorKind::SyntaxError,
                    s.span,
                    "`break` cannot leave a parallel loop: its iterations run independently",
                )
                .with_hint("use `continue` to skip an iteration, or run the loop serially with @serial"))
            }
            StmtKind::If { body, orelse, .. } => {
                check_exits(body, nested)?;
                check_exits(orelse, nested)?;
            }
            StmtKind::For { body, .. } | StmtKind::While { body, .. } => check_exits(body, true)?,
            _ => {}
        }
    }
    Ok(())
}

/// The reduction operator of statement `s` for `name`, if it is one of SPEC §7's forms.
fn reduction_form(s: &Stmt, name: &str) -> Option<RedOp> {
    match &s.kind {
        StmtKind::AugAssign { target, op, value }
            if is_name(target, name) && !mentions(value, name) =>
        {
            match op {
                BinOp::Add | BinOp::Sub => Some(RedOp::Add),
                BinOp::Mul => Some(RedOp::Mul),
                BinOp::BitOr => Some(RedOp::BitOr),
                BinOp::BitAnd => Some(RedOp::BitAnd),
                _ => None,
            }
        }
        StmtKind::Assign { targets, value } if targets.len() == 1 && is_name(&targets[0], name) => {
            match &value.kind {
                ExprKind::Binary { op, left, right } => {
                    let left_is = is_name(left, name) && !mentions(right, name);
                    let right_is = is_name(right, name) && !mentions(left, name);
                    match op {
                        BinOp::Add if left_is || right_is => Some(RedOp::Add),
                        BinOp::Sub if left_is => Some(RedOp::Add),
                        BinOp::Mul if left_is || right_is => Some(RedOp::Mul),
                        _ => None,
                    }
                }
                ExprKind::Call {
                    func,
                    args,
                    keywords,
                } if keywords.is_empty() && args.len() == 2 => {
                    let f = match &func.kind {
                        ExprKind::Name(n) => n.as_str(),
                        ExprKind::Attribute { attr, .. } => attr.as_str(),
                        _ => return None,
                    };
                    let op = match f {
                        "min" | "minimum" => RedOp::Min,
                        "max" | "maximum" => RedOp::Max,
                        _ => return None,
                    };
                    let ok = (is_name(&args[0], name) && !mentions(&args[1], name))
                        || (is_name(&args[1], name) && !mentions(&args[0], name));
                    ok.then_some(op)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn collect_assigns(body: &[Stmt], out: &mut HashMap<String, Vec<(Span, Option<RedOp>)>>) {
    for s in body {
        let mut names = Vec::new();
        match &s.kind {
            StmtKind::Assign { targets, .. } => {
                targets.iter().for_each(|t| target_names(t, &mut names))
            }
            StmtKind::AugAssign { target, .. } | StmtKind::AnnAssign { target, .. } => {
                target_names(target, &mut names)
            }
            StmtKind::For { target, body, .. } => {
                target_names(target, &mut names);
                collect_assigns(body, out);
            }
            StmtKind::If { body, orelse, .. } => {
                collect_assigns(body, out);
                collect_assigns(orelse, out);
            }
            StmtKind::While { body, .. } => collect_assigns(body, out),
            _ => {}
        }
        for n in names {
            let op = match &s.kind {
                StmtKind::For { .. } => None,
                _ => reduction_form(s, &n),
            };
            out.entry(n).or_default().push((s.span, op));
        }
    }
}

fn target_names(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(n) => out.push(n.clone()),
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            items.iter().for_each(|i| target_names(i, out))
        }
        _ => {}
    }
}

fn is_name(e: &Expr, name: &str) -> bool {
    matches!(&e.kind, ExprKind::Name(n) if n == name)
}

/// Does the expression read `name`?
pub fn mentions(e: &Expr, name: &str) -> bool {
    let mut found = false;
    visit_expr(e, &mut |x| {
        if is_name(x, name) {
            found = true;
        }
    });
    found
}

fn visit_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Attribute { value, .. } => visit_expr(value, f),
        ExprKind::Subscript { value, index } => {
            visit_expr(value, f);
            index.iter().for_each(|i| visit_expr(i, f));
        }
        ExprKind::Slice { lower, upper, step } => {
            for x in [lower, upper, step].into_iter().flatten() {
                visit_expr(x, f);
            }
        }
        ExprKind::Call {
            func,
            args,
            keywords,
        } => {
            visit_expr(func, f);
            args.iter().for_each(|a| visit_expr(a, f));
            keywords.iter().for_each(|k| visit_expr(&k.value, f));
        }
        ExprKind::Unary { operand, .. } => visit_expr(operand, f),
        ExprKind::Binary { left, right, .. } => {
            visit_expr(left, f);
            visit_expr(right, f);
        }
        ExprKind::BoolOp { values, .. } => values.iter().for_each(|v| visit_expr(v, f)),
        ExprKind::Compare { left, ops } => {
            visit_expr(left, f);
            ops.iter().for_each(|(_, r)| visit_expr(r, f));
        }
        ExprKind::IfExp { test, body, orelse } => {
            visit_expr(test, f);
            visit_expr(body, f);
            visit_expr(orelse, f);
        }
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            items.iter().for_each(|i| visit_expr(i, f))
        }
        ExprKind::ListComp {
            elt, iter, cond, ..
        } => {
            visit_expr(iter, f);
            visit_expr(elt, f);
            if let Some(c) = cond {
                visit_expr(c, f);
            }
        }
        ExprKind::FString(parts) => {
            for p in parts {
                if let ast::FStringPart::Expr { expr, .. } = p {
                    visit_expr(expr, f);
                }
            }
        }
        _ => {}
    }
}

/// Expressions a statement reads (not counting plain assignment targets).
fn stmt_reads(s: &Stmt) -> Vec<&Expr> {
    match &s.kind {
        StmtKind::Expr(e) => vec![e],
        StmtKind::Assign { targets, value } => {
            let mut v = vec![value];
            v.extend(
                targets
                    .iter()
                    .filter(|t| !matches!(t.kind, ExprKind::Name(_) | ExprKind::Tuple(_))),
            );
            v
        }
        StmtKind::AugAssign { target, value, .. } => vec![target, value],
        StmtKind::AnnAssign { value, .. } => value.iter().collect(),
        StmtKind::If { test, .. } | StmtKind::While { test, .. } => vec![test],
        StmtKind::For { iter, .. } => vec![iter],
        StmtKind::Return(Some(e)) => vec![e],
        StmtKind::Assert { test, msg } => std::iter::once(test).chain(msg).collect(),
        _ => vec![],
    }
}

/// How many reads of `name` are not part of its own reduction updates.
fn reads_outside_reductions(body: &[Stmt], name: &str) -> usize {
    let mut n = 0;
    for s in body {
        if reduction_form(s, name).is_some() {
            continue;
        }
        n += stmt_reads(s).iter().filter(|e| mentions(e, name)).count();
        match &s.kind {
            StmtKind::If { body, orelse, .. } => {
                n += reads_outside_reductions(body, name) + reads_outside_reductions(orelse, name)
            }
            StmtKind::For { body, .. } | StmtKind::While { body, .. } => {
                n += reads_outside_reductions(body, name)
            }
            _ => {}
        }
    }
    n
}

/// Is `name` definitely assigned before any read of it in `body`? (Functions defined in the
/// body are not looked into.)
pub fn assigned_before_read(body: &[Stmt], name: &str) -> bool {
    assigned_before_read_from(body, name, false).0
}

/// Walks `body` in order: (is `name` definitely assigned before any read, is it definitely
/// assigned at the end).
fn assigned_before_read_from(body: &[Stmt], name: &str, mut assigned: bool) -> (bool, bool) {
    for s in body {
        if !assigned_before_read_step(s, name, &mut assigned) {
            return (false, assigned);
        }
    }
    (true, assigned)
}

/// One statement of [`assigned_before_read_from`]'s walk: false when it may read `name`
/// before it is assigned; updates whether `name` is definitely assigned after it.
fn assigned_before_read_step(s: &Stmt, name: &str, assigned: &mut bool) -> bool {
    let reads = stmt_reads(s).iter().any(|e| mentions(e, name));
    if reads && !*assigned {
        return false;
    }
    match &s.kind {
        StmtKind::Assign { targets, .. } => {
            let mut names = Vec::new();
            targets.iter().for_each(|t| target_names(t, &mut names));
            *assigned |= names.iter().any(|n| n == name);
        }
        StmtKind::AnnAssign {
            target,
            value: Some(_),
            ..
        } => *assigned |= is_name(target, name),
        StmtKind::If { body, orelse, .. } => {
            let (ok1, a1) = assigned_before_read_from(body, name, *assigned);
            let (ok2, a2) = assigned_before_read_from(orelse, name, *assigned);
            if !(ok1 && ok2) {
                return false;
            }
            *assigned = a1 && a2;
        }
        StmtKind::For { target, body, .. } => {
            let mut names = Vec::new();
            target_names(target, &mut names);
            let inner = *assigned || names.iter().any(|n| n == name);
            if !assigned_before_read_from(body, name, inner).0 {
                return false;
            }
        }
        StmtKind::While { body, .. } if !assigned_before_read_from(body, name, *assigned).0 => {
            return false;
        }
        _ => {}
    }
    true
}

/// For each name, the top-level statements of a block that mention it anywhere (read or
/// assigned, at any depth). A statement that does not mention a name cannot change
/// [`assigned_before_read`]'s answer for it, so asking for every global a cell assigns walks
/// only the statements that name each one: one walk of the cell in all, not one per global.
pub struct NameUses {
    stmts: HashMap<String, Vec<usize>>,
}

impl NameUses {
    pub fn new(body: &[Stmt]) -> NameUses {
        fn names_in(body: &[Stmt], out: &mut HashSet<String>) {
            for s in body {
                let mut exprs: Vec<&Expr> = stmt_reads(s);
                match &s.kind {
                    StmtKind::Assign { targets, .. } => exprs.extend(targets),
                    StmtKind::AugAssign { target, .. }
                    | StmtKind::AnnAssign { target, .. }
                    | StmtKind::For { target, .. } => exprs.push(target),
                    _ => {}
                }
                for e in exprs {
                    visit_expr(e, &mut |x| {
                        if let ExprKind::Name(n) = &x.kind {
                            if !out.contains(n) {
                                out.insert(n.clone());
                            }
                        }
                    });
                }
                match &s.kind {
                    StmtKind::If { body, orelse, .. } => {
                        names_in(body, out);
                        names_in(orelse, out);
                    }
                    StmtKind::While { body, .. } | StmtKind::For { body, .. } => {
                        names_in(body, out)
                    }
                    _ => {}
                }
            }
        }
        let mut stmts: HashMap<String, Vec<usize>> = HashMap::new();
        let mut names = HashSet::new();
        for (k, s) in body.iter().enumerate() {
            names.clear();
            names_in(std::slice::from_ref(s), &mut names);
            for n in names.drain() {
                stmts.entry(n).or_default().push(k);
            }
        }
        NameUses { stmts }
    }

    /// [`assigned_before_read`] of `body`, the block this index was made from.
    pub fn assigned_before_read(&self, body: &[Stmt], name: &str) -> bool {
        let mut assigned = false;
        self.stmts.get(name).is_none_or(|ks| {
            ks.iter()
                .all(|&k| assigned_before_read_step(&body[k], name, &mut assigned))
        })
    }
}

fn grow_dependent(body: &[Stmt], dep: &mut HashSet<String>) {
    for s in body {
        match &s.kind {
            StmtKind::Assign { targets, value } if dep.iter().any(|d| mentions(value, d)) => {
                let mut names = Vec::new();
                targets.iter().for_each(|t| target_names(t, &mut names));
                dep.extend(names);
            }
            StmtKind::AugAssign { target, value, .. } if dep.iter().any(|d| mentions(value, d)) => {
                let mut names = Vec::new();
                target_names(target, &mut names);
                dep.extend(names);
            }
            StmtKind::For { target, iter, body } => {
                if dep.iter().any(|d| mentions(iter, d)) {
                    let mut names = Vec::new();
                    target_names(target, &mut names);
                    dep.extend(names);
                }
                grow_dependent(body, dep);
            }
            StmtKind::If { body, orelse, .. } => {
                grow_dependent(body, dep);
                grow_dependent(orelse, dep);
            }
            StmtKind::While { body, .. } => grow_dependent(body, dep),
            _ => {}
        }
    }
}

fn check_array_writes(
    body: &[Stmt],
    dep: &HashSet<String>,
    plan: &ParPlan,
) -> Result<(), Diagnostic> {
    for s in body {
        let targets: Vec<&Expr> = match &s.kind {
            StmtKind::Assign { targets, .. } => targets.iter().collect(),
            StmtKind::AugAssign { target, .. } => vec![target],
            StmtKind::If { body, orelse, .. } => {
                check_array_writes(body, dep, plan)?;
                check_array_writes(orelse, dep, plan)?;
                vec![]
            }
            StmtKind::For { body, .. } | StmtKind::While { body, .. } => {
                check_array_writes(body, dep, plan)?;
                vec![]
            }
            _ => vec![],
        };
        for t in targets {
            if let ExprKind::Subscript { value, index } = &t.kind {
                // An array created inside the body is private: any index is fine.
                let private_array =
                    matches!(&value.kind, ExprKind::Name(n) if plan.private.contains(n));
                let varies = index.iter().any(|i| dep.iter().any(|d| mentions(i, d)));
                if !varies && !private_array {
                    return Err(Diagnostic::new(
                        ErrorKind::SyntaxError,
                        t.span,
                        "every iteration of this parallel loop writes the same element: the index does not depend on the loop index",
                    )
                    .with_hint("index the array with the loop variable (a[i] = ...), use a reduction for a single value, or run the loop serially with @serial"));
                }
            }
        }
    }
    Ok(())
}

/// The rules a `@gpu` body has beyond a parallel one's that the syntax shows: no `print`
/// (when `print` is the builtin) and no strings. Checked on the syntax so that the error
/// points at the statement, not at the loop. (Allocation and recursion are found where the
/// call is typed; functions the body calls are checked when their kernel code is made.)
pub fn check_device_body(body: &[Stmt], print_is_builtin: bool) -> Result<(), Diagnostic> {
    for s in body {
        if let StmtKind::Assert { .. } = &s.kind {
            return Err(Diagnostic::new(
                ErrorKind::SyntaxError,
                s.span,
                "assert cannot run in a @gpu body: a kernel cannot raise an error",
            )
            .with_hint("check the values after the loop, or run the loop with @par"));
        }
        if let StmtKind::Expr(e) = &s.kind {
            if let ExprKind::Call { func, .. } = &e.kind {
                if print_is_builtin && is_name(func, "print") {
                    return Err(Diagnostic::new(
                        ErrorKind::SyntaxError,
                        s.span,
                        "print cannot run in a @gpu body: the kernel runs on the device, which has no output",
                    )
                    .with_hint(
                        "store the values in an array and print them after the loop, or run the loop with @par",
                    ));
                }
            }
        }
        for e in stmt_reads(s) {
            if let Some(span) = first_string(e) {
                return Err(Diagnostic::new(
                    ErrorKind::SyntaxError,
                    span,
                    "strings cannot be used in a @gpu body: kernels compute with numbers and arrays",
                )
                .with_hint("build text after the loop, on the host"));
            }
        }
        match &s.kind {
            StmtKind::If { body, orelse, .. } => {
                check_device_body(body, print_is_builtin)?;
                check_device_body(orelse, print_is_builtin)?;
            }
            StmtKind::While { body, .. } | StmtKind::For { body, .. } => {
                check_device_body(body, print_is_builtin)?
            }
            _ => {}
        }
    }
    Ok(())
}

/// The first string or f-string in `e` that is a value, not a keyword argument's literal
/// (`dtype='float32'` is read at compile time).
fn first_string(e: &Expr) -> Option<Span> {
    let mut literal_keywords = HashSet::new();
    visit_expr(e, &mut |x| {
        if let ExprKind::Call { keywords, .. } = &x.kind {
            for k in keywords {
                if matches!(k.value.kind, ExprKind::Str(_)) {
                    literal_keywords.insert((k.value.span.lo, k.value.span.hi));
                }
            }
        }
    });
    let mut found = None;
    visit_expr(e, &mut |x| {
        if found.is_none()
            && matches!(x.kind, ExprKind::Str(_) | ExprKind::FString(_))
            && !literal_keywords.contains(&(x.span.lo, x.span.hi))
        {
            found = Some(x.span);
        }
    });
    found
}
