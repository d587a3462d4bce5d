#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// `rivet-fuzz --case N`: makes and runs one case in-process and reports every tier's outcome.
package enum FuzzRerun {
    /// Runs case `index` of the campaign `options`; writes its program and README to
    /// `OUT/case-SEED-CASE/` and prints the README.
    /// - Returns: the exit status: 0 if the tiers agree, 1 if not, 2 if the files cannot be
    ///   written.
    package static func run(_ options: FuzzCampaignOptions, index: Int) -> Int32 {
        let directory = options.outputDirectory + "/case-\(options.seed)-\(index)"
        HostFiles.makeDirectories(directory)
        let programPath = realPath(directory) + "/program"
        let session = FuzzSession(
            factory: FuzzCaseFactory(seed: options.seed, kinds: options.kinds), runner: FuzzRunner(limits: options.limits),
            programPath: programPath, outputDirectory: nil, rerunCommand: options.rerunCommand)
        do {
            let result = try session.run(index)
            let readme = FuzzReproducer(result: result, rerunCommand: options.rerunCommand, limits: options.limits)
                .readme(title: "rivet-fuzz case")
            try HostFiles.write(readme, to: directory + "/README")
            print(readme, terminator: "")
            print("\nrivet-fuzz: program and README in \(directory)")
            return result.agrees ? 0 : 1
        } catch {
            print("rivet-fuzz: \(error.message)")
            return 2
        }
    }

    /// The absolute, resolved form of `path` (or `path` itself if it cannot be resolved).
    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
