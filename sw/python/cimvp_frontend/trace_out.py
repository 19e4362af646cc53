"""A model's layer shapes as a workload trace (docs/trace-format.md, version 1): what `cimvp import
--trace-out F` writes, so that `cimvp run --trace F` and `cimvp swis --trace F` study the network.

Records in the model's execution order: conv (dwconv for a depthwise conv), fc, and after a node with a
window pool a pool record; add nodes as add records, a global average as a pool over the whole map.
Version 1 has no record for a concat or an elementwise requantization (they have no MACs): they are
comments. Nor has it grouped convolutions other than depthwise ones: such a conv of G groups is written
as G plain conv records of one group each (in = C/G channels, out = M/G), the same MACs."""
import re

from .modelfile import KIND_ADD, KIND_CONCAT, KIND_FC, POOL_GLOBAL, POOL_MAX, POOL_NONE, IntLayer


class TraceError(ValueError):
    pass


def _name(s, used):
    n = re.sub(r"[^A-Za-z0-9_.-]", "_", s).strip("_") or "node"
    base, k = n, 1
    while n in used:
        k += 1
        n = f"{base}_{k}"
    used.add(n)
    return n


def check(nodes, names):
    """nodes: (kind, groups, in_c, out_c, map h, map w, global pool) per node; raises TraceError for what
    version 1 can not express."""
    for (kind, groups, in_c, out_c, h, w, glob), name in zip(nodes, names):
        if glob and h != w:
            raise TraceError(f"node '{name}' (global average pool on a {h}x{w} map): --trace-out: expected a "
                             f"square map (a trace pool has one kernel size)")


def write_trace(model, names, network_name, source, path=None):
    """The trace text of an IntModel whose nodes are named `names`; written to path when given."""
    used = set()
    net = re.sub(r"[^A-Za-z0-9_.-]", "_", network_name) or "imported"
    dataset = " dataset=fashion-mnist" if (model.in_c, model.in_h, model.in_w) == (1, 28, 28) else ""
    lines = ["cimvp-trace 1",
             f"# {net}: the layer shapes of {source}, written by cimvp import (docs/import.md).",
             "# Batch norm folded; ReLU and clamps are the post-processing's; weights int8 on the crossbar tiles.",
             f"network name={net}{dataset} input={model.in_c},{model.in_h},{model.in_w} classes={model.num_classes}",
             "data seed=1 act=relu-uniform:0.5 weights=normal:0.1"]
    for L, raw in zip(model.layers, names):
        name = _name(raw, used)
        if isinstance(L, IntLayer):
            shape = f"in={L.in_c},{L.in_h},{L.in_w} out={L.out_c}"
            tail = f"w_bits={L.w_bits} a_bits={L.a_in_bits} scheme=int8 map=crossbar"
            if L.kind == KIND_FC:
                lines.append(f"layer name={name} type=fc {shape} {tail}")
            elif L.groups == 1 or L.groups == L.in_c == L.out_c:
                dw = L.groups > 1
                lines.append(f"layer name={name} type={'dwconv' if dw else 'conv'} {shape} kernel={L.kernel} "
                             f"stride={L.stride} padding={L.padding} groups={L.groups} {tail}")
            else:
                G = L.groups
                lines.append(f"# {name}: a conv of {G} groups, one conv record per group")
                for g in range(G):
                    gname = _name(f"{raw}.g{g}", used)
                    lines.append(f"layer name={gname} type=conv in={L.in_c // G},{L.in_h},{L.in_w} "
                                 f"out={L.out_c // G} kernel={L.kernel} stride={L.stride} padding={L.padding} "
                                 f"groups=1 {tail}")
            oh, ow = L.out_hw()
            c = L.out_c
        else:
            c, (oh, ow) = L.out_c, L.map_hw()
            if L.kind == KIND_ADD:
                lines.append(f"layer name={name} type=add in={L.in_c},{L.in_h},{L.in_w} out={L.in_c}")
            elif L.kind == KIND_CONCAT:
                lines.append(f"# {name}: concat of {len(L.inputs)} tensors into {L.out_c}x{L.in_h}x{L.in_w} "
                             f"(no record in trace version 1)")
            elif L.pool == POOL_GLOBAL:
                lines.append(f"layer name={name} type=pool in={L.in_c},{L.in_h},{L.in_w} out={L.in_c} "
                             f"kernel={L.in_h} stride=1 padding=0 op=avg")
                continue
            elif L.pool == POOL_NONE:
                lines.append(f"# {name}: elementwise requantization of {L.in_c}x{L.in_h}x{L.in_w} (no record)")
        if L.pool not in (POOL_NONE, POOL_GLOBAL):
            op = "max" if L.pool == POOL_MAX else "avg"
            pname = _name(raw + ".pool", used)
            lines.append(f"layer name={pname} type=pool in={c},{oh},{ow} out={c} kernel={L.pool_size} "
                         f"stride={L.pool_stride} padding=0 op={op}")
    text = "\n".join(lines) + "\n"
    if path:
        with open(path, "w") as f:
            f.write(text)
    return text
