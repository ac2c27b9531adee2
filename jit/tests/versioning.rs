//! Loops whose bounds checks are tested once before the loop (versioned loops): the copy
//! without checks runs only when every index is in range on every iteration, and otherwise
//! the checked copy raises where an unversioned loop would, after the same earlier writes.
//! Each case here takes the checked copy on purpose (an index past the end, one that counts
//! from the end, an array or index a called function changes) or checks that the unchecked
//! copy computes what Python would.

mod common;
use common::{err, ok};
use kiln_jit::Session;

/// Runs `setup`, then `failing`, which must raise `ename` with `fragment` in its message;
/// then `after` must evaluate to `expect` in the same session.
fn raises_then(setup: &str, failing: &str, ename: &str, fragment: &str, after: &str, expect: &str) {
    let mut s = Session::new();
    ok(&mut s, setup);
    let (_, e) = err(&mut s, failing);
    assert_eq!(e.ename, ename, "{}", e.traceback.join("\n"));
    assert!(
        e.evalue.contains(fragment),
        "message {:?} lacks {fragment:?}",
        e.evalue
    );
    assert_eq!(
        ok(&mut s, after).1.as_deref(),
        Some(expect),
        "after: {after}"
    );
}

#[test]
fn a_loop_past_the_end_raises_after_the_writes_before() {
    // In a function (local counter) and at the top level (global loop variable).
    raises_then(
        "a = zeros(5, dtype=i64)\ndef fill(a, n):\n    for j in range(n):\n        a[j] = j + 1\n",
        "fill(a, 7)\n",
        "IndexError",
        "index 5 is out of bounds for axis 0 with size 5",
        "(a, a.sum())\n",
        "(array([1, 2, 3, 4, 5]), 15)",
    );
    raises_then(
        "b = zeros(4, dtype=i64)\n",
        "for j in range(6):\n    b[j] = 10 * j\n",
        "IndexError",
        "index 4 is out of bounds for axis 0 with size 4",
        "(b.sum(), j)\n",
        "(60, 4)",
    );
}

#[test]
fn counter_offsets_in_range_and_past_either_end() {
    let mut s = Session::new();
    let (_, v) = ok(
        &mut s,
        "a = arange(6)\nb = zeros(6, dtype=i64)\nfor j in range(1, 5):\n    b[j] = a[j - 1] + a[j + 1]\nb\n",
    );
    assert_eq!(v.as_deref(), Some("array([0, 2, 4, 6, 8, 0])"));
    // j - 1 at j = 0 counts from the end, as in Python; j + 1 runs off the end at j = 5.
    let (_, e) = err(
        &mut s,
        "c = zeros(6, dtype=i64)\nfor j in range(0, 6):\n    c[j] = a[j - 1] * 100 + a[j + 1]\n",
    );
    assert_eq!(e.ename, "IndexError");
    assert!(
        e.evalue.contains("index 6 is out of bounds"),
        "{}",
        e.evalue
    );
    let (_, v) = ok(&mut s, "c\n");
    assert_eq!(v.as_deref(), Some("array([501,   2, 103, 204, 305,   0])"));
    // Only the upper end is out of range here.
    let (_, e) = err(
        &mut s,
        "d = zeros(6, dtype=i64)\nfor j in range(1, 6):\n    d[j] = a[j + 1]\n",
    );
    assert!(
        e.evalue.contains("index 6 is out of bounds"),
        "{}",
        e.evalue
    );
    assert_eq!(
        ok(&mut s, "d\n").1.as_deref(),
        Some("array([0, 2, 3, 4, 5, 0])")
    );
}

#[test]
fn negative_starts_and_indices_count_from_the_end() {
    let mut s = Session::new();
    let (_, v) = ok(
        &mut s,
        "def f(a, m):\n    s = 0\n    for j in range(-3, 3):\n        s += a[j]\n    t = 0\n    k = -1\n    for j in range(4):\n        t += m[-1, j] * 10 + m[k, j]\n    return (s, t)\nf(arange(10) * 3, arange(12).reshape((3, 4)))\n",
    );
    // a[-3..-1] = 21 + 24 + 27, a[0..2] = 0 + 3 + 6; m's last row is 8..11 (sum 38).
    assert_eq!(v.as_deref(), Some("(81, 418)"));
}

#[test]
fn steps_above_one_check_the_last_index_they_reach() {
    let mut s = Session::new();
    let (_, v) = ok(
        &mut s,
        "def g(a):\n    s = 0\n    for j in range(0, 10, 3):\n        s += a[j]\n    return s\ng(arange(10))\n",
    );
    assert_eq!(v.as_deref(), Some("18"));
    let (_, e) = err(&mut s, "g(arange(9))\n");
    assert!(
        e.evalue.contains("index 9 is out of bounds"),
        "{}",
        e.evalue
    );
}

#[test]
fn an_array_that_may_be_unassigned_still_raises_unbound_local() {
    let mut s = Session::new();
    ok(
        &mut s,
        "def f(flag, n):\n    if flag:\n        a = zeros(3)\n    for j in range(n):\n        a[j] = 1.0\n    return n\n",
    );
    assert_eq!(ok(&mut s, "f(False, 0)\n").1.as_deref(), Some("0"));
    assert_eq!(ok(&mut s, "f(True, 3)\n").1.as_deref(), Some("3"));
    let (_, e) = err(&mut s, "f(False, 2)\n");
    assert!(
        e.evalue.contains("'a' referenced before assignment"),
        "{}: {}",
        e.ename,
        e.evalue
    );
}

#[test]
fn a_called_function_that_replaces_the_array_or_the_index_is_seen() {
    // The loop calls a function that rebinds the global array to a shorter one: the test
    // before the loop must not vouch for the new array.
    raises_then(
        "a = zeros(10)\ndef shrink():\n    global a\n    a = zeros(2)\ndef fill(n):\n    for j in range(n):\n        a[j] = 1.0\n        if j == 0:\n            shrink()\n",
        "fill(5)\n",
        "IndexError",
        "index 2 is out of bounds for axis 0 with size 2",
        "a\n",
        "array([0., 1.])",
    );
    // The same for a global index that a called function changes.
    raises_then(
        "m = ones((3, 4))\nk = 0\ndef bump():\n    global k\n    k = 99\ndef total():\n    s = 0.0\n    for j in range(4):\n        s += m[k, j]\n        bump()\n    return s\n",
        "total()\n",
        "IndexError",
        "index 99 is out of bounds for axis 0 with size 3",
        "k\n",
        "99",
    );
}

#[test]
fn an_undefined_global_array_raises_name_error_only_if_the_loop_runs() {
    let mut s = Session::new();
    ok(
        &mut s,
        "if False:\n    later = zeros(3, dtype=i64)\ndef h(n):\n    for j in range(n):\n        later[j] = 1\n    return n\n",
    );
    assert_eq!(ok(&mut s, "h(0)\n").1.as_deref(), Some("0"));
    let (_, e) = err(&mut s, "h(3)\n");
    assert_eq!(e.ename, "NameError", "{}", e.evalue);
    ok(&mut s, "later = zeros(3, dtype=i64)\n");
    assert_eq!(ok(&mut s, "h(3)\nlater.sum()\n").1.as_deref(), Some("3"));
}

#[test]
fn rows_of_a_parallel_loop_match_the_serial_loop_and_raise_past_the_end() {
    let body = "for i in range(7):\n    for j in range(w):\n        img[i, j] = i * 100 + j - (i + j) // 3\n";
    let mut s = Session::new();
    let (_, serial) = ok(
        &mut s,
        &format!("w = 9\nimg = zeros((7, 9), dtype=i64)\n{body}img\n"),
    );
    let (_, par) = ok(
        &mut s,
        &format!("img = zeros((7, 9), dtype=i64)\n@par\n{body}img\n"),
    );
    assert_eq!(serial, par);
    let (_, e) = err(
        &mut s,
        &format!("w = 10\nimg = zeros((7, 9), dtype=i64)\n@par\n{body}"),
    );
    assert_eq!(e.ename, "IndexError");
    assert!(
        e.evalue
            .contains("index 9 is out of bounds for axis 1 with size 9"),
        "{}",
        e.evalue
    );
}

#[test]
fn ndrange_nests_serial_and_parallel_check_every_counter() {
    // The same nest, serial and @par: equal images in range; past the end of either axis
    // the error names the index and axis, as without versioning.
    let body = |target: &str, h: i64, w: i64| {
        format!(
            "img = zeros((4, 6), dtype=i64)\n{target}for i, j in ndrange({h}, {w}):\n    img[i, j] = i * 10 + j + a[j + 1]\n"
        )
    };
    let mut s = Session::new();
    ok(&mut s, "a = arange(7) * 100\n");
    ok(&mut s, &body("", 4, 6));
    let (_, serial) = ok(&mut s, "img\n");
    ok(&mut s, &body("@par\n", 4, 6));
    let (_, par) = ok(&mut s, "img\n");
    assert_eq!(serial, par);
    assert_eq!(
        ok(&mut s, "img[3, 5]\n").1.as_deref(),
        Some("635"),
        "{serial:?}"
    );
    for target in ["", "@par\n"] {
        let (_, e) = err(&mut s, &body(target, 5, 6));
        assert!(
            e.evalue
                .contains("index 4 is out of bounds for axis 0 with size 4"),
            "{target:?}: {}",
            e.evalue
        );
        // `a[j + 1]` runs off `a` (7 elements) at j = 6.
        let (_, e) = err(&mut s, &body(target, 4, 7));
        assert!(
            e.evalue.contains("index 7 is out of bounds"),
            "{target:?}: {}",
            e.evalue
        );
    }
}

#[test]
fn parallel_loops_with_steps_and_negative_starts() {
    let mut s = Session::new();
    let (_, v) = ok(
        &mut s,
        "a = arange(10)\nb = zeros(10, dtype=i64)\n@par\nfor i in range(-4, 6):\n    b[i] = a[i] * 2\nc = zeros(10, dtype=i64)\n@par\nfor i in range(1, 10, 4):\n    c[i] = a[i - 1] + 1\n(b, c)\n",
    );
    assert_eq!(
        v.as_deref(),
        Some("(array([ 0,  2,  4,  6,  8, 10, 12, 14, 16, 18]), array([0, 1, 0, 0, 0, 5, 0, 0, 0, 9]))")
    );
    let (_, e) = err(&mut s, "@par\nfor i in range(2, 12, 3):\n    c[i] = 1\n");
    assert!(
        e.evalue.contains("index 11 is out of bounds"),
        "{}",
        e.evalue
    );
    // Counting down, the first value is the largest.
    let (_, e) = err(&mut s, "@par\nfor i in range(12, -1, -1):\n    c[i] = 1\n");
    assert!(
        e.evalue.contains("index 12 is out of bounds"),
        "{}",
        e.evalue
    );
    let (_, e) = err(
        &mut s,
        "k = -1\n@par\nfor i in range(12, -1, k):\n    c[i] = 1\n",
    );
    assert!(
        e.evalue.contains("index 12 is out of bounds"),
        "{}",
        e.evalue
    );
}
