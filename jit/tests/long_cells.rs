//! Long cells: compile time linear in their length (bench/compile_scaling.py measures it;
//! nothing here asserts a time) and the same results, errors and tracebacks as short ones.
//!
//! - The index that answers "is this global assigned before it is read?" for every global of
//!   a cell agrees with the plain walk of the cell.
//! - A cell long enough to be compiled in pieces (several `<cell>` functions in its CLIF)
//!   reads globals across pieces, calls functions, runs loops, and reports an error at the
//!   right line with the same one-frame traceback as a short cell.
//! - 100 000 lines compile and run.
mod common;
use common::{err, ok};
use kiln_jit::parallel::{assigned_before_read, NameUses};
use kiln_jit::{Session, Stage};

#[test]
fn the_name_index_agrees_with_the_plain_walk() {
    let cells = [
        "a = 1\nb = a + 1\nc = c0 + 1\nd = 1\nd = d + 1\n",
        "x = y\ny = 1\n",
        "if t:\n    u = 1\nelse:\n    u = 2\nprint(u)\nw = u\n",
        "if t:\n    u = 1\nprint(u)\n",
        "for i in range(3):\n    acc = acc + i\nacc = 0\n",
        "for i in range(3):\n    k = i\nprint(i)\n",
        "while n < 3:\n    n = n + 1\nm = 1\nwhile m < 3:\n    q = m\n    m = m + 1\n",
        "a[0] = 1\na = zeros(3)\n",
        "p, q = 1, 2\nr = p + q\ns: int = 3\ns2: int\nprint(s2)\n",
        "z = 1\ndef f(x):\n    return z + x\nprint(f(1))\n",
        "e += 1\nf2 = 1\nf2 += 1\n",
    ];
    for src in cells {
        let (module, diags) = kiln_jit::syntax::parse(src);
        assert!(diags.is_empty(), "{src}: {diags:?}");
        let uses = NameUses::new(&module.body);
        let names = [
            "a", "b", "c", "c0", "d", "x", "y", "t", "u", "w", "i", "acc", "k", "n", "m", "q", "p",
            "r", "s", "s2", "z", "f", "e", "f2", "nowhere",
        ];
        for name in names {
            assert_eq!(
                uses.assigned_before_read(&module.body, name),
                assigned_before_read(&module.body, name),
                "`{name}` in\n{src}"
            );
        }
    }
}

/// A cell of about `n` lines that exercises what a piece boundary could break.
fn long_cell(n: usize, last: &str) -> String {
    let mut src = String::from("def add(x, y):\n    return x + y\n");
    for i in 0..n {
        match i % 5 {
            0 => src.push_str(&format!("v{i} = {i}\n")),
            1 => src.push_str(&format!("v{i} = add(v{}, 1)\n", i - 1)),
            2 => src.push_str(&format!("v{i} = v{} * 2.0\n", i - 1)),
            3 => src.push_str(&format!("for j in range(3):\n    v{i} = v{} + j\n", i - 3)),
            _ => src.push_str(&format!("v{i} = zeros(2) + v{}\n", i - 3)),
        }
    }
    src.push_str(last);
    src
}

fn pieces(s: &mut Session, src: &str) -> usize {
    let clif = s
        .emit(src, Stage::Clif)
        .unwrap_or_else(|e| panic!("{}", e.evalue));
    clif.lines().filter(|l| *l == "; <cell>").count()
}

#[test]
fn a_long_cell_runs_in_pieces_like_a_short_one() {
    let n = 5000;
    let src = long_cell(n, "total = v0 + v4996 + v4998 + v4999[1]\ntotal\n");
    let mut s = Session::new();
    assert_eq!(pieces(&mut s, "a = 1\nb = a + 1\n"), 1);
    assert!(pieces(&mut s, &src) > 2, "a long cell compiles in pieces");
    let mut s = Session::new();
    let (_, v) = ok(&mut s, &src);
    // v4995 = 4995, v4996 = 4996, v4998 = v4995 + 2, v4999 = zeros(2) + v4996 (floats)
    assert_eq!(v.as_deref(), Some("14989.0"));
    // Globals made in the first piece are read in a later cell.
    let (_, v) = ok(&mut s, "v1 + v4995");
    assert_eq!(v.as_deref(), Some("4996"));
}

#[test]
fn an_error_in_a_later_piece_points_at_its_line_with_one_frame() {
    let n = 5000;
    let lines = long_cell(n, "").lines().count();
    let src = long_cell(n, "oops = v4999 + zeros(3)\n");
    let mut s = Session::new();
    let (_, e) = err(&mut s, &src);
    assert_eq!(e.ename, "ValueError", "{}", e.traceback.join("\n"));
    let report = e.traceback.join("\n");
    assert!(
        report.contains(&format!("line {}:", lines + 1)),
        "the error's line in:\n{report}"
    );
    assert_eq!(
        e.traceback
            .iter()
            .filter(|l| l.contains(", in <cell>"))
            .count(),
        1,
        "one frame:\n{report}"
    );
    // The session goes on, with the globals the pieces before the error assigned.
    let (_, v) = ok(&mut s, "v4995");
    assert_eq!(v.as_deref(), Some("4995"));
}

#[test]
fn a_hundred_thousand_lines_compile_and_run() {
    let mut src: String = (0..50_000).map(|i| format!("v{i} = {i}\n")).collect();
    src.push_str("s = 0\n");
    src.extend((0..50_000).map(|i| format!("s = s + v{i}\n")));
    src.push_str("s\n");
    let mut s = Session::new();
    let (_, v) = ok(&mut s, &src);
    assert_eq!(
        v.as_deref(),
        Some(format!("{}", 49_999i64 * 50_000 / 2).as_str())
    );
}
