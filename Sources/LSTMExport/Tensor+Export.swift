import LSTMModel

extension Tensor {
    /// The tensor with its bytes in memory (a streaming export's tensors are read from the model file only when
    /// written); a read failure (a damaged tensor) is an ``ExportError/Code/invalidModel`` naming it.
    func loaded(_ what: @autoclosure () -> String) throws(ExportError) -> Tensor {
        do {
            return try materialized()
        } catch {
            throw ExportError(.invalidModel, "cannot read \(what()): \(error)")
        }
    }
}
