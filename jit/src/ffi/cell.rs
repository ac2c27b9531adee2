//! The `%%c` cell magic: the cell's C compiled into a shared library (cached by its source,
//! `c_compile`), loaded, and each exported function defined as a session global whose
//! signature is its prototype (`c_source`), so later cells call it as a typed C call.

use super::c_compile::{self, CompileError};
use super::c_source;
use super::CSig;
use crate::magics::{with_newline, Host};
use crate::outcome::{CellError, ExecResult, Output};

/// A function the cell exports: its name, address and signature.
pub struct CFunction {
    pub name: String,
    pub addr: usize,
    pub sig: CSig,
}

fn cell_error(ename: &str, evalue: String, traceback: Vec<String>) -> ExecResult {
    ExecResult::Err(CellError {
        ename: ename.into(),
        evalue,
        traceback,
    })
}

/// `%%c [FLAGS]` with the cell's source `body`.
pub fn run(
    host: &mut dyn Host,
    flags: &str,
    body: &str,
    sink: &mut dyn FnMut(Output),
) -> ExecResult {
    let flags = c_compile::split_flags(flags);
    let built = match c_compile::compile_cell(body, &flags) {
        Ok(b) => b,
        Err(e) => {
            let ename = match e {
                CompileError::Failed { .. } => "CompileError",
                _ => "OSError",
            };
            let text = e.to_string();
            let mut lines = text.lines();
            let first = lines.next().unwrap_or("").trim_end_matches(':').to_string();
            let mut tb = vec![format!("{ename}: {first}")];
            tb.extend(lines.map(str::to_string));
            return cell_error(ename, first, tb);
        }
    };
    if !built.warnings.trim().is_empty() {
        sink(Output::Stderr(with_newline(&built.warnings)));
    }
    // As ctypes.CDLL opens a library: RTLD_NOW, so a symbol the library needs and nothing
    // provides (a forgotten -lm) fails here, naming it, not at the first call.
    let lib = match kiln_runtime::ffi::open(Some(&built.path.to_string_lossy())) {
        Ok(lib) => lib,
        Err((_, why)) => {
            let hint = if why.contains("undefined symbol") {
                " (a library the code needs is missing from the flags: %%c -lm, ...)"
            } else {
                ""
            };
            let evalue = format!("{why}{hint}");
            return cell_error(
                "OSError",
                evalue.clone(),
                vec![format!("OSError: {evalue}")],
            );
        }
    };
    let mut funcs = Vec::new();
    let mut notes = String::new();
    for p in c_source::prototypes(body) {
        let sig = match p.sig {
            Ok(sig) => sig,
            Err(why) => {
                notes.push_str(&format!(
                    "%%c: {}() (line {}) is not callable from Kiln: {why}\n",
                    p.name, p.line
                ));
                continue;
            }
        };
        let Ok(addr) = kiln_runtime::ffi::sym(lib, &p.name) else {
            notes.push_str(&format!(
                "%%c: {}() (line {}) is not exported by the library (hidden or inline)\n",
                p.name, p.line
            ));
            continue;
        };
        funcs.push(CFunction {
            name: p.name,
            addr: addr as usize,
            sig,
        });
    }
    if funcs.is_empty() {
        notes.push_str("%%c: the cell defines no function Kiln can call\n");
    }
    if !notes.is_empty() {
        sink(Output::Stderr(notes));
    }
    host.define_c_functions(funcs);
    ExecResult::Ok(None)
}
