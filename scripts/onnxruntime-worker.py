#!/usr/bin/env python3
"""The ONNX Runtime worker of modnas-profile and modnas benchmark: one model at a time, timed in
this process, timings back over stdout. Started and stopped by the Swift side.

Protocol (one line per request and per reply, on stdin and stdout):
  load PATH        -> "ok INPUT_SHAPE" (comma-separated) or "error MESSAGE"
  time R W         -> W untimed runs, then R timed runs: "ms W1,W2,... cpu C1,C2,..." (wall and
                      this thread's CPU time per run, in milliseconds) or "error MESSAGE"
  quit             -> exits
The first line written is "ready onnxruntime VERSION threads N providers P".
"""
import argparse
import sys
import time

import numpy as np
import onnxruntime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    print(f"ready onnxruntime {onnxruntime.__version__} threads {args.threads} providers {'+'.join(providers)}", flush=True)
    session, feed = None, None
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "quit":
                break
            if words[0] == "load":
                session = onnxruntime.InferenceSession(line[len("load "):].strip(), options, providers=providers)
                spec = session.get_inputs()[0]
                shape = [int(d) for d in spec.shape]
                feed = {spec.name: np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)}
                print("ok " + ",".join(str(d) for d in shape), flush=True)
            elif words[0] == "time":
                if session is None:
                    raise RuntimeError("no model loaded")
                repeats, warmup = int(words[1]), int(words[2])
                for _ in range(warmup):
                    session.run(None, feed)
                wall, cpu = [], []
                for _ in range(repeats):
                    c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
                    session.run(None, feed)
                    t1, c1 = time.perf_counter_ns(), time.thread_time_ns()
                    wall.append((t1 - t0) / 1e6)
                    cpu.append((c1 - c0) / 1e6)
                print("ms " + ",".join(f"{w:.6f}" for w in wall) + " cpu " + ",".join(f"{c:.6f}" for c in cpu), flush=True)
            else:
                raise RuntimeError(f"unknown request {words[0]!r}")
        except Exception as error:
            print("error " + str(error).replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
