/// A jump out of a block to a known guest pc, as the compiler emitted it.
struct ExitSite: Sendable {
    /// The guest pc it goes to.
    let target: UInt64
    /// Offset, from the translation's start, of the rel32 field of the patchable jump.
    let patchOffset: Int
    /// Offset of the exit stub the jump goes to while unlinked.
    let stubOffset: Int
}

/// Native code for one guest basic block, and what the engine must know about it.
final class Translation {
    /// A jump out of the block to a known guest pc: initially to its exit stub (back to the
    /// run loop), patched to jump straight into the target's translation once it exists.
    struct Exit {
        let site: ExitSite
        /// The translation it is linked to, if any.
        var linked: Translation?

        var target: UInt64 { site.target }
        var patchOffset: Int { site.patchOffset }
        var stubOffset: Int { site.stubOffset }
    }

    /// Identifies the translation in exit codes and indexes its execution counter.
    let id: Int
    let guestPC: UInt64
    /// The pc just past the block's last instruction.
    let guestEnd: UInt64
    /// Byte offset of each guest instruction from `guestPC`.
    let instructionOffsets: [UInt32]
    /// Where the code lives in the code region, and its size.
    let hostOffset: Int
    let hostLength: Int
    /// Host offset (from the translation's start) of the first byte of each guest instruction's
    /// code, ascending: a host pc maps to the last instruction starting at or before it.
    let hostInstructionStarts: [UInt32]
    var exits: [Exit]
    /// Exits of other translations that jump here, as (translation, exit index).
    var incoming: [(source: Translation, exit: Int)] = []
    /// Guest integer registers the code keeps in host registers (host register numbers), so
    /// that the engine can recover them from the host registers saved at a fault.
    let cachedRegisters: [(guest: UInt8, host: UInt8)]
    /// Whether the block branches back to its own start (its code loops without leaving).
    let isLoop: Bool
    /// Nanoseconds it took to translate.
    let compileNanoseconds: UInt64
    /// Removed from the cache; its code is freed at the next collection.
    var isRetired = false

    // Usage, sampled from the execution counter by `UsageTracker` (for eviction).
    /// The counter's value at the last sample.
    var sampledCount: UInt64 = 0
    /// The last sample at which the counter had moved.
    var lastActiveEpoch: UInt64 = 0
    /// Instructions executed, decayed by half at each sample: recent frequency.
    var recentInstructions: Double = 0
    /// Guest pages the block was decoded from.
    let pages: ClosedRange<UInt64>

    init(
        id: Int, guestPC: UInt64, guestEnd: UInt64, instructionOffsets: [UInt32], hostOffset: Int, hostLength: Int,
        hostInstructionStarts: [UInt32], exits: [Exit], cachedRegisters: [(guest: UInt8, host: UInt8)],
        isLoop: Bool, compileNanoseconds: UInt64
    ) {
        self.cachedRegisters = cachedRegisters
        self.isLoop = isLoop
        self.id = id
        self.guestPC = guestPC
        self.guestEnd = guestEnd
        self.instructionOffsets = instructionOffsets
        self.hostOffset = hostOffset
        self.hostLength = hostLength
        self.hostInstructionStarts = hostInstructionStarts
        self.exits = exits
        self.compileNanoseconds = compileNanoseconds
        let last = max(guestEnd, guestPC + 1) - 1
        pages = (guestPC >> 12)...(last >> 12)
    }

    var instructionCount: Int { instructionOffsets.count }

    /// The guest pc of instruction `index`.
    func pc(ofInstruction index: Int) -> UInt64 { guestPC + UInt64(instructionOffsets[index]) }

    /// The guest instruction whose code contains host offset `offset` (from the translation's
    /// start).
    func instruction(atHostOffset offset: Int) -> Int {
        var low = 0
        var high = hostInstructionStarts.count
        while low < high {
            let mid = (low + high) / 2
            if Int(hostInstructionStarts[mid]) <= offset { low = mid + 1 } else { high = mid }
        }
        return max(0, low - 1)
    }
}
