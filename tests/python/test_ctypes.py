"""The ctypes recipe's cells as a book prints them, through a real client, and `%%c`.

The same library is also called from this test's own CPython with ctypes and NumPy: the
picture Kiln's cells compute must be the one CPython's ctypes computes, and the one the
Kiln version of the loop computes.
"""

import ctypes
import os
import shutil

import numpy as np
import pytest
from numpy.ctypeslib import ndpointer

from test_shell import run, streams

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

MANDELBROT_C = r"""#include "stdio.h"
#include "stdlib.h"

void mandelbrot(int size, int iterations, int *col)
{
    // Variable declarations.
    int i, j, n, index;
    double cx, cy;
    double z0, z1, z0_tmp, z0_2, z1_2;

    // Loop within the grid.
    for (i = 0; i < size; i++)
    {
        cy = -1.5 + (double)i / size * 3;
        for (j = 0; j < size; j++)
        {
            // We initialize the loop of the system.
            cx = -2.0 + (double)j / size * 3;
            index = i * size + j;
            // Let's run the system.
            z0 = 0.0;
            z1 = 0.0;
            for (n = 0; n < iterations; n++)
            {
                z0_2 = z0 * z0;
                z1_2 = z1 * z1;
                if (z0_2 + z1_2 <= 100)
                {
                    // Update the system.
                    z0_tmp = z0_2 - z1_2 + cx;
                    z1 = 2 * z0 * z1 + cy;
                    z0 = z0_tmp;
                    col[index] = n;
                }
                else
                {
                    break;
                }
            }
        }
    }
}
"""

RECIPE = [
    "%%writefile mandelbrot.c\n" + MANDELBROT_C,
    "!gcc -shared -Wl,-soname,mandelbrot -o mandelbrot.so -fPIC mandelbrot.c",
    "import ctypes",
    "lib = ctypes.CDLL('./mandelbrot.so')",
    "mandelbrot = lib.mandelbrot",
    "from numpy.ctypeslib import ndpointer",
    "# Define the types of the output and arguments of\n"
    "# this function.\n"
    "mandelbrot.restype = None\n"
    "mandelbrot.argtypes = [ctypes.c_int, ctypes.c_int,\n"
    "                       ndpointer(ctypes.c_int),\n"
    "                       ]",
    "# We initialize an empty array.\n"
    "size = 400\n"
    "iterations = 100\n"
    "col = np.empty((size, size), dtype=np.int32)\n"
    "# We execute the C function, which will update\n"
    "# the array.\n"
    "mandelbrot(size, iterations, col)",
    "%timeit mandelbrot(size, iterations, col)",
]

KILN_VERSION = """
@njit
def mandelbrot_kiln(size, iterations):
    col = np.zeros((size, size), dtype=np.int32)
    for i in range(size):
        cy = -1.5 + i / size * 3
        for j in range(size):
            cx = -2.0 + j / size * 3
            z0 = 0.0
            z1 = 0.0
            for n in range(iterations):
                z0_2 = z0 * z0
                z1_2 = z1 * z1
                if z0_2 + z1_2 <= 100:
                    z0_tmp = z0_2 - z1_2 + cx
                    z1 = 2 * z0 * z1 + cy
                    z0 = z0_tmp
                    col[i, j] = n
                else:
                    break
    return col
"""

# A checksum that sees every pixel and where it is.
CHECKSUM = "int((col.astype(np.int64) * (np.arange(col.size) % 9973).reshape(col.shape)).sum())"


def result(msgs):
    for m in msgs:
        if m["msg_type"] == "execute_result":
            return m["content"]["data"]["text/plain"]
    return None


def test_the_recipe_runs_as_printed_and_matches_cpython_and_kiln(kernel, tmp_path):
    _, kc = kernel
    reply, _ = run(kc, f"%cd {tmp_path}")
    assert reply["status"] == "ok", reply
    for cell in RECIPE:
        reply, msgs = run(kc, cell)
        assert reply["status"] == "ok", (cell, reply)
    assert "per loop" in "".join(streams(msgs))
    # The display cell of the recipe draws a figure.
    reply, msgs = run(
        kc, "plt.imshow(np.log(col), cmap=plt.cm.hot)\nplt.xticks([])\nplt.yticks([])"
    )
    assert reply["status"] == "ok", reply
    assert any(
        m["msg_type"] == "display_data" and "image/png" in m["content"]["data"] for m in msgs
    ), [m["msg_type"] for m in msgs]
    _, msgs = run(kc, CHECKSUM)
    kiln_ctypes = int(result(msgs))
    # CPython's ctypes on the library the cells built.
    lib = ctypes.CDLL(os.path.join(tmp_path, "mandelbrot.so"))
    f = lib.mandelbrot
    f.restype = None
    f.argtypes = [ctypes.c_int, ctypes.c_int, ndpointer(ctypes.c_int)]
    col = np.empty((400, 400), dtype=np.int32)
    f(400, 100, col)
    expected = int((col.astype(np.int64) * (np.arange(col.size) % 9973).reshape(col.shape)).sum())
    assert kiln_ctypes == expected
    # The Kiln version of the same loop draws the same picture.
    reply, _ = run(kc, KILN_VERSION)
    assert reply["status"] == "ok", reply
    _, msgs = run(kc, "mine = mandelbrot_kiln(size, iterations)\n(mine == col).all()")
    assert result(msgs) == "True"


def test_a_c_cell_and_a_crash_in_it(kernel, tmp_path):
    _, kc = kernel
    reply, _ = run(
        kc,
        "%%c\n"
        "double mean(const double *x, long n) {\n"
        "    double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s / n;\n"
        "}\n"
        "int deref(int *p) { return *p; }\n",
    )
    assert reply["status"] == "ok", reply
    _, msgs = run(kc, "mean(np.arange(10.0), 10)")
    assert result(msgs) == "4.5"
    reply, _ = run(kc, "deref(None)")
    assert reply["status"] == "error"
    assert reply["ename"] == "ForeignCrash", reply
    assert "SIGSEGV" in reply["evalue"] and "deref" in reply["evalue"]
    # The kernel is alive, its globals intact.
    _, msgs = run(kc, "mean(np.array([1.0, 2.0]), 2)")
    assert result(msgs) == "1.5"
    reply, _ = run(kc, "%%c\nint broken(int x) { return x + ; }\n")
    assert reply["status"] == "error"
    assert reply["ename"] == "CompileError"
    assert "<cell>:1:" in "\n".join(reply["traceback"])
