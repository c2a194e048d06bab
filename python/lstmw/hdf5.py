"""The HDF5 encoding (spec/hdf5.md), read through h5py (optional dependency: ``pip install ./python[hdf5]``)."""

from __future__ import annotations

import os
import stat
import zlib
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from . import schema
from .checkpoint import Checkpoint, little_endian_bytes, numpy_dtype
from .errors import LstmwError, ModelError

MAX_DEPTH = 8
MAX_OBJECTS = 100_000
MAX_MEMBERS = 1 << 20
MAX_ELEMENTS = 1 << 34
MAX_RANK = 32
MAX_DEFLATE_RATIO = 1032

# (size, (sign, exponent position, exponent size, mantissa position, mantissa size), exponent bias)
FLOAT_LAYOUTS = {
    "f32": (4, (31, 23, 8, 0, 23), 127),
    "f64": (8, (63, 52, 11, 0, 52), 1023),
    "f16": (2, (15, 10, 5, 0, 10), 15),
    "bf16": (2, (15, 7, 8, 0, 7), 127),
}
WIDTHS = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8}
RAW_DTYPES = {"f32": "<f4", "f64": "<f8", "f16": "<f2", "bf16": "<u2"}


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:  # pragma: no cover - depends on the environment
        raise LstmwError("hdf5Failure", "reading the HDF5 encoding needs h5py (pip install h5py)") from None
    return h5py


def _error(code: str, message: str, key: Optional[str] = None, **context: Any) -> LstmwError:
    return LstmwError(code, message, key=key, **context)


def describe_type(h5py: Any, tid: Any) -> str:
    h5t = h5py.h5t
    cls = tid.get_class()
    order = {h5t.ORDER_LE: "little-endian", h5t.ORDER_BE: "big-endian"}
    if cls == h5t.INTEGER:
        sign = "signed" if tid.get_sign() == h5t.SGN_2 else "unsigned"
        return f"{sign} {tid.get_size() * 8}-bit integer {order.get(tid.get_order(), 'other byte order')}"
    if cls == h5t.FLOAT:
        return f"{tid.get_size() * 8}-bit float {order.get(tid.get_order(), 'other byte order')}"
    names = {h5t.STRING: "string", h5t.COMPOUND: "compound", h5t.ENUM: "enum", h5t.VLEN: "variable-length sequence",
             h5t.ARRAY: "array", h5t.REFERENCE: "reference", h5t.OPAQUE: "opaque", h5t.BITFIELD: "bitfield"}
    return names.get(cls, f"type class {cls}")


def read_attribute(h5py: Any, obj: Any, name: str, shown: str) -> Any:
    """One attribute typed by spec/hdf5.md §2: int, float (double), str or bool; anything else is refused."""
    h5t = h5py.h5t
    try:
        aid = obj.attrs.get_id(name)
        tid = aid.get_type()
        shape = aid.shape
    except Exception as error:  # noqa: BLE001 - libhdf5 failures become typed errors
        raise _error("hdf5Failure", f"cannot open attribute {shown}: {error}", shown) from None
    cls = tid.get_class()
    found = describe_type(h5py, tid)
    expected = "int64, float64, uint8 bool, enum bool or string"
    if shape != ():
        raise _error("wrongAttributeType", f"attribute {shown} is not a scalar", shown, expected=f"scalar {expected}",
                     found=f"{found} of shape {list(shape) if shape is not None else 'null'}")
    ordered = cls in (h5t.INTEGER, h5t.FLOAT) and tid.get_order() in (h5t.ORDER_LE, h5t.ORDER_BE)
    if cls == h5t.INTEGER and ordered and tid.get_size() == 8 and tid.get_sign() == h5t.SGN_2:
        return int(_value(obj, name, shown))
    if cls == h5t.FLOAT and ordered and tid.get_size() == 8 and tid.get_fields() == FLOAT_LAYOUTS["f64"][1]:
        return float(_value(obj, name, shown))
    if cls == h5t.INTEGER and ordered and tid.get_size() == 1 and tid.get_sign() == h5t.SGN_NONE:
        value = int(_value(obj, name, shown))
        if value not in (0, 1):
            raise _error("invalidAttributeValue", f"bool attribute {shown} holds {value}", shown,
                         expected="0 or 1", found=str(value))
        return value == 1
    if cls == h5t.ENUM and tid.get_size() == 1 and _is_bool_enum(tid):
        value = _value(obj, name, shown)
        return bool(value)
    if cls == h5t.STRING:
        value = _value(obj, name, shown)
        raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
        if not tid.is_variable_str():
            raw = raw.rstrip(b"\x00 ")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _error("invalidAttributeValue", f"string attribute {shown} is not UTF-8", shown,
                         expected="UTF-8", found=raw[:16].hex(" ")) from None
    raise _error("wrongAttributeType", f"attribute {shown} has a type the schema does not map", shown,
                 expected=expected, found=found)


def _is_bool_enum(tid: Any) -> bool:
    try:
        members = {tid.get_member_name(i): tid.get_member_value(i) for i in range(tid.get_nmembers())}
    except Exception:  # noqa: BLE001
        return False
    return members == {b"FALSE": 0, b"TRUE": 1}


def _value(obj: Any, name: str, shown: str) -> Any:
    try:
        return obj.attrs[name]
    except Exception as error:  # noqa: BLE001
        raise _error("hdf5Failure", f"cannot read attribute {shown}: {error}", shown) from None


def _attributes(h5py: Any, obj: Any, prefix: str) -> Dict[str, Any]:
    values = {}
    for name in _attribute_names(obj, prefix):
        values[name] = read_attribute(h5py, obj, name, f"{prefix}{name}")
    return values


def _attribute_names(obj: Any, prefix: str) -> List[str]:
    try:
        names = list(obj.attrs.keys())
    except Exception as error:  # noqa: BLE001
        raise _error("hdf5Failure", f"cannot list the attributes of {prefix or '/'}: {error}", prefix or "/") from None
    return names


def _walk(h5py: Any, root: Any) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Step 3: lists every link (soft and external links refused), returns the groups and datasets by path."""
    groups: Dict[str, Any] = {}
    datasets: Dict[str, Any] = {}
    count = 0
    pending = [("", root, 0)]
    while pending:
        prefix, group, depth = pending.pop(0)
        try:
            if len(group) > MAX_MEMBERS:
                raise _error("unexpectedTensor", f"group {prefix or '/'} has more than {MAX_MEMBERS} members",
                             prefix or "/")
            names = list(group.keys())
        except LstmwError:
            raise
        except Exception as error:  # noqa: BLE001
            raise _error("hdf5Failure", f"cannot list group {prefix or '/'}: {error}", prefix or "/") from None
        for name in names:
            path = f"{prefix}{name}"
            try:
                link = group.get(name, getlink=True)
            except Exception:  # noqa: BLE001 - h5py refuses user-defined link types
                raise _error("externalLink", f"{path} is a user-defined link", path) from None
            if isinstance(link, h5py.SoftLink):
                raise _error("softLink", f"{path} is a soft link to {link.path}", path, found=link.path)
            if isinstance(link, h5py.ExternalLink):
                raise _error("externalLink", f"{path} is an external link to {link.filename}:{link.path}", path,
                             found=f"{link.filename}:{link.path}")
            count += 1
            if count > MAX_OBJECTS:
                raise _error("unexpectedTensor", f"the file holds more than {MAX_OBJECTS} objects", path)
            try:
                obj = group[name]
            except Exception as error:  # noqa: BLE001
                raise _error("hdf5Failure", f"cannot open {path}: {error}", path) from None
            if isinstance(obj, h5py.Group):
                if depth + 1 > MAX_DEPTH:
                    raise _error("unexpectedTensor", f"groups are nested deeper than {MAX_DEPTH}", path)
                groups[path] = obj
                pending.append((path + "/", obj, depth + 1))
            elif isinstance(obj, h5py.Dataset):
                datasets[path] = obj
            # named datatypes are ignored
    return groups, datasets


def load(path: str, verify: bool) -> Checkpoint:
    h5py = _h5py()
    # Step 1: open.
    try:
        info = os.stat(path)
        readable = stat.S_ISREG(info.st_mode) and os.access(path, os.R_OK)
    except OSError:
        readable = False
    if not readable:
        raise _error("fileNotFound", "no readable regular file at this path")
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except Exception:  # noqa: BLE001
        is_hdf5 = False
    if not is_hdf5:
        raise _error("notHDF5", "the file has no HDF5 signature")
    try:
        handle = h5py.File(path, "r")
    except Exception as error:  # noqa: BLE001
        code = "truncated" if "truncated file" in str(error) else "hdf5Failure"
        raise _error(code, f"libhdf5 cannot open the file: {error}") from None
    with handle:
        return _read(h5py, handle, path, verify)


def _read(h5py: Any, handle: Any, path: str, verify: bool) -> Checkpoint:
    # Step 2: format name.
    if "format" not in _attribute_names(handle, ""):
        raise _error("missingFormat", "no `format` attribute: an HDF5 file, but not an lstmconv checkpoint")
    fmt = read_attribute(h5py, handle, "format", "format")
    if not isinstance(fmt, str):
        raise _error("wrongAttributeType", "`format` is not a string", "format", expected="string",
                     found=schema.type_name(fmt))
    if fmt != schema.FORMAT_NAME:
        raise _error("wrongFormat", "the file is not an lstmconv checkpoint", "format", expected="lstmconv", found=fmt)

    # Step 3: walk the whole tree.
    groups, datasets = _walk(h5py, handle)

    # Step 4: root attributes.
    root = _attributes(h5py, handle, "")
    for key in ("format_major", "format_minor", "schema_version", "layer_count"):
        if key not in root:
            raise _error("missingAttribute", f"root attribute {key} is missing", key, expected="int")
        if type(root[key]) is not int:
            raise _error("wrongAttributeType", f"root attribute {key} is not an int", key, expected="int",
                         found=schema.type_name(root[key]))
    major, minor = root["format_major"], root["format_minor"]
    if major == 0 or major > schema.FORMAT_MAJOR:
        raise _error("unsupportedVersion", f"the file is format {major}.x; this reader supports 1.x", "format_major",
                     expected=str(schema.FORMAT_MAJOR), found=str(major))
    if root["schema_version"] <= 0 or root["schema_version"] > schema.SCHEMA_VERSION:
        raise _error("unsupportedVersion", f"the file is schema {root['schema_version']}; this reader supports 1",
                     "schema_version", expected=str(schema.SCHEMA_VERSION), found=str(root["schema_version"]))
    if minor < 0:
        raise _error("invalidAttributeValue", "format_minor is negative", "format_minor", expected="≥ 0",
                     found=str(minor))
    count = root["layer_count"]
    if not 1 <= count <= schema.MAX_LAYERS:
        raise _error("invalidAttributeValue", f"layer_count must be 1…{schema.MAX_LAYERS}", "layer_count",
                     expected=f"1…{schema.MAX_LAYERS}", found=str(count))

    # Step 5: layer groups.
    per_layer = []
    for index in range(count):
        name = f"layer_{index}"
        if name not in groups:
            raise _error("missingGroup", f"group {name} is missing", name)
        per_layer.append(_attributes(h5py, groups[name], f"{name}/"))

    # Steps 6–8: model, datasets, validation.
    tensors: Dict[str, np.ndarray] = {}
    dtypes: Dict[str, str] = {}
    checksums: Dict[str, int] = {}
    sources: Dict[str, Optional[str]] = {}

    def dataset(tensor_path: str, shape: Tuple[int, ...]) -> None:
        array, dtype, crc, source = _read_dataset(h5py, datasets[tensor_path], tensor_path, shape, verify)
        tensors[tensor_path], dtypes[tensor_path], checksums[tensor_path], sources[tensor_path] = array, dtype, crc, source

    stored = {name: tuple(int(d) for d in (ds.shape or ())) for name, ds in datasets.items()}
    try:
        layers = schema.read_layers(root, per_layer, "hdf5")
        schema.check_tensors(layers, stored, "hdf5", load=dataset)
        schema.validate(layers, "hdf5")
    except ModelError as error:
        keep = {"missingAttribute", "wrongAttributeType", "invalidAttributeValue", "missingTensor",
                "unexpectedTensor", "shapeMismatch"}
        code = error.code if error.code in keep else "invalidModel"
        raise LstmwError(code, error.message, key=error.key or error.tensor, tensor=error.tensor,
                         expected=error.expected, found=error.found,
                         underlying=None if code == error.code else error.code) from None
    metadata = {key: value for key, value in root.items() if key != "about"}
    return Checkpoint(path=path, encoding="hdf5", format_version=(major, minor), metadata=metadata, layers=layers,
                      tensors=tensors, dtypes=dtypes, checksums=checksums, sources=sources,
                      layer_metadata=per_layer)


def _read_dataset(h5py: Any, ds: Any, path: str, shape: Tuple[int, ...], verify: bool
                  ) -> Tuple[np.ndarray, str, int, Optional[str]]:
    """Step 7 for one dataset: attributes, datatype, storage, shape (from the hyperparameters), then the data."""
    h5t, h5d, h5z = h5py.h5t, h5py.h5d, h5py.h5z
    names = _attribute_names(ds, path)
    for key in ("dtype", "crc32", "source"):
        if key not in names:
            raise _error("missingAttribute", f"dataset attribute {path}@{key} is missing", f"{path}@{key}",
                         tensor=path)
    dtype = read_attribute(h5py, ds, "dtype", f"{path}@dtype")
    if not isinstance(dtype, str):
        raise _error("wrongAttributeType", f"{path}@dtype is not a string", f"{path}@dtype", tensor=path,
                     expected="string", found=schema.type_name(dtype))
    aid = ds.attrs.get_id("crc32")
    ctid = aid.get_type()
    if not (aid.shape == () and ctid.get_class() == h5t.INTEGER and ctid.get_size() == 4
            and ctid.get_sign() == h5t.SGN_NONE and ctid.get_order() in (h5t.ORDER_LE, h5t.ORDER_BE)):
        raise _error("wrongAttributeType", f"{path}@crc32 is not a scalar unsigned 32-bit integer", f"{path}@crc32",
                     tensor=path, expected="scalar uint32", found=describe_type(h5py, ctid))
    crc = int(_value(ds, "crc32", f"{path}@crc32"))
    source = read_attribute(h5py, ds, "source", f"{path}@source")
    if not isinstance(source, str):
        raise _error("wrongAttributeType", f"{path}@source is not a string", f"{path}@source", tensor=path,
                     expected="string", found=schema.type_name(source))
    if dtype not in FLOAT_LAYOUTS:
        raise _error("invalidAttributeValue", f"{path}@dtype is not f32, f16, bf16 or f64", f"{path}@dtype",
                     tensor=path, expected="f32, f16, bf16, f64", found=dtype)

    tid = ds.id.get_type()
    size, fields, bias = FLOAT_LAYOUTS[dtype]
    found = describe_type(h5py, tid)
    if tid.get_class() != h5t.FLOAT or tid.get_size() != size or tid.get_fields() != fields or tid.get_ebias() != bias:
        raise _error("wrongDatatype", f"dataset {path} is not stored as {dtype}", path, tensor=path,
                     expected=dtype, found=found)
    if tid.get_order() not in (h5t.ORDER_LE, h5t.ORDER_BE):
        raise _error("wrongDatatype", f"dataset {path} has a byte order that is neither little- nor big-endian",
                     path, tensor=path, expected="little- or big-endian", found=found)

    plist = ds.id.get_create_plist()
    if plist.get_external_count() > 0:
        raise _error("externalStorage", f"dataset {path} keeps its data in external files", path, tensor=path)
    layout = plist.get_layout()
    if layout == getattr(h5d, "VIRTUAL", -1):
        raise _error("unsupportedStorage", f"dataset {path} is a virtual dataset", path, tensor=path)
    filters = []
    for index in range(plist.get_nfilters()):
        filter_id = plist.get_filter(index)[0]
        if not h5z.filter_avail(filter_id):
            raise _error("unsupportedStorage", f"dataset {path} needs filter {filter_id}, which libhdf5 lacks",
                         path, tensor=path, found=str(filter_id))
        filters.append(filter_id)

    found_shape = tuple(int(d) for d in (ds.shape or ()))
    if len(found_shape) > MAX_RANK:
        raise _error("shapeMismatch", f"dataset {path} has rank {len(found_shape)}", path, tensor=path)
    if found_shape != tuple(shape):
        raise _error("shapeMismatch", f"tensor {path} has the wrong shape", path, tensor=path,
                     expected=str(list(shape)), found=str(list(found_shape)))
    elements = int(np.prod(found_shape, dtype=object)) if found_shape else 1
    if elements > MAX_ELEMENTS:
        raise _error("unsupportedStorage", f"dataset {path} has more than 2^34 elements", path, tensor=path)
    data_size = elements * WIDTHS[dtype]
    stored = ds.id.get_storage_size()
    compressed = h5z.FILTER_DEFLATE in filters
    if layout == h5d.CONTIGUOUS and stored != data_size:
        raise _error("unsupportedStorage", f"dataset {path} stores {stored} bytes for {data_size}", path,
                     tensor=path, expected=str(data_size), found=str(stored))
    if layout == h5d.CHUNKED and not compressed and stored < data_size:
        raise _error("unsupportedStorage", f"dataset {path} is missing chunks", path, tensor=path,
                     expected=f"≥ {data_size}", found=str(stored))
    if layout == h5d.CHUNKED and compressed and (stored == 0 or data_size > stored * MAX_DEFLATE_RATIO):
        raise _error("unsupportedStorage", f"dataset {path} claims more than 1032 : 1 compression", path,
                     tensor=path, expected=f"≥ {data_size // MAX_DEFLATE_RATIO} stored bytes", found=str(stored))

    memory_type = tid.copy()
    memory_type.set_order(h5t.ORDER_LE)
    array = np.empty(found_shape, dtype=RAW_DTYPES[dtype])
    try:
        ds.id.read(h5py.h5s.ALL, h5py.h5s.ALL, array, mtype=memory_type)
    except Exception as error:  # noqa: BLE001
        raise _error("hdf5Failure", f"cannot read dataset {path}: {error}", path, tensor=path) from None
    if verify:
        computed = zlib.crc32(memoryview(array).cast("B"))
        if computed != crc:
            raise _error("checksumMismatch", f"tensor {path} does not match its CRC-32", path, tensor=path,
                         expected=f"0x{crc:08x}", found=f"0x{computed:08x}")
    if dtype == "bf16":
        array = array.view(numpy_dtype("bf16"))
    array.flags.writeable = False
    return array, dtype, crc, source or None
