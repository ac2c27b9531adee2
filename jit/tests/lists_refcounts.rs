//! Lists are released on every exit: the temporaries of comprehensions, `sorted`, `+`,
//! `* n`, `list(range(...))`, `np.array(xs)`, the locals of a function that returns, and
//! those of one that fails with an IndexError in the middle of an expression.
//!
//! The runtime counts live heap objects process-wide, so this file holds one test: it runs
//! in its own process, with no other test allocating beside it.
mod common;
use common::{err, ok};
use kiln_jit::Session;

#[test]
fn lists_release_everything() {
    use kiln_runtime::obj::live_objects;
    let mut s = Session::new();
    ok(
        &mut s,
        "def work(n):\n    xs = [i * 0.5 for i in range(n)]\n    ys = sorted(xs, reverse=True) + [1.0] * 3\n    zs = list(range(n))\n    t = 0.0\n    for v in ys:\n        t += v\n    a = array(xs)\n    return t + a.sum() + len(zs)\n\ndef fail(n):\n    xs = [1, 2, 3]\n    ys = xs + xs\n    return ys[n]\n",
    );
    ok(&mut s, "r = 0.0\nfor k in range(50):\n    r += work(k)\n");
    let (_, e) = err(
        &mut s,
        "q = [7, 8]\nfor k in range(3):\n    q.append(fail(k * 4))\n",
    );
    assert_eq!(e.ename, "IndexError");
    let before = live_objects();
    for _ in 0..3 {
        ok(&mut s, "r = 0.0\nfor k in range(50):\n    r += work(k)\n");
        let (_, e) = err(
            &mut s,
            "q = [7, 8]\nfor k in range(3):\n    q.append(fail(k * 4))\n",
        );
        assert_eq!(e.ename, "IndexError");
        assert_eq!(e.evalue, "list index out of range");
    }
    assert_eq!(live_objects(), before, "lists leak");
}
