#!/usr/bin/env bash
# Builds the guest-program fixtures and records their expected behaviour.
#
# Every fixture is one source file here: NAME.c (C, static glibc), NAME.cpp (C++, static
# libstdc++) or NAME.S (assembly, no libc, entry _start). This script compiles each to bin/NAME with riscv64-linux-gnu-gcc, then runs it
# under qemu-riscv64 (the outside reference) in a scratch directory and writes
# expected/NAME.stdout and expected/NAME.status. Binaries and expectations are committed, so the
# tests need neither a cross-compiler nor qemu.
#
# Directives, in a comment anywhere in the source:
#   rivet-fixture: args A B C        arguments to pass
#   rivet-fixture: dynamic           link dynamically (loaded through the sysroot)
#   rivet-fixture: cflags FLAGS      extra compiler flags
#   rivet-fixture: net               Rivet runs it with the network grant (qemu always has it)
#   rivet-fixture: freestanding      C without libc (its own _start and syscalls): links with
#                                    -nostdlib, so any C compiler for riscv64 builds it, e.g.
#                                    CC="clang --target=riscv64-linux-gnu -fuse-ld=lld" build.sh NAME
#   rivet-fixture: no-qemu           qemu differs on purpose (e.g. the sandbox); the expected
#                                    files are written by hand and this script leaves them alone
#
# Usage: build.sh [NAME...]   (default: every fixture)
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-riscv64-linux-gnu-gcc}
CXX=${CXX:-riscv64-linux-gnu-g++}
SYSROOT=${SYSROOT:-/usr/riscv64-linux-gnu}

# A directive's value: the rest of its line, up to a comment's closing */.
directive() { sed -n "s/.*rivet-fixture: $2 *\(.*\)/\1/p" "$1" | head -1 | sed 's#\*/.*##; s/ *$//'; }
has_directive() { grep -q "rivet-fixture: $2\b" "$1"; }

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in *.c *.cpp *.S; do [ -e "$f" ] && names+=("${f%.*}"); done
fi
for name in "${names[@]}"; do
    if [ -e "$name.c" ]; then src="$name.c"; elif [ -e "$name.cpp" ]; then src="$name.cpp"; else src="$name.S"; fi
    compiler=$CC
    if [ "${src##*.}" = cpp ]; then compiler=$CXX; fi
    flags=(-O2 -march=rv64gc -mabi=lp64d)
    # Static unless the fixture asks to be linked dynamically or as a static PIE.
    if ! has_directive "$src" dynamic && [[ "$(directive "$src" cflags)" != *-static-pie* ]]; then
        flags+=(-static)
    fi
    libm=
    if [ "${src##*.}" = c ]; then libm=-lm; fi
    if [ "${src##*.}" = S ]; then flags+=(-nostdlib); fi
    if has_directive "$src" freestanding; then flags+=(-nostdlib -ffreestanding -mno-relax); libm=; fi
    if [ -n "$libm" ]; then flags+=(-lm); fi
    extra=$(directive "$src" cflags)
    # shellcheck disable=SC2206
    $compiler "${flags[@]}" $extra -o "bin/$name" "$src" $libm
    if has_directive "$src" no-qemu; then echo "built $name (expectations by hand)"; continue; fi
    args=$(directive "$src" args)
    scratch=$(mktemp -d)
    set +e
    # shellcheck disable=SC2086
    (cd "$scratch" && qemu-riscv64 -L "$SYSROOT" -E RIVET_FIXTURE=1 "$OLDPWD/bin/$name" $args \
        < /dev/null > "$OLDPWD/expected/$name.stdout" 2>/dev/null)
    status=$?
    set -e
    rm -rf "$scratch"
    echo "$status" > "expected/$name.status"
    echo "built $name (exit $status)"
done
