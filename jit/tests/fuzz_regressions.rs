//! Inputs the fuzzers (`fuzz/`) found that crashed or broke a rule, each reduced to the
//! smallest cell or request that showed it. A test per finding, named after what broke.

use kiln_jit::{ExecResult, Session};
use std::sync::{Mutex, MutexGuard};

/// The runtime's live-object count is one per process: tests that read it run one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `inspect_request` with a multi-byte character just before the name at the cursor: the
/// name's start was taken one byte after that character, inside it, and slicing there
/// panicked (on the kernel's shell thread). Found by the `parse` target.
#[test]
fn inspect_after_a_multibyte_character() {
    let _g = serial();
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
    assert!(s
        .inspect(code, code.len())
        .unwrap()
        .starts_with("Type: i64"));
}

/// A cell whose whole-array expression fails (shapes that do not broadcast) after its
/// operands were made: the `exec` target under AddressSanitizer reported the operands
/// as leaked. Whatever a failing cell made is freed by the time the next cell starts.
#[test]
fn a_failing_array_expression_frees_its_operands() {
    let _g = serial();
    let mut s = Session::new();
    let failing = [
        "ones((2, 3)) + arange(2)\n",
        "a = zeros(5)\nb = a[1:3] + ones(4)\n",
        "t = (ones(3), arange(4))\nt[0] @ t[1]\n",
        "def f(x):\n    y = x * 2\n    return y[10]\nf(ones(3))\n",
        "for i in range(3):\n    z = ones((i + 1, 2))\n    w = z.reshape(7)\n",
        "a = ones(3)\na[:] = arange(4) * 2.0\n",
        "t = (ones(3), ones(2) + ones(3))\n",
        "def g(x, y):\n    return x\ng(ones(3), ones(2)[5])\n",
        "sum(ones(3) + ones(4))\n",
        "(ones(3) * 2)[7]\n",
        "ones((2, 2)).sum(axis=3)\n",
        "x = ones(4)\nx = x + ones(5)\n",
        "m = ones((3, 3))\nm[1:, :] = m[:, 1:] @ ones((2, 2)) + ones(7)\n",
        "s = 0.0\n@par\nfor i in range(100):\n    s += (ones(3) * i)[i]\n",
        "print(str(ones(2)) + str(ones(3)[3]))\n",
    ];
    let before = kiln_runtime::live_objects();
    for round in 0..3 {
        for cell in failing {
            let out = s.execute(cell, &mut |_| {});
            assert!(matches!(out, ExecResult::Err(_)), "{cell:?} should fail");
            // Globals the cell assigned before failing (`a`, `t`, `z`) stay alive, as in
            // Python, until `%reset`.
            let _ = s.execute("%reset\n", &mut |_| {});
            assert_eq!(
                kiln_runtime::live_objects(),
                before,
                "objects left alive by {cell:?} (round {round})"
            );
        }
    }
}
