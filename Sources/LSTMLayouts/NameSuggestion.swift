/// "Did you mean …?" for names a user types (`--module`, `--head`, `--embedding`): the candidates a mistyped or
/// shortened module prefix most likely meant.
public enum NameSuggestion {
    /// The candidates `name` most likely means, best first (empty when none is close).
    ///
    /// A candidate whose dotted components end with `name`'s components (`fc` → `model.fc`) or start with them
    /// (`model` → `model.fc`) ranks first; then candidates within a small edit distance (a third of the longer
    /// name, at least 2), nearest first. Ties keep `candidates`' order.
    public static func closest(to name: String, among candidates: [String]) -> [String] {
        guard !name.isEmpty else { return [] }
        let wanted = name.split(separator: ".").map(String.init)
        var scored: [(score: Int, index: Int, name: String)] = []
        for (index, candidate) in candidates.enumerated() where candidate != name && !candidate.isEmpty {
            let parts = candidate.split(separator: ".").map(String.init)
            if parts.count > wanted.count, Array(parts.suffix(wanted.count)) == wanted || Array(parts.prefix(wanted.count)) == wanted {
                scored.append((0, index, candidate))
                continue
            }
            let distance = editDistance(name.lowercased(), candidate.lowercased())
            if distance <= max(2, max(name.count, candidate.count) / 3) {
                scored.append((distance, index, candidate))
            }
        }
        return scored.sorted { ($0.score, $0.index) < ($1.score, $1.index) }.map(\.name)
    }

    /// `did you mean `--flag best`? found: a, b, c` — or `found: a, b, c` alone when nothing is close, or a
    /// statement that there is none.
    public static func hint(flag: String, name: String, candidates: [String], noun: String) -> String {
        let listed = candidates.isEmpty ? "none" : candidates.map { $0.isEmpty ? "(top level)" : $0 }.joined(separator: ", ")
        if let best = closest(to: name, among: candidates).first {
            return "did you mean `\(flag) \(best)`? \(noun) found: \(listed)"
        }
        return "\(noun) found: \(listed)"
    }

    /// Levenshtein distance (insertions, deletions, substitutions), by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
