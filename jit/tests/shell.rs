//! IPython's shell conventions in a session: `%%writefile`, `!cmd`, `%%bash`/`%%sh`, `%cd`,
//! `%pwd`. The current directory is the process's, so only `cd_and_pwd` changes it and every
//! other test names its files by absolute paths.
mod common;
use common::{err, hang_guard, ok};
use kiln_jit::{ExecResult, Output, Session};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiln-shell-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every output of a cell, in order, as ("stdout" | "stderr", text).
fn outputs(s: &mut Session, code: &str) -> (Vec<(&'static str, String)>, ExecResult) {
    let mut outs = Vec::new();
    let r = s.execute(code, &mut |o| match o {
        Output::Stdout(t) => outs.push(("stdout", t)),
        Output::Stderr(t) => outs.push(("stderr", t)),
        _ => {}
    });
    (outs, r)
}

#[test]
fn writefile_then_cat_and_append() {
    let d = temp_dir("writefile");
    let f = d.join("notes.txt");
    let f = f.to_str().unwrap();
    let mut s = Session::new();
    let (out, _) = ok(&mut s, &format!("%%writefile {f}\nfirst line"));
    assert_eq!(out, format!("Writing {f}\n"));
    let (out, _) = ok(&mut s, &format!("!cat {f}"));
    assert_eq!(out, "first line\n");
    let (out, _) = ok(&mut s, &format!("%%writefile -a {f}\nsecond\n"));
    assert_eq!(out, format!("Appending to {f}\n"));
    assert_eq!(std::fs::read_to_string(f).unwrap(), "first line\nsecond\n");
    let (out, _) = ok(&mut s, &format!("%%writefile {f}\nreplaced\n"));
    assert_eq!(out, format!("Overwriting {f}\n"));
    assert_eq!(std::fs::read_to_string(f).unwrap(), "replaced\n");
    // A missing directory: Python's error, and the session goes on.
    let missing = d.join("no/such/dir.txt");
    let missing = missing.to_str().unwrap();
    let (out, e) = err(&mut s, &format!("%%writefile {missing}\nx\n"));
    assert_eq!(out, "");
    assert_eq!(e.ename, "FileNotFoundError");
    assert_eq!(
        e.evalue,
        format!("[Errno 2] No such file or directory: '{missing}'")
    );
    let (_, e) = err(&mut s, "%%writefile\nx\n");
    assert!(e.evalue.contains("filename"), "{}", e.evalue);
    assert_eq!(ok(&mut s, "1 + 1").1.as_deref(), Some("2"));
}

#[test]
fn bang_lines_run_in_order_among_code() {
    let mut s = Session::new();
    let (outs, r) = outputs(
        &mut s,
        "print('one')\n!echo two; echo warn >&2\nbang_x = 3\n!false\nprint(bang_x)\nbang_x",
    );
    let ExecResult::Ok(Some(v)) = r else {
        panic!("the cell should give bang_x")
    };
    assert_eq!(kiln_runtime::repr_value(&v), "3");
    let stdout: String = outs
        .iter()
        .filter(|o| o.0 == "stdout")
        .map(|o| o.1.as_str())
        .collect();
    assert_eq!(stdout, "one\ntwo\n3\n");
    assert_eq!(
        outs.iter().filter(|o| o.0 == "stderr").collect::<Vec<_>>(),
        vec![&("stderr", "warn\n".to_string())]
    );
    // An error in a code part stops the `!` lines after it.
    let (outs, r) = outputs(&mut s, "!echo before\nbang_y = 1 // 0\n!echo after");
    assert!(matches!(r, ExecResult::Err(e) if e.ename == "ZeroDivisionError"));
    assert_eq!(outs, vec![("stdout", "before\n".to_string())]);
}

#[test]
fn bang_lines_expand_globals_as_ipython_does() {
    let mut s = Session::new();
    ok(&mut s, "exp_n = 3\nexp_name = 'a b'");
    let (out, _) = ok(
        &mut s,
        "!echo {exp_n * 2} $exp_n \"$exp_name\" '$exp_n' {{x}}",
    );
    assert_eq!(out, "6 3 a b $exp_n {x}\n");
    // One part that cannot be expanded leaves the whole line to the shell.
    let (out, _) = ok(&mut s, "!X=shell; echo $X {exp_n}");
    assert_eq!(out, "shell {exp_n}\n");
    // An expansion only reads: `{exp_n = 5}` is no assignment.
    ok(&mut s, "!true {exp_n = 5}");
    assert_eq!(ok(&mut s, "exp_n").1.as_deref(), Some("3"));
}

#[test]
fn bang_output_is_streamed_while_the_command_runs() {
    // The command prints `b` only once the first line has reached the cell (the sink
    // makes the file it waits for): without streaming it would print `unstreamed`.
    let d = temp_dir("stream");
    let flag = d.join("seen");
    let mut s = Session::new();
    let mut outs = Vec::new();
    let code = format!(
        "!echo a; for i in $(seq 1 1000); do [ -e {f} ] && break; sleep 0.01; done; [ -e {f} ] && echo b || echo unstreamed",
        f = flag.display()
    );
    let r = s.execute(&code, &mut |o| {
        if let Output::Stdout(t) = o {
            if t.contains('a') {
                std::fs::write(&flag, "").unwrap();
            }
            outs.push(t);
        }
    });
    assert!(matches!(r, ExecResult::Ok(None)));
    assert_eq!(outs, vec!["a\n", "b\n"]);
}

#[test]
fn bash_and_sh_cells() {
    let mut s = Session::new();
    let (out, _) = ok(&mut s, "%%bash\nx=4\necho $((x * 2))");
    assert_eq!(out, "8\n");
    let (out, _) = ok(&mut s, "%%sh\necho from sh");
    assert_eq!(out, "from sh\n");
    let (out, e) = err(&mut s, "%%bash\necho partial\nexit 3");
    assert_eq!(out, "partial\n");
    assert_eq!(e.ename, "CalledProcessError");
    assert_eq!(
        e.evalue,
        r"Command 'b'echo partial\nexit 3\n'' returned non-zero exit status 3."
    );
    let (_, e) = err(&mut s, "%%sh\nkill -9 $$\n");
    assert_eq!(
        e.evalue,
        r"Command 'b'kill -9 $$\n'' died with <Signals.SIGKILL: 9>."
    );
    assert_eq!(ok(&mut s, "2 * 3").1.as_deref(), Some("6"));
}

#[test]
fn an_interrupt_kills_the_command_and_its_children() {
    let done = hang_guard("an_interrupt_kills_the_command_and_its_children");
    let d = temp_dir("interrupt");
    let pidfile = d.join("pid");
    let mut s = Session::new();
    ok(&mut s, "kept = 5");
    for cell in [
        format!(
            "!sleep 30 & echo $! > {}; echo started; wait",
            pidfile.display()
        ),
        format!(
            "%%bash\nsleep 30 &\necho $! > {}\necho started\nwait",
            pidfile.display()
        ),
    ] {
        let flag = s.interrupt_handle();
        let r = s.execute(&cell, &mut |o| {
            if matches!(&o, Output::Stdout(t) if t.contains("started")) {
                flag.store(true, Ordering::SeqCst);
            }
        });
        match r {
            ExecResult::Err(e) => assert_eq!(e.ename, "KeyboardInterrupt", "{cell}"),
            ExecResult::Ok(_) => panic!("{cell}: the interrupt was not seen"),
        }
        // The background `sleep` was in the command's process group: it is gone (or a
        // zombie waiting for init), not sleeping on.
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        let mut alive = true;
        for _ in 0..500 {
            match std::fs::read_to_string(&stat) {
                Err(_) => alive = false,
                Ok(t) => alive = !t.rsplit(')').next().unwrap_or("").trim().starts_with('Z'),
            }
            if !alive {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!alive, "{cell}: the background sleep survived");
        // The interrupt is spent: the next cell runs, with the globals kept.
        assert_eq!(ok(&mut s, "kept + 1").1.as_deref(), Some("6"));
    }
    done.store(true, Ordering::Relaxed);
}

#[test]
fn cd_and_pwd() {
    let d = temp_dir("cd").canonicalize().unwrap();
    let start = std::env::current_dir().unwrap();
    let mut s = Session::new();
    let (out, _) = ok(&mut s, &format!("%cd {}", d.display()));
    assert_eq!(out, format!("{}\n", d.display()));
    let (_, v) = ok(&mut s, "%pwd");
    assert_eq!(v, Some(format!("'{}'", d.display())));
    // Relative names now resolve in it, for files and commands alike.
    ok(&mut s, "%%writefile here.txt\nhi\n");
    assert_eq!(std::fs::read_to_string(d.join("here.txt")).unwrap(), "hi\n");
    let (out, _) = ok(&mut s, "!cat here.txt; pwd");
    assert_eq!(out, format!("hi\n{}\n", d.display()));
    let (_, e) = err(&mut s, "%cd no-such-dir");
    assert_eq!(e.ename, "FileNotFoundError");
    assert_eq!(std::env::current_dir().unwrap(), d);
    let (out, _) = ok(&mut s, "%cd -q -");
    assert_eq!(out, "");
    assert_eq!(std::env::current_dir().unwrap(), start);
    std::env::set_current_dir(&start).unwrap();
}

#[test]
fn magics_are_listed_and_complete() {
    let mut s = Session::new();
    let (out, _) = ok(&mut s, "%lsmagic");
    for m in ["%cd", "%pwd", "%%writefile", "%%bash", "%%sh", "!cmd"] {
        assert!(out.contains(m), "{m} missing from {out}");
    }
    let c = s.complete("%%wr", 4);
    assert_eq!((c.matches, c.cursor_start), (vec!["%%writefile".into()], 0));
    let c = s.complete("x = 1\n%p", 8);
    assert_eq!((c.matches, c.cursor_start), (vec!["%pwd".into()], 6));
    let c = s.complete("%ti", 3);
    assert_eq!(c.matches, vec!["%time", "%timeit"]);
}

#[test]
fn a_repeated_cell_with_bang_lines_runs_once_in_order() {
    // `kiln run --repeat` and `%timeit` compile a cell once and run it N times; a cell
    // with `!` lines among its code cannot be one unit, so it runs once, part by part.
    let mut s = Session::new();
    let mut out = String::new();
    let r = s.execute_repeat("x = 20\n!echo from the shell\ny = x + 1", 3, &mut |o| {
        if let Output::Stdout(t) = o {
            out.push_str(&t)
        }
    });
    assert!(matches!(r, ExecResult::Ok(_)));
    assert_eq!(out, "from the shell\n");
    assert_eq!(ok(&mut s, "y").1.as_deref(), Some("21"));
}
