"""Model file formats v1 and v2 (docs/model-format.md): writer and reader.

Format v2 adds, per layer, the weights stored as SWIS groups (docs/swis.md
"Storage"). This module reads and writes those fields as they are and checks
their ranges and sizes; it does not unpack the groups (the C++ loader checks
that they equal the layer's int8 weights, which every v2 layer keeps, so the
integer engine runs a v2 model unchanged)."""
import math
import struct
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .numerics import fnv1a64

MAGIC = b"CIMVPMDL"
END = b"CIMVPEND"
VERSION = 1          # written when no layer has SWIS storage
VERSION_SWIS = 2     # adds the per-layer SWIS storage
SWIS_GROUP_SIZE = 4
SWIS, SWIS_C = 0, 1
KIND_CONV, KIND_FC = 1, 2
POOL_NONE, POOL_MAX, POOL_AVG = 0, 1, 2

_HEADER = struct.Struct("<8sII" + "III" + "II" + "16s32s" + "IIII")
_LAYER = struct.Struct("<" + "I" * 17 + "i" + "II")
_FOOTER = struct.Struct("<Q8s")


class ModelFileError(ValueError):
    pass


@dataclass
class SwisStorage:
    """A layer's weights as packed SWIS groups (format v2)."""
    variant: int                 # SWIS (0) or SWIS_C (1)
    schedule_cols: int           # filters that share one N in execution order
    filter_n: np.ndarray         # uint8 [M], 1..8
    packed: bytes                # the group stream (docs/swis.md "Storage")


def swis_group_bits(n, variant):
    """Bits of one group: M signs + N shifts of 3 bits (SWIS-C: one 3-bit offset) + M*N mask bits."""
    shift_bits = 3 if variant == SWIS_C else 3 * n
    return SWIS_GROUP_SIZE + shift_bits + SWIS_GROUP_SIZE * n


def swis_groups_per_filter(layer):
    channels = layer.in_c if layer.kind == KIND_CONV else layer.K
    kk = layer.kernel * layer.kernel if layer.kind == KIND_CONV else 1
    return -(-channels // SWIS_GROUP_SIZE) * kk


def swis_packed_bytes(layer, filter_n, variant):
    bits = sum(swis_groups_per_filter(layer) * swis_group_bits(int(n), variant) for n in filter_n)
    return -(-bits // 8)


@dataclass
class IntLayer:
    kind: int
    in_c: int
    in_h: int
    in_w: int
    out_c: int
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    a_in_bits: int = 8
    w_bits: int = 8
    binary: int = 0
    rows_per_tile: int = 0
    relu: int = 1
    a_out_bits: int = 8
    pool: int = POOL_NONE
    pool_size: int = 0
    pool_stride: int = 0
    shift: int = 0
    weights: np.ndarray = None          # int8 [M][K]
    bias: np.ndarray = None             # int64 [M]
    mult: np.ndarray = None             # int32 [M]
    mult_x: np.ndarray = None           # int32 [M]
    col_mult: Optional[np.ndarray] = None   # int32 [row_tiles][M]
    adc_step: Optional[np.ndarray] = None   # int64 [row_tiles][M][S]
    adc_base: Optional[np.ndarray] = None   # int64 [row_tiles][M][S]
    swis: Optional[SwisStorage] = None      # format v2: the weights as SWIS groups

    @property
    def K(self):
        if self.kind == KIND_CONV:
            return self.in_c * self.kernel * self.kernel
        return self.in_c * self.in_h * self.in_w

    @property
    def M(self):
        return self.out_c

    def out_hw(self):
        """Spatial size of the matrix layer's output (before pooling)."""
        if self.kind == KIND_FC:
            return 1, 1
        oh = (self.in_h + 2 * self.padding - self.kernel) // self.stride + 1
        ow = (self.in_w + 2 * self.padding - self.kernel) // self.stride + 1
        return oh, ow

    def pooled_hw(self):
        oh, ow = self.out_hw()
        if self.pool == POOL_NONE:
            return oh, ow
        return (oh - self.pool_size) // self.pool_stride + 1, (ow - self.pool_size) // self.pool_stride + 1

    def row_tiles(self, crossbar_rows=128):
        r = self.rows_per_tile or crossbar_rows
        return -(-self.K // r)


@dataclass
class IntModel:
    name: str
    scheme: str
    in_c: int = 1
    in_h: int = 28
    in_w: int = 28
    in_bits: int = 8
    num_classes: int = 10
    cell_bits: int = 0
    dac_bits: int = 0
    adc_bits: int = 0
    frac_bits: int = 8
    layers: List[IntLayer] = field(default_factory=list)


def _pad(s, n, what):
    b = s.encode("ascii")
    if len(b) >= n:
        raise ModelFileError(f"{what} '{s}' longer than {n - 1} characters")
    return b + b"\0" * (n - len(b))


def _slices(model, layer):
    if layer.binary:
        return 1
    if model.cell_bits == 0:
        raise ModelFileError("ADC tables need a model cell_bits")
    return -(-layer.w_bits // model.cell_bits)


def to_bytes(model: IntModel) -> bytes:
    v2 = any(L.swis is not None for L in model.layers)
    out = bytearray()
    out += _HEADER.pack(MAGIC, VERSION_SWIS if v2 else VERSION, len(model.layers), model.in_c, model.in_h, model.in_w, model.in_bits,
                        model.num_classes, _pad(model.scheme, 16, "scheme"), _pad(model.name, 32, "name"),
                        model.cell_bits, model.dac_bits, model.adc_bits, model.frac_bits)
    for i, L in enumerate(model.layers):
        M, K = L.M, L.K
        has_cm = L.col_mult is not None
        has_adc = L.adc_step is not None
        out += _LAYER.pack(L.kind, L.in_c, L.in_h, L.in_w, L.out_c, L.kernel, L.stride, L.padding, L.a_in_bits,
                           L.w_bits, L.binary, L.rows_per_tile, L.relu, L.a_out_bits, L.pool, L.pool_size,
                           L.pool_stride, L.shift, int(has_cm), int(has_adc))

        def arr(a, dtype, shape, what):
            a = np.asarray(a)
            if a.shape != tuple(shape):
                raise ModelFileError(f"layer {i}: {what}: shape {a.shape}, expected {tuple(shape)}")
            b = a.astype(dtype)
            if not np.array_equal(b.astype(np.int64), a.astype(np.int64)):
                raise ModelFileError(f"layer {i}: {what}: values do not fit {np.dtype(dtype).name}")
            return b.astype(np.dtype(dtype).newbyteorder("<")).tobytes()

        out += arr(L.weights, np.int8, (M, K), "weights")
        out += arr(L.bias, np.int64, (M,), "bias")
        out += arr(L.mult, np.int32, (M,), "mult")
        out += arr(L.mult_x, np.int32, (M,), "mult_x")
        if (has_cm or has_adc) and L.rows_per_tile == 0:
            # row_tiles would depend on the config's crossbar.rows: make it explicit.
            raise ModelFileError(f"layer {i}: col_mult/ADC tables need an explicit rows_per_tile")
        rt = L.row_tiles()
        if has_cm:
            out += arr(L.col_mult, np.int32, (rt, M), "col_mult")
        if has_adc:
            s = _slices(model, L)
            out += arr(L.adc_step, np.int64, (rt, M, s), "adc_step")
            out += arr(L.adc_base, np.int64, (rt, M, s), "adc_base")
        if v2:
            out += struct.pack("<I", int(L.swis is not None))
        if L.swis is not None:
            sw = L.swis
            want = swis_packed_bytes(L, sw.filter_n, sw.variant)
            if L.w_bits != 8 or L.binary or len(sw.filter_n) != M or len(sw.packed) != want:
                raise ModelFileError(f"layer {i}: swis: expected an 8-bit layer, {M} filter_n and {want} packed bytes")
            out += struct.pack("<III", sw.variant, SWIS_GROUP_SIZE, sw.schedule_cols)
            out += arr(sw.filter_n, np.uint8, (M,), "filter_n")
            out += struct.pack("<I", len(sw.packed)) + bytes(sw.packed)
    checksum = fnv1a64(out)
    out += _FOOTER.pack(checksum, END)
    return bytes(out)


def write(path, model: IntModel):
    data = to_bytes(model)
    with open(path, "wb") as f:
        f.write(data)
    return data


def from_bytes(data: bytes, path="<bytes>") -> IntModel:
    def fail(offset, what):
        raise ModelFileError(f"{path}: byte {offset}: {what}")

    if len(data) < _HEADER.size + _FOOTER.size:
        fail(len(data), f"truncated: {len(data)} bytes, expected at least {_HEADER.size + _FOOTER.size}")
    body, footer = data[:-_FOOTER.size], data[-_FOOTER.size:]
    checksum, end = _FOOTER.unpack(footer)
    if end != END:
        fail(len(data) - 8, f"end marker: expected {END!r}, got {end!r}")
    (magic, version, n_layers, in_c, in_h, in_w, in_bits, num_classes, scheme, name, cell_bits, dac_bits,
     adc_bits, frac_bits) = _HEADER.unpack_from(body, 0)
    if magic != MAGIC:
        fail(0, f"magic: expected {MAGIC!r}, got {magic!r}")
    if version not in (VERSION, VERSION_SWIS):
        fail(8, f"version: expected {VERSION} or {VERSION_SWIS}, got {version}")
    actual = fnv1a64(body)
    if actual != checksum:
        fail(len(body), f"checksum: expected {actual:016x} (FNV-1a 64 of the preceding bytes), got {checksum:016x}")
    if not 1 <= n_layers <= 64:
        fail(12, f"n_layers: expected 1..64, got {n_layers}")
    model = IntModel(name=name.rstrip(b"\0").decode("ascii"), scheme=scheme.rstrip(b"\0").decode("ascii"),
                     in_c=in_c, in_h=in_h, in_w=in_w, in_bits=in_bits, num_classes=num_classes,
                     cell_bits=cell_bits, dac_bits=dac_bits, adc_bits=adc_bits, frac_bits=frac_bits)
    off = _HEADER.size

    def take(dtype, shape, what):
        nonlocal off
        n = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if off + n > len(body):
            fail(off, f"truncated in {what}: need {n} bytes, {len(body) - off} left")
        a = np.frombuffer(body, dtype=np.dtype(dtype).newbyteorder("<"), count=int(np.prod(shape)), offset=off)
        off += n
        return a.reshape(shape).astype(dtype)

    def u32(what, lo, hi):
        nonlocal off
        if off + 4 > len(body):
            fail(off, f"truncated in {what}: need 4 bytes, {len(body) - off} left")
        (v,) = struct.unpack_from("<I", body, off)
        if not lo <= v <= hi:
            fail(off, f"{what}: expected {lo}..{hi}, got {v}")
        off += 4
        return v

    def _read_swis(i, L):
        if u32(f"layer {i} swis", 0, 1) == 0:
            return None
        if L.w_bits != 8 or L.binary:
            fail(off - 4, f"layer {i}: swis: expected 0: SWIS groups store 8-bit weights")
        variant = u32(f"layer {i} swis_variant", 0, 1)
        u32(f"layer {i} group_size", SWIS_GROUP_SIZE, SWIS_GROUP_SIZE)
        cols = u32(f"layer {i} schedule_cols", 1, 65535)
        at = off
        filter_n = take(np.uint8, (L.M,), f"layer {i} filter_n")
        for f, n in enumerate(filter_n):
            if not 1 <= n <= 8:
                fail(at + f, f"layer {i}: filter_n[{f}]: expected 1..8, got {n}")
        want = swis_packed_bytes(L, filter_n, variant)
        n_bytes = u32(f"layer {i} packed_bytes", 0, 0xFFFFFFFF)
        if n_bytes != want:
            fail(off - 4, f"layer {i}: packed_bytes: expected {want} for these filter_n, got {n_bytes}")
        packed = take(np.uint8, (n_bytes,), f"layer {i} packed").tobytes()
        return SwisStorage(variant=variant, schedule_cols=cols, filter_n=filter_n, packed=packed)

    for i in range(n_layers):
        if off + _LAYER.size > len(body):
            fail(off, f"truncated in layer {i} header")
        f = _LAYER.unpack_from(body, off)
        off += _LAYER.size
        L = IntLayer(*f[:18])
        has_cm, has_adc = f[18], f[19]
        if L.kind not in (KIND_CONV, KIND_FC):
            fail(off - _LAYER.size, f"layer {i}: kind: expected 1 (conv) or 2 (fc), got {L.kind}")
        if has_cm not in (0, 1) or has_adc not in (0, 1):
            fail(off - 8, f"layer {i}: has_col_mult/has_adc_tables: expected 0 or 1")
        M, K = L.M, L.K
        L.weights = take(np.int8, (M, K), f"layer {i} weights")
        L.bias = take(np.int64, (M,), f"layer {i} bias")
        L.mult = take(np.int32, (M,), f"layer {i} mult")
        L.mult_x = take(np.int32, (M,), f"layer {i} mult_x")
        rt = L.row_tiles()
        if has_cm:
            L.col_mult = take(np.int32, (rt, M), f"layer {i} col_mult")
        if has_adc:
            s = _slices(model, L)
            L.adc_step = take(np.int64, (rt, M, s), f"layer {i} adc_step")
            L.adc_base = take(np.int64, (rt, M, s), f"layer {i} adc_base")
        if version == VERSION_SWIS:
            L.swis = _read_swis(i, L)
        model.layers.append(L)
    if off != len(body):
        fail(off, f"{len(body) - off} bytes after the last layer, expected the footer")
    return model


def read(path) -> IntModel:
    with open(path, "rb") as f:
        return from_bytes(f.read(), path)
