#!/usr/bin/env python3
"""Regenerate the expected outputs of jit/tests/run/*.kiln from CPython + NumPy.

    python3 jit/tests/run/python_reference.py            # every case not marked hand-written
    python3 jit/tests/run/python_reference.py FILE.kiln  # just these

Each .kiln file is split into cells on `# %%` lines (as `kiln run` does). The cells run in one
namespace under a prelude that maps Kiln's builtins onto Python/NumPy; stdout is captured and,
as IPython's Out does, the repr of a cell's final expression is printed when it is not None.
A cell that raises prints `!! ExceptionName` and the next cell runs.

Loop annotations (`@serial`, `@par`, `@gpu` on their own line before a `for`) are not Python;
they are dropped before running (every loop runs serially here).

A file whose first line contains `reference: hand-written` is skipped: its .out was written
by hand because Kiln's documented semantics differ from Python's there (SPEC §13).

Needs Python 3 with NumPy >= 2 (e.g. `python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy`).
"""
import __future__
import ast
import builtins
import io
import re
import sys
import types
from pathlib import Path

import numpy as np

PRELUDE = r'''
from numpy import *
import numpy as np
import math, sys
import builtins as _b
f64 = float64; i64 = int64; f32 = float32; c128 = complex128
def ndrange(*a):
    import itertools
    return itertools.product(*map(range, a))
prange = range
# Python's scalar builtins where Kiln follows Python (SPEC §13), NumPy's for arrays.
bool = _b.bool
divmod = _b.divmod
def _isarr(x): return isinstance(x, np.ndarray)
def round(x, n=None):
    if _isarr(x): return np.round(x, n or 0)
    return _b.round(x) if n is None else _b.round(x, n)
def min(*a, **k):
    return np.min(*a, **k) if len(a) == 1 and _isarr(a[0]) else _b.min(*a, **k)
def max(*a, **k):
    return np.max(*a, **k) if len(a) == 1 and _isarr(a[0]) else _b.max(*a, **k)
'''

ANNOTATION = re.compile(r"^\s*@(serial|par|gpu)\s*(#.*)?$")


def fake_numba():
    m = types.ModuleType("numba")

    def deco(*a, **k):
        # njit(f), jit(f, nopython=True): the function; njit(...)(f), njit("f8(f8)")(f): a
        # decorator. Numba refuses anything else where the function goes.
        if a and callable(a[0]):
            return a[0]
        if a and not isinstance(a[0], (str, list, tuple)):
            raise TypeError(f"The decorated object is not a function (got type {type(a[0])}).")
        return lambda f: f

    m.njit = m.jit = deco
    m.prange = range
    sys.modules["numba"] = m


def cells_of(text):
    cells = [""]
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("# %%"):
            cells.append("")
        else:
            cells[-1] += line
    return [c for c in cells if c.strip()]


def show(v):
    """Kiln prints a result as Python prints the value (NumPy scalars as plain numbers)."""
    if isinstance(v, np.generic):
        return str(v)
    if isinstance(v, tuple):
        parts = [show(x) for x in v]
        return "(" + parts[0] + ",)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"
    return repr(v)


def run_file(path):
    ns = {"__name__": "__kiln__"}
    out = io.StringIO()
    flags = __future__.annotations.compiler_flag
    old = sys.stdout
    sys.stdout = out
    try:
        exec(compile(PRELUDE, "<prelude>", "exec"), ns)
        for cell in cells_of(Path(path).read_text()):
            src = "".join(
                "\n" if ANNOTATION.match(l) else l for l in cell.splitlines(keepends=True)
            )
            try:
                tree = ast.parse(src)
                last = None
                if tree.body and isinstance(tree.body[-1], ast.Expr):
                    last = ast.Expression(tree.body.pop().value)
                exec(compile(tree, str(path), "exec", flags=flags, dont_inherit=True), ns)
                if last is not None:
                    v = eval(compile(last, str(path), "eval", flags=flags, dont_inherit=True), ns)
                    if v is not None:
                        print(show(v))
            except Exception as e:  # noqa: BLE001 - any error is part of the expected output
                print(f"!! {type(e).__name__}")
    finally:
        sys.stdout = old
    return out.getvalue()


def main():
    np.seterr(all="ignore")
    np.set_printoptions(legacy="1.25")  # scalars print as numbers, as Kiln prints them
    fake_numba()
    here = Path(__file__).resolve().parent
    files = [Path(a) for a in sys.argv[1:]] or sorted(here.glob("*.kiln"))
    for f in files:
        first = f.read_text().split("\n", 1)[0]
        if "reference: hand-written" in first:
            print(f"skip {f.name} (hand-written)")
            continue
        f.with_suffix(".out").write_text(run_file(f))
        print(f"wrote {f.with_suffix('.out').name}")


if __name__ == "__main__":
    main()
