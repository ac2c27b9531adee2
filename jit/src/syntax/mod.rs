//! Source text → tokens → AST. Parsing never panics: it returns the tree it could build and
//! the diagnostics it found.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use lexer::{tokenize, Token, TokenKind};
pub use parser::{is_complete, parse, Completeness};
