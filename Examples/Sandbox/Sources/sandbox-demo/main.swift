// sandbox-demo: Rivet embedded as a sandbox, one feature at a time. Every step checks what
// its guest did; any mismatch makes the demo exit with status 1.
#if canImport(Glibc)
import Glibc
#endif
import Rivet

do {
    try hostFunctionsDemo()
    try standardStreamsDemo()
    try virtualFilesDemo()
    try fuelDemo()
    try pauseDemo()
    try await cancellationDemo()
    try await manyMachinesDemo()
} catch {
    print("sandbox-demo: \(error)")
    exit(1)
}
if Checks.failed > 0 {
    print("sandbox-demo: \(Checks.failed) check(s) failed")
    exit(1)
}
print("sandbox-demo: all checks passed")
