//! Source text → tokens → AST. Parsing never panics: it returns the tree it could build and
//! the diagnostics it found.

pub mod ast;
pub mod dump;
pub mod lexer;
pub mod parser;

pub use dump::{dump_ast, dump_tokens};
pub use lexer::{tokenize, Token, TokenKind};
pub use parser::{is_complete, parse, Completeness};
