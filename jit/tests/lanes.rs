//! Parallel loops in vector lanes: every loop the lane pass takes must give, bit for bit, what
//! the same loop gives one iteration at a time (`%vector off`) and serially (`@serial`).
//! Random loop bodies (divergent `if`s, early exits, `while` and `for` with `break` and
//! `continue`, calls that return from inside loops, gathers, integer reductions) over every
//! tail length, errors in one lane, and SPEC §12's example.
mod common;
use common::{err, ok};
use kiln_jit::Session;

/// Run the cells in a fresh session (`%vector` as given) and return everything printed plus
/// the last result.
fn run(cells: &[&str], vector: bool) -> String {
    let mut s = Session::new();
    ok(&mut s, if vector { "%vector on" } else { "%vector off" });
    let mut out = String::new();
    for c in cells {
        let (o, r) = ok(&mut s, c);
        out.push_str(&o);
        if let Some(r) = r {
            out.push_str(&r);
            out.push('\n');
        }
    }
    out
}

/// What `%%ir` says about the cell's parallel loops.
fn remarks(setup: &str, cell: &str) -> String {
    let mut s = Session::new();
    ok(&mut s, setup);
    let (o, _) = ok(&mut s, &format!("%%ir\n{cell}"));
    o.lines()
        .filter(|l| l.starts_with("#     "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The cell with lanes, without, and serially: all three must print the same.
fn same_three_ways(setup: &str, cell: &str) -> String {
    let on = run(&[setup, cell], true);
    let off = run(&[setup, cell], false);
    let serial = run(&[setup, &cell.replace("@par", "@serial")], true);
    assert_eq!(
        on, off,
        "lanes differ from one iteration at a time:\n{setup}\n{cell}"
    );
    assert_eq!(on, serial, "lanes differ from serial:\n{setup}\n{cell}");
    on
}

/// The cell's first parallel loop runs in lanes.
fn assert_vectorised(setup: &str, cell: &str) {
    let r = remarks(setup, cell);
    assert!(
        r.lines().next().is_some_and(|l| l.contains(" vectorised:")),
        "expected the parallel loop in lanes:\n{cell}\n{r}"
    );
}

const MANDEL: &str = "def mandel(cr, ci, max_iter):
    zr = 0.0
    zi = 0.0
    for n in range(max_iter):
        if zr * zr + zi * zi > 4.0:
            return n
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
    return max_iter
";

#[test]
fn spec_example_checksum_and_picture() {
    let setup = format!(
        "{MANDEL}
h, w = 1000, 1000
img = zeros((h, w), dtype=i64)"
    );
    let cell = "@par
for i, j in ndrange(h, w):
    img[i, j] = mandel(-2.0 + j * 3.0 / w, 1.5 - i * 3.0 / h, 200)
inside = 0
@par
for i, j in ndrange(h, w):
    if img[i, j] == 200:
        inside += 1
print(img.sum(), inside, (img * arange(w)).sum(), img[500].sum())";
    assert_vectorised(&setup, cell);
    let out = same_three_ways(&setup, cell);
    assert!(out.starts_with("38061767 "), "{out}");
}

#[test]
fn rows_in_lanes_with_an_inner_serial_loop() {
    let setup = format!("{MANDEL}\nh, w = 37, 53\nimg = zeros((h, w), dtype=i64)");
    let cell = "@par
for i in range(h):
    ci = 1.5 - i * 3.0 / h
    for j in range(w):
        img[i, j] = mandel(-2.0 + j * 3.0 / w, ci, 60)
for i in range(h):
    print(img[i].sum())";
    assert_vectorised(&setup, cell);
    same_three_ways(&setup, cell);
}

/// Every tail: loops of 0 to 2 x the widest step + 1 iterations, 1-D and 2-D.
#[test]
fn every_tail_length() {
    for n in 0..=17 {
        let setup = format!("n = {n}\nout = zeros(n)\ncnt = zeros(n, dtype=i64)");
        let cell = "@par
for i in range(n):
    x = i * 0.37 - 1.0
    k = 0
    while x * x < 9.0 and k < 40:
        x = x * 1.3 + 0.1
        k += 1
    out[i] = x
    cnt[i] = k
for i in range(n):
    print(out[i], cnt[i])";
        assert_vectorised(&setup, cell);
        same_three_ways(&setup, cell);
    }
    for (h, w) in [
        (1, 1),
        (3, 5),
        (5, 3),
        (2, 9),
        (7, 1),
        (1, 7),
        (0, 4),
        (4, 0),
    ] {
        let setup = format!("h, w = {h}, {w}\nimg = zeros((h, w))");
        let cell = "@par
for i, j in ndrange(h, w):
    v = 0.0
    if i < 3 and j > i:
        v = 1.0 * j - i
    else:
        v = -1.0 * i
    img[i, j] = v
print(img.sum(), (img * img).sum())";
        same_three_ways(&setup, cell);
    }
}

#[test]
fn reductions_in_lanes() {
    let setup = "n = 1003\na = zeros(n)\nfor i in range(n):\n    a[i] = (i * 7919) % 101 - 50.0";
    let cell = "c = 0
lo = 1000
hi = -1000
m = 0
@par
for i in range(n):
    if a[i] > 0.0:
        c += 1
    for q in range(2):
        m += q
    lo = min(lo, i * 3 - 7)
    hi = max(hi, 2 * i)
    if a[i] < -40.0:
        m += i
print(c, lo, hi, m)";
    assert_vectorised(setup, cell);
    same_three_ways(setup, cell);
}

#[test]
fn an_error_in_one_lane_is_the_serial_error() {
    for bad in [0, 1, 2, 3, 5, 6, 7, 9, 10] {
        let setup = format!("n = 11\na = zeros(n)\nidx = zeros(n, dtype=i64)\nidx[{bad}] = 50");
        let cell = "@par
for i in range(n):
    a[i] = i * 2.0
    x = 0.0
    for q in range(2):
        x = x + a[idx[i]]
    a[i] = x + 1.0";
        assert_vectorised(&setup, cell);
        let mut msgs = Vec::new();
        for vector in [true, false] {
            let mut s = Session::new();
            ok(&mut s, if vector { "%vector on" } else { "%vector off" });
            ok(&mut s, &setup);
            let (_, e) = err(&mut s, cell);
            msgs.push((e.ename.clone(), e.evalue.clone(), e.traceback.len()));
            // The session goes on.
            assert_eq!(ok(&mut s, "n + 1").1.as_deref(), Some("12"));
        }
        assert_eq!(msgs[0], msgs[1], "bad lane {bad}");
        assert_eq!(msgs[0].0, "IndexError");
    }
}

#[test]
fn loops_left_scalar_say_why() {
    let setup = "n = 10\na = zeros(n)";
    let cases = [
        ("@par\nfor i in range(n):\n    print(i)", "calls print"),
        (
            "s = 0.0\n@par\nfor i in range(n):\n    s += a[i]",
            "a float reduction",
        ),
        (
            "@par\nfor i in range(n):\n    a[i] = i // 3",
            "uses `//` on int",
        ),
        (
            "@par\nfor i in range(n):\n    a[i] = i * 2.0",
            "no loop in the body",
        ),
    ];
    for (cell, why) in cases {
        let r = remarks(setup, cell);
        assert!(
            r.contains("not vectorised") && r.contains(why),
            "{cell}\n{r}"
        );
    }
    let mut s = Session::new();
    ok(&mut s, "%vector off");
    ok(&mut s, setup);
    let (o, _) = ok(&mut s, "%%ir\n@par\nfor i in range(n):\n    a[i] = 1.0");
    assert!(o.contains("not vectorised: %vector is off"), "{o}");
}

// ----- random loop bodies ------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A float expression over the iteration's names.
fn fexpr(r: &mut Rng, depth: u32) -> String {
    if depth == 0 || r.below(3) == 0 {
        return r
            .pick(&[
                "x",
                "y",
                "a[i]",
                "b[idx[i]]",
                "0.5",
                "1.25",
                "-2.0",
                "t",
                "i * 0.1",
            ])
            .to_string();
    }
    let a = fexpr(r, depth - 1);
    let b = fexpr(r, depth - 1);
    match r.below(9) {
        0 => format!("({a} + {b})"),
        1 => format!("({a} - {b})"),
        2 => format!("({a} * {b})"),
        3 => format!("({a} / 3.0)"),
        4 => format!("abs({a})"),
        5 => format!("min({a}, {b})"),
        6 => format!("max({a}, {b})"),
        7 => format!("sqrt(abs({a}))"),
        _ => format!("({a} if {} else {b})", cond(r, depth - 1)),
    }
}

fn cond(r: &mut Rng, depth: u32) -> String {
    let a = fexpr(r, depth);
    let b = fexpr(r, depth);
    let op = r.pick(&["<", ">", "<=", ">=", "==", "!="]);
    match r.below(5) {
        0 => format!("{a} {op} {b} and k < 7"),
        1 => format!("{a} {op} {b} or i > 13"),
        2 => format!("not ({a} {op} {b})"),
        _ => format!("{a} {op} {b}"),
    }
}

/// Statements of the loop body (or of the helper function, where `ret` allows `return`).
fn stmts(r: &mut Rng, depth: u32, indent: usize, in_loop: bool, ret: bool, out: &mut String) {
    let pad = " ".repeat(indent);
    for _ in 0..1 + r.below(3) {
        let choice = if depth == 0 { r.below(3) } else { r.below(9) };
        match choice {
            0 | 1 => {
                let v = r.pick(&["x", "y", "t"]);
                out.push_str(&format!("{pad}{v} = {}\n", fexpr(r, 2)));
            }
            2 => out.push_str(&format!("{pad}k = k + {}\n", 1 + r.below(3))),
            3 | 4 => {
                out.push_str(&format!("{pad}if {}:\n", cond(r, 1)));
                stmts(r, depth - 1, indent + 4, in_loop, ret, out);
                if r.below(2) == 0 {
                    out.push_str(&format!("{pad}else:\n"));
                    stmts(r, depth - 1, indent + 4, in_loop, ret, out);
                }
            }
            5 => {
                // Bounded by its own counter, whatever the condition does.
                // A counter of its own (nested loops must not reset each other's).
                let m = format!("m{}", r.below(1 << 20));
                let (limit, c) = (2 + r.below(6), cond(r, 1));
                out.push_str(&format!(
                    "{pad}{m} = 0\n{pad}while {m} < {limit} and ({c}):\n"
                ));
                out.push_str(&format!("{pad}    {m} += 1\n"));
                stmts(r, depth - 1, indent + 4, true, ret, out);
            }
            6 => {
                let stop = r.pick(&["3", "min(k, 6)", "i + 1", "5"]);
                out.push_str(&format!(
                    "{pad}for q in range({stop}):\n{pad}    t = t + q * 0.5\n"
                ));
                stmts(r, depth - 1, indent + 4, true, ret, out);
            }
            7 if in_loop => {
                let exit = r.pick(&["break", "continue"]);
                out.push_str(&format!("{pad}if {}:\n{pad}    {exit}\n", cond(r, 1)));
            }
            8 if ret => out.push_str(&format!(
                "{pad}if {}:\n{pad}    return {}\n",
                cond(r, 1),
                fexpr(r, 1)
            )),
            _ => out.push_str(&format!("{pad}y = y + {}\n", fexpr(r, 1))),
        }
    }
}

/// A random parallel loop and its helper function.
fn program(seed: u64) -> (String, String) {
    let mut r = Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1);
    let n = r.below(23);
    let mut setup = format!(
        "n = {n}\na = zeros(n)\nb = zeros(n + 3)\nidx = zeros(n, dtype=i64)
out = zeros(n)\ncnt = zeros(n, dtype=i64)
for i in range(n):
    a[i] = ((i * 37) % 11) * 0.5 - 2.0
    idx[i] = (i * 5 + 2) % (n + 3)
for i in range(n + 3):
    b[i] = ((i * 13) % 7) * 0.75 - 1.5
"
    );
    let mut helper = String::from("def g(x, y, i, a, b, idx):\n    t = 0.0\n    k = 0\n");
    stmts(&mut r, 2, 4, false, true, &mut helper);
    helper.push_str("    return x + y * 0.5 + t + k\n");
    setup.push_str(&helper);
    let mut body = String::from(
        "@par\nfor i in range(n):\n    x = a[i]\n    y = b[idx[i]]\n    t = 0.0\n    k = 0
    for q in range(2):
        t = t + q * 0.25\n",
    );
    stmts(&mut r, 3, 4, false, false, &mut body);
    if r.below(2) == 0 {
        body.push_str("    x = g(x, y, i, a, b, idx)\n");
    }
    body.push_str("    out[i] = x + y + t\n    cnt[i] = k\n");
    body.push_str("for i in range(n):\n    print(out[i], cnt[i])");
    (setup, body)
}

#[test]
fn random_bodies_match_one_at_a_time_and_serial() {
    let seeds: u64 = std::env::var("KILN_LANE_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    // `KILN_LANE_SEED=k` runs one program and prints it first (to study a failure).
    let only: Option<u64> = std::env::var("KILN_LANE_SEED")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut vectorised = 0;
    for seed in 0..seeds {
        if only.is_some_and(|k| k != seed) {
            continue;
        }
        let (setup, cell) = program(seed);
        if only.is_some() {
            eprintln!("{setup}\n# %%\n{cell}");
            vectorised = seeds;
        }
        let r = remarks(&setup, &cell);
        if r.contains(" vectorised:") && !r.contains("not vectorised") {
            vectorised += 1;
        }
        let on = run(&[&setup, &cell], true);
        let off = run(&[&setup, &cell], false);
        assert_eq!(on, off, "seed {seed}: lanes differ\n{setup}\n{cell}\n{r}");
        let serial = run(&[&setup, &cell.replace("@par", "@serial")], true);
        assert_eq!(
            on, serial,
            "seed {seed}: lanes differ from serial\n{setup}\n{cell}"
        );
    }
    // The generator writes what the lane pass takes: most bodies run in lanes.
    assert!(
        vectorised * 10 >= seeds * 8,
        "only {vectorised} of {seeds} in lanes"
    );
}

/// A lane loop that never ends by itself stops at an interrupt, and the session goes on.
#[test]
fn an_interrupt_stops_a_lane_loop() {
    use kiln_jit::{ExecResult, Output};
    use std::sync::atomic::Ordering;
    let setup = "n = 9\nout = zeros(n)";
    let cell = "@par
for i in range(n):
    x = 0.0
    while x >= 0.0:
        x = x + 1.0
    out[i] = x";
    assert_vectorised(setup, cell);
    let mut s = Session::new();
    ok(&mut s, setup);
    let done = common::hang_guard("an_interrupt_stops_a_lane_loop");
    let flag = s.interrupt_handle();
    let r = s.execute(&format!("print('spinning')\n{cell}"), &mut |o| {
        if let Output::Stdout(t) = o {
            if t.contains("spinning") {
                flag.store(true, Ordering::Relaxed);
            }
        }
    });
    done.store(true, Ordering::Relaxed);
    let ExecResult::Err(e) = r else {
        panic!("the loop should be interrupted")
    };
    assert_eq!(e.ename, "KeyboardInterrupt");
    assert_eq!(ok(&mut s, "n * 2").1.as_deref(), Some("18"));
}

/// Uniform values computed in the body (a conditional expression on a uniform condition, an
/// element at a uniform index) assigned to the body's names, read by every lane.
#[test]
fn uniform_values_of_the_body() {
    let setup = "t10 = 2\nt11 = 1.5\ns14 = -6\nn = 7\na = zeros(n)\na[2] = 4.5";
    let cell = "s17 = 0
c = 0
@par
for q in range(n):
    for z in range(1):
        c += z
    m = (t10 if t11 <= -0.75 else s14)
    v = a[2] + a[-1]
    w = (v if t11 > 0.0 else 1.0)
    s17 = min(s17, m * q)
    if w == 4.5:
        c += 1
print(s17, c)";
    assert_vectorised(setup, cell);
    let out = same_three_ways(setup, cell);
    assert_eq!(out, "-36 7\n");
}
