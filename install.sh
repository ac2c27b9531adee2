#!/usr/bin/env bash
# Kiln's installer: builds the release binary, makes .venv with Jupyter and the test tools,
# registers the `kiln` kernel into .venv, and runs the tour notebook once headless.
# Idempotent: run it again after pulling; it redoes only what is missing or stale.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# --- Rust ----------------------------------------------------------------------------
say "Checking the Rust toolchain"
command -v cargo >/dev/null || die "cargo not found. Install Rust 1.95 or newer (https://rustup.rs), then rerun ./install.sh"
cargo_version=$(cargo --version | awk '{print $2}')
if ! printf '1.95.0\n%s\n' "${cargo_version%%-*}" | sort -V -C; then
    die "cargo $cargo_version is too old: Kiln needs Rust 1.95 or newer (rustup update stable)"
fi
echo "    cargo $cargo_version"

# --- System packages (apt only when something is missing) -----------------------------
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null || die "missing system packages ($*) and no apt-get here: install them by hand"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        $sudo apt-get update -qq
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

need=()
# libzmq is built from source by the zmq crate: it needs a C and C++ compiler.
command -v cc >/dev/null && command -v c++ >/dev/null || need+=(build-essential)
command -v python3 >/dev/null || need+=(python3 python3-venv)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

# OpenCL for @gpu loops: the ICD loader and PoCL, an OpenCL device on the CPU, so @gpu
# runs on every machine. A GPU's own driver, where one is installed, registers beside it.
OPENCL_PACKAGES=(ocl-icd-libopencl1 pocl-opencl-icd clinfo)
if [ ${#OPENCL_PACKAGES[@]} -gt 0 ]; then
    missing=()
    for p in "${OPENCL_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
fi

# --- Build -----------------------------------------------------------------------------
say "Building Kiln (cargo build --release)"
cargo build --release
KILN="$PWD/target/release/kiln"

# --- Fuzzing and Miri (nightly toolchain) -----------------------------------------------
# ./test.sh runs fuzz/smoke.sh (cargo-fuzz on nightly) and the runtime's tests under Miri.
if command -v rustup >/dev/null; then
    if ! rustup toolchain list | grep -q '^nightly'; then
        say "Installing the nightly Rust toolchain (cargo fuzz and Miri need it)"
        rustup toolchain install nightly --profile minimal
    fi
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
        say "Installing cargo-fuzz"
        cargo install --locked cargo-fuzz
    fi
    if ! cargo +nightly miri --version >/dev/null 2>&1; then
        say "Adding Miri to the nightly toolchain"
        rustup component add --toolchain nightly miri rust-src
    fi
else
    echo "    no rustup: install a nightly toolchain, cargo-fuzz and Miri by hand for fuzz/smoke.sh and Miri"
fi

# --- Python environment ----------------------------------------------------------------
PY_PACKAGES=(jupyterlab jupyter_client jupyter-kernel-test nbclient nbformat nbconvert ipykernel pytest numpy numba numexpr pyopencl)
if [ ! -x .venv/bin/python ]; then
    say "Creating .venv"
    if ! python3 -m venv .venv 2>/dev/null; then
        rm -rf .venv
        # Debian splits venv support out of python3 (python3.X-venv).
        pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        apt_install python3-venv "python$pyver-venv" || apt_install python3-venv
        python3 -m venv .venv || die "python3 -m venv failed even after installing python3-venv"
    fi
fi
stamp=.venv/.kiln-packages
if [ "$(cat "$stamp" 2>/dev/null)" != "${PY_PACKAGES[*]}" ]; then
    say "Installing Python packages into .venv: ${PY_PACKAGES[*]}"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q "${PY_PACKAGES[@]}"
    echo "${PY_PACKAGES[*]}" > "$stamp"
else
    echo "    .venv already has ${PY_PACKAGES[*]}"
fi

# --- Kernel ----------------------------------------------------------------------------
say "Registering the Kiln kernel in .venv (kernelspec points at $KILN)"
"$KILN" install --prefix .venv

# --- The tour ---------------------------------------------------------------------------
say "Running the tour notebook headless"
./run-tour.sh

cat <<MSG

Kiln is installed.
  Start JupyterLab:   .venv/bin/jupyter lab        (pick the "Kiln" kernel)
  Run a file:         target/release/kiln run file.kiln
  REPL:               target/release/kiln repl
  Tests:              ./test.sh
MSG
