# A shell workload for busybox sh (Benchmarks/run, the `shell` workload; Tests run it too):
# pipelines, command substitutions nested three deep, loops, functions (recursive, through
# $(...)), subshells, here-documents, case, arithmetic, parameter expansions, redirections, and
# text tools (awk, sed, grep, sort, uniq, tr, cut, paste, head, tail, wc, tee, xargs, od,
# md5sum ...) on files it writes in a directory of its own. The output depends only on ROUNDS.
#
# Usage: sh shell.sh ROUNDS [read]    (with "read", also loops over the read builtin)
#
# PATH names nothing: every command must be a shell builtin or a busybox applet that runs in
# the shell's process (NOFORK) or in a forked copy of it (NOEXEC), never a program found on the
# host. (qemu-user cannot execute another riscv64 program without binfmt_misc, and would fall
# back to the host's own /usr/bin/...)
PATH=/nonexistent
rounds=${1:-4}
with_read=${2:-}
rm -rf work
mkdir work || exit 1
cd work || exit 1

# words COUNT SEED: COUNT pseudo-random words (a small LCG in awk, exact in doubles).
words() {
    awk -v n="$1" -v s="$2" 'BEGIN {
        x = s
        split("red green blue cyan magenta yellow black white amber coral indigo olive", w, " ")
        for (i = 0; i < n; i++) {
            x = (x * 75 + 74) % 65537
            printf "%s%d\n", w[x % 12 + 1], x % 7
        }
    }'
}

# fib N through command substitution (a subshell per call).
fib() {
    if [ "$1" -lt 2 ]; then echo "$1"; return; fi
    echo $(( $(fib $(($1 - 1))) + $(fib $(($1 - 2))) ))
}

# A recursive function with local variables and a return status.
depth() {
    local n=$1 acc=$2
    if [ "$n" -eq 0 ]; then echo "$acc"; return 3; fi
    depth $((n - 1)) "$acc$n"
}

checksum=0
round=1
while [ $round -le "$rounds" ]; do
    echo "== round $round"

    # Pipelines: word frequencies.
    words 1500 $round > words.txt
    words 1500 $round | sort | uniq -c | sort -k1,1nr -k2,2 | head -n 4 | awk '{ printf "%s=%s ", $2, $1 } END { print "" }'
    echo "distinct: $(sort -u words.txt | wc -l | tr -d ' ')"

    # Command substitutions nested three deep.
    inner=$(echo "$(echo "$(seq 1 $((round + 5)) | tr '\n' '+')0" | sed 's/+/ + /g')")
    echo "sum of $inner = $(( $inner ))"
    echo "lengths: $(echo $(for w in $(head -n 8 words.txt); do printf '%s ' ${#w}; done))"

    # Here-documents: one expanded, into awk; one literal, through a pipeline.
    awk -v r=$round '$1 ~ /^[ab]/ { total += $2 * $3 } $1 !~ /^[ab#]/ { others += $2 }
        END { print "total", total, "others", others, "round", r }' <<EOF
apple $round 3
# a comment line
banana $((round * 2)) 5
cherry $((round + 7)) 11
avocado 4 $round
date $(echo $round | awk '{ print $1 * $1 }') 2
EOF
    kept=$(cat <<'EOF' | sed -n '/^keep/p' | wc -c
keep $not_expanded $(nor this)
drop this line
keep the last one
EOF
)
    echo "kept chars $kept"

    # A case in a loop over a command substitution.
    kinds=
    for w in $(head -n 12 words.txt); do
        case $w in
            red* | blue*) kinds="${kinds}P" ;;
            *[0-2]) kinds="${kinds}l" ;;
            *) kinds="${kinds}." ;;
        esac
    done
    echo "kinds $kinds"

    # The read builtin (busybox polls before each byte it reads): with "read" only.
    if [ "$with_read" = read ]; then
        n=0 sum=0
        seq 1 $((round * 10)) | while read -r k; do echo $((k * k)); done > squares.txt
        while read -r k; do n=$((n + 1)); sum=$((sum + k)); done < squares.txt
        echo "read $n lines, sum $sum"
        rm -f squares.txt
    fi

    # Subshells: their own directory and variables; exit statuses.
    (
        mkdir -p sub/a sub/b
        cd sub || exit 1
        for k in $(seq 1 12); do echo "line $k of $round" > "a/f$k.txt"; done
        cp a/f1.txt a/f2.txt b/
        mv b/f2.txt b/moved.txt
        echo "files: $(ls a | wc -l | tr -d ' ') $(ls b | tr '\n' ' ')"
        round=changed
    )
    echo "round is still $round"
    (exit 3)
    echo "subshell status $?"
    depth 5 x >/dev/null
    echo "depth status $? value $(depth 5 x)"
    echo "fib $((round % 4 + 7)) = $(fib $((round % 4 + 7)))"

    # Files, tee, grep, cut, paste, sort by field, xargs, od, md5sum.
    words 300 $((round + 100)) | tee copy.txt | grep -c 'e' | awk '{ print "with e:", $1 }'
    cut -c1-3 copy.txt | paste -d, - - - | sort -t, -k2,2 -k1,1 | tail -n 2
    grep -n 'blue' copy.txt | head -n 3 | cut -d: -f1 | xargs echo "blue at lines"
    printf 'round %d\n' $round | od -b | head -n 1
    sed -e 's/[0-9]//g' -e 'y/abc/ABC/' copy.txt | sort | uniq -c | md5sum | cut -c1-16
    echo "expr: $(expr $round \* 17 % 5) $(expr length "round$round") $(expr "abc$round" : 'abc\(.*\)')"

    # Parameter expansions.
    path=/usr/local/share/doc/file$round.tar.gz
    echo "${path##*/} ${path%%.*} ${path#/usr} ${path%.gz} ${#path} ${unset:-default} ${path/share/SHARE}"

    # Accumulate a checksum from the files written this round.
    this=$(cat words.txt copy.txt sub/a/*.txt | cksum | cut -d' ' -f1)
    checksum=$(( (checksum * 31 + this) % 1000000007 ))
    rm -rf sub words.txt copy.txt
    round=$((round + 1))
done
echo "checksum $checksum"
cd .. && rm -rf work
