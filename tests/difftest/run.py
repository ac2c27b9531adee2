#!/usr/bin/env python3
"""Differential tester: random Kiln programs, run by CPython + NumPy and by `kiln run`.

    tests/difftest/run.py                      # seeds 0..300 (what test.sh runs)
    tests/difftest/run.py --seeds 0..10000     # more, on demand
    tests/difftest/run.py --seeds 42           # one seed
    tests/difftest/run.py --reduce 42          # shrink seed 42's failure to a minimal program
    tests/difftest/run.py --show 42            # print seed 42's program

Seeds `A..B` are the half-open range [A, B). Needs NumPy (the project's .venv has it; run it
with `.venv/bin/python`) and a release build of `kiln` (`cargo build --release -p kiln-kernel`).
See README.md beside this file for how it works.
"""
import argparse
import difflib
import multiprocessing
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import check  # noqa: E402
import gen  # noqa: E402
import reduce  # noqa: E402


def seeds_of(text):
    if ".." in text:
        a, b = text.split("..")
        return range(int(a), int(b))
    return range(int(text), int(text) + 1)


def one(job):
    seed, kiln = job
    text = gen.program(seed)
    return seed, check.check(text, kiln)


def report(seed, v):
    print(f"FAIL seed {seed}: {v.detail}")
    diff = difflib.unified_diff(
        v.expected.splitlines(keepends=True), v.actual.splitlines(keepends=True),
        "python (expected)", "kiln", n=2,
    )
    sys.stdout.writelines("    " + line if line.endswith("\n") else "    " + line + "\n" for line in diff)
    print(f"    reproduce: tests/difftest/run.py --seeds {seed}   "
          f"(program: --show {seed}; shrink: --reduce {seed})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0..300", help="A..B (half-open) or one seed")
    ap.add_argument("--reduce", type=int, metavar="SEED", help="shrink this seed's failure")
    ap.add_argument("--show", type=int, metavar="SEED", help="print this seed's program")
    ap.add_argument("--out", default="target/difftest", help="where --reduce writes (default target/difftest)")
    ap.add_argument("--kiln", default=str(ROOT / "target" / "release" / "kiln"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    if args.show is not None:
        sys.stdout.write(gen.program(args.show))
        return 0
    if not Path(args.kiln).exists():
        print(f"difftest: no {args.kiln}; build it with `cargo build --release -p kiln-kernel`")
        return 2
    if args.reduce is not None:
        return reduce.main(args.reduce, args.kiln, Path(args.out))

    seeds = seeds_of(args.seeds)
    t0 = time.monotonic()
    counts = {"ok": 0, "skip": 0, "fail": 0}
    failed = []
    with multiprocessing.Pool(args.jobs) as pool:
        for seed, v in pool.imap_unordered(one, [(s, args.kiln) for s in seeds], chunksize=4):
            counts[v.kind] += 1
            if v.kind == "fail":
                failed.append((seed, v))
    for seed, v in sorted(failed, key=lambda f: f[0]):
        report(seed, v)
    print(
        f"difftest: {len(seeds)} programs (seeds {seeds.start}..{seeds.stop}): {counts['ok']} agree, "
        f"{counts['fail']} differ, {counts['skip']} skipped as undefined (i64 overflow in Python "
        f"and the like), {time.monotonic() - t0:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
