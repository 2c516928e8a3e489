import Autodiff
import SpaceCore

/// NB201 networks as deployed (`InferenceGraph`): batch norm folded into the convolutions, and in
/// every cell the dead branches removed. A node whose inputs are all `none` (or dead) is a zero
/// tensor: the edges it feeds add nothing, skip and pool edges of it are zero, and a convolution
/// of it is the constant of its folded bias. Nodes that do not reach the cell's output are dropped.
extension NB201Network: DeployableNetwork {
    public func inferenceGraph(batch: Int = 1) -> InferenceGraph {
        var g = InferenceGraph(inputShape: inputShape(batch: batch))
        var side = shape.resolution, width = shape.channels
        var h: Int? = g.add(Self.folded(stem, stemNorm), [0])
        for (s, cells) in stages.enumerated() {
            if s > 0 {
                h = reductions[s - 1].append(to: &g, GraphValue.materialize(h, [batch, width, side, side], in: &g))
                width *= 2
                side /= 2
            }
            for cell in cells { h = cell.append(to: &g, h, shape: [batch, width, side, side]) }
        }
        let (factor, offset) = inferenceAffine(statistics: lastNorm.statistics, scale: lastNorm.scale?.value,
                                               shift: lastNorm.shift?.value, epsilon: lastNorm.epsilon)
        let normed = g.add(.channelAffine(factor: Tensor(shape: [factor.count], scalars: factor), offset: Tensor(shape: [offset.count], scalars: offset)),
                           [GraphValue.materialize(h, [batch, width, side, side], in: &g)])
        let pooled = g.add(.globalAveragePool, [g.add(.relu, [normed])])
        let logits = g.add(.linear(weight: classifier.weight.value, bias: classifier.bias?.value ?? Tensor(zeros: [shape.classes])), [pooled])
        g.finish(output: logits)
        return g
    }

    /// A convolution and the inference batch norm after it, as one convolution.
    static func folded(_ conv: Conv2D, _ norm: BatchNorm2D?) -> InferenceGraph.Operation {
        let w = conv.weight.value
        let (weight, bias) = norm.map {
            foldBatchNorm(weight: w, bias: conv.bias?.value, statistics: $0.statistics, scale: $0.scale?.value, shift: $0.shift?.value,
                          epsilon: $0.epsilon)
        } ?? (w, conv.bias?.value ?? Tensor(zeros: [w.shape[0]]))
        return .convolution(weight: weight, bias: bias, stride: conv.stride, padding: conv.padding)
    }
}

/// Values of a graph under construction, nil for a dead (zero) value.
enum GraphValue {
    /// The value, or a zero constant of `shape` when it is dead.
    static func materialize(_ value: Int?, _ shape: [Int], in g: inout InferenceGraph) -> Int {
        value ?? g.add(.constant(Tensor(zeros: shape)), [])
    }

    /// The sum of the live terms (nil when none is live).
    static func sum(_ terms: [Int], in g: inout InferenceGraph) -> Int? {
        terms.count > 1 ? g.add(.sum, terms) : terms.first
    }
}

extension ConvBN {
    var foldedOperation: InferenceGraph.Operation { NB201Network.folded(conv, norm) }
}

extension NB201Cell {
    /// Appends the cell on `input` (nil: zero) of `shape`; returns its output (nil: zero).
    func append(to g: inout InferenceGraph, _ input: Int?, shape: [Int]) -> Int? {
        // A node is useful when an edge other than `none` leads from it to a useful node; the
        // output (node 3) is. Edges into a node that is not useful are never built.
        var useful = [false, false, false, true]
        for node in stride(from: 2, through: 0, by: -1) {
            useful[node] = NB201Architecture.edges.indices.contains { e in
                NB201Architecture.edges[e].source == node && architecture.operations[e] != .none && useful[NB201Architecture.edges[e].target]
            }
        }
        var nodes: [Int?] = [input]
        var incoming: [[Int]] = [[], [], [], []]
        for source in 0..<3 {
            if source > 0 { nodes.append(GraphValue.sum(incoming[source], in: &g)) }
            let x = nodes[source]
            let outgoing = NB201Architecture.edges.indices.filter {
                NB201Architecture.edges[$0].source == source && useful[NB201Architecture.edges[$0].target]
            }
            // Conv edges leaving one live node share its ReLU, and those of one kernel size one
            // convolution with their weights stacked, each edge taking its slice of the channels.
            if let x {
                var activated: Int?
                for kernel in [NB201Operation.conv1x1, .conv3x3] {
                    let edges = outgoing.filter { architecture.operations[$0] == kernel }
                    guard !edges.isEmpty else { continue }
                    let a = activated ?? g.add(.relu, [x])
                    activated = a
                    let folded = edges.map { convs[$0]!.foldedOperation }
                    guard edges.count > 1 else {
                        incoming[NB201Architecture.edges[edges[0]].target].append(g.add(folded[0], [a]))
                        continue
                    }
                    let stacked = g.add(Self.stack(folded), [a])
                    let c = shape[1]
                    for (k, e) in edges.enumerated() {
                        incoming[NB201Architecture.edges[e].target].append(g.add(.channelSlice(start: k * c, count: c), [stacked]))
                    }
                }
            }
            for e in outgoing {
                let target = NB201Architecture.edges[e].target
                switch architecture.operations[e] {
                case .none: break
                case .skipConnect: if let x { incoming[target].append(x) }
                case .averagePool3x3: if let x { incoming[target].append(g.add(.averagePool3x3, [x])) }
                case .conv1x1, .conv3x3:
                    // relu(0) = 0, so the convolution of a dead node is its bias in every pixel.
                    guard x == nil, case .convolution(_, let bias, _, _) = convs[e]!.foldedOperation else { continue }
                    incoming[target].append(g.add(.constant(Self.broadcast(bias, to: shape)), []))
                }
            }
        }
        return GraphValue.sum(incoming[3], in: &g)
    }

    /// Convolutions of one input, kernel, stride and padding as one, their weights and biases
    /// stacked along the output channels.
    static func stack(_ convolutions: [InferenceGraph.Operation]) -> InferenceGraph.Operation {
        var weights: [Tensor] = [], biases: [Float] = [], geometry = (stride: 1, padding: 0)
        for case .convolution(let w, let b, let stride, let padding) in convolutions {
            weights.append(w)
            biases += b.scalars
            geometry = (stride, padding)
        }
        return .convolution(weight: concatenateRows(weights), bias: Tensor(shape: [biases.count], scalars: biases),
                            stride: geometry.stride, padding: geometry.padding)
    }

    /// A per-channel value in every pixel of `shape` [N, C, H, W].
    static func broadcast(_ perChannel: Tensor, to shape: [Int]) -> Tensor {
        let plane = shape[2] * shape[3], c = shape[1]
        var t = Tensor(zeros: shape)
        for n in 0..<shape[0] {
            for ch in 0..<c {
                let base = (n * c + ch) * plane
                for i in 0..<plane { t.scalars[base + i] = perChannel.scalars[ch] }
            }
        }
        return t
    }
}

extension ResidualReduction {
    func append(to g: inout InferenceGraph, _ x: Int) -> Int {
        let h = g.add(second.foldedOperation, [g.add(.relu, [g.add(first.foldedOperation, [g.add(.relu, [x])])])])
        let shortcutValue = g.add(NB201Network.folded(shortcut, nil), [g.add(.averagePool2x2, [x])])
        return g.add(.sum, [h, shortcutValue])
    }
}
