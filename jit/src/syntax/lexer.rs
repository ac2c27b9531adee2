//! Indentation-aware lexer (stub until implemented).
use crate::diag::Diagnostic;
use crate::syntax::ast::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
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

pub fn tokenize(src: &str) -> Result<Vec<Token>, Diagnostic> {
    let _ = src;
    Ok(Vec::new())
}
