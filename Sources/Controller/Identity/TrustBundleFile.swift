import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#else
    import Darwin
#endif

/// The trust bundle file, read again only when it changed (its inode, size or modification time):
/// every long-poll answer carries it, and a `stat` is far cheaper than reading and decoding the file
/// each time. An edited or replaced bundle still reaches the next answer.
final class TrustBundleFile: Sendable {
    private struct Version: Equatable {
        var inode: UInt64
        var size: Int64
        var modified: timespec

        static func == (a: Version, b: Version) -> Bool {
            a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
        }
    }

    let path: String
    private let cached = Mutex<(version: Version, contents: String)?>(nil)

    init(path: String) {
        self.path = path
    }

    var contents: String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
            let version = Version(inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtimespec)
        #else
            let version = Version(inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim)
        #endif
        if let hit = cached.withLock({ $0 }), hit.version == version { return hit.contents }
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        cached.withLock { $0 = (version, contents) }
        return contents
    }
}
