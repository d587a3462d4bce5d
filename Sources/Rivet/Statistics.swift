/// Figures about a guest run (DESIGN.md decision 8): where the time went, what each tier did,
/// the compile queue, the code cache, the hottest code, and the syscalls.
public struct Statistics: Equatable, Sendable {
    /// One tier's figures.
    public struct Tier: Equatable, Sendable {
        /// The tier's name: `interp`, `baseline` or `opt`.
        public var name: String
        /// Blocks decoded (interpreter) or compiled (JIT tiers).
        public var blocks: UInt64 = 0
        /// Compiles (0 for the interpreter).
        public var compiles: UInt64 = 0
        /// Compile time in total.
        public var compileTime: Duration = .zero
        /// Mean compile time per block, in microseconds.
        public var meanCompileMicroseconds: Double = 0
        /// The 99th percentile of compile time per block, in microseconds.
        public var p99CompileMicroseconds: Double = 0
        /// Bytes of host code (0 for the interpreter).
        public var codeBytes: UInt64 = 0
        /// Guest instructions the tier executed.
        public var instructions: UInt64 = 0
    }

    /// What the optimizing tier (tier 2) did beside its row in `tiers`.
    public struct Optimizing: Equatable, Sendable {
        /// Regions sent to its background queue (`auto`).
        public var requests: UInt64 = 0
        /// Blocks it could not compile (an instruction it does not model first, or something the
        /// backend does not lower): they stay with the baseline JIT.
        public var failures: UInt64 = 0
        /// Regions dropped because they stopped before their block's end (`auto`).
        public var partialRegions: UInt64 = 0
        /// Regions removed because their entry guard failed (float code compiled for `frm` =
        /// round to nearest, run with another rounding mode): the lower tiers run the code.
        public var guardFailures: UInt64 = 0
        /// Regions removed because they were left more often than once every 10 guest
        /// instructions (over 20,000 exits): the baseline's code runs that code again.
        public var demotedRegions: UInt64 = 0
        /// `--tier opt`: compiles the baseline did instead of tier 2, because the pc backs off:
        /// its region was evicted (a code cache too small for the regions' working set
        /// thrashes; the baseline's code may be evicted and compiled again too) or deoptimized.
        public var thrashingRegions: UInt64 = 0
        /// Times its code was left, by a side exit, the loop's exit or a budget exit (each entry
        /// leaves once; faults and failed guards are not counted).
        public var exits: UInt64 = 0
        /// Guest instructions in the regions compiled.
        public var guestInstructions: UInt64 = 0
        /// IR instructions of those regions before and after the passes.
        public var irInstructionsBefore: UInt64 = 0
        public var irInstructionsAfter: UInt64 = 0
    }

    /// A block among the hottest.
    public struct HotBlock: Equatable, Sendable {
        /// Guest address of its first instruction.
        public var address: UInt64
        /// The ELF symbol it lies in, with the offset, when the program has symbols.
        public var symbol: String?
        /// The tier that executed most of it: `interp`, `baseline` or `opt`.
        public var tier: String
        /// Guest instructions executed in it.
        public var instructions: UInt64
        /// Its share of all executed instructions (0...1).
        public var share: Double
        /// Its code stopped counting (`Configuration.countingLimit`): it ran at least
        /// `instructions`.
        public var isLowerBound = false
        /// For a tier-2 region's header: the times the region was entered (each entry leaves
        /// it once, by a side exit, the loop's exit or a budget exit), and the guest
        /// instructions it ran; nil for other blocks.
        public var regionEntries: UInt64? = nil
        public var regionInstructions: UInt64? = nil
        /// A region's guest instructions per entry: a loop that stays in tier 2 runs thousands;
        /// one left at every pass, a few dozen (its entries and exits cost more than it saves).
        public var instructionsPerEntry: UInt64? {
            guard let entries = regionEntries, let instructions = regionInstructions else { return nil }
            return instructions / max(1, entries)
        }
    }

    /// One of the structures Rivet keeps for the guest, and its bound: every one that grows
    /// with the guest's code or memory is bounded.
    public struct Structure: Equatable, Sendable {
        /// What it is: `decoded blocks`, `translations` ...
        public var name: String
        /// Its entries now (blocks, translations, requests ...).
        public var entries: Int
        /// Host memory it takes now, in bytes.
        public var bytes: Int
        /// The most it may take, in bytes (or entries, as `bound` says).
        public var limit: Int
        /// What `limit` counts: `bytes` or `entries`.
        public var bound: String
        /// Entries it dropped to stay within its bound.
        public var dropped: UInt64
    }

    /// Guest instructions retired.
    public var instructions: UInt64
    /// Wall-clock time spent in `run()`.
    public var wallTime: Duration
    /// Calls per syscall name.
    public var syscalls: [String: UInt64]
    /// Where the time went: loading, compiled code, the interpreter, compiling, syscalls,
    /// waiting, the run loop (sampled with `Configuration.measuresTime`).
    public var time = TimeBreakdown()
    /// The tiers, lowest first.
    public var tiers: [Tier] = []
    /// The optimizing tier's figures, when it is on (`auto`, `opt`).
    public var optimizing: Optimizing?

    // The compile queue (background compilation).
    /// Worker threads (0: compiles ran on the guest thread).
    public var compileThreads = 0
    /// Compiles made on the guest threads (where the guest waits for them), and their whole
    /// time: decoding the block, compiling and installing it (a tier's `compileTime` counts the
    /// compiler alone: for tier 1 about half of this).
    public var guestThreadCompiles: UInt64 = 0
    /// Blocks compiled because forked children reported compiling them: code the next
    /// children inherit instead of compiling it again each.
    public var compiledForChildren: UInt64 = 0
    /// Blocks decoded because forked children reported decoding them.
    public var decodedForChildren: UInt64 = 0
    public var guestThreadCompileTime: Duration = .zero
    /// `--stats`' words for the compiles on the guest threads, if any ("N compiled on guest
    /// threads in T ms ...", then a comma).
    var guestThreadCompilesText: String {
        guard guestThreadCompiles > 0 else { return "" }
        let each = guestThreadCompileTime / .microseconds(1) / Double(guestThreadCompiles)
        return "\(grouped(guestThreadCompiles)) compiled on guest threads in "
            + "\(formatted(guestThreadCompileTime / .milliseconds(1), digits: 2)) ms with decoding and installing "
            + "(\(formatted(each, digits: 1)) µs each), "
    }

    /// The compile queue's longest length.
    public var queueMaxLength = 0
    /// How long a request waited in the compile queue on average, in microseconds.
    public var queueMeanWaitMicroseconds: Double = 0
    /// Tier-up requests queued.
    public var queuedRequests: UInt64 = 0
    /// Tier-up requests merged into a request already waiting.
    public var mergedRequests: UInt64 = 0
    /// Compiles that failed.
    public var failedCompiles: UInt64 = 0
    /// Compiles dropped because the guest code changed meanwhile.
    public var staleCompiles: UInt64 = 0
    /// Compiles discarded for taking longer than `Configuration.compileTimeLimit`.
    public var timedOutCompiles: UInt64 = 0
    /// The tier-1 threshold at the end (it moves in adaptive mode).
    public var threshold: UInt32 = 0

    // The code cache.
    /// The code cache's size, in bytes.
    public var codeCacheSize = 0
    /// Bytes of the code cache in use at the end.
    public var codeCacheUsed = 0
    /// Run-loop lookups that found compiled code.
    public var cacheHits: UInt64 = 0
    /// Run-loop lookups that found no compiled code.
    public var cacheMisses: UInt64 = 0
    /// Translations evicted from the code cache.
    public var evictions: UInt64 = 0
    /// Times the cache was full and evicted a batch (about a sixteenth of it).
    public var evictionEpisodes: UInt64 = 0
    /// Translations dropped because the guest code they came from changed.
    public var invalidations: UInt64 = 0
    /// Guest pages whose decoded and compiled code an execve kept: the new program maps the
    /// same bytes there (a program exec'ing itself, as a shell's children do).
    public var codePagesKeptAtExec: UInt64 = 0
    /// Compiled code discarded with execution going on in the interpreter.
    public var deopts: UInt64 = 0
    /// Tier-ups held back because a block keeps being invalidated.
    public var backoffs: UInt64 = 0

    // Transfers between blocks.
    /// Exits from compiled code to the run loop.
    public var exitsToRunLoop: UInt64 = 0
    /// Transfers from one compiled block straight into the next (chained).
    public var chainedTransfers: UInt64 = 0
    /// Indirect jumps in compiled code.
    public var indirectJumps: UInt64 = 0
    /// Indirect jumps whose target the jump cache had.
    public var jumpCacheHits: UInt64 = 0
    /// Exits from compiled code to the run loop by reason: budget, syscall, chain (a direct
    /// jump not linked yet), indirect (a jump-cache miss), fault, trap, bounds, fence.i, helper.
    public var exitsByKind: [String: UInt64] = [:]
    /// Faults in compiled code.
    public var compiledCodeFaults: UInt64 = 0
    /// Faults in compiled code that were writes to pages holding compiled code.
    public var codeWriteFaults: UInt64 = 0

    /// The ten blocks that executed the most instructions.
    public var hottestBlocks: [HotBlock] = []
    /// Runs after which a compiled block stops counting (`Configuration.countingLimit`; 0:
    /// never), and how many blocks did: their counts, and so `hottestBlocks` and
    /// `chainedTransfers`, are lower bounds.
    public var countingLimit: UInt64 = 0
    public var countingStops: UInt64 = 0

    /// The structures Rivet keeps for the guest, with their bounds.
    public var structures: [Structure] = []
    /// The host process's resident memory at its peak so far (VmHWM), in bytes.
    public var peakHostMemory = 0

    /// Guest instructions per second, in millions.
    public var mips: Double {
        let s = seconds(wallTime)
        return s > 0 ? Double(instructions) / s / 1e6 : 0
    }

    /// A readable table, as `rivet run --stats` prints it.
    public var summary: String {
        var lines: [String] = []
        lines.append(
            "guest instructions \(grouped(instructions)) in \(formatted(seconds(wallTime), digits: 3)) s (\(formatted(mips, digits: 1)) MIPS)")
        lines.append("")
        lines += time.summary
        lines.append("")
        let header = ["tier", "blocks", "compiles", "compile total", "mean", "p99", "code bytes", "instructions", "share"]
        var rows: [[String]] = [header]
        let total = max(1, tiers.reduce(0) { $0 + $1.instructions })
        for t in tiers {
            let jit = t.compiles > 0 || t.name != "interp"
            rows.append([
                t.name, grouped(t.blocks), jit ? grouped(t.compiles) : "-",
                jit ? formatted(milliseconds(t.compileTime), digits: 2) + " ms" : "-",
                jit ? formatted(t.meanCompileMicroseconds, digits: 1) + " µs" : "-",
                jit ? formatted(t.p99CompileMicroseconds, digits: 1) + " µs" : "-",
                jit ? grouped(t.codeBytes) : "-", grouped(t.instructions),
                formatted(Double(t.instructions) / Double(total) * 100, digits: 1) + "%",
            ])
        }
        lines += table(rows, rightAligned: Set(1..<header.count))
        lines.append("")
        if tiers.count > 1 {
            let hits = cacheHits + cacheMisses == 0 ? 0 : Double(cacheHits) / Double(cacheHits + cacheMisses) * 100
            let jumpHits = indirectJumps == 0 ? 0 : Double(jumpCacheHits) / Double(indirectJumps) * 100
            if let o = optimizing, let opt = tiers.first(where: { $0.name == "opt" }) {
                let perInstruction = o.guestInstructions == 0 ? 0 : Double(opt.compileTime.components.seconds) * 1e6
                    + Double(opt.compileTime.components.attoseconds) / 1e12
                let reduced = o.irInstructionsBefore == 0 ? 0 : (1 - Double(o.irInstructionsAfter) / Double(o.irInstructionsBefore)) * 100
                lines.append(
                    "optimizing tier \(grouped(o.requests)) requests, \(grouped(opt.compiles)) regions of \(grouped(o.guestInstructions)) guest instructions (\(formatted(o.guestInstructions == 0 ? 0 : perInstruction / Double(o.guestInstructions), digits: 2)) µs each to compile), \(o.failures) not compilable, \(o.partialRegions) partial, \(o.guardFailures) removed by their guard, \(o.demotedRegions) demoted (left every few instructions), \(grouped(o.thrashingRegions)) compiled by the baseline instead (backing off after an eviction or a deopt); left \(grouped(o.exits)) times (\(grouped(o.exits == 0 ? 0 : opt.instructions / o.exits)) guest instructions per entry); IR \(grouped(o.irInstructionsBefore)) → \(grouped(o.irInstructionsAfter)) instructions by the passes (−\(formatted(reduced, digits: 0))%)"
                )
            }
            lines.append(
                "compile queue   \(compileThreads == 0 ? "compiles on the guest thread" : "\(compileThreads) worker thread\(compileThreads == 1 ? "" : "s")"), \(guestThreadCompilesText)\(grouped(queuedRequests)) requests (\(grouped(mergedRequests)) merged), max length \(queueMaxLength), mean wait \(formatted(queueMeanWaitMicroseconds, digits: 1)) µs, \(failedCompiles) failed, \(staleCompiles) stale, \(timedOutCompiles) timed out\(compiledForChildren + decodedForChildren == 0 ? "" : ", \(grouped(compiledForChildren)) compiled and \(grouped(decodedForChildren)) decoded for forked children"); threshold now \(threshold)"
            )
            lines.append(
                "code cache      \(bytes(codeCacheUsed)) used of \(bytes(codeCacheSize)), lookups \(formatted(hits, digits: 1))% hits, \(grouped(evictions)) evictions (\(grouped(evictionEpisodes)) episodes), \(grouped(invalidations)) invalidations, \(grouped(deopts)) deopts (\(grouped(backoffs)) back-offs)\(codePagesKeptAtExec == 0 ? "" : "; \(grouped(codePagesKeptAtExec)) code pages kept at exec")"
            )
            lines.append(
                "transfers       \(grouped(exitsToRunLoop)) exits to the run loop, \(countingStops > 0 ? "at least " : "")\(grouped(chainedTransfers)) chained; \(grouped(indirectJumps)) indirect jumps, \(formatted(jumpHits, digits: 1))% jump-cache hits; \(compiledCodeFaults) faults in compiled code (\(codeWriteFaults) writes to it)"
            )
            lines.append("")
        }
        if !hottestBlocks.isEmpty {
            lines.append("hottest blocks")
            var hot: [[String]] = [["#", "address", "symbol", "tier", "instructions", "share", "per entry"]]
            for (k, b) in hottestBlocks.enumerated() {
                hot.append([
                    "\(k + 1)", "0x" + String(b.address, radix: 16), b.symbol ?? "-", b.tier,
                    (b.isLowerBound ? "≥ " : "") + grouped(b.instructions),
                    formatted(b.share * 100, digits: 1) + "%",
                    b.instructionsPerEntry.map(grouped) ?? "-",
                ])
            }
            lines += table(hot, rightAligned: [0, 4, 5, 6]).map { "  " + $0 }
            if hottestBlocks.contains(where: { $0.regionEntries != nil }) {
                lines.append("  per entry: a tier-2 region's guest instructions each time it is entered (it leaves once per entry)")
            }
            if countingStops > 0 {
                lines.append(
                    "  ≥: the block stopped counting after \(grouped(countingLimit)) runs, as \(grouped(countingStops)) did (counting costs time); --exact-counts counts every run")
            }
            lines.append("")
        }
        if !structures.isEmpty {
            lines.append("memory          host peak \(bytes(peakHostMemory))")
            var rows: [[String]] = [["structure", "entries", "size", "bound", "dropped"]]
            for s in structures {
                rows.append([
                    s.name, grouped(UInt64(s.entries)), bytes(s.bytes),
                    s.bound == "bytes" ? bytes(s.limit) : grouped(UInt64(s.limit)) + " " + s.bound, grouped(s.dropped),
                ])
            }
            lines += table(rows, rightAligned: [1, 2, 3, 4]).map { "  " + $0 }
            lines.append("")
        }
        let calls = syscalls.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        lines.append(
            "syscalls        \(grouped(syscalls.values.reduce(0, +))): " + calls.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    /// The same figures as JSON (`rivet run --stats-json`).
    public var json: String {
        var o = JSONObject()
        o["instructions"] = .int(instructions)
        o["wall_seconds"] = .number(seconds(wallTime))
        o["mips"] = .number(mips)
        o["time"] = time.json
        o["tiers"] = .array(
            tiers.map { t in
                var j = JSONObject()
                j["name"] = .string(t.name)
                j["blocks"] = .int(t.blocks)
                j["compiles"] = .int(t.compiles)
                j["compile_ms_total"] = .number(milliseconds(t.compileTime))
                j["compile_us_mean"] = .number(t.meanCompileMicroseconds)
                j["compile_us_p99"] = .number(t.p99CompileMicroseconds)
                j["code_bytes"] = .int(t.codeBytes)
                j["instructions"] = .int(t.instructions)
                return .object(j)
            })
        if let t2 = optimizing {
            var j = JSONObject()
            j["requests"] = .int(t2.requests)
            j["failures"] = .int(t2.failures)
            j["partial_regions"] = .int(t2.partialRegions)
            j["guard_failures"] = .int(t2.guardFailures)
            j["demoted_regions"] = .int(t2.demotedRegions)
            j["thrashing_regions"] = .int(t2.thrashingRegions)
            j["exits"] = .int(t2.exits)
            j["guest_instructions"] = .int(t2.guestInstructions)
            j["ir_instructions_before"] = .int(t2.irInstructionsBefore)
            j["ir_instructions_after"] = .int(t2.irInstructionsAfter)
            o["optimizing"] = .object(j)
        }
        var q = JSONObject()
        q["threads"] = .int(UInt64(compileThreads))
        q["guest_thread_compiles"] = .int(guestThreadCompiles)
        q["compiled_for_children"] = .int(compiledForChildren)
        q["decoded_for_children"] = .int(decodedForChildren)
        q["guest_thread_compile_ms"] = .number(guestThreadCompileTime / .milliseconds(1))
        q["requests"] = .int(queuedRequests)
        q["merged"] = .int(mergedRequests)
        q["max_length"] = .int(UInt64(queueMaxLength))
        q["mean_wait_us"] = .number(queueMeanWaitMicroseconds)
        q["failed"] = .int(failedCompiles)
        q["stale"] = .int(staleCompiles)
        q["timed_out"] = .int(timedOutCompiles)
        q["threshold"] = .int(UInt64(threshold))
        o["queue"] = .object(q)
        var c = JSONObject()
        c["size"] = .int(UInt64(codeCacheSize))
        c["used"] = .int(UInt64(codeCacheUsed))
        c["hits"] = .int(cacheHits)
        c["misses"] = .int(cacheMisses)
        c["evictions"] = .int(evictions)
        c["eviction_episodes"] = .int(evictionEpisodes)
        c["invalidations"] = .int(invalidations)
        c["code_pages_kept_at_exec"] = .int(codePagesKeptAtExec)
        c["deopts"] = .int(deopts)
        c["backoffs"] = .int(backoffs)
        o["code_cache"] = .object(c)
        var x = JSONObject()
        x["exits_to_run_loop"] = .int(exitsToRunLoop)
        x["chained"] = .int(chainedTransfers)
        x["indirect_jumps"] = .int(indirectJumps)
        x["jump_cache_hits"] = .int(jumpCacheHits)
        x["faults"] = .int(compiledCodeFaults)
        x["code_write_faults"] = .int(codeWriteFaults)
        var k = JSONObject()
        for (name, count) in exitsByKind.sorted(by: { $0.key < $1.key }) { k[name] = .int(count) }
        x["exits_by_kind"] = .object(k)
        o["transfers"] = .object(x)
        var counting = JSONObject()
        counting["limit"] = .int(countingLimit)
        counting["stops"] = .int(countingStops)
        o["counting"] = .object(counting)
        o["hottest_blocks"] = .array(
            hottestBlocks.map { b in
                var j = JSONObject()
                j["address"] = .int(b.address)
                j["symbol"] = b.symbol.map { .string($0) } ?? .null
                j["tier"] = .string(b.tier)
                j["instructions"] = .int(b.instructions)
                j["share"] = .number(b.share)
                j["lower_bound"] = .bool(b.isLowerBound)
                j["region_entries"] = b.regionEntries.map { .int($0) } ?? .null
                j["region_instructions"] = b.regionInstructions.map { .int($0) } ?? .null
                return .object(j)
            })
        var m = JSONObject()
        m["peak_host_bytes"] = .int(UInt64(peakHostMemory))
        for structure in structures {
            var j = JSONObject()
            j["entries"] = .int(UInt64(structure.entries))
            j["bytes"] = .int(UInt64(structure.bytes))
            j["limit"] = .int(UInt64(structure.limit))
            j["bound"] = .string(structure.bound)
            j["dropped"] = .int(structure.dropped)
            m[structure.name] = .object(j)
        }
        o["memory"] = .object(m)
        var s = JSONObject()
        for (name, count) in syscalls.sorted(by: { $0.key < $1.key }) { s[name] = .int(count) }
        o["syscalls"] = .object(s)
        return JSONValue.object(o).text + "\n"
    }
}

// MARK: Formatting (no Foundation)

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func milliseconds(_ d: Duration) -> Double { seconds(d) * 1000 }

/// `value` with `digits` decimals.
func formatted(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = UInt64(scaled / scale)
    var fraction = String(UInt64(scaled) - whole * UInt64(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    return (value < 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + fraction : "")
}

/// `1234567` as `1,234,567`.
func grouped(_ value: UInt64) -> String {
    let digits = Array(String(value))
    var out = ""
    for (k, d) in digits.enumerated() {
        if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
        out.append(d)
    }
    return out
}

/// A byte count with a binary unit.
func bytes(_ n: Int) -> String {
    if n >= 1 << 20 { return formatted(Double(n) / Double(1 << 20), digits: 1) + " MiB" }
    if n >= 1 << 10 { return formatted(Double(n) / Double(1 << 10), digits: 1) + " KiB" }
    return "\(n) B"
}

/// Rows laid out in columns separated by two spaces.
func table(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
    guard let columns = rows.map(\.count).max() else { return [] }
    var widths = [Int](repeating: 0, count: columns)
    for row in rows { for (k, cell) in row.enumerated() { widths[k] = max(widths[k], cell.count) } }
    return rows.map { row in
        row.enumerated().map { k, cell in
            let pad = String(repeating: " ", count: widths[k] - cell.count)
            return rightAligned.contains(k) ? pad + cell : cell + pad
        }.joined(separator: "  ").trimmingTrailingSpaces()
    }
}

extension String {
    /// The string padded with spaces on the right to at least `width` characters.
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Minimal JSON output.
enum JSONValue {
    case int(UInt64), number(Double), bool(Bool), string(String), array([JSONValue]), object(JSONObject), null

    var text: String {
        switch self {
        case .int(let v): return String(v)
        case .number(let v): return v.isFinite ? formatted(v, digits: 6) : "null"
        case .bool(let v): return v ? "true" : "false"
        case .string(let s): return quoted(s)
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.entries.map { quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    private func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A JSON object that keeps its keys in insertion order.
struct JSONObject {
    var entries: [(String, JSONValue)] = []
    subscript(key: String) -> JSONValue? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            entries.removeAll { $0.0 == key }
            if let newValue { entries.append((key, newValue)) }
        }
    }
}
