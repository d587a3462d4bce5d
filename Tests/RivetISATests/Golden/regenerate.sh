#!/usr/bin/env bash
# Rebuilds the disassembler's golden files from their sources with the GNU toolchain:
#   allforms.S -> allforms.o (riscv64-linux-gnu-as -march=rv64gc)
#   extensions.S -> extensions.o (-march=rv64gc_zba_zbb_zbs_zicbom_zicboz_zihintpause)
#   linked.S   -> linked     (a static executable, assembled and linked with riscv64-linux-gnu-ld)
#   dynamic.c  -> dynamic    (a dynamically linked PIE, built with riscv64-linux-gnu-gcc)
# and records what `riscv64-linux-gnu-objdump -d` (binutils 2.40) prints for each in NAME.objdump.
# DisassemblerTests compares Rivet's listings with those, line for line. The objects and listings
# are committed, so the tests need no toolchain; run this after editing a source.
set -euo pipefail
cd "$(dirname "$0")"
AS=${AS:-riscv64-linux-gnu-as}
LD=${LD:-riscv64-linux-gnu-ld}
CC=${CC:-riscv64-linux-gnu-gcc}
OBJDUMP=${OBJDUMP:-riscv64-linux-gnu-objdump}

version=$("$OBJDUMP" --version | head -1)
case "$version" in
    *" 2.40"*) ;;
    *) echo "warning: the goldens record binutils 2.40; this is: $version" >&2 ;;
esac

"$AS" -march=rv64gc -o allforms.o allforms.S
"$OBJDUMP" -d allforms.o > allforms.objdump
"$AS" -march=rv64gc_zba_zbb_zbs_zicbom_zicboz_zihintpause -o extensions.o extensions.S
"$OBJDUMP" -d extensions.o > extensions.objdump

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$AS" -march=rv64gc -o "$scratch/linked.o" linked.S
"$LD" -static --build-id=none -o linked "$scratch/linked.o"
"$OBJDUMP" -d linked > linked.objdump

"$CC" -O2 -march=rv64gc -mabi=lp64d -Wl,--build-id=none -o dynamic dynamic.c
"$OBJDUMP" -d dynamic > dynamic.objdump

wc -l allforms.objdump extensions.objdump linked.objdump dynamic.objdump
