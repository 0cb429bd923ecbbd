import Foundation
import SplitPlaneProtocol
import Testing

@Suite struct StrictJSONTests {
    @Test func refusesUnknownTopLevelField() throws {
        let json = #"{"name":"acme","colour":"blue"}"#
        #expect(throws: ValidationError(field: "colour", reason: "unknown field")) {
            try StrictJSON.decodeClosed(TenantRequest.self, from: Data(json.utf8))
        }
    }

    @Test func refusesUnknownNestedField() throws {
        let json = #"{"components":[{"name":"a","manifests":[],"replicas":3}]}"#
        #expect(throws: ValidationError(field: "components[0].replicas", reason: "unknown field")) {
            try StrictJSON.decodeClosed(WorkspaceSpec.self, from: Data(json.utf8))
        }
    }

    @Test func alertBatchesRefuseUnknownFieldsThemselves() throws {
        let alert = #"{"workspace":"w","state":"firing","labels":{"alertname":"A"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z""#
        let batch = { (alertJSON: String, extra: String) in
            Data(#"{"apiVersion":"qbeast.io/agent/v1","kind":"AlertBatch","instance":"i","sequence":1,"alerts":[\#(alertJSON)]\#(extra)}"#.utf8)
        }
        #expect(throws: ValidationError(field: "alerts[0].lables", reason: "unknown field")) {
            try StrictJSON.decodeClosed(AlertBatch.self, from: batch(alert + #","lables":{}}"#, ""))
        }
        #expect(throws: ValidationError(field: "priority", reason: "unknown field")) {
            try StrictJSON.decodeClosed(AlertBatch.self, from: batch(alert + "}", #","priority":1"#))
        }
        let decoded = try StrictJSON.decodeClosed(AlertBatch.self, from: batch(alert + #","endsAt":null}"#, #","droppedBatches":null"#))
        #expect(decoded.alerts[0].labels == ["alertname": "A"] && decoded.alerts[0].endsAt == nil)
        #expect(throws: ValidationError.self) { try StrictJSON.decodeClosed(AlertBatch.self, from: batch(#"{"workspace":"w"}"#, "")) }
    }

    @Test func keepsFreeFormValuesAsGiven() throws {
        let json = #"{"components":[{"name":"a","chart":{"repository":"oci://r","chart":"c","version":"1","values":{"any":{"thing":[1,"x",null]}}}}]}"#
        let spec = try StrictJSON.decodeClosed(WorkspaceSpec.self, from: Data(json.utf8))
        #expect(spec.components[0].chart?.values == .object(["any": .object(["thing": .array([.number(1), .string("x"), .null])])]))
    }

    @Test func acceptsPrometheusSpelling() throws {
        let json = #"{"ruleGroups":[{"name":"g","rules":[{"alert":"A","expr":"up == 0","for":"5m","keep_firing_for":"1m"}]}]}"#
        let spec = try StrictJSON.decodeClosed(WorkspaceSpec.self, from: Data(json.utf8))
        #expect(spec.ruleGroups[0].rules[0].keepFiringFor == "1m")
        try spec.validate()
    }

    @Test func explainsTypeErrorsAndMissingFields() {
        #expect(throws: ValidationError(field: "", reason: "cloud: expected a string")) {
            try StrictJSON.decodeClosed(EnvironmentRequest.self, from: Data(#"{"name":"e","cloud":5,"mode":"provided"}"#.utf8))
        }
        #expect(throws: ValidationError(field: "", reason: "mode: required field is missing")) {
            try StrictJSON.decodeClosed(EnvironmentRequest.self, from: Data(#"{"name":"e","cloud":"aws"}"#.utf8))
        }
    }

    @Test func malformedJSONIsAValidationError() {
        #expect(throws: ValidationError.self) { try StrictJSON.decodeClosed(TenantRequest.self, from: Data("{\"name\":".utf8)) }
    }

    @Test func timestampsRoundTrip() throws {
        let date = Date(timeIntervalSince1970: 1_800_000_000.5)
        let text = Timestamp.format(date)
        #expect(text == "2027-01-15T08:00:00.500Z")
        #expect(abs(Timestamp.parse(text)!.timeIntervalSince(date)) < 0.001)
        #expect(Timestamp.parse("2027-01-15T08:00:00Z") != nil)
    }
}

@Suite struct WorkspaceSpecValidationTests {
    func spec(_ json: String) throws -> WorkspaceSpec { try StrictJSON.decodeClosed(WorkspaceSpec.self, from: Data(json.utf8)) }

    @Test func componentNeedsExactlyOneSource() throws {
        #expect(throws: ValidationError.self) { try spec(#"{"components":[{"name":"a"}]}"#).validate() }
        let both = #"{"components":[{"name":"a","manifests":[],"chart":{"repository":"oci://r","chart":"c","version":"1"}}]}"#
        #expect(throws: ValidationError.self) { try spec(both).validate() }
    }

    @Test func refusesRecordingRulesAndBadDurations() throws {
        #expect(throws: ValidationError.self) { try spec(#"{"ruleGroups":[{"name":"g","rules":[{"record":"r","expr":"x"}]}]}"#).validate() }
        #expect(throws: ValidationError(field: "spec.ruleGroups[0].rules[0].for", reason: "\"5 minutes\" is not a Prometheus duration (e.g. 30s, 5m, 1h30m)")) {
            try spec(#"{"ruleGroups":[{"name":"g","rules":[{"alert":"A","expr":"x","for":"5 minutes"}]}]}"#).validate()
        }
    }

    @Test func refusesDuplicateNames() throws {
        #expect(throws: ValidationError.self) {
            try spec(#"{"components":[{"name":"a","manifests":[]},{"name":"a","manifests":[]}]}"#).validate()
        }
    }

    @Test func alertsMayNotClaimTheirOwnTenant() {
        let alert = AgentAlert(workspace: "w", state: .firing, labels: ["alertname": "X", "tenant": "other"], annotations: [:], startsAt: .now)
        #expect(throws: ValidationError.self) { try alert.validate(field: "alerts[0]") }
    }

    @Test func fingerprintIgnoresLabelOrder() {
        #expect(Fingerprint.of(labels: ["a": "1", "b": "2"]) == Fingerprint.of(labels: ["b": "2", "a": "1"]))
        #expect(Fingerprint.of(labels: ["a": "1", "b": "2"]) != Fingerprint.of(labels: ["a": "12"]))
    }
}

@Suite struct ConditionTests {
    @Test func transitionTimeMovesOnlyWhenStatusChanges() {
        let t0 = Date(timeIntervalSince1970: 0), t1 = Date(timeIntervalSince1970: 100)
        var conditions: [Condition] = []
        conditions.set(Condition(type: "Accepted", status: .true, reason: "Valid", message: "a", lastTransitionTime: t0))
        conditions.set(Condition(type: "Accepted", status: .true, reason: "Valid", message: "b", lastTransitionTime: t1))
        #expect(conditions[type: "Accepted"]?.lastTransitionTime == t0)
        #expect(conditions[type: "Accepted"]?.message == "b")
        conditions.set(Condition(type: "Accepted", status: .false, reason: "InvalidSpec", message: "c", lastTransitionTime: t1))
        #expect(conditions[type: "Accepted"]?.lastTransitionTime == t1)
        #expect(conditions.count == 1)
    }
}
