// `import LSTMConv` gives a client everything needed to load a checkpoint and run it.
@_exported import LSTMBinary
@_exported import LSTMEngine
@_exported import LSTMHDF5
@_exported import LSTMModel
@_exported import NumPyIO
