// `import LSTMConv` gives a client everything: the model, both encodings, checkpoint loading, the importers,
// the exporters, the engines, gate explanations and NumPy arrays. It is the top of the library graph; nothing re-exports it.
@_exported import FileSignatures
@_exported import LSTMBinary
@_exported import LSTMCheckpoint
@_exported import LSTMEngine
@_exported import LSTMErrors
@_exported import LSTMExplain
@_exported import LSTMExport
@_exported import LSTMHDF5
@_exported import LSTMImport
@_exported import LSTMLayouts
@_exported import LSTMModel
@_exported import NumPyIO
