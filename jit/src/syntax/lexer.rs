//! Indentation-aware lexer (SPEC.md §1): source text → tokens with byte spans.
//!
//! Python's rules: newlines inside brackets and after a trailing `\` do not end a logical
//! line; blank and comment-only lines produce nothing; indentation changes become
//! `Indent`/`Dedent` tokens. Errors use Python's exception names and messages so that users
//! coming from Python recognise them.
use crate::diag::{Diagnostic, ErrorKind};
use crate::syntax::ast::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    Name(String),
    Int(i64),
    Float(f64),
    /// `2.5j` holds 2.5.
    Imag(f64),
    /// A string literal with its escapes already processed.
    Str(String),
    /// The raw text between the quotes of `f"..."` (escapes unprocessed), so that the parser
    /// can split `{expr!r:spec}` parts and re-lex each expression at its true source offset.
    FString(String),
    /// A Python keyword (including `True`, `False`, `None`), as written.
    Keyword(&'static str),
    /// An operator or delimiter, as written (`"+"`, `"**="`, `"("`, `"->"`, ...).
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Longest first, so that the first prefix match is the right one.
const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "->", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", ":=", "+", "-", "*", "/", "%", "@", "&", "|",
    "^", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=",
];

/// A lexing failure, and whether more input could fix it (for `is_complete`).
pub(crate) struct LexError {
    pub diag: Diagnostic,
    /// True for an unclosed bracket, an unterminated triple-quoted string or a trailing `\`
    /// at the end of the input: a console should ask for another line, not report.
    pub incomplete: bool,
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, Diagnostic> {
    tokenize_inner(src).map_err(|e| e.diag)
}

pub(crate) fn tokenize_inner(src: &str) -> Result<Vec<Token>, LexError> {
    Lexer::new(src, 0, false).run()
}

/// Tokenize an f-string replacement field `text` that starts at byte `base` of the cell:
/// no indentation or newline tokens (as if inside brackets), spans shifted by `base`.
pub(crate) fn tokenize_expr(text: &str, base: usize) -> Result<Vec<Token>, Diagnostic> {
    Lexer::new(text, base, true).run().map_err(|e| e.diag)
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Added to every span: nonzero when lexing an f-string field inside a larger source.
    base: usize,
    /// F-string field mode: the whole text behaves as if inside brackets.
    expr_mode: bool,
    indents: Vec<usize>,
    /// Open brackets and where they were opened, for "'(' was never closed".
    brackets: Vec<(u8, usize)>,
    toks: Vec<Token>,
}

/// CPython's tokenizer limits (`MAXLEVEL`, `MAXINDENT`), with its messages: they bound the
/// parser's recursion on brackets and blocks long before it could exhaust the stack.
const MAX_BRACKETS: usize = 200;
const MAX_INDENT_LEVELS: usize = 100;

fn err(kind: ErrorKind, lo: usize, hi: usize, msg: impl Into<String>) -> LexError {
    LexError {
        diag: Diagnostic::new(kind, Span::new(lo, hi), msg),
        incomplete: false,
    }
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn line_of(src: &str, pos: usize) -> usize {
    src.as_bytes()[..pos.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str, base: usize, expr_mode: bool) -> Lexer<'a> {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            base,
            expr_mode,
            indents: vec![0],
            brackets: Vec::new(),
            toks: Vec::new(),
        }
    }

    fn push(&mut self, kind: TokenKind, lo: usize, hi: usize) {
        self.toks.push(Token {
            kind,
            span: Span::new(lo + self.base, hi + self.base),
        });
    }

    fn err(&self, kind: ErrorKind, lo: usize, hi: usize, msg: impl Into<String>) -> LexError {
        err(kind, lo + self.base, hi + self.base, msg)
    }

    fn peek(&self, off: usize) -> u8 {
        *self.bytes.get(self.pos + off).unwrap_or(&0)
    }

    fn in_brackets(&self) -> bool {
        self.expr_mode || !self.brackets.is_empty()
    }

    fn run(mut self) -> Result<Vec<Token>, LexError> {
        let mut at_line_start = !self.expr_mode;
        loop {
            if at_line_start {
                at_line_start = false;
                self.indentation()?;
            }
            if self.pos >= self.bytes.len() {
                break;
            }
            let c = self.bytes[self.pos];
            match c {
                b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
                b'#' => {
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'\n' => {
                    if !self.in_brackets() {
                        // Blank and comment-only lines end no logical line.
                        if !matches!(
                            self.toks.last().map(|t| &t.kind),
                            None | Some(TokenKind::Newline)
                        ) {
                            self.push(TokenKind::Newline, self.pos, self.pos + 1);
                        }
                        at_line_start = true;
                    }
                    self.pos += 1;
                }
                b'\\' => {
                    // A trailing backslash joins the next physical line to this one.
                    let mut p = self.pos + 1;
                    if self.bytes.get(p) == Some(&b'\r') {
                        p += 1;
                    }
                    match self.bytes.get(p) {
                        Some(b'\n') => self.pos = p + 1,
                        None => {
                            let mut e = self.err(
                                ErrorKind::SyntaxError,
                                self.pos,
                                self.pos + 1,
                                "unexpected end of input after line continuation character",
                            );
                            e.incomplete = true;
                            return Err(e);
                        }
                        Some(_) => {
                            return Err(self.err(
                                ErrorKind::SyntaxError,
                                self.pos,
                                self.pos + 1,
                                "unexpected character after line continuation character",
                            ))
                        }
                    }
                }
                b'0'..=b'9' => self.number()?,
                b'.' if self.peek(1).is_ascii_digit() => self.number()?,
                b'"' | b'\'' => self.string(self.pos, "")?,
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or('\0');
                    if is_ident_start(ch) {
                        self.name()?;
                    } else {
                        self.op(ch)?;
                    }
                }
            }
        }
        if let Some(&(b, at)) = self.brackets.last() {
            let mut e = self.err(
                ErrorKind::SyntaxError,
                at,
                at + 1,
                format!("'{}' was never closed", b as char),
            );
            e.incomplete = true;
            return Err(e);
        }
        let end = self.bytes.len();
        if !self.expr_mode {
            if !matches!(
                self.toks.last().map(|t| &t.kind),
                None | Some(TokenKind::Newline)
            ) {
                self.push(TokenKind::Newline, end, end);
            }
            for _ in 1..self.indents.len() {
                self.push(TokenKind::Dedent, end, end);
            }
        }
        self.push(TokenKind::Eof, end, end);
        Ok(self.toks)
    }

    /// At the start of a physical line outside brackets: measure the indentation and emit
    /// `Indent`/`Dedent`, unless the line is blank or only a comment.
    fn indentation(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let mut width = 0;
        loop {
            match self.peek(0) {
                b' ' => width += 1,
                b'\x0c' => width = 0,
                b'\t' => {
                    // Skip the check on blank lines: a stray tab there is harmless.
                    let rest = &self.src[self.pos..];
                    let line = rest.split('\n').next().unwrap_or("");
                    let t = line.trim_start();
                    if t.is_empty() || t.starts_with('#') {
                        width += 1;
                    } else {
                        let mut e = self.err(
                            ErrorKind::TabError,
                            self.pos,
                            self.pos + 1,
                            "tab in indentation is not allowed in Kiln; use spaces",
                        );
                        e.diag.hint =
                            Some("indent with spaces only (4 per level is the convention)".into());
                        return Err(e);
                    }
                }
                _ => break,
            }
            self.pos += 1;
        }
        let rest = &self.bytes[self.pos..];
        let blank = match rest.first() {
            None | Some(b'\n') | Some(b'#') => true,
            Some(b'\r') => rest.get(1).is_none_or(|&b| b == b'\n'),
            _ => false,
        };
        if blank {
            return Ok(());
        }
        let top = *self.indents.last().unwrap_or(&0);
        if width > top {
            if self.indents.len() >= MAX_INDENT_LEVELS {
                return Err(self.err(
                    ErrorKind::IndentationError,
                    self.pos,
                    self.pos + 1,
                    "too many levels of indentation",
                ));
            }
            self.indents.push(width);
            self.push(TokenKind::Indent, start, self.pos);
        } else if width < top {
            while width < *self.indents.last().unwrap_or(&0) {
                self.indents.pop();
                self.push(TokenKind::Dedent, self.pos, self.pos);
            }
            if width != *self.indents.last().unwrap_or(&0) {
                // Point at the line's first token, as Python does, not at the whitespace.
                let _ = start;
                let hi = self.pos
                    + self.src[self.pos..]
                        .chars()
                        .next()
                        .map_or(0, |c| c.len_utf8());
                return Err(self.err(
                    ErrorKind::IndentationError,
                    self.pos,
                    hi,
                    "unindent does not match any outer indentation level",
                ));
            }
        }
        Ok(())
    }

    fn name(&mut self) -> Result<(), LexError> {
        let lo = self.pos;
        let mut end = lo;
        for (i, c) in self.src[lo..].char_indices() {
            if !is_ident_continue(c) {
                break;
            }
            end = lo + i + c.len_utf8();
        }
        let word = &self.src[lo..end];
        // A string prefix directly followed by a quote.
        if matches!(self.bytes.get(end), Some(b'"') | Some(b'\'')) && word.len() <= 2 {
            let p = word.to_ascii_lowercase();
            match p.as_str() {
                "r" | "u" | "f" => {
                    self.pos = end;
                    return self.string(lo, &p);
                }
                "b" | "br" | "rb" => {
                    return Err(self.err(
                        ErrorKind::SyntaxError,
                        lo,
                        end,
                        "bytes literals are not supported in Kiln",
                    ))
                }
                "rf" | "fr" => {
                    return Err(self.err(
                        ErrorKind::SyntaxError,
                        lo,
                        end,
                        "raw f-strings are not supported in Kiln",
                    ))
                }
                _ => {}
            }
        }
        self.pos = end;
        match KEYWORDS.iter().find(|k| **k == word) {
            Some(k) => self.push(TokenKind::Keyword(k), lo, end),
            None => self.push(TokenKind::Name(word.to_string()), lo, end),
        }
        Ok(())
    }

    fn op(&mut self, ch: char) -> Result<(), LexError> {
        let lo = self.pos;
        let rest = &self.src[lo..];
        let Some(op) = OPS.iter().find(|o| rest.starts_with(**o)) else {
            let msg = if ch == '!' {
                "invalid syntax: '!' is only valid in '!='".to_string()
            } else {
                format!("invalid character '{}' (U+{:04X})", ch, ch as u32)
            };
            return Err(self.err(ErrorKind::SyntaxError, lo, lo + ch.len_utf8(), msg));
        };
        self.pos += op.len();
        match *op {
            "(" | "[" | "{" => {
                if self.brackets.len() >= MAX_BRACKETS {
                    return Err(self.err(
                        ErrorKind::SyntaxError,
                        lo,
                        lo + 1,
                        "too many nested parentheses",
                    ));
                }
                self.brackets.push((op.as_bytes()[0], lo))
            }
            ")" | "]" | "}" => {
                let close = op.as_bytes()[0];
                match self.brackets.pop() {
                    None if !self.expr_mode => {
                        return Err(self.err(
                            ErrorKind::SyntaxError,
                            lo,
                            lo + 1,
                            format!("unmatched '{op}'"),
                        ))
                    }
                    None => {}
                    Some((open, at)) => {
                        let want = match open {
                            b'(' => b')',
                            b'[' => b']',
                            _ => b'}',
                        };
                        if want != close {
                            let mut e = self.err(
                                ErrorKind::SyntaxError,
                                lo,
                                lo + 1,
                                format!(
                                    "closing parenthesis '{op}' does not match opening parenthesis '{}'",
                                    open as char
                                ),
                            );
                            e.diag = e.diag.with_note(
                                Span::new(at + self.base, at + self.base + 1),
                                "opened here",
                            );
                            return Err(e);
                        }
                    }
                }
            }
            _ => {}
        }
        self.push(TokenKind::Op(op), lo, self.pos);
        Ok(())
    }

    fn number(&mut self) -> Result<(), LexError> {
        let lo = self.pos;
        let b = self.bytes;
        let digits = |p: &mut usize, ok: fn(u8) -> bool| {
            while *p < b.len() && (ok(b[*p]) || b[*p] == b'_') {
                *p += 1;
            }
        };
        let mut p = lo;
        let radix = if b[p] == b'0' {
            match b.get(p + 1).map(|c| c.to_ascii_lowercase()) {
                Some(b'x') => 16,
                Some(b'o') => 8,
                Some(b'b') => 2,
                _ => 10,
            }
        } else {
            10
        };
        if radix != 10 {
            p += 2;
            digits(&mut p, |c| c.is_ascii_hexdigit());
            let text = &self.src[lo + 2..p];
            let clean = self.clean_digits(text, lo, p)?;
            let value = i64::from_str_radix(&clean, radix).map_err(|e| {
                let msg = if clean.is_empty()
                    || matches!(e.kind(), std::num::IntErrorKind::InvalidDigit)
                {
                    let what = match radix {
                        16 => "hexadecimal",
                        8 => "octal",
                        _ => "binary",
                    };
                    format!("invalid {what} literal")
                } else {
                    "integer literal is too large for i64".to_string()
                };
                self.err(ErrorKind::SyntaxError, lo, p, msg)
            })?;
            self.pos = p;
            self.check_number_end(lo)?;
            self.push(TokenKind::Int(value), lo, p);
            return Ok(());
        }
        digits(&mut p, |c| c.is_ascii_digit());
        let mut is_float = false;
        if p < b.len() && b[p] == b'.' && b.get(p + 1).is_none_or(|&c| c != b'.') {
            is_float = true;
            p += 1;
            digits(&mut p, |c| c.is_ascii_digit());
        }
        if p < b.len() && (b[p] == b'e' || b[p] == b'E') {
            let mut q = p + 1;
            if q < b.len() && (b[q] == b'+' || b[q] == b'-') {
                q += 1;
            }
            if q < b.len() && b[q].is_ascii_digit() {
                is_float = true;
                p = q;
                digits(&mut p, |c| c.is_ascii_digit());
            }
        }
        let text = &self.src[lo..p];
        let clean = self.clean_digits(text, lo, p)?;
        if p < b.len() && (b[p] == b'j' || b[p] == b'J') {
            p += 1;
            self.pos = p;
            self.check_number_end(lo)?;
            let v: f64 = clean.parse().unwrap_or(f64::NAN);
            self.push(TokenKind::Imag(v), lo, p);
            return Ok(());
        }
        self.pos = p;
        self.check_number_end(lo)?;
        if is_float {
            let v: f64 = clean
                .parse()
                .map_err(|_| self.err(ErrorKind::SyntaxError, lo, p, "invalid decimal literal"))?;
            self.push(TokenKind::Float(v), lo, p);
        } else {
            if clean.len() > 1 && clean.starts_with('0') && clean.bytes().any(|c| c != b'0') {
                return Err(self.err(
                    ErrorKind::SyntaxError,
                    lo,
                    p,
                    "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
                ));
            }
            let v: i64 = clean.parse().map_err(|_| {
                let mut e = self.err(
                    ErrorKind::SyntaxError,
                    lo,
                    p,
                    "integer literal is too large for i64",
                );
                e.diag.hint = Some("Kiln integers are 64-bit; write it as a float (add `.0`) if an approximate value is fine".into());
                e
            })?;
            self.push(TokenKind::Int(v), lo, p);
        }
        Ok(())
    }

    /// Remove `_` separators, which Python allows only between digits.
    fn clean_digits(&self, text: &str, lo: usize, hi: usize) -> Result<String, LexError> {
        let t = text.as_bytes();
        for (i, &c) in t.iter().enumerate() {
            if c == b'_' {
                let prev_ok = i > 0 && t[i - 1].is_ascii_hexdigit();
                let next_ok = t.get(i + 1).is_some_and(|c| c.is_ascii_hexdigit());
                if !prev_ok || !next_ok {
                    return Err(self.err(
                        ErrorKind::SyntaxError,
                        lo,
                        hi,
                        "invalid decimal literal",
                    ));
                }
            }
        }
        Ok(text.replace('_', ""))
    }

    /// `1abc` is one bad token, not a number followed by a name.
    fn check_number_end(&self, lo: usize) -> Result<(), LexError> {
        let next = self.src[self.pos..].chars().next();
        if next.is_some_and(is_ident_continue) {
            let mut hi = self.pos;
            for (i, c) in self.src[self.pos..].char_indices() {
                if !is_ident_continue(c) {
                    break;
                }
                hi = self.pos + i + c.len_utf8();
            }
            return Err(self.err(ErrorKind::SyntaxError, lo, hi, "invalid decimal literal"));
        }
        Ok(())
    }

    /// A string literal whose prefix (lowercased, possibly empty) started at `lo`; `self.pos`
    /// is at the opening quote.
    fn string(&mut self, lo: usize, prefix: &str) -> Result<(), LexError> {
        let q = self.bytes[self.pos];
        let triple = self.peek(1) == q && self.peek(2) == q;
        let qlen = if triple { 3 } else { 1 };
        let body_lo = self.pos + qlen;
        let mut p = body_lo;
        let b = self.bytes;
        let body_hi = loop {
            if p >= b.len() {
                let line = line_of(self.src, lo);
                let mut e = if triple {
                    self.err(
                        ErrorKind::SyntaxError,
                        lo,
                        body_lo,
                        format!(
                            "unterminated triple-quoted string literal (detected at line {})",
                            line_of(self.src, b.len())
                        ),
                    )
                } else {
                    self.err(
                        ErrorKind::SyntaxError,
                        lo,
                        body_lo,
                        format!("unterminated string literal (detected at line {line})"),
                    )
                };
                e.incomplete = triple;
                return Err(e);
            }
            match b[p] {
                b'\\' => p += 2,
                b'\n' if !triple => {
                    let line = line_of(self.src, lo);
                    return Err(self.err(
                        ErrorKind::SyntaxError,
                        lo,
                        body_lo,
                        format!("unterminated string literal (detected at line {line})"),
                    ));
                }
                c if c == q
                    && (!triple || (self.peek_at(p + 1) == q && self.peek_at(p + 2) == q)) =>
                {
                    break p;
                }
                _ => p += 1,
            }
        };
        let hi = body_hi + qlen;
        let raw = &self.src[body_lo..body_hi.min(self.src.len())];
        self.pos = hi;
        let kind = match prefix {
            "f" => TokenKind::FString(raw.to_string()),
            "r" => TokenKind::Str(raw.to_string()),
            _ => TokenKind::Str(unescape(raw).map_err(|(a, z, m)| {
                self.err(ErrorKind::SyntaxError, body_lo + a, body_lo + z, m)
            })?),
        };
        self.push(kind, lo, hi);
        Ok(())
    }

    fn peek_at(&self, p: usize) -> u8 {
        *self.bytes.get(p).unwrap_or(&0)
    }
}

/// Process backslash escapes. On error: the byte range within `raw` and the message.
pub(crate) fn unescape(raw: &str) -> Result<String, (usize, usize, String)> {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = it.next() else {
            out.push('\\');
            break;
        };
        let hex = |it: &mut std::iter::Peekable<std::str::CharIndices>, n: usize, name: &str| {
            let mut v = 0u32;
            for k in 0..n {
                match it.peek().and_then(|(_, d)| d.to_digit(16)) {
                    Some(d) => {
                        v = v * 16 + d;
                        it.next();
                    }
                    None => {
                        return Err((
                            i,
                            i + 2 + k,
                            format!("truncated \\{name} escape in string literal"),
                        ))
                    }
                }
            }
            char::from_u32(v).ok_or((i, i + 2 + n, "invalid Unicode escape".to_string()))
        };
        match e {
            '\n' => {}
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            'x' => out.push(hex(&mut it, 2, "xXX")?),
            'u' => out.push(hex(&mut it, 4, "uXXXX")?),
            'U' => out.push(hex(&mut it, 8, "UXXXXXXXX")?),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match it.peek().and_then(|(_, d)| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            // Python keeps unknown escapes (with a warning); so do we.
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}
