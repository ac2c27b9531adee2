#!/usr/bin/env python3
"""How Kiln's compile time grows with the size of a cell: 1k, 10k and 100k lines of each shape.

    python3 bench/compile_scaling.py                      # every shape, 1k/10k/100k lines, 3 runs
    python3 bench/compile_scaling.py --runs 5 --sizes 1000,10000 assigns defs
    python3 bench/compile_scaling.py --kiln OLD/kiln      # another build
    python3 bench/compile_scaling.py --selftest           # check the generators and the slope

Shapes (each one cell of N lines):
  assigns    `v{i} = {i}`: N globals
  reads      N/2 globals assigned, then each read once (`s = s + v{i}`)
  defs       N/3 small `def`s, each called once with its own argument
  instances  one generic `def` called with N distinct tuples of argument types (i64 or f64
             in each of ceil(log2 N) parameters): N instances
Each run is `kiln run --timings FILE` (a fresh process); the figure is `compile_ms` (parse +
check + lower + Cranelift codegen), median and range over the runs, with CPython's
`compile()` of the same text beside it. The slope between two sizes is
log(t2 / t1) / log(n2 / n1): 1 is linear, 2 quadratic; the row's slope is the least-squares
fit over all its sizes. Times are reported, never gated.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUILD = BENCH / "build" / "compile_scaling"
TIMEOUT_S = 600


def assigns(n: int) -> str:
    return "".join(f"v{i} = {i}\n" for i in range(n))


def reads(n: int) -> str:
    half = n // 2
    return assigns(half) + "".join(f"s = {'s + ' if i else ''}v{i}\n" for i in range(half))


def defs(n: int) -> str:
    k = n // 3
    out = [f"def f{i}(x):\n    return x + {i}\n" for i in range(k)]
    out += [f"s = {'s + ' if i else ''}f{i}({i})\n" for i in range(k)]
    return "".join(out)


def instances(n: int) -> str:
    params = max(1, math.ceil(math.log2(n)))
    names = [f"p{j}" for j in range(params)]
    out = [f"def g({', '.join(names)}):\n    return {' + '.join(names)}\n"]
    for i in range(n - 2):
        args = ", ".join("1.0" if (i >> j) & 1 else "1" for j in range(params))
        out.append(f"s = g({args})\n")
    return "".join(out)


SHAPES = {"assigns": assigns, "reads": reads, "defs": defs, "instances": instances}


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(time) against log(size)."""
    pts = [(math.log(n), math.log(t)) for n, t in points if n > 0 and t > 0]
    if len(pts) < 2:
        return None
    mx = statistics.fmean(x for x, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else None


def kiln_compile_ms(kiln: str, path: Path) -> float | str:
    try:
        r = subprocess.run([kiln, "run", "--timings", str(path)], capture_output=True,
                           text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"timeout {TIMEOUT_S} s"
    if r.returncode != 0:
        return "failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    cells = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    return sum(c["compile_ms"] for c in cells)


def cpython_compile_ms(text: str) -> float:
    t = time.perf_counter()
    compile(text, "<cell>", "exec")
    return (time.perf_counter() - t) * 1e3


def fmt_range(xs: list[float]) -> str:
    return f"{statistics.median(xs):9.1f} [{min(xs):.1f}-{max(xs):.1f}]"


def run(shapes: list[str], sizes: list[int], runs: int, kiln: str) -> None:
    BUILD.mkdir(parents=True, exist_ok=True)
    print(f"{kiln}, {runs} runs each; compile ms: median [min-max]; slope: 1 = linear")
    print(f"{'shape':<10} {'lines':>7} {'Kiln compile ms':>28} {'ms/1k lines':>11} "
          f"{'slope':>6} {'CPython ms':>10}")
    for shape in shapes:
        points = []
        prev = None
        for n in sizes:
            text = SHAPES[shape](n)
            path = BUILD / f"{shape}_{n}.kiln"
            path.write_text(text)
            lines = text.count("\n")
            samples = []
            failure = None
            for _ in range(runs):
                ms = kiln_compile_ms(kiln, path)
                if isinstance(ms, str):
                    failure = ms
                    break
                samples.append(ms)
            py = statistics.median(cpython_compile_ms(text) for _ in range(runs))
            if failure:
                print(f"{shape:<10} {lines:>7} {failure:>28} {'':>11} {'':>6} {py:10.1f}")
                prev = None
                continue
            med = statistics.median(samples)
            step = "" if prev is None else f"{slope([prev, (lines, med)]):6.2f}"
            print(f"{shape:<10} {lines:>7} {fmt_range(samples):>28} {med / lines * 1e3:11.2f} "
                  f"{step:>6} {py:10.1f}")
            prev = (lines, med)
            points.append(prev)
        fit = slope(points)
        if fit is not None:
            print(f"{shape:<10} slope over {len(points)} sizes: {fit:.2f}")


def selftest() -> int:
    assert abs(slope([(1000, 10.0), (10000, 100.0), (100000, 1000.0)]) - 1.0) < 1e-9
    assert abs(slope([(1000, 1.0), (10000, 100.0)]) - 2.0) < 1e-9
    assert slope([(1000, 1.0)]) is None
    for shape, gen in SHAPES.items():
        for n in (10, 1000):
            text = gen(n)
            compile(text, shape, "exec")  # the same text is valid Python
            assert abs(text.count("\n") - n) <= 2, (shape, n, text.count("\n"))
    # `instances` gives every call its own tuple of argument types.
    calls = [line for line in instances(1000).splitlines() if line.startswith("s = g(")]
    assert len(set(calls)) == len(calls)
    print("selftest ok")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shapes", nargs="*", metavar="SHAPE", help=", ".join(SHAPES))
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kiln", default=str(ROOT / "target" / "release" / "kiln"))
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    unknown = [s for s in args.shapes if s not in SHAPES]
    if unknown:
        ap.error(f"unknown shape {', '.join(unknown)}; shapes: {', '.join(SHAPES)}")
    run(args.shapes or list(SHAPES), [int(s) for s in args.sizes.split(",")], args.runs,
        args.kiln)
    return 0


if __name__ == "__main__":
    sys.exit(main())
