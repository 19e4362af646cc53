#!/usr/bin/python3
"""Unit tests of the shipped graph networks (cimvp_frontend/zoo.py): output shape, MACs per
image against the architecture written out layer by layer, and the ONNX export (checked, only
operators `cimvp import` supports, input "image" with a dynamic batch). No training."""
import os
import sys
import tempfile
import unittest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from cimvp_frontend import zoo  # noqa: E402

torch.set_num_threads(1)


def conv(cout, cin, k, hw, groups=1):
    """MACs of a convolution producing cout x hw x hw."""
    return cout * (cin // groups) * k * k * hw * hw


# ResNet-20: stem at 28x28 (then max-pool to 14x14), stages at 14x14, 7x7, 4x4.
RESNET_MACS = (conv(16, 1, 3, 28)
               + 6 * conv(16, 16, 3, 14)
               + conv(32, 16, 3, 7) + conv(32, 16, 1, 7) + 5 * conv(32, 32, 3, 7)
               + conv(64, 32, 3, 4) + conv(64, 32, 1, 4) + 5 * conv(64, 64, 3, 4)
               + 64 * 10)


def inverted(cin, cout, t, hw_in, hw_out):
    hidden = cin * t
    expand = conv(hidden, cin, 1, hw_in) if t != 1 else 0
    return expand + conv(hidden, hidden, 3, hw_out, groups=hidden) + conv(cout, hidden, 1, hw_out)


# MobileNet-v2: stem at 28x28 (then max-pool to 14x14), blocks at 14x14, 7x7, 4x4.
MOBILENET_MACS = (conv(16, 1, 3, 28)
                  + inverted(16, 16, 1, 14, 14)
                  + inverted(16, 24, 6, 14, 7) + inverted(24, 24, 6, 7, 7)
                  + inverted(24, 32, 6, 7, 4) + inverted(32, 32, 6, 4, 4)
                  + inverted(32, 64, 6, 4, 4) + inverted(64, 64, 6, 4, 4)
                  + conv(256, 64, 1, 4) + 256 * 10)

EXPECTED_MACS = {"resnet": RESNET_MACS, "mobilenet": MOBILENET_MACS}


class ZooTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def build(self, key):
        torch.manual_seed(0)
        return zoo.NETWORKS[key][1]()

    def test_output_shape(self):
        for key in zoo.NETWORKS:
            with self.subTest(key):
                net = self.build(key).eval()
                with torch.no_grad():
                    self.assertEqual(tuple(net(torch.rand(3, 1, 28, 28)).shape), (3, 10))

    def test_macs(self):
        for key, expected in EXPECTED_MACS.items():
            with self.subTest(key):
                net = self.build(key)
                self.assertEqual(zoo.mac_count(net), expected)
                self.assertLessEqual(expected, 10_000_000)

    def test_structure(self):
        res = self.build("resnet")
        convs = [m for m in res.modules() if isinstance(m, nn.Conv2d)]
        # 19 3x3 convolutions (stem + 9 blocks x 2) + the fc: 20 weight layers; 2 projections.
        self.assertEqual(sum(m.kernel_size == (3, 3) for m in convs), 19)
        self.assertEqual(sum(m.kernel_size == (1, 1) for m in convs), 2)
        mob = self.build("mobilenet")
        blocks = [m for m in mob.modules() if isinstance(m, zoo.InvertedResidual)]
        self.assertGreaterEqual(len(blocks), 6)
        self.assertTrue(all(b.dw[0].groups == b.dw[0].in_channels for b in blocks))
        self.assertEqual(sum(b.residual for b in blocks), 4)  # 16-16, 24-24, 32-32, 64-64

    def test_scaled_feeds_pixels_over_255(self):
        net = self.build("resnet").eval()
        x = torch.randint(0, 256, (2, 1, 28, 28)).float()
        with torch.no_grad():
            torch.testing.assert_close(zoo.Scaled(net)(x), net(x / 255))

    def test_onnx_export_supported_ops(self):
        for key, (name, _) in zoo.NETWORKS.items():
            with self.subTest(key):
                net = self.build(key)
                path = os.path.join(self.tmp.name, name + ".onnx")
                ops = zoo.export_onnx(net, path)
                self.assertTrue(net.training, "export restores the training mode")
                self.assertTrue(set(ops) <= zoo.SUPPORTED_OPS, ops)
                m = onnx.load(path)
                onnx.checker.check_model(m)
                self.assertEqual(m.opset_import[0].version, 13)
                self.assertEqual({n.op_type for n in m.graph.node}, set(ops))
                self.assertNotIn("Constant", ops)
                self.assertNotIn("BatchNormalization", ops)  # eval mode: folded or inference-only
                self.assertIn("Conv", ops)
                self.assertIn("Add", ops)
                self.assertIn("GlobalAveragePool", ops)
                if key == "mobilenet":
                    self.assertIn("Clip", ops)
                    groups = [a.i for n in m.graph.node if n.op_type == "Conv"
                              for a in n.attribute if a.name == "group"]
                    self.assertEqual(sum(g > 1 for g in groups), 7)
                (inp,) = m.graph.input
                self.assertEqual(inp.name, "image")
                dims = inp.type.tensor_type.shape.dim
                self.assertTrue(dims[0].dim_param)  # the dynamic batch
                self.assertEqual([d.dim_value for d in dims[1:]], [1, 28, 28])
                self.assertEqual([o.name for o in m.graph.output], ["logits"])

    def test_export_refuses_unsupported_op(self):
        class Doubled(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 2, 3)

            def forward(self, x):
                return self.conv(x * 2.0).flatten(1)

        with self.assertRaisesRegex(ValueError, "Mul"):
            zoo.export_onnx(Doubled(), os.path.join(self.tmp.name, "doubled.onnx"))


if __name__ == "__main__":
    unittest.main()
