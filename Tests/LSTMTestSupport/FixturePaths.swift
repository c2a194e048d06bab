import Foundation

/// Where the committed fixtures live: the one place tests compute the repository root.
public enum FixturePaths {
    /// The repository root (the folder holding `Package.swift`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/` — framework fixtures, golden files and their generators.
    public static let fixtures = repositoryRoot.appendingPathComponent("Fixtures")

    /// `Fixtures/<relative>`.
    public static func fixture(_ relative: String) -> URL { fixtures.appendingPathComponent(relative) }

    /// `Fixtures/golden/<name>`: the committed `.lstmw` golden files.
    public static func golden(_ name: String) -> URL { fixture("golden/\(name)") }

    /// `spec/<name>`.
    public static func spec(_ name: String) -> URL { repositoryRoot.appendingPathComponent("spec/\(name)") }
}
