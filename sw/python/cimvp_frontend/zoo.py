"""Deeper float networks for Fashion-MNIST, shipped as ONNX graphs (models/README.md):
a ResNet-20-style network and a MobileNet-v2-style network.

Both take the image scaled to [0, 1] (pixels / 255) as input: the scaling is done outside the
network, so an exported graph holds only operators that `cimvp import` supports (Conv, Gemm,
BatchNormalization, Relu, Clip as ReLU6, MaxPool, GlobalAveragePool, Add, Flatten) and the
importer maps uint8 pixels with --input-scale 1/255. `Scaled` wraps a network for the training
loop of model.py, which feeds raw pixels 0..255."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# The operator types an exported graph may contain (those `cimvp import` supports).
SUPPORTED_OPS = frozenset({
    "Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "MaxPool", "AveragePool",
    "GlobalAveragePool", "Add", "Concat", "Flatten", "Reshape", "Identity", "Dropout"})


def conv_bn(cin, cout, k, stride=1, groups=1):
    """A k x k convolution (padding k // 2, no bias) and its batch norm."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the shortcut (identity, or 1x1 conv + BN where the shape
    changes), added, then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride)
        self.conv2 = conv_bn(cout, cout, 3)
        self.shortcut = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet20(nn.Module):
    """Stem: conv3x3 1->16 + BN + ReLU at 28x28, max-pool 2 -> 16x14x14. Three stages of three
    basic blocks, widths 16/32/64 at 14x14, 7x7, 4x4 (the first block of stages 2 and 3 has
    stride 2 and a 1x1 projection shortcut). Global average pool, fc 64->10. 19 conv layers + fc
    = 20 weight layers (projections not counted)."""

    def __init__(self, widths=(16, 32, 64), blocks=3, num_classes=10):
        super().__init__()
        self.stem = conv_bn(1, widths[0], 3)
        layers, cin = [], widths[0]
        for i, w in enumerate(widths):
            for b in range(blocks):
                layers.append(BasicBlock(cin, w, 2 if i > 0 and b == 0 else 1))
                cin = w
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 2)
        x = self.blocks(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class InvertedResidual(nn.Module):
    """1x1 expansion + BN + ReLU6 (absent when expand is 1), 3x3 depthwise + BN + ReLU6, 1x1
    linear projection + BN; the input is added when the stride is 1 and the channels are equal."""

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.expand = conv_bn(cin, hidden, 1) if expand != 1 else None
        self.dw = conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.project = conv_bn(hidden, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self.expand(x)) if self.expand is not None else x
        y = self.project(F.relu6(self.dw(y)))
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """Stem: conv3x3 1->16 + BN + ReLU6 at 28x28, max-pool 2 -> 16x14x14. Inverted residual
    blocks (expansion t, output channels c, repeats n, stride of the first s):
        t=1 c=16 n=1 s=1 (14x14), t=6 c=24 n=2 s=2 (7x7), t=6 c=32 n=2 s=2 (4x4),
        t=6 c=64 n=2 s=1 (4x4)
    then conv1x1 64->256 + BN + ReLU6, global average pool, fc 256->10."""

    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 64, 2, 1))

    def __init__(self, stem=16, last=256, num_classes=10, settings=SETTINGS):
        super().__init__()
        self.stem = conv_bn(1, stem, 3)
        layers, cin = [], stem
        for t, c, n, s in settings:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        self.blocks = nn.Sequential(*layers)
        self.head = conv_bn(cin, last, 1)
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x):
        x = self.blocks(F.max_pool2d(F.relu6(self.stem(x)), 2))
        x = F.relu6(self.head(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


NETWORKS = {"resnet": ("fmnist-resnet20", ResNet20), "mobilenet": ("fmnist-mobilenetv2", MobileNetV2)}


class Scaled(nn.Module):
    """Feeds a [0, 1]-input network raw pixels 0..255 (as model.train/evaluate do); the network
    itself, `net`, is what is exported."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x * (1.0 / 255.0))


def mac_count(net, shape=(1, 1, 28, 28)):
    """Multiply-accumulates of one image through every Conv2d and Linear (pooling, BN and adds
    not counted)."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            total[0] += out[0].numel() * (m.in_channels // m.groups) * kh * kw
        else:
            total[0] += m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(torch.zeros(shape))
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    return total[0]


def param_count(net):
    return sum(p.numel() for p in net.parameters())


def export_onnx(net, path, opset=13):
    """torch.onnx.export in eval mode (BN and Dropout as inference operators): input "image"
    [batch, 1, 28, 28] in [0, 1] with a dynamic batch dimension, output "logits" [batch, 10],
    constant folding. Constant nodes (e.g. the bounds of Clip) become initializers, so the graph
    holds operators only. Checked with onnx.checker; returns the sorted list of op types, and
    raises ValueError naming any that `cimvp import` does not support."""
    import onnx
    was_training = net.training
    net.eval()
    try:
        torch.onnx.export(net, torch.zeros(1, 1, 28, 28), path, opset_version=opset,
                          input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    finally:
        net.train(was_training)
    m = onnx.load(path)
    g = m.graph
    consts = [n for n in g.node if n.op_type == "Constant"]
    if consts:
        for n in consts:
            value = [a for a in n.attribute if a.name == "value"]
            if len(value) != 1:
                raise ValueError(f"{path}: node {n.name} (Constant) has no tensor 'value'")
            t = onnx.TensorProto()
            t.CopyFrom(value[0].t)
            t.name = n.output[0]
            g.initializer.append(t)
            g.node.remove(n)
        onnx.save(m, path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in g.node})
    bad = [op for op in ops if op not in SUPPORTED_OPS]
    if bad:
        raise ValueError(f"{path}: unsupported op types {bad}; expected only {sorted(SUPPORTED_OPS)}")
    return ops
