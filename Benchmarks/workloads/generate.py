"""Deterministic inputs for the program workloads of Benchmarks/run.

Everything here depends only on its arguments (a fixed linear congruential generator, no
`random`, no time), so every machine generates the same bytes and the outputs of the runners
can be compared with each other and across runs.

    python3 generate.py text BYTES > file      pseudo-English text with numbers (for compressors)
    python3 generate.py sql ROWS > file        a SQL script for the sqlite3 shell
    python3 generate.py ninja LIBS > file      a build.ninja for `ninja -n` (LIBS libraries)
"""

import sys

_WORDS = (
    "the of and to in is was that for it as with be on not he by are this at from but have an "
    "they which one you were all her she there would their we him been has when who will no more "
    "if out so said what up its about than into them can only other time new some could these two "
    "may first then do any like my now over such our man me even most made after also did many "
    "before must through back years where much your way well down should because each just those "
    "people how too little state good very make world still own see men work long get here between "
    "both life being under never day same another know while last might us great old year off come "
    "since against go came right used take three register branch decode block compile cache guest"
).split()


class Lcg:
    """A 64-bit linear congruential generator (Knuth's MMIX constants)."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self, bound):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return (self.state >> 33) % bound


def text(size, seed=1):
    """`size` bytes of text: sentences of common words, some numbers and identifiers."""
    rng = Lcg(seed)
    parts = []
    length = 0
    while length < size:
        words = [_WORDS[rng.next(len(_WORDS))] for _ in range(3 + rng.next(14))]
        if rng.next(4) == 0:
            words.insert(rng.next(len(words)), str(rng.next(100000)))
        if rng.next(6) == 0:
            words.append("0x%08x" % rng.next(1 << 32))
        sentence = " ".join(words).capitalize() + (".\n" if rng.next(5) == 0 else ". ")
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)[:size].encode()


def sql(rows, seed=2):
    """A SQL script: two tables filled with `rows` orders, an index, joins, aggregates,
    updates, deletes, sorting, LIKE, a recursive CTE and a correlated subquery. Every result is
    an integer or a string, or a float printed with few digits."""
    rng = Lcg(seed)
    customers = max(10, rows // 20)
    cities = ["Lyon", "Oslo", "Kyoto", "Lima", "Perth", "Quito", "Turin", "Accra", "Hanoi", "Bergen"]
    items = ["anvil", "banana", "cable", "drill", "engine", "fan", "gasket", "hinge", "insulator",
             "jack", "kettle", "lantern", "magnet", "nozzle", "oven", "pan", "quartz", "radio"]
    out = [
        ".bail on",
        "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT, joined INTEGER);",
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id),"
        " item TEXT, qty INTEGER, cents INTEGER, note TEXT);",
        "BEGIN;",
    ]
    for i in range(1, customers + 1):
        name = "".join(chr(97 + rng.next(26)) for _ in range(3 + rng.next(8)))
        out.append("INSERT INTO customers VALUES(%d,'%s','%s',%d);"
                   % (i, name.capitalize(), cities[rng.next(len(cities))], 1990 + rng.next(35)))
    for i in range(1, rows + 1):
        note = " ".join(_WORDS[rng.next(len(_WORDS))] for _ in range(rng.next(6)))
        out.append("INSERT INTO orders VALUES(%d,%d,'%s',%d,%d,'%s');"
                   % (i, 1 + rng.next(customers), items[rng.next(len(items))], 1 + rng.next(20),
                      100 + rng.next(100000), note))
    out += [
        "COMMIT;",
        "CREATE INDEX orders_customer ON orders(customer);",
        "CREATE INDEX orders_item_qty ON orders(item, qty);",
        "SELECT city, count(*), sum(qty), sum(cents) FROM orders JOIN customers ON customers.id = orders.customer"
        " GROUP BY city ORDER BY city;",
        "SELECT item, count(*), printf('%.2f', avg(qty)) FROM orders WHERE item LIKE '%an%'"
        " GROUP BY item ORDER BY 2 DESC, 1;",
        "SELECT c.id, c.name, (SELECT count(*) FROM orders o WHERE o.customer = c.id) AS n FROM customers c"
        " ORDER BY n DESC, c.id LIMIT 5;",
        "UPDATE orders SET cents = cents * 2, note = upper(note) WHERE qty % 7 = 0;",
        "DELETE FROM orders WHERE cents % 11 = 0;",
        "SELECT count(*), sum(cents), max(cents), min(qty), sum(length(note)) FROM orders;",
        "SELECT joined / 10 * 10 AS decade, count(DISTINCT orders.customer), sum(orders.qty * orders.cents) % 1000003"
        " FROM customers JOIN orders ON orders.customer = customers.id GROUP BY decade ORDER BY decade;",
        "SELECT name FROM customers ORDER BY name DESC, id LIMIT 5;",
        "SELECT item, qty, count(*) FROM orders WHERE item = 'magnet' AND qty BETWEEN 3 AND 6"
        " GROUP BY item, qty ORDER BY qty;",
        "SELECT group_concat(word, ',') FROM (SELECT DISTINCT substr(note, 1, 4) AS word FROM orders"
        " WHERE note <> '' ORDER BY word LIMIT 12);",
        "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < %d)"
        " SELECT sum(x * x %% 1000), count(*) FROM cnt;" % (rows * 5),
        "SELECT sum(a.qty * b.qty) FROM orders a JOIN orders b ON b.id = a.id + 1 WHERE a.customer % 3 = 0;",
    ]
    return ("\n".join(out) + "\n").encode()


def ninja(libraries, seed=3):
    """A build.ninja of `libraries` libraries (20 to 60 sources each, headers as implicit
    inputs, generated headers as order-only inputs) and programs linking several of them, for
    a dry run (`ninja -n`): no input exists, so generator edges without inputs make every
    source, and every edge is dirty. Rules use variables at file, rule and edge scope, $in and
    $out, descriptions (printed) and plain commands (printed when no description)."""
    rng = Lcg(seed)
    out = [
        "ninja_required_version = 1.5",
        "cc = riscv64-linux-gnu-gcc",
        "cflags = -O2 -Wall -Iinclude",
        "root = .",
        "rule gen",
        "  command = generate --seed $seed > $out",
        "  description = GEN $out",
        "rule cc",
        "  command = $cc $cflags $extra -MMD -MF $out.d -c $in -o $out",
        "  description = CC $out",
        "  depfile = $out.d",
        "rule ar",
        "  command = rm -f $out && ar crs $out $in",
        "rule link",
        "  command = $cc -o $out $in $libs",
        "  description = LINK $out",
        "pool heavy",
        "  depth = 2",
    ]
    headers = ["include/common.h", "include/config.h"]
    for h in headers:
        out.append("build %s: gen" % h)
        out.append("  seed = %d" % rng.next(1000))
    archives = []
    for lib in range(libraries):
        objects = []
        for k in range(20 + rng.next(41)):
            source = "src/lib%d/file%d.c" % (lib, k)
            obj = "$root/obj/lib%d/file%d.o" % (lib, k)
            out.append("build %s: gen" % source)
            out.append("  seed = %d" % rng.next(100000))
            header = "src/lib%d/file%d.h" % (lib, rng.next(k + 1))
            out.append("build %s: cc %s | %s || %s" % (obj, source, header, " ".join(headers)))
            if rng.next(3) == 0:
                out.append("  extra = -DLIB=%d -DFILE=%d" % (lib, k))
            objects.append(obj)
        for k in range(len(objects)):
            out.append("build src/lib%d/file%d.h: gen" % (lib, k))
        archive = "lib/liblib%d.a" % lib
        out.append("build %s: ar %s" % (archive, " ".join(objects)))
        archives.append(archive)
    programs = []
    for p in range(max(1, libraries // 3)):
        main = "src/app%d/main.c" % p
        out.append("build %s: gen" % main)
        out.append("build obj/app%d/main.o: cc %s || %s" % (p, main, " ".join(headers)))
        used = sorted({archives[rng.next(len(archives))] for _ in range(1 + rng.next(6))})
        program = "bin/app%d" % p
        out.append("build %s: link obj/app%d/main.o %s" % (program, p, " ".join(used)))
        out.append("  pool = heavy")
        out.append("  libs = -lm -lpthread")
        programs.append(program)
    out.append("build all: phony %s" % " ".join(programs))
    out.append("default all")
    return ("\n".join(out) + "\n").encode()


def main(argv):
    kinds = {"text": text, "sql": sql, "ninja": ninja}
    if len(argv) != 3 or argv[1] not in kinds:
        sys.stderr.write(__doc__)
        return 2
    data = kinds[argv[1]](int(argv[2]))
    sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
