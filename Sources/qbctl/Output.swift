import Foundation
import SplitPlaneProtocol
import Yams

/// Prints either pretty JSON or an aligned table, as `-o` asks.
enum Output {
    /// The resource as JSON or YAML (YAML keys sorted, as `kubectl -o yaml` prints them).
    static func structured(_ value: some Encodable, _ format: OutputFormat) throws {
        try raw(try StrictJSON.encoder(pretty: true).encode(value), format)
    }

    /// A JSON document from the API, printed as JSON or converted to YAML.
    static func raw(_ json: Data, _ format: OutputFormat) throws {
        guard format == .yaml else {
            var data = json
            if data.last != 0x0A { data.append(0x0A) }
            return FileHandle.standardOutput.write(data)
        }
        let object = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
        FileHandle.standardOutput.write(Data(try Yams.dump(object: object, sortKeys: true).utf8))
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }
        print(line(header))
        rows.forEach { print(line($0)) }
    }

    static func age(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "-" }
        let seconds = Int(now.timeIntervalSince(date))
        switch seconds {
        case ..<0: return "0s"
        case ..<120: return "\(seconds)s"
        case ..<7200: return "\(seconds / 60)m"
        case ..<172_800: return "\(seconds / 3600)h"
        default: return "\(seconds / 86400)d"
        }
    }
}
