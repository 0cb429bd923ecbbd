import SplitPlaneProtocol
import Testing

/// Each cloud's pull-through proxy of GHCR in the shape that cloud gives it; anything else is refused
/// with a message naming the expected shape.
@Suite struct ImageRegistryTests {
    @Test(arguments: [
        (Cloud.aws, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"),
        (.aws, "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/ghcr-cache"),
        (.aws, "210987654321.dkr.ecr.ap-southeast-2.amazonaws.com/pull-through/ghcr"),
        (.gcp, "europe-west1-docker.pkg.dev/acme-data/ghcr"),
        (.gcp, "us-docker.pkg.dev/acme-data-prod/ghcr-remote"),
        (.azure, "acmeqbeast.azurecr.io/ghcr"),
        (.azure, "acme01registry.azurecr.io/cache/ghcr"),
        // A registry on this machine, for development and the registry tests (any cloud).
        (.aws, "127.0.0.1:5001/ghcr"),
        (.gcp, "localhost:5001/cache/ghcr"),
    ])
    func acceptsEachCloudsShape(cloud: Cloud, registry: String) throws {
        try ImageRegistry.validate(registry, cloud: cloud)
        try EnvironmentRequest(name: "prod", cloud: cloud, mode: .provided, registry: registry).validate()
    }

    @Test(arguments: [
        (Cloud.aws, "12345678901.dkr.ecr.eu-west-1.amazonaws.com/ghcr", "12-digit account"),
        (.aws, "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "<prefix>"),
        (.aws, "123456789012.dkr.ecr.EU-WEST-1.amazonaws.com/ghcr", "<region>"),
        (.aws, "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr", "scheme"),
        (.aws, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr/", "end with '/'"),
        (.aws, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr:latest", "tag"),
        (.aws, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/Ghcr", "amazonaws.com/<prefix>"),
        (.aws, "europe-west1-docker.pkg.dev/acme-data/ghcr", "is a registry of gcp"),
        (.gcp, "europe-west1-docker.pkg.dev/acme-data", "<location>-docker.pkg.dev/<project>/<repository>"),
        (.gcp, "europe-west1-docker.pkg.dev/acme-data/ghcr/extra", "<repository>"),
        (.gcp, "europe-west1-docker.pkg.dev/1acme/ghcr", "<project>"),
        (.gcp, "eu.gcr.io/acme-data/ghcr", "Artifact Registry"),
        (.gcp, "acmeqbeast.azurecr.io/ghcr", "is a registry of azure"),
        (.azure, "acme-qbeast.azurecr.io/ghcr", "<registry-name>.azurecr.io/<prefix>"),
        (.azure, "acmeqbeast.azurecr.io", "<prefix>"),
        (.azure, "acmeqbeast.azurecr.io/ghcr@sha256:00", "digest"),
        (.azure, "abc.azurecr.io/ghcr", "<registry-name>"),
        (.azure, "", "must not be empty"),
        (.aws, "10.0.0.1:5001/ghcr", "port"),
        (.aws, "127.0.0.1:99999/ghcr", "port"),
        (.aws, "127.0.0.1:5001", "port"),
    ])
    func refusesWithTheExpectedShape(cloud: Cloud, registry: String, mentions: String) {
        #expect {
            try ImageRegistry.validate(registry, cloud: cloud)
        } throws: { error in
            let error = error as? ValidationError
            return error?.field == "registry" && error?.reason.contains(mentions) == true && error?.reason.contains("e.g.") == true
        }
    }

    @Test func namespaceIsADNSLabel() throws {
        try EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided, namespace: "team-a").validate()
        #expect(throws: ValidationError.self) { try EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided, namespace: "Team_A").validate() }
    }
}
