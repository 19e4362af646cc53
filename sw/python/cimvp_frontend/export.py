"""From a trained QNet to the integer network of the model file (docs/model-format.md).

Every layer's pre-activation is an affine function of the contract's integer accumulator
and input sum, z[m] = a[m] * acc[m] + b[m] * Sx + c[m] (BN folded, the input scale and the
weight scales inside a and b). A hidden layer's output code is round(z / s_y) clamped, so
mult = a / s_y * 2^shift, mult_x = b / s_y * 2^shift, bias = c / s_y * 2^shift, rounded; the
last layer's logits are z times a power of two."""
import math

import numpy as np
import torch

from . import engine
from .modelfile import KIND_CONV, KIND_FC, POOL_MAX, POOL_NONE, IntLayer, IntModel
from .quant import COL_MULT_BITS, INPUT_SCALE, ColLayer, StdLayer, binary_closed_form_export, fold_bn

MULT_BITS = 24          # |mult| <= 2^24: 2^-25 relative precision, far from int32 and overflow limits
MULT_X_BITS = 30
LOGIT_MULT_BITS = 20
OVERFLOW_LIMIT = 1 << 60  # the contract's limit is 2^62; keep a margin

SHAPES = [  # kind, in_c, in_h, in_w, out_c, kernel, padding, pool
    (KIND_CONV, 1, 28, 28, 32, 3, 1, 2),
    (KIND_CONV, 32, 14, 14, 64, 3, 1, 2),
    (KIND_FC, 64, 7, 7, 128, 1, 0, 0),
    (KIND_FC, 128, 1, 1, 10, 1, 0, 0),
]


class ExportError(ValueError):
    pass


def layer_affine(layer, s_x):
    """(w_int [M][K] int64, a, b, c float64 [M], extras) of one QNet layer."""
    extras = {}
    if isinstance(layer, StdLayer):
        M = layer.weight.shape[0]
        if layer.wmode == "int8":
            w_int, s_w = layer.int8_weight()  # SWIS-decomposed or truncated when the layer was trained so
            w_int, s_w = w_int.detach().double().flatten(1), s_w.detach()
            a = s_x * s_w.double()
            b = torch.zeros(M, dtype=torch.float64)
        else:
            bq, alpha, beta = binary_closed_form_export(layer.weight.detach(), layer.per_channel_binary,
                                                         layer.binary_form)
            w_int = bq.double().flatten(1)
            a = s_x * alpha.double()
            b = s_x * beta.double()
        c = torch.zeros(M, dtype=torch.float64)
        if layer.bn is not None:
            g, cb = fold_bn(layer.bn)
            a, b, c = a * g.double(), b * g.double(), c * g.double() + cb.double()
        if layer.bias is not None:
            c = c + layer.bias.detach().double()
        # Keep mult >= 0: flip the sign of a channel's weights (symmetric ranges, binary +-1).
        neg = a < 0
        w_int[neg] = -w_int[neg]
        a = a.abs()
        extras["w_bits"] = 8 if layer.wmode == "int8" else 1
        extras["binary"] = int(layer.wmode != "int8")
    elif isinstance(layer, ColLayer):
        if layer.mapping != "offset":
            raise ExportError(f"a column-wise layer in {layer.mapping} mapping: the model file's ADC tables describe "
                              f"offset-encoded slices; expected mapping offset (set_mapping and calibrate first)")
        w_int = layer.int_weight().detach().double().flatten(1)
        col_mult, smax = layer.col_mult()
        a = s_x * smax / (1 << COL_MULT_BITS)
        b = torch.zeros_like(a)
        c = layer.bias.detach().double()
        step_fx, base_fx = layer.adc_tables_fx()
        extras.update(w_bits=layer.w_bits, binary=0, rows_per_tile=layer.R, col_mult=col_mult.numpy().astype(np.int32),
                      adc_step=step_fx.permute(0, 2, 1).numpy().astype(np.int64),
                      adc_base=base_fx.permute(0, 2, 1).numpy().astype(np.int64))
    else:
        raise ExportError(f"unknown layer type {type(layer)}")
    return w_int.round().long().numpy(), a.numpy(), b.numpy(), c.numpy(), extras


def acc_bound(L: IntLayer, hw: engine.Hardware):
    """Per output, a bound on |acc| over every input the layer can get (numpy float)."""
    amax = (1 << L.a_in_bits) - 1
    w = np.abs(L.weights.astype(np.int64))
    if L.adc_step is None and L.col_mult is None:
        return amax * w.sum(1).astype(np.float64)
    g = engine.layer_geometry(L.K, L.a_in_bits, L.w_bits, L.binary, L.rows_per_tile, hw)
    R = g["rows"]
    out = np.zeros(L.M)
    for rt in range(g["row_tiles"]):
        rows = min(L.K, (rt + 1) * R) - rt * R
        if L.adc_step is not None:
            vmax = (L.adc_base[rt] + ((1 << hw.adc_bits) - 1) * L.adc_step[rt]).astype(np.float64)  # M, S
            fx = np.zeros(L.M)
            for t in range(g["steps"]):
                for j in range(g["slices"]):
                    fx += vmax[:, j] * 2.0 ** (t * g["dac"] + j * hw.cell_bits)
            pos = g["weight_scale"] * (fx / 2 ** hw.frac_bits + 1)
        else:
            pos = np.full(L.M, float(g["weight_scale"] * engine.max_psum(rows, g["dac"], hw.cell_bits)
                                     * sum(2.0 ** (t * g["dac"] + j * hw.cell_bits)
                                           for t in range(g["steps"]) for j in range(g["slices"]))))
        neg = g["offset"] * rows * amax
        cm = 1 if L.col_mult is None else np.abs(L.col_mult[rt].astype(np.float64))
        out += cm * np.maximum(pos, neg)
    return out


def overflow_bound(L: IntLayer, hw):
    sx = L.K * ((1 << L.a_in_bits) - 1)
    return acc_bound(L, hw) * np.abs(L.mult.astype(np.float64)) + sx * np.abs(L.mult_x.astype(np.float64)) \
        + np.abs(L.bias.astype(np.float64))


LOADER_AFFINE_LIMIT = 4.0e18  # sw/formats/model_file.cpp: the loader's bound must stay below this


def loader_bound(L: IntLayer):
    """The model loader's own overflow bound (sw/formats/model_file.cpp), per output: |acc| taken as
    K * max x * max |w| * max col_mult (times 4 with ADC tables)."""
    max_w = 1.0 if L.binary else 2.0 ** (L.w_bits - 1)
    max_col = 1.0 if L.col_mult is None else max(1.0, float(np.abs(L.col_mult.astype(np.float64)).max()))
    max_x = 2.0 ** L.a_in_bits - 1
    max_acc = L.K * max_x * max_w * max_col * (4.0 if L.adc_step is not None else 1.0)
    return max_acc * np.abs(L.mult.astype(np.float64)) + L.K * max_x * np.abs(L.mult_x.astype(np.float64)) \
        + np.abs(L.bias.astype(np.float64))


def _pow2_shift(values, bits):
    """Largest shift with max|values| * 2^shift <= 2^bits."""
    top = float(np.max(np.abs(values)))
    if top == 0:
        return 62
    return int(math.floor(bits - math.log2(top)))


def export(qnet, name, hw: engine.Hardware = None):
    """IntModel of a trained QNet (eval mode)."""
    qnet.eval()
    scheme = qnet.scheme
    if scheme == "columnwise":
        col = [layer for layer in qnet.layers if isinstance(layer, ColLayer)]
        model = IntModel(name=name, scheme=scheme, cell_bits=2, dac_bits=4, adc_bits=col[0].adc_bits, frac_bits=8)
    else:
        model = IntModel(name=name, scheme=scheme, cell_bits=0, dac_bits=0, adc_bits=0, frac_bits=8)
    hw = hw or engine.Hardware.for_model(model)
    s_x = INPUT_SCALE
    n = len(qnet.layers)
    for i, layer in enumerate(qnet.layers):
        kind, in_c, in_h, in_w, out_c, k, pad, pool = SHAPES[i]
        w_int, a, b, c, ex = layer_affine(layer, s_x)
        last = i == n - 1
        L = IntLayer(kind=kind, in_c=in_c, in_h=in_h, in_w=in_w, out_c=out_c,
                     kernel=k if kind == KIND_CONV else 1, stride=1, padding=pad,
                     a_in_bits=qnet.a_bits[i], w_bits=ex["w_bits"], binary=ex["binary"],
                     rows_per_tile=ex.get("rows_per_tile", 0), relu=0 if last else 1,
                     a_out_bits=0 if last else layer.act.bits, pool=POOL_MAX if pool else POOL_NONE,
                     pool_size=pool, pool_stride=pool, weights=w_int.astype(np.int8),
                     col_mult=ex.get("col_mult"), adc_step=ex.get("adc_step"), adc_base=ex.get("adc_base"))
        if last:
            sh = _pow2_shift(a, LOGIT_MULT_BITS)
            scale, L.shift = 2.0 ** sh, 0
        else:
            s_y = layer.act.step()
            a, b, c = a / s_y, b / s_y, c / s_y
            sh = min(62, _pow2_shift(a, MULT_BITS), _pow2_shift(b, MULT_X_BITS) if np.any(b) else 62)
            if sh < 0:
                raise ExportError(f"layer {i}: requantization factor too large for a non-negative shift")
            scale, L.shift = 2.0 ** sh, sh
        L.mult = np.round(a * scale).astype(np.int64)
        L.mult_x = np.round(b * scale).astype(np.int64)
        L.bias = np.round(c * scale).astype(np.int64)
        for what in ("mult", "mult_x"):
            v = getattr(L, what)
            if np.any(np.abs(v) >= 2 ** 31):
                raise ExportError(f"layer {i}: {what} does not fit int32")
            setattr(L, what, v.astype(np.int32))
        bound = overflow_bound(L, hw)
        if np.any(bound >= OVERFLOW_LIMIT) or np.any(loader_bound(L) > LOADER_AFFINE_LIMIT):
            raise ExportError(f"layer {i}: post-processing could reach 2^{math.log2(bound.max()):.1f}")
        model.layers.append(L)
        if not last:
            s_x = layer.act.step()
    return model
