import CLSTMZlib
import Foundation
import LSTMEngine
import LSTMExplain
import Testing

/// The report in a real browser: Debian's Chromium, headless (installed by scripts/bootstrap.sh and .ci/run).
@Suite("explain: the HTML report in headless Chromium", .serialized)
struct BrowserTests {
    /// `LSTMCONV_CHROMIUM`, else the first of chromium, chromium-browser, google-chrome on `PATH`.
    static let chromium: String? = {
        if let path = ProcessInfo.processInfo.environment["LSTMCONV_CHROMIUM"], !path.isEmpty { return path }
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }()

    /// Run before the page's own content: reports script errors and, once loaded, what the SVGs hold.
    static let probe = """
        <script>
        window.addEventListener('error', e => console.log('lstmconv-probe-error ' + (e.message || e.target)), true);
        window.addEventListener('load', async () => {
          const svgs = [...document.querySelectorAll('svg')];
          const empty = svgs.filter(s => { const r = s.getBoundingClientRect(); return !(r.width > 0 && r.height > 0 && s.childElementCount > 0); }).length;
          const images = [...document.querySelectorAll('svg image')];
          const decoded = await Promise.all(images.map(i => new Promise(done => {
            const img = new Image(); img.onload = () => done(img.naturalWidth > 0 && img.naturalHeight > 0); img.onerror = () => done(false);
            img.src = i.getAttribute('href'); })));
          const drawn = svgs.filter(s => { try { const b = s.getBBox(); return b.width > 0 && b.height > 0; } catch (e) { return false; } }).length;
          console.log('lstmconv-probe ' + JSON.stringify({svgs: svgs.length, empty, drawn, images: images.length, broken: decoded.filter(ok => !ok).length}));
        });
        </script>
        """

    @Test("no console errors, every SVG present, drawn and non-empty, every heatmap image decodes, the screenshot is not blank",
          arguments: ["pytorch/lstm_2layer", "numpy/gru_reset_after_bidirectional_hard_sigmoid", "numpy/doc_lstm_full_peepholes_go_backwards"])
    func rendersInChromium(_ path: String) throws {
        let browser = try #require(BrowserTests.chromium, "Chromium is missing: scripts/bootstrap.sh installs it (apt-get install chromium)")
        let fixture = try #require(ExplainFixture.named(path))
        let (model, input) = try fixture.load()
        let trace = try Engine.fast.trace(model, input: input)
        let html = try ExplainReport(model: model, trace: trace, source: path).html
        let expectedSVGs = html.components(separatedBy: "<svg ").count - 1
        let expectedImages = html.components(separatedBy: "<image ").count - 1

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-explain-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("report.html")
        let head = try #require(html.range(of: "<head>"))
        try (String(html[..<head.upperBound]) + BrowserTests.probe + String(html[head.upperBound...])).write(to: page, atomically: true, encoding: .utf8)
        let shot = folder.appendingPathComponent("shot.png")

        let (status, log) = try runChromium(browser, [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=10000", "--window-size=1280,2000", "--screenshot=\(shot.path)", page.absoluteString,
        ])
        #expect(status == 0, "chromium exited \(status)\n\(log)")
        let console = log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        let probes = console.filter { $0.contains("lstmconv-probe {") }
        #expect(probes.count == 1, "the probe must report exactly once\n\(log)")
        #expect(console.count == probes.count, "console messages besides the probe:\n\(console.joined(separator: "\n"))")
        // `[…:INFO:CONSOLE:…] "lstmconv-probe {…}", source: …`: the object ends at the first `}` (no nesting).
        let line = probes.first ?? ""
        let start = try #require(line.range(of: "lstmconv-probe ")?.upperBound)
        let object = String(line[start...].prefix { $0 != "}" }) + "}"
        let probe = try JSONDecoder().decode(Probe.self, from: Data(object.utf8))
        #expect(probe.svgs == expectedSVGs && probe.svgs > 0)
        #expect(probe.empty == 0)
        #expect(probe.drawn == probe.svgs)
        #expect(probe.images == expectedImages && probe.images > 0)
        #expect(probe.broken == 0)

        let image = try Screenshot(contentsOf: shot)
        #expect(image.width == 1280)
        #expect(image.distinctColours >= 64, "\(image.distinctColours) colours")
        #expect(image.nonWhiteShare >= 0.05, "non-white share \(image.nonWhiteShare)")
    }

    struct Probe: Decodable {
        var svgs: Int, empty: Int, drawn: Int, images: Int, broken: Int
    }

    private func runChromium(_ browser: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-chromium-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}

/// An 8-bit RGB or RGBA PNG, decoded (zlib inflate + the five row filters) to count what it shows.
struct Screenshot {
    let width: Int, height: Int
    let distinctColours: Int
    let nonWhiteShare: Double

    struct Malformed: Error, CustomStringConvertible { var description: String }

    init(contentsOf url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count > 33, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw Malformed(description: "not a PNG") }
        func be(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8
        var idat: [UInt8] = []
        var (w, h, depth, colour, interlace) = (0, 0, 0, 0, 0)
        while offset + 8 <= bytes.count {
            let length = be(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(bytes[(offset + 8)..<min(offset + 8 + length, bytes.count)])
            if type == "IHDR" { (w, h, depth, colour, interlace) = (be(offset + 8), be(offset + 12), Int(body[8]), Int(body[9]), Int(body[12])) }
            if type == "IDAT" { idat += body }
            offset += 12 + length
        }
        guard depth == 8, colour == 2 || colour == 6, interlace == 0 else { throw Malformed(description: "depth \(depth) colour \(colour) interlace \(interlace)") }
        let channels = colour == 6 ? 4 : 3
        let stride = w * channels
        var raw = [UInt8](repeating: 0, count: h * (stride + 1))
        var size = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { target in
            idat.withUnsafeBufferPointer { source in
                uncompress(target.baseAddress, &size, source.baseAddress, uLong(idat.count))
            }
        }
        guard status == Z_OK, Int(size) == raw.count else { throw Malformed(description: "inflate \(status)") }
        var pixels = [UInt8](repeating: 0, count: h * stride)
        for y in 0..<h {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let value = raw[y * (stride + 1) + 1 + x]
                let a = x >= channels ? Int(pixels[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(pixels[(y - 1) * stride + x - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Malformed(description: "filter \(filter)")
                }
                pixels[y * stride + x] = UInt8((Int(value) + predictor) & 0xFF)
            }
        }
        var colours = Set<UInt32>()
        var nonWhite = 0
        for p in 0..<(w * h) {
            let (r, g, bl) = (pixels[p * channels], pixels[p * channels + 1], pixels[p * channels + 2])
            colours.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(bl))
            if r < 245 || g < 245 || bl < 245 { nonWhite += 1 }
        }
        width = w
        height = h
        distinctColours = colours.count
        nonWhiteShare = w * h == 0 ? 0 : Double(nonWhite) / Double(w * h)
    }
}
