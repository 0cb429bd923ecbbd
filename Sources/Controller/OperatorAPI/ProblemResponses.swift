import ControllerModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SplitPlaneProtocol

/// An error answered as `application/problem+json` (RFC 9457).
public struct APIProblem: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var detail: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status.code) \(detail)" }

    public var problem: Problem {
        Problem(title: status.reasonPhrase, status: status.code, detail: detail)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var problem = self.problem
        problem.instance = request.uri.path
        var headers = self.headers
        headers[.contentType] = Problem.contentType
        return Response(
            status: status, headers: headers,
            body: .init(byteBuffer: ByteBuffer(data: (try? StrictJSON.encode(problem)) ?? Data())))
    }

    public static func invalid(_ error: ValidationError) -> APIProblem {
        APIProblem(.badRequest, error.description)
    }
}

/// Turns every error a handler throws — ours, the router's 404/405, decoding errors, store refusals —
/// into problem+json, and never lets an internal error's text reach the client.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as APIProblem {
            return try problem.response(from: request, context: context)
        } catch let error as ValidationError {
            return try APIProblem.invalid(error).response(from: request, context: context)
        } catch let error as ComponentResolutionError {
            return try APIProblem(.unprocessableContent, error.description).response(from: request, context: context)
        } catch let error as StoreError {
            switch error {
            case .notFound(let message): return try APIProblem(.notFound, message).response(from: request, context: context)
            case .conflict(let message): return try APIProblem(.conflict, message).response(from: request, context: context)
            case .preconditionFailed(let message): return try APIProblem(.preconditionFailed, message).response(from: request, context: context)
            }
        } catch let error as HTTPError {
            let detail = error.body ?? Self.defaultDetail(error.status, request)
            return try APIProblem(error.status, detail, headers: error.headers).response(from: request, context: context)
        } catch let error as ClientWentAway {
            context.logger.debug("client went away mid-request", metadata: ["error": "\(error.underlying)", "path": "\(request.uri.path)"])
            return try APIProblem(.badRequest, "the request body ended before it was complete").response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try APIProblem(error.status, Self.defaultDetail(error.status, request)).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try APIProblem(.internalServerError, "internal error; the controller log has the details (request \(context.id))")
                .response(from: request, context: context)
        }
    }

    static func defaultDetail(_ status: HTTPResponse.Status, _ request: Request) -> String {
        switch status {
        case .notFound: "no such resource: \(request.method.rawValue) \(request.uri.path)"
        case .methodNotAllowed: "\(request.method.rawValue) is not allowed on \(request.uri.path)"
        case .contentTooLarge: "request body is too large"
        default: status.reasonPhrase
        }
    }
}
