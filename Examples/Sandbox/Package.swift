// swift-tools-version: 6.2
// An embedder of Rivet, as an application would be: its own package, depending on Rivet by
// path. Run it from the repository root:
//
//     swift run -c release --package-path Examples/Sandbox sandbox-demo
import PackageDescription

let package = Package(
    name: "Sandbox",
    dependencies: [
        // Named, so that the product below finds it whatever the checkout's directory is
        // called. An application names a version instead: .package(url: "...", from: "...").
        .package(name: "Rivet", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "sandbox-demo",
            dependencies: [.product(name: "Rivet", package: "Rivet")],
            swiftSettings: [.treatAllWarnings(as: .error)]),
    ]
)
