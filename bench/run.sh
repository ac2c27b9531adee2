#!/bin/sh
# Convenience wrapper: bench/run.sh [args...] == python3 bench/run.py [args...]
# (the harness itself picks .venv/bin/python for the Numba peers).
exec python3 "$(dirname "$0")/run.py" "$@"
