#!/usr/bin/python3
"""cimvp beside NeuroSim V1.4: runs the NeuroSim-mirroring configs on VGG-8 and ResNet-18 with
`cimvp size` (weights resident, layers pipelined), calibrates three unit figures on VGG-8 only,
and renders the side-by-side tables of docs/validation.md.

    /usr/bin/python3 scripts/validation.py [--cimvp build/cimvp] [--out build/validation]
        render            run everything, print the tables (default)
        --write           ... and write the calibrated config and the tables into docs/validation.md
        --check           ... and fail unless the calibrated config and docs/validation.md hold
                          exactly what the runs give
        --check-layers N  run only VGG-8's first N layers (seconds) and fail unless their rows of
                          the per-layer table in docs/validation.md are what the run gives
        --check-macros    run only the published macros' configs (seconds) and fail unless their
                          table in docs/validation.md is what the runs give

The NeuroSim figures below were measured by running DNN+NeuroSim V1.4's hardware estimator
(branch 2DInferenceV1.4 of github.com/neurosim/NeuroSim) with its default Param.cpp and its own
network files (docs/validation.md, "How the NeuroSim figures were measured").
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "validation", "neurosim-v1.4.json")
CALIBRATED = os.path.join(ROOT, "configs", "validation", "neurosim-v1.4-calibrated.json")
DOC = os.path.join(ROOT, "docs", "validation.md")
BEGIN, END = "<!-- validation.py: begin -->", "<!-- validation.py: end -->"
MACROS_BEGIN, MACROS_END = "<!-- validation.py: macros begin -->", "<!-- validation.py: macros end -->"
sys.path.insert(0, os.path.join(ROOT, "testbench"))
from vcd_file import parse as parse_vcd  # noqa: E402  the strict VCD reader of the tests

# Published CIM macros and what their papers report at one operating point. `layer` is the matrix
# that fills the macro once: K rows x M weights of w_bits, a_bits inputs.
MACROS = [
    {
        "name": "SRAM, 7 nm (Dong et al., ISSCC 2020, 15.3; Sinangil et al., JSSC 56(1), 2021)",
        "config": "configs/validation/macro-sram-7nm-dong-isscc2020.json",
        "point": "64 x 64 8T cells (4 Kb), 4-bit inputs as word-line pulses, 4-bit weights, 4-bit flash ADCs, 0.8 V, 5.5 ns access",
        "layer": {"rows": 64, "cols": 16, "w_bits": 4, "a_bits": 4},
        "tops_per_w": 351.0, "gops": 372.4, "ns": 5.5, "tops_per_mm2": None,
    },
    {
        "name": "RRAM, 55 nm (Xue et al., ISSCC 2019, 24.1; JSSC 55(1), 2020)",
        "config": "configs/validation/macro-rram-55nm-xue-isscc2019.json",
        "point": "1 Mb 1T1R, 2-bit inputs, 3-bit weights, 4-bit outputs (as ISSCC 2020, 15.4 cites it), 14.6 ns per MAC operation",
        "layer": {"rows": 64, "cols": 32, "w_bits": 3, "a_bits": 2},
        "tops_per_w": 53.17, "gops": None, "ns": 14.6, "tops_per_mm2": None,
    },
]
MACRO_VECTORS = 512

# NeuroSim V1.4, default Param.cpp (energies in uJ per image, areas in mm^2, latency in ns).
NEUROSIM = {
    "vgg8": {
        "subarrays": 9472, "area": 80.06, "area_arrays": 21.03, "area_adc": 15.38, "area_accumulation": 16.18,
        "area_other": 12.14 + 11.55, "stage_ns": 132974, "energy": 45.69, "energy_adc": 33.45,
        "energy_accumulation": 3.82, "energy_other": 8.43, "tops": 9.26, "tops_per_w": 21.95,
        "tops_per_mm2": 0.1157, "frames_per_s": 7520,
        "layers": [(132974, 1.249), (65071, 13.66), (27664, 5.951), (31437, 11.49), (9052, 4.225),
                   (16640, 8.297), (740.5, 0.818), (412.6, 0.0019)],
    },
    "resnet18": {
        "subarrays": 10112, "area": 101.88, "area_arrays": 22.45, "area_adc": 16.42, "area_accumulation": 17.89,
        "area_other": 19.19 + 21.89, "stage_ns": 1164310, "energy": 186.75, "energy_adc": 131.73,
        "energy_accumulation": 17.03, "energy_other": 37.99, "tops": 4.72, "tops_per_w": 23.70,
        "tops_per_mm2": 0.0463, "frames_per_s": 858.9,
    },
}
NETWORKS = [("vgg8", "traces/vgg8.trace", "VGG-8 (CIFAR-10)"), ("resnet18", "traces/resnet18.trace", "ResNet-18 (ImageNet)")]


def size(cimvp, trace, config, out, layers=0):
    cmd = [cimvp, "size", "--quiet", "--trace", os.path.join(ROOT, trace), "--map", "crossbar",
           "--config", config, "--json", out]
    if layers:
        cmd += ["--layers", str(layers)]
    print("$ " + " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        result = json.load(f)
    if result["agreement"] != 1.0:
        sys.exit(f"{trace}: the platform disagrees with the reference (agreement {result['agreement']})")
    return result


def calibrate(vgg8):
    """Three unit figures fitted on VGG-8: energy per conversion, per shift-add, and ADC area per
    sub-array. Everything else stays as the technology derives it."""
    run, ns = vgg8["run"], NEUROSIM["vgg8"]
    costs = {k: v["value"] for k, v in run["costs"].items()}
    e = run["energy_pj"]
    with open(os.path.join(ROOT, "configs", "technology", "sram-22nm.json")) as f:
        tech = json.load(f)
    with open(CONFIG) as f:
        cfg = json.load(f)
    adc_area_per_tile = run["area_mm2"]["adcs"] / vgg8["tiles"]
    tech["name"] = "sram-22nm-neurosim-vgg8"
    tech["description"] = ("sram-22nm with the flash comparator's area fitted so that the ADC area per "
                           "128 x 128 array equals NeuroSim V1.4's on VGG-8 (scripts/validation.py)")
    tech["adc"]["comparator_area_um2"] = round(
        tech["adc"]["comparator_area_um2"] * (ns["area_adc"] / ns["subarrays"]) / adc_area_per_tile, 4)
    cfg["technology"] = tech
    cfg["adc"]["pj_per_conversion"] = round(costs["adc.pj_per_conversion"] * ns["energy_adc"] * 1e6 / e["adc"], 6)
    cfg["digital"]["shift_add_pj"] = round(
        costs["digital.shift_add_pj"] * ns["energy_accumulation"] * 1e6 / e["shift_add"], 6)
    return cfg


def busy_ns(vcd_path, signal="platform.tile0.busy"):
    """Simulated time the tile's busy line was high, in ns."""
    vcd = parse_vcd(vcd_path)
    scale = {"1ps": 1e-3, "1ns": 1.0}[vcd.timescale.replace(" ", "")]
    total, since = 0, None
    for t, v in vcd.values(signal):
        if v == 1 and since is None:
            since = t
        elif v == 0 and since is not None:
            total, since = total + t - since, None
    return total * scale


def run_macro(cimvp, macro, out):
    """One macro filled once per input vector, MACRO_VECTORS vectors: its energy per operation from the
    array, ADC and shift-add events, its rate from the tile's busy time, its area from the technology."""
    l = macro["layer"]
    stem = os.path.join(out, os.path.splitext(os.path.basename(macro["config"]))[0])
    cmd = [cimvp, "layer", "--config", os.path.join(ROOT, macro["config"]), "--rows", str(l["rows"]),
           "--cols", str(l["cols"]), "--w-bits", str(l["w_bits"]), "--a-bits", str(l["a_bits"]),
           "--vectors", str(MACRO_VECTORS), "--json", stem + ".json", "--vcd", stem + ".vcd"]
    print("$ " + " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(stem + ".json") as f:
        r = json.load(f)
    if r["agreement"] != 1.0:
        sys.exit(f"{macro['config']}: the platform disagrees with the reference (agreement {r['agreement']})")
    ops = 2.0 * l["rows"] * l["cols"] * MACRO_VECTORS
    e = r["energy_pj"]
    macro_pj = e["crossbar"] + e["adc"] + e["shift_add"]
    a = r["area_mm2"]
    area = a["arrays"] + a["adcs"] + a["shift_add"]
    t = busy_ns(stem + ".vcd")
    return {"fj_per_op": 1000.0 * macro_pj / ops, "tops_per_w": ops / macro_pj, "gops": ops / t,
            "ns_per_vector": t / MACRO_VECTORS, "area_um2": area * 1e6, "tops_per_mm2": ops / t / 1000.0 / area}


def render_macros(results):
    out = [MACROS_BEGIN, "",
           "| macro | operating point | | reported | cimvp | gap |", "| --- | --- | --- | --- | --- | --- |"]
    for m, r in zip(MACROS, results):
        rows = [("TOPS/W", m["tops_per_w"], r["tops_per_w"], "{:.1f}"),
                ("fJ per operation", 1000.0 / m["tops_per_w"], r["fj_per_op"], "{:.2f}"),
                ("GOPS", m["gops"], r["gops"], "{:.1f}"),
                ("ns per macro operation", m["ns"], r["ns_per_vector"], "{:.2f}"),
                ("area, um^2 (array, ADCs, shift-add)", None, r["area_um2"], "{:,.0f}"),
                ("TOPS/mm^2", m["tops_per_mm2"], r["tops_per_mm2"], "{:.1f}")]
        for i, (label, theirs, mine, fmt) in enumerate(rows):
            head = f"{m['name']} | {m['point']}" if i == 0 else " | "
            t = "not in the sources read" if theirs is None else fmt.format(theirs)
            gap = "-" if theirs is None else pct(mine, theirs)
            out.append(f"| {head} | {label} | {t} | {fmt.format(mine)} | {gap} |")
    return "\n".join(out + ["", MACROS_END])


def pct(ours, theirs):
    return f"{100.0 * (ours - theirs) / theirs:+.0f} %"


def components(result):
    run = result["run"]
    e = {k: v / 1e6 for k, v in run["energy_pj"].items()}  # uJ
    a = run["area_mm2"]
    return {
        "area": a["total"], "area_arrays": a["arrays"], "area_adc": a["adcs"], "area_accumulation": a["shift_add"],
        "area_other": a["total"] - a["arrays"] - a["adcs"] - a["shift_add"],
        "stage_ns": result["pipelined_interval_ns"], "energy": e["total"], "energy_adc": e["adc"],
        "energy_accumulation": e["shift_add"],
        "energy_other": e["crossbar"] + e["buffers"] + e["dma"] + e["post_process"] + e["pe"],
        "energy_dram": e["dram"], "frames_per_s": result["pipelined_frames_per_second"],
        "tops": 2.0 * run["macs_per_image"] * result["pipelined_frames_per_second"] / 1e12,
    }


ROWS = [
    ("arrays (128 x 128)", "subarrays", "tiles", "{:,.0f}", False),
    ("chip area, mm^2", "area", None, "{:.2f}", False),
    ("area: CIM arrays", "area_arrays", None, "{:.2f}", False),
    ("area: ADCs", "area_adc", None, "{:.2f}", True),
    ("area: accumulation (shift-add)", "area_accumulation", None, "{:.2f}", False),
    ("area: buffers, interconnect, other", "area_other", None, "{:.2f}", False),
    ("pipelined interval (slowest stage), us", "stage_ns", None, "{:,.1f}", False),
    ("frames/s", "frames_per_s", None, "{:,.1f}", False),
    ("energy per image, uJ (on chip)", "energy", None, "{:.2f}", False),
    ("energy: ADCs", "energy_adc", None, "{:.2f}", True),
    ("energy: accumulation (shift-add)", "energy_accumulation", None, "{:.2f}", True),
    ("energy: arrays, buffers, interconnect, other", "energy_other", None, "{:.2f}", False),
    ("energy: off-chip DRAM (NeuroSim: none)", "energy_dram", None, "{:.2f}", False),
    ("TOPS (pipelined)", "tops", None, "{:.3f}", False),
    ("TOPS/W (on chip)", "tops_per_w", None, "{:.2f}", False),
]


def table(name, result, calibrated_on_it):
    ns, ours = NEUROSIM[name], components(result)
    ours["tiles"] = result["tiles"]
    ours["energy"] -= ours["energy_dram"]  # on chip, as NeuroSim counts it
    ours["tops_per_w"] = 2.0 * result["run"]["macs_per_image"] / (ours["energy"] * 1e-6) / 1e12
    ns = dict(ns, stage_ns=ns["stage_ns"] / 1000.0, energy_dram=None)
    ours["stage_ns"] /= 1000.0
    lines = ["| figure | NeuroSim V1.4 | cimvp | cimvp vs NeuroSim |", "| --- | --- | --- | --- |"]
    for label, key, our_key, fmt, fitted in ROWS:
        theirs, mine = ns.get(key), ours[our_key or key]
        if key == "energy" and name in NEUROSIM:
            theirs = ns["energy_adc"] + ns["energy_accumulation"] + ns["energy_other"]
        mark = " (fitted)" if fitted and calibrated_on_it else ""
        t = "-" if theirs is None else fmt.format(theirs)
        gap = "-" if theirs is None else pct(mine, theirs)
        lines.append(f"| {label} | {t} | {fmt.format(mine)}{mark} | {gap} |")
    return "\n".join(lines)


def layer_rows(result, count=None):
    rows = []
    ns_layers = NEUROSIM["vgg8"]["layers"]
    weighted = [l for l in result["layers"] if l["mapped_to"] == "crossbar"]
    for i, l in enumerate(weighted[:count] if count else weighted):
        lat, en = ns_layers[i]
        ours_us, ours_uj = l["stage_ns"] / 1000.0, l["energy_per_image_pj"] / 1e6
        rows.append(f"| L{i + 1} {l['name']} | {l['tiles']} | {lat / 1000.0:,.2f} | {ours_us:,.2f} | "
                    f"{pct(ours_us, lat / 1000.0)} | {en:.4g} | {ours_uj:.4g} | {pct(ours_uj, en)} |")
    return rows


def render(results, cfg):
    out = [BEGIN, "",
           "Calibrated on VGG-8 (three unit figures, marked *fitted*): `adc.pj_per_conversion` = "
           f"{cfg['adc']['pj_per_conversion']} pJ, `digital.shift_add_pj` = {cfg['digital']['shift_add_pj']} pJ, "
           f"the flash comparator's area {cfg['technology']['adc']['comparator_area_um2']} um^2 "
           "(`configs/validation/neurosim-v1.4-calibrated.json`). ResNet-18 runs with the same file: "
           "nothing in it is fitted to ResNet-18.", ""]
    for name, _, title in NETWORKS:
        out += [f"### {title}", "", table(name, results[name], name == "vgg8"), ""]
    out += ["### VGG-8 per layer (pipeline stages)", "",
            "| layer | our arrays | NeuroSim us | cimvp us | gap | NeuroSim uJ | cimvp uJ | gap |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"] + layer_rows(results["vgg8"]) + ["", END]
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cimvp", default=os.path.join(ROOT, "build", "cimvp"))
    p.add_argument("--out", default=os.path.join(ROOT, "build", "validation"))
    g = p.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true")
    g.add_argument("--check", action="store_true")
    g.add_argument("--check-layers", type=int, default=0)
    g.add_argument("--check-macros", action="store_true")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with open(DOC) as f:
        doc = f.read()
    if a.check_macros:
        block = render_macros([run_macro(a.cimvp, m, a.out) for m in MACROS])
        if block not in doc:
            print(f"{DOC}: the macros' table differs from what the runs give:\n{block}", file=sys.stderr)
            sys.exit(1)
        sys.exit(0)
    if a.check_layers:
        r = size(a.cimvp, "traces/vgg8.trace", CALIBRATED, os.path.join(a.out, "vgg8-small.json"), a.check_layers)
        missing = [row for row in layer_rows(r, a.check_layers) if row not in doc]
        for row in missing:
            print(f"{DOC}: the per-layer table lacks the row the run gives:\n  {row}", file=sys.stderr)
        sys.exit(1 if missing else 0)

    physics = size(a.cimvp, "traces/vgg8.trace", CONFIG, os.path.join(a.out, "vgg8-uncalibrated.json"))
    cfg = calibrate(physics)
    cfg_text = json.dumps(cfg, indent=2) + "\n"
    if a.write:
        with open(CALIBRATED, "w") as f:
            f.write(cfg_text)
    elif a.check:
        with open(CALIBRATED) as f:
            if f.read() != cfg_text:
                sys.exit(f"{CALIBRATED}: not what calibrating on VGG-8 gives; run scripts/validation.py --write")
    cal_path = CALIBRATED if (a.write or a.check) else os.path.join(a.out, "calibrated.json")
    if cal_path != CALIBRATED:
        with open(cal_path, "w") as f:
            f.write(cfg_text)
    results = {name: size(a.cimvp, trace, cal_path, os.path.join(a.out, f"{name}.json"))
               for name, trace, _ in NETWORKS}
    uncal = [BEGIN.replace("begin", "uncalibrated begin"), "", table("vgg8", physics, False), "",
             END.replace("end", "uncalibrated end")]
    block = render(results, cfg)
    macros = render_macros([run_macro(a.cimvp, m, a.out) for m in MACROS])
    if a.write or a.check:
        new = replace_block(replace_block(doc, BEGIN, END, block), uncal[0], uncal[-1], "\n".join(uncal))
        new = replace_block(new, MACROS_BEGIN, MACROS_END, macros)
        if a.write:
            with open(DOC, "w") as f:
                f.write(new)
        elif new != doc:
            sys.exit(f"{DOC}: the tables differ from what the runs give; run scripts/validation.py --write")
    print("\n".join(uncal) + "\n\n" + block + "\n\n" + macros)


def replace_block(doc, begin, end, block):
    i, j = doc.find(begin), doc.find(end)
    if i < 0 or j < 0:
        sys.exit(f"{DOC}: missing the markers {begin} ... {end}")
    return doc[:i] + block + doc[j + len(end):]


if __name__ == "__main__":
    main()
