#!/usr/bin/python3
"""Fixes the weights of the benchmark suite's networks and exports them to every engine.

    /usr/bin/python3 bench/suite_export.py OUT_DIR [--relu6] [--nets resnet50,mobilenet_v2,...]

Run with Debian's PyTorch 1.13 (python3-torch). For every network of bench/suite_models.py:
  * weights: torch.manual_seed(SEED + index of the network); convolutions and Linear He-uniform
    (U(-sqrt(6/fan_in), +sqrt(6/fan_in)), fan_in = C/g * kh * kw), their biases U(-0.1, 0.1); BN gamma
    U(0.5, 1.5), beta U(-0.2, 0.2); the BN running statistics are then CALIBRATED (train-mode forward
    of 16 N(0, 1) images, cumulative average) so that every BN normalises what really reaches it, as in a
    trained network: the activations stay O(1) through 50 layers and the statistics are far from (0, 1);
  * OUT_DIR/<net>/weights.npz      the parameters under kata's names (bench/suite_models.py's rule)
  * OUT_DIR/<net>/state.pt         the PyTorch state_dict (the PyTorch engine loads it)
  * OUT_DIR/<net>/b<B>.onnx        ONNX, opset 13, static shapes (torch.onnx.export, constant folding)
  * OUT_DIR/<net>/b<B>_io.npz      x: the input (B, C, H, W) float32, N(0, 1) with a fixed seed;
                                   y: the reference output, the float64 forward of the same network and
                                   weights, rounded to float32. Every engine is checked against it.
  * OUT_DIR/manifest.json          versions, seeds, GFLOP per image, output statistics.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite_models  # noqa: E402
from suite import ROWS  # noqa: E402  (the rows the runner measures)

SEED = 1717


def fix_weights(model, shape, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                lim = (6.0 / fan_in) ** 0.5
                m.weight.uniform_(-lim, lim)
                if m.bias is not None:
                    m.bias.uniform_(-0.1, 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(2):
            model(torch.randn(8, *shape))
    model.eval()


def gflop_per_image(model, shape):
    """Multiply-adds x 2 of the convolutions and Linear layers for one image."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            total[0] += 2 * out.numel() * m.weight[0].numel()
        elif isinstance(m, nn.Linear):
            total[0] += 2 * out.numel() * m.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in hs:
        h.remove()
    return total[0] / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--relu6", action="store_true", help="MobileNetV2 with ReLU6 (kata needs ReLU6 for it)")
    ap.add_argument("--nets", default=",".join(dict.fromkeys(n for n, _ in ROWS)))
    a = ap.parse_args()
    nets = a.nets.split(",")
    manifest = {"torch": torch.__version__, "numpy": np.__version__, "opset": 13, "seed": SEED,
                "relu6": a.relu6, "networks": {}}
    for idx, name in enumerate(dict.fromkeys(n for n, _ in ROWS)):
        if name not in nets:
            continue
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        model, shape = suite_models.build(name, a.relu6)
        fix_weights(model, shape, SEED + idx)
        params = suite_models.to_kata(model)
        np.savez(os.path.join(d, "weights.npz.tmp.npz"), **params)
        os.replace(os.path.join(d, "weights.npz.tmp.npz"), os.path.join(d, "weights.npz"))
        torch.save(model.state_dict(), os.path.join(d, "state.pt"))
        info = {"gflop_per_image": gflop_per_image(model, shape), "parameters": len(params),
                "weights_mb": sum(v.nbytes for v in params.values()) / 1e6, "batches": {}}
        ref = suite_models.build(name, a.relu6)[0].double()
        ref.load_state_dict(model.state_dict())
        ref.eval()
        for net, batch in ROWS:
            if net != name:
                continue
            g = torch.Generator().manual_seed(SEED * 1000 + batch)
            x = torch.randn(batch, *shape, generator=g)
            with torch.no_grad():
                y = ref(x.double()).to(torch.float32)
                y32 = model(x)
            rel32 = float(torch.linalg.norm(y32 - y) / torch.linalg.norm(y))
            np.savez(os.path.join(d, f"b{batch}_io.npz"), x=x.numpy(), y=y.numpy())
            onnx_path = os.path.join(d, f"b{batch}.onnx")
            torch.onnx.export(model, x, onnx_path + ".tmp", opset_version=13, input_names=["x"],
                              output_names=["y"], do_constant_folding=True)
            os.replace(onnx_path + ".tmp", onnx_path)
            info["batches"][batch] = {"y_std": float(y.std()), "y_absmax": float(y.abs().max()),
                                      "torch_f32_normwise_error": rel32}
            print(f"{name} b{batch}: {info['gflop_per_image']:.3f} GFLOP/image, output std {float(y.std()):.3g}, "
                  f"PyTorch float32 vs float64 normwise {rel32:.2e}", flush=True)
        manifest["networks"][name] = info
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
