import Foundation
import SplitPlaneProtocol
import Testing

/// Every body either plane accepts passes `JSONKeyCheck` first, so no two parsers can read it differently.
struct JSONKeyCheckTests {
    private func refusal(_ json: String) -> ValidationError? {
        do {
            try JSONKeyCheck.check(Data(json.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func duplicateKeysAreNamedWithTheirPath() {
        #expect(refusal(#"{"name":"a","name":"b"}"#) == ValidationError(field: "name", reason: "duplicate key \"name\""))
        #expect(refusal(#"{"kind":"StatusReport","workspaces":[{"name":"w"}],"kind":"X"}"#)?.field == "kind")
        #expect(refusal(#"{"alerts":[{"labels":{}},{"labels":{"a":"1","b":"2","a":"3"}}]}"#)?.field == "alerts[1].labels.a")
        #expect(
            refusal(#"{"spec":{"components":[{"name":"x","manifests":[{"metadata":{"name":"a","name":"b"}}]}]}}"#)?.field
                == "spec.components[0].manifests[0].metadata.name")
    }

    @Test func escapedSpellingsOfTheSameKeyAreDuplicates() {
        #expect(refusal(#"{"name":"a","n\u0061me":"b"}"#)?.field == "name")
        #expect(refusal(#"{"a\/b":1,"a/b":2}"#)?.field == "a/b")
        // Canonically equivalent spellings: the typed decoder would merge them, so they are refused too.
        #expect(refusal(#"{"caf\u00e9":1,"cafe\u0301":2}"#) != nil)
        #expect(refusal(#"{"\ud83d\ude00":1,"😀":2}"#) != nil)
    }

    @Test func sameKeysInDifferentObjectsAndValuesLikeKeysAreFine() {
        #expect(refusal(#"{"a":{"name":"x"},"b":{"name":"x"},"c":[{"name":1},{"name":2}]}"#) == nil)
        #expect(refusal(#"{"name":"name","value":"name"}"#) == nil)
        #expect(refusal(#"{"text":"{\"name\":1,\"name\":2}","other":"\\"}"#) == nil)
        #expect(refusal(#"["name","name"]"#) == nil)
    }

    @Test func nulInAnyStringIsRefused() {
        #expect(
            refusal(#"{"displayName":"a\u0000b"}"#) == ValidationError(field: "displayName", reason: "a string contains U+0000 (NUL), which no field accepts"))
        #expect(refusal(#"{"labels":{"a\u0000":"x"}}"#)?.field == "labels")
        #expect(refusal(#"{"a":["x","\u0000"]}"#) != nil)
        #expect(refusal(#"{"a":"\\u0000"}"#) == nil, "an escaped backslash followed by u0000 is six characters, not NUL")
        #expect(refusal(#"{"a":"\u0001\u00000"}"#) != nil)
    }

    @Test func deepNestingIsRefusedBeforeAnyRecursiveParserSeesIt() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(refusal(deep)?.reason == "JSON nests deeper than 128 levels")
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(refusal(ok) == nil)
    }

    @Test func objectsWithVeryManyKeysAreCheckedInLinearTime() {
        let keys = (0..<100_000).map { "\"l\($0)\":\"v\"" }
        let clock = ContinuousClock()
        let started = clock.now
        #expect(refusal("{" + keys.joined(separator: ",") + "}") == nil)
        #expect(refusal("{" + keys.joined(separator: ",") + ",\"l99999\":1}")?.field == "l99999")
        #expect(clock.now - started < .seconds(5), "a quadratic check takes minutes here")
    }

    @Test func malformedInputEndsWithoutAVerdict() {
        for text in ["", "{", "\"", #"{"a":"#, #"{"a\"#, "}}}]]]", #"{"\u12"#, String(repeating: "{\"a\":", count: 50)] {
            _ = refusal(text)
        }
    }

    @Test func closedDecodingRefusesDuplicatesInsteadOfPickingOne() {
        struct Named: Codable { var name: String }
        #expect(throws: ValidationError(field: "name", reason: "duplicate key \"name\"")) {
            try StrictJSON.decodeClosed(Named.self, from: Data(#"{"name":"a","name":"b"}"#.utf8))
        }
        #expect(throws: ValidationError.self) {
            try StrictJSON.decode(Named.self, from: Data(#"{"name":"a","name":"b"}"#.utf8))
        }
    }
}
