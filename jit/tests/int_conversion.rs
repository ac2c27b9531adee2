//! `int(x)` / `i64(x)` of a float (and `round(x)`, `math.floor`, `math.ceil`, `math.trunc`,
//! which give ints too): truncation towards zero, and Python's errors where the value has no
//! integer (NaN: ValueError; ±inf: OverflowError, messages from `python3`) or none in int64
//! (OverflowError). Literals, variables, `@par` and `@gpu` loops all raise, at the
//! statement, after the statements before it ran.
mod common;
use common::{err, ok};
use kiln_jit::Session;
use std::process::Command;

/// `python3`'s `type: message` for `int(x)`.
fn python_error(x: &str) -> String {
    python_error_of("int", x)
}

/// `python3`'s `type: message` for `conv(float(x))`.
fn python_error_of(conv: &str, x: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import math\ntry:\n    {conv}(float('{x}'))\nexcept Exception as e:\n    print(f'{{type(e).__name__}}: {{e}}')"
        ))
        .output()
        .expect("python3 runs");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Cell 2 sets `before = 2` then runs `failing`; it must raise `want` (`type: message`),
/// `before` must read 2 (it ran), and a new cell runs.
fn raises(failing: &str, want: &str) {
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    let (_, e) = err(&mut s, &format!("before = 2\n{failing}"));
    assert_eq!(
        format!("{}: {}", e.ename, e.evalue),
        want,
        "for {failing:?}"
    );
    assert!(
        e.traceback.iter().any(|l| l.contains("cell 2, line")),
        "{}",
        e.traceback.join("\n")
    );
    assert_eq!(ok(&mut s, "before\n").1.as_deref(), Some("2"));
}

#[test]
fn nan_and_infinity_raise_pythons_errors() {
    let nan = python_error("nan");
    let inf = python_error("inf");
    assert_eq!(nan, "ValueError: cannot convert float NaN to integer");
    assert_eq!(
        inf,
        "OverflowError: cannot convert float infinity to integer"
    );
    assert_eq!(python_error("-inf"), inf);
    for conv in ["int", "i64", "np.int64"] {
        raises(&format!("y = {conv}(nan)\n"), &nan);
        raises(&format!("y = {conv}(inf)\n"), &inf);
        raises(&format!("y = {conv}(-inf)\n"), &inf);
        raises(&format!("z = 0.0\ny = {conv}(z / z)\n"), &nan);
        raises(&format!("z = 1e308\ny = {conv}(z * 10.0)\n"), &inf);
    }
    raises("y = int(f32(nan))\n", &nan);
}

#[test]
fn rounding_to_an_int_raises_as_python_does() {
    for conv in ["round", "math.floor", "math.ceil", "math.trunc"] {
        for x in ["nan", "inf", "-inf"] {
            let want = python_error_of(conv, x);
            assert!(!want.is_empty(), "python3 raised nothing for {conv}({x})");
            raises(&format!("y = {conv}({x})\n"), &want);
            raises(&format!("z = {x}\ny = {conv}(z)\n"), &want);
        }
        raises(&format!("z = 1e300\ny = {conv}(z)\n"), TOO_BIG);
    }
    let mut s = Session::new();
    for (code, want) in [
        ("round(2.5)", "2"),
        ("math.floor(-2.5)", "-3"),
        ("math.ceil(-2.5)", "-2"),
        ("math.trunc(-2.5)", "-2"),
    ] {
        assert_eq!(
            ok(&mut s, &format!("{code}\n")).1.as_deref(),
            Some(want),
            "{code}"
        );
    }
}

const TOO_BIG: &str = "OverflowError: int too large to convert to int64";

#[test]
fn floats_beyond_int64_overflow() {
    raises("y = int(1e300)\n", TOO_BIG);
    raises("y = int(-1e300)\n", TOO_BIG);
    raises("y = int(9223372036854775808.0)\n", TOO_BIG);
    raises("z = 2.0 ** 63\ny = int(z)\n", TOO_BIG);
    raises("z = -2.0 ** 64\ny = int(z)\n", TOO_BIG);
}

#[test]
fn floats_in_range_truncate_towards_zero() {
    let mut s = Session::new();
    let cases = [
        ("int(3.7)", "3"),
        ("int(-3.7)", "-3"),
        ("int(-0.5)", "0"),
        ("int(-9223372036854775808.0)", "-9223372036854775808"),
        ("int(9223372036854774784.0)", "9223372036854774784"),
        ("i64(2.0 ** 62)", "4611686018427387904"),
        ("int(f32(2.5))", "2"),
    ];
    for (code, want) in cases {
        assert_eq!(
            ok(&mut s, &format!("{code}\n")).1.as_deref(),
            Some(want),
            "{code}"
        );
        // The same through a variable: the run-time conversion, not the folded one.
        let arg = &code[code.find('(').unwrap() + 1..code.len() - 1];
        let conv = &code[..code.find('(').unwrap()];
        let cell = format!("v = {arg}\n{conv}(v)\n");
        assert_eq!(ok(&mut s, &cell).1.as_deref(), Some(want), "{cell}");
    }
}

#[test]
fn a_parallel_or_gpu_loop_raises_at_the_first_bad_element() {
    for target in ["", "@par\n", "@gpu\n"] {
        let mut s = Session::new();
        ok(
            &mut s,
            "a = arange(1000) * 1.0\na[700] = nan\na[900] = inf\nb = zeros(1000, dtype=np.int64)\n",
        );
        let code = format!("{target}for i in range(1000):\n    b[i] = int(a[i])\n");
        let (_, e) = err(&mut s, &code);
        assert_eq!(
            format!("{}: {}", e.ename, e.evalue),
            "ValueError: cannot convert float NaN to integer",
            "target {target:?}"
        );
        assert_eq!(ok(&mut s, "b[699]\n").1.as_deref(), Some("699"));
    }
}
