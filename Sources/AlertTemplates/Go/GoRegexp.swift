import Foundation
import RegexBudget
import Synchronization

/// Go regular expressions (RE2 syntax) on top of NSRegularExpression. ICU's syntax covers what
/// RE2 accepts; where meanings differ the pattern is rewritten: `(?P<name>...)` groups, `$`
/// (end of text in RE2, also before a final newline in ICU), and `\d`, `\w`, `\s` (ASCII-only
/// in RE2). Only "\n" ends a line, as in RE2.
/// ReplaceAll follows Go: `$1`, `${1}`, `$name`, `$$`, and no empty match right after a match.
struct GoRegexp: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe.
    private let expression: NSRegularExpression
    /// Capture group numbers of named groups.
    private let groupNumbers: [String: Int]

    struct CompileError: Error {
        let message: String
    }

    private static let cache = Mutex<[String: GoRegexp]>([:])

    /// A compiled expression, cached: Prometheus templates use a handful of literal patterns.
    static func compile(_ pattern: String) throws(FunctionError) -> GoRegexp {
        do {
            return try cached(pattern)
        } catch {
            throw FunctionError(error.message)
        }
    }

    static func cached(_ pattern: String) throws(CompileError) -> GoRegexp {
        if let hit = cache.withLock({ $0[pattern] }) { return hit }
        let compiled = try GoRegexp(pattern)
        cache.withLock { entries in
            if entries.count >= 512 { entries.removeAll() }
            entries[pattern] = compiled
        }
        return compiled
    }

    init(_ pattern: String) throws(CompileError) {
        let (translated, groups) = Self.translate(pattern)
        do {
            // ICU refuses an empty pattern; RE2 matches the empty string everywhere.
            expression = try NSRegularExpression(pattern: translated.isEmpty ? "(?:)" : translated, options: .useUnixLineSeparators)
        } catch {
            throw CompileError(message: "error parsing regexp: invalid or unsupported syntax: `\(pattern)`")
        }
        groupNumbers = groups
    }

    /// Whether `text` matches, within the match budget (`RegexBudget`).
    func matches(_ text: String) throws(RegexTooExpensive) -> Bool {
        try !expression.boundedMatches(in: text, first: true).isEmpty
    }

    /// Regexp.ReplaceAllString: every match replaced by `template` with its `$` references expanded.
    func replaceAll(_ text: String, with template: String) throws(RegexTooExpensive) -> String {
        let units = Array(text.utf16)
        func slice(_ range: Range<Int>) -> String { String(decoding: units[range], as: UTF16.self) }
        var result = ""
        var lastMatchEnd = 0
        for match in try expression.boundedMatches(in: text) {
            let range = match.range
            result += slice(lastMatchEnd..<range.location)
            // Go skips an empty match that directly follows the previous match.
            if range.upperBound > lastMatchEnd || range.location == 0 {
                result += expand(template, match: match, slice: slice)
            }
            lastMatchEnd = range.upperBound
        }
        return result + slice(lastMatchEnd..<units.count)
    }

    /// Regexp.Expand: "$name" takes the longest run of letters, digits and "_", so "$1x" means
    /// the group named "1x"; unknown or unmatched groups expand to nothing; "$$" is "$".
    private func expand(_ template: String, match: NSTextCheckingResult, slice: (Range<Int>) -> String) -> String {
        var result = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            if rest.first == "$" {
                result += "$"
                rest = rest.dropFirst()
                continue
            }
            guard let (name, remainder) = Self.referenceName(rest) else {
                result += "$"  // Malformed: the "$" stays literal.
                continue
            }
            rest = remainder
            let group =
                name.allSatisfy { ("0"..."9").contains($0) } && !(name.count > 1 && name.first == "0") && name.count < 9
                ? Int(name) : groupNumbers[name]
            if let group, group < match.numberOfRanges {
                let range = match.range(at: group)
                if range.location != NSNotFound { result += slice(range.location..<range.upperBound) }
            }
        }
        return result + rest
    }

    private static func referenceName(_ text: Substring) -> (String, Substring)? {
        let isNameCharacter: (Character) -> Bool = { $0 == "_" || $0.isLetter || $0.isNumber }
        if text.first == "{" {
            let body = text.dropFirst()
            guard let close = body.firstIndex(of: "}") else { return nil }
            let name = body[..<close]
            guard !name.isEmpty, name.allSatisfy(isNameCharacter) else { return nil }
            return (String(name), body[body.index(after: close)...])
        }
        let name = text.prefix(while: isNameCharacter)
        guard !name.isEmpty else { return nil }
        return (String(name), text[name.endIndex...])
    }

    /// Rewrites `(?P<name>` and `(?<name>` as plain groups (ICU only allows alphanumeric names)
    /// and numbers every capturing group, skipping escapes and character classes.
    private static func translate(_ pattern: String) -> (String, [String: Int]) {
        let characters = Array(pattern)
        let multiLine = setsMultiLineFlag(characters)
        var output = ""
        var groups: [String: Int] = [:]
        var groupCount = 0
        var inClass = false
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\" {
                let escaped: Character? = index + 1 < characters.count ? characters[index + 1] : nil
                if let escaped, let ascii = asciiClass(escaped, inClass: inClass) {
                    output += ascii
                } else if let escaped, escaped == "p" || escaped == "P", index + 2 < characters.count, characters[index + 2] != "{" {
                    output += "\\\(escaped){\(characters[index + 2])}"  // RE2's one-letter \pL is ICU's \p{L}.
                    index += 3
                    continue
                } else {
                    output.append(character)
                    if let escaped { output.append(escaped) }
                }
                index += 2
                continue
            }
            if inClass {
                if character == "]" { inClass = false }
                if character == "[" && index + 1 < characters.count && characters[index + 1] == ":" {
                    // [:alpha:] inside a class.
                    if let close = characters[(index + 2)...].firstIndex(of: "]") {
                        output += String(characters[index...close])
                        index = close + 1
                        continue
                    }
                }
                output.append(character)
                index += 1
                continue
            }
            switch character {
            case "[":
                inClass = true
                output.append(character)
                index += 1
                // A leading "]" (after an optional "^") is a literal.
                if index < characters.count && characters[index] == "^" {
                    output.append("^")
                    index += 1
                }
                if index < characters.count && characters[index] == "]" {
                    output.append("]")
                    index += 1
                }
                continue
            case "(":
                let rest = characters[(index + 1)...]
                var nameStart: Int?
                if rest.starts(with: ["?", "P", "<"]) {
                    nameStart = index + 4
                } else if rest.starts(with: ["?", "<"]) && !rest.starts(with: ["?", "<", "="]) && !rest.starts(with: ["?", "<", "!"]) {
                    nameStart = index + 3
                }
                if let nameStart, let close = characters[nameStart...].firstIndex(of: ">") {
                    groupCount += 1
                    groups[String(characters[nameStart..<close])] = groups[String(characters[nameStart..<close])] ?? groupCount
                    output.append("(")
                    index = close + 1
                    continue
                }
                if rest.first != "?" { groupCount += 1 }
            case "$" where !multiLine:
                output += "\\z"
                index += 1
                continue
            default:
                break
            }
            output.append(character)
            index += 1
        }
        return (output, groups)
    }

    /// RE2's Perl classes are ASCII-only; ICU's are Unicode-wide.
    private static func asciiClass(_ escaped: Character, inClass: Bool) -> String? {
        let body: String
        switch escaped {
        case "d", "D": body = "0-9"
        case "w", "W": body = "0-9A-Za-z_"
        case "s", "S": body = "\\t\\n\\f\\r "
        default: return nil
        }
        let negated = escaped.isUppercase
        if inClass { return negated ? nil : body }
        return negated ? "[^\(body)]" : "[\(body)]"
    }

    /// Whether a `(?flags)` or `(?flags:...)` group turns on multi-line mode, in which `$` keeps
    /// its line-end meaning.
    private static func setsMultiLineFlag(_ characters: [Character]) -> Bool {
        var index = 0
        while index + 1 < characters.count {
            if characters[index] == "\\" {
                index += 2
                continue
            }
            if characters[index] == "(" && characters[index + 1] == "?" {
                var cursor = index + 2
                while cursor < characters.count, characters[cursor].isLetter {
                    if characters[cursor] == "m" { return true }
                    cursor += 1
                }
            }
            index += 1
        }
        return false
    }
}
