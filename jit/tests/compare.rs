//! `%%compare`: one cell per target from the same starting globals, the table of times and
//! of differences from the first target, and the globals as the first run left them.
mod common;
use common::{err, ok};
use kiln_jit::{ExecResult, Output, Session};

/// Runs a `%%compare` cell; returns (stdout, the table as text, the table as HTML).
fn compare(s: &mut Session, code: &str) -> (String, String, String) {
    let (mut out, mut text, mut html) = (String::new(), String::new(), String::new());
    let r = s.execute(code, &mut |o| match o {
        Output::Stdout(t) => out.push_str(&t),
        Output::Html { html: h, text: t } => {
            text.push_str(&t);
            html.push_str(&h);
        }
        _ => {}
    });
    if let ExecResult::Err(e) = r {
        panic!("{code}\n{}: {}", e.ename, e.evalue);
    }
    (out, text, html)
}

/// The row of `name` in the differences table, split into cells.
fn value_row<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name}:\n{text}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

const SETUP: &str =
    "n = 100000\nx = linspace(0.0, 1.0, n)\ny = zeros(n)\nview = y[::2]\nruns = 0\n";

#[test]
fn float_reductions_differ_by_reassociation_and_integer_ones_do_not() {
    let mut s = Session::new();
    ok(&mut s, SETUP);
    let (out, text, html) = compare(
        &mut s,
        "%%compare serial par\ntotal = 0.0\ncount = 0\nruns += 1\n@par\nfor i in range(n):\n    y[i] = x[i] * 2.0\n    total += sin(x[i]) * 0.001 + x[i] * 0.1\n    count += i % 7\nprint('ran')\n",
    );
    // Only the first target's output is shown.
    assert_eq!(out, "ran\n");
    assert!(text.contains("serial") && text.contains("par"), "{text}");
    // The float sum is accumulated in another order on threads: a small difference.
    let total = value_row(&text, "total");
    assert_eq!(total[1], "float", "{text}");
    let (abs, rel) = total[2].split_once(" / ").expect("abs / rel");
    let (abs, rel): (f64, f64) = (abs.parse().unwrap(), rel.parse().unwrap());
    assert!(abs > 0.0 && rel < 1e-12, "{text}");
    // Integer sums and the array written element by element are exact.
    assert_eq!(value_row(&text, "count")[2], "0 / 0", "{text}");
    assert_eq!(value_row(&text, "y")[2], "0 / 0", "{text}");
    // The loop index is private to the iterations: a parallel run leaves it as it was, so
    // it is named apart instead of showing as a difference.
    assert!(!text.lines().any(|l| l.starts_with("i ")), "{text}");
    assert!(
        text.contains("\nNot compared: i (private to a parallel loop's iterations"),
        "{text}"
    );
    assert!(
        html.contains("<table>") && html.contains("<code>total</code>"),
        "{html}"
    );
    // The globals are the serial run's: the cell ran once as far as they can tell, and
    // `view` still shares `y`'s memory.
    assert_eq!(ok(&mut s, "runs").1.as_deref(), Some("1"));
    assert_eq!(ok(&mut s, "count").1.as_deref(), Some("299995"));
    assert_eq!(ok(&mut s, "view[3] == y[6]").1.as_deref(), Some("True"));
    ok(&mut s, "y[6] = -1.0");
    assert_eq!(ok(&mut s, "view[3]").1.as_deref(), Some("-1.0"));
}

#[test]
fn in_place_writes_start_from_the_same_values_for_every_target() {
    let mut s = Session::new();
    ok(&mut s, SETUP);
    // Each target adds 1 to every element: had a run started from another's result, the
    // arrays would differ by 1.
    let (_, text, _) = compare(
        &mut s,
        "%%compare serial par serial\n@par\nfor i in range(n):\n    y[i] += 1.0\n",
    );
    // A target named twice runs once.
    assert_eq!(text.matches("\nserial ").count(), 1, "{text}");
    assert_eq!(value_row(&text, "y")[2], "0 / 0", "{text}");
    assert_eq!(
        ok(&mut s, "y.min() == 1.0 and y.max() == 1.0").1.as_deref(),
        Some("True")
    );
}

#[test]
fn a_cell_that_changes_nothing_and_bad_targets() {
    let mut s = Session::new();
    ok(&mut s, SETUP);
    let (_, text, _) = compare(&mut s, "%%compare serial par\nprint(runs)\n");
    assert!(text.contains("changed no other global"), "{text}");
    let (_, e) = err(&mut s, "%%compare serial cuda\nruns = 5\n");
    assert_eq!(e.ename, "UsageError");
    assert!(e.evalue.contains("not 'cuda'"), "{}", e.evalue);
    assert_eq!(ok(&mut s, "runs").1.as_deref(), Some("0"));
}

#[test]
fn the_first_targets_error_is_the_cells_and_a_later_failure_is_a_row() {
    let mut s = Session::new();
    ok(&mut s, SETUP);
    let (_, e) = err(&mut s, "%%compare\nruns = 2\ny[n] = 1.0\n");
    assert_eq!(e.ename, "IndexError");
    // As after a failing cell: what ran before the error stays.
    assert_eq!(ok(&mut s, "runs").1.as_deref(), Some("2"));
    // A @gpu body that only the gpu target rejects (print) is a failed row, not the error.
    if std::env::var_os("OCL_ICD_VENDORS").is_none() {
        let (_, text, _) = compare(
            &mut s,
            "%%compare serial gpu\n@par\nfor i in range(4):\n    if i == 9:\n        print(i)\n    y[i] = 5.0\n",
        );
        let gpu = text
            .lines()
            .find(|l| l.starts_with("gpu"))
            .expect("gpu row");
        assert!(gpu.contains("failed: SyntaxError"), "{text}");
        assert!(text.contains("\ny "), "{text}");
        assert_eq!(ok(&mut s, "y[3]").1.as_deref(), Some("5.0"));
    }
}
