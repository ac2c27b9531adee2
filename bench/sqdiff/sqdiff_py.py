"""sqdiff: z = x**2 + y**2 - 2*x*y over 10M f64, x = linspace(0, 1, N), y = linspace(2, -1, N),
into an existing z -- Python peers.

Usage: python sqdiff_py.py K MODE [THREADS]      checksum: sum(z), untimed
    numpy      z[:] = x**2 + y**2 - 2*x*y
    numexpr    ne.evaluate("x**2 + y**2 - 2*x*y", out=z), THREADS threads
    numba      @njit loop into z
    numba-par  @njit(parallel=True) prange loop (threads: NUMBA_NUM_THREADS)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from pybench import args, bench, skip  # noqa: E402

N = 10_000_000


def main():
    k, mode, threads = args()
    try:
        import numpy as np
    except ImportError as e:
        skip(mode, f"numpy not importable ({e})")
    x = np.linspace(0.0, 1.0, N)
    y = np.linspace(2.0, -1.0, N)
    z = np.zeros(N)
    jit, extra = False, {}
    if mode == "numpy":
        def fn():
            z[:] = x**2 + y**2 - 2*x*y
            return z
    elif mode == "numexpr":
        try:
            import numexpr as ne
        except ImportError as e:
            skip(mode, f"numexpr not importable ({e}); pip install numexpr")
        ne.set_num_threads(threads)
        extra = {"threads": threads, "version": ne.__version__}

        def fn():
            return ne.evaluate("x**2 + y**2 - 2*x*y", local_dict={"x": x, "y": y}, out=z)
    elif mode in ("numba", "numba-par"):
        try:
            import numba
            from numba import njit, prange
        except ImportError as e:
            skip(mode, f"numba not importable ({e})")
        par = mode == "numba-par"
        loop = prange if par else range
        jit = True
        extra = {"version": numba.__version__,
                 "threads": numba.get_num_threads() if par else 1}

        @njit(parallel=par)
        def into(x, y, z):
            for i in loop(x.shape[0]):
                a = x[i]
                b = y[i]
                z[i] = a * a + b * b - 2.0 * a * b
            return z

        def fn():
            return into(x, y, z)
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        sys.exit(2)
    bench(mode, fn, k, checksum=lambda r: float(r.sum()), jit=jit, extra=extra)


if __name__ == "__main__":
    main()
