import RivetISA
import RivetLinux
import Testing

/// What the guest is told about its hart (riscv_hwprobe, /proc/cpuinfo) names every extension
/// Rivet executes; `isa_hwprobe` checks the values as the guest reads them.
@Suite struct ISAReportTests {
    @Test func cpuinfoNamesEveryExtension() {
        let isa = LinuxProcess.isaString
        let parts = isa.split(separator: "_")
        #expect(parts.first == "rv64imafdc")
        for e in Extension.allCases {
            let name = e.rawValue.lowercased()
            if name.count == 1 {
                #expect(parts.first?.dropFirst(4).contains(Character(name)) == true, "\(name) missing from \(isa)")
            } else {
                #expect(parts.contains(Substring(name)), "\(name) missing from \(isa)")
            }
        }
        // Linux's canonical order: Zi* before Zb*, alphabetical within each.
        let z = parts.dropFirst().map(String.init)
        let zi = z.filter { $0.hasPrefix("zi") }
        let zb = z.filter { $0.hasPrefix("zb") }
        #expect(z == zi + zb && zi == zi.sorted() && zb == zb.sorted())
    }
}
