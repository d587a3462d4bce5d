#if Benchmarks
import Benchmark
import RivetISA

/// Decode throughput of `RivetISA.Decoder`: every instruction of real compiled code (the
/// executable segment of Examples/hello, about 40% compressed), then only its 32-bit words and
/// only its 16-bit parcels.
func registerDecoderBenchmarks() {
    let code = Fixtures.code(of: Fixtures.helloPath)
    var parcels: [UInt16] = []
    parcels.reserveCapacity(code.count / 2)
    for index in stride(from: 0, to: code.count - 1, by: 2) {
        parcels.append(UInt16(code[index]) | UInt16(code[index + 1]) << 8)
    }
    var words: [UInt32] = []
    var compressed: [UInt16] = []
    var index = 0
    while index < parcels.count {
        if Decoder.length(ofParcel: parcels[index]) == 4, index + 1 < parcels.count {
            words.append(UInt32(parcels[index]) | UInt32(parcels[index + 1]) << 16)
            index += 2
        } else {
            compressed.append(parcels[index])
            index += 1
        }
    }
    let decodedPerSecond = BenchmarkMetric.custom("M decoded/s", polarity: .prefersLarger, useScalingFactor: false)
    let metrics: [BenchmarkMetric] = [.wallClock, Suite.cpuTime, decodedPerSecond]

    Benchmark("Decoder:mixed_RV64GC_code", configuration: Suite.configuration(metrics: metrics)) { benchmark in
        Suite.measure(benchmark, rate: decodedPerSecond) {
            var count = 0
            var checksum: UInt64 = 0
            var at = 0
            while at + 1 < parcels.count {
                let instruction = Decoder.decode(low: parcels[at], high: parcels[at + 1])
                checksum &+= mix(instruction)
                at += Int(instruction.length) / 2
                count += 1
            }
            blackHole(checksum)
            return count
        }
    }

    Benchmark("Decoder:32-bit_words", configuration: Suite.configuration(metrics: metrics)) { benchmark in
        Suite.measure(benchmark, rate: decodedPerSecond) {
            var checksum: UInt64 = 0
            for word in words {
                checksum &+= mix(Decoder.decode32(word))
            }
            blackHole(checksum)
            return words.count
        }
    }

    Benchmark("Decoder:16-bit_compressed_parcels", configuration: Suite.configuration(metrics: metrics)) {
        benchmark in
        Suite.measure(benchmark, rate: decodedPerSecond) {
            var checksum: UInt64 = 0
            for parcel in compressed {
                checksum &+= mix(Decoder.decode(low: parcel, high: 0))
            }
            blackHole(checksum)
            return compressed.count
        }
    }
}

/// Folds the decoded fields into one number, so the optimizer must compute all of them.
@inline(__always)
private func mix(_ instruction: Instruction) -> UInt64 {
    UInt64(truncatingIfNeeded: instruction.imm) &* 31
        &+ UInt64(instruction.rd) &+ UInt64(instruction.rs1) << 8 &+ UInt64(instruction.rs2) << 16
        &+ UInt64(instruction.rs3) << 24 &+ UInt64(instruction.rm) << 32 &+ UInt64(instruction.length) << 40
        &+ UInt64(instruction.opcode.rawValue) << 48
}
#endif
