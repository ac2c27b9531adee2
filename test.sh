#!/usr/bin/env bash
# THE test command: Rust tests, then the Python suite (protocol tests, jupyter_kernel_test
# conformance, every notebook executed through the kernel), the differential tester's 300
# seeds, the bench harness's self-test, the runtime's unit tests under Miri and a short run
# of every fuzz target (fuzz/smoke.sh). Runs every part, then fails if any part failed.
# Needs ./install.sh first (for .venv, cargo-fuzz and Miri).
set -uo pipefail
cd "$(dirname "$0")"

failed=()
echo "==> cargo test --release --workspace"
cargo test --release --workspace || failed+=("cargo test")

echo "==> Python tests (tests/python) against this build"
if cargo build --release -p kiln-kernel && target/release/kiln install --prefix .venv >/dev/null; then
    .venv/bin/pytest tests/python -q || failed+=("pytest tests/python")
else
    failed+=("building/registering the kernel")
fi

echo "==> differential tester: 600 random programs, CPython + NumPy against kiln run"
.venv/bin/python tests/difftest/run.py --seeds 0..300 || failed+=("tests/difftest")
# 300 more programs, with every parallel loop the lane pass can take in vector lanes (on its
# own it leaves bodies without a loop one iteration at a time, which is faster).
KILN_LANES_EVERYWHERE=1 .venv/bin/python tests/difftest/run.py --seeds 300..600 \
    || failed+=("tests/difftest with KILN_LANES_EVERYWHERE=1")
.venv/bin/python tests/difftest/ctypes_diff.py --seeds 0..40 || failed+=("tests/difftest/ctypes_diff.py (C calls against CPython's ctypes)")

echo "==> bench harness self-test (its parsers and target arithmetic; no timings)"
python3 bench/run.py --selftest || failed+=("bench/run.py --selftest")

echo "==> the runtime's unit tests under Miri (undefined behaviour in its unsafe code)"
# Tree Borrows: crossbeam-epoch, under rayon's pool, breaks the older Stacked Borrows rules.
# The worker pool lives until exit, so Miri's leak check (which counts its threads) is off;
# the runtime's own reference-count tests check leaks of arrays and strings. Deterministic
# floats: by default Miri perturbs libm's results, and the tests compare with NumPy's bits.
# No preemption: threads switch where they block or yield. With preemption, Miri (nightly
# 2026-05) finds rayon-core 1.13's scope freed by its owner while the worker that finished
# the last job is still inside rayon's execute_job_closure (Tree Borrows: a protected tag
# disabled), in the parallel-loop tests, on this commit and on earlier ones alike.
MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-ignore-leaks -Zmiri-deterministic-floats -Zmiri-preemption-rate=0" cargo +nightly miri test -p kiln-runtime \
    || failed+=("miri")

echo "==> fuzz/smoke.sh (every fuzz target for a short run)"
fuzz/smoke.sh || failed+=("fuzz/smoke.sh")

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "All tests passed."
