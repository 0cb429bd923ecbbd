import AlertTemplates
import Foundation
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

@Suite struct MetricsStoreParsingTests {
    func parse(_ json: String, status: Int = 200) throws(MetricsStoreError) -> [QuerySample] {
        try MetricsStoreClient.parse(body: Data(json.utf8), status: status)
    }

    @Test func parsesVectorsAndScalars() throws {
        let vector = try parse(
            #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1,"0.5"]},{"metric":{},"value":[1,"NaN"]}]}}"#)
        #expect(vector.count == 2)
        #expect(vector[0] == QuerySample(labels: ["job": "a"], value: 0.5))
        #expect(vector[1].value.isNaN)
        #expect(try parse(#"{"status":"success","data":{"resultType":"scalar","result":[1,"+Inf"]}}"#) == [QuerySample(labels: [:], value: .infinity)])
    }

    @Test func refusesGarbageWithAClearError() {
        #expect(throws: MetricsStoreError.badResponse("HTTP 200: not JSON: <html>oops")) { try parse("<html>oops") }
        #expect(throws: MetricsStoreError.badResponse("answer has no data.resultType")) { try parse(#"{"status":"success"}"#) }
        #expect(throws: MetricsStoreError.queryFailed("bad query")) { try parse(#"{"status":"error","errorType":"422","error":"bad query"}"#, status: 422) }
        #expect(throws: MetricsStoreError.self) { try parse(#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#) }
        #expect(throws: MetricsStoreError.badResponse("sample value \"abc\" is not a number")) {
            try parse(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}"#)
        }
    }

    @Test func deeplyNestedJunkDoesNotCrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: MetricsStoreError.self) { try parse(deep) }
    }
}

/// Against a real VictoriaMetrics on loopback.
@Suite(.serialized) struct MetricsStoreIntegrationTests {
    let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    @Test func queriesVictoriaMetricsAtTheGivenTime() async throws {
        let vm = try await TestVictoriaMetrics.start()
        defer { vm.stop() }
        let ms = Int64(t0.timeIntervalSince1970 * 1000)
        try await vm.importPrometheus([
            #"up{job="backend",instance="a"} 0 \#(ms)"#,
            #"up{job="backend",instance="b"} 1 \#(ms)"#,
            #"up{job="backend",instance="a"} 1 \#(ms + 600_000)"#,
        ])
        let client = MetricsStoreClient(baseURL: vm.url)
        let down = try await client.query(#"up{job="backend"} == 0"#, at: t0.addingTimeInterval(30))
        #expect(down.map { $0.labels["instance"] } == ["a"])
        let later = try await client.query(#"up{job="backend"} == 0"#, at: t0.addingTimeInterval(630))
        #expect(later.isEmpty)
        let sum = try await client.query(#"sum(up) + 1"#, at: t0.addingTimeInterval(30))
        #expect(sum.first?.value == 2)
        await #expect(throws: MetricsStoreError.self) { try await client.query("sum(", at: t0) }
        // An answer larger than the configured bound is refused, not buffered without limit.
        let small = MetricsStoreClient(baseURL: vm.url, maxResponseBytes: 64)
        await #expect(throws: MetricsStoreError.badResponse("response larger than 64 bytes (NIOTooManyBytesError(maxBytes: Optional(64)))")) {
            try await small.query(#"up{job="backend"}"#, at: t0.addingTimeInterval(30))
        }
    }

    @Test func unreachableAndHangingStoresAreReportedNotFatal() async throws {
        let closed = MetricsStoreClient(baseURL: "http://127.0.0.1:\(try freeLoopbackPort())")
        do {
            _ = try await closed.query("up", at: t0)
            Issue.record("expected an error")
        } catch {
            #expect(error.isStoreProblem)
        }

        let silent = try SilentListener()
        defer { silent.close() }
        let hanging = MetricsStoreClient(baseURL: "http://127.0.0.1:\(silent.port)", timeout: .seconds(1))
        let started = ContinuousClock.now
        do {
            _ = try await hanging.query("up", at: t0)
            Issue.record("expected a timeout")
        } catch {
            #expect(error.isStoreProblem)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
