#!/usr/bin/env bash
# Rebuilds the prebuilt example guests (needs gcc-riscv64-linux-gnu). The binaries are committed
# so that running an example needs no cross-compiler.
set -euo pipefail
cd "$(dirname "$0")"
riscv64-linux-gnu-gcc -O2 -static -s -o hello hello.c
riscv64-linux-gnu-gcc -O2 -static -s -o loop loop.c
