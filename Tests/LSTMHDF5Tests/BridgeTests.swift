import Foundation
import HDF5Bridge
import Testing

/// The HDF5 layer on its own: writing and reading back every type it supports.
@Suite struct BridgeTests {
    @Test(arguments: HDF5FloatFormat.allCases, [HDF5DatasetLayout.contiguous, .chunked(chunk: nil, shuffle: true, deflateLevel: 6)])
    func floatDatasetRoundTrip(format: HDF5FloatFormat, layout: HDF5DatasetLayout) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("floats.h5")
        let values: [Float] = [0, 1, -2, 0.5, 3.25, -0.125]
        let bytes = FloatEncoding.littleEndianBytes(values, format)
        do {
            let file = try HDF5File.create(path)
            let root = try file.root()
            let group = try root.createGroup("g")
            let dataset = try group.createDataset("x", format: format, shape: [2, 3], littleEndianBytes: bytes, layout: layout)
            try dataset.attributes.write("note", .string("héllo"))
            try file.close()
        }
        let file = try HDF5File.openReadOnly(path)
        let dataset = try file.root().dataset("g/x")
        #expect(dataset.shape == [2, 3])
        #expect(dataset.datatype.floatFormat == format)
        #expect(dataset.datatype.byteOrder == .littleEndian)
        #expect(try dataset.readFloats() == values)
        #expect(try dataset.readDoubles() == values.map(Double.init))
        #expect(try dataset.readLittleEndianBytes(as: format) == bytes)
        #expect(try dataset.attributes.attribute("note").string() == "héllo")
        let storage = try dataset.storage()
        switch layout {
        case .contiguous:
            #expect(storage.layout == .contiguous)
            #expect(storage.filters.isEmpty)
        case .chunked:
            #expect(storage.layout == .chunked)
            #expect(storage.chunkShape == [2, 3])
            #expect(storage.filters.map(\.name) == ["shuffle", "deflate"])
        }
    }

    @Test func attributesKeepCreationOrderAndTypes() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("attrs.h5")
        do {
            let file = try HDF5File.create(path)
            let root = try file.root()
            try root.attributes.write("z_int", .int64(-7))
            try root.attributes.write("a_double", .float64(0.25))
            try root.attributes.write("m_bool", .uint8(1))
            try root.attributes.write("b_crc", .uint32(0xCBF4_3926))
            try root.attributes.write("y_text", .string("lstm"))
            _ = try root.createGroup("second")
            _ = try root.createGroup("first")
            try file.close()
        }
        let root = try HDF5File.openReadOnly(path).root()
        #expect(try root.attributes.names() == ["z_int", "a_double", "m_bool", "b_crc", "y_text"])
        #expect(try root.memberNames() == ["second", "first"])
        #expect(try root.members().map(\.kind) == [.group, .group])
        #expect(try root.attributes.attribute("z_int").read() == .integers([-7]))
        #expect(try root.attributes.attribute("a_double").read() == .floats([0.25]))
        #expect(try root.attributes.attribute("m_bool").read() == .unsignedIntegers([1]))
        #expect(try root.attributes.attribute("b_crc").read() == .unsignedIntegers([0xCBF4_3926]))
        #expect(try root.attributes.attribute("y_text").read() == .strings(["lstm"]))
        let crc = try root.attributes.attribute("b_crc")
        #expect(crc.datatype.typeClass == .integer && crc.datatype.size == 4 && !crc.datatype.isSigned)
        #expect(crc.shape == [])
        let text = try root.attributes.attribute("y_text")
        #expect(text.datatype.isVariableLengthString && text.datatype.characterSet == .utf8)
    }

    @Test func missingObjectsAndWrongKinds() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("kinds.h5")
        do {
            let file = try HDF5File.create(path)
            let group = try file.root().createGroup("g")
            _ = try group.createDataset("d", format: .f32, shape: [1], littleEndianBytes: Data(count: 4))
            try file.close()
        }
        let root = try HDF5File.openReadOnly(path).root()
        #expect(throws: HDF5Error(.notFound)) { try root.group("nope") }
        #expect(throws: HDF5Error(.wrongObjectType)) { try root.dataset("g") }
        #expect(throws: HDF5Error(.wrongObjectType)) { try root.group("g/d") }
        #expect(throws: HDF5Error(.notFound)) { try root.attributes.attribute("nope") }
        #expect(throws: HDF5Error(.notFound)) { try root.attributes.joinedStrings("nope") }
        #expect(throws: HDF5Error(.invalidArgument)) { try root.group("/g") }
    }

    @Test func closeClosesOpenObjectsAndCreateRefusesExistingFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("exists.h5")
        let file = try HDF5File.create(path)
        let group = try file.root().createGroup("g")
        try group.attributes.write("a", .int64(1))
        try file.close()
        #expect(throws: HDF5Error(.callFailed)) { try group.attributes.write("b", .int64(2)) }
        #expect(throws: HDF5Error(.fileExists)) { try HDF5File.create(path) }
        #expect(try HDF5File.openReadOnly(path).root().group("g").attributes.attribute("a").int64() == 1)
    }

    @Test func openingNonHDF5AndMissingFiles() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("text.h5")
        try Data("definitely not HDF5\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: HDF5Error(.notHDF5)) { try HDF5File.openReadOnly(path) }
        #expect(throws: HDF5Error(.fileNotFound)) { try HDF5File.openReadOnly(directory.path("absent.h5")) }
        #expect(throws: HDF5Error(.fileNotFound)) { try HDF5File.openReadOnly(directory.path("")) }
    }
}

/// The HDF5 layer on an h5py-written file with the attribute and dataset kinds Keras files use
/// (Fixtures/hdf5/bridge/keras_like.h5, from scripts/make_h5py_fixtures.py).
@Suite struct BridgeKerasLikeTests {
    let root: HDF5Group

    init() throws {
        root = try HDF5File.openReadOnly(Fixtures.hdf5("bridge/keras_like.h5").path).root()
    }

    @Test func stringAttributesOfEveryKind() throws {
        let attributes = root.attributes
        let version = try attributes.attribute("keras_version")
        #expect(!version.datatype.isVariableLengthString && version.datatype.stringPadding == .nullPadded)
        #expect(try version.string() == "2.15.0")
        #expect(try attributes.attribute("backend").string() == "tensorflow")
        #expect(try attributes.attribute("layer_names").strings() == ["lstm", "dense_1"])
        #expect(try attributes.attribute("layer_names").shape == [2])
        #expect(throws: HDF5Error(.wrongShape)) { try attributes.attribute("layer_names").string() }
        #expect(try attributes.attribute("vlen_names").strings() == ["α", "b"])
        #expect(try attributes.attribute("space_padded").string() == "abc")
    }

    @Test func splitAttributesAreJoined() throws {
        #expect(try root.attributes.joinedStrings("weight_names") == ["a", "bb", "ccc"])
        #expect(try root.attributes.joinedStrings("layer_names") == ["lstm", "dense_1"])
        #expect(try root.group("model_weights").attributes.joinedStrings("layer_names") == ["lstm"])
    }

    @Test func numericAndBooleanAttributes() throws {
        let attributes = root.attributes
        #expect(try attributes.attribute("ints").read() == .integers([1, -2, 3]))
        #expect(try attributes.attribute("ints").int64s() == [1, -2, 3])
        #expect(try attributes.attribute("floats").read() == .floats([0.5, 1.5]))
        #expect(try attributes.attribute("floats").datatype.byteOrder == .bigEndian)
        #expect(try attributes.attribute("flag").read() == .booleans([true]))
        #expect(try attributes.attribute("flag").datatype.isBooleanEnumeration)
        #expect(try attributes.attribute("huge").read() == .unsignedIntegers([UInt64(1) << 63 + 5]))
        #expect(throws: HDF5Error(.wrongType)) { try attributes.attribute("huge").int64() }
        #expect(throws: HDF5Error(.wrongType)) { try attributes.attribute("compound").read() }
        #expect(throws: HDF5Error(.wrongType)) { try attributes.attribute("ints").strings() }
        #expect(throws: HDF5Error(.wrongType)) { try attributes.attribute("backend").doubles() }
    }

    @Test func floatDatasetsOfAnyLayoutAndOrderAreConverted() throws {
        let lstm = try root.group("model_weights/lstm/lstm")
        let expected = (0..<12).map { Float($0) / 8 }
        #expect(try lstm.dataset("kernel:0").readFloats() == expected)
        let recurrent = try lstm.dataset("recurrent_kernel:0")
        #expect(recurrent.datatype.byteOrder == .bigEndian && recurrent.datatype.floatFormat == .f32)
        #expect(recurrent.shape == [3, 4])
        #expect(try recurrent.readFloats() == expected)
        #expect(try recurrent.readLittleEndianBytes(as: .f32) == FloatEncoding.littleEndianBytes(expected, .f32))
        #expect(try lstm.dataset("bias:0").readFloats() == [0.5, -1, 2, 0.25])
        #expect(try lstm.dataset("bias:0").datatype.floatFormat == .f16)
        #expect(try lstm.dataset("f64:0").readDoubles() == [1.0 / 3.0, -2.5])
        #expect(try lstm.dataset("f64:0").readFloats() == [Float(1.0 / 3.0), -2.5])
        #expect(try lstm.dataset("bf16:0").datatype.floatFormat == .bf16)
        #expect(try lstm.dataset("bf16:0").readFloats() == [1, -0.5, 3])
        #expect(throws: HDF5Error(.wrongType)) { try lstm.dataset("bf16:0").readLittleEndianBytes(as: .f16) }
    }

    @Test func nonFloatDatasetsAreRefusedWhereFloatsAreExpected() throws {
        let lstm = try root.group("model_weights/lstm/lstm")
        #expect(throws: HDF5Error(.wrongType)) { try lstm.dataset("ints:0").readFloats() }
        #expect(throws: HDF5Error(.wrongType)) { try lstm.dataset("compound:0").readDoubles() }
        #expect(throws: HDF5Error(.wrongType)) { try lstm.dataset("vlen:0").readFloats() }
        #expect(try lstm.dataset("vlen:0").datatype.typeClass == .variableLength)
        #expect(throws: HDF5Error(.missingData)) { try lstm.dataset("empty:0").readFloats() }
        #expect(throws: HDF5Error(.missingData)) { try lstm.dataset("partial:0").readFloats() }
    }

    @Test func linksAreListedButNeverFollowed() throws {
        let weights = try root.group("model_weights")
        let members = try weights.members()
        #expect(members.map(\.name) == ["alias", "elsewhere", "lstm"])
        #expect(members[0].kind == .softLink(target: "/model_weights/lstm"))
        #expect(members[1].kind == .externalLink(file: "other.h5", object: "/x"))
        #expect(members[2].kind == .group)
        #expect(throws: HDF5Error(.softLink)) { try weights.group("alias") }
        #expect(throws: HDF5Error(.softLink)) { try weights.dataset("alias/lstm/kernel:0") }
        #expect(throws: HDF5Error(.externalLink)) { try weights.group("elsewhere") }
    }

    @Test func memberOrderIsCreationOrderWhenTrackedElseByteOrder() throws {
        #expect(try root.group("ordered").memberNames() == ["b", "a", "10", "2"])
        #expect(try root.group("unordered").memberNames() == ["10", "2", "a", "b"])
        #expect(try root.group("ordered").attributes.names() == ["z", "a"])
        #expect(try root.memberNames() == ["model_weights", "ordered", "unordered"])
    }

    @Test func externalStorageIsRefusedBeforeReading() throws {
        let file = try HDF5File.openReadOnly(Fixtures.hdf5("malformed/external_storage.h5").path)
        let dataset = try file.root().dataset("layer_0/forward/W_n")
        #expect(try dataset.storage().externalFileCount == 1)
        #expect(throws: HDF5Error(.externalStorage)) { try dataset.readFloats() }
    }

    @Test func failedCallsCarryTheHDF5Stack() throws {
        let error = try #require(throws: HDF5Error.self) {
            try HDF5File.openReadOnly(Fixtures.hdf5("malformed/truncated.h5").path)
        }
        #expect(error.code == .truncated)
        #expect(error.call == "H5Fopen")
        #expect(error.stack.count >= 2, "\(error.detailedDescription)")
        #expect(error.stack.contains { $0.contains("truncated file") }, "\(error.detailedDescription)")
    }
}
