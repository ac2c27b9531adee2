//! What the kernel shows: values as mime bundles, errors as ANSI tracebacks, kernel_info.

use kiln_runtime::Value;
use serde_json::{json, Value as Json};

/// `repr` of a value, as Jupyter's `text/plain`: the runtime's, so results look the same in
/// `kiln run`, the REPL and the notebook.
pub fn repr(v: &Value) -> String {
    kiln_runtime::repr_value(v)
}

/// The mime bundle of a result or a `display(v)`.
pub fn mime_bundle(v: &Value) -> Json {
    // Small 2-D arrays also carry an HTML table, as a notebook user expects.
    match v {
        Value::Array(a) => match kiln_runtime::html_table(a) {
            Some(html) => json!({ "text/plain": repr(v), "text/html": html }),
            None => json!({ "text/plain": repr(v) }),
        },
        _ => json!({ "text/plain": repr(v) }),
    }
}

const RED: &str = "\x1b[0;31m";
const BOLD_RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[0;32m";
const CYAN: &str = "\x1b[0;36m";
const RESET: &str = "\x1b[0m";

/// Colour a plain-text error report the way IPython's tracebacks look: carets red, hints
/// cyan, locations green, and a final bold `ename: evalue` line (added if the report lacks it).
pub fn ansi_traceback(ename: &str, evalue: &str, lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| {
            let t = l.trim_start();
            if !t.is_empty() && t.chars().all(|c| c == '^' || c == '~' || c == ' ') {
                format!("{RED}{l}{RESET}")
            } else if t.starts_with("hint") || t.starts_with("help") {
                format!("{CYAN}{l}{RESET}")
            } else if let Some(rest) = l.strip_prefix(&format!("{ename}:")) {
                format!("{BOLD_RED}{ename}{RESET}:{rest}")
            } else if t.starts_with("-->")
                || t.starts_with("File ")
                || t.starts_with("Cell ")
                || t.starts_with("in ")
            {
                format!("{GREEN}{l}{RESET}")
            } else {
                l.clone()
            }
        })
        .collect();
    if !lines.iter().any(|l| l.starts_with(&format!("{ename}:"))) {
        out.push(format!("{BOLD_RED}{ename}{RESET}: {evalue}"));
    }
    out
}

pub fn kernel_info_content() -> Json {
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "status": "ok",
        "protocol_version": super::wire::PROTOCOL_VERSION,
        "implementation": "kiln",
        "implementation_version": version,
        "language_info": {
            "name": "kiln",
            "version": version,
            "mimetype": "text/x-kiln",
            "file_extension": ".kiln",
            "pygments_lexer": "python",
            "codemirror_mode": "python",
            "nbconvert_exporter": "script",
        },
        "banner": format!(
            "Kiln {version}: a JIT-compiled Python/NumPy-like array language.\n\
             Loops marked @par run on CPU threads, @gpu on OpenCL. Type name? for help, %lsmagic for magics."
        ),
        "help_links": [
            { "text": "Python reference", "url": "https://docs.python.org/3/reference/" },
            { "text": "NumPy reference", "url": "https://numpy.org/doc/stable/reference/" },
        ],
        "debugger": false,
    })
}

/// `name?`, `?name`, `name??`: the name to page help for, if the cell is only that.
pub fn pager_target(code: &str) -> Option<&str> {
    let t = code.trim();
    if t.contains('\n') || !(t.starts_with('?') || t.ends_with('?')) {
        return None;
    }
    let name = t.trim_matches('?').trim();
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    ok.then_some(name)
}

/// Jupyter counts cursor positions in Unicode code points; the session counts bytes.
pub fn char_to_byte(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

pub fn byte_to_char(s: &str, byte: usize) -> usize {
    let byte = byte.min(s.len());
    s.char_indices().take_while(|(b, _)| *b < byte).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager() {
        assert_eq!(pager_target("zeros?"), Some("zeros"));
        assert_eq!(pager_target("?zeros"), Some("zeros"));
        assert_eq!(pager_target("np.zeros??"), Some("np.zeros"));
        assert_eq!(pager_target("x = 1"), None);
        assert_eq!(pager_target("a if b else c?"), None);
        assert_eq!(pager_target("?"), None);
    }

    #[test]
    fn cursor_units() {
        let s = "é = 1";
        assert_eq!(char_to_byte(s, 1), 2);
        assert_eq!(byte_to_char(s, 2), 1);
        assert_eq!(char_to_byte(s, 99), s.len());
    }

    #[test]
    fn traceback_gets_final_line() {
        let tb = ansi_traceback(
            "ZeroDivisionError",
            "integer division by zero",
            &["  1 // 0".into(), "  ^^^^^^".into()],
        );
        assert_eq!(tb.len(), 3);
        assert!(tb[1].starts_with(RED));
        assert!(tb[2].contains("ZeroDivisionError"));
    }
}
