import Autodiff
import Foundation

/// Writes an `InferenceGraph` as an ONNX model (opset 13, IR version 7) with its weights as
/// initializers, the input named `input` and the output `logits`. Field numbers are those of
/// ONNX's `onnx.proto` (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
/// ValueInfoProto, TypeProto; https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
public enum ONNXModel {
    public static let opset = 13
    public static let irVersion = 7
    public static let inputName = "input", outputName = "logits"

    /// The model's bytes. `docString` is stored with the model (the architecture string, say).
    public static func encode(_ graph: InferenceGraph, graphName: String, docString: String) -> [UInt8] {
        var model = ProtobufWriter()
        model.int(1, irVersion)                                        // ir_version
        model.string(2, "modnas")                                      // producer_name
        model.string(3, "1")                                           // producer_version
        model.string(6, docString)                                     // doc_string
        model.message(7) { encodeGraph(graph, name: graphName, into: &$0) }   // graph
        model.message(8) { $0.int(2, opset) }                          // opset_import: default domain, version
        return model.bytes
    }

    /// Writes the model to `path` atomically.
    public static func write(_ graph: InferenceGraph, graphName: String, docString: String, to path: String) throws {
        try Data(encode(graph, graphName: graphName, docString: docString)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private static func encodeGraph(_ graph: InferenceGraph, name: String, into g: inout ProtobufWriter) {
        let shapes = graph.valueShapes
        func value(_ k: Int) -> String { k == 0 ? inputName : k == graph.output ? outputName : "v\(k)" }
        var initializers: [(String, Tensor)] = [], integerInitializers: [(String, [Int])] = []
        for (index, node) in graph.nodes.enumerated() {
            let k = index + 1, inputs = node.inputs.map(value), out = value(k)
            switch node.operation {
            case .convolution(let weight, let bias, let stride, let padding):
                initializers += [("w\(k)", weight), ("b\(k)", bias)]
                g.message(1) {
                    encodeNode(&$0, "Conv", inputs + ["w\(k)", "b\(k)"], out, attributes: [
                        .ints("kernel_shape", Array(weight.shape[2...])), .ints("strides", [stride, stride]),
                        .ints("pads", [padding, padding, padding, padding])])
                }
            case .depthwiseConvolution(let weight, let bias, let stride):
                initializers += [("w\(k)", weight), ("b\(k)", bias)]
                let kernel = weight.shape[2], p = kernel / 2
                g.message(1) {
                    encodeNode(&$0, "Conv", inputs + ["w\(k)", "b\(k)"], out, attributes: [
                        .ints("kernel_shape", [kernel, kernel]), .ints("strides", [stride, stride]), .ints("pads", [p, p, p, p]),
                        .int("group", weight.shape[0])])
                }
            case .relu: g.message(1) { encodeNode(&$0, "Relu", inputs, out) }
            case .hardSwish:
                g.message(1) { encodeNode(&$0, "HardSigmoid", inputs, out + "_gate", attributes: hardSigmoid) }
                g.message(1) { encodeNode(&$0, "Mul", inputs + [out + "_gate"], out) }
            case .hardSigmoid: g.message(1) { encodeNode(&$0, "HardSigmoid", inputs, out, attributes: hardSigmoid) }
            case .scaleChannels:
                integerInitializers.append(("u\(k)", [2, 3]))
                g.message(1) { encodeNode(&$0, "Unsqueeze", [inputs[1], "u\(k)"], out + "_nc11") }
                g.message(1) { encodeNode(&$0, "Mul", [inputs[0], out + "_nc11"], out) }
            case .averagePool3x3:
                g.message(1) {
                    encodeNode(&$0, "AveragePool", inputs, out, attributes: [.ints("kernel_shape", [3, 3]), .ints("strides", [1, 1]), .ints("pads", [1, 1, 1, 1]),
                                                                        .int("count_include_pad", 0)])
                }
            case .averagePool2x2:
                g.message(1) { encodeNode(&$0, "AveragePool", inputs, out, attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])]) }
            case .sum: g.message(1) { encodeNode(&$0, "Sum", inputs, out) }
            case .globalAveragePool:
                g.message(1) { encodeNode(&$0, "GlobalAveragePool", inputs, out + "_nchw") }
                g.message(1) { encodeNode(&$0, "Flatten", [out + "_nchw"], out, attributes: [.int("axis", 1)]) }
            case .linear(let weight, let bias):
                initializers.append(("w\(k)", weight))
                if let bias { initializers.append(("b\(k)", bias)) }
                g.message(1) { encodeNode(&$0, "Gemm", inputs + ["w\(k)"] + (bias == nil ? [] : ["b\(k)"]), out, attributes: [.int("transB", 1)]) }
            case .channelAffine(let factor, let offset):
                let c = factor.count
                initializers += [("f\(k)", Tensor(shape: [c, 1, 1], scalars: factor.scalars)), ("o\(k)", Tensor(shape: [c, 1, 1], scalars: offset.scalars))]
                g.message(1) { encodeNode(&$0, "Mul", inputs + ["f\(k)"], out + "_scaled") }
                g.message(1) { encodeNode(&$0, "Add", [out + "_scaled", "o\(k)"], out) }
            case .channelSlice(let start, let count):
                integerInitializers += [("s\(k)", [start]), ("e\(k)", [start + count]), ("a\(k)", [1])]
                g.message(1) { encodeNode(&$0, "Slice", inputs + ["s\(k)", "e\(k)", "a\(k)"], out) }
            case .constant(let tensor):
                initializers.append((out, tensor))
            case .embedding(let table):
                initializers.append(("w\(k)", table))
                integerInitializers.append(("r\(k)", [-1, table.shape[1]]))
                g.message(1) { encodeNode(&$0, "Cast", inputs, out + "_ids", attributes: [.int("to", 7)]) }   // INT64
                g.message(1) { encodeNode(&$0, "Gather", ["w\(k)", out + "_ids"], out + "_btd") }
                g.message(1) { encodeNode(&$0, "Reshape", [out + "_btd", "r\(k)"], out) }
            case .layerNorm(let scale, let shift, let epsilon):
                // Opset 13 has no LayerNormalization: the mean and variance over the last axis of the rows.
                initializers += [("g\(k)", scale), ("h\(k)", shift), ("eps\(k)", Tensor(shape: [1], scalars: [epsilon]))]
                let last = shapes[node.inputs[0]].count - 1
                for (op, ins, name, attributes) in [
                    ("ReduceMean", inputs, "_mean", [Attribute.ints("axes", [last]), .int("keepdims", 1)]),
                    ("Sub", inputs + [out + "_mean"], "_centred", []),
                    ("Mul", [out + "_centred", out + "_centred"], "_squared", []),
                    ("ReduceMean", [out + "_squared"], "_variance", [.ints("axes", [last]), .int("keepdims", 1)]),
                    ("Add", [out + "_variance", "eps\(k)"], "_shifted", []),
                    ("Sqrt", [out + "_shifted"], "_std", []),
                    ("Div", [out + "_centred", out + "_std"], "_normalized", []),
                    ("Mul", [out + "_normalized", "g\(k)"], "_scaled", []),
                ] as [(String, [String], String, [Attribute])] {
                    g.message(1) { encodeNode(&$0, op, ins, out + name, attributes: attributes) }
                }
                g.message(1) { encodeNode(&$0, "Add", [out + "_scaled", "h\(k)"], out) }
            case .silu:
                g.message(1) { encodeNode(&$0, "Sigmoid", inputs, out + "_gate") }
                g.message(1) { encodeNode(&$0, "Mul", inputs + [out + "_gate"], out) }
            case .product: g.message(1) { encodeNode(&$0, "Mul", inputs, out) }
            case .causalSelfAttention(let batch, let heads, let rotary):
                let (rows, width) = (shapes[node.inputs[0]][0], shapes[node.inputs[0]][1])
                let attention = AttentionONNX(name: out, batch: batch, length: rows / batch, heads: heads, headSize: width / heads, rotary: rotary)
                initializers += attention.constants
                integerInitializers += attention.integerConstants
                for step in attention.nodes(query: inputs[0], key: inputs[1], value: inputs[2], output: out) {
                    g.message(1) { encodeNode(&$0, step.op, step.inputs, step.output, attributes: step.attributes) }
                }
            case .cachedSelfAttention(let heads, let rotary, let keys, let values):
                let (batch, width) = (shapes[node.inputs[0]][0], shapes[node.inputs[0]][1])
                let attention = AttentionONNX(name: out, batch: batch, length: 1, heads: heads, headSize: width / heads, rotary: rotary,
                                              cache: (keys, values))
                initializers += attention.constants
                integerInitializers += attention.integerConstants
                for step in attention.nodes(query: inputs[0], key: inputs[1], value: inputs[2], output: out) {
                    g.message(1) { encodeNode(&$0, step.op, step.inputs, step.output, attributes: step.attributes) }
                }
            }
        }
        g.string(2, name)                                                           // name
        for (name, tensor) in initializers { g.message(5) { encodeTensor(&$0, name, tensor) } }   // initializer
        for (name, values) in integerInitializers { g.message(5) { encodeIntegers(&$0, name, values) } }
        g.message(11) { encodeValueInfo(&$0, inputName, shapes[0]) }                // input
        g.message(12) { encodeValueInfo(&$0, outputName, shapes[graph.output]) }    // output
    }

    /// An attribute of a node: a float (AttributeProto type FLOAT = 1, field f 2), an integer
    /// (INT = 2, field i 3) or a list of integers (INTS = 7, field ints 8).
    enum Attribute {
        case float(String, Float)
        case int(String, Int)
        case ints(String, [Int])
    }

    /// One ONNX node: operator, inputs, output and attributes.
    struct Step {
        var op: String
        var inputs: [String]
        var output: String
        var attributes: [Attribute] = []
    }

    /// relu6(x + 3) / 6 as ONNX's HardSigmoid: max(0, min(1, αx + β)) with α = 1/6, β = 1/2.
    static let hardSigmoid: [Attribute] = [.float("alpha", 1.0 / 6), .float("beta", 0.5)]

    /// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 (AttributeProto: name 1, type 20).
    private static func encodeNode(_ n: inout ProtobufWriter, _ op: String, _ inputs: [String], _ output: String,
                                   attributes: [Attribute] = []) {
        inputs.forEach { n.string(1, $0) }
        n.string(2, output)
        n.string(3, output + "_" + op)
        n.string(4, op)
        for attribute in attributes {
            n.message(5) { a in
                switch attribute {
                case .float(let name, let value):
                    a.string(1, name)
                    a.int(20, 1)
                    a.float(2, value)
                case .int(let name, let value):
                    a.string(1, name)
                    a.int(20, 2)
                    a.int(3, value)
                case .ints(let name, let values):
                    a.string(1, name)
                    a.int(20, 7)
                    a.ints(8, values)
                }
            }
        }
    }

    /// TensorProto: dims 1, data_type 2 (FLOAT = 1), name 8, raw_data 9 (little-endian IEEE 754).
    private static func encodeTensor(_ t: inout ProtobufWriter, _ name: String, _ tensor: Tensor) {
        t.ints(1, tensor.shape)
        t.int(2, 1)
        t.string(8, name)
        var raw: [UInt8] = []
        raw.reserveCapacity(4 * tensor.count)
        for x in tensor.scalars { withUnsafeBytes(of: x.bitPattern.littleEndian) { raw += $0 } }
        t.bytes(9, raw)
    }

    /// A 1-D INT64 (data_type 7) TensorProto, raw little-endian (Slice's starts, ends and axes).
    private static func encodeIntegers(_ t: inout ProtobufWriter, _ name: String, _ values: [Int]) {
        t.ints(1, [values.count])
        t.int(2, 7)
        t.string(8, name)
        var raw: [UInt8] = []
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { raw += $0 } }
        t.bytes(9, raw)
    }

    /// ValueInfoProto: name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1 (FLOAT), shape 2 →
    /// TensorShapeProto.dim 1 → Dimension.dim_value 1.
    private static func encodeValueInfo(_ v: inout ProtobufWriter, _ name: String, _ shape: [Int]) {
        v.string(1, name)
        v.message(2) { type in
            type.message(1) { tensor in
                tensor.int(1, 1)
                tensor.message(2) { s in shape.forEach { d in s.message(1) { $0.int(1, d) } } }
            }
        }
    }
}
