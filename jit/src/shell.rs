//! Shell commands of the IPython conventions (SPEC.md §8): `!cmd` lines and `%%bash` /
//! `%%sh` cells run a child process in the session's current directory (the process's,
//! which `%cd` changes), with stdin closed and its stdout and stderr streamed to the cell as
//! they arrive, each chunk one `Output::Stdout` / `Output::Stderr`.
//!
//! The child leads a process group of its own. An interrupt (the session's flag, which
//! Jupyter's interrupt sets) kills that whole group with SIGKILL, so a pipeline or a script's
//! own children end with it, and the cell reports `KeyboardInterrupt`. A command that exits
//! while something it started in the background still holds its output open
//! (`!server &`) ends the cell after a short grace: the background process keeps running,
//! as in a terminal, and what it prints later is dropped.

use crate::outcome::Output;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often the flag and the child are looked at while no output comes.
const POLL: Duration = Duration::from_millis(10);
/// How long output is still read after the command exited while a background process
/// holds its pipes open.
const GRACE: Duration = Duration::from_millis(100);

/// How a command ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Its exit status.
    Exited(i32),
    /// Killed by this signal (not by Kiln).
    Signaled(i32),
    /// The session's interrupt flag was set: its process group was killed.
    Interrupted,
}

/// Run `program args...` in the current directory, streaming its output into `sink`, until
/// it ends or `interrupt` is set. An error only when it cannot be started.
pub fn run(
    program: &str,
    args: &[&str],
    interrupt: &AtomicBool,
    sink: &mut dyn FnMut(Output),
) -> std::io::Result<Ended> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let pgid = child.id() as i32;
    // One reader thread per pipe; `None` is its end of file.
    let (tx, rx) = mpsc::channel::<(bool, Option<Vec<u8>>)>();
    let pipes: [(bool, Option<Box<dyn Read + Send>>); 2] = [
        (
            false,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            true,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ];
    let mut open = 0;
    for (is_err, pipe) in pipes {
        let Some(mut pipe) = pipe else { continue };
        open += 1;
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 14];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send((is_err, Some(buf[..n].to_vec()))).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send((is_err, None));
        });
    }
    drop(tx);
    let mut text = [Utf8Stream::default(), Utf8Stream::default()];
    let mut emit = |is_err: bool, bytes: &[u8], sink: &mut dyn FnMut(Output)| {
        let s = text[is_err as usize].push(bytes);
        if !s.is_empty() {
            sink(if is_err {
                Output::Stderr(s)
            } else {
                Output::Stdout(s)
            });
        }
    };
    let mut exited: Option<(ExitStatus, Instant)> = None;
    let ended = loop {
        if open > 0 {
            match rx.recv_timeout(POLL) {
                Ok((is_err, Some(bytes))) => emit(is_err, &bytes, sink),
                Ok((_, None)) => open -= 1,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => open = 0,
            }
        } else if exited.is_none() {
            std::thread::sleep(POLL);
        }
        if interrupt.load(Ordering::SeqCst) {
            // SAFETY: kill(2) on the child's own process group; no memory is involved.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            let _ = child.wait();
            break Ended::Interrupted;
        }
        if exited.is_none() {
            if let Some(status) = child.try_wait()? {
                exited = Some((status, Instant::now()));
            }
        }
        if let Some((status, at)) = exited {
            if open == 0 || at.elapsed() > GRACE {
                break match (status.code(), status.signal()) {
                    (Some(code), _) => Ended::Exited(code),
                    (None, Some(sig)) => Ended::Signaled(sig),
                    (None, None) => Ended::Exited(-1),
                };
            }
        }
    };
    // Whatever arrived before the end, then the tails of split characters.
    while let Ok((is_err, Some(bytes))) = rx.try_recv() {
        emit(is_err, &bytes, sink);
    }
    for is_err in [false, true] {
        let rest = std::mem::take(&mut text[is_err as usize].pending);
        if !rest.is_empty() {
            let s = String::from_utf8_lossy(&rest).into_owned();
            sink(if is_err {
                Output::Stderr(s)
            } else {
                Output::Stdout(s)
            });
        }
    }
    Ok(ended)
}

/// Bytes to text as they arrive: a character split between two reads waits for its end;
/// invalid bytes become U+FFFD.
#[derive(Default)]
struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            out.push('\u{FFFD}');
                            rest = &bad[n..];
                        }
                        // An incomplete character at the end: kept for the next read.
                        None => {
                            rest = bad;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        out
    }
}

/// Python's `repr` of a `bytes` object (how `CalledProcessError` names the command).
pub fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::from("b");
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c == quote as u8 => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

/// Python's `signal.Signals(n)` repr for the signals a script commonly dies of.
pub fn signal_repr(sig: i32) -> String {
    let name = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return sig.to_string(),
    };
    format!("<Signals.{name}: {sig}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(script: &str) -> (String, String, Ended) {
        let flag = AtomicBool::new(false);
        let (mut out, mut err) = (String::new(), String::new());
        let ended = run("/bin/sh", &["-c", script], &flag, &mut |o| match o {
            Output::Stdout(t) => out.push_str(&t),
            Output::Stderr(t) => err.push_str(&t),
            _ => {}
        })
        .unwrap();
        (out, err, ended)
    }

    #[test]
    fn output_and_status() {
        assert_eq!(
            collect("echo out; echo err >&2; exit 3"),
            ("out\n".into(), "err\n".into(), Ended::Exited(3))
        );
        assert_eq!(collect("kill -9 $$").2, Ended::Signaled(9));
    }

    #[test]
    fn a_background_process_holding_the_pipe_does_not_hold_the_cell() {
        // The background sleep keeps the pipe open for 30 s: had the cell waited for the
        // pipe to close, the sleep would be over when it returns.
        let (out, err, ended) = collect("echo fg; sleep 30 & echo $! >&2");
        assert_eq!((out.as_str(), ended), ("fg\n", Ended::Exited(0)));
        let pid = err.trim();
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        let _ = Command::new("kill").arg("-9").arg(pid).status();
        assert!(alive, "the cell ended only after its background process");
    }

    #[test]
    fn a_set_flag_kills_the_group() {
        let flag = AtomicBool::new(true);
        let r = run("/bin/sh", &["-c", "sleep 30 | cat"], &flag, &mut |_| {}).unwrap();
        assert_eq!(r, Ended::Interrupted);
    }

    #[test]
    fn split_characters_are_joined() {
        let mut u = Utf8Stream::default();
        let bytes = "aπb".as_bytes();
        assert_eq!(u.push(&bytes[..2]), "a");
        assert_eq!(u.push(&bytes[2..]), "πb");
        assert_eq!(u.push(b"\xffz"), "\u{FFFD}z");
    }

    #[test]
    fn bytes_like_python() {
        assert_eq!(bytes_repr(b"exit 3\n"), r"b'exit 3\n'");
        assert_eq!(bytes_repr(b"echo 'x'\n"), r#"b"echo 'x'\n""#);
        assert_eq!(bytes_repr("é\t\"'".as_bytes()), r#"b'\xc3\xa9\t"\''"#);
        assert_eq!(signal_repr(9), "<Signals.SIGKILL: 9>");
    }
}
