"""ONNX networks to cimvp model files (docs/import.md).

    ONNX file -> checked ONNX graph -> internal graph (IR) -> quantized IntModel (format v3, or v1
    when the network is a plain chain) -> the integer engine (engine.py) for the accuracy report.

Parsed with the `onnx` package alone (no onnxruntime): the float graph is evaluated by this module's
own interpreter of the supported operators (torch), for calibration and the float accuracy.

Every refusal raises Refused with a message naming the file, the node (its name and op type) and the
field, with what was expected; the command line turns it into exit 2. Unsupported operators are
refused before any other work."""
import heapq
import math

import numpy as np
import torch
import torch.nn.functional as F

from . import engine, export, quant, swis_quant
from .settings import INT8_SWIS_TRUNCATIONS, INT8_SWIS_VARIANTS, MAPPINGS, SWIS_SHIFTS_RANGE, VAR_SIGMA_RANGE
from .modelfile import (KIND_ADD, KIND_CONCAT, KIND_CONV, KIND_FC, KIND_POOL, POOL_AVG, POOL_GLOBAL, POOL_MAX,
                        POOL_NONE, IntLayer, IntModel, ModelFileError, TensorNode, to_bytes)

SUPPORTED_OPS = ("Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "MaxPool", "AveragePool",
                 "GlobalAveragePool", "Add", "Concat", "Flatten", "Reshape", "Identity", "Dropout")
QUANTIZED_OPS = ("QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul")
# Constant makes constants; Pad is taken only with all-zero pads, the no-op torch.onnx.export writes
# before an AveragePool.
CONSTANT_OPS = ("Constant", "Pad")
ALL_OPS = SUPPORTED_OPS + QUANTIZED_OPS + CONSTANT_OPS

ATTRIBUTES = {
    "Conv": ("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"),
    "QLinearConv": ("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"),
    "Gemm": ("alpha", "beta", "transA", "transB"),
    "MatMul": (), "QLinearMatMul": (),
    "BatchNormalization": ("epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs"),
    "Relu": (), "Clip": ("min", "max"),
    "MaxPool": ("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"),
    "AveragePool": ("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"),
    "GlobalAveragePool": (), "Add": ("axis", "broadcast"), "Concat": ("axis",), "Flatten": ("axis",),
    "Reshape": ("allowzero",), "Identity": (), "Dropout": ("ratio", "seed", "is_test"),
    "Constant": ("value", "value_float", "value_floats", "value_int", "value_ints"),
    "Pad": ("mode", "pads", "value"),
    "QuantizeLinear": ("axis", "saturate"), "DequantizeLinear": ("axis",),
}

# What the C++ model loader takes (sw/formats/model_file.cpp).
MAX_KERNEL, MAX_STRIDE, MAX_POOL, MAX_DIM, MAX_CHANNELS, MAX_NODES = 15, 8, 8, 4096, 65535, 1024
MULT_BITS = 24           # |mult| of a hidden node up to 2^24
LOGIT_MULT_BITS = 20
TENSOR_BOUND = 1 << 60   # tensor nodes: |v| below this (the format's limit is 2^62)
ACT_BITS = 8            # int8: every tensor's codes
BWMA_ACT_BITS = 4       # bwma, columnwise: the hidden tensors' codes (the image stays 8-bit)
SCHEMES = ("int8", "bwma", "columnwise")
# columnwise: the chip of configs/columnwise.json (2-bit cells, 4-bit DAC, 4-bit ADC with 8 fraction
# bits); conv row tiles of whole input channels up to 128 rows, fc row tiles of 64 rows; ADC windows
# mean +- k std of the calibration partial sums (the front end's own column-wise network's choices).
COL_HEADER = dict(cell_bits=2, dac_bits=4, adc_bits=4, frac_bits=8)
COL_ROWS, COL_FC_ROWS = 128, 64
COL_CLIP_SIGMAS = {"conv": 2.5, "fc": 3.0}


class Refused(ValueError):
    """Input the importer does not take; the message names the file, the node and the field."""


def supported_list():
    return ", ".join(SUPPORTED_OPS) + " (and QuantizeLinear/DequantizeLinear, QLinearConv, QLinearMatMul in " \
                                      "quantized graphs; Constant; Pad with zero pads)"


# ------------------------------------------------------------------------------------------------
# ONNX protobuf: parsing, nodes, constants

class ONode:
    """One ONNX node with its index, for messages."""

    def __init__(self, index, proto):
        self.index = index
        self.proto = proto
        self.name = proto.name
        self.op = proto.op_type
        self.inputs = list(proto.input)
        self.outputs = list(proto.output)
        self.attrs = {}

    def label(self):
        who = f"'{self.name}'" if self.name else f"#{self.index}"
        return f"node {who} ({self.op})"


class Ctx:
    def __init__(self, path):
        self.path = path

    def refuse(self, where, field, expected, got):
        label = where.label() if isinstance(where, ONode) else where
        raise Refused(f"{self.path}: {label}: {field}: expected {expected}, got {got}")


_NP_TYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32, 7: np.int64,
             9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}
_TYPED_FIELD = {1: "float_data", 2: "int32_data", 3: "int32_data", 4: "int32_data", 5: "int32_data",
                6: "int32_data", 7: "int64_data", 9: "int32_data", 10: "int32_data", 11: "double_data",
                12: "uint64_data", 13: "uint64_data"}


def tensor_array(ctx, t, where, field):
    """A TensorProto (initializer or Constant value) as a numpy array, its size checked first."""
    from onnx import numpy_helper
    if t.data_location == 1:
        ctx.refuse(where, field, "data stored in the model file", f"external data ({t.name or 'unnamed'})")
    if t.data_type not in _NP_TYPES:
        ctx.refuse(where, field, "a numeric tensor (float, double, float16, int8..int64, uint8..uint64, bool)",
                   f"data type {t.data_type}")
    dims = list(t.dims)
    if any(d < 0 for d in dims):
        ctx.refuse(where, field, "dimensions >= 0", dims)
    count = 1
    for d in dims:
        count *= d
    if count > (1 << 31):
        ctx.refuse(where, field, "at most 2^31 values", f"{count} (dims {dims})")
    dtype = np.dtype(_NP_TYPES[t.data_type])
    if len(t.raw_data):
        have, want = len(t.raw_data), count * dtype.itemsize
        if have != want:
            ctx.refuse(where, field, f"{want} bytes of data for dims {dims} ({dtype.name})", f"{have} bytes")
    else:
        have = len(getattr(t, _TYPED_FIELD[t.data_type]))
        if have != count:
            ctx.refuse(where, field, f"{count} values for dims {dims}", f"{have} values")
    try:
        a = numpy_helper.to_array(t)
    except Exception as e:  # noqa: BLE001 (protobuf content the library rejects)
        ctx.refuse(where, field, "a readable tensor", f"{type(e).__name__}: {e}")
    a = np.array(a).reshape(dims)
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        ctx.refuse(where, field, "finite values", "NaN or infinity")
    return a


def parse(data, path):
    """The ModelProto of an ONNX file's bytes, refused when it does not parse."""
    import onnx
    m = onnx.ModelProto()
    try:
        m.ParseFromString(bytes(data))
    except Exception as e:  # noqa: BLE001 (DecodeError and the C++ parser's errors)
        raise Refused(f"{path}: not an ONNX model: the protobuf does not parse (truncated or corrupted): "
                      f"{type(e).__name__}: {e}")
    if not m.HasField("graph") or len(m.graph.node) == 0:
        raise Refused(f"{path}: graph: expected an ONNX graph with at least one node, got none "
                      f"(truncated or not an ONNX model)")
    return m


# What an unsupported operator usually comes from, said after the refusal.
_HINTS = {
    "Shape": "x.view(x.size(0), -1) exported with a dynamic batch: flatten with torch.flatten(x, 1), or "
             "export without dynamic_axes",
    "Gather": "see Shape", "Unsqueeze": "see Shape",
    "Softmax": "export the logits (the network before its softmax)",
    "LogSoftmax": "export the logits (the network before its softmax)",
    "Sub": "an input normalization: give it as --input-scale and --input-offset and leave it out of the graph",
    "Div": "an input normalization: give it as --input-scale and --input-offset and leave it out of the graph",
    "Mul": "an input scaling: give it as --input-scale and leave it out of the graph",
}


def check_operators(ctx, nodes):
    """Every node's op type is supported (the first thing checked, before any other work)."""
    for nd in nodes:
        if nd.proto.domain not in ("", "ai.onnx") or nd.op not in ALL_OPS:
            dom = f" of domain '{nd.proto.domain}'" if nd.proto.domain not in ("", "ai.onnx") else ""
            hint = f" ({_HINTS[nd.op]})" if nd.op in _HINTS and not dom else ""
            raise Refused(f"{ctx.path}: {nd.label()}: op_type: expected one of the supported operators "
                          f"{supported_list()}, got '{nd.op}'{dom}{hint}")


def read_attributes(ctx, nd):
    from onnx import helper
    allowed = ATTRIBUTES.get(nd.op, ())
    for a in nd.proto.attribute:
        if a.name not in allowed:
            ctx.refuse(nd, f"attribute '{a.name}'", f"one of {', '.join(allowed) or 'none'} on {nd.op}", "it")
        try:
            v = helper.get_attribute_value(a)
        except Exception as e:  # noqa: BLE001
            ctx.refuse(nd, f"attribute '{a.name}'", "a readable value", f"{type(e).__name__}: {e}")
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        nd.attrs[a.name] = v
    for k, v in nd.attrs.items():
        want = _ATTR_TYPES.get(k)
        if want is not None and not isinstance(v, want) or isinstance(v, bool):
            ctx.refuse(nd, f"attribute '{k}'", f"a value of type {_ATTR_TYPE_NAMES[want]}", repr(v)[:40])
        if isinstance(v, float) and not math.isfinite(v):
            ctx.refuse(nd, f"attribute '{k}'", "a finite number", v)


_ATTR_TYPES = {"group": int, "transA": int, "transB": int, "axis": int, "allowzero": int, "ceil_mode": int,
               "storage_order": int, "count_include_pad": int, "training_mode": int, "spatial": int,
               "alpha": float, "beta": float, "epsilon": float, "momentum": float, "ratio": float, "min": float,
               "max": float, "auto_pad": str, "kernel_shape": list, "strides": list, "pads": list,
               "dilations": list, "mode": str, "is_test": int, "seed": int, "saturate": int, "broadcast": int}
_ATTR_TYPE_NAMES = {int: "int", float: "float", str: "string", list: "ints"}


# ------------------------------------------------------------------------------------------------
# The internal graph

class Tensor:
    """A materialized or aliased activation: (C, H, W); flat = the ONNX tensor is [N, C*H*W]."""

    def __init__(self, tid, shape, producer, name, flat=False):
        self.tid, self.shape, self.producer, self.name, self.flat = tid, tuple(shape), producer, name, flat
        self.annot = None        # (scale, zero point) from the graph's QuantizeLinear (quantized graphs)
        self.quant = None        # (scale, zero point) chosen: real = scale * (code - zero point)
        self.nonneg = False      # structurally >= 0 (after ReLU, a clamp at >= 0, pooling of such)


class INode:
    """conv, fc, bn, addc (a constant added), act (clamp), pool (max/avg window), gap, add, concat."""

    def __init__(self, op, onode, inputs, out, **p):
        self.op, self.onode, self.inputs, self.out, self.p = op, onode, list(inputs), out, p
        self.act = None          # fused clamp (lo, hi)
        self.pool = None         # fused window pool (kind, size, stride)
        self.dead = False


class Graph:
    def __init__(self, ctx):
        self.ctx = ctx
        self.tensors = []
        self.nodes = []
        self.image = None
        self.output = None
        self.input_name = None

    def tensor(self, shape, producer, name, flat=False):
        t = Tensor(len(self.tensors), shape, producer, name, flat)
        self.tensors.append(t)
        return t.tid

    def add(self, op, onode, inputs, shape, flat=False, **p):
        out = self.tensor(shape, len(self.nodes), onode.outputs[0] if onode.outputs else "", flat)
        n = INode(op, onode, inputs, out, **p)
        self.nodes.append(n)
        return n


def _ints(v):
    """An ints attribute as a list of Python ints (None when absent); a value of another type is returned
    as a list that no check accepts."""
    if v is None:
        return None
    if isinstance(v, (list, tuple)) and all(isinstance(x, int) for x in v):
        return [int(x) for x in v]
    return [f"<{type(v).__name__}>"]


def input_scale_of(b):
    return b.input_scale


class Builder:
    """From the ONNX graph to the internal graph, node by node in topological order."""

    def __init__(self, ctx, model, input_scale, input_offset):
        self.ctx = ctx
        self.model = model
        self.g = Graph(ctx)
        self.vals = {}           # ONNX value name -> ('const', array) | ('t', tid) | ('q', tid, s, z) | ('dq', ...)
        self.input_scale, self.input_offset = input_scale, input_offset
        self.quantized = False
        self.uses = {}

    # ---- graph structure --------------------------------------------------------------------
    def build(self):
        ctx, gp = self.ctx, self.model.graph
        nodes = [ONode(i, p) for i, p in enumerate(gp.node)]
        check_operators(ctx, nodes)
        for nd in nodes:
            read_attributes(ctx, nd)
        self.quantized = any(nd.op in QUANTIZED_OPS for nd in nodes)
        for t in gp.initializer:
            if not t.name:
                ctx.refuse("initializer", "name", "a name", "an empty one")
            if t.name in self.vals:
                ctx.refuse(f"initializer '{t.name}'", "name", "a name used once", "a second initializer of it")
            self.vals[t.name] = ("const", tensor_array(ctx, t, f"initializer '{t.name}'", "data"))
        inputs = [i for i in gp.input if i.name not in self.vals]
        if len(inputs) != 1:
            ctx.refuse("graph", "inputs", "exactly one input tensor (the image) besides the initializers",
                       f"{len(inputs)} ({', '.join(i.name for i in inputs) or 'none'})")
        if len(gp.output) != 1:
            ctx.refuse("graph", "outputs", "exactly one output (the logits)", len(gp.output))
        self.g.input_name = inputs[0].name
        self.g.output = gp.output[0].name
        c, h, w = self.input_shape(inputs[0])
        img = self.g.tensor((c, h, w), -1, inputs[0].name)
        self.g.image = img
        self.g.tensors[img].annot = (input_scale_of(self), -self.input_offset / self.input_scale)
        self.vals[inputs[0].name] = ("t", img)
        order = self.topological_order(nodes)
        needed = self.needed(order)
        for nd in order:
            for i in nd.inputs:
                if i:
                    self.uses[i] = self.uses.get(i, 0) + (1 if nd.index in needed else 0)
        self.uses[self.g.output] = self.uses.get(self.g.output, 0) + 1
        for nd in order:
            if nd.index in needed:
                self.node(nd)
        if self.g.output not in self.vals:
            ctx.refuse("graph", f"output '{self.g.output}'", "a tensor computed by the graph", "none")
        v = self.vals[self.g.output]
        if v[0] != "t":
            ctx.refuse("graph", f"output '{self.g.output}'", "a float tensor computed from the image",
                       "a constant" if v[0] in ("const", "dq") else "a quantized tensor (no DequantizeLinear)")
        self.g.output_tid = v[1]
        return self.g

    def input_shape(self, vi):
        ctx = self.ctx
        where = f"input '{vi.name}'"
        tt = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
        if tt is None:
            ctx.refuse(where, "type", "a tensor", "another type")
        if tt.elem_type != 1:
            ctx.refuse(where, "elem_type", "float (1)", tt.elem_type)
        dims = list(tt.shape.dim) if tt.HasField("shape") else None
        shown = "unknown" if dims is None else "[" + ", ".join(
            str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in dims) + "]"
        if dims is None or len(dims) != 4:
            ctx.refuse(where, "shape", "[N, C, H, W] (a batch of images)", shown)
        n = dims[0]
        if n.HasField("dim_value") and n.dim_value != 1:
            ctx.refuse(where, "shape", "a batch of 1 or a symbolic batch", shown)
        chw = []
        for d in dims[1:]:
            if not d.HasField("dim_value") or d.dim_value < 1:
                ctx.refuse(where, "shape", "static C, H, W (dynamic shapes are not supported; a symbolic batch is)",
                           shown)
            chw.append(d.dim_value)
        c, h, w = chw
        if c > MAX_CHANNELS or h > MAX_DIM or w > MAX_DIM:
            ctx.refuse(where, "shape", f"C <= {MAX_CHANNELS}, H and W <= {MAX_DIM}", shown)
        return c, h, w

    def topological_order(self, nodes):
        ctx = self.ctx
        producer = {}
        for nd in nodes:
            for o in nd.outputs:
                if not o:
                    continue
                if o in producer or o in self.vals:
                    ctx.refuse(nd, f"output '{o}'", "a name no other node, initializer or input has", "a duplicate")
                producer[o] = nd.index
        deps = {nd.index: set() for nd in nodes}
        users = {nd.index: [] for nd in nodes}
        for nd in nodes:
            for i in nd.inputs:
                if not i or i in self.vals:
                    continue
                if i not in producer:
                    ctx.refuse(nd, f"input '{i}'", "a tensor an earlier node, an initializer or the graph input "
                                                   "provides", "a name nothing provides")
                p = producer[i]
                if p not in deps[nd.index]:
                    deps[nd.index].add(p)
                    users[p].append(nd.index)
        ready = [i for i, d in deps.items() if not d]
        heapq.heapify(ready)
        remaining = {i: len(d) for i, d in deps.items()}
        order = []
        while ready:
            i = heapq.heappop(ready)
            order.append(nodes[i])
            for u in users[i]:
                remaining[u] -= 1
                if remaining[u] == 0:
                    heapq.heappush(ready, u)
        if len(order) != len(nodes):
            left = [nodes[i] for i in sorted(remaining) if remaining[i] > 0]
            names = ", ".join(n.label() for n in left[:4]) + (", ..." if len(left) > 4 else "")
            raise Refused(f"{ctx.path}: graph: expected an acyclic graph, got a cycle through {names}")
        self.producer = producer
        self.onodes = nodes
        return order

    def needed(self, order):
        """Indices of the nodes the graph output depends on (the others are dropped)."""
        need, stack = set(), [self.g.output]
        seen = set()
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            p = self.producer.get(name)
            if p is None:
                continue
            need.add(p)
            stack.extend(i for i in self.onodes[p].inputs if i)
        return need

    # ---- values ----------------------------------------------------------------------------
    def value(self, nd, k, kinds=("t",)):
        ctx = self.ctx
        if k >= len(nd.inputs) or not nd.inputs[k]:
            ctx.refuse(nd, f"input {k}", "a tensor", "none")
        v = self.vals.get(nd.inputs[k])
        if v is None:
            ctx.refuse(nd, f"input '{nd.inputs[k]}'", "a computed tensor", "nothing")
        if v[0] not in kinds:
            want = {"t": "a float tensor computed from the image", "const": "a constant (initializer)",
                    "q": "a quantized tensor (a QuantizeLinear output)", "dq": "dequantized constant integers"}
            got = {"t": "a float tensor", "const": "a constant", "q": "a quantized tensor (DequantizeLinear it first)",
                   "dq": "dequantized constant integers"}[v[0]]
            ctx.refuse(nd, f"input '{nd.inputs[k]}'", " or ".join(want[x] for x in kinds), got)
        return v

    def const(self, nd, k, optional=False):
        if k >= len(nd.inputs) or not nd.inputs[k]:
            if optional:
                return None
            self.ctx.refuse(nd, f"input {k}", "a constant", "none")
        v = self.value(nd, k, ("const", "dq"))
        if v[0] == "dq":
            return self.dq_float(v)
        return v[1]

    @staticmethod
    def dq_float(v):
        _, ints, scale, zp, axis = v
        if scale.size > 1:
            shape = [1] * ints.ndim
            shape[axis] = -1
            return (ints.astype(np.float64) - zp.reshape(shape)) * scale.reshape(shape)
        return (ints.astype(np.float64) - float(zp.reshape(-1)[0])) * float(scale.reshape(-1)[0])

    def tensor_of(self, nd, k):
        return self.g.tensors[self.value(nd, k)[1]]

    def set_out(self, nd, val, k=0):
        if k < len(nd.outputs) and nd.outputs[k]:
            self.vals[nd.outputs[k]] = val

    def out_used(self, nd, k):
        return k < len(nd.outputs) and nd.outputs[k] and self.uses.get(nd.outputs[k], 0) > 0

    def check_shape(self, nd, shape):
        c, h, w = shape
        if c < 1 or h < 1 or w < 1:
            self.ctx.refuse(nd, "output shape", "positive C, H, W", f"{c}x{h}x{w}")
        if c > MAX_CHANNELS or h > MAX_DIM or w > MAX_DIM:
            self.ctx.refuse(nd, "output shape", f"C <= {MAX_CHANNELS}, H and W <= {MAX_DIM}", f"{c}x{h}x{w}")

    # ---- operators -------------------------------------------------------------------------
    def node(self, nd):
        for k in range(1, len(nd.outputs)):
            if self.out_used(nd, k) and nd.op not in ("QuantizeLinear",):
                self.ctx.refuse(nd, f"output {k} ('{nd.outputs[k]}')", f"unused (only {nd.op}'s first output is "
                                                                       f"supported)", "a use")
        getattr(self, "op_" + nd.op)(nd)

    def op_Constant(self, nd):
        a = nd.attrs
        if "value" in a:
            arr = tensor_array(self.ctx, a["value"], nd, "value")
        elif "value_float" in a:
            arr = np.array(a["value_float"], np.float32)
        elif "value_floats" in a:
            arr = np.array(a["value_floats"], np.float32)
        elif "value_int" in a:
            arr = np.array(a["value_int"], np.int64)
        elif "value_ints" in a:
            arr = np.array(a["value_ints"], np.int64)
        else:
            self.ctx.refuse(nd, "value", "a numeric value attribute", "none")
        self.set_out(nd, ("const", arr))

    def op_Pad(self, nd):
        t = self.tensor_of(nd, 0)
        pads = nd.attrs.get("pads")
        if len(nd.inputs) > 1 and nd.inputs[1]:
            pads = self.const(nd, 1).reshape(-1).tolist()
        if pads is None or any(int(p) != 0 for p in pads):
            self.ctx.refuse(nd, "pads", "all 0 (a Pad is taken only as the no-op before an AveragePool; pad in "
                                        "the Conv instead)", pads)
        self.set_out(nd, ("t", t.tid))

    def op_Identity(self, nd):
        v = self.value(nd, 0, ("t", "const", "q", "dq"))
        self.set_out(nd, v)

    def op_Dropout(self, nd):
        if len(nd.inputs) > 2 and nd.inputs[2]:
            mode = self.const(nd, 2)
            if mode.size != 1 or bool(mode.reshape(-1)[0]):
                self.ctx.refuse(nd, "training_mode", "false (inference)", "true")
        self.set_out(nd, self.value(nd, 0, ("t", "const")))

    def op_Flatten(self, nd):
        t = self.tensor_of(nd, 0)
        axis = int(nd.attrs.get("axis", 1))
        rank = 2 if t.flat else 4
        if axis < 0:
            axis += rank
        if axis != 1:
            self.ctx.refuse(nd, "axis", "1 (flatten each image to a vector)", nd.attrs.get("axis"))
        self.set_out(nd, ("t", self.alias(t, flat=True)))

    def alias(self, t, flat):
        if t.flat == flat:
            return t.tid
        a = self.g.tensor(t.shape, t.producer, t.name, flat)
        at = self.g.tensors[a]
        at.alias_of = t.tid
        return a

    def op_Reshape(self, nd):
        t = self.tensor_of(nd, 0)
        if len(nd.inputs) < 2 or not nd.inputs[1]:
            self.ctx.refuse(nd, "shape", "a constant shape input", "none")
        shape = self.const(nd, 1)
        if shape.dtype.kind not in "iu" or shape.ndim != 1:
            self.ctx.refuse(nd, "shape", "a 1-D integer constant", f"{shape.dtype} of shape {list(shape.shape)}")
        c, h, w = t.shape
        src = [1, c * h * w] if t.flat else [1, c, h, w]
        dims = [int(d) for d in shape]
        allowzero = int(nd.attrs.get("allowzero", 0))
        out = []
        for i, d in enumerate(dims):
            if d == 0 and not allowzero:
                if i >= len(src):
                    self.ctx.refuse(nd, "shape", "0 only where the input has a dimension", dims)
                out.append(src[i])
            else:
                out.append(d)
        if out.count(-1) > 1 or any(d < -1 for d in out):
            self.ctx.refuse(nd, "shape", "at most one -1 and no other negative size", dims)
        total = c * h * w
        if -1 in out:
            rest = 1
            for d in out:
                if d != -1:
                    rest *= d
            if rest == 0 or total % rest:
                self.ctx.refuse(nd, "shape", f"a shape of {total} values per image", dims)
            out[out.index(-1)] = total // rest
        if len(out) == 2 and out[0] == 1 and out[1] == total:
            self.set_out(nd, ("t", self.alias(t, flat=True)))
        elif len(out) == 4 and out == [1, c, h, w]:
            self.set_out(nd, ("t", self.alias(t, flat=False)))
        else:
            self.ctx.refuse(nd, "shape", f"a reshape of each image to a vector [N, {total}]", dims)

    def weights(self, nd, k):
        """(float weights or None, (w_int, s_w) or None) of a weight input."""
        v = self.value(nd, k, ("const", "dq"))
        if v[0] == "const":
            w = v[1]
            if w.dtype.kind != "f":
                self.ctx.refuse(nd, f"input '{nd.inputs[k]}' (weights)", "float weights or int8 weights through "
                                                                         "DequantizeLinear", f"{w.dtype} values")
            return w.astype(np.float64), None
        return None, v

    def op_Conv(self, nd):
        t = self.tensor_of(nd, 0)
        wf, wq = self.weights(nd, 1)
        M = (wf if wf is not None else wq[1]).shape[0] if (wf if wf is not None else wq[1]).ndim else 0
        n = self.conv(nd, t, wf, wq, self.bias(nd, 2, max(M, 1), wq))
        self.set_out(nd, ("t", n.out))

    def check_qweights(self, nd, wq, M):
        """Weights through DequantizeLinear: int8, symmetric (zero point 0), one scale or one per output."""
        _, ints, scale, zp, axis = wq
        if ints.dtype != np.int8:
            self.ctx.refuse(nd, "weights", "int8 weights (symmetric, zero point 0)", f"{ints.dtype} weights")
        if np.any(zp != 0):
            self.ctx.refuse(nd, "weights zero point", "0 (symmetric int8 weights)", f"{zp.reshape(-1)[:4].tolist()}")
        if scale.size not in (1, M) or (scale.size > 1 and axis != 0):
            self.ctx.refuse(nd, "weights scale", f"one scale or one per output channel ({M})",
                            f"{scale.size} scales on axis {axis}")

    def conv(self, nd, t, wf, wq, b):
        ctx, a = self.ctx, nd.attrs
        if t.flat:
            ctx.refuse(nd, "input", "an N x C x H x W map", "a flattened vector")
        wshape = list((wf if wf is not None else wq[1]).shape)
        if len(wshape) != 4:
            ctx.refuse(nd, "weights", "M x C/group x kH x kW", wshape)
        M, Cg, kh, kw = wshape
        if wq is not None:
            self.check_qweights(nd, wq, M)
        C, H, W = t.shape
        G = int(a.get("group", 1))
        if G < 1 or Cg * G != C or M % G:
            ctx.refuse(nd, "group", f"a divisor of the {C} input and {M} output channels matching weights "
                                    f"of C/group input channels", f"group {G} with weights {wshape}")
        ks = _ints(a.get("kernel_shape"))
        if ks is not None and ks != [kh, kw]:
            ctx.refuse(nd, "kernel_shape", f"the weights' {kh}x{kw}", ks)
        if kh != kw:
            ctx.refuse(nd, "kernel_shape", "a square kernel", f"{kh}x{kw}")
        k = kh
        dil = _ints(a.get("dilations")) or [1, 1]
        if any(d != 1 for d in dil):
            ctx.refuse(nd, "dilations", "1", dil)
        strides = _ints(a.get("strides")) or [1, 1]
        if len(strides) != 2 or strides[0] != strides[1] or not 1 <= strides[0] <= MAX_STRIDE:
            ctx.refuse(nd, "strides", f"equal strides 1..{MAX_STRIDE}", strides)
        s = strides[0]
        pad = self.pads(nd, k, s, H, W, MAX_KERNEL)
        if not 1 <= k <= MAX_KERNEL or pad > k - 1:
            ctx.refuse(nd, "kernel_shape", f"a kernel of 1..{MAX_KERNEL} with padding below it", f"{k} (pad {pad})")
        if H + 2 * pad < k or W + 2 * pad < k:
            ctx.refuse(nd, "kernel_shape", f"a kernel that fits the padded {H}x{W} input", k)
        if b.size != M:
            ctx.refuse(nd, "bias", f"{M} values", b.size)
        oh, ow = (H + 2 * pad - k) // s + 1, (W + 2 * pad - k) // s + 1
        shape = (M, oh, ow)
        self.check_shape(nd, shape)
        if pad and t.annot is not None and t.annot[1] != 0:
            ctx.refuse(nd, "pads", "no padding on an input whose zero point is not 0 (the platform pads with "
                                   "code 0)", f"padding {pad} on a tensor with zero point {t.annot[1]:g}")
        return self.g.add("conv", nd, [t.tid], shape, w=wf, wq=wq, b=b, k=k, stride=s, pad=pad, groups=G)

    def pads(self, nd, k, s, H, W, max_k):
        a, ctx = nd.attrs, self.ctx
        auto = a.get("auto_pad", "NOTSET")
        if auto in ("NOTSET", "VALID"):
            pads = _ints(a.get("pads")) or [0, 0, 0, 0]
            if auto == "VALID" and any(pads):
                ctx.refuse(nd, "pads", "none with auto_pad VALID", pads)
        elif auto in ("SAME_UPPER", "SAME_LOWER"):
            if s != 1 or k % 2 == 0:
                ctx.refuse(nd, "auto_pad", "SAME only with stride 1 and an odd kernel (symmetric padding)",
                           f"{auto} with stride {s}, kernel {k}")
            pads = [(k - 1) // 2] * 4
        else:
            ctx.refuse(nd, "auto_pad", "NOTSET, VALID or SAME_*", auto)
        if len(pads) != 4 or len(set(pads)) != 1 or pads[0] < 0:
            ctx.refuse(nd, "pads", "symmetric padding, the same on every side", pads)
        return pads[0]

    def bias(self, nd, k, M, wq):
        if k >= len(nd.inputs) or not nd.inputs[k]:
            return np.zeros(M)
        b = self.const(nd, k).astype(np.float64).reshape(-1)
        if b.size == 1:
            b = np.full(M, float(b[0]))
        if b.size != M:
            self.ctx.refuse(nd, f"input '{nd.inputs[k]}' (bias)", f"{M} values", b.size)
        return b

    def fc(self, nd, t, wf, wq, b):
        c, h, w = t.shape
        K = c * h * w
        M = (wf if wf is not None else wq[1]).shape[0]
        if wq is not None:
            self.check_qweights(nd, wq, M)
        if (wf if wf is not None else wq[1]).shape[1] != K:
            self.ctx.refuse(nd, "weights", f"{K} inputs per output (the flattened {c}x{h}x{w} input)",
                            list((wf if wf is not None else wq[1]).shape))
        self.check_shape(nd, (M, 1, 1))
        return self.g.add("fc", nd, [t.tid], (M, 1, 1), flat=True, w=wf, wq=wq, b=b)

    def op_Gemm(self, nd):
        a, ctx = nd.attrs, self.ctx
        t = self.tensor_of(nd, 0)
        if not t.flat:
            ctx.refuse(nd, "input", "a vector per image (Flatten or Reshape the map first)", f"a {t.shape} map")
        if int(a.get("transA", 0)):
            ctx.refuse(nd, "transA", "0", a.get("transA"))
        tb = int(a.get("transB", 0))
        alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
        wf, wq = self.weights(nd, 1)
        arr = wf if wf is not None else wq[1]
        if arr.ndim != 2:
            ctx.refuse(nd, "B", "a 2-D weight matrix", list(arr.shape))
        if not (alpha > 0 and math.isfinite(alpha)) or not math.isfinite(beta):
            ctx.refuse(nd, "alpha", "a finite alpha > 0 and a finite beta", f"alpha {alpha}, beta {beta}")
        if wf is not None:
            wf = alpha * (wf if tb else wf.T)
        else:
            wq = self.dq_matrix(nd, wq, tb, alpha)
        M = (wf if wf is not None else wq[1]).shape[0]
        b = beta * self.bias(nd, 2, M, wq)
        n = self.fc(nd, t, wf, wq, b)
        self.set_out(nd, ("t", n.out))

    def dq_matrix(self, nd, wq, transposed, alpha=1.0):
        """A dequantized weight matrix as [M][K] integers with per-output scales."""
        _, ints, scale, zp, axis = wq
        if ints.ndim != 2:
            self.ctx.refuse(nd, "weights", "a 2-D matrix", list(ints.shape))
        out_axis = 0 if transposed else 1
        if scale.size > 1 and axis % 2 != out_axis:
            self.ctx.refuse(nd, "weights", "per-output-channel scales (the output axis)", f"scales on axis {axis}")
        m = ints if transposed else ints.T
        return ("dq", np.ascontiguousarray(m), scale * alpha, zp, 0)

    def op_MatMul(self, nd):
        t = self.tensor_of(nd, 0)
        if not t.flat:
            self.ctx.refuse(nd, "input A", "a vector per image (Flatten or Reshape the map first)",
                            f"a {t.shape} map")
        wf, wq = self.weights(nd, 1)
        arr = wf if wf is not None else wq[1]
        if arr.ndim != 2:
            self.ctx.refuse(nd, "B", "a 2-D weight matrix", list(arr.shape))
        if wf is not None:
            wf = wf.T
        else:
            wq = self.dq_matrix(nd, wq, False)
        M = (wf if wf is not None else wq[1]).shape[0]
        n = self.fc(nd, t, wf, wq, np.zeros(M))
        self.set_out(nd, ("t", n.out))

    def op_BatchNormalization(self, nd):
        a, ctx = nd.attrs, self.ctx
        t = self.tensor_of(nd, 0)
        if int(a.get("training_mode", 0)):
            ctx.refuse(nd, "training_mode", "0 (inference)", a.get("training_mode"))
        if int(a.get("spatial", 1)) != 1:
            ctx.refuse(nd, "spatial", "1", a.get("spatial"))
        C = t.shape[0]
        p = []
        for k, what in enumerate(("scale", "B", "mean", "var"), start=1):
            v = self.const(nd, k).astype(np.float64).reshape(-1)
            if v.size != C:
                ctx.refuse(nd, f"input '{nd.inputs[k]}' ({what})", f"{C} values (one per channel)", v.size)
            p.append(v)
        eps = float(a.get("epsilon", 1e-5))
        if np.any(p[3] + eps <= 0):
            ctx.refuse(nd, "var", "variance + epsilon > 0", "a value <= 0")
        g = p[0] / np.sqrt(p[3] + eps)
        n = self.g.add("bn", nd, [t.tid], t.shape, flat=t.flat, g=g, c=p[1] - p[2] * g)
        self.set_out(nd, ("t", n.out))

    def act(self, nd, lo, hi):
        t = self.tensor_of(nd, 0)
        if not lo <= hi:
            self.ctx.refuse(nd, "min", "min <= max", f"min {lo}, max {hi}")
        n = self.g.add("act", nd, [t.tid], t.shape, flat=t.flat, lo=lo, hi=hi)
        self.set_out(nd, ("t", n.out))

    def op_Relu(self, nd):
        self.act(nd, 0.0, math.inf)

    def op_Clip(self, nd):
        lo, hi = nd.attrs.get("min", -math.inf), nd.attrs.get("max", math.inf)
        for k, which in ((1, "min"), (2, "max")):
            v = self.const(nd, k, optional=True)
            if v is not None:
                if v.size != 1:
                    self.ctx.refuse(nd, which, "a scalar", list(v.shape))
                if which == "min":
                    lo = float(v.reshape(-1)[0])
                else:
                    hi = float(v.reshape(-1)[0])
        self.act(nd, float(lo), float(hi))

    def window(self, nd):
        a, ctx = nd.attrs, self.ctx
        t = self.tensor_of(nd, 0)
        if t.flat:
            ctx.refuse(nd, "input", "an N x C x H x W map", "a flattened vector")
        ks = _ints(a.get("kernel_shape"))
        if not ks or len(ks) != 2 or ks[0] != ks[1] or not 1 <= ks[0] <= MAX_POOL:
            ctx.refuse(nd, "kernel_shape", f"a square window of 1..{MAX_POOL}", ks)
        strides = _ints(a.get("strides")) or [1, 1]
        if len(strides) != 2 or strides[0] != strides[1] or not 1 <= strides[0] <= MAX_POOL:
            ctx.refuse(nd, "strides", f"equal strides 1..{MAX_POOL}", strides)
        if int(a.get("ceil_mode", 0)):
            ctx.refuse(nd, "ceil_mode", "0", a.get("ceil_mode"))
        dil = _ints(a.get("dilations")) or [1, 1]
        if any(d != 1 for d in dil):
            ctx.refuse(nd, "dilations", "1", dil)
        if int(a.get("storage_order", 0)):
            ctx.refuse(nd, "storage_order", "0", a.get("storage_order"))
        if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            ctx.refuse(nd, "auto_pad", "NOTSET or VALID (pooling without padding)", a.get("auto_pad"))
        pads = _ints(a.get("pads")) or [0, 0, 0, 0]
        if any(pads):
            ctx.refuse(nd, "pads", "0 (the platform pools without padding)", pads)
        C, H, W = t.shape
        k, s = ks[0], strides[0]
        if k > H or k > W:
            ctx.refuse(nd, "kernel_shape", f"a window that fits the {H}x{W} map", k)
        return t, k, s, (C, (H - k) // s + 1, (W - k) // s + 1)

    def op_MaxPool(self, nd):
        t, k, s, shape = self.window(nd)
        n = self.g.add("pool", nd, [t.tid], shape, kind=POOL_MAX, size=k, stride=s)
        self.set_out(nd, ("t", n.out))

    def op_AveragePool(self, nd):
        t, k, s, shape = self.window(nd)
        n = self.g.add("pool", nd, [t.tid], shape, kind=POOL_AVG, size=k, stride=s)
        self.set_out(nd, ("t", n.out))

    def op_GlobalAveragePool(self, nd):
        t = self.tensor_of(nd, 0)
        if t.flat:
            self.ctx.refuse(nd, "input", "an N x C x H x W map", "a flattened vector")
        n = self.g.add("gap", nd, [t.tid], (t.shape[0], 1, 1))
        self.set_out(nd, ("t", n.out))

    def op_Add(self, nd):
        ctx = self.ctx
        if len(nd.inputs) != 2:
            ctx.refuse(nd, "inputs", "2", len(nd.inputs))
        v0, v1 = (self.value(nd, k, ("t", "const", "dq")) for k in (0, 1))
        if v0[0] == "t" and v1[0] == "t":
            t0, t1 = self.g.tensors[v0[1]], self.g.tensors[v1[1]]
            if t0.shape != t1.shape or t0.flat != t1.flat:
                ctx.refuse(nd, "inputs", "two tensors of one shape (no broadcasting)",
                           f"{'x'.join(map(str, t0.shape))} and {'x'.join(map(str, t1.shape))}")
            n = self.g.add("add", nd, [t0.tid, t1.tid], t0.shape, flat=t0.flat)
            self.set_out(nd, ("t", n.out))
            return
        if v0[0] != "t" and v1[0] != "t":
            ctx.refuse(nd, "inputs", "at least one tensor computed from the image", "two constants")
        tv, cv = (v0, v1) if v0[0] == "t" else (v1, v0)
        t = self.g.tensors[tv[1]]
        c = (cv[1] if cv[0] == "const" else self.dq_float(cv)).astype(np.float64)
        C = t.shape[0]
        ok_shapes = [(), (1,), (C,), (1, C), (C, 1, 1), (1, C, 1, 1)]
        if tuple(c.shape) not in ok_shapes or (t.flat and t.shape[1:] != (1, 1) and c.size > 1):
            ctx.refuse(nd, "inputs", "a constant per channel (a bias) added to a tensor", list(c.shape))
        c = np.full(C, float(c.reshape(-1)[0])) if c.size == 1 else c.reshape(-1)
        n = self.g.add("addc", nd, [t.tid], t.shape, flat=t.flat, c=c)
        self.set_out(nd, ("t", n.out))

    def op_Concat(self, nd):
        ctx = self.ctx
        ts = [self.tensor_of(nd, k) for k in range(len(nd.inputs))]
        if not ts:
            ctx.refuse(nd, "inputs", "at least one", 0)
        flat = ts[0].flat
        axis = int(nd.attrs.get("axis", 1))
        rank = 2 if flat else 4
        if axis < 0:
            axis += rank
        if axis != 1:
            ctx.refuse(nd, "axis", "1 (channels)", nd.attrs.get("axis"))
        for k, t in enumerate(ts):
            if t.flat != flat or t.shape[1:] != ts[0].shape[1:] or (flat and t.shape[1:] != (1, 1)):
                ctx.refuse(nd, f"input {k} ('{nd.inputs[k]}')",
                           f"a tensor of input 0's height and width ({ts[0].shape[1]}x{ts[0].shape[2]})",
                           "x".join(map(str, t.shape)) + (" flattened" if t.flat else ""))
        if len(ts) == 1:
            self.set_out(nd, ("t", ts[0].tid))
            return
        if len(ts) > 64:
            ctx.refuse(nd, "inputs", "at most 64", len(ts))
        shape = (sum(t.shape[0] for t in ts),) + ts[0].shape[1:]
        self.check_shape(nd, shape)
        n = self.g.add("concat", nd, [t.tid for t in ts], shape, flat=flat)
        self.set_out(nd, ("t", n.out))

    # ---- quantized graphs ------------------------------------------------------------------
    def qparams(self, nd, ks, kz, activation=True):
        ctx = self.ctx
        s = self.const(nd, ks).astype(np.float64)
        z = self.const(nd, kz, optional=True) if len(nd.inputs) > kz and nd.inputs[kz] else None
        zdt = self.value(nd, kz, ("const",))[1].dtype if z is not None else np.dtype(np.uint8)
        if not np.all(s > 0):
            ctx.refuse(nd, f"input '{nd.inputs[ks]}' (scale)", "scales > 0", "a scale <= 0")
        if activation:
            if s.size != 1:
                ctx.refuse(nd, f"input '{nd.inputs[ks]}' (scale)", "one scale per activation tensor",
                           f"{s.size} scales (per channel)")
            if zdt not in (np.dtype(np.uint8), np.dtype(np.int8)):
                ctx.refuse(nd, f"input '{nd.inputs[kz]}' (zero point)", "8-bit activations (uint8 or int8)",
                           f"{zdt}")
            zf = 0.0 if z is None else float(z.reshape(-1)[0])
            if z is not None and z.size != 1:
                ctx.refuse(nd, f"input '{nd.inputs[kz]}' (zero point)", "one zero point", z.size)
            if zdt == np.dtype(np.int8):
                zf += 128.0  # int8 codes shifted by 128 are the same uint8 codes
            return float(s.reshape(-1)[0]), zf
        return s, (np.zeros(1) if z is None else z.astype(np.float64)), zdt

    def annotate(self, tid, sz, nd):
        base = self.g.tensors[_base(self.g, tid)]
        if base.annot is not None and math.isclose(base.annot[0], sz[0], rel_tol=1e-6) and base.annot[1] == sz[1]:
            return tid  # a flattened view of a tensor that has this scale already
        t = self.g.tensors[tid]
        if t.annot is None and tid != self.g.image and getattr(t, "alias_of", None) is None:
            t.annot = sz
            return tid
        if t.annot is not None and math.isclose(t.annot[0], sz[0], rel_tol=1e-6) and t.annot[1] == sz[1]:
            return tid
        # Another scale on the same tensor: an elementwise requantization node.
        n = self.g.add("act", nd, [tid], t.shape, flat=t.flat, lo=-math.inf, hi=math.inf)
        self.g.tensors[n.out].annot = sz
        return n.out

    def op_QuantizeLinear(self, nd):
        v = self.value(nd, 0, ("t", "const"))
        if v[0] == "const":
            s, z, zdt = self.qparams(nd, 1, 2, activation=False)
            axis = int(nd.attrs.get("axis", 1))
            x = v[1].astype(np.float64)
            if s.size > 1:
                shape = [1] * x.ndim
                if not -x.ndim <= axis < x.ndim or x.shape[axis] != s.size:
                    self.ctx.refuse(nd, "axis", f"an axis of {s.size} values", axis)
                shape[axis] = -1
                s_, z_ = s.reshape(shape), z.reshape(shape) if z.size > 1 else z.reshape(-1)[0]
            else:
                s_, z_ = float(s.reshape(-1)[0]), float(z.reshape(-1)[0])
            info = np.iinfo(zdt) if zdt.kind in "iu" else None
            q = np.rint(x / s_) + z_
            if info is not None:
                q = np.clip(q, info.min, info.max)
            self.set_out(nd, ("const", q.astype(zdt)))
            return
        s, z = self.qparams(nd, 1, 2)
        self.set_out(nd, ("q", v[1], s, z))

    def op_DequantizeLinear(self, nd):
        v = self.value(nd, 0, ("q", "const"))
        if v[0] == "q":
            s, z = self.qparams(nd, 1, 2)
            if not math.isclose(s, v[2], rel_tol=1e-6) or z != v[3]:
                self.ctx.refuse(nd, "scale", f"the QuantizeLinear's scale {v[2]:g} and zero point {v[3]:g}",
                                f"{s:g} and {z:g}")
            self.set_out(nd, ("t", self.annotate(v[1], (s, z), nd)))
            return
        ints = v[1]
        s, z, _ = self.qparams(nd, 1, 2, activation=False)
        axis = int(nd.attrs.get("axis", 1))
        if s.size > 1:
            if not -ints.ndim <= axis < ints.ndim or ints.shape[axis] != s.size:
                self.ctx.refuse(nd, "axis", f"an axis of {s.size} values (one scale each)", axis)
            axis %= ints.ndim
        if ints.dtype.kind not in "iu":
            self.ctx.refuse(nd, f"input '{nd.inputs[0]}'", "integers", ints.dtype)
        self.set_out(nd, ("dq", ints, s.reshape(-1), z.reshape(-1), axis))

    def op_QLinearConv(self, nd):
        x = self.value(nd, 0, ("q",))
        s, z = self.qparams(nd, 1, 2)
        if not math.isclose(s, x[2], rel_tol=1e-6) or z != x[3]:
            self.ctx.refuse(nd, "x_scale", f"the input's scale {x[2]:g} and zero point {x[3]:g}", f"{s:g} and {z:g}")
        t = self.g.tensors[self.annotate(x[1], (s, z), nd)]
        w = self.value(nd, 3, ("const",))[1]
        ws, wz, _ = self.qparams(nd, 4, 5, activation=False)
        wq = ("dq", w, ws.reshape(-1), wz.reshape(-1), 0)
        ys, yz = self.qparams(nd, 6, 7)
        M = w.shape[0] if w.ndim else 1
        b = np.zeros(M)
        if len(nd.inputs) > 8 and nd.inputs[8]:
            bi = self.value(nd, 8, ("const",))[1].astype(np.float64).reshape(-1)
            if bi.size != M:
                self.ctx.refuse(nd, f"input '{nd.inputs[8]}' (bias)", f"{M} values", bi.size)
            b = bi * s * (ws.reshape(-1) if ws.size > 1 else float(ws.reshape(-1)[0]))
        n = self.conv(nd, t, None, wq, b)
        self.g.tensors[n.out].annot = (ys, yz)
        self.set_out(nd, ("q", n.out, ys, yz))

    def op_QLinearMatMul(self, nd):
        x = self.value(nd, 0, ("q",))
        s, z = self.qparams(nd, 1, 2)
        if not math.isclose(s, x[2], rel_tol=1e-6) or z != x[3]:
            self.ctx.refuse(nd, "a_scale", f"the input's scale {x[2]:g} and zero point {x[3]:g}", f"{s:g} and {z:g}")
        t = self.g.tensors[self.annotate(x[1], (s, z), nd)]
        if not t.flat:
            self.ctx.refuse(nd, "input A", "a vector per image", f"a {t.shape} map")
        w = self.value(nd, 3, ("const",))[1]
        ws, wz, _ = self.qparams(nd, 4, 5, activation=False)
        wq = self.dq_matrix(nd, ("dq", w, ws.reshape(-1), wz.reshape(-1), 1), False)
        ys, yz = self.qparams(nd, 6, 7)
        n = self.fc(nd, t, None, wq, np.zeros(wq[1].shape[0]))
        self.g.tensors[n.out].annot = (ys, yz)
        self.set_out(nd, ("q", n.out, ys, yz))


# ------------------------------------------------------------------------------------------------
# Fusion: batch norms and constant adds into the weights; clamps and pools into the producer's
# post-processing where the contract computes the same thing

def _base(g, tid):
    t = g.tensors[tid]
    while getattr(t, "alias_of", None) is not None:
        t = g.tensors[t.alias_of]
    return t.tid


class Fused:
    def __init__(self, g, ctx):
        self.g, self.ctx = g, ctx

    def uses(self, tid):
        """Consumers of a tensor and its aliases (the graph output counts as one)."""
        b = _base(self.g, tid)
        n = sum(1 for nd in self.g.nodes if not nd.dead for i in nd.inputs if _base(self.g, i) == b)
        return n + (1 if _base(self.g, self.g.output_tid) == b else 0)

    def producer(self, tid):
        b = self.g.tensors[_base(self.g, tid)]
        return None if b.producer < 0 else self.g.nodes[b.producer]

    def take_over(self, P, X):
        """P now produces X's output (with the scale of X's input when the graph names none); X disappears."""
        ta = self.g.tensors[_base(self.g, X.inputs[0])].annot
        if self.g.tensors[X.out].annot is None and ta is not None:
            self.g.tensors[X.out].annot = ta
        P.out = X.out
        self.g.tensors[X.out].producer = self.g.nodes.index(P)
        X.dead = True

    def run(self):
        g, ctx = self.g, self.ctx
        for X in g.nodes:
            if X.dead:
                continue
            if X.op == "act":
                X.act = (X.p["lo"], X.p["hi"])
            if X.op == "pool":
                X.pool = (X.p["kind"], X.p["size"], X.p["stride"])
        for X in list(g.nodes):
            if X.dead or X.op not in ("bn", "addc", "act", "pool"):
                continue
            t = X.inputs[0]
            P = self.producer(t)
            ta, xa = g.tensors[_base(g, t)].annot, g.tensors[X.out].annot
            single = P is not None and self.uses(t) == 1 and ta is None
            # A quantized graph may name the same scale before and after a clamp or a pool: still one node.
            same = ta is not None and xa is not None and math.isclose(ta[0], xa[0], rel_tol=1e-6) and ta[1] == xa[1]
            fusable = P is not None and self.uses(t) == 1 and (ta is None or xa is None or same)
            if X.op in ("bn", "addc"):
                what = "BatchNormalization" if X.op == "bn" else "an Add of a constant"
                if not (single and P.op in ("conv", "fc") and P.act is None and P.pool is None
                        and (X.op == "addc" or P.p["wq"] is None)):
                    ctx.refuse(X.onode, "input", f"the output of a Conv, Gemm or MatMul with float weights that only "
                                                 f"{what} uses (it is folded into the weights and bias)",
                               "another tensor")
                if X.op == "bn":
                    gm = X.p["g"]
                    P.p["w"] = P.p["w"] * gm.reshape((-1,) + (1,) * (P.p["w"].ndim - 1))
                    P.p["b"] = P.p["b"] * gm + X.p["c"]
                else:
                    P.p["b"] = P.p["b"] + X.p["c"]
                self.take_over(P, X)
                continue
            if not fusable:
                continue
            if X.op == "act":
                if P.op not in ("conv", "fc", "add", "concat", "gap", "act", "pool"):
                    continue
                if P.pool is not None and P.pool[0] != POOL_MAX:
                    continue  # a clamp after an average is not the average of the clamped values
                lo, hi = X.act
                if P.act is not None:
                    lo, hi = max(lo, P.act[0]), min(hi, P.act[1])
                    if lo > hi:
                        continue
                P.act = (lo, hi)
                self.take_over(P, X)
            else:
                if P.op not in ("conv", "add", "concat", "act") or P.pool is not None:
                    continue
                P.pool = X.pool
                self.take_over(P, X)
        self.prune()

    def prune(self):
        g = self.g
        need = {_base(g, g.output_tid)}
        for nd in reversed(g.nodes):
            if nd.dead:
                continue
            if _base(g, nd.out) in need:
                need.update(_base(g, i) for i in nd.inputs)
            else:
                nd.dead = True


# ------------------------------------------------------------------------------------------------
# Float evaluation of the internal graph (calibration, float accuracy)

def _weights_float(nd):
    if nd.p["wq"] is None:
        return nd.p["w"]
    _, ints, scale, _, _ = nd.p["wq"]
    s = scale.reshape((-1,) + (1,) * (ints.ndim - 1)) if scale.size > 1 else float(scale[0])
    return ints.astype(np.float64) * s


def live_nodes(g):
    return [nd for nd in g.nodes if not nd.dead]


def node_params(nodes):
    """{id(node): (w, b)} of the conv and fc nodes' float weights and biases (float32 torch)."""
    return {id(nd): (torch.as_tensor(nd.p["w"], dtype=torch.float32), torch.as_tensor(nd.p["b"], dtype=torch.float32))
            for nd in nodes if nd.op in ("conv", "fc")}


def _node_float(nd, xs, wb):
    """One node's float output from its inputs xs, before its pooling: the conv or fc with weights and
    bias wb, the add, concat or global average, then the node's clamp (ReLU, ReLU6, Clip)."""
    if nd.op in ("conv", "fc"):
        w, b = wb
        if nd.op == "conv":
            y = F.conv2d(xs[0], w, b, stride=nd.p["stride"], padding=nd.p["pad"], groups=nd.p["groups"])
        else:
            y = (xs[0].reshape(xs[0].shape[0], -1) @ w.t() + b)[:, :, None, None]
    elif nd.op == "add":
        y = xs[0] + xs[1]
    elif nd.op == "concat":
        y = torch.cat(xs, 1)
    elif nd.op == "gap":
        y = xs[0].mean(dim=(2, 3), keepdim=True)
    else:  # act, pool: the clamp and the window only
        y = xs[0]
    return _clamp(nd, y)


def _clamp(nd, y):
    """A node's clamp (ReLU, ReLU6, Clip), if it has one."""
    if nd.act is not None:
        y = torch.clamp(y, min=nd.act[0] if nd.act[0] > -math.inf else None,
                        max=nd.act[1] if nd.act[1] < math.inf else None)
    return y


def float_forward(g, x, record=None, params=None):
    """Float outputs of the graph's last node for inputs x [B][C][H][W] (float32 torch); record(node,
    values) sees every node's output after its clamp, before its pooling; params {id(node): (w, b)}
    replaces some nodes' weights."""
    nodes = live_nodes(g)
    last_use = {}
    for i, nd in enumerate(nodes):
        for t in nd.inputs:
            last_use[_base(g, t)] = i
    vals = {g.image: x}
    cache = getattr(g, "_float_params", None)
    if cache is None:
        cache = g._float_params = {}
    for i, nd in enumerate(nodes):
        xs = [vals[_base(g, t)] for t in nd.inputs]
        if nd.op in ("conv", "fc") and id(nd) not in cache:
            cache[id(nd)] = (torch.as_tensor(_weights_float(nd), dtype=torch.float32),
                             torch.as_tensor(nd.p["b"], dtype=torch.float32))
        y = _node_float(nd, xs, (params or {}).get(id(nd)) or cache.get(id(nd)))
        if record is not None:
            record(nd, y)
        if nd.pool is not None:
            kind, k, s = nd.pool
            y = F.max_pool2d(y, k, s) if kind == POOL_MAX else F.avg_pool2d(y, k, s)
        vals[_base(g, nd.out)] = y
        for t in set(nd.inputs):
            if last_use.get(_base(g, t)) == i and _base(g, t) != _base(g, nd.out):
                vals.pop(_base(g, t), None)
    return vals[_base(g, g.output_tid)].reshape(x.shape[0], -1)


class RangeStats:
    """Per node: min, max and a bounded random sample of its output values."""
    SAMPLE = 1 << 18

    def __init__(self, seed=0):
        self.lo, self.hi, self.samples = {}, {}, {}
        self.gen = torch.Generator().manual_seed(seed)

    def __call__(self, nd, y):
        v = y.detach().reshape(-1).to(torch.float32)
        k = id(nd)
        self.lo[k] = min(self.lo.get(k, math.inf), float(v.min()))
        self.hi[k] = max(self.hi.get(k, -math.inf), float(v.max()))
        if v.numel() > self.SAMPLE // 4:
            v = v[torch.randint(0, v.numel(), (self.SAMPLE // 4,), generator=self.gen)]
        have = self.samples.get(k)
        v = v if have is None else torch.cat([have, v])
        if v.numel() > self.SAMPLE:
            v = v[torch.randperm(v.numel(), generator=self.gen)[:self.SAMPLE]]
        self.samples[k] = v


def choose_range(values, lo, hi, nonneg, bits=ACT_BITS, keep_bits=0):
    """[lo, hi] of a tensor's codes: the window of least squared quantization error among
    fractions of the observed range (0 always inside the window). keep_bits > 0: the error of the
    codes' top keep_bits bits (what the activation-truncation baseline's layers read; narrower windows
    are tried too)."""
    v = values.to(torch.float64)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if nonneg:
        lo = 0.0
    if hi - lo <= 1e-12:
        return lo, lo + 1.0  # a constant tensor (a dead ReLU): every code is the same, any scale will do
    a, b, _ = quant.least_error_window(v, lo, hi, bits, torch.linspace(0.3, 1.0, 57), keep_bits)
    return a, b


# ------------------------------------------------------------------------------------------------
# Quantization and the integer model

def _pow2_shift(top, bits):
    return 62 if top <= 0 else int(math.floor(bits - math.log2(top)))


class Quantizer:
    """The integer model of a graph in one scheme (docs/import.md, "Schemes"):
    - int8: every conv and fc with 8-bit per-channel weights, every tensor 8-bit;
    - bwma: binary weights (W ~ alpha B + beta per output channel) on every conv and fc that neither
      reads the image nor makes the logits and is not grouped (those keep 8-bit weights); hidden tensors
      act_bits wide (4 by default), the image 8-bit;
    - columnwise: every conv and fc a quant.ColLayer (4-bit weights with a learned step per row tile and
      output, 2-bit cell slices, every read through the 4-bit ADC with tables per row tile, output and
      slice); hidden tensors act_bits wide (4 by default), the image 8-bit.
    int8 with swis_shifts N > 0 (docs/import.md, "SWIS-aware fine-tuning"): the weights of every conv
    and fc the PE array runs (groups 1) decomposed at N shifts per group of 4 (swis_variant "swis" any
    N positions, "swisc" N consecutive ones) or truncated to N bits ("wgt"), as cimvp swis decomposes
    them (swis_quant, the contract's rule): in fake_weight with a straight-through gradient, and in
    the exported integers; or ("act") the weights whole and those nodes' input codes truncated to their
    top N bits in fake_forward, as cimvp swis's Act baseline reads them (the model file is plain int8).
    swis_schedule instead of swis_shifts: each node's per-filter N
    (swis_quant.read_schedule of a `cimvp convert` file of the same graph's model: layer i is node i).
    swis_group_size: the weights sharing a group's shifts with swis_shifts, 4 (the PE array's) or 1..16
    for the group-size study (`cimvp swis --group-size M` measures the model)."""

    def __init__(self, g, ctx, input_scale, input_offset, name, scheme="int8", act_bits=None, swis_shifts=0,
                 swis_variant="swis", swis_schedule=None, swis_group_size=swis_quant.GROUP_SIZE):
        self.g, self.ctx = g, ctx
        self.input_scale, self.input_offset = input_scale, input_offset
        self.name = name
        if scheme not in SCHEMES:
            raise Refused(f"--scheme: expected one of {', '.join(SCHEMES)}, got '{scheme}'")
        self.scheme = scheme
        self.act_bits = act_bits or (ACT_BITS if scheme == "int8" else BWMA_ACT_BITS)
        if not 1 <= self.act_bits <= 8:
            raise Refused(f"--act-bits: expected 1..8, got {self.act_bits}")
        lo, hi = SWIS_SHIFTS_RANGE
        if not (isinstance(swis_shifts, int) and lo <= swis_shifts <= hi):
            raise Refused(f"--swis-shifts: expected an integer in {lo}..{hi}, got {swis_shifts!r}")
        if swis_variant not in INT8_SWIS_VARIANTS:
            raise Refused(f"--swis-variant: expected one of {', '.join(INT8_SWIS_VARIANTS)}, got '{swis_variant}'")
        if swis_shifts and scheme != "int8":
            raise Refused(f"--swis-shifts {swis_shifts}: expected --scheme int8 (the PE array runs 8-bit weights), "
                          f"got {scheme}")
        if swis_schedule is not None and (swis_shifts or scheme != "int8" or swis_variant in INT8_SWIS_TRUNCATIONS):
            raise Refused(f"--swis-schedule: expected --scheme int8, --swis-shifts 0 and --swis-variant swis or "
                          f"swisc, got {scheme}, {swis_shifts} and {swis_variant}")
        lo, hi = swis_quant.GROUP_SIZE_RANGE
        if not (isinstance(swis_group_size, int) and lo <= swis_group_size <= hi):
            raise Refused(f"--swis-group-size: expected an integer in {lo}..{hi}, got {swis_group_size!r}")
        if swis_group_size != swis_quant.GROUP_SIZE and (
                not (swis_shifts or swis_schedule is not None) or swis_variant in INT8_SWIS_TRUNCATIONS):
            raise Refused(f"--swis-group-size {swis_group_size}: expected --swis-shifts N > 0 or --swis-schedule "
                          f"with --swis-variant swis or swisc, got --swis-shifts {swis_shifts} and --swis-variant "
                          f"{swis_variant}")
        self.swis_shifts, self.swis_variant, self.swis_group_size = swis_shifts, swis_variant, swis_group_size
        self.swis_caches = {}  # id(node) -> swis_quant.GroupCache of its last decomposition
        self.nodes = live_nodes(g)
        if not self.nodes:
            ctx.refuse("graph", f"output '{g.output}'", "logits computed by a Conv, Gemm or MatMul from the image",
                       "the image itself")
        self.swis_filter_n = None  # id(node) -> its per-filter N (swis_schedule)
        if swis_schedule is not None:
            if len(swis_schedule) != len(self.nodes):
                raise Refused(f"--swis-schedule: expected a model of this graph ({len(self.nodes)} nodes), got "
                              f"{len(swis_schedule)} layers")
            self.swis_filter_n = {}
            for i, (nd, fn) in enumerate(zip(self.nodes, swis_schedule)):
                on = nd.op == "fc" or (nd.op == "conv" and nd.p["groups"] == 1)
                filters = nd.p["w"].shape[0] if on else None
                if on != (fn is not None) or (on and len(fn) != filters):
                    raise Refused(f"--swis-schedule: node {i} ({nd.op}): expected "
                                  + (f"{filters} per-filter counts (cimvp convert --pe-layers all)" if on else
                                     "no SWIS groups (not on the PE array)")
                                  + f", got {'none' if fn is None else len(fn)}")
                if on:
                    self.swis_filter_n[id(nd)] = fn
        self.last = self.nodes[-1]
        self.binary = {id(nd) for nd in self.nodes
                       if scheme == "bwma" and nd.op in ("conv", "fc") and nd is not self.last
                       and (nd.op == "fc" or nd.p["groups"] == 1) and _base(g, nd.inputs[0]) != g.image}
        self.col = {}   # columnwise: id(node) -> its ColLayer (make_col_layers)
        if scheme == "columnwise":
            for nd in self.nodes:
                if nd.op == "conv" and nd.p["groups"] > 1:
                    ctx.refuse(nd.onode, "group", "1 with --scheme columnwise (a grouped conv carries no column "
                                                  "multipliers or ADC tables in the model format)", nd.p["groups"])
        # A pool without its own clamp passes its input's codes through (same scale, same width).
        self.passthrough = {_base(g, nd.out): _base(g, nd.inputs[0]) for nd in self.nodes
                            if nd.op == "pool" and nd.act is None}
        self.nonneg()
        self.check_structure()

    def header(self):
        """The model header's cell, DAC and ADC fields: the column-wise chip, else any (lossless ADC)."""
        return dict(COL_HEADER) if self.scheme == "columnwise" else dict(cell_bits=0, dac_bits=0, adc_bits=0,
                                                                         frac_bits=8)

    def bits(self, tid):
        """The code width of a tensor: the image's 8 bits, else the scheme's activation bits."""
        tid = _base(self.g, tid)
        while tid in self.passthrough:
            tid = self.passthrough[tid]
        return 8 if tid == self.g.image else self.act_bits

    def fake_weight(self, nd, w):
        """A conv or fc node's weights as the integer network uses them (torch, straight-through gradient):
        8-bit per channel (SWIS-constrained, swis_on), or binary alpha B + beta per channel."""
        if id(nd) in self.binary:
            return quant.binary_closed_form(w, per_channel=True)[0]
        wf = w.reshape(w.shape[0], -1)
        s = (wf.detach().abs().amax(1).clamp(min=1e-12) / 127.0).reshape((-1,) + (1,) * (w.ndim - 1))
        w_int = torch.clamp(quant.round_ste(w / s), -127, 127)
        if self.swis_on(nd):
            cache = self.swis_caches.setdefault(id(nd), swis_quant.GroupCache())
            w_int = swis_quant.constrain_ste(w_int, self.swis_n(nd), self.swis_variant, nd.op == "fc", cache,
                                             self.swis_group_size)
        return w_int * s

    def swis_on(self, nd):
        """Whether a node's weights are SWIS-constrained: swis_shifts > 0 (int8 only, so 8-bit weights), and a
        conv of groups 1 or an fc: the layers cimvp swis puts on the PE array (model_layers in
        sw/app/swis_job.cpp; studies.SwisFinetuneCI checks that cimvp swis keeps every weight of a model
        fine-tuned here)."""
        return bool(self.swis_shifts or self.swis_filter_n) and (nd.op == "fc" or (nd.op == "conv" and
                                                                                   nd.p["groups"] == 1))

    def act_read(self):
        """The tensors whose codes a PE node reads at their top swis_shifts bits (variant "act"; through pools
        that pass codes on; only those wider than that), each quantized for that (choose_range's keep_bits);
        empty otherwise."""
        if self.swis_variant != "act" or not self.swis_shifts:
            return set()
        out = set()
        for nd in self.nodes:
            if self.swis_on(nd):
                t = _base(self.g, nd.inputs[0])
                while t in self.passthrough:
                    t = self.passthrough[t]
                if self.bits(t) > self.swis_shifts:
                    out.add(t)
        return out

    def swis_n(self, nd):
        """A node's shift count: swis_shifts, or its per-filter counts of the schedule."""
        return self.swis_filter_n[id(nd)] if self.swis_filter_n else self.swis_shifts

    def swis_weights(self, nd, w_int):
        """A node's exported integer weights [M][K] at the SWIS constraint (fake_weight's rule, exact)."""
        if not self.swis_on(nd):
            return w_int
        shape = w_int.shape if nd.op == "fc" else (w_int.shape[0], -1, nd.p["k"], nd.p["k"])
        d = swis_quant.constrain(torch.from_numpy(w_int.reshape(shape)), self.swis_n(nd), self.swis_variant,
                                 nd.op == "fc", group_size=self.swis_group_size)
        return d.reshape(w_int.shape).numpy()

    def make_col_layers(self):
        """columnwise: one ColLayer per conv and fc node from its (float) weights and bias, the steps
        initialized per (row tile, output) by least quantization error."""
        self.col = {}
        for nd in self.nodes:
            if nd.op not in ("conv", "fc"):
                continue
            w = torch.as_tensor(_weights_float(nd), dtype=torch.float32)
            if nd.op == "fc":
                C, H, W = self.g.tensors[_base(self.g, nd.inputs[0])].shape
                w = w.reshape(w.shape[0], C, H, W)
                rows = COL_FC_ROWS
            else:
                k = nd.p["k"]
                rows = min(COL_ROWS // (k * k), w.shape[1]) * k * k
                if rows == 0:
                    self.ctx.refuse(nd.onode, "kernel_shape", f"a kernel of at most {COL_ROWS} rows with --scheme "
                                                              f"columnwise", f"{k}x{k}")
            kind = "conv" if nd.op == "conv" else "fc"
            self.col[id(nd)] = quant.ColLayer(
                w, torch.as_tensor(nd.p["b"], dtype=torch.float32), kind, nd.p["pad"] if kind == "conv" else 0,
                self.bits(nd.inputs[0]), rows, None, 0, stride=nd.p["stride"] if kind == "conv" else 1,
                clip_sigmas=COL_CLIP_SIGMAS[kind], **{k: v for k, v in COL_HEADER.items() if k != "cell_bits"},
                cell_bits=COL_HEADER["cell_bits"])

    def col_input_codes(self, nd, x):
        """A ColLayer's input codes from the fake-quant real values x (straight-through)."""
        s_x, z_x = self.g.tensors[_base(self.g, nd.inputs[0])].quant
        if z_x != 0:
            self.ctx.refuse(nd.onode, "quantization", "an input with zero point 0 with --scheme columnwise (after a "
                                                      "ReLU or a clamp at 0, or the image with --input-offset 0)",
                            f"zero point {z_x:g}")
        return quant.round_ste(x / s_x), s_x

    @torch.no_grad()
    def calibrate_adc(self, images_x):
        """columnwise: every ColLayer's ADC tables fitted on the ideal partial sums of its input, as the
        (already calibrated) layers before it give it, in one pass over images_x."""
        for L in self.col.values():
            L.calibrate_next = True
            L.eval()
        self.fake_forward(None, images_x)

    def calibration_params(self):
        """{id(node): (w, b)} for the float forward that calibrates the activations: the binary layers'
        weights already binarized (their outputs' ranges are what the integer network sees)."""
        out = {}
        for nd in self.nodes:
            if id(nd) in self.col:  # the column-wise weights, without the ADC (its tables come after)
                L = self.col[id(nd)]
                w = (L.int_weight() * L.scale_full()).detach()
                if nd.op == "fc":
                    w = w.reshape(w.shape[0], -1)
                out[id(nd)] = (w, L.bias.detach())
            elif id(nd) in self.binary:
                w = torch.as_tensor(_weights_float(nd), dtype=torch.float32)
                out[id(nd)] = (self.fake_weight(nd, w).detach(), torch.as_tensor(nd.p["b"], dtype=torch.float32))
        return out

    def fake_forward(self, params, x, scales=None):
        """float_forward with the integer network's rounding: weights by fake_weight, every node's output to
        its codes (straight-through gradients; scales {id(node): learned step} override the calibrated ones); the
        last node's logits in float."""
        g = self.g
        vals = {g.image: x}
        grid = {g.image: g.tensors[g.image].quant}  # a tensor's (step, zero point) in this forward
        for nd in self.nodes:
            xs = [vals[_base(g, t)] for t in nd.inputs]
            if self.swis_variant == "act" and self.swis_on(nd):  # Act: the input codes at their top N bits
                s_x, z_x = grid[_base(g, nd.inputs[0])]
                codes = quant.round_ste(xs[0] / s_x + z_x)
                xs[0] = (swis_quant.truncate_activations_ste(codes, self.bits(nd.inputs[0]), self.swis_shifts)
                         - z_x) * s_x
            if id(nd) in self.col:
                q, s_x = self.col_input_codes(nd, xs[0])
                y = _clamp(nd, self.col[id(nd)].preact(q, s_x))
            else:
                wb = None
                if nd.op in ("conv", "fc"):
                    w, b = params[id(nd)]
                    wb = (self.fake_weight(nd, w), b)
                y = _node_float(nd, xs, wb)
            if nd is not self.last and not (nd.op == "pool" and nd.act is None):
                s, z = g.tensors[nd.out].quant
                if scales is not None and id(nd) in scales:
                    s = scales[id(nd)]
                y = (torch.clamp(quant.round_ste(y / s + z), 0, (1 << self.bits(nd.out)) - 1) - z) * s
                grid[_base(g, nd.out)] = (s, z)
            elif nd.op == "pool" and nd.act is None:  # its input's codes, pooled
                grid[_base(g, nd.out)] = grid[_base(g, nd.inputs[0])]
            if nd.pool is not None:
                kind, k, st = nd.pool
                y = F.max_pool2d(y, k, st) if kind == POOL_MAX else F.avg_pool2d(y, k, st)
            vals[_base(g, nd.out)] = y
        return vals[_base(g, self.last.out)].reshape(x.shape[0], -1)

    def nonneg(self):
        g = self.g
        g.tensors[g.image].nonneg = self.input_offset >= 0
        for nd in self.nodes:
            ins = [g.tensors[_base(g, t)].nonneg for t in nd.inputs]
            nn = (nd.act is not None and nd.act[0] >= 0) or \
                 (nd.op in ("pool", "gap", "concat", "add", "act") and all(ins))
            g.tensors[nd.out].nonneg = nn

    def check_structure(self):
        g, ctx = self.g, self.ctx
        L = self.last
        if L.op not in ("conv", "fc") or L.act is not None or L.pool is not None or \
                _base(g, L.out) != _base(g, g.output_tid):
            ctx.refuse(L.onode, "output", "the graph's output to be a Conv, Gemm or MatMul output without "
                                          "activation or pooling (the logits)", f"the output of {L.op}")
        if L.op == "conv" and g.tensors[L.out].shape[1:] != (1, 1):
            ctx.refuse(L.onode, "output", "one vector of logits (a 1x1 map)",
                       "x".join(map(str, g.tensors[L.out].shape)))
        for nd in self.nodes:
            if nd.op == "conv" and nd.p["pad"]:
                t = g.tensors[_base(g, nd.inputs[0])]
                if t.tid == g.image:
                    zero_is_code_0 = self.input_offset == 0
                elif t.annot is not None:
                    zero_is_code_0 = t.annot[1] == 0
                else:
                    zero_is_code_0 = t.nonneg
                if not zero_is_code_0:
                    why = f"--input-offset {self.input_offset:g}" if t.tid == g.image else "signed values"
                    ctx.refuse(nd.onode, "pads", "an input whose zero is code 0 (after a ReLU or a clamp at >= 0, or "
                                                 "the image with --input-offset 0): the platform pads with code 0",
                               f"padding {nd.p['pad']} on a tensor with {why}")

    def needs_calibration(self):
        g = self.g
        for nd in self.nodes:
            if nd is self.last or g.tensors[nd.out].annot is not None:
                continue
            if nd.op == "pool" and nd.act is None:
                continue
            return True
        return False

    def assign(self, stats):
        g, ctx = self.g, self.ctx
        g.tensors[g.image].quant = (self.input_scale, -self.input_offset / self.input_scale)
        Q = (1 << self.act_bits) - 1
        truncated = self.act_read()  # Act: tensors read at their top bits, their windows chosen for that
        for nd in self.nodes:
            if nd is self.last:
                continue
            t = g.tensors[nd.out]
            if t.annot is not None:
                s, z = t.annot
                if nd.act is not None:
                    lo, hi = nd.act
                    if lo > -s * z + 0.5 * s or hi < s * (Q - z) - 0.5 * s:
                        ctx.refuse(nd.onode, "quantization", f"a QuantizeLinear whose range [{-s * z:g}, "
                                                             f"{s * (Q - z):g}] ends at the clamp [{lo:g}, {hi:g}]",
                                   f"scale {s:g}, zero point {z:g}")
                t.quant = (s, z)
                continue
            if nd.op == "pool" and nd.act is None:
                t.quant = g.tensors[_base(g, nd.inputs[0])].quant
                continue
            if stats is None or id(nd) not in stats.lo:
                ctx.refuse(nd.onode, "quantization", "a QuantizeLinear on its output or calibration data",
                           "neither")
            lo, hi = stats.lo[id(nd)], stats.hi[id(nd)]
            if not (math.isfinite(lo) and math.isfinite(hi)):
                ctx.refuse(nd.onode, "calibration", "finite values on the calibration data", f"[{lo}, {hi}]")
            a, b = choose_range(stats.samples[id(nd)], lo, hi, t.nonneg, bits=self.act_bits,
                                keep_bits=self.swis_shifts if _base(g, nd.out) in truncated else 0)
            if nd.act is not None:
                if nd.act[0] > 0:
                    a = nd.act[0]
                if nd.act[1] < 0:
                    b = nd.act[1]
                b = max(b, a + 1e-6)
            s = (b - a) / Q
            z = 0.0 if a == 0 else (-a / s if a > 0 or b < 0 else float(min(Q, max(0, round(-a / s)))))
            t.quant = (s, z)

    def model(self):
        g = self.g
        index = {g.image: 0}
        out = IntModel(name=self.name, scheme=self.scheme, in_c=g.tensors[g.image].shape[0],
                       in_h=g.tensors[g.image].shape[1], in_w=g.tensors[g.image].shape[2], in_bits=8,
                       num_classes=g.tensors[self.last.out].shape[0], **self.header())
        for i, nd in enumerate(self.nodes):
            ins = [index[_base(g, t)] for t in nd.inputs]
            node = self.layer(nd, ins) if nd.op in ("conv", "fc") else self.tensor_node(nd, ins)
            out.layers.append(node)
            index[_base(g, nd.out)] = i + 1
        if len(out.layers) > MAX_NODES:
            self.ctx.refuse("graph", "nodes", f"at most {MAX_NODES} nodes after fusion", len(out.layers))
        return out

    def layer(self, nd, ins):
        g, ctx = self.g, self.ctx
        tin = g.tensors[_base(g, nd.inputs[0])]
        s_x, z_x = tin.quant
        C, H, W = tin.shape
        binary = id(nd) in self.binary
        col = {}
        if id(nd) in self.col:
            self.col_input_codes(nd, torch.zeros(1))  # refuses an input zero point
            w_int, a, gamma, beta, col = export.layer_affine(self.col[id(nd)].eval(), s_x)
            M = w_int.shape[0]
            alpha = a
        elif binary:
            # sum_k W x = alpha sum_k B x + beta sum_k x: the second term is the exact mult_x term
            bsign, a_w, b_w = quant.binary_closed_form_export(torch.as_tensor(nd.p["w"], dtype=torch.float64), True)
            M = bsign.shape[0]
            w_int = bsign.reshape(M, -1).numpy().astype(np.int64)
            a_w, b_w = a_w.numpy(), b_w.numpy()
            alpha, gamma = a_w * s_x, b_w * s_x
            beta = nd.p["b"] - s_x * z_x * (a_w * w_int.sum(axis=1) + b_w * w_int.shape[1])
        else:
            if nd.p["wq"] is None:
                w = nd.p["w"]
                M = w.shape[0]
                wf = w.reshape(M, -1)
                top = np.abs(wf).max(axis=1)
                s_w = np.where(top > 0, top / 127.0, 1.0)
                w_int = np.clip(np.round(wf / s_w[:, None]), -127, 127).astype(np.int64)
            else:
                _, ints, scale, _, _ = nd.p["wq"]
                M = ints.shape[0]
                w_int = ints.reshape(M, -1).astype(np.int64)
                s_w = scale.astype(np.float64).reshape(-1) if scale.size > 1 else np.full(M, float(scale[0]))
            w_int = self.swis_weights(nd, w_int)
            alpha, gamma = s_w * s_x, np.zeros(M)
            beta = nd.p["b"] - alpha * z_x * w_int.sum(axis=1)
        last = nd is self.last
        conv = nd.op == "conv"
        L = IntLayer(kind=KIND_CONV if conv else KIND_FC, in_c=C, in_h=H, in_w=W, out_c=M,
                     kernel=nd.p["k"] if conv else 1, stride=nd.p["stride"] if conv else 1,
                     padding=nd.p["pad"] if conv else 0, a_in_bits=self.bits(nd.inputs[0]),
                     w_bits=col.get("w_bits", 1 if binary else 8), binary=int(binary),
                     rows_per_tile=col.get("rows_per_tile", 0), col_mult=col.get("col_mult"),
                     adc_step=col.get("adc_step"), adc_base=col.get("adc_base"), relu=0 if last else 1,
                     a_out_bits=0 if last else self.bits(nd.out), groups=nd.p["groups"] if conv else 1,
                     inputs=ins, weights=w_int.astype(np.int8))
        if nd.pool is not None:
            L.pool, L.pool_size, L.pool_stride = nd.pool
        hw = engine.Hardware.for_model(IntModel(name="", scheme=self.scheme, **self.header()))
        if last:
            top = float(max(alpha.max(), np.abs(gamma).max()))
            sh = _pow2_shift(top, LOGIT_MULT_BITS)
            L.shift = 0
        else:
            s_y, z_y = g.tensors[nd.out].quant
            alpha, gamma, beta = alpha / s_y, gamma / s_y, beta / s_y + z_y
            top = float(max(alpha.max(), np.abs(gamma).max()))
            sh = min(62, _pow2_shift(top, MULT_BITS))
            if sh < 0:
                ctx.refuse(nd.onode, "requantization", "a factor below 2^24 between accumulator and output",
                           f"{top:g}")
        while True:
            L.mult = np.round(alpha * 2.0 ** sh).astype(np.int64)
            L.bias = np.round(beta * 2.0 ** sh).astype(np.int64)
            L.mult_x = np.round(gamma * 2.0 ** sh).astype(np.int64)
            if not last:
                L.shift = sh
            big = np.any(np.abs(L.mult) >= 2 ** 31) or np.any(np.abs(L.mult_x) >= 2 ** 31) or \
                np.any(np.abs(beta * 2.0 ** sh) >= 2 ** 61)
            if not big:
                L.mult, L.mult_x = L.mult.astype(np.int32), L.mult_x.astype(np.int32)
                b1 = export.overflow_bound(L, hw)
                if np.all(b1 < export.OVERFLOW_LIMIT) and np.all(export.loader_bound(L) <= export.LOADER_AFFINE_LIMIT):
                    return L
            sh -= 1
            if sh < (-40 if last else 0):
                ctx.refuse(nd.onode, "requantization", "multipliers and biases that fit the post-processing's "
                                                       "64 bits", "values too large (weights or bias out of scale)")

    def tensor_node(self, nd, ins):
        g, ctx = self.g, self.ctx
        tins = [g.tensors[_base(g, t)] for t in nd.inputs]
        s_y, z_y = g.tensors[nd.out].quant
        C, H, W = tins[0].shape
        if nd.op == "add":
            kind, out_c = KIND_ADD, C
            alpha = [t.quant[0] / s_y for t in tins]
            beta = [z_y - tins[0].quant[0] * tins[0].quant[1] / s_y, -tins[1].quant[0] * tins[1].quant[1] / s_y]
        elif nd.op == "concat":
            kind, out_c = KIND_CONCAT, sum(t.shape[0] for t in tins)
            alpha = [t.quant[0] / s_y for t in tins]
            beta = [z_y - t.quant[0] * t.quant[1] / s_y for t in tins]
        else:
            kind, out_c = KIND_POOL, C
            area = H * W if nd.op == "gap" else 1
            alpha = [tins[0].quant[0] / (s_y * area)]
            beta = [z_y - tins[0].quant[0] * tins[0].quant[1] / s_y]
        pool, size, stride = (POOL_GLOBAL, 0, 0) if nd.op == "gap" else (nd.pool or (POOL_NONE, 0, 0))
        N = TensorNode(kind=kind, inputs=ins, in_c=C, in_h=H, in_w=W, out_c=out_c, a_out_bits=self.bits(nd.out),
                       pool=pool, pool_size=size, pool_stride=stride)
        if all(math.isclose(a, 1.0, rel_tol=1e-9) for a in alpha) and all(abs(b) < 1e-9 for b in beta):
            N.shift, N.mult, N.bias = 0, np.ones(len(ins), np.int32), np.zeros(len(ins), np.int64)
            return N
        sh = min(62, _pow2_shift(max(alpha), MULT_BITS))
        if sh < 0:
            ctx.refuse(nd.onode, "requantization", "a factor below 2^24 between input and output scales",
                       f"{max(alpha):g}")
        area = H * W if nd.op == "gap" else 1
        while sh >= 0:
            mult = np.round(np.array(alpha) * 2.0 ** sh).astype(np.int64)
            bias = np.round(np.array(beta) * 2.0 ** sh).astype(np.int64)
            bound = sum(abs(int(m)) * ((1 << self.bits(t)) - 1) * area + abs(int(b))
                        for m, b, t in zip(mult, bias, nd.inputs))
            if np.all(np.abs(mult) < 2 ** 31) and bound < TENSOR_BOUND:
                N.shift, N.mult, N.bias = sh, mult.astype(np.int32), bias
                return N
            sh -= 1
        ctx.refuse(nd.onode, "requantization", "multipliers that fit the post-processing's 64 bits", "none")


# ------------------------------------------------------------------------------------------------
# The importer

class Importer:
    """import_onnx in steps: parse and check (constructor), calibrate and quantize (quantize),
    float and integer evaluation."""

    def __init__(self, path, input_scale=1.0 / 255.0, input_offset=0.0, name="imported", data=None,
                 scheme="int8", act_bits=None, swis_shifts=0, swis_variant="swis", swis_schedule=None,
                 swis_group_size=swis_quant.GROUP_SIZE):
        if not (input_scale > 0 and math.isfinite(input_scale)) or not math.isfinite(input_offset):
            raise Refused(f"--input-scale/--input-offset: expected a finite scale > 0 and a finite offset, got "
                          f"{input_scale} and {input_offset}")
        self.ctx = Ctx(path)
        if data is None:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise Refused(f"{path}: cannot read the ONNX file: {e.strerror or e}")
        self.proto = parse(data, path)
        self.builder = Builder(self.ctx, self.proto, input_scale, input_offset)
        self.g = self.builder.build()
        self.quantized_graph = self.builder.quantized
        if self.quantized_graph and scheme != "int8":
            raise Refused(f"{self.ctx.path}: --scheme {scheme}: expected int8 for a quantized graph: its integers "
                          f"are taken as they are")
        self.check_inferred_shapes()
        Fused(self.g, self.ctx).run()
        self.q = Quantizer(self.g, self.ctx, input_scale, input_offset, name, scheme, act_bits, swis_shifts,
                           swis_variant, swis_schedule, swis_group_size)
        self.input_scale, self.input_offset = input_scale, input_offset
        self.model = None
        self.calib = None

    @property
    def input_shape(self):
        return self.g.tensors[self.g.image].shape

    def check_inferred_shapes(self):
        """onnx.shape_inference (strict) agrees with the importer's shapes, and no tensor is dynamic."""
        import onnx
        try:
            inferred = onnx.shape_inference.infer_shapes(self.proto, check_type=True, strict_mode=True)
        except Exception as e:  # noqa: BLE001 (InferenceError, ValidationError, ...)
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise Refused(f"{self.ctx.path}: shape inference: expected a graph onnx.shape_inference accepts, got: "
                          f"{msg}")
        producer = {}
        for nd in self.proto.graph.node:
            for o in nd.output:
                producer[o] = nd
        for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
            v = self.builder.vals.get(vi.name)
            if v is None or v[0] != "t" or not vi.type.HasField("tensor_type"):
                continue
            t = self.g.tensors[v[1]]
            dims = list(vi.type.tensor_type.shape.dim)
            nd = producer.get(vi.name)
            label = ONode(list(self.proto.graph.node).index(nd), nd).label() if nd is not None else "graph"
            if not vi.type.tensor_type.HasField("shape"):
                continue
            shown = "[" + ", ".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
                                    for d in dims) + "]"
            if any(not d.HasField("dim_value") for d in dims[1:]):
                raise Refused(f"{self.ctx.path}: {label}: output '{vi.name}': expected a static shape (only the "
                              f"batch may be symbolic), got {shown}")
            want = [t.shape[0] * t.shape[1] * t.shape[2]] if t.flat else list(t.shape)
            got = [d.dim_value for d in dims[1:]]
            if got != want:
                raise Refused(f"{self.ctx.path}: {label}: output '{vi.name}': expected the shape [N, "
                              f"{', '.join(map(str, want))}] the importer computes, got {shown} from shape inference")

    def needs_calibration(self):
        return self.q.needs_calibration()

    def float_input(self, images):
        return torch.as_tensor(np.asarray(images), dtype=torch.float32) * self.input_scale + self.input_offset

    @torch.no_grad()
    def float_logits(self, images, batch=250):
        outs = []
        for i in range(0, len(images), batch):
            outs.append(float_forward(self.g, self.float_input(images[i:i + batch])))
        return torch.cat(outs, 0)

    @torch.no_grad()
    def quantize(self, calib=None, batch=250):
        """The integer model after post-training quantization on the calibration images calib: the
        activation ranges (and, columnwise, the weight steps, then the ADC tables on the partial sums the
        quantized layers before each give it)."""
        stats = None
        if self.q.scheme == "columnwise":
            if calib is None:
                raise Refused(f"{self.ctx.path}: --scheme columnwise: expected calibration images (the ADC tables "
                              f"are fitted on them)")
            self.q.make_col_layers()
        if calib is not None and self.needs_calibration():
            stats = RangeStats()
            params = self.q.calibration_params()
            for i in range(0, len(calib), batch):
                float_forward(self.g, self.float_input(calib[i:i + batch]), record=stats, params=params)
        self.q.assign(stats)
        self.calib = calib
        if self.q.col:
            self.q.calibrate_adc(self.float_input(calib))
        return self._checked_model("imported")

    @torch.no_grad()
    def fake_logits(self, images):
        """The fake-quant forward (Quantizer.fake_forward) of the current parameters on uint8 images: what
        the fine-tuning trains, and what the integer engine computes up to float rounding."""
        return self.q.fake_forward(node_params(live_nodes(self.g)), self.float_input(images))

    def node_names(self):
        """The ONNX node name behind every model node, in model order."""
        out = []
        for i, nd in enumerate(live_nodes(self.g)):
            on = nd.onode
            out.append(on.name or f"{on.op.lower()}{on.index}")
        return out

    def trace_nodes(self):
        """(kind, groups, in_c, out_c, h, w, global pool) per model node, for trace_out.check."""
        out = []
        for nd in live_nodes(self.g):
            tin = self.g.tensors[_base(self.g, nd.inputs[0])]
            c, h, w = tin.shape
            if nd.op == "conv":
                out.append((KIND_CONV, nd.p["groups"], c, self.g.tensors[nd.out].shape[0], h, w, False))
            elif nd.op == "gap":
                out.append((KIND_POOL, 1, c, c, h, w, True))
            else:
                out.append((0, 1, c, c, h, w, False))
        return out

    def fine_tune(self, images, labels, epochs, lr=1e-3, batch=128, seed=0, log=print, distill=True,
                  col_mapping="offset", col_var_sigma=0.0):
        """Quantization-aware fine-tuning of a float graph after quantize(): the conv and fc weights and
        biases (batch norms folded) are trained through the integer network's rounding (Quantizer.fake_forward:
        the scheme's weights, every activation to its codes, straight-through gradients), and with them every
        activation step (LSQ: the step learned from the rounding error, its gradient scaled by
        1 / sqrt(values x levels); zero points kept; with variant "act" the steps of the tensors read at their
        top bits are kept as calibrated); then the integer model is made again. The loss is the
        cross-entropy with the labels, plus (distill) the divergence from the float graph's predictions at
        temperature 2, half each.

        columnwise: col_mapping "differential" trains with each weight in a positive and a negative
        column group and col_var_sigma > 0 draws each cell's log-normal variation in every training
        forward (quant.ColLayer, as train_all.py's col_mapping and col_var_sigma); after the training
        the ADC tables are fitted for offset-encoded slices, the ones the model file holds."""
        if self.model is None:
            raise RuntimeError("fine_tune needs quantize() first")
        if (col_mapping != "offset" or col_var_sigma) and self.q.scheme != "columnwise":
            raise Refused(f"--col-mapping {col_mapping}, --col-var-sigma {col_var_sigma:g}: expected --scheme "
                          f"columnwise (the training forward's cells), got {self.q.scheme}")
        if col_mapping not in MAPPINGS:
            raise Refused(f"--col-mapping: expected one of {', '.join(MAPPINGS)}, got '{col_mapping}'")
        lo, hi = VAR_SIGMA_RANGE
        if not lo <= col_var_sigma <= hi:
            raise Refused(f"--col-var-sigma: expected a number in [{lo:g}, {hi:g}], got {col_var_sigma:g}")
        if self.quantized_graph:
            raise Refused(f"{self.ctx.path}: --epochs: expected a float graph: a quantized graph's integers are "
                          f"taken as they are")
        g = self.g
        nodes = live_nodes(g)
        teacher_params = node_params(nodes)
        params = {k: (torch.nn.Parameter(w.clone()), torch.nn.Parameter(b.clone()))
                  for k, (w, b) in teacher_params.items()}
        steps_of = {}   # id(node) -> learned activation step
        sizes = {}
        # Act: a tensor read at its top bits keeps its calibrated window (a step learned through the truncation
        # would move by the dropped codes, up to 2^(8 - N) steps at a time, and the training diverges)
        truncated = self.q.act_read()
        for nd in nodes:
            if nd is not self.q.last and not (nd.op == "pool" and nd.act is None) and \
                    _base(g, nd.out) not in truncated:
                steps_of[id(nd)] = torch.nn.Parameter(torch.tensor(float(g.tensors[nd.out].quant[0])))
                sizes[id(nd)] = int(np.prod(g.tensors[nd.out].shape)) * ((1 << self.q.bits(nd.out)) - 1)
        for L in self.q.col.values():  # the training forward's cells (tables refitted below, each epoch)
            L.set_mapping(col_mapping)
            L.var_sigma = float(col_var_sigma)
        col_params = [p for L in self.q.col.values() for p in L.parameters()]
        for k in self.q.col:  # a ColLayer trains its own weights, bias and steps
            params.pop(k)
        opt = torch.optim.SGD([p for pair in params.values() for p in pair] + col_params + list(steps_of.values()),
                              lr=lr, momentum=0.9)
        gen = torch.Generator().manual_seed(seed)
        x_all = torch.as_tensor(np.asarray(images))
        y_all = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
        n = len(x_all)
        steps = max(1, epochs * math.ceil(n / batch))
        step = 0
        for epoch in range(epochs):
            if self.q.col:  # the ADC tables re-fitted at every epoch's start, frozen within it
                self.q.calibrate_adc(self.float_input(self.calib))
                for L in self.q.col.values():
                    L.train()
            perm = torch.randperm(n, generator=gen)
            loss_sum, correct = 0.0, 0
            for i in range(0, n, batch):
                idx = perm[i:i + batch]
                for grp in opt.param_groups:
                    grp["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / steps))
                scales = {k: quant.grad_scale(v, 1.0 / math.sqrt(sizes[k])).clamp(min=1e-8)
                          for k, v in steps_of.items()}
                x = self.float_input(x_all[idx].numpy())
                out = self.q.fake_forward(params, x, scales)
                loss = F.cross_entropy(out, y_all[idx])
                if distill:
                    with torch.no_grad():
                        teacher = F.softmax(float_forward(g, x, params=teacher_params) / 2.0, dim=1)
                    kd = F.kl_div(F.log_softmax(out / 2.0, dim=1), teacher, reduction="batchmean") * 4.0
                    loss = 0.5 * loss + 0.5 * kd
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                loss_sum += float(loss) * len(idx)
                correct += int((out.argmax(1) == y_all[idx]).sum())
            log(f"  fine-tuning epoch {epoch + 1}/{epochs}: loss {loss_sum / n:.4f}, train accuracy {correct / n:.4f}")
        for nd in nodes:
            if id(nd) in params:
                w, b = params[id(nd)]
                nd.p["w"] = w.detach().double().numpy()
                nd.p["b"] = b.detach().double().numpy()
            if id(nd) in steps_of:
                g.tensors[nd.out].quant = (max(1e-8, float(steps_of[id(nd)])), g.tensors[nd.out].quant[1])
        for nd in nodes:  # a pool without its own clamp keeps its input's scale
            if nd.op == "pool" and nd.act is None:
                g.tensors[nd.out].quant = g.tensors[_base(g, nd.inputs[0])].quant
        for L in self.q.col.values():
            L.eval()
            L.var_sigma = 0.0
            L.set_mapping("offset")  # the model file's tables describe offset-encoded slices
        if self.q.col and col_mapping != "offset":
            self.q.calibrate_adc(self.float_input(self.calib))
        g._float_params = {}
        return self._checked_model("fine-tuned")

    def _checked_model(self, what):
        """The integer model of the current parameters, refused (naming the file) unless it makes a valid
        model file."""
        m = self.q.model()
        try:
            to_bytes(m)
        except ModelFileError as e:
            raise Refused(f"{self.ctx.path}: the {what} network does not make a valid model file: {e}")
        self.model = m
        return m
