// swift-tools-version: 6.1
// Coverage-guided fuzzing of lstmconv's readers (libFuzzer + AddressSanitizer). Not part of CI: see README.md.
import PackageDescription

/// SwiftPM names a path dependency after its folder; the symlink `lstmconv -> ../..` gives the parent package the
/// identity `lstmconv` whatever the checkout folder is called (a checkout named `fuzz` would clash with this one).
let parentIdentity = "lstmconv"

/// One executable per reader; its `main` hands the input loop to libFuzzer (`LLVMFuzzerRunDriver`).
func fuzzer(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzDriver"] + products.map { .product(name: $0, package: parentIdentity) })
}

let package = Package(
    name: "lstmconv-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "lstmconv")],
    targets: [
        .target(name: "FuzzDriver"),
        fuzzer("FuzzBinary", ["LSTMConv"]),
        fuzzer("FuzzSafetensors", ["LSTMConv"]),
        fuzzer("FuzzPickle", ["LSTMConv"]),
        fuzzer("FuzzTorchZip", ["LSTMConv"]),
        fuzzer("FuzzNPY", ["LSTMConv"]),
        fuzzer("FuzzNPZ", ["LSTMConv"]),
        fuzzer("FuzzKerasConfig", ["LSTMConv"]),
    ],
    swiftLanguageModes: [.v6]
)
