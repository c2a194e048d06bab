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
