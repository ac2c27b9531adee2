#!/bin/sh
# Where does threading a whole-array statement start to pay?
#
# For n = 2^10 ... 2^22, times `y = 2*x**3 - 3*x**2 + 4*x - 1` written in place into an
# existing f64 `y`, once with KILN_PAR_MIN=huge (the statement always runs serially) and once
# with KILN_PAR_MIN=1 (always on the worker pool), KILN_THREADS=2 in both. Prints, per n, the
# fastest run of each (first run of the timed cell dropped as the warm-up), parallel/serial,
# and the smallest n from which the parallel run wins at every larger n as well (compare it
# with PAR_MAP_THRESHOLD in jit/src/codegen/clif.rs). The setup cell writes `y` (x * 0.5, not
# zeros) so its pages are already mapped: page faults on first touch would otherwise dominate
# the big sizes (kiln run --repeat reruns the setup cell before each timed run).
#
# usage: bench/par_threshold.sh [KILN_BINARY]   (default target/release/kiln; env: THREADS=2,
#        LO=10, HI=22 for the exponent range, REPEAT_SCALE=1 to multiply the repeat counts)
# Noisy on a shared machine: rerun it, and trust a crossover only when it is stable.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
kiln=${1:-$root/target/release/kiln}
threads=${THREADS:-2}
lo=${LO:-10}
hi=${HI:-22}
scale=${REPEAT_SCALE:-1}
if [ ! -x "$kiln" ]; then
    echo "no Kiln binary at $kiln (cargo build --release)" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# min of the timed cell's (cell 2) run_ms, dropping the first run.
min_ms() {
    python3 -c '
import json, sys
best = None
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("cell") == 2:
        runs = d["run_ms"][1:] or d["run_ms"]
        best = min(runs)
if best is None:
    sys.exit("no timings for cell 2 in " + sys.argv[1])
print("%.4f" % best)
' "$1"
}

printf '%10s %14s %14s %10s\n' n 'serial min ms' 'par min ms' 'par/ser'
crossover=
first_win=
e=$lo
while [ "$e" -le "$hi" ]; do
    n=$((1 << e))
    # Enough runs for small n to rise above timer noise, few for big n.
    if [ "$n" -le 16384 ]; then rep=300
    elif [ "$n" -le 262144 ]; then rep=100
    else rep=30
    fi
    rep=$((rep * scale))
    f=$tmp/poly_$n.kiln
    cat >"$f" <<KILN
x = linspace(0.0, 1.0, $n)
y = x * 0.5
# %%
y = 2*x**3 - 3*x**2 + 4*x - 1
# %%
y.sum()
KILN
    KILN_THREADS=$threads KILN_PAR_MIN=9223372036854775807 \
        "$kiln" run --timings --repeat "$rep" "$f" >"$tmp/s.out" 2>"$tmp/s.err"
    KILN_THREADS=$threads KILN_PAR_MIN=1 \
        "$kiln" run --timings --repeat "$rep" "$f" >"$tmp/p.out" 2>"$tmp/p.err"
    # Same checksum either way (an elementwise statement: bitwise the same).
    if [ "$(cat "$tmp/s.out")" != "$(cat "$tmp/p.out")" ]; then
        echo "!!! CHECKSUM MISMATCH at n=$n: serial $(cat "$tmp/s.out") vs parallel $(cat "$tmp/p.out")" >&2
        exit 2
    fi
    s=$(min_ms "$tmp/s.err")
    p=$(min_ms "$tmp/p.err")
    r=$(python3 -c "print('%.2f' % ($p / $s))")
    printf '%10d %14s %14s %10s\n' "$n" "$s" "$p" "$r"
    # Crossover: the smallest n from which parallel wins at this and every larger n.
    if python3 -c "import sys; sys.exit(0 if $p < $s else 1)"; then
        [ -n "$crossover" ] || crossover=$n
        [ -n "$first_win" ] || first_win=$n
    else
        crossover=
    fi
    e=$((e + 1))
done
echo "smallest n where parallel wins: ${first_win:-none}"
if [ -n "$crossover" ]; then
    echo "parallel ($threads threads) wins from n = $crossover on"
else
    echo "parallel ($threads threads) does not win at n = 2^$hi"
fi
