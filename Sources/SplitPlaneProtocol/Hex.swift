import Crypto
import Foundation

/// Lowercase hexadecimal, the form every digest and random token of the project takes in text.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// SHA-256 of `text`, cut to its first `bytes` bytes for short stable identifiers (group ids,
    /// rule keys, ETags); the whole digest by default.
    public static func sha256(_ text: String, bytes: Int = SHA256.byteCount) -> String {
        encode(SHA256.hash(data: Data(text.utf8)).prefix(bytes))
    }
}
