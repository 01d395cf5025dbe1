"""The benchmark suite's networks in PyTorch: the twins of kata's examples/models/*.hpp.

Imported by bench/suite_export.py (which fixes their weights and exports them to ONNX and to kata) and
by bench/suite_engines.py (the PyTorch engine). Plain torch (Debian's 1.13 or newer), no torchvision.

Every module tree mirrors kata's parameter scopes, so that one mechanical rule moves the weights
(kata_name / to_kata below):
    state_dict key "a.b.c.<leaf>"  ->  kata parameter "a/b/c/<LEAF>", where by module type
        Conv2d       weight -> W (same layout (O, C/g, kh, kw)),   bias -> b
        BatchNorm2d  weight -> gamma, bias -> beta, running_mean -> mean, running_var -> var,
                     each reshaped (C,) -> (1, C, 1, 1) (nnabla's parameter shape);
                     num_batches_tracked is dropped
        Linear       weight (out, in) -> W transposed to (in, out) (nnabla's Affine),  bias -> b
e.g. "layer1.0.conv2.bn.running_var" -> "layer1/0/conv2/bn/var", "fc.affine.weight" -> "fc/affine/W".
"""
import numpy as np
import torch
import torch.nn as nn

# The networks of the suite: name -> (constructor, input shape without the batch axis).
# Batches measured: bench/suite.py.


class ConvBN(nn.Module):
    """examples/models/conv_bn.hpp: conv k x k (no bias; pad dilation (k-1)/2), BN, optional ReLU."""

    def __init__(self, cin, cout, k, stride=1, dilation=1, groups=1, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, dilation * (k - 1) // 2, dilation, groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x):
        h = self.bn(self.conv(x))
        return torch.relu(h) if self.relu else h


class Affine(nn.Module):
    """Scope "fc" holding "affine" (kata's PF::affine names: fc/affine/W, fc/affine/b)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.affine = nn.Linear(cin, cout)

    def forward(self, x):
        return self.affine(torch.flatten(x, 1))


# ---- ResNet-50 (examples/models/resnet50.hpp) ------------------------------------------------------


class Bottleneck(nn.Module):
    def __init__(self, cin, width, cout, stride, dilation=1, groups=1):
        super().__init__()
        self.conv1 = ConvBN(cin, width, 1)
        self.conv2 = ConvBN(width, width, 3, stride, dilation, groups)
        self.conv3 = ConvBN(width, cout, 1, relu=False)
        self.downsample = ConvBN(cin, cout, 1, stride, relu=False) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        y = self.conv3(self.conv2(self.conv1(x)))
        return torch.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvBN(3, 64, 7, 2)
        self.pool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for li, (planes, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
            layer = []
            for b in range(blocks):
                layer.append(Bottleneck(cin, planes, planes * 4, 2 if (b == 0 and li > 0) else 1))
                cin = planes * 4
            setattr(self, f"layer{li + 1}", nn.Sequential(*layer))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = Affine(2048, 1000)

    def forward(self, x):
        h = self.pool(self.conv1(x))
        h = self.layer4(self.layer3(self.layer2(self.layer1(h))))
        return self.fc(self.gap(h))


# ---- MobileNetV2-like (examples/models/mobilenet_v2.hpp) ---------------------------------------------


class Act(nn.Module):
    """ReLU, or ReLU6 with relu6=True (torchvision's choice; kata has no ReLU6 yet: see
    examples/models/mobilenet_v2.hpp, "ReLU6 SWITCH")."""

    def __init__(self, relu6):
        super().__init__()
        self.relu6 = relu6

    def forward(self, x):
        return torch.clamp(x, 0.0, 6.0) if self.relu6 else torch.relu(x)


class InvertedResidual(nn.Module):
    def __init__(self, cin, t, cout, stride, relu6):
        super().__init__()
        hidden = cin * t
        self.expand = ConvBN(cin, hidden, 1, relu=False) if t != 1 else None
        self.dw = ConvBN(hidden, hidden, 3, stride, groups=hidden, relu=False)
        self.project = ConvBN(hidden, cout, 1, relu=False)
        self.act = Act(relu6)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.act(self.expand(x)) if self.expand is not None else x
        y = self.project(self.act(self.dw(y)))
        return y + x if self.residual else y


class MobileNetV2(nn.Module):
    def __init__(self, relu6=False):
        super().__init__()
        self.stem = ConvBN(3, 32, 3, 2, relu=False)
        self.act = Act(relu6)
        blocks, cin = [], 32
        for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                           (6, 160, 3, 2), (6, 320, 1, 1)]:
            for r in range(n):
                blocks.append(InvertedResidual(cin, t, c, s if r == 0 else 1, relu6))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvBN(320, 1280, 1, relu=False)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = Affine(1280, 1000)

    def forward(self, x):
        h = self.blocks(self.act(self.stem(x)))
        return self.fc(self.gap(self.act(self.head(h))))


# ---- LeNet-5 (examples/models/lenet.hpp: 28x28, with BN) ----------------------------------------------


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.bn1 = nn.BatchNorm2d(6, eps=1e-3)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(256, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        h = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        h = torch.max_pool2d(torch.relu(self.bn2(self.conv2(h))), 2)
        h = torch.relu(self.fc1(torch.flatten(h, 1)))
        return self.fc3(torch.relu(self.fc2(h)))


# ---- ResNeXt-style, grouped + dilated (examples/models/resnext.hpp) --------------------------------


class ResNeXtDilated(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvBN(3, 64, 7, 2)
        self.pool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for name, width, out, stride, dilation in [("layer1", 128, 256, 1, 1), ("layer2", 256, 512, 2, 1),
                                                   ("layer3", 256, 512, 1, 2)]:
            blocks = []
            for b in range(2):
                blocks.append(Bottleneck(cin, width, out, stride if b == 0 else 1, dilation, groups=32))
                cin = out
            setattr(self, name, nn.Sequential(*blocks))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = Affine(512, 1000)

    def forward(self, x):
        h = self.pool(self.conv1(x))
        return self.fc(self.gap(self.layer3(self.layer2(self.layer1(h)))))


NETWORKS = {
    "resnet50": (lambda relu6: ResNet50(), (3, 224, 224)),
    "mobilenet_v2": (lambda relu6: MobileNetV2(relu6), (3, 224, 224)),
    "lenet5": (lambda relu6: LeNet5(), (1, 28, 28)),
    "resnext_dilated": (lambda relu6: ResNeXtDilated(), (3, 224, 224)),
}


def build(name, relu6=False):
    make, shape = NETWORKS[name]
    return make(relu6).eval(), shape


# ---- weights ---------------------------------------------------------------------------------------


def to_kata(model):
    """{kata parameter name: float32 array} by the rule of this file's docstring."""
    out = {}
    for mname, m in model.named_modules():
        prefix = mname.replace(".", "/")
        if isinstance(m, nn.Conv2d):
            leaves = {"weight": ("W", None), "bias": ("b", None)}
        elif isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            leaves = {"weight": ("gamma", (1, c, 1, 1)), "bias": ("beta", (1, c, 1, 1)),
                      "running_mean": ("mean", (1, c, 1, 1)), "running_var": ("var", (1, c, 1, 1))}
        elif isinstance(m, nn.Linear):
            leaves = {"weight": ("W", "T"), "bias": ("b", None)}
        else:
            continue
        state = dict(m.named_parameters(recurse=False))
        state.update(dict(m.named_buffers(recurse=False)))
        for leaf, (kname, how) in leaves.items():
            t = state.get(leaf)
            if t is None:
                continue
            a = t.detach().to(torch.float32).numpy()
            if how == "T":
                a = a.T
            elif how is not None:
                a = a.reshape(how)
            out[f"{prefix}/{kname}"] = np.ascontiguousarray(a, dtype=np.float32)
    return out
