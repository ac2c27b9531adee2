//! What users read speaks of Kiln as it is: no string literal in the compiler, the runtime or
//! the kernel mentions issues, versions to come or things the build will have "yet".
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
    "in the future",
];

/// The string literals of a Rust source, roughly: the text between unescaped double quotes,
/// outside comments.
fn literals(src: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut inside = false;
        let mut cur = String::new();
        let mut prev = ' ';
        for c in line.chars() {
            if !inside && c == '/' && prev == '/' {
                break; // a comment after the code
            }
            if c == '"' && prev != '\\' {
                if inside {
                    out.push((n + 1, std::mem::take(&mut cur)));
                }
                inside = !inside;
            } else if inside {
                cur.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
        }
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
        // The registry's own test lists these words to look for them.
        if f.ends_with("builtins/tests.rs") {
            continue;
        }
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
