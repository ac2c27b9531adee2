//! Inlined functions release what they own on both of their exits. A small leaf function
//! that allocates arrays is inlined into its caller's loop (see `codegen/inline.rs`); its
//! normal exit and its error exit (which, once inlined, jumps straight to the caller's error
//! path) must each release the leaf's locals, or every call would leak an array.
//!
//! The runtime counts live heap objects process-wide, so this file holds one test: it runs
//! in its own process, with no other test allocating beside it.
mod common;
use common::{err, ok};
use kiln_jit::Session;
use kiln_runtime::obj::live_objects;

#[test]
fn inlined_leaf_releases_its_arrays_on_both_exits() {
    let mut s = Session::new();
    ok(
        &mut s,
        "def f(n: i64, k: i64) -> f64:\n    a = zeros(n)\n    b = a + 1.0\n    b[k] = 5.0\n    return b.sum()\ndef g(m: i64) -> f64:\n    t = 0.0\n    for i in range(m):\n        t += f(5, i)\n    return t\n",
    );
    // Warm up once (the session keeps the cell's compiled code and globals).
    assert_eq!(ok(&mut s, "g(5)\n").1.as_deref(), Some("45.0"));
    let before = live_objects();
    for _ in 0..3 {
        assert_eq!(ok(&mut s, "g(5)\n").1.as_deref(), Some("45.0"));
    }
    assert_eq!(live_objects(), before, "the normal exit leaked");
    for _ in 0..3 {
        let (_, e) = err(&mut s, "g(9)\n");
        assert_eq!(e.ename, "IndexError");
    }
    assert_eq!(live_objects(), before, "the error exit leaked");
}
