import SpaceCore

extension ArchitectureEncoding {
    /// NB201: the 30 one-hot entries; the count of each of the 5 operations; the number of live
    /// (non-`none`) inputs of nodes 1, 2 and 3; and the convolution cost in 1×1-conv units
    /// (9 per 3×3 conv, 1 per 1×1 conv).
    public static let nb201: ArchitectureEncoding = {
        let ops = NB201Architecture.operationCount
        return ArchitectureEncoding(name: "nb201-onehot30+structure9", space: .nb201, inputs: 30, features: 39) { set in
            for (e, edge) in NB201Architecture.edges.enumerated() {
                for o in 0..<ops {
                    let column = e * ops + o
                    set(30 + o, column, 1)
                    if o != NB201Operation.none.rawValue { set(35 + edge.target - 1, column, 1) }
                }
                set(38, e * ops + NB201Operation.conv3x3.rawValue, 9)
                set(38, e * ops + NB201Operation.conv1x1.rawValue, 1)
            }
        }
    }()
}
