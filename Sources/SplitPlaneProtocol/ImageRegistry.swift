/// An environment's pull-through proxy of GHCR, in the shape its cloud gives it. Images from `ghcr.io`
/// are rewritten to `<registry>/<path>` when components are resolved, so the customer's cluster pulls
/// from its own cloud account.
public enum ImageRegistry {
    /// The shape each cloud's pull-through proxy has, as the error messages name it.
    public static func expectedShape(_ cloud: Cloud) -> String {
        switch cloud {
        case .aws:
            "<12-digit account>.dkr.ecr.<region>.amazonaws.com/<prefix> (an ECR pull-through cache; <prefix> is the ECR repository prefix of the pull-through rule), e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"
        case .gcp:
            "<location>-docker.pkg.dev/<project>/<repository> (an Artifact Registry remote repository of ghcr.io), e.g. europe-west1-docker.pkg.dev/acme-data/ghcr"
        case .azure: "<registry-name>.azurecr.io/<prefix> (an ACR cache rule's target repository prefix), e.g. acmeqbeast.azurecr.io/ghcr"
        }
    }

    /// Throws naming `field` and the expected shape when `registry` is not a pull-through proxy address
    /// of `cloud`.
    public static func validate(_ registry: String, cloud: Cloud, field: String = "registry") throws(ValidationError) {
        if let reason = problem(with: registry, cloud: cloud) {
            throw ValidationError(field: field, reason: reason)
        }
    }

    static func problem(with registry: String, cloud: Cloud) -> String? {
        let expected = "expected \(expectedShape(cloud))"
        if registry.isEmpty { return "must not be empty; \(expected)" }
        if registry.count > 255 { return "at most 255 characters" }
        if registry.contains("://") { return "\"\(registry)\" must not carry a scheme; \(expected)" }
        if registry.hasSuffix("/") { return "\"\(registry)\" must not end with '/'; \(expected)" }
        if isLoopback(registry) { return nil }
        if registry.contains("@") || registry.contains(":") {
            return "\"\(registry)\" must not carry a tag, digest or port; \(expected)"
        }
        if matches(registry, cloud) { return nil }
        if let other = Cloud.allCases.first(where: { $0 != cloud && matches(registry, $0) }) {
            return "\"\(registry)\" is a registry of \(other.rawValue), but the environment's cloud is \(cloud.rawValue); \(expected)"
        }
        return "\"\(registry)\" is not a pull-through registry of \(cloud.rawValue); \(expected)"
    }

    /// A registry on this machine (`127.0.0.1:<port>/<prefix>` or `localhost:<port>/<prefix>`), for
    /// development and the tests, where a Distribution registry stands in for the cloud's pull-through
    /// cache. No cluster in a customer's account can pull from it, so nothing else is allowed a port.
    static func isLoopback(_ registry: String) -> Bool {
        let parts = registry.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts.dropFirst().allSatisfy(isRepositoryComponent) else { return false }
        let hostPort = parts[0].split(separator: ":", omittingEmptySubsequences: false)
        guard hostPort.count == 2, ["127.0.0.1", "localhost"].contains(hostPort[0]), let port = Int(hostPort[1]), (1...65535).contains(port) else {
            return false
        }
        return true
    }

    static func matches(_ registry: String, _ cloud: Cloud) -> Bool {
        let parts = registry.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else { return false }
        let host = parts[0]
        let path = Array(parts.dropFirst())
        switch cloud {
        case .aws:
            // 123456789012.dkr.ecr.eu-west-1.amazonaws.com / prefix[/more]
            let labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard labels.count == 6, labels[1] == "dkr", labels[2] == "ecr", labels[4] == "amazonaws", labels[5] == "com",
                labels[0].count == 12, labels[0].allSatisfy(\.isASCIIDigit), isAWSRegion(labels[3])
            else { return false }
            return path.allSatisfy(isRepositoryComponent)
        case .gcp:
            // europe-west1-docker.pkg.dev / project / repository
            guard host.hasSuffix("-docker.pkg.dev"), path.count == 2 else { return false }
            let location = String(host.dropLast("-docker.pkg.dev".count))
            return isGCPLocation(location) && isGCPProject(path[0]) && isArtifactRegistryRepository(path[1])
        case .azure:
            // acmeqbeast.azurecr.io / prefix[/more]
            guard host.hasSuffix(".azurecr.io") else { return false }
            let name = host.dropLast(".azurecr.io".count)
            guard (5...50).contains(name.count), name.allSatisfy({ $0.isLowercaseASCIILetter || $0.isASCIIDigit }) else { return false }
            return path.allSatisfy(isRepositoryComponent)
        }
    }

    /// `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`: letters in dash-separated words, then a number.
    static func isAWSRegion(_ text: String) -> Bool {
        let words = text.split(separator: "-", omittingEmptySubsequences: false)
        guard words.count >= 3, let last = words.last, (1...2).contains(last.count), last.allSatisfy(\.isASCIIDigit) else { return false }
        return words.dropLast().allSatisfy { !$0.isEmpty && $0.count <= 12 && $0.allSatisfy(\.isLowercaseASCIILetter) }
    }

    /// `europe-west1`, `us-central1`, or a multi-region `us`, `europe`, `asia`.
    static func isGCPLocation(_ text: String) -> Bool {
        let words = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...3).contains(words.count), words.allSatisfy({ !$0.isEmpty && $0.count <= 16 }) else { return false }
        guard let first = words.first, first.allSatisfy(\.isLowercaseASCIILetter) else { return false }
        return words.dropFirst().allSatisfy { word in
            word.first!.isLowercaseASCIILetter && word.allSatisfy { $0.isLowercaseASCIILetter || $0.isASCIIDigit }
        }
    }

    /// A GCP project ID: 6–30 characters, lowercase letters, digits and '-', starting with a letter,
    /// not ending with '-'.
    static func isGCPProject(_ text: String) -> Bool {
        guard (6...30).contains(text.count), let first = text.first, let last = text.last else { return false }
        return first.isLowercaseASCIILetter && last != "-" && text.allSatisfy { $0.isLowercaseASCIILetter || $0.isASCIIDigit || $0 == "-" }
    }

    /// An Artifact Registry repository ID: lowercase letters, digits and '-', starting with a letter,
    /// ending with a letter or digit, at most 63 characters.
    static func isArtifactRegistryRepository(_ text: String) -> Bool {
        guard ResourceName.isValid(text), let first = text.first else { return false }
        return first.isLowercaseASCIILetter
    }

    /// One component of an OCI repository name: `[a-z0-9]+([._-][a-z0-9]+)*`.
    static func isRepositoryComponent(_ text: String) -> Bool {
        guard text.count <= 128, let first = text.first, let last = text.last else { return false }
        func isAlnum(_ c: Character) -> Bool { c.isLowercaseASCIILetter || c.isASCIIDigit }
        guard isAlnum(first), isAlnum(last) else { return false }
        var previousWasSeparator = false
        for character in text {
            if isAlnum(character) {
                previousWasSeparator = false
            } else if character == "." || character == "_" || character == "-" {
                if previousWasSeparator && character != "_" && character != "-" { return false }
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return true
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isLowercaseASCIILetter: Bool { ("a"..."z").contains(self) }
}
