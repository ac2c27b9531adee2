"""Shared timing/reporting code for the Python peers of bench/run.py.

    from pybench import bench, skip
    bench("numpy", fn, k, checksum=lambda r: float(r.sum()))

bench() calls fn once (warm-up; for a JIT this call compiles, and compile_ms = first call -
fastest later call), then K timed calls, and prints the one JSON object the harness reads.
skip(impl, why) prints {"impl", "skipped"} and exits 0 (e.g. numexpr not installed).
"""
import json
import statistics
import sys
import time


def skip(impl, why):
    print(json.dumps({"impl": impl, "skipped": why}))
    sys.exit(0)


def bench(impl, fn, k, checksum, jit=False, extra=None):
    k = max(1, k)
    t0 = time.perf_counter()
    r = fn()
    first_ms = (time.perf_counter() - t0) * 1e3
    want = checksum(r)
    runs = []
    for _ in range(k):
        t0 = time.perf_counter()
        r = fn()
        runs.append((time.perf_counter() - t0) * 1e3)
    got = checksum(r)
    if got != want:
        print(f"checksum changed between runs: {got!r} vs {want!r}", file=sys.stderr)
        sys.exit(1)
    out = {"impl": impl, "checksum": want,
           "min_ms": round(min(runs), 4), "median_ms": round(statistics.median(runs), 4),
           "runs_ms": [round(t, 4) for t in runs]}
    if jit:
        out["compile_ms"] = round(first_ms - min(runs), 3)
        out["first_call_ms"] = round(first_ms, 3)
    if extra:
        out.update(extra)
    print(json.dumps(out))


def args():
    """argv: K MODE [THREADS] -> (k, mode, threads)."""
    k = max(1, int(sys.argv[1])) if len(sys.argv) > 1 else 10
    mode = sys.argv[2] if len(sys.argv) > 2 else ""
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    return k, mode, threads


def opencl(impl):
    """(numpy, pyopencl, a context) for a PyOpenCL peer, or a skip when PyOpenCL or an
    OpenCL device is missing."""
    try:
        import numpy as np
        import pyopencl as cl
    except ImportError as e:
        skip(impl, f"pyopencl not importable ({e})")
    try:
        ctx = cl.create_some_context(interactive=False)
    except Exception as e:  # noqa: BLE001 - no platform is a skip, not a failure
        skip(impl, f"no OpenCL device ({e})")
    return np, cl, ctx
