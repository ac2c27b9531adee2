"""ccall: 1,000,000 calls of poly(x) = x*x*0.5 + x - 3.0 from a shared library through
ctypes, summed over x = i * 1e-6 in order -- Python peers.

Usage: python ccall_py.py K MODE LIB.so [MAX_K]  checksum: the sum s
    MAX_K caps the timed runs (the harness gives CPython ctypes 5: ~0.5 s a run)
    ctypes   a CPython loop calling lib.poly (restype / argtypes declared: c_double)
    numba    @njit loop calling the same ctypes function (Numba calls its address directly)
"""
import ctypes
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from pybench import bench, skip  # noqa: E402

N = 1_000_000


def main():
    k = max(1, int(sys.argv[1])) if len(sys.argv) > 1 else 10
    mode = sys.argv[2] if len(sys.argv) > 2 else "ctypes"
    path = sys.argv[3] if len(sys.argv) > 3 else "bench/build/libccall_poly.so"
    if len(sys.argv) > 4:
        k = min(k, max(1, int(sys.argv[4])))
    lib = ctypes.CDLL(path)
    poly = lib.poly
    poly.restype = ctypes.c_double
    poly.argtypes = [ctypes.c_double]
    jit, extra = False, {}
    if mode == "ctypes":
        def fn():
            s = 0.0
            for i in range(N):
                s += poly(i * 1e-6)
            return s
    elif mode == "numba":
        try:
            import numba
            from numba import njit
        except ImportError as e:
            skip(mode, f"numba not importable ({e})")
        jit, extra = True, {"version": numba.__version__}

        @njit
        def total(n):
            s = 0.0
            for i in range(n):
                s += poly(i * 1e-6)
            return s

        def fn():
            return total(N)
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        sys.exit(2)
    bench(mode, fn, k, checksum=lambda r: float(r), jit=jit, extra=extra)


if __name__ == "__main__":
    main()
