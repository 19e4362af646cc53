"""Quantizers and the quantization-aware networks of the three schemes.

Activations travel between layers as (q, s): q the unsigned integer codes (as floats, with
a straight-through gradient), s the scale (real value = q * s). The input image is q = raw
pixels, s = 1/255. Every layer computes, in float, what the integer contract computes
(docs/numerics.md), so the exported integer network (export.py) reproduces it: the
integer fake-quant engine (engine.py) is the measure of accuracy."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import swis_quant
from .settings import (BINARY_FORMS, INT8_SWIS_TRUNCATIONS, INT8_SWIS_VARIANTS, MAPPINGS, PS_GRANULARITIES, PS_SCALES,
                       SWIS_SHIFTS_RANGE, VAR_SIGMA_RANGE, W_GRANULARITIES)

INPUT_SCALE = 1.0 / 255.0
COL_MULT_BITS = 12  # column multipliers: round(s[rt][m] / max_rt s[rt][m] * 2^12)
# ADC calibration by least squares (docs/numerics.md, sw/contract/layer_mapping.cpp kAdcClipGrid): the
# window mean +- r * std with r from this grid that minimizes the weighted squared ADC error.
ADC_CLIP_GRID = tuple(0.5 + 0.25 * i for i in range(23))  # 0.5, 0.75, ..., 6.0


def grad_scale(x, g):
    return (x - x * g).detach() + x * g


def round_half_up(x):
    return torch.floor(x + 0.5)


# The window fractions an activation-truncation layer's window is searched over: its top bits may want a window
# far narrower than the range (quant.ActQuant.calibrate, onnx_import.choose_range).
KEEP_BITS_FRACS = torch.linspace(0.01, 1.0, 100)


def least_error_window(v, lo, hi, bits, fracs, keep_bits=0):
    """The window [lo f, hi f], f of fracs (KEEP_BITS_FRACS when keep_bits), whose `bits`-bit codes (rounded half
    up, the zero point where the window puts 0) represent the values v with the least squared error: (lo f,
    hi f, the step), computed in v's dtype. keep_bits > 0: the error of the codes' top keep_bits bits, as the
    activation-truncation baseline's next layer reads them."""
    Q = (1 << bits) - 1
    best, best_err = None, None
    for frac in (KEEP_BITS_FRACS if keep_bits else fracs).to(v.dtype):
        a, b = lo * frac, hi * frac
        s = (b - a) / Q
        z = torch.round(-a / s)
        q = torch.clamp(torch.floor(v / s + z + 0.5), 0, Q)
        if keep_bits:
            q = swis_quant.truncate_activations_ste(q, bits, keep_bits)
        err = float(((q - z) * s - v).pow(2).mean())
        if best_err is None or err < best_err:
            best, best_err = (float(a), float(b), float(s)), err
    return best


def round_ste(x):
    return x + (round_half_up(x) - x).detach()


class _SoftStaircase(torch.autograd.Function):
    """sum_{i=1..Q} sigmoid((v - i + 1/2) / T) for v in [0, Q]: a smooth staircase that tends
    to the hard rounding of v as T -> 0. The terms more than WINDOW steps away from v are
    taken as 0 or 1 (they differ from that by less than sigmoid(-(WINDOW - 1/2) / T))."""
    WINDOW = 3

    @staticmethod
    def _terms(v, T, Q):
        n = torch.floor(v)
        offs = torch.arange(-_SoftStaircase.WINDOW + 1, _SoftStaircase.WINDOW + 1, dtype=v.dtype)
        i = n.unsqueeze(-1) + offs                       # [..., 2W] term indices
        valid = (i >= 1) & (i <= Q)
        sig = torch.sigmoid((v.unsqueeze(-1) - i + 0.5) / T) * valid
        below = torch.clamp(n - _SoftStaircase.WINDOW, 0, Q)  # terms 1 .. n-W, all ~1
        return below, sig

    @staticmethod
    def forward(ctx, v, T, Q):
        below, sig = _SoftStaircase._terms(v, T, Q)
        ctx.save_for_backward(sig)
        ctx.T = T
        return below + sig.sum(-1)

    @staticmethod
    def backward(ctx, g):
        (sig,) = ctx.saved_tensors
        d = (sig * (1 - sig)).sum(-1) / ctx.T
        return g * d, None, None


class _AdcShiftAdd(torch.autograd.Function):
    """The ADC of every read and the shift-add of a tile, fused:
    value = base + clamp(round_half_up((psum - base) / step), 0, 2^bits - 1) * step,
    fx = sum over steps t and slices j of value * 2^(t*dac + j*cell).
    psum [T][B][G][S][M][H][W]; step, base [G][S][M]; returns fx [B][G][M][H][W].
    Gradient of the partial sums: straight through inside the ADC range, zero where it clamps.
    Gradient of the step, when it is learned (LSQ, Esser et al.): d value / d step is
    round(z) - z inside the range (z = (psum - base) / step), 0 below it and 2^bits - 1 above."""

    @staticmethod
    def forward(ctx, ps, step, base, qmax, weights):
        T, B, G, S, M, H, W = ps.shape
        st = step.view(1, G, S, M, 1, 1)
        bs = base.view(1, G, S, M, 1, 1)
        fx = torch.zeros(B, G, M, H, W, dtype=ps.dtype)
        mask = torch.empty(ps.shape, dtype=torch.bool)
        z = torch.empty(ps.shape[1:], dtype=ps.dtype)
        for t in range(T):
            torch.sub(ps[t], bs, out=z)
            z.div_(st)
            torch.logical_and(z >= 0, z <= qmax, out=mask[t])
            z.add_(0.5).floor_().clamp_(0, qmax).mul_(st).add_(bs)
            for j in range(S):
                fx.add_(z[:, :, j], alpha=weights[t][j])
        ctx.save_for_backward(mask, ps, step, base)
        ctx.weights, ctx.qmax = weights, qmax
        return fx

    @staticmethod
    def backward(ctx, g):
        mask, ps, step, base = ctx.saved_tensors
        T, G, S, M = mask.shape[0], mask.shape[2], mask.shape[3], mask.shape[4]
        grad = torch.zeros(mask.shape, dtype=g.dtype)
        for t in range(T):
            for j in range(S):
                grad[t, :, :, j].copy_(g).mul_(ctx.weights[t][j])
        d_step = None
        if ctx.needs_input_grad[1]:
            st, bs = step.view(1, G, S, M, 1, 1), base.view(1, G, S, M, 1, 1)
            d_step = torch.zeros(G, S, M, dtype=g.dtype)
            for t in range(T):
                z = (ps[t] - bs) / st
                dv = torch.where(z < -0.5, torch.zeros_like(z),
                                 torch.where(z >= ctx.qmax + 0.5, torch.full_like(z, ctx.qmax),
                                             round_half_up(z).clamp(0, ctx.qmax) - z))
                d_step += (dv * grad[t]).sum(dim=(0, 4, 5))
        grad.mul_(mask)
        return grad, d_step, None, None, None


class ActQuant(nn.Module):
    """Unsigned `bits`-bit activations with a learned step s (clip = (2^bits - 1) * s).
    mode "lsq": hard rounding with a straight-through gradient (LSQ step gradient);
    mode "soft": soft staircase with temperature T during training (annealed by the caller).
    Inference (eval) always rounds half up and clamps: what the post-processing unit does.
    keep_bits: the next layer reads only the codes' top keep_bits bits (the activation-truncation baseline,
    quant.StdLayer's "act"); the step is then calibrated for that truncated quantizer."""

    def __init__(self, bits, mode="lsq"):
        super().__init__()
        self.bits, self.Q, self.mode = bits, (1 << bits) - 1, mode
        self.log_s = nn.Parameter(torch.tensor(0.0))  # the step, in the log domain (relative updates)
        self.T = 1.0
        self.calibrate_next = False
        self.keep_bits = 0  # 0: every bit is read

    def calibrate(self, x):
        """Step minimizing the quantization MSE of relu(x) (grid search), of the codes as the next layer reads
        them (keep_bits: their top bits only, so the window may be much narrower than the range)."""
        v = F.relu(x.detach()).flatten().float()
        if v.numel() > 2_000_000:
            v = v[torch.randperm(v.numel(), generator=torch.Generator().manual_seed(0))[:2_000_000]]
        top = v.max().clamp(min=1e-6)
        _, _, s = least_error_window(v, 0.0, top, self.bits, torch.linspace(0.05, 1.0, 96), self.keep_bits)
        self.log_s.data.fill_(math.log(s))

    def step(self):
        return float(torch.exp(self.log_s.detach()))

    def forward(self, x):
        if self.calibrate_next:
            self.calibrate(x)
            self.calibrate_next = False
        if self.training:
            s = torch.exp(grad_scale(self.log_s, 1.0 / math.sqrt(x[0].numel() * self.Q)))
            v = torch.clamp(x / s, 0, self.Q)
            q = _SoftStaircase.apply(v, self.T, self.Q) if self.mode == "soft" else round_ste(v)
        else:
            s = torch.exp(self.log_s)
            q = torch.clamp(round_half_up(x / s), 0, self.Q)
        return q, s


def int8_per_channel(w, bits=8):
    """Symmetric per-output-channel weights: s = max|w| / (2^(b-1) - 1), w_int in
    [-(2^(b-1) - 1), 2^(b-1) - 1] (symmetric, so a sign flip stays in range)."""
    qmax = (1 << (bits - 1)) - 1
    s = w.detach().abs().flatten(1).amax(1).clamp(min=1e-12) / qmax
    s = s.view(-1, *([1] * (w.ndim - 1)))
    v = torch.clamp(w / s, -qmax, qmax)
    return round_ste(v), s.flatten()


def binary_closed_form(w, per_channel):
    """W ~ alpha * B + beta: beta = mean(W), B = sign(W - beta) (+1 at 0), alpha = mean|W - beta|,
    per layer or per output channel. Returns (W_b with a straight-through gradient, B, alpha, beta)."""
    dims = tuple(range(1, w.ndim)) if per_channel else tuple(range(w.ndim))
    beta = w.detach().mean(dim=dims, keepdim=True)
    d = w.detach() - beta
    alpha = d.abs().mean(dim=dims, keepdim=True)
    b = torch.where(d >= 0, torch.ones_like(d), -torch.ones_like(d))
    wb = w + (alpha * b + beta - w).detach()
    M = w.shape[0]
    return wb, b, alpha.flatten().expand(M).clone(), beta.flatten().expand(M).clone()




def binarize(w, form="closed_form", per_channel=False):
    """(W_b with a straight-through gradient, B, alpha [M], beta [M]) of one of BINARY_FORMS
    (settings.py: closed_form, sign, xnor);
    per_channel applies to closed_form only (sign has no scale, xnor's is per output channel)."""
    if form == "closed_form":
        return binary_closed_form(w, per_channel)
    if form not in BINARY_FORMS:
        raise ValueError(f"binary form {form!r}: expected one of {', '.join(BINARY_FORMS)}")
    b = torch.where(w.detach() >= 0, torch.ones_like(w), -torch.ones_like(w))
    M = w.shape[0]
    if form == "sign":
        alpha = torch.ones(M, dtype=w.dtype)
    else:
        alpha = w.detach().abs().flatten(1).mean(1)
    shaped = alpha.view(-1, *([1] * (w.ndim - 1)))
    wb = w + (shaped * b - w).detach()
    return wb, b, alpha, torch.zeros(M, dtype=w.dtype)


def binary_closed_form_export(w, per_channel, form="closed_form"):
    """(B [M][...] in {-1, +1}, alpha [M], beta [M])."""
    _, b, alpha, beta = binarize(w, form, per_channel)
    return b, alpha, beta


def fold_bn(bn):
    """(g, c) with bn(z) = g * z + c in eval mode."""
    g = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    return g, bn.bias.detach() - bn.running_mean * g


def activate(layer, z):
    """The end of a layer's forward: a last layer (no act) returns its flattened logits; a
    hidden one pools, then quantizes its activations with layer.act."""
    if layer.act is None:
        return z.flatten(1), None
    if layer.pool:
        # The platform quantizes then pools; the quantizer is monotone, so pooling first
        # gives the same codes (and costs a quarter).
        z = F.max_pool2d(z, layer.pool)
    return layer.act(z)


class StdLayer(nn.Module):
    """A conv (fc as a whole-input conv) with int8 per-channel or binary weights, optional BN,
    then (hidden layers) an activation quantizer and max pooling. Lossless ADC assumed (the
    integer matrix product).

    int8 weights can be constrained further (set_swis): swis_shifts N > 0 decomposes them as the
    SWIS contract does at N shifts per group (variant "swis" or "swisc", uniform N, groups of M = 4 or
    the group-size study's group_size, alpha 1; swis_quant.py) or at each filter's own N of a schedule
    (filter_n), or truncates them to N bits
    ("wgt", the contract's truncate_weights), in the forward with a straight-through gradient;
    export writes the constrained integer weights. Variant "act" keeps the weights whole and truncates the
    layer's a_in_bits-bit input codes to their top N bits instead (the contract's activation_truncation_mask,
    what `cimvp swis` runs as its Act baseline; swis_quant.truncate_activations_ste).
    fc: the layer is exported as fully connected (SWIS groups of 4 consecutive inputs)."""

    def __init__(self, conv, bn, wmode, act, pool, bias=None, per_channel_binary=False, binary_form="closed_form",
                 fc=False):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().clone())
        self.padding = conv.padding
        self.bn = bn
        self.bias = nn.Parameter(bias.detach().clone()) if bias is not None else None
        self.wmode, self.act, self.pool = wmode, act, pool
        self.per_channel_binary, self.binary_form = per_channel_binary, binary_form
        self.fc = fc
        self.swis_shifts, self.swis_variant, self.swis_group_size = 0, "swis", swis_quant.GROUP_SIZE
        self._swis_cache = swis_quant.GroupCache()
        self.a_in_bits = 8  # the input codes' width (QNet sets it): what "act" truncates

    def set_swis(self, shifts, variant="swis", filter_n=None, group_size=swis_quant.GROUP_SIZE):
        """shifts: N for every filter (0: off); filter_n: instead, each output channel's own N (swis, swisc);
        group_size: M, the weights sharing a group's shifts (the PE array's 4, or 1..16; swis and swisc)."""
        swis_quant.check_group_size(group_size)
        if group_size != swis_quant.GROUP_SIZE and variant in INT8_SWIS_TRUNCATIONS:
            raise ValueError(f"swis group_size {group_size}: expected the PE array's {swis_quant.GROUP_SIZE} with "
                             f"{variant} (truncation has no groups), or variant swis or swisc")
        lo, hi = SWIS_SHIFTS_RANGE
        if not (isinstance(shifts, int) and lo <= shifts <= hi):
            raise ValueError(f"swis_shifts {shifts!r}: expected an integer in [{lo}, {hi}]")
        if variant not in INT8_SWIS_VARIANTS:
            raise ValueError(f"swis_variant {variant!r}: expected one of {', '.join(INT8_SWIS_VARIANTS)}")
        if filter_n is not None:
            filters = self.weight.shape[0]
            if shifts or variant in INT8_SWIS_TRUNCATIONS:
                raise ValueError(f"swis filter_n: expected swis_shifts 0 and variant swis or swisc, got {shifts} "
                                 f"and {variant}")
            if len(filter_n) != filters or not all(isinstance(n, int) and 1 <= n <= hi for n in filter_n):
                raise ValueError(f"swis filter_n: expected {filters} counts in [1, {hi}], got {len(filter_n)}: "
                                 f"{sorted(set(filter_n))}")
            shifts = list(filter_n)
        self.swis_shifts, self.swis_variant, self.swis_group_size = shifts, variant, group_size

    def int8_weight(self):
        """(integer weights with a straight-through gradient, per-channel scales) of an int8 layer."""
        w_int, s_w = int8_per_channel(self.weight)
        if self.swis_shifts:
            w_int = swis_quant.constrain_ste(w_int, self.swis_shifts, self.swis_variant, self.fc, self._swis_cache,
                                             self.swis_group_size)
        return w_int, s_w

    def forward(self, q, s_x):
        if self.wmode == "int8":
            if self.swis_shifts and self.swis_variant == "act":
                q = swis_quant.truncate_activations_ste(q, self.a_in_bits, self.swis_shifts)
            w_int, s_w = self.int8_weight()
            z = F.conv2d(q, w_int, padding=self.padding) * (s_x * s_w).view(1, -1, 1, 1)
        else:
            wb, _, _, _ = binarize(self.weight, self.binary_form, self.per_channel_binary)
            z = F.conv2d(q, wb, padding=self.padding) * s_x
        if self.bn is not None:
            z = self.bn(z)
        if self.bias is not None:
            z = z + self.bias.view(1, -1, 1, 1)
        return activate(self, z)


class ColLayer(nn.Module):
    """Column-wise layer (ColumnQuant on the platform's contract): 4-bit weights with one
    learned scale per (row tile, output), offset-encoded into two 2-bit cell slices; each
    read's partial sum per (row tile, output, slice) through a 4-bit ADC with a calibrated
    step and base (frozen between calibrations); shift-add, one rounding per tile, exact
    offset removal, per-tile scaling and summation. BN is folded into weight and bias.

    The granularities of the ColumnQuant study (docs/studies.md), all on the same hardware
    (a scale per crossbar column, which coarser granularities fill with one value):
    w_gran, the weight scales: "column" one per (row tile, output), "channel" one per output,
    "layer" one; ps_gran, the ADC tables: "column" a step and base per (row tile, slice,
    output), "layer" one step and base for the layer; ps_scales: "calibrated" the steps fitted
    on the calibration images (refitted each epoch by train_all.py), "lsq" the steps learned
    with LSQ from their calibrated start (the bases stay where calibration put them).

    var_sigma > 0 trains variation-aware: every training forward draws each cell's conductance
    as the chip's log-normal variation does (level * exp(var_sigma * z), z ~ N(0, 1) per cell,
    sw/contract/crossbar_array.cpp apply_nonideal), one draw for the whole batch, a new one each
    forward; the offset removal assumes the ideal levels, as the hardware's does. Calibration
    and evaluation (eval mode) see the ideal cells, so the exported model is unchanged by it.

    mapping, how a weight sits in the cells (the chip's crossbar.mapping, docs/numerics.md):
    "offset" S offset-encoded slices per output; "differential" a positive group of S slices
    holding max(w, 0) and a negative group holding max(-w, 0), each slice its own ADC read and
    table, the negative group's values subtracted in the shift-add, nothing to remove. The model
    file's tables describe offset-encoded slices whatever the training's mapping: set_mapping
    ("offset") and a calibration give them before export (a differential run refits its own)."""

    def __init__(self, weight, bias, kind, padding, a_in_bits, rows_per_tile, act, pool, *, w_bits=4, cell_bits=2,
                 dac_bits=4, adc_bits=4, frac_bits=8, clip_sigmas=4.0, adc_fit="sigmas", stride=1,
                 w_gran="column", ps_gran="column", ps_scales="calibrated", var_sigma=0.0, mapping="offset"):
        super().__init__()
        lo, hi = VAR_SIGMA_RANGE
        if not lo <= var_sigma <= hi:
            raise ValueError(f"var_sigma {var_sigma!r}: expected a number in [{lo}, {hi}]")
        self.var_sigma = float(var_sigma)
        for name, v, choices in (("w_gran", w_gran, W_GRANULARITIES), ("ps_gran", ps_gran, PS_GRANULARITIES),
                                 ("ps_scales", ps_scales, PS_SCALES)):
            if v not in choices:
                raise ValueError(f"{name} {v!r}: expected one of {', '.join(choices)}")
        self.w_gran, self.ps_gran, self.ps_scales = w_gran, ps_gran, ps_scales
        if mapping not in MAPPINGS:
            raise ValueError(f"mapping {mapping!r}: expected one of {', '.join(MAPPINGS)}")
        if mapping != "offset" and ps_scales == "lsq":
            raise ValueError(f"mapping {mapping!r} with ps_scales 'lsq': the model file's ADC tables describe "
                             f"offset-encoded slices, which a {mapping} training does not learn; expected "
                             f"ps_scales 'calibrated'")
        self.mapping = mapping
        M, C, kh, kw = weight.shape
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone())
        self.padding, self.stride = padding, stride
        self.a_in_bits, self.R = a_in_bits, rows_per_tile
        self.w_bits, self.cell_bits, self.dac_bits = w_bits, cell_bits, min(dac_bits, a_in_bits)
        self.adc_bits, self.frac_bits, self.clip_sigmas = adc_bits, frac_bits, clip_sigmas
        if adc_fit not in ("mse", "sigmas"):
            raise ValueError(f"adc_fit {adc_fit!r}: expected 'mse' or 'sigmas'")
        self.adc_fit = adc_fit
        self.S = -(-w_bits // cell_bits)
        self.T = -(-a_in_bits // self.dac_bits)
        self.act, self.pool = act, pool
        self.K = C * kh * kw
        self.G = -(-self.K // rows_per_tile)
        # A row tile is a group of whole input channels (whole-kernel tiling) for a conv,
        # and a run of R flattened inputs for an fc layer (conv over its whole input).
        self.kind = kind
        if self.kind == "conv":
            if rows_per_tile % (kh * kw):
                raise ValueError("whole-kernel tiling needs rows_per_tile to be a multiple of k^2")
            self.n_ic = rows_per_tile // (kh * kw)
        tile_of_k = torch.arange(self.K) // rows_per_tile
        self.register_buffer("tile_of_k", tile_of_k.view(C, kh, kw))
        rows_in = torch.tensor([min(self.K, (g + 1) * rows_per_tile) - g * rows_per_tile for g in range(self.G)])
        self.register_buffer("rows_in", rows_in)
        init = self._init_scales()
        self.log_scale = nn.Parameter(torch.log(init))  # weight steps [G][M], [1][M] or [1][1], log domain
        # ADC tables per (row tile, column of the output's group, output): [G][cols][M], cols = S or 2S
        for name in ("adc_step", "adc_base", "adc_step_fx", "adc_base_fx"):
            self.register_buffer(name, None)
        self._reset_tables()
        # ps_scales "lsq": the learned steps, [G][S][M] or [1][1][1] (ps_gran), log domain (as the weight steps:
        # an update moves a step in proportion to it), set by calibrate_adc
        self.ps_log_step = nn.Parameter(torch.zeros(*self._ps_shape(M))) if ps_scales == "lsq" else None
        self.calibrate_next = False
        self.adc_enabled = True

    @property
    def cols(self):
        """The columns (ADC reads) per output and row tile: S, or 2S under differential mapping."""
        return self.S if self.mapping == "offset" else 2 * self.S

    def _reset_tables(self):
        """Unit ADC tables (step 1 LSB, base 0) for every column of the current mapping."""
        shape = (self.G, self.cols, self.weight.shape[0])
        self.adc_step, self.adc_base = torch.ones(shape), torch.zeros(shape)
        self.adc_step_fx = torch.full(shape, 1 << self.frac_bits, dtype=torch.int64)
        self.adc_base_fx = torch.zeros(shape, dtype=torch.int64)

    def set_mapping(self, mapping):
        """Store the weights the other way from now on; the ADC tables are reset to unit tables
        (calibrate before using them)."""
        if mapping not in MAPPINGS:
            raise ValueError(f"mapping {mapping!r}: expected one of {', '.join(MAPPINGS)}")
        if mapping != "offset" and self.ps_log_step is not None:
            raise ValueError(f"mapping {mapping!r}: expected ps_scales 'calibrated', got 'lsq'")
        if mapping != self.mapping:
            self.mapping = mapping
            self._reset_tables()

    def _ps_shape(self, M):
        return (self.G, self.S, M) if self.ps_gran == "column" else (1, 1, 1)

    def _mse_steps(self, wg):
        """Per row of wg [N][n] the step minimizing its weights' quantization MSE."""
        lo, hi = -(1 << (self.w_bits - 1)), (1 << (self.w_bits - 1)) - 1
        top = wg.abs().amax(1).clamp(min=1e-8)
        best = torch.full((wg.shape[0],), float("inf"))
        out = torch.zeros(wg.shape[0])
        for frac in torch.linspace(0.2, 1.0, 41):
            s = (top * frac / hi)[:, None]
            err = ((torch.clamp(round_half_up(wg / s), lo, hi) * s - wg) ** 2).sum(1)
            better = err < best
            best = torch.where(better, err, best)
            out = torch.where(better, s[:, 0], out)
        return out

    def _init_scales(self):
        """The weight steps of w_gran minimizing the weight quantization MSE: [G][M] per
        (row tile, output), [1][M] per output, [1][1] per layer."""
        wf = self.weight.detach().flatten(1)  # M, K
        if self.w_gran == "layer":
            return self._mse_steps(wf.reshape(1, -1)).view(1, 1)
        if self.w_gran == "channel":
            return self._mse_steps(wf).view(1, -1)
        tiles = self.tile_of_k.flatten()
        return torch.stack([self._mse_steps(wf[:, tiles == g]) for g in range(self.G)])

    def _weights_per_scale(self):
        return {"column": self.R, "channel": self.K, "layer": self.K * self.weight.shape[0]}[self.w_gran]

    def scales(self):
        """The weight steps [G][M] (a coarser granularity repeats its steps over the columns)."""
        g = 1.0 / math.sqrt(self._weights_per_scale() * ((1 << (self.w_bits - 1)) - 1))  # LSQ gradient scale
        s = torch.exp(grad_scale(self.log_scale, g) if self.training else self.log_scale)
        return s.expand(self.G, self.weight.shape[0])

    def tile_scales(self):
        """The per (row tile, output) scales as the integer network applies them:
        max_rt s * col_mult / 2^COL_MULT_BITS (straight-through)."""
        s = self.scales()
        smax = s.detach().max(0).values
        sq = smax * torch.round(s.detach() / smax * (1 << COL_MULT_BITS)) / (1 << COL_MULT_BITS)
        return s + (sq - s).detach()

    def col_mult(self):
        s = torch.exp(self.log_scale.detach().double()).expand(self.G, self.weight.shape[0])
        smax = s.max(0).values
        return torch.round(s / smax * (1 << COL_MULT_BITS)).long(), smax

    def scale_full(self):
        return self.tile_scales()[self.tile_of_k].permute(3, 0, 1, 2)  # M, C, kh, kw

    def int_weight(self):
        lo, hi = -(1 << (self.w_bits - 1)), (1 << (self.w_bits - 1)) - 1
        v = torch.clamp(self.weight / self.scale_full(), lo, hi)
        return round_ste(v)

    def _slices(self, u, g):
        """The S cell levels of non-negative integers u (slice j = bits [j*cell, (j+1)*cell)), the
        gradient g shared between the slices in proportion to their weight."""
        out, rest = [], u
        base = 1 << self.cell_bits
        for j in range(self.S):
            lv = torch.remainder(rest, base)
            rest = torch.div(rest - lv, base)
            out.append(lv + g / (self.S * (1 << (j * self.cell_bits))))
        return out

    def levels(self, w_int):
        """The cell levels of every column of an output's group, one tensor per column. Offset
        encoding: the slices of u = w + 2^(w_bits-1). Differential: the slices of p = max(w, 0),
        then those of n = max(-w, 0); w's gradient goes to the group its sign (zero: the positive
        one) puts it in, so that the shift-added p - n passes it through unchanged."""
        wd = w_int.detach()
        g = w_int - wd
        if self.mapping == "offset":
            return self._slices(wd + (1 << (self.w_bits - 1)), g)
        pos = (wd >= 0).to(g.dtype)
        return self._slices(torch.clamp(wd, min=0), g * pos) + self._slices(torch.clamp(-wd, min=0), -g * (1 - pos))

    def cells(self, lvs):
        """The conductances of the cells holding levels lvs (one tensor per slice): the levels
        themselves, or in a variation-aware training forward each cell's level times its draw."""
        if not (self.training and self.var_sigma > 0):
            return lvs
        return [lv * torch.exp(self.var_sigma * torch.randn_like(lv.detach())) for lv in lvs]

    def _grouped(self, x, C):
        """Input [B][C][H][W] -> padded to G tiles: conv [B][G*n_ic][H][W]; fc [B][G*R][1][1]."""
        if self.kind == "conv":
            pad = self.G * self.n_ic - C
            return F.pad(x, (0, 0, 0, 0, 0, pad)) if pad else x
        xf = x.flatten(1)
        pad = self.G * self.R - self.K
        return F.pad(xf, (0, pad))[:, :, None, None]

    def _grouped_weight(self, lv):
        """Levels [M][C][kh][kw] -> grouped conv weight [G*M][n_ic][kh][kw] (tile-major)."""
        M, C, kh, kw = lv.shape
        if self.kind == "conv":
            pad = self.G * self.n_ic - C
            lvp = F.pad(lv, (0, 0, 0, 0, 0, pad)) if pad else lv
            return lvp.view(M, self.G, self.n_ic, kh, kw).transpose(0, 1).reshape(self.G * M, self.n_ic, kh, kw)
        lf = F.pad(lv.flatten(1), (0, self.G * self.R - self.K))
        return lf.view(M, self.G, self.R).transpose(0, 1).reshape(self.G * M, self.R, 1, 1)

    def _tile_conv(self, xg, wg):
        pad = self.padding if self.kind == "conv" else 0
        return F.conv2d(xg, wg, stride=self.stride if self.kind == "conv" else 1, padding=pad, groups=self.G)

    def steps(self, q):
        if self.T == 1:
            return [q]
        qd = q.detach()
        out = []
        for t in range(self.T):
            n_t = min(self.dac_bits, self.a_in_bits - t * self.dac_bits)
            out.append(torch.remainder(torch.floor(qd / (1 << (t * self.dac_bits))), 1 << n_t))
        return out

    def psums(self, q, w_int):
        """Partial sums of every read: [T][B][G][cols][M][OH][OW]."""
        B, C = q.shape[0], q.shape[1]
        xs = torch.cat([self._grouped(x, C) for x in self.steps(q)], 0)
        lvs = self.cells(self.levels(w_int))
        M = lvs[0].shape[0]
        per_slice = [self._grouped_weight(lv) for lv in lvs]  # each G*M, n, kh, kw (tile-major)
        wg = torch.stack([p.view(self.G, M, *p.shape[1:]) for p in per_slice], 1)  # G, cols, M, n, kh, kw
        wg = wg.reshape(self.G * self.cols * M, *wg.shape[3:])
        ps = self._tile_conv(xs, wg)
        return ps.view(self.T, B, self.G, self.cols, M, ps.shape[-2], ps.shape[-1])

    def tile_sums(self, q):
        """Sum of the inputs of every tile: [B][G][OH][OW]."""
        C = q.shape[1]
        xg = self._grouped(q, C)
        if self.kind == "conv":
            ones = torch.ones(self.G, self.n_ic, *self.weight.shape[2:])
        else:
            ones = torch.ones(self.G, self.R, 1, 1)
        return self._tile_conv(xg, ones)

    def max_psum(self):
        return self.rows_in * ((1 << self.dac_bits) - 1) * ((1 << self.cell_bits) - 1)

    def fit_window(self, mean, std, k):
        """docs/numerics.md calibration (sw/contract/layer_mapping.cpp fit_column) for window
        mean +- k*std clipped to [0, max psum]: narrower than the ADC range -> step 1 LSB centred
        on the mean; else step = window / (2^bits - 1), base = low end; both rounded to
        frac_bits. mean, std [G][...]. Returns (step_fx, base_fx) as float64 tensors of integers."""
        G = mean.shape[0]
        mp = self.max_psum().double().view(G, *([1] * (mean.ndim - 1))).expand_as(mean)
        return self._window(mean, std, k, mp)

    def adc_error(self, hist, step_fx, base_fx):
        """Weighted squared ADC error, per column, of the partial sums v = 0..bins-1 counted
        (with their weights) in hist [N][bins], for tables step_fx, base_fx [N] (int64), in
        the exact integer arithmetic of the contract (docs/numerics.md)."""
        one = 1 << self.frac_bits
        qmax = (1 << self.adc_bits) - 1
        v = torch.arange(hist.shape[1], dtype=torch.int64).view(1, -1) * one
        st, bs = step_fx.view(-1, 1), base_fx.view(-1, 1)
        code = torch.div(2 * (v - bs) + st, 2 * st, rounding_mode="floor").clamp_(0, qmax)
        e = (bs + code * st - v).double()
        return (hist * e * e).sum(1)

    def fit_mse(self, hist, max_psum):
        """ADC tables minimizing the weighted squared error on the histograms hist [N][bins]
        (partial sum v counted with weight 4^(shift)): among the windows mean +- r * std
        (fit_window) for r in ADC_CLIP_GRID, the one of least error, the smallest r on a tie
        (sw/contract/layer_mapping.cpp fit_column_mse)."""
        vals = torch.arange(hist.shape[1], dtype=torch.float64)
        n = hist.sum(1).clamp(min=1e-300)
        mean = (hist * vals).sum(1) / n
        std = torch.sqrt(torch.clamp((hist * vals * vals).sum(1) / n - mean * mean, min=0))
        best_err, best_step, best_base = None, None, None
        for r in ADC_CLIP_GRID:
            step_fx, base_fx = self._window(mean, std, r, max_psum)
            err = self.adc_error(hist, step_fx.long(), base_fx.long())
            if best_err is None:
                best_err, best_step, best_base = err, step_fx, base_fx
            else:
                better = err < best_err
                best_err = torch.where(better, err, best_err)
                best_step = torch.where(better, step_fx, best_step)
                best_base = torch.where(better, base_fx, best_base)
        return best_step, best_base

    def _window(self, mean, std, k, mp):
        levels = float((1 << self.adc_bits) - 1)
        lo = torch.clamp(mean - k * std, min=0)
        hi = torch.minimum(mp, mean + k * std)
        one = float(1 << self.frac_bits)
        narrow = (hi - lo) <= levels
        base_n = torch.floor(mean - levels / 2)
        base_n = torch.minimum(torch.clamp(base_n, min=0), torch.clamp(mp - levels, min=0))
        step_fx = torch.where(narrow, torch.full_like(mean, one),
                              torch.clamp(torch.floor((hi - lo) / levels * one + 0.5), min=1))
        base_fx = torch.where(narrow, base_n * one, torch.floor(lo * one + 0.5))
        return step_fx, base_fx

    def histograms(self, ps, g, j):
        """[M][max_psum + 1] counts of the partial sums of tile g, column j over every read,
        each read weighted by its shift-add weight squared 4^(t*dac_bits + (j mod S)*cell_bits)."""
        T, M = ps.shape[0], ps.shape[4]
        nb = int(self.max_psum()[g]) + 1
        hist = torch.zeros(M * nb, dtype=torch.float64)
        col = (torch.arange(M, dtype=torch.int64) * nb).view(1, M, 1, 1)
        for t in range(T):
            w = float(4 ** (t * self.dac_bits + (j % self.S) * self.cell_bits))
            idx = (ps[t, :, g, j].long() + col).flatten()
            hist += torch.bincount(idx, minlength=M * nb).double() * w
        return hist.view(M, nb)

    @torch.no_grad()
    def calibrate_adc(self, ps):
        """Per (tile, slice, output) ADC step and base from the ideal partial sums of the
        calibration images (all reads: every step t pooled, as the platform's calibration
        does). adc_fit "sigmas": window mean +- clip_sigmas * std; "mse": the least-squares
        window of fit_mse on the weighted histograms (the C++ calibration with
        adc.clip_search)."""
        T, B, G, S, M, H, W = ps.shape
        if self.ps_gran == "layer":
            step_fx, base_fx = self._fit_layer(ps)
        elif self.adc_fit == "mse":
            step_fx = torch.zeros(G, S, M, dtype=torch.float64)
            base_fx = torch.zeros(G, S, M, dtype=torch.float64)
            for g in range(G):
                mp = torch.full((M,), float(self.max_psum()[g]), dtype=torch.float64)
                for j in range(S):
                    step_fx[g, j], base_fx[g, j] = self.fit_mse(self.histograms(ps, g, j), mp)
        else:
            v = ps.permute(2, 3, 4, 0, 1, 5, 6).reshape(G, S, M, -1)
            n = v.shape[-1]
            mean = v.sum(-1, dtype=torch.float64) / n
            std = torch.sqrt(torch.clamp((v * v).sum(-1, dtype=torch.float64) / n - mean * mean, min=0))
            step_fx, base_fx = self.fit_window(mean, std, self.clip_sigmas)
        one = float(1 << self.frac_bits)
        self.adc_step_fx.copy_(step_fx.long())
        self.adc_base_fx.copy_(base_fx.long())
        self.adc_step.copy_((step_fx / one).float())
        self.adc_base.copy_((base_fx / one).float())
        if self.ps_log_step is not None:  # LSQ starts from the calibrated steps
            self.ps_log_step.copy_(torch.log(self.adc_step[(slice(None),) * 3 if self.ps_gran == "column" else (0, 0, 0)])
                                   .reshape(self.ps_log_step.shape))

    def _fit_layer(self, ps):
        """ps_gran "layer": one window for every column of the layer, fitted (adc_fit) on all its
        partial sums, within the largest tile's range; returns [G][S][M] tables of that one value."""
        T, B, G, S, M, H, W = ps.shape
        mp = self.max_psum().max().double().view(1)
        if self.adc_fit == "mse":
            nb = int(mp.item()) + 1
            hist = torch.zeros(1, nb, dtype=torch.float64)
            for g in range(G):
                for j in range(S):
                    h = self.histograms(ps, g, j).sum(0)
                    hist[0, :h.shape[0]] += h
            step_fx, base_fx = self.fit_mse(hist, mp)
        else:
            v = ps.reshape(-1)
            n = v.shape[0]
            mean = (v.sum(dtype=torch.float64) / n).view(1)
            std = torch.sqrt(torch.clamp((v * v).sum(dtype=torch.float64) / n - mean * mean, min=0))
            step_fx, base_fx = self._window(mean, std, self.clip_sigmas, mp)
        shape = (G, S, M)
        return step_fx.view(1, 1, 1).expand(shape).clone(), base_fx.view(1, 1, 1).expand(shape).clone()

    def adc_steps(self, reads_per_image=1):
        """The ADC steps [G][S][M] the forward uses: the calibrated ones, or the LSQ-learned ones
        rounded to frac_bits fraction bits as the hardware holds them (straight-through).
        reads_per_image: the conversions of one column per image (the LSQ gradient scale)."""
        if self.ps_log_step is None:
            return self.adc_step
        one = float(1 << self.frac_bits)
        n = reads_per_image * (1 if self.ps_gran == "column" else self.adc_step.numel())
        g = 1.0 / math.sqrt(n * ((1 << self.adc_bits) - 1))  # LSQ gradient scale
        s = torch.exp(grad_scale(self.ps_log_step, g) if self.training else self.ps_log_step)
        s = s + (torch.clamp(round_half_up(s.detach() * one), min=1) / one - s).detach()
        return s.expand(self.adc_step.shape)

    @torch.no_grad()
    def adc_tables_fx(self):
        """The exported ADC tables (step_fx, base_fx) [G][S][M]: the forward's steps in fixed point."""
        if self.ps_log_step is None:
            return self.adc_step_fx, self.adc_base_fx
        return torch.round(self.adc_steps() * (1 << self.frac_bits)).long(), self.adc_base_fx

    def shift_weights(self):
        """[T][cols]: each read's shift-add weight, negative for a differential negative group's column."""
        return [[(-1.0 if j >= self.S else 1.0) * float(1 << (t * self.dac_bits + (j % self.S) * self.cell_bits))
                 for j in range(self.cols)] for t in range(self.T)]

    def forward(self, q, s_x):
        return activate(self, self.preact(q, s_x))

    def preact(self, q, s_x):
        """The layer's real output before activation and pooling [B][M][OH][OW], for input codes q
        (real input s_x * q): the ADC-quantized reads, shift-add, offset removal and tile scales."""
        w_int = self.int_weight()
        ps = self.psums(q, w_int)
        if self.calibrate_next:
            self.calibrate_adc(ps)
            self.calibrate_next = False
        if self.adc_enabled:
            fx = _AdcShiftAdd.apply(ps, self.adc_steps(ps.shape[0] * ps.shape[-2] * ps.shape[-1]), self.adc_base, float((1 << self.adc_bits) - 1),
                                    self.shift_weights())
        else:
            shifts = torch.tensor(self.shift_weights())
            fx = (ps * shifts.view(self.T, 1, 1, self.cols, 1, 1, 1)).sum(dim=(0, 3))
        offset = float(1 << (self.w_bits - 1)) if self.mapping == "offset" else 0.0
        partial = round_ste(fx) - offset * self.tile_sums(q).unsqueeze(2)
        z = (partial * self.tile_scales().view(1, self.G, -1, 1, 1)).sum(1) * s_x
        return z + self.bias.view(1, -1, 1, 1)


class QNet(nn.Module):
    """The quantization-aware network of one scheme, built from a trained FloatNet."""

    def __init__(self, fnet, scheme, *, per_channel_binary=False, clip_sigmas=4.0, soft_bits=4, adc_fit="sigmas",
                 fc_rows=128, binary_form="closed_form", adc_bits=4, w_gran="column", ps_gran="column",
                 ps_scales="calibrated", swis_shifts=0, swis_variant="swis", swis_schedule=None, var_sigma=0.0,
                 mapping="offset", swis_group_size=swis_quant.GROUP_SIZE):
        super().__init__()
        if binary_form not in BINARY_FORMS:
            raise ValueError(f"binary_form {binary_form!r}: expected one of {', '.join(BINARY_FORMS)}")
        if not (isinstance(soft_bits, int) and 1 <= soft_bits <= 8):
            raise ValueError(f"soft_bits {soft_bits!r}: expected an integer in [1, 8]")
        self.scheme = scheme
        self.bn_frozen = False
        f = fnet
        if scheme == "int8":
            self.layers = nn.ModuleList([
                StdLayer(f.conv1, _copy_bn(f.bn1), "int8", ActQuant(8), 2),
                StdLayer(f.conv2, _copy_bn(f.bn2), "int8", ActQuant(8), 2),
                StdLayer(f.fc1, _copy_bn(f.bn3), "int8", ActQuant(8), 0, fc=True),
                StdLayer(f.fc2, None, "int8", None, 0, bias=f.fc2.bias, fc=True),
            ])
            self.a_bits = [8, 8, 8, 8]
            for layer, a in zip(self.layers, self.a_bits):
                layer.a_in_bits = a
            if swis_variant == "act" and swis_shifts:  # each activation calibrated as the next layer reads it,
                for layer, a in zip(self.layers[:-1], self.a_bits[1:]):  # then kept (onnx_import.fine_tune says
                    if swis_shifts < a:                                   # why); N >= its bits drops nothing
                        layer.act.keep_bits = swis_shifts
                        layer.act.log_s.requires_grad_(False)
            # SWIS-aware (or truncation-aware) fine-tuning of every layer; swis_schedule: each layer's per-filter N
            # (swis_quant.read_schedule), instead of one N
            if swis_schedule is not None and len(swis_schedule) != len(self.layers):
                raise ValueError(f"swis_schedule: expected {len(self.layers)} layers, got {len(swis_schedule)}")
            for i, layer in enumerate(self.layers):
                if swis_schedule is not None and swis_schedule[i] is None:
                    raise ValueError(f"swis_schedule: layer {i}: expected its per-filter N (a schedule of every "
                                     f"layer: cimvp convert --pe-layers all), got none")
                layer.set_swis(swis_shifts, swis_variant, None if swis_schedule is None else swis_schedule[i],
                               swis_group_size)
        elif scheme == "bwma":
            self.layers = nn.ModuleList([
                StdLayer(f.conv1, _copy_bn(f.bn1), "int8", ActQuant(soft_bits, "soft"), 2),
                StdLayer(f.conv2, _copy_bn(f.bn2), "binary", ActQuant(soft_bits, "soft"), 2,
                         per_channel_binary=per_channel_binary, binary_form=binary_form),
                StdLayer(f.fc1, _copy_bn(f.bn3), "binary", ActQuant(8), 0, per_channel_binary=per_channel_binary,
                         binary_form=binary_form),
                StdLayer(f.fc2, None, "int8", None, 0, bias=f.fc2.bias),
            ])
            self.a_bits = [8, soft_bits, soft_bits, 8]
        elif scheme == "columnwise":
            specs = [(f.conv1, f.bn1, 1, 8, 2), (f.conv2, f.bn2, 1, 4, 2), (f.fc1, f.bn3, 0, 4, 0),
                     (f.fc2, None, 0, 4, 0)]
            layers = []
            ks = clip_sigmas if isinstance(clip_sigmas, (list, tuple)) else [clip_sigmas] * len(specs)
            fits = adc_fit if isinstance(adc_fit, (list, tuple)) else [adc_fit] * len(specs)
            for i, (conv, bn, pad, a_in, pool) in enumerate(specs):
                w = conv.weight.detach().clone()
                if bn is not None:
                    g, c = fold_bn(bn)
                    w = w * g.view(-1, 1, 1, 1)
                    b = c
                else:
                    b = conv.bias.detach().clone()
                kh = w.shape[2]
                is_fc = i >= 2
                if is_fc:
                    rows = fc_rows
                else:
                    n_ic = min(128 // (kh * kh), w.shape[1])
                    rows = n_ic * kh * kh
                last = i == 3
                layers.append(ColLayer(w, b, "fc" if is_fc else "conv", pad, a_in, rows, None if last else ActQuant(4), pool,
                                       clip_sigmas=ks[i], adc_fit=fits[i], adc_bits=adc_bits, w_gran=w_gran,
                                       ps_gran=ps_gran, ps_scales=ps_scales, var_sigma=var_sigma, mapping=mapping))
            self.layers = nn.ModuleList(layers)
            self.a_bits = [8, 4, 4, 4]
        else:
            raise ValueError(scheme)
        if var_sigma and scheme != "columnwise":
            raise ValueError(f"var_sigma {var_sigma}: variation-aware training is for the columnwise scheme only")
        if mapping != "offset" and scheme != "columnwise":
            raise ValueError(f"mapping {mapping!r}: the cell mapping of the training forward is the columnwise "
                             f"scheme's; expected 'offset' for {scheme}")
        if (swis_shifts or swis_schedule or swis_group_size != swis_quant.GROUP_SIZE) and scheme != "int8":
            raise ValueError(f"swis_shifts {swis_shifts}: SWIS-aware fine-tuning is for the int8 scheme only")

    def train(self, mode=True):
        super().train(mode)
        if self.bn_frozen:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def forward(self, x):
        q, s = x, INPUT_SCALE
        for layer in self.layers:
            q, s = layer(q, s)
        return q

    def set_mapping(self, mapping, images):
        """Every column-wise layer's training forward stores its weights in mapping from now on,
        and its ADC tables are calibrated for it on images (the activation steps are kept)."""
        for layer in self.layers:
            if isinstance(layer, ColLayer):
                layer.set_mapping(mapping)
        self.calibrate(images, acts=False, adc=True)

    def act_quants(self):
        return [m for m in self.modules() if isinstance(m, ActQuant)]

    def set_temperature(self, T):
        for a in self.act_quants():
            a.T = T

    @torch.no_grad()
    def calibrate(self, images, acts=True, adc=True):
        """One pass in eval mode on calibration images, layer by layer: each layer's ADC tables
        and activation step are fitted on the input the (already calibrated) previous layers give.
        The BN statistics of binary layers whose weights lose the float weights' scale (the plain
        sign: |w| = 1 instead of about mean |w|) are re-estimated in the same pass, on the
        calibration images, before their activation steps are fitted: the float model's statistics
        would put every activation out of range."""
        was = self.training
        self.eval()
        rescaled = [layer.bn for layer in self.layers if isinstance(layer, StdLayer) and layer.wmode == "binary"
                    and layer.binary_form == "sign" and layer.bn is not None]
        momenta = [bn.momentum for bn in rescaled]
        for bn in rescaled:
            bn.reset_running_stats()
            bn.momentum, bn.training = None, True  # one batch, the whole set: its exact statistics
        for layer in self.layers:
            if adc and isinstance(layer, ColLayer):
                layer.calibrate_next = True
            if acts and layer.act is not None:
                layer.act.calibrate_next = True
        self(torch.as_tensor(images).float())
        for bn, m in zip(rescaled, momenta):
            bn.momentum = m
        self.train(was)


@torch.no_grad()
def search_clip_sigmas(qnet, images, labels, grid=(1.5, 2.0, 2.5, 3.0, 4.0)):
    """Per column-wise layer, in order, the ADC window width k (mean +- k*std) that gives the
    lowest cross-entropy on the calibration images, the earlier layers fixed at their choice."""
    x = torch.as_tensor(images).float()
    y = torch.as_tensor(labels)
    chosen = []
    for layer in qnet.layers:
        if not isinstance(layer, ColLayer):
            continue
        best = None
        for k in grid:
            layer.clip_sigmas = k
            qnet.calibrate(images, acts=False, adc=True)
            loss = F.cross_entropy(qnet.eval()(x), y).item()
            if best is None or loss < best[0]:
                best = (loss, k)
        layer.clip_sigmas = best[1]
        chosen.append(best[1])
    qnet.calibrate(images, acts=False, adc=True)
    return chosen


def _copy_bn(bn):
    import copy
    return copy.deepcopy(bn)
