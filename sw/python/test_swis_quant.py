#!/usr/bin/python3
"""The front end's SWIS weight fake-quantizer (cimvp_frontend/swis_quant.py) against the C++
contract (sw/contract/swis.h decompose_layer, docs/swis.md "Decomposition"), bit for bit, and its
use in int8 fine-tuning.

    /usr/bin/python3 sw/python/test_swis_quant.py CIMVP_BINARY REPO_DIR [unittest args]

The contract side: `cimvp convert --pe-layers all --shifts N [--variant swis-c]` writes a format-v2
model whose layers' weights are decompose_layer(w, shape, N, variant).weights() (the loader checks
them against the packed groups); modelfile.read reads them back. Without a binary those tests skip."""
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import unittest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from cimvp_frontend import data, engine, export, model, modelfile, quant, swis_quant as sq  # noqa: E402
from cimvp_frontend.modelfile import KIND_CONV, KIND_FC, POOL_MAX, IntLayer, IntModel  # noqa: E402

torch.set_num_threads(1)
CIMVP = sys.argv[1] if len(sys.argv) > 2 else None
REPO = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def brute_force_group(g, n, variant, alpha=1):
    """decompose_group written out: every set, every weight every level of the set."""
    best = None
    for s in sq.shift_sets(n, variant):
        pos = [p for p in range(8) if s >> p & 1]
        levels = sorted({sum(1 << p for p in c) for k in range(len(pos) + 1) for c in itertools.combinations(pos, k)
                         if sum(1 << p for p in c) <= 127})
        dec, err = [], []
        for w in g:
            m = min(abs(w), 127)
            lv = min(levels, key=lambda v: (abs(m - v), v))
            dec.append(-lv if w < 0 else lv)
            err.append((m - lv) * (-1 if w < 0 else 1))
        cost = alpha * sum(err) ** 2 + sum(e * e for e in err)
        if best is None or cost < best[0]:
            best = (cost, dec, s)
    return best[1], best[2]


def awkward_weights(rng, shape):
    """int8 weights that exercise the rule's corners: small magnitudes (many sets tie), magnitudes
    half-way between levels, equal magnitudes across a group, -128 and 127, and uniform ones."""
    w = rng.integers(-128, 128, size=shape)
    pick = rng.random(shape)
    w = np.where(pick < 0.3, rng.integers(-6, 7, size=shape), w)
    w = np.where((pick >= 0.3) & (pick < 0.45), rng.choice([3, 5, 6, 12, 24, 48, 96, 112, -3, -6, -96], size=shape), w)
    w = np.where((pick >= 0.45) & (pick < 0.5), rng.choice([127, -128, 64, -64], size=shape), w)
    return w.astype(np.int8)


def awkward_model(rng):
    """An int8 chain every layer of which the PE array takes: a conv with 6 input channels (a
    short channel group), an fc on a 64x2x2 input, an fc on 130 inputs (a short group of 2)."""
    m = IntModel(name="swis-contract", scheme="int8", in_c=6, in_h=4, in_w=4, in_bits=8, num_classes=3)
    c = IntLayer(kind=KIND_CONV, in_c=6, in_h=4, in_w=4, out_c=64, kernel=3, padding=1, relu=1, a_out_bits=8,
                 pool=POOL_MAX, pool_size=2, pool_stride=2, shift=20)
    f1 = IntLayer(kind=KIND_FC, in_c=64, in_h=2, in_w=2, out_c=130, relu=1, a_out_bits=8, shift=20)
    f2 = IntLayer(kind=KIND_FC, in_c=130, in_h=1, in_w=1, out_c=3, relu=0, a_out_bits=0)
    for L in (c, f1, f2):
        L.weights = awkward_weights(rng, (L.M, L.K))
        L.bias = rng.integers(-1000, 1000, size=L.M)
        L.mult = rng.integers(1, 1000, size=L.M).astype(np.int32)
        L.mult_x = np.zeros(L.M, np.int32)
    m.layers = [c, f1, f2]
    return m


def layer_weights_4d(L):
    """A model layer's [M][K] weights as the front end holds them: [M][C][k][k] for a conv, [M][C][h][w] for an fc."""
    if L.kind == KIND_CONV:
        return torch.as_tensor(L.weights.astype(np.int64)).view(L.M, L.in_c, L.kernel, L.kernel), False
    return torch.as_tensor(L.weights.astype(np.int64)).view(L.M, L.in_c, L.in_h, L.in_w), True


def contract_schedule(path, n, variant, tmp, double_shift=False):
    """(the per-filter N of every layer, its weights) of a v1 model scheduled by the C++ contract at a mean N
    (cimvp convert --schedule, or --double-shift: even counts)."""
    out = os.path.join(tmp, f"sched-{variant}-{n}-{int(double_shift)}.cimvp")
    subprocess.run([CIMVP, "convert", "--model", path, "--pe-layers", "all", "--shifts", str(n), "--variant",
                    sq.file_variant(variant), "--double-shift" if double_shift else "--schedule", "--out", out],
                   check=True, stdout=subprocess.DEVNULL)
    return out, [L.weights for L in modelfile.read(out).layers]


def contract_weights(path, n, variant, tmp):
    """The weights of every layer of a v1 model decomposed by the C++ contract (cimvp convert)."""
    out = os.path.join(tmp, f"conv-{variant}-{n}.cimvp")
    subprocess.run([CIMVP, "convert", "--model", path, "--pe-layers", "all", "--shifts", str(n), "--variant",
                    sq.file_variant(variant), "--out", out], check=True, stdout=subprocess.DEVNULL)
    back = modelfile.read(out)
    for L in back.layers:
        assert L.swis is not None and all(int(x) == n for x in L.swis.filter_n), "expected every filter at N"
    return [L.weights for L in back.layers]


def min_cost_sets(groups, n, variant):
    """[G][S] whether each set attains the group's lowest MSE++ (alpha 1)."""
    _, levels = sq.level_table(n, variant)
    mag = groups.abs().clamp(max=127)
    d = torch.arange(128).view(1, -1) - levels
    e = torch.where(groups.unsqueeze(0) < 0, -d[:, mag], d[:, mag])
    cost = e.sum(-1) ** 2 + (e * e).sum(-1)
    return (cost == cost.min(0).values).t(), levels


class DecompositionRuleTest(unittest.TestCase):
    def test_vectorised_decomposition_equals_the_exhaustive_search_per_group(self):
        rng = np.random.default_rng(7)
        for n, variant in itertools.product((1, 2, 3, 4, 5, 8), sq.VARIANTS[:2]):
            g = awkward_weights(rng, (150, 4)).astype(np.int64)
            g[:20, 2:] = 0  # short groups: the missing lanes are 0
            dec, masks = sq.decompose_groups(torch.as_tensor(g), n, variant)
            for i in range(len(g)):
                want, mask = brute_force_group(g[i].tolist(), n, variant)
                self.assertEqual((dec[i].tolist(), int(masks[i])), (want, mask), (n, variant, g[i].tolist()))

    def test_other_group_sizes_equal_the_exhaustive_search_per_group(self):
        """The group-size study's M (1, 2, 8, 16): the same rule over M weights, as the contract's
        SwisDecompose.EveryGroupSizeEqualsBruteForce checks the C++ side against its brute force."""
        rng = np.random.default_rng(9)
        for m, n, variant in itertools.product((1, 2, 8, 16), (1, 2, 3), sq.VARIANTS[:2]):
            g = awkward_weights(rng, (25, m)).astype(np.int64)
            g[:5, (m + 1) // 2:] = 0  # short groups
            dec, masks = sq.decompose_groups(torch.as_tensor(g), n, variant)
            for i in range(len(g)):
                want, mask = brute_force_group(g[i].tolist(), n, variant)
                self.assertEqual((dec[i].tolist(), int(masks[i])), (want, mask), (m, n, variant, g[i].tolist()))

    def test_groups_of_m_are_m_channels_at_one_position_or_m_consecutive_inputs(self):
        w = torch.arange(2 * 10 * 3 * 3).view(2, 10, 3, 3)
        g, restore = sq.to_groups(w, fc=False, group_size=8)
        self.assertEqual(g.shape, (2 * 3 * 3 * 2, 8))
        self.assertEqual(g[0].tolist(), [w[0, c, 0, 0].item() for c in range(8)])
        self.assertEqual(g[1].tolist(), [w[0, 8, 0, 0].item(), w[0, 9, 0, 0].item()] + [0] * 6)
        self.assertTrue(torch.equal(restore(g), w))
        g, restore = sq.to_groups(w, fc=True, group_size=16)
        self.assertEqual(g[5].tolist(), w[0].flatten()[80:].tolist() + [0] * 6)
        self.assertTrue(torch.equal(restore(g), w))
        for bad in (0, 17, 4.0):
            with self.assertRaisesRegex(ValueError, "group size: expected an integer M in 1..16"):
                sq.to_groups(w, fc=False, group_size=bad)

    def test_eight_shifts_reproduce_every_int8_but_minus_128(self):
        w = torch.arange(-128, 128).view(64, 4)
        for variant in sq.VARIANTS[:2]:
            d, _ = sq.decompose_groups(w, 8, variant)
            self.assertTrue(torch.equal(d, w.clamp(min=-127)))

    def test_groups_are_channels_at_one_position_for_a_conv_and_consecutive_inputs_for_an_fc(self):
        w = torch.arange(2 * 6 * 3 * 3).view(2, 6, 3, 3)
        g, restore = sq.to_groups(w, fc=False)
        self.assertEqual(g[0].tolist(), [w[0, c, 0, 0].item() for c in range(4)])
        self.assertEqual(g[1].tolist(), [w[0, 4, 0, 0].item(), w[0, 5, 0, 0].item(), 0, 0])
        self.assertEqual(g[2].tolist(), [w[0, c, 0, 1].item() for c in range(4)])
        self.assertTrue(torch.equal(restore(g), w))
        g, restore = sq.to_groups(w, fc=True)
        self.assertEqual(g[0].tolist(), w[0].flatten()[:4].tolist())
        self.assertEqual(g[13].tolist(), w[0].flatten()[52:].tolist() + [0, 0])
        self.assertTrue(torch.equal(restore(g), w))

    def test_activation_truncation_keeps_the_top_bits_of_the_input_codes(self):
        """Act: the contract's activation_truncation_mask (sw/contract/swis.cpp; testbench/test_swis.cpp's values),
        and the training forward's truncation of integer codes equal to code & mask, gradient straight through."""
        for (a, n), mask in (((8, 3), 0xE0), ((8, 1), 0x80), ((8, 8), 0xFF), ((4, 2), 0x0C), ((4, 6), 0x0F)):
            self.assertEqual(sq.activation_truncation_mask(a, n), mask, (a, n))
        for a, n in ((8, 0), (8, 9), (0, 4)):
            with self.assertRaises(ValueError):
                sq.activation_truncation_mask(a, n)
        for a in (4, 8):
            codes = torch.arange(1 << a, dtype=torch.float32, requires_grad=True)
            for n in range(1, 9):
                got = sq.truncate_activations_ste(codes, a, n)
                want = torch.arange(1 << a) & sq.activation_truncation_mask(a, n)
                self.assertTrue(torch.equal(got.detach().long(), want), (a, n))
            sq.truncate_activations_ste(codes, a, 2).sum().backward()
            self.assertTrue(torch.equal(codes.grad, torch.ones(1 << a)))

    def test_truncation_keeps_the_top_bits_below_the_layers_msb(self):
        w = torch.tensor([127, -128, 100, 33, -31, 15, 0])
        # p = 6; 2 bits: low = 5, |w| -> min(floor((|w| + 16) / 32), 3) * 32
        self.assertEqual(sq.truncate_weights(w, 2).tolist(), [96, -96, 96, 32, -32, 0, 0])
        self.assertEqual(sq.truncate_weights(w, 7).tolist(), [127, -127, 100, 33, -31, 15, 0])

    def test_a_cache_of_the_previous_groups_gives_the_same_decomposition(self):
        rng = np.random.default_rng(3)
        w = torch.as_tensor(awkward_weights(rng, (16, 8, 3, 3)).astype(np.int64))
        cache = sq.GroupCache()
        for step in range(4):
            w = w.clone()
            w.view(-1)[torch.as_tensor(rng.integers(0, w.numel(), 20))] = torch.as_tensor(rng.integers(-127, 128, 20))
            self.assertTrue(torch.equal(sq.decompose_weights(w, 3, "swis", cache=cache), sq.decompose_weights(w, 3)))


@unittest.skipIf(CIMVP is None or not os.path.isfile(CIMVP or ""), "needs the cimvp binary (argument 1)")
class ContractEqualityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.awkward = os.path.join(cls.tmp.name, "awkward.cimvp")
        modelfile.write(cls.awkward, awkward_model(np.random.default_rng(11)))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_model(self, path, shifts):
        m = modelfile.read(path)
        for n, variant in itertools.product(shifts, sq.VARIANTS[:2]):
            want = contract_weights(path, n, variant, self.tmp.name)
            for i, L in enumerate(m.layers):
                w, fc = layer_weights_4d(L)
                got = sq.decompose_weights(w, n, variant, fc=fc).reshape(L.M, L.K).numpy()
                diff = int((got != want[i]).sum())
                self.assertEqual(diff, 0, f"N={n} {variant} layer {i}: {diff} weights differ from the contract")

    def test_awkward_layers_decompose_as_the_contract_does(self):
        self.check_model(self.awkward, (1, 2, 3, 4))

    def test_the_shipped_int8_model_decomposes_as_the_contract_does(self):
        self.check_model(os.path.join(REPO, "models", "fmnist-int8.cimvp"), (2, 3))

    def test_a_schedules_per_filter_counts_decompose_as_the_contract_does(self):
        """A mean N scheduled by cimvp (mixed counts per filter; double-shift's even ones): each filter
        decomposed at its own N, read from the scheduled file, gives the contract's weights."""
        for path, n, variant, ds in ((self.awkward, 2.5, "swis", False), (self.awkward, 3, "swisc", True),
                                     (os.path.join(REPO, "models", "fmnist-int8.cimvp"), 3, "swis", True)):
            out, want = contract_schedule(path, n, variant, self.tmp.name, ds)
            schedule = sq.read_schedule(out, variant)
            counts = sorted({k for fn in schedule for k in fn})
            self.assertGreater(len(counts), 1, (path, n, variant, ds))   # mixed, else this checks nothing new
            if ds:
                self.assertTrue(all(k % 2 == 0 for k in counts), counts)
            for i, L in enumerate(modelfile.read(path).layers):
                w, fc = layer_weights_4d(L)
                got = sq.decompose_weights(w, schedule[i], variant, fc=fc).reshape(L.M, L.K).numpy()
                diff = int((got != want[i]).sum())
                self.assertEqual(diff, 0, f"{path} N={n} {variant} ds={ds} layer {i}: {diff} weights differ")
            with self.assertRaisesRegex(ValueError, "expected variant"):
                sq.read_schedule(out, "swisc" if variant == "swis" else "swis")

    def test_a_model_in_groups_of_m_keeps_its_weights_in_cimvp_swis_at_m(self):
        """The fine-tuning's weights at M = 8 (the shipped float CNN's int8 weights decomposed at N = 2 in groups
        of 8 by QNet, exported): `cimvp swis --group-size 8` at N = 2 decomposes them to themselves, so its SS
        accuracy is the model's int8 accuracy; in groups of 16 it moves them (a check that can fail)."""
        fnet = model.FloatNet()
        fnet.load_state_dict(torch.load(os.path.join(REPO, "models", "fmnist-float.pt")))
        q = quant.QNet(fnet, "int8", swis_shifts=2, swis_variant="swis", swis_group_size=8)
        q.calibrate(data.load("train")[0][:256])
        path = os.path.join(self.tmp.name, "m8.cimvp")
        modelfile.write(path, export.export(q, "m8"))
        acc = {}
        for m in (8, 16):
            out = os.path.join(self.tmp.name, f"m8-at-{m}.json")
            subprocess.run([CIMVP, "swis", "--model", path, "--group-size", str(m), "--targets", "2", "--limit",
                            "500", "--json", out, "--quiet"], check=True, stdout=subprocess.DEVNULL)
            with open(out) as f:
                acc[m] = json.load(f)["accuracy"]
        self.assertEqual(acc[8]["rows"][0]["SS"], acc[8]["int8"])
        self.assertNotEqual(acc[16]["rows"][0]["SS"], acc[16]["int8"])

    def test_act_masks_run_the_integer_engine_as_cimvp_swis_runs_act(self):
        """The activation-truncation baseline on the shipped CNN, ResNet-20, MobileNet-v2 (depthwise convs, which
        cimvp leaves off the PE array) and BWMA CNN (binary layers, likewise): the integer engine with act_masks
        at N predicts every image as `cimvp swis --accuracy-modes Act` does at N (its --predictions-out), the
        layers cimvp puts on the PE array and no other masked; without the masks it predicts otherwise."""
        x, _ = data.load("test")
        x = x[:100]
        for name in ("fmnist-int8", "fmnist-resnet20", "fmnist-mobilenetv2", "fmnist-bwma"):
            path = os.path.join(REPO, "models", f"{name}.cimvp")
            out = os.path.join(self.tmp.name, f"{name}-act.csv")
            subprocess.run([CIMVP, "swis", "--model", path, "--targets", "2,3", "--accuracy-modes", "Act", "--limit",
                            "100", "--predictions-out", out, "--quiet"], check=True, stdout=subprocess.DEVNULL)
            with open(out, newline="") as f:
                rows = list(csv.DictReader(f))
            m = modelfile.read(path)
            plain = engine.predict(engine.run(m, x)).numpy()
            for n in (2, 3):
                got = engine.predict(engine.run(m, x, masks=sq.act_masks(m, n))).numpy()
                self.assertEqual(got.tolist(), [int(r[f"Act@{n}"]) for r in rows], f"{name} N = {n}")
                self.assertGreater(int((got != plain).sum()), 0, f"{name} N = {n}: the masks change nothing")

    def test_the_awkward_layers_decide_ties_and_half_way_magnitudes(self):
        """The equality above would catch a changed rule: the awkward layers hold groups where two
        sets with different weights tie on MSE++ (the first set must win), and weights half-way
        between two levels of the chosen set (the smaller must win)."""
        m = modelfile.read(self.awkward)
        for n, variant in ((2, "swis"), (3, "swis"), (2, "swisc"), (3, "swisc")):
            tied_and_different = half_way = 0
            for L in m.layers:
                w, fc = layer_weights_4d(L)
                g, _ = sq.to_groups(w, fc)
                best, levels = min_cost_sets(g, n, variant)
                first = best.int().argmax(1)
                last = best.shape[1] - 1 - best.int().flip(1).argmax(1)
                mag = g.abs().clamp(max=127)
                tied_and_different += int((levels[first.view(-1, 1), mag] != levels[last.view(-1, 1), mag])
                                          .any(1).sum())
                chosen = levels[first]                                   # [G][128]
                lv = torch.gather(chosen, 1, mag)
                up = torch.gather(chosen, 1, (2 * mag - lv).clamp(0, 127))  # the level mirrored about |w|
                half_way += int(((lv < mag) & (2 * mag - lv <= 127) & (up == 2 * mag - lv)).sum())
            self.assertGreater(tied_and_different, 0, (n, variant))
            self.assertGreater(half_way, 0, (n, variant))


class FineTuningTest(unittest.TestCase):
    def qnet(self, shifts, variant):
        torch.manual_seed(0)
        return quant.QNet(model.FloatNet(), "int8", swis_shifts=shifts, swis_variant=variant)

    def test_swis_fake_quant_passes_the_gradient_to_the_float_weights(self):
        q = self.qnet(2, "swis")
        layer = q.layers[1]
        w_int, s_w = layer.int8_weight()
        self.assertTrue(torch.equal(w_int.detach(), sq.decompose_weights(w_int.detach(), 2)))
        w_int.sum().backward()
        inside = (layer.weight.detach() / s_w.view(-1, 1, 1, 1)).abs() < 126.5  # not clamped by the int8 range
        want = (torch.ones_like(layer.weight) / s_w.view(-1, 1, 1, 1))[inside]
        self.assertTrue(torch.allclose(layer.weight.grad[inside], want))

    def test_export_writes_weights_the_contract_keeps_at_n(self):
        for shifts, variant in ((2, "swis"), (3, "swisc"), (2, "wgt")):
            q = self.qnet(shifts, variant)
            q.calibrate(torch.randint(0, 256, (8, 1, 28, 28)).float().numpy())
            im = export.export(q, "swis-ft")
            for i, L in enumerate(im.layers):
                w, fc = layer_weights_4d(L)
                again = (sq.truncate_weights(w, shifts) if variant == "wgt"
                         else sq.decompose_weights(w, shifts, variant, fc=fc))
                self.assertTrue(torch.equal(again, w), (shifts, variant, i))
                self.assertFalse(torch.equal(sq.decompose_weights(w, 1, "swis", fc=fc), w))

    def test_a_per_filter_schedule_trains_and_exports_each_filter_at_its_own_n(self):
        torch.manual_seed(0)
        fnet = model.FloatNet()
        rng = np.random.default_rng(5)
        schedule = [[int(k) for k in rng.choice([2, 4], layer.out_channels)]
                    for layer in (fnet.conv1, fnet.conv2, fnet.fc1, fnet.fc2)]
        q = quant.QNet(fnet, "int8", swis_variant="swis", swis_schedule=schedule)
        cache_step = q.layers[1].int8_weight()[0].detach()
        self.assertTrue(torch.equal(cache_step, q.layers[1].int8_weight()[0].detach()))  # the cached path
        q.calibrate(torch.randint(0, 256, (8, 1, 28, 28)).float().numpy())
        im = export.export(q, "swis-ft")
        for i, L in enumerate(im.layers):
            w, fc = layer_weights_4d(L)
            self.assertTrue(torch.equal(sq.decompose_weights(w, schedule[i], "swis", fc=fc), w), i)
            uniform = sq.decompose_weights(w, 2, "swis", fc=fc)
            at4 = torch.as_tensor(schedule[i]) == 4
            self.assertFalse(torch.equal(uniform[at4], w[at4]), i)   # the N = 4 filters keep more than 2 shifts
        with self.assertRaisesRegex(ValueError, "expected swis_shifts 0"):
            quant.QNet(fnet, "int8", swis_shifts=2, swis_schedule=schedule)
        with self.assertRaisesRegex(ValueError, "expected 32 counts"):
            quant.QNet(fnet, "int8", swis_schedule=[schedule[0][:5]] + schedule[1:])
        with self.assertRaisesRegex(ValueError, "expected swis_shifts 0 and variant swis or swisc"):
            quant.QNet(fnet, "int8", swis_variant="wgt", swis_schedule=schedule)

    def test_a_json_schedule_is_read_per_layer_and_checked_against_the_fine_tuning(self):
        """read_schedule of a `cimvp swis --schedule-out` file: each listed layer's counts at its index, None
        elsewhere; its variant and group size must be the fine-tuning's, a model file's schedule is in groups of
        4, and a bad field is named."""
        doc = {"format": "cimvp-swis-schedule", "version": 1, "variant": "swis-c", "group_size": 8,
               "model_layers": 3, "layers": [{"layer": 2, "filter_n": [2, 4]}, {"layer": 0, "filter_n": [3]}]}
        with tempfile.TemporaryDirectory() as tmp:
            def read(d, variant="swisc", m=8):
                path = os.path.join(tmp, "s.json")
                with open(path, "w") as f:
                    json.dump(d, f)
                return sq.read_schedule(path, variant, m)
            self.assertEqual(read(doc), [[3], None, [2, 4]])
            for change, variant, m, want in (
                    ({}, "swis", 8, "field 'variant': expected 'swis'"),
                    ({}, "swisc", 4, "field 'group_size': expected 4"),
                    ({"version": 2}, "swisc", 8, "version 1"),
                    ({"layers": [{"layer": 3, "filter_n": [2]}]}, "swisc", 8, "expected a layer index in 0..2"),
                    ({"layers": [{"layer": 0, "filter_n": [2]}, {"layer": 0, "filter_n": [2]}]}, "swisc", 8,
                     "not given before"),
                    ({"layers": [{"layer": 0, "filter_n": [0, 9]}]}, "swisc", 8, "expected shift counts in 1..8"),
                    ({"layers": [{"layer": 0, "filter_n": [True]}]}, "swisc", 8, "expected shift counts in 1..8"),
                    ({"layers": []}, "swisc", 8, "expected at least one layer"),
                    ({"group_size": "8"}, "swisc", 8, "field 'group_size': expected int")):
                with self.subTest(want):
                    with self.assertRaisesRegex(ValueError, want):
                        read(dict(doc, **change), variant, m)
            with open(os.path.join(tmp, "bad.json"), "w") as f:
                f.write("{")
            with self.assertRaisesRegex(ValueError, "bad.json: expected a JSON schedule"):
                sq.read_schedule(os.path.join(tmp, "bad.json"), "swis")
        with self.assertRaisesRegex(ValueError, "a model file's schedule is in groups of 4"):
            sq.read_schedule("any.cimvp", "swis", 8)

    def test_fc1_groups_follow_the_model_files_input_order(self):
        q = self.qnet(3, "swis")
        self.assertEqual([layer.fc for layer in q.layers], [False, False, True, True])

    def test_groups_of_m_train_and_export_at_m(self):
        torch.manual_seed(0)
        q = quant.QNet(model.FloatNet(), "int8", swis_shifts=2, swis_variant="swisc", swis_group_size=2)
        q.calibrate(torch.randint(0, 256, (8, 1, 28, 28)).float().numpy())
        im = export.export(q, "swis-m2")
        for i, L in enumerate(im.layers):
            w, fc = layer_weights_4d(L)
            self.assertTrue(torch.equal(sq.decompose_weights(w, 2, "swisc", fc=fc, group_size=2), w), i)
            if L.in_c > 1:  # conv1's one input channel makes a group of 1 at any M
                self.assertFalse(torch.equal(sq.decompose_weights(w, 2, "swisc", fc=fc), w), i)  # not at M = 4
        with self.assertRaisesRegex(ValueError, "expected the PE array's 4 with wgt"):
            quant.QNet(model.FloatNet(), "int8", swis_shifts=2, swis_variant="wgt", swis_group_size=8)
        with self.assertRaisesRegex(ValueError, "group size: expected an integer M in 1..16"):
            quant.QNet(model.FloatNet(), "int8", swis_shifts=2, swis_group_size=32)

    def test_act_quantization_truncates_the_inputs_and_exports_the_integer_engines_act_network(self):
        """int8_swis_variant act at N, calibrated as its fine-tuning starts (test_import trains a graph through
        it): the weights stay the plain int8 QAT's (the export is plain int8), every layer reads its input codes
        at their top N bits, so the fake-quant forward predicts what the integer engine predicts with act_masks
        at N (what `cimvp swis` runs as Act; the test above), not what it predicts without them. Each
        activation step is calibrated for the truncated codes and kept (smaller than the plain QAT's, not
        learned), and the Act network is more accurate than the plain one read at N bits; at N = 8 nothing is
        truncated and the steps learn as plain int8 QAT's do. Act takes no groups and no schedule."""
        fnet = model.FloatNet()
        fnet.load_state_dict(torch.load(os.path.join(REPO, "models", "fmnist-float.pt")))
        calib = data.load("train")[0][:256]
        x, y = data.load("test")
        x, y = x[:300], y[:300]
        plain = quant.QNet(fnet, "int8")
        plain.calibrate(calib)
        q = quant.QNet(fnet, "int8", swis_shifts=2, swis_variant="act")
        q.calibrate(calib)
        im, pm = export.export(q, "act2"), export.export(plain, "plain")
        for a, b in zip(pm.layers, im.layers):
            self.assertTrue(np.array_equal(a.weights, b.weights))
        for a, b in zip(plain.layers[:-1], q.layers[:-1]):
            self.assertLess(b.act.step(), a.act.step())
            self.assertFalse(b.act.log_s.requires_grad)  # kept while the weights learn
        at8 = quant.QNet(fnet, "int8", swis_shifts=8, swis_variant="act")  # N = 8 drops no bit: plain int8 QAT
        self.assertTrue(all(L.act.keep_bits == 0 and L.act.log_s.requires_grad for L in at8.layers[:-1]))
        fake = q.eval()(torch.as_tensor(x).float()).argmax(1).numpy()
        masked = engine.predict(engine.run(im, x, masks=sq.act_masks(im, 2))).numpy()
        whole = engine.predict(engine.run(im, x)).numpy()
        agree = float((fake == masked).mean())
        self.assertGreaterEqual(agree, 0.97)
        self.assertLess(float((fake == whole).mean()), agree - 0.05)
        plain_at_2 = engine.predict(engine.run(pm, x, masks=sq.act_masks(pm, 2))).numpy()
        self.assertGreater(float((masked == y).mean()), float((plain_at_2 == y).mean()))
        with self.assertRaisesRegex(ValueError, "expected the PE array's 4 with act"):
            quant.QNet(fnet, "int8", swis_shifts=2, swis_variant="act", swis_group_size=8)
        with self.assertRaisesRegex(ValueError, "expected swis_shifts 0 and variant swis or swisc"):
            quant.QNet(fnet, "int8", swis_variant="act", swis_schedule=[[2] * 32, [2] * 64, [2] * 128, [2] * 10])

    def test_swis_is_refused_outside_the_int8_scheme(self):
        with self.assertRaises(ValueError):
            quant.QNet(model.FloatNet(), "bwma", swis_shifts=2)
        with self.assertRaises(ValueError):
            quant.QNet(model.FloatNet(), "bwma", swis_group_size=8)
        with self.assertRaises(ValueError):
            quant.QNet(model.FloatNet(), "int8", swis_shifts=2, swis_variant="nope")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
