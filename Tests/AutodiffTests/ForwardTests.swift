import Testing
@testable import Autodiff

/// Forward values against direct definitions, optimisers, and the tape-free path.
@Suite struct ForwardTests {
    /// Direct convolution by its definition, in Double.
    func referenceConvolution(_ x: Tensor, _ w: Tensor, stride: Int, padding: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1
        var y = Tensor(zeros: [n, o, oh, ow])
        for b in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var s = 0.0
            for ic in 0..<c { for a in 0..<kh { for d in 0..<kw {
                let yy = i * stride - padding + a, xx = j * stride - padding + d
                if yy >= 0 && yy < h && xx >= 0 && xx < wd {
                    s += Double(x.scalars[((b * c + ic) * h + yy) * wd + xx]) * Double(w.scalars[((oc * c + ic) * kh + a) * kw + d])
                }
            }}}
            y.scalars[((b * o + oc) * oh + i) * ow + j] = Float(s)
        }}}}
        return y
    }

    @Test(arguments: [(3, 1, 1), (1, 1, 0), (3, 2, 1), (3, 1, 0), (4, 3, 2), (3, 1, 2)])
    func convolutionMatchesDefinition(kernel: Int, stride: Int, padding: Int) {
        var rng = SeededGenerator(seed: 9)
        let x = Tensor.uniform(shape: [3, 4, 7, 6], low: -1, high: 1, using: &rng)
        let w = Tensor.uniform(shape: [5, 4, kernel, kernel], low: -1, high: 1, using: &rng)
        let got = conv2d(x, weight: w, stride: stride, padding: padding)
        let want = referenceConvolution(x, w, stride: stride, padding: padding)
        #expect(got.shape == want.shape)
        #expect(got.maxAbsDifference(want) < 1e-4)
    }

    @Test func averagePool3x3ExcludesPadding() {
        let x = Tensor(shape: [1, 1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let y = averagePool3x3(x)
        // Corner (0,0) averages {1,2,4,5}; middle top (0,1) averages all six.
        #expect(abs(y.scalars[0] - 3) < 1e-6)
        #expect(abs(y.scalars[1] - 3.5) < 1e-6)
        #expect(abs(y.scalars[2] - 4) < 1e-6)
    }

    /// Every plane shape, 1×1 and one-row or one-column planes and rows longer than a 16-lane
    /// vector included, against the window mean computed cell by cell, and the kernel in use
    /// (AVX-512 where the CPU has it) bit for bit against the portable one.
    @Test(arguments: [(1, 1), (1, 5), (4, 1), (2, 2), (3, 7), (8, 8), (5, 17), (32, 32), (3, 33)])
    func averagePool3x3MatchesTheWindowMean(height: Int, width: Int) {
        var g = SeededGenerator(seed: 7)
        // Scaled by a non-dyadic factor: the generator's values have short mantissas, whose sums
        // are mostly exact in any order and would hide a change in the order of the additions.
        var x = Tensor.uniform(shape: [2, 3, height, width], low: -1, high: 1, using: &g)
        x.scalars = x.scalars.map { $0 * Float.pi / 3 }
        let y = averagePool3x3(x)
        var worst: Float = 0
        for p in 0..<6 {
            for i in 0..<height {
                for j in 0..<width {
                    var (sum, count): (Float, Float) = (0, 0)
                    for u in max(i - 1, 0)...min(i + 1, height - 1) {
                        for v in max(j - 1, 0)...min(j + 1, width - 1) { sum += x.scalars[(p * height + u) * width + v]; count += 1 }
                    }
                    worst = max(worst, abs(y.scalars[(p * height + i) * width + j] - sum / count))
                }
            }
        }
        #expect(worst < 1e-6, "\(height)×\(width): \(worst)")
        let differing = zip(y.scalars, portableAveragePool3x3(x).scalars).filter { $0 != $1 }.count
        #expect(differing == 0, "the kernel in use differs from the portable one in \(differing) cells at \(height)×\(width)")
    }

    @Test func linearOfOneRowIsLinear() {
        var g = SeededGenerator(seed: 9)
        let x = Tensor.uniform(shape: [1, 37], low: -1, high: 1, using: &g), w = Tensor.uniform(shape: [21, 37], low: -1, high: 1, using: &g)
        let b = Tensor.uniform(shape: [21], low: -1, high: 1, using: &g)
        #expect(linearOfOneRow(x, weight: w, bias: b).maxAbsDifference(linear(x, weight: w, bias: b)) < 1e-5)
        #expect(linearOfOneRow(x, weight: w, bias: nil).maxAbsDifference(linear(x, weight: w, bias: nil)) < 1e-5)
        #expect(linearOfOneRow(x, weight: w, bias: b).shape == [1, 21])
    }

    @Test func elementwiseSumAddsLeftToRightAndLeavesItsTermsAlone() {
        let a = Tensor(shape: [1, 3], scalars: [1, 2, 3]), b = Tensor(shape: [1, 3], scalars: [10, 20, 30])
        let c = Tensor(shape: [1, 3], scalars: [100, 200, 300])
        #expect(Tensor.elementwiseSum([a, b]).scalars == [11, 22, 33])
        #expect(Tensor.elementwiseSum([a, b, c]).scalars == [111, 222, 333])
        #expect(a.scalars == [1, 2, 3] && b.scalars == [10, 20, 30])
    }

    @Test func batchNormTrainingUpdatesRunningStatistics() {
        let x = Variable(Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 4]))
        var stats = RunningStatistics(channels: 1, momentum: 0.5)
        let y = batchNorm(x, statistics: &stats, scale: nil, shift: nil, training: true)
        #expect(abs(y.value.sum()) < 1e-5)
        #expect(abs(stats.mean[0] - 1.25) < 1e-6)                 // 0.5·0 + 0.5·2.5
        #expect(abs(stats.variance[0] - (0.5 + 0.5 * 5.0 / 3.0)) < 1e-5) // unbiased batch variance 5/3
    }

    @Test func softmaxRowsSumToOne() {
        var rng = SeededGenerator(seed: 3)
        let p = softmax(Tensor.uniform(shape: [4, 7], low: -30, high: 30, using: &rng))
        for r in 0..<4 { #expect(abs(p.scalars[(r * 7)..<(r * 7 + 7)].reduce(0, +) - 1) < 1e-5) }
        #expect(abs(crossEntropy(Tensor(zeros: [2, 4]), labels: [0, 3]) - Float(log(4.0))) < 1e-6)
    }

    @Test func tapeFreePathRecordsNothing() {
        let w = Variable(Tensor(repeating: 1, shape: [2, 2]), requiresGrad: true)
        let x = Variable(Tensor(repeating: 1, shape: [1, 2]))
        let taped = linear(x, weight: w, bias: nil)
        #expect(taped.requiresGrad && !taped.parents.isEmpty)
        let free = withoutTape { linear(x, weight: w, bias: nil) }
        #expect(!free.requiresGrad && free.parents.isEmpty)
        #expect(free.value == taped.value)
    }

    @Test func seededGeneratorIsDeterministic() {
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5), c = SeededGenerator(seed: 6)
        let xs = (0..<5).map { _ in a.next() }
        #expect(xs == (0..<5).map { _ in b.next() })
        #expect(xs != (0..<5).map { _ in c.next() })
        var g = SeededGenerator(seed: 1)
        let normal = Tensor.normal(shape: [20000], using: &g)
        let mean = normal.sum() / 20000, variance = normal.squaredNorm() / 20000 - mean * mean
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }

    @Test func sgdWithMomentumAndWeightDecay() {
        let p = Variable(Tensor(shape: [1], scalars: [1]), requiresGrad: true)
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.5)
        p.grad = Tensor(shape: [1], scalars: [2])
        sgd.step()                      // v = 2 + 0.5 = 2.5; w = 1 − 0.25
        #expect(abs(p.value.scalars[0] - 0.75) < 1e-6)
        p.grad = Tensor(shape: [1], scalars: [2])
        sgd.step()                      // v = 0.9·2.5 + 2 + 0.375 = 4.625; w = 0.75 − 0.4625
        #expect(abs(p.value.scalars[0] - 0.2875) < 1e-6)
    }

    @Test func cosineFactorFallsFromOneToZero() {
        #expect(cosineFactor(step: 0, of: 10) == 1 && abs(cosineFactor(step: 10, of: 10)) < 1e-7)
        #expect(abs(cosineFactor(step: 5, of: 10) - 0.5) < 1e-6 && abs(cosineFactor(step: 2, of: 10) - 0.9045085) < 1e-6)
    }

    @Test func adamMinimisesQuadratic() {
        let p = Variable(Tensor(shape: [2], scalars: [3, -2]), requiresGrad: true)
        let adam = Adam(parameters: [p], learningRate: 0.1)
        p.grad = Tensor(shape: [2], scalars: [6, -4])
        adam.step()
        // First Adam step moves each coordinate by lr against the gradient's sign.
        #expect(abs(p.value.scalars[0] - 2.9) < 1e-4 && abs(p.value.scalars[1] + 1.9) < 1e-4)
        for _ in 0..<300 {
            zeroGradients([p])
            sum(multiply(p, p)).backward()
            adam.step()
        }
        #expect(p.value.squaredNorm() < 1e-2)
    }

    @Test func gradientClippingBoundsGlobalNorm() {
        let a = Variable(Tensor(zeros: [2]), requiresGrad: true), b = Variable(Tensor(zeros: [1]), requiresGrad: true)
        a.grad = Tensor(shape: [2], scalars: [3, 0])
        b.grad = Tensor(shape: [1], scalars: [4])
        let before = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(before - 5) < 1e-6)
        let after = (a.grad!.squaredNorm() + b.grad!.squaredNorm()).squareRoot()
        #expect(abs(after - 1) < 1e-4)
        #expect(clipGradientNorm([a, b], maxNorm: 10) < 1.0001)
    }

    @Test func trainingReducesLossOnSeparableData() {
        var rng = SeededGenerator(seed: 11)
        let conv = Conv2D(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, using: &rng)
        let bn = BatchNorm2D(channels: 4)
        let fc = Linear(inFeatures: 4, outFeatures: 2, using: &rng)
        // Class 0: bright top half, class 1: bright bottom half.
        var images = [Float](), labels = [Int]()
        for i in 0..<16 {
            let top = i % 2 == 0
            for y in 0..<4 { for _ in 0..<4 { images.append((y < 2) == top ? 1 : 0) } }
            labels.append(top ? 0 : 1)
        }
        let x = Variable(Tensor(shape: [16, 1, 4, 4], scalars: images))
        let params = conv.parameters + bn.parameters + fc.parameters
        let opt = SGD(parameters: params, learningRate: 0.1, momentum: 0.9)
        func step() -> Float {
            zeroGradients(params)
            let loss = crossEntropy(fc(globalAveragePool(relu(bn(conv(x), training: true)))), labels: labels)
            loss.backward()
            opt.step()
            return loss.value.scalars[0]
        }
        let first = step()
        var last = first
        for _ in 0..<60 { last = step() }
        #expect(last < 0.2 * first)
    }
}

import Foundation
