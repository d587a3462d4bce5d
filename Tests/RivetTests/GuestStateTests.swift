import Testing

@testable import Rivet

/// The embedder's view of guest memory and registers (`VirtualMachine+GuestState.swift`):
/// checked as the guest's own accesses, and seen by the guest when it runs.
@Suite struct GuestStateTests {
    static let program = Fixture.directory + "/bin/hello_static"

    func machine(_ arguments: [String], output: TemporaryFile) throws -> VirtualMachine {
        var configuration = Configuration()
        configuration.arguments = arguments
        configuration.standardOutput = .fileDescriptor(output.fd)
        configuration.tier = .auto
        return try VirtualMachine(programPath: Self.program, configuration: configuration)
    }

    /// argv as the guest will see it: argc at sp, then the argument pointers.
    func argument(_ k: Int, of vm: VirtualMachine) throws -> UInt64 {
        let sp = vm[x: 2]
        let bytes = try vm.readMemory(at: sp + 8 + UInt64(8 * k), count: 8)
        return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    @Test func registersAndTheInitialStackAreReadable() throws {
        let out = try TemporaryFile()
        let vm = try machine(["one", "two"], output: out)
        #expect(vm.pc == vm.address(ofSymbol: "_start"))
        let argc = try vm.readMemory(at: vm[x: 2], count: 8)
        #expect(argc == [3, 0, 0, 0, 0, 0, 0, 0])
        #expect(try vm.readString(at: try argument(1, of: vm)) == "one")
        #expect(try vm.readString(at: try argument(2, of: vm)) == "two")
        vm[x: 0] = 5
        #expect(vm[x: 0] == 0)
        vm[x: 10] = 0x1234
        #expect(vm[x: 10] == 0x1234)
        vm[f: 3] = 0x4000_0000_0000_0000
        #expect(vm[f: 3] == 0x4000_0000_0000_0000)
    }

    @Test func writesReachTheGuest() throws {
        let out = try TemporaryFile()
        let vm = try machine(["one", "two"], output: out)
        try vm.writeMemory(Array("O".utf8), at: try argument(1, of: vm))
        #expect(vm.run() == .exited(5))
        #expect(out.contents().contains("arg 1 = One\n"))
    }

    @Test func copiesReachTheGuest() throws {
        let out = try TemporaryFile()
        let vm = try machine(["one", "two"], output: out)
        try vm.copyMemory(from: try argument(2, of: vm), to: try argument(1, of: vm), count: 3)
        #expect(vm.run() == .exited(5))
        #expect(out.contents().contains("arg 1 = two\narg 2 = two\n"))
    }

    @Test func accessIsCheckedAsTheGuestsOwn() throws {
        let out = try TemporaryFile()
        let vm = try machine([], output: out)
        let main = try #require(vm.address(ofSymbol: "main"))
        // Code is readable, not writable; page 0 and the far end of the space are not mapped.
        #expect(try vm.readMemory(at: main, count: 4).count == 4)
        let before = try vm.readMemory(at: main, count: 4)
        #expect(throws: RivetError.self) { try vm.writeMemory([0, 0, 0, 0], at: main) }
        #expect(try vm.readMemory(at: main, count: 4) == before)
        #expect(throws: RivetError.self) { try vm.readMemory(at: 0, count: 1) }
        #expect(throws: RivetError.self) { try vm.readMemory(at: UInt64.max - 2, count: 8) }
        #expect(throws: RivetError.self) { try vm.readMemory(at: 1 << 38, count: 1) }
        #expect(throws: RivetError.self) { try vm.copyMemory(from: main, to: main, count: 4) }
        do {
            _ = try vm.readMemory(at: 0x10, count: 1)
        } catch {
            #expect(error.code == .guestMemoryFault)
            #expect(error.message.contains("0x10"))
        }
        #expect(vm.address(ofSymbol: "no such symbol") == nil)
    }
}
