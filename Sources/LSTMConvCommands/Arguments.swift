import ArgumentParser
import LSTMConv

extension DType: ExpressibleByArgument {}
extension Encoding: ExpressibleByArgument {}
