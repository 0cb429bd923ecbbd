import AlertRouting
import ControllerModel
import Foundation
import Hummingbird
import ServiceSupport
import SplitPlaneProtocol

/// Operator API of alerting: alert groups and their acknowledgement, the notifications sent for them,
/// silences, and the routing configuration in force.
struct AlertingRoutes {
    typealias Context = OperatorRequestContext
    let store: any AlertingStore
    let dispatcher: AlertDispatcher
    let clock: any TimeSource
    let bodyLimit: Int

    func register(on group: RouterGroup<Context>) {
        group.get("alert-groups", use: listGroups)
        group.get("alert-groups/:group", use: getGroup)
        group.post("alert-groups/:group/ack", use: acknowledge)
        group.post("alert-groups/:group/unack", use: unacknowledge)
        group.get("notifications", use: listNotifications)
        group.get("silences", use: listSilences)
        group.post("silences", use: createSilence)
        group.get("silences/:silence", use: getSilence)
        group.delete("silences/:silence", use: expireSilence)
        group.get("routing-config", use: routingConfig)
        group.post("routing-config/reload", use: reload)
    }

    // MARK: Groups

    @Sendable func listGroups(_ request: Request, context: Context) async throws -> Response {
        var tenant = request.uri.queryParameters["tenant"].map(String.init)
        if let tenant { try ResourceName.validate(tenant, field: "tenant") }
        if let visible = context.principal?.visibleTenant {
            if let tenant, tenant != visible { return try JSONBodies.response(ListResponse<AlertGroup>(items: [])) }
            tenant = visible
        }
        let page = try ListPage(request)
        let acknowledged = try ListFilter.bool(request, "acknowledged")
        let groups = try await store.alertGroups(tenant: tenant, at: clock.now()).filter { group in
            acknowledged.map { $0 == (group.acknowledgement != nil) } ?? true
        }
        return try JSONBodies.response(page.page(groups, key: \.id))
    }

    @Sendable func getGroup(_ request: Request, context: Context) async throws -> Response {
        return try JSONBodies.response(try await visibleGroup(context))
    }

    @Sendable func acknowledge(_ request: Request, context: Context) async throws -> Response {
        let id = try await visibleGroup(context).id
        let body = try await optionalBody(AcknowledgeRequest.self, request) ?? AcknowledgeRequest()
        try body.validate()
        let ack = Acknowledgement(by: body.by ?? "operator", at: clock.now(), via: "api", comment: body.comment)
        return try JSONBodies.response(try await store.setAcknowledgement(groupID: id, ack, at: clock.now()))
    }

    @Sendable func unacknowledge(_ request: Request, context: Context) async throws -> Response {
        let group = try await store.setAcknowledgement(groupID: try await visibleGroup(context).id, nil, at: clock.now())
        return try JSONBodies.response(group)
    }

    @Sendable func listNotifications(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        let group = try query["group"].map { value throws(APIProblem) in try Self.validGroupID(String(value)) }
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { throw APIProblem(.badRequest, "limit must be 1 to 1000") }
            limit = value
        }
        return try JSONBodies.response(ListResponse(items: try await store.notifications(groupID: group, limit: limit)))
    }

    // MARK: Silences

    @Sendable func listSilences(_ request: Request, context: Context) async throws -> Response {
        let page = try ListPage(request)
        let state = try ListFilter.value(request, "state", as: Silence.State.self)
        let silences = try await store.silences(at: clock.now()).filter { silence in state.map { $0 == silence.state } ?? true }
        return try JSONBodies.response(page.page(silences, key: \.id))
    }

    @Sendable func getSilence(_ request: Request, context: Context) async throws -> Response {
        let id = context.parameters.get("silence") ?? ""
        guard let silence = try await store.silences(at: clock.now()).first(where: { $0.id == id }) else {
            throw APIProblem(.notFound, "silence \"\(id)\" not found")
        }
        return try JSONBodies.response(silence)
    }

    @Sendable func createSilence(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONBodies.decode(SilenceRequest.self, from: request, limit: bodyLimit)
        let now = clock.now()
        let silence = try Self.silence(from: body, at: now)
        try await store.createSilence(silence)
        return try JSONBodies.response(silence, status: .created, headers: [.location: "/v1/silences/\(silence.id)"])
    }

    @Sendable func expireSilence(_ request: Request, context: Context) async throws -> Response {
        try JSONBodies.response(try await store.expireSilence(id: context.parameters.get("silence") ?? "", at: clock.now()))
    }

    static func silence(from body: SilenceRequest, at now: Date) throws -> Silence {
        guard !body.matchers.isEmpty else { throw APIProblem(.badRequest, "matchers: at least one matcher is required") }
        var normalized: [String] = []
        for (index, text) in body.matchers.enumerated() {
            do {
                normalized.append(try LabelMatcher.parse(text).description)
            } catch {
                throw APIProblem(.badRequest, "matchers[\(index)]: \(error.description)")
            }
        }
        // A silence that matches everything would mute the whole fleet: Alertmanager refuses it too.
        if try normalized.allSatisfy({ try LabelMatcher.parse($0).matches([:]) }) {
            throw APIProblem(.badRequest, "matchers: at least one matcher must not match the empty string, or the silence would mute every alert")
        }
        if body.createdBy.trimmingCharacters(in: .whitespaces).isEmpty || body.createdBy.count > 100 {
            throw APIProblem(.badRequest, "createdBy: must be 1 to 100 characters")
        }
        if body.comment.trimmingCharacters(in: .whitespaces).isEmpty || body.comment.count > 1000 {
            throw APIProblem(.badRequest, "comment: must be 1 to 1000 characters (say why)")
        }
        let startsAt = max(body.startsAt ?? now, now)
        let endsAt: Date
        switch (body.endsAt, body.duration) {
        case (let end?, nil): endsAt = end
        case (nil, let text?):
            guard let duration = PrometheusDuration.parse(text), duration > .zero else {
                throw APIProblem(.badRequest, "duration: \"\(text)\" is not a positive duration (e.g. 2h)")
            }
            endsAt = startsAt.addingTimeInterval(duration.timeInterval)
        case (nil, nil): throw APIProblem(.badRequest, "endsAt or duration is required")
        case (_?, _?): throw APIProblem(.badRequest, "give endsAt or duration, not both")
        }
        guard endsAt > startsAt else { throw APIProblem(.badRequest, "endsAt must be after startsAt") }
        return Silence(
            id: UUID().uuidString.lowercased(), matchers: normalized, startsAt: startsAt, endsAt: endsAt,
            createdBy: body.createdBy, comment: body.comment, createdAt: now,
            state: Silence.state(startsAt: startsAt, endsAt: endsAt, at: now))
    }

    // MARK: Routing configuration

    @Sendable func routingConfig(_ request: Request, context: Context) async throws -> Response {
        try JSONBodies.response(RoutingConfigDocument.render(dispatcher.configSource.current))
    }

    @Sendable func reload(_ request: Request, context: Context) async throws -> Response {
        do {
            return try JSONBodies.response(RoutingConfigDocument.render(try await dispatcher.reload()))
        } catch let error as RoutingConfigError {
            throw APIProblem(.unprocessableContent, "the new routing configuration was refused; the running one stays: \(error.description)")
        }
    }

    // MARK: Helpers

    /// The group, if the caller may see it: a tenant-scoped token sees only groups of its tenant's alerts.
    private func visibleGroup(_ context: Context) async throws -> AlertGroup {
        let id = try groupID(context)
        guard let group = try await store.alertGroup(id: id, at: clock.now()),
            context.principal?.visibleTenant.map({ tenant in (group.alerts ?? []).allSatisfy { $0.tenant == tenant } && group.alerts?.isEmpty == false })
                ?? true
        else { throw APIProblem(.notFound, "alert group \"\(id)\" not found") }
        return group
    }

    private func groupID(_ context: Context) throws -> String {
        try Self.validGroupID(context.parameters.get("group") ?? "")
    }

    static func validGroupID(_ id: String) throws(APIProblem) -> String {
        guard id.count == 16, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw APIProblem(.notFound, "alert group \"\(id.prefix(64))\" not found (ids are 16 hex digits)")
        }
        return id
    }

    private func optionalBody<T: Codable>(_ type: T.Type, _ request: Request) async throws -> T? {
        if request.headers[.contentLength] == "0" || (request.headers[.contentLength] == nil && request.headers[.contentType] == nil) { return nil }
        return try await JSONBodies.decode(type, from: request, limit: bodyLimit)
    }
}
