//! Compiles the C half of the foreign-call fault guard (`src/ffi/guard.c`): it needs
//! `sigsetjmp`, which Rust cannot call soundly.

fn main() {
    println!("cargo:rerun-if-changed=src/ffi/guard.c");
    cc::Build::new()
        .file("src/ffi/guard.c")
        .warnings(true)
        .extra_warnings(true)
        .compile("kiln_ffi_guard");
}
