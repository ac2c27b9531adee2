#!/usr/bin/env python3
"""Compile time of Kiln cells, one binary against another, interleaved run by run.

    python3 bench/compile_time.py [--runs N] BIN [BIN ...] -- FILE.kiln [FILE.kiln ...]

Each run is `BIN run --timings FILE` (one process, so every run compiles from nothing); the
JSON line `--timings` prints per cell gives parse, check, lower and Cranelift codegen times.
Binaries take turns within each round, so drift on a noisy machine hits them alike. Prints,
per file and binary, the median and the range (min-max) of each phase summed over the file's
cells, and each binary's median compile time as a ratio to the first binary's.
"""
import json
import statistics
import subprocess
import sys


def phases(binary, path):
    r = subprocess.run([binary, "run", "--timings", path], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{binary} run {path} failed:\n{r.stderr}")
    total = {"parse_ms": 0.0, "check_ms": 0.0, "lower_ms": 0.0, "codegen_ms": 0.0, "compile_ms": 0.0}
    for line in r.stderr.splitlines():
        if line.startswith("{"):
            cell = json.loads(line)
            for k in total:
                total[k] += cell[k]
    return total


def main():
    args = sys.argv[1:]
    runs = 21
    if args[:1] == ["--runs"]:
        runs, args = int(args[1]), args[2:]
    if "--" not in args:
        sys.exit(__doc__)
    k = args.index("--")
    binaries, files = args[:k], args[k + 1 :]
    for path in files:
        samples = {b: [] for b in binaries}
        for _ in range(runs):
            for b in binaries:
                samples[b].append(phases(b, path))
        print(f"{path} ({runs} runs each, ms: median [min-max])")
        base = None
        for b in binaries:
            row = []
            for key in ("parse_ms", "check_ms", "lower_ms", "codegen_ms", "compile_ms"):
                xs = [s[key] for s in samples[b]]
                row.append(f"{key[:-3]} {statistics.median(xs):.3f} [{min(xs):.3f}-{max(xs):.3f}]")
            med = statistics.median(s["compile_ms"] for s in samples[b])
            base = base or med
            print(f"  {b}: " + ", ".join(row) + f"; compile {med / base:.2f}x the first")


if __name__ == "__main__":
    main()
