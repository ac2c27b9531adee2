//! `@par` loops, `prange` and threaded whole-array statements (SPEC §7, §13 last bullet).
//!
//! Every parallel cell is compared with the serial run of the same cell (`@par` → `@serial`,
//! `prange(` → `range(`): bitwise for integer (and otherwise exact) work, within
//! reassociation (relative 1e-12) for float reductions; and bitwise between two parallel runs
//! with the same thread count (2 threads, and 1 thread). The worker pool is process-wide, so
//! every test holds `POOL_LOCK` while it runs cells.
//!
//! Then one error test per race rule of parallel.rs (name, message fragment, the line it
//! points at, and a session that survives), run-time errors inside the parallel body, and an
//! interrupt of a long `@par` loop.
mod common;
use common::hang_guard;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};

use kiln_jit::{CellError, ExecResult, Output, Session};
use kiln_runtime::{par, repr_value, DType, Value};

static POOL_LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    // Session::new installs a one-line panic hook (for compiler panics) that would also hide
    // this file's assertion messages: let it install, then restore the default hook.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        drop(Session::new());
        let _ = std::panic::take_hook();
    });
    POOL_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn threads(n: usize) {
    par::set_threads(n).expect("set_threads");
}

/// Run a cell that must succeed; returns its stdout and its result.
fn ok(s: &mut Session, code: &str) -> (String, Option<Value>) {
    let mut out = String::new();
    match s.execute(code, &mut |o| {
        if let Output::Stdout(t) = o {
            out.push_str(&t)
        }
    }) {
        ExecResult::Ok(v) => (out, v),
        ExecResult::Err(e) => panic!(
            "cell should run:\n{code}\n{}: {}\n{}",
            e.ename,
            e.evalue,
            e.traceback.join("\n")
        ),
    }
}

fn ok_repr(s: &mut Session, code: &str) -> String {
    ok(s, code).1.as_ref().map(repr_value).unwrap_or_default()
}

/// Run a cell that must fail.
fn err(s: &mut Session, code: &str) -> CellError {
    match s.execute(code, &mut |_| {}) {
        ExecResult::Ok(v) => panic!(
            "cell should fail:\n{code}\nbut gave {:?}",
            v.as_ref().map(repr_value)
        ),
        ExecResult::Err(e) => e,
    }
}

/// A flattened result: each scalar or array element with its kind.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Int(i64),
    Bool(bool),
    F(f64),
    Str(String),
    Shape(String),
}

fn flatten(v: &Value, out: &mut Vec<Item>) {
    match v {
        Value::None => out.push(Item::Str("None".into())),
        Value::Bool(b) => out.push(Item::Bool(*b)),
        Value::Int(i) => out.push(Item::Int(*i)),
        Value::Float(x) => out.push(Item::F(*x)),
        Value::F32(x) => {
            out.push(Item::Shape("f32".into()));
            out.push(Item::F(*x as f64))
        }
        Value::Complex(r, i) => {
            out.push(Item::Shape("c128".into()));
            out.push(Item::F(*r));
            out.push(Item::F(*i))
        }
        Value::Str(s) => out.push(Item::Str(s.clone())),
        Value::DType { .. } | Value::Opaque(_) => out.push(Item::Str(kiln_runtime::repr_value(v))),
        Value::Tuple(items) => {
            for it in items {
                flatten(it, out)
            }
        }
        Value::List(items) => {
            out.push(Item::Shape(format!("list of {}", items.len())));
            for it in items {
                flatten(it, out)
            }
        }
        Value::Array(a) => {
            out.push(Item::Shape(format!("{:?} {:?}", a.dtype(), a.shape())));
            match a.dtype() {
                DType::C128 => {
                    for (r, i) in a.to_c128_vec() {
                        out.push(Item::F(r));
                        out.push(Item::F(i))
                    }
                }
                DType::F64 | DType::F32 => out.extend(a.to_f64_vec().into_iter().map(Item::F)),
                _ => out.extend(a.to_i64_vec().into_iter().map(Item::Int)),
            }
        }
    }
}

/// Run `code` in a fresh session with `n` worker threads; the flattened result plus stdout.
fn run(code: &str, n: usize) -> (String, Vec<Item>) {
    threads(n);
    let mut s = Session::new();
    let (out, v) = ok(&mut s, code);
    let mut items = Vec::new();
    if let Some(v) = &v {
        flatten(v, &mut items)
    }
    (out, items)
}

/// Runs `setup`, then `cell`, in a fresh session with `n` worker threads: `cell`'s flattened
/// result, and how many parallel loops it started.
fn run_counted(setup: &str, cell: &str, n: usize) -> (Vec<Item>, u64) {
    threads(n);
    let mut s = Session::new();
    ok(&mut s, setup);
    let before = par::loops_started();
    let (_, v) = ok(&mut s, cell);
    let started = par::loops_started() - before;
    let mut items = Vec::new();
    flatten(&v.expect("the cell has a result"), &mut items);
    (items, started)
}

/// The same cell with every loop serial.
fn serial(code: &str) -> String {
    let s = code
        .replace("@par\n", "@serial\n")
        .replace("prange(", "range(");
    assert!(!s.contains("@par") && !s.contains("prange"), "{s}");
    assert_ne!(s, code, "the cell has no parallel loop:\n{code}");
    s
}

fn bits_equal(a: &[Item], b: &[Item]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Item::F(x), Item::F(y)) => x.to_bits() == y.to_bits(),
            _ => x == y,
        })
}

fn close(a: &[Item], b: &[Item], rel: f64) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Item::F(x), Item::F(y)) => {
                x.to_bits() == y.to_bits()
                    || (x - y).abs() <= rel * x.abs().max(y.abs())
                    || (x.is_nan() && y.is_nan())
            }
            _ => x == y,
        })
}

/// Parallel with 2 threads (twice), with 1 thread (twice), and serial: all bitwise equal
/// when `exact`, else parallel within 1e-12 of serial (runs with one thread count still
/// bitwise equal to each other). Returns the serial result.
fn check(code: &str, exact: bool) -> Vec<Item> {
    let _g = lock();
    let p2a = run(code, 2);
    let p2b = run(code, 2);
    let p1a = run(code, 1);
    let p1b = run(code, 1);
    let ser = run(&serial(code), 2);
    assert!(!ser.1.is_empty(), "the cell has no result:\n{code}");
    assert!(
        bits_equal(&p2a.1, &p2b.1),
        "2 threads, two runs differ:\n{code}\n{:?}\n{:?}",
        p2a.1,
        p2b.1
    );
    assert!(
        bits_equal(&p1a.1, &p1b.1),
        "1 thread, two runs differ:\n{code}\n{:?}\n{:?}",
        p1a.1,
        p1b.1
    );
    for (what, p) in [("2 threads", &p2a), ("1 thread", &p1a)] {
        assert_eq!(p.0, ser.0, "stdout differs from serial ({what}):\n{code}");
        if exact {
            assert!(
                bits_equal(&p.1, &ser.1),
                "{what} differs from serial:\n{code}\npar    {:?}\nserial {:?}",
                p.1,
                ser.1
            );
        } else {
            assert!(
                close(&p.1, &ser.1, 1e-12),
                "{what} not within 1e-12 of serial:\n{code}\npar    {:?}\nserial {:?}",
                p.1,
                ser.1
            );
        }
    }
    ser.1
}

fn ints(items: &[Item]) -> Vec<i64> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Int(v) => Some(*v),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------- loop shapes

#[test]
fn range_1d() {
    let r = check(
        "n = 1000\na = zeros(n, dtype=i64)\nb = zeros(n)\n@par\nfor i in range(n):\n    a[i] = i * i % 97 - 3\n    b[i] = sqrt(i * 1.0) / 7.0\n(a, b)\n",
        true,
    );
    assert_eq!(ints(&r)[..4], [-3, -2, 1, 6]);
}

#[test]
fn range_start_step() {
    check(
        "n = 1001\na = zeros(n, dtype=i64)\n@par\nfor i in range(3, n, 7):\n    a[i] = 3 * i + 1\ns = 0\n@par\nfor i in range(5, 900, 11):\n    s += i * i\n(a, s)\n",
        true,
    );
}

#[test]
fn range_negative_step() {
    let r = check(
        "n = 500\na = zeros(n, dtype=i64)\n@par\nfor i in range(n - 1, -1, -3):\n    a[i] = i - 1000\ns = 0\n@par\nfor k in range(10, 3, -2):\n    s += k * 100 + 1\nt = 7\n@par\nfor k in range(3, 10, -1):\n    t += 1\n(a, s, t)\n",
        true,
    );
    let v = ints(&r);
    assert_eq!(&v[v.len() - 2..], &[(10 + 8 + 6 + 4) * 100 + 4, 7]);
}

#[test]
fn ndrange_2d() {
    check(
        "h, w = 37, 23\nm = zeros((h, w), dtype=i64)\nf = zeros((h, w))\ns = 0\n@par\nfor i, j in ndrange(h, w):\n    m[i, j] = i * w + j * j\n    f[i, j] = i / (j + 1.0)\n    s += i * j\n(m, f, s)\n",
        true,
    );
}

#[test]
fn ndrange_3d() {
    check(
        "q = zeros((5, 6, 7), dtype=i64)\ncnt = 0\n@par\nfor i, j, k in ndrange(5, 6, 7):\n    q[i, j, k] = 100 * i + 10 * j + k\n    cnt += 1\n(q, cnt)\n",
        true,
    );
}

#[test]
fn prange_loop() {
    check(
        "n = 777\na = zeros(n, dtype=i64)\ns = 0\nfor i in prange(n):\n    a[i] = (i * 7919) % 1000\n    s += a[i]\n(a, s)\n",
        true,
    );
}

#[test]
fn prange_empty_and_tiny() {
    check(
        "s = 5\nfor i in prange(0):\n    s += 1\nt = 5\nfor i in prange(1):\n    t += 10\nu = 0\nfor i in prange(3):\n    u += i + 1\n(s, t, u)\n",
        true,
    );
}

#[test]
fn mandelbrot_uneven_work() {
    // Uneven iterations (inside the set they run max_iter steps, outside a few), a user
    // function called from the parallel body, an image and a reduction.
    let r = check(
        "def mandel(cr, ci, max_iter):\n    zr = 0.0\n    zi = 0.0\n    for n in range(max_iter):\n        if zr * zr + zi * zi > 4.0:\n            return n\n        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci\n    return max_iter\n\nh, w = 40, 60\nimg = zeros((h, w), dtype=i64)\ntotal = 0\n@par\nfor i, j in ndrange(h, w):\n    k = mandel(-2.0 + j * 3.0 / w, 1.5 - i * 3.0 / h, 100)\n    img[i, j] = k\n    total += k\n(img, total, img.sum())\n",
        true,
    );
    let v = ints(&r);
    assert_eq!(v[v.len() - 2], v[v.len() - 1]);
    assert!(v[v.len() - 1] > 0);
}

#[test]
fn break_in_nested_loop_and_continue_are_fine() {
    check(
        "n = 200\nfirst = zeros(n, dtype=i64)\n@par\nfor i in range(n):\n    if i % 5 == 0:\n        continue\n    for j in range(2, i + 2):\n        if (i + 1) % j == 0:\n            first[i] = j\n            break\nfirst\n",
        true,
    );
}

// ---------------------------------------------------------------- reductions

#[test]
fn reductions_i64_every_form() {
    let code = "n = 40\na = 1000\nb = -5\nc = 3\nd = 1 << 62\ne = -1\nf = 10\ng = 0\nlo = 50\nhi = -50\n@par\nfor i in range(n):\n    a += i * i\n    b -= 2 * i + 1\n    c *= i % 3 + 1\n    d |= 1 << (i % 45)\n    e &= (1 << 50) - 1 - (1 << (i % 13))\n    f = f + i\n    g = g - i\n    lo = min(lo, (i * 37) % 101 - 20)\n    hi = max(hi, (i * 37) % 101 - 20)\n(a, b, c, d, e, f, g, lo, hi)\n";
    let r = check(code, true);
    let v = ints(&r);
    let n = 40i64;
    let mut want = vec![1000 + (0..n).map(|i| i * i).sum::<i64>()];
    want.push(-5 - (0..n).map(|i| 2 * i + 1).sum::<i64>());
    want.push(3 * (0..n).map(|i| i % 3 + 1).product::<i64>());
    want.push((0..n).fold(1 << 62, |d, i| d | (1 << (i % 45))));
    want.push((0..n).fold(-1, |e, i| e & ((1 << 50) - 1 - (1 << (i % 13)))));
    want.push(10 + (0..n).sum::<i64>());
    want.push(-(0..n).sum::<i64>());
    want.push((0..n).map(|i| (i * 37) % 101 - 20).min().unwrap().min(50));
    want.push((0..n).map(|i| (i * 37) % 101 - 20).max().unwrap().max(-50));
    assert_eq!(v, want);
}

#[test]
fn reductions_long_multiply_form() {
    check(
        "p = 2\nq = 1.5\n@par\nfor i in range(30):\n    p = p * (i % 4 + 1)\n    q = q * (1.0 + i / 1000.0)\n(p, q)\n",
        false,
    );
}

#[test]
fn reductions_min_max_keep_start_when_it_wins() {
    let r = check(
        "lo = -1000\nhi = 1000\nflo = -1.5\nfhi = 2.5\n@par\nfor i in range(100):\n    lo = min(lo, i)\n    hi = max(hi, i)\n    flo = min(flo, i * 0.01)\n    fhi = max(fhi, i * 0.01)\n(lo, hi, flo, fhi)\n",
        true,
    );
    assert_eq!(
        r,
        vec![
            Item::Int(-1000),
            Item::Int(1000),
            Item::F(-1.5),
            Item::F(2.5)
        ]
    );
}

#[test]
fn reductions_f64() {
    // Sums of inexact terms: within reassociation of the serial result.
    check(
        "n = 100000\ns = 0.25\nt = 1.0\nlo = 1e300\nhi = -1e300\n@par\nfor i in range(n):\n    x = sin(i * 0.001)\n    s += x / (i + 1.0)\n    t -= x * x\n    lo = min(lo, x)\n    hi = max(hi, x)\n(s, t, lo, hi)\n",
        false,
    );
}

#[test]
fn reductions_f64_exact_terms_are_bitwise() {
    // Integer-valued doubles: every order gives the same bits.
    check(
        "s = 0.5\np = 1.0\n@par\nfor i in range(2000):\n    s += i * 2.0\n    p *= 1.0 + (i % 2)\n(s, p)\n",
        true,
    );
}

#[test]
fn reductions_bool() {
    let r = check(
        "a = zeros(500)\nfor i in range(500):\n    a[i] = (i * 37 % 101) / 100.0\nanyv = False\nallv = True\nnone_big = True\nany_neg = False\n@par\nfor i in range(500):\n    anyv |= a[i] > 0.99\n    allv &= a[i] < 1.5\n    none_big &= a[i] < 0.5\n    any_neg |= a[i] < 0.0\n(anyv, allv, none_big, any_neg)\n",
        true,
    );
    assert_eq!(
        r,
        vec![
            Item::Bool(true),
            Item::Bool(true),
            Item::Bool(false),
            Item::Bool(false)
        ]
    );
}

#[test]
fn reductions_f32() {
    // Small integers are exact in f32, so every order gives the same bits.
    let r = check(
        "s = f32(1.0)\nlo = f32(100.0)\n@par\nfor i in range(1000):\n    s += f32(i % 10)\n    lo = min(lo, f32(i % 17) - f32(3.0))\n(s, lo)\n",
        true,
    );
    assert_eq!(
        r,
        vec![
            Item::Shape("f32".into()),
            Item::F(4501.0),
            Item::Shape("f32".into()),
            Item::F(-3.0)
        ]
    );
}

#[test]
fn reductions_c128() {
    check(
        "z = complex(1, 1)\nw = complex(0, 1)\n@par\nfor i in range(300):\n    z += complex(i, -2 * i)\n    w -= complex(1, i % 3)\n(z, w)\n",
        true,
    );
    check(
        "z = complex(0.5, 0.25)\n@par\nfor i in range(200):\n    z += complex(sin(i * 1.0), cos(i * 1.0)) / (i + 1.0)\nz\n",
        false,
    );
}

#[test]
fn reductions_inside_if_branches() {
    check(
        "n = 300\nev = 0\nod = 100\nbig = 0\nm = -1\n@par\nfor i in range(n):\n    if i % 2 == 0:\n        ev += i\n    else:\n        od -= i\n        if i > 200:\n            big |= 1 << (i % 50)\n    if i % 7 == 3:\n        m = max(m, i % 40)\n    elif i % 7 == 4:\n        ev += 1\n(ev, od, big, m)\n",
        true,
    );
}

#[test]
fn reductions_inside_nested_serial_loops() {
    check(
        "s = 7\nt = 0.0\n@par\nfor i in range(60):\n    for j in range(i):\n        s += i * j\n        k = 0\n        while k < j % 3:\n            t += 0.5 * k\n            k += 1\n(s, t)\n",
        true,
    );
}

#[test]
fn reductions_inside_nested_while_loop() {
    check(
        "s = 7\nt = 0.5\n@par\nfor i in range(60):\n    k = 0\n    while k < i % 5:\n        s += i * k\n        t += 0.25 * k\n        k += 1\n(s, t)\n",
        true,
    );
}

#[test]
fn reduction_in_ndrange_float() {
    check(
        "h, w = 90, 70\nm = zeros((h, w))\nfor i in range(h):\n    for j in range(w):\n        m[i, j] = sin(i * 0.1) * cos(j * 0.07)\ns = 0.0\n@par\nfor i, j in ndrange(h, w):\n    s += m[i, j] * m[i, j]\ns\n",
        false,
    );
}

// ---------------------------------------------------------------- private variables

#[test]
fn private_temporaries() {
    check(
        "n = 400\nx = zeros(n)\ny = zeros(n)\nfor i in range(n):\n    x[i] = i * 0.5\n@par\nfor i in range(n):\n    t = x[i] * 2.0\n    u = t + 1.0\n    if u > 100.0:\n        u = 100.0\n    y[i] = u * t\ny\n",
        true,
    );
}

#[test]
fn private_names_after_the_loop() {
    let _g = lock();
    threads(2);
    let mut s = Session::new();
    // A name existing before keeps its pre-loop value; the loop index too (SPEC §13).
    let r = ok_repr(
        &mut s,
        "t = 99\ni = -4\nacc = zeros(50, dtype=i64)\n@par\nfor i in range(50):\n    t = i * 3\n    acc[i] = t + 1\n(t, i, acc.sum())\n",
    );
    assert_eq!(r, "(99, -4, 3725)");
    // A name first created in the body is not visible after the loop.
    ok(
        &mut s,
        "b = zeros(10)\n@par\nfor k in range(10):\n    fresh = k * 2.0\n    b[k] = fresh\n",
    );
    let e = err(&mut s, "fresh\n");
    assert_eq!(e.ename, "NameError", "{}", e.traceback.join("\n"));
    assert!(e.evalue.contains("fresh"), "{}", e.evalue);
    assert_eq!(ok_repr(&mut s, "b.sum()\n"), "90.0");
    // Serial loops keep Python's rule: the value of the last iteration.
    assert_eq!(
        ok_repr(&mut s, "t2 = 99\nfor i in range(50):\n    t2 = i * 3\nt2\n"),
        "147"
    );
}

// ---------------------------------------------------------------- functions and globals

#[test]
fn globals_read_once_per_chunk_keep_their_values() {
    // A global the body only reads is loaded once at the entry of each chunk: scalars,
    // arrays, and values computed from them give the serial results.
    check(
        "h, w = 30, 40\nscale = 0.5\nimg = zeros((h, w))\nref = ones((h, w), dtype=i64)\n@par\nfor i in range(h):\n    for j in range(w):\n        img[i, j] = (i * w + j) * scale / w + ref[i, j]\nimg\n",
        true,
    );
}

#[test]
fn global_written_by_a_called_function_is_reread() {
    // `bump` assigns the global `k`: the body must read `k` after each call, not a copy
    // taken when the chunk started. One iteration, so no other worker touches `k`.
    let _g = lock();
    threads(2);
    let mut s = Session::new();
    let r = ok_repr(
        &mut s,
        "def bump():\n    global k\n    k += 10\n    return k\nk = 1\nout = zeros(1, dtype=i64)\n@par\nfor i in range(1):\n    out[i] = bump() * 100 + k\n(out[0], k)\n",
    );
    assert_eq!(r, "(1111, 11)");
}

#[test]
fn undefined_global_in_a_branch_not_taken() {
    // A global never assigned is only an error where it is read: the parallel body may
    // mention it in a branch that does not run, and a read that runs is a NameError.
    let _g = lock();
    threads(2);
    let mut s = Session::new();
    let r = ok_repr(
        &mut s,
        "if False:\n    later = zeros(8, dtype=i64)\ns = 0\n@par\nfor i in range(8):\n    if i > 100:\n        s += later[i] + later.shape[0]\ns\n",
    );
    assert_eq!(r, "0");
    let e = err(&mut s, "@par\nfor i in range(8):\n    later[i] = i\n");
    assert_eq!(e.ename, "NameError", "{}", e.traceback.join("\n"));
    assert!(e.evalue.contains("'later'"), "{}", e.evalue);
}

#[test]
fn par_loop_inside_function() {
    check(
        "def sq_sum(n):\n    s = 0\n    @par\n    for i in range(n):\n        s += i * i\n    return s\n\ndef fill(a, c):\n    @par\n    for i in range(len(a)):\n        a[i] = c * i\n    return a.sum()\n\nv = zeros(100, dtype=i64)\n(sq_sum(1000), fill(v, 3), v, sq_sum(0))\n",
        true,
    );
}

#[test]
fn par_loop_inside_function_float() {
    check(
        "def harmonic(n):\n    s = 0.0\n    for i in prange(n):\n        s += 1.0 / (i + 1)\n    return s\n(harmonic(100000), harmonic(3))\n",
        false,
    );
}

#[test]
fn top_level_loop_on_globals_across_cells() {
    let _g = lock();
    let cells = [
        "n = 5000\na = zeros(n, dtype=i64)\ntotal = 12\n",
        "@par\nfor i in range(n):\n    a[i] = (i * i) % 1013\n    total += a[i]\n",
        "@par\nfor i in range(n):\n    total -= a[i] // 2\n",
        "(total, a.sum(), a[4999])\n",
    ];
    let mut results = Vec::new();
    for (nt, par) in [(2, true), (2, true), (1, true), (2, false)] {
        threads(nt);
        let mut s = Session::new();
        let mut last = String::new();
        for c in cells {
            let c = if par || !c.contains("@par") {
                c.to_string()
            } else {
                serial(c)
            };
            last = ok_repr(&mut s, &c);
        }
        results.push(last);
    }
    let a: Vec<i64> = (0..5000i64).map(|i| (i * i) % 1013).collect();
    let total = 12 + a.iter().sum::<i64>() - a.iter().map(|x| x / 2).sum::<i64>();
    let want = format!("({total}, {}, {})", a.iter().sum::<i64>(), a[4999]);
    for r in results {
        assert_eq!(r, want);
    }
}

// ---------------------------------------------------------------- whole-array statements

/// A whole-array statement vs the same computed in a serial element loop, at sizes below and
/// above the threading threshold (524288 elements). The loops write `xi*xi*xi` because
/// whole-array `x**3` is multiplied out, while a scalar `xi**3` is Python's pow (they can
/// differ in the last bit; not a threading matter).
#[test]
fn whole_array_statements_match_serial_loops() {
    let _g = lock();
    for n in [1000, 524287, 524288, 600001] {
        let code = format!(
            "n = {n}\nx = linspace(-1.0, 2.0, n)\ny = zeros(n)\nz = zeros(n)\ny = 2*x**3 - 3*x**2 + 4*x - 1\nfor i in range(n):\n    xi = x[i]\n    z[i] = 2*(xi*xi*xi) - 3*xi**2 + 4*xi - 1\nk = arange(n) * 3 - 7\nkk = zeros(n, dtype=i64)\nfor i in range(n):\n    kk[i] = i * 3 - 7\nw = x * x + 1.0\nw2 = zeros(n)\nfor i in range(n):\n    w2[i] = x[i] * x[i] + 1.0\n(y, z, k, kk, w, w2)\n"
        );
        let mut per_threads = Vec::new();
        for nt in [2, 1, 2] {
            let (_, r) = run(&code, nt);
            // r = [shape, y.., shape, z.., shape, k.., shape, kk.., shape, w.., shape, w2..]
            let parts: Vec<&[Item]> = r.chunks(n + 1).collect();
            assert_eq!(parts.len(), 6);
            for (a, b, what) in [(0, 1, "poly"), (2, 3, "arange*3-7"), (4, 5, "x*x+1")] {
                if !bits_equal(parts[a], parts[b]) {
                    let k = (0..=n).find(|&k| parts[a][k] != parts[b][k]).unwrap();
                    panic!(
                        "n={n} {nt} threads: whole-array `{what}` differs from the serial loop at element {}: {:?} vs {:?}",
                        k as i64 - 1,
                        parts[a][k],
                        parts[b][k]
                    );
                }
            }
            per_threads.push(r);
        }
        assert!(
            bits_equal(&per_threads[0], &per_threads[1]),
            "n={n}: 2 vs 1 threads differ"
        );
        assert!(
            bits_equal(&per_threads[0], &per_threads[2]),
            "n={n}: two 2-thread runs differ"
        );
    }
}

#[test]
fn whole_array_in_place_and_slices() {
    let _g = lock();
    let n = 600_000;
    let code = format!(
        "n = {n}\nx = linspace(0.0, 1.0, n)\ny = x * 0.0\ny = 2*x**3 - 3*x**2 + 4*x - 1\nm = zeros((800, 700))\nm[:, :] = 1.5\nm[1:, :] = m[1:, :] * 2.0 + 1.0\nv = zeros(n)\nv[::2] = x[::2] + 1.0\n(y, m, v)\n"
    );
    let serial_code = format!(
        "n = {n}\nx = linspace(0.0, 1.0, n)\ny = zeros(n)\nfor i in range(n):\n    xi = x[i]\n    y[i] = 2*(xi*xi*xi) - 3*xi**2 + 4*xi - 1\nm = zeros((800, 700))\nfor i, j in ndrange(800, 700):\n    m[i, j] = 1.5\n    if i >= 1:\n        m[i, j] = m[i, j] * 2.0 + 1.0\nv = zeros(n)\nfor i in range(0, n, 2):\n    v[i] = x[i] + 1.0\n(y, m, v)\n"
    );
    let a = run(&code, 2).1;
    let b = run(&code, 1).1;
    let c = run(&serial_code, 2).1;
    assert!(bits_equal(&a, &b), "2 vs 1 threads differ");
    assert!(
        bits_equal(&a, &c),
        "whole-array statements differ from serial loops"
    );
}

/// `@par` before a whole-array assignment runs it on the workers whatever its size, `@serial`
/// keeps it on the cell's thread whatever its size; the values are the serial ones, bit for
/// bit (f64 sums follow NumPy's pairwise tree either way).
#[test]
fn annotated_whole_array_assignments_match_serial() {
    for n in [1, 7, 1000, 100003] {
        let code = format!(
            "n = {n}\nx = linspace(-1.0, 2.0, n)\ny = zeros(n)\n@par\ny[:] = 2.0 * x**3 - 3.0 * x**2 + 4.0 * x - 1.0\n@par\nz = sqrt(x * x + 1.0)\n@par\ns = sqrt(x * x + 1.0).sum()\n@par\nk = (arange(n) * 3 - 7).max()\n@par\np = (arange(n) % 5 + 1).sum()\n@par\ny += z\n(y, z, s, k, p)\n"
        );
        check(&code, true);
    }
}

/// Which statements reach the worker pool: counted by the runtime, per statement.
#[test]
fn annotations_decide_where_whole_array_assignments_run() {
    let _g = lock();
    threads(2);
    let mut s = Session::new();
    ok(
        &mut s,
        "small = linspace(0.0, 1.0, 9)\nbig = linspace(0.0, 1.0, 600000)\nys = zeros(9)\nyb = zeros(600000)\ndef dbl(v):\n    return v * 2.0\n",
    );
    let mut started = |code: &str| {
        let before = par::loops_started();
        ok(&mut s, code);
        par::loops_started() - before
    };
    assert_eq!(started("ys[:] = small * 2.0\n"), 0, "small, unannotated");
    assert_eq!(started("@par\nys[:] = small * 2.0\n"), 1, "small, @par");
    assert_eq!(started("yb[:] = big * 2.0\n"), 1, "big, unannotated");
    assert_eq!(started("@serial\nyb[:] = big * 2.0\n"), 0, "big, @serial");
    assert_eq!(
        started("@par\nt = (small * small).sum()\n"),
        1,
        "small sum, @par"
    );
    assert_eq!(
        started("@serial\nt = (big * big).sum()\n"),
        0,
        "big sum, @serial"
    );
    // The annotation places the assignment's own loops, not those of a function it calls.
    assert_eq!(started("@par\nys[:] = dbl(small) + 1.0\n"), 1, "calls dbl");
    // `%%target` re-targets annotated assignments (and leaves unannotated ones alone).
    assert_eq!(started("%%target serial\n@par\nyb[:] = big + 1.0\n"), 0);
    assert_eq!(started("%%target par\n@serial\nys[:] = small + 1.0\n"), 1);
    assert_eq!(started("%%target par\nys[:] = small + 1.0\n"), 0);
    // In a parallel loop's body, an annotated statement runs on the worker that owns the
    // iteration, as nested loops do: one parallel loop in all.
    assert_eq!(
        started("m = zeros((4, 9))\n@par\nfor i in range(4):\n    @par\n    m[i, :] = small * i\n"),
        1
    );
    assert_eq!(ok_repr(&mut s, "m.sum()\n"), "27.0");
}

#[test]
fn annotated_assignment_errors_keep_the_session() {
    let _g = lock();
    let mut s = Session::new();
    ok(&mut s, "x = ones(4)\nbefore = 1\n");
    let e = err(&mut s, "before = 2\n@par\nq = 3\n");
    assert_eq!(e.ename, "SyntaxError");
    assert!(e.evalue.contains("no whole-array work"), "{}", e.evalue);
    assert_points_at(&e, 2, 2);
    // An array made whole by a call has nothing to split: it runs as written.
    ok(&mut s, "@par\nz = zeros((3, 2))\n@par\nw = x.copy()\n");
    assert_eq!(ok_repr(&mut s, "z.shape, w.sum()\n"), "((3, 2), 4.0)");
    // A whole-array reduction has no array to write: @gpu names the loop form instead.
    let e = err(&mut s, "@gpu\ny = (x * x).sum()\n");
    assert_eq!(e.ename, "DeviceError");
    assert!(e.traceback.join("\n").contains("@par"), "{:?}", e.traceback);
    let e = err(&mut s, "%%target gpu\n@par\ny = (x + 1.0).max()\n");
    assert_eq!(e.ename, "DeviceError");
    assert_eq!(ok_repr(&mut s, "before\n"), "1");
}

/// Integer reductions of big arrays run on the workers (partials combined in chunk order):
/// the same values as a serial loop computes, with wrapping products, for 1 and 2 threads,
/// below and above the threading threshold, on views as well.
#[test]
fn int_reductions_threads_vs_serial_loops() {
    let _g = lock();
    for n in [1001, 524288, 1000003] {
        let code = format!(
            "n = {n}\na = arange(n) * 7919 % 10007 - 5000\nodd = a % 4 * 2 + 1\nm = a.reshape((n, 1))\nr = (a.sum(), a.min(), a.max(), odd.prod(), sum(a * a - 3), (a[::2] + 1).max(), m.min())\ns = 0\nlo = a[0]\nhi = a[0]\np = 1\nss = 0\nhi2 = a[0] + 1\nfor i in range(n):\n    s += a[i]\n    lo = min(lo, a[i])\n    hi = max(hi, a[i])\n    p *= odd[i]\n    ss += a[i] * a[i] - 3\n    if i % 2 == 0:\n        hi2 = max(hi2, a[i] + 1)\n(r, (s, lo, hi, p, ss, hi2, lo))\n"
        );
        let one = run(&code, 1).1;
        let two = run(&code, 2).1;
        assert_eq!(one, two, "n={n}: 1 and 2 threads differ");
        let v = ints(&two);
        assert_eq!(v.len(), 14, "n={n}: {two:?}");
        assert_eq!(
            v[..7],
            v[7..],
            "n={n}: reductions differ from the serial loop"
        );
    }
}

/// Float minima and maxima of big arrays run on the workers too: any grouping picks the same
/// element (NaN propagates, ties keep the first), so 1 and 2 threads and a serial loop give
/// the same bits, with and without NaNs, for f64 and f32.
#[test]
fn float_min_max_threads_vs_serial_loops() {
    let _g = lock();
    for n in [1001, 524288, 1000003] {
        for nans in ["", "x[n // 3] = nan\nx[n - 2] = nan\n"] {
            let setup = format!(
                "n = {n}\nx = sin(linspace(0.0, 100.0, n)) * 3.0\nx[7] = -0.0\nx[n // 2] = 0.0\n{nans}y = x.astype(float32)\n"
            );
            // Reductions of whole-array expressions (a plain `x.min()` is the runtime's).
            let reductions =
                "((x * 1.0).min(), (x * 1.0).max(), (x * -2.0).max(), (y * 1.0).min(), (y + 1.0).max())\n";
            let serial_loop = "lo = inf\nhi = -inf\nhi2 = -inf\nfor i in range(n):\n    v = x[i]\n    if v < lo or v != v:\n        lo = v\n    if v > hi or v != v:\n        hi = v\n    w = v * -2.0\n    if w > hi2 or w != w:\n        hi2 = w\n(lo, hi, hi2)\n";
            let (looped, _) = run_counted(&setup, serial_loop, 1);
            let mut results = Vec::new();
            for nt in [2, 1] {
                let (items, threaded) = run_counted(&setup, reductions, nt);
                let expect = if n >= 524288 { 5 } else { 0 };
                assert_eq!(
                    threaded, expect,
                    "n={n}, {nans:?}, {nt} threads: on the workers"
                );
                // f32 values come with a marker: 3 + 2 * 2 items.
                assert_eq!(items.len(), 7, "{items:?}");
                assert!(
                    bits_equal(&items[..3], &looped),
                    "n={n} {nans:?}: min/max differ from the serial loop: {items:?} {looped:?}"
                );
                results.push(items);
            }
            assert!(
                bits_equal(&results[0], &results[1]),
                "n={n} {nans:?}: 1 and 2 threads differ"
            );
        }
    }
}

#[test]
fn f64_sum_over_expression_threads_vs_serial() {
    let _g = lock();
    let code = "n = 1000003\nx = linspace(0.0, 1.0, n)\ns = sum(sqrt(x*x + 1))\nt = (x * 0.5 - 0.1).sum()\nacc = 0.0\nfor i in range(n):\n    acc += sqrt(x[i]*x[i] + 1)\nacc2 = 0.0\nfor i in range(n):\n    acc2 += x[i] * 0.5 - 0.1\n(s, acc, t, acc2)\n";
    let a = run(code, 2).1;
    let a2 = run(code, 2).1;
    let b = run(code, 1).1;
    assert!(
        bits_equal(&a, &a2),
        "two 2-thread runs differ: {a:?} {a2:?}"
    );
    for r in [&a, &b] {
        let f: Vec<f64> = r
            .iter()
            .map(|i| if let Item::F(x) = i { *x } else { panic!() })
            .collect();
        assert!(
            (f[0] - f[1]).abs() <= 1e-12 * f[1].abs(),
            "sum(sqrt(x*x+1)) {} vs serial {}",
            f[0],
            f[1]
        );
        assert!(
            (f[2] - f[3]).abs() <= 1e-12 * f[3].abs(),
            "(x*0.5-0.1).sum() {} vs serial {}",
            f[2],
            f[3]
        );
    }
}

// ---------------------------------------------------------------- compile-time errors

fn assert_points_at(e: &CellError, cell: usize, line: usize) {
    let tb = e.traceback.join("\n");
    assert!(
        tb.contains(&format!("cell {cell}, line {line}:")),
        "the report should point at cell {cell} line {line}:\n{tb}"
    );
    assert!(
        e.traceback
            .iter()
            .any(|l| l.trim().chars().all(|c| c == '^') && !l.trim().is_empty()),
        "no caret:\n{tb}"
    );
}

/// Cell 1 `before = 1`; cell 2 `before = 2` + `failing`: a compile error `ename` at cell 2
/// line `line` (counting `before = 2`), whose message has `fragment` and a hint naming
/// @serial; nothing of cell 2 ran, and the session goes on.
fn check_compile_error(failing: &str, ename: &str, fragment: &str, line: usize) {
    let _g = lock();
    threads(2);
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    let code = format!("before = 2\n{failing}");
    let e = err(&mut s, &code);
    let tb = e.traceback.join("\n");
    assert_eq!(e.ename, ename, "{code}\n{tb}");
    assert!(
        e.evalue.contains(fragment),
        "message {:?} lacks {fragment:?}",
        e.evalue
    );
    assert_points_at(&e, 2, line);
    assert!(tb.contains("@serial"), "no hint naming @serial:\n{tb}");
    assert_eq!(ok_repr(&mut s, "before\n"), "1");
    assert_eq!(ok_repr(&mut s, "after = before * 10 + 1\nafter\n"), "11");
    // The same loop marked @serial compiles and runs (the rules are for parallel loops).
    let mut s2 = Session::new();
    let se = serial(failing);
    match s2.execute(&se, &mut |_| {}) {
        ExecResult::Ok(_) => {}
        ExecResult::Err(e) => assert_ne!(
            e.ename,
            "SyntaxError",
            "the serial loop should compile:\n{se}\n{}",
            e.traceback.join("\n")
        ),
    }
}

#[test]
fn error_outer_scalar_assigned() {
    // Assigned on one path, read on another: neither private nor a reduction.
    check_compile_error(
        "s = 0\na = zeros(10)\n@par\nfor i in range(10):\n    if i > 5:\n        s = i\n    a[i] = s\n",
        "SyntaxError",
        "`s` is assigned in every iteration of a parallel loop",
        7,
    );
}

#[test]
fn outer_scalar_assigned_before_read_is_private() {
    // SPEC §13: assigned before it is read on every path, so private (not the §7 error);
    // after the loop it keeps its pre-loop value (serially: the last iteration's, as Python).
    let code = "s = -3\na = zeros(10, dtype=i64)\n@par\nfor i in range(10):\n    s = i * 2\n    a[i] = s + 1\n(s, a)\n";
    let _g = lock();
    let p2 = run(code, 2).1;
    let p1 = run(code, 1).1;
    let ser = run(&serial(code), 2).1;
    assert_eq!(p2, p1);
    assert_eq!(p2[0], Item::Int(-3));
    assert_eq!(ser[0], Item::Int(18));
    assert_eq!(p2[1..], ser[1..]);
}

#[test]
fn error_outer_scalar_read_then_assigned() {
    // Not a reduction: the new value depends on the old one other than through `s + e`.
    check_compile_error(
        "s = 1\na = zeros(10)\n@par\nfor i in range(10):\n    a[i] = s\n    s = s * 2 + i\n",
        "SyntaxError",
        "`s` is assigned in every iteration",
        7,
    );
}

#[test]
fn error_mixed_reduction_operators() {
    check_compile_error(
        "s = 1\n@par\nfor i in range(10):\n    s += i\n    s *= 2\n",
        "SyntaxError",
        "`s` is assigned in every iteration",
        5,
    );
}

#[test]
fn error_reduction_read_in_body() {
    check_compile_error(
        "s = 0\na = zeros(10)\n@par\nfor i in range(10):\n    s += i\n    a[i] = s\n",
        "SyntaxError",
        "`s` is a reduction in this parallel loop but the body also reads it",
        6,
    );
}

#[test]
fn error_reduction_expression_mentions_itself() {
    check_compile_error(
        "s = 1\n@par\nfor i in range(10):\n    s += s * i\n",
        "SyntaxError",
        "`s`",
        5,
    );
}

#[test]
fn error_array_write_loop_invariant_index() {
    check_compile_error(
        "a = zeros(10)\n@par\nfor i in range(10):\n    a[0] = i\n",
        "SyntaxError",
        "writes the same element",
        5,
    );
}

#[test]
fn error_array_write_loop_invariant_index_2d() {
    check_compile_error(
        "m = zeros((4, 4))\nk = 2\n@par\nfor i, j in ndrange(4, 4):\n    if i > j:\n        m[k, 1] = i + j\n",
        "SyntaxError",
        "writes the same element",
        7,
    );
}

#[test]
fn error_break_in_parallel_body() {
    check_compile_error(
        "a = zeros(10)\n@par\nfor i in range(10):\n    a[i] = i\n    if i > 5:\n        break\n",
        "SyntaxError",
        "`break` cannot leave a parallel loop",
        7,
    );
}

#[test]
fn error_break_in_prange_body() {
    let _g = lock();
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    let e = err(&mut s, "before = 2\nfor i in prange(10):\n    break\n");
    assert_eq!(e.ename, "SyntaxError");
    assert!(
        e.evalue.contains("`break` cannot leave a parallel loop"),
        "{}",
        e.evalue
    );
    assert_points_at(&e, 2, 3);
    assert_eq!(ok_repr(&mut s, "before\n"), "1");
}

#[test]
fn error_return_in_parallel_body() {
    check_compile_error(
        "def f(a):\n    @par\n    for i in range(len(a)):\n        if a[i] < 0:\n            return i\n        a[i] = 1.0\n    return -1\nf(zeros(3))\n",
        "SyntaxError",
        "`return` inside a parallel loop's body",
        6,
    );
}

// ---------------------------------------------------------------- run-time errors

/// A cell failing at run time inside a parallel body reports the same error as its serial
/// run, at the same place; globals assigned before the loop keep their new values and the
/// session goes on.
fn check_runtime_error(failing: &str, ename: &str, fragment: &str, line: usize) {
    let _g = lock();
    let mut reports = Vec::new();
    for (nt, code) in [
        (2, failing.to_string()),
        (1, failing.to_string()),
        (2, serial(failing)),
    ] {
        threads(nt);
        let mut s = Session::new();
        ok(&mut s, "before = 1\nkeep = arange(5)\n");
        let code = format!("before = 2\n{code}");
        let e = err(&mut s, &code);
        let tb = e.traceback.join("\n");
        assert_eq!(e.ename, ename, "{code}\n{tb}");
        assert!(
            e.evalue.contains(fragment),
            "message {:?} lacks {fragment:?}\n{tb}",
            e.evalue
        );
        assert_points_at(&e, 2, line);
        assert_eq!(ok_repr(&mut s, "before\n"), "2", "{code}");
        assert_eq!(ok_repr(&mut s, "keep.sum()\n"), "10");
        assert_eq!(ok_repr(&mut s, "after = before * 10 + 1\nafter\n"), "21");
        // A parallel loop still runs in this session.
        assert_eq!(
            ok_repr(&mut s, "t = 0\n@par\nfor i in range(100):\n    t += i\nt\n"),
            "4950"
        );
        reports.push((e.ename, e.evalue));
    }
    assert_eq!(reports[0], reports[2], "parallel and serial errors differ");
    assert_eq!(reports[1], reports[2], "1-thread and serial errors differ");
}

#[test]
fn runtime_index_error_in_parallel_body() {
    check_runtime_error(
        "a = zeros(100)\n@par\nfor i in range(100):\n    if i == 77:\n        a[i + 1000] = 1.0\n    a[i] = i\n",
        "IndexError",
        "1077",
        6,
    );
}

#[test]
fn runtime_zero_division_in_parallel_body() {
    check_runtime_error(
        "s = 0\n@par\nfor i in range(1000):\n    s += 100 // (i - 613)\n",
        "ZeroDivisionError",
        "division",
        5,
    );
}

#[test]
fn runtime_error_in_function_called_from_parallel_body() {
    check_runtime_error(
        "def g(a, i):\n    return a[i * 3]\na = arange(50)\nb = zeros(50, dtype=i64)\n@par\nfor i in range(50):\n    if i == 20:\n        b[i] = g(a, i)\n",
        "IndexError",
        "60",
        3,
    );
}

#[test]
fn runtime_errors_in_many_iterations() {
    // Every iteration from 10 on fails; which one is reported is up to the workers, but it
    // is an IndexError and the session survives.
    let _g = lock();
    threads(2);
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    let e = err(
        &mut s,
        "before = 2\na = zeros(10)\n@par\nfor i in range(100000):\n    a[i] = 1.0\n",
    );
    assert_eq!(e.ename, "IndexError", "{}", e.traceback.join("\n"));
    assert_points_at(&e, 2, 5);
    assert_eq!(ok_repr(&mut s, "before + a.sum() * 0\n"), "2.0");
    assert_eq!(ok_repr(&mut s, "1 + 1\n"), "2");
}

// ---------------------------------------------------------------- interrupt

#[test]
fn keyboard_interrupt_in_long_par_loop() {
    let _g = lock();
    threads(2);
    let done = hang_guard("keyboard_interrupt_in_long_par_loop");
    let mut s = Session::new();
    ok(&mut s, "before = 1\ns = 5\n");
    let flag = s.interrupt_handle();
    let mut seen = String::new();
    // The cell prints, then runs a @par loop far too long to finish; the output callback sets
    // the flag when it sees the line (no sleeping). The loop may see it at once or after some
    // chunks; either way it must stop with KeyboardInterrupt.
    let r = s.execute(
        "before = 2\nprint('spinning')\n@par\nfor i in range(1 << 60):\n    s += i % 7\n",
        &mut |o| {
            if let Output::Stdout(t) = o {
                seen.push_str(&t);
                if seen.contains("spinning\n") {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        },
    );
    done.store(true, Ordering::Relaxed);
    let ExecResult::Err(e) = r else {
        panic!("the cell should be interrupted")
    };
    assert_eq!(e.ename, "KeyboardInterrupt", "{}", e.traceback.join("\n"));
    assert_eq!(seen, "spinning\n");
    assert_eq!(ok_repr(&mut s, "before\n"), "2");
    // The reduction never completed: `s` is still a valid i64 (its pre-loop value, or a
    // combined partial one, never garbage of another type).
    let sv = ok_repr(&mut s, "s\n");
    assert!(sv.parse::<i64>().is_ok(), "{sv}");
    // The flag is cleared; parallel loops still run.
    assert_eq!(
        ok_repr(
            &mut s,
            "t = 0\n@par\nfor i in range(1000):\n    t += i\nt + before\n"
        ),
        "499502"
    );
}

#[test]
fn keyboard_interrupt_from_another_thread_during_par_loop() {
    // The flag is set by another thread once the cell has printed (signalled through a
    // channel from the output callback); the par loop runs an uneven, long workload.
    let _g = lock();
    threads(2);
    let done = hang_guard("keyboard_interrupt_from_another_thread_during_par_loop");
    let mut s = Session::new();
    ok(&mut s, "before = 1\n");
    let flag = s.interrupt_handle();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let setter = std::thread::spawn(move || {
        rx.recv().unwrap();
        flag.store(true, Ordering::Relaxed);
    });
    let r = s.execute(
        "before = 2\nimg = zeros((2000, 2000), dtype=i64)\nprint('go')\n@par\nfor i, j in ndrange(2000, 2000):\n    k = 0\n    while k < 1000000 * (i % 3):\n        k += 1\n    img[i, j] = k\n",
        &mut |o| {
            if let Output::Stdout(_) = o {
                let _ = tx.send(());
            }
        },
    );
    done.store(true, Ordering::Relaxed);
    setter.join().unwrap();
    let ExecResult::Err(e) = r else {
        panic!("the cell should be interrupted")
    };
    assert_eq!(e.ename, "KeyboardInterrupt", "{}", e.traceback.join("\n"));
    assert_eq!(ok_repr(&mut s, "before\n"), "2");
    assert_eq!(ok_repr(&mut s, "img.shape\n"), "(2000, 2000)");
}
