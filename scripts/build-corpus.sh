#!/usr/bin/env bash
# Builds the benchmark corpus, bench/corpus/<name>.c to bench/corpus/<name>.wasm (wasm32-wasi,
# wasi_snapshot_preview1), with the toolchain and flags of the fixtures (scripts/wasi-cc.sh). The
# .wasm files are committed: tests and `npm run bench -- --corpus` never need this script or a C
# toolchain. Run it after changing a .c file and commit the .c and the .wasm together.
#
#   scripts/build-corpus.sh             # all programs
#   scripts/build-corpus.sh lz regex    # some of them
#
# Building twice gives byte-identical files (the sha256 sums are printed at the end).
set -euo pipefail

cd "$(dirname "$0")/.."
CORPUS_DIR=bench/corpus
# The programs, in the order of bench/corpus/README.md (tests/bench/corpus.test.ts checks that
# this list, the README's table and bench/corpus.ts agree).
CORPUS=(hash sort bignum fluid lz json bytecode regex btree strings)

WASI_CC_TOOL=build-corpus
WASI_CC_WHAT="only needed to rebuild the corpus; tests and the bench use the committed .wasm files"
# shellcheck source=scripts/wasi-cc.sh
. scripts/wasi-cc.sh

if [ $# -gt 0 ]; then names=("$@"); else names=("${CORPUS[@]}"); fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "build-corpus: $("$CC" --version | head -n1), sysroot $SYSROOT"
for name in "${names[@]}"; do
  src=$CORPUS_DIR/$name.c
  [ -f "$src" ] || { echo "build-corpus: no such program: $src" >&2; exit 1; }
  wasi_cc_build "$src" "$CORPUS_DIR/$name.wasm" "$tmp"
done
(cd "$CORPUS_DIR" && for name in "${names[@]}"; do sha256sum "$name.wasm"; done)
