import Rivet
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Waits that host signals end, which needs a separate `rivet` process. The fixtures `io_poll`
/// and `io_poll_linux` also run under every engine set-up in `FixtureTests`.
@Suite struct PollTests {
    static let tiers: [ExecutionTier] = [.interpreter, .baseline, .auto]

    /// Waits end as on Linux when host signals reach the guest: signals it ignores (SIGWINCH,
    /// again and again) neither end a timed poll nor make it wait longer than its timeout; a
    /// handled one ends poll and epoll_wait with EINTR; a blocked one is read from a signalfd.
    @Test(arguments: tiers)
    func hostSignalsEndWaitsAsOnLinux(_ tier: ExecutionTier) throws {
        let fixture = try #require(Fixture.all.first { $0.name == "io_poll" })
        let process = try HostProcess([rivetCommand, "run", "--no-cwd", "--tier", tier.rawValue, fixture.binary, "wait"])
        #expect(process.waitForOutput("ready"))
        // The poll lasts 1.5 s; signals the guest ignores keep coming until it has ended.
        let clock = ContinuousClock()
        let end = clock.now + .seconds(6)
        while !process.standardOutput.contains("timed poll"), clock.now < end {
            kill(process.pid, SIGWINCH)
            usleep(50_000)
        }
        // A signal sent just before the guest blocks would be handled outside the wait: send
        // until the wait has reported.
        for line in ["poll:", "epoll_wait:"] {
            while !process.standardOutput.contains(line), clock.now < end + .seconds(10) {
                kill(process.pid, SIGUSR1)
                usleep(50_000)
            }
        }
        kill(process.pid, SIGUSR2)
        #expect(process.wait() == 0, "\(process.standardError)")
        let output = process.standardOutput
        #expect(output.contains("timed poll: 0, on time: yes"), "\(output)")
        #expect(output.contains("poll: -1 EINTR"), "\(output)")
        #expect(output.contains("epoll_wait: -1 EINTR"), "\(output)")
        #expect(output.contains("signalfd read: 128, signo 12"), "\(output)")
    }
}
