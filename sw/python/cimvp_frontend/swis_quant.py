"""SWIS weight fake-quantization: int8 weights decomposed in groups of M (4, the PE array's, or 1..16
for the group-size study) sharing N shift positions, exactly as the C++ contract's decompose_group does (sw/contract/swis.h, docs/swis.md
"Decomposition"), vectorised over every group of a layer, and the weight-truncation baseline
(truncate_weights).

The rule: sign-magnitude, -128 taken as -127. Every shift set of N positions out of 0..7 (SWIS)
or N consecutive positions (SWIS-C) is tried; each weight takes the nearest level of the set (a
subset sum of its 2^s that is <= 127; half-way takes the smaller); the set with the lowest
MSE++ = (1/M) [alpha (sum e)^2 + sum e^2] wins, ties to the first set in enumeration order (sets
as 8-bit masks in increasing mask value; SWIS-C by increasing offset). Groups: channels
M cg..M cg + M - 1 at one (ky, kx) of a filter (conv), M consecutive inputs of the CHW-flattened
input (fc); the last group short, its missing lanes 0 (the contract's LayerShape::group_size).

constrain gives a layer's int8 weights at a fine-tuning setting's constraint (decomposed, or
truncated for the "wgt" baseline). For training, constrain_ste puts those integer weights in the
forward and passes the gradient straight through to the int8 weights (and from there, through
the int8 quantizer's own straight-through rounding, to the float weights). The activation-truncation
baseline ("act") leaves the weights whole and truncates every PE-array layer's input codes instead
(activation_truncation_mask, truncate_activations_ste)."""
import functools
import json

import torch

from . import modelfile
from .settings import SWIS_GROUP_SIZE_RANGE as GROUP_SIZE_RANGE

GROUP_SIZE = 4  # the PE array's M (kGroupSize); GROUP_SIZE_RANGE the decomposition's (kMaxGroupSize)
MAX_MAGNITUDE = 127
VARIANTS = ("swis", "swisc")  # the front end's names
CONTRACT_VARIANT = {"swis": modelfile.SWIS, "swisc": modelfile.SWIS_C}  # their numbers in the model file


def file_variant(variant):
    """The contract's name of a fine-tuning variant ("swis" -> "swis", "swisc" -> "swis-c"): `cimvp convert
    --variant` and a schedule file's "variant"."""
    return modelfile.VARIANT_NAMES[CONTRACT_VARIANT[variant]]


def shift_sets(n, variant):
    """The shift sets of size n as 8-bit masks (bit p = position p), in enumeration order."""
    if not 1 <= n <= 8:
        raise ValueError(f"swis: shift count: expected 1..8, got {n}")
    if variant == "swis":
        return [s for s in range(256) if bin(s).count("1") == n]
    if variant == "swisc":
        return [((1 << n) - 1) << o for o in range(9 - n)]
    raise ValueError(f"swis variant {variant!r}: expected one of {', '.join(VARIANTS)}")


def nearest_levels(mask):
    """[128] the nearest level of every magnitude 0..127 for a set: a subset sum of its 2^s
    no larger than 127, the smaller one when a magnitude is half-way between two."""
    usable = mask & MAX_MAGNITUDE  # 2^7 = 128 does not fit
    levels = sorted({sub for sub in range(usable + 1) if sub & ~usable == 0})
    lv = torch.tensor(levels, dtype=torch.int64)
    m = torch.arange(MAX_MAGNITUDE + 1, dtype=torch.int64)
    dist = (m.view(-1, 1) - lv.view(1, -1)).abs()
    # levels ascend: the first index of the least distance is the smaller level on a tie
    return lv[torch.argmin(dist * (len(levels) + 1) + torch.arange(len(levels)).view(1, -1), dim=1)]


@functools.lru_cache(maxsize=None)
def level_table(n, variant):
    """(masks [S], levels [S][128]) of the sets of size n in enumeration order."""
    masks = shift_sets(n, variant)
    return torch.tensor(masks, dtype=torch.int64), torch.stack([nearest_levels(s) for s in masks])


def decompose_groups(groups, n, variant="swis", alpha=1.0, chunk=16384):
    """Decomposed weights [G][M] (int64) and the chosen set masks [G] of integer weights
    [G][M] (-128 taken as -127; zero-padded lanes stay 0)."""
    g = torch.as_tensor(groups).to(torch.int64)
    if g.ndim != 2:
        raise ValueError(f"swis: groups: expected [G][M], got shape {tuple(g.shape)}")
    masks, levels = level_table(n, variant)
    S = levels.shape[0]
    diff = torch.arange(MAX_MAGNITUDE + 1).view(1, -1) - levels    # [S][128] m - level
    integral = float(alpha) == int(alpha) and alpha >= 0
    out = torch.empty_like(g)
    chosen = torch.empty(g.shape[0], dtype=torch.int64)
    order = torch.arange(S, dtype=torch.int64).view(S, 1)
    for lo in range(0, g.shape[0], chunk):
        part = g[lo:lo + chunk]
        mag = part.abs().clamp(max=MAX_MAGNITUDE)
        neg = part < 0
        d = diff[:, mag]                                             # [S][g][M]
        e = torch.where(neg.unsqueeze(0), -d, d)
        s1 = e.sum(-1)
        s2 = (d * d).sum(-1)
        if integral:
            cost = int(alpha) * s1 * s1 + s2                          # exact
            best = torch.argmin(cost * S + order, dim=0)              # ties: the first set
        else:
            cost = float(alpha) * s1.double() * s1.double() + s2.double()
            lowest = cost.min(dim=0).values
            best = torch.argmax((cost == lowest.unsqueeze(0)).to(torch.int64) * (S - order), dim=0)
        lev = levels[best.view(-1, 1), mag]                          # [g][M]
        out[lo:lo + chunk] = torch.where(neg, -lev, lev)
        chosen[lo:lo + chunk] = masks[best]
    return out, chosen


def check_group_size(m):
    lo, hi = GROUP_SIZE_RANGE
    if not (isinstance(m, int) and lo <= m <= hi):
        raise ValueError(f"swis: group size: expected an integer M in {lo}..{hi}, got {m!r}")
    return m


def to_groups(w, fc, group_size=GROUP_SIZE):
    """Integer weights [F][C][kh][kw] -> ([F * groups][M], restore) in the contract's group order:
    conv: [filter][ky][kx][channel group], channels M cg..M cg + M - 1; fc: M consecutive inputs of
    the CHW-flattened input. restore(groups) puts decomposed groups back in w's shape."""
    F_, C, kh, kw = w.shape
    M = check_group_size(group_size)
    if fc:
        flat = w.reshape(F_, -1)
        K = flat.shape[1]
        pad = (-K) % M
        g = torch.nn.functional.pad(flat, (0, pad)).reshape(-1, M)

        def restore(d):
            return d.reshape(F_, K + pad)[:, :K].reshape(w.shape)
        return g, restore
    pad = (-C) % M
    x = torch.nn.functional.pad(w, (0, 0, 0, 0, 0, pad))              # [F][C'][kh][kw]
    cg = (C + pad) // M
    g = x.reshape(F_, cg, M, kh, kw).permute(0, 3, 4, 1, 2).reshape(-1, M)

    def restore(d):
        return d.reshape(F_, kh, kw, cg, M).permute(0, 3, 4, 1, 2).reshape(F_, C + pad, kh, kw)[:, :C]
    return g, restore


def decompose_groups_at(groups, n, variant="swis", alpha=1.0):
    """decompose_groups's weights with a shift count per group: n an int, or a sequence of one count per
    group (a schedule's per-filter N, repeated over each filter's groups)."""
    if isinstance(n, int):
        return decompose_groups(groups, n, variant, alpha)[0]
    n = torch.as_tensor(n, dtype=torch.int64)
    g = torch.as_tensor(groups).to(torch.int64)
    if n.shape != (g.shape[0],):
        raise ValueError(f"swis: shift counts: expected one per group ({g.shape[0]}), got shape {tuple(n.shape)}")
    out = torch.empty_like(g)
    for k in torch.unique(n).tolist():
        rows = (n == k).nonzero().flatten()
        out[rows] = decompose_groups(g[rows], int(k), variant, alpha)[0]
    return out


class GroupCache:
    """The last groups decomposed and their result: a training step changes few int8 weights, so
    only the groups that changed since the previous call are searched again."""

    def __init__(self):
        self.key, self.groups, self.out = None, None, None

    def decompose(self, g, n, variant, alpha):
        key = (n if isinstance(n, int) else tuple(n.tolist()), variant, float(alpha), tuple(g.shape))
        if key != self.key:
            out = decompose_groups_at(g, n, variant, alpha)
        else:
            out = self.out.clone()
            changed = (g != self.groups).any(1).nonzero().flatten()
            if changed.numel():
                out[changed] = decompose_groups_at(g[changed], n if isinstance(n, int) else n[changed], variant,
                                                   alpha)
        self.key, self.groups, self.out = key, g.clone(), out
        return out


def decompose_weights(w_int, n, variant="swis", fc=False, alpha=1.0, cache=None, group_size=GROUP_SIZE):
    """A layer's integer weights [F][C][kh][kw] decomposed at a uniform N per filter, as
    decompose_layer(w, shape, n, variant, alpha) gives them back (DecomposedLayer::weights), or at
    one N per filter when n is a sequence of F counts (a schedule's, as decompose_layer with its
    filter_n), in groups of group_size (shape.group_size). [F][K] weights are an fc layer's. cache: a
    GroupCache kept between calls on one layer."""
    w = torch.as_tensor(w_int).detach().round().to(torch.int64)
    if w.ndim == 2:
        w = w.view(w.shape[0], w.shape[1], 1, 1)
        fc = True
    g, restore = to_groups(w, fc, group_size)
    if torch.as_tensor(n).ndim == 0:
        n = int(n)
    else:
        n = torch.as_tensor(n, dtype=torch.int64).flatten()
        if n.shape != (w.shape[0],):
            raise ValueError(f"swis: per-filter shift counts: expected {w.shape[0]}, got {n.numel()}")
        n = n.repeat_interleave(g.shape[0] // w.shape[0])
    d = cache.decompose(g, n, variant, alpha) if cache is not None else decompose_groups_at(g, n, variant, alpha)
    return restore(d).reshape(torch.as_tensor(w_int).shape)


def truncate_weights(w_int, bits):
    """The weight-truncation baseline of the contract (truncate_weights): p = the highest set
    bit of the layer's max |w| (-128 as -127), low = p - bits + 1; |w| -> min(floor((|w| +
    2^(low-1)) / 2^low), 2^bits - 1) * 2^low, sign kept (bits >= p + 1: unchanged)."""
    if not 1 <= bits <= 8:
        raise ValueError(f"truncate: bits: expected 1..8, got {bits}")
    w = torch.as_tensor(w_int).detach().round().to(torch.int64)
    mag = w.abs().clamp(max=MAX_MAGNITUDE)
    top = int(mag.max())
    if top == 0:
        return torch.zeros_like(w)
    p = top.bit_length() - 1
    low = p - bits + 1
    if low <= 0:
        return torch.where(w < 0, -mag, mag)
    q = torch.clamp((mag + (1 << (low - 1))) >> low, max=(1 << bits) - 1) << low
    return torch.where(w < 0, -q, q)


def read_schedule(path, variant, group_size=GROUP_SIZE):
    """The per-filter shift counts of a schedule file: [layer] -> list of N per filter, or None for a layer not on
    the PE array. The file is a format-v2 model (`cimvp convert --schedule` or `--double-shift`; groups of the
    PE array's 4) or a JSON schedule (`cimvp swis --model --targets N --group-size M --schedule-out F
    --schedule-mode MODE`; groups of M). variant: the fine-tuning's ("swis" or "swisc"), which must be the
    file's; group_size: the M it decomposes in, which must be the file's. Raises ValueError naming the file and
    what it expected."""
    if variant not in VARIANTS:
        raise ValueError(f"{path}: a schedule is for the swis and swisc variants, got {variant!r}")
    if str(path).endswith(".json"):
        return read_schedule_json(path, variant, group_size)
    if group_size != GROUP_SIZE:
        raise ValueError(f"{path}: a model file's schedule is in groups of {GROUP_SIZE}; expected a JSON schedule "
                         f"of `cimvp swis --group-size {group_size} --schedule-out` for groups of {group_size}")
    try:
        m = modelfile.read(path)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: expected a model file of cimvp convert ({e})") from None
    stored = [getattr(L, "swis", None) for L in m.layers]
    if not any(stored):
        raise ValueError(f"{path}: expected layers stored as SWIS groups (model format v2, cimvp convert), got none")
    want = CONTRACT_VARIANT[variant]
    for i, s in enumerate(stored):
        if s is not None and s.variant != want:
            raise ValueError(f"{path}: layer {i}: expected variant {file_variant(variant)} (the fine-tuning's "
                             f"{variant}), got {modelfile.VARIANT_NAMES[s.variant]}")
    return [None if s is None else [int(x) for x in s.filter_n] for s in stored]


SCHEDULE_FORMAT = ("cimvp-swis-schedule", 1)  # `cimvp swis --schedule-out`: format name and version


def read_schedule_json(path, variant, group_size=GROUP_SIZE):
    """read_schedule of a JSON schedule (`cimvp swis --schedule-out`, docs/swis.md "Schedules in groups of M")."""
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: expected a JSON schedule of cimvp swis --schedule-out ({e})") from None

    def field(obj, key, kind, where=""):
        value = obj.get(key) if isinstance(obj, dict) else None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ValueError(f"{path}: {where}field '{key}': expected {kind.__name__}, got {value!r}")
        return value

    if (field(d, "format", str), field(d, "version", int)) != SCHEDULE_FORMAT:
        raise ValueError(f"{path}: fields 'format', 'version': expected {SCHEDULE_FORMAT[0]!r} version "
                         f"{SCHEDULE_FORMAT[1]}, got {d['format']!r} version {d['version']}")
    want = file_variant(variant)
    if field(d, "variant", str) != want:
        raise ValueError(f"{path}: field 'variant': expected {want!r} (the fine-tuning's {variant}), got "
                         f"{d['variant']!r}")
    if field(d, "group_size", int) != group_size:
        raise ValueError(f"{path}: field 'group_size': expected {group_size} (the fine-tuning's M), got "
                         f"{d['group_size']}")
    count = field(d, "model_layers", int)
    out = [None] * max(count, 0)
    for j, L in enumerate(field(d, "layers", list)):
        where = f"layers[{j}]: "
        i = field(L, "layer", int, where)
        if not 0 <= i < count or out[i] is not None:
            raise ValueError(f"{path}: {where}field 'layer': expected a layer index in 0..{count - 1} not given "
                             f"before, got {i}")
        fn = field(L, "filter_n", list, where)
        if not fn or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 8 for n in fn):
            raise ValueError(f"{path}: {where}field 'filter_n': expected shift counts in 1..8, got {fn!r}")
        out[i] = list(fn)
    if not any(x is not None for x in out):
        raise ValueError(f"{path}: field 'layers': expected at least one layer's schedule, got none")
    return out


def activation_truncation_mask(a_bits, bits):
    """The activation-truncation baseline's ("Act", the contract's activation_truncation_mask): a bit-serial
    PE that runs only the top `bits` bit-planes of its a_bits-bit input codes sees code & mask, the low
    a_bits - bits bits dropped (bits >= a_bits keeps every bit)."""
    if not 1 <= bits <= 8:
        raise ValueError(f"activation truncation bits: expected 1..8, got {bits}")
    if not 1 <= a_bits <= 8:
        raise ValueError(f"activation bits: expected 1..8, got {a_bits}")
    dropped = max(0, a_bits - bits)
    return ((1 << a_bits) - 1) & ~((1 << dropped) - 1)


def act_masks(model, bits):
    """Each node's input mask of the activation-truncation baseline at `bits` for a model file (IntModel), as
    `cimvp swis` runs Act: the layers it puts on the PE array (model_layers in sw/app/swis_job.cpp: 8-bit
    weights, not grouped) read their a_in_bits-bit codes & activation_truncation_mask; every other node 0xFF
    (engine.run's masks)."""
    return [activation_truncation_mask(L.a_in_bits, bits)
            if isinstance(L, modelfile.IntLayer) and L.groups == 1 and not L.binary and L.w_bits == 8 else 0xFF
            for L in model.layers]


def truncate_activations_ste(codes, a_bits, bits):
    """Act in the training forward: unsigned integer-valued codes (float) & activation_truncation_mask, that
    is the code rounded down to a multiple of 2^(a_bits - bits), the gradient straight through."""
    step = float(((1 << a_bits) - 1) - activation_truncation_mask(a_bits, bits) + 1)
    d = torch.floor(codes.detach() / step) * step
    return codes + (d - codes).detach()


def constrain(w_int, n, variant="swis", fc=False, cache=None, group_size=GROUP_SIZE):
    """A layer's int8 weights at SWIS-aware fine-tuning's constraint (settings.INT8_SWIS_VARIANTS):
    decomposed at N shifts per group of group_size ("swis", "swisc"; [F][C][kh][kw] or an fc's [F][K], as
    decompose_weights; n an int or one count per filter), or truncated to N bits ("wgt", truncate_weights,
    which has no groups), or left whole ("act": the activation-truncation baseline constrains the inputs,
    truncate_activations_ste). Exact integers."""
    if variant == "act":
        if torch.as_tensor(n).ndim != 0:
            raise ValueError("activation truncation: expected one bit count for the layer, got per-filter counts")
        return torch.as_tensor(w_int).detach().round().to(torch.int64)
    if variant == "wgt":
        if torch.as_tensor(n).ndim != 0:
            raise ValueError("truncation: expected one bit count for the layer, got per-filter counts")
        n = int(n)
        return truncate_weights(w_int, n)
    return decompose_weights(w_int, n, variant, fc, cache=cache, group_size=group_size)


def constrain_ste(w_int, n, variant="swis", fc=False, cache=None, group_size=GROUP_SIZE):
    """constrain in the forward, the gradient straight through to w_int."""
    d = constrain(w_int.detach(), n, variant, fc, cache, group_size).to(w_int.dtype)
    return w_int + (d - w_int).detach()
