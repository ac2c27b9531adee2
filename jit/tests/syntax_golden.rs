//! Golden tests for the lexer and parser: every `tests/syntax/<case>.kiln` is tokenized and
//! parsed, and the dumps are compared with `<case>.tokens`, `<case>.ast` and (for cases with
//! an error) `<case>.err`, the error rendered as the user sees it. Run with `KILN_BLESS=1` to
//! rewrite the expected files after checking the new output by eye.
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use kiln_jit::report::render_diagnostic;
use kiln_jit::syntax::ast::{Expr, ExprKind, FStringPart, Module, Stmt, StmtKind};
use kiln_jit::syntax::{dump_ast, dump_tokens, parse, tokenize};

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/syntax")
}

/// Compare (or bless) one expected file; `None` means the file must not exist.
fn check(path: &Path, actual: Option<String>, bless: bool, failures: &mut Vec<String>) {
    let expected = fs::read_to_string(path).ok();
    if expected == actual {
        return;
    }
    if bless {
        match &actual {
            Some(a) => fs::write(path, a).expect("write expected file"),
            None => fs::remove_file(path).expect("remove stale expected file"),
        }
        return;
    }
    let name = path.display();
    let msg = match (expected, actual) {
        (None, Some(a)) => format!("{name}: missing expected file; actual output:\n{a}"),
        (Some(_), None) => format!("{name}: expected file exists but no such output was produced"),
        (Some(e), Some(a)) => {
            let (el, al): (Vec<&str>, Vec<&str>) = (e.lines().collect(), a.lines().collect());
            let i = el.iter().zip(&al).take_while(|(x, y)| x == y).count();
            format!(
                "{name}: differs at line {}\n  expected: {}\n  actual:   {}\n--- actual output ---\n{a}",
                i + 1,
                el.get(i).unwrap_or(&"<end of file>"),
                al.get(i).unwrap_or(&"<end of file>"),
            )
        }
        (None, None) => unreachable!(),
    };
    failures.push(msg);
}

/// Structural facts a dump cannot show at a glance: ids are unique, and every name's span
/// covers exactly its text (which catches f-string fields lexed at a wrong offset).
fn check_invariants(case: &str, src: &str, m: &Module, failures: &mut Vec<String>) {
    fn expr(e: &Expr, src: &str, ids: &mut HashSet<u32>, bad: &mut Vec<String>) {
        if !ids.insert(e.id) {
            bad.push(format!("duplicate expr id {}", e.id));
        }
        let text = src
            .get(e.span.lo as usize..e.span.hi as usize)
            .unwrap_or("<bad span>");
        if let ExprKind::Name(n) = &e.kind {
            if text != n {
                bad.push(format!("Name {n} has span text {text:?}"));
            }
        }
        if let ExprKind::Attribute {
            attr, attr_span, ..
        } = &e.kind
        {
            let t = &src[attr_span.lo as usize..attr_span.hi as usize];
            if t != attr {
                bad.push(format!("attr {attr} has span text {t:?}"));
            }
        }
        let mut sub = |x: &Expr| expr(x, src, ids, bad);
        match &e.kind {
            ExprKind::Attribute { value, .. } => sub(value),
            ExprKind::Subscript { value, index } => {
                sub(value);
                index.iter().for_each(sub);
            }
            ExprKind::Slice { lower, upper, step } => {
                [lower, upper, step]
                    .into_iter()
                    .flatten()
                    .for_each(|x| sub(x));
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => {
                sub(func);
                args.iter().for_each(&mut sub);
                keywords.iter().for_each(|k| sub(&k.value));
            }
            ExprKind::Unary { operand, .. } => sub(operand),
            ExprKind::Binary { left, right, .. } => {
                sub(left);
                sub(right);
            }
            ExprKind::BoolOp { values, .. } => values.iter().for_each(sub),
            ExprKind::Compare { left, ops } => {
                sub(left);
                ops.iter().for_each(|(_, r)| sub(r));
            }
            ExprKind::IfExp { test, body, orelse } => {
                sub(test);
                sub(body);
                sub(orelse);
            }
            ExprKind::Tuple(xs) | ExprKind::List(xs) => xs.iter().for_each(sub),
            ExprKind::FString(parts) => {
                for p in parts {
                    if let FStringPart::Expr { expr, .. } = p {
                        sub(expr);
                    }
                }
            }
            _ => {}
        }
    }
    fn stmt(s: &Stmt, src: &str, ids: &mut HashSet<u32>, bad: &mut Vec<String>) {
        let mut e = |x: &Expr| expr(x, src, ids, bad);
        let mut body: Vec<&Stmt> = Vec::new();
        match &s.kind {
            StmtKind::Expr(x) => e(x),
            StmtKind::Assign { targets, value } => {
                targets.iter().for_each(&mut e);
                e(value);
            }
            StmtKind::AugAssign { target, value, .. } => {
                e(target);
                e(value);
            }
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
            } => {
                e(target);
                e(annotation);
                value.iter().for_each(e);
            }
            StmtKind::If {
                test,
                body: b,
                orelse,
            } => {
                e(test);
                body.extend(b.iter().chain(orelse));
            }
            StmtKind::While { test, body: b } => {
                e(test);
                body.extend(b);
            }
            StmtKind::For {
                target,
                iter,
                body: b,
            } => {
                e(target);
                e(iter);
                body.extend(b);
            }
            StmtKind::Return(v) => v.iter().for_each(e),
            StmtKind::FunctionDef(f) => {
                f.decorators.iter().for_each(&mut e);
                for p in &f.params {
                    p.annotation.iter().for_each(&mut e);
                    p.default.iter().for_each(&mut e);
                }
                f.returns.iter().for_each(e);
                body.extend(&f.body);
            }
            _ => {}
        }
        for b in body {
            stmt(b, src, ids, bad);
        }
    }
    let mut ids = HashSet::new();
    let mut bad = Vec::new();
    for s in &m.body {
        stmt(s, src, &mut ids, &mut bad);
    }
    for b in bad {
        failures.push(format!("{case}: {b}"));
    }
}

#[test]
fn syntax_golden() {
    let bless = std::env::var("KILN_BLESS").is_ok_and(|v| v == "1");
    let mut cases: Vec<PathBuf> = fs::read_dir(case_dir())
        .expect("tests/syntax exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "kiln"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "expected the full set of syntax cases");
    let mut failures = Vec::new();
    for case in &cases {
        let src = fs::read_to_string(case).expect("read case");
        let tokens = tokenize(&src).ok().map(|t| dump_tokens(&t));
        let (module, diags) = parse(&src);
        let ast = diags.is_empty().then(|| dump_ast(&module));
        let err = (!diags.is_empty()).then(|| {
            let mut s = String::new();
            for d in &diags {
                for l in render_diagnostic(d, &src, 1) {
                    s.push_str(&l);
                    s.push('\n');
                }
            }
            s
        });
        check(&case.with_extension("tokens"), tokens, bless, &mut failures);
        check(&case.with_extension("ast"), ast, bless, &mut failures);
        check(&case.with_extension("err"), err, bless, &mut failures);
        check_invariants(&case.display().to_string(), &src, &module, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es) (rerun with KILN_BLESS=1 after checking):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
