#!/usr/bin/python3
"""Fast unit tests of the front end: the integer fake-quant engine against the numeric
contract (docs/numerics.md), cell encodings, and the model file format."""
import os
import random
import sys
import unittest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cimvp_frontend import engine, model, modelfile, numerics as nx, quant, settings  # noqa: E402
from cimvp_frontend.modelfile import (KIND_ADD, KIND_CONCAT, KIND_CONV, KIND_FC, KIND_POOL, POOL_AVG,  # noqa: E402
                                      POOL_GLOBAL, POOL_MAX, IntLayer, IntModel, TensorNode)

torch.set_num_threads(1)
T = torch.tensor


def ref_level(w, j, w_bits, binary, cell_bits):
    if binary:
        return (w + 1) // 2
    u = w + (1 << (w_bits - 1))
    return (u >> (j * cell_bits)) & ((1 << cell_bits) - 1)


def ref_matrix(x, w, a_bits, w_bits, binary, rows_per_tile, hw, step=None, base=None, col_mult=None):
    """sw/reference/reference.cpp transcribed with Python integers, scalar by scalar.
    x [N][K], w [M][K] nested lists; step/base [rt][m][j] or None (unit)."""
    N, K, M = len(x), len(x[0]), len(w)
    R = rows_per_tile or hw.rows
    S = 1 if binary else -(-w_bits // hw.cell_bits)
    dac = min(hw.dac_bits, a_bits)
    steps = -(-a_bits // dac)
    ws, off = (2, 1) if binary else (1, 1 << (w_bits - 1))
    Fb = hw.frac_bits
    out = []
    for v in range(N):
        acc = [0] * M
        for rt in range(-(-K // R)):
            rows = range(rt * R, min(K, (rt + 1) * R))
            input_sum = sum(x[v][r] for r in rows)
            for m in range(M):
                fx = 0
                for t in range(steps):
                    n_t = min(dac, a_bits - t * dac)
                    for j in range(S):
                        psum = sum(((x[v][r] >> (t * dac)) & ((1 << n_t) - 1)) *
                                   ref_level(w[m][r], j, w_bits, binary, hw.cell_bits) for r in rows)
                        st = (1 << Fb) if step is None else int(step[rt][m][j])
                        bs = 0 if base is None else int(base[rt][m][j])
                        code = (2 * ((psum << Fb) - bs) + st) // (2 * st)
                        code = min(max(code, 0), (1 << hw.adc_bits) - 1)
                        fx += (bs + code * st) << (t * dac + j * (0 if binary else hw.cell_bits))
                rounded = fx if Fb == 0 else (fx + (1 << (Fb - 1))) >> Fb
                partial = ws * rounded - off * input_sum
                acc[m] += (1 if col_mult is None else int(col_mult[rt][m])) * partial
        out.append(acc)
    return out


def random_weights(rng, M, K, w_bits, binary):
    if binary:
        return rng.choice([-1, 1], size=(M, K))
    return rng.integers(-(1 << (w_bits - 1)), 1 << (w_bits - 1), size=(M, K))


class RoundingTest(unittest.TestCase):
    def test_round_half_up_div_ties_go_up(self):
        n = T([1, 3, -1, -3, 5, -5, 0, 7, -7])
        # n / 2: 0.5 -> 1, 1.5 -> 2, -0.5 -> 0, -1.5 -> -1, 2.5 -> 3, -2.5 -> -2, 0, 3.5 -> 4, -3.5 -> -3
        self.assertEqual(nx.round_half_up_div(n, 2).tolist(), [1, 2, 0, -1, 3, -2, 0, 4, -3])

    def test_round_half_up_div_matches_floor_formula(self):
        rng = random.Random(1)
        nums = [rng.randint(-10**12, 10**12) for _ in range(2000)]
        dens = [rng.randint(1, 10**6) for _ in range(2000)]
        got = nx.round_half_up_div(T(nums), T(dens)).tolist()
        self.assertEqual(got, [(2 * n + d) // (2 * d) for n, d in zip(nums, dens)])

    def test_round_half_up_shift_floor_semantics(self):
        v = T([-3, -5, -4, -6, 3, 5, 6, -1, 1, -2**40 - 1])
        # -1.5 -> -1, -1.25 -> -1, -1 -> -1, -1.5 -> -1, 1.5 -> 2, 1.25 -> 1, 1.5 -> 2, -0.5 -> 0, 0.5 -> 1
        self.assertEqual(nx.round_half_up_shift(v[:4], 1).tolist(), [-1, -2, -2, -3])
        self.assertEqual(nx.round_half_up_shift(T([-5]), 2).tolist(), [-1])
        self.assertEqual(nx.round_half_up_shift(T([-6, 6, -2, 2]), 2).tolist(), [-1, 2, 0, 1])
        self.assertEqual(nx.round_half_up_shift(v, 0).tolist(), v.tolist())
        rng = random.Random(2)
        vals = [rng.randint(-2**50, 2**50) for _ in range(1000)]
        for s in (1, 7, 24, 40):
            self.assertEqual(nx.round_half_up_shift(T(vals), s).tolist(),
                             [(x + (1 << (s - 1))) >> s for x in vals])


class AdcTest(unittest.TestCase):
    F = 8

    def code(self, psum, step_lsb_fx, base_fx, bits=4):
        return nx.adc_code(T([psum << self.F]), T(step_lsb_fx), T(base_fx), bits).item()

    def test_half_steps_round_up(self):
        step = 3 << self.F  # 3 LSB
        # distance 1.5 LSB = half a step -> code 1; just below -> 0
        self.assertEqual(nx.adc_code(T([384]), T(step), T(0), 4).item(), 1)
        self.assertEqual(nx.adc_code(T([383]), T(step), T(0), 4).item(), 0)
        # 4.5 steps -> 5
        self.assertEqual(nx.adc_code(T([int(4.5 * step)]), T(step), T(0), 4).item(), 5)
        # a fractional step (1.5 LSB = 384): psum 3 LSB is exactly 2 steps; 3.75 LSB = 2.5 steps -> 3
        self.assertEqual(nx.adc_code(T([3 << 8]), T(384), T(0), 4).item(), 2)
        self.assertEqual(nx.adc_code(T([960]), T(384), T(0), 4).item(), 3)

    def test_negative_half_step_below_base(self):
        step, base = 512, 10 << 8
        # half a step below the base rounds up to code 0; one and a half clamps to 0 too
        self.assertEqual(nx.adc_code(T([base - 256]), T(step), T(base), 4).item(), 0)
        self.assertEqual(nx.round_half_up_div(T([-256]), T(step)).item(), 0)
        self.assertEqual(nx.round_half_up_div(T([-768]), T(step)).item(), -1)
        self.assertEqual(nx.adc_code(T([base - 768]), T(step), T(base), 4).item(), 0)

    def test_clamping(self):
        step, base = 256, 0
        self.assertEqual(nx.adc_code(T([15 << 8]), T(step), T(base), 4).item(), 15)
        self.assertEqual(nx.adc_code(T([16 << 8]), T(step), T(base), 4).item(), 15)
        self.assertEqual(nx.adc_code(T([10**9]), T(step), T(base), 4).item(), 15)
        self.assertEqual(nx.adc_code(T([-(10**9)]), T(step), T(base), 4).item(), 0)
        self.assertEqual(nx.adc_value(T(15), T(step), T(5 << 8)).item(), (5 + 15) << 8)

    def test_adc_layer_matches_scalar_reference(self):
        """Lossy ADC tables, column multipliers, several row tiles and steps: the tensor engine
        against sw/reference/reference.cpp transcribed scalar by scalar."""
        rng = np.random.default_rng(3)
        cases = [
            dict(K=23, M=5, a_bits=4, w_bits=4, binary=False, rows=9, hw=engine.Hardware(cell_bits=2, dac_bits=4, adc_bits=4)),
            dict(K=30, M=4, a_bits=8, w_bits=4, binary=False, rows=9, hw=engine.Hardware(cell_bits=2, dac_bits=4, adc_bits=4)),
            dict(K=40, M=3, a_bits=3, w_bits=5, binary=False, rows=16, hw=engine.Hardware(cell_bits=2, dac_bits=2, adc_bits=3, frac_bits=4)),
            dict(K=33, M=6, a_bits=4, w_bits=1, binary=True, rows=0, hw=engine.Hardware(rows=16, cell_bits=1, dac_bits=1, adc_bits=3)),
            dict(K=17, M=3, a_bits=2, w_bits=3, binary=False, rows=5, hw=engine.Hardware(cell_bits=1, dac_bits=1, adc_bits=2, frac_bits=0)),
        ]
        for c in cases:
            hw = c["hw"]
            K, M = c["K"], c["M"]
            R = c["rows"] or hw.rows
            rt = -(-K // R)
            S = 1 if c["binary"] else -(-c["w_bits"] // hw.cell_bits)
            x = rng.integers(0, 1 << c["a_bits"], size=(7, K))
            w = random_weights(rng, M, K, c["w_bits"], c["binary"])
            one = 1 << hw.frac_bits
            step = rng.integers(max(1, one // 3), 4 * one, size=(rt, M, S))
            base = rng.integers(0, 6 * one, size=(rt, M, S))
            cm = rng.integers(1, 5000, size=(rt, M))
            got = engine.tiled_matrix(T(x), T(w), a_bits=c["a_bits"], w_bits=c["w_bits"], binary=c["binary"],
                                      hw=hw, rows_per_tile=c["rows"], col_mult=cm, adc_step=step, adc_base=base)
            want = ref_matrix(x.tolist(), w.tolist(), c["a_bits"], c["w_bits"], c["binary"], c["rows"], hw,
                              step.tolist(), base.tolist(), cm.tolist())
            self.assertEqual(got.tolist(), want, c)


class CellEncodingTest(unittest.TestCase):
    def test_offset_encoding_slices(self):
        for w_bits, cell in [(4, 2), (8, 1), (8, 2), (3, 2), (5, 2), (2, 1)]:
            w = torch.arange(-(1 << (w_bits - 1)), 1 << (w_bits - 1))
            sl = nx.offset_slices(w, w_bits, cell)
            self.assertEqual(len(sl), -(-w_bits // cell))
            for s in sl:
                self.assertTrue(bool(((s >= 0) & (s < (1 << cell))).all()))
            back = sum(s * (1 << (j * cell)) for j, s in enumerate(sl)) - (1 << (w_bits - 1))
            self.assertEqual(back.tolist(), w.tolist())
        # 4-bit weights in 2-bit cells: u = w + 8, low slice then high slice
        sl = nx.offset_slices(T([-8, -1, 0, 5, 7]), 4, 2)
        self.assertEqual(sl[0].tolist(), [0, 3, 0, 1, 3])
        self.assertEqual(sl[1].tolist(), [0, 1, 2, 3, 3])

    def test_binary_weights(self):
        self.assertEqual(nx.binary_level(T([-1, 1, 1, -1])).tolist(), [0, 1, 1, 0])
        rng = np.random.default_rng(4)
        x = rng.integers(0, 16, size=(20, 150))
        w = rng.choice([-1, 1], size=(9, 150))
        hw = engine.Hardware(cell_bits=1, dac_bits=1, adc_bits=8)
        got = engine.tiled_matrix(T(x), T(w), a_bits=4, w_bits=1, binary=True, hw=hw)
        self.assertEqual(got.tolist(), (x @ w.T).tolist())
        # 2 * sum(b x) - sum(x) = sum(w x)
        b = (w + 1) // 2
        self.assertEqual((2 * (x @ b.T) - x.sum(1, keepdims=True)).tolist(), (x @ w.T).tolist())


class BinaryFormTest(unittest.TestCase):
    """The binary weight forms of BWMA's study (settings.BINARY_FORMS): BWMA's closed form, the plain sign,
    XNOR-Net's per-output-channel mean |W|, each with a straight-through gradient."""

    def setUp(self):
        g = torch.Generator().manual_seed(3)
        self.w = (torch.randn(4, 3, 3, 3, generator=g) + 0.2).requires_grad_()

    def test_sign_has_no_scale_and_no_offset(self):
        wb, b, alpha, beta = quant.binarize(self.w, "sign")
        self.assertTrue(torch.equal(b, torch.where(self.w >= 0, 1.0, -1.0)))
        self.assertTrue(torch.equal(wb.detach(), b))
        self.assertTrue(torch.equal(alpha, torch.ones(4)) and torch.equal(beta, torch.zeros(4)))

    def test_xnor_scales_each_output_channel_by_its_mean_magnitude(self):
        wb, b, alpha, beta = quant.binarize(self.w, "xnor")
        want = self.w.detach().abs().flatten(1).mean(1)
        self.assertTrue(torch.allclose(alpha, want))
        self.assertTrue(torch.allclose(wb.detach(), want.view(-1, 1, 1, 1) * b))
        self.assertTrue(torch.equal(beta, torch.zeros(4)))

    def test_closed_form_is_bwmas_per_layer_fit(self):
        wb, b, alpha, beta = quant.binarize(self.w, "closed_form")
        mean = self.w.detach().mean()
        self.assertTrue(torch.allclose(beta, mean.expand(4)))
        self.assertTrue(torch.allclose(alpha, (self.w.detach() - mean).abs().mean().expand(4)))
        self.assertTrue(torch.equal(b, torch.where(self.w.detach() - mean >= 0, 1.0, -1.0)))

    def test_every_form_passes_the_gradient_straight_through(self):
        for form in settings.BINARY_FORMS:
            self.w.grad = None
            quant.binarize(self.w, form)[0].sum().backward()
            self.assertTrue(torch.equal(self.w.grad, torch.ones_like(self.w)), form)

    def test_an_unknown_form_or_activation_width_is_refused(self):
        with self.assertRaisesRegex(ValueError, "expected one of closed_form, sign, xnor"):
            quant.binarize(self.w, "ternary")
        with self.assertRaisesRegex(ValueError, r"soft_bits 9: expected an integer in \[1, 8\]"):
            quant.QNet(model.FloatNet(), "bwma", soft_bits=9)

    def test_plain_signs_batch_norm_statistics_are_re_estimated_on_the_calibration_images(self):
        torch.manual_seed(0)
        fnet = model.FloatNet().eval()
        images = torch.randint(0, 256, (32, 1, 28, 28)).float()
        for form, renewed in (("sign", True), ("closed_form", False)):
            q = quant.QNet(fnet, "bwma", binary_form=form)
            before = q.layers[1].bn.running_mean.clone()
            q.calibrate(images)
            bn = q.layers[1].bn
            self.assertEqual(bn.momentum, fnet.bn2.momentum, form)
            if not renewed:
                self.assertTrue(torch.equal(bn.running_mean, before), form)
                continue
            q.eval()
            with torch.no_grad():  # the pre-BN output of the binary conv on the calibrated first layer's codes
                x, s = q.layers[0](images, quant.INPUT_SCALE)
                z = F.conv2d(x, quant.binarize(q.layers[1].weight, "sign")[0], padding=1) * s
            self.assertTrue(torch.allclose(bn.running_mean, z.mean((0, 2, 3)), rtol=1e-4, atol=1e-4))

    def test_the_activation_bits_reach_the_binary_layers_inputs(self):
        q = quant.QNet(model.FloatNet(), "bwma", soft_bits=2, binary_form="xnor")
        self.assertEqual(q.a_bits, [8, 2, 2, 8])
        self.assertEqual([a.bits for a in q.act_quants()], [2, 2, 8])
        self.assertEqual({layer.binary_form for layer in q.layers if layer.wmode == "binary"}, {"xnor"})


class SettingsTest(unittest.TestCase):
    """train_all.py --set: every setting parsed to its type and checked, a refusal naming what it expects."""

    def test_valid_settings_are_parsed(self):
        cfg = dict(settings.FULL)
        self.assertIsNone(settings.apply(cfg, "bwma_a_bits", "6"))
        self.assertIsNone(settings.apply(cfg, "bwma_weights", "xnor"))
        self.assertIsNone(settings.apply(cfg, "clip_sigmas", "1,2,3,4"))
        self.assertEqual((cfg["bwma_a_bits"], cfg["bwma_weights"], cfg["clip_sigmas"]), (6, "xnor", (1, 2, 3, 4)))

    def test_bad_settings_say_what_they_expect(self):
        cfg = dict(settings.FULL)
        for key, text, msg in (("bwma_a_bits", "0", "bwma_a_bits: expected an integer in [1, 8], got '0'"),
                               ("bwma_a_bits", "4.5", "bwma_a_bits: expected an integer, got '4.5'"),
                               ("bwma_weights", "ternary", "bwma_weights: expected one of closed_form, sign, xnor"),
                               ("bwma_lr", "-1", "bwma_lr: expected a number >= 0"),
                               ("clip_sigmas", "1,2", "clip_sigmas: expected a number > 0 or 4 of them"),
                               ("col_var_sigma", "1.5", "col_var_sigma: expected a number in [0, 1], got '1.5'"),
                               ("int8_swis_group_size", "0", "int8_swis_group_size: expected an integer in [1, 16]"),
                               ("bwma_bits", "4", "unknown setting bwma_bits (expected one of bwma_a_bits")):
            self.assertIn(msg, settings.apply(cfg, key, text))
        self.assertEqual(cfg, settings.FULL, "a refused setting changes nothing")


class LosslessTest(unittest.TestCase):
    def test_unit_tables_equal_integer_matmul(self):
        rng = np.random.default_rng(5)
        for i in range(40):
            cell = int(rng.integers(1, 3))
            dac = int(rng.integers(1, 9))
            rows = int(rng.integers(1, 200))
            binary = bool(rng.integers(0, 4) == 0)
            w_bits = 1 if binary else int(rng.integers(2, 9))
            a_bits = int(rng.integers(1, 9))
            K, M = int(rng.integers(1, 400)), int(rng.integers(1, 40))
            d = min(dac, a_bits)
            adc_bits = int(np.ceil(np.log2(rows * ((1 << d) - 1) * ((1 << cell) - 1) + 1)))
            hw = engine.Hardware(rows=rows, cell_bits=cell, dac_bits=dac, adc_bits=max(1, adc_bits),
                                 frac_bits=int(rng.integers(0, 17)))
            self.assertTrue(engine.is_lossless(K, a_bits, w_bits, binary, 0, hw))
            x = rng.integers(0, 1 << a_bits, size=(11, K))
            w = random_weights(rng, M, K, w_bits, binary)
            got = engine.tiled_matrix(T(x), T(w), a_bits=a_bits, w_bits=w_bits, binary=binary, hw=hw)
            self.assertEqual(got.tolist(), (x @ w.T).tolist(), (cell, dac, rows, binary, w_bits, a_bits, K, M))

    def test_exact_product_large_sums(self):
        """The chunked float32 product is exact up to the largest int8 fc sums."""
        rng = np.random.default_rng(12)
        x = rng.integers(200, 256, size=(5, 3136))
        w = rng.choice([-128, 127], size=(7, 3136))
        w[0] = -128
        w[1] = 127
        got = engine.exact_matrix(T(x), T(w), 8)
        self.assertEqual(got.tolist(), (x @ w.T).tolist())
        self.assertGreater(abs(int(got[0, 0])), 1 << 26)

    def test_conv_layer_equals_integer_conv(self):
        rng = np.random.default_rng(6)
        L = IntLayer(kind=KIND_CONV, in_c=3, in_h=9, in_w=8, out_c=5, kernel=3, stride=2, padding=1,
                     a_in_bits=8, w_bits=8, relu=1, a_out_bits=8, shift=0)
        w = rng.integers(-128, 128, size=(5, 27))
        L.weights = w.astype(np.int8)
        L.bias = np.zeros(5, np.int64)
        L.mult = np.ones(5, np.int32)
        L.mult_x = np.zeros(5, np.int32)
        x = rng.integers(0, 256, size=(4, 3, 9, 8))
        hw = engine.Hardware(rows=128, cell_bits=1, dac_bits=1, adc_bits=8)
        want = F.conv2d(T(x).double(), T(w).double().view(5, 3, 3, 3), stride=2, padding=1).round().long()
        for force in (False, True):
            vec = engine.im2col(T(x), L)
            acc = engine.exact_matrix(vec, T(w)) if not force else \
                engine.tiled_matrix(vec, T(w), a_bits=8, w_bits=8, binary=False, hw=hw)
            got = acc.view(4, 5, 4, 5).permute(0, 3, 1, 2)
            self.assertTrue(torch.equal(got, want))


class PostProcessingTest(unittest.TestCase):
    def test_requant_relu_pool(self):
        L = IntLayer(kind=KIND_FC, in_c=2, in_h=1, in_w=1, out_c=4, a_in_bits=4, w_bits=2, relu=1, a_out_bits=2,
                     shift=2)
        L.weights = np.array([[1, 0], [1, 0], [1, 0], [-1, 0]], np.int8)
        L.mult = np.array([1, 1, 1, 1], np.int32)
        L.mult_x = np.array([0, 0, 1, 0], np.int32)
        L.bias = np.array([0, 2, 0, 0], np.int64)
        x = T([[[[6]], [[1]]]])  # acc = 6, 6, 6, -6; Sx = 7
        y = engine.layer_forward(x, L, engine.Hardware(cell_bits=1, dac_bits=1))
        # 6/4 = 1.5 -> 2; (6+2)/4 = 2; (6+7)/4 = 3.25 -> 3; -6/4 = -1.5 -> -1 -> clamp 0
        self.assertEqual(y.flatten().tolist(), [2, 2, 3, 0])

    def test_avg_pool_rounds_half_up(self):
        L = IntLayer(kind=KIND_CONV, in_c=1, in_h=2, in_w=2, out_c=1, kernel=1, padding=0, a_in_bits=4, w_bits=2,
                     relu=1, a_out_bits=4, pool=POOL_AVG, pool_size=2, pool_stride=2, shift=0)
        L.weights = np.array([[1]], np.int8)
        L.mult, L.mult_x, L.bias = np.array([1], np.int32), np.array([0], np.int32), np.array([0], np.int64)
        hw = engine.Hardware(cell_bits=1, dac_bits=1)
        self.assertEqual(engine.layer_forward(T([[[[1, 2], [3, 4]]]]), L, hw).item(), 3)  # 10/4 = 2.5 -> 3
        self.assertEqual(engine.layer_forward(T([[[[1, 1], [3, 4]]]]), L, hw).item(), 2)  # 9/4 = 2.25 -> 2
        L.pool = POOL_MAX
        self.assertEqual(engine.layer_forward(T([[[[1, 1], [3, 4]]]]), L, hw).item(), 4)

    def test_argmax_lowest_index_on_tie(self):
        self.assertEqual(engine.predict(T([[3, 7, 7, 1], [-1, -1, -2, -5]])).tolist(), [1, 0])


def small_model(rng, with_tables=True):
    m = IntModel(name="fmnist-test", scheme="columnwise" if with_tables else "int8", in_c=1, in_h=6, in_w=6,
                 in_bits=8, num_classes=3, cell_bits=2 if with_tables else 0, dac_bits=4 if with_tables else 0,
                 adc_bits=4 if with_tables else 0, frac_bits=8)
    c = IntLayer(kind=KIND_CONV, in_c=1, in_h=6, in_w=6, out_c=4, kernel=3, stride=1, padding=1, a_in_bits=8,
                 w_bits=4, relu=1, a_out_bits=4, pool=POOL_MAX, pool_size=2, pool_stride=2, shift=10,
                 rows_per_tile=9 if with_tables else 0)
    c.weights = rng.integers(-8, 8, size=(4, 9)).astype(np.int8)
    c.bias = rng.integers(-10**6, 10**6, size=4)
    c.mult = rng.integers(1, 2**12, size=4).astype(np.int32)
    c.mult_x = np.zeros(4, np.int32)
    f = IntLayer(kind=KIND_FC, in_c=4, in_h=3, in_w=3, out_c=3, a_in_bits=4, w_bits=4, relu=0, a_out_bits=0,
                 rows_per_tile=16 if with_tables else 0)
    f.weights = rng.integers(-8, 8, size=(3, 36)).astype(np.int8)
    f.bias = rng.integers(-2**40, 2**40, size=3)
    f.mult = rng.integers(-2**31, 2**31, size=3).astype(np.int32)
    f.mult_x = rng.integers(-5, 5, size=3).astype(np.int32)
    if with_tables:
        for L, rt in ((c, 1), (f, 3)):
            L.col_mult = rng.integers(0, 4097, size=(rt, L.M)).astype(np.int32)
            L.adc_step = rng.integers(1, 5000, size=(rt, L.M, 2))
            L.adc_base = rng.integers(0, 50000, size=(rt, L.M, 2))
    m.layers = [c, f]
    return m


class ModelFileTest(unittest.TestCase):
    def assert_models_equal(self, a, b):
        for k in ("name", "scheme", "in_c", "in_h", "in_w", "in_bits", "num_classes", "cell_bits", "dac_bits",
                  "adc_bits", "frac_bits"):
            self.assertEqual(getattr(a, k), getattr(b, k), k)
        self.assertEqual(len(a.layers), len(b.layers))
        for la, lb in zip(a.layers, b.layers):
            for k, v in vars(la).items():
                w = getattr(lb, k)
                if k == "swis" and v is not None and w is not None:
                    self.assertEqual((v.variant, v.schedule_cols, bytes(v.packed)), (w.variant, w.schedule_cols,
                                                                                     bytes(w.packed)))
                    self.assertTrue(np.array_equal(v.filter_n, w.filter_n))
                    continue
                if isinstance(v, np.ndarray) or isinstance(w, np.ndarray):
                    self.assertTrue(v is not None and w is not None and np.array_equal(v, w), k)
                else:
                    self.assertEqual(v, w, k)

    def test_fnv1a64_vectors(self):
        self.assertEqual(nx.fnv1a64(b""), 0xCBF29CE484222325)
        self.assertEqual(nx.fnv1a64(b"a"), 0xAF63DC4C8601EC8C)
        self.assertEqual(nx.fnv1a64(b"foobar"), 0x85944171F73967E8)

    def test_round_trip(self):
        rng = np.random.default_rng(7)
        for tables in (True, False):
            m = small_model(rng, tables)
            data = modelfile.to_bytes(m)
            self.assertEqual(data[:8], b"CIMVPMDL")
            self.assertEqual(data[-8:], b"CIMVPEND")
            self.assertEqual(int.from_bytes(data[-16:-8], "little"), nx.fnv1a64(data[:-16]))
            back = modelfile.from_bytes(data)
            self.assert_models_equal(m, back)
            self.assertEqual(modelfile.to_bytes(back), data)
            x = rng.integers(0, 256, size=(3, 1, 6, 6))
            self.assertTrue(torch.equal(engine.run(m, x), engine.run(back, x)))

    def swis_model(self, rng):
        """small_model with its first layer 8-bit and stored as SWIS groups (format v2)."""
        m = small_model(rng, False)
        c = m.layers[0]
        c.w_bits = 8
        n = np.array([3, 3, 2, 2], np.uint8)
        c.swis = modelfile.SwisStorage(variant=modelfile.SWIS, schedule_cols=2, filter_n=n,
                                       packed=bytes(rng.integers(0, 256, size=modelfile.swis_packed_bytes(
                                           c, n, modelfile.SWIS)).astype(np.uint8)))
        return m

    def test_version2_swis_storage_round_trips(self):
        m = self.swis_model(np.random.default_rng(21))
        data = modelfile.to_bytes(m)
        self.assertEqual(int.from_bytes(data[8:12], "little"), 2)
        back = modelfile.from_bytes(data)
        self.assert_models_equal(m, back)
        self.assertEqual(modelfile.to_bytes(back), data)
        self.assertIsNone(back.layers[1].swis)
        # conv 1 -> 4, 3x3: 9 groups per filter; 2 filters at N = 3 (25 bits), 2 at N = 2 (18 bits)
        self.assertEqual(len(back.layers[0].swis.packed), -(-(9 * (2 * 25 + 2 * 18)) // 8))
        # without SWIS storage the writer stays at version 1
        self.assertEqual(int.from_bytes(modelfile.to_bytes(small_model(np.random.default_rng(22)))[8:12], "little"), 1)

    def test_version2_bad_swis_fields_are_rejected(self):
        m = self.swis_model(np.random.default_rng(23))
        m.layers[0].swis.filter_n[1] = 9
        m.layers[0].swis.packed = bytes(modelfile.swis_packed_bytes(m.layers[0], m.layers[0].swis.filter_n, 0))
        with self.assertRaisesRegex(modelfile.ModelFileError, r"layer 0: filter_n\[1\]: expected 1..8, got 9"):
            modelfile.from_bytes(modelfile.to_bytes(m))
        m = self.swis_model(np.random.default_rng(24))
        data = bytearray(modelfile.to_bytes(m))
        # the first layer's packed_bytes field sits right before its packed stream
        n = len(m.layers[0].swis.packed)
        at = bytes(data).find(bytes(m.layers[0].swis.packed)) - 4
        data[at:at + 4] = (n + 1).to_bytes(4, "little")
        data[-16:-8] = nx.fnv1a64(bytes(data[:-16])).to_bytes(8, "little")
        with self.assertRaisesRegex(modelfile.ModelFileError, f"packed_bytes: expected {n} for these filter_n, got {n + 1}"):
            modelfile.from_bytes(bytes(data))

    def test_layout_offsets(self):
        m = small_model(np.random.default_rng(8), True)
        data = modelfile.to_bytes(m)
        header = 8 + 4 * 2 + 4 * 3 + 4 * 2 + 16 + 32 + 4 * 4
        layer_hdr = 4 * 20
        conv = layer_hdr + 4 * 9 + 8 * 4 + 4 * 4 + 4 * 4 + 4 * 1 * 4 + 2 * 8 * 1 * 4 * 2
        fc = layer_hdr + 3 * 36 + 8 * 3 + 4 * 3 + 4 * 3 + 4 * 3 * 3 + 2 * 8 * 3 * 3 * 2
        self.assertEqual(len(data), header + conv + fc + 16)
        self.assertEqual(int.from_bytes(data[header:header + 4], "little"), KIND_CONV)
        self.assertEqual(data[36:36 + 10], b"columnwise")  # after magic, version, n_layers, shape, bits, classes

    def test_corrupted_byte_is_rejected(self):
        data = bytearray(modelfile.to_bytes(small_model(np.random.default_rng(9), True)))
        for pos in (20, 150, len(data) - 17):
            bad = bytearray(data)
            bad[pos] ^= 0x01
            with self.assertRaisesRegex(modelfile.ModelFileError, "checksum"):
                modelfile.from_bytes(bytes(bad), "x.cimvp")

    def test_malformed_files(self):
        data = modelfile.to_bytes(small_model(np.random.default_rng(10), False))
        with self.assertRaisesRegex(modelfile.ModelFileError, "truncated"):
            modelfile.from_bytes(data[:50])
        with self.assertRaisesRegex(modelfile.ModelFileError, "end marker"):
            modelfile.from_bytes(data[:-1] + b"X")
        bad = b"CIMVPMDX" + data[8:]
        with self.assertRaisesRegex(modelfile.ModelFileError, "magic"):
            modelfile.from_bytes(bad)
        with self.assertRaises(modelfile.ModelFileError):
            modelfile.from_bytes(data[:-40] + data[-16:])


def conv_node(rng, inputs, in_c, h, w, out_c, k=3, stride=1, padding=1, groups=1, relu=1, pool=0, shift=12,
              mult_x=False):
    L = IntLayer(kind=KIND_CONV, in_c=in_c, in_h=h, in_w=w, out_c=out_c, kernel=k, stride=stride, padding=padding,
                 a_in_bits=8, w_bits=8, relu=relu, a_out_bits=8 if relu else 0, shift=shift if relu else 0,
                 pool=POOL_MAX if pool else 0, pool_size=pool, pool_stride=pool, groups=groups, inputs=inputs)
    L.weights = rng.integers(-128, 128, size=(out_c, L.K)).astype(np.int8)
    L.bias = rng.integers(-2**20, 2**20, size=out_c)
    L.mult = rng.integers(1, 2**10, size=out_c).astype(np.int32)
    L.mult_x = (rng.integers(-50, 50, size=out_c) if mult_x else np.zeros(out_c)).astype(np.int32)
    return L


def tensor_node(kind, inputs, shape, out_c, mult, bias, shift=4, pool=0, size=0, stride=0):
    c, h, w = shape
    return TensorNode(kind=kind, inputs=inputs, in_c=c, in_h=h, in_w=w, out_c=out_c, a_out_bits=8, shift=shift,
                      pool=pool, pool_size=size, pool_stride=stride, mult=np.array(mult, np.int32),
                      bias=np.array(bias, np.int64))


def graph_model(rng):
    """A residual, multi-branch graph: conv, depthwise and grouped convs, add, concat, pools, fc."""
    m = IntModel(name="graph-test", scheme="int8", in_c=3, in_h=8, in_w=8, in_bits=8, num_classes=4)
    m.layers = [
        conv_node(rng, [0], 3, 8, 8, 6),                                   # node 0: 6x8x8
        conv_node(rng, [1], 6, 8, 8, 6, groups=6, mult_x=True),           # node 1: depthwise
        tensor_node(KIND_ADD, [1, 2], (6, 8, 8), 6, [3, 5], [-40, 7]),    # node 2: residual add
        conv_node(rng, [3], 6, 8, 8, 4, k=1, padding=0, groups=2),        # node 3: grouped 1x1
        tensor_node(KIND_CONCAT, [3, 4], (6, 8, 8), 10, [1, 2], [0, -3], shift=1, pool=POOL_MAX, size=2,
                    stride=2),                                            # node 4: 10x4x4
        tensor_node(KIND_POOL, [5], (10, 4, 4), 10, [1], [0], shift=0, pool=POOL_AVG, size=2, stride=2),
        tensor_node(KIND_POOL, [6], (10, 2, 2), 10, [9], [5], shift=3, pool=POOL_GLOBAL),  # node 6: 10x1x1
        conv_node(rng, [7], 10, 1, 1, 4, k=1, padding=0, relu=0),        # node 7: logits
    ]
    m.layers[-1].kind = KIND_FC
    return m


def unchecked_bytes(model):
    """The writer's bytes without its graph checks: files the reader must refuse."""
    keep = modelfile.check_graph
    modelfile.check_graph = lambda *a: None
    try:
        return modelfile.to_bytes(model)
    finally:
        modelfile.check_graph = keep


class GraphNetworkTest(unittest.TestCase):
    def test_graph_round_trips_as_version_3(self):
        m = graph_model(np.random.default_rng(30))
        data = modelfile.to_bytes(m)
        self.assertEqual(int.from_bytes(data[8:12], "little"), 3)
        back = modelfile.from_bytes(data)
        self.assertEqual(modelfile.to_bytes(back), data)
        self.assertEqual([type(n).__name__ for n in back.layers], [type(n).__name__ for n in m.layers])
        self.assertEqual([n.inputs for n in back.layers], [n.inputs for n in m.layers])
        self.assertEqual(back.layers[1].groups, 6)
        x = np.random.default_rng(31).integers(0, 256, size=(5, 3, 8, 8))
        self.assertTrue(torch.equal(engine.run(m, x), engine.run(back, x)))

    def test_chain_stays_version_1_and_grouped_chain_is_version_3(self):
        rng = np.random.default_rng(32)
        m = small_model(rng, False)
        v1 = modelfile.to_bytes(m)
        for i, L in enumerate(m.layers):
            L.inputs = [i]  # naming the chain's inputs explicitly changes nothing
        self.assertEqual(modelfile.to_bytes(m), v1)
        self.assertEqual(int.from_bytes(v1[8:12], "little"), 1)
        m = IntModel(name="g", scheme="int8", in_c=4, in_h=4, in_w=4, num_classes=2)
        m.layers = [conv_node(rng, None, 4, 4, 4, 4, groups=2),
                    conv_node(rng, None, 4, 4, 4, 2, k=4, padding=0, relu=0)]
        data = modelfile.to_bytes(m)
        self.assertEqual(int.from_bytes(data[8:12], "little"), 3)
        self.assertEqual(modelfile.from_bytes(data).layers[1].inputs, [1])

    def test_grouped_conv_runs_in_blocks_through_the_tiled_path(self):
        """The fast grouped convolution equals the blocks of block-diagonal matrices read through the ADC
        path (lossless), and both equal a per-group integer convolution; Sx is the block's input sum."""
        rng = np.random.default_rng(33)
        for groups, in_c, out_c, k, rows in ((8, 8, 8, 3, 20), (4, 8, 12, 3, 128), (2, 6, 4, 1, 3), (3, 3, 6, 5, 16)):
            L = conv_node(rng, [0], in_c, 7, 6, out_c, k=k, padding=k // 2, stride=1 + (k == 5), groups=groups,
                          mult_x=True, shift=20)
            hw = engine.Hardware(rows=rows, cell_bits=1, dac_bits=1, adc_bits=8)
            x = T(rng.integers(0, 256, size=(3, in_c, 7, 6)))
            fast = engine.layer_forward(x, L, hw)
            tiled = engine.layer_forward(x, L, hw, force_tiled=True)
            self.assertTrue(torch.equal(fast, tiled), (groups, in_c, out_c, k, rows))
            Cg, Mg, Kg = in_c // groups, out_c // groups, L.K
            Gb = max(1, rows // Kg)
            w = T(L.weights.astype(np.int64)).view(out_c, Cg, k, k).double()
            acc = F.conv2d(x.double(), w, stride=L.stride, padding=L.padding, groups=groups).round().long()
            ones = torch.ones(in_c, 1, k, k, dtype=torch.float64)
            win = F.conv2d(x.double(), ones, stride=L.stride, padding=L.padding, groups=in_c).round().long()
            sx = torch.zeros_like(acc)
            for m in range(out_c):
                b = (m // Mg) // Gb
                c0, c1 = b * Gb * Cg, min(groups, (b + 1) * Gb) * Cg
                sx[:, m] = win[:, c0:c1].sum(1)
            col = lambda a: T(np.asarray(a).astype(np.int64)).view(1, -1, 1, 1)  # noqa: E731
            v = acc * col(L.mult) + sx * col(L.mult_x) + col(L.bias)
            want = torch.clamp(nx.round_half_up_shift(v, L.shift), 0, 255)
            self.assertTrue(torch.equal(fast, want), (groups, in_c, out_c, k, rows))

    def test_grouped_conv_on_a_lossy_adc_matches_the_scalar_reference_per_block(self):
        rng = np.random.default_rng(34)
        L = conv_node(rng, [0], 6, 3, 3, 6, k=3, padding=1, groups=6, shift=10)
        L.a_in_bits, L.w_bits = 4, 4
        L.weights = rng.integers(-8, 8, size=(6, 9)).astype(np.int8)
        hw = engine.Hardware(rows=20, cell_bits=2, dac_bits=2, adc_bits=3, frac_bits=8)  # not lossless
        x = T(rng.integers(0, 16, size=(2, 6, 3, 3)))
        got = engine.layer_forward(x, L, hw, force_tiled=True)
        blocks = engine.group_blocks(L, hw)
        self.assertEqual(blocks, [(0, 2), (2, 4), (4, 6)])  # 2 groups of 9 rows in a 20-row tile
        acc = []
        for g0, g1 in blocks:
            vec = engine.im2col(x[:, g0:g1], L)
            wb = engine.block_weights(L, g0, g1)
            self.assertEqual(int(wb[0, 9:].abs().sum()), 0)
            acc.append(T(ref_matrix(vec.tolist(), wb.tolist(), 4, 4, False, 0, hw)))
        acc = torch.cat(acc, 1)
        v = acc * T(L.mult.astype(np.int64)) + T(L.bias)
        want = torch.clamp(nx.round_half_up_shift(v, L.shift), 0, 255).view(2, 3, 3, 6).permute(0, 3, 1, 2)
        self.assertTrue(torch.equal(got, want))
        with self.assertRaisesRegex(engine.ContractError, "lossy ADC"):
            engine.layer_forward(x, L, hw)

    def test_tensor_nodes(self):
        x0 = T([[[[0, 3], [255, 10]]]])
        x1 = T([[[[1, 2], [3, 4]]]])
        add = tensor_node(KIND_ADD, [1, 2], (1, 2, 2), 1, [3, -2], [-5, 1], shift=1)
        # (3 x0 - 5) + (-2 x1 + 1): -6, 1, 755, 18 -> /2 half up: -3 -> 0, 0.5 -> 1, 377.5 -> 378 -> 255, 9
        self.assertEqual(engine.tensor_forward([x0, x1], add).flatten().tolist(), [0, 1, 255, 9])
        cat = tensor_node(KIND_CONCAT, [1, 2], (1, 2, 2), 2, [1, 2], [0, 1], shift=0)
        self.assertEqual(engine.tensor_forward([x0, x1], cat).tolist(), [[[[0, 3], [255, 10]], [[3, 5], [7, 9]]]])
        gap = tensor_node(KIND_POOL, [1], (1, 2, 2), 1, [1], [2], shift=2, pool=POOL_GLOBAL)
        self.assertEqual(engine.tensor_forward([x0], gap).tolist(), [[[[68]]]])  # (268 + 2) / 4 = 67.5 -> 68
        avg = tensor_node(KIND_POOL, [1], (1, 2, 2), 1, [1], [0], shift=0, pool=POOL_AVG, size=2, stride=2)
        self.assertEqual(engine.tensor_forward([x1], avg).item(), 3)  # 10 / 4 = 2.5 -> 3
        mx = tensor_node(KIND_POOL, [1], (1, 2, 2), 1, [2], [0], shift=0, pool=POOL_MAX, size=2, stride=2)
        self.assertEqual(engine.tensor_forward([x0], mx).item(), 255)  # 510 clamps before pooling

    def assert_refused(self, model, pattern):
        with self.assertRaisesRegex(modelfile.ModelFileError, pattern):
            modelfile.from_bytes(unchecked_bytes(model), "g.cimvp")
        with self.assertRaisesRegex(modelfile.ModelFileError, pattern.replace("g.cimvp: ", "")):
            modelfile.to_bytes(model)

    def test_reader_and_writer_refuse_bad_graphs(self):
        mk = lambda: graph_model(np.random.default_rng(35))  # noqa: E731
        m = mk()
        m.layers[2].inputs = [1, 3]   # a later node: a cycle can not be written
        with self.assertRaisesRegex(modelfile.ModelFileError,
                                    r"g.cimvp: byte \d+: node 2 \(add\) inputs\[1\].*expected 0..2, got 3"):
            modelfile.from_bytes(unchecked_bytes(m), "g.cimvp")
        m = mk()
        m.layers[2].inputs = [1, 1]   # node 1's output (node 0's) is 6x8x8 too, but then node 1 is unused
        self.assert_refused(m, r"g.cimvp: node 1 \(conv\): inputs: the output of node 1 \(conv\) is used by no "
                               r"later node")
        m = mk()
        m.layers[3].stride = 2        # the concat's second input becomes 4x4x4
        self.assert_refused(m, r"g.cimvp: node 4 \(concat\): inputs: expected inputs of one height and width 8x8, "
                               r"input 1 is 4x4x4")
        m = mk()
        m.layers[2].mult = np.array([2**31 - 1, 2**31 - 1], np.int32)
        m.layers[2].bias = np.array([2**62, 0], np.int64)
        self.assert_refused(m, r"g.cimvp: node 2 \(add\): mult: post-processing could overflow")
        m = mk()
        m.layers[1].col_mult = np.ones((1, 6), np.int32)
        m.layers[1].rows_per_tile = 9
        self.assert_refused(m, r"node 1 \(conv\): groups: a grouped conv \(groups 6\) has no binary weights, col_mult")
        m = mk()
        m.layers[6].pool = POOL_GLOBAL
        m.layers[6].kind = KIND_ADD
        m.layers[6].inputs = [6, 6]
        m.layers[6].mult = np.array([1, 1], np.int32)
        m.layers[6].bias = np.array([0, 0], np.int64)
        self.assert_refused(m, r"node 6 \(add\): pool: expected 0, 1 or 2 on an add node")
        m = mk()
        m.layers.append(tensor_node(KIND_POOL, [8], (4, 1, 1), 4, [1], [0]))
        self.assert_refused(m, r"node 7 \(fc\): a_out_bits: expected 1..8, got 0")
        m.layers[7].relu, m.layers[7].a_out_bits = 1, 8
        self.assert_refused(m, r"node 8 \(pool\): kind: expected the last node to be a conv or fc")
        m = mk()
        m.layers[3].in_c = 5
        m.layers[3].weights = np.zeros((4, 2), np.int8)
        with self.assertRaisesRegex(modelfile.ModelFileError, r"node 3 \(conv\): groups: expected a divisor of in_c 5"):
            modelfile.from_bytes(unchecked_bytes(m), "g.cimvp")


class GraphReaderFuzzTest(unittest.TestCase):
    def test_mutated_version_3_files_raise_model_file_errors_only(self):
        """1000 seeded mutations of a v3 file, checksum fixed so that the field checks are reached: the reader
        returns a model or raises ModelFileError, nothing else."""
        data = modelfile.to_bytes(graph_model(np.random.default_rng(30)))
        rng = random.Random(5)
        loaded = 0
        for it in range(1000):
            b = bytearray(data[:-16])
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(b))
                if rng.random() < 0.5:
                    b[i] = rng.randrange(256)
                else:
                    b[i:i + 4] = rng.choice([0, 1, 2, 3, 7, 255, 2**31, 2**32 - 1]).to_bytes(4, "little")
            if rng.random() < 0.2:
                b = b[:rng.randrange(len(b))]
            raw = bytes(b) + nx.fnv1a64(bytes(b)).to_bytes(8, "little") + b"CIMVPEND"
            try:
                modelfile.from_bytes(raw, "f.cimvp")
                loaded += 1
            except modelfile.ModelFileError as e:
                self.assertIn("f.cimvp", str(e))
        self.assertLess(loaded, 1000)


class FakeQuantAgreementTest(unittest.TestCase):
    def test_columnwise_training_forward_matches_integer_engine(self):
        """The float QAT forward (eval mode) computes what the exported integer network does."""
        from cimvp_frontend import export, model, quant
        torch.manual_seed(0)
        net = model.FloatNet().eval()
        rng = np.random.default_rng(11)
        imgs = rng.integers(0, 256, size=(48, 1, 28, 28)).astype(np.uint8)
        q = quant.QNet(net, "columnwise")
        q.calibrate(imgs[:32])
        im = export.export(q, "t")
        hw = engine.Hardware.for_model(im)
        x = torch.as_tensor(imgs[32:]).long()
        qq, s = x.float(), quant.INPUT_SCALE
        with torch.no_grad():
            L, ql = im.layers[0], q.layers[0]
            xi = engine.layer_forward(x, L, hw)
            qn, _ = ql(qq, s)
        self.assertGreaterEqual((xi == qn.long()).double().mean().item(), 0.999)


class ColumnQuantGranularityTest(unittest.TestCase):
    """The ColumnQuant study's options (quant.ColLayer: w_gran, ps_gran, ps_scales, adc_bits)."""

    def trained_like(self, w_gran, ps_gran, ps_scales, adc_bits=3):
        from cimvp_frontend import model, quant
        torch.manual_seed(0)
        net = model.FloatNet().eval()
        rng = np.random.default_rng(11)
        imgs = rng.integers(0, 256, size=(48, 1, 28, 28)).astype(np.uint8)
        q = quant.QNet(net, "columnwise", adc_bits=adc_bits, w_gran=w_gran, ps_gran=ps_gran, ps_scales=ps_scales)
        q.calibrate(imgs[:32])
        with torch.no_grad():  # as if trained: the weight steps and the learned ADC steps moved
            for layer in q.layers:
                layer.log_scale.add_(torch.as_tensor(rng.normal(0, 0.2, size=tuple(layer.log_scale.shape)),
                                                     dtype=torch.float32))
                if layer.ps_log_step is not None:
                    layer.ps_log_step.add_(torch.as_tensor(rng.normal(0, 0.2, size=tuple(layer.ps_log_step.shape)),
                                                           dtype=torch.float32))
        return q, imgs[32:]

    def test_every_granularity_exports_what_the_training_forward_computes(self):
        from cimvp_frontend import export, quant
        for w_gran in quant.W_GRANULARITIES:
            for ps_gran in quant.PS_GRANULARITIES:
                for ps_scales in quant.PS_SCALES:
                    with self.subTest(w_gran=w_gran, ps_gran=ps_gran, ps_scales=ps_scales):
                        q, imgs = self.trained_like(w_gran, ps_gran, ps_scales)
                        im = export.export(q, "t")
                        self.assertEqual(im.adc_bits, 3)
                        hw = engine.Hardware.for_model(im)
                        x = torch.as_tensor(imgs).long()
                        with torch.no_grad():
                            xi = engine.layer_forward(x, im.layers[0], hw)
                            qn, s1 = q.layers[0](x.float(), quant.INPUT_SCALE)
                            self.assertGreaterEqual((xi == qn.long()).double().mean().item(), 0.999)
                            yi = engine.layer_forward(xi, im.layers[1], hw)
                            qn2, _ = q.layers[1](qn, s1)
                            self.assertGreaterEqual((yi == qn2.long()).double().mean().item(), 0.999)
                        for L in im.layers:
                            cm, step, base = L.col_mult, L.adc_step, L.adc_base
                            if w_gran != "column":  # one step per output: every row tile's multiplier the same
                                self.assertTrue((cm == cm[:1]).all())
                            if w_gran == "layer":
                                self.assertEqual(len(np.unique(cm)), 1)
                            if ps_gran == "layer":
                                self.assertEqual(len(np.unique(step)), 1)
                                self.assertEqual(len(np.unique(base)), 1)
                            else:
                                self.assertGreater(len(np.unique(step)), 1)

    def test_learned_adc_step_gradient_is_lsq(self):
        """The fused ADC's step gradient is that of value = base + clamp(round_ste(z), 0, qmax) * step."""
        from cimvp_frontend import quant
        torch.manual_seed(3)
        T, B, G, S, M, H, W = 2, 3, 2, 2, 4, 2, 2
        ps = torch.rand(T, B, G, S, M, H, W) * 60
        step = (torch.rand(G, S, M) * 3 + 1).requires_grad_()
        base = torch.rand(G, S, M) * 10
        weights = [[1.0, 4.0], [16.0, 64.0]]
        g = torch.randn(B, G, M, H, W)
        fx = quant._AdcShiftAdd.apply(ps, step, base, 7.0, weights)
        (fx * g).sum().backward()
        step2 = step.detach().clone().requires_grad_()
        st, bs = step2.view(1, 1, G, S, M, 1, 1), base.view(1, 1, G, S, M, 1, 1)
        v = bs + torch.clamp(quant.round_ste((ps - bs) / st), 0, 7) * st
        fx2 = sum(v[t, :, :, j] * weights[t][j] for t in range(T) for j in range(S))
        self.assertTrue(torch.allclose(fx, fx2.detach(), atol=1e-4))
        (fx2 * g).sum().backward()
        self.assertTrue(torch.allclose(step.grad, step2.grad, rtol=1e-4, atol=1e-3))


class VariationAwareTrainingTest(unittest.TestCase):
    """ColLayer var_sigma: a training forward reads cells of conductance level * exp(sigma * z), one
    draw per cell for the whole batch and a new one each forward; eval mode reads the ideal levels."""

    def one_hot_layer(self, sigma):
        torch.manual_seed(5)
        layer = quant.ColLayer(torch.randn(6, 64, 1, 1), torch.zeros(6), "fc", 0, 4, 64, None, 0, var_sigma=sigma)
        x = torch.zeros(64 * 2, 64, 1, 1)  # row r driven alone at input code 3, each twice in the batch
        for r in range(64):
            x[r, r] = x[64 + r, r] = 3
        return layer, x

    def test_each_training_forward_draws_one_multiplicative_gain_per_cell(self):
        layer, x = self.one_hot_layer(0.3)
        with torch.no_grad():
            w_int = layer.int_weight()
            levels = torch.stack([lv.flatten(1) for lv in layer.levels(w_int)])  # S, M, K
            ideal = layer.eval().psums(x, w_int)
            layer.train()
            first, second = layer.psums(x, w_int), layer.psums(x, w_int)
        # psums [T][B][G][S][M]; image r reads the cells of row r alone: 3 * conductance
        self.assertTrue(torch.equal(ideal[0, :64, 0, :, :, 0, 0].permute(1, 2, 0), 3 * levels),
                        "eval mode reads the ideal levels")
        g = first[0, :64, 0, :, :, 0, 0].permute(1, 2, 0) / 3
        self.assertTrue(torch.equal(first[0, :64], first[0, 64:]), "one draw for the whole batch")
        self.assertFalse(torch.equal(first, second), "a new draw each forward")
        zero = levels == 0
        self.assertTrue(zero.any() and (g[zero] == 0).all(), "a level-0 cell stays 0")
        theta = torch.log(g[~zero] / levels[~zero])
        self.assertLess(abs(theta.mean().item()), 0.06)
        self.assertAlmostEqual(theta.std().item(), 0.3, delta=0.04)

    def test_variation_never_reaches_the_exported_model(self):
        from cimvp_frontend import export
        torch.manual_seed(0)
        net = model.FloatNet().eval()
        imgs = np.random.default_rng(2).integers(0, 256, size=(16, 1, 28, 28)).astype(np.uint8)
        exported = []
        for sigma in (0.0, 0.4):
            torch.manual_seed(1)
            q = quant.QNet(net, "columnwise", var_sigma=sigma)
            q.calibrate(imgs)
            q.train()(torch.as_tensor(imgs).float())  # a training forward draws (sigma > 0) and changes nothing
            exported.append(export.export(q.eval(), "t"))
        for a, b in zip(exported[0].layers, exported[1].layers):
            self.assertTrue(np.array_equal(a.weights, b.weights) and np.array_equal(a.adc_step, b.adc_step))

    def test_other_schemes_and_sigmas_out_of_range_are_refused(self):
        net = model.FloatNet()
        with self.assertRaisesRegex(ValueError, "var_sigma 0.2: variation-aware training is for the columnwise"):
            quant.QNet(net, "int8", var_sigma=0.2)
        with self.assertRaisesRegex(ValueError, r"var_sigma 1.5: expected a number in \[0, 1\]"):
            quant.QNet(net, "columnwise", var_sigma=1.5)


class DifferentialMappingTrainingTest(unittest.TestCase):
    """ColLayer mapping "differential": each output's positive group holds max(w, 0), its negative
    group max(-w, 0), sliced into cells as offset encoding slices w + 2^(w_bits-1) (docs/numerics.md)."""

    def layer(self, mapping, sigma=0.0, weight=None):
        torch.manual_seed(5)
        w = torch.randn(6, 64, 1, 1) if weight is None else weight
        return quant.ColLayer(w, torch.linspace(-1, 1, 6), "fc", 0, 4, 32, None, 0, var_sigma=sigma, mapping=mapping)

    def test_each_weight_sits_in_the_group_of_its_sign(self):
        layer = self.layer("differential")
        w = torch.arange(-8, 8, dtype=torch.float32).view(16, 1, 1, 1)
        lv = layer.levels(w)
        self.assertEqual((layer.cols, len(lv)), (4, 4))
        p = lv[0] + 4 * lv[1]
        n = lv[2] + 4 * lv[3]
        self.assertTrue(torch.equal(p - n, w))
        self.assertTrue(torch.equal(p * n, torch.zeros_like(w)), "one group is all level 0")
        self.assertTrue(all(((x >= 0) & (x <= 3)).all() for x in lv), "2-bit cells")
        self.assertEqual(layer.shift_weights(), [[1.0, 4.0, -1.0, -4.0]])

    def test_on_a_lossless_adc_both_mappings_compute_the_same_layer_and_gradient(self):
        x = torch.randint(0, 16, (5, 64, 1, 1)).float()
        out, grads = [], []
        for mapping in quant.MAPPINGS:
            layer = self.layer(mapping)
            layer.adc_enabled = False
            z = layer.preact(x, 0.25)
            z.square().sum().backward()
            out.append(z.detach())
            grads.append(layer.weight.grad.clone())
        self.assertTrue(torch.equal(out[0], out[1]))
        self.assertTrue(torch.allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6))

    def test_zero_weights_feel_no_variation_only_under_differential_mapping(self):
        """A zero weight is two level-0 cells (differential) or a mid-level cell (offset, whose drawn
        conductance the digital offset removal does not see)."""
        x = torch.randint(0, 16, (5, 64, 1, 1)).float()
        for mapping, unmoved in (("differential", True), ("offset", False)):
            layer = self.layer(mapping, sigma=0.3, weight=torch.zeros(6, 64, 1, 1)).train()
            layer.adc_enabled = False
            with torch.no_grad():
                z = layer.preact(x, 0.25)
            self.assertEqual(torch.equal(z, layer.bias.detach().view(1, -1, 1, 1).expand_as(z)), unmoved, mapping)

    def test_each_column_of_both_groups_gets_its_own_adc_table(self):
        layer = self.layer("differential")
        x = torch.randint(0, 16, (40, 64, 1, 1)).float()
        layer.eval()
        layer.calibrate_next = True
        with torch.no_grad():
            layer.preact(x, 0.25)
        self.assertEqual(tuple(layer.adc_step_fx.shape), (2, 4, 6))
        self.assertGreater(len(torch.unique(layer.adc_step_fx)), 4)

    def test_a_differential_training_exports_offset_tables_that_compute_its_forward(self):
        from cimvp_frontend import export
        torch.manual_seed(0)
        net = model.FloatNet().eval()
        imgs = np.random.default_rng(11).integers(0, 256, size=(48, 1, 28, 28)).astype(np.uint8)
        q = quant.QNet(net, "columnwise", mapping="differential", var_sigma=0.1)
        q.calibrate(imgs[:32])
        q.train()(torch.as_tensor(imgs[:8]).float())
        with self.assertRaisesRegex(export.ExportError, "differential mapping: the model file's ADC tables describe "
                                                        "offset-encoded slices; expected mapping offset"):
            export.export(q.eval(), "t")
        q.set_mapping("offset", imgs[:32])
        im = export.export(q.eval(), "t")
        plain = quant.QNet(net, "columnwise")
        plain.calibrate(imgs[:32])
        hw = engine.Hardware.for_model(im)
        x = torch.as_tensor(imgs[32:]).long()
        with torch.no_grad():
            xi = engine.layer_forward(x, im.layers[0], hw)
            qn, _ = q.layers[0](x.float(), quant.INPUT_SCALE)
        self.assertGreaterEqual((xi == qn.long()).double().mean().item(), 0.999)
        # the first layer reads the images in either model: its tables are a plain model's (the later layers'
        # inputs went through activation steps calibrated under the other mapping)
        a, b = im.layers[0], export.export(plain.eval(), "t").layers[0]
        self.assertTrue(np.array_equal(a.adc_step, b.adc_step) and np.array_equal(a.adc_base, b.adc_base))

    def test_what_differential_training_cannot_do_is_refused(self):
        net = model.FloatNet()
        with self.assertRaisesRegex(ValueError, "mapping 'twin': expected one of offset, differential"):
            quant.QNet(net, "columnwise", mapping="twin")
        with self.assertRaisesRegex(ValueError, "mapping 'differential': the cell mapping of the training forward "
                                                "is the columnwise scheme's; expected 'offset' for int8"):
            quant.QNet(net, "int8", mapping="differential")
        with self.assertRaisesRegex(ValueError, "mapping 'differential' with ps_scales 'lsq': the model file's ADC "
                                                "tables describe offset-encoded slices"):
            quant.QNet(net, "columnwise", mapping="differential", ps_scales="lsq")
        cfg = dict(settings.FULL)
        self.assertIn("col_mapping: expected one of offset, differential", settings.apply(cfg, "col_mapping", "twin"))
        self.assertIsNone(settings.apply(cfg, "col_mapping", "differential"))


class LeastSquaresAdcFitTest(unittest.TestCase):
    def test_chosen_window_errs_no_more_than_any_window_of_the_grid(self):
        """fit_mse keeps, per column, the grid window of least weighted squared ADC error."""
        from cimvp_frontend import quant
        layer = quant.ColLayer(torch.randn(6, 128, 1, 1), torch.zeros(6), "fc", 0, 4, 128, None, 0, adc_fit="mse")
        mp = float(layer.max_psum()[0])
        rng = np.random.default_rng(5)
        hist = torch.zeros(6, int(mp) + 1, dtype=torch.float64)
        for m in range(6):  # skewed distributions of different widths
            v = np.clip(rng.gamma(2.0 + m, 20.0 + 15 * m, size=3000) + 100 * m, 0, mp).astype(np.int64)
            hist[m] = torch.as_tensor(np.bincount(v, minlength=hist.shape[1]), dtype=torch.float64)
        mpt = torch.full((6,), mp, dtype=torch.float64)
        step, base = layer.fit_mse(hist, mpt)
        best = layer.adc_error(hist, step.long(), base.long())
        vals = torch.arange(hist.shape[1], dtype=torch.float64)
        mean = (hist * vals).sum(1) / hist.sum(1)
        std = torch.sqrt((hist * vals * vals).sum(1) / hist.sum(1) - mean * mean)
        for r in quant.ADC_CLIP_GRID:
            s, b = layer._window(mean, std, r, mpt)
            self.assertTrue(bool((best <= layer.adc_error(hist, s.long(), b.long())).all()), f"r = {r}")
        fixed_s, fixed_b = layer._window(mean, std, 6.0, mpt)  # the platform's default clip_sigmas
        self.assertTrue(bool((best < layer.adc_error(hist, fixed_s.long(), fixed_b.long())).all()))


if __name__ == "__main__":
    unittest.main()
