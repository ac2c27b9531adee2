//! Type inference, lowering, the IR verifier and printer, and Cranelift code generation on
//! generated cells (and mutated real ones): compiling without running must give listings or
//! a Python error, never a panic. `Session::emit` is the path `%%ir` and `%%clif` take, and
//! it does not catch panics the way `execute` does, so the fuzzer sees every one.
#![no_main]

use kiln_jit::{Session, Stage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(cells) = kiln_fuzz::cells(data) else {
        return;
    };
    let code = cells.join("\n");
    let mut session = Session::new();
    // The IR listing for one input in two; the other compiles on to Cranelift (CLIF), which
    // runs lowering too and Cranelift's verifier on what Kiln built.
    let stage = if data.len().is_multiple_of(2) {
        Stage::Ir
    } else {
        Stage::Clif
    };
    let _ = session.emit(&code, stage);
});
