"""Mandelbrot 1000x1000, 200 iterations, x in [-2, 1], y in [-1.5, 1.5] -- the Numba peer.

Usage: python mandel_numba.py [K]   (K timed runs after the compiling call, default 10)

Prints one JSON object on stdout: checksum, compile time, min/median/all run times in ms.
compile_ms = (first call, which compiles) - (fastest later call): Numba's JIT latency for
these two functions. If numba cannot be imported, prints {"impl": "numba", "skipped": "..."}
and exits 0, so the harness can carry on without it.

One timed call = what one Kiln cell run does: allocate a zeroed int64 image, fill it with a
serial row/column loop calling mandel() per pixel, sum it. The arithmetic and its order match
mandel.c and mandel.kiln (Numba does not contract to FMA, so the checksum is 38061767).
"""
import json
import statistics
import sys
import time

H, W, MAX_ITER = 1000, 1000, 200

try:
    import numpy as np
    from numba import njit
except ImportError as e:  # pragma: no cover - depends on the environment
    print(json.dumps({"impl": "numba", "skipped": f"numba not importable ({e}); "
                      "run ./install.sh to create .venv, or pip install numba"}))
    sys.exit(0)


@njit(cache=False)
def mandel(cr, ci, max_iter):
    zr = 0.0
    zi = 0.0
    for n in range(max_iter):
        if zr * zr + zi * zi > 4.0:
            return n
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
    return max_iter


@njit(cache=False)
def run(h, w, max_iter):
    img = np.zeros((h, w), dtype=np.int64)
    for i in range(h):
        ci = 1.5 - i * 3.0 / h
        for j in range(w):
            img[i, j] = mandel(-2.0 + j * 3.0 / w, ci, max_iter)
    return img.sum()


def main():
    k = max(1, int(sys.argv[1])) if len(sys.argv) > 1 else 10

    t0 = time.perf_counter()
    checksum = int(run(H, W, MAX_ITER))          # compiles both functions, then runs
    first_ms = (time.perf_counter() - t0) * 1e3

    runs = []
    for _ in range(k):
        t0 = time.perf_counter()
        s = int(run(H, W, MAX_ITER))
        runs.append((time.perf_counter() - t0) * 1e3)
        if s != checksum:
            print(f"checksum changed between runs: {s} vs {checksum}", file=sys.stderr)
            sys.exit(1)

    import numba
    print(json.dumps({
        "impl": "numba",
        "version": numba.__version__,
        "checksum": checksum,
        "compile_ms": round(first_ms - min(runs), 3),
        "first_call_ms": round(first_ms, 3),
        "min_ms": round(min(runs), 3),
        "median_ms": round(statistics.median(runs), 3),
        "runs_ms": [round(t, 3) for t in runs],
    }))


if __name__ == "__main__":
    main()
