//! Inputs the fuzzers (`fuzz/`) found that crashed or broke a rule, each reduced to the
//! smallest cell or request that showed it. A test per finding, named after what broke.

use kiln_jit::Session;

/// `inspect_request` with a multi-byte character just before the name at the cursor: the
/// name's start was taken one byte after that character, inside it, and slicing there
/// panicked (on the kernel's shell thread). Found by the `parse` target.
#[test]
fn inspect_after_a_multibyte_character() {
    let mut s = Session::new();
    let code = "x = 1\nwhile x < SPEC §1: x\n";
    for cursor in 0..=code.len() {
        if code.is_char_boundary(cursor) {
            let _ = s.inspect(code, cursor);
            let _ = s.complete(code, cursor);
        }
    }
    // The name after the character is still found.
    let code = "§zeros";
    assert!(s.inspect(code, code.len()).unwrap().contains("zeros("));
    let _ = s.execute("y = 2\n", &mut |_| {});
    let code = "é·y";
    assert!(s.inspect(code, code.len()).unwrap().starts_with("Type: i64"));
}
