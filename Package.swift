// swift-tools-version: 6.1
import PackageDescription

#if os(Linux)
let hdf5PkgConfig = "hdf5-serial"
let blasPkgConfig: String? = "openblas"
#else
let hdf5PkgConfig = "hdf5"
let blasPkgConfig: String? = nil
#endif

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "lstmconv",
    platforms: [.macOS(.v15)],
    products: [
        // MARK: - Public API
        /// Everything a Swift project needs to load a checkpoint (either encoding) and run it.
        .library(name: "LSTMConv", targets: ["LSTMConv"]),
        .library(name: "LSTMModel", targets: ["LSTMModel"]),
        .library(name: "LSTMBinary", targets: ["LSTMBinary"]),
        .library(name: "LSTMHDF5", targets: ["LSTMHDF5"]),
        .library(name: "LSTMEngine", targets: ["LSTMEngine"]),
        .library(name: "LSTMImport", targets: ["LSTMImport"]),
        .library(name: "LSTMExport", targets: ["LSTMExport"]),
        .library(name: "NumPyIO", targets: ["NumPyIO"]),
        .library(name: "LSTMExplain", targets: ["LSTMExplain"]),
        .executable(name: "lstmconv", targets: ["lstmconv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // MARK: - C libraries (system)
        .systemLibrary(
            name: "CHDF5", pkgConfig: hdf5PkgConfig,
            providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .systemLibrary(
            name: "CCBLAS", pkgConfig: blasPkgConfig,
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(name: "CLSTMZlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: - The schema and its two encodings
        /// Temp file + fsync + rename: how every writer puts a file in place.
        .target(name: "AtomicFileIO", swiftSettings: strict),
        /// The logical model: layers, document gate tensors, validation, checksums.
        .target(name: "LSTMModel", dependencies: ["CLSTMZlib"], swiftSettings: strict),
        /// The `.lstmw` binary container.
        .target(name: "LSTMBinary", dependencies: ["LSTMModel", "AtomicFileIO"], swiftSettings: strict),
        /// The only module that calls libhdf5: one funnel, one lock, handles closed in deinit.
        .target(name: "HDF5Bridge", dependencies: ["CHDF5"], swiftSettings: strict),
        /// The HDF5 encoding of the schema.
        .target(name: "LSTMHDF5", dependencies: ["LSTMModel", "HDF5Bridge", "AtomicFileIO"], swiftSettings: strict),

        // MARK: - Engines and arrays
        /// NumPy `.npy` / `.npz` reader and writer.
        .target(
            name: "NumPyIO",
            dependencies: ["AtomicFileIO", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict),
        /// Forward-pass engines: float64 reference (the oracle) and float32 on CBLAS.
        .target(name: "LSTMEngine", dependencies: ["LSTMModel", "CCBLAS"], swiftSettings: strict),

        /// `lstmconv explain`: gate statistics, the text summary and the self-contained HTML report of a gate trace.
        .target(
            name: "LSTMExplain", dependencies: ["LSTMEngine", "LSTMModel", "NumPyIO", "AtomicFileIO", "CLSTMZlib"],
            swiftSettings: strict),

        // MARK: - Importers (one module per framework: layout table + reader)
        .target(
            name: "LSTMImportCore",
            dependencies: ["LSTMModel", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .target(
            name: "LSTMImportKeras",
            dependencies: [
                "LSTMImportCore", "HDF5Bridge",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: strict),
        .target(
            name: "LSTMImportPyTorch",
            dependencies: ["LSTMImportCore", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict),
        /// Exporters: the document tensors fused back into a framework's layout (PyTorch safetensors).
        .target(
            name: "LSTMExport",
            dependencies: ["LSTMImportPyTorch", "LSTMImportCore", "LSTMModel", "AtomicFileIO"],
            swiftSettings: strict),
        /// Source detection and dispatch over every importer.
        .target(
            name: "LSTMImport",
            dependencies: ["LSTMImportCore", "LSTMImportKeras", "LSTMImportPyTorch", "LSTMConv"],
            swiftSettings: strict),

        // MARK: - Umbrella, CLI
        .target(
            name: "LSTMConv",
            dependencies: ["LSTMModel", "LSTMBinary", "LSTMHDF5", "LSTMEngine", "NumPyIO"],
            swiftSettings: strict),
        .target(
            name: "LSTMConvCommands",
            dependencies: [
                "LSTMConv", "LSTMImport", "LSTMExport", "LSTMExplain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "lstmconv", dependencies: ["LSTMConvCommands"], swiftSettings: strict),

        // MARK: - Tests
        .target(
            name: "LSTMTestSupport", dependencies: ["LSTMModel"], path: "Tests/LSTMTestSupport",
            swiftSettings: strict),
        .testTarget(
            name: "LSTMModelTests",
            dependencies: [
                "LSTMModel", "LSTMTestSupport", "LSTMImportKeras", "LSTMImportPyTorch",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMBinaryTests",
            dependencies: [
                "LSTMBinary", "LSTMTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMHDF5Tests", dependencies: ["LSTMHDF5", "LSTMBinary", "HDF5Bridge", "LSTMTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMEngineTests", dependencies: ["LSTMEngine", "LSTMHDF5", "NumPyIO", "LSTMTestSupport"],
            swiftSettings: strict),
        .testTarget(name: "NumPyIOTests", dependencies: ["NumPyIO", "LSTMTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LSTMImportTests",
            dependencies: [
                "LSTMImport", "LSTMExport", "LSTMEngine", "NumPyIO", "LSTMTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMExplainTests",
            dependencies: ["LSTMExplain", "LSTMEngine", "LSTMHDF5", "NumPyIO", "CLSTMZlib", "LSTMTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMConvCommandsTests", dependencies: ["LSTMConvCommands", "LSTMConv", "LSTMTestSupport"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
