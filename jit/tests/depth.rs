//! Deeply nested cells: each shape either compiles or answers with CPython's error
//! (SyntaxError "too many nested parentheses", IndentationError "too many levels of
//! indentation", RecursionError "maximum recursion depth exceeded during compilation"), and
//! the session answers the next cell with its globals kept. These run on the test harness's
//! threads (2 MiB stacks), so a pass that recursed on the caller's stack would abort here.
mod common;
use common::{err, ok};
use kiln_jit::syntax::{is_complete, Completeness};
use kiln_jit::{Session, Stage};

fn parens(n: usize) -> String {
    format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n))
}
fn minus_signs(n: usize) -> String {
    format!("x = {}1\n", "-".repeat(n))
}
fn sum_of_ones(n: usize) -> String {
    format!("x = {}\n", vec!["1"; n].join(" + "))
}
fn nested_lists(n: usize) -> String {
    format!("x = array({}1{})\n", "[".repeat(n), "]".repeat(n))
}
fn nested_abs(n: usize) -> String {
    format!("x = {}1{}\n", "abs(".repeat(n), ")".repeat(n))
}
fn nested_ifs(n: usize) -> String {
    let mut s = String::new();
    for k in 0..n {
        s.push_str(&format!("{}if 1:\n", " ".repeat(k)));
    }
    s.push_str(&format!("{}x = 1\n", " ".repeat(n)));
    s
}
fn elif_chain(n: usize) -> String {
    let mut s = String::from("k = 7\nif k == 0:\n    x = 0\n");
    for k in 1..n {
        s.push_str(&format!("elif k == {k}:\n    x = {k}\n"));
    }
    s
}

/// The cell fails with `ename` and `fragment`, and the session goes on: `kept` was set by an
/// earlier cell and still reads 41, and a new cell runs.
fn refused(code: &str, ename: &str, fragment: &str) {
    let mut s = Session::new();
    ok(&mut s, "kept = 41\n");
    let (_, e) = err(&mut s, code);
    assert_eq!(e.ename, ename, "{}", e.traceback.join("\n"));
    assert!(
        e.evalue.contains(fragment),
        "{:?} lacks {fragment:?}",
        e.evalue
    );
    assert!(
        e.traceback.iter().any(|l| l.contains("cell 2, line")),
        "the report points at no line:\n{}",
        e.traceback.join("\n")
    );
    assert_eq!(ok(&mut s, "kept + 1\n").1.as_deref(), Some("42"));
}

/// The cell runs and `x` reads `want`.
fn accepted(code: &str, want: &str) {
    let mut s = Session::new();
    ok(&mut s, code);
    assert_eq!(ok(&mut s, "x\n").1.as_deref(), Some(want));
}

const PARENS: &str = "too many nested parentheses";
const COMPILE_DEPTH: &str = "maximum recursion depth exceeded during compilation";

#[test]
fn five_thousand_parentheses_are_a_syntax_error() {
    refused(&parens(5_000), "SyntaxError", PARENS);
}

#[test]
fn two_hundred_parentheses_compile_as_in_cpython() {
    accepted(&parens(200), "1");
    refused(&parens(201), "SyntaxError", PARENS);
}

#[test]
fn a_hundred_thousand_minus_signs_are_a_recursion_error() {
    refused(&minus_signs(100_000), "RecursionError", COMPILE_DEPTH);
}

#[test]
fn a_thousand_minus_signs_compile_as_in_cpython() {
    accepted(&minus_signs(1_000), "1");
    accepted(&minus_signs(1_001), "-1");
}

#[test]
fn a_sum_of_two_hundred_thousand_terms_is_a_recursion_error() {
    refused(&sum_of_ones(200_000), "RecursionError", COMPILE_DEPTH);
}

#[test]
fn a_sum_of_nineteen_hundred_terms_compiles_as_in_cpython() {
    accepted(&sum_of_ones(1_900), "1900");
}

#[test]
fn lists_nested_three_thousand_deep_are_a_syntax_error() {
    refused(&nested_lists(3_000), "SyntaxError", PARENS);
}

#[test]
fn abs_nested_twenty_thousand_deep_is_a_syntax_error() {
    refused(&nested_abs(20_000), "SyntaxError", PARENS);
    accepted(&nested_abs(150), "1");
}

#[test]
fn a_hundred_levels_of_indentation_are_an_indentation_error() {
    accepted(&nested_ifs(99), "1");
    refused(
        &nested_ifs(100),
        "IndentationError",
        "too many levels of indentation",
    );
}

#[test]
fn a_long_elif_chain_is_bounded() {
    accepted(&elif_chain(500), "7");
    refused(&elif_chain(5_000), "RecursionError", COMPILE_DEPTH);
}

#[test]
fn a_long_attribute_and_index_chain_is_bounded() {
    refused(
        &format!("a = zeros(3)\nx = a{}\n", "[0:3]".repeat(5_000)),
        "RecursionError",
        COMPILE_DEPTH,
    );
}

#[test]
fn deep_trees_print_at_every_stage() {
    let mut s = Session::new();
    let code = format!(
        "def f(y):\n    return {}\nx = f(1)\n",
        vec!["y"; 1_900].join(" + ")
    );
    for stage in [
        Stage::Tokens,
        Stage::Ast,
        Stage::Ir,
        Stage::Clif,
        Stage::Asm,
    ] {
        let text = s
            .emit(&code, stage)
            .unwrap_or_else(|e| panic!("{stage:?}: {}", e.evalue));
        assert!(!text.is_empty(), "{stage:?} printed nothing");
    }
    ok(&mut s, &code);
    assert_eq!(ok(&mut s, "x\n").1.as_deref(), Some("1900"));
    // The function's tree is kept by the session and compiled again for the next call.
    assert_eq!(ok(&mut s, "f(2)\n").1.as_deref(), Some("3800"));
}

#[test]
fn a_deep_expression_compiles_for_every_loop_target() {
    let sum = vec!["a[i]"; 1_500].join(" + ");
    for target in ["", "@par\n", "@gpu\n"] {
        let mut s = Session::new();
        let code = format!(
            "a = ones(4)\nb = zeros(4)\n{target}for i in range(4):\n    b[i] = {sum}\nprint(b.sum())\n"
        );
        assert_eq!(ok(&mut s, &code).0, "6000.0\n", "target {target:?}");
    }
}

#[test]
fn is_complete_answers_for_deep_input() {
    assert_eq!(is_complete(&parens(5_000)), Completeness::Invalid);
    assert_eq!(is_complete(&minus_signs(100_000)), Completeness::Invalid);
    assert_eq!(is_complete(&sum_of_ones(1_900)), Completeness::Complete);
    assert_eq!(is_complete(&sum_of_ones(200_000)), Completeness::Invalid);
}
