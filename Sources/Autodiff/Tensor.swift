/// A dense Float32 tensor in row-major order; images are NCHW.
///
/// A value type: copies share storage until one is written (Swift arrays' copy on write).
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    /// A tensor of the given shape holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor whose scalars are all written by `initialize` (no zero-fill first).
    public init(shape: [Int], initializingWith initialize: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            initialize(buffer)
            count = n
        }
    }

    /// A zero tensor of the given shape.
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A scalar tensor (shape `[]`).
    public init(scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    /// Number of scalars.
    public var count: Int { scalars.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same scalars under another shape with the same count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, scalars: scalars) }

    /// Sum of all scalars, accumulated in Double.
    public func sum() -> Double {
        scalars.withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) }
            return s
        }
    }

    /// Sum of squares of all scalars, accumulated in Double.
    public func squaredNorm() -> Double {
        scalars.withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) * Double(v) }
            return s
        }
    }

    /// Elementwise `self + other` for equal shapes.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "Tensor +: shapes \(lhs.shape) and \(rhs.shape) differ")
        var out = lhs
        out.add(rhs)
        return out
    }

    /// Adds `other` in place (`self += other`), for equal shapes.
    public mutating func add(_ other: Tensor, scaledBy factor: Float = 1) {
        precondition(shape == other.shape, "Tensor add: shapes \(shape) and \(other.shape) differ")
        let n = count
        scalars.withUnsafeMutableBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                if factor == 1 {
                    for i in 0..<n { a[i] += b[i] }
                } else {
                    for i in 0..<n { a[i] += factor * b[i] }
                }
            }
        }
    }

    /// The elementwise sum of two or more tensors of one shape, added left to right: one pass
    /// writes the first two terms' sum into a new tensor, each further term is added in place.
    public static func elementwiseSum(_ terms: [Tensor]) -> Tensor {
        precondition(terms.count >= 2 && terms.allSatisfy { $0.shape == terms[0].shape }, "Tensor elementwiseSum: needs two or more tensors of one shape")
        var total = terms[0].scalars.withUnsafeBufferPointer { a in
            terms[1].scalars.withUnsafeBufferPointer { b in
                Tensor(shape: terms[0].shape) { out in for i in 0..<out.count { out[i] = a[i] + b[i] } }
            }
        }
        for term in terms.dropFirst(2) { total.add(term) }
        return total
    }

    /// Every scalar multiplied by `factor`.
    public func scaled(by factor: Float) -> Tensor {
        var out = self
        out.scalars.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] *= factor }
        }
        return out
    }

    /// The largest absolute difference to `other` (same shape).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape)
        var m: Float = 0
        for i in 0..<count { m = max(m, abs(scalars[i] - other.scalars[i])) }
        return m
    }
}
