import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Crash-safe file replacement: write a temporary file, fsync it, rename it over the target, fsync
/// the directory. A reader sees the old content or the new, never a torn write.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString.prefix(8))")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw posixError("open \(temporary.path)") }
        do {
            try data.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 { throw posixError("write \(temporary.path)") }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw posixError("fsync \(temporary.path)") }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary.path)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw posixError("rename to \(url.path)")
        }
        syncDirectory(directory)
    }

    static func remove(_ url: URL) throws {
        if unlink(url.path) != 0 && errno != ENOENT { throw posixError("unlink \(url.path)") }
        syncDirectory(url.deletingLastPathComponent())
    }

    private static func syncDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    private static func posixError(_ what: String) -> any Error {
        NSError(domain: NSPOSIXErrorDomain, code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "\(what): \(String(cString: strerror(errno)))"])
    }
}
