#!/usr/bin/env python3
"""Differential tester of Kiln's C calls against CPython's ctypes.

    tests/difftest/ctypes_diff.py                  # seeds 0..20
    tests/difftest/ctypes_diff.py --seeds 0..200   # more, on demand
    tests/difftest/ctypes_diff.py --seeds 7 -v     # one seed, printing every call compared
    tests/difftest/ctypes_diff.py --show 7         # seed 7's C source and its calls

Seeds `A..B` are the half-open range [A, B). For each seed it generates a C file of random
functions: 1-6 (and some of 9-13) parameters of random C scalar types (char, signed and
unsigned char, short, int, long, long long and their unsigned forms, the <stdint.h> names,
float, double, _Bool/bool), a random scalar or void return, bodies that expose ABI mistakes
(every parameter's bits hashed in order, so a missing sign or zero extension, a truncation,
a float passed as a double or a swapped or misplaced stack argument changes the result; or
one parameter returned converted to the return type; or, on x86-64, the low 32 bits of the
register a narrow integer came in, which callers must extend), and a few functions that read
and write `double *`, `float *`, `int *`, `unsigned char *` and `const long *` arrays. It
compiles the file once (gcc -O1 -shared -fPIC), then makes random calls with adversarial
arguments (0, -1, the int32/uint32/int64 limits, 2**40+3, 255, 256, -129, -0.0, 1e300, nan,
inf, float32's limits and halfway points, integers that round twice on their way to a
float32, True/False, NumPy scalars, ctypes instances (`c_short(-1)`, of the parameter's
type or of another one), results of other C calls, arrays of the wrong dtype or not
contiguous, too few and too many arguments) three ways:

  (a) CPython's ctypes, argtypes/restype declared from the prototype (arrays through
      np.ctypeslib.ndpointer(dtype, flags='C_CONTIGUOUS')) - the oracle;
  (b) `kiln run` of a .kiln file making the same declarations and the same calls;
  (c) `kiln run` of a .kiln file whose first cell is `%%c` with the same source (functions
      called by their prototypes, nothing declared).

Each call is its own cell, printing `repr()` of its result (and the elements of its arrays
after the call, or for a void function the value its body left in a global); its arguments
are literals, or variables assigned first, or the call is made in a loop or inside a def.
Arrays are passed whole, as a contiguous view from an offset (`x[2:]`) or reshaped to 2-D.
The outputs must be identical text (so NaN equals NaN, floats compare by repr). A call that
raises in CPython must raise the same exception type with the same message in Kiln; `kiln
run` stops at a failing cell, so the file is run again from the next call. Exit status 1 on
any mismatch, each printed with its seed and `--repro SEED:CALL`, which prints a standalone
.kiln file of the one function and the one call.

Known differences, encoded here as expected (not reported):
  * Kiln's integers are int64: an `unsigned long` / `uint64_t` / `unsigned long long`
    result of 2**63 or more prints as the negative int64 with the same bits (the oracle
    wraps it). For the same reason no argument is outside int64.
  * `c_void_p` as a restype gives an int in Kiln (0 for NULL), None in ctypes; the
    generated functions return no pointers, so this never shows here.
  * C `char` is declared `c_byte` in the oracle and in (b): ctypes' `c_char` is a bytes
    type (it returns b'A' and refuses 300), which Kiln's c_char is not (an int8).
  * Kiln's `c_int(v)` is an int: in a variable it passes as any type (ctypes refuses a
    c_int instance for a c_double); a ctypes instance is only written in the call here.
    Likewise np.bool_ is bool (ctypes refuses it for an integer), so it is not generated.
  * CPython's ctypes ignores keyword arguments (`f(a=1)` calls f with none); Kiln raises
    TypeError. Not generated.
"""
import argparse
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KILN_TIMEOUT_S = 60
ERROR_LINE = re.compile(r"^([A-Z]\w*(?:Error|Exception|Crash))(?:: (.*))?$")

# C type -> (ctypes name, kind, bits); kind: 'i' signed, 'u' unsigned, 'b' bool, 'f' float
CTYPES = {
    "char": ("c_byte", "i", 8),
    "signed char": ("c_byte", "i", 8),
    "unsigned char": ("c_ubyte", "u", 8),
    "short": ("c_short", "i", 16),
    "unsigned short": ("c_ushort", "u", 16),
    "int": ("c_int", "i", 32),
    "unsigned int": ("c_uint", "u", 32),
    "long": ("c_long", "i", 64),
    "unsigned long": ("c_ulong", "u", 64),
    "long long": ("c_longlong", "i", 64),
    "unsigned long long": ("c_ulonglong", "u", 64),
    "float": ("c_float", "f", 32),
    "double": ("c_double", "f", 64),
    "_Bool": ("c_bool", "b", 8),
    "bool": ("c_bool", "b", 8),
    "int8_t": ("c_int8", "i", 8),
    "uint8_t": ("c_uint8", "u", 8),
    "int16_t": ("c_int16", "i", 16),
    "uint16_t": ("c_uint16", "u", 16),
    "int32_t": ("c_int32", "i", 32),
    "uint32_t": ("c_uint32", "u", 32),
    "int64_t": ("c_int64", "i", 64),
    "uint64_t": ("c_uint64", "u", 64),
}
SCALARS = list(CTYPES)
FLOATS = ["float", "double"]

# Adversarial values, as source text that CPython and Kiln both read the same way.
INT_VALUES = [
    "0", "1", "-1", "2", "7", "127", "128", "-128", "-129", "255", "256", "65535", "65536",
    "-32768", "-32769", "2147483647", "-2147483648", "2147483648", "4294967295",
    "4294967296", "1099511627779",  # 2**40 + 3
    "9223372036854775807", "(-9223372036854775807 - 1)", "-4294967297", "305419896",
    "-2128394904", "16777217", "9007199254740993",  # 2**24+1, 2**53+1
    "1152921573326323713",  # 2**60 + 2**36 + 1: rounds twice on its way to a float32
    "True", "False",
]
FLOAT_VALUES = [
    "0.0", "-0.0", "0.5", "-1.5", "1.0", "-1.0", "0.1", "1e300", "-1e300", "5e-324",
    "np.nan", "np.inf", "-np.inf", "3.4028234663852886e+38",
    "3.4028235677973366e+38", "-3.4028235677973362e+38", "1.1754943508222875e-38",
    "1.401298464324817e-45", "7.006492321624085e-46", "7.006492321624087e-46",
    "16777217.0", "1.0000000596046448", "2147483648.0", "-2147483649.5", "1e10",
    "255.9", "-0.7",
]
NUMPY_VALUES = ["np.float32(0.1)", "np.float32(-2.5)", "np.int32(-7)", "np.int64(2147483648)",
                "np.uint8(200)", "np.float64(1e300)"]
NUMPY_INTS = ["np.int32(-7)", "np.int64(2147483648)", "np.uint8(200)", "np.int16(-300)"]

POINTER_KINDS = {
    # C element type -> (numpy dtype, element literal values, element kind)
    "double": ("np.float64", FLOAT_VALUES + ["3.0", "-2.25"], "f"),
    "float": ("np.float32", ["0.0", "-0.0", "0.5", "1.5", "-3.25", "1e30", "np.inf",
                             "np.nan", "1.1754943508222875e-38"], "f"),
    "int": ("np.int32", ["0", "1", "-1", "2147483647", "-2147483648", "12345", "-7"], "i"),
    "unsigned char": ("np.uint8", ["0", "1", "127", "128", "255", "200", "17"], "i"),
    "long": ("np.int64", ["0", "-1", "9223372036854775807", "(-9223372036854775807 - 1)",
                          "4294967296", "-3", "1099511627779"], "i"),
}

PRELUDE_C = """#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <math.h>

static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint64_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t mix(uint64_t h, uint64_t v, uint64_t k) {
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2) + k;
    return h * 0x100000001B3ULL;
}
static uint64_t g_last = 0;
int64_t last_hash(void) { return (int64_t)g_last; }
"""


class Func:
    def __init__(self, name, ret, params, kind):
        self.name, self.ret, self.params, self.kind = name, ret, params, kind

    def prototype(self):
        ps = ", ".join(f"{' '.join(t)} *a{i}" if isinstance(t, tuple) else f"{t} a{i}"
                       for i, t in enumerate(self.params)) or "void"
        return f"{self.ret} {self.name}({ps})"


def ptr(t):
    return isinstance(t, tuple)


def u64_of(t, a):
    kind = CTYPES[t][1]
    if t == "double":
        return f"dbits({a})"
    if t == "float":
        return f"fbits({a})"
    if kind == "i":
        return f"(uint64_t)(int64_t){a}"
    return f"(uint64_t){a}"


def from_hash(ret, h):
    kind = CTYPES[ret][1]
    if kind == "f":
        return f"({ret})((double)(int64_t){h} * 0x1p-23)"
    if kind == "b":
        return f"({ret})(({h} >> 17) & 1)"
    return f"({ret}){h}"


EXT_TYPES = ["char", "signed char", "unsigned char", "short", "unsigned short", "_Bool",
             "int8_t", "uint8_t", "int16_t", "uint16_t", "int", "unsigned int"]


def c_body(f, rng):
    if f.kind == "pointer":
        return pointer_body(f, rng)
    if f.kind == "ext":
        # The low 32 bits of the register the first argument came in: x86-64 callers extend
        # a narrow integer to 32 bits (clang-compiled code relies on it); libffi does.
        return ["#if defined(__x86_64__)", "int32_t r;", "(void)a0;",
                '__asm__ volatile ("movl %%edi, %0" : "=r"(r));', "return r;",
                "#else", "return a0;", "#endif"]
    lines = []
    if f.kind == "pick":
        k = rng.randrange(len(f.params))
        t, r = f.params[k], f.ret
        a = f"a{k}"
        if r == "void":
            lines.append(f"g_last = {u64_of(t, a)};")
        elif CTYPES[t][1] == "f" and CTYPES[r][1] in "iu":
            lines.append(f"return isfinite({a}) && fabs({a}) < 1e15 ? ({r})(int64_t){a} : ({r})-7;")
        else:
            lines.append(f"return ({r}){a};")
        return lines
    # mix: every parameter's bits, in order; float parameters also through arithmetic
    lines.append(f"uint64_t h = {rng.randrange(1, 1 << 32)}ULL;")
    has_float = any(CTYPES[t][1] == "f" for t in f.params)
    if has_float:
        lines.append("double s = 0.0;")
    for i, t in enumerate(f.params):
        lines.append(f"h = mix(h, {u64_of(t, f'a{i}')}, {i});")
        if CTYPES[t][1] == "f":
            lines.append(f"s = s * 0.75 + a{i};")
    r = f.ret
    if r == "void":
        lines.append("g_last = h;")
    elif CTYPES[r][1] == "f" and has_float and rng.random() < 0.5:
        lines.append(f"return ({r})(s + (double)(h >> 40));")
    else:
        lines.append(f"return {from_hash(r, 'h')};")
    return lines


def pointer_body(f, rng):
    el = f.params[0][1] if f.params[0][0] == "const" else f.params[0][0]
    k = rng.randrange(2, 9)
    if el == "double":
        return ["double t = 0;", "for (int i = 0; i < a1; i++) { t += a0[i] * (i + 1); "
                f"a0[i] = a0[i] * a2 + i - {k}; }}", "return t;"]
    if el == "float":
        return ["double t = 0;", "for (int i = 0; i < a1; i++) { t += a0[i]; "
                f"a0[i] = a0[i] * a2 - (float){k} / 3; }}", "return (float)t;"]
    if el == "int":
        return ["unsigned t = 1;", "for (int i = 0; i < a1; i++) { t = t * 31u + (unsigned)a0[i]; "
                f"a0[i] = (int)((unsigned)a0[i] * (unsigned)a2 + {k}u * i); }}", "return (int)t;"]
    if el == "unsigned char":
        return ["long t = 0;", "for (int i = 0; i < a1; i++) { t = t * 7 + a0[i]; "
                f"a0[i] = (unsigned char)(a0[i] + a2 + {k}); }}", "return t;"]
    # const long *
    return ["uint64_t h = 5;", "for (int i = 0; i < a1; i++) h = mix(h, (uint64_t)a0[i], i);",
            "return (long long)(h >> (a2 & 31));"]


POINTER_SIGS = {
    "double": ("double", ["int", "double"]),
    "float": ("float", ["int", "float"]),
    "int": ("int", ["int", "int"]),
    "unsigned char": ("long", ["int", "unsigned char"]),
    "long": ("long long", ["int", "signed char"]),
}


def generate(seed, n_funcs=None):
    rng = random.Random(seed)
    funcs = []
    n = n_funcs or rng.randrange(8, 14)
    for i in range(n):
        r = rng.random()
        if r < 0.2:
            el = rng.choice(list(POINTER_KINDS))
            ret, rest = POINTER_SIGS[el]
            p0 = ("const", "long") if el == "long" else (el,)
            funcs.append(Func(f"p{i}", ret, [p0] + rest, "pointer"))
            continue
        if r < 0.27:
            funcs.append(Func(f"e{i}", "int32_t", [rng.choice(EXT_TYPES)], "ext"))
            continue
        nparams = rng.randrange(9, 14) if r < 0.4 else rng.randrange(1, 7)
        if r < 0.3:  # many floats and many ints at once: some go on the stack
            params = [rng.choice(FLOATS if rng.random() < 0.5 else SCALARS) for _ in range(nparams)]
        else:
            params = [rng.choice(SCALARS) for _ in range(nparams)]
        ret = rng.choice(SCALARS + ["void"])
        kind = "pick" if rng.random() < 0.3 else "mix"
        funcs.append(Func(f"f{i}", ret, params, kind))
    src = [PRELUDE_C]
    for f in funcs:
        f.text = f.prototype() + " {\n    " + "\n    ".join(c_body(f, rng)) + "\n}\n"
        src.append(f.text)
    return funcs, "\n".join(src), rng


def arg_value(t, rng):
    """An argument for a parameter of C type t: mostly of its own kind."""
    kind = CTYPES[t][1]
    x = rng.random()
    if x < 0.05:
        return rng.choice(NUMPY_VALUES if kind in "fb" else NUMPY_INTS)
    if kind == "f":
        return rng.choice(FLOAT_VALUES if x < 0.75 else INT_VALUES)
    if kind == "b":
        return rng.choice(INT_VALUES if x < 0.7 else FLOAT_VALUES)
    return rng.choice(INT_VALUES)


def wrong_value(t, rng):
    """An argument ctypes refuses for a scalar of type t (for integers: a float or None)."""
    if CTYPES[t][1] in "iu":
        return rng.choice(["0.5", "-0.0", "np.nan", "1e300", "None", "np.float32(1.0)"])
    return rng.choice(["None", "np.zeros(2)"])


class Call:
    def __init__(self, setup, expr, show, fname=None, nargs=None):
        self.fname = fname or expr.split("(")[0]  # the C function called
        self.nargs = nargs  # how many arguments the call passes
        self.setup = setup  # lines before the call (arrays)
        self.expr = expr  # the call
        self.show = show  # lines printed after the call

    def cell(self, i):
        lines = [f"print('# call {i}')"] + self.setup + [f"r = {self.expr}", "print(repr(r))"]
        return "\n".join(lines + self.show) + "\n"


def array_call(f, rng, bad):
    el = f.params[0][1] if f.params[0][0] == "const" else f.params[0][0]
    dtype, vals, ekind = POINTER_KINDS[el]
    size = rng.randrange(1, 7)
    elems = [rng.choice(vals) for _ in range(size)]
    setup = [f"x = np.array([{', '.join(elems)}], dtype={dtype})"]
    arg = "x"
    n = rng.randrange(0, size + 1)
    v = rng.random()
    if not bad and v < 0.2 and size > 1:  # a contiguous view from an offset: its own address
        k = rng.randrange(1, size)
        arg, n = f"x[{k}:]", rng.randrange(0, size - k + 1)
    elif not bad and v < 0.35:  # two dimensions, one block of memory
        arg = f"x.reshape(1, {size})"
    if bad == "dtype":
        other = rng.choice([d for d in ["np.float64", "np.float32", "np.int32", "np.uint8", "np.int64"] if d != dtype])
        setup = [f"x = np.zeros({size}, dtype={other})"]
        n = 0
    elif bad == "strided":
        setup = [f"x = np.zeros({2 * size}, dtype={dtype})"]
        arg = "x[::2]"
        n = 0
    scalar_t = f.params[2]
    third = arg_value(scalar_t, rng)
    if CTYPES[scalar_t][1] in "iu" and ("." in third or "e" in third or "nan" in third or "inf" in third or "float" in third):
        third = "3"
    conv = "float" if ekind == "f" else "int"
    show = [f"print({', '.join(f'repr({conv}(x[{j}]))' for j in range(size))})"]
    if bad:
        show = []
    return Call(setup, f"{f.name}({arg}, {n}, {third})", show, nargs=3)




def styled(i, name, args, rng, void=False):
    """A call with literal arguments, or with them in variables first, or made from inside
    a function (compiled apart from the cell)."""
    call = styled_call(i, name, args, rng, void)
    call.nargs = len(args)
    return call


def styled_call(i, name, args, rng, void):
    x = rng.random()
    if x < 0.6:
        return Call([], f"{name}({', '.join(args)})", [])
    if x < 0.8:
        names = [a if a.startswith("ctypes.") else f"v{i}_{k}" for k, a in enumerate(args)]
        setup = [f"{n} = {a}" for n, a in zip(names, args) if n != a]
        return Call(setup, f"{name}({', '.join(names)})", [])
    if x < 0.92:  # in a loop, three times
        # (a name of its own: Kiln gives a name that a loop assigns one type, the join of
        # its types before and in the loop, where Python's is the last value's)
        return Call([f"for j in range(3):", f"    r{i} = {name}({', '.join(args)})"], f"r{i}", [],
                    fname=name)
    ret = "return "
    setup = [f"def call{i}():", f"    {ret}{name}({', '.join(args)})"]
    return Call(setup, f"call{i}()", [], fname=name)


def construct(f, args, rng):
    """One argument written as a ctypes instance: mostly of the parameter's own type (or an
    alias of it), else of another type (which ctypes refuses, but for c_bool)."""
    ks = [k for k, t in enumerate(f.params) if t != "char"]
    if not ks:
        return
    k = rng.choice(ks)
    t = f.params[k]
    if rng.random() < 0.7:
        name = CTYPES[t][0]
        u = t
    else:
        u = rng.choice([u for u in SCALARS if u != "char"])
        name = CTYPES[u][0]
    value = arg_value(u, rng)
    if rng.random() < 0.1:  # a value the constructor refuses (a float for an integer type)
        value = rng.choice(["0.5", "None", "np.float32(1.0)", "-0.0"])
    args[k] = f"ctypes.{name}({value})"


def nest(funcs, f, args, rng):
    """One argument replaced by a call of another C function (its result passed on)."""
    k = rng.randrange(len(args))
    want = CTYPES[f.params[k]][1]
    inner = []
    for g in funcs:
        if g.kind == "pointer" or g.ret == "void":
            continue
        kind, bits = CTYPES[g.ret][1], CTYPES[g.ret][2]
        # A float result is refused by an integer parameter; an unsigned 64-bit one is a
        # negative int in Kiln (a known difference), so it goes only to integers.
        if kind == "f" and want in "iu" or (kind == "u" and bits == 64 and want == "f"):
            continue
        inner.append(g)
    if inner:
        g = rng.choice(inner)
        args[k] = f"{g.name}({', '.join(arg_value(t, rng) for t in g.params)})"


def make_calls(funcs, rng, n_calls, n_errors):
    calls = []
    for _ in range(n_calls):
        f = rng.choice(funcs)
        if f.kind == "pointer":
            calls.append(array_call(f, rng, None))
            continue
        args = [arg_value(t, rng) for t in f.params]
        if rng.random() < 0.15:
            nest(funcs, f, args, rng)
        if rng.random() < 0.15:
            construct(f, args, rng)
        if rng.random() < 0.04:
            args.append(rng.choice(["7", "-1", "True", "2.5"]))
        call = styled(len(calls), f.name, args, rng, void=f.ret == "void")
        if f.ret == "void":  # its effect, in the same cell (a rerun starts a new process)
            call.show = ["print(repr(last_hash()))"]
        calls.append(call)
    for _ in range(n_errors):
        f = rng.choice(funcs)
        how = rng.random()
        if f.kind == "pointer" and how < 0.7:
            calls.insert(rng.randrange(len(calls) + 1), array_call(f, rng, rng.choice(["dtype", "strided"])))
            continue
        args = [arg_value(t, rng) if not ptr(t) else "x" for t in f.params]
        setup = ["x = np.zeros(4)"] if f.kind == "pointer" else []
        if how < 0.8 and not f.kind == "pointer":
            k = rng.randrange(len(args))
            args[k] = wrong_value(f.params[k], rng)
            if k + 1 < len(args) and rng.random() < 0.3:
                # every argument is evaluated before any is converted: this one raises first
                args[rng.randrange(k + 1, len(args))] = "ctypes.c_int(0.5)"
        else:
            args = args[: rng.randrange(len(args))]
        calls.insert(rng.randrange(len(calls) + 1),
                     Call(setup, f"{f.name}({', '.join(args)})", [], nargs=len(args)))
    return calls


# ----- running ------------------------------------------------------------------------------

def ctypes_decls(funcs, libpath, kiln):
    out = ["import ctypes", "import numpy as np", "from numpy.ctypeslib import ndpointer",
           f"lib = ctypes.CDLL({str(libpath)!r})", "last_hash = lib.last_hash",
           "last_hash.restype = ctypes.c_int64", "last_hash.argtypes = []"]
    for f in funcs:
        out.append(f"{f.name} = lib.{f.name}")
        out.append(f"{f.name}.restype = " + ("None" if f.ret == "void" else f"ctypes.{CTYPES[f.ret][0]}"))
        types = []
        for t in f.params:
            if ptr(t):
                el = t[1] if t[0] == "const" else t[0]
                types.append(f"ndpointer(dtype={POINTER_KINDS[el][0]}, flags='C_CONTIGUOUS')")
            else:
                types.append(f"ctypes.{CTYPES[t][0]}")
        out.append(f"{f.name}.argtypes = [{', '.join(types)}]")
    return "\n".join(out) + "\n"


ORACLE_WRAP = r'''
import sys, traceback
def _u64(f):
    # Kiln's ints are int64: an unsigned 64-bit result above 2**63 is its int64 bits there.
    def g(*a):
        r = f(*a)
        return r - (1 << 64) if isinstance(r, int) and r >= (1 << 63) else r
    return g
'''


def oracle_program(funcs, libpath, calls):
    text = ctypes_decls(funcs, libpath, False) + ORACLE_WRAP
    for f in funcs:
        if f.ret != "void" and CTYPES[f.ret][0] in ("c_ulong", "c_ulonglong", "c_uint64"):
            text += f"{f.name} = _u64({f.name})\n"
    for i, c in enumerate(calls):
        body = c.cell(i)
        text += "try:\n" + "".join("    " + l + "\n" for l in body.splitlines())
        text += ("except Exception as e:\n"
                 "    m = str(e).replace(\"<class 'TypeError'>: \", 'TypeError: ')\n"
                 "    print('!! ' + type(e).__name__ + ': ' + m)\n")
    return text


def split_calls(stdout):
    """stdout of one run -> {call index: its lines}."""
    out, cur = {}, None
    for line in stdout.splitlines():
        m = re.fullmatch(r"# call (\d+)", line)
        if m:
            cur = int(m.group(1))
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def run_oracle(funcs, libpath, calls, py):
    text = oracle_program(funcs, libpath, calls)
    p = subprocess.run([py, "-c", text], capture_output=True, text=True, timeout=120)
    if p.returncode:
        raise RuntimeError(f"the oracle failed:\n{p.stderr}")
    res = split_calls(p.stdout)
    return [res.get(i, []) for i in range(len(calls))]


def kiln_error(stderr):
    for line in reversed(stderr.splitlines()):
        m = ERROR_LINE.match(line.strip())
        if m:
            return f"!! {m.group(1)}: {m.group(2) or ''}".rstrip()
    return None


HEAD_OK = "print('# head ok')\n"


def run_kiln_mode(kiln, head, calls, workdir, env):
    """Runs the calls as cells after `head`, again from the next call after each failing
    one: {call index: its lines (an error as '!! Type: message')}."""
    results = {}
    start = 0
    path = workdir / "prog.kiln"
    while start < len(calls):
        cells = [head, HEAD_OK] + [calls[i].cell(i) for i in range(start, len(calls))]
        path.write_text("\n# %%\n".join(cells))
        try:
            p = subprocess.run([kiln, "run", str(path)], capture_output=True, text=True,
                               timeout=KILN_TIMEOUT_S, env=env)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = None, "", f"timed out after {KILN_TIMEOUT_S} s"
        got = split_calls(out)
        if rc == 0:
            for i in range(start, len(calls)):
                results[i] = got.get(i, ["(no output)"])
            break
        e = kiln_error(err) if rc == 1 else None
        if e is None:
            e = f"!! CRASH (exit {rc}): " + " | ".join(err.strip().splitlines()[-3:])
        if "# head ok" not in out:
            for i in range(start, len(calls)):
                results[i] = [f"!! the declarations cell failed: {e}"]
            break
        # The failing call: the last one that printed its marker, if it did not finish;
        # else the next one (an error while compiling its cell, before its marker).
        printed = [i for i in got if i >= start]
        last = max(printed) if printed else start - 1
        for i in range(start, last):
            results[i] = got[i]
        if last >= start and len(got[last]) < 1 + len(calls[last].show):
            fail = last
            results[fail] = got[last] + [e]
        else:
            if last >= start:
                results[last] = got[last]
            fail = last + 1
            if fail < len(calls):
                results[fail] = [e]
        start = fail + 1
    return results


def c_cell_expectation(c, n, want):
    """What a `%%c` function answers where ctypes' differs: it takes exactly its prototype's
    arguments (Kiln's TypeError, after the arguments are evaluated), where a ctypes function
    takes more than its argtypes and converts the rest by default."""
    if c.nargs is None or n is None or c.nargs == n:
        return want
    last = want[-1] if want else ""
    # An error while the arguments were evaluated (a ctypes constructor's, an inner call's)
    # comes first in both.
    if last.startswith("!!") and "ArgumentError" not in last and "this function takes" not in last:
        return want
    s = "" if n == 1 else "s"
    return [f"!! TypeError: {c.fname}() takes {n} argument{s} ({c.nargs} given)"]


def check_seed(seed, kiln, py, verbose=False, keep=None):
    funcs, src, calls = plan(seed)
    work = Path(tempfile.mkdtemp(prefix=f"kiln-cdiff-{seed}-"))
    try:
        (work / "gen.c").write_text(src)
        lib = work / "libgen.so"
        cc = subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(lib), str(work / "gen.c"), "-lm"],
                            capture_output=True, text=True)
        if cc.returncode:
            raise RuntimeError(f"seed {seed}: gcc failed:\n{cc.stderr}")
        want = run_oracle(funcs, lib, calls, py)
        arity = {f.name: len(f.params) for f in funcs}
        env = {**os.environ, "KILN_CACHE_DIR": str(work / "cache"), "RAYON_NUM_THREADS": "1"}
        heads = {
            "ctypes": ctypes_decls(funcs, lib, True),
            "%%c": "%%c -O1 -lm\n" + src,
        }
        mismatches = []
        for mode, head in heads.items():
            got = run_kiln_mode(kiln, head, calls, work, env)
            for i, c in enumerate(calls):
                g = got.get(i, ["(not run)"])
                w = want[i]
                if mode == "%%c":
                    w = c_cell_expectation(c, arity.get(c.fname), w)
                if g != w:
                    mismatches.append((mode, i, c, w, g))
                elif verbose:
                    print(f"  seed {seed} [{mode}] {c.expr} -> {' | '.join(g)}")
        for mode, i, c, w, g in mismatches:
            print(f"MISMATCH seed {seed} [{mode}] call {i}: {c.expr}")
            print(f"    ctypes: {' | '.join(w)}")
            print(f"    kiln:   {' | '.join(g)}")
            print(f"    C: {next((f.prototype() for f in funcs if f.name == c.fname), '')}")
            print(f"    reproduce: tests/difftest/ctypes_diff.py --repro {seed}:{i} --mode {mode} > r.kiln; "
                  f"kiln run r.kiln")
        return len(calls) * len(heads), mismatches
    finally:
        if keep:
            dst = Path(keep) / f"seed{seed}"
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(work, dst)
        shutil.rmtree(work, ignore_errors=True)


def plan(seed):
    funcs, src, rng = generate(seed)
    calls = make_calls(funcs, rng, n_calls=rng.randrange(30, 45), n_errors=rng.randrange(2, 5))
    return funcs, src, calls


def reproducer(seed, index, mode):
    """A standalone .kiln file for one call: the C functions it calls (with the helpers
    every function uses), compiled and declared as `mode` does it, and the call's cell."""
    funcs, _, calls = plan(seed)
    call = calls[index]
    text = "\n".join(call.setup + [call.expr])
    used = [f for f in funcs if re.search(rf"\b{f.name}\(", text)]
    src = PRELUDE_C + "\n" + "".join(f.text for f in used)
    if mode == "%%c":
        cells = ["%%c -O1 -lm\n" + src]
    else:
        tmp = Path(tempfile.gettempdir())
        c, so = tmp / f"kiln-cdiff-repro{seed}.c", tmp / f"kiln-cdiff-repro{seed}.so"
        cells = [f"%%writefile {c}\n" + src, f"!gcc -O1 -shared -fPIC -o {so} {c} -lm",
                 ctypes_decls(used, so, True)]
    cells.append(call.cell(index))
    return "\n# %%\n".join(cells)


def seeds_of(text):
    if ".." in text:
        a, b = text.split("..")
        return range(int(a), int(b))
    return range(int(text), int(text) + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0..20", help="A..B (half-open) or one seed")
    ap.add_argument("--show", type=int, metavar="SEED", help="print this seed's C source and calls")
    ap.add_argument("--kiln", default=str(ROOT / "target" / "release" / "kiln"))
    ap.add_argument("--python", default=sys.executable, help="the CPython (with NumPy) of the oracle")
    ap.add_argument("--keep", metavar="DIR", help="keep each seed's files (C, library, last .kiln) here")
    ap.add_argument("--repro", metavar="SEED:CALL", help="print a standalone .kiln file for one call")
    ap.add_argument("--mode", default="%%c", choices=["%%c", "ctypes"], help="for --repro")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.repro:
        seed, index = map(int, args.repro.split(":"))
        print(reproducer(seed, index, args.mode))
        return 0
    if args.show is not None:
        funcs, src, calls = plan(args.show)
        print(src)
        for i, c in enumerate(calls):
            print(f"# call {i}: " + "; ".join(c.setup + [c.expr]))
        return 0
    if not Path(args.kiln).exists():
        print(f"ctypes_diff: no {args.kiln}; build it with `cargo build --release -p kiln-kernel`")
        return 2
    if shutil.which("gcc") is None:
        print("ctypes_diff: needs gcc")
        return 2
    total, bad = 0, 0
    for seed in seeds_of(args.seeds):
        n, mism = check_seed(seed, args.kiln, args.python, args.verbose, args.keep)
        total += n
        bad += len(mism)
    print(f"ctypes_diff: {total} calls compared ({len(seeds_of(args.seeds))} seeds, ctypes and %%c), "
          f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
