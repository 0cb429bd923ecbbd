/// Stable 64-bit FNV-1a fingerprint of a label set, printed as 16 hex digits.
public enum Fingerprint {
    public static func of(labels: [String: String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        for key in labels.keys.sorted() {
            mix(key.utf8)
            mix(CollectionOfOne(0xFF))
            mix(labels[key]!.utf8)
            mix(CollectionOfOne(0xFF))
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
