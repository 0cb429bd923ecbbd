import Foundation

/// Where a process's resident memory is, from `/proc/<pid>/smaps`: each mapping's `Rss` summed by what
/// it maps (the executable, the Swift runtime, Foundation and its ICU data, other libraries, the heap,
/// anonymous memory: malloc arenas, thread stacks, the Swift allocations outside the heap).
struct ResidentBreakdown {
    /// KiB per category, largest first.
    var categories: [(name: String, kib: Int)]
    /// KiB per mapped file (or pseudo-path), largest first.
    var mappings: [(path: String, kib: Int)]
    /// Private (not shared with other processes) resident KiB: what this process alone costs.
    var privateKiB: Int

    static func category(_ path: String, executable: String) -> String {
        if path == executable { return "executable" }
        if path.isEmpty || path.hasPrefix("[anon") { return "anonymous (malloc arenas, stacks)" }
        if path == "[heap]" { return "heap (brk)" }
        if path.hasPrefix("[") { return "kernel ([stack], [vdso], …)" }
        let file = (path as NSString).lastPathComponent
        if file.hasPrefix("lib_FoundationICU") { return "ICU data (lib_FoundationICU)" }
        if file.hasPrefix("libFoundation") { return "Foundation" }
        if file.hasPrefix("libswift") || file.hasPrefix("libdispatch") || file.hasPrefix("libBlocksRuntime") { return "Swift runtime" }
        if file.hasSuffix(".so") || file.contains(".so.") { return "other shared libraries" }
        return "other files"
    }

    static func read(pid: Int32) -> ResidentBreakdown? {
        // Read to the end: /proc files report a size of 0, which a whole-file read may trust.
        guard let data = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps")?.readDataToEndOfFile() else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        var byPath: [String: Int] = [:]
        var privateKiB = 0
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains("-"), fields.count >= 5, !first.hasSuffix(":") {
                // A mapping's header: address perms offset dev inode [path].
                current = fields.count >= 6 ? fields[5...].joined(separator: " ") : ""
            } else if first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                byPath[current, default: 0] += kib
            } else if first == "Private_Clean:" || first == "Private_Dirty:", fields.count >= 2, let kib = Int(fields[1]) {
                privateKiB += kib
            }
        }
        var categories: [String: Int] = [:]
        for (path, kib) in byPath { categories[category(path, executable: executable), default: 0] += kib }
        return ResidentBreakdown(
            categories: categories.map { ($0.key, $0.value) }.sorted { $0.kib > $1.kib },
            mappings: byPath.map { ($0.key.isEmpty ? "(anonymous)" : $0.key, $0.value) }.sorted { $0.kib > $1.kib },
            privateKiB: privateKiB)
    }

    /// One line: categories over 0.5 MiB, then the private total.
    var summary: String {
        let shown = categories.filter { $0.kib >= 512 }.map { "\($0.name) \(String(format: "%.1f", Double($0.kib) / 1024)) MiB" }
        return shown.joined(separator: ", ") + "; private \(String(format: "%.1f", Double(privateKiB) / 1024)) MiB"
    }
}
