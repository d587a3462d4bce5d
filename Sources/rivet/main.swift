import ArgumentParser

/// `rivet`: runs RISC-V Linux programs.
struct RivetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rivet",
        abstract: "Run riscv64 Linux programs on this host.",
        subcommands: [RunCommand.self, DisasmCommand.self],
        defaultSubcommand: nil)
}

RivetCommand.main()
