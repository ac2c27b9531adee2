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

#[test]
fn ctrl_c_interrupts_a_command_in_kiln_run() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("kiln-cli-ctrl-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sleep.kiln");
    std::fs::write(&file, "!echo started; sleep 30\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("run")
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kiln runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "started\n");
    // What a terminal's Ctrl-C sends to kiln (the command is in a process group of its own).
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Not interrupted, the command would have ended by itself and kiln run with status 0.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("KeyboardInterrupt"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
