"""The integer fake-quant reference: docs/numerics.md ("Matrix layer" through
"Graph networks") on int64 torch tensors, bit-exact with sw/reference/reference.cpp.

Partial sums of one read are small integers, so they are computed with
float64 matrix products (exact below 2^53) and converted back to int64; every
rounding, clamp and shift is integer arithmetic (numerics.py)."""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import numerics as nx
from .modelfile import (KIND_ADD, KIND_CONCAT, KIND_CONV, POOL_AVG, POOL_GLOBAL, POOL_MAX, IntLayer, IntModel,
                        TensorNode, node_inputs)


@dataclass
class Hardware:
    """The parts of the config (configs/*.json) the contract depends on (ideal devices)."""
    rows: int = 128
    cols: int = 128
    cell_bits: int = 1
    dac_bits: int = 1
    adc_bits: int = 8
    frac_bits: int = 8
    tiles: int = 64

    @staticmethod
    def from_config(cfg: dict):
        xb, adc = cfg.get("crossbar", {}), cfg.get("adc", {})
        return Hardware(rows=xb.get("rows", 128), cols=xb.get("cols", 128), cell_bits=xb.get("cell_bits", 1),
                        dac_bits=xb.get("dac_bits", 1), adc_bits=adc.get("bits", 8),
                        frac_bits=adc.get("frac_bits", 8), tiles=cfg.get("platform", {}).get("tiles", 64))

    @staticmethod
    def for_model(model: IntModel, base=None):
        """The default chip with what the model's header requires."""
        hw = base or Hardware()
        return Hardware(rows=hw.rows, cols=hw.cols, cell_bits=model.cell_bits or hw.cell_bits,
                        dac_bits=model.dac_bits or hw.dac_bits, adc_bits=model.adc_bits or hw.adc_bits,
                        frac_bits=model.frac_bits if model.adc_bits else hw.frac_bits, tiles=hw.tiles)


class ContractError(ValueError):
    pass


FLOAT32_EXACT = 1 << 24


def _f32_product(x32, w32):
    """x [N][K] @ w [M][K]^T in float32 through oneDNN (a 1x1 convolution; Debian's torch
    has only the reference BLAS for mm). Exact when every partial sum is an integer below
    2^24 in magnitude, which the callers guarantee."""
    N, K = x32.shape
    return F.conv2d(x32.view(N, K, 1, 1), w32.view(w32.shape[0], K, 1, 1)).view(N, -1)


def int_product(x, w, x_max, w_max):
    """The exact integer product x [N][K] @ w [M][K]^T (int64 result) of inputs with
    0 <= x <= x_max and |w| <= w_max: float32 products over chunks of K short enough that no
    partial sum reaches 2^24, summed in int64."""
    N, K = x.shape
    chunk = max(1, (FLOAT32_EXACT - 1) // max(1, x_max * w_max))
    x32, w32 = x.to(torch.float32), w.to(torch.float32)
    out = torch.zeros(N, w.shape[0], dtype=torch.int64)
    for k0 in range(0, K, chunk):
        part = _f32_product(x32[:, k0:k0 + chunk].contiguous(), w32[:, k0:k0 + chunk].contiguous())
        out.add_(part.to(torch.int64))
    return out


def layer_geometry(K, a_bits, w_bits, binary, rows_per_tile, hw: Hardware):
    rows = rows_per_tile or hw.rows
    if rows > hw.rows:
        raise ContractError(f"rows_per_tile {rows} > crossbar.rows {hw.rows}")
    slices = 1 if binary else -(-w_bits // hw.cell_bits)
    dac = min(hw.dac_bits, a_bits)
    return dict(rows=rows, row_tiles=-(-K // rows), slices=slices, dac=dac, steps=-(-a_bits // dac),
                weight_scale=2 if binary else 1, offset=1 if binary else (1 << (w_bits - 1)))


def max_psum(rows, dac, cell_bits):
    return rows * ((1 << dac) - 1) * ((1 << cell_bits) - 1)


def is_lossless(K, a_bits, w_bits, binary, rows_per_tile, hw: Hardware):
    g = layer_geometry(K, a_bits, w_bits, binary, rows_per_tile, hw)
    return max_psum(min(g["rows"], K), g["dac"], hw.cell_bits) <= (1 << hw.adc_bits) - 1


def cell_levels(w, w_bits, binary, cell_bits):
    """Levels of the cells per slice: list of [M][K] int64 tensors."""
    if binary:
        return [nx.binary_level(w)]
    return nx.offset_slices(w, w_bits, cell_bits)


def tiled_matrix(x, w, *, a_bits, w_bits, binary, hw: Hardware, rows_per_tile=0, col_mult=None,
                 adc_step=None, adc_base=None):
    """acc [N][M] of the contract for input vectors x [N][K] (int64, unsigned a_bits-bit) and
    weights w [M][K] (int64): per row tile, step and slice one read, the ADC per column,
    shift-add, round once per tile, remove the offset, scale by the column multiplier and sum.
    adc_step/adc_base [row_tiles][M][S] fixed point (hw.frac_bits); None = unit tables.

    The arithmetic is numerics.py's, written with in-place int64 operations on reused buffers
    (fresh multi-megabyte tensors per operation cost more than the operation)."""
    N, K = x.shape
    M = w.shape[0]
    g = layer_geometry(K, a_bits, w_bits, binary, rows_per_tile, hw)
    R, S, dac, T = g["rows"], g["slices"], g["dac"], g["steps"]
    Fb = hw.frac_bits
    qmax = (1 << hw.adc_bits) - 1
    levels = [lv.to(torch.float32) for lv in cell_levels(w, w_bits, binary, hw.cell_bits)]
    cell = 0 if binary else hw.cell_bits
    if max_psum(R, dac, hw.cell_bits) >= FLOAT32_EXACT:
        raise ContractError("partial sums too large for the float32 read")
    acc = torch.zeros(N, M, dtype=torch.int64)
    fx = torch.empty(N, M, dtype=torch.int64)
    val = torch.empty(N, M, dtype=torch.int64)
    for rt in range(g["row_tiles"]):
        r0, r1 = rt * R, min(K, (rt + 1) * R)
        xr = x[:, r0:r1]
        input_sum = xr.sum(dim=1, keepdim=True)
        fx.zero_()
        for t in range(T):
            n_t = min(dac, a_bits - t * dac)
            xt = (nx.floor_div(xr, 1 << (t * dac)) % (1 << n_t)).to(torch.float32)
            for j in range(S):
                # psum of every column: integers <= max_psum < 2^24, exact in float32
                val.copy_(_f32_product(xt, levels[j][:, r0:r1].contiguous()))
                val.mul_(1 << Fb)                                    # psum_fx = psum << F
                if adc_step is None:
                    step = torch.full((M,), 1 << Fb, dtype=torch.int64)
                    base = torch.zeros(M, dtype=torch.int64)
                else:
                    step = torch.as_tensor(np.ascontiguousarray(adc_step[rt, :, j]), dtype=torch.int64)
                    base = torch.as_tensor(np.ascontiguousarray(adc_base[rt, :, j]), dtype=torch.int64)
                # code = clamp(floor((2 (psum_fx - base) + step) / (2 step)), 0, 2^bits - 1)
                val.sub_(base).mul_(2).add_(step).div_(2 * step, rounding_mode="floor").clamp_(0, qmax)
                # value = base + code * step, shifted into the tile's accumulator
                val.mul_(step).add_(base)
                fx.add_(val, alpha=1 << (t * dac + j * cell))
        # partial = weight_scale * round_half_up(fx / 2^F) - offset * sum(x)
        if Fb > 0:
            fx.add_(1 << (Fb - 1)).div_(1 << Fb, rounding_mode="floor")
        fx.mul_(g["weight_scale"]).sub_(input_sum * g["offset"])
        if col_mult is not None:
            fx.mul_(torch.as_tensor(np.ascontiguousarray(col_mult[rt]), dtype=torch.int64))
        acc.add_(fx)
    return acc


def exact_matrix(x, w, a_bits=8):
    """The plain integer product sum_k x[k] w[m][k] of a_bits-bit inputs."""
    return int_product(x, w, (1 << a_bits) - 1, int(w.abs().max()) if w.numel() else 0)


def im2col(x, L: IntLayer):
    """[B][C][H][W] int64 -> [B*OH*OW][K] int64, (c, ky, kx) order, zero padding."""
    cols = F.unfold(x.to(torch.float64), L.kernel, padding=L.padding, stride=L.stride)  # B, K, OH*OW
    return torch.round(cols.transpose(1, 2).reshape(-1, cols.shape[1])).to(torch.int64)


def group_blocks(L: IntLayer, hw: Hardware):
    """The blocks of whole groups a grouped conv runs in (docs/numerics.md, "Graph networks"):
    [(first group, last group + 1)], Gb = max(1, floor(R / Kg)) groups per block."""
    R = L.rows_per_tile or hw.rows
    Gb = max(1, R // L.K)
    return [(g0, min(L.groups, g0 + Gb)) for g0 in range(0, L.groups, Gb)]


def block_weights(L: IntLayer, g0, g1):
    """The block-diagonal weight matrix [M_b][K_b] (int64) of groups g0 .. g1 - 1."""
    Mg, Kg = L.out_c // L.groups, L.K
    n = g1 - g0
    w = torch.as_tensor(L.weights.astype(np.int64))
    wb = torch.zeros(n * Mg, n * Kg, dtype=torch.int64)
    for g in range(n):
        wb[g * Mg:(g + 1) * Mg, g * Kg:(g + 1) * Kg] = w[(g0 + g) * Mg:(g0 + g + 1) * Mg]
    return wb


def _grouped_matrix(x, L: IntLayer, hw: Hardware, force_tiled):
    """acc [B*OH*OW][M] and Sx [B*OH*OW][M] (each output's block's input sum) of a grouped conv."""
    G, Cg, Mg = L.groups, L.in_c // L.groups, L.out_c // L.groups
    blocks = group_blocks(L, hw)
    lossless_ok = L.adc_step is None and L.col_mult is None and not force_tiled
    K_b = max(g1 - g0 for g0, g1 in blocks) * L.K
    if lossless_ok and not is_lossless(K_b, L.a_in_bits, L.w_bits, L.binary, L.rows_per_tile, hw):
        raise ContractError("layer without ADC tables on a lossy ADC: the contract needs tables")
    if not lossless_ok:
        accs, sxs = [], []
        for g0, g1 in blocks:
            vec = im2col(x[:, g0 * Cg:g1 * Cg], L)
            accs.append(tiled_matrix(vec, block_weights(L, g0, g1), a_bits=L.a_in_bits, w_bits=L.w_bits,
                                     binary=bool(L.binary), hw=hw, rows_per_tile=L.rows_per_tile))
            sxs.append(vec.sum(dim=1, keepdim=True).expand(-1, (g1 - g0) * Mg))
        return torch.cat(accs, 1), torch.cat(sxs, 1)
    # Lossless: the blocks' zeros add nothing, so acc is the grouped convolution (exact in float64:
    # every partial sum is an integer far below 2^53).
    k = L.kernel
    w = torch.as_tensor(L.weights.astype(np.float64)).view(L.out_c, Cg, k, k)
    acc = F.conv2d(x.to(torch.float64), w, stride=L.stride, padding=L.padding, groups=G)
    acc = torch.round(acc).to(torch.int64).permute(0, 2, 3, 1).reshape(-1, L.out_c)
    if not np.any(L.mult_x):
        return acc, torch.zeros(1, 1, dtype=torch.int64)
    ones = torch.ones(L.in_c, 1, k, k, dtype=torch.float64)
    win = F.conv2d(x.to(torch.float64), ones, stride=L.stride, padding=L.padding, groups=L.in_c)  # B, C, OH, OW
    win = torch.round(win).to(torch.int64).permute(0, 2, 3, 1).reshape(-1, L.in_c)
    sx = torch.cat([win[:, g0 * Cg:g1 * Cg].sum(1, keepdim=True).expand(-1, (g1 - g0) * Mg)
                    for g0, g1 in blocks], 1)
    return acc, sx


def _window_pool(y, pool, size, stride):
    """The window pooling of docs/numerics.md ("Networks") on codes [B][C][H][W]."""
    if pool == POOL_MAX:
        return torch.round(F.max_pool2d(y.to(torch.float64), size, stride)).to(torch.int64)
    if pool == POOL_AVG:
        s = torch.round(F.avg_pool2d(y.to(torch.float64), size, stride, divisor_override=1)).to(torch.int64)
        return nx.round_half_up_div(s, size * size)
    return y


def layer_forward(x, L: IntLayer, hw: Hardware, force_tiled=False):
    """One layer on a batch: returns the next layer's input [B][C][H][W] (hidden) or logits [B][M]."""
    B = x.shape[0]
    if L.kind == KIND_CONV and L.groups > 1:
        acc, sx = _grouped_matrix(x, L, hw, force_tiled)
    else:
        if L.kind == KIND_CONV:
            vec = im2col(x, L)
        else:
            vec = x.reshape(B, -1)
        w = torch.as_tensor(L.weights.astype(np.int64))
        lossless_ok = L.adc_step is None and L.col_mult is None and not force_tiled
        if lossless_ok:
            if not is_lossless(L.K, L.a_in_bits, L.w_bits, L.binary, L.rows_per_tile, hw):
                raise ContractError("layer without ADC tables on a lossy ADC: the contract needs tables")
            acc = exact_matrix(vec, w, L.a_in_bits)
        else:
            acc = tiled_matrix(vec, w, a_bits=L.a_in_bits, w_bits=L.w_bits, binary=bool(L.binary), hw=hw,
                               rows_per_tile=L.rows_per_tile, col_mult=L.col_mult, adc_step=L.adc_step,
                               adc_base=L.adc_base)
        sx = vec.sum(dim=1, keepdim=True)
    v = acc * torch.as_tensor(L.mult.astype(np.int64)) + sx * torch.as_tensor(L.mult_x.astype(np.int64)) \
        + torch.as_tensor(L.bias.astype(np.int64))
    if not L.relu:
        return v.reshape(B, -1)  # the last layer: one vector of logits per image
    y = torch.clamp(nx.round_half_up_shift(v, L.shift), 0, (1 << L.a_out_bits) - 1)
    oh, ow = L.out_hw()
    y = y.reshape(B, oh, ow, L.M).permute(0, 3, 1, 2).contiguous()
    return _window_pool(y, L.pool, L.pool_size, L.pool_stride)


def tensor_forward(xs, N: TensorNode):
    """A tensor node (add, concat, pool) on its input codes [B][C][H][W] (docs/numerics.md, "Graph networks")."""
    m = [int(v) for v in N.mult]
    b = [int(v) for v in N.bias]
    if N.kind == KIND_ADD:
        v = (xs[0] * m[0] + b[0]) + (xs[1] * m[1] + b[1])
    elif N.kind == KIND_CONCAT:
        v = torch.cat([x * mi + bi for x, mi, bi in zip(xs, m, b)], 1)
    elif N.pool == POOL_GLOBAL:
        v = xs[0].sum(dim=(2, 3), keepdim=True) * m[0] + b[0]
    else:
        v = xs[0] * m[0] + b[0]
    y = torch.clamp(nx.round_half_up_shift(v, N.shift), 0, (1 << N.a_out_bits) - 1)
    return _window_pool(y, N.pool, N.pool_size, N.pool_stride)


def node_forward(xs, N, hw: Hardware, force_tiled=False):
    if isinstance(N, TensorNode):
        return tensor_forward(xs, N)
    return layer_forward(xs[0], N, hw, force_tiled=force_tiled)


def run(model: IntModel, images, hw: Hardware = None, batch=250, force_tiled=False, masks=None):
    """Integer logits [N][num_classes] (int64) of uint8 images [N][C][H][W]: the nodes in file order,
    each on the tensors its inputs name (a v1/v2 chain: the previous layer's output). masks: each node's
    input mask (the activation-truncation baseline, the reference's set_input_masks: a layer's input codes
    ANDed with it; 0xFF or a shorter list: none)."""
    hw = hw or Hardware.for_model(model)
    images = torch.as_tensor(np.asarray(images)).to(torch.int64)
    n = len(model.layers)
    inputs = [node_inputs(model, i) for i in range(n)]
    last_use = {}
    for i, ins in enumerate(inputs):
        for j in ins:
            last_use[j] = i
    outs = []
    for i in range(0, images.shape[0], batch):
        vals = {0: images[i:i + batch]}
        for k, N in enumerate(model.layers):
            xs = [vals[j] for j in inputs[k]]
            if masks is not None and k < len(masks) and masks[k] != 0xFF and not isinstance(N, TensorNode):
                xs[0] = xs[0] & int(masks[k])
            vals[k + 1] = node_forward(xs, N, hw, force_tiled=force_tiled)
            for j in set(inputs[k]):
                if last_use.get(j) == k:
                    del vals[j]
        outs.append(vals[n])
    return torch.cat(outs, 0)


def predict(logits):
    """Index of the largest logit, the lowest index on a tie (torch.argmax does not promise that)."""
    mx = logits.max(dim=1, keepdim=True).values
    idx = torch.arange(logits.shape[1]).expand_as(logits)
    return torch.where(logits == mx, idx, logits.shape[1]).min(dim=1).values


def digests(logits):
    """FNV-1a 64 of the int64 little-endian logits and of the uint8 predicted labels."""
    lg = logits.numpy().astype("<i8")
    pred = predict(logits).numpy().astype(np.uint8)
    return f"{nx.fnv1a64(lg.tobytes()):016x}", f"{nx.fnv1a64(pred.tobytes()):016x}"
