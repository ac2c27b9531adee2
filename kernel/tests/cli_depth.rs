//! `kiln run` on a file nested 50 000 deep: a SyntaxError on stderr and exit status 1, after
//! the cells before it ran — not a process killed by a stack overflow. The main thread of
//! the binary has the default stack, so this checks that every compile leaves it.
use std::process::Command;

fn kiln_run(file_text: &str, extra: &[&str]) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("kiln-cli-depth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One file per call: the tests run in parallel and must not rewrite each other's input.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("deep{k}.kiln"));
    std::fs::write(&path, file_text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("run")
        .args(extra)
        .arg(&path)
        .output()
        .expect("kiln runs");
    let _ = std::fs::remove_file(&path);
    out
}

fn deep_file() -> String {
    let n = 50_000;
    format!(
        "print('before')\n# %%\nx = {}1{}\n",
        "(".repeat(n),
        ")".repeat(n)
    )
}

#[test]
fn run_reports_fifty_thousand_parentheses_as_a_syntax_error() {
    let out = kiln_run(&deep_file(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{:?}\n{stderr}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "before\n");
    assert!(
        stderr.contains("SyntaxError: too many nested parentheses"),
        "{stderr}"
    );
}

#[test]
fn emit_reports_it_too() {
    for stage in ["tokens", "ast", "ir"] {
        let out = kiln_run(&deep_file(), &["--emit", stage]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{stage}: {:?}\n{stderr}",
            out.status
        );
        assert!(
            stderr.contains("SyntaxError: too many nested parentheses"),
            "{stage}: {stderr}"
        );
    }
}

#[test]
fn run_compiles_a_deep_legal_chain() {
    let sum = vec!["1"; 1_900].join(" + ");
    let out = kiln_run(&format!("x = {sum}\nprint(x)\n"), &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1900\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
}
