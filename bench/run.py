#!/usr/bin/env python3
"""Kiln benchmarks: run Kiln side by side with C and Numba peers and print ratios.

    python3 bench/run.py                    # every workload, 10 timed runs each
    python3 bench/run.py mandelbrot -k 20   # one workload, 20 timed runs
    python3 bench/run.py --rounds 3         # alternate C/Numba/Kiln 3 times (noisy machine)
    python3 bench/run.py --json out.json    # also write the raw figures
    python3 bench/run.py --selftest         # check the --timings parser on canned lines

Benchmarks are not tests: only the checksums decide pass/fail (exit status 2 on a wrong
checksum); times are reported, never gated. Compare ratios taken in one run, not absolute
times across runs or machines. See bench/README.md.

Adding a workload: make bench/<name>/ with up to three programs and add a Workload below.
  c       a C file; the harness builds it with $CC (gcc) -O3 -march=native -ffp-contract=off
          and runs `prog K`.
  python  a Python file (Numba, NumPy, ...); run as `PY file K` with .venv/bin/python.
  kiln    a .kiln file; run as `kiln run --timings --repeat K+1 file`.
The C and Python programs do one warm-up, then K timed runs, and print ONE JSON object on
stdout: {"impl", "checksum", "min_ms", "median_ms", "runs_ms", optional "compile_ms"}, or
{"impl", "skipped": "why"} when they cannot run here (e.g. numba missing).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUILD = BENCH / "build"
CFLAGS = ["-O3", "-march=native", "-ffp-contract=off"]
TIMEOUT_S = 900


@dataclasses.dataclass
class Workload:
    name: str
    title: str
    dir: str                      # relative to bench/
    checksum: float | int         # every implementation must print this
    c: str | None = None
    python: str | None = None
    python_label: str = "Numba"
    kiln: str | None = None
    kiln_cell: int | None = None  # which cell's run_ms is the timed one (1-based); None = last
    rel_tol: float = 0.0          # 0 = exact (integer checksums); floats may need a tolerance
    kiln_max_ratio: float | None = None   # target: Kiln min time <= this × C min time
    kiln_max_compile_ms: float | None = None
    note: str = ""
    extra_cflags: list[str] = dataclasses.field(default_factory=list)


WORKLOADS = [
    Workload(
        name="mandelbrot",
        title="Mandelbrot 1000x1000, 200 iterations, serial",
        dir="mandelbrot",
        checksum=38061767,
        c="mandel.c",
        python="mandel_numba.py",
        kiln="mandel.kiln",
        kiln_max_ratio=1.15,
        kiln_max_compile_ms=5.0,
        note="Numba compile of this function: ~350 ms on an idle machine (PERF-ANCHORS.md)",
    ),
    # Next: poly (2x^3-3x^2+4x-1, 10M f64), reductions (sum(sqrt(x*x+1))), mandelbrot @par.
]


# ---------------------------------------------------------------------------------------------
# results

@dataclasses.dataclass
class Result:
    impl: str
    status: str = "ok"            # ok | skipped | failed
    why: str = ""
    checksum: float | int | None = None
    min_ms: float | None = None
    median_ms: float | None = None
    runs_ms: list[float] = dataclasses.field(default_factory=list)
    compile_ms: float | None = None
    detail: dict = dataclasses.field(default_factory=dict)


def median(xs):
    return statistics.median(xs) if xs else None


def merge_rounds(results: list[Result]) -> Result:
    """Several rounds of one implementation -> one Result (all runs pooled, fastest compile)."""
    ok = [r for r in results if r.status == "ok"]
    if not ok:
        return results[-1]
    out = dataclasses.replace(ok[0])
    out.runs_ms = [t for r in ok for t in r.runs_ms]
    out.min_ms = min(r.min_ms for r in ok)
    out.median_ms = median(out.runs_ms) if out.runs_ms else ok[0].median_ms
    compiles = [r.compile_ms for r in ok if r.compile_ms is not None]
    out.compile_ms = min(compiles) if compiles else None
    checks = {repr(r.checksum) for r in ok}
    if len(checks) > 1:
        out.detail["checksums_seen"] = sorted(checks)
    return out


def run_cmd(cmd, cwd=ROOT):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)


def tail(text: str, n: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def last_json_object(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def peer_result(label: str, cmd: list[str]) -> Result:
    try:
        p = run_cmd(cmd)
    except subprocess.TimeoutExpired:
        return Result(label, "failed", f"timed out after {TIMEOUT_S} s: {shlex.join(cmd)}")
    obj = last_json_object(p.stdout)
    if p.returncode != 0 or obj is None:
        return Result(label, "failed",
                      f"exit {p.returncode}, no JSON result: {shlex.join(cmd)}\n"
                      + tail(p.stderr + p.stdout))
    if "skipped" in obj:
        return Result(label, "skipped", obj["skipped"])
    return Result(label, checksum=obj.get("checksum"), min_ms=obj.get("min_ms"),
                  median_ms=obj.get("median_ms"), runs_ms=obj.get("runs_ms", []),
                  compile_ms=obj.get("compile_ms"),
                  detail={k: v for k, v in obj.items() if k in ("version", "first_call_ms")})


# ---------------------------------------------------------------------------------------------
# C

def cc_version(cc: str) -> str:
    try:
        return run_cmd([cc, "--version"]).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "?"


def build_c(w: Workload, cc: str) -> tuple[Path | None, str]:
    src = BENCH / w.dir / w.c
    BUILD.mkdir(exist_ok=True)
    exe = BUILD / f"{w.name}_{Path(w.c).stem}"
    cmd = [cc, *CFLAGS, *w.extra_cflags, str(src), "-o", str(exe), "-lm"]
    try:
        p = run_cmd(cmd)
    except OSError as e:
        return None, f"cannot run {cc}: {e}"
    if p.returncode != 0:
        return None, f"build failed: {shlex.join(cmd)}\n{tail(p.stderr)}"
    return exe, shlex.join(cmd)


# ---------------------------------------------------------------------------------------------
# Kiln

def parse_kiln_timings(stderr: str) -> list[dict]:
    """The `{"cell": n, ..., "compile_ms": x, "run_ms": [...]}` lines of `kiln run --timings`.

    Other stderr lines (warnings, prints to stderr) are ignored.
    """
    cells = []
    for line in stderr.splitlines():
        line = line.strip()
        if not (line.startswith("{") and '"cell"' in line):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "cell" in obj and "run_ms" in obj:
            cells.append(obj)
    return cells


def parse_kiln_result(stdout: str):
    """The checksum: the last stdout line that reads as a number (the cell's result)."""
    for line in reversed(stdout.strip().splitlines()):
        s = line.strip().replace("_", "")
        for conv in (int, float):
            try:
                return conv(s)
            except ValueError:
                pass
    return None


def kiln_result_from_output(w: Workload, stdout: str, stderr: str, warmup: int = 1) -> Result:
    cells = parse_kiln_timings(stderr)
    if not cells:
        return Result("Kiln", "failed", "no --timings JSON line on stderr\n" + tail(stderr))
    by_cell = {c["cell"]: c for c in cells}   # with several lines per cell, the last wins
    want = w.kiln_cell if w.kiln_cell is not None else max(by_cell)
    if want not in by_cell:
        return Result("Kiln", "failed", f"no timings for cell {want}; got cells {sorted(by_cell)}")
    cell = by_cell[want]
    all_runs = [float(t) for t in cell["run_ms"]]
    runs = all_runs[warmup:] if len(all_runs) > warmup else all_runs
    phases = {k: cell[k] for k in ("parse_ms", "check_ms", "lower_ms", "codegen_ms") if k in cell}
    detail = {"phases_ms": phases, "cell": want}
    if all_runs:
        detail["first_run_ms"] = all_runs[0]
    if len(by_cell) > 1:
        detail["compile_ms_all_cells"] = sum(c.get("compile_ms", 0.0) for c in by_cell.values())
    return Result("Kiln", checksum=parse_kiln_result(stdout),
                  min_ms=min(runs) if runs else None, median_ms=median(runs), runs_ms=runs,
                  compile_ms=cell.get("compile_ms"), detail=detail)


def run_kiln(w: Workload, kiln: Path, k: int) -> Result:
    if not kiln.exists():
        return Result("Kiln", "skipped",
                      f"{kiln} not found (build it: cargo build --release)")
    cmd = [str(kiln), "run", "--timings", "--repeat", str(k + 1), str(BENCH / w.dir / w.kiln)]
    try:
        p = run_cmd(cmd)
    except subprocess.TimeoutExpired:
        return Result("Kiln", "failed", f"timed out after {TIMEOUT_S} s: {shlex.join(cmd)}")
    if p.returncode != 0:
        return Result("Kiln", "failed",
                      f"exit {p.returncode}: {shlex.join(cmd)}\n" + tail(p.stderr + p.stdout))
    return kiln_result_from_output(w, p.stdout, p.stderr)


# ---------------------------------------------------------------------------------------------
# driver

def checksum_ok(w: Workload, value) -> bool:
    if value is None:
        return False
    if w.rel_tol == 0.0:
        return value == w.checksum
    return math.isclose(float(value), float(w.checksum), rel_tol=w.rel_tol)


def fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def run_workload(w: Workload, args, py: str) -> tuple[list[Result], bool]:
    print(f"\n== {w.name}: {w.title}")
    print(f"   {args.k} timed runs after a warm-up"
          + (f", {args.rounds} rounds (C, {w.python_label}, Kiln alternating)"
             if args.rounds > 1 else ""))

    exe = None
    if w.c:
        exe, msg = build_c(w, args.cc)
        print(f"   C: {msg}")

    rounds: dict[str, list[Result]] = {}
    for _ in range(args.rounds):
        if w.c:
            r = peer_result("C", [str(exe), str(args.k)]) if exe else Result("C", "failed", msg)
            rounds.setdefault("C", []).append(r)
        if w.python:
            r = peer_result(w.python_label, [py, str(BENCH / w.dir / w.python), str(args.k)])
            rounds.setdefault(w.python_label, []).append(r)
        if w.kiln:
            rounds.setdefault("Kiln", []).append(run_kiln(w, args.kiln, args.k))
    results = [merge_rounds(rs) for rs in rounds.values()]

    c = next((r for r in results if r.impl == "C" and r.status == "ok"), None)
    header = (f"   {'impl':<8}{'min ms':>10}{'median ms':>11}{'/C min':>9}{'/C med':>9}"
              f"{'compile ms':>12}  checksum")
    print(header)
    print("   " + "-" * (len(header) - 3 + 12))
    bad = False
    for r in results:
        if r.status != "ok":
            first, *rest = (r.why or "").splitlines() or [""]
            print(f"   {r.impl:<8}{r.status.upper()}: {first}")
            for line in rest:
                print(f"   {'':<8}  {line}")
            if r.status == "failed":
                bad = True
            continue
        ok = checksum_ok(w, r.checksum)
        if not ok:
            bad = True
        ratio_min = r.min_ms / c.min_ms if c and r.min_ms and c.min_ms else None
        ratio_med = r.median_ms / c.median_ms if c and r.median_ms and c.median_ms else None
        mark = "ok" if ok else f"WRONG (expected {w.checksum})"
        print(f"   {r.impl:<8}{fmt(r.min_ms):>10}{fmt(r.median_ms):>11}"
              f"{fmt(ratio_min, 2):>9}{fmt(ratio_med, 2):>9}{fmt(r.compile_ms):>12}"
              f"  {r.checksum} {mark}")
        r.detail["ratio_min_vs_c"] = ratio_min
        r.detail["ratio_median_vs_c"] = ratio_med

    kr = next((r for r in results if r.impl == "Kiln" and r.status == "ok"), None)
    if kr:
        ph = kr.detail.get("phases_ms", {})
        if ph:
            print("   Kiln compile phases: "
                  + ", ".join(f"{k[:-3]} {v:.2f}" for k, v in ph.items()) + " ms"
                  + (f"; first run {kr.detail['first_run_ms']:.1f} ms (warm-up, not counted)"
                     if "first_run_ms" in kr.detail else ""))
    targets = []
    kiln_right = kr is not None and checksum_ok(w, kr.checksum)
    if w.kiln_max_ratio is not None:
        r = kr.detail.get("ratio_min_vs_c") if kr else None
        verdict = ("n/a" if r is None else "void (wrong checksum)" if not kiln_right
                   else "met" if r <= w.kiln_max_ratio else "MISSED")
        targets.append(f"Kiln min <= {w.kiln_max_ratio:.2f}x C min: "
                       + (f"{r:.2f}x " if r is not None else "") + verdict)
    if w.kiln_max_compile_ms is not None:
        t = kr.compile_ms if kr else None
        verdict = ("n/a" if t is None else "void (wrong checksum)" if not kiln_right
                   else "met" if t <= w.kiln_max_compile_ms else "MISSED")
        targets.append(f"Kiln compile <= {w.kiln_max_compile_ms:g} ms: "
                       + (f"{t:.2f} ms " if t is not None else "") + verdict)
    if targets:
        print("   targets: " + "; ".join(targets))
    if w.note:
        print(f"   note: {w.note}")

    wrong = [r for r in results if r.status == "ok" and not checksum_ok(w, r.checksum)]
    if wrong:
        print("\n" + "!" * 78)
        for r in wrong:
            print(f"!!! CHECKSUM MISMATCH in {w.name}: {r.impl} gave {r.checksum}, "
                  f"expected {w.checksum}")
        print("!" * 78)
    return results, bad


def default_python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else (shutil.which("python3") or sys.executable)


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"{cpu}; {os.cpu_count()} CPUs; load average {load}"


# ---------------------------------------------------------------------------------------------
# self-test of the parsers (no binaries needed)

def selftest() -> int:
    w = WORKLOADS[0]
    stderr = "\n".join([
        "warning: something unrelated",
        '{"cell":1,"parse_ms":0.1,"check_ms":0.2,"lower_ms":0.1,"codegen_ms":1.2,'
        '"compile_ms":1.6,"run_ms":[150.0,102.1,101.9,103.0]}',
        "{not json",
        '{"other":"json"}',
    ])
    r = kiln_result_from_output(w, "38061767\n", stderr)
    assert r.status == "ok", r.why
    assert r.checksum == 38061767 and checksum_ok(w, r.checksum)
    assert r.runs_ms == [102.1, 101.9, 103.0], r.runs_ms      # first run is the warm-up
    assert r.min_ms == 101.9 and r.median_ms == 102.1
    assert r.compile_ms == 1.6 and r.detail["phases_ms"]["codegen_ms"] == 1.2
    # several cells: the last one is timed unless kiln_cell says otherwise
    two = ('{"cell":1,"compile_ms":0.5,"run_ms":[1.0,1.0]}\n'
           '{"cell":2,"compile_ms":2.0,"run_ms":[9.0,5.0,7.0]}')
    r = kiln_result_from_output(w, "print line\n38061767", two)
    assert r.min_ms == 5.0 and r.compile_ms == 2.0 and r.detail["compile_ms_all_cells"] == 2.5
    r = kiln_result_from_output(dataclasses.replace(w, kiln_cell=1), "38061767", two)
    assert r.min_ms == 1.0
    assert kiln_result_from_output(w, "38061767", "no timings\n").status == "failed"
    assert not checksum_ok(w, parse_kiln_result("38044935\n"))
    assert parse_kiln_result("1.5\n") == 1.5 and parse_kiln_result("abc") is None
    assert checksum_ok(dataclasses.replace(w, checksum=1.0, rel_tol=1e-12), 1.0 + 1e-15)
    print("selftest ok")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workloads", nargs="*", help="names to run (default: all): "
                    + ", ".join(w.name for w in WORKLOADS))
    ap.add_argument("-k", type=int, default=10, help="timed runs per implementation (10)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run C/peer/Kiln this many times, alternating; runs are pooled (1)")
    ap.add_argument("--kiln", type=Path, default=ROOT / "target" / "release" / "kiln",
                    help="the kiln binary (target/release/kiln)")
    ap.add_argument("--python", default=None, help="Python for the peers (.venv/bin/python "
                    "if it exists, else python3)")
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"), help="C compiler (gcc)")
    ap.add_argument("--json", type=Path, help="write all figures to this file")
    ap.add_argument("--selftest", action="store_true", help="test the output parsers, exit")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    args.k = max(1, args.k)
    args.rounds = max(1, args.rounds)

    chosen = WORKLOADS
    if args.workloads:
        unknown = set(args.workloads) - {w.name for w in WORKLOADS}
        if unknown:
            ap.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
        chosen = [w for w in WORKLOADS if w.name in args.workloads]

    py = args.python or default_python()
    print("Kiln benchmarks -- not tests: ratios within this run are what count")
    print(f"machine: {machine_line()}")
    print(f"C: {cc_version(args.cc)} {' '.join(CFLAGS)}")
    print(f"python: {py}")
    print(f"kiln: {args.kiln}" + ("" if args.kiln.exists() else " (missing)"))

    report, any_bad = {}, False
    for w in chosen:
        results, bad = run_workload(w, args, py)
        any_bad |= bad
        report[w.name] = {"expected_checksum": w.checksum,
                          "results": [dataclasses.asdict(r) for r in results]}
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_line(), "k": args.k,
                                         "rounds": args.rounds, "workloads": report}, indent=1))
        print(f"\nwrote {args.json}")
    if any_bad:
        print("\nSOME IMPLEMENTATIONS FAILED OR GAVE A WRONG CHECKSUM (see above)")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
