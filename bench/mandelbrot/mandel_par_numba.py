"""Mandelbrot 1000x1000, 200 iterations -- the Numba prange peer for `mandelbrot_par`.

Usage: python mandel_par_numba.py K      threads: NUMBA_NUM_THREADS (the harness uses 2)
Same arithmetic and per-call work as mandel_numba.py (allocate a zeroed int64 image, fill,
sum), with @njit(parallel=True) and prange over the rows. Checksum 38061767.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from pybench import bench, skip  # noqa: E402

H, W, MAX_ITER = 1000, 1000, 200

try:
    import numpy as np
    import numba
    from numba import njit, prange
except ImportError as e:  # pragma: no cover
    skip("numba-prange", f"numba not importable ({e})")


@njit
def mandel(cr, ci, max_iter):
    zr = 0.0
    zi = 0.0
    for n in range(max_iter):
        if zr * zr + zi * zi > 4.0:
            return n
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
    return max_iter


@njit(parallel=True)
def run(h, w, max_iter):
    img = np.zeros((h, w), dtype=np.int64)
    for i in prange(h):
        ci = 1.5 - i * 3.0 / h
        for j in range(w):
            img[i, j] = mandel(-2.0 + j * 3.0 / w, ci, max_iter)
    return img.sum()


if __name__ == "__main__":
    k = max(1, int(sys.argv[1])) if len(sys.argv) > 1 else 10
    bench("numba-prange", lambda: run(H, W, MAX_ITER), k, checksum=lambda r: int(r), jit=True,
          extra={"version": numba.__version__, "threads": numba.get_num_threads()})
