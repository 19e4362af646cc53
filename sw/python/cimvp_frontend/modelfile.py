"""Model file formats v1, v2 and v3 (docs/model-format.md): writer and reader.

Format v2 adds, per layer, the weights stored as SWIS groups (docs/swis.md
"Storage"). This module reads and writes those fields as they are and checks
their ranges and sizes; it does not unpack the groups (the C++ loader checks
that they equal the layer's int8 weights, which every v2 layer keeps, so the
integer engine runs a v2 model unchanged).

Format v3 is a graph: every node names its inputs; conv layers may be grouped,
and the tensor nodes add, concat and pool (TensorNode) join and pool tensors.
IntModel.layers holds the nodes in file order. A model that is a plain chain of
groups-1 conv and fc layers is written as v1 (v2 with SWIS layers), byte for byte
what it was; everything else as v3, with the graph checks of the format."""
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
VERSION_GRAPH = 3    # graph networks: nodes naming their inputs, grouped convs, tensor nodes
MAX_LAYERS = 64      # versions 1 and 2
MAX_NODES = 1024     # version 3
SWIS_GROUP_SIZE = 4
SWIS, SWIS_C = 0, 1
VARIANT_NAMES = ("swis", "swis-c")  # by SWIS, SWIS_C: the contract's (swis::variant_name; a schedule's "variant")
KIND_CONV, KIND_FC = 1, 2
KIND_ADD, KIND_CONCAT, KIND_POOL = 3, 4, 5
KIND_NAMES = {KIND_CONV: "conv", KIND_FC: "fc", KIND_ADD: "add", KIND_CONCAT: "concat", KIND_POOL: "pool"}
POOL_NONE, POOL_MAX, POOL_AVG, POOL_GLOBAL = 0, 1, 2, 3
MAX_CONCAT_INPUTS = 64
BOUND_LIMIT = 1 << 62  # a tensor node's |v| must stay below this (docs/model-format.md, version 3)

_HEADER = struct.Struct("<8sII" + "III" + "II" + "16s32s" + "IIII")
_LAYER = struct.Struct("<" + "I" * 17 + "i" + "II")
# A v3 conv/fc node's fields after kind, n_inputs and inputs: version 1's in_c .. has_adc_tables, then groups.
_GRAPH_LAYER = struct.Struct("<" + "I" * 16 + "i" + "II" + "I")
_TENSOR = struct.Struct("<IIIII" + "i" + "III")   # in_c, in_h, in_w, out_c, a_out_bits, shift, pool, size, stride
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
    groups: int = 1                         # format v3: grouped convolution (depthwise: in_c = out_c = groups)
    inputs: Optional[List[int]] = None      # format v3: [j], 0 = the image, j >= 1 = node j - 1; None = the chain

    @property
    def K(self):
        """Rows of the weight matrix: one group's kernel for a conv, the flattened input for an fc."""
        if self.kind == KIND_CONV:
            return (self.in_c // self.groups) * self.kernel * self.kernel
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

    def out_shape(self):
        """The node's output tensor (C, H, W): the pooled map (an fc: out_c x 1 x 1)."""
        return (self.out_c,) + self.pooled_hw()


@dataclass
class TensorNode:
    """A format v3 tensor node (add, concat, pool) on the post-processing unit (docs/numerics.md,
    "Graph networks"): per input i, v = mult[i] * x_i + bias[i] (a global average sums x over the
    map first), y = clamp(round_half_up(v / 2^shift), 0, 2^a_out_bits - 1), then window pooling."""
    kind: int
    inputs: List[int]
    in_c: int
    in_h: int
    in_w: int
    out_c: int
    a_out_bits: int = 8
    shift: int = 0
    pool: int = POOL_NONE
    pool_size: int = 0
    pool_stride: int = 0
    mult: np.ndarray = None     # int32 [n_inputs]
    bias: np.ndarray = None     # int64 [n_inputs]

    def map_hw(self):
        """Spatial size before the window pooling."""
        return (1, 1) if self.pool == POOL_GLOBAL else (self.in_h, self.in_w)

    def pooled_hw(self):
        h, w = self.map_hw()
        if self.pool in (POOL_MAX, POOL_AVG):
            return (h - self.pool_size) // self.pool_stride + 1, (w - self.pool_size) // self.pool_stride + 1
        return h, w

    def out_shape(self):
        return (self.out_c,) + self.pooled_hw()


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


def node_inputs(model: IntModel, i):
    """The inputs node i names: its own list (format v3), else the chain's [i] (layer i - 1's output)."""
    L = model.layers[i]
    return list(L.inputs) if L.inputs is not None else [i]


def is_chain(model: IntModel):
    """A plain chain of groups-1 conv and fc layers, each taking the previous output, short enough for
    format v1/v2 (64 layers); anything else is written as v3."""
    if len(model.layers) > MAX_LAYERS:
        return False
    for i, L in enumerate(model.layers):
        if not isinstance(L, IntLayer) or L.groups != 1:
            return False
        if L.inputs is not None and list(L.inputs) != [i]:
            return False
    return True


def file_version(model: IntModel):
    if not is_chain(model):
        return VERSION_GRAPH
    return VERSION_SWIS if any(L.swis is not None for L in model.layers) else VERSION


def node_name(model, i):
    return f"node {i} ({KIND_NAMES.get(model.layers[i].kind, '?')})"


def input_shape(model: IntModel, j):
    """(C, H, W, bits) of input j: 0 = the image, j >= 1 = node j - 1's output."""
    if j == 0:
        return model.in_c, model.in_h, model.in_w, model.in_bits
    P = model.layers[j - 1]
    c, h, w = P.out_shape()
    return c, h, w, P.a_out_bits


def check_graph(model: IntModel, fail):
    """The version 3 checks of docs/model-format.md that span nodes; fail(node index or None, field, message)."""
    n = len(model.layers)
    used = [False] * (n + 1)
    if not 1 <= model.in_bits <= 8:
        fail(None, "in_bits", f"expected 1..8, got {model.in_bits}")
    for i, N in enumerate(model.layers):
        last = i == n - 1
        bits_lo = 0 if isinstance(N, IntLayer) and last else 1
        bits_hi = 0 if isinstance(N, IntLayer) and last else 8
        if not bits_lo <= N.a_out_bits <= bits_hi:
            fail(i, "a_out_bits", f"expected {bits_lo}..{bits_hi}, got {N.a_out_bits}")
        if isinstance(N, IntLayer) and not 1 <= N.a_in_bits <= 8:
            fail(i, "a_in_bits", f"expected 1..8, got {N.a_in_bits}")
    for i, N in enumerate(model.layers):
        ins = node_inputs(model, i)
        for j in ins:
            if not 0 <= j <= i:
                fail(i, "inputs", f"expected 0..{i} (the image or an earlier node), got {j}")
            used[j] = True
        last = i == n - 1
        if isinstance(N, IntLayer):
            c, h, w, bits = input_shape(model, ins[0])
            if (N.in_c, N.in_h, N.in_w) != (c, h, w):
                fail(i, "input shape", f"expected {c}x{h}x{w} (the output of input {ins[0]}), "
                                       f"got {N.in_c}x{N.in_h}x{N.in_w}")
            if N.a_in_bits != bits:
                fail(i, "a_in_bits", f"expected {bits} (the bits of input {ins[0]}), got {N.a_in_bits}")
            G = N.groups
            if N.kind == KIND_FC and G != 1:
                fail(i, "groups", f"expected 1 on an fc node, got {G}")
            if not 1 <= G <= N.in_c or N.in_c % G or N.out_c % G:
                fail(i, "groups", f"expected a divisor of in_c {N.in_c} and out_c {N.out_c}, got {G}")
            if G > 1 and (N.binary or N.col_mult is not None or N.adc_step is not None or N.swis is not None):
                fail(i, "groups", f"a grouped conv (groups {G}) has no binary weights, col_mult, ADC tables or "
                                  f"SWIS storage")
            if N.kind == KIND_CONV and (N.in_h + 2 * N.padding < N.kernel or N.in_w + 2 * N.padding < N.kernel):
                fail(i, "kernel", f"a {N.kernel}x{N.kernel} kernel does not fit the padded input")
            if N.pool in (POOL_MAX, POOL_AVG):
                oh, ow = N.out_hw()
                if not 1 <= N.pool_size <= min(oh, ow) or N.pool_stride < 1:
                    fail(i, "pool_size", f"expected a window that fits the {oh}x{ow} output, got "
                                         f"{N.pool_size} at stride {N.pool_stride}")
            elif N.pool != POOL_NONE:
                fail(i, "pool", f"expected 0, 1 or 2 on a {KIND_NAMES[N.kind]} node, got {N.pool}")
            if last:
                if N.relu != 0:
                    fail(i, "relu", "expected 0 on the last node (the logits)")
                if N.out_hw() != (1, 1) or N.pool != POOL_NONE:
                    oh, ow = N.out_hw()
                    fail(i, "out_h x out_w", f"the last node must produce one vector of logits, got {oh}x{ow}")
                if N.out_c != model.num_classes:
                    fail(i, "out_c", f"the last node must have num_classes = {model.num_classes} outputs, "
                                     f"got {N.out_c}")
            elif N.relu != 1:
                fail(i, "relu", "expected 1: only the last node returns logits (relu 0)")
            continue
        if last:
            fail(i, "kind", "expected the last node to be a conv or fc (the logits)")
        want_n = {KIND_ADD: (2, 2), KIND_CONCAT: (2, MAX_CONCAT_INPUTS), KIND_POOL: (1, 1)}[N.kind]
        if not want_n[0] <= len(ins) <= want_n[1]:
            fail(i, "n_inputs", f"expected {want_n[0]}..{want_n[1]}, got {len(ins)}")
        shapes = [input_shape(model, j) for j in ins]
        c0, h0, w0, _ = shapes[0]
        if (N.in_c, N.in_h, N.in_w) != (c0, h0, w0):
            fail(i, "input shape", f"expected {c0}x{h0}x{w0} (the output of input {ins[0]}), "
                                   f"got {N.in_c}x{N.in_h}x{N.in_w}")
        if N.kind == KIND_ADD and shapes[1][:3] != shapes[0][:3]:
            fail(i, "inputs", "expected two inputs of one shape, got {}x{}x{} and {}x{}x{}".format(
                *shapes[0][:3], *shapes[1][:3]))
        if N.kind == KIND_CONCAT:
            for k, (c, h, w, _) in enumerate(shapes):
                if (h, w) != (h0, w0):
                    fail(i, "inputs", f"expected inputs of one height and width {h0}x{w0}, "
                                      f"input {k} is {c}x{h}x{w}")
            want_c = sum(s[0] for s in shapes)
        else:
            want_c = c0
        if N.out_c != want_c:
            fail(i, "out_c", f"expected {want_c}, got {N.out_c}")
        if not 1 <= N.a_out_bits <= 8:
            fail(i, "a_out_bits", f"expected 1..8, got {N.a_out_bits}")
        if not 0 <= N.shift <= 62:
            fail(i, "shift", f"expected 0..62, got {N.shift}")
        if N.pool == POOL_GLOBAL and N.kind != KIND_POOL:
            fail(i, "pool", f"expected 0, 1 or 2 on an {KIND_NAMES[N.kind]} node (3, the global average, "
                            f"only on pool nodes), got 3")
        if N.pool in (POOL_MAX, POOL_AVG):
            if not 1 <= N.pool_size <= min(N.in_h, N.in_w) or N.pool_stride < 1:
                fail(i, "pool_size", f"expected a window that fits the {N.in_h}x{N.in_w} map, got "
                                     f"{N.pool_size} at stride {N.pool_stride}")
        elif N.pool in (POOL_NONE, POOL_GLOBAL):
            if N.pool_size or N.pool_stride:
                fail(i, "pool_size", f"expected 0 with pool {N.pool}, got {N.pool_size} and {N.pool_stride}")
        else:
            fail(i, "pool", f"expected 0..3, got {N.pool}")
        area = h0 * w0 if N.pool == POOL_GLOBAL else 1
        bound = sum(abs(int(m)) * ((1 << s[3]) - 1) * area + abs(int(b))
                    for m, b, s in zip(N.mult, N.bias, shapes))
        if bound >= BOUND_LIMIT:
            fail(i, "mult", f"post-processing could overflow: sum of |mult| * max input + |bias| is {bound}, "
                            f"expected below 2^62")
    for j in range(n):
        if not used[j]:
            what = "the image" if j == 0 else f"the output of {node_name(model, j - 1)}"
            fail(j - 1 if j else None, "inputs", f"{what} is used by no later node (every output but the "
                                                 f"last node's must be)")


def _arr(i, a, dtype, shape, what):
    a = np.asarray(a)
    if a.shape != tuple(shape):
        raise ModelFileError(f"layer {i}: {what}: shape {a.shape}, expected {tuple(shape)}")
    b = a.astype(dtype)
    if not np.array_equal(b.astype(np.int64), a.astype(np.int64)):
        raise ModelFileError(f"layer {i}: {what}: values do not fit {np.dtype(dtype).name}")
    return b.astype(np.dtype(dtype).newbyteorder("<")).tobytes()


def _layer_payload(model, i, L, swis_field):
    """weights, bias, mult, mult_x, col_mult, ADC tables and (swis_field) the swis storage of a conv/fc."""
    out = bytearray()
    M, K = L.M, L.K
    has_cm = L.col_mult is not None
    has_adc = L.adc_step is not None
    out += _arr(i, L.weights, np.int8, (M, K), "weights")
    out += _arr(i, L.bias, np.int64, (M,), "bias")
    out += _arr(i, L.mult, np.int32, (M,), "mult")
    out += _arr(i, L.mult_x, np.int32, (M,), "mult_x")
    if (has_cm or has_adc) and L.rows_per_tile == 0:
        # row_tiles would depend on the config's crossbar.rows: make it explicit.
        raise ModelFileError(f"layer {i}: col_mult/ADC tables need an explicit rows_per_tile")
    rt = L.row_tiles()
    if has_cm:
        out += _arr(i, L.col_mult, np.int32, (rt, M), "col_mult")
    if has_adc:
        s = _slices(model, L)
        out += _arr(i, L.adc_step, np.int64, (rt, M, s), "adc_step")
        out += _arr(i, L.adc_base, np.int64, (rt, M, s), "adc_base")
    if swis_field:
        out += struct.pack("<I", int(L.swis is not None))
    if L.swis is not None:
        sw = L.swis
        want = swis_packed_bytes(L, sw.filter_n, sw.variant)
        if L.w_bits != 8 or L.binary or len(sw.filter_n) != M or len(sw.packed) != want:
            raise ModelFileError(f"layer {i}: swis: expected an 8-bit layer, {M} filter_n and {want} packed bytes")
        out += struct.pack("<III", sw.variant, SWIS_GROUP_SIZE, sw.schedule_cols)
        out += _arr(i, sw.filter_n, np.uint8, (M,), "filter_n")
        out += struct.pack("<I", len(sw.packed)) + bytes(sw.packed)
    return out


def _layer_fields(L):
    return (L.in_c, L.in_h, L.in_w, L.out_c, L.kernel, L.stride, L.padding, L.a_in_bits, L.w_bits, L.binary,
            L.rows_per_tile, L.relu, L.a_out_bits, L.pool, L.pool_size, L.pool_stride, L.shift,
            int(L.col_mult is not None), int(L.adc_step is not None))


def to_bytes(model: IntModel) -> bytes:
    version = file_version(model)
    n = len(model.layers)
    limit = MAX_NODES if version == VERSION_GRAPH else MAX_LAYERS
    if not 1 <= n <= limit:
        raise ModelFileError(f"{n} {'nodes' if version == VERSION_GRAPH else 'layers'}, expected 1..{limit}")
    if version == VERSION_GRAPH:
        def fail(i, fld, msg):
            raise ModelFileError(f"{node_name(model, i) if i is not None else 'input'}: {fld}: {msg}")
        check_graph(model, fail)
    out = bytearray()
    out += _HEADER.pack(MAGIC, version, n, model.in_c, model.in_h, model.in_w, model.in_bits,
                        model.num_classes, _pad(model.scheme, 16, "scheme"), _pad(model.name, 32, "name"),
                        model.cell_bits, model.dac_bits, model.adc_bits, model.frac_bits)
    for i, L in enumerate(model.layers):
        if version != VERSION_GRAPH:
            out += _LAYER.pack(L.kind, *_layer_fields(L))
            out += _layer_payload(model, i, L, version == VERSION_SWIS)
            continue
        ins = node_inputs(model, i)
        out += struct.pack(f"<II{len(ins)}I", L.kind, len(ins), *ins)
        if isinstance(L, IntLayer):
            out += _GRAPH_LAYER.pack(*_layer_fields(L), L.groups)
            out += _layer_payload(model, i, L, True)
        else:
            out += _TENSOR.pack(L.in_c, L.in_h, L.in_w, L.out_c, L.a_out_bits, L.shift, L.pool, L.pool_size,
                                L.pool_stride)
            out += _arr(i, L.mult, np.int32, (len(ins),), "mult")
            out += _arr(i, L.bias, np.int64, (len(ins),), "bias")
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
    if version not in (VERSION, VERSION_SWIS, VERSION_GRAPH):
        fail(8, f"version: expected {VERSION}, {VERSION_SWIS} or {VERSION_GRAPH}, got {version}")
    actual = fnv1a64(body)
    if actual != checksum:
        fail(len(body), f"checksum: expected {actual:016x} (FNV-1a 64 of the preceding bytes), got {checksum:016x}")
    graph = version == VERSION_GRAPH
    if not graph and not 1 <= n_layers <= MAX_LAYERS:
        fail(12, f"n_layers: expected 1..{MAX_LAYERS}, got {n_layers}")
    if graph and not 1 <= n_layers <= MAX_NODES:
        fail(12, f"n_nodes: expected 1..{MAX_NODES}, got {n_layers}")
    model = IntModel(name=name.rstrip(b"\0").decode("ascii", "replace"),
                     scheme=scheme.rstrip(b"\0").decode("ascii", "replace"),
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

    def read_arrays(i, L, has_cm, has_adc):
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

    if not graph:
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
            read_arrays(i, L, has_cm, has_adc)
            if version == VERSION_SWIS:
                L.swis = _read_swis(i, L)
            model.layers.append(L)
        if off != len(body):
            fail(off, f"{len(body) - off} bytes after the last layer, expected the footer")
        return model

    def node_fail(i, fld, msg):
        raise ModelFileError(f"{path}: {node_name(model, i) if i is not None else 'input'}: {fld}: {msg}")

    for i in range(n_layers):
        kind = u32(f"node {i} kind", 1, 5)
        lo, hi = {KIND_CONV: (1, 1), KIND_FC: (1, 1), KIND_ADD: (2, 2), KIND_CONCAT: (2, MAX_CONCAT_INPUTS),
                  KIND_POOL: (1, 1)}[kind]
        n_in = u32(f"node {i} ({KIND_NAMES[kind]}) n_inputs", lo, hi)
        ins = [u32(f"node {i} ({KIND_NAMES[kind]}) inputs[{k}] (0 = the image, j = node j - 1, which must come "
                   f"before this node)", 0, i) for k in range(n_in)]
        if kind in (KIND_CONV, KIND_FC):
            if off + _GRAPH_LAYER.size > len(body):
                fail(off, f"truncated in node {i} ({KIND_NAMES[kind]}) fields")
            f = _GRAPH_LAYER.unpack_from(body, off)
            L = IntLayer(kind, *f[:17])
            has_cm, has_adc, L.groups = f[17], f[18], f[19]
            if has_cm not in (0, 1) or has_adc not in (0, 1):
                fail(off + 17 * 4, f"node {i}: has_col_mult/has_adc_tables: expected 0 or 1")
            if L.kind == KIND_FC and L.groups != 1:
                fail(off + 19 * 4, f"node {i} (fc): groups: expected 1, got {L.groups}")
            if not 1 <= L.groups <= L.in_c or L.in_c % L.groups or L.out_c % L.groups:
                fail(off + 19 * 4, f"node {i} (conv): groups: expected a divisor of in_c {L.in_c} and "
                                   f"out_c {L.out_c}, got {L.groups}")
            if L.w_bits > 8 or (L.binary and L.w_bits != 1) or (not L.binary and L.w_bits < 2):
                fail(off + 8 * 4, f"node {i}: w_bits: expected 2..8 (or 1 with binary), got {L.w_bits}")
            if L.kind == KIND_CONV and not 1 <= L.kernel <= max(1, min(L.in_h, L.in_w) + 2 * L.padding):
                fail(off + 4 * 4, f"node {i} (conv): kernel: expected a kernel that fits the padded input, "
                                  f"got {L.kernel}")
            if L.stride < 1:
                fail(off + 5 * 4, f"node {i}: stride: expected >= 1, got {L.stride}")
            if L.pool not in (POOL_NONE, POOL_MAX, POOL_AVG) or (L.pool and L.pool_stride < 1):
                fail(off + 13 * 4, f"node {i}: pool: expected 0, 1 or 2 with a stride >= 1, got {L.pool}")
            off += _GRAPH_LAYER.size
            if (has_cm or has_adc) and L.rows_per_tile == 0:
                fail(off, f"node {i}: rows_per_tile: expected > 0 with column multipliers or ADC tables")
            read_arrays(i, L, has_cm, has_adc)
            L.swis = _read_swis(i, L)
            L.inputs = ins
        else:
            if off + _TENSOR.size > len(body):
                fail(off, f"truncated in node {i} ({KIND_NAMES[kind]}) fields")
            f = _TENSOR.unpack_from(body, off)
            off += _TENSOR.size
            L = TensorNode(kind, ins, *f)
            L.mult = take(np.int32, (n_in,), f"node {i} mult")
            L.bias = take(np.int64, (n_in,), f"node {i} bias")
        model.layers.append(L)
    if off != len(body):
        fail(off, f"{len(body) - off} bytes after the last node, expected the footer")
    check_graph(model, node_fail)
    return model


def read(path) -> IntModel:
    with open(path, "rb") as f:
        return from_bytes(f.read(), path)
