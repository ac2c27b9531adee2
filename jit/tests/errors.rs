//! One test per error name of SPEC §10 that Kiln raises: the error's name, a fragment of its
//! message, a report that points at the cell's line:column with a caret, and a session that
//! survives: a global assigned before the error keeps its value (the old one when the cell
//! fails to compile and so runs nothing, the new one when it fails at run time), and a later
//! cell runs.
use std::sync::atomic::Ordering;

mod common;
use common::{err, hang_guard, ok};
use kiln_jit::{CellError, ExecResult, Output, Session};
use kiln_runtime::{repr_value, Value};

/// Whether the error is reported at cell `cell`, line `line`, column `col`, with a caret line
/// right after the quoted source line.
fn assert_points_at(e: &CellError, cell: usize, line: usize, col: usize) {
    let tb = &e.traceback;
    let head = format!("cell {cell}, line {line}:{col}");
    let k = tb
        .iter()
        .position(|l| l.contains(&head))
        .unwrap_or_else(|| panic!("no `{head}` in the report:\n{}", tb.join("\n")));
    let caret = tb[k + 1..]
        .iter()
        .take(3)
        .any(|l| !l.trim().is_empty() && l.trim().chars().all(|c| c == '^'));
    assert!(caret, "no caret under `{head}`:\n{}", tb.join("\n"));
    assert!(
        tb.iter()
            .any(|l| l == &e.ename || l.starts_with(&format!("{}: ", e.ename))),
        "the report has no `{}: ...` line:\n{}",
        e.ename,
        tb.join("\n")
    );
}

/// The common shape of these tests: cell 1 sets `before = 1`; cell 2 is `before = 2` then the
/// failing code; the error must be `ename` with `fragment` in its message, at cell 2
/// `line:col`; afterwards `before` is `kept` and a new cell runs.
fn check(failing: &str, ename: &str, fragment: &str, line: usize, col: usize, compile_error: bool) {
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    let code = format!("before = 2\n{failing}");
    let (_, e) = err(&mut s, &code);
    assert_eq!(
        e.ename,
        ename,
        "wrong error for:\n{code}\n{}",
        e.traceback.join("\n")
    );
    assert!(
        e.evalue.contains(fragment),
        "message {:?} lacks {fragment:?}",
        e.evalue
    );
    assert_points_at(&e, 2, line, col);
    let kept = if compile_error { "1" } else { "2" };
    assert_eq!(
        ok(&mut s, "before\n").1.as_deref(),
        Some(kept),
        "`before` after {ename}"
    );
    assert_eq!(
        ok(&mut s, "after = before * 10 + 1\nprint('alive')\nafter\n"),
        ("alive\n".to_string(), Some(format!("{kept}1")))
    );
}

#[test]
fn syntax_error() {
    check("x = 1 +* 2\n", "SyntaxError", "invalid syntax", 2, 8, true);
}

#[test]
fn syntax_error_unclosed_paren() {
    let mut s = Session::new();
    let (_, e) = err(&mut s, "x = (1 +\ny = 2\n");
    assert_eq!(e.ename, "SyntaxError", "{}", e.traceback.join("\n"));
    ok(&mut s, "x = 3\n");
}

#[test]
fn indentation_error() {
    check(
        "if True:\n    a = 1\n  b = 2\n",
        "IndentationError",
        "unindent does not match",
        4,
        3,
        true,
    );
}

#[test]
fn indentation_error_expected_block() {
    let mut s = Session::new();
    let (_, e) = err(&mut s, "if True:\nx = 1\n");
    assert_eq!(e.ename, "IndentationError", "{}", e.traceback.join("\n"));
}

#[test]
fn tab_error() {
    check("if True:\n\ta = 1\n", "TabError", "tab", 3, 1, true);
}

#[test]
fn name_error() {
    check(
        "print(undefined_name)\n",
        "NameError",
        "'undefined_name'",
        2,
        7,
        true,
    );
}

#[test]
fn name_error_in_function() {
    check(
        "def f(x):\n    return x + nowhere\nf(1)\n",
        "NameError",
        "'nowhere'",
        3,
        16,
        true,
    );
}

/// A NumPy or Python function Kiln does not have: a NameError that says so and names what to
/// use instead (the hint is in the report), bare or under its module.
#[test]
fn name_error_for_a_function_kiln_does_not_have() {
    for (code, shown, instead) in [
        ("y = diff(zeros(3))\n", "'diff'", "a[1:] - a[:-1]"),
        (
            "y = np.column_stack(zeros(3))\n",
            "'np.column_stack'",
            "stack((a, b), axis=1)",
        ),
        (
            "y = np.sort(zeros(3))\n",
            "'np.sort'",
            "sorts lists, not arrays",
        ),
    ] {
        check(code, "NameError", "is not supported in Kiln", 2, 5, true);
        let mut s = Session::new();
        let (_, e) = err(&mut s, code);
        assert!(e.evalue.contains(shown), "{:?} lacks {shown}", e.evalue);
        let report = e.traceback.join("\n");
        assert!(report.contains(instead), "no {instead:?} in:\n{report}");
    }
    // A name that is no function anywhere is Python's plain NameError.
    check(
        "y = nosuch(1)\n",
        "NameError",
        "name 'nosuch' is not defined",
        2,
        5,
        true,
    );
}

/// An array method Kiln does not have: a TypeError, with the alternative where there is one.
#[test]
fn type_error_for_an_array_method_kiln_does_not_have() {
    check(
        "zeros(3).fill(1.0)\n",
        "TypeError",
        "has no method 'fill'",
        2,
        10,
        true,
    );
    let mut s = Session::new();
    let (_, e) = err(&mut s, "zeros(3).fill(1.0)\n");
    assert!(e.traceback.join("\n").contains("a[:] = v"));
}

/// Arguments that do not bind get Python's own messages.
#[test]
fn type_error_for_arguments_that_do_not_bind() {
    check(
        "zeros()\n",
        "TypeError",
        "zeros() missing 1 required positional argument: 'shape'",
        2,
        1,
        true,
    );
    check(
        "abs(1, 2)\n",
        "TypeError",
        "abs() takes 1 positional argument but 2 were given",
        2,
        1,
        true,
    );
    check(
        "zeros(3, bogus=1)\n",
        "TypeError",
        "zeros() got an unexpected keyword argument 'bogus'",
        2,
        10,
        true,
    );
    check(
        "zeros(3, shape=3)\n",
        "TypeError",
        "zeros() got multiple values for argument 'shape'",
        2,
        10,
        true,
    );
    check(
        "sqrt(x=1.0)\n",
        "TypeError",
        "positional-only arguments passed as keyword arguments: 'x'",
        2,
        6,
        true,
    );
    check(
        "int(zeros(3))\n",
        "TypeError",
        "int() takes a scalar, not an array",
        2,
        5,
        true,
    );
}
/// Values a builtin cannot take are a TypeError when the cell compiles (before, some were an
/// InternalError from the IR verifier, and a string beside an array in a ufunc corrupted the
/// heap).
#[test]
fn type_error_for_values_a_builtin_does_not_take() {
    check(
        "y = expm1(\"abc\")\n",
        "TypeError",
        "expm1() takes a number, not a str",
        2,
        5,
        true,
    );
    check(
        "y = exp(None)\n",
        "TypeError",
        "exp() takes a number",
        2,
        5,
        true,
    );
    check(
        "y = round((1, 4))\n",
        "TypeError",
        "round() takes a number",
        2,
        5,
        true,
    );
    check(
        "y = round(0j, 3)\n",
        "TypeError",
        "round() of a complex number",
        2,
        5,
        true,
    );
    check(
        "y = tan(1j)\n",
        "TypeError",
        "tan() of a complex number is not supported",
        2,
        5,
        true,
    );
    check(
        "y = where(\"ab\", 1.0, arange(3))\n",
        "TypeError",
        "where() of an array takes numbers, not a str",
        2,
        11,
        true,
    );
    check(
        "y = zeros(arange(3))\n",
        "TypeError",
        "a shape is an int or a tuple of ints",
        2,
        11,
        true,
    );
    // An axis that a 1-D array does not have, as the runtime says for more dimensions.
    check(
        "y = max(arange(4), 1)\n",
        "ValueError",
        "axis 1 is out of bounds for array of dimension 1",
        2,
        5,
        true,
    );
}

#[test]
fn type_error_unify_scalar_and_array() {
    // Names both lines: the report has a note at the first assignment.
    check("v = 1\nv = zeros(3)\n", "TypeError", "one type", 3, 1, true);
    let mut s = Session::new();
    let (_, e) = err(&mut s, "v = 1\nv = zeros(3)\n");
    let tb = e.traceback.join("\n");
    assert!(tb.contains("line 1:1") && tb.contains("line 2:1"), "{tb}");
}

#[test]
fn type_error_and_on_arrays_hints_at_ampersand() {
    check(
        "a = zeros(3)\nif a and a:\n    pass\n",
        "TypeError",
        "",
        3,
        4,
        true,
    );
    let mut s = Session::new();
    let (_, e) = err(&mut s, "a = zeros(3)\nif a and a:\n    pass\n");
    assert!(
        e.traceback
            .iter()
            .any(|l| l.starts_with("hint:") && l.contains('&')),
        "{}",
        e.traceback.join("\n")
    );
}

#[test]
fn value_error_negative_int_power() {
    check(
        "n = -1\nk = 2 ** n\n",
        "ValueError",
        "negative integer powers",
        3,
        5,
        false,
    );
}

#[test]
fn value_error_math_domain() {
    check(
        "y = math.sqrt(-1.0)\n",
        "ValueError",
        "math domain error",
        2,
        5,
        false,
    );
}

#[test]
fn index_error_shows_index_and_shape() {
    check(
        "a = zeros((3, 4))\na[1, 5] = 1.0\n",
        "IndexError",
        "index 5 is out of bounds for axis 1 with size 4",
        3,
        1,
        false,
    );
}

#[test]
fn index_error_negative() {
    check(
        "a = arange(3)\nx = a[-4]\n",
        "IndexError",
        "-4",
        3,
        5,
        false,
    );
}

#[test]
fn index_error_from_a_loop_counter() {
    // Counters of `range(0, n)` loops are checked with one unsigned compare: the error
    // still names the index and the axis.
    check(
        "a = zeros((2, 5))\nfor i in range(2):\n    for j in range(6):\n        a[i, j] = 1.0\n",
        "IndexError",
        "index 5 is out of bounds for axis 1 with size 5",
        5,
        9,
        false,
    );
}

#[test]
fn loop_counters_that_may_be_negative_still_count_from_the_end() {
    // A loop variable the body reassigns, or a range that starts below zero, can be
    // negative: such indices count from the end, as in Python.
    let mut s = Session::new();
    let (_, v) = ok(
        &mut s,
        "a = arange(5)\ns = 0\nfor j in range(5):\n    j = j - 5\n    s += a[j]\nt = 0\nfor k in range(-5, 0):\n    t += a[k] * 10\nu = 0\nfor m in range(0, 5):\n    m = -1\n    u += a[m]\n(s, t, u)\n",
    );
    assert_eq!(v.as_deref(), Some("(10, 100, 20)"));
}

#[test]
fn zero_division_error_floor_div() {
    check(
        "n = 0\nq = 10 // n\n",
        "ZeroDivisionError",
        "by zero",
        3,
        5,
        false,
    );
}

#[test]
fn zero_division_error_in_function_shows_call_chain() {
    check(
        "def f(n: i64) -> i64:\n    return 10 % n\nz = f(0)\n",
        "ZeroDivisionError",
        "by zero",
        4,
        5,
        false,
    );
    let mut s = Session::new();
    let (_, e) = err(
        &mut s,
        "def f(n: i64) -> i64:\n    return 10 % n\nz = f(0)\n",
    );
    let tb = e.traceback.join("\n");
    assert!(tb.contains("in <cell>") && tb.contains("in f"), "{tb}");
    assert!(tb.contains("line 2:12"), "{tb}");
}

#[test]
fn memory_error_huge_zeros() {
    check(
        "big = zeros(10**15)\n",
        "MemoryError",
        "Unable to allocate",
        2,
        7,
        false,
    );
}

#[test]
fn memory_error_huge_2d() {
    check(
        "big = zeros((100000000, 100000000))\n",
        "MemoryError",
        "",
        2,
        7,
        false,
    );
}

#[test]
fn recursion_error() {
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    let (_, e) = err(
        &mut s,
        "def down(n: i64) -> i64:\n    return down(n + 1) + 1\nbefore = 2\nr = down(0)\n",
    );
    assert_eq!(e.ename, "RecursionError");
    assert!(e.evalue.contains("maximum recursion depth"), "{}", e.evalue);
    assert_points_at(&e, 2, 4, 5);
    assert_points_at(&e, 2, 2, 12);
    assert!(
        e.traceback
            .iter()
            .any(|l| l.contains("Previous line repeated")),
        "{}",
        e.traceback.join("\n")
    );
    assert_eq!(ok(&mut s, "before\n").1.as_deref(), Some("2"));
    // The function is still defined and works with a base case reachable.
    ok(&mut s, "def down2(n: i64) -> i64:\n    if n == 0:\n        return 0\n    return down2(n - 1) + 1\n");
    assert_eq!(ok(&mut s, "down2(1000)\n").1.as_deref(), Some("1000"));
}

#[test]
fn error_inside_an_inlined_leaf_function() {
    // `f` is small and calls no user function, so it is inlined into `g`'s loop; its error
    // exit then jumps straight to `g`'s error path. The report must still name both frames
    // and the session must go on.
    let mut s = Session::new();
    ok(
        &mut s,
        "def f(i: i64) -> i64:\n    return 10 // (i - 5)\ndef g(k: i64) -> i64:\n    t = 0\n    for i in range(k):\n        t += f(i)\n    return t\n",
    );
    assert_eq!(ok(&mut s, "g(5)\n").1.as_deref(), Some("-24"));
    let (_, e) = err(&mut s, "g(8)\n");
    assert_eq!(e.ename, "ZeroDivisionError");
    assert_points_at(&e, 1, 2, 12);
    assert_points_at(&e, 1, 6, 14);
    assert_points_at(&e, 3, 1, 1);
    // The session goes on, and the function still runs where it does not fail.
    assert_eq!(ok(&mut s, "g(5) + f(6)\n").1.as_deref(), Some("-14"));
}

#[test]
fn keyboard_interrupt() {
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    // The cell prints a line, then spins; the output callback sets the flag when it sees the
    // line, so the interrupt arrives while the loop runs (no sleeping, no timing guesses).
    let e = interrupted(
        &mut s,
        "before = 2\nprint('spinning')\nn = 0\nwhile True:\n    n += 1\n",
    );
    assert!(
        e.traceback
            .iter()
            .any(|l| l.starts_with("KeyboardInterrupt")),
        "{}",
        e.traceback.join("\n")
    );
    // Inside the loop: its header or the statement being run when the flag was seen.
    let tb = e.traceback.join("\n");
    if tb.contains("cell 2, line 4:") {
        assert_points_at(&e, 2, 4, 1);
    } else {
        assert_points_at(&e, 2, 5, 5);
    }
    assert_eq!(ok(&mut s, "before\n").1.as_deref(), Some("2"));
    let n = ok(&mut s, "n > 0\n").1;
    assert_eq!(n.as_deref(), Some("True"));
    // The flag is cleared for the next cell.
    assert_eq!(ok(&mut s, "before + 40\n").1.as_deref(), Some("42"));
}

/// Runs `code` (which prints `spinning` and then never ends by itself), setting the
/// interrupt flag when the line is printed; the cell must end in KeyboardInterrupt.
fn interrupted(s: &mut Session, code: &str) -> CellError {
    let done = hang_guard("interrupted");
    let flag = s.interrupt_handle();
    let mut seen = String::new();
    let r = s.execute(code, &mut |o| {
        if let Output::Stdout(t) = o {
            seen.push_str(&t);
            if seen.contains("spinning\n") {
                flag.store(true, Ordering::Relaxed);
            }
        }
    });
    done.store(true, Ordering::Relaxed);
    let ExecResult::Err(e) = r else {
        panic!("the cell should be interrupted:\n{code}")
    };
    assert_eq!(e.ename, "KeyboardInterrupt", "{}", e.traceback.join("\n"));
    assert_eq!(seen, "spinning\n");
    e
}

#[test]
fn keyboard_interrupt_with_short_inner_loops() {
    // A short scalar inner loop runs without polling (`for_loop` in codegen), so the
    // enclosing loop must still stop; also when the short loop sits in an inlined function.
    let mut s = Session::new();
    interrupted(
        &mut s,
        "print('spinning')\nt = 0\nfor i in range(1 << 60):\n    for k in range(100):\n        t += k\n",
    );
    interrupted(
        &mut s,
        "def inner(n: i64) -> i64:\n    u = 0\n    for k in range(n):\n        u += k\n    return u\nprint('spinning')\nt = 0\nwhile True:\n    t += inner(50)\n",
    );
    // A long scalar loop keeps its poll.
    interrupted(
        &mut s,
        "print('spinning')\nt = 0\nfor k in range(1 << 62):\n    t += k % 3\n",
    );
    // And a loop whose bounds are near the ends of i64 (the short test must not overflow).
    interrupted(
        &mut s,
        "print('spinning')\nt = 0\nfor k in range(-(1 << 62), 1 << 62):\n    t += 1\n",
    );
    assert_eq!(ok(&mut s, "1 + 1\n").1.as_deref(), Some("2"));
}

#[test]
fn keyboard_interrupt_inside_function() {
    let mut s = Session::new();
    let flag = s.interrupt_handle();
    let r = s.execute(
        "def spin() -> i64:\n    k = 0\n    while k >= 0:\n        k = (k + 1) % 1000\n    return k\nprint('go')\nspin()\n",
        &mut |o| {
            if let Output::Stdout(_) = o {
                flag.store(true, Ordering::Relaxed);
            }
        },
    );
    let ExecResult::Err(e) = r else {
        panic!("the cell should be interrupted")
    };
    assert_eq!(e.ename, "KeyboardInterrupt");
    assert_eq!(ok(&mut s, "1 + 1\n").1.as_deref(), Some("2"));
}

#[test]
fn device_error_gpu_loop() {
    // Without an OpenCL backend (or device), a @gpu loop is a DeviceError that says what to
    // do instead; it never falls back to the CPU silently.
    let code = "a = zeros(4)\n@gpu\nfor i in range(4):\n    a[i] = i\n";
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    let mut out = String::new();
    match s.execute(&format!("before = 2\n{code}"), &mut |o| {
        if let Output::Stdout(t) = o {
            out.push_str(&t)
        }
    }) {
        ExecResult::Ok(_) => {
            // An OpenCL device is present: the loop must then have run on it correctly.
            assert_eq!(
                ok(&mut s, "a\n").1.as_deref(),
                Some("array([0., 1., 2., 3.])")
            );
        }
        ExecResult::Err(e) => {
            assert_eq!(e.ename, "DeviceError", "{}", e.traceback.join("\n"));
            assert!(
                e.traceback
                    .iter()
                    .any(|l| l.starts_with("hint:") && l.contains("@par")),
                "{}",
                e.traceback.join("\n")
            );
            assert_points_at(&e, 2, 3, 1);
            assert_eq!(ok(&mut s, "before\n").1.as_deref(), Some("1"));
            assert_eq!(ok(&mut s, "before + 1\n").1.as_deref(), Some("2"));
        }
    }
}

#[test]
fn errors_do_not_lose_the_session() {
    // Every kind of error in a row, then the session's globals and functions are intact.
    let mut s = Session::new();
    ok(&mut s, "g = 5\ndef twice(x):\n    return 2 * x\n");
    for bad in [
        "x = 1 +* 2\n",
        "if True:\n\tx = 1\n",
        "print(nope)\n",
        "v = 1\nv = zeros(2)\n",
        "n = 0\nq = 1 // n\n",
        "a = zeros(2)\na[2] = 1.0\n",
        "big = zeros(10**15)\n",
        "def r(n: i64) -> i64:\n    return r(n) + 1\nr(1)\n",
    ] {
        err(&mut s, bad);
    }
    assert_eq!(ok(&mut s, "twice(g)\n").1.as_deref(), Some("10"));
    let v: Option<Value> = match s.execute("g + 0.5\n", &mut |_| {}) {
        ExecResult::Ok(v) => v,
        ExecResult::Err(e) => panic!("{}", e.evalue),
    };
    assert_eq!(v.as_ref().map(repr_value).as_deref(), Some("5.5"));
}

/// `enumerate` and `zip` are for-loop iterables: what they cannot run over, and their use
/// anywhere else, are TypeErrors at the operand.
#[test]
fn enumerate_and_zip_errors() {
    check(
        "for i, x in enumerate(zeros((2, 2))):\n    print(i)\n",
        "TypeError",
        "rows of a multi-dimensional array",
        2,
        23,
        true,
    );
    check(
        "for x, y in zip(zeros(3), 5):\n    print(x)\n",
        "TypeError",
        "a for loop runs over",
        2,
        27,
        true,
    );
    check(
        "e = enumerate(zeros(3))\n",
        "TypeError",
        "can only be used as the iterable of a for loop",
        2,
        5,
        true,
    );
    check(
        "for i, x in enumerate(zeros(3), foo=2):\n    print(i)\n",
        "TypeError",
        "'foo' is an invalid keyword argument for enumerate()",
        2,
        33,
        true,
    );
    check(
        "for i, (x, y) in enumerate(zeros(3)):\n    print(i)\n",
        "TypeError",
        "cannot unpack",
        2,
        5,
        true,
    );
    check(
        "k = 2
for i, x in zip(range(0, 9, k), zeros(3)):\n    print(i)\n",
        "TypeError",
        "constant step",
        3,
        29,
        true,
    );
}

/// A failing `assert` is Python's AssertionError (its message when one is given) at the
/// assert, and the session keeps what ran before it; in a @gpu body it is a SyntaxError.
#[test]
fn assert_failures() {
    check(
        "assert before == 3, f\"before is {before}\"\n",
        "AssertionError",
        "before is 2",
        2,
        8,
        false,
    );
    check("assert 1 > 2\n", "AssertionError", "", 2, 8, false);
    check(
        "assert zeros(3) == 0.0\n",
        "ValueError",
        "truth value of an array",
        2,
        8,
        true,
    );
    check(
        "a = zeros(4)\n@gpu\nfor i in range(4):\n    assert i < 2\n",
        "SyntaxError",
        "assert cannot run in a @gpu body",
        5,
        5,
        true,
    );
}

#[test]
fn key_error() {
    check("s = \"{x}\".format(y=1)\n", "KeyError", "'x'", 2, 5, true);
}

/// `%` and `str.format` raise CPython 3.11's errors, word for word (compile time where the
/// format string shows them, run time where the value does).
#[test]
fn string_formatting_errors_are_pythons() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "'%d and %d' % (1,)",
            "TypeError",
            "not enough arguments for format string",
        ),
        (
            "'%d' % (1, 2)",
            "TypeError",
            "not all arguments converted during string formatting",
        ),
        (
            "'text' % 5",
            "TypeError",
            "not all arguments converted during string formatting",
        ),
        (
            "'%d' % 'a'",
            "TypeError",
            "%d format: a real number is required, not str",
        ),
        (
            "'%x' % 1.5",
            "TypeError",
            "%x format: an integer is required, not float",
        ),
        ("'%f' % 'a'", "TypeError", "must be real number, not str"),
        ("'%f' % 1j", "TypeError", "must be real number, not complex"),
        (
            "'%d' % None",
            "TypeError",
            "%d format: a real number is required, not NoneType",
        ),
        ("'%c' % 1.5", "TypeError", "%c requires int or char"),
        ("'%c' % 'ab'", "TypeError", "%c requires int or char"),
        (
            "'%c' % -1",
            "OverflowError",
            "%c arg not in range(0x110000)",
        ),
        (
            "'%d' % nan",
            "ValueError",
            "cannot convert float NaN to integer",
        ),
        (
            "'%d' % inf",
            "OverflowError",
            "cannot convert float infinity to integer",
        ),
        (
            "'%y' % 1",
            "ValueError",
            "unsupported format character 'y' (0x79) at index 1",
        ),
        ("'ab %5' % 1", "ValueError", "incomplete format"),
        ("'%(a)s' % 1", "TypeError", "format requires a mapping"),
        (
            "'{}{}{}'.format(1, 2)",
            "IndexError",
            "Replacement index 2 out of range for positional args tuple",
        ),
        (
            "'{} {0}'.format(1)",
            "ValueError",
            "cannot switch from automatic field numbering to manual field specification",
        ),
        (
            "'{0} {}'.format(1)",
            "ValueError",
            "cannot switch from manual field specification to automatic field numbering",
        ),
        (
            "'{'.format()",
            "ValueError",
            "Single '{' encountered in format string",
        ),
        (
            "'}'.format()",
            "ValueError",
            "Single '}' encountered in format string",
        ),
        (
            "'{0'.format(1)",
            "ValueError",
            "expected '}' before end of string",
        ),
        (
            "'{!x}'.format(1)",
            "ValueError",
            "Unknown conversion specifier x",
        ),
        (
            "'{:>6}'.format(None)",
            "TypeError",
            "unsupported format string passed to NoneType.__format__",
        ),
        (
            "'{:d}'.format(1.5)",
            "ValueError",
            "Unknown format code 'd' for object of type 'float'",
        ),
        ("'{x}'.format()", "KeyError", "'x'"),
    ];
    for (code, ename, msg) in cases {
        let mut s = Session::new();
        let (_, e) = err(&mut s, &format!("s = {code}\n"));
        assert_eq!(
            (e.ename.as_str(), e.evalue.as_str()),
            (*ename, *msg),
            "for {code}"
        );
    }
}

#[test]
fn unpacking_errors_are_pythons() {
    let mut s = Session::new();
    let (_, e) = err(&mut s, "import numpy as np\nx, y = np.zeros(3)\n");
    assert_eq!(e.evalue, "too many values to unpack (expected 2)");
    assert_points_at(&e, 1, 2, 1);
    let (_, e) = err(
        &mut s,
        "def f(p):\n    a, b, c = p\n    return a\nf(np.ones(2))\n",
    );
    assert_eq!(e.evalue, "not enough values to unpack (expected 3, got 2)");
    assert_points_at(&e, 2, 2, 5);
}

#[test]
fn optional_none_used_as_a_number() {
    check(
        "def find(a, t):\n    for i in range(len(a)):\n        if a[i] == t:\n            return i\n    return None\nimport numpy as np\nk = find(np.zeros(3), 1.0)\nprint(k + 1)\n",
        "TypeError",
        "None",
        9,
        7,
        false,
    );
    let mut s = Session::new();
    let (_, e) = err(
        &mut s,
        "import numpy as np\ndef f(n):\n    if n > 0:\n        return np.zeros(n)\n    return None\nf(1)\n",
    );
    assert_eq!(e.ename, "TypeError");
    assert!(
        e.traceback.iter().any(|l| l.contains("an optional number")),
        "{}",
        e.traceback.join("\n")
    );
}

/// NumPy's fixed-width dtypes that Kiln's arrays do not store are named in the error.
#[test]
fn narrow_dtype_is_a_type_error_that_names_it() {
    check(
        "a = zeros(3, dtype=np.int32)",
        "TypeError",
        "int32 arrays are not supported in Kiln",
        2,
        20,
        true,
    );
    check(
        "dt = np.uint8",
        "TypeError",
        "uint8 is not supported in Kiln",
        2,
        9,
        true,
    );
}
