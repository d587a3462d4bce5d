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
        // Linux's canonical order: by category (Zi*, Zf*, Zb* here), alphabetical within each.
        let z = parts.dropFirst().map(String.init)
        let groups = ["zi", "zf", "zb"].map { prefix in z.filter { $0.hasPrefix(prefix) } }
        #expect(z == groups.flatMap { $0 })
        for group in groups { #expect(group == group.sorted()) }
    }
}
