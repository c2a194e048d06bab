// swift-tools-version: 6.1
import PackageDescription

#if os(Linux)
let hdf5PkgConfig = "hdf5-serial"
#else
let hdf5PkgConfig = "hdf5"
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
        .executable(name: "lstmconv", targets: ["lstmconv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // `swift package generate-documentation`: the DocC catalog of every library module.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // MARK: - C libraries (system)
        .systemLibrary(
            name: "CHDF5", pkgConfig: hdf5PkgConfig,
            providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .systemLibrary(name: "CLSTMZlib", providers: [.apt(["zlib1g-dev"])]),
        /// The VERSION file (compiled in) and the git commit scripts/install.sh builds from
        /// (`-Xcc -DLSTMCONV_GIT_COMMIT=…`): `lstmconv --version` and `provenance.converter`.
        .target(name: "CLSTMBuildInfo"),
        /// The fast engine's kernels: packed GEMM, gate math and the fused LSTM loop per instruction set
        /// (generic, AVX2, AVX-512; per-function `target` attributes), chosen at run time from CPUID.
        .target(name: "CLSTMKernels"),

        // MARK: - Shared by every module
        /// The one error shape (`LSTMConvError`) and the failure kinds the CLI maps onto exit codes.
        .target(name: "LSTMErrors", swiftSettings: strict),
        /// Every magic number and file signature lstmconv recognises, and the one sniffing routine.
        .target(name: "FileSignatures", swiftSettings: strict),

        // MARK: - The schema and its two encodings
        /// A one-line progress bar on stderr for long commands (drawn only on a terminal).
        .target(name: "ProgressReporting", swiftSettings: strict),
        /// Temp file + fsync + rename: how every writer puts a file in place.
        .target(name: "AtomicFileIO", swiftSettings: strict),
        /// The logical model: layers, document gate tensors, validation, checksums.
        .target(
            name: "LSTMModel", dependencies: ["CLSTMZlib", "CLSTMBuildInfo", "LSTMErrors", "FileSignatures"],
            swiftSettings: strict),
        /// The `.lstmw` binary container.
        .target(name: "LSTMBinary", dependencies: ["LSTMModel", "AtomicFileIO"], swiftSettings: strict),
        /// The only module that calls libhdf5: one funnel, one lock, handles closed in deinit.
        .target(name: "HDF5Bridge", dependencies: ["CHDF5"], swiftSettings: strict),
        /// The HDF5 encoding of the schema.
        .target(name: "LSTMHDF5", dependencies: ["LSTMModel", "HDF5Bridge", "AtomicFileIO"], swiftSettings: strict),
        /// Loading, saving and verifying a checkpoint in either encoding, chosen by signature.
        .target(name: "LSTMCheckpoint", dependencies: ["LSTMBinary", "LSTMHDF5", "FileSignatures", "LSTMErrors"], swiftSettings: strict),

        // MARK: - Engines and arrays
        /// NumPy `.npy` / `.npz` reader and writer.
        .target(
            name: "NumPyIO",
            dependencies: ["AtomicFileIO", "LSTMErrors", "FileSignatures", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict),
        /// Forward-pass engines: float64 reference (the oracle) and float32 on the packed kernels.
        .target(name: "LSTMEngine", dependencies: ["LSTMModel", "CLSTMKernels"], swiftSettings: strict),

        /// `lstmconv explain`: gate statistics, the text summary and the self-contained HTML report of a gate trace.
        .target(
            name: "LSTMExplain",
            dependencies: ["LSTMErrors", "LSTMEngine", "LSTMModel", "NumPyIO", "AtomicFileIO", "CLSTMZlib"],
            swiftSettings: strict),

        // MARK: - Importers (one module per framework: layout table + reader)
        /// The framework layout tables shared by import and export (`FusedLayout`), the import result and errors.
        .target(
            name: "LSTMLayouts",
            dependencies: ["LSTMModel", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .target(
            name: "LSTMImportKeras",
            dependencies: [
                "LSTMLayouts", "HDF5Bridge",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: strict),
        .target(
            name: "LSTMImportPyTorch",
            dependencies: ["LSTMLayouts", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict),
        /// `onnx.proto` as Swift, generated once with protoc-gen-swift 1.39.0 and committed (see its README.md).
        .target(
            name: "ONNXProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md", "onnx.proto"]),
        .target(
            name: "LSTMImportONNX",
            dependencies: ["LSTMLayouts", "ONNXProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict),
        /// Exporters: the document tensors fused back into a framework's layout (PyTorch safetensors).
        .target(
            name: "LSTMExport",
            dependencies: [
                "LSTMImportPyTorch", "LSTMImportONNX", "LSTMImportKeras", "LSTMLayouts", "LSTMModel", "AtomicFileIO", "ONNXProto",
                "HDF5Bridge", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: strict),
        /// Source detection and dispatch over every importer.
        .target(
            name: "LSTMImport",
            dependencies: ["LSTMLayouts", "LSTMImportKeras", "LSTMImportPyTorch", "LSTMImportONNX", "LSTMCheckpoint"],
            swiftSettings: strict),

        // MARK: - The library users import, and the CLI on top of it
        /// The one library product: re-exports the model, both encodings, the importers, the exporters and the engines.
        .target(
            name: "LSTMConv",
            dependencies: [
                "LSTMErrors", "FileSignatures", "LSTMModel", "LSTMBinary", "LSTMHDF5", "LSTMCheckpoint", "LSTMEngine", "NumPyIO",
                "LSTMLayouts", "LSTMImport", "LSTMExport", "LSTMExplain",
            ],
            swiftSettings: strict),
        /// The `lstmconv` subcommands: argument parsing, reports and exit codes over the `LSTMConv` library.
        .target(
            name: "LSTMConvCommands",
            dependencies: [
                "LSTMConv", "CLSTMBuildInfo", "AtomicFileIO", "HDF5Bridge", "ProgressReporting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "lstmconv", dependencies: ["LSTMConvCommands"], swiftSettings: strict),

        // MARK: - Tests (one target per module with logic; shared fixtures API in LSTMTestSupport)
        .target(
            name: "LSTMTestSupport",
            dependencies: ["LSTMModel", "LSTMLayouts", "LSTMImportPyTorch", "HDF5Bridge", "LSTMEngine", "NumPyIO"],
            path: "Tests/LSTMTestSupport", swiftSettings: strict),
        .testTarget(name: "LSTMModelTests", dependencies: ["LSTMModel", "LSTMTestSupport"], swiftSettings: strict),
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
            name: "LSTMCheckpointTests", dependencies: ["LSTMCheckpoint", "LSTMTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LSTMEngineTests", dependencies: ["LSTMEngine", "LSTMHDF5", "NumPyIO", "LSTMTestSupport"],
            swiftSettings: strict),
        .testTarget(name: "NumPyIOTests", dependencies: ["NumPyIO", "LSTMTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LSTMLayoutsTests",
            dependencies: [
                "LSTMLayouts", "LSTMImportKeras", "LSTMImportPyTorch", "LSTMImportONNX", "LSTMTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMImportKerasTests",
            dependencies: ["LSTMImportKeras", "LSTMEngine", "NumPyIO", "HDF5Bridge", "LSTMTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMImportPyTorchTests",
            dependencies: [
                "LSTMImportPyTorch", "FileSignatures", "LSTMEngine", "NumPyIO", "LSTMTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMImportTests",
            dependencies: [
                "LSTMImport", "LSTMExport", "LSTMEngine", "NumPyIO", "LSTMTestSupport", "LSTMImportONNX", "ONNXProto", "HDF5Bridge",
                "LSTMCheckpoint", "LSTMConvCommands",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMExplainTests",
            dependencies: ["LSTMExplain", "LSTMEngine", "LSTMHDF5", "NumPyIO", "CLSTMZlib", "LSTMTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "LSTMExportTests",
            dependencies: [
                "LSTMExport", "LSTMImportKeras", "LSTMImportPyTorch", "LSTMEngine", "NumPyIO", "LSTMTestSupport", "LSTMImport",
                "LSTMImportONNX", "ONNXProto", "HDF5Bridge", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: strict),
        .testTarget(name: "LSTMConvTests", dependencies: ["LSTMConv", "LSTMTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LSTMConvCommandsTests", dependencies: ["LSTMConvCommands", "LSTMConv", "LSTMTestSupport", "ProgressReporting"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
