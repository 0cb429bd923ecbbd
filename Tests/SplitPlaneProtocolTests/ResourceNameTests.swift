import SplitPlaneProtocol
import Testing

@Suite struct ResourceNameTests {
    @Test(arguments: ["a", "acme", "prod-eu-1", "0abc", String(repeating: "a", count: 63)])
    func acceptsDNSLabels(_ name: String) {
        #expect(ResourceName.isValid(name))
    }

    @Test(arguments: ["", "Acme", "acme_prod", "-acme", "acme-", "a.b", "ümlaut", "a b", String(repeating: "a", count: 64)])
    func refusesEverythingElse(_ name: String) {
        #expect(!ResourceName.isValid(name))
        #expect(throws: ValidationError.self) { try ResourceName.validate(name, field: "name") }
    }

    @Test func errorNamesTheField() {
        do {
            try ResourceName.validate("Bad", field: "spec.components[0].name")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.field == "spec.components[0].name")
            #expect(error.reason.contains("DNS-1123"))
        }
    }
}

@Suite struct PrometheusDurationTests {
    @Test func parsesPrometheusDurations() {
        #expect(PrometheusDuration.parse("30s") == .seconds(30))
        #expect(PrometheusDuration.parse("1h30m") == .seconds(5400))
        #expect(PrometheusDuration.parse("250ms") == .milliseconds(250))
        #expect(PrometheusDuration.parse("1d") == .seconds(86_400))
        #expect(PrometheusDuration.parse("0") == .zero)
    }

    @Test(arguments: ["", "5", "1x", "30m1h", "1.5m", "m", "-5m", "5m5m", "293000000y", "106751991167d1w"])
    func refusesMalformedDurations(_ text: String) {
        #expect(PrometheusDuration.parse(text) == nil)
    }
}
