// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "Rivet",
    // Rivet runs on x86-64 Linux hosts only (its JIT emits x86-64, its fault handling is
    // Linux's); SwiftPM cannot say so here, so CRivetHost stops the build elsewhere with a clear
    // error.
    products: [
        .library(name: "Rivet", targets: ["Rivet"]),
        .executable(name: "rivet", targets: ["rivet"]),
    ],
    traits: [
        .trait(
            name: "Benchmarks",
            description: "Build the package-benchmark microbenchmarks: swift package --traits Benchmarks benchmark"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Microbenchmarks only (Benchmarks/RivetBenchmarks): used under the `Benchmarks` trait alone,
        // so a plain `swift build` or `swift test` neither resolves nor builds it.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // RISC-V knowledge only: the encoding table, decoder, disassembler, FP semantics.
        .target(name: "RivetISA", swiftSettings: strict),
        // Guest state and the guest address space.
        .target(name: "RivetMachine", dependencies: ["RivetISA", "CRivetHost"], swiftSettings: strict),
        // ELF loader, initial stack, Linux syscalls, file sandbox.
        .target(name: "RivetLinux", dependencies: ["RivetMachine", "RivetISA", "CRivetHost"], swiftSettings: strict),
        // Tier 0: the reference interpreter.
        // Its dispatch `switch` compiles to one shared indirect jump unless LLVM may copy that
        // jump into each case (tail duplication, limited by default to blocks of at most 16
        // predecessors and successors): with a jump per case, the host predicts the next guest
        // instruction from the current one. zlib and SQLite run 8% faster under `--tier interp`
        // (Documentation/Performance.md).
        .target(
            name: "RivetInterpreter", dependencies: ["RivetMachine", "RivetISA"],
            swiftSettings: strict + [
                .unsafeFlags(["-Xllvm", "-tail-dup-pred-size=1000", "-Xllvm", "-tail-dup-succ-size=1000"])
            ]),
        // Tier 2's SSA IR: opcodes as a table, builder, text form, verifier, evaluator, passes.
        // Knows nothing of RISC-V or x86-64.
        .target(name: "RivetIR", swiftSettings: strict),
        // The x86-64 assembler: encodings as a table, labels and fixups.
        .target(name: "RivetX64", swiftSettings: strict),
        // The engine: tier-1 translation to x86-64, code cache, chaining, invalidation, tiering.
        .target(
            name: "RivetJIT",
            dependencies: ["RivetISA", "RivetMachine", "RivetInterpreter", "RivetX64", "RivetIR", "CRivetHost"],
            swiftSettings: strict),
        // What Swift cannot do well: executable memory, signal handling.
        // (No unsafe flags here: host.c turns its warnings into errors itself. Unsafe flags no
        // longer keep a package from being a versioned dependency since SwiftPM 6.2, for
        // packages of tools version 6.2 (swift-package-manager #8951; checked with a package
        // depending on Rivet by tag), but the fewer the better.)
        .target(name: "CRivetHost"),
        // The public embedding API.
        .target(
            name: "Rivet",
            dependencies: ["RivetISA", "RivetMachine", "RivetLinux", "RivetInterpreter", "RivetJIT", "CRivetHost"],
            swiftSettings: strict),
        // What the command-line tool does besides parsing, testable: qemu-user's command line,
        // binfmt_misc registration.
        .target(name: "RivetCommandLine", dependencies: ["CRivetHost"], swiftSettings: strict),
        // The command-line tool: a thin layer over Rivet.
        // A static executable, the C and C++ libraries inside too: a dynamically linked `rivet`
        // spent a third of a short run in the dynamic loader, binding the symbols of
        // libswiftCore, Foundation and their kin (`rivet --version` 7.7 → 5.0 ms; Performance.md,
        // fourteenth session), and with only the Swift libraries inside, a fifth relocating its
        // own 42,000 pointers and binding libc and libstdc++ (`rivet run Examples/hello` 7.8 →
        // 6.2 ms, `rivet --version` 5.5 → 3.7 ms; Performance.md, thirty-second session). It
        // also runs in a chroot of a riscv64 root filesystem, with no x86-64 library to load.
        // FoundationEssentials, which swift-argument-parser imports, needs its two static
        // companions named. Only the tool: the library and the tests link as their users link.
        .executableTarget(
            name: "rivet",
            dependencies: ["Rivet", "RivetCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict,
            linkerSettings: [
                .unsafeFlags(["-static-executable"]),
                .linkedLibrary("_FoundationCollections"), .linkedLibrary("_FoundationCShims"),
            ]),
        // Guest-program generators and the differential fuzzing engine (every tier against the
        // others), shared by the tests and `rivet-fuzz`.
        .target(
            name: "RivetFuzz",
            dependencies: ["Rivet", "RivetISA"],
            swiftSettings: strict),
        // The long-running fuzzer: a thin command over RivetFuzz.
        .executableTarget(
            name: "rivet-fuzz",
            dependencies: ["RivetFuzz", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        // The embedding API's figures: host calls, snapshots, many sandboxes (Performance.md).
        .executableTarget(
            name: "rivet-sandbox-bench", dependencies: ["Rivet"], path: "Benchmarks/Sandboxes", swiftSettings: strict),
        // Microbenchmarks of the engine's inner costs (package-benchmark). Without the `Benchmarks`
        // trait this is an empty stub and package-benchmark is not even resolved.
        .executableTarget(
            name: "RivetBenchmarks",
            dependencies: [
                "RivetISA", "RivetMachine", "RivetLinux", "RivetInterpreter", "RivetJIT",
                .product(name: "Benchmark", package: "benchmark", condition: .when(traits: ["Benchmarks"])),
            ],
            path: "Benchmarks/RivetBenchmarks",
            swiftSettings: strict),
        .testTarget(
            name: "RivetISATests", dependencies: ["RivetISA"], exclude: ["FloatVectors"], resources: [.copy("Golden")],
            swiftSettings: strict),
        .testTarget(
            name: "RivetMachineTests", dependencies: ["RivetMachine", "RivetISA"], swiftSettings: strict),
        .testTarget(
            name: "RivetLinuxTests", dependencies: ["RivetLinux", "RivetMachine", "CRivetHost"], swiftSettings: strict),
        .testTarget(name: "RivetX64Tests", dependencies: ["RivetX64"], swiftSettings: strict),
        .testTarget(name: "RivetIRTests", dependencies: ["RivetIR"], exclude: ["Filetests"], swiftSettings: strict),
        .testTarget(
            name: "RivetJITTests",
            dependencies: ["RivetJIT", "RivetMachine", "RivetInterpreter", "RivetISA", "RivetIR", "RivetFuzz", "RivetX64", "CRivetHost"],
            swiftSettings: strict),
        .testTarget(
            name: "RivetInterpreterTests",
            dependencies: ["RivetInterpreter", "RivetMachine", "RivetISA", "RivetFuzz"], swiftSettings: strict),
        .testTarget(name: "RivetCommandLineTests", dependencies: ["RivetCommandLine"], swiftSettings: strict),
        .testTarget(
            name: "RivetTests",
            dependencies: ["Rivet", "RivetFuzz", "RivetLinux", "RivetMachine", "RivetISA"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict),
    ]
)
