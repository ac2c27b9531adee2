//! `kiln run` on a file that uses IPython's shell conventions: `%%writefile` and `!cat` in
//! the directory `kiln run` starts in, `%cd`, `%pwd` as a result, and a failing `%%bash`
//! that stops the run with IPython's CalledProcessError.
use std::process::Command;

#[test]
fn run_writes_files_runs_commands_and_changes_directory() {
    let dir = std::env::temp_dir().join(format!("kiln-cli-shell-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let dir = dir.canonicalize().unwrap();
    let file = dir.join("cells.kiln");
    std::fs::write(
        &file,
        "%%writefile data.txt\n3 4\n# %%\n!cat data.txt\nn = 2\n!echo n is set\nprint(n * 5)\n\
         # %%\n%cd sub\n# %%\n%pwd\n# %%\n%%bash\necho last\nexit 4\n# %%\nprint('not reached')\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("run")
        .arg(&file)
        .current_dir(&dir)
        .output()
        .expect("kiln runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let sub = dir.join("sub");
    assert_eq!(
        stdout,
        format!(
            "Writing data.txt\n3 4\nn is set\n10\n{}\n'{}'\nlast\n",
            sub.display(),
            sub.display()
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            r"CalledProcessError: Command 'b'echo last\nexit 4\n'' returned non-zero exit status 4."
        ),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.join("data.txt")).unwrap(),
        "3 4\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
