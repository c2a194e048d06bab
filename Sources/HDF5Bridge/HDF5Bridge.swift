// HDF5Bridge — the only module that calls libhdf5 (through the CHDF5 system module).
//
// API overview (all `package` access; `import HDF5Bridge`):
//
//   Reading
//     let file = try HDF5File.openReadOnly(path)          // fileNotFound / notHDF5 / truncated / callFailed
//     let root = try file.root()                           // HDF5Group at "/"
//     try root.members()                                   // [HDF5Link]: name + kind (.group, .dataset,
//                                                          //   .softLink(target:), .externalLink(file:object:), …)
//                                                          //   in creation order if tracked, else name order
//                                                          //   (byte-wise: "10" < "2"; sort numerically yourself)
//     try root.contains("model_weights"); try root.linkKind("x")
//     let g = try root.group("model_weights/lstm")         // relative paths; only hard links are followed,
//     let d = try g.dataset("lstm/kernel:0")               //   soft/external/user-defined links throw
//     d.shape; d.datatype                                  // [Int]; HDF5Datatype (class, size, order, float layout)
//     try d.readFloats(); try d.readDoubles()              // any IEEE float (f16, bf16, f32, f64, LE or BE),
//                                                          //   converted; integers/strings/compound/vlen throw wrongType
//     try d.readLittleEndianBytes(as: .f16)                // raw LE bytes of the stored format (BE is swapped)
//     try d.storage()                                      // layout, chunk shape, filters, external file count, stored size
//     Every read first runs d.checkReadable(elementSize:): it refuses external raw storage (externalStorage),
//     virtual datasets, unavailable filters, and storage that cannot hold the shape (never written, missing
//     chunks, > 1032:1 deflate) with missingData. Limits: HDF5Limits (members, elements, string bytes).
//
//   Attributes (of a group or dataset: `x.attributes`)
//     try g.attributes.names()                             // creation order if tracked, else name order
//     try g.attributes.contains("keras_version")
//     let a = try g.attributes.attribute("weight_names")   // HDF5Attribute: shape, datatype
//     try a.read()                                         // HDF5Value: .strings / .integers / .unsignedIntegers /
//                                                          //   .floats / .booleans (h5py bool enum)
//     try a.string(); try a.strings()                      // fixed-length (any padding) or variable-length,
//                                                          //   ASCII or UTF-8, scalar or array; invalidString if not UTF-8
//     try a.int64(); try a.int64s(); try a.double(); try a.doubles()
//     try g.attributes.joinedStrings("layer_names")        // `layer_names`, or Keras' split `layer_names0`, `1`, …
//                                                          //   concatenated; notFound when neither exists
//
//   Writing (deterministic: no object time stamps, libver bounds pinned to V18)
//     let file = try HDF5File.create(tempPath)             // exclusive create; temp+rename is the caller's job
//     let root = try file.root()
//     let g = try root.createGroup("layer_0")
//     try g.attributes.write("hidden_size", .int64(4))     // .int64 / .float64 / .uint8 / .uint32 / .string (vlen UTF-8)
//     let d = try g.createDataset("W_n", format: .f32, shape: [4, 7], littleEndianBytes: data,
//                                 layout: .chunked(chunk: nil, shuffle: true, deflateLevel: 6))
//     try d.attributes.write("crc32", .uint32(crc))
//     try file.close()                                     // closes every object opened from the file first, then
//                                                          //   the file (errors while flushing metadata are thrown)
//
//   Errors: every call throws HDF5Error (code + message + file + objectPath + failed libhdf5 call + the walked
//   HDF5 error stack). Codes compare by kind only. HDF5's automatic stack printing is always off.
//
// Design: every libhdf5 call goes through `H5.call` (Internal/H5Call.swift), which holds one global recursive
// lock, checks the return code and walks the error stack into the thrown error. Identifiers live in `H5ID`,
// a final class that closes them in `deinit`; `hid_t` never appears outside this module. Handle classes are
// not Sendable: use them on one task at a time.
