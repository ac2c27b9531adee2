#!/usr/bin/env python3
"""Kiln benchmarks: run Kiln side by side with C, Numba, NumPy, Numexpr peers; print ratios.

    python3 bench/run.py                    # every workload, 10 timed runs each
    python3 bench/run.py mandelbrot -k 20   # one workload, 20 timed runs
    python3 bench/run.py triad poly         # poly's /triad column needs triad in the same run
    python3 bench/run.py --rounds 3         # alternate C/Numba/Kiln 3 times (noisy machine)
    python3 bench/run.py --json out.json    # also write the raw figures
    python3 bench/run.py --selftest         # check the --timings parser on canned lines

Benchmarks are not tests: only the checksums decide pass/fail (exit status 2 on a wrong
checksum); times are reported, never gated. Compare ratios taken in one run, not absolute
times across runs or machines. See bench/README.md.

Adding a workload: make bench/<name>/ with its programs and add a Workload below, either the
simple form (c=, python=, kiln=: rows C / Numba / Kiln) or a list of Impl rows (any number;
each with its own args, env such as KILN_THREADS / OMP_NUM_THREADS / NUMBA_NUM_THREADS, C
flags, timed Kiln cell), a `baseline` row for the ratios, `bytes_per_run` for a GB/s column
and Targets (printed, never gated).
  c       a C file; the harness builds it with $CC (gcc) -O3 -march=native -ffp-contract=off
          (+ the row's cflags) and runs `prog K ARGS...`.
  python  a Python file (Numba, NumPy, Numexpr...); run as `PY file K ARGS...`.
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
# Shared libraries that the rows call (ccall): as `%%c` builds a cell (cc -O2 -fPIC -shared),
# with contraction off so every row sums the same bits.
SHARED_CFLAGS = ["-O2", "-fPIC", "-shared", "-ffp-contract=off"]
TIMEOUT_S = 900


@dataclasses.dataclass
class Impl:
    """One implementation (one row of a workload's table)."""
    label: str
    kind: str                     # "c" | "py" | "kiln"
    file: str                     # relative to the workload's dir
    args: list[str] = dataclasses.field(default_factory=list)   # after K on the command line
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    kiln_cell: int | None = None  # Kiln: the timed cell (1-based); None = last
    cflags: list[str] = dataclasses.field(default_factory=list)
    # Kiln: which per-run figure is timed. "run_ms" (the cell's wall time), a key of the
    # per-run "gpu" objects of `--timings` (e.g. "to_device_ms": the device's own measure of
    # the uploads), or "outside_kernel_ms" (run_ms less kernel_ms: the host's part of a launch).
    series: str = "run_ms"


@dataclasses.dataclass
class Target:
    """A goal printed next to the table, never gated. Labels may be `workload:label` to refer to
    a row of another workload run earlier in the same invocation (e.g. `triad:C OpenMP 2 thr`).
      time   min(a) / min(b)          (a no slower than bound × b)
      speedup  min(b) / min(a)        (a at least bound × faster than b)
      gbps   GB/s(a) / GB/s(b)        (a reaches bound × b's bandwidth; from min times)
      ms     median(a) in milliseconds  (an absolute bound; `b` is unused)
    """
    text: str
    metric: str                   # "time" | "speedup" | "gbps"
    a: str
    b: str
    op: str                       # "<=" | ">="
    bound: float


@dataclasses.dataclass
class Workload:
    name: str
    title: str
    dir: str                      # relative to bench/
    checksum: float | int         # every implementation must print this
    # The simple form: one C, one Python and one Kiln peer (rows "C", python_label, "Kiln")...
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
    # ...or the general form: any number of rows, ratios against `baseline`.
    impls: list[Impl] = dataclasses.field(default_factory=list)
    baseline: str = "C"
    bytes_per_run: float | None = None    # bytes one run moves: adds a GB/s column
    targets: list[Target] = dataclasses.field(default_factory=list)
    # C files built as shared libraries before the rows run: bench/build/lib<dir>_<stem>.so,
    # with SHARED_CFLAGS (see shared_lib_path; the rows get the path as an argument).
    shared_libs: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        if not self.impls:
            if self.c:
                self.impls.append(Impl("C", "c", self.c))
            if self.python:
                self.impls.append(Impl(self.python_label, "py", self.python))
            if self.kiln:
                self.impls.append(Impl("Kiln", "kiln", self.kiln, kiln_cell=self.kiln_cell))
        if self.kiln_max_ratio is not None and not any(t.a == "Kiln" for t in self.targets):
            self.targets.insert(0, Target(f"Kiln min <= {self.kiln_max_ratio:.2f}x C min",
                                          "time", "Kiln", "C", "<=", self.kiln_max_ratio))


def _kiln(label, file, threads, cell=2, series="run_ms"):
    return Impl(label, "kiln", file, env={"KILN_THREADS": str(threads)}, kiln_cell=cell,
                series=series)


def _c(label, file, threads, *args):
    return Impl(label, "c", file, args=list(args), env={"OMP_NUM_THREADS": str(threads)},
                cflags=["-fopenmp"])


def _py(label, file, mode, threads=1):
    return Impl(label, "py", file, args=[mode, str(threads)],
                env={"NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)})


def _elementwise_targets(kiln1="Kiln 1 thr", c1="C 1 thr", numpy="NumPy as written"):
    return [Target(f"{kiln1} <= 1.3x {c1}", "time", kiln1, c1, "<=", 1.3),
            Target(f"{kiln1} >= 5x faster than {numpy}", "speedup", kiln1, numpy, ">=", 5.0)]


TRIAD = "triad:C OpenMP 2 thr"
N10M = 10_000_000


def shared_lib_path(wdir: str, file: str) -> Path:
    """Where `Workload.shared_libs` puts a library: bench/build/lib<dir>_<stem>.so."""
    return BUILD / f"lib{wdir}_{Path(file).stem}.so"


# ccall's library; its .kiln files name it relative to the repository root (the directory
# the harness runs them in): bench/build/libccall_poly.so.
CCALL_LIB = str(shared_lib_path("ccall", "poly.c"))

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
    Workload(
        name="mandelbrot_par",
        title="Mandelbrot 1000x1000, 200 iterations, 2 threads (@par / prange / OpenMP)",
        dir="mandelbrot",
        checksum=38061767,
        impls=[
            _kiln("Kiln @par ndrange 2 thr", "mandel_par_nd.kiln", 2, cell=None),
            _kiln("Kiln @par ndrange 1 thr", "mandel_par_nd.kiln", 1, cell=None),
            _kiln("Kiln @par 2 thr", "mandel_par.kiln", 2, cell=None),
            _kiln("Kiln @par 1 thr", "mandel_par.kiln", 1, cell=None),
            Impl("Kiln @par 2 thr, %vector off", "kiln", "mandel_par.kiln",
                 env={"KILN_THREADS": "2", "KILN_VECTOR": "off"}),
            _kiln("Kiln serial", "mandel.kiln", 1, cell=None),
            _py("Numba prange 2 thr", "mandel_par_numba.py", "prange", 2),
            Impl("Numba @njit 1 thr", "py", "mandel_numba.py"),
            _c("C OpenMP 2 thr", "mandel_omp.c", 2),
            _c("C OpenMP 1 thr", "mandel_omp.c", 1),
            _c("C OpenMP+SIMD 2 thr", "mandel_simd.c", 2),
            _c("C OpenMP+SIMD 1 thr", "mandel_simd.c", 1),
        ],
        baseline="C OpenMP 2 thr",
        targets=[
            Target("Kiln @par 2 thr >= 1.8x faster than Kiln serial", "speedup",
                   "Kiln @par 2 thr", "Kiln serial", ">=", 1.8),
            Target("Kiln @par 2 thr no slower than Numba prange 2 thr", "time",
                   "Kiln @par 2 thr", "Numba prange 2 thr", "<=", 1.0),
            Target("Kiln @par ndrange 2 thr (lanes) >= 3x faster than Numba prange 2 thr",
                   "speedup", "Kiln @par ndrange 2 thr", "Numba prange 2 thr", ">=", 3.0),
            Target("Kiln @par ndrange 2 thr within 1.5x of C OpenMP+SIMD 2 thr", "time",
                   "Kiln @par ndrange 2 thr", "C OpenMP+SIMD 2 thr", "<=", 1.5),
            Target("Kiln @par ndrange 1 thr >= 2x faster than Numba @njit 1 thr", "speedup",
                   "Kiln @par ndrange 1 thr", "Numba @njit 1 thr", ">=", 2.0),
            Target("Kiln @par 2 thr (lanes) faster than with %vector off", "speedup",
                   "Kiln @par 2 thr", "Kiln @par 2 thr, %vector off", ">=", 1.0),
        ],
        note="C OpenMP: `omp parallel for schedule(dynamic)` over rows; C OpenMP+SIMD: 16 "
             "pixels of a row per step with alive flags (gcc vectorises, AVX-512 here); Numba: "
             "prange over rows; Kiln's lanes: 4 iterations per step in F64X2 vectors",
    ),
    Workload(
        name="mandelbrot_gpu",
        title="Mandelbrot 1000x1000, 200 iterations, @gpu on the OpenCL device (PoCL without a GPU)",
        dir="mandelbrot",
        checksum=38061767,
        impls=[
            _kiln("Kiln @gpu", "mandel_gpu.kiln", 2, cell=None),
            Impl("PyOpenCL plain kernel", "py", "mandel_pyopencl.py", args=["plain"]),
            Impl("PyOpenCL double16 kernel", "py", "mandel_pyopencl.py", args=["double16"]),
            _kiln("Kiln @par 2 thr", "mandel_par.kiln", 2, cell=None),
        ],
        baseline="PyOpenCL plain kernel",
        targets=[
            Target("Kiln @gpu within 1.1x of PyOpenCL's plain kernel", "time",
                   "Kiln @gpu", "PyOpenCL plain kernel", "<=", 1.1),
            Target("Kiln @gpu within 1.5x of PyOpenCL's double16 kernel", "time",
                   "Kiln @gpu", "PyOpenCL double16 kernel", "<=", 1.5),
        ],
        note="both launch one work-item per pixel, allocate, read back and sum per run",
    ),
    Workload(
        name="poly_gpu",
        title="poly, 10 launches of y[:] = 2*x**3 - 3*x**2 + 4*x - 1 over resident 10M f64 (@gpu)",
        dir="poly",
        checksum=5000000.0,
        rel_tol=1e-9,
        impls=[
            _kiln("Kiln @gpu, y copied back", "poly_gpu.kiln", 2),
            Impl("PyOpenCL kernel only", "py", "poly_pyopencl.py", args=["kernel"]),
            Impl("PyOpenCL + read y back", "py", "poly_pyopencl.py", args=["readback"]),
        ],
        baseline="PyOpenCL + read y back",
        note="x and y stay on the device; each Kiln launch copies y back (the kernel wrote "
             "it); `kiln run --timings` also prints the kernel time per run (\"gpu\")",
    ),
    Workload(
        name="transfer",
        title="host -> device upload of 80 MB (10M f64) vs the host's memcpy",
        dir="transfer",
        checksum=5000000.0,
        rel_tol=1e-9,
        impls=[
            Impl("C memcpy", "c", "memcpy.c"),
            Impl("PyOpenCL enqueue_copy (event)", "py", "transfer_pyopencl.py", args=["event"]),
            Impl("PyOpenCL enqueue_copy (wall)", "py", "transfer_pyopencl.py", args=["wall"]),
            _kiln("Kiln @gpu upload (event)", "upload.kiln", 2, series="to_device_ms"),
            _kiln("Kiln cell wall time", "upload.kiln", 2),
        ],
        baseline="C memcpy",
        bytes_per_run=8 * N10M,
        targets=[
            Target("Kiln upload >= 80% of memcpy's bandwidth", "gbps",
                   "Kiln @gpu upload (event)", "C memcpy", ">=", 0.8),
            Target("Kiln upload no slower than PyOpenCL's (same measure)", "time",
                   "Kiln @gpu upload (event)", "PyOpenCL enqueue_copy (event)", "<=", 1.0),
        ],
        note="(event) rows: the copy's own OpenCL profiling event; Kiln's cell re-uploads x "
             "because the host wrote x[0]; the cell's wall time adds a 1-item kernel",
    ),
    Workload(
        name="launch",
        title="a cached @gpu launch over 1000 resident f64, y copied back (cost outside the kernel)",
        dir="launch",
        checksum=2000.0,
        rel_tol=1e-12,
        impls=[
            _kiln("Kiln outside the kernel", "launch.kiln", 2, series="outside_kernel_ms"),
            _kiln("Kiln cell wall time", "launch.kiln", 2),
            Impl("PyOpenCL launch + read back", "py", "launch_pyopencl.py", args=["readback"]),
        ],
        baseline="PyOpenCL launch + read back",
        targets=[
            Target("Kiln outside the kernel < 1 ms (median)", "ms",
                   "Kiln outside the kernel", "", "<=", 1.0),
        ],
        note="outside = the cell's wall time less the kernel's profiling-event time: "
             "argument setup, launch, wait, 8 KB copy back",
    ),
    Workload(
        name="triad",
        title="STREAM triad a = b + s*c, 3 x 80 MB f64 (memory-bandwidth ceiling)",
        dir="triad",
        checksum=25000000,
        impls=[_c("C OpenMP 2 thr", "triad.c", 2), _c("C 1 thr", "triad.c", 1)],
        baseline="C OpenMP 2 thr",
        bytes_per_run=24 * N10M,
        note="GB/s = 24 bytes/element (STREAM convention) / time; `/triad` columns of later "
             "workloads divide by this workload's 2-thread best (min) and median figures",
    ),
    Workload(
        name="poly",
        title="y = 2*x**3 - 3*x**2 + 4*x - 1, 10M f64, into an existing y",
        dir="poly",
        checksum=5000000.0,
        rel_tol=1e-9,
        impls=[
            _c("C 1 thr", "poly.c", 1, "inplace"),
            _c("C OpenMP 2 thr", "poly.c", 2, "inplace"),
            _py("NumPy as written", "poly_py.py", "numpy-pow"),
            _py("NumPy x*x*x", "poly_py.py", "numpy-mul"),
            _py("NumPy out= ufuncs", "poly_py.py", "numpy-out"),
            _py("Numexpr 1 thr", "poly_py.py", "numexpr", 1),
            _py("Numexpr 2 thr", "poly_py.py", "numexpr", 2),
            _py("Numba", "poly_py.py", "numba"),
            _py("Numba parallel 2 thr", "poly_py.py", "numba-par", 2),
            _kiln("Kiln 1 thr", "poly.kiln", 1),
            _kiln("Kiln 2 thr", "poly.kiln", 2),
        ],
        baseline="C 1 thr",
        bytes_per_run=16 * N10M,
        targets=_elementwise_targets() + [
            Target("Kiln 2 thr >= 80% of triad bandwidth", "gbps", "Kiln 2 thr", TRIAD,
                   ">=", 0.8)],
        note="bytes = 16/element (read x, write y); NumPy rows write into y (y[:] = ... or "
             "out=), so they include their temporaries",
    ),
    Workload(
        name="poly_fresh",
        title="poly, a fresh 10M f64 result array each call",
        dir="poly",
        checksum=5000000.0,
        rel_tol=1e-9,
        impls=[
            _c("C 1 thr", "poly.c", 1, "fresh"),
            _c("C OpenMP 2 thr", "poly.c", 2, "fresh"),
            _py("NumPy as written", "poly_py.py", "numpy-pow-fresh"),
            _py("NumPy x*x*x", "poly_py.py", "numpy-mul-fresh"),
            _py("Numexpr 1 thr", "poly_py.py", "numexpr-fresh", 1),
            _py("Numexpr 2 thr", "poly_py.py", "numexpr-fresh", 2),
            _py("Numba", "poly_py.py", "numba-fresh"),
            _py("Numba parallel 2 thr", "poly_py.py", "numba-par-fresh", 2),
            _kiln("Kiln 1 thr", "poly_fresh.kiln", 1),
            _kiln("Kiln 2 thr", "poly_fresh.kiln", 2),
        ],
        baseline="C 1 thr",
        bytes_per_run=16 * N10M,
        targets=_elementwise_targets(),
        note="C: malloc (80 MB, mmap'd: page faults every call) + compute; Kiln: the timed "
             "cell is the bare expression, whose value is a new array each run",
    ),
    Workload(
        name="sqdiff",
        title="z = x**2 + y**2 - 2*x*y, 10M f64, into an existing z",
        dir="sqdiff",
        checksum=13333336.000000266,
        rel_tol=1e-9,
        impls=[
            _c("C 1 thr", "sqdiff.c", 1),
            _c("C OpenMP 2 thr", "sqdiff.c", 2),
            _py("NumPy as written", "sqdiff_py.py", "numpy"),
            _py("Numexpr 1 thr", "sqdiff_py.py", "numexpr", 1),
            _py("Numexpr 2 thr", "sqdiff_py.py", "numexpr", 2),
            _py("Numba", "sqdiff_py.py", "numba"),
            _py("Numba parallel 2 thr", "sqdiff_py.py", "numba-par", 2),
            _kiln("Kiln 1 thr", "sqdiff.kiln", 1),
            _kiln("Kiln 2 thr", "sqdiff.kiln", 2),
        ],
        baseline="C 1 thr",
        bytes_per_run=24 * N10M,
        targets=_elementwise_targets(),
        note="bytes = 24/element (read x, y; write z)",
    ),
    Workload(
        name="sumsqrt",
        title="s = sum(sqrt(x*x + 1)), 10M f64 (fused reduction)",
        dir="sumsqrt",
        checksum=11477935.806276403,
        rel_tol=1e-9,
        impls=[
            _c("C strict order", "sumsqrt.c", 1, "strict"),
            _c("C reordered 1 thr", "sumsqrt.c", 1, "reordered"),
            _c("C OpenMP 2 thr", "sumsqrt.c", 2, "reordered"),
            _py("NumPy", "sumsqrt_py.py", "numpy"),
            _py("Numexpr", "sumsqrt_py.py", "numexpr", 1),
            _py("Numba strict", "sumsqrt_py.py", "numba"),
            _py("Numba parallel 2 thr", "sumsqrt_py.py", "numba-par", 2),
            _kiln("Kiln 1 thr", "sumsqrt.kiln", 1),
            _kiln("Kiln 2 thr", "sumsqrt.kiln", 2),
        ],
        baseline="C strict order",
        bytes_per_run=8 * N10M,
        targets=[
            Target("Kiln 1 thr <= 1.3x C strict order", "time", "Kiln 1 thr",
                   "C strict order", "<=", 1.3),
            Target("Kiln 2 thr <= 1.2x C OpenMP 2 thr", "time", "Kiln 2 thr",
                   "C OpenMP 2 thr", "<=", 1.2),
        ],
        note="C reordered = `omp parallel for simd reduction(+:s)` (lanes + threads keep "
             "partial sums); Kiln and NumPy sum pairwise; checksums agree to 1e-9",
    ),
    Workload(
        name="ccall",
        title="1,000,000 calls of a small C function, poly(x) = x*x*0.5 + x - 3.0, summed "
              "over x = i*1e-6",
        dir="ccall",
        checksum=-2333334.0833332324,
        rel_tol=1e-9,
        shared_libs=["poly.c"],
        impls=[
            Impl("C via pointer", "c", "ccall.c", args=[CCALL_LIB]),
            Impl("CPython ctypes", "py", "ccall_py.py", args=["ctypes", CCALL_LIB, "5"]),
            Impl("Numba ctypes", "py", "ccall_py.py", args=["numba", CCALL_LIB]),
            _kiln("Kiln ctypes", "ccall_ctypes.kiln", 1, cell=3),
            _kiln("Kiln %%c", "ccall_cmagic.kiln", 1, cell=3),
            _kiln("Kiln @par 2 thr", "ccall_par.kiln", 2, cell=3),
        ],
        baseline="C via pointer",
        targets=[
            Target("Kiln ctypes within 2x of C via pointer", "time", "Kiln ctypes",
                   "C via pointer", "<=", 2.0),
            Target("Kiln ctypes >= 10x faster than CPython ctypes", "speedup", "Kiln ctypes",
                   "CPython ctypes", ">=", 10.0),
        ],
        note="the library: gcc -O2 -fPIC -shared -ffp-contract=off poly.c (Kiln %%c: the same "
             "text, its own cc -O2 build); C calls it through a dlsym pointer; CPython ctypes "
             "does at most 5 timed runs; serial rows sum in order (identical bits), @par sums "
             "per chunk (rel 1e-9)",
    ),
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


def run_cmd(cmd, cwd=ROOT, env: dict[str, str] | None = None):
    full_env = {**os.environ, **env} if env else None
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S,
                          env=full_env)


def env_prefix(env: dict[str, str]) -> str:
    return "".join(f"{k}={shlex.quote(v)} " for k, v in env.items())


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


def peer_result(label: str, cmd: list[str], env: dict[str, str] | None = None) -> Result:
    try:
        p = run_cmd(cmd, env=env)
    except subprocess.TimeoutExpired:
        return Result(label, "failed", f"timed out after {TIMEOUT_S} s: {shlex.join(cmd)}")
    obj = last_json_object(p.stdout)
    if p.returncode != 0 or obj is None:
        return Result(label, "failed",
                      f"exit {p.returncode}, no JSON result: "
                      f"{env_prefix(env or {})}{shlex.join(cmd)}\n"
                      + tail(p.stderr + p.stdout))
    if "skipped" in obj:
        return Result(label, "skipped", obj["skipped"])
    return Result(label, checksum=obj.get("checksum"), min_ms=obj.get("min_ms"),
                  median_ms=obj.get("median_ms"), runs_ms=obj.get("runs_ms", []),
                  compile_ms=obj.get("compile_ms"),
                  detail={k: v for k, v in obj.items()
                          if k in ("version", "first_call_ms", "threads")})


# ---------------------------------------------------------------------------------------------
# C

def cc_version(cc: str) -> str:
    try:
        return run_cmd([cc, "--version"]).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "?"


def build_c(w: Workload, cc: str, impl: Impl | None = None) -> tuple[Path | None, str]:
    file = impl.file if impl else w.c
    flags = [*w.extra_cflags, *(impl.cflags if impl else [])]
    src = BENCH / w.dir / file
    BUILD.mkdir(exist_ok=True)
    tag = "".join(f.replace("-", "_") for f in flags)
    exe = BUILD / f"{w.dir}_{Path(file).stem}{tag}"
    cmd = [cc, *CFLAGS, *flags, str(src), "-o", str(exe), "-lm"]
    try:
        p = run_cmd(cmd)
    except OSError as e:
        return None, f"cannot run {cc}: {e}"
    if p.returncode != 0:
        return None, f"build failed: {shlex.join(cmd)}\n{tail(p.stderr)}"
    return exe, shlex.join(cmd)


def build_shared(cc: str, src: Path, out: Path) -> str:
    """A shared library the rows call (`Workload.shared_libs`); what was run, or why not (then
    the rows that load it fail on their own, naming the missing file)."""
    BUILD.mkdir(exist_ok=True)
    cmd = [cc, *SHARED_CFLAGS, str(src), "-o", str(out)]
    try:
        p = run_cmd(cmd)
    except OSError as e:
        return f"cannot run {cc}: {e}"
    if p.returncode != 0:
        return f"build failed: {shlex.join(cmd)}\n{tail(p.stderr)}"
    return shlex.join(cmd)


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


def kiln_series(cell: dict, series: str) -> list[float]:
    """One figure per run of a `--timings` cell line: its wall time, a per-run GPU figure, or
    the wall time less the kernel time."""
    wall = [float(t) for t in cell["run_ms"]]
    if series == "run_ms":
        return wall
    gpu = cell.get("gpu")
    if not isinstance(gpu, list) or len(gpu) != len(wall):
        raise ValueError(f"no per-run GPU figures for {series!r} (did the cell launch a kernel?)")
    if series == "outside_kernel_ms":
        return [t - float(g["kernel_ms"]) for t, g in zip(wall, gpu)]
    if not all(series in g for g in gpu):
        raise ValueError(f"no {series!r} in the per-run GPU figures")
    return [float(g[series]) for g in gpu]


def kiln_result_from_output(w: Workload, stdout: str, stderr: str, warmup: int = 1,
                            impl: Impl | None = None) -> Result:
    label = impl.label if impl else "Kiln"
    cells = parse_kiln_timings(stderr)
    if not cells:
        return Result(label, "failed", "no --timings JSON line on stderr\n" + tail(stderr))
    by_cell = {c["cell"]: c for c in cells}   # with several lines per cell, the last wins
    cell_no = impl.kiln_cell if impl else w.kiln_cell
    want = cell_no if cell_no is not None else max(by_cell)
    if want not in by_cell:
        return Result(label, "failed", f"no timings for cell {want}; got cells {sorted(by_cell)}")
    cell = by_cell[want]
    series = impl.series if impl else "run_ms"
    try:
        all_runs = kiln_series(cell, series)
    except ValueError as e:
        return Result(label, "failed", f"cell {want}: {e}")
    runs = all_runs[warmup:] if len(all_runs) > warmup else all_runs
    phases = {k: cell[k] for k in ("parse_ms", "check_ms", "lower_ms", "codegen_ms") if k in cell}
    detail = {"phases_ms": phases, "cell": want}
    if all_runs:
        detail["first_run_ms"] = all_runs[0]
    if len(by_cell) > 1:
        detail["compile_ms_all_cells"] = sum(c.get("compile_ms", 0.0) for c in by_cell.values())
    return Result(label, checksum=parse_kiln_result(stdout),
                  min_ms=min(runs) if runs else None, median_ms=median(runs), runs_ms=runs,
                  compile_ms=cell.get("compile_ms"), detail=detail)


def run_kiln(w: Workload, impl: Impl, kiln: Path, k: int) -> Result:
    if not kiln.exists():
        return Result(impl.label, "skipped",
                      f"{kiln} not found (build it: cargo build --release)")
    cmd = [str(kiln), "run", "--timings", "--repeat", str(k + 1), str(BENCH / w.dir / impl.file)]
    shown = env_prefix(impl.env) + shlex.join(cmd)
    try:
        p = run_cmd(cmd, env=impl.env)
    except subprocess.TimeoutExpired:
        return Result(impl.label, "failed", f"timed out after {TIMEOUT_S} s: {shown}")
    if p.returncode != 0:
        return Result(impl.label, "failed",
                      f"exit {p.returncode}: {shown}\n" + tail(p.stderr + p.stdout))
    return kiln_result_from_output(w, p.stdout, p.stderr, impl=impl)


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


def gbps(w: Workload, r: Result | None, stat: str = "min_ms") -> float | None:
    t = getattr(r, stat) if r else None
    return w.bytes_per_run / (t * 1e6) if w.bytes_per_run and t else None


def lookup(ref: str, w: Workload, results: dict[str, Result], done: dict):
    """A row by label, or `workload:label` from a workload run earlier -> (Workload, Result)."""
    if ":" in ref:
        wname, label = ref.split(":", 1)
        ww, rs = done.get(wname, (None, {}))
        return ww, rs.get(label)
    return w, results.get(ref)


def eval_target(t: Target, w: Workload, results: dict[str, Result], done: dict):
    """(value, verdict) of a target: verdict is met / MISSED / n/a (why) / void."""
    (wa, a), (wb, b) = lookup(t.a, w, results, done), lookup(t.b, w, results, done)
    rows = ((t.a, wa, a),) if t.metric == "ms" else ((t.a, wa, a), (t.b, wb, b))
    for ref, ww, r in rows:
        if r is None or r.status != "ok":
            why = "not run" if r is None else r.status
            if ":" in ref and ww is None:
                why = f"run {ref.split(':')[0]} in the same invocation"
            return None, f"n/a ({ref}: {why})"
        if not checksum_ok(ww, r.checksum):
            return None, "void (wrong checksum)"
    if t.metric == "time":
        v = a.min_ms / b.min_ms
    elif t.metric == "speedup":
        v = b.min_ms / a.min_ms
    elif t.metric == "ms":
        v = a.median_ms
    else:
        ga, gb = gbps(wa, a), gbps(wb, b)
        if not ga or not gb:
            return None, "n/a (no bytes_per_run)"
        v = ga / gb
    ok = v <= t.bound if t.op == "<=" else v >= t.bound
    return v, "met" if ok else "MISSED"


def round_spread(t: Target, rounds: dict[str, list[Result]]) -> list[float]:
    """A time or speed-up target's value in each round on its own (both rows of this
    workload): how far the machine's noise moves it."""
    if t.metric not in ("time", "speedup") or t.a not in rounds or t.b not in rounds:
        return []
    out = []
    for a, b in zip(rounds[t.a], rounds[t.b]):
        if a.status == "ok" and b.status == "ok" and a.min_ms and b.min_ms:
            out.append(a.min_ms / b.min_ms if t.metric == "time" else b.min_ms / a.min_ms)
    return out


def run_one(w: Workload, impl: Impl, args, py: str, exes: dict) -> Result:
    if impl.kind == "kiln":
        return run_kiln(w, impl, args.kiln, args.k)
    if impl.kind == "py":
        return peer_result(impl.label, [py, str(BENCH / w.dir / impl.file), str(args.k),
                                        *impl.args], impl.env)
    exe, msg = exes[impl.label]
    if exe is None:
        return Result(impl.label, "failed", msg)
    return peer_result(impl.label, [str(exe), str(args.k), *impl.args], impl.env)


def run_workload(w: Workload, args, py: str, done: dict | None = None
                 ) -> tuple[list[Result], bool, list[dict]]:
    done = {} if done is None else done
    print(f"\n== {w.name}: {w.title}")
    print(f"   {args.k} timed runs after a warm-up"
          + (f", {args.rounds} rounds (rows alternating)" if args.rounds > 1 else ""))

    for lib in w.shared_libs:
        print(f"   C library: {build_shared(args.cc, BENCH / w.dir / lib, shared_lib_path(w.dir, lib))}")
    exes, built = {}, {}
    for impl in w.impls:
        if impl.kind == "c":
            key = (impl.file, tuple(impl.cflags))
            if key not in built:
                built[key] = build_c(w, args.cc, impl)
                print(f"   C: {built[key][1]}")
            exes[impl.label] = built[key]

    rounds: dict[str, list[Result]] = {}
    for _ in range(args.rounds):
        for impl in w.impls:
            rounds.setdefault(impl.label, []).append(run_one(w, impl, args, py, exes))
    results = [merge_rounds(rs) for rs in rounds.values()]
    by_label = {r.impl: r for r in results}

    base = by_label.get(w.baseline)
    base = base if base and base.status == "ok" else None
    triad_w, triad = lookup(TRIAD, w, by_label, done)
    show_bw = w.bytes_per_run is not None
    show_triad = show_bw and triad is not None and triad.status == "ok" and w.name != "triad"
    lw = max(8, *(len(r.impl) for r in results)) + 2
    bname = w.baseline if len(w.baseline) <= 10 else "base"
    header = (f"   {'impl':<{lw}}{'min ms':>9}{'median ms':>11}{'/' + bname + ' min':>{len(bname) + 6}}"
              f"{'med':>7}")
    if show_bw:
        header += f"{'GB/s min':>10}{'med':>7}"
    if show_triad:
        header += f"{'/triad':>8}{'med':>6}"
    header += f"{'compile ms':>12}  checksum"
    print(f"   ratios: time / {w.baseline} (same statistic, this run)"
          + ("; /triad: GB/s as a fraction of the STREAM triad's (best / median)"
             if show_triad else ""))
    print(header)
    print("   " + "-" * (len(header) - 3 + 14))
    bad = False
    for r in results:
        if r.status != "ok":
            first, *rest = (r.why or "").splitlines() or [""]
            print(f"   {r.impl:<{lw}}{r.status.upper()}: {first}")
            for line in rest:
                print(f"   {'':<{lw}}  {line}")
            if r.status == "failed":
                bad = True
            continue
        ok = checksum_ok(w, r.checksum)
        if not ok:
            bad = True
        ratio_min = r.min_ms / base.min_ms if base and r.min_ms and base.min_ms else None
        ratio_med = (r.median_ms / base.median_ms
                     if base and r.median_ms and base.median_ms else None)
        mark = "ok" if ok else f"WRONG (expected {w.checksum})"
        line = (f"   {r.impl:<{lw}}{fmt(r.min_ms):>9}{fmt(r.median_ms):>11}"
                f"{fmt(ratio_min, 2):>{len(bname) + 6}}{fmt(ratio_med, 2):>7}")
        r.detail["ratio_min_vs_baseline"] = ratio_min
        r.detail["ratio_median_vs_baseline"] = ratio_med
        if show_bw:
            g, gm = gbps(w, r), gbps(w, r, "median_ms")
            line += f"{fmt(g):>10}{fmt(gm):>7}"
            r.detail["gbps_min"], r.detail["gbps_median"] = g, gm
        if show_triad:
            f_min = gbps(w, r) / gbps(triad_w, triad)
            f_med = gbps(w, r, "median_ms") / gbps(triad_w, triad, "median_ms")
            line += f"{f_min:>7.0%} {f_med:>5.0%}"
            r.detail["triad_fraction_min"], r.detail["triad_fraction_median"] = f_min, f_med
        line += f"{fmt(r.compile_ms):>12}  {r.checksum} {mark}"
        print(line)

    kilns = [r for r in results if r.impl.startswith("Kiln") and r.status == "ok"]
    if kilns and kilns[0].detail.get("phases_ms"):
        kr = kilns[0]
        print(f"   {kr.impl} compile phases (timed cell {kr.detail.get('cell')}): "
              + ", ".join(f"{k[:-3]} {v:.2f}" for k, v in kr.detail["phases_ms"].items())
              + " ms"
              + (f"; first run {kr.detail['first_run_ms']:.1f} ms (warm-up, not counted)"
                 if "first_run_ms" in kr.detail else ""))
    target_rows = []
    for t in w.targets:
        v, verdict = eval_target(t, w, by_label, done)
        row = {"target": t.text, "value": v, "verdict": verdict}
        if t.metric == "ms":
            row["unit"] = "ms"
        spread = round_spread(t, rounds)
        if spread:
            row["per_round"] = spread
        target_rows.append(row)
    if w.kiln_max_compile_ms is not None:
        kr = by_label.get("Kiln")
        tm = kr.compile_ms if kr and kr.status == "ok" else None
        verdict = ("n/a" if tm is None else "void (wrong checksum)"
                   if not checksum_ok(w, kr.checksum)
                   else "met" if tm <= w.kiln_max_compile_ms else "MISSED")
        target_rows.append({"target": f"Kiln compile <= {w.kiln_max_compile_ms:g} ms",
                            "value": tm, "verdict": verdict, "unit": "ms"})
    if target_rows:
        print("   targets:")
        for t in target_rows:
            v = t["value"]
            shown = "" if v is None else (f"{v:.2f} ms" if t.get("unit") == "ms"
                                         else f"{v:.0%}" if "%" in t["target"] else f"{v:.2f}x")
            per_round = t.get("per_round")
            spread = (f"  (per round {min(per_round):.2f}x-{max(per_round):.2f}x)"
                      if per_round and len(per_round) > 1 else "")
            print(f"     {t['target']:<58} {shown:>9}  {t['verdict']}{spread}")
    if w.note:
        print(f"   note: {w.note}")

    wrong = [r for r in results if r.status == "ok" and not checksum_ok(w, r.checksum)]
    if wrong:
        print("\n" + "!" * 78)
        for r in wrong:
            print(f"!!! CHECKSUM MISMATCH in {w.name}: {r.impl} gave {r.checksum}, "
                  f"expected {w.checksum}")
        print("!" * 78)
    done[w.name] = (w, by_label)
    return results, bad, target_rows


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
    # targets: time / speedup / bandwidth against a row of another workload
    wt = Workload("t", "t", "t", 1, impls=[Impl("A", "c", "a.c"), Impl("B", "c", "b.c")],
                  bytes_per_run=16e6)
    tri = Workload("triad", "t", "t", 1, bytes_per_run=24e6)
    rs = {"A": Result("A", checksum=1, min_ms=10.0), "B": Result("B", checksum=1, min_ms=20.0)}
    done = {"triad": (tri, {"C OpenMP 2 thr": Result("C", checksum=1, min_ms=10.0)})}
    v, verdict = eval_target(Target("", "time", "A", "B", "<=", 0.6), wt, rs, done)
    assert (v, verdict) == (0.5, "met"), (v, verdict)
    v, verdict = eval_target(Target("", "speedup", "A", "B", ">=", 3.0), wt, rs, done)
    assert (v, verdict) == (2.0, "MISSED"), (v, verdict)
    v, verdict = eval_target(Target("", "gbps", "A", TRIAD, ">=", 0.8), wt, rs, done)
    assert math.isclose(v, (16e6 / 10e-3) / (24e6 / 10e-3)) and verdict == "MISSED"
    v, verdict = eval_target(Target("", "gbps", "A", TRIAD, ">=", 0.8), wt, rs, {})
    assert v is None and verdict.startswith("n/a"), verdict
    # each round's own value of a target, from the rows of this workload only
    per = {"A": [Result("A", checksum=1, min_ms=10.0), Result("A", checksum=1, min_ms=12.0)],
           "B": [Result("B", checksum=1, min_ms=10.0), Result("B", checksum=1, min_ms=10.0)]}
    assert round_spread(Target("", "time", "A", "B", "<=", 1.0), per) == [1.0, 1.2]
    assert round_spread(Target("", "speedup", "A", "B", ">=", 1.0), per) == [1.0, 10 / 12]
    assert round_spread(Target("", "gbps", "A", TRIAD, ">=", 0.8), per) == []
    v, verdict = eval_target(Target("", "ms", "A", "", "<=", 1.0),
                             wt, {"A": Result("A", checksum=1, median_ms=0.4)}, done)
    assert (v, verdict) == (0.4, "met"), (v, verdict)
    # per-run GPU figures as the timed series
    gpu = ('{"cell":2,"compile_ms":1.0,"run_ms":[50.0,6.0,7.0],"gpu":[{"kernel_ms":1.0,'
           '"to_device_ms":40.0},{"kernel_ms":5.5,"to_device_ms":5.0},'
           '{"kernel_ms":6.25,"to_device_ms":6.0}]}')
    up = Impl("K", "kiln", "k.kiln", series="to_device_ms")
    r = kiln_result_from_output(w, "38061767", gpu, impl=up)
    assert r.runs_ms == [5.0, 6.0], r.runs_ms
    r = kiln_result_from_output(w, "38061767", gpu,
                                impl=dataclasses.replace(up, series="outside_kernel_ms"))
    assert r.runs_ms == [0.5, 0.75], r.runs_ms
    assert kiln_result_from_output(w, "38061767", two, impl=up).status == "failed"
    rs["B"].checksum = 2
    assert eval_target(Target("", "time", "A", "B", "<=", 1), wt, rs, done)[1].startswith("void")
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

    report, any_bad, done = {}, False, {}
    for w in chosen:
        results, bad, targets = run_workload(w, args, py, done)
        any_bad |= bad
        report[w.name] = {"expected_checksum": w.checksum, "baseline": w.baseline,
                          "bytes_per_run": w.bytes_per_run, "targets": targets,
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
