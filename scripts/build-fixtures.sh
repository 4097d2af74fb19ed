#!/usr/bin/env bash
# Builds the C guest programs in tests/fixtures/*.c to tests/fixtures/<name>.wasm (wasm32-wasi,
# wasi_snapshot_preview1). The .wasm files are committed: tests never need this script or a C
# toolchain. Run it after changing a .c file and commit the .c and the .wasm together.
#
#   scripts/build-fixtures.sh            # all fixtures
#   scripts/build-fixtures.sh float args # some of them
#
# Toolchain (Debian 12): apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32
#   clang 14 + wasm-ld 14, wasi-libc installed multiarch: --sysroot=/usr, headers in
#   /usr/include/wasm32-wasi, libraries in /usr/lib/wasm32-wasi; compiler-rt builtins (long double
#   soft-float used by printf) from libclang-rt-dev-wasm32. Override with CC=… WASI_SYSROOT=….
#
# Reproducibility: clang runs binaryen's wasm-opt after linking whenever the link command line has
# an -O flag and a wasm-opt is found (on PATH — node_modules/.bin has one under npm — or next to
# clang). clang 14 has no flag to turn that off, so every file is compiled with -O2 -c and linked
# in a separate clang call *without* any -O flag: wasm-opt is then never run, whatever PATH holds.
# No -g, and --strip-debug drops the DWARF that libc.a carries, so no build path ends up in the
# output. Building twice gives byte-identical files (the sha256 sums are printed at the end).
set -euo pipefail

cd "$(dirname "$0")/.."
FIXTURES=tests/fixtures
CC=${CC:-clang}
SYSROOT=${WASI_SYSROOT:-/usr}
TARGET=--target=wasm32-wasi

missing() {
  echo "build-fixtures: $1" >&2
  echo "  install the toolchain (Debian, as root):" >&2
  echo "    apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32" >&2
  echo "  (only needed to rebuild the fixtures; tests use the committed .wasm files)" >&2
  exit 1
}
command -v "$CC" >/dev/null || missing "$CC not found"
# clang finds wasm-ld (wasm-ld or wasm-ld-<version>) itself; ask it which one it would run.
LD=$("$CC" $TARGET -print-prog-name=wasm-ld)
command -v "$LD" >/dev/null || [ -x "$LD" ] || missing "wasm-ld not found (package lld)"
[ -f "$SYSROOT/include/wasm32-wasi/stdio.h" ] && [ -f "$SYSROOT/lib/wasm32-wasi/libc.a" ] ||
  missing "wasi-libc not found under sysroot $SYSROOT (package wasi-libc)"
RT=$("$CC" $TARGET --sysroot="$SYSROOT" -print-libgcc-file-name)
[ -f "$RT" ] || missing "compiler-rt builtins for wasm32 not found at $RT (package libclang-rt-dev-wasm32)"

CFLAGS=(-O2 -std=gnu11 -Wall -Wextra -Werror)
LDFLAGS=(-Wl,--strip-debug -Wl,-z,stack-size=1048576)

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
  "$CC" $TARGET --sysroot="$SYSROOT" "${CFLAGS[@]}" $(extra_cflags "$name") -c "$src" -o "$tmp/$name.o"
  "$CC" $TARGET --sysroot="$SYSROOT" "$tmp/$name.o" "${LDFLAGS[@]}" -o "$tmp/$name.wasm"
  chmod 644 "$tmp/$name.wasm"
  mv "$tmp/$name.wasm" "$FIXTURES/$name.wasm"
done
(cd "$FIXTURES" && for name in "${names[@]}"; do sha256sum "$name.wasm"; done)
