"""poly: y = 2*x**3 - 3*x**2 + 4*x - 1 over 10M f64, x = linspace(0, 1, N) -- Python peers.

Usage: python poly_py.py K MODE [THREADS]      checksum: sum(y), untimed
  into an existing y (the `poly` workload):
    numpy-pow      y[:] = 2*x**3 - 3*x**2 + 4*x - 1        (as written; temporaries)
    numpy-mul      y[:] = 2*(x*x*x) - 3*(x*x) + 4*x - 1
    numpy-out      ufuncs with out=y and one preallocated temporary (x*x*x form)
    numexpr        ne.evaluate("2*x**3 - 3*x**2 + 4*x - 1", out=y), THREADS threads
    numba          @njit loop into y
    numba-par      @njit(parallel=True) prange loop into y (threads: NUMBA_NUM_THREADS)
  a fresh array per call (the `poly_fresh` workload): the same with -fresh appended
    (numpy-pow-fresh, numpy-mul-fresh, numexpr-fresh, numba-fresh, numba-par-fresh)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from pybench import args, bench, skip  # noqa: E402

N = 10_000_000
EXPR = "2*x**3 - 3*x**2 + 4*x - 1"


def main():
    k, mode, threads = args()
    try:
        import numpy as np
    except ImportError as e:
        skip(mode, f"numpy not importable ({e})")
    x = np.linspace(0.0, 1.0, N)
    y = np.zeros(N)
    t = np.empty(N)
    fresh = mode.endswith("-fresh")
    base = mode[:-len("-fresh")] if fresh else mode
    jit = False
    extra = {}

    if base == "numpy-pow":
        if fresh:
            def fn():
                return 2*x**3 - 3*x**2 + 4*x - 1
        else:
            def fn():
                y[:] = 2*x**3 - 3*x**2 + 4*x - 1
                return y
    elif base == "numpy-mul":
        if fresh:
            def fn():
                return 2*(x*x*x) - 3*(x*x) + 4*x - 1
        else:
            def fn():
                y[:] = 2*(x*x*x) - 3*(x*x) + 4*x - 1
                return y
    elif base == "numpy-out" and not fresh:
        def fn():
            np.multiply(x, x, out=t)          # t = x*x
            np.multiply(t, x, out=y)          # y = x*x*x
            np.multiply(y, 2.0, out=y)        # y = 2*(x*x*x)
            np.multiply(t, 3.0, out=t)        # t = 3*(x*x)
            np.subtract(y, t, out=y)
            np.multiply(x, 4.0, out=t)
            np.add(y, t, out=y)
            np.subtract(y, 1.0, out=y)
            return y
    elif base == "numexpr":
        try:
            import numexpr as ne
        except ImportError as e:
            skip(mode, f"numexpr not importable ({e}); pip install numexpr")
        ne.set_num_threads(threads)
        extra = {"threads": threads, "version": ne.__version__}
        if fresh:
            def fn():
                return ne.evaluate(EXPR, local_dict={"x": x})
        else:
            def fn():
                return ne.evaluate(EXPR, local_dict={"x": x}, out=y)
    elif base in ("numba", "numba-par"):
        try:
            import numba
            from numba import njit, prange
        except ImportError as e:
            skip(mode, f"numba not importable ({e})")
        par = base == "numba-par"
        jit = True
        extra = {"version": numba.__version__,
                 "threads": numba.get_num_threads() if par else 1}
        loop = prange if par else range

        @njit(parallel=par)
        def into(x, y):
            for i in loop(x.shape[0]):
                v = x[i]
                y[i] = 2.0 * (v * v * v) - 3.0 * (v * v) + 4.0 * v - 1.0
            return y

        @njit(parallel=par)
        def alloc(x):
            y = np.empty_like(x)
            for i in loop(x.shape[0]):
                v = x[i]
                y[i] = 2.0 * (v * v * v) - 3.0 * (v * v) + 4.0 * v - 1.0
            return y

        if fresh:
            def fn():
                return alloc(x)
        else:
            def fn():
                return into(x, y)
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        sys.exit(2)

    bench(mode, fn, k, checksum=lambda r: float(r.sum()), jit=jit, extra=extra)


if __name__ == "__main__":
    main()
