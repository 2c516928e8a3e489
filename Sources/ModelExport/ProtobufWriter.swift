/// The Protocol Buffers wire format, as far as ONNX files need it: varints (wire type 0),
/// length-delimited bytes, strings and messages (wire type 2), floats (wire type 5). Fields are written in the order
/// of the calls; repeated fields are written one entry per field (unpacked), which every
/// parser accepts.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    /// The varint encoding of `value`: 7 bits per byte, least significant first, high bit set on
    /// all bytes but the last.
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        repeat {
            let low = UInt8(v & 0x7F)
            v >>= 7
            out.append(v == 0 ? low : low | 0x80)
        } while v != 0
        return out
    }

    private mutating func key(_ field: Int, wireType: UInt64) {
        bytes += Self.varint(UInt64(field) << 3 | wireType)
    }

    mutating func int(_ field: Int, _ value: Int) {
        key(field, wireType: 0)
        bytes += Self.varint(UInt64(bitPattern: Int64(value)))
    }

    mutating func ints(_ field: Int, _ values: [Int]) { values.forEach { int(field, $0) } }

    /// A float (wire type 5: 4 bytes, little-endian IEEE 754).
    mutating func float(_ field: Int, _ value: Float) {
        key(field, wireType: 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, wireType: 2)
        bytes += Self.varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }
}
