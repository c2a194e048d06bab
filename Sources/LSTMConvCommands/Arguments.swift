import ArgumentParser
import LSTMImport

extension DType: ExpressibleByArgument {}
extension Encoding: ExpressibleByArgument {}
extension Engine: ExpressibleByArgument {}
extension SourceFormat: ExpressibleByArgument {}
