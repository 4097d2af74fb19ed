#!/usr/bin/env bash
# Builds the C guest programs in tests/fixtures/*.c to tests/fixtures/<name>.wasm (wasm32-wasi,
# wasi_snapshot_preview1). The .wasm files are committed: tests never need this script or a C
# toolchain. Run it after changing a .c file and commit the .c and the .wasm together.
#
#   scripts/build-fixtures.sh            # all fixtures
#   scripts/build-fixtures.sh float args # some of them
#
# Toolchain and reproducibility: scripts/wasi-cc.sh (Debian 12: apt-get install -y clang lld
# wasi-libc libclang-rt-dev-wasm32). Building twice gives byte-identical files (the sha256 sums are
# printed at the end).
set -euo pipefail

cd "$(dirname "$0")/.."
FIXTURES=tests/fixtures
WASI_CC_TOOL=build-fixtures
WASI_CC_WHAT="only needed to rebuild the fixtures; tests use the committed .wasm files"
# shellcheck source=scripts/wasi-cc.sh
. scripts/wasi-cc.sh

# Extra compile flags per fixture.
extra_cflags() {
  case "$1" in
    memory) echo -mbulk-memory ;; # memcpy/memmove/memset → memory.copy/memory.fill
  esac
}

if [ $# -gt 0 ]; then names=("$@"); else
  names=()
  for src in "$FIXTURES"/*.c; do names+=("$(basename "$src" .c)"); done
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "build-fixtures: $("$CC" --version | head -n1), sysroot $SYSROOT"
for name in "${names[@]}"; do
  src=$FIXTURES/$name.c
  [ -f "$src" ] || { echo "build-fixtures: no such fixture: $src" >&2; exit 1; }
  # shellcheck disable=SC2046
  wasi_cc_build "$src" "$FIXTURES/$name.wasm" "$tmp" $(extra_cflags "$name")
done
(cd "$FIXTURES" && for name in "${names[@]}"; do sha256sum "$name.wasm"; done)
