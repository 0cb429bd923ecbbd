/// What one template may cost. A label or annotation template comes from a workspace spec, so a
/// careless or hostile one must fail with an error, never exhaust the stack, memory or CPU of the
/// controller that validates it or the agent that renders it. The defaults are far above what real
/// alert templates need (Prometheus' own rules nest two or three levels and render a few hundred bytes).
public struct TemplateLimits: Sendable, Equatable {
    /// Length of the template text, bytes.
    public var maxTextBytes: Int
    /// Nesting of `if`/`else if`/`range`/`with` and parentheses, counted together: the parser and
    /// executor recurse once per level.
    public var maxNestingDepth: Int
    /// Lexical elements (actions, operands, text runs): bounds the parse tree.
    public var maxElements: Int
    /// Rendered output, and any single string a function produces (so doubling a variable in a loop
    /// stops here rather than at the machine's memory).
    public var maxOutputBytes: Int
    /// Nodes, commands and `range` iterations executed in one render.
    public var maxSteps: Int

    public init(
        maxTextBytes: Int = 64 * 1024, maxNestingDepth: Int = 64, maxElements: Int = 10_000,
        maxOutputBytes: Int = 64 * 1024, maxSteps: Int = 100_000
    ) {
        self.maxTextBytes = maxTextBytes
        self.maxNestingDepth = maxNestingDepth
        self.maxElements = maxElements
        self.maxOutputBytes = maxOutputBytes
        self.maxSteps = maxSteps
    }

    public static let `default` = TemplateLimits()
}
