"""The integer arithmetic of the numeric contract (docs/numerics.md, sw/contract/numerics.h)
on int64 torch tensors, exact: no floating point anywhere in this file."""
import torch

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1


def fnv1a64(data, h=FNV_OFFSET):
    """FNV-1a 64 of a bytes-like object (optionally continuing from h)."""
    for b in bytes(data):
        h = ((h ^ b) * FNV_PRIME) & _MASK64
    return h


def floor_div(num, den):
    """floor(num / den), den > 0, exact on int64 tensors (or ints)."""
    if isinstance(num, int) and isinstance(den, int):
        return num // den
    return torch.div(num, den, rounding_mode="floor")


def round_half_up_div(num, den):
    """round_half_up(num / den) = floor((2 num + den) / (2 den)), den > 0."""
    return floor_div(2 * num + den, 2 * den)


def round_half_up_shift(v, shift):
    """round_half_up(v / 2^shift) = (v + 2^(shift-1)) >> shift (arithmetic); shift 0 returns v."""
    if shift <= 0:
        return v
    return floor_div(v + (1 << (shift - 1)), 1 << shift)


def adc_code(psum_fx, step_fx, base_fx, bits):
    """code = clamp(round_half_up((psum - base) / step), 0, 2^bits - 1)."""
    code = round_half_up_div(psum_fx - base_fx, step_fx)
    return torch.clamp(code, 0, (1 << bits) - 1)


def adc_value(code, step_fx, base_fx):
    return base_fx + code * step_fx


def finish_partial(fx_sum, frac_bits, weight_scale, offset, input_sum):
    """weight_scale * round_half_up(fx / 2^F) - offset * sum(x over the tile's rows)."""
    return weight_scale * round_half_up_shift(fx_sum, frac_bits) - offset * input_sum


def offset_slices(w, w_bits, cell_bits):
    """Cell levels of signed weights (int64 tensor) in offset encoding: u = w + 2^(w_bits-1),
    slice j = bits [j*cell_bits, (j+1)*cell_bits) of u. Returns a list of S tensors."""
    u = w + (1 << (w_bits - 1))
    s = -(-w_bits // cell_bits)
    mask = (1 << cell_bits) - 1
    return [floor_div(u, 1 << (j * cell_bits)) % (mask + 1) for j in range(s)]


def binary_level(w):
    """b = (w + 1) / 2 for w in {-1, +1}."""
    return floor_div(w + 1, 2)
