"""sumsqrt: s = sum(sqrt(x*x + 1)) over 10M f64, x = linspace(0, 1, N) -- Python peers.

Usage: python sumsqrt_py.py K MODE [THREADS]      checksum: s
    numpy      np.sum(np.sqrt(x*x + 1))                  (pairwise sum)
    numexpr    ne.evaluate("sum(sqrt(x*x+1))")           (numexpr reduces on one thread)
    numba      @njit strict-order loop  s += sqrt(x[i]*x[i] + 1)
    numba-par  @njit(parallel=True) prange reduction (threads: NUMBA_NUM_THREADS)
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
    jit, extra = False, {}
    if mode == "numpy":
        def fn():
            return np.sum(np.sqrt(x*x + 1))
    elif mode == "numexpr":
        try:
            import numexpr as ne
        except ImportError as e:
            skip(mode, f"numexpr not importable ({e}); pip install numexpr")
        ne.set_num_threads(threads)
        extra = {"threads": threads, "version": ne.__version__}

        def fn():
            return ne.evaluate("sum(sqrt(x*x+1))", local_dict={"x": x})
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
        def total(x):
            s = 0.0
            for i in loop(x.shape[0]):
                s += np.sqrt(x[i] * x[i] + 1.0)
            return s

        def fn():
            return total(x)
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        sys.exit(2)
    bench(mode, fn, k, checksum=lambda r: float(r), jit=jit, extra=extra)


if __name__ == "__main__":
    main()
