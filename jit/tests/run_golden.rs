//! Data-driven run tests: every `tests/run/<case>.kiln` runs cell by cell (cells split on
//! `# %%` lines, as `kiln run` does) in one `Session`. The text a cell prints to stdout, then
//! its result's repr (as `kiln run` prints it), make up the output, compared with
//! `<case>.out`. A cell that fails adds `!! <ErrorName>` and the next cell still runs.
//!
//! The expected files are Python's answers, not Kiln's: `python_reference.py` (next to the
//! cases) regenerates them by running the same cells under CPython + NumPy. Cases whose first
//! line says `reference: hand-written` cover places where Kiln deliberately differs from
//! Python (SPEC §13); their `.out` is written by hand.
//!
//! `KILN_BLESS=1` rewrites the `.out` files from Kiln's output: only for checking a diff by
//! eye, since the point of these files is that Kiln did not write them.
//! Cases in `tests/run/pending/` (Kiln bugs not fixed yet) are not run; move a pair up a
//! directory once the compiler gets it right.
//! `KILN_CASE=substr` runs only the cases whose name contains `substr`.
//!
//! A case with annotated loops (`@par`, `@gpu`, `prange`) also runs with every loop
//! re-targeted (as `%%target` does) to `serial`, `par` and `gpu`, and each target must print
//! the same expected output: a target that disagrees with the serial run is a bug. The `gpu`
//! runs need an OpenCL device (`./install.sh` installs PoCL, one on the CPU).
use std::fs;
use std::path::{Path, PathBuf};

use kiln_jit::syntax::ast::Target;
use kiln_jit::{ExecResult, Output, Session};

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/run")
}

/// Cells as `kiln run` splits them.
fn cells(text: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("# %%") {
            cells.push(String::new());
        } else {
            cells.last_mut().unwrap().push_str(line);
        }
    }
    cells.into_iter().filter(|c| !c.trim().is_empty()).collect()
}

fn run_case(name: &str, src: &str, target: Option<Target>) -> String {
    let mut session = Session::new();
    session.settings.target_override = target;
    let mut out = String::new();
    for (k, cell) in cells(src).into_iter().enumerate() {
        let mut printed = String::new();
        let r = session.execute(&cell, &mut |o| match o {
            Output::Stdout(s) => printed.push_str(&s),
            Output::Display(v) => {
                printed.push_str(&kiln_runtime::repr_value(&v));
                printed.push('\n');
            }
            Output::Stderr(_)
            | Output::ClearOutput { .. }
            | Output::Html { .. }
            | Output::Progress(_)
            | Output::Image { .. } => {}
        });
        out.push_str(&printed);
        match r {
            ExecResult::Ok(Some(v)) => {
                out.push_str(&kiln_runtime::repr_value(&v));
                out.push('\n');
            }
            ExecResult::Ok(None) => {}
            ExecResult::Err(e) => {
                // The message goes to the test's log (shown on failure), not to the golden
                // output: Python's wording differs from Kiln's.
                eprintln!("{name} cell {}: {}: {}", k + 1, e.ename, e.evalue);
                out.push_str(&format!("!! {}\n", e.ename));
            }
        }
    }
    out
}

fn diff(name: &str, expected: &str, actual: &str) -> String {
    let (el, al): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut lines = vec![format!("{name}: output differs from Python's")];
    for i in 0..el.len().max(al.len()) {
        let (e, a) = (el.get(i), al.get(i));
        if e != a {
            lines.push(format!(
                "  line {}: expected {:?}\n  {}        actual   {:?}",
                i + 1,
                e.unwrap_or(&"<end of file>"),
                " ".repeat((i + 1).to_string().len()),
                a.unwrap_or(&"<end of file>"),
            ));
        }
    }
    lines.push(format!("--- actual output ---\n{actual}"));
    lines.join("\n")
}

#[test]
fn run_golden() {
    let bless = std::env::var("KILN_BLESS").is_ok_and(|v| v == "1");
    let only = std::env::var("KILN_CASE").ok();
    let mut cases: Vec<PathBuf> = fs::read_dir(case_dir())
        .expect("tests/run exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "kiln"))
        .collect();
    cases.sort();
    if only.is_none() {
        assert!(cases.len() >= 20, "expected the full set of run cases");
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        ran += 1;
        let src = fs::read_to_string(case).expect("read case");
        let actual = run_case(&name, &src, None);
        let out_path = case.with_extension("out");
        let expected = fs::read_to_string(&out_path).ok();
        let annotated = ["@par", "@gpu", "prange("].iter().any(|a| src.contains(a));
        if annotated && !bless {
            for (t, tname) in [
                (Target::Serial, "serial"),
                (Target::Par, "par"),
                (Target::Gpu, "gpu"),
            ] {
                let on_target = run_case(&name, &src, Some(t));
                if expected.as_deref() != Some(on_target.as_str()) {
                    failures.push(diff(
                        &format!("{name} with every loop on {tname}"),
                        expected.as_deref().unwrap_or(""),
                        &on_target,
                    ));
                }
            }
        }
        if expected.as_deref() == Some(actual.as_str()) {
            continue;
        }
        if bless {
            fs::write(&out_path, &actual).expect("write expected file");
            continue;
        }
        failures.push(match expected {
            None => format!(
                "{name}: missing {}; actual output:\n{actual}",
                out_path.display()
            ),
            Some(e) => diff(&name, &e, &actual),
        });
    }
    eprintln!("run_golden: {ran} case(s), {} failing", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {ran} run case(s) differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
