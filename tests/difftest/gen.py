"""A seeded generator of random, well-typed Kiln programs (SPEC §1-7).

`program(seed)` returns the text of a `.kiln` file: a few cells (split on `# %%` lines) that
both Kiln and CPython + NumPy can run. Everything is generated typed: the generator keeps an
environment of the variables in scope with their Kiln types (and, for arrays, their exact
shapes and which buffer they view), and builds expressions of a wanted type, so every
variable keeps one type (SPEC §2) and every index stays in range.

What the programs stay away from, because the two sides are allowed to differ there:
- Python ints have no overflow; Kiln's wrap (SPEC §2). The oracle notices a Python int
  leaving i64's range and drops the program (`oracle.py`), so the generator does not need to
  bound magnitudes exactly, only keep them small enough that most programs survive.
- `i64 ** negative` (a ValueError in Kiln, a float in Python): exponents are literals 0-3.
- Float division by zero (IEEE in Kiln, ZeroDivisionError in Python): float divisors have
  the form `abs(e) + 1.0`. Integer divisors are `e % k + 1` or a non-zero literal, except
  the deliberate `// 0` checks, which compare the ZeroDivisionError itself.
- A name first assigned inside a block is not used after the block (Python would see it
  after a loop that ran, Kiln's `@par` bodies keep it private; SPEC §13).
- An `f32` meets only `f32` values and literals: a Python float variable is a weak scalar to
  NumPy (the result stays `f32`) but a typed `f64` to Kiln (the result is `f64`, SPEC §13).
- `min`/`max` of a bool and a number: Python returns the bool object itself (`min(10.0,
  True)` is `True`), Kiln's typed result is the number (`1.0`).
- Constructs it does not generate: lists, boolean-mask indexing, `c128(re, im)`, sorting
  (run tests 66 and 69-75 cover them against the same oracle).
- Narrow integer arrays (`np.int8` ... `np.uint32`) appear in whole-array expressions,
  views, slice stores of arrays, reductions and prints only: an element read from one is a
  NumPy scalar of that type (it wraps) but an i64 in Kiln (as in Numba), and a Python int
  stored into one raises OverflowError on both sides when it does not fit (so random
  element stores would mostly test that). Their literals stay in 0..5, inside every type.
"""
import random
import re

INT, FLOAT, BOOL, COMPLEX, F32 = "int", "float", "bool", "complex", "f32"
SCALARS = (INT, FLOAT, BOOL, COMPLEX, F32)
# Array element types the generator uses, by Kiln dtype name, and their elements' types.
ADTYPES = ("i64", "f64", "f64", "i64", "f32", "narrow")
NARROW = ("int8", "int16", "int32", "uint8", "uint16", "uint32")
ELEMENT = {"i64": INT, "f64": FLOAT, "f32": F32}
SCALAR_CHOICES = [INT, INT, FLOAT, FLOAT, BOOL, COMPLEX, F32]


class Arr:
    """An array variable: dtype, exact shape, and the buffer (base) it views."""

    def __init__(self, dtype, shape, base):
        self.dtype, self.shape, self.base = dtype, tuple(shape), base

    @property
    def ndim(self):
        return len(self.shape)


class Func:
    def __init__(self, name, params, ret):
        self.name, self.params, self.ret = name, params, ret  # ret: a scalar type or a tuple


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.counter = 0
        self.funcs = []
        self.lines = []
        self.in_function = False

    # ---- helpers -------------------------------------------------------------------------
    def fresh(self, prefix):
        self.counter += 1
        name = f"{prefix}{self.counter}"
        if name in ("f32", "f64", "i64", "c128", "e1"):  # builtins and a float literal's look
            return self.fresh(prefix)
        return name

    def chance(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return self.r.choice(list(seq))

    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    # ---- scalar expressions --------------------------------------------------------------
    def scalar_vars(self, env, ty):
        return [n for n, t in env.items() if t == ty]

    def arrays(self, env, dtype=None, ndim=None, narrow=False):
        """Arrays in scope of `dtype` (any, if None: narrow integer ones only if `narrow`)."""
        return [
            (n, t)
            for n, t in env.items()
            if isinstance(t, Arr) and (t.dtype == dtype if dtype is not None
                                       else narrow or t.dtype not in NARROW)
            and (ndim is None or t.ndim == ndim)
        ]

    def index_expr(self, env, n, depth):
        """An int expression in range(-n, n), for indexing an axis of length n."""
        k = self.r.randrange(4)
        if k == 0:
            return str(self.r.randrange(-n, n))
        if k == 1 and self.scalar_vars(env, INT):
            return f"{self.pick(self.scalar_vars(env, INT))} % {n}"
        return f"({self.expr(env, INT, depth + 1)}) % {n}"

    def element(self, env, dtype, depth):
        arrs = self.arrays(env, dtype)
        if not arrs:
            return None
        name, a = self.pick(arrs)
        idx = ", ".join(self.index_expr(env, n, depth) for n in a.shape)
        return f"{name}[{idx}]"

    def call(self, env, ty, depth):
        fs = [f for f in self.funcs if f.ret == ty]
        if not fs or depth > 2:
            return None
        f = self.pick(fs)
        args = [self.expr(env, p, depth + 1) for p in f.params]
        return f"{f.name}({', '.join(args)})"

    def expr(self, env, ty, depth=0):
        leaf = depth >= 3 or self.chance(0.25 + 0.15 * depth)
        if ty == INT:
            return self.int_expr(env, depth, leaf)
        if ty == FLOAT:
            return self.float_expr(env, depth, leaf)
        if ty == BOOL:
            return self.bool_expr(env, depth, leaf)
        if ty == F32:
            return self.f32_expr(env, depth, leaf)
        return self.complex_expr(env, depth, leaf)

    def f32_expr(self, env, depth, leaf):
        vs = self.scalar_vars(env, F32)
        lit = lambda: self.pick(["0.5", "1.5", "-0.1", "3.0", "0.3", "2.0"])  # noqa: E731
        if leaf:
            if vs and self.chance(0.6):
                return self.pick(vs)
            return f"f32({lit()})"
        g = lambda: self.expr(env, F32, depth + 1)  # noqa: E731
        k = self.r.randrange(9)
        if k < 2:
            return f"({g()} {self.pick('+-*')} {g()})"
        if k == 2:
            return f"({g()} {self.pick('+-*')} {lit()})"
        if k == 3:
            return f"({g()} / (abs({g()}) + 1.0))"
        if k == 4:
            return f"f32({self.expr(env, FLOAT, depth + 1)})"
        if k == 5:
            return self.pick([f"sqrt(abs({g()}))", f"sin({g()})", f"abs({g()})", f"floor({g()})"])
        if k == 6:
            x = self.element(env, "f32", depth)
            if x:
                return x
        if k == 7:
            arrs = self.arrays(env, "f32")
            if arrs:
                name, _ = self.pick(arrs)
                return self.pick([f"{name}.sum()", f"{name}.min()", f"{name}.max()", f"{name}.mean()"])
        return f"({g()} if {self.expr(env, BOOL, depth + 1)} else {g()})"

    def int_leaf(self, env):
        vs = self.scalar_vars(env, INT)
        if vs and self.chance(0.6):
            return self.pick(vs)
        return str(self.r.randint(-9, 12))

    def int_expr(self, env, depth, leaf):
        if leaf:
            return self.int_leaf(env)
        e = lambda: self.expr(env, INT, depth + 1)  # noqa: E731
        k = self.r.randrange(20)
        if k < 3:
            return f"({e()} {self.pick('+-*')} {e()})"
        if k == 3:
            return f"({e()} // {self.divisor(env, depth)})"
        if k == 4:
            return f"({e()} % {self.divisor(env, depth)})"
        if k == 5:
            return f"(-{e()})"
        if k == 6:
            return f"{self.pick(['abs', 'int'])}({e()})"
        if k == 7:
            return f"{self.pick(['min', 'max'])}({e()}, {e()})"
        if k == 8:
            return f"({e()} ** {self.r.randint(0, 3)})"
        if k == 9:
            return f"({e()} {self.pick(['&', '|', '^'])} {e()})"
        if k == 10:
            return f"({e()} {self.pick(['<<', '>>'])} {self.r.randint(0, 4)})"
        if k == 11:
            return f"({e()} if {self.expr(env, BOOL, depth + 1)} else {e()})"
        if k == 12:
            x = self.element(env, "i64", depth)
            if x:
                return x
        if k == 13:
            arrs = self.arrays(env)
            if arrs:
                name, a = self.pick(arrs)
                return self.pick([f"len({name})", f"{name}.shape[{a.ndim - 1}]", f"{name}.size"])
        if k == 14:
            arrs = self.arrays(env, "i64")
            if arrs:
                name, _ = self.pick(arrs)
                return self.pick([f"{name}.sum()", f"sum({name})", f"{name}.min()",
                                  f"{name}.max()", f"{name}.argmax()", f"argmin({name})"])
        if k == 15:
            return f"round({self.expr(env, FLOAT, depth + 1)})"
        if k == 16:
            c = self.call(env, INT, depth)
            if c:
                return c
        if k == 17:
            return f"int({self.expr(env, FLOAT, depth + 1)})"
        return self.int_leaf(env)

    def divisor(self, env, depth):
        if self.chance(0.5):
            return str(self.pick([1, 2, 3, 5, 7, -2, -3, -4]))
        return f"({self.expr(env, INT, depth + 1)} % {self.r.randint(2, 7)} + 1)"

    def float_leaf(self, env):
        vs = self.scalar_vars(env, FLOAT)
        if vs and self.chance(0.6):
            return self.pick(vs)
        return self.pick(["0.5", "1.5", "-2.25", "3.0", "0.1", "-0.75", "10.0", "2.5e-3", "0.0"])

    def float_expr(self, env, depth, leaf):
        if leaf:
            return self.float_leaf(env)
        e = lambda: self.expr(env, FLOAT, depth + 1)  # noqa: E731
        i = lambda: self.expr(env, INT, depth + 1)  # noqa: E731
        k = self.r.randrange(20)
        if k < 3:
            return f"({e()} {self.pick('+-*')} {e()})"
        if k == 3:
            return f"({e()} / (abs({e()}) + 1.0))"
        if k == 4:
            return f"({i()} / {self.divisor(env, depth)})"
        if k == 5:
            return f"({e()} {self.pick(['//', '%'])} (abs({e()}) + 0.5))"
        if k == 6:
            return f"float({i()})"
        if k == 7:
            return f"({i()} {self.pick('+-*')} {e()})"
        if k == 8:
            f = self.pick(["abs", "sin", "cos", "floor", "ceil", "tanh", "arctan", "trunc"])
            return f"{f}({e()})"
        if k == 9:
            return self.pick([f"sqrt(abs({e()}))", f"exp(min({e()}, 5.0))",
                              f"log(abs({e()}) + 1.0)", f"hypot({e()}, {e()})"])
        if k == 10:
            return f"{self.pick(['min', 'max'])}({e()}, {e()})"
        if k == 11:
            return f"({e()} ** {self.r.randint(0, 3)})"
        if k == 12:
            return f"({e()} if {self.expr(env, BOOL, depth + 1)} else {e()})"
        if k == 13:
            x = self.element(env, "f64", depth)
            if x:
                return x
        if k == 14:
            arrs = self.arrays(env)
            if arrs:
                name, a = self.pick(arrs)
                if a.dtype == "f32":  # its mean is an f32
                    return f"float({name}.sum())"
                return self.pick([f"{name}.mean()", f"mean({name})", f"float({name}.sum())"])
        if k == 15:
            arrs = self.arrays(env, "f64")
            if arrs:
                name, _ = self.pick(arrs)
                return self.pick([f"{name}.sum()", f"{name}.min()", f"{name}.max()",
                                  f"sum({name})", f"min({name})", f"max({name})"])
        if k == 16:
            z = self.expr(env, COMPLEX, depth + 1)
            return self.pick([f"abs({z})", f"({z}).real", f"({z}).imag"])
        if k == 17:
            c = self.call(env, FLOAT, depth)
            if c:
                return c
        if k == 18:
            return self.pick(["pi", "e", "0.3", "1e-5", f"float({self.expr(env, F32, depth + 1)})"])
        if k == 19:
            vs = self.arrays(env, "f64", ndim=1)
            if vs:
                name, a = self.pick(vs)
                other = [n for n, t in vs if t.shape == a.shape]
                return f"dot({name}, {self.pick(other)})"
        return self.float_leaf(env)

    def bool_expr(self, env, depth, leaf):
        vs = self.scalar_vars(env, BOOL)
        if leaf:
            if vs and self.chance(0.5):
                return self.pick(vs)
            ty = self.pick([INT, FLOAT])
            return f"{self.expr(env, ty, 2)} {self.pick(['<', '<=', '>', '>=', '==', '!='])} {self.expr(env, ty, 2)}"
        k = self.r.randrange(8)
        b = lambda: self.expr(env, BOOL, depth + 1)  # noqa: E731
        if k == 0:
            return f"({b()} {self.pick(['and', 'or'])} {b()})"
        if k == 1:
            return f"(not {b()})"
        if k == 2:
            i = lambda: self.expr(env, INT, depth + 1)  # noqa: E731
            return f"({i()} <= {i()} < {i()})"
        if k == 3:
            return self.pick(["True", "False"])
        if k == 4:
            return f"isnan({self.expr(env, FLOAT, depth + 1)})"
        if k == 5:
            arrs = self.arrays(env)
            if arrs:
                name, _ = self.pick(arrs)
                return f"({name} {self.pick(['>', '<='])} {self.int_leaf(env)}).{self.pick(['any', 'all'])}()"
        ty = self.pick([INT, FLOAT])
        e = lambda: self.expr(env, ty, depth + 1)  # noqa: E731
        return f"({e()} {self.pick(['<', '<=', '>', '>=', '==', '!='])} {e()})"

    def complex_expr(self, env, depth, leaf):
        vs = self.scalar_vars(env, COMPLEX)
        if leaf:
            if vs and self.chance(0.6):
                return self.pick(vs)
            return self.pick(["1j", "(1+2j)", "(0.5-1.5j)", "(-2+0.25j)"])
        z = lambda: self.expr(env, COMPLEX, depth + 1)  # noqa: E731
        k = self.r.randrange(6)
        if k < 2:
            return f"({z()} {self.pick('+-*')} {z()})"
        if k == 2:
            f = lambda: self.expr(env, FLOAT, depth + 1)  # noqa: E731
            return f"complex({f()}, {f()})"
        if k == 3:
            return f"({z()} {self.pick('+-*')} {self.expr(env, FLOAT, depth + 1)})"
        if k == 4:
            return f"(-{z()})"
        return f"conj({z()})"

    # ---- array expressions ---------------------------------------------------------------
    def broadcastable(self, shape, target):
        """True if an array of `shape` broadcasts to `target` without changing it."""
        if len(shape) > len(target):
            return False
        return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))

    def aexpr(self, env, dtype, shape, depth=0):
        """A whole-array expression of exactly `dtype` and `shape` (NumPy's promotion)."""
        same = [n for n, t in self.arrays(env, dtype) if t.shape == shape]
        part = [n for n, t in self.arrays(env, dtype) if self.broadcastable(t.shape, shape)
                and t.shape != shape]
        if depth >= 3 or self.chance(0.3):
            if same:
                return self.pick(same)
            return self.creation(dtype, shape)
        k = self.r.randrange(10)
        sub = lambda: self.aexpr(env, dtype, shape, depth + 1)  # noqa: E731
        if k == 0 and part:
            return f"({sub()} {self.pick('+-*')} {self.pick(part)})"
        if k == 9:
            x = self.reshaped(env, dtype, shape)
            if x:
                return x
        if dtype in NARROW:
            return self.narrow_aexpr(env, dtype, shape, depth, k, sub)
        if dtype == "f32":
            lit = self.pick(["0.5", "1.5", "-0.1", "3.0", "0.3", "2.0"])
            if k in (1, 2):
                return f"({sub()} {self.pick('+-*')} {lit})"
            if k == 3:
                return f"({sub()} / (abs({sub()}) + 1.0))"
            if k == 4:
                return self.pick(["sqrt(abs(%s))", "sin(%s)", "abs(%s)", "floor(%s)"]) % sub()
            if k == 5:
                return f"{self.aexpr(env, 'f64', shape, depth + 1)}.astype(f32)"
            if k == 6:
                return f"where({sub()} > {lit}, {sub()}, {sub()})"
            if k == 7:
                return f"{self.pick(['minimum', 'maximum'])}({sub()}, {sub()})"
            return f"({sub()} {self.pick('+-*')} {sub()})"
        if dtype == "f64":
            if k in (1, 2):
                return f"({sub()} {self.pick('+-*')} {self.expr(env, FLOAT, 2)})"
            if k == 3:
                return f"({sub()} / (abs({sub()}) + 1.0))"
            if k == 4:
                f = self.pick(["sqrt(abs(%s))", "sin(%s)", "abs(%s)", "floor(%s)", "exp(minimum(%s, 5.0))"])
                return f % sub()
            if k == 5:
                return self.pick([
                    f"({self.aexpr(env, 'i64', shape, depth + 1)} * {self.expr(env, FLOAT, 2)})",
                    f"{self.aexpr(env, 'i64', shape, depth + 1)}.astype(f64)",
                    f"({sub()} + {self.aexpr(env, 'f32', shape, depth + 1)})",
                    f"({self.aexpr(env, 'i64', shape, depth + 1)} / ({self.aexpr(env, 'i64', shape, depth + 1)} % 4 + 1))",
                    f"({self.aexpr(env, self.pick(NARROW), shape, depth + 1)} * {self.expr(env, FLOAT, 2)})",
                    f"({sub()} - {self.aexpr(env, self.pick(NARROW), shape, depth + 1)})",
                ])
            if k == 6:
                return f"where({sub()} > {self.float_leaf(env)}, {sub()}, {sub()})"
            if k == 7:
                return f"{self.pick(['minimum', 'maximum'])}({sub()}, {sub()})"
            return f"({sub()} {self.pick('+-*')} {sub()})"
        if k in (1, 2):
            return f"({sub()} {self.pick('+-*')} {self.expr(env, INT, 2)})"
        if k == 3:
            return f"({sub()} // ({sub()} % {self.r.randint(2, 5)} + 1))"
        if k == 4:
            return f"({sub()} % {self.r.randint(2, 7)})"
        if k == 5:
            return f"abs({sub()})"
        if k == 6:
            return f"where({sub()} > {self.int_leaf(env)}, {sub()}, {sub()})"
        if k == 7 and self.chance(0.5):
            narrow = self.aexpr(env, self.pick(NARROW), shape, depth + 1)
            return self.pick([f"{narrow}.astype(i64)", f"({sub()} + {narrow})"])
        return f"({sub()} {self.pick('+-*')} {sub()})"

    def narrow_aexpr(self, env, dtype, shape, depth, k, sub):
        """A whole-array expression of narrow integer `dtype`: every operation wraps to it
        (NumPy 2), literals 0..5 fit every type."""
        lit = str(self.r.randint(0, 5))
        if k in (1, 2):
            return f"({sub()} {self.pick(['+', '-', '*', '&', '|', '^'])} {lit})"
        if k == 3:
            return f"({sub()} // ({sub()} % {self.r.randint(2, 5)} + 1))"
        if k == 4:
            return self.pick([f"({sub()} % {self.r.randint(2, 7)})", f"abs({sub()})", f"(-{sub()})"])
        if k == 5:
            return f"{self.aexpr(env, 'i64', shape, depth + 1)}.astype(np.{dtype})"
        if k == 6:
            return f"where({sub()} > {lit}, {sub()}, {sub()})"
        if k == 7:
            return f"{self.pick(['minimum', 'maximum'])}({sub()}, {sub()})"
        if k == 8:
            # Two types meeting where NumPy's result is this one (`uint8 + uint16` is
            # `uint16`, `int8 + uint8` is `int16`), or the same type.
            other = {"int16": ["int8", "uint8"], "int32": ["int16", "uint16", "int8"],
                     "uint16": ["uint8"], "uint32": ["uint16", "uint8"]}.get(dtype, [dtype])
            o = self.pick(other)
            return f"({sub()} {self.pick('+-*')} {self.aexpr(env, o, shape, depth + 1)})"
        return f"({sub()} {self.pick('+-*')} {sub()})"

    def reshaped(self, env, dtype, shape):
        """An expression of `shape` made from another array by an axis reduction, `.T`,
        `cumsum`, `.copy()`, `reshape`/`ravel`, or a matrix product."""
        arrs = self.arrays(env, dtype)
        size = 1
        for n in shape:
            size *= n
        forms = []
        for name, a in arrs:
            if a.ndim == 2:
                # A narrow integer's sum (or mean) has another type.
                red = self.pick(["min", "max"] if dtype in NARROW
                                else ["sum", "min", "max"] + (["mean"] if dtype != "i64" else []))
                if (a.shape[1],) == shape:
                    forms.append(f"{name}.{red}(axis=0)")
                if (a.shape[0],) == shape:
                    forms.append(f"{name}.{red}(axis=1)")
                if a.shape[::-1] == shape:
                    forms.append(f"{name}.T")
                if len(shape) == 1 and a.shape[0] * a.shape[1] == size:
                    forms.append(f"{name}.{self.pick(['ravel', 'flatten'])}()")
                if dtype == "f64" and len(shape) == 1 and a.shape[0] == shape[0]:
                    vs = [n for n, t in self.arrays(env, "f64", 1) if t.shape == (a.shape[1],)]
                    if vs:
                        forms.append(f"({name} @ {self.pick(vs)})")
            if a.shape == shape:
                forms.append(f"{name}.copy()")
                if a.ndim == 1 and dtype not in NARROW:
                    forms.append(f"cumsum({name})")
            if a.ndim == 1 and len(shape) == 2 and a.shape[0] == size:
                forms.append(f"{name}.reshape({shape[0]}, {shape[1]})")
        if dtype == "f64":
            for name, a in self.arrays(env, "i64", 2):
                if (a.shape[1],) == shape:
                    forms.append(f"{name}.mean(axis=0)")
        return self.pick(forms) if forms else None

    def creation(self, dtype, shape):
        n = 1
        for s in shape:
            n *= s
        shp = str(shape[0]) if len(shape) == 1 and self.chance(0.5) else repr(tuple(shape))
        k = self.r.randrange(6)
        if dtype in NARROW:
            if k < 2:
                return f"{self.pick(['zeros', 'ones'])}({shp}, dtype=np.{dtype})"
            if k == 2:
                return f"full({shp}, {self.r.randint(0, 5)}, dtype=np.{dtype})"
            if k == 3:
                vals = ", ".join(str(self.r.randint(0, 120)) for _ in range(n))
                a = f"array([{vals}], dtype=np.{dtype})"
                return a if len(shape) == 1 else f"{a}.reshape{tuple(shape)}"
            start = self.r.randint(-300, 300)
            step = self.pick([1, 7, 1000, 40000])
            a = f"arange({start}, {start + n * step}, {step})"
            a = a if len(shape) == 1 else f"{a}.reshape{tuple(shape)}"
            return f"{a}.astype(np.{dtype})"
        if dtype == "f32":
            if k < 2:
                return f"{self.pick(['zeros', 'ones'])}({shp}, dtype=f32)"
            if k == 2:
                return f"full({shp}, {self.pick(['0.1', '-1.5', '2.0'])}, dtype=f32)"
            a = f"linspace({self.pick(['-1.0', '0.0', '2.5'])}, {self.pick(['1.0', '3.0', '-4.0'])}, {n})"
            a = a if len(shape) == 1 else f"{a}.reshape{tuple(shape)}"
            return f"{a}.astype(f32)"
        if k == 0:
            return f"{self.pick(['zeros', 'ones'])}({shp}, dtype={dtype})"
        if k == 1:
            v = str(self.r.randint(-5, 5)) if dtype == "i64" else self.pick(["0.5", "-1.25", "2.0"])
            return f"full({shp}, {v})"
        if k in (2, 3):
            if dtype == "i64":
                start = self.r.randint(-5, 5)
                step = self.pick([1, 1, 2, 3])
                a = f"arange({start}, {start + n * step}, {step})" if self.chance(0.5) or start else f"arange({n})"
            else:
                a = f"linspace({self.pick(['-1.0', '0.0', '2.5'])}, {self.pick(['1.0', '3.0', '-4.0'])}, {n})"
            return a if len(shape) == 1 else f"{a}.reshape{tuple(shape)}"
        vals = [self.r.randint(-9, 9) for _ in range(n)]
        if dtype == "f64":
            vals = [f"{v / 4}" for v in vals]
        flat = [str(v) for v in vals]
        if len(shape) == 1:
            return f"array([{', '.join(flat)}])"
        r, c = shape
        rows = ["[" + ", ".join(flat[i * c:(i + 1) * c]) + "]" for i in range(r)]
        return f"array([{', '.join(rows)}])"

    # ---- statements ----------------------------------------------------------------------
    def new_array(self, env, indent):
        dtype = self.pick(ADTYPES)
        if dtype == "narrow":
            dtype = self.pick(NARROW)
        shape = (self.r.randint(1, 8),) if self.chance(0.6) else (self.r.randint(1, 4), self.r.randint(1, 5))
        name = self.fresh("a")
        rhs = self.creation(dtype, shape) if self.chance(0.5) else self.aexpr(env, dtype, shape)
        self.emit(indent, f"{name} = {rhs}")
        env[name] = Arr(dtype, shape, self.base_of(env, rhs, name))

    def view(self, env, indent):
        arrs = self.arrays(env, narrow=True)
        if not arrs:
            return self.new_array(env, indent)
        src, a = self.pick(arrs)
        parts, shape = [], []
        for n in a.shape:
            start = self.pick([None, self.r.randint(-n, n)])
            stop = self.pick([None, self.r.randint(-n - 1, n + 1)])
            step = self.pick([None, 1, 2, -1, -2, 3])
            s = slice(start, stop, step)
            length = len(range(*s.indices(n)))
            text = ("" if start is None else str(start)) + ":" + ("" if stop is None else str(stop))
            if step is not None:
                text += f":{step}"
            parts.append(text)
            shape.append(length)
        if 0 in shape:
            return
        name = self.fresh("v")
        self.emit(indent, f"{name} = {src}[{', '.join(parts)}]")
        env[name] = Arr(a.dtype, shape, a.base)

    def print_stmt(self, env, indent):
        if self.in_function:
            # Functions may be called from `@par` bodies, whose print order is not fixed.
            return self.scalar_assign(env, indent)
        items = []
        for _ in range(self.r.randint(1, 3)):
            arrs = self.arrays(env, narrow=True)
            if arrs and self.chance(0.3):
                name, a = self.pick(arrs)
                if a.ndim == 2 and self.chance(0.5):
                    red = self.pick(["sum", "mean", "min", "max"])
                    items.append(f"{name}.{red}(axis={self.r.randint(0, 1)})")
                else:
                    items.append(name)
            else:
                items.append(self.expr(env, self.pick(SCALAR_CHOICES)))
        sep = self.pick(["", "", ', sep=", "', ', sep="|"'])
        self.emit(indent, f"print({', '.join(items)}{sep})")

    def scalar_assign(self, env, indent, new_ok=True):
        vs = self.assignable(env)
        if vs and (not new_ok or self.chance(0.5)):
            name = self.pick(vs)
            ty = env[name]
            if ty in (INT, FLOAT, F32) and self.chance(0.4):
                self.emit(indent, f"{name} {self.pick(['+=', '-=', '*='])} {self.expr(env, ty, 1)}")
            else:
                self.emit(indent, f"{name} = {self.expr(env, ty)}")
            return
        if not new_ok:
            return
        ty = self.pick(SCALAR_CHOICES)
        name = self.fresh({INT: "i", FLOAT: "x", BOOL: "b", COMPLEX: "z", F32: "g"}[ty])
        self.emit(indent, f"{name} = {self.expr(env, ty)}")
        env[name] = ty

    def assignable(self, env):
        """Scalars a statement may assign: not loop indices (`k`, `q`) or while counters (`w`)."""
        return [n for n, t in env.items() if t in SCALARS and n[0] not in "kqw"]

    def tuple_assign(self, env, indent):
        vs = [n for n in self.assignable(env) if env[n] in (INT, FLOAT)]
        if len(vs) < 2:
            return self.scalar_assign(env, indent)
        a, b = self.r.sample(vs, 2)
        self.emit(indent, f"{a}, {b} = {self.expr(env, env[a])}, {self.expr(env, env[b])}")

    def element_write(self, env, indent):
        arrs = self.arrays(env)
        if not arrs:
            return
        name, a = self.pick(arrs)
        idx = ", ".join(self.index_expr(env, n, 1) for n in a.shape)
        op = self.pick(["=", "=", "+="])
        ty = self.value_type(a.dtype, op)
        self.emit(indent, f"{name}[{idx}] {op} {self.expr(env, ty, 1)}")

    def value_type(self, dtype, op):
        """The type of a value stored into an array of `dtype`: a plain `=` casts, as NumPy
        does; an update `+=` of an f32 must compute in f32 on both sides (see the top)."""
        if dtype == "i64":
            return INT
        if dtype == "f32":
            return F32 if op != "=" else self.pick([F32, FLOAT, INT])
        return self.pick([FLOAT, INT])

    def for_array(self, env, indent, depth):
        arrs = self.arrays(env, ndim=1)
        if not arrs:
            return self.for_stmt(env, indent, depth)
        name, a = self.pick(arrs)
        x = self.fresh("k")
        inner = dict(env)
        inner[x] = ELEMENT[a.dtype]
        self.emit(indent, f"for {x} in {name}:")
        self.block(inner, indent + 1, depth + 1, True)

    def slice_write(self, env, indent):
        arrs = self.arrays(env, ndim=1)
        if not arrs:
            return
        name, a = self.pick(arrs)
        n = a.shape[0]
        lo = self.r.randint(0, n - 1)
        hi = self.r.randint(lo + 1, n)
        step = self.pick([1, 1, 2])
        m = len(range(lo, hi, step))
        op = self.pick(['=', '=', '+=', '*='])
        rhs = self.aexpr(env, a.dtype, (m,), 1) if self.chance(0.6) else self.expr(env, self.value_type(a.dtype, op), 2)
        stext = f"{lo}:{hi}" + (f":{step}" if step != 1 else "")
        self.emit(indent, f"{name}[{stext}] {op} {rhs}")

    def array_update(self, env, indent):
        arrs = self.arrays(env)
        if not arrs:
            return self.new_array(env, indent)
        name, a = self.pick(arrs)
        op = self.pick(["=", "+=", "-=", "*="])
        rhs = self.aexpr(env, a.dtype, a.shape)
        self.emit(indent, f"{name} {op} {rhs}")
        if op == "=":
            # A new buffer (views of the old one no longer alias it), or a shared one.
            env[name] = Arr(a.dtype, a.shape, self.base_of(env, rhs, self.fresh("buf")))

    def base_of(self, env, rhs, new_base):
        """`b = a` shares a's buffer (SPEC §6), as may `a.T`, `a.reshape(..)` and `a.ravel()`
        (views where NumPy can make one); any other right side makes a new buffer."""
        root = re.match(r"^(\w+)(\.T|\.reshape\([^()]*\)|\.ravel\(\))?$", rhs)
        t = env.get(root.group(1)) if root else None
        return t.base if isinstance(t, Arr) else new_base

    def if_stmt(self, env, indent, depth, in_loop):
        self.emit(indent, f"if {self.expr(env, BOOL)}:")
        self.block(env, indent + 1, depth + 1, in_loop)
        if self.chance(0.4):
            self.emit(indent, f"elif {self.expr(env, BOOL)}:")
            self.block(env, indent + 1, depth + 1, in_loop)
        if self.chance(0.5):
            self.emit(indent, "else:")
            self.block(env, indent + 1, depth + 1, in_loop)

    def for_stmt(self, env, indent, depth):
        i = self.fresh("k")
        start = self.r.randint(-3, 3)
        step = self.pick([1, 1, 1, 2, 3, -1, -2])
        stop = start + step * self.r.randint(0, 6)
        if step == 1 and self.chance(0.5):
            rng = f"range({stop - start})" if stop > start else f"range({start}, {stop})"
        else:
            rng = f"range({start}, {stop}, {step})"
        self.emit(indent, f"for {i} in {rng}:")
        inner = dict(env)
        inner[i] = INT
        self.block(inner, indent + 1, depth + 1, True)

    def while_stmt(self, env, indent, depth):
        c = self.fresh("w")
        self.emit(indent, f"{c} = 0")
        self.emit(indent, f"while {c} < {self.r.randint(0, 6)}:")
        # The counter moves first, so `continue` cannot skip it.
        self.emit(indent + 1, f"{c} += 1")
        # The counter joins the environment only after the loop, so the body cannot write it.
        self.block(env, indent + 1, depth + 1, True)
        env[c] = INT

    def block(self, env, indent, depth, in_loop):
        inner = dict(env)
        start = len(self.lines)
        for _ in range(self.r.randint(1, 3)):
            self.stmt(inner, indent, depth, in_loop)
        if len(self.lines) == start:
            self.emit(indent, "pass")  # every statement drawn had nothing to work on
        if in_loop and self.chance(0.25):
            self.emit(indent, f"if {self.expr(inner, BOOL)}:")
            self.emit(indent + 1, self.pick(["break", "continue"]))
        # Names first made in this block are forgotten (see the module's docstring); names
        # that existed before keep their type.

    def stmt(self, env, indent, depth, in_loop):
        k = self.r.randrange(15 if depth < 2 else 9)
        if k == 14:
            return self.for_array(env, indent, depth)
        if k < 3:
            return self.scalar_assign(env, indent, new_ok=True)
        if k == 3:
            return self.print_stmt(env, indent)
        if k == 4:
            return self.element_write(env, indent)
        if k == 5:
            return self.tuple_assign(env, indent)
        if k == 6:
            return self.slice_write(env, indent)
        if k in (7, 8):
            return self.scalar_assign(env, indent, new_ok=False)
        if k in (9, 10):
            return self.if_stmt(env, indent, depth, in_loop)
        if k == 11:
            return self.for_stmt(env, indent, depth)
        if k == 12:
            return self.while_stmt(env, indent, depth)
        return self.print_stmt(env, indent)

    # ---- functions -----------------------------------------------------------------------
    def function(self, indent=0):
        self.in_function = True
        try:
            self.function_def(indent)
        finally:
            self.in_function = False

    def function_def(self, indent):
        name = self.fresh("f")
        params = [self.pick([INT, INT, FLOAT, BOOL]) for _ in range(self.r.randint(1, 3))]
        env = {}
        names = []
        for p in params:
            pn = self.fresh("p")
            env[pn] = p
            names.append(pn)
        kind = self.r.randrange(3)
        if kind == 0 and params[0] == INT:
            # Recursion bounded by its first argument, clamped to a small depth.
            ret = self.pick([INT, FLOAT])
            n = names[0]
            self.emit(indent, f"def {name}({', '.join(names)}):")
            self.emit(indent + 1, f"if {n} <= 0:")
            self.emit(indent + 2, f"return {self.expr(env, ret, 1)}")
            self.funcs.append(Func(name, params, ret))
            rec_args = [f"min({n}, 8) - 1"] + [self.expr(env, p, 2) for p in params[1:]]
            saved = self.funcs
            self.funcs = [f for f in saved if f.name != name]
            other = self.expr(env, ret, 2)
            self.funcs = saved
            self.emit(indent + 1, f"return {name}({', '.join(rec_args)}) {self.pick('+-')} {other}")
            return
        ret = self.pick([INT, FLOAT, BOOL, (INT, FLOAT), (FLOAT, FLOAT)])
        self.emit(indent, f"def {name}({', '.join(names)}):")
        for _ in range(self.r.randint(0, 3)):
            self.stmt_fn(env, indent + 1)
        if self.chance(0.4):
            self.emit(indent + 1, f"if {self.expr(env, BOOL)}:")
            self.emit(indent + 2, f"return {self.ret_expr(env, ret)}")
        self.emit(indent + 1, f"return {self.ret_expr(env, ret)}")
        self.funcs.append(Func(name, params, ret))

    def stmt_fn(self, env, indent):
        k = self.r.randrange(4)
        if k == 0:
            self.for_stmt(env, indent, 1)
        elif k == 1:
            self.if_stmt(env, indent, 1, False)
        else:
            self.scalar_assign(env, indent)

    def ret_expr(self, env, ret):
        if isinstance(ret, tuple):
            return ", ".join(self.expr(env, t, 1) for t in ret)
        return self.expr(env, ret)

    def tuple_call(self, env, indent):
        fs = [f for f in self.funcs if isinstance(f.ret, tuple)]
        if not fs:
            return
        f = self.pick(fs)
        outs = [self.fresh("t") for _ in f.ret]
        args = [self.expr(env, p, 1) for p in f.params]
        self.emit(indent, f"{', '.join(outs)} = {f.name}({', '.join(args)})")
        for o, t in zip(outs, f.ret):
            env[o] = t

    # ---- parallel loops (SPEC §7: legal, so deterministic) -------------------------------
    def par_loop(self, env, indent):
        arrs1 = self.arrays(env, ndim=1)
        arrs2 = self.arrays(env, ndim=2)
        if arrs2 and self.chance(0.3):
            name, a = self.pick(arrs2)
            r, c = a.shape
            readers = {n: t for n, t in env.items() if not (isinstance(t, Arr) and t.base == a.base)}
            i, j = self.fresh("q"), self.fresh("q")
            body = dict(readers)
            body[i] = body[j] = INT
            ty = self.value_type(a.dtype, "=")
            self.emit(indent, "@par")
            self.emit(indent, f"for {i}, {j} in ndrange({r}, {c}):")
            self.emit(indent + 1, f"{name}[{i}, {j}] = {self.expr(body, ty, 1)}")
            self.emit(indent, f"print({name})")
            return
        s = self.fresh("s")
        ty = INT if self.chance(0.8) else FLOAT
        self.emit(indent, f"{s} = {'0' if ty == INT else '0.0'}")
        n = self.r.randint(0, 12)
        target = None
        if arrs1 and self.chance(0.6):
            cands = [(nm, t) for nm, t in arrs1 if t.shape[0] >= n]
            if cands:
                target = self.pick(cands)
        readers = {nm: t for nm, t in env.items()
                   if not (target and isinstance(t, Arr) and t.base == target[1].base)}
        i = self.fresh("q")
        body = dict(readers)
        body[i] = INT
        if self.chance(0.5):
            self.emit(indent, "@par")
            self.emit(indent, f"for {i} in range({n}):")
        else:
            self.emit(indent, f"for {i} in prange({n}):")
        tmp = self.fresh("m")
        self.emit(indent + 1, f"{tmp} = {self.expr(body, ty, 1)}")
        body[tmp] = ty
        update = self.pick([f"{s} += {tmp}", f"{s} += {tmp}", f"{s} -= {tmp}",
                            f"{s} = max({s}, {tmp})", f"{s} = min({s}, {tmp})", f"{s} = {s} + {tmp}"])
        if self.chance(0.4):
            self.emit(indent + 1, f"if {self.expr(body, BOOL, 1)}:")
            self.emit(indent + 2, update)
        else:
            self.emit(indent + 1, update)
        if target:
            name, a = target
            self.emit(indent + 1, f"{name}[{i}] = {self.expr(body, self.value_type(a.dtype, '='), 1)}")
        if self.chance(0.3):
            self.emit(indent + 1, f"if {self.expr(body, BOOL, 2)}:")
            self.emit(indent + 2, "continue")
        self.emit(indent, f"print({s}{', ' + target[0] if target else ''})")
        env[s] = ty

    # ---- cells ---------------------------------------------------------------------------
    def cell(self, env):
        for _ in range(self.r.randint(0, 1)):
            self.function()
        for _ in range(self.r.randint(1, 2)):
            self.new_array(env, 0)
        for _ in range(self.r.randint(3, 9)):
            k = self.r.randrange(12)
            if k == 0:
                self.new_array(env, 0)
            elif k == 1:
                self.view(env, 0)
            elif k == 2:
                self.array_update(env, 0)
            elif k == 3:
                self.par_loop(env, 0)
            elif k == 4:
                self.tuple_call(env, 0)
            else:
                self.stmt(env, 0, 0, False)
        if self.chance(0.1):
            # A deliberate integer division by zero: Kiln must raise Python's error.
            self.emit(0, f"print({self.expr(env, INT, 1)} {self.pick(['//', '%'])} 0)")
        elif self.chance(0.6):
            arrs = self.arrays(env)
            if arrs and self.chance(0.5):
                self.emit(0, self.pick(arrs)[0])
            else:
                self.emit(0, self.expr(env, self.pick(SCALAR_CHOICES)))

    def program(self):
        env = {}
        for k in range(self.r.randint(1, 3)):
            if k:
                self.emit(0, "# %%")
            self.cell(env)
        return "\n".join(self.lines) + "\n"


def program(seed):
    return Gen(seed).program()


if __name__ == "__main__":
    import sys

    print(program(int(sys.argv[1]) if len(sys.argv) > 1 else 0), end="")
