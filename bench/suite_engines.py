"""The benchmark suite's other engines: one long-lived worker process per engine and row.

    PYTHON bench/suite_engines.py ENGINE MODEL_DIR BATCH TOLERANCE

ENGINE (each in its own process, started by bench/suite.py):
  onnxruntime  InferenceSession on MODEL_DIR/b<BATCH>.onnx, CPUExecutionProvider, all graph
               optimisations (ORT_ENABLE_ALL), intra_op_num_threads=2, inter_op 1, sequential
  openvino     Core.compile_model(MODEL_DIR/b<BATCH>.onnx, "CPU") with the LATENCY performance hint,
               inference precision f32 (OpenVINO picks bf16 by default on CPUs that have it) and
               2 inference threads; one infer request
  torch        the PyTorch twin (bench/suite_models.py) with MODEL_DIR/state.pt, eval, traced and
               torch.jit.optimize_for_inference (BN folded, oneDNN), torch.set_num_threads(2), no_grad
The ONNX engines run under the suite's virtual environment, torch under Debian's /usr/bin/python3.

    PYTHON bench/suite_engines.py onnxruntime-profile MODEL_DIR BATCH PASSES

prints onnxruntime's own per-node profile (SessionOptions.enable_profiling, same settings as above)
summed per kind of layer, named like kata's profile (bench/profile_report.hpp): convolutions by kernel
size, depthwise / grouped, few input channels (the stride is not in onnxruntime's record). Fused nodes
count under the kind onnxruntime ran them as (a Conv with a fused Add/ReLU is a Conv).

The worker speaks the protocol of bench/suite_worker.cpp (kata's side):
  it first runs MODEL_DIR/b<BATCH>_io.npz's input x and compares its output with y (the float64
  reference): normwise relative error above TOLERANCE prints FAIL and exits with status 2; otherwise
  it warms up and prints "ready <normwise error> <max abs error>";
  then per stdin line: "<reps>" -> median milliseconds of <reps> calls, each timed with
  time.perf_counter around the engine's Python call (binding overhead included); "rss" -> VmHWM and
  VmRSS of this process in kB.
"""
import os
import statistics
import sys
import time

import numpy as np


def resident_kb():
    hwm = rss = -1
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return hwm, rss


def onnxruntime_engine(model_dir, batch, x):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(os.path.join(model_dir, f"b{batch}.onnx"), so, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x}
    return lambda: sess.run(None, feed)[0]


def openvino_engine(model_dir, batch, x):
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints

    core = ov.Core()
    model = core.read_model(os.path.join(model_dir, f"b{batch}.onnx"))
    compiled = core.compile_model(model, "CPU", {
        hints.performance_mode: hints.PerformanceMode.LATENCY,
        hints.inference_precision: ov.Type.f32,
        props.inference_num_threads: 2,
    })
    got = compiled.get_property(hints.inference_precision)
    if got != ov.Type.f32:
        print(f"FAIL OpenVINO inference precision is {got}, not f32", file=sys.stderr)
        sys.exit(2)
    req = compiled.create_infer_request()

    def run():
        req.infer({0: x})
        return req.get_output_tensor(0).data
    return run


def torch_engine(model_dir, batch, x):
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import suite_models

    torch.set_num_threads(2)
    net = os.path.basename(os.path.normpath(model_dir))
    relu6 = os.environ.get("KATA_BENCH_RELU6", "0") == "1"
    model, _ = suite_models.build(net, relu6)
    model.load_state_dict(torch.load(os.path.join(model_dir, "state.pt")))
    model.eval()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        m = torch.jit.optimize_for_inference(torch.jit.trace(model, xt))

    def run():
        with torch.no_grad():
            return m(xt).numpy()
    return run


def onnxruntime_profile(model_dir, batch, passes):
    import json
    import tempfile
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    tmp = tempfile.mkdtemp()
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tmp, "ort")
    sess = ort.InferenceSession(os.path.join(model_dir, f"b{batch}.onnx"), so, providers=["CPUExecutionProvider"])
    x = np.load(os.path.join(model_dir, f"b{batch}_io.npz"))["x"]
    feed = {sess.get_inputs()[0].name: x}
    for _ in range(passes):
        sess.run(None, feed)
    with open(sess.end_profiling()) as f:
        events = json.load(f)
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    by_kind = {}
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        a = e["args"]
        kind = a.get("op_name", "?")
        shapes = [next(iter(s.values())) for s in a.get("input_type_shape", [])]
        if kind in ("Conv", "FusedConv") and len(shapes) >= 2 and len(shapes[1]) == 4:
            xs, ws = shapes[0], shapes[1]
            cin = xs[1] if len(xs) == 4 and xs[1] > 0 else ws[1]
            kind += f" k{ws[2]}"
            if ws[1] != cin:
                kind += " depthwise" if ws[1] == 1 and ws[0] == cin else f" g{cin // ws[1]}"
            if cin <= 4:
                kind += f" c{cin}"
        by_kind[kind] = by_kind.get(kind, 0.0) + e["dur"] / 1e3 / passes
    total = sum(by_kind.values())
    print(f"onnxruntime per kind ({passes} passes; ms per pass):")
    for k in sorted(by_kind):
        print(f"  {k:<28} {by_kind[k]:8.4f} ms  {100 * by_kind[k] / total:5.1f} %")
    print(f"sum of kernels {total:.3f} ms per pass; model_run median "
          f"{statistics.median(e['dur'] for e in runs[-passes:]) / 1e3:.3f} ms")


ENGINES = {"onnxruntime": onnxruntime_engine, "openvino": openvino_engine, "torch": torch_engine}


def main():
    if sys.argv[1] == "onnxruntime-profile":
        onnxruntime_profile(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    engine, model_dir, batch, tol = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    io = np.load(os.path.join(model_dir, f"b{batch}_io.npz"))
    x, y = np.ascontiguousarray(io["x"], dtype=np.float32), io["y"].astype(np.float64)
    run = ENGINES[engine](model_dir, batch, x)
    out = np.asarray(run(), dtype=np.float64).reshape(y.shape)
    err = float(np.linalg.norm(out - y) / np.linalg.norm(y))
    maxabs = float(np.abs(out - y).max())
    if not err <= tol:
        print(f"FAIL {engine} output differs from the reference: normwise {err:.3e} > {tol:.1e} "
              f"(max abs {maxabs:.3e})", file=sys.stderr)
        sys.exit(2)
    for _ in range(2):
        run()
    print(f"ready {err:.3e} {maxabs:.3e}", flush=True)
    for line in sys.stdin:
        line = line.strip()
        if line == "rss":
            hwm, rss = resident_kb()
            print(f"{hwm} {rss}", flush=True)
            continue
        ts = []
        for _ in range(max(1, int(line))):
            t0 = time.perf_counter()
            run()
            ts.append((time.perf_counter() - t0) * 1e3)
        print(f"{statistics.median(ts):.5f}", flush=True)


if __name__ == "__main__":
    main()
