import Glibc
import RivetX64

/// Runs GNU objdump on raw x86-64 bytes, so that tests can compare its text with the printer's.
enum Objdump {
    /// Whether `objdump` can be run here; tests that need it are skipped otherwise.
    static let isAvailable: Bool = system("objdump --version >/dev/null 2>&1") == 0

    /// objdump's Intel-syntax text for each instruction in `code`, keyed by offset, with runs of
    /// blanks collapsed to one space. Nil if objdump could not run.
    static func disassemble(_ code: [UInt8]) -> [Int: String]? {
        var template = Array("/tmp/rivet-x64-XXXXXX".utf8CString)
        guard let dirPointer = mkdtemp(&template) else { return nil }
        let dir = String(cString: dirPointer)
        let input = dir + "/code.bin", output = dir + "/code.txt"
        defer {
            unlink(input)
            unlink(output)
            rmdir(dir)
        }
        guard write(code, to: input) else { return nil }
        let command = "objdump -D -b binary -m i386:x86-64 -M intel --no-show-raw-insn \(input) > \(output) 2>&1"
        guard system(command) == 0, let text = read(output) else { return nil }
        var result: [Int: String] = [:]
        for line in text.split(separator: "\n") {
            // "   1c:\tadd    rax,0x1"
            guard let colon = line.firstIndex(of: ":"), line[line.index(after: colon)...].first == "\t",
                  let offset = Int(line[..<colon].trimmingPrefix(while: { $0 == " " }), radix: 16)
            else { continue }
            let body = line[line.index(colon, offsetBy: 2)...]
            result[offset] = body.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        }
        return result
    }

    /// Assembles `instructions` back to back and returns, for each, objdump's text at its
    /// offset ("<none>" if objdump decoded no instruction starting there). Nil without objdump.
    static func texts(of instructions: [X64Instruction]) -> (texts: [String], addresses: [Int])? {
        var code: [UInt8] = []
        var addresses: [Int] = []
        for inst in instructions {
            addresses.append(code.count)
            code += inst.bytes
        }
        // A trailing ret marks the end, so the last instruction's length is checked too.
        let end = code.count
        code.append(0xC3)
        guard let lines = disassemble(code) else { return nil }
        var texts: [String] = []
        for (k, address) in addresses.enumerated() {
            let next = k + 1 < addresses.count ? addresses[k + 1] : end
            // An instruction objdump decodes with another length shows up as a missing or extra line.
            let boundariesMatch = (address + 1..<next).allSatisfy { lines[$0] == nil } && lines[next] != nil
            texts.append(boundariesMatch ? (lines[address] ?? "<none>") : "<length differs> " + (lines[address] ?? ""))
        }
        return (texts, addresses)
    }

    private static func write(_ bytes: [UInt8], to path: String) -> Bool {
        guard let file = fopen(path, "wb") else { return false }
        defer { fclose(file) }
        return bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) } == bytes.count
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n <= 0 { break }
            data += chunk[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }
}
