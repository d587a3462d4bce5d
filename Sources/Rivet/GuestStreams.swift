#if canImport(Glibc)
import Glibc
#endif
import RivetLinux
import Synchronization

/// The host ends of the guest's standard streams (`Configuration.standardInput`,
/// `standardOutput`, `standardError`).
///
/// Every stream the guest sees is a host descriptor, so that reads, writes, poll, select,
/// epoll, dup, fork and the interruption of a blocked call (SIGURG from the watchdog) work as
/// for any host file:
/// - fixed input bytes are a sealed memfd opened read-only (a regular file, as `< file`);
/// - streamed input is a pipe: `InputFeeder` writes the chunks into it as they come, from a
///   task on a thread of its own (`FeedExecutor`);
/// - output to a handler or buffer is a pipe: `OutputPump`'s thread reads it and hands the
///   bytes over; `finish()` hands over everything written before it;
/// - discarded output is `/dev/null`.
final class GuestStreams {
    /// What the guest's 0, 1 and 2 start as.
    let standardStreams: (StandardStream, StandardStream, StandardStream)
    private let feeder: InputFeeder?
    private let pump: OutputPump?

    /// Makes the host ends.
    /// - Throws: `RivetError(.invalidConfiguration)` if the host refuses a pipe, memfd or thread.
    init(input: GuestInput, output: GuestOutput, error: GuestOutput) throws(RivetError) {
        func failure(_ what: String, _ code: Int32 = errno) -> RivetError {
            RivetError(.invalidConfiguration, "cannot set up the guest's \(what): \(String(cString: strerror(code)))")
        }
        func makePipe(_ what: String) throws(RivetError) -> (readEnd: Int32, writeEnd: Int32) {
            switch HostFileSystem.pipe(flags: 0) {
            case .success(let ends): return ends
            case .failure(let error): throw failure(what, Int32(error.errno))
            }
        }
        // Descriptors made so far, closed again if a later step fails.
        var opened: [Int32] = []
        var channels: [OutputPump.Channel] = []
        var feeder: InputFeeder? = nil
        var pump: OutputPump? = nil
        do throws(RivetError) {
            let stdin: StandardStream
            switch input.source {
            case .descriptor(let fd):
                stdin = StandardStream(fd)
            case .bytes(let bytes):
                let file: MemoryFile
                do { file = try MemoryFile(path: "/dev/stdin", contents: bytes, writable: false) } catch {
                    throw failure("standard input", Int32(error.errno))
                }
                let fd = file.open(flags: O_RDONLY)
                guard fd >= 0 else { throw failure("standard input", -fd) }
                stdin = StandardStream(fd, owned: true)
                opened.append(fd)
            case .stream(let feed):
                let (readEnd, writeEnd) = try makePipe("standard input")
                opened += [readEnd, writeEnd]
                _ = fcntl(writeEnd, F_SETFL, O_NONBLOCK)
                stdin = StandardStream(readEnd, owned: true)
                feeder = InputFeeder(descriptor: writeEnd, feed: feed)
            }
            var sharedPipe: (buffer: OutputBuffer, writeEnd: Int32)? = nil
            func makeOutput(_ output: GuestOutput, _ name: String) throws(RivetError) -> StandardStream {
                switch output.sink {
                case .descriptor(let fd):
                    return StandardStream(fd)
                case .discarded:
                    let fd = Glibc.open("/dev/null", O_WRONLY | O_CLOEXEC)
                    guard fd >= 0 else { throw failure(name) }
                    opened.append(fd)
                    return StandardStream(fd, owned: true)
                case .handler(let body, let buffer):
                    // Output and error into one buffer share a pipe, so that they keep their order.
                    if let buffer, let shared = sharedPipe, shared.buffer === buffer {
                        let fd = fcntl(shared.writeEnd, F_DUPFD_CLOEXEC, 3)
                        guard fd >= 0 else { throw failure(name) }
                        opened.append(fd)
                        return StandardStream(fd, owned: true)
                    }
                    let (readEnd, writeEnd) = try makePipe(name)
                    opened += [readEnd, writeEnd]
                    _ = fcntl(readEnd, F_SETFL, O_NONBLOCK)
                    channels.append(OutputPump.Channel(descriptor: readEnd, deliver: body))
                    if let buffer { sharedPipe = (buffer, writeEnd) }
                    return StandardStream(writeEnd, owned: true)
                }
            }
            let stdout = try makeOutput(output, "standard output")
            let stderr = try makeOutput(error, "standard error")
            if !channels.isEmpty {
                let started = OutputPump(channels)
                guard started.start() else { throw failure("output thread") }
                // From here the pump closes the read ends.
                opened.removeAll { fd in channels.contains { $0.descriptor == fd } }
                pump = started
            }
            if let feeder {
                guard feeder.start() else { throw failure("input thread") }
            }
            standardStreams = (stdin, stdout, stderr)
        } catch {
            pump?.stop()
            for fd in opened { Glibc.close(fd) }
            throw error
        }
        self.feeder = feeder
        self.pump = pump
    }

    /// The guest's run ended: every byte it wrote so far goes to its handler, and the input
    /// stream is cancelled (the guest's remaining processes see end of file).
    func finish() {
        pump?.drain()
        feeder?.close()
    }

    /// The guest's run paused: every byte it wrote so far goes to its handler.
    func drain() {
        pump?.drain()
    }

    /// In a forked guest process: the parent's ends are the parent's (the child must not keep
    /// the input pipe open, or its reads would never see end of file), and no thread of theirs
    /// came along.
    func closeInForkedChild() {
        feeder?.closeInForkedChild()
        pump?.closeInForkedChild()
    }

    deinit {
        feeder?.close()
        pump?.stop()
    }
}

/// Writes the chunks of a streamed standard input into the guest's pipe, from a task.
final class InputFeeder: Sendable {
    /// The pipe's write end (non-blocking).
    private let descriptor: Int32
    private let feed: @Sendable (InputFeeder) async -> Void
    /// Whether the write end is closed; written and closed under it.
    private let closed = Mutex(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(descriptor: Int32, feed: @escaping @Sendable (InputFeeder) async -> Void) {
        self.descriptor = descriptor
        self.feed = feed
    }

    /// Starts feeding, on a thread of its own.
    /// - Returns: false if the host cannot start a thread.
    func start() -> Bool {
        let executor = FeedExecutor()
        guard executor.start() else { return false }
        let work = Task(executorPreference: executor) { [self] in
            await feed(self)
            close()
            executor.finish()
        }
        task.withLock { $0 = work }
        return true
    }

    /// Writes all of `bytes`, waiting while the pipe is full.
    /// - Returns: false if the guest's end is gone or the input was closed or cancelled.
    func write(_ bytes: [UInt8]) async -> Bool {
        var done = 0
        while done < bytes.count {
            let (n, error) = closed.withLock { isClosed -> (Int, Int32) in
                if isClosed { return (-1, EPIPE) }
                let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + done, $0.count - done) }
                return (n, n < 0 ? errno : 0)
            }
            if n > 0 {
                done += n
            } else if error == EAGAIN || error == EINTR {
                // The guest has not read the pipe's 64 KiB yet.
                do { try await Task.sleep(for: .milliseconds(2)) } catch { return false }
            } else {
                return false
            }
        }
        return true
    }

    /// Ends the input: the guest reads end of file after what is in the pipe.
    func close() {
        task.withLock { $0?.cancel() }
        closed.withLock { isClosed in
            guard !isClosed else { return }
            isClosed = true
            Glibc.close(descriptor)
        }
    }

    /// Closes this process's copy of the write end without the lock (which a thread that did
    /// not come along through fork may have held).
    func closeInForkedChild() { Glibc.close(descriptor) }
}

/// A thread that reads the pipes of the guest's output and hands the bytes to their handlers.
final class OutputPump: @unchecked Sendable {
    /// One output pipe.
    struct Channel {
        /// The read end (non-blocking).
        let descriptor: Int32
        let deliver: @Sendable ([UInt8]) -> Void
    }

    private let channels: [Channel]
    /// An eventfd that tells the thread to finish.
    private let wake: Int32
    /// Held while bytes are read and delivered, so that they go in order. The array says which
    /// channels reached end of file (every write end closed).
    private let reading: Mutex<[Bool]>
    private var thread = pthread_t()
    private var running = false

    init(_ channels: [Channel]) {
        self.channels = channels
        wake = Int32(truncatingIfNeeded: HostIO.eventfd(0, flags: 0))
        reading = Mutex([Bool](repeating: false, count: channels.count))
    }

    /// Starts the thread. Returns false if the host cannot (the caller still owns the read
    /// ends then).
    func start() -> Bool {
        guard wake >= 0 else { return false }
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { raw in
            let pump = Unmanaged<OutputPump>.fromOpaque(raw!).takeRetainedValue()
            pump.loop()
            return nil
        }, context)
        if started != 0 {
            Unmanaged<OutputPump>.fromOpaque(context).release()
            Glibc.close(wake)
            return false
        }
        running = true
        return true
    }

    private func loop() {
        while true {
            let ended = reading.withLock { $0 }
            var set = channels.enumerated().map { k, channel in
                pollfd(fd: ended[k] ? -1 : channel.descriptor, events: Int16(POLLIN), revents: 0)
            }
            set.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0))
            let n = poll(&set, nfds_t(set.count), -1)
            if n < 0 && errno != EINTR { return }
            if set.last!.revents != 0 {
                drain()
                return
            }
            drain()
        }
    }

    /// Reads every pipe until it is empty and delivers what it read.
    func drain() {
        reading.withLock { ended in
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            for (k, channel) in channels.enumerated() where !ended[k] {
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(channel.descriptor, $0.baseAddress, $0.count) }
                    if n > 0 {
                        channel.deliver(Array(buffer[0..<n]))
                    } else if n == 0 {
                        ended[k] = true
                        break
                    } else if errno != EINTR {
                        break
                    }
                }
            }
        }
    }

    /// Delivers what is left and ends the thread.
    func stop() {
        if running {
            var one: UInt64 = 1
            _ = Glibc.write(wake, &one, 8)
            pthread_join(thread, nil)
            running = false
        }
        for channel in channels { Glibc.close(channel.descriptor) }
        Glibc.close(wake)
    }

    /// Closes this process's copies of the read ends; the parent's thread reads them.
    func closeInForkedChild() {
        for channel in channels { Glibc.close(channel.descriptor) }
        Glibc.close(wake)
    }
}

/// A task executor with one host thread of its own, for an `InputFeeder`: the input is fed
/// even while every thread of Swift's cooperative pool is busy (as when embedders call the
/// synchronous `run()` from async code). The thread ends after `finish()`.
final class FeedExecutor: TaskExecutor, @unchecked Sendable {
    /// Jobs to run, and whether the feed is over.
    private let state = Mutex<(jobs: [UnownedJob], finished: Bool)>(([], false))
    /// Posted once per job and once by `finish()`.
    private let posted: UnsafeMutablePointer<sem_t>

    init() {
        posted = .allocate(capacity: 1)
        sem_init(posted, 0, 0)
    }

    deinit {
        sem_destroy(posted)
        posted.deallocate()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        state.withLock { $0.jobs.append(job) }
        sem_post(posted)
    }

    /// Starts the thread. Returns false if the host cannot.
    func start() -> Bool {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { raw in
            let executor = Unmanaged<FeedExecutor>.fromOpaque(raw!).takeRetainedValue()
            executor.loop()
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<FeedExecutor>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        return true
    }

    private func loop() {
        while true {
            while sem_wait(posted) != 0 {}  // EINTR
            let (job, finished) = state.withLock { state -> (UnownedJob?, Bool) in
                state.jobs.isEmpty ? (nil, state.finished) : (state.jobs.removeFirst(), false)
            }
            if let job {
                job.runSynchronously(on: asUnownedTaskExecutor())
            } else if finished {
                return
            }
        }
    }

    /// Ends the thread once the jobs queued so far have run (the feed's task calls it last).
    func finish() {
        state.withLock { $0.finished = true }
        sem_post(posted)
    }
}
