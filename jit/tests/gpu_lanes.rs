//! `@gpu` loops in vector lanes on a CPU OpenCL device (PoCL): each case runs with
//! `%vector on` (the lane kernel, 16 iterations per work-item), `%vector off` (one
//! iteration per work-item) and `@serial`, and the printed results must be equal, bit for
//! bit (floats print as Python's repr). Every case first checks, through `%%opencl`, that
//! the loop really has a lane kernel, so a silent fallback to the scalar kernel fails.
//! Without an OpenCL device the tests say so and pass.
mod common;
use kiln_jit::{CellError, ExecResult, Output, Session};

fn run(s: &mut Session, code: &str) -> Result<String, CellError> {
    let mut out = String::new();
    match s.execute(code, &mut |o| {
        if let Output::Stdout(t) = o {
            out.push_str(&t)
        }
    }) {
        ExecResult::Ok(_) => Ok(out),
        ExecResult::Err(e) => Err(e),
    }
}

fn ok(s: &mut Session, code: &str) -> String {
    match run(s, code) {
        Ok(o) => o,
        Err(e) => panic!(
            "cell should run:\n{code}\n{}: {}\n{}",
            e.ename,
            e.evalue,
            e.traceback.join("\n")
        ),
    }
}

/// Whether an OpenCL device is there (PoCL is, where ./install.sh ran).
fn have_device() -> bool {
    let mut s = Session::new();
    match run(
        &mut s,
        "a = zeros(4)\n@gpu\nfor i in range(4):\n    a[i] = 1.0\n",
    ) {
        Ok(_) => true,
        Err(e) if e.ename == "DeviceError" => {
            eprintln!("no OpenCL device, lane tests skipped: {}", e.evalue);
            false
        }
        Err(e) => panic!("{}: {}", e.ename, e.evalue),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Lanes,
    NoLanes,
    Serial,
}

/// `body` with `TARGET` replaced by the mode's decorator, after `setup`, in a fresh
/// session: the result of the cell (Ok: what it printed; Err: the error).
fn in_mode(mode: Mode, setup: &str, body: &str, after: &str) -> Result<String, CellError> {
    let mut s = Session::new();
    if mode == Mode::NoLanes {
        ok(&mut s, "%vector off\n");
    }
    ok(&mut s, setup);
    let target = if mode == Mode::Serial {
        "@serial"
    } else {
        "@gpu"
    };
    let code = body.replace("TARGET", target);
    if mode == Mode::Lanes {
        let listing = ok(&mut s, &format!("%%opencl\n{code}"));
        assert!(
            listing.contains("// lanes: 16 iterations per work-item (double16)"),
            "no lane kernel for\n{code}\n{listing}"
        );
        assert!(listing.contains("_l16("), "{listing}");
    }
    if mode == Mode::NoLanes {
        let listing = ok(&mut s, &format!("%%opencl\n{code}"));
        assert!(
            listing.contains("// not vectorised: %vector off"),
            "{listing}"
        );
        assert!(!listing.contains("_l16("), "{listing}");
    }
    let out = run(&mut s, &code)?;
    Ok(out + &ok(&mut s, after))
}

/// The three modes print the same; returns that text.
fn same(setup: &str, body: &str, after: &str) -> String {
    let lanes = in_mode(Mode::Lanes, setup, body, after)
        .unwrap_or_else(|e| panic!("lanes: {}: {}\n{body}", e.ename, e.evalue));
    let plain = in_mode(Mode::NoLanes, setup, body, after)
        .unwrap_or_else(|e| panic!("no lanes: {}: {}\n{body}", e.ename, e.evalue));
    let serial = in_mode(Mode::Serial, setup, body, after)
        .unwrap_or_else(|e| panic!("serial: {}: {}\n{body}", e.ename, e.evalue));
    assert_eq!(lanes, serial, "lanes vs @serial for\n{body}");
    assert_eq!(plain, serial, "%vector off vs @serial for\n{body}");
    lanes
}

/// Prints every element of the named 1-d arrays.
fn dump(names: &[&str]) -> String {
    names
        .iter()
        .map(|a| format!("for k in range(len({a})):\n    print({a}[k])\n"))
        .collect()
}

const DATA: &str = "n = 103\nvals = zeros(n)\nidx = zeros(n, dtype=i64)\nfor k in range(n):\n    vals[k] = (k * 0.6180339887498949) % 1.0\n    idx[k] = (k * 37 + 11) % n - 40\n";

#[test]
fn mandelbrot_checksum_in_lanes() {
    if !have_device() {
        return;
    }
    let setup = "def mandel(cr, ci, max_iter):\n    zr = 0.0\n    zi = 0.0\n    for n in range(max_iter):\n        if zr * zr + zi * zi > 4.0:\n            return n\n        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci\n    return max_iter\n\nh, w = 1000, 1000\nimg = zeros((h, w), dtype=i64)\n";
    let body = "TARGET\nfor i, j in ndrange(h, w):\n    img[i, j] = mandel(-2.0 + j * 3.0 / w, 1.5 - i * 3.0 / h, 200)\n";
    let after = "print(img.sum())\nt = 0\nfor i in range(h):\n    for j in range(w):\n        t = (t * 31 + img[i, j]) % 1000000007\nprint(t)\n";
    let out = same(setup, body, after);
    assert!(out.starts_with("38061767\n"), "{out}");
}

#[test]
fn divergent_calls_with_early_exits() {
    if !have_device() {
        return;
    }
    let setup = format!(
        "{DATA}out = zeros(n)\nsteps = zeros(n, dtype=i64)\n\ndef walk(x, limit):\n    k = 0\n    acc = 0.0\n    while True:\n        k += 1\n        if k > limit:\n            break\n        acc = acc * 0.5 + x\n        if acc > 1.5:\n            return acc + k\n        if (k & 1) == 0:\n            continue\n        acc = acc - 0.25\n    return -acc\n\ndef first_above(x, t):\n    for m in range(50):\n        if x * m > t:\n            return m\n    return -1\n"
    );
    let body = "TARGET\nfor i in range(n):\n    out[i] = walk(vals[i], (i & 7) + 1)\n    steps[i] = first_above(vals[i] + 0.01, 3.0)\n";
    same(&setup, body, &dump(&["out", "steps"]));
}

#[test]
fn nested_ifs_and_lazy_conditions() {
    if !have_device() {
        return;
    }
    let setup = format!("{DATA}r1 = zeros(n)\nr2 = zeros(n, dtype=i64)\n");
    let body = "TARGET\nfor i in range(n):\n    x = vals[i]\n    if x > 0.5:\n        if x > 0.75:\n            r1[i] = x * 2.0\n        else:\n            r1[i] = x - 1.0\n    elif x < 0.25 and idx[i] > 0 and vals[idx[i]] > 0.5:\n        r1[i] = -x\n    else:\n        r1[i] = x / 3.0\n    y = 7 if x > 0.3 or i < 5 else -3\n    if i > 50:\n        y = y * 2\n    r2[i] = max(y, i - 60) + abs(idx[i])\n";
    same(&setup, body, &dump(&["r1", "r2"]));
}

#[test]
fn while_and_for_with_break_and_continue() {
    if !have_device() {
        return;
    }
    let setup = format!("{DATA}a = zeros(n, dtype=i64)\nb = zeros(n)\nc = zeros(n, dtype=i64)\n");
    let body = "TARGET\nfor i in range(n):\n    t = 0\n    k = 0\n    while k < i:\n        k += 1\n        if (k & 3) == 1:\n            continue\n        if k > 40:\n            break\n        t += k\n    a[i] = t * 1000 + k\n    s = 0.0\n    for m in range(i & 15):\n        if vals[m] > 0.9:\n            break\n        if vals[m] < 0.2:\n            continue\n        s = s + vals[m] * m\n    b[i] = s\n    u = 0\n    for q in range(idx[i], 30, 3):\n        u = u * 3 + q\n    c[i] = u\n";
    same(&setup, body, &dump(&["a", "b", "c"]));
}

#[test]
fn gathers_and_scatters() {
    if !have_device() {
        return;
    }
    let setup = format!(
        "{DATA}g = zeros(n)\nm2 = zeros((9, 13))\nfor k in range(9):\n    for q in range(13):\n        m2[k, q] = k * 100.0 + q\nperm = zeros(n, dtype=i64)\nfor k in range(n):\n    perm[k] = (k * 7) % n\nh = zeros(n, dtype=i64)\n"
    );
    let body = "TARGET\nfor i in range(n):\n    g[i] = vals[idx[i]] + m2[i & 7, idx[i] & 7]\n    if vals[i] > 0.4:\n        h[perm[i]] = i * 3 - idx[i]\n";
    same(&setup, body, &dump(&["g", "h"]));
}

#[test]
fn integer_reductions_under_an_if() {
    if !have_device() {
        return;
    }
    let setup = DATA.to_string();
    let body = "cnt = 0\ntot = 0\nlo = 1000000\nTARGET\nfor i in range(n):\n    if vals[i] > 0.5:\n        cnt += 1\n        tot += i * 7 - idx[i]\n    else:\n        lo = min(lo, idx[i])\n";
    let out = same(&setup, body, "print(cnt, tot, lo)\n");
    assert_ne!(out, "0 0 1000000\n");
}

#[test]
fn an_index_error_in_one_lane_is_the_serial_error() {
    if !have_device() {
        return;
    }
    let setup = format!(
        "{DATA}bad = zeros(n, dtype=i64)\nfor k in range(n):\n    bad[k] = idx[k]\nbad[37] = -1000\nbad[21] = 1000\nbad[90] = 500\nout = zeros(n)\n"
    );
    let body =
        "TARGET\nfor i in range(n):\n    if vals[i] >= 0.0:\n        out[i] = vals[bad[i]]\n";
    let errs: Vec<CellError> = [Mode::Lanes, Mode::NoLanes, Mode::Serial]
        .iter()
        .map(|&m| match in_mode(m, &setup, body, "") {
            Ok(o) => panic!("{m:?}: the loop should fail, printed {o}"),
            Err(e) => e,
        })
        .collect();
    assert_eq!(errs[0].ename, "IndexError");
    assert!(errs[0].evalue.contains("1000"), "{}", errs[0].evalue);
    for e in &errs[1..] {
        assert_eq!(e.ename, errs[0].ename);
        assert_eq!(e.evalue, errs[0].evalue);
    }
    assert_eq!(errs[0].traceback, errs[1].traceback);
}

#[test]
fn errors_inside_a_call_and_from_a_zero_step_are_the_serial_ones() {
    if !have_device() {
        return;
    }
    let setup = format!(
        "{DATA}out = zeros(n)\n\ndef pick(a, k):\n    if k > 60:\n        return a[k + 50]\n    return a[k]\n"
    );
    let bodies = [
        ("TARGET\nfor i in range(n):\n    if vals[i] > 0.1:\n        out[i] = pick(vals, idx[i])\n", "IndexError"),
        ("TARGET\nfor i in range(n):\n    t = 0.0\n    if vals[i] > 0.2:\n        for q in range(0, 5, (i - 70) & 1):\n            t = t + q\n    out[i] = t\n", "ValueError"),
    ];
    for (body, kind) in bodies {
        let errs: Vec<CellError> = [Mode::Lanes, Mode::NoLanes, Mode::Serial]
            .iter()
            .map(|&m| match in_mode(m, &setup, body, "") {
                Ok(o) => panic!("{m:?}: the loop should fail, printed {o}\n{body}"),
                Err(e) => e,
            })
            .collect();
        assert_eq!(errs[0].ename, kind, "{}", errs[0].evalue);
        for e in &errs[1..] {
            assert_eq!(e.ename, errs[0].ename);
            assert_eq!(e.evalue, errs[0].evalue);
        }
        assert_eq!(errs[0].traceback, errs[1].traceback);
    }
}

#[test]
fn tails_of_every_length() {
    if !have_device() {
        return;
    }
    let setup = "res = zeros((34, 40), dtype=i64)\nsums = zeros(34, dtype=i64)\ngrid = zeros((34, 3, 12))\n";
    let body = "for n in range(34):\n    s = 0\n    TARGET\n    for i in range(n):\n        res[n, i] = i * 3 + 1\n        if (i & 1) == 0:\n            s += i * i + n\n    sums[n] = s\n    TARGET\n    for i, j in ndrange(3, n % 12):\n        if j > 2:\n            grid[n, i, j] = i * 0.5 + j\n        else:\n            grid[n, i, j] = -1.0 - i\n";
    let after = "t = 0\nfor n in range(34):\n    for i in range(40):\n        t = (t * 7 + res[n, i]) % 1000000007\n    print(n, sums[n])\nprint(t)\nprint(grid.sum())\n";
    let out = same(setup, body, after);
    assert!(out.contains("33 "), "{out}");
}

#[test]
fn the_listing_says_why_a_loop_is_not_vectorised() {
    if !have_device() {
        return;
    }
    let mut s = Session::new();
    ok(&mut s, "n = 8\na = zeros(n)\n");
    let text = ok(
        &mut s,
        "%%opencl\ns = 0.0\n@gpu\nfor i in range(n):\n    s += a[i]\n",
    );
    assert!(
        text.contains("// not vectorised: a float reduction (+=)"),
        "{text}"
    );
    assert!(!text.contains("_l16("), "{text}");
    let text = ok(
        &mut s,
        "%%opencl\n@gpu\nfor i in range(n):\n    a[i] = i * 0.5\n",
    );
    assert!(
        text.contains("// not vectorised: no control flow differs between iterations"),
        "{text}"
    );
    let text = ok(
        &mut s,
        "%%opencl\n@gpu\nfor i in range(n):\n    if i > 3:\n        a[i] = i * 0.5\n",
    );
    assert!(text.contains("#if KILN_LANES"), "{text}");
    assert!(text.contains("double16"), "{text}");
}

#[test]
fn tuples_bools_nested_calls_and_odd_ranges() {
    if !have_device() {
        return;
    }
    let setup = format!(
        "{DATA}o1 = zeros(n)\no2 = zeros(n, dtype=i64)\no3 = zeros(n)\n\ndef split(x):\n    if x > 0.5:\n        return x - 0.5, 1\n    return x, 0\n\ndef inner(x, k):\n    while k > 0:\n        x = x * 1.5\n        if x > 2.0:\n            return x\n        k -= 1\n    return -x\n\ndef outer(x, k):\n    a, b = split(x)\n    if b == 1 and inner(a, k) > 0.0:\n        return inner(a, k) + b\n    return min(a, 0.25) - max(x, 0.75)\n"
    );
    let body = "TARGET\nfor i in range(n):\n    x = vals[i]\n    big = x > 0.5\n    odd = (i & 1) == 1\n    flag = big != odd\n    if not flag or 0.1 < x < 0.3:\n        o1[i] = outer(x, i & 3)\n    else:\n        o1[i] = -outer(1.0 - x, 2)\n    c = 0\n    st = (i & 3) - 2\n    if st == 0:\n        st = 1\n    for q in range(20, idx[i] & 15, st):\n        c = c * 2 + q\n        if c > 100000:\n            c = c - 100000\n    for q in range(10, 0, -3):\n        if big:\n            c += q\n    o2[i] = c\n    y = 0.0\n    if big and odd:\n        y = inner(x, 3)\n    elif big or odd:\n        y = 1.0 if inner(x, 1) > 0.0 else 2.0\n    o3[i] = y\n";
    same(&setup, body, &dump(&["o1", "o2", "o3"]));
}

#[test]
fn uniform_conditions_around_varying_work() {
    if !have_device() {
        return;
    }
    let setup = format!("{DATA}o4 = zeros(n)\no5 = zeros(n, dtype=i64)\nflagu = n > 50\nlim = 3\n");
    let body = "TARGET\nfor i in range(n):\n    v = vals[idx[i]] if flagu else vals[i]\n    if flagu and vals[idx[i]] > 0.5:\n        v = v + 1.0\n    if not flagu or vals[i] > 0.7:\n        v = v * 2.0\n    k = 0\n    s = 0\n    while k < lim:\n        k += 1\n        if k == 2:\n            continue\n        s = s * 10 + idx[k]\n        if i > 90:\n            s += 1\n    o4[i] = v + vals[lim]\n    o5[i] = s\n";
    same(&setup, body, &dump(&["o4", "o5"]));
}
