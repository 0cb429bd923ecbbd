import AlertTemplates
import Testing

@Test func stubRendersText() async throws {
    #expect(try await AlertTemplate("x").render(TemplateData()) == "x")
}
