import ControllerModel
import Foundation
import Hummingbird
import Logging
import ServiceSupport

/// Records every operator mutation (anything but GET/HEAD) in the audit log: who, what, when, from
/// where, and the answer's status. Bodies are never recorded, so neither are tokens or keys.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = OperatorRequestContext
    let store: any AuditStore
    let clock: any TimeSource

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get && request.method != .head else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            await record(request, context, result: String(response.status.code))
            return response
        } catch let error as any HTTPResponseError {
            await record(request, context, result: String(error.status.code))
            throw error
        } catch {
            await record(request, context, result: "500")
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, result: String) async {
        let entry = AuditEntry(
            at: clock.now(), actor: context.actor ?? "anonymous", action: request.method.rawValue,
            target: request.uri.path, result: result, address: context.address)
        do {
            try await store.audit(entry)
        } catch {
            context.logger.error("cannot write the audit record", metadata: ["action": "\(entry.action) \(entry.target)", "error": "\(error)"])
        }
    }
}
