# Sourced by scripts/build-fixtures.sh and scripts/build-corpus.sh: the one place for the C
# toolchain (wasm32-wasi, wasi_snapshot_preview1), its checks and the flags of a reproducible build.
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
# output. Building twice gives byte-identical files.
#
# The sourcing script sets WASI_CC_TOOL (its name, for messages) and WASI_CC_WHAT (what the
# toolchain is needed for) first.

CC=${CC:-clang}
SYSROOT=${WASI_SYSROOT:-/usr}
TARGET=--target=wasm32-wasi
CFLAGS=(-O2 -std=gnu11 -Wall -Wextra -Werror)
LDFLAGS=(-Wl,--strip-debug -Wl,-z,stack-size=1048576)

missing() {
  echo "$WASI_CC_TOOL: $1" >&2
  echo "  install the toolchain (Debian, as root):" >&2
  echo "    apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32" >&2
  echo "  ($WASI_CC_WHAT)" >&2
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

# wasi_cc_build <src.c> <out.wasm> <tmpdir> [extra compile flags…]: compile, link, then move into
# place (a failed build leaves the old file).
wasi_cc_build() {
  local src=$1 out=$2 tmp=$3 name
  shift 3
  name=$(basename "$src" .c)
  "$CC" $TARGET --sysroot="$SYSROOT" "${CFLAGS[@]}" "$@" -c "$src" -o "$tmp/$name.o"
  "$CC" $TARGET --sysroot="$SYSROOT" "$tmp/$name.o" "${LDFLAGS[@]}" -o "$tmp/$name.wasm"
  chmod 644 "$tmp/$name.wasm"
  mv "$tmp/$name.wasm" "$out"
}
