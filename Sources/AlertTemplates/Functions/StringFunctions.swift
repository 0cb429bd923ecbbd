import Foundation
import RegexBudget

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Prometheus' string, regular expression, address and link functions.
enum StringFunctions {
    static func tooExpensive(_ pattern: String) -> FunctionError {
        FunctionError("regexp \(GoStrings.quote(pattern)) needs too many backtracking steps on this input (a pattern with nested repetition?)")
    }

    static let functions: [TemplateFunction] = [
        TemplateFunction("toUpper", [.string]) { arguments, _ in .string(mapScalars(arguments[0].stringArgument, upper: true)) },
        TemplateFunction("toLower", [.string]) { arguments, _ in .string(mapScalars(arguments[0].stringArgument, upper: false)) },
        TemplateFunction("title", [.string]) { arguments, _ in .string(title(arguments[0].stringArgument)) },
        TemplateFunction("safeHtml", [.string]) { arguments, _ in arguments[0] },
        TemplateFunction("match", [.string, .string]) { arguments, _ throws(FunctionError) in
            let regexp = try GoRegexp.compile(arguments[0].stringArgument)
            do throws(RegexTooExpensive) {
                return .bool(try regexp.matches(arguments[1].stringArgument))
            } catch {
                throw tooExpensive(arguments[0].stringArgument)
            }
        },
        TemplateFunction("reReplaceAll", [.string, .string, .string]) { arguments, _ throws(FunctionError) in
            let pattern = arguments[0].stringArgument
            let regexp: GoRegexp
            do throws(GoRegexp.CompileError) {
                regexp = try GoRegexp.cached(pattern)
            } catch {
                // Prometheus uses regexp.MustCompile; the panic surfaces as this message.
                throw FunctionError("regexp: Compile(\(GoStrings.quote(pattern))): \(error.message)")
            }
            do throws(RegexTooExpensive) {
                return .string(try regexp.replaceAll(arguments[2].stringArgument, with: arguments[1].stringArgument))
            } catch {
                throw tooExpensive(pattern)
            }
        },
        TemplateFunction("stripPort", [.string]) { arguments, _ in .string(stripPort(arguments[0].stringArgument)) },
        TemplateFunction("stripDomain", [.string]) { arguments, _ in .string(stripDomain(arguments[0].stringArgument)) },
        TemplateFunction("graphLink", [.string]) { arguments, _ in
            .string("/graph?g0.expr=\(Escaping.queryComponent(arguments[0].stringArgument))&g0.tab=0")
        },
        TemplateFunction("tableLink", [.string]) { arguments, _ in
            .string("/graph?g0.expr=\(Escaping.queryComponent(arguments[0].stringArgument))&g0.tab=1")
        },
        TemplateFunction("urlQueryEscape", [.string]) { arguments, _ in .string(Escaping.queryComponent(arguments[0].stringArgument)) },
        TemplateFunction("externalURL", []) { _, context in .string(context.data.externalURL) },
        TemplateFunction("pathPrefix", []) { _, context in .string(URLComponents(string: context.data.externalURL)?.path ?? "") },
    ]

    /// strings.ToUpper/ToLower map rune by rune with Unicode's simple case mappings: "ß" stays
    /// "ß", where Swift's full mappings would give "SS".
    static func mapScalars(_ text: String, upper: Bool) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return upper ? text.uppercased() : text.lowercased() }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            result.append(upper ? simpleUppercase(scalar) : simpleLowercase(scalar))
        }
        return String(result)
    }

    /// The simple mapping is the full one when that is a single scalar. Otherwise it is the
    /// titlecase mapping when that is one scalar ("ᾳ" → "ᾼ"), or nothing ("ß", "ﬁ").
    private static func simpleUppercase(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if let single = singleScalar(scalar.properties.uppercaseMapping) { return single }
        return singleScalar(scalar.properties.titlecaseMapping) ?? scalar
    }

    /// U+0130 "İ" is the one scalar whose full lowercase differs from its simple one ("i").
    private static func simpleLowercase(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar == "\u{130}" { return "i" }
        return singleScalar(scalar.properties.lowercaseMapping) ?? scalar
    }

    private static func singleScalar(_ text: String) -> Unicode.Scalar? {
        let scalars = text.unicodeScalars
        return scalars.count == 1 ? scalars.first : nil
    }

    /// cases.Title(language.AmericanEnglish, cases.NoLower): the first cased letter of each word
    /// is title-cased and the rest left alone. Words follow x/text's approximation of Unicode word
    /// breaking: letters, digits, marks and "_" join a word, an apostrophe, period or colon
    /// between letters does too, anything else ends it.
    static func title(_ text: String) -> String {
        var result = ""
        var inWord = false
        var previousWasMid = false
        for scalar in text.unicodeScalars {
            let properties = scalar.properties
            let isMid = midLetters.contains(scalar)
            if previousWasMid && isMid { inWord = false }  // Two in a row break the word.
            if properties.isCased {
                if inWord {
                    result.unicodeScalars.append(scalar)
                } else {
                    result += properties.titlecaseMapping
                    inWord = true
                }
            } else {
                result.unicodeScalars.append(scalar)
                if breaksWords(scalar) { inWord = false }
            }
            previousWasMid = isMid
        }
        return result
    }

    private static let midLetters: Set<Unicode.Scalar> = [
        ":", "\u{B7}", "\u{387}", "\u{5F4}", "\u{2027}", "\u{FE13}", "\u{FE55}", "\u{FF1A}",
        ".", "\u{2018}", "\u{2019}", "\u{2024}", "\u{FE52}", "\u{FF07}", "\u{FF0E}", "'",
    ]

    private static func breaksWords(_ scalar: Unicode.Scalar) -> Bool {
        if midLetters.contains(scalar) { return false }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
            .connectorPunctuation, .format, .modifierSymbol:
            return false
        default:
            return true
        }
    }

    /// net.SplitHostPort's rules: "host:port", "[v6]:port"; anything else has no port.
    static func splitHostPort(_ hostPort: String) -> (host: String, port: String)? {
        let bytes = Array(hostPort.utf8)
        guard let lastColon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        var host: ArraySlice<UInt8>
        var afterOpen = 0, afterClose = 0
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close + 1 == lastColon else { return nil }
            host = bytes[1..<close]
            (afterOpen, afterClose) = (1, close + 1)
        } else {
            host = bytes[..<lastColon]
            if host.contains(UInt8(ascii: ":")) { return nil }
        }
        if bytes[afterOpen...].contains(UInt8(ascii: "[")) || bytes[afterClose...].contains(UInt8(ascii: "]")) { return nil }
        return (String(decoding: host, as: UTF8.self), String(decoding: bytes[(lastColon + 1)...], as: UTF8.self))
    }

    static func stripPort(_ hostPort: String) -> String {
        splitHostPort(hostPort)?.host ?? hostPort
    }

    static func stripDomain(_ hostPort: String) -> String {
        let split = splitHostPort(hostPort)
        let host = split?.host ?? hostPort
        if isIPAddress(host) { return hostPort }
        let shortHost = String(host.split(separator: ".", omittingEmptySubsequences: false).first ?? "")
        guard let port = split?.port, !port.isEmpty else { return shortHost }
        return shortHost.contains(":") ? "[\(shortHost)]:\(port)" : "\(shortHost):\(port)"
    }

    /// net.ParseIP: dotted IPv4 without leading zeros, or IPv6 (zones are not addresses).
    static func isIPAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &buffer) == 1 { return true }
        return inet_pton(AF_INET6, text, &buffer) == 1
    }
}
