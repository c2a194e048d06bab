import CLSTMBuildInfo
import LSTMConv

/// What `lstmconv --version` prints: the converter version (the repository's `VERSION` file, checked by tests) and
/// the git commit scripts/install.sh built from.
enum BuildInfo {
    /// The commit passed at build time, or nil for a development build.
    static var commit: String? {
        let commit = String(cString: lstmconv_git_commit())
        return commit.isEmpty ? nil : commit
    }

    static var versionLine: String {
        "\(FormatVersion.converter) (\(commit.map { "commit \($0)" } ?? "development build"))"
    }

    /// `lstmconv --version`: the version line, then the format versions read and written and the `--json` layout.
    static var versionText: String {
        let format = "\(FormatVersion.major).\(FormatVersion.minor)"
        return """
            \(versionLine)
            format: reads lstmconv \(FormatVersion.major).x (.lstmw and HDF5), schema 1–\(FormatVersion.latestSchemaVersion); \
            writes \(format), schema \(FormatVersion.schemaVersion) (\(FormatVersion.latestSchemaVersion) when a model needs it)
            json: schema_version \(JSONOutput.schemaVersion) (spec/schemas)
            """
    }
}
