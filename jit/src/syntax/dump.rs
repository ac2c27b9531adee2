//! Deterministic text dumps of tokens and ASTs, for golden tests and `kiln run --emit`.
//!
//! One node per line, children indented by two spaces, each line ending with the node's byte
//! span `[lo..hi]`. Expression ids are left out: they are an implementation detail that would
//! make every golden file churn when the parser's allocation order changes.
use std::fmt::Write;

use crate::syntax::ast::*;
use crate::syntax::lexer::{Token, TokenKind};

pub fn dump_tokens(toks: &[Token]) -> String {
    let mut out = String::new();
    for t in toks {
        let k = match &t.kind {
            TokenKind::Name(n) => format!("Name {n}"),
            TokenKind::Int(v) => format!("Int {v}"),
            TokenKind::Float(v) => format!("Float {v:?}"),
            TokenKind::Imag(v) => format!("Imag {v:?}"),
            TokenKind::Str(s) => format!("Str {s:?}"),
            TokenKind::FString(s) => format!("FString {s:?}"),
            TokenKind::Keyword(k) => format!("Keyword {k}"),
            TokenKind::Op(o) => format!("Op {o}"),
            TokenKind::Newline => "Newline".into(),
            TokenKind::Indent => "Indent".into(),
            TokenKind::Dedent => "Dedent".into(),
            TokenKind::Eof => "Eof".into(),
        };
        let _ = writeln!(out, "{k} [{}..{}]", t.span.lo, t.span.hi);
    }
    out
}

pub fn dump_ast(m: &Module) -> String {
    let mut d = Dumper { out: String::new() };
    for s in &m.body {
        d.stmt(s, 0);
    }
    d.out
}

struct Dumper {
    out: String,
}

fn sp(s: Span) -> String {
    format!("[{}..{}]", s.lo, s.hi)
}

impl Dumper {
    fn line(&mut self, depth: usize, text: &str, span: Span) {
        let _ = writeln!(self.out, "{}{} {}", "  ".repeat(depth), text, sp(span));
    }

    /// A labelled child group (`body:`, `orelse:`) without a span of its own.
    fn label(&mut self, depth: usize, text: &str) {
        let _ = writeln!(self.out, "{}{}", "  ".repeat(depth), text);
    }

    fn stmts(&mut self, label: &str, body: &[Stmt], depth: usize) {
        self.label(depth, label);
        for s in body {
            self.stmt(s, depth + 1);
        }
    }

    fn stmt(&mut self, s: &Stmt, d: usize) {
        if let Some((t, tsp)) = s.target {
            let name = match t {
                Target::Serial => "serial",
                Target::Par => "par",
                Target::Gpu => "gpu",
            };
            self.line(d, &format!("@{name}"), tsp);
        }
        match &s.kind {
            StmtKind::Expr(e) => {
                self.line(d, "Expr", s.span);
                self.expr(e, d + 1);
            }
            StmtKind::Assign { targets, value } => {
                self.line(d, "Assign", s.span);
                for t in targets {
                    self.expr(t, d + 1);
                }
                self.label(d + 1, "=");
                self.expr(value, d + 2);
            }
            StmtKind::AugAssign { target, op, value } => {
                self.line(d, &format!("AugAssign {}=", op.symbol()), s.span);
                self.expr(target, d + 1);
                self.expr(value, d + 1);
            }
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
            } => {
                self.line(d, "AnnAssign", s.span);
                self.expr(target, d + 1);
                self.label(d + 1, "annotation:");
                self.expr(annotation, d + 2);
                if let Some(v) = value {
                    self.label(d + 1, "=");
                    self.expr(v, d + 2);
                }
            }
            StmtKind::If { test, body, orelse } => {
                self.line(d, "If", s.span);
                self.expr(test, d + 1);
                self.stmts("then:", body, d + 1);
                if !orelse.is_empty() {
                    self.stmts("else:", orelse, d + 1);
                }
            }
            StmtKind::While { test, body } => {
                self.line(d, "While", s.span);
                self.expr(test, d + 1);
                self.stmts("body:", body, d + 1);
            }
            StmtKind::For { target, iter, body } => {
                self.line(d, "For", s.span);
                self.expr(target, d + 1);
                self.label(d + 1, "in:");
                self.expr(iter, d + 2);
                self.stmts("body:", body, d + 1);
            }
            StmtKind::Assert { test, msg } => {
                self.line(d, "Assert", s.span);
                self.expr(test, d + 1);
                if let Some(m) = msg {
                    self.label(d + 1, "msg:");
                    self.expr(m, d + 2);
                }
            }
            StmtKind::Break => self.line(d, "Break", s.span),
            StmtKind::Continue => self.line(d, "Continue", s.span),
            StmtKind::Pass => self.line(d, "Pass", s.span),
            StmtKind::Return(v) => {
                self.line(d, "Return", s.span);
                if let Some(v) = v {
                    self.expr(v, d + 1);
                }
            }
            StmtKind::FunctionDef(f) => {
                self.line(
                    d,
                    &format!("FunctionDef {} name{}", f.name, sp(f.name_span)),
                    f.span,
                );
                for dec in &f.decorators {
                    self.label(d + 1, "decorator:");
                    self.expr(dec, d + 2);
                }
                for p in &f.params {
                    self.line(d + 1, &format!("Param {}", p.name), p.span);
                    if let Some(a) = &p.annotation {
                        self.label(d + 2, "annotation:");
                        self.expr(a, d + 3);
                    }
                    if let Some(v) = &p.default {
                        self.label(d + 2, "default:");
                        self.expr(v, d + 3);
                    }
                }
                if let Some(r) = &f.returns {
                    self.label(d + 1, "returns:");
                    self.expr(r, d + 2);
                }
                self.stmts("body:", &f.body, d + 1);
            }
            StmtKind::Global(names) => {
                let ns: Vec<String> = names
                    .iter()
                    .map(|(n, s)| format!("{n}{}", sp(*s)))
                    .collect();
                self.line(d, &format!("Global {}", ns.join(" ")), s.span);
            }
            StmtKind::Import { module, names } => {
                let text = if names.is_empty() {
                    format!("Import {module}")
                } else {
                    format!("Import {module} names=[{}]", names.join(", "))
                };
                self.line(d, &text, s.span);
            }
        }
    }

    fn opt(&mut self, label: &str, e: &Option<Box<Expr>>, d: usize) {
        match e {
            Some(e) => {
                self.label(d, label);
                self.expr(e, d + 1);
            }
            None => self.label(d, &format!("{label} -")),
        }
    }

    fn expr(&mut self, e: &Expr, d: usize) {
        let s = e.span;
        match &e.kind {
            ExprKind::Int(v) => self.line(d, &format!("Int {v}"), s),
            ExprKind::Float(v) => self.line(d, &format!("Float {v:?}"), s),
            ExprKind::Imag(v) => self.line(d, &format!("Imag {v:?}j"), s),
            ExprKind::Bool(v) => self.line(d, &format!("Bool {v}"), s),
            ExprKind::None => self.line(d, "None", s),
            ExprKind::Str(v) => self.line(d, &format!("Str {v:?}"), s),
            ExprKind::FString(parts) => {
                self.line(d, "FString", s);
                for p in parts {
                    match p {
                        FStringPart::Lit(t) => self.label(d + 1, &format!("Lit {t:?}")),
                        FStringPart::Expr {
                            expr,
                            conversion,
                            spec,
                        } => {
                            let mut t = "Field".to_string();
                            if let Some(c) = conversion {
                                let _ = write!(t, " !{c}");
                            }
                            if let Some(sp) = spec {
                                let _ = write!(t, " spec={sp:?}");
                            }
                            self.label(d + 1, &t);
                            self.expr(expr, d + 2);
                        }
                    }
                }
            }
            ExprKind::Name(n) => self.line(d, &format!("Name {n}"), s),
            ExprKind::Attribute {
                value,
                attr,
                attr_span,
            } => {
                self.line(d, &format!("Attribute .{attr}{}", sp(*attr_span)), s);
                self.expr(value, d + 1);
            }
            ExprKind::Subscript { value, index } => {
                self.line(d, "Subscript", s);
                self.expr(value, d + 1);
                self.label(d + 1, "index:");
                for i in index {
                    self.expr(i, d + 2);
                }
            }
            ExprKind::Slice { lower, upper, step } => {
                self.line(d, "Slice", s);
                self.opt("lower:", lower, d + 1);
                self.opt("upper:", upper, d + 1);
                self.opt("step:", step, d + 1);
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => {
                self.line(d, "Call", s);
                self.expr(func, d + 1);
                for a in args {
                    self.expr(a, d + 1);
                }
                for k in keywords {
                    self.line(d + 1, &format!("Keyword {}=", k.name), k.span);
                    self.expr(&k.value, d + 2);
                }
            }
            ExprKind::Unary { op, operand } => {
                let o = match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Pos => "+",
                    UnaryOp::Not => "not",
                    UnaryOp::Invert => "~",
                };
                self.line(d, &format!("Unary {o}"), s);
                self.expr(operand, d + 1);
            }
            ExprKind::Binary { op, left, right } => {
                self.line(d, &format!("Binary {}", op.symbol()), s);
                self.expr(left, d + 1);
                self.expr(right, d + 1);
            }
            ExprKind::BoolOp { op, values } => {
                let o = match op {
                    BoolOp::And => "and",
                    BoolOp::Or => "or",
                };
                self.line(d, &format!("BoolOp {o}"), s);
                for v in values {
                    self.expr(v, d + 1);
                }
            }
            ExprKind::Compare { left, ops } => {
                self.line(d, "Compare", s);
                self.expr(left, d + 1);
                for (op, r) in ops {
                    self.label(d + 1, op.symbol());
                    self.expr(r, d + 2);
                }
            }
            ExprKind::IfExp { test, body, orelse } => {
                self.line(d, "IfExp", s);
                self.expr(body, d + 1);
                self.label(d + 1, "if:");
                self.expr(test, d + 2);
                self.label(d + 1, "else:");
                self.expr(orelse, d + 2);
            }
            ExprKind::Tuple(items) => {
                self.line(d, "Tuple", s);
                for i in items {
                    self.expr(i, d + 1);
                }
            }
            ExprKind::List(items) => {
                self.line(d, "List", s);
                for i in items {
                    self.expr(i, d + 1);
                }
            }
            ExprKind::ListComp {
                elt,
                target,
                iter,
                cond,
            } => {
                self.line(d, "ListComp", s);
                self.expr(elt, d + 1);
                self.label(d + 1, "for:");
                self.expr(target, d + 2);
                self.label(d + 1, "in:");
                self.expr(iter, d + 2);
                self.opt("if:", cond, d + 1);
            }
        }
    }
}
