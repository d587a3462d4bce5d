/// What can go wrong when finishing or placing assembled code.
public enum X64Error: Error, Equatable, CustomStringConvertible {
    /// A jump or reference targets a label that was never bound.
    case unboundLabel(label: Int, referencedAt: Int)
    /// A jump requested as short (rel8) lands too far away.
    case shortJumpOutOfRange(label: Int, referencedAt: Int, distance: Int)
    /// A rel32 reference to an absolute address is more than 2 GiB away from where the code landed.
    case relocationOutOfRange(offset: Int, target: HostAddress, codeAddress: HostAddress)
    /// The destination region is smaller than the code.
    case destinationTooSmall(needed: Int, available: Int)
    /// The destination address is less aligned than the code's alignment directives need.
    case misalignedDestination(address: HostAddress, alignment: Int)

    /// A stable code for logs and statistics.
    public var code: String {
        switch self {
        case .unboundLabel: "x64.unbound-label"
        case .shortJumpOutOfRange: "x64.short-jump-range"
        case .relocationOutOfRange: "x64.relocation-range"
        case .destinationTooSmall: "x64.destination-size"
        case .misalignedDestination: "x64.destination-alignment"
        }
    }

    /// A message naming the offsets and addresses involved.
    public var description: String {
        switch self {
        case .unboundLabel(let label, let at):
            "\(code): label \(label), referenced at code offset \(at), was never bound"
        case .shortJumpOutOfRange(let label, let at, let distance):
            "\(code): short jump at code offset \(at) to label \(label) spans \(distance) bytes"
        case .relocationOutOfRange(let offset, let target, let address):
            "\(code): reference at code offset \(offset) to \(target) is out of rel32 range from code at \(address)"
        case .destinationTooSmall(let needed, let available):
            "\(code): code needs \(needed) bytes, the destination has \(available)"
        case .misalignedDestination(let address, let alignment):
            "\(code): code at \(address) is not \(alignment)-byte aligned"
        }
    }
}
