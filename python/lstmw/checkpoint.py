"""`load()` and `Checkpoint`: one model read from either encoding."""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

from . import binary, schema
from .errors import LstmwError, ModelError

try:  # numpy has no bfloat16; ml_dtypes (a dependency of JAX and TensorFlow) adds one when installed.
    import ml_dtypes as _ml_dtypes

    BFLOAT16: Optional[np.dtype] = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    BFLOAT16 = None

PathLike = Union[str, "os.PathLike[str]"]


def numpy_dtype(dtype: str) -> np.dtype:
    """The numpy dtype of a tensor dtype: bf16 is `ml_dtypes.bfloat16` when installed, else its raw `uint16` bits."""
    if dtype == "bf16":
        return BFLOAT16 if BFLOAT16 is not None else np.dtype("<u2")
    return np.dtype({"f32": "<f4", "f16": "<f2", "f64": "<f8"}[dtype])


def widen(array: np.ndarray, dtype: str) -> np.ndarray:
    """f16 and bf16 converted exactly to float32 (a copy); f32 and f64 returned unchanged."""
    if dtype == "f16":
        return array.astype(np.float32)
    if dtype == "bf16":
        bits = np.ascontiguousarray(array).view(np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32)
    return array


def little_endian_bytes(array: np.ndarray, dtype: str) -> memoryview:
    """The tensor's bytes as the spec checksums them: C order, little-endian, in its declared dtype."""
    if dtype == "bf16":
        array = array.view(np.uint16) if array.dtype != np.uint16 else array
        array = array.astype("<u2", copy=False)
    else:
        array = array.astype(numpy_dtype(dtype).newbyteorder("<"), copy=False)
    return memoryview(np.ascontiguousarray(array)).cast("B")


@dataclass
class TensorCheck:
    """One tensor's stored and recomputed CRC-32."""

    path: str
    stored: int
    computed: int

    @property
    def ok(self) -> bool:
        return self.stored == self.computed


@dataclass
class VerifyReport:
    """What `Checkpoint.verify()` found: every tensor's checksums."""

    tensors: List[TensorCheck]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.tensors)

    @property
    def mismatches(self) -> List[TensorCheck]:
        return [check for check in self.tensors if not check.ok]


class Checkpoint:
    """A model read from a `.lstmw` or lstmconv `.h5` file.

    Attributes:
        path: the file read.
        encoding: ``"binary"`` or ``"hdf5"``.
        format_version: ``(major, minor)`` of the container.
        schema_version: the schema version (README §1).
        metadata: every root attribute in file order, unknown keys included (``format``, ``layer_count``,
            ``provenance.converter`` …).
        provenance: the ``provenance.*`` attributes without their prefix.
        layers: one `Layer` per layer: ``kind`` and ``attributes`` named as the spec names them.
        tensors: document path → numpy array, in canonical order. For ``.lstmw`` every array is a read-only,
            zero-copy view on the file's memory map.
        dtypes: document path → ``f32``, ``f16``, ``bf16`` or ``f64`` (the file's dtype).
        checksums: document path → the stored CRC-32.
        sources: document path → the source tensor name, or None.
        unknown_layer_keys: per layer, attributes the schema does not define (kept, never interpreted).
    """

    def __init__(self, *, path: str, encoding: str, format_version: Tuple[int, int], metadata: Dict[str, Any],
                 layers: List[schema.Layer], tensors: Dict[str, np.ndarray], dtypes: Dict[str, str],
                 checksums: Dict[str, int], sources: Dict[str, Optional[str]],
                 layer_metadata: List[Dict[str, Any]], keepalive: Any = None) -> None:
        self.path = path
        self.encoding = encoding
        self.format_version = format_version
        self.metadata = metadata
        self.schema_version = int(metadata["schema_version"])
        self.provenance = {key[len("provenance."):]: value for key, value in metadata.items()
                           if key.startswith("provenance.")}
        self.layers = layers
        self.tensors = tensors
        self.dtypes = dtypes
        self.checksums = checksums
        self.sources = sources
        self.layer_metadata = layer_metadata
        self._keepalive = keepalive

    def __repr__(self) -> str:
        kinds = ", ".join(layer.kind for layer in self.layers)
        return f"<lstmw.Checkpoint {self.path!r} format {self.format_version[0]}.{self.format_version[1]} [{kinds}]>"

    def array(self, path: str, *, widen_to_float32: bool = False) -> np.ndarray:
        """One tensor; with `widen_to_float32`, f16/bf16 converted exactly to float32."""
        return widen(self.tensors[path], self.dtypes[path]) if widen_to_float32 else self.tensors[path]

    def verify(self) -> VerifyReport:
        """Recomputes every tensor's CRC-32 and reports each (it never stops at the first mismatch)."""
        checks = []
        for path, array in self.tensors.items():
            computed = zlib.crc32(little_endian_bytes(array, self.dtypes[path]))
            checks.append(TensorCheck(path, self.checksums[path], computed))
        return VerifyReport(checks)

    def to_pytorch(self, **options: Any) -> Dict[str, np.ndarray]:
        """The model as a PyTorch ``state_dict`` of numpy arrays (spec/export.md); see `lstmw.pytorch.export`."""
        from .pytorch import export

        return export(self, **options).state_dict

    def pytorch_modules(self, **options: Any) -> List[Dict[str, Any]]:
        """The PyTorch modules `to_pytorch()` fills (``prefix``, ``class``, ``args``, ``dtype`` …), as `export` records them."""
        from .pytorch import export

        return export(self, **options).modules


def load(path: PathLike, *, verify: bool = False, encoding: Optional[str] = None,
         widen_to_float32: bool = False) -> Checkpoint:
    """Reads a checkpoint from `path`, either encoding (detected from the first bytes unless `encoding` is given).

    With `verify`, every tensor checksum is checked while loading (spec/binary.md §7 step 6, spec/hdf5.md §5
    step 7) and the first mismatch raises. With `widen_to_float32`, f16 and bf16 tensors are converted to float32
    (copies; the other tensors stay zero-copy views). Every failure is an `LstmwError` with the spec's code.
    """
    path = os.fspath(path)
    if encoding is None:
        encoding = _sniff(path)
    try:
        if encoding == "binary":
            checkpoint = _load_binary(path, verify)
        elif encoding == "hdf5":
            from . import hdf5

            checkpoint = hdf5.load(path, verify)
        else:
            raise ValueError(f"unknown encoding {encoding!r} (binary or hdf5)")
    except LstmwError as error:
        raise error.located(path) from None
    if widen_to_float32:
        checkpoint.tensors = {name: widen(array, checkpoint.dtypes[name]) for name, array in checkpoint.tensors.items()}
    return checkpoint


def _sniff(path: str) -> str:
    """`.lstmw` is always the binary container; otherwise the first bytes decide (HDF5 signature → HDF5)."""
    if path.endswith(".lstmw"):
        return "binary"
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        head = b""
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if head and head == binary.MAGIC[:len(head)]:
        return "binary"
    return "hdf5" if path.endswith((".h5", ".hdf5")) else "binary"


def _load_binary(path: str, verify: bool) -> Checkpoint:
    buffer, _ = binary.open_buffer(path)
    container = binary.parse(buffer)
    raw = np.frombuffer(buffer, dtype=np.uint8) if len(buffer) else np.zeros(0, np.uint8)

    # Step 6: tensor checksums.
    if verify:
        for entry in container.entries:
            computed = zlib.crc32(container.tensor_bytes(entry))
            if computed != entry.crc32:
                raise LstmwError("tensorChecksumMismatch", f"tensor {entry.path} does not match its CRC-32",
                                 offset=container.data_offset + entry.offset, tensor=entry.path,
                                 expected=f"0x{entry.crc32:08x}", found=f"0x{computed:08x}")

    # Step 7: format keys.
    root: Dict[str, Any] = {}
    layer_values: Dict[int, Dict[str, Any]] = {}
    for key, _, value in container.metadata:
        parts = key.split(".", 2)
        if len(parts) == 3 and parts[0] == "layer" and parts[1].isdigit() and parts[1] == str(int(parts[1])):
            layer_values.setdefault(int(parts[1]), {})[parts[2]] = value
        else:
            root[key] = value
    for key, wanted in (("format", schema.FORMAT_NAME), ("format_major", container.major),
                        ("format_minor", container.minor)):
        value = root.get(key)
        if type(value) is not type(wanted) or value != wanted:
            raise LstmwError("formatMismatch", f"{key} must be {wanted!r}", key=key, expected=repr(wanted),
                             found="absent" if value is None else repr(value))
    version = root.get("schema_version")
    if type(version) is not int or not 1 <= version <= schema.SCHEMA_VERSION:
        raise LstmwError("unsupportedSchemaVersion", f"schema_version must be an int in 1…{schema.SCHEMA_VERSION}",
                         key="schema_version", expected=f"1…{schema.SCHEMA_VERSION}",
                         found="absent" if version is None else repr(version))

    # Step 8: model semantics.
    count = root.get("layer_count")
    count = count if type(count) is int and 0 <= count <= schema.MAX_LAYERS else 0
    per_layer = [layer_values.get(index, {}) for index in range(count)]
    stored = {entry.path: entry.shape for entry in container.entries}
    try:
        layers = schema.read_layers(root, per_layer, "binary")
        canonical = schema.check_tensors(layers, stored, "binary")
        schema.validate(layers, "binary")
    except ModelError as error:
        raise _binary_model_error(error, container) from None

    # Step 9: canonical order.
    order = [entry.path for entry in container.entries]
    if order != canonical:
        first = next(i for i, (a, b) in enumerate(zip(order, canonical)) if a != b)
        raise LstmwError("nonCanonicalOrder", "the directory is not in canonical order",
                         offset=container.entries[first].entry_offset, tensor=order[first],
                         expected=canonical[first], found=order[first])

    tensors, dtypes, checksums, sources = {}, {}, {}, {}
    for entry in container.entries:
        start = container.data_offset + entry.offset
        view = raw[start:start + entry.nbytes].view(numpy_dtype(entry.dtype)).reshape(entry.shape)
        tensors[entry.path] = view
        dtypes[entry.path] = entry.dtype
        checksums[entry.path] = entry.crc32
        sources[entry.path] = entry.source
    layer_metadata = [layer_values.get(index, {}) for index in range(len(layers))]
    return Checkpoint(path=path, encoding="binary", format_version=(container.major, container.minor),
                      metadata=root, layers=layers, tensors=tensors, dtypes=dtypes, checksums=checksums,
                      sources=sources, layer_metadata=layer_metadata, keepalive=buffer)


_BINARY_MODEL_CODES = {"missingTensor", "unexpectedTensor", "shapeMismatch"}


def _binary_model_error(error: ModelError, container: binary.Container) -> LstmwError:
    offset = None
    if error.tensor is not None:
        offset = next((entry.entry_offset for entry in container.entries if entry.path == error.tensor), None)
    if error.code in _BINARY_MODEL_CODES:
        return LstmwError(error.code, error.message, offset=offset, key=error.key, tensor=error.tensor,
                          expected=error.expected, found=error.found)
    return LstmwError("invalidModel", error.message, offset=offset, key=error.key, tensor=error.tensor,
                      expected=error.expected, found=error.found, underlying=error.code)
