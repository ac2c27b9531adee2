//! Lists (Numba's reflected lists): what the golden run tests cannot show, because CPython's
//! output differs from Kiln's there (one element type per list), the compile-time TypeErrors
//! for what lists do not support. (That every list is released, on normal and error exits,
//! is `lists_refcounts.rs`: the live-object count is process-wide.)
mod common;
use common::{err, ok};
use kiln_jit::Session;

fn compile_error(code: &str, ename: &str, fragment: &str) {
    let mut s = Session::new();
    let (out, e) = err(&mut s, code);
    assert_eq!(e.ename, ename, "for:\n{code}\n{}", e.traceback.join("\n"));
    assert!(
        e.evalue.contains(fragment),
        "message {:?} lacks {fragment:?}",
        e.evalue
    );
    // A compile error runs nothing of the cell.
    assert_eq!(out, "", "a cell that fails to compile printed something");
    assert_eq!(ok(&mut s, "1 + 1\n").1.as_deref(), Some("2"));
}

#[test]
fn int_and_float_in_one_literal_make_a_float_list() {
    let mut s = Session::new();
    let (out, r) = ok(
        &mut s,
        "xs = [1, 2.5]\nprint(xs)\ne = []\ne.append(3)\nprint(e)\nxs\n",
    );
    assert_eq!(out, "[1.0, 2.5]\n[3]\n");
    assert_eq!(r.as_deref(), Some("[1.0, 2.5]"));
    // `[]` given a float later: the literal is made a float list.
    let (out, _) = ok(&mut s, "f = []\nf.append(0.5)\nf.append(2)\nprint(f)\n");
    assert_eq!(out, "[0.5, 2.0]\n");
}

#[test]
fn generator_arguments_are_comprehensions() {
    let mut s = Session::new();
    let (out, _) = ok(
        &mut s,
        "xs = [0.5, -1.0, 2.0]\nprint(sum(x * x for x in xs), any(x < 0 for x in xs), all(x < 0 for x in xs), max(abs(x) for x in xs))\n",
    );
    assert_eq!(out, "5.25 True False 2.0\n");
    compile_error("x = any([1, 2])\n", "TypeError", "takes a list of bool");
}

#[test]
fn plus_equals_extends_in_place() {
    let mut s = Session::new();
    let (out, _) = ok(
        &mut s,
        "a = [1, 2]\nb = a\na += [3]\na.extend(a)\nc = [0.5]\nc += []\nd = c\nc *= 3\nprint(a, b, c, d)\n",
    );
    assert_eq!(
        out,
        "[1, 2, 3, 1, 2, 3] [1, 2, 3, 1, 2, 3] [0.5, 0.5, 0.5] [0.5, 0.5, 0.5]\n"
    );
}

#[test]
fn annotated_lists_and_lists_in_tuples() {
    let mut s = Session::new();
    let (out, r) = ok(
        &mut s,
        "def half(xs: list[int]) -> list[float]:\n    return [x * 0.5 for x in xs]\ndef split(v):\n    return [x for x in v if x < 2], [x for x in v if x >= 2]\nlo, hi = split([1, 2, 3, 0])\nprint(half([1, 2]), lo, hi, (lo, 1))\nsplit([5])\n",
    );
    assert_eq!(out, "[0.5, 1.0] [1, 0] [2, 3] ([1, 0], 1)\n");
    assert_eq!(r.as_deref(), Some("([], [5])"));
    compile_error(
        "def f(xs: list):\n    return 1\nf([1])\n",
        "TypeError",
        "a list annotation names its element type",
    );
    compile_error(
        "def f(xs: list[float]):\n    return 1\nys = [1, 2]\nf(ys)\n",
        "TypeError",
        "lists are shared, so their element type cannot change",
    );
}

#[test]
fn mixed_element_types_are_type_errors() {
    compile_error(
        "x = [1, \"a\"]\n",
        "TypeError",
        "lists of strings are not supported",
    );
    compile_error(
        "x = [[1, 2], [3]]\n",
        "TypeError",
        "lists of lists are not supported",
    );
    compile_error(
        "x = [zeros(3)]\n",
        "TypeError",
        "lists of arrays are not supported",
    );
    compile_error(
        "x = [(1, 2)]\n",
        "TypeError",
        "lists of tuples are not supported",
    );
    compile_error(
        "xs = [1, 2]\nxs.append(2.5)\n",
        "TypeError",
        "a f64 cannot be stored in a list[i64]",
    );
    compile_error(
        "xs = [1, 2]\nxs[0] = 0.5\n",
        "TypeError",
        "cannot be stored in a list[i64]",
    );
}

#[test]
fn an_empty_list_needs_a_type() {
    compile_error(
        "x = []\nprint(x[0])\n",
        "TypeError",
        "the type of this empty list's elements is not known",
    );
    compile_error("x = []\ny = x.pop()\n", "TypeError", "is not known");
    // A typed empty list is fine, and fails as Python does at run time.
    let mut s = Session::new();
    let (_, e) = err(&mut s, "x = [0.0] * 0\ny = x.pop()\n");
    assert_eq!(e.ename, "IndexError");
    assert_eq!(e.evalue, "pop from empty list");
}

#[test]
fn unsupported_list_operations_say_so() {
    compile_error(
        "xs = [1]\ny = xs[1:]\n",
        "TypeError",
        "list slices are not supported",
    );
    compile_error(
        "xs = [1]\nxs.index(1)\n",
        "TypeError",
        "has no method 'index'",
    );
    compile_error(
        "a = sqrt([1.0, 2.0])\n",
        "TypeError",
        "sqrt() does not take a list",
    );
    compile_error("x = [1] == [1]\n", "TypeError", "not supported between");
    compile_error("x = [1j, 2j]\nx.sort()\n", "TypeError", "'<' not supported");
    compile_error(
        "x = reversed([1, 2])\n",
        "TypeError",
        "reversed() is supported only",
    );
    compile_error(
        "x = [i + j for i in range(3) for j in range(2)]\n",
        "SyntaxError",
        "more than one `for`",
    );
    compile_error(
        "x = 0\nwhile len([i for i in range(x)]) < 3:\n    x += 1\n",
        "TypeError",
        "a list comprehension cannot stand here",
    );
    compile_error(
        "print(f\"{[1, 2]:>5}\")\n",
        "TypeError",
        "unsupported format string passed to list.__format__",
    );
}

#[test]
fn lists_in_parallel_bodies_are_errors() {
    compile_error(
        "xs = []\nfor i in prange(4):\n    xs.append(i)\n",
        "SyntaxError",
        "lists cannot be used in a @par or @gpu loop's body",
    );
    compile_error(
        "xs = [1.0, 2.0]\nout = zeros(2)\n@par\nfor i in range(2):\n    out[i] = xs[i]\n",
        "SyntaxError",
        "lists cannot be used",
    );
    compile_error(
        "out = zeros(2)\n@par\nfor i in range(2):\n    t = [i, i]\n    out[i] = t[0]\n",
        "SyntaxError",
        "lists cannot be used",
    );
    // A parallel loop may run over a list (its iterations only read it).
    let mut s = Session::new();
    let (out, _) = ok(
        &mut s,
        "xs = [float(k) for k in range(1000)]\nout = zeros(1000)\n@par\nfor i, x in enumerate(xs):\n    out[i] = 2.0 * x\nprint(out.sum())\n",
    );
    assert_eq!(out, "999000.0\n");
    // A function called from a parallel body may use lists of its own.
    ok(
        &mut s,
        "def tri(n):\n    t = [k for k in range(n)]\n    return sum(t)\nout = zeros(4, dtype=i64)\n@par\nfor i in range(4):\n    out[i] = tri(i)\nprint(out)\n",
    );
}

#[test]
fn a_comprehension_in_a_function_is_typed_per_instance() {
    let mut s = Session::new();
    let (out, _) = ok(
        &mut s,
        "def rep(v, n):\n    return [v for i in range(n)]\nprint(rep(1, 2), rep(2.5, 1), rep(True, 3))\n",
    );
    assert_eq!(out, "[1, 1] [2.5] [True, True, True]\n");
}
