import Foundation

// The report's pictures as SVG text: heatmaps (pixels as an embedded palette PNG), line plots, a histogram and a
// scatter. Every number is written with a fixed number of decimals, so the same data gives the same bytes.

/// A number with `digits` decimals, `-0` written as `0`.
func fixed(_ value: Double, _ digits: Int = 1) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    let text = String(format: "%.\(digits)f", value)
    return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
}

/// A number for people: up to 3 significant digits, no exponent below 1e6.
func readable(_ value: Double) -> String {
    guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
    let magnitude = abs(value)
    if magnitude >= 100 || magnitude == 0 { return fixed(value, 0) }
    if magnitude >= 10 { return fixed(value, 1) }
    if magnitude >= 1 { return fixed(value, 2) }
    return fixed(value, 3)
}

/// Text escaped for XML and HTML.
func escaped(_ text: String) -> String {
    var result = ""
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        default: result.append(character)
        }
    }
    return result
}

/// A colour scale: `value` in `[lower, upper]` → one of `levels` palette colours.
struct ColourScale {
    enum Kind { case sequential, diverging }
    let kind: Kind
    let lower: Double, upper: Double
    static let levels = 128

    /// Viridis (sequential, for `[0, 1]` gates).
    private static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 40, 120), (62, 73, 137), (49, 104, 142), (38, 130, 142),
        (31, 158, 137), (53, 183, 121), (110, 206, 88), (181, 222, 43), (253, 231, 37),
    ]
    /// Blue–white–red (diverging, for signed values; white at 0).
    private static let blueRed: [(Double, Double, Double)] = [
        (5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240), (247, 247, 247),
        (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43), (103, 0, 31),
    ]

    /// Palette entry `level` (the last entry, grey, is for NaN).
    static func colour(_ kind: Kind, level: Int) -> RGB {
        let anchors = kind == .sequential ? viridis : blueRed
        let position = Double(level) / Double(levels - 1) * Double(anchors.count - 1)
        let low = min(Int(position), anchors.count - 2)
        let share = position - Double(low)
        func mix(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * share).rounded()) }
        let (a, b) = (anchors[low], anchors[low + 1])
        return RGB(red: mix(a.0, b.0), green: mix(a.1, b.1), blue: mix(a.2, b.2))
    }

    var palette: [RGB] { (0..<ColourScale.levels).map { ColourScale.colour(kind, level: $0) } + [RGB(red: 128, green: 128, blue: 128)] }

    func level(_ value: Double) -> UInt8 {
        guard value.isFinite else { return UInt8(ColourScale.levels) }
        let share = upper > lower ? (value - lower) / (upper - lower) : 0.5
        return UInt8(max(0, min(ColourScale.levels - 1, Int((share * Double(ColourScale.levels - 1)).rounded()))))
    }

    /// `<stop>`s of a vertical gradient, top = upper.
    var gradientStops: String {
        (0...10).map { step -> String in
            let level = (10 - step) * (ColourScale.levels - 1) / 10
            return "<stop offset=\"\(fixed(Double(step) / 10, 2))\" stop-color=\"\(ColourScale.colour(kind, level: level).hex)\"/>"
        }.joined()
    }
}

/// Layout of every time-axis plot: the plot area starts at `left` and is `width` wide.
enum Frame {
    static let left = 64.0
    static let width = 600.0
    static let total = 780.0
}

/// Builds one SVG document with a unique id prefix for its gradients.
struct SVG {
    let width: Double, height: Double
    var body = ""

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", size: Int = 11, weight: String? = nil, rotate: Bool = false) {
        let bold = weight.map { " font-weight=\"\($0)\"" } ?? ""
        let turn = rotate ? " transform=\"rotate(-90 \(fixed(x)) \(fixed(y)))\"" : ""
        body += "<text x=\"\(fixed(x))\" y=\"\(fixed(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\"\(bold)\(turn)>\(escaped(content))</text>"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#444", dash: Bool = false) {
        let dashed = dash ? " stroke-dasharray=\"4 3\"" : ""
        body += "<line x1=\"\(fixed(x1))\" y1=\"\(fixed(y1))\" x2=\"\(fixed(x2))\" y2=\"\(fixed(y2))\" stroke=\"\(stroke)\"\(dashed)/>"
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil, opacity: Double? = nil) {
        let outline = stroke.map { " stroke=\"\($0)\"" } ?? ""
        let alpha = opacity.map { " fill-opacity=\"\(fixed($0, 2))\"" } ?? ""
        body += "<rect x=\"\(fixed(x))\" y=\"\(fixed(y))\" width=\"\(fixed(max(w, 0)))\" height=\"\(fixed(max(h, 0)))\" fill=\"\(fill)\"\(outline)\(alpha)/>"
    }

    /// A line through `points`; a non-finite point (a bin without computed values) breaks it into pieces.
    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5) {
        var pieces: [[(Double, Double)]] = [[]]
        for point in points {
            if point.0.isFinite && point.1.isFinite { pieces[pieces.count - 1].append(point) } else if !(pieces.last?.isEmpty ?? true) { pieces.append([]) }
        }
        for piece in pieces where !piece.isEmpty {
            let coordinates = piece.map { "\(fixed($0.0)),\(fixed($0.1))" }.joined(separator: " ")
            body += "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(fixed(width))\"/>"
        }
    }

    mutating func circle(_ x: Double, _ y: Double, _ r: Double, fill: String, opacity: Double) {
        body += "<circle cx=\"\(fixed(x))\" cy=\"\(fixed(y))\" r=\"\(fixed(r))\" fill=\"\(fill)\" fill-opacity=\"\(fixed(opacity, 2))\"/>"
    }

    mutating func raw(_ element: String) { body += element }

    func rendered(label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(escaped(label))\" width=\"\(fixed(width, 0))\" height=\"\(fixed(height, 0))\" viewBox=\"0 0 \(fixed(width, 0)) \(fixed(height, 0))\">\(body)</svg>"
    }
}

/// Tick positions over `0 ..< count`: every step up to 12, else multiples of 1, 2 or 5 × 10^k (at most 6 ticks).
func ticks(_ count: Int) -> [Int] {
    guard count > 12 else { return Array(0..<max(count, 0)) }
    var step = 1
    while count / step > 5 {
        let digits = String(step)
        step = digits.hasPrefix("1") ? step * 2 : digits.hasPrefix("2") ? step / 2 * 5 : step * 2
    }
    return Array(stride(from: 0, to: count, by: step))
}

/// x of time step `t` (of `T`) drawn with `columns` bins.
func timeX(_ t: Int, T: Int, columns: Int) -> Double {
    let column = T == 0 ? 0 : t * columns / T
    return Frame.left + (Double(column) + 0.5) * Frame.width / Double(max(columns, 1))
}

/// The time axis under a plot whose bottom is at `y`.
func timeAxis(_ svg: inout SVG, y: Double, T: Int, columns: Int, steps: Int, reversed: Bool) {
    svg.line(Frame.left, y, Frame.left + Frame.width, y)
    for t in ticks(T) {
        let x = timeX(t, T: T, columns: columns)
        svg.line(x, y, x, y + 4)
        svg.text(x, y + 15, "\(t)", anchor: "middle", size: 10)
    }
    var title = "time step t of the input (E_t)"
    if steps > 1 { title += ", \(steps) steps per column (mean)" }
    if reversed { title += "; this direction reads from t = \(max(T - 1, 0)) down to 0" }
    svg.text(Frame.left + Frame.width / 2, y + 28, title, anchor: "middle", size: 10)
}

/// A vertical colour bar with its range.
func colourBar(_ svg: inout SVG, id: String, scale: ColourScale, x: Double, y: Double, height: Double) {
    svg.raw("<defs><linearGradient id=\"\(id)\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">\(scale.gradientStops)</linearGradient></defs>")
    svg.raw("<rect x=\"\(fixed(x))\" y=\"\(fixed(y))\" width=\"12\" height=\"\(fixed(height))\" fill=\"url(#\(id))\" stroke=\"#444\"/>")
    svg.text(x + 16, y + 8, readable(scale.upper), size: 10)
    svg.text(x + 16, y + height / 2 + 4, readable((scale.upper + scale.lower) / 2), size: 10)
    svg.text(x + 16, y + height, readable(scale.lower), size: 10)
}

/// A y axis with three labels for the range `lower ... upper` drawn between `top` and `bottom`.
func valueAxis(_ svg: inout SVG, top: Double, bottom: Double, lower: Double, upper: Double) {
    svg.line(Frame.left, top, Frame.left, bottom)
    for (value, y) in [(upper, top), ((upper + lower) / 2, (top + bottom) / 2), (lower, bottom)] {
        svg.line(Frame.left - 4, y, Frame.left, y)
        svg.text(Frame.left - 6, y + 4, readable(value), anchor: "end", size: 10)
    }
}

/// A heatmap's pixels as an SVG `<image>` (palette PNG, one pixel per bin, drawn without smoothing).
func heatmapImage(_ binned: Binned, scale: ColourScale, x: Double, y: Double, width: Double, height: Double) -> String {
    let pixels = binned.values.flatMap { row in row.map(scale.level) }
    let png = PNGImage(width: binned.columns, height: binned.rows, pixels: pixels, palette: scale.palette).encoded()
    return "<image x=\"\(fixed(x))\" y=\"\(fixed(y))\" width=\"\(fixed(width))\" height=\"\(fixed(height))\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(png.base64EncodedString())\"/>"
}

/// Categorical colours for a few lines.
let lineColours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
