#!/usr/bin/env bash
# Executes notebooks/01-tour.ipynb headless through the Kiln kernel (the README's quick
# start) and writes the executed copy to target/tour/01-tour.ipynb. Needs ./install.sh first.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/jupyter ] || { echo "error: .venv is missing: run ./install.sh first" >&2; exit 1; }
mkdir -p target/tour
.venv/bin/jupyter nbconvert --to notebook --execute \
    --ExecutePreprocessor.kernel_name=kiln --ExecutePreprocessor.timeout=300 \
    --output-dir target/tour --output 01-tour.ipynb notebooks/01-tour.ipynb
echo "The executed tour is in target/tour/01-tour.ipynb (open it with .venv/bin/jupyter lab)."
