#if Benchmarks
import Benchmark
import RivetLinux
import RivetMachine

/// ELF load time for the bundled example (Examples/hello, a 420 KB static riscv64 program):
/// parsing alone, and parsing plus mapping its segments into a fresh guest address space.
func registerLoaderBenchmarks() {
    let bytes = Fixtures.read(Fixtures.helloPath)
    let metrics: [BenchmarkMetric] = [.wallClock, Suite.cpuTime, .throughput, .mallocCountTotal]

    Benchmark("ELF:parse", configuration: Suite.configuration(metrics: metrics, iterations: 200)) { benchmark in
        Suite.measure(benchmark) {
            do {
                blackHole(try ELFFile(bytes: bytes, addressSpaceSize: GuestMemory.addressSpaceSize))
            } catch {
                fatalError("\(error)")
            }
            return 1
        }
    }

    Benchmark("ELF:parse_and_load", configuration: Suite.configuration(metrics: metrics, iterations: 200)) {
        benchmark in
        Suite.measure(benchmark) {
            do {
                let elf = try ELFFile(bytes: bytes, addressSpaceSize: GuestMemory.addressSpaceSize)
                let memory = try GuestMemory()
                blackHole(try Loader.load(elf, path: Fixtures.helloPath, interpreter: nil, into: memory))
            } catch {
                fatalError("\(error)")
            }
            return 1
        }
    }
}
#endif
