import Foundation
import HDF5Bridge
import LSTMModel

extension HDF5Encoding {
    /// Whether `url` is an HDF5 file whose root `format` attribute names this format (`lstmconv`).
    /// Any failure (not HDF5, unreadable, no attribute) answers `false`.
    public static func isLSTMConvFile(_ url: URL) -> Bool {
        guard let file = try? HDF5File.openReadOnly(url.path), let root = try? file.root(),
              (try? root.attributes.contains(RootKey.format)) == true,
              let value = try? root.attributes.attribute(RootKey.format).string() else { return false }
        return value == FormatVersion.formatName
    }
}
