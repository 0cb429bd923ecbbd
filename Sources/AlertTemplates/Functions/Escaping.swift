/// Go's escapers: template.HTMLEscapeString, template.JSEscapeString and url.QueryEscape.
enum Escaping {
    static func html(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0 || $0 == 0x22 || $0 == 0x26 || $0 == 0x27 || $0 == 0x3C || $0 == 0x3E }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "&#34;"
            case "'": result += "&#39;"
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\u{0}": result += "\u{FFFD}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func javaScript(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "'": result += "\\'"
            case "\"": result += "\\\""
            case "<": result += "\\u003C"
            case ">": result += "\\u003E"
            case "&": result += "\\u0026"
            case "=": result += "\\u003D"
            case _ where scalar.value < 0x20:
                result += "\\u00" + GoStrings.hex(scalar.value, width: 2, uppercase: true)
            case _ where scalar.value >= 0x80 && !GoStrings.isPrint(scalar):
                result += "\\u" + GoStrings.hex(scalar.value, width: 4, uppercase: true)
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// url.QueryEscape: everything but letters, digits and "-_.~" is %XX-escaped, spaces become "+".
    static func queryComponent(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                bytes.append(byte)
            case UInt8(ascii: " "):
                bytes.append(UInt8(ascii: "+"))
            default:
                bytes += Array("%\(GoStrings.hex(UInt32(byte), width: 2, uppercase: true))".utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
