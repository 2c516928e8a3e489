import Foundation

/// A small self-contained SVG scatter/line plot: linear x, linear or log y.
public struct SVGPlot {
    public enum Mark { case circle, square, triangle, cross }

    public var width = 460.0, height = 320.0
    public var xLabel: String, yLabel: String
    public var logY = false
    var xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    var body: [String] = []
    var legend: [(String, String)] = []
    let margin = (left: 56.0, right: 12.0, top: 12.0, bottom: 42.0)

    public init(xLabel: String, yLabel: String, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, logY: Bool = false) {
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logY = logY
        let pad = (xRange.upperBound - xRange.lowerBound) * 0.03
        self.xRange = (xRange.lowerBound - pad)...(xRange.upperBound + pad + (pad == 0 ? 1 : 0))
        self.yRange = yRange.lowerBound == yRange.upperBound ? yRange.lowerBound...(yRange.upperBound + 1) : yRange
    }

    func px(_ x: Double) -> Double {
        margin.left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (width - margin.left - margin.right)
    }

    func py(_ y: Double) -> Double {
        let (lo, hi, v) = logY ? (log10(yRange.lowerBound), log10(yRange.upperBound), log10(max(y, yRange.lowerBound)))
                               : (yRange.lowerBound, yRange.upperBound, y)
        return height - margin.bottom - (v - lo) / (hi - lo) * (height - margin.top - margin.bottom)
    }

    /// A density cloud: the points binned on a grid, each cell shaded by its count.
    public mutating func cloud(_ points: [(Double, Double)], columns: Int = 90, rows: Int = 60, color: String = "#777") {
        var counts: [Int: Int] = [:]
        let cw = (width - margin.left - margin.right) / Double(columns), ch = (height - margin.top - margin.bottom) / Double(rows)
        for (x, y) in points {
            let c = Int((px(x) - margin.left) / cw), r = Int((py(y) - margin.top) / ch)
            guard (0..<columns).contains(c), (0..<rows).contains(r) else { continue }
            counts[r * columns + c, default: 0] += 1
        }
        let peak = log(Double(counts.values.max() ?? 1) + 1)
        for (cell, n) in counts.sorted(by: { $0.key < $1.key }) {
            let opacity = 0.08 + 0.5 * log(Double(n) + 1) / peak
            body.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\" fill-opacity=\"%.2f\"/>",
                               margin.left + Double(cell % columns) * cw, margin.top + Double(cell / columns) * ch, cw, ch, color as NSString, opacity))
        }
        legend.append(("all architectures (density)", color))
    }

    /// A staircase through the points sorted by x (a Pareto front).
    public mutating func staircase(_ points: [(Double, Double)], color: String, label: String) {
        let sorted = points.sorted { $0.0 < $1.0 }
        guard let first = sorted.first else { return }
        var d = String(format: "M%.1f %.1f", px(first.0), py(first.1))
        for (previous, p) in zip(sorted, sorted.dropFirst()) {
            d += String(format: " L%.1f %.1f L%.1f %.1f", px(p.0), py(previous.1), px(p.0), py(p.1))
        }
        body.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>")
        legend.append((label, color))
    }

    /// A polyline through the points in order (a curve over epochs).
    public mutating func line(_ points: [(Double, Double)], color: String, label: String) {
        guard !points.isEmpty else { return }
        let d = points.enumerated().map { String(format: "%@%.1f %.1f", ($0.offset == 0 ? "M" : "L") as NSString, px($0.element.0), py($0.element.1)) }.joined(separator: " ")
        body.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>")
        legend.append((label, color))
    }

    public mutating func scatter(_ points: [(Double, Double)], mark: Mark, color: String, label: String) {
        for (x, y) in points {
            let (cx, cy) = (px(x), py(y))
            switch mark {
            case .circle: body.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%@\"/>", cx, cy, color as NSString))
            case .square: body.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"6\" fill=\"none\" stroke=\"%@\"/>", cx - 3, cy - 3, color as NSString))
            case .triangle: body.append(String(format: "<path d=\"M%.1f %.1f L%.1f %.1f L%.1f %.1f Z\" fill=\"none\" stroke=\"%@\"/>", cx, cy - 4, cx - 4, cy + 3, cx + 4, cy + 3, color as NSString))
            case .cross: body.append(String(format: "<path d=\"M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f\" stroke=\"%@\"/>", cx - 3, cy - 3, cx + 3, cy + 3, cx - 3, cy + 3, cx + 3, cy - 3, color as NSString))
            }
        }
        legend.append((label, color))
    }

    func ticks(_ lo: Double, _ hi: Double, log: Bool) -> [Double] {
        if log {
            return [1, 2, 5, 10, 20, 50, 100].filter { $0 >= lo && $0 <= hi }
        }
        let raw = (hi - lo) / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        return stride(from: ceil(lo / step) * step, through: hi, by: step).map { $0 }
    }

    public func render() -> String {
        var s = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"10\">", width, height + 16 * Double((legend.count + 1) / 2))
        s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>", margin.left, margin.top,
                    width - margin.left - margin.right, height - margin.top - margin.bottom)
        for t in ticks(xRange.lowerBound, xRange.upperBound, log: false) {
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", px(t), height - margin.bottom + 13, String(format: "%g", t) as NSString)
        }
        for t in ticks(yRange.lowerBound, yRange.upperBound, log: logY) {
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", margin.left - 4, py(t) + 3, String(format: "%g", t) as NSString)
        }
        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", (margin.left + width - margin.right) / 2, height - 8, escapeHTML(xLabel) as NSString)
        s += String(format: "<text transform=\"translate(12 %.1f) rotate(-90)\" text-anchor=\"middle\">%@</text>", (margin.top + height - margin.bottom) / 2, escapeHTML(yLabel) as NSString)
        s += body.joined()
        for (k, (label, color)) in legend.enumerated() {
            let x = margin.left + Double(k % 2) * (width - margin.left) / 2, y = height + 4 + 16 * Double(k / 2)
            s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%@\"/><text x=\"%.1f\" y=\"%.1f\">%@</text>", x, y, color as NSString, x + 14, y + 9, escapeHTML(label) as NSString)
        }
        return s + "</svg>"
    }
}

/// Text safe inside HTML and SVG.
public func escapeHTML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
