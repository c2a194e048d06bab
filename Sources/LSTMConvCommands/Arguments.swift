import ArgumentParser
import LSTMConv

extension DType: ExpressibleByArgument {}
extension Encoding: ExpressibleByArgument {}
extension Engine: ExpressibleByArgument {}
extension SourceFormat: ExpressibleByArgument {}
