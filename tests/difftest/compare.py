"""Compare Kiln's output with the oracle's.

The rule, and why:
- Identical text passes. This is the common case: Kiln prints floats with Python's shortest
  repr and arrays as NumPy does (SPEC §9), so where the values agree the text must too; a
  difference there is a printing bug.
- Otherwise the two outputs are split into numbers and the text between them. The text must
  match (whitespace aside), integers must be equal (an integer printed as `3.0` is a type
  bug), and floats must agree to a relative 1e-9 (absolute 1e-12 near zero; NaN matches NaN,
  inf matches inf of the same sign). Kiln may differ from NumPy in the last bits of the
  transcendental functions (its libm, SPEC §7) and of parallel float reductions (another
  summation order), and such a change alters the printed digits and NumPy's column padding,
  hence the whitespace allowance.
- A float difference is only forgiven if some float really differs in value: when every
  number is equal yet the text is not, it is a printing bug and fails.
- The sign of a zero counts as such a difference in value. NumPy's `maximum`/`minimum`
  and `min`/`max` reductions return whichever of `0.0` and `-0.0` the CPU's SIMD
  instruction picks on a tie (x86's `maxpd` the second operand, Arm's the IEEE `+0`), so
  the sign of a zero is not part of NumPy's contract there.
"""
import math
import re

NUMBER = re.compile(
    r"(?<![\w.])(?:[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)(?!\w))"
)
INTEGER = re.compile(r"^[-+]?\d+$")
REL, ABS = 1e-9, 1e-12
# Two float32 values (shortest repr: 9 significant digits at most, and 7 or more where the
# digits ran out, on both sides): NumPy's float32 sin/exp/... are SIMD approximations a few ulps from the
# correctly rounded value, Kiln's come from libm, so they may differ by ~3 ulps (2**-23 each).
REL32 = 4e-7


def significant_digits(token):
    mantissa = re.split(r"[eE]", token.lstrip("+-"))[0].replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) if "." in token or "e" in token.lower() else len(mantissa)


def float32_like(a, b):
    da, db = significant_digits(a), significant_digits(b)
    return max(da, db) <= 9 and min(da, db) >= 6


def split(text):
    """(texts between numbers with whitespace removed, number tokens)."""
    nums = NUMBER.findall(text)
    texts = ["".join(t.split()) for t in NUMBER.split(text)]
    return texts, nums


def close(a, b):
    x, y = float(a), float(b)
    rel = REL32 if float32_like(a, b) else REL
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= max(ABS, rel * max(abs(x), abs(y)))


def same_output(expected, actual):
    """None if the outputs agree under the rule above, else a reason."""
    if expected == actual:
        return None
    et, en = split(expected)
    at, an = split(actual)
    if et != at or len(en) != len(an):
        return "the text differs"
    moved = False
    for e, a in zip(en, an):
        if INTEGER.match(e) or INTEGER.match(a):
            if e.lstrip("+") != a.lstrip("+"):
                return f"integer {a} where Python prints {e}"
        elif not close(e, a):
            return f"float {a} where Python prints {e}"
        elif float(e) != float(a) and not (math.isnan(float(e)) and math.isnan(float(a))):
            moved = True
        elif math.copysign(1, float(e)) != math.copysign(1, float(a)):
            moved = True
    return None if moved else "the numbers agree but are printed differently"


def selftest():
    assert same_output("1.5\n", "1.5\n") is None
    assert same_output("0.30000000000000004\n", "0.3\n") is None
    assert same_output("3\n", "3.0\n") is not None
    assert same_output("[ 1.5 -2. ]", "[1.5 -2.]") is not None  # equal values, other text
    assert same_output("[ 1.5        -2.        ]", "[ 1.5000000000000002 -2. ]") is None
    assert same_output("(1+2j)", "(1+2.5j)") is not None
    assert same_output("nan inf -inf", "nan inf -inf") is None
    assert same_output("nan", "inf") is not None
    assert same_output("[-0.  1.]", "[0. 1.]") is None  # a zero's sign (see above)
    assert same_output("-0.0", "-0.") is not None
    assert same_output("a1 = 2", "a1 = 3") is not None
    assert same_output("0.89775115", "0.8977509") is None  # float32, 3 ulps
    assert same_output("0.89775115", "0.8977") is not None
    assert same_output("0.5", "0.5000001") is not None
    assert same_output("x 1e-05", "x 1.0000000000000002e-05") is None
    print("compare.py selftest ok")


if __name__ == "__main__":
    selftest()
