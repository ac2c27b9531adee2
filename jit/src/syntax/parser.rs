//! Recursive-descent parser for Kiln cells (SPEC.md §1, §4, §5, §7): tokens → AST.
//!
//! The grammar is Python's, restricted to what Kiln supports; constructs Python has but Kiln
//! does not (classes, `try`, comprehensions, ...) get a clear "not supported" error rather
//! than a bare "invalid syntax". Parsing stops at the first error: one precise diagnostic is
//! more useful than a cascade of follow-on ones.
use std::rc::Rc;

use crate::diag::{Diagnostic, ErrorKind};
use crate::syntax::ast::*;
use crate::syntax::lexer::{tokenize_expr, tokenize_inner, unescape, Token, TokenKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// More lines are needed; the indent to use for the next line.
    Incomplete(String),
    Invalid,
}

type PResult<T> = Result<T, Diagnostic>;

pub fn parse(src: &str) -> (Module, Vec<Diagnostic>) {
    let toks = match tokenize_inner(src) {
        Ok(t) => t,
        Err(e) => return (Module { body: Vec::new() }, vec![e.diag]),
    };
    let mut next_id = 0;
    let mut p = Parser {
        toks,
        pos: 0,
        src,
        next_id: &mut next_id,
        depth: 0,
    };
    let mut body = Vec::new();
    let mut diags = Vec::new();
    while !p.at(&TokenKind::Eof) {
        match p.statement() {
            Ok(mut s) => body.append(&mut s),
            Err(d) => {
                diags.push(d);
                break;
            }
        }
    }
    (Module { body }, diags)
}

/// Jupyter's `is_complete_request`, with IPython's rules: open brackets, a trailing `\`, a
/// line ending in a block opener's `:`, or an indented last line without a blank line after
/// it all ask for more input.
/// It parses the cell, so it runs on the compiler's thread (`crate::stack`) like a compile.
pub fn is_complete(src: &str) -> Completeness {
    crate::stack::on_compiler_stack(|| is_complete_here(src))
}

fn is_complete_here(src: &str) -> Completeness {
    if src.trim().is_empty() {
        return Completeness::Complete;
    }
    let lines: Vec<&str> = src.split('\n').collect();
    let last_code = lines
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .copied()
        .unwrap_or("");
    let cur_indent: String = last_code.chars().take_while(|c| *c == ' ').collect();
    let toks = match tokenize_inner(src) {
        Ok(t) => t,
        Err(e) if e.incomplete => return Completeness::Incomplete(cur_indent),
        Err(_) => return Completeness::Invalid,
    };
    let last = toks.iter().rev().find(|t| {
        !matches!(
            t.kind,
            TokenKind::Newline | TokenKind::Dedent | TokenKind::Eof
        )
    });
    if last.is_some_and(|t| t.kind == TokenKind::Op(":")) {
        return Completeness::Incomplete(format!("{cur_indent}    "));
    }
    let n = lines.len();
    let ends_blank = n >= 2 && lines[n - 1].trim().is_empty() && lines[n - 2].trim().is_empty();
    if !cur_indent.is_empty() && !ends_blank {
        return Completeness::Incomplete(cur_indent);
    }
    if parse(src).1.is_empty() {
        Completeness::Complete
    } else {
        Completeness::Invalid
    }
}

struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    src: &'a str,
    /// Shared with sub-parsers of f-string fields, so ids stay unique across the cell.
    next_id: &'a mut u32,
    /// How deep the tree being built is: nested expressions, unary operators, links of
    /// binary and postfix chains, `elif`s. Every later pass walks the tree recursively, so
    /// bounding it here bounds them all (see `MAX_DEPTH`).
    depth: usize,
}

/// The deepest tree a cell may build. CPython compiles a chain of 2 000 `+` or 1 000 unary
/// minus signs and refuses 3 000 (RecursionError); Kiln accepts what CPython does, and the
/// compiler's thread (`crate::stack`) has room for many times this depth.
pub const MAX_DEPTH: usize = 2_000;

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        ErrorKind::RecursionError,
        span,
        "maximum recursion depth exceeded during compilation",
    )
}

fn syntax(span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(ErrorKind::SyntaxError, span, msg)
}

const UNSUPPORTED_STMT: &[(&str, &str)] = &[
    ("class", "classes are not supported in Kiln"),
    ("try", "'try' statements are not supported in Kiln"),
    ("with", "'with' statements are not supported in Kiln"),
    ("raise", "'raise' is not supported in Kiln"),
    ("del", "'del' is not supported in Kiln"),
    (
        "lambda",
        "lambda expressions are not supported in Kiln (functions are not values)",
    ),
    ("yield", "generators ('yield') are not supported in Kiln"),
    ("async", "'async' is not supported in Kiln"),
    ("await", "'await' is not supported in Kiln"),
    (
        "nonlocal",
        "'nonlocal' is not supported in Kiln (there are no closures)",
    ),
    ("except", "'except' is not supported in Kiln"),
    ("finally", "'finally' is not supported in Kiln"),
];

fn describe(k: &TokenKind) -> String {
    match k {
        TokenKind::Name(n) => format!("name '{n}'"),
        TokenKind::Int(_) | TokenKind::Float(_) | TokenKind::Imag(_) => "number".into(),
        TokenKind::Str(_) | TokenKind::FString(_) => "string".into(),
        TokenKind::Keyword(k) => format!("'{k}'"),
        TokenKind::Op(o) => format!("'{o}'"),
        TokenKind::Newline => "end of line".into(),
        TokenKind::Indent => "indent".into(),
        TokenKind::Dedent => "dedent".into(),
        TokenKind::Eof => "end of input".into(),
    }
}

impl<'a> Parser<'a> {
    // ---- token helpers ----

    fn tok(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }
    fn kind(&self) -> &TokenKind {
        &self.tok().kind
    }
    fn peek_tok(&self, n: usize) -> &Token {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }
    fn peek_kind(&self, n: usize) -> &TokenKind {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].kind
    }
    fn span(&self) -> Span {
        self.tok().span
    }
    fn at(&self, k: &TokenKind) -> bool {
        self.kind() == k
    }
    fn at_op(&self, op: &str) -> bool {
        matches!(self.kind(), TokenKind::Op(o) if *o == op)
    }
    fn at_kw(&self, kw: &str) -> bool {
        matches!(self.kind(), TokenKind::Keyword(k) if *k == kw)
    }
    fn bump(&mut self) -> Token {
        let t = self.tok().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn eat_op(&mut self, op: &str) -> Option<Span> {
        if self.at_op(op) {
            Some(self.bump().span)
        } else {
            None
        }
    }
    fn eat_kw(&mut self, kw: &str) -> Option<Span> {
        if self.at_kw(kw) {
            Some(self.bump().span)
        } else {
            None
        }
    }
    /// The end of the previous token: statement spans stop there.
    fn prev_hi(&self) -> u32 {
        if self.pos == 0 {
            0
        } else {
            self.toks[self.pos - 1].span.hi
        }
    }
    fn expect_op(&mut self, op: &str) -> PResult<Span> {
        match self.eat_op(op) {
            Some(s) => Ok(s),
            None => Err(syntax(self.span(), format!("expected '{op}'"))),
        }
    }
    fn expect_colon(&mut self, what: &str) -> PResult<Span> {
        if self.at_op("=") {
            return Err(syntax(
                self.span(),
                "invalid syntax. Maybe you meant '==' instead of '='?",
            ));
        }
        self.eat_op(":").ok_or_else(|| {
            syntax(self.span(), "expected ':'")
                .with_hint(format!("the {what} must end its first line with ':'"))
        })
    }
    fn invalid(&self) -> Diagnostic {
        let t = self.tok();
        match &t.kind {
            TokenKind::Indent => {
                // Point at the first token of the over-indented line, not its whitespace.
                let at = self.peek_tok(1).span;
                Diagnostic::new(ErrorKind::IndentationError, at, "unexpected indent")
            }
            TokenKind::Keyword(k) => {
                if let Some((_, msg)) = UNSUPPORTED_STMT.iter().find(|(w, _)| w == k) {
                    syntax(t.span, *msg)
                } else {
                    syntax(t.span, "invalid syntax")
                }
            }
            TokenKind::Eof | TokenKind::Newline => {
                syntax(t.span, "invalid syntax: unexpected end of line")
            }
            _ => syntax(t.span, "invalid syntax"),
        }
    }
    fn name(&mut self) -> PResult<(String, Span)> {
        match self.kind().clone() {
            TokenKind::Name(n) => Ok((n, self.bump().span)),
            TokenKind::Keyword(k) => Err(syntax(
                self.span(),
                format!("invalid syntax: '{k}' is a keyword and cannot be used as a name"),
            )),
            k => Err(syntax(
                self.span(),
                format!("expected a name, found {}", describe(&k)),
            )),
        }
    }
    /// One level deeper for `f`: a RecursionError at the current token past `MAX_DEPTH`.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.deeper(1)?;
        let r = f(self);
        self.depth -= 1;
        r
    }
    /// `levels` more levels (a chain's links); the caller gives them back.
    fn deeper(&mut self, levels: usize) -> PResult<()> {
        if self.depth + levels > MAX_DEPTH {
            return Err(too_deep(self.span()));
        }
        self.depth += levels;
        Ok(())
    }

    fn mk(&mut self, kind: ExprKind, span: Span) -> Expr {
        let id = *self.next_id;
        *self.next_id += 1;
        Expr { kind, span, id }
    }
    fn stmt(kind: StmtKind, span: Span) -> Stmt {
        Stmt {
            kind,
            span,
            target: None,
        }
    }

    // ---- statements ----

    /// One logical line's statements (several with `;`), or one compound statement.
    fn statement(&mut self) -> PResult<Vec<Stmt>> {
        let t = self.tok().clone();
        match &t.kind {
            TokenKind::Indent => Err(self.invalid()),
            TokenKind::Newline => {
                self.bump();
                Ok(Vec::new())
            }
            TokenKind::Op("@") => self.decorated(),
            TokenKind::Keyword("if") => Ok(vec![self.if_stmt()?]),
            TokenKind::Keyword("while") => Ok(vec![self.while_stmt()?]),
            TokenKind::Keyword("for") => Ok(vec![self.for_stmt()?]),
            TokenKind::Keyword("def") => Ok(vec![self.def_stmt(Vec::new())?]),
            TokenKind::Keyword("else") | TokenKind::Keyword("elif") => Err(syntax(
                t.span,
                format!(
                    "invalid syntax: '{}' without a matching 'if'",
                    describe(&t.kind).trim_matches('\'')
                ),
            )
            .with_hint("check the indentation: it must line up with its 'if'")),
            _ => self.simple_stmts(),
        }
    }

    fn simple_stmts(&mut self) -> PResult<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            out.append(&mut self.simple_stmt()?);
            if self.eat_op(";").is_some() {
                if self.at(&TokenKind::Newline) {
                    break;
                }
                continue;
            }
            break;
        }
        if !self.at(&TokenKind::Newline) && !self.at(&TokenKind::Eof) {
            let mut d = syntax(self.span(), "invalid syntax");
            if let Some(Stmt {
                kind: StmtKind::Expr(e),
                ..
            }) = out.last()
            {
                if matches!(&e.kind, ExprKind::Name(n) if n == "print") {
                    d = syntax(
                        e.span.to(self.span()),
                        "Missing parentheses in call to 'print'. Did you mean print(...)?",
                    );
                }
            }
            return Err(d);
        }
        self.bump();
        Ok(out)
    }

    fn simple_stmt(&mut self) -> PResult<Vec<Stmt>> {
        let lo = self.span();
        let kw = match self.kind() {
            TokenKind::Keyword(k) => Some(*k),
            _ => None,
        };
        let kind = match kw {
            Some("pass") => {
                self.bump();
                StmtKind::Pass
            }
            Some("break") => {
                self.bump();
                StmtKind::Break
            }
            Some("continue") => {
                self.bump();
                StmtKind::Continue
            }
            Some("return") => {
                self.bump();
                if self.at_stmt_end() {
                    StmtKind::Return(None)
                } else {
                    StmtKind::Return(Some(self.exprlist()?))
                }
            }
            Some("assert") => {
                self.bump();
                let test = self.expr()?;
                let msg = match self.eat_op(",") {
                    Some(_) => Some(self.expr()?),
                    None => None,
                };
                StmtKind::Assert { test, msg }
            }
            Some("global") => {
                self.bump();
                let mut names = vec![self.name()?];
                while self.eat_op(",").is_some() {
                    names.push(self.name()?);
                }
                StmtKind::Global(names)
            }
            Some("import") => return self.import_stmt(),
            Some("from") => self.import_from_stmt()?,
            _ => return Ok(vec![self.expr_stmt()?]),
        };
        Ok(vec![Self::stmt(
            kind,
            Span::new(lo.lo as usize, self.prev_hi() as usize),
        )])
    }

    fn at_stmt_end(&self) -> bool {
        matches!(self.kind(), TokenKind::Newline | TokenKind::Eof) || self.at_op(";")
    }

    fn dotted(&mut self) -> PResult<(String, Span)> {
        let (mut s, mut span) = self.name()?;
        while self.eat_op(".").is_some() {
            let (n, sp) = self.name()?;
            s.push('.');
            s.push_str(&n);
            span = span.to(sp);
        }
        Ok((s, span))
    }

    /// `import a.b as c, d`: one `Import` per module (the `as` alias is dropped: the checker
    /// accepts only the modules SPEC §3 lists, whose names it knows under any prefix).
    fn import_stmt(&mut self) -> PResult<Vec<Stmt>> {
        let kw = self.bump().span;
        let mut out = Vec::new();
        loop {
            let (module, sp) = self.dotted()?;
            if self.eat_kw("as").is_some() {
                self.name()?;
            }
            let lo = if out.is_empty() { kw } else { sp };
            out.push(Self::stmt(
                StmtKind::Import {
                    module,
                    names: Vec::new(),
                },
                Span::new(lo.lo as usize, self.prev_hi() as usize),
            ));
            if self.eat_op(",").is_none() {
                break;
            }
        }
        Ok(out)
    }

    fn import_from_stmt(&mut self) -> PResult<StmtKind> {
        self.bump();
        if self.at_op(".") || self.at_op("...") {
            return Err(syntax(
                self.span(),
                "relative imports are not supported in Kiln",
            ));
        }
        let (module, _) = self.dotted()?;
        if self.eat_kw("import").is_none() {
            return Err(syntax(self.span(), "invalid syntax: expected 'import'"));
        }
        let mut names = Vec::new();
        if self.eat_op("*").is_some() {
            names.push("*".to_string());
        } else {
            let paren = self.eat_op("(");
            loop {
                let (n, _) = self.name()?;
                if self.eat_kw("as").is_some() {
                    self.name()?;
                }
                names.push(n);
                if self.eat_op(",").is_none() {
                    break;
                }
                if paren.is_some() && self.at_op(")") {
                    break;
                }
            }
            if paren.is_some() {
                self.expect_op(")")?;
            }
        }
        Ok(StmtKind::Import { module, names })
    }

    fn expr_stmt(&mut self) -> PResult<Stmt> {
        let first = self.exprlist()?;
        let lo = first.span;
        if self.at_op(":") {
            self.bump();
            check_target(&first, false)?;
            if matches!(first.kind, ExprKind::Tuple(_)) {
                return Err(syntax(
                    first.span,
                    "only single target (not tuple) can be annotated",
                ));
            }
            let annotation = self.expr()?;
            let value = if self.eat_op("=").is_some() {
                Some(self.exprlist()?)
            } else {
                None
            };
            let span = Span::new(lo.lo as usize, self.prev_hi() as usize);
            return Ok(Self::stmt(
                StmtKind::AnnAssign {
                    target: first,
                    annotation,
                    value,
                },
                span,
            ));
        }
        if let TokenKind::Op(op) = self.kind().clone() {
            if let Some(bop) = aug_op(op) {
                let op_span = self.bump().span;
                if matches!(first.kind, ExprKind::Tuple(_) | ExprKind::List(_)) {
                    return Err(syntax(
                        first.span,
                        "'tuple' is an illegal expression for augmented assignment",
                    ));
                }
                check_target(&first, false).map_err(|d| {
                    let what = d.message.trim_start_matches("cannot assign to ");
                    syntax(
                        d.span,
                        format!("'{what}' is an illegal expression for augmented assignment"),
                    )
                })?;
                let _ = op_span;
                let value = self.exprlist()?;
                let span = Span::new(lo.lo as usize, self.prev_hi() as usize);
                return Ok(Self::stmt(
                    StmtKind::AugAssign {
                        target: first,
                        op: bop,
                        value,
                    },
                    span,
                ));
            }
        }
        if self.at_op("=") {
            let mut targets = vec![first];
            let mut value = None;
            while self.eat_op("=").is_some() {
                let e = self.exprlist()?;
                if let Some(v) = value.replace(e) {
                    targets.push(v);
                }
            }
            for t in &targets {
                check_target(t, true)?;
            }
            let value = value.expect("loop ran at least once");
            let span = Span::new(lo.lo as usize, self.prev_hi() as usize);
            return Ok(Self::stmt(StmtKind::Assign { targets, value }, span));
        }
        let span = first.span;
        Ok(Self::stmt(StmtKind::Expr(first), span))
    }

    /// `@par` / `@serial` / `@gpu` before a loop or an assignment, or decorators before `def`
    /// (Numba's compiling ones: see [`check_function_decorator`]).
    fn decorated(&mut self) -> PResult<Vec<Stmt>> {
        let mut decorators = Vec::new();
        while let Some(at) = self.eat_op("@") {
            let e = self.expr()?;
            let span = at.to(e.span);
            let target = match &e.kind {
                ExprKind::Name(n) if n == "par" => Some(Target::Par),
                ExprKind::Name(n) if n == "serial" => Some(Target::Serial),
                ExprKind::Name(n) if n == "gpu" => Some(Target::Gpu),
                _ => None,
            };
            if !self.at(&TokenKind::Newline) {
                return Err(syntax(
                    self.span(),
                    "invalid syntax: expected end of line after decorator",
                ));
            }
            self.bump();
            if let Some(t) = target {
                let name = &self.src[at.lo as usize..span.hi as usize];
                let misplaced = || {
                    syntax(span, format!("`{name}` must be directly followed by a `for` loop or an assignment"))
                        .with_hint(format!(
                            "put `{name}` on the line just before the `for` loop (or array assignment) it applies to"
                        ))
                };
                if !decorators.is_empty()
                    || matches!(
                        self.kind(),
                        TokenKind::Eof | TokenKind::Dedent | TokenKind::Indent
                    )
                    || self.at_op("@")
                {
                    return Err(misplaced());
                }
                let mut stmts = self.statement()?;
                match stmts.first_mut() {
                    Some(s)
                        if matches!(
                            s.kind,
                            StmtKind::For { .. }
                                | StmtKind::Assign { .. }
                                | StmtKind::AugAssign { .. }
                                | StmtKind::AnnAssign { .. }
                        ) =>
                    {
                        s.target = Some((t, span));
                    }
                    _ => return Err(misplaced()),
                }
                return Ok(stmts);
            }
            decorators.push(e);
        }
        if !self.at_kw("def") {
            let sp = decorators.last().map(|d| d.span).unwrap_or(self.span());
            return Err(syntax(sp, "decorators are only allowed before `def`")
                .with_hint("loop annotations are `@par`, `@serial` and `@gpu`"));
        }
        for d in &decorators {
            check_function_decorator(d)?;
        }
        Ok(vec![self.def_stmt(decorators)?])
    }

    /// The block after a compound statement's `:`: an indented suite, or simple statements on
    /// the same line.
    fn block(&mut self, what: &str, head: Span) -> PResult<Vec<Stmt>> {
        if !self.at(&TokenKind::Newline) {
            return self.simple_stmts();
        }
        self.bump();
        if !self.at(&TokenKind::Indent) {
            let line = self.src.as_bytes()[..(head.lo as usize).min(self.src.len())]
                .iter()
                .filter(|&&c| c == b'\n')
                .count()
                + 1;
            return Err(Diagnostic::new(
                ErrorKind::IndentationError,
                self.span(),
                format!("expected an indented block after {what} on line {line}"),
            ));
        }
        self.bump();
        let body = self.nested(|p| {
            let mut body = Vec::new();
            while !p.at(&TokenKind::Dedent) && !p.at(&TokenKind::Eof) {
                body.append(&mut p.statement()?);
            }
            Ok(body)
        })?;
        self.bump();
        Ok(body)
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.bump();
        let what = if kw.kind == TokenKind::Keyword("elif") {
            "'elif' statement"
        } else {
            "'if' statement"
        };
        let test = self.expr()?;
        self.expect_colon(what)?;
        let body = self.block(what, kw.span)?;
        let orelse = if self.at_kw("elif") {
            vec![self.nested(Self::if_stmt)?]
        } else if let Some(e) = self.eat_kw("else") {
            self.expect_colon("'else' clause")?;
            self.block("'else' statement", e)?
        } else {
            Vec::new()
        };
        let span = Span::new(kw.span.lo as usize, self.prev_hi_stmt());
        Ok(Self::stmt(StmtKind::If { test, body, orelse }, span))
    }

    /// The end of a compound statement: the last non-layout token before here.
    fn prev_hi_stmt(&self) -> usize {
        let mut i = self.pos;
        while i > 0 {
            i -= 1;
            if !matches!(
                self.toks[i].kind,
                TokenKind::Newline | TokenKind::Dedent | TokenKind::Indent | TokenKind::Eof
            ) {
                return self.toks[i].span.hi as usize;
            }
        }
        0
    }

    fn no_else(&self, what: &str) -> PResult<()> {
        if self.at_kw("else") {
            return Err(syntax(
                self.span(),
                format!("'{what}-else' is not supported in Kiln"),
            )
            .with_hint("use a flag variable set before `break`"));
        }
        Ok(())
    }

    fn while_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.bump().span;
        let test = self.expr()?;
        self.expect_colon("'while' statement")?;
        let body = self.block("'while' statement", kw)?;
        self.no_else("while")?;
        let span = Span::new(kw.lo as usize, self.prev_hi_stmt());
        Ok(Self::stmt(StmtKind::While { test, body }, span))
    }

    fn for_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.bump().span;
        let target = self.for_target("a `for` loop")?;
        let iter = self.exprlist()?;
        self.expect_colon("'for' statement")?;
        let body = self.block("'for' statement", kw)?;
        self.no_else("for")?;
        let span = Span::new(kw.lo as usize, self.prev_hi_stmt());
        Ok(Self::stmt(StmtKind::For { target, iter, body }, span))
    }

    fn def_stmt(&mut self, decorators: Vec<Expr>) -> PResult<Stmt> {
        let kw = self.bump().span;
        let (name, name_span) = self.name()?;
        self.expect_op("(")?;
        let mut params: Vec<Param> = Vec::new();
        while !self.at_op(")") {
            if self.at_op("*") || self.at_op("**") || self.at_op("/") {
                return Err(syntax(
                    self.span(),
                    "`*args`, `**kwargs` and `/` parameters are not supported in Kiln",
                ));
            }
            let (pname, pspan) = self.name()?;
            if params.iter().any(|p| p.name == pname) {
                return Err(syntax(
                    pspan,
                    format!("duplicate argument '{pname}' in function definition"),
                ));
            }
            let annotation = if self.eat_op(":").is_some() {
                Some(self.expr()?)
            } else {
                None
            };
            let default = if self.eat_op("=").is_some() {
                Some(self.expr()?)
            } else {
                None
            };
            if default.is_none() && params.iter().any(|p| p.default.is_some()) {
                return Err(syntax(
                    pspan,
                    "parameter without a default follows parameter with a default",
                ));
            }
            let span = Span::new(pspan.lo as usize, self.prev_hi() as usize);
            params.push(Param {
                name: pname,
                span,
                annotation,
                default,
            });
            if self.eat_op(",").is_none() {
                break;
            }
        }
        if !self.at_op(")") {
            return Err(syntax(
                self.span(),
                "invalid syntax: expected ',' or ')' in parameter list",
            ));
        }
        self.bump();
        let returns = if self.eat_op("->").is_some() {
            Some(self.expr()?)
        } else {
            None
        };
        self.expect_colon("function definition")?;
        let body = self.block("function definition", kw)?;
        let span = Span::new(kw.lo as usize, self.prev_hi_stmt());
        let f = FunctionDef {
            name,
            name_span,
            params,
            returns,
            body,
            decorators,
            span,
        };
        Ok(Self::stmt(StmtKind::FunctionDef(Rc::new(f)), span))
    }

    // ---- expressions ----

    /// `a, b, c` (a bare tuple when there is a comma) — assignment sides, `return`, `for ... in`.
    fn exprlist(&mut self) -> PResult<Expr> {
        let first = self.expr()?;
        if !self.at_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",").is_some() {
            if !self.starts_expr() {
                break;
            }
            items.push(self.expr()?);
        }
        // Like Python, a bare tuple spans its items (and a trailing comma).
        let sp = Span::new(items[0].span.lo as usize, self.prev_hi() as usize);
        Ok(self.mk(ExprKind::Tuple(items), sp))
    }

    fn starts_expr(&self) -> bool {
        match self.kind() {
            TokenKind::Name(_)
            | TokenKind::Int(_)
            | TokenKind::Float(_)
            | TokenKind::Imag(_)
            | TokenKind::Str(_)
            | TokenKind::FString(_) => true,
            TokenKind::Keyword(k) => matches!(*k, "True" | "False" | "None" | "not" | "lambda"),
            TokenKind::Op(o) => matches!(*o, "(" | "[" | "{" | "-" | "+" | "~"),
            _ => false,
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.nested(Self::expr_unchecked)
    }

    fn expr_unchecked(&mut self) -> PResult<Expr> {
        let body = self.or_test()?;
        if !self.at_kw("if") {
            return Ok(body);
        }
        self.bump();
        let test = self.or_test()?;
        if self.eat_kw("else").is_none() {
            return Err(syntax(self.span(), "expected 'else' after 'if' expression"));
        }
        let orelse = self.expr()?;
        let sp = body.span.to(orelse.span);
        Ok(self.mk(
            ExprKind::IfExp {
                test: Box::new(test),
                body: Box::new(body),
                orelse: Box::new(orelse),
            },
            sp,
        ))
    }

    fn bool_chain(
        &mut self,
        kw: &str,
        op: BoolOp,
        next: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let first = next(self)?;
        if !self.at_kw(kw) {
            return Ok(first);
        }
        let mut values = vec![first];
        while self.eat_kw(kw).is_some() {
            values.push(next(self)?);
        }
        let sp = values[0].span.to(values[values.len() - 1].span);
        Ok(self.mk(ExprKind::BoolOp { op, values }, sp))
    }

    fn or_test(&mut self) -> PResult<Expr> {
        self.bool_chain("or", BoolOp::Or, Self::and_test)
    }

    fn and_test(&mut self) -> PResult<Expr> {
        self.bool_chain("and", BoolOp::And, Self::not_test)
    }

    fn not_test(&mut self) -> PResult<Expr> {
        if let Some(sp) = self.eat_kw("not") {
            let operand = self.nested(Self::not_test)?;
            let span = sp.to(operand.span);
            return Ok(self.mk(
                ExprKind::Unary {
                    op: UnaryOp::Not,
                    operand: Box::new(operand),
                },
                span,
            ));
        }
        self.comparison()
    }

    fn cmp_op(&mut self) -> Option<CmpOp> {
        let op = match self.kind() {
            TokenKind::Op("==") => CmpOp::Eq,
            TokenKind::Op("!=") => CmpOp::NotEq,
            TokenKind::Op("<") => CmpOp::Lt,
            TokenKind::Op("<=") => CmpOp::LtE,
            TokenKind::Op(">") => CmpOp::Gt,
            TokenKind::Op(">=") => CmpOp::GtE,
            TokenKind::Keyword("in") => CmpOp::In,
            TokenKind::Keyword("is") => {
                if self.peek_kind(1) == &TokenKind::Keyword("not") {
                    self.bump();
                    CmpOp::IsNot
                } else {
                    CmpOp::Is
                }
            }
            TokenKind::Keyword("not") if self.peek_kind(1) == &TokenKind::Keyword("in") => {
                self.bump();
                CmpOp::NotIn
            }
            _ => return None,
        };
        self.bump();
        Some(op)
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let left = self.bitor()?;
        let mut ops = Vec::new();
        while let Some(op) = self.cmp_op() {
            ops.push((op, self.bitor()?));
        }
        if ops.is_empty() {
            return Ok(left);
        }
        let sp = left.span.to(ops[ops.len() - 1].1.span);
        Ok(self.mk(
            ExprKind::Compare {
                left: Box::new(left),
                ops,
            },
            sp,
        ))
    }

    /// One left-associative binary level: operators of this level, then the next level.
    fn binary(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let mut left = next(self)?;
        let base = self.depth;
        loop {
            let op = match self.kind() {
                TokenKind::Op(o) => ops.iter().find(|(s, _)| s == o).map(|(_, b)| *b),
                _ => None,
            };
            let Some(op) = op else {
                self.depth = base;
                return Ok(left);
            };
            // Each link nests the chain so far one level deeper (a left-deep tree).
            self.deeper(1)?;
            self.bump();
            let right = next(self)?;
            let sp = left.span.to(right.span);
            left = self.mk(
                ExprKind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                sp,
            );
        }
    }

    fn bitor(&mut self) -> PResult<Expr> {
        self.binary(&[("|", BinOp::BitOr)], Self::bitxor)
    }
    fn bitxor(&mut self) -> PResult<Expr> {
        self.binary(&[("^", BinOp::BitXor)], Self::bitand)
    }
    fn bitand(&mut self) -> PResult<Expr> {
        self.binary(&[("&", BinOp::BitAnd)], Self::shift)
    }
    fn shift(&mut self) -> PResult<Expr> {
        self.binary(&[("<<", BinOp::Shl), (">>", BinOp::Shr)], Self::arith)
    }
    fn arith(&mut self) -> PResult<Expr> {
        self.binary(&[("+", BinOp::Add), ("-", BinOp::Sub)], Self::term)
    }
    fn term(&mut self) -> PResult<Expr> {
        self.binary(
            &[
                ("*", BinOp::Mul),
                ("/", BinOp::Div),
                ("//", BinOp::FloorDiv),
                ("%", BinOp::Mod),
                ("@", BinOp::MatMul),
            ],
            Self::factor,
        )
    }

    fn factor(&mut self) -> PResult<Expr> {
        let op = match self.kind() {
            TokenKind::Op("-") => UnaryOp::Neg,
            TokenKind::Op("+") => UnaryOp::Pos,
            TokenKind::Op("~") => UnaryOp::Invert,
            _ => return self.power(),
        };
        let sp = self.bump().span;
        let operand = self.nested(Self::factor)?;
        let span = sp.to(operand.span);
        Ok(self.mk(
            ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        ))
    }

    /// `**` binds tighter than a unary operator on its left and is right-associative; its
    /// right operand may itself be unary (`2 ** -1`).
    fn power(&mut self) -> PResult<Expr> {
        let base = self.primary()?;
        if self.eat_op("**").is_none() {
            return Ok(base);
        }
        let exp = self.nested(Self::factor)?;
        let sp = base.span.to(exp.span);
        Ok(self.mk(
            ExprKind::Binary {
                op: BinOp::Pow,
                left: Box::new(base),
                right: Box::new(exp),
            },
            sp,
        ))
    }

    fn primary(&mut self) -> PResult<Expr> {
        let base = self.depth;
        let e = self.postfix_chain();
        self.depth = base;
        e
    }

    /// An atom and its calls, subscripts and attributes: each link one level deeper.
    fn postfix_chain(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        loop {
            if self.at_op("(") || self.at_op("[") || self.at_op(".") {
                self.deeper(1)?;
            }
            if self.at_op("(") {
                self.bump();
                let (args, keywords) = self.call_args()?;
                let close = self.bump().span;
                let sp = e.span.to(close);
                e = self.mk(
                    ExprKind::Call {
                        func: Box::new(e),
                        args,
                        keywords,
                    },
                    sp,
                );
            } else if self.at_op("[") {
                self.bump();
                let mut index = Vec::new();
                loop {
                    if self.at_op("]") {
                        if index.is_empty() {
                            return Err(syntax(self.span(), "invalid syntax: empty subscript"));
                        }
                        break;
                    }
                    index.push(self.subscript_item()?);
                    if self.eat_op(",").is_none() {
                        break;
                    }
                }
                if !self.at_op("]") {
                    return Err(self.expected_close("]"));
                }
                let close = self.bump().span;
                let sp = e.span.to(close);
                e = self.mk(
                    ExprKind::Subscript {
                        value: Box::new(e),
                        index,
                    },
                    sp,
                );
            } else if self.at_op(".") {
                self.bump();
                let (attr, attr_span) = self.name()?;
                let sp = e.span.to(attr_span);
                e = self.mk(
                    ExprKind::Attribute {
                        value: Box::new(e),
                        attr,
                        attr_span,
                    },
                    sp,
                );
            } else {
                return Ok(e);
            }
        }
    }

    /// Inside brackets, an expression where `,` or the closer was due usually means a
    /// missing comma (Python 3.10's hint).
    fn expected_close(&self, close: &str) -> Diagnostic {
        if self.starts_expr() {
            syntax(self.span(), "invalid syntax. Perhaps you forgot a comma?")
        } else {
            syntax(
                self.span(),
                format!("invalid syntax: expected ',' or '{close}'"),
            )
        }
    }

    fn subscript_item(&mut self) -> PResult<Expr> {
        let lower = if self.at_op(":") {
            None
        } else {
            Some(self.expr()?)
        };
        if !self.at_op(":") {
            return Ok(lower.expect("not at ':' so an expression was parsed"));
        }
        let c1 = self.bump().span;
        let lo = lower.as_ref().map_or(c1, |l| l.span);
        let mut hi = c1;
        let upper = if self.starts_expr() {
            let u = self.expr()?;
            hi = u.span;
            Some(Box::new(u))
        } else {
            None
        };
        let mut step = None;
        if let Some(c2) = self.eat_op(":") {
            hi = c2;
            if self.starts_expr() {
                let s = self.expr()?;
                hi = s.span;
                step = Some(Box::new(s));
            }
        }
        Ok(self.mk(
            ExprKind::Slice {
                lower: lower.map(Box::new),
                upper,
                step,
            },
            lo.to(hi),
        ))
    }

    fn call_args(&mut self) -> PResult<(Vec<Expr>, Vec<Keyword>)> {
        let mut args = Vec::new();
        let mut keywords: Vec<Keyword> = Vec::new();
        while !self.at_op(")") {
            if self.at_op("*") || self.at_op("**") {
                return Err(syntax(
                    self.span(),
                    "`*args` / `**kwargs` in calls are not supported in Kiln",
                ));
            }
            if matches!(self.kind(), TokenKind::Name(_)) && self.peek_kind(1) == &TokenKind::Op("=")
            {
                let (name, span) = self.name()?;
                self.bump();
                if keywords.iter().any(|k| k.name == name) {
                    return Err(syntax(span, format!("keyword argument repeated: {name}")));
                }
                let value = self.expr()?;
                keywords.push(Keyword { name, span, value });
            } else {
                let mut e = self.expr()?;
                if self.at_kw("for") {
                    if !args.is_empty() || !keywords.is_empty() {
                        return Err(syntax(e.span, "Generator expression must be parenthesized"));
                    }
                    e = self.comprehension(e, ")")?;
                    if !self.at_op(")") {
                        return Err(syntax(e.span, "Generator expression must be parenthesized"));
                    }
                }
                if self.at_op("=") {
                    return Err(syntax(
                        e.span,
                        "expression cannot contain assignment, perhaps you meant \"==\"?",
                    ));
                }
                if !keywords.is_empty() {
                    return Err(syntax(
                        e.span,
                        "positional argument follows keyword argument",
                    ));
                }
                args.push(e);
            }
            if self.eat_op(",").is_none() {
                break;
            }
        }
        if !self.at_op(")") {
            return Err(self.expected_close(")"));
        }
        Ok((args, keywords))
    }

    fn atom(&mut self) -> PResult<Expr> {
        let t = self.tok().clone();
        let sp = t.span;
        let kind = match t.kind {
            TokenKind::Name(n) => ExprKind::Name(n),
            TokenKind::Int(v) => ExprKind::Int(v),
            TokenKind::Float(v) => ExprKind::Float(v),
            TokenKind::Imag(v) => ExprKind::Imag(v),
            TokenKind::Keyword("True") => ExprKind::Bool(true),
            TokenKind::Keyword("False") => ExprKind::Bool(false),
            TokenKind::Keyword("None") => ExprKind::None,
            TokenKind::Str(_) | TokenKind::FString(_) => return self.strings(),
            TokenKind::Op("(") => return self.paren(),
            TokenKind::Op("[") => return self.list(),
            TokenKind::Op("{") => {
                return Err(syntax(
                    sp,
                    "dict and set literals are not supported in Kiln",
                ))
            }
            TokenKind::Op("...") => {
                return Err(syntax(sp, "'...' (Ellipsis) is not supported in Kiln"))
            }
            _ => return Err(self.invalid()),
        };
        self.bump();
        Ok(self.mk(kind, sp))
    }

    fn paren(&mut self) -> PResult<Expr> {
        let open = self.bump().span;
        if let Some(close) = self.eat_op(")") {
            return Ok(self.mk(ExprKind::Tuple(Vec::new()), open.to(close)));
        }
        let first = self.expr()?;
        if self.eat_op(")").is_some() {
            return Ok(first);
        }
        if self.at_kw("for") {
            return Err(syntax(
                self.span(),
                "generator expressions are not supported in Kiln",
            )
            .with_hint("write an explicit `for` loop"));
        }
        if !self.at_op(",") {
            return Err(self.expected_close(")"));
        }
        let mut items = vec![first];
        while self.eat_op(",").is_some() {
            if self.at_op(")") {
                break;
            }
            items.push(self.expr()?);
        }
        if !self.at_op(")") {
            return Err(self.expected_close(")"));
        }
        let close = self.bump().span;
        Ok(self.mk(ExprKind::Tuple(items), open.to(close)))
    }

    /// The target of a `for` (loop or comprehension) up to and taking `in`: a name or a tuple
    /// of names, nested as `for i, (x, y) in enumerate(zip(a, b))` nests them.
    fn for_target(&mut self, what: &str) -> PResult<Expr> {
        let mut items = vec![self.bitor()?];
        let mut trailing = false;
        while self.eat_op(",").is_some() {
            if self.at_kw("in") {
                trailing = true;
                break;
            }
            items.push(self.bitor()?);
        }
        let target = if items.len() == 1 && !trailing {
            items.pop().expect("one item")
        } else {
            let sp = items[0].span.to(items[items.len() - 1].span);
            self.mk(ExprKind::Tuple(items), sp)
        };
        fn names_only(e: &Expr) -> bool {
            match &e.kind {
                ExprKind::Name(_) => true,
                ExprKind::Tuple(es) => es.iter().all(names_only),
                _ => false,
            }
        }
        if !names_only(&target) {
            return Err(syntax(
                target.span,
                format!("{what}'s target must be a name or a tuple of names"),
            ));
        }
        if self.eat_kw("in").is_none() {
            return Err(syntax(self.span(), "invalid syntax: expected 'in'"));
        }
        Ok(target)
    }

    /// The rest of `[elt for target in iter if cond]` from `for`, up to (not taking) `close`.
    fn comprehension(&mut self, elt: Expr, close: &str) -> PResult<Expr> {
        self.bump();
        let target = self.for_target("a comprehension")?;
        let iter = self.or_test()?;
        let cond = if self.eat_kw("if").is_some() {
            Some(Box::new(self.or_test()?))
        } else {
            None
        };
        if self.at_kw("for") {
            return Err(syntax(
                self.span(),
                "a comprehension with more than one `for` is not supported in Kiln",
            )
            .with_hint("write the outer loop as a `for` statement that appends to a list"));
        }
        if self.at_kw("if") {
            return Err(syntax(
                self.span(),
                "a comprehension with more than one `if` is not supported in Kiln",
            )
            .with_hint("join the conditions with `and`"));
        }
        if !self.at_op(close) {
            return Err(self.expected_close(close));
        }
        let span = elt.span.to(iter.span);
        Ok(self.mk(
            ExprKind::ListComp {
                elt: Box::new(elt),
                target: Box::new(target),
                iter: Box::new(iter),
                cond,
            },
            span,
        ))
    }

    fn list(&mut self) -> PResult<Expr> {
        let open = self.bump().span;
        let mut items = Vec::new();
        while !self.at_op("]") {
            items.push(self.expr()?);
            if self.at_kw("for") && items.len() == 1 {
                let elt = items.pop().expect("one item");
                let comp = self.comprehension(elt, "]")?;
                let close = self.bump().span;
                let span = open.to(close);
                return Ok(Expr { span, ..comp });
            }
            if self.eat_op(",").is_none() {
                break;
            }
        }
        if !self.at_op("]") {
            return Err(self.expected_close("]"));
        }
        let close = self.bump().span;
        Ok(self.mk(ExprKind::List(items), open.to(close)))
    }

    /// Adjacent string literals concatenate, as in Python; any f-string among them makes the
    /// whole an f-string.
    fn strings(&mut self) -> PResult<Expr> {
        let lo = self.span();
        let mut parts: Vec<FStringPart> = Vec::new();
        let mut any_f = false;
        let mut hi = lo;
        loop {
            let t = self.tok().clone();
            match t.kind {
                TokenKind::Str(s) => push_lit(&mut parts, &s),
                TokenKind::FString(raw) => {
                    any_f = true;
                    self.fstring(&raw, t.span, &mut parts)?;
                }
                _ => break,
            }
            hi = t.span;
            self.bump();
        }
        let sp = lo.to(hi);
        if !any_f {
            let s = match parts.pop() {
                Some(FStringPart::Lit(s)) => s,
                _ => String::new(),
            };
            return Ok(self.mk(ExprKind::Str(s), sp));
        }
        Ok(self.mk(ExprKind::FString(parts), sp))
    }

    fn fstring(&mut self, raw: &str, span: Span, parts: &mut Vec<FStringPart>) -> PResult<()> {
        // Where the raw content starts in the cell: after the prefix and the opening quote(s).
        let lo = span.lo as usize;
        let after_prefix = lo + self.src[lo..].find(['"', '\'']).unwrap_or(0);
        let q = self
            .src
            .as_bytes()
            .get(after_prefix)
            .copied()
            .unwrap_or(b'"');
        let triple = self.src.as_bytes().get(after_prefix + 1) == Some(&q)
            && self.src.as_bytes().get(after_prefix + 2) == Some(&q);
        let base = after_prefix + if triple { 3 } else { 1 };
        let b = raw.as_bytes();
        let mut lit = String::new();
        let mut i = 0;
        let flush = |lit: &mut String, start: usize, parts: &mut Vec<FStringPart>| -> PResult<()> {
            if !lit.is_empty() {
                let s = unescape(lit).map_err(|(a, z, m)| {
                    syntax(Span::new(base + start + a, base + start + z), m)
                })?;
                push_lit(parts, &s);
                lit.clear();
            }
            Ok(())
        };
        let mut lit_start = 0;
        while i < b.len() {
            match b[i] {
                b'{' if b.get(i + 1) == Some(&b'{') => {
                    lit.push('{');
                    i += 2;
                }
                b'}' if b.get(i + 1) == Some(&b'}') => {
                    lit.push('}');
                    i += 2;
                }
                b'}' => {
                    return Err(syntax(
                        Span::new(base + i, base + i + 1),
                        "f-string: single '}' is not allowed",
                    ))
                }
                b'{' => {
                    flush(&mut lit, lit_start, parts)?;
                    i = self.fstring_field(raw, base, i, parts)?;
                    lit_start = i;
                }
                b'\\' => {
                    // Keep escapes raw for `unescape`, including an escaped brace-free char.
                    let c = raw[i + 1..].chars().next().map_or(0, |c| c.len_utf8());
                    lit.push_str(&raw[i..i + 1 + c]);
                    i += 1 + c;
                }
                _ => {
                    let c = raw[i..].chars().next().map_or(1, |c| c.len_utf8());
                    lit.push_str(&raw[i..i + c]);
                    i += c;
                }
            }
        }
        flush(&mut lit, lit_start, parts)
    }

    /// One `{expr!conv:spec}` field starting at `raw[open]`; returns the index after its `}`.
    fn fstring_field(
        &mut self,
        raw: &str,
        base: usize,
        open: usize,
        parts: &mut Vec<FStringPart>,
    ) -> PResult<usize> {
        let b = raw.as_bytes();
        let start = open + 1;
        let mut i = start;
        let mut depth = 0i32;
        let mut quote: Option<u8> = None;
        let unclosed = || {
            syntax(
                Span::new(base + open, base + open + 1),
                "f-string: expecting '}'",
            )
        };
        // Find where the expression ends: `!`, `:` or `}` outside brackets and strings.
        let end = loop {
            let Some(&c) = b.get(i) else {
                return Err(unclosed());
            };
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            match c {
                b'\'' | b'"' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth > 0 => depth -= 1,
                b'}' | b':' if depth == 0 => break i,
                b'!' if depth == 0 && b.get(i + 1) != Some(&b'=') => break i,
                _ => {}
            }
            i += 1;
        };
        let text = &raw[start..end];
        if text.trim().is_empty() {
            return Err(syntax(
                Span::new(base + open, base + end + 1),
                "f-string: empty expression not allowed",
            ));
        }
        let toks = tokenize_expr(text, base + start)?;
        let mut sub = Parser {
            toks,
            pos: 0,
            src: self.src,
            next_id: &mut *self.next_id,
            depth: self.depth,
        };
        // Python's own wording for a malformed field, instead of "end of line" (the field
        // is not a line).
        let fix = |mut d: Diagnostic| {
            if d.message.starts_with("invalid syntax") {
                d.message = "f-string: invalid syntax".into();
            }
            d
        };
        let expr = sub.exprlist().map_err(fix)?;
        if !sub.at(&TokenKind::Eof) {
            return Err(syntax(sub.span(), "f-string: invalid syntax"));
        }
        let mut conversion = None;
        if b.get(i) == Some(&b'!') {
            match b.get(i + 1) {
                Some(&c @ (b'r' | b's' | b'a')) => conversion = Some(c as char),
                _ => {
                    return Err(syntax(
                        Span::new(base + i, base + i + 2),
                        "f-string: invalid conversion character: expected 's', 'r', or 'a'",
                    ))
                }
            }
            i += 2;
        }
        let mut spec = None;
        if b.get(i) == Some(&b':') {
            let s = i + 1;
            while i < b.len() && b[i] != b'}' {
                if b[i] == b'{' {
                    return Err(syntax(
                        Span::new(base + i, base + i + 1),
                        "nested replacement fields in f-string format specs are not supported in Kiln",
                    ));
                }
                i += 1;
            }
            spec = Some(raw[s..i.min(raw.len())].to_string());
        }
        if b.get(i) != Some(&b'}') {
            return Err(unclosed());
        }
        parts.push(FStringPart::Expr {
            expr,
            conversion,
            spec,
        });
        Ok(i + 1)
    }
}

fn push_lit(parts: &mut Vec<FStringPart>, s: &str) {
    if let Some(FStringPart::Lit(prev)) = parts.last_mut() {
        prev.push_str(s);
    } else {
        parts.push(FStringPart::Lit(s.to_string()));
    }
}

fn aug_op(op: &str) -> Option<BinOp> {
    Some(match op {
        "+=" => BinOp::Add,
        "-=" => BinOp::Sub,
        "*=" => BinOp::Mul,
        "/=" => BinOp::Div,
        "//=" => BinOp::FloorDiv,
        "%=" => BinOp::Mod,
        "**=" => BinOp::Pow,
        "@=" => BinOp::MatMul,
        "&=" => BinOp::BitAnd,
        "|=" => BinOp::BitOr,
        "^=" => BinOp::BitXor,
        "<<=" => BinOp::Shl,
        ">>=" => BinOp::Shr,
        _ => return None,
    })
}

/// Only names, subscripts, attributes (and, for `=`, tuples/lists of them) can be assigned.
fn check_target(e: &Expr, allow_tuple: bool) -> PResult<()> {
    let what = match &e.kind {
        ExprKind::Name(_) | ExprKind::Subscript { .. } | ExprKind::Attribute { .. } => {
            return Ok(())
        }
        ExprKind::Tuple(es) | ExprKind::List(es) if allow_tuple => {
            return es.iter().try_for_each(|x| check_target(x, true))
        }
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Imag(_)
        | ExprKind::Str(_)
        | ExprKind::FString(_)
        | ExprKind::Bool(_)
        | ExprKind::None => "literal",
        ExprKind::Call { .. } => "function call",
        ExprKind::Compare { .. } => "comparison",
        ExprKind::IfExp { .. } => "conditional expression",
        ExprKind::Tuple(_) => "tuple",
        ExprKind::List(_) => "list",
        _ => "expression",
    };
    Err(syntax(e.span, format!("cannot assign to {what}"))
        .with_hint("maybe you meant '==' instead of '='?"))
}

/// Every function is compiled, so Numba's `@njit`/`@jit` (with any options or signatures)
/// and `@vectorize` (a function of numbers maps over arrays by itself) change nothing;
/// other decorators change what a function means, and are refused rather than ignored.
fn check_function_decorator(d: &Expr) -> PResult<()> {
    let callee = match &d.kind {
        ExprKind::Call { func, .. } => func,
        _ => d,
    };
    let name = match &callee.kind {
        ExprKind::Name(n) => n.as_str(),
        ExprKind::Attribute { attr, .. } => attr.as_str(),
        _ => "",
    };
    if matches!(name, "njit" | "jit" | "vectorize") {
        return Ok(());
    }
    let hint = match name {
        "stencil" => "write the neighbourhood loop: for i in range(1, n - 1): out[i] = a[i - 1] + a[i + 1]",
        "guvectorize" => "write the loop over the outer axes in an @njit function",
        "cfunc" | "generated_jit" | "overload" | "intrinsic" => {
            "Kiln compiles plain functions: define it with def (and @njit, which changes nothing)"
        }
        _ => "Kiln's function decorators are @njit and @jit (accepted and ignored: every function is compiled)",
    };
    let shown = if name.is_empty() {
        "this decorator"
    } else {
        name
    };
    Err(syntax(
        d.span,
        format!("the decorator `@{shown}` is not supported in Kiln"),
    )
    .with_hint(hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(indent: &str) -> Completeness {
        Completeness::Incomplete(indent.to_string())
    }

    #[test]
    fn complete_simple() {
        assert_eq!(is_complete(""), Completeness::Complete);
        assert_eq!(is_complete("x = 1"), Completeness::Complete);
        assert_eq!(is_complete("x = 1\nprint(x)\n"), Completeness::Complete);
        assert_eq!(is_complete("s = \"\"\"doc\"\"\""), Completeness::Complete);
    }

    #[test]
    fn block_opener_asks_for_indented_line() {
        assert_eq!(is_complete("for i in range(3):"), inc("    "));
        assert_eq!(is_complete("if x:  # comment"), inc("    "));
        assert_eq!(is_complete("def f():\n    if x:"), inc("        "));
    }

    #[test]
    fn indented_block_needs_blank_line() {
        assert_eq!(is_complete("def f():\n    return 1"), inc("    "));
        assert_eq!(is_complete("def f():\n    return 1\n"), inc("    "));
        assert_eq!(
            is_complete("def f():\n    return 1\n\n"),
            Completeness::Complete
        );
        assert_eq!(
            is_complete("for i in range(3):\n    x = i\ny = 2"),
            Completeness::Complete
        );
    }

    #[test]
    fn open_brackets_strings_and_backslash() {
        assert_eq!(is_complete("x = foo(1,"), inc(""));
        assert_eq!(is_complete("def f():\n    x = [1,"), inc("    "));
        assert_eq!(is_complete("x = 1 + \\"), inc(""));
        assert_eq!(is_complete("s = \"\"\"doc"), inc(""));
    }

    #[test]
    fn invalid_input() {
        assert_eq!(is_complete("x = )"), Completeness::Invalid);
        assert_eq!(is_complete("x = \"abc"), Completeness::Invalid);
        assert_eq!(is_complete("1 = x"), Completeness::Invalid);
        assert_eq!(is_complete("x = (1, 2]"), Completeness::Invalid);
        assert_eq!(is_complete("if x:\n\ty = 1\n\n"), Completeness::Invalid);
    }

    #[test]
    fn ids_are_unique_and_dense() {
        let (m, d) = parse("x = f\"{a}{b!r}\" + g(c, k=d)[1:2]\n");
        assert!(d.is_empty());
        let s = crate::syntax::dump_ast(&m);
        assert!(s.contains("Name a"), "{s}");
        // 11 expressions: a, fstring-b, fstring, g, c, d, call, 1, 2, slice, subscript, +, x...
        let StmtKind::Assign { targets, value } = &m.body[0].kind else {
            panic!("not an assign")
        };
        assert!(value.id > 0 && targets[0].id != value.id);
    }

    #[test]
    fn never_panics_on_garbage() {
        for src in [
            "(",
            ")",
            "[",
            "]]",
            "@",
            "@par",
            "def",
            "def f(",
            "x = f\"{",
            "f\"}\"",
            "a[",
            "a[:",
            "if",
            "for x in",
            "x =",
            "\\",
            "0x",
            "1e",
            "1_",
            "\"\\x4\"",
            "\t",
            "  x",
            "else:",
            "lambda: 1",
            "a.1",
            "f(*a)",
            "import",
            "from . import x",
            "x: = 1",
            "(a, b) += 1",
        ] {
            let _ = parse(src);
            let _ = is_complete(src);
        }
    }
}
