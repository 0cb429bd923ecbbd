import AsyncHTTPClient
import ControllerModel
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceSupport
import SplitPlaneProtocol

/// `POST /slack/interactions`: where Slack sends a click on a message's Acknowledge button. No bearer
/// token — Slack cannot hold one — but every request must carry a valid, fresh Slack signature.
/// Answers at once (Slack waits at most three seconds); the acknowledgement is one store write.
struct SlackInteractionRoutes<Context: RequestContext> {
    let store: (any AlertingStore & AuditStore)
    let signature: SlackSignature?
    let clock: any TimeSource
    static var bodyLimit: Int { 64 * 1024 }

    func register(on router: Router<Context>) {
        router.post("slack/interactions", use: interaction)
    }

    @Sendable func interaction(_ request: Request, context: Context) async throws -> Response {
        guard let signature else {
            throw APIProblem(.notFound, "Slack interactions are not enabled: start the controller with --slack-signing-secret-file")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.bodyLimit)
        } catch is NIOTooManyBytesError {
            throw APIProblem(.contentTooLarge, "request body exceeds the \(Self.bodyLimit)-byte limit")
        }
        let body = Data(buffer: buffer)
        do {
            try signature.verify(
                timestamp: request.headers[.init("X-Slack-Request-Timestamp")!],
                signature: request.headers[.init("X-Slack-Signature")!], body: body, at: clock.now())
        } catch {
            context.logger.warning("refused a Slack interaction", metadata: ["reason": "\(error.description)"])
            throw APIProblem(.unauthorized, "Slack signature check failed: \(error.description)")
        }
        let interaction = try Self.parse(body)
        guard let action = interaction.actions.first(where: { $0.actionID == SlackMessage.acknowledgeActionID }) else {
            // Other interactions (a link opened, a menu) need no answer beyond 200.
            return Response(status: .ok)
        }
        let groupID = try AlertingRoutes.validGroupID(action.value)
        let ack = Acknowledgement(by: interaction.user, at: clock.now(), via: "slack")
        _ = try await store.setAcknowledgement(groupID: groupID, ack, at: clock.now())
        try? await store.audit(
            AuditEntry(
                at: clock.now(), actor: "slack:\(interaction.user)", action: "POST",
                target: "/v1/alert-groups/\(groupID)/ack", result: "200", address: nil, detail: "via Slack button"))
        context.logger.info("alert group acknowledged from Slack", metadata: ["group": "\(groupID)", "by": "\(interaction.user)"])
        if let responseURL = interaction.responseURL.flatMap(SlackAcknowledgedMessage.isSlackResponseURL), let message = interaction.message {
            // After answering: Slack waits three seconds for the answer, and ignores its body for a button.
            let update = SlackAcknowledgedMessage.replacing(message, by: interaction.user, at: ack.at)
            let logger = context.logger
            Task { await Self.replaceMessage(at: responseURL, with: update, logger: logger) }
        }
        return Response(status: .ok)
    }

    /// Replaces the clicked message in the channel: the button gone, who acknowledged shown.
    static func replaceMessage(at url: URL, with update: JSONValue, logger: Logger) async {
        do {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(data: try StrictJSON.encode(update)))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            if response.status.code >= 300 { logger.warning("Slack did not replace the acknowledged message", metadata: ["status": "\(response.status.code)"]) }
        } catch {
            // The response URL is a credential of sorts: never logged.
            logger.warning("cannot replace the acknowledged message in Slack", metadata: ["error": "\(String(describing: error).prefix(200))"])
        }
    }

    struct Interaction {
        struct Action { var actionID: String; var value: String }
        var user: String
        var actions: [Action]
        /// Where the clicked message can be replaced (valid for 30 minutes, five uses).
        var responseURL: String?
        /// The clicked message as Slack shows it.
        var message: JSONValue?
    }

    /// Slack posts `application/x-www-form-urlencoded` with one field, `payload`, holding the JSON.
    static func parse(_ body: Data) throws -> Interaction {
        var components = URLComponents()
        components.percentEncodedQuery = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "+", with: "%20")
        guard let payload = components.queryItems?.first(where: { $0.name == "payload" })?.value,
            let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
        else {
            throw APIProblem(.badRequest, "expected a form body with a `payload` field holding Slack's interaction JSON")
        }
        let user = object["user"] as? [String: Any]
        let name = (user?["username"] as? String) ?? (user?["name"] as? String) ?? (user?["id"] as? String) ?? "slack user"
        let actions = (object["actions"] as? [[String: Any]] ?? []).compactMap { action -> Interaction.Action? in
            guard let id = action["action_id"] as? String, let value = action["value"] as? String else { return nil }
            return Interaction.Action(actionID: id, value: value)
        }
        let full = try? JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8))
        return Interaction(user: String(name.prefix(100)), actions: actions, responseURL: object["response_url"] as? String, message: full?["message"])
    }
}
