//! Golden tests for the compiler's stages: every `tests/stages/<case>.kiln` is compiled cell
//! by cell (as `kiln run --emit ir|clif` does: each cell is emitted, then run quietly so that
//! later cells see its functions and globals) and the typed loop IR and the Cranelift IR are
//! compared with `<case>.ir` and `<case>.clif` (and, for a case with `@gpu` loops, the
//! OpenCL C of its kernels with `<case>.cl`). Run with `KILN_BLESS=1` to rewrite the
//! expected files, then read the diff.
//!
//! The machine code listing (`%%asm`) is checked as its skeleton in `<case>.asm`: the
//! source lines heading the code, the labels and loop marks, and the names of the calls, in
//! order. The instructions themselves depend on the host CPU's features (AVX or not), the
//! skeleton does not.
//!
//! Cranelift IR embeds the addresses of global slots, which change from run to run; each
//! distinct address is replaced by `ADDR<n>` (numbered in order of appearance), so the same
//! slot keeps the same name within a case.
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use kiln_jit::{ExecResult, Session, Stage};

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stages")
}

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

/// Replace hex literals of 9 or more digits (`0x55b4_a7f2_8480`: host addresses) by stable
/// names. Float constants (`0x1.8000000000000p1`) are left alone.
///
/// Numbered afresh in each cell (`# %% cell` lines): memory freed after one cell may hold
/// another cell's globals, so one address can mean two things within a file.
fn normalize_addresses(text: &str) -> String {
    let mut names: HashMap<String, String> = HashMap::new();
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if (i == 0 || b[i - 1] == b'\n') && b[i..].starts_with(b"# %% cell") {
            names.clear();
        }
        let word_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if word_start && b[i..].starts_with(b"0x") {
            let mut j = i + 2;
            while j < b.len() && (b[j].is_ascii_hexdigit() || b[j] == b'_') {
                j += 1;
            }
            let lit = &text[i..j];
            let digits = lit[2..].chars().filter(|c| *c != '_').count();
            let is_float = j < b.len() && (b[j] == b'.' || b[j] == b'p');
            if digits >= 9 && !is_float {
                let n = names.len();
                let name = names
                    .entry(lit.to_string())
                    .or_insert_with(|| format!("ADDR{n}"));
                out.push_str(name);
                i = j;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The host-independent part of an `%%asm` listing: every line but the instructions, and
/// the calls by the name of what they reach.
fn asm_skeleton(listing: &str) -> String {
    let mut out = String::new();
    for line in listing.lines() {
        if let Some((_, callee)) = line.split_once("; ").filter(|(i, _)| i.contains("call ")) {
            out.push_str(&format!("    call {callee}\n"));
        } else if !line.starts_with("  ") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The IR and CLIF dumps of a case, the skeleton of its machine code, and the OpenCL C of
/// its `@gpu` loops (empty without).
fn stages(src: &str) -> Result<(String, String, String, String), String> {
    let mut s = Session::new();
    let cs = cells(src);
    let (mut ir, mut clif, mut asm, mut cl) =
        (String::new(), String::new(), String::new(), String::new());
    for (k, cell) in cs.iter().enumerate() {
        if cs.len() > 1 {
            ir.push_str(&format!("# %% cell {}\n", k + 1));
            clif.push_str(&format!("# %% cell {}\n", k + 1));
            asm.push_str(&format!("# %% cell {}\n", k + 1));
        }
        let e = |e: kiln_jit::CellError| {
            format!("{}: {}\n{}", e.ename, e.evalue, e.traceback.join("\n"))
        };
        ir.push_str(&s.emit(cell, Stage::Ir).map_err(e)?);
        clif.push_str(&s.emit(cell, Stage::Clif).map_err(e)?);
        asm.push_str(&asm_skeleton(&s.emit(cell, Stage::Asm).map_err(e)?));
        if cell.contains("@gpu") {
            cl.push_str(&s.emit(cell, Stage::OpenCl).map_err(e)?);
        }
        if let ExecResult::Err(x) = s.execute(cell, &mut |_| {}) {
            return Err(e(x));
        }
    }
    Ok((ir, normalize_addresses(&clif), asm, cl))
}

fn check(path: &Path, actual: &str, bless: bool, failures: &mut Vec<String>) {
    let expected = fs::read_to_string(path).ok();
    if expected.as_deref() == Some(actual) {
        return;
    }
    if bless {
        fs::write(path, actual).expect("write expected file");
        return;
    }
    let name = path.display();
    failures.push(match expected {
        None => format!("{name}: missing; actual output:\n{actual}"),
        Some(e) => {
            let (el, al): (Vec<&str>, Vec<&str>) = (e.lines().collect(), actual.lines().collect());
            let i = el.iter().zip(&al).take_while(|(x, y)| x == y).count();
            format!(
                "{name}: differs at line {}\n  expected: {}\n  actual:   {}\n--- actual output ---\n{actual}",
                i + 1,
                el.get(i).unwrap_or(&"<end of file>"),
                al.get(i).unwrap_or(&"<end of file>"),
            )
        }
    });
}

#[test]
fn normalize_keeps_floats_and_small_ints() {
    let t = "v4 = iconst.i64 0x55b4_a7f2_8480\nv5 = f64const 0x1.0000000000000p-1 ; 0x55b4_a7f2_8480 0x7f00_0000_0010 0xff";
    assert_eq!(
        normalize_addresses(t),
        "v4 = iconst.i64 ADDR0\nv5 = f64const 0x1.0000000000000p-1 ; ADDR0 ADDR1 0xff"
    );
}

#[test]
fn stages_golden() {
    let bless = std::env::var("KILN_BLESS").is_ok_and(|v| v == "1");
    let mut cases: Vec<PathBuf> = fs::read_dir(case_dir())
        .expect("tests/stages exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "kiln"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "expected the stage cases");
    let mut failures = Vec::new();
    for case in &cases {
        let src = fs::read_to_string(case).expect("read case");
        let (ir, clif, asm, cl) = match stages(&src) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!(
                    "{}: failed to compile or run:\n{e}",
                    case.display()
                ));
                continue;
            }
        };
        // The dumps must not depend on the run (hash order, addresses).
        match stages(&src) {
            Ok((ir2, clif2, asm2, cl2))
                if ir2 == ir && (clif2 == clif || !cl.is_empty()) && asm2 == asm && cl2 == cl => {}
            _ => failures.push(format!(
                "{}: two compilations gave different dumps",
                case.display()
            )),
        }
        check(&case.with_extension("ir"), &ir, bless, &mut failures);
        if cl.is_empty() {
            check(&case.with_extension("clif"), &clif, bless, &mut failures);
            check(&case.with_extension("asm"), &asm, bless, &mut failures);
        } else {
            // A `@gpu` case's CLIF holds the addresses of its kernels' specs, heap blocks whose
            // reuse across cells changes how the addresses number: its host code is checked
            // by the run tests, its kernels here.
            check(&case.with_extension("cl"), &cl, bless, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} stage mismatch(es) (rerun with KILN_BLESS=1 after checking):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
