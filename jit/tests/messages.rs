//! What users read speaks of Kiln as it is: no string literal in the compiler, the runtime or
//! the kernel (error messages, builtin help lines, hints) mentions issues, versions to come,
//! the SPEC, or things the build will have "yet".
use std::path::Path;

/// Phrases that speak of plans rather than of what Kiln does.
const ROADMAP: &[&str] = &[
    "issue",
    "not yet",
    "does not have yet",
    "kiln v1",
    "arrives with",
    "arrive with",
    "roadmap",
    "coming soon",
    "future",
    "later",
    " yet",
    "spec §",
    "spec.md",
];

/// The string literals of a Rust source, roughly, with the line each starts on: the text
/// between unescaped double quotes outside comments and character literals. A literal may
/// span lines (`"...\` continued on the next line).
fn literals(src: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let mut open: Option<(usize, String)> = None;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
        }
        match &mut open {
            Some((_, text)) => match c {
                '\\' => {
                    // An escape: keep the escaped character, skip a line continuation's
                    // newline without counting it twice.
                    if let Some(&next) = chars.get(i + 1) {
                        if next == '\n' {
                            line += 1;
                        } else {
                            text.push(next);
                        }
                    }
                    i += 1;
                }
                '"' => out.push(open.take().unwrap()),
                _ => text.push(c),
            },
            None => {
                if c == '/' && chars.get(i + 1) == Some(&'/') {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
                if c == '\'' && chars.get(i + 2) == Some(&'\'') {
                    i += 3; // a character literal such as '"'
                    continue;
                }
                if c == '\'' && chars.get(i + 1) == Some(&'\\') && chars.get(i + 3) == Some(&'\'') {
                    i += 4; // an escaped one such as '\"'
                    continue;
                }
                if c == '"' {
                    open = Some((line, String::new()));
                }
            }
        }
        i += 1;
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn user_facing_text_speaks_of_kiln_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["jit/src", "runtime/src", "kernel/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "found only {} sources", files.len());
    let mut bad = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        for (line, text) in literals(&src) {
            let lower = text.to_lowercase();
            if let Some(w) = ROADMAP.iter().find(|w| lower.contains(*w)) {
                bad.push(format!("{}:{line}: {w:?} in {text:?}", f.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "user-facing text about plans:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scan_finds_what_it_looks_for() {
    let found = literals("let m = \"arrives with the arrays issue\"; // \"issue\"\n");
    assert_eq!(
        found,
        vec![(1, "arrives with the arrays issue".to_string())]
    );
}
