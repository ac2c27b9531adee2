#!/usr/bin/env bash
# A short run of every fuzz target, for CI: builds them (cargo fuzz, on nightly) and runs
# each for FUZZ_SECONDS (default 25) from the committed seeds in corpus/<target>. New inputs
# go to grown/<target> (not committed); a crash leaves its input in artifacts/<target>/ and
# fails the script. Longer runs: README.md, "Fuzzing".
set -uo pipefail
cd "$(dirname "$0")"

SECONDS_EACH=${FUZZ_SECONDS:-25}
TARGETS=(parse lower exec wire)

die() { printf 'fuzz/smoke.sh: %s\n' "$*" >&2; exit 1; }
rustup toolchain list 2>/dev/null | grep -q '^nightly' \
    || die "the nightly toolchain is missing (rustup toolchain install nightly): cargo fuzz needs it"
cargo +nightly fuzz --version >/dev/null 2>&1 \
    || die "cargo-fuzz is missing (cargo install cargo-fuzz; ./install.sh installs it)"

# No sanitizer: the runtime's unsafe code has Miri (README.md, "Testing"); here the build
# time matters more, and panics, aborts and stack overflows are caught without ASan.
BUILD=(cargo +nightly fuzz build --sanitizer none)
echo "==> ${BUILD[*]}"
start=$(date +%s)
"${BUILD[@]}" || die "building the fuzz targets failed"
echo "    built in $(( $(date +%s) - start )) s"

failed=()
for t in "${TARGETS[@]}"; do
    mkdir -p "grown/$t"
    echo "==> fuzzing $t for ${SECONDS_EACH} s"
    if ! cargo +nightly fuzz run --sanitizer none "$t" "grown/$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        > "grown/$t.log" 2>&1; then
        tail -n 40 "grown/$t.log"
        failed+=("$t")
    else
        grep -E '^stat::number_of_executed_units|^Done' "grown/$t.log" | sed 's/^/    /'
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz/smoke.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz/smoke.sh: every target ran ${SECONDS_EACH} s without a crash"
