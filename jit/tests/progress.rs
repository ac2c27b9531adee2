//! The progress line of a long cell: after the first second, how far its outermost loop is
//! (serial or parallel), renewed while it runs, and its final time; nothing for a quick cell.
//! The long cells here never end by themselves: the output callback interrupts them once it
//! has seen enough (no sleeping, no timing guesses).
mod common;
use common::{hang_guard, ok};
use kiln_jit::{ExecResult, Output, ProgressLine, Session};
use std::sync::atomic::Ordering;

/// Runs `code`, interrupting it after `lines` progress lines that follow a loop; returns
/// every progress line seen (the final one included) and the error name.
fn watch(s: &mut Session, code: &str, lines: usize) -> (Vec<ProgressLine>, String) {
    let done = hang_guard("progress");
    let flag = s.interrupt_handle();
    let mut seen = Vec::new();
    let r = s.execute(code, &mut |o| {
        if let Output::Progress(p) = o {
            if p.loop_done.is_some() && seen.len() + 1 >= lines {
                flag.store(true, Ordering::Relaxed);
            }
            seen.push(p);
        }
    });
    done.store(true, Ordering::Relaxed);
    let ename = match r {
        ExecResult::Err(e) => e.ename,
        ExecResult::Ok(_) => "none".into(),
    };
    (seen, ename)
}

#[test]
fn a_serial_loop_shows_how_far_it_is_and_then_its_time() {
    let mut s = Session::new();
    let (seen, ename) = watch(
        &mut s,
        "t = 0\nfor i in range(3, 3 + 7 * 10**15, 7):\n    t += i % 5\n",
        3,
    );
    assert_eq!(ename, "KeyboardInterrupt");
    let (running, last) = seen.split_at(seen.len() - 1);
    assert!(last[0].finished, "{seen:?}");
    assert!(
        running.len() >= 3 && running.iter().all(|p| !p.finished),
        "{seen:?}"
    );
    let fractions: Vec<(i64, i64)> = running.iter().filter_map(|p| p.loop_done).collect();
    assert!(
        fractions
            .iter()
            .all(|&(d, t)| t == 10i64.pow(15) && d >= 0 && d <= t),
        "{fractions:?}"
    );
    // The counter moves on between lines, and the elapsed time with it.
    assert!(
        fractions.windows(2).all(|w| w[0].0 <= w[1].0),
        "{fractions:?}"
    );
    assert!(
        fractions.last().unwrap().0 > fractions[0].0,
        "{fractions:?}"
    );
    assert!(running.iter().all(|p| p.elapsed_s >= 1.0));
    assert!(
        running[0].text().contains(" elapsed · ~"),
        "{}",
        running[0].text()
    );
    assert!(last[0].text().starts_with("done in "), "{}", last[0].text());
    // The session goes on; a quick cell shows no progress.
    let (seen, _) = watch(&mut s, "u = 0\nfor i in range(1000):\n    u += i\n", 1);
    assert!(seen.is_empty(), "{seen:?}");
    assert_eq!(ok(&mut s, "u").1.as_deref(), Some("499500"));
}

#[test]
fn a_parallel_loop_counts_finished_chunks() {
    let mut s = Session::new();
    // The first three quarters of the iterations are quick, the rest never end: the line
    // shows the quick chunks finished.
    let (seen, ename) = watch(
        &mut s,
        "def spin(k):\n    x = 0.0\n    for j in range(k):\n        x += 1.0\n    return x\nn = 64\nout = zeros(n)\n@par\nfor i in range(n):\n    if i < 48:\n        out[i] = spin(1000)\n    else:\n        out[i] = spin(10**15)\n",
        2,
    );
    assert_eq!(ename, "KeyboardInterrupt");
    let fractions: Vec<(i64, i64)> = seen.iter().filter_map(|p| p.loop_done).collect();
    assert!(
        !fractions.is_empty() && fractions.iter().all(|&(_, t)| t == 64),
        "{seen:?}"
    );
    assert!(
        fractions.iter().all(|&(d, _)| (1..64).contains(&d)),
        "{fractions:?}"
    );
    assert!(seen.last().unwrap().finished);
}
