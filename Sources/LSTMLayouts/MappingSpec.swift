/// Renders the layout tables into the generated part of `spec/mappings.md`.
///
/// The spec file holds the rendered text between ``beginMarker`` and ``endMarker``; a test re-renders the
/// tables the importers actually use and requires the spec to match, so the spec cannot drift from the code.
package enum MappingSpec {
    package static let beginMarker = "<!-- BEGIN GENERATED TABLES (swift test regenerates with RECORD_SPEC=1) -->"
    package static let endMarker = "<!-- END GENERATED TABLES -->"

    /// The generated block for `layouts`, markers included.
    package static func render(_ layouts: [FusedLayout]) -> String {
        ([beginMarker, ""] + layouts.map { $0.markdown + "\n" } + [endMarker]).joined(separator: "\n")
    }

    /// Replaces the generated block inside `document` (or appends it when absent).
    package static func replacingGeneratedBlock(in document: String, with block: String) -> String {
        guard let begin = document.range(of: beginMarker), let end = document.range(of: endMarker),
              begin.lowerBound < end.lowerBound else {
            return document + "\n" + block + "\n"
        }
        return document.replacingCharacters(in: begin.lowerBound..<end.upperBound, with: block)
    }

    /// The generated block currently inside `document`, markers included, or `nil`.
    package static func generatedBlock(in document: String) -> String? {
        guard let begin = document.range(of: beginMarker), let end = document.range(of: endMarker),
              begin.lowerBound < end.lowerBound else { return nil }
        return String(document[begin.lowerBound..<end.upperBound])
    }
}
