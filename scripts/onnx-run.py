#!/usr/bin/env python3
"""Checks ONNX models with the onnx checker and runs them with ONNX Runtime (CPU, one thread).

Usage: onnx-run.py --input FILE --shape 1,3,32,32 MODEL.onnx...
FILE holds the input as little-endian float32. For each model the output is written next to it
as MODEL.onnx.out (little-endian float32), and one line "MODEL ok" is printed. A model the checker
refuses, or that does not run, ends the script with its error and exit status 1.
"""
import argparse
import sys

import numpy as np
import onnx
import onnxruntime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--shape", required=True)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    shape = [int(d) for d in args.shape.split(",")]
    x = np.fromfile(args.input, dtype="<f4").reshape(shape)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    for path in args.models:
        try:
            onnx.checker.check_model(onnx.load(path), full_check=True)
            session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            (y,) = session.run(["logits"], {"input": x})
        except Exception as error:  # the checker's and the runtime's errors alike
            print(f"{path}: {error}", file=sys.stderr)
            sys.exit(1)
        y.astype("<f4").tofile(path + ".out")
        print(f"{path} ok")


if __name__ == "__main__":
    main()
