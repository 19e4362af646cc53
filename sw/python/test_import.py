#!/usr/bin/python3
"""ONNX import (docs/import.md): a PyTorch network with every supported operator exported and imported,
quantized graphs (QDQ and QLinear), the refusals of malformed or unsupported graphs, and a fuzz test.
Run by ctest as python.Import (and python.ImportFuzz: `test_import.py Fuzz`)."""
import contextlib
import io
import json
import os
import random
import shutil
import sys
import tempfile
import unittest
import warnings

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import cimvp_import  # noqa: E402
from cimvp_frontend import data, engine, model as fmodel, modelfile, onnx_import, swis_quant  # noqa: E402
from cimvp_frontend.modelfile import KIND_ADD, KIND_CONCAT, KIND_CONV, KIND_POOL, POOL_GLOBAL  # noqa: E402

torch.set_num_threads(1)
HAVE_FMNIST = os.path.exists(os.path.join(data.DATA_DIR, data.FILES["train"][0]))


class EveryOp(nn.Module):
    """Conv (stride, padding, groups, depthwise), BatchNormalization (2d and 1d), Relu, Clip (ReLU6),
    MaxPool, AveragePool, GlobalAveragePool, Add, Concat (maps and vectors), Flatten, Reshape, Gemm,
    MatMul; Identity and Dropout are inserted into the exported graph (export drops them)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.b2 = nn.BatchNorm2d(8)
        self.gc = nn.Conv2d(8, 8, 1, groups=2)
        self.c3 = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16 * 3 * 3, 32)
        self.b3 = nn.BatchNorm1d(32)
        self.w = nn.Parameter(torch.randn(48, 10) * 0.1)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)           # 8x14x14
        a = F.relu6(self.b2(self.dw(x)))                            # depthwise, ReLU6 = Relu + Clip
        b = F.relu(self.gc(x))                                      # grouped 1x1
        y = F.relu(a + b)                                           # residual Add + Relu
        y = torch.cat([y, x], 1)                                    # 16x14x14
        y = F.relu(self.c3(y))                                      # 16x7x7, stride 2
        p = F.avg_pool2d(y, 2, 2).reshape(-1, 16 * 3 * 3)          # AveragePool, Reshape
        p = F.relu(self.b3(self.fc(p)))                             # Gemm, BatchNormalization 1d
        g = torch.flatten(F.adaptive_avg_pool2d(y, 1), 1)           # GlobalAveragePool, Flatten
        return torch.matmul(torch.cat([p, g], 1), self.w)           # Concat of vectors, MatMul


class ResidualNet(nn.Module):
    """A small residual network without grouped convs (column-wise imports): conv, a basic block with an
    identity shortcut, a strided conv, global average and fc."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c3, self.b3 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c4, self.b4 = nn.Conv2d(8, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)           # 8x14x14
        y = F.relu(self.b3(self.c3(F.relu(self.b2(self.c2(x))))) + x)  # basic block
        y = F.relu(self.b4(self.c4(y)))                             # 32x7x7
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def export_residual(path, seed=0, images=6000):
    """ResidualNet trained one epoch on Fashion-MNIST pixels, exported to ONNX."""
    torch.manual_seed(seed)
    net = ResidualNet()
    xtr, ytr = data.load("train")
    fmodel.train(Pixels(net), xtr[:images], ytr[:images], epochs=1, lr=0.1, seed=seed, aug=False,
                 log=lambda *a: None)
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}})
    return net


class Pixels(nn.Module):
    """Trains a network on raw pixels as the importer maps them: x = pixel / 255 (--input-scale)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x * (1.0 / 255.0))


def export_every_op(path, net):
    """torch.onnx.export with the batch norms kept, then an Identity and a Dropout inserted."""
    net.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PRESERVE with constant folding: fine for a network in eval mode
        torch.onnx.export(net, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["image"],
                          output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=True, dynamic_axes={"image": {0: "batch"}})
    m = onnx.load(path)
    nodes = list(m.graph.node)
    first_relu = next(i for i, n in enumerate(nodes) if n.op_type == "Relu")
    mm = next(i for i, n in enumerate(nodes) if n.op_type == "MatMul")
    r = nodes[first_relu]
    ident = helper.make_node("Identity", [r.output[0]], ["relu_identity"], name="inserted_identity")
    for n in nodes[first_relu + 1:]:
        n.input[:] = ["relu_identity" if i == r.output[0] else i for i in n.input]
    mmn = nodes[mm]
    drop = helper.make_node("Dropout", [mmn.input[0]], ["dropped"], name="inserted_dropout")
    mmn.input[0] = "dropped"
    nodes.insert(mm, drop)
    nodes.insert(first_relu + 1, ident)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return m


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def quiet_run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cimvp_import.run(argv)
    return code, out.getvalue(), err.getvalue()


@unittest.skipUnless(HAVE_FMNIST, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
class ColumnwiseTest(unittest.TestCase):
    """--scheme columnwise on a residual graph: every conv and fc a ColLayer, the ADC in the fake-quant
    forward, the integer engine computing what it does."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.onnx_path = os.path.join(cls.tmp, "res.onnx")
        export_residual(cls.onnx_path)
        cls.xtr, cls.ytr = data.load("train")
        xte, yte = data.load("test")
        cls.xte, cls.yte = xte[:500], yte[:500]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def agreement(self, imp, model):
        fq = imp.fake_logits(self.xte)
        pred = engine.predict(engine.run(model, self.xte)).numpy()
        return float((fq.argmax(1).numpy() == pred).mean()), float((pred == self.yte).mean())

    def test_every_layer_carries_column_multipliers_and_adc_tables(self):
        imp = onnx_import.Importer(self.onnx_path, scheme="columnwise")
        m = imp.quantize(self.xtr[:300])
        self.assertEqual((m.scheme, m.cell_bits, m.dac_bits, m.adc_bits, m.frac_bits), ("columnwise", 2, 4, 4, 8))
        layers = [L for L in m.layers if isinstance(L, modelfile.IntLayer)]
        self.assertEqual(len(layers), 5)
        for L in layers:
            self.assertEqual(L.w_bits, 4)
            self.assertTrue(np.all((L.weights >= -8) & (L.weights <= 7)))
            self.assertIsNotNone(L.col_mult)
            self.assertIsNotNone(L.adc_step)
            self.assertEqual(L.adc_step.shape[0], L.col_mult.shape[0])   # one table per row tile
        self.assertEqual((layers[0].a_in_bits, layers[1].a_in_bits), (8, 4))
        self.assertEqual([L.rows_per_tile for L in layers], [9, 72, 72, 72, 64])
        self.assertEqual(modelfile.to_bytes(modelfile.from_bytes(modelfile.to_bytes(m))), modelfile.to_bytes(m))

    def test_fake_quant_forward_predicts_the_integer_engine_and_fine_tuning_helps(self):
        imp = onnx_import.Importer(self.onnx_path, scheme="columnwise")
        ptq = imp.quantize(self.xtr[:300])
        agree, before = self.agreement(imp, ptq)
        self.assertGreaterEqual(agree, 0.97)
        qat = imp.fine_tune(self.xtr[6000:9000], self.ytr[6000:9000], 1, lr=5e-3, log=lambda *a: None)
        agree, after = self.agreement(imp, qat)
        self.assertGreaterEqual(agree, 0.97)
        self.assertGreaterEqual(after, before - 0.01)
        print(f"\n  residual network column-wise: post-training {before:.2%}, fine-tuned 1 epoch on 3000 images "
              f"{after:.2%}", file=sys.stderr)

    def test_differential_variation_aware_fine_tuning_exports_offset_tables_the_engine_agrees_with(self):
        """--col-mapping differential --col-var-sigma 0.1: the fine-tuning's forward reads 2S columns per output
        with drawn cells (its weights end elsewhere than an offset fine-tuning's from the same start and seed),
        and the model file gets offset tables again, which the integer engine computes as the fake-quant does."""
        trained = {}
        for mapping, sigma in (("offset", 0.0), ("differential", 0.1)):
            imp = onnx_import.Importer(self.onnx_path, scheme="columnwise")
            imp.quantize(self.xtr[:300])
            seen = set()
            for L in imp.q.col.values():  # the columns each forward reads (the importer calls preact)
                def spy(q, s_x, L=L, preact=L.preact):
                    seen.add((L.mapping, L.cols, L.training, L.var_sigma))
                    return preact(q, s_x)
                L.preact = spy
            m = imp.fine_tune(self.xtr[6000:7500], self.ytr[6000:7500], 1, lr=5e-3, seed=3, log=lambda *a: None,
                              col_mapping=mapping, col_var_sigma=sigma)
            trained[mapping] = m
            self.assertEqual({c for c in seen if c[2]}, {(mapping, 2 if mapping == "offset" else 4, True, sigma)})
            for L in imp.q.col.values():
                self.assertEqual((L.mapping, L.var_sigma, L.training), ("offset", 0.0, False))
            agree, acc = self.agreement(imp, m)
            self.assertGreaterEqual(agree, 0.97, mapping)
            self.assertGreater(acc, 0.25, mapping)  # the small graph scores about 0.45; chance is 0.1
            for L in (L for L in m.layers if isinstance(L, modelfile.IntLayer)):
                self.assertEqual(L.adc_step.shape[2], 2, "offset slices: S = 2 tables per row tile and output")
        w = lambda m: np.concatenate([L.weights.ravel() for L in m.layers if isinstance(L, modelfile.IntLayer)])
        self.assertFalse(np.array_equal(w(trained["offset"]), w(trained["differential"])))

    def test_differential_or_variation_aware_fine_tuning_needs_the_columnwise_scheme(self):
        imp = onnx_import.Importer(self.onnx_path)
        imp.quantize(self.xtr[:100])
        with self.assertRaisesRegex(onnx_import.Refused, r"--col-mapping differential, --col-var-sigma 0: expected "
                                                         r"--scheme columnwise .*got int8"):
            imp.fine_tune(self.xtr[:100], self.ytr[:100], 1, col_mapping="differential")

    def test_columnwise_needs_calibration_images(self):
        with self.assertRaisesRegex(onnx_import.Refused, r"--scheme columnwise: expected calibration images"):
            onnx_import.Importer(self.onnx_path, scheme="columnwise").quantize(None)


@unittest.skipUnless(HAVE_FMNIST, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
class EveryOperatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        torch.manual_seed(0)
        net = EveryOp()
        xtr, ytr = data.load("train")
        fmodel.train(Pixels(net), xtr[:6000], ytr[:6000], epochs=1, lr=0.05, seed=0, aug=False,
                     log=lambda *a: None)
        net.eval()
        cls.net = net
        cls.onnx_path = os.path.join(cls.tmp, "every.onnx")
        cls.proto = export_every_op(cls.onnx_path, net)
        cls.xte, cls.yte = data.load("test")
        cls.xte, cls.yte = cls.xte[:500], cls.yte[:500]
        cls.out = os.path.join(cls.tmp, "every.cimvp")
        cls.code, cls.stdout, cls.stderr = quiet_run(
            [cls.onnx_path, "--out", cls.out, "--calib-count", "500", "--eval-count", "500",
             "--trace-out", os.path.join(cls.tmp, "every.trace")])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_the_graph_has_every_supported_operator(self):
        ops = {n.op_type for n in self.proto.graph.node}
        self.assertEqual(set(onnx_import.SUPPORTED_OPS) - ops, set())

    def test_the_float_interpreter_computes_what_pytorch_does(self):
        imp = onnx_import.Importer(self.onnx_path)
        with torch.no_grad():
            want = Pixels(self.net)(torch.as_tensor(self.xte[:100]).float())
            got = imp.float_logits(self.xte[:100])
        self.assertLess(float((want - got).abs().max()), 1e-3 * float(want.abs().max()))

    def test_import_writes_a_graph_whose_integer_predictions_follow_the_float_model(self):
        self.assertEqual(self.code, 0, self.stderr)
        m = modelfile.read(self.out)
        raw = read_bytes(self.out)
        self.assertEqual(int.from_bytes(raw[8:12], "little"), 3)
        kinds = [n.kind for n in m.layers]
        for k in (KIND_ADD, KIND_CONCAT, KIND_POOL):
            self.assertIn(k, kinds)
        groups = sorted(n.groups for n in m.layers if n.kind == KIND_CONV)
        self.assertEqual(groups[-2:], [2, 8])                       # the grouped and the depthwise conv
        self.assertTrue(any(n.kind == KIND_POOL and n.pool == POOL_GLOBAL for n in m.layers))
        self.assertEqual(modelfile.to_bytes(m), raw)
        logits = engine.run(m, self.xte)
        pred = engine.predict(logits).numpy()
        imp = onnx_import.Importer(self.onnx_path)
        fpred = imp.float_logits(self.xte).argmax(1).numpy()
        self.assertGreaterEqual(float((pred == fpred).mean()), 0.97)
        acc, facc = float((pred == self.yte).mean()), float((fpred == self.yte).mean())
        self.assertGreater(facc, 0.6)                                 # trained, not chance
        self.assertGreater(acc, facc - 0.02)
        self.assertIn("accuracy float", self.stdout)
        print(f"\n  every-operator network, 500 test images: float {facc:.2%}, integer {acc:.2%}, predictions agree "
              f"{float((pred == fpred).mean()):.2%}", file=sys.stderr)

    def test_integer_logits_and_the_file_are_deterministic(self):
        m = modelfile.read(self.out)
        d1 = engine.digests(engine.run(m, self.xte[:100]))
        d2 = engine.digests(engine.run(modelfile.read(self.out), self.xte[:100], batch=7))
        self.assertEqual(d1, d2)
        again = os.path.join(self.tmp, "again.cimvp")
        code, _, err = quiet_run([self.onnx_path, "--out", again, "--calib-count", "500", "--no-eval",
                                  "--name", "every"])
        self.assertEqual(code, 0, err)
        self.assertEqual(read_bytes(again), read_bytes(self.out))

    def test_expected_results_hold_the_engine_digest(self):
        with open(os.path.join(self.tmp, "every.expected.json")) as f:
            e = json.load(f)
        logits = engine.run(modelfile.read(self.out), self.xte)
        self.assertEqual(e["images"], 500)
        self.assertEqual(e["logits_fnv1a64"], engine.digests(logits)[0])
        self.assertEqual(e["first_logits"], logits[:32].tolist())

    def test_fine_tuning_trains_through_the_integer_rounding(self):
        """--epochs: the fake-quant forward the fine-tuning trains predicts what the integer engine computes,
        and the fine-tuned integer network is not worse than the post-training one."""
        xtr, ytr = data.load("train")
        imp = onnx_import.Importer(self.onnx_path)
        ptq = imp.quantize(xtr[:500])
        before = float((engine.predict(engine.run(ptq, self.xte)).numpy() == self.yte).mean())
        logs = []
        qat = imp.fine_tune(xtr[6000:9000], ytr[6000:9000], 1, lr=1e-3, log=logs.append)
        self.assertEqual(len(logs), 1)
        self.assertFalse(np.array_equal(qat.layers[0].weights, ptq.layers[0].weights) and
                         np.array_equal(qat.layers[0].bias, ptq.layers[0].bias))
        logits = engine.run(qat, self.xte)
        after = float((engine.predict(logits).numpy() == self.yte).mean())
        fq = imp.fake_logits(self.xte)
        self.assertGreaterEqual(float((fq.argmax(1) == engine.predict(logits)).double().mean()), 0.97)
        self.assertGreaterEqual(after, before - 0.01)
        print(f"\n  every-operator network fine-tuned 1 epoch on 3000 images: integer {before:.2%} -> {after:.2%}",
              file=sys.stderr)

    def test_swis_aware_fine_tuning_keeps_every_pe_layer_at_n_shifts(self):
        """--swis-shifts N: the weights of every groups-1 conv and the fc are those of the plain int8 import
        decomposed at N as the contract decomposes them (swis_quant), the grouped convs' stay int8; after
        fine-tuning through the decomposition every such layer is still exactly representable at N, and
        the fake-quant forward still predicts the integer engine. Weight truncation likewise."""
        xtr, ytr = data.load("train")
        plain = onnx_import.Importer(self.onnx_path).quantize(xtr[:500])

        def pe_layers(m):
            return [(i, L) for i, L in enumerate(m.layers) if isinstance(L, modelfile.IntLayer) and L.groups == 1]

        def at_n(L, n, variant):
            w = torch.from_numpy(L.weights.astype(np.int64))
            fc = L.kind != KIND_CONV
            w = w.reshape(L.out_c, -1) if fc else w.reshape(L.out_c, L.in_c, L.kernel, L.kernel)
            return swis_quant.constrain(w, n, variant, fc).reshape(L.weights.shape).numpy()

        for variant, n in (("swis", 2), ("wgt", 3)):
            imp = onnx_import.Importer(self.onnx_path, swis_shifts=n, swis_variant=variant)
            ptq = imp.quantize(xtr[:500])
            self.assertGreater(len(pe_layers(ptq)), 3)
            for i, L in pe_layers(ptq):
                want = at_n(plain.layers[i], n, variant)
                self.assertTrue(np.array_equal(L.weights, want), f"{variant} node {i}")
                self.assertFalse(np.array_equal(L.weights, plain.layers[i].weights), f"{variant} node {i}: unchanged")
            grouped = [i for i, L in enumerate(ptq.layers) if isinstance(L, modelfile.IntLayer) and L.groups > 1]
            self.assertEqual(len(grouped), 2)
            for i in grouped:
                self.assertTrue(np.array_equal(ptq.layers[i].weights, plain.layers[i].weights))
            before = float((engine.predict(engine.run(ptq, self.xte)).numpy() == self.yte).mean())
            qat = imp.fine_tune(xtr[6000:9000], ytr[6000:9000], 1, lr=1e-3, log=lambda *a: None)
            for i, L in pe_layers(qat):
                self.assertTrue(np.array_equal(at_n(L, n, variant), L.weights), f"{variant} node {i} after training")
            logits = engine.run(qat, self.xte)
            after = float((engine.predict(logits).numpy() == self.yte).mean())
            fq = imp.fake_logits(self.xte)
            self.assertGreaterEqual(float((fq.argmax(1) == engine.predict(logits)).double().mean()), 0.97)
            self.assertGreaterEqual(after, before - 0.01)
            print(f"\n  every-operator network, {variant} at N = {n}: post-training {before:.2%}, fine-tuned 1 epoch "
                  f"on 3000 images {after:.2%}", file=sys.stderr)

    def test_act_fine_tuning_reads_the_pe_layers_input_codes_at_their_top_n_bits(self):
        """--swis-variant act --swis-shifts N: the export is the plain int8 import (weights whole); the
        fake-quant forward reads every groups-1 conv's and the fc's input codes at their top N bits, so it
        predicts what the integer engine predicts with swis_quant.act_masks at N (what `cimvp swis` runs as
        Act: test_swis_quant), not without them, before and after fine-tuning through it. The windows of the
        tensors read so are chosen for the truncated codes: at N its post-training network beats the plain
        import's read at N bits. Act takes no groups."""
        xtr, ytr = data.load("train")
        plain = onnx_import.Importer(self.onnx_path).quantize(xtr[:500])
        imp = onnx_import.Importer(self.onnx_path, swis_shifts=3, swis_variant="act")
        ptq = imp.quantize(xtr[:500])
        for a, b in zip(plain.layers, ptq.layers):
            if isinstance(a, modelfile.IntLayer):
                self.assertTrue(np.array_equal(a.weights, b.weights))
        masks = swis_quant.act_masks(ptq, 3)  # node i is layer i: the training truncates what the engine masks
        self.assertEqual([i for i, m in enumerate(masks) if m != 0xFF],
                         [i for i, nd in enumerate(imp.q.nodes) if imp.q.swis_on(nd)])
        self.assertGreater(sum(m != 0xFF for m in masks), 3)

        def agreement(model):
            fq = imp.fake_logits(self.xte).argmax(1).numpy()
            masked = engine.predict(engine.run(model, self.xte, masks=masks)).numpy()
            whole = engine.predict(engine.run(model, self.xte)).numpy()
            return float((fq == masked).mean()), float((fq == whole).mean()), float((masked == self.yte).mean())

        agree, unmasked, before = agreement(ptq)
        self.assertGreaterEqual(agree, 0.97)
        self.assertLess(unmasked, agree - 0.05)
        plain_at_3 = engine.predict(engine.run(plain, self.xte, masks=swis_quant.act_masks(plain, 3))).numpy()
        self.assertGreater(before, float((plain_at_3 == self.yte).mean()))
        windows = {t: imp.g.tensors[t].quant for t in imp.q.act_read()}
        self.assertGreater(len(windows), 3)
        qat = imp.fine_tune(xtr[6000:9000], ytr[6000:9000], 1, lr=1e-3, log=lambda *a: None)
        self.assertEqual({t: imp.g.tensors[t].quant for t in windows}, windows)  # kept: learned ones diverge
        agree, _, after = agreement(qat)
        self.assertGreaterEqual(agree, 0.97)
        self.assertGreater(after, before)
        print(f"\n  every-operator network, act at N = 3: post-training {before:.2%}, fine-tuned 1 epoch on 3000 "
              f"images {after:.2%}", file=sys.stderr)
        with self.assertRaisesRegex(onnx_import.Refused, "--swis-group-size 8: expected"):
            onnx_import.Importer(self.onnx_path, swis_shifts=3, swis_variant="act", swis_group_size=8)

    def test_a_per_filter_schedule_constrains_each_filter_at_its_own_n(self):
        """swis_schedule (cimvp_import --swis-schedule): each PE node's filters at their own N, in the export and
        after fine-tuning; a schedule of another graph, or one with counts for a depthwise node, is refused."""
        xtr, ytr = data.load("train")
        plain = onnx_import.Importer(self.onnx_path).quantize(xtr[:500])
        rng = np.random.default_rng(3)
        on = [isinstance(L, modelfile.IntLayer) and L.groups == 1 for L in plain.layers]
        schedule = [[int(k) for k in rng.choice([2, 4], L.out_c)] if o else None for L, o in zip(plain.layers, on)]

        def at(L, fn):
            w = torch.from_numpy(L.weights.astype(np.int64))
            fc = L.kind != KIND_CONV
            w = w.reshape(L.out_c, -1) if fc else w.reshape(L.out_c, L.in_c, L.kernel, L.kernel)
            return swis_quant.constrain(w, fn, "swis", fc).reshape(L.weights.shape).numpy()

        imp = onnx_import.Importer(self.onnx_path, swis_schedule=schedule)
        ptq = imp.quantize(xtr[:500])
        for i, L in enumerate(ptq.layers):
            if on[i]:
                self.assertTrue(np.array_equal(L.weights, at(plain.layers[i], schedule[i])), i)
                self.assertFalse(np.array_equal(L.weights, at(plain.layers[i], 2)), i)  # not a uniform N = 2
            elif isinstance(L, modelfile.IntLayer):
                self.assertTrue(np.array_equal(L.weights, plain.layers[i].weights), i)
        qat = imp.fine_tune(xtr[6000:7000], ytr[6000:7000], 1, lr=1e-3, log=lambda *a: None)
        for i, L in enumerate(qat.layers):
            if on[i]:
                self.assertTrue(np.array_equal(at(L, schedule[i]), L.weights), f"node {i} after training")
        with self.assertRaisesRegex(onnx_import.Refused, r"--swis-schedule: expected a model of this graph"):
            onnx_import.Importer(self.onnx_path, swis_schedule=schedule[:-1])
        grouped = next(i for i, L in enumerate(plain.layers) if isinstance(L, modelfile.IntLayer) and L.groups > 1)
        bad = list(schedule)
        bad[grouped] = [2] * plain.layers[grouped].out_c
        with self.assertRaisesRegex(onnx_import.Refused, rf"node {grouped} .*expected no SWIS groups"):
            onnx_import.Importer(self.onnx_path, swis_schedule=bad)
        with self.assertRaisesRegex(onnx_import.Refused, r"--swis-schedule: expected --scheme int8, --swis-shifts 0"):
            onnx_import.Importer(self.onnx_path, swis_shifts=2, swis_schedule=schedule)
        code, _, err = quiet_run([self.onnx_path, "--out", os.path.join(self.tmp, "o.cimvp"), "--swis-schedule",
                                  os.path.join(HERE, "..", "..", "models", "fmnist-int8.cimvp"), "--no-eval"])
        self.assertEqual(code, 2)
        self.assertIn("expected layers stored as SWIS groups", err)

    def test_groups_of_m_constrain_every_pe_layer_in_groups_of_m(self):
        """--swis-group-size 8: every groups-1 conv and the fc decomposed at N in groups of 8 channels (the
        group-size study's M), not of 4; the grouped convs untouched; M needs --swis-shifts with swis or swisc."""
        xtr, _ = data.load("train")
        plain = onnx_import.Importer(self.onnx_path).quantize(xtr[:500])
        m8 = onnx_import.Importer(self.onnx_path, swis_shifts=2, swis_group_size=8).quantize(xtr[:500])
        checked = 0
        for P, L in zip(plain.layers, m8.layers):
            if not isinstance(L, modelfile.IntLayer):
                continue
            if L.groups > 1:
                self.assertTrue(np.array_equal(L.weights, P.weights))
                continue
            fc = L.kind != KIND_CONV
            shape = (L.out_c, -1) if fc else (L.out_c, L.in_c, L.kernel, L.kernel)
            w = torch.from_numpy(P.weights.astype(np.int64)).reshape(shape)
            at8 = swis_quant.constrain(w, 2, "swis", fc, group_size=8).reshape(L.weights.shape).numpy()
            self.assertTrue(np.array_equal(L.weights, at8))
            if L.in_c > 4:
                at4 = swis_quant.constrain(w, 2, "swis", fc).reshape(L.weights.shape).numpy()
                self.assertFalse(np.array_equal(L.weights, at4))
                checked += 1
        self.assertGreater(checked, 2)
        for kw, pattern in ((dict(swis_group_size=8), r"--swis-group-size 8: expected --swis-shifts N > 0 .*got "
                                                      r"--swis-shifts 0"),
                            (dict(swis_shifts=3, swis_variant="wgt", swis_group_size=2), r"--swis-variant wgt"),
                            (dict(swis_shifts=2, swis_group_size=17), r"--swis-group-size: expected an integer in "
                                                                      r"1..16, got 17")):
            with self.assertRaisesRegex(onnx_import.Refused, pattern):
                onnx_import.Importer(self.onnx_path, **kw)

    def test_swis_shifts_are_for_int8_and_known_variants(self):
        with self.assertRaisesRegex(onnx_import.Refused, r"--swis-shifts 2: expected --scheme int8 .*got bwma"):
            onnx_import.Importer(self.onnx_path, scheme="bwma", swis_shifts=2)
        with self.assertRaisesRegex(onnx_import.Refused, r"--swis-variant: expected one of swis, swisc, wgt, act, got 'dse'"):
            onnx_import.Importer(self.onnx_path, swis_shifts=2, swis_variant="dse")
        code, _, err = quiet_run([self.onnx_path, "--out", os.path.join(self.tmp, "o.cimvp"), "--swis-shifts", "9",
                                  "--no-eval"])
        self.assertEqual(code, 2)
        self.assertRegex(err, r"--swis-shifts: expected an integer in 0..8, got 9")

    def test_bwma_binarizes_the_inner_layers_and_trains_through_their_rounding(self):
        """--scheme bwma: binary weights on every ungrouped conv and fc except the one reading the image and
        the logits, 4-bit hidden tensors; the fake-quant forward the fine-tuning trains computes what the
        integer engine does, and fine-tuning recovers from the post-training collapse."""
        xtr, ytr = data.load("train")
        imp = onnx_import.Importer(self.onnx_path, scheme="bwma")
        ptq = imp.quantize(xtr[:500])
        convs = [L for L in ptq.layers if isinstance(L, modelfile.IntLayer)]
        self.assertEqual(convs[0].inputs, [0])
        self.assertEqual((convs[0].binary, convs[0].a_in_bits, convs[-1].binary), (0, 8, 0))
        inner = convs[1:-1]
        self.assertTrue(any(L.binary for L in inner))
        for L in inner:
            self.assertEqual(L.binary, int(L.groups == 1), f"node with {L.groups} groups")
            self.assertEqual((L.w_bits, L.a_in_bits), (1, 4) if L.binary else (8, 4))
            if L.binary:
                self.assertTrue(set(np.unique(L.weights)) <= {-1, 1})
                self.assertTrue(np.any(L.mult_x))                     # the beta * sum(x) term
        self.assertTrue(all(n.a_out_bits == 4 for n in ptq.layers[:-1]))
        self.assertEqual(ptq.scheme, "bwma")
        before = float((engine.predict(engine.run(ptq, self.xte)).numpy() == self.yte).mean())
        qat = imp.fine_tune(xtr[6000:12000], ytr[6000:12000], 2, lr=1e-2, log=lambda *a: None)
        logits = engine.run(qat, self.xte)
        after = float((engine.predict(logits).numpy() == self.yte).mean())
        fq = imp.fake_logits(self.xte)
        self.assertGreaterEqual(float((fq.argmax(1) == engine.predict(logits)).double().mean()), 0.97)
        self.assertGreater(after, before + 0.1)
        print(f"\n  every-operator network in BWMA: post-training {before:.2%}, fine-tuned 2 epochs on 6000 images "
              f"{after:.2%}", file=sys.stderr)

    def test_columnwise_refuses_grouped_convs_naming_the_node(self):
        with self.assertRaisesRegex(onnx_import.Refused, r"every.onnx: node '[^']+' \(Conv\): group: expected 1 with "
                                                         r"--scheme columnwise .*got 8"):
            onnx_import.Importer(self.onnx_path, scheme="columnwise")

    def test_trace_lists_the_layers_in_execution_order(self):
        with open(os.path.join(self.tmp, "every.trace")) as f:
            lines = [ln for ln in f.read().splitlines() if ln.startswith("layer ")]
        types = [ln.split("type=")[1].split()[0] for ln in lines]
        self.assertEqual(types[:5], ["conv", "pool", "dwconv", "conv", "conv"])  # the 2-group conv: 2 records
        self.assertIn("type=conv in=4,14,14 out=4 kernel=1", lines[3])
        self.assertIn("add", types)
        self.assertEqual(types[-1], "fc")
        self.assertIn("kernel=7 stride=1 padding=0 op=avg", "\n".join(lines))  # the global average


# ------------------------------------------------------------------------------------------------
# Quantized graphs built with onnx.helper

def _init(name, a, dtype=None):
    return numpy_helper.from_array(np.asarray(a, dtype=dtype), name)


def qdq_graph(rng, variant="qdq", act_zp=0, w_dtype=np.int8, w_zp=0, act_zp_dtype=np.uint8, act_scale_n=1,
              in_hw=28):
    """conv 1->8 3x3 pad 1 (per-channel int8), ReLU through the zero point, max pool 2, fc -> 10.
    variant "qdq": QuantizeLinear/DequantizeLinear pairs; "qlinear": QLinearConv and QLinearMatMul."""
    s_in, s1, s2 = 1.0 / 255.0, 0.02, 0.05
    w1 = rng.integers(-127, 128, size=(8, 1, 3, 3)).astype(w_dtype)
    sw1 = (rng.uniform(0.5, 1.5, size=8) * 0.004).astype(np.float32)
    b1 = rng.integers(-2000, 2000, size=8).astype(np.int32)
    fh = in_hw // 2
    w2 = rng.integers(-127, 128, size=(10, 8 * fh * fh)).astype(w_dtype)
    sw2 = np.float32(0.001)
    inits = [_init("s_in", s_in, np.float32), _init("z_in", 0, np.uint8),
             _init("s1", np.full(act_scale_n, s1, np.float32) if act_scale_n > 1 else s1, np.float32),
             _init("z1", np.full(act_scale_n, act_zp) if act_scale_n > 1 else act_zp, act_zp_dtype),
             _init("w1", w1), _init("sw1", sw1), _init("zw1", np.full(8, w_zp), w_dtype),
             _init("s2", s2, np.float32), _init("z2", 0, np.uint8), _init("sw2", sw2), _init("zw2", w_zp, w_dtype)]
    if variant == "qdq":
        inits += [_init("b1", b1), _init("sb1", sw1 * np.float32(s_in)), _init("zb1", np.zeros(8), np.int32),
                  _init("w2t", w2.T.copy())]
        nodes = [
            helper.make_node("QuantizeLinear", ["image", "s_in", "z_in"], ["xq"], name="q_in"),
            helper.make_node("DequantizeLinear", ["xq", "s_in", "z_in"], ["x"], name="dq_in"),
            helper.make_node("DequantizeLinear", ["w1", "sw1", "zw1"], ["w1f"], name="dq_w1", axis=0),
            helper.make_node("DequantizeLinear", ["b1", "sb1", "zb1"], ["b1f"], name="dq_b1", axis=0),
            helper.make_node("Conv", ["x", "w1f", "b1f"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
            helper.make_node("QuantizeLinear", ["c1", "s1", "z1"], ["c1q"], name="q1"),
            helper.make_node("DequantizeLinear", ["c1q", "s1", "z1"], ["c1d"], name="dq1"),
            helper.make_node("MaxPool", ["c1d"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("QuantizeLinear", ["p1", "s1", "z1"], ["p1q"], name="q2"),
            helper.make_node("DequantizeLinear", ["p1q", "s1", "z1"], ["p1d"], name="dq2"),
            helper.make_node("Flatten", ["p1d"], ["f"], name="flatten"),
            helper.make_node("DequantizeLinear", ["w2t", "sw2", "zw2"], ["w2f"], name="dq_w2"),
            helper.make_node("MatMul", ["f", "w2f"], ["logits"], name="fc"),
        ]
    else:
        inits += [_init("b1", b1), _init("w2t", w2.T.copy())]
        nodes = [
            helper.make_node("QuantizeLinear", ["image", "s_in", "z_in"], ["xq"], name="q_in"),
            helper.make_node("QLinearConv", ["xq", "s_in", "z_in", "w1", "sw1", "zw1", "s1", "z1", "b1"], ["c1q"],
                             name="conv1", pads=[1, 1, 1, 1]),
            helper.make_node("DequantizeLinear", ["c1q", "s1", "z1"], ["c1d"], name="dq1"),
            helper.make_node("MaxPool", ["c1d"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p1"], ["f"], name="flatten"),
            helper.make_node("QuantizeLinear", ["f", "s1", "z1"], ["fq"], name="q2"),
            helper.make_node("QLinearMatMul", ["fq", "s1", "z1", "w2t", "sw2", "zw2", "s2", "z2"], ["lq"], name="fc"),
            helper.make_node("DequantizeLinear", ["lq", "s2", "z2"], ["logits"], name="dq_out"),
        ]
    g = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                        ["N", 1, in_hw, in_hw])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    return m, dict(w1=w1, w2=w2, s1=s1, sw1=sw1, b1=b1)


def qdq_reference(images, p, lo=0, hi=255):
    """The QDQ graph's float semantics in numpy: per-channel int8 conv, requantize at s1 (codes lo..hi with
    zero point 0), pool, fc."""
    x = torch.as_tensor(images).double() / 255.0
    w = torch.as_tensor(p["w1"].astype(np.float64) * p["sw1"].astype(np.float64)[:, None, None, None])
    b = torch.as_tensor(p["b1"] * p["sw1"].astype(np.float64) / 255.0)
    c = F.conv2d(x, w, b, padding=1)
    q = torch.clamp(torch.round(c / p["s1"]), lo, hi) * p["s1"]
    q = F.max_pool2d(q, 2)
    return q.flatten(1) @ torch.as_tensor(p["w2"].T.astype(np.float64) * 0.001)


class QuantizedGraphTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def save(self, m, name):
        path = os.path.join(self.tmp, name)
        onnx.save(m, path)
        return path

    def test_qdq_graph_is_taken_with_its_integers(self):
        m, p = qdq_graph(np.random.default_rng(1))
        imp = onnx_import.Importer(self.save(m, "q.onnx"))
        self.assertTrue(imp.quantized_graph)
        self.assertFalse(imp.needs_calibration())          # every activation has its QuantizeLinear
        im = imp.quantize(None)
        conv, fc = im.layers[0], im.layers[-1]
        self.assertEqual(conv.weights.tolist(), p["w1"].reshape(8, 9).tolist())
        self.assertEqual(fc.weights.tolist(), p["w2"].tolist())
        self.assertEqual((conv.pool, conv.pool_size), (1, 2))  # the max pool with one scale on both sides
        self.assertEqual(len(im.layers), 2)
        images = np.random.default_rng(2).integers(0, 256, size=(200, 1, 28, 28)).astype(np.uint8)
        pred = engine.predict(engine.run(im, images)).numpy()
        ref = qdq_reference(images, p).argmax(1).numpy()
        self.assertGreaterEqual(float((pred == ref).mean()), 0.97)

    def test_a_quantized_graph_is_taken_as_int8_only(self):
        m, _ = qdq_graph(np.random.default_rng(1))
        with self.assertRaisesRegex(onnx_import.Refused, r"q.onnx: --scheme bwma: expected int8 for a quantized "
                                                         r"graph: its integers are taken as they are"):
            onnx_import.Importer(self.save(m, "q.onnx"), scheme="bwma")

    def test_int8_activations_are_the_same_codes_shifted_by_128(self):
        """Signed activations (int8, zero point 0): stored as uint8 codes with zero point 128."""
        m, p = qdq_graph(np.random.default_rng(11), act_zp_dtype=np.int8)
        imp = onnx_import.Importer(self.save(m, "s.onnx"))
        im = imp.quantize(None)
        self.assertEqual(imp.g.tensors[imp.g.nodes[0].out].quant[1], 128.0)
        images = np.random.default_rng(12).integers(0, 256, size=(200, 1, 28, 28)).astype(np.uint8)
        pred = engine.predict(engine.run(im, images)).numpy()
        ref = qdq_reference(images, p, -128, 127).argmax(1).numpy()
        self.assertGreaterEqual(float((pred == ref).mean()), 0.97)

    def test_qlinear_graph_gives_the_same_integer_network(self):
        rng_seed = 3
        a, _ = qdq_graph(np.random.default_rng(rng_seed), "qdq")
        b, _ = qdq_graph(np.random.default_rng(rng_seed), "qlinear")
        ma = onnx_import.Importer(self.save(a, "a.onnx")).quantize(None)
        mb = onnx_import.Importer(self.save(b, "b.onnx")).quantize(None)
        images = np.random.default_rng(4).integers(0, 256, size=(50, 1, 28, 28)).astype(np.uint8)
        self.assertEqual([type(n).__name__ for n in ma.layers], [type(n).__name__ for n in mb.layers])
        self.assertTrue(torch.equal(engine.run(ma, images), engine.run(mb, images)))

    def test_integers_that_do_not_fit_are_refused_naming_the_node(self):
        cases = [
            (dict(w_dtype=np.uint8), r"q.onnx: node 'conv1' \(Conv\): weights: expected int8 weights"),
            (dict(w_zp=3), r"q.onnx: node 'conv1' \(Conv\): weights zero point: expected 0 \(symmetric"),
            (dict(act_zp_dtype=np.int16), r"q.onnx: node 'q1' \(QuantizeLinear\): input 'z1' \(zero point\): "
                                          r"expected 8-bit activations"),
            (dict(act_scale_n=8), r"q.onnx: node 'q1' \(QuantizeLinear\): input 's1' \(scale\): expected one scale "
                                  r"per activation tensor, got 8 scales"),
        ]
        for kw, pattern in cases:
            m, _ = qdq_graph(np.random.default_rng(5), **kw)
            with self.assertRaisesRegex(onnx_import.Refused, pattern, msg=str(kw)):
                onnx_import.Importer(self.save(m, "q.onnx")).quantize(None)

    def test_padded_conv_on_a_nonzero_zero_point_is_refused(self):
        m, _ = qdq_graph(np.random.default_rng(6), act_zp=0)
        for t in m.graph.initializer:
            if t.name == "z_in":
                t.CopyFrom(_init("z_in", 128, np.uint8))
        with self.assertRaisesRegex(onnx_import.Refused, r"node 'conv1' \(Conv\): pads: expected no padding on an "
                                                         r"input whose zero point is not 0"):
            onnx_import.Importer(self.save(m, "q.onnx")).quantize(None)


# ------------------------------------------------------------------------------------------------
# Refusals

def small_float_graph(nodes_extra=None, input_dims=("N", 1, 8, 8)):
    rng = np.random.default_rng(7)
    inits = [_init("w1", rng.normal(size=(4, 1, 3, 3)), np.float32), _init("w2", rng.normal(size=(4, 4, 3, 3)),
                                                                              np.float32),
             _init("wf", rng.normal(size=(4 * 8 * 8, 3)), np.float32)]
    nodes = [helper.make_node("Conv", ["image", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("Flatten", ["r2"], ["f"], name="flatten"),
             helper.make_node("MatMul", ["f", "wf"], ["logits"], name="fc")]
    g = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                          list(input_dims))],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


class RefusalTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def refused(self, m_or_bytes, pattern, name="bad.onnx"):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(m_or_bytes if isinstance(m_or_bytes, bytes) else m_or_bytes.SerializeToString())
        code, out, err = quiet_run([path, "--out", os.path.join(self.tmp, "x.cimvp"), "--calib",
                                    self.calib, "--no-eval"])
        self.assertEqual(code, 2, out + err)
        self.assertNotIn("Traceback", err)
        self.assertRegex(err, pattern)
        self.assertIn(path, err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.cimvp")))
        return err

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.calib = os.path.join(cls.dir, "calib.npy")
        np.save(cls.calib, np.random.default_rng(8).integers(0, 256, size=(32, 1, 8, 8)).astype(np.uint8))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_the_small_graph_imports(self):
        path = os.path.join(self.tmp, "ok.onnx")
        onnx.save(small_float_graph(), path)
        code, out, err = quiet_run([path, "--out", os.path.join(self.tmp, "ok.cimvp"), "--calib", self.calib])
        self.assertEqual(code, 0, err)
        m = modelfile.read(os.path.join(self.tmp, "ok.cimvp"))
        self.assertEqual(int.from_bytes(read_bytes(os.path.join(self.tmp, "ok.cimvp"))[8:12], "little"), 1)
        self.assertEqual(len(m.layers), 3)                     # a chain stays format v1

    def test_truncated_protobuf(self):
        raw = small_float_graph().SerializeToString()
        self.refused(raw[:len(raw) // 2], r"bad.onnx: not an ONNX model: the protobuf does not parse|bad.onnx: .*"
                                          r"expected")

    def test_unknown_operator_names_node_op_and_supported_list(self):
        m = small_float_graph()
        m.graph.node[1].op_type = "LeakyRelu"
        self.refused(m, r"bad.onnx: node 'relu1' \(LeakyRelu\): op_type: expected one of the supported operators "
                        r"Conv, Gemm, MatMul, .*Dropout.*, got 'LeakyRelu'")

    def test_unknown_operator_is_refused_before_anything_else(self):
        m = small_float_graph()
        m.graph.node[1].op_type = "Softmax"
        m.graph.node[0].input[0] = "r2"                        # also a cycle
        m.graph.initializer[0].dims[0] = 5                      # and a wrong-size initializer
        self.refused(m, r"node 'relu1' \(Softmax\): op_type")

    def test_dynamic_shape(self):
        self.refused(small_float_graph(input_dims=("N", 1, "H", "W")),
                     r"bad.onnx: input 'image': shape: expected static C, H, W .*got \[N, 1, H, W\]")

    def test_mismatched_concat(self):
        m = small_float_graph()
        m.graph.initializer.append(_init("w3", np.ones((2, 4, 2, 2)), np.float32))
        m.graph.node.insert(4, helper.make_node("Conv", ["r2", "w3"], ["c3"], name="conv3", strides=[2, 2]))
        m.graph.node.insert(5, helper.make_node("Concat", ["r2", "c3"], ["cat"], name="cat", axis=1))
        m.graph.node[6].input[0] = "cat"
        self.refused(m, r"bad.onnx: node 'cat' \(Concat\): input 1 \('c3'\): expected a tensor of input 0's height "
                        r"and width \(8x8\), got 2x4x4")

    def test_cycle(self):
        m = small_float_graph()
        m.graph.node[0].input[0] = "r2"
        m.graph.node[0].input.append("")
        self.refused(m, r"bad.onnx: graph: expected an acyclic graph, got a cycle through node 'conv1' \(Conv\)")

    def test_initializer_of_the_wrong_size(self):
        m = small_float_graph()
        m.graph.initializer[1].dims[0] = 5
        self.refused(m, r"bad.onnx: initializer 'w2': data: expected 720 bytes of data for dims \[5, 4, 3, 3\] "
                        r"\(float32\), got 576 bytes")

    def test_dilation_and_asymmetric_pads(self):
        m = small_float_graph()
        m.graph.node[2].attribute.append(helper.make_attribute("dilations", [2, 2]))
        self.refused(m, r"node 'conv2' \(Conv\): dilations: expected 1, got \[2, 2\]")
        m = small_float_graph()
        del m.graph.node[2].attribute[:]
        m.graph.node[2].attribute.append(helper.make_attribute("pads", [1, 1, 0, 0]))
        self.refused(m, r"node 'conv2' \(Conv\): pads: expected symmetric padding, the same on every side, "
                        r"got \[1, 1, 0, 0\]")

    def test_padded_conv_after_signed_values(self):
        m = small_float_graph()
        m.graph.node[2].input[0] = "c1"                         # conv2 pads conv1's output before the ReLU
        m.graph.node[1].output[0] = "unused"
        self.refused(m, r"node 'conv2' \(Conv\): pads: expected an input whose zero is code 0 .*got padding 1 on a "
                        r"tensor with signed values")

    def test_other_schemes_and_epochs_are_refused_clearly(self):
        path = os.path.join(self.tmp, "ok.onnx")
        onnx.save(small_float_graph(), path)
        for extra, pattern in ((["--scheme", "ternary"], r"--scheme: expected one of int8, bwma, columnwise, got "
                                                         r"'ternary'"),
                               (["--scheme", "bwma", "--act-bits", "9"], r"--act-bits: expected 1..8, got 9"),
                               (["--epochs", "2"], r"--epochs 2: expected labels for the fine-tuning: give --labels "
                                                   r"with --calib"),
                               (["--col-mapping", "diagonal"], r"--col-mapping: expected one of offset, differential, "
                                                               r"got 'diagonal'"),
                               (["--col-var-sigma", "1.5"], r"--col-var-sigma: expected a number in \[0, 1\], got 1.5"),
                               (["--col-mapping", "differential", "--epochs", "1", "--labels", self.calib],
                                r"--col-mapping differential, --col-var-sigma 0: expected --scheme columnwise and "
                                r"--epochs 1 or more .*got --scheme int8 and --epochs 1"),
                               (["--scheme", "columnwise", "--col-var-sigma", "0.2"],
                                r"expected --scheme columnwise and --epochs 1 or more .*got --scheme columnwise and "
                                r"--epochs 0")):
            code, _, err = quiet_run([path, "--out", os.path.join(self.tmp, "o.cimvp"), "--calib", self.calib] + extra)
            self.assertEqual(code, 2)
            self.assertRegex(err, pattern)

    def test_calibration_data_of_another_shape(self):
        path = os.path.join(self.tmp, "ok.onnx")
        onnx.save(small_float_graph(), path)
        bad = os.path.join(self.tmp, "c.npy")
        np.save(bad, np.zeros((4, 3, 8, 8), np.uint8))
        code, _, err = quiet_run([path, "--out", os.path.join(self.tmp, "o.cimvp"), "--calib", bad])
        self.assertEqual(code, 2)
        self.assertIn(f"--calib {bad}: expected images of the model's input shape [N, 1, 8, 8]", err)


# ------------------------------------------------------------------------------------------------
# Fuzz

def mutate(raw, rng):
    """One random change of an ONNX file: bytes flipped, inserted or cut, or a field of the graph changed."""
    kind = rng.randrange(8)  # 0..3 bytes, 4..7 a field of the graph
    b = bytearray(raw)
    if kind == 0:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        return bytes(b[:rng.randrange(len(b))])
    elif kind == 2:
        i = rng.randrange(len(b))
        return bytes(b[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + b[i:])
    elif kind == 3:
        i, j = sorted(rng.randrange(len(b)) for _ in range(2))
        return bytes(b[:i] + b[j:])
    else:
        m = onnx.ModelProto()
        m.ParseFromString(raw)
        nodes = m.graph.node
        nd = nodes[rng.randrange(len(nodes))]
        r = rng.randrange(7)
        if r == 0 and nd.attribute:
            a = nd.attribute[rng.randrange(len(nd.attribute))]
            if a.ints:
                a.ints[rng.randrange(len(a.ints))] = rng.choice([-1, 0, 2, 3, 1 << 31, 1 << 40])
            else:
                a.i = rng.choice([-5, 0, 2, 7, 1 << 33])
                a.f = rng.choice([0.0, -1.0, float("nan"), 1e30])
        elif r == 1 and nd.input:
            k = rng.randrange(len(nd.input))
            pool = [n for x in nodes for n in x.output] + [t.name for t in m.graph.initializer] + ["", "nope"]
            nd.input[k] = rng.choice(pool)
        elif r == 2:
            nd.op_type = rng.choice(onnx_import.ALL_OPS)
        elif r == 3 and m.graph.initializer:
            t = m.graph.initializer[rng.randrange(len(m.graph.initializer))]
            if t.dims:
                t.dims[rng.randrange(len(t.dims))] = rng.choice([0, 1, 3, 1 << 20])
            else:
                t.data_type = rng.choice([1, 2, 3, 6, 7, 8, 11, 16])
        elif r == 4:
            d = m.graph.input[0].type.tensor_type.shape.dim
            dd = d[rng.randrange(len(d))]
            if rng.random() < 0.5:
                dd.dim_param = "X"
            else:
                dd.dim_value = rng.choice([0, 1, 2, 5, 100000])
        elif r == 5:
            nd.input.append(rng.choice(["image", "", "x"]))
        else:
            del nodes[rng.randrange(len(nodes))]
        return m.SerializeToString()
    return bytes(b)


class Fuzz(unittest.TestCase):
    ITERATIONS = 300

    def test_mutated_files_exit_0_or_2_never_crash(self):
        tmp = tempfile.mkdtemp()
        try:
            calib = os.path.join(tmp, "calib.npy")
            np.save(calib, np.random.default_rng(9).integers(0, 256, size=(8, 1, 8, 8)).astype(np.uint8))
            small = small_float_graph()
            small.graph.initializer.append(_init("bias", np.zeros(3), np.float32))
            qdq, _ = qdq_graph(np.random.default_rng(10), in_hw=8)
            seeds = [small.SerializeToString(), qdq.SerializeToString()]
            rng = random.Random(12)
            codes = {0: 0, 2: 0}
            path = os.path.join(tmp, "m.onnx")
            for it in range(self.ITERATIONS):
                raw = mutate(seeds[it % 2], rng)
                with open(path, "wb") as f:
                    f.write(raw)
                out = os.path.join(tmp, "m.cimvp")
                code, so, err = quiet_run([path, "--out", out, "--calib", calib, "--no-eval",
                                           "--trace-out", os.path.join(tmp, "m.trace")])
                self.assertIn(code, (0, 2), f"iteration {it}: {err[-2000:]}")
                self.assertNotIn("Traceback", err, f"iteration {it}")
                if code == 2:
                    self.assertIn("cimvp import: ", err)
                else:
                    modelfile.read(out)  # what was written loads
                codes[code] += 1
            self.assertGreater(codes[2], self.ITERATIONS // 3)     # most mutations are refused ...
            self.assertGreater(codes[0], 5)                         # ... some still import
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
