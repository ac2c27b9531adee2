//! Compile-time diagnostics: an error kind with Python's name, a message, the span it points
//! at, and an optional hint. Rendering with the source line and a caret happens in
//! `crate::report`, at the edge.

pub use kiln_runtime::ErrorKind;

use crate::syntax::ast::Span;

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub kind: ErrorKind,
    pub message: String,
    pub span: Span,
    pub hint: Option<String>,
    /// Other places worth showing (e.g. the earlier assignment in a type conflict).
    pub notes: Vec<(Span, String)>,
    /// The cell whose source the spans point into, when it is not the cell being compiled
    /// (an error inside a function defined in an earlier cell).
    pub cell: Option<usize>,
}

impl Diagnostic {
    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            kind,
            message: message.into(),
            span,
            hint: None,
            notes: Vec::new(),
            cell: None,
        }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_note(mut self, span: Span, note: impl Into<String>) -> Diagnostic {
        self.notes.push((span, note.into()));
        self
    }
}
