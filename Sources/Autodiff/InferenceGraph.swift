/// A network as it is deployed: a list of inference operations on values, batch norm folded
/// into the convolutions and dead branches removed. Exporters (ONNX) write it; `run` executes it
/// with the engine's own kernels, so both run the same graph.
public struct InferenceGraph: Sendable {
    /// One operation of a node; its inputs are values of earlier nodes.
    public enum Operation: Sendable {
        /// Convolution, OIHW weight, with a per-output-channel bias.
        case convolution(weight: Tensor, bias: Tensor, stride: Int, padding: Int)
        /// Depthwise convolution, weight [C, 1, k, k] with odd k, "same" padding (k / 2).
        case depthwiseConvolution(weight: Tensor, bias: Tensor, stride: Int)
        case relu
        /// x · relu6(x + 3) / 6.
        case hardSwish
        /// relu6(x + 3) / 6.
        case hardSigmoid
        /// NCHW x times a per-sample, per-channel factor [N, C] (the second input).
        case scaleChannels
        /// 3×3 window, stride 1, padding 1, averaging only the in-bounds cells.
        case averagePool3x3
        /// 2×2 window, stride 2 (odd trailing rows and columns are dropped).
        case averagePool2x2
        /// The sum of two or more values of one shape.
        case sum
        /// NCHW → [N, C].
        case globalAveragePool
        /// [N, in] → [N, out] with weight [out, in] and a bias (nil: none).
        case linear(weight: Tensor, bias: Tensor?)
        /// Per channel y = factor · x + offset: an inference batch norm that follows no convolution.
        case channelAffine(factor: Tensor, offset: Tensor)
        /// Channels `start..<start + count` of an NCHW value (the share of one edge of a convolution
        /// whose weights stack several edges').
        case channelSlice(start: Int, count: Int)
        /// A constant (a node whose inputs are all dead is a zero tensor).
        case constant(Tensor)
        /// Token ids [B, T] (as floats, each below the table's V) → rows [B·T, E] of the table [V, E].
        case embedding(table: Tensor)
        /// Each row [.., d] to zero mean and unit variance (+ epsilon), then · scale + shift.
        case layerNorm(scale: Tensor, shift: Tensor, epsilon: Float)
        /// x · sigmoid(x).
        case silu
        /// The elementwise product of two values of one shape.
        case product
        /// Causal self-attention of the rows q, k, v [B·T, H·D] (three inputs) of `batch`
        /// sequences: rotary embedding on the first `rotaryDimensions` of each head of q and k,
        /// softmax(q·kᵀ/√D) over the earlier positions, times v; → [B·T, H·D].
        case causalSelfAttention(batch: Int, heads: Int, rotaryDimensions: Int)
        /// One decoding step: the rows q, k, v [B, H·D] (three inputs) of each sequence's new token
        /// at position P attend to the P cached positions (`keys`, rotated already, and `values`,
        /// [B·P, H·D]) and to themselves; → [B, H·D].
        case cachedSelfAttention(heads: Int, rotaryDimensions: Int, keys: Tensor, values: Tensor)
    }

    public struct Node: Sendable {
        public var operation: Operation
        /// Value indices: 0 is the graph input, k the output of node k − 1.
        public var inputs: [Int]
        /// The operation's direct kernel on the graph's kernel path, where the operation has one.
        var direct: DirectKernel?
        /// An activation that its input's direct kernel already applied (`run` passes the value on).
        var appliedByInput = false
        /// A ReLU that the direct kernels of all its readers apply to their input: `run` skips it,
        /// and its readers read its input.
        var appliedByReaders = false
    }

    /// The input shape: [batch, channels, height, width] for images, [batch, tokens] for token ids.
    public let inputShape: [Int]
    public private(set) var nodes: [Node] = []
    /// The value that is the graph's output.
    public private(set) var output = 0

    /// The instruction set of the direct kernels and poolings `run` uses.
    public let kernels: KernelPath

    /// `kernels` must be one the CPU executes (`CPUKernels.runnable`).
    public init(inputShape: [Int], kernels: KernelPath = CPUKernels.path) {
        precondition(kernels <= CPUKernels.best, "InferenceGraph: kernel path \(kernels) on a CPU whose best is \(CPUKernels.best)")
        (self.inputShape, self.kernels) = (inputShape, kernels)
    }

    /// Appends a node and returns its value index.
    @discardableResult
    public mutating func add(_ operation: Operation, _ inputs: [Int]) -> Int {
        precondition(inputs.allSatisfy { $0 <= nodes.count }, "InferenceGraph: an input refers to a later node")
        nodes.append(Node(operation: operation, inputs: inputs, direct: DirectKernel(operation, path: kernels)))
        return nodes.count
    }

    /// Sets the output and removes every node it does not depend on (renumbering the rest).
    public mutating func finish(output value: Int) { finish(output: value, keeping: []) }

    /// `finish(output:)` that also keeps the values `kept` (for `run(_:keeping:)`), returning their new indices.
    @discardableResult
    public mutating func finish(output value: Int, keeping kept: [Int]) -> [Int] {
        var needed = Set([value] + kept)
        for k in stride(from: nodes.count - 1, through: 0, by: -1) where needed.contains(k + 1) {
            needed.formUnion(nodes[k].inputs)
        }
        let keptValues = kept
        var renumbered = [0: 0]
        var kept: [Node] = []
        for (k, node) in nodes.enumerated() where needed.contains(k + 1) {
            var renumberedNode = node
            renumberedNode.inputs = node.inputs.map { renumbered[$0]! }
            kept.append(renumberedNode)
            renumbered[k + 1] = kept.count
        }
        nodes = kept
        output = renumbered[value]!
        fuseActivations()
        fuseInputReLUs()
        return keptValues.map { renumbered[$0]! }
    }

    /// Lets the direct kernel of a convolution apply the ReLU or h-swish that alone reads its
    /// output: one pass over the activations fewer.
    private mutating func fuseActivations() {
        var readers = [Int](repeating: 0, count: nodes.count + 1)
        for node in nodes { for v in node.inputs { readers[v] += 1 } }
        for k in nodes.indices {
            guard let activation = FusedActivation(nodes[k].operation), let v = nodes[k].inputs.first, v > 0,
                  readers[v] == 1, let kernel = nodes[v - 1].direct else { continue }
            nodes[v - 1].direct = kernel.followed(by: activation)
            nodes[k].appliedByInput = true
        }
    }

    /// Lets the direct convolutions that are the only readers of a ReLU (not the graph's output,
    /// not already applied by its input's kernel) apply it as they read its input: one pass and
    /// one value fewer. The graph's nodes and inputs stay as they are (exporters write them).
    private mutating func fuseInputReLUs() {
        var readers = [[Int]](repeating: [], count: nodes.count + 1)
        for (k, node) in nodes.enumerated() { for v in node.inputs { readers[v].append(k) } }
        for k in nodes.indices {
            guard case .relu = nodes[k].operation, !nodes[k].appliedByInput, k + 1 != output, !readers[k + 1].isEmpty,
                  readers[k + 1].allSatisfy({ nodes[$0].inputs == [k + 1] && nodes[$0].direct?.readingThroughReLU() != nil }) else { continue }
            for r in readers[k + 1] { nodes[r].direct = nodes[r].direct?.readingThroughReLU() }
            nodes[k].appliedByReaders = true
        }
    }

    /// The value `run` reads for value v: a ReLU's input where its readers apply it.
    private func runSource(_ v: Int) -> Int { v > 0 && nodes[v - 1].appliedByReaders ? nodes[v - 1].inputs[0] : v }

    /// The shape of every value (0: the input, k: node k − 1's output).
    public var valueShapes: [[Int]] {
        var shapes = [inputShape]
        for node in nodes {
            let x = shapes[node.inputs.first ?? 0]
            switch node.operation {
            case .convolution(let weight, _, let stride, let padding):
                shapes.append([x[0], weight.shape[0]] + (2...3).map { (x[$0] + 2 * padding - weight.shape[$0]) / stride + 1 })
            case .depthwiseConvolution(_, _, let stride): shapes.append([x[0], x[1], (x[2] - 1) / stride + 1, (x[3] - 1) / stride + 1])
            case .relu, .hardSwish, .hardSigmoid, .scaleChannels, .averagePool3x3, .sum, .channelAffine, .layerNorm, .silu, .product,
                 .causalSelfAttention, .cachedSelfAttention: shapes.append(x)
            case .embedding(let table): shapes.append([x[0] * x[1], table.shape[1]])
            case .averagePool2x2: shapes.append([x[0], x[1], x[2] / 2, x[3] / 2])
            case .globalAveragePool: shapes.append([x[0], x[1]])
            case .linear(let weight, _): shapes.append([x[0], weight.shape[0]])
            case .channelSlice(_, let count): shapes.append([x[0], count, x[2], x[3]])
            case .constant(let value): shapes.append(value.shape)
            }
        }
        return shapes
    }

    /// Number of nodes of each kind, for summaries ("convolution": 12, …).
    public var operationCounts: [String: Int] {
        nodes.reduce(into: [:]) { counts, node in counts[node.operation.kind, default: 0] += 1 }
    }

    /// Runs the graph on `input` with the engine's kernels (convolutions and depthwise ones with
    /// the direct kernels of `kernels`, where it is not portable). A value is released after its last use, so no more activations
    /// are alive at once than in the network as built.
    public func run(_ input: Tensor) -> Tensor { run(input, keeping: []).output }

    /// `run` that also returns the values `kept` (indices as `finish(output:keeping:)` returned them).
    public func run(_ input: Tensor, keeping kept: [Int]) -> (output: Tensor, kept: [Tensor]) {
        precondition(input.shape == inputShape, "InferenceGraph: input \(input.shape), expected \(inputShape)")
        var lastUse = [Int](repeating: -1, count: nodes.count + 1)
        for (k, node) in nodes.enumerated() where !node.appliedByReaders { for v in node.inputs { lastUse[runSource(v)] = k } }
        for v in kept { lastUse[v] = -2 }   // never released
        var values: [Tensor?] = [input]
        values.reserveCapacity(nodes.count + 1)
        for (k, node) in nodes.enumerated() {
            if node.appliedByReaders { values.append(nil); continue }
            let sources = node.inputs.map(runSource)
            let x = sources.map { values[$0]! }
            for v in sources where lastUse[v] == k && v != output { values[v] = nil }
            if node.appliedByInput { values.append(x[0]); continue }
            switch node.operation {
            case .convolution(let weight, let bias, let stride, let padding):
                values.append(node.direct.map { $0(x[0]) } ?? conv2d(x[0], weight: weight, bias: bias, stride: stride, padding: padding))
            case .depthwiseConvolution(let weight, let bias, let stride):
                values.append(node.direct.map { $0(x[0]) } ?? depthwiseConv2d(x[0], weight: weight, bias: bias, stride: stride))
            case .relu: values.append(Autodiff.relu(x[0]))
            case .hardSwish: values.append(Autodiff.hardSwish(x[0]))
            case .hardSigmoid: values.append(Autodiff.hardSigmoid(x[0]))
            case .scaleChannels: values.append(Autodiff.scaleChannels(x[0], by: x[1]))
            case .averagePool3x3: values.append(Autodiff.averagePool3x3(x[0], path: kernels))
            case .averagePool2x2: values.append(Autodiff.averagePool2x2(x[0]))
            case .sum: values.append(Tensor.elementwiseSum(x))
            case .globalAveragePool: values.append(directGlobalAveragePool(x[0], path: kernels))
            case .linear(let weight, let bias):
                values.append(x[0].shape[0] == 1 ? linearOfOneRow(x[0], weight: weight, bias: bias) : Autodiff.linear(x[0], weight: weight, bias: bias))
            case .channelAffine(let factor, let offset):
                values.append(batchNorm(x[0], statistics: RunningStatistics(channels: factor.count), scale: factor, shift: offset, epsilon: 0))
            case .channelSlice(let start, let count): values.append(sliceChannels(x[0], start..<(start + count)))
            case .constant(let value): values.append(value)
            case .embedding(let table): values.append(Autodiff.embedding(table, ids: x[0].scalars.map { Int($0) }))
            case .layerNorm(let scale, let shift, let epsilon): values.append(Autodiff.layerNorm(x[0], scale: scale, shift: shift, epsilon: epsilon))
            case .silu: values.append(Autodiff.silu(x[0]))
            case .product: values.append(Autodiff.multiply(x[0], x[1]))
            case .causalSelfAttention(let batch, let heads, let rotaryDimensions):
                values.append(Autodiff.causalSelfAttention(query: x[0], key: x[1], value: x[2], batch: batch, heads: heads,
                                                           rotaryDimensions: rotaryDimensions))
            case .cachedSelfAttention(let heads, let rotaryDimensions, let cachedKeys, let cachedValues):
                values.append(Autodiff.cachedSelfAttention(query: x[0], key: x[1], value: x[2], cachedKeys: cachedKeys, cachedValues: cachedValues,
                                                           heads: heads, rotaryDimensions: rotaryDimensions))
            }
        }
        return (values[output]!, kept.map { values[$0]! })
    }
}

extension InferenceGraph.Operation {
    /// The operation's name without its parameters.
    public var kind: String {
        switch self {
        case .convolution: "convolution"
        case .depthwiseConvolution: "depthwiseConvolution"
        case .relu: "relu"
        case .hardSwish: "hardSwish"
        case .hardSigmoid: "hardSigmoid"
        case .scaleChannels: "scaleChannels"
        case .averagePool3x3: "averagePool3x3"
        case .averagePool2x2: "averagePool2x2"
        case .sum: "sum"
        case .globalAveragePool: "globalAveragePool"
        case .linear: "linear"
        case .channelAffine: "channelAffine"
        case .channelSlice: "channelSlice"
        case .constant: "constant"
        case .embedding: "embedding"
        case .layerNorm: "layerNorm"
        case .silu: "silu"
        case .product: "product"
        case .causalSelfAttention: "causalSelfAttention"
        case .cachedSelfAttention: "cachedSelfAttention"
        }
    }
}

