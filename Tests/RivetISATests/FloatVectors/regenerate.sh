#!/usr/bin/env bash
# Regenerates vectors.txt: builds generator.c for riscv64 and runs it under qemu-riscv64,
# the outside reference for RISC-V floating-point results and fflags.
# Needs riscv64-linux-gnu-gcc and qemu-riscv64; the tests only read the committed vectors.
#
# Usage: regenerate.sh                      rewrite the committed vectors.txt
#        regenerate.sh SCALE SEED OUTPUT    a larger set elsewhere, for a one-off run of the
#                                           vector test with RIVET_FLOAT_VECTORS=OUTPUT
set -euo pipefail
output=$(realpath -m "${3:-$(dirname "$0")/vectors.txt}")
cd "$(dirname "$0")"
CC=${CC:-riscv64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-riscv64}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$CC" -x c -std=c11 -O2 -Wall -Wextra -Werror -march=rv64gc -mabi=lp64d -static \
    -o "$scratch/generator" generator.c -lm
"$QEMU" "$scratch/generator" ${1:+"$1"} ${2:+"$2"} > "$scratch/vectors.txt"
mv "$scratch/vectors.txt" "$output"
echo "$output: $(wc -l < "$output") lines, $(wc -c < "$output") bytes"
