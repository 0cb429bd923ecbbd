import ControllerModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SplitPlaneProtocol

/// `GET /v1/tenants/{t}/environments/{e}/onboarding/{aws|azure|gcp}?cluster=&bucketPrefix=…`
struct OnboardingRoutes {
    typealias Context = OperatorRequestContext
    let store: any FleetStore
    let settings: OnboardingSettings

    func register(on group: RouterGroup<Context>) {
        group.get("tenants/:tenant/environments/:environment/onboarding/:cloud", use: template)
    }

    @Sendable func template(_ request: Request, context: Context) async throws -> Response {
        let tenant = context.parameters.get("tenant") ?? ""
        let name = context.parameters.get("environment") ?? ""
        try ResourceName.validate(tenant, field: "tenant")
        try ResourceName.validate(name, field: "environment")
        guard let cloud = Cloud(rawValue: context.parameters.get("cloud") ?? "") else {
            throw APIProblem(.notFound, "onboarding templates exist for aws, azure and gcp")
        }
        guard let environment = try await store.environment(tenant: tenant, name: name) else {
            throw APIProblem(.notFound, "environment \"\(name)\" not found in tenant \"\(tenant)\"")
        }
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        try OnboardingContext.validate(parameters)
        let rendered = OnboardingTemplates.render(cloud: cloud, context: settings.context(for: environment, parameters: parameters))
        var headers = HTTPFields()
        headers[.contentType] = rendered.contentType
        headers[.contentDisposition] = "attachment; filename=\"\(rendered.fileName)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: rendered.body)))
    }
}
