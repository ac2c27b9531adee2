"""Shrink a failing program to a small one that fails the same way.

A candidate is kept when it still fails with the same signature (the kind of difference:
`output`, `crash`, `error type ...`, `kiln raised TypeError` ...) and the oracle runs it
without an error the original did not have — so deleting the line that defines a variable
(a NameError in Python) is never mistaken for progress.

Two passes, repeated until neither shrinks the program:
1. Delta debugging (Zeller's ddmin) over lines: remove chunks of lines, halving the chunk
   size down to single lines. Removing a block's header alone is an IndentationError in
   Python, so such candidates fall out by themselves.
2. Expression simplification: each subexpression of a line is replaced by one of its own
   operands, or by a literal (`0`, `1`, `0.5`, `True`), one at a time.
"""
import ast
import copy
from pathlib import Path

import check
import gen
import oracle


class Reducer:
    def __init__(self, text, kiln):
        self.kiln = kiln
        first = check.check(text, kiln)
        if first.kind != "fail":
            raise SystemExit(f"difftest: this program does not fail ({first.kind}); nothing to reduce")
        self.signature = first.signature
        self.verdict = first
        base = oracle.run(text)
        self.allowed_error = base.error[0] if base.error else None
        self.tries = 0

    def interesting(self, lines):
        text = "\n".join(lines) + "\n"
        try:
            ast.parse("\n".join("" if l.strip().startswith(("@", "# %%")) else l for l in lines))
        except SyntaxError:
            return False
        want = oracle.run(text)
        if want.undefined or (want.error and want.error[0] != self.allowed_error):
            return False
        self.tries += 1
        v = check.check(text, self.kiln)
        if v.kind == "fail" and v.signature == self.signature:
            self.verdict = v
            return True
        return False

    def ddmin(self, lines):
        n = 2
        while len(lines) >= 2:
            chunk = max(1, len(lines) // n)
            shrunk = False
            for start in range(0, len(lines), chunk):
                cand = lines[:start] + lines[start + chunk:]
                if cand and self.interesting(cand):
                    lines = cand
                    n = max(n - 1, 2)
                    shrunk = True
                    break
            if not shrunk:
                if chunk == 1:
                    break
                n = min(len(lines), n * 2)
        return lines

    def simplify(self, lines):
        for i in range(len(lines)):
            for cand_line in self.simpler(lines[i]):
                cand = lines[:i] + [cand_line] + lines[i + 1:]
                if self.interesting(cand):
                    lines = cand
        return lines

    def simpler(self, line):
        """Versions of one line with one subexpression replaced by something smaller."""
        indent = line[: len(line) - len(line.lstrip())]
        body = line.strip()
        header = body.endswith(":")
        try:
            tree = ast.parse(body + ("\n    pass" if header else ""))
        except SyntaxError:
            return
        stmt = tree.body[0]
        nodes = [n for n in ast.walk(stmt) if isinstance(n, ast.expr)
                 and not isinstance(n, (ast.Name, ast.Constant, ast.Store))]
        for node in nodes:
            subs = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
            subs += [ast.Constant(v) for v in (0, 1, 0.5, True)]
            for sub in subs:
                new = copy.deepcopy(stmt)
                target = next(n for n in ast.walk(new) if ast.dump(n) == ast.dump(node))
                self.replace(new, target, sub)
                text = ast.unparse(new)
                if header:
                    text = text.split("\n")[0]
                if len(text) < len(body):
                    yield indent + text

    @staticmethod
    def replace(tree, old, new):
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is old:
                    setattr(parent, field, new)
                    return
                if isinstance(value, list) and any(v is old for v in value):
                    setattr(parent, field, [new if v is old else v for v in value])
                    return

    def run(self, text):
        lines = text.rstrip("\n").split("\n")
        while True:
            before = len("\n".join(lines))
            lines = self.ddmin(lines)
            lines = self.simplify(lines)
            if len("\n".join(lines)) >= before:
                return "\n".join(lines) + "\n"


def main(seed, kiln, out_dir):
    text = gen.program(seed)
    r = Reducer(text, kiln)
    small = r.run(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"seed{seed}.kiln"
    path.write_text(small)
    v = r.verdict
    print(f"difftest: seed {seed} ({r.signature}) shrunk from {len(text.splitlines())} to "
          f"{len(small.splitlines())} lines in {r.tries} runs: {path}")
    print(small, end="")
    print(f"-- python (expected)\n{v.expected}-- kiln\n{v.actual}", end="")
    return 0
