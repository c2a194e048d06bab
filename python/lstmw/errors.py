"""The one exception type of the package: `LstmwError`, compared by `code`.

The codes are the ones the Swift reader uses (spec/binary.md §7, spec/hdf5.md §5, spec/README.md §4.1).
"""

from __future__ import annotations

from typing import Optional


class LstmwError(Exception):
    """A file that cannot be read, or a model that cannot be exported.

    Attributes:
        code: the error code, spelled as in the spec (``"tensorChecksumMismatch"``, ``"softLink"`` …).
        file: the file at fault, when there is one.
        offset: the absolute byte offset (binary encoding), when known.
        key: the metadata key or attribute path (``layer.0.hidden_size``, ``layer_0/hidden_size``).
        tensor: the tensor path (``layer_0/forward/W_n``).
        expected, found: what the reader expected and what it found, as text.
        underlying: for ``invalidModel``, the semantic code (``invalidHyperparameter`` …).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        file: Optional[str] = None,
        offset: Optional[int] = None,
        key: Optional[str] = None,
        tensor: Optional[str] = None,
        expected: Optional[str] = None,
        found: Optional[str] = None,
        underlying: Optional[str] = None,
    ) -> None:
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
        self.key = key
        self.tensor = tensor
        self.expected = expected
        self.found = found
        self.underlying = underlying
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"{self.file}: ")
        parts.append(f"{self.code}: {self.message}")
        where = []
        if self.tensor is not None:
            where.append(f"tensor {self.tensor}")
        if self.key is not None:
            where.append(f"key {self.key}")
        if self.offset is not None:
            where.append(f"offset {self.offset}")
        if where:
            parts.append(" at " + ", ".join(where))
        if self.expected is not None or self.found is not None:
            parts.append(f": expected {self.expected}, found {self.found}")
        if self.underlying is not None:
            parts.append(f" ({self.underlying})")
        return "".join(parts)

    def located(self, file: str) -> "LstmwError":
        """Returns the error with `file` filled in."""
        if self.file is None:
            self.file = file
            self.args = (self._describe(),)
        return self


class ModelError(Exception):
    """A semantic error found while rebuilding the model (spec/README.md §4.1); each encoding maps it."""

    def __init__(self, code: str, message: str, *, key: Optional[str] = None, tensor: Optional[str] = None,
                 expected: Optional[str] = None, found: Optional[str] = None) -> None:
        self.code = code
        self.message = message
        self.key = key
        self.tensor = tensor
        self.expected = expected
        self.found = found
        super().__init__(f"{code}: {message}")
