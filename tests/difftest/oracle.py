"""Run a generated Kiln program under CPython + NumPy: the differential tester's oracle.

It reuses the golden tests' prelude (jit/tests/run/python_reference.py), which maps Kiln's
builtins onto Python and NumPy, and runs the cells as `kiln run` does: in one namespace, a
cell's final expression printed as Kiln prints a result, stopping at the first error.

On top of that prelude, scalar arithmetic goes through `_bin`, so that Python's answers are
Kiln's where the two languages are defined to agree and the program is dropped where they
are defined to differ (SPEC §2, §13):
- a Python int leaving i64's range is undefined here (Kiln wraps, Python grows): the program
  is reported as `Undefined` and not compared;
- integer `//` and `%` by zero raise Python's ZeroDivisionError even for NumPy integers
  (array elements), because Kiln's scalars follow Python;
- float division by zero and float `**` overflow give IEEE results (inf, nan), as Kiln's do;
- `int()` and `round()` of NaN, inf or a float beyond i64 are undefined here: Kiln's answers
  there are another test's business.
"""
import __future__
import ast
import contextlib
import io
import operator
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "jit" / "tests" / "run"))
import python_reference as ref  # noqa: E402

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


class Undefined(Exception):
    """The program does something whose result Kiln and Python may rightly disagree on."""


OPS = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
    ast.Pow: ("**", operator.pow),
    ast.LShift: ("<<", operator.lshift),
    ast.RShift: (">>", operator.rshift),
    ast.BitAnd: ("&", operator.and_),
    ast.BitOr: ("|", operator.or_),
    ast.BitXor: ("^", operator.xor),
}
BY_SYMBOL = {sym: fn for sym, fn in OPS.values()}


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_float(v):
    return isinstance(v, (float, np.floating))


def _float_type(a, b):
    """NumPy 2's promotion of a float operation: an f32 stays f32 beside Python scalars
    (weak, NEP 50) and becomes f64 only beside a NumPy f64."""
    f32 = isinstance(a, np.float32) or isinstance(b, np.float32)
    f64 = isinstance(a, np.float64) or isinstance(b, np.float64)
    return np.float32 if f32 and not f64 else np.float64


def _bin(sym, a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return BY_SYMBOL[sym](a, b)
    if sym in ("//", "%") and _is_int(a) and _is_int(b) and b == 0:
        return BY_SYMBOL[sym](int(a), int(b))  # Python's own ZeroDivisionError
    if sym in ("/", "//", "%", "**") and (_is_float(a) or _is_float(b)):
        ft = _float_type(a, b)
        with np.errstate(all="ignore"):
            return BY_SYMBOL[sym](ft(a), ft(b) if sym != "**" else b)
    if sym == "/" and b == 0:
        with np.errstate(all="ignore"):
            return np.float64(a) / np.float64(b)
    r = BY_SYMBOL[sym](a, b)
    if type(r) is int and not I64_MIN <= r <= I64_MAX:
        raise Undefined(f"{a!r} {sym} {b!r} leaves i64")
    return r


def _neg(v):
    r = -v
    if type(r) is int and not I64_MIN <= r <= I64_MAX:
        raise Undefined("negation leaves i64")
    return r


def _int(v):
    if _is_float(v) and not (-9.2e18 < v < 9.2e18):
        raise Undefined(f"int({v!r})")
    return int(v)


def _round(x, n=None):
    if n is None and _is_float(x) and not (-9.2e18 < x < 9.2e18):
        raise Undefined(f"round({x!r})")
    return ref_round(x, n)


ref_round = None  # the prelude's round, bound per run


class Checked(ast.NodeTransformer):
    """Rewrites scalar operators into `_bin` calls (arrays pass straight to NumPy)."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if type(node.op) not in OPS:
            return node
        sym = OPS[type(node.op)][0]
        return ast.copy_location(
            ast.Call(ast.Name("_bin", ast.Load()), [ast.Constant(sym), node.left, node.right], []),
            node,
        )

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub):
            return ast.copy_location(ast.Call(ast.Name("_neg", ast.Load()), [node.operand], []), node)
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if not isinstance(node.target, ast.Name) or type(node.op) not in OPS:
            return node  # element and slice updates stay NumPy's (they write in place)
        sym = OPS[type(node.op)][0]
        name = node.target.id
        # `a += b` on an array updates it in place (views see it); on a scalar it rebinds.
        test = ast.parse(f"isinstance({name}, _ndarray)", mode="eval").body
        scalar = ast.Assign(
            [ast.Name(name, ast.Store())],
            ast.Call(ast.Name("_bin", ast.Load()), [ast.Constant(sym), ast.Name(name, ast.Load()), node.value], []),
        )
        return ast.copy_location(ast.If(test, [node], [scalar]), node)


class Result:
    def __init__(self, stdout, error=None, undefined=None):
        self.stdout = stdout
        self.error = error  # (name, message) of the first error, or None
        self.undefined = undefined  # why the program cannot be compared, or None


_setup_done = False


def _setup():
    global _setup_done
    if not _setup_done:
        np.seterr(all="ignore")
        # Programs being reduced may call a literal (`0(...)`); that is the reducer's business.
        warnings.simplefilter("ignore", SyntaxWarning)
        # NumPy 2's own printing, as Kiln's (float32 scalars go scientific from 1e6 on, which
        # legacy="1.25" would not do); results and print arguments are single values here.
        ref.fake_numba()
        _setup_done = True


def run(text):
    """Run a program's text; returns a Result."""
    global ref_round
    _setup()
    ns = {"__name__": "__kiln__"}
    flags = __future__.annotations.compiler_flag
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(ref.PRELUDE, "<prelude>", "exec"), ns)
        ref_round = ns["round"]
        ns.update(_bin=_bin, _neg=_neg, _ndarray=np.ndarray, int=_int, round=_round)
        for cell in ref.cells_of(text):
            src = "".join("\n" if ref.ANNOTATION.match(l) else l for l in cell.splitlines(keepends=True))
            try:
                tree = ast.parse(src)
                last = None
                if tree.body and isinstance(tree.body[-1], ast.Expr):
                    last = ast.Expression(tree.body.pop().value)
                tree = ast.fix_missing_locations(Checked().visit(tree))
                exec(compile(tree, "<cell>", "exec", flags=flags, dont_inherit=True), ns)
                if last is not None:
                    last = ast.fix_missing_locations(Checked().visit(last))
                    v = eval(compile(last, "<cell>", "eval", flags=flags, dont_inherit=True), ns)
                    if v is not None:
                        print(ref.show(v))
            except Undefined as e:
                return Result(out.getvalue(), undefined=str(e))
            except RecursionError:
                return Result(out.getvalue(), undefined="recursion")
            except Exception as e:  # noqa: BLE001 - the first error is part of the answer
                return Result(out.getvalue(), error=(type(e).__name__, str(e)))
    return Result(out.getvalue())


if __name__ == "__main__":
    r = run(Path(sys.argv[1]).read_text())
    sys.stdout.write(r.stdout)
    if r.error:
        print(f"!! {r.error[0]}: {r.error[1]}")
    if r.undefined:
        print(f"?? undefined: {r.undefined}")
