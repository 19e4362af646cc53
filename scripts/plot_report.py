#!/usr/bin/python3
"""Renders the per-layer report of `cimvp run --trace F --json R` as a PNG:
energy per layer stacked by component, latency per layer by engine, and the
energy pie of the whole run. Run with Debian's interpreter (python3-matplotlib):

    /usr/bin/python3 scripts/plot_report.py R.json -o report.png [--title T] [--per-image]
"""
import argparse
import json
import sys

COMPONENTS = ["crossbar", "adc", "shift_add", "pe", "post_process", "buffers", "dma", "dram"]
COLORS = {
    "crossbar": "#4e79a7", "adc": "#f28e2b", "shift_add": "#e15759", "pe": "#76b7b2",
    "post_process": "#59a14f", "buffers": "#edc948", "dma": "#b07aa1", "dram": "#9c755f",
}
ENGINE_COLORS = {"crossbar": "#4e79a7", "pe_array": "#76b7b2", "host": "#bab0ac"}


def load(path):
    try:
        with open(path) as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("plot_report: %s: %s" % (path, e))
    for key in ("layers", "energy_pj", "images"):
        if key not in r:
            sys.exit("plot_report: %s: expected the key '%s' of a `cimvp run --trace` results file" % (path, key))
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", help="results file of cimvp run --trace F --json R")
    ap.add_argument("-o", "--output", required=True, help="PNG file to write")
    ap.add_argument("--title", help="figure title (default: the network and the mapping)")
    ap.add_argument("--dpi", type=int, default=80)
    args = ap.parse_args()
    r = load(args.report)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = max(1, r["images"])
    layers = r["layers"]
    names = [l["name"] for l in layers]
    x = range(len(layers))
    fig = plt.figure(figsize=(13, 7.5))
    grid = fig.add_gridspec(2, 3, width_ratios=[1, 1, 0.9], height_ratios=[1.2, 1])
    ax_e = fig.add_subplot(grid[0, :2])
    ax_t = fig.add_subplot(grid[1, :2], sharex=ax_e)
    ax_p = fig.add_subplot(grid[:, 2])

    bottom = [0.0] * len(layers)
    for c in COMPONENTS:
        vals = [l["energy_pj"].get(c, 0.0) / images / 1e6 for l in layers]  # uJ per image
        if any(v > 0 for v in vals):
            ax_e.bar(x, vals, bottom=bottom, color=COLORS[c], label=c, width=0.8)
            bottom = [b + v for b, v in zip(bottom, vals)]
    ax_e.set_ylabel("energy per image (uJ)")
    ax_e.legend(ncol=4, fontsize=8, loc="upper right")
    ax_e.grid(axis="y", alpha=0.3)

    lat = [l["latency_ns"] / 1e3 for l in layers]  # us per image
    ax_t.bar(x, lat, color=[ENGINE_COLORS.get(l["mapped_to"], "#888888") for l in layers], width=0.8)
    ax_t.set_ylabel("latency per image (us)")
    ax_t.grid(axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=ENGINE_COLORS[k]) for k in ENGINE_COLORS]
    ax_t.legend(handles, list(ENGINE_COLORS), fontsize=8, loc="upper right")
    ax_t.set_xticks(list(x))
    ax_t.set_xticklabels(names, rotation=90, fontsize=7)
    plt.setp(ax_e.get_xticklabels(), visible=False)

    total = r["energy_pj"]
    parts = [(c, total.get(c, 0.0)) for c in COMPONENTS if total.get(c, 0.0) > 0]
    whole = sum(v for _, v in parts) or 1.0
    ax_p.pie([v for _, v in parts], colors=[COLORS[c] for c, _ in parts], startangle=90, counterclock=False,
             wedgeprops={"linewidth": 0.5, "edgecolor": "white"})
    ax_p.legend(["%s %.1f%%" % (c, 100.0 * v / whole) for c, v in parts], fontsize=8, loc="lower center",
                bbox_to_anchor=(0.5, -0.25), ncol=2)
    ax_p.set_title("energy by component\n%.3f uJ per image" % (total["total"] / images / 1e6), fontsize=10)

    title = args.title or "%s: %s MMACs, %.3f ms, map %s" % (
        r.get("network", "?"), "%.1f" % (r.get("macs_per_image", 0) / 1e6), r.get("latency_per_image_ns", 0) / 1e6,
        r.get("mapping", "?"))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(args.output, dpi=args.dpi)
    print("wrote", args.output)


if __name__ == "__main__":
    main()
