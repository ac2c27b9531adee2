//! Python-style error reports (SPEC.md §10): the cell and line:column, the source line with a
//! caret under the span, the chain of calls for runtime errors, then `Name: message` and an
//! optional hint. Plain text lines; `colorize` adds ANSI colours for Jupyter.
use crate::diag::Diagnostic;
use crate::syntax::ast::Span;

/// One entry of a call chain: where in which cell's source the error (or the call leading to
/// it) happened. Functions may be defined in earlier cells, so each frame carries its own
/// source and cell number.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The function's name, or `"<cell>"` for top-level code.
    pub func: String,
    pub span: Span,
    pub source: std::rc::Rc<str>,
    /// 1-based, as Jupyter's `In [n]`.
    pub cell: usize,
}

/// 1-based line and column of a byte offset; the column counts characters, not bytes, so the
/// caret lines up under non-ASCII text. Offsets past the end (or inside a character) clamp.
pub fn line_col(source: &str, byte_offset: usize) -> (usize, usize) {
    let mut off = byte_offset.min(source.len());
    while !source.is_char_boundary(off) {
        off -= 1;
    }
    let before = &source[..off];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, source[line_start..off].chars().count() + 1)
}

/// The source line containing `span.lo` (without its leading indentation) and the caret line
/// under the span. A span that runs past the line is underlined to the line's end.
fn snippet(source: &str, span: Span) -> [String; 2] {
    let (line_no, col) = line_col(source, span.lo as usize);
    let line = source.split('\n').nth(line_no - 1).unwrap_or("");
    let line = line.trim_end_matches('\r');
    // Python strips the indentation from traceback lines; keep whatever part of it the span
    // points into (an indentation error), and show tabs as one space so carets line up.
    let indent = line.chars().take_while(|c| c.is_whitespace()).count();
    let strip = indent.min(col - 1);
    let text: String = line
        .chars()
        .skip(strip)
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let (end_line, end_col) = line_col(source, span.hi as usize);
    let line_chars = line.chars().count();
    let end_col = if end_line == line_no {
        end_col
    } else {
        line_chars + 1
    };
    let width = end_col.saturating_sub(col).max(1);
    let caret = format!("    {}{}", " ".repeat(col - 1 - strip), "^".repeat(width));
    [format!("    {text}"), caret]
}

fn frame_lines(out: &mut Vec<String>, source: &str, cell: usize, span: Span, func: Option<&str>) {
    let (line, col) = line_col(source, span.lo as usize);
    match func {
        Some(f) => out.push(format!("  cell {cell}, line {line}:{col}, in {f}")),
        None => out.push(format!("  cell {cell}, line {line}:{col}")),
    }
    out.extend(snippet(source, span));
}

fn tail(out: &mut Vec<String>, ename: &str, message: &str, hint: Option<&str>) {
    if message.is_empty() {
        out.push(ename.to_string());
    } else {
        out.push(format!("{ename}: {message}"));
    }
    if let Some(h) = hint {
        out.push(format!("hint: {h}"));
    }
}

/// A runtime error with its call chain, outermost first and innermost last, as Python prints.
pub fn render_traceback(
    frames: &[Frame],
    ename: &str,
    message: &str,
    hint: Option<&str>,
) -> Vec<String> {
    let mut out = vec!["Traceback (most recent call last):".to_string()];
    for f in frames {
        frame_lines(&mut out, &f.source, f.cell, f.span, Some(&f.func));
    }
    tail(&mut out, ename, message, hint);
    out
}

/// A compile-time error: one location (no call chain), then its notes, then the message.
pub fn render_diagnostic(d: &Diagnostic, source: &str, cell: usize) -> Vec<String> {
    let mut out = Vec::new();
    frame_lines(&mut out, source, cell, d.span, None);
    for (span, note) in &d.notes {
        let (line, col) = line_col(source, span.lo as usize);
        out.push(format!("  note: cell {cell}, line {line}:{col}: {note}"));
        out.extend(snippet(source, *span));
    }
    tail(&mut out, d.kind.name(), &d.message, d.hint.as_deref());
    out
}

const RED: &str = "\x1b[0;31m";
const BOLD_RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[0;32m";
const BOLD: &str = "\x1b[1m";
const CYAN: &str = "\x1b[0;36m";
const RESET: &str = "\x1b[0m";

/// IPython-like colours for the lines of `render_traceback`/`render_diagnostic`: red error
/// name, bold frame headers, green carets, cyan hint and note labels.
pub fn colorize(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let t = l.trim_start();
            if l.starts_with("Traceback ") {
                format!("{RED}{l}{RESET}")
            } else if l.starts_with("  cell ") {
                format!("{BOLD}{l}{RESET}")
            } else if !t.is_empty() && t.chars().all(|c| c == '^') {
                let ind = &l[..l.len() - t.len()];
                format!("{ind}{GREEN}{t}{RESET}")
            } else if let Some(rest) = l.strip_prefix("hint:") {
                format!("{CYAN}hint:{RESET}{rest}")
            } else if let Some(rest) = l.strip_prefix("  note:") {
                format!("  {CYAN}note:{RESET}{rest}")
            } else if !l.starts_with(' ') && is_error_line(l) {
                let (name, rest) = l.split_at(l.find(':').unwrap_or(l.len()));
                format!("{BOLD_RED}{name}{RESET}{rest}")
            } else {
                l.clone()
            }
        })
        .collect()
}

/// `SomeError: ...` or a bare `KeyboardInterrupt`.
fn is_error_line(l: &str) -> bool {
    let name = l.split(':').next().unwrap_or("");
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric())
        && name.starts_with(|c: char| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::ErrorKind;

    #[test]
    fn line_col_counts_chars() {
        let s = "ab\nπx = 1\n";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 3), (2, 1));
        assert_eq!(line_col(s, 5), (2, 2)); // after the 2-byte 'π'
        assert_eq!(line_col(s, 4), (2, 1)); // inside 'π': clamps back
        assert_eq!(line_col(s, 999), (3, 1));
    }

    #[test]
    fn traceback_shape() {
        let cell1: std::rc::Rc<str> = "def f(n, k):\n    return n // k\n".into();
        let cell2: std::rc::Rc<str> = "x = 1\ny = f(x, 0)\n".into();
        let frames = [
            Frame {
                func: "<cell>".into(),
                span: Span::new(10, 17),
                source: cell2.clone(),
                cell: 2,
            },
            Frame {
                func: "f".into(),
                span: Span::new(24, 30),
                source: cell1,
                cell: 1,
            },
        ];
        let got = render_traceback(
            &frames,
            "ZeroDivisionError",
            "integer division or modulo by zero",
            Some("check k"),
        );
        let want = [
            "Traceback (most recent call last):",
            "  cell 2, line 2:5, in <cell>",
            "    y = f(x, 0)",
            "        ^^^^^^^",
            "  cell 1, line 2:12, in f",
            "    return n // k",
            "           ^^^^^^",
            "ZeroDivisionError: integer division or modulo by zero",
            "hint: check k",
        ];
        assert_eq!(got, want);
        let c = colorize(&got);
        assert!(c[7].starts_with("\x1b[1;31mZeroDivisionError\x1b[0m: "));
        assert_eq!(c[3], "        \x1b[0;32m^^^^^^^\x1b[0m");
    }

    #[test]
    fn diagnostic_with_note() {
        let src = "x = 1\nx = zeros(3)\n";
        let d = Diagnostic::new(
            ErrorKind::TypeError,
            Span::new(6, 18),
            "x is i64 and f64[:]",
        )
        .with_note(Span::new(0, 5), "first assigned here")
        .with_hint("use two names");
        let got = render_diagnostic(&d, src, 3);
        let want = [
            "  cell 3, line 2:1",
            "    x = zeros(3)",
            "    ^^^^^^^^^^^^",
            "  note: cell 3, line 1:1: first assigned here",
            "    x = 1",
            "    ^^^^^",
            "TypeError: x is i64 and f64[:]",
            "hint: use two names",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn multiline_and_empty_spans() {
        let src = "x = (1 +\n  2)";
        let d = Diagnostic::new(ErrorKind::SyntaxError, Span::new(4, 13), "m");
        assert_eq!(render_diagnostic(&d, src, 1)[2], "        ^^^^");
        let d = Diagnostic::new(ErrorKind::SyntaxError, Span::new(13, 13), "m");
        assert_eq!(render_diagnostic(&d, src, 1)[1..3], ["    2)", "      ^"]);
    }
}
