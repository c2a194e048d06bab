"""lstmw: read lstmconv checkpoints (`.lstmw` and lstmconv `.h5`) with numpy alone.

    import lstmw
    ck = lstmw.load("model.lstmw", verify=True)
    ck.tensors["layer_0/forward/W_f"]      # numpy view on the file's memory map
    state = ck.to_pytorch()                 # PyTorch state_dict names, numpy arrays

Written from the format specification (spec/ in the lstmconv repository), independently of the Swift reader.
"""

from ._version import __version__
from .checkpoint import BFLOAT16, Checkpoint, TensorCheck, VerifyReport, load, widen
from .errors import LstmwError
from . import pytorch
from .schema import FORMAT_MAJOR, FORMAT_MINOR, SCHEMA_VERSION, Layer

__all__ = [
    "__version__", "load", "Checkpoint", "Layer", "LstmwError", "VerifyReport", "TensorCheck", "widen",
    "BFLOAT16", "FORMAT_MAJOR", "FORMAT_MINOR", "SCHEMA_VERSION",
]
