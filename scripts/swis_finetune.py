#!/usr/bin/python3
"""SWIS-aware fine-tuning against post-training decomposition (docs/swis.md "SWIS-aware
fine-tuning"; the paper's Table 5 at our scale), of the int8 Fashion-MNIST CNN or of the
ResNet-20 and MobileNet-v2 graph networks.

For every variant (swis: SWIS on the single-shift PE, SS; swisc: SWIS-C, C-SS; swis_ds and
swisc_ds: the same on the double-shift PE, DS and C-DS; wgt: weight truncation, Wgt; act: activation
truncation, Act, the weights whole and every PE-array layer's input codes at their top N bits) and shift
count N: int8 QAT with the weights (Act: the activations) constrained at N, then `cimvp swis --model <model> --targets N
--json` on it and on the shipped int8 model (post-training). SS and C-SS at an integral N train
every filter at N. DS and C-DS (even counts per filter), and SS and C-SS at a fractional N, train
each filter at its own N: the schedule `cimvp convert --pe-layers all --double-shift` (or
`--schedule`) makes for the shipped int8 model, read from the file it writes
(train_all.py --set int8_swis_schedule=FILE; cimvp_import.py --swis-schedule FILE); in groups of
another M than 4, the schedule `cimvp swis --group-size M --schedule-out FILE --schedule-mode MODE`
writes (the one that command decomposes the mode with; at M = 4 it is convert's). The CNN
(--network cnn) trains from the float model through the front end
(train_all.py --schemes int8 --set int8_swis_shifts=N --set int8_swis_variant=V); a graph
network (--network resnet20 or mobilenetv2) fine-tunes its shipped ONNX float graph through the
importer (cimvp_import.py models/fmnist-NET.onnx --swis-shifts N --swis-variant V --epochs E),
against the shipped models/fmnist-NET.cimvp. Writes one CSV row per (variant, N, training, M, seed):

    variant, n, training (post|finetuned), accuracy (the variant's mode at N), int8_accuracy (the
    model's own int8 accuracy), images, seed, threads, train_seconds, epochs, group_size (M: 4, the PE
    array's, or with --group-size another for every variant but wgt and act, measured by `cimvp swis
    --group-size M`), filter_n (fine-tuned SWIS rows: the per-filter N the training held, their distinct
    values, e.g. "2 4" for a schedule of 2 and 4, "4" for every filter at 4; empty for Wgt, Act and
    post-training)

A fine-tuning point trained again with another --seed is a row of its own (post-training rows have no
seed); the study's pages show the mean over a point's seeds and their spread. With --seed other than
the default 1, the run's models and reports in --work carry "-sSEED" in their names.

For each fine-tuned model it also checks that `cimvp swis` keeps the trained weights (a warning
when it does not): SWIS and SWIS-C, `cimvp convert --pe-layers all --shifts N --schedule` (the
schedule `cimvp swis` makes; `--double-shift` for DS) must store the model's own weights, every
filter at N when the training's N was uniform; Wgt, truncate_weights at N must leave every PE
layer's weights as they are. Act keeps its weights whole by construction: its figure is `cimvp swis`'s
Act accuracy of the model (its input codes truncated as in the training), not the model's int8 one.

    /usr/bin/python3 scripts/swis_finetune.py --cimvp build/cimvp --work /tmp/swisft \\
        --csv docs/studies/swis_finetune.csv [--variants swis,swis_ds,swisc,swisc_ds,wgt,act] [--shifts 2,3] \\
        [--limit 10000]
    /usr/bin/python3 scripts/swis_finetune.py --network resnet20 --limit 2000 --work /tmp/swisft-r20 \\
        --csv docs/studies/swis_finetune_resnet20.csv
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "sw", "python"))

import numpy as np  # noqa: E402

from cimvp_frontend import modelfile, settings, swis_quant  # noqa: E402

MODES = {"swis": "SS", "swisc": "C-SS", "wgt": "Wgt", "swis_ds": "DS", "swisc_ds": "C-DS", "act": "Act"}
BASE = {"swis": "swis", "swisc": "swisc", "swis_ds": "swis", "swisc_ds": "swisc", "wgt": "wgt",
        "act": "act"}  # train_all's
DOUBLE_SHIFT = ("swis_ds", "swisc_ds")
TRUNCATIONS = settings.INT8_SWIS_TRUNCATIONS  # the baselines (wgt, act): whole bits, no groups, no schedule
# the paper's Table 5 columns and the activation-truncation baseline (its Table 3's, fine-tuned), the table's order
ALL_VARIANTS = ("swis", "swis_ds", "swisc", "swisc_ds", "wgt", "act")
NETWORKS = ("cnn", "resnet20", "mobilenetv2")
GRAPH_EPOCHS = 1     # the graph networks' fine-tuning: as the CNN's int8 QAT (train_all.py int8_epochs 1,
GRAPH_LR = 0.002     # int8_lr 0.002), on every training image, one shuffling seed
COLUMNS = ["variant", "n", "training", "accuracy", "int8_accuracy", "images", "seed", "threads", "train_seconds",
           "epochs", "group_size", "filter_n"]
GROUP_SIZE = 4  # the PE array's M; another (1..16, the group-size study's) for every variant but wgt and act
DEFAULT_SEED = 1  # --seed's; a run with another names its files in --work with it


def log(*a):
    print(*a, flush=True)


def run(cmd, env=None):
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, env=env)


def swis_accuracy(cimvp, model, n, limit, out_json, env, reuse=False, group_size=GROUP_SIZE, modes=None):
    """`cimvp swis --model` at N: (its accuracy row, the int8 accuracy, the images); modes: the variants whose
    accuracy it measures (--accuracy-modes; the others' runs of the test images are skipped). With reuse, an
    existing out_json is read instead when it holds the accuracy of every mode asked for at N."""
    want = [MODES[v] for v in modes] if modes else []

    def measured():
        with open(out_json) as f:
            acc = json.load(f)["accuracy"]
        row = next((r for r in acc["rows"] if abs(r["n"] - n) < 1e-9), None)
        missing = want if row is None else [m for m in want if row.get(m) is None]
        return row, acc, missing

    if not (reuse and os.path.isfile(out_json) and not measured()[2]):
        run([cimvp, "swis", "--model", model, "--targets", fmt(n), "--limit", str(limit), "--json", out_json] +
            (["--group-size", str(group_size)] if group_size != GROUP_SIZE else []) +
            (["--accuracy-modes", ",".join(MODES[v] for v in modes)] if modes else []), env)
    row, acc, missing = measured()
    if missing:
        raise RuntimeError(f"{out_json}: no accuracy of {', '.join(missing)} at N = {fmt(n)}")
    return row, acc["int8"], acc["images"]


def fmt(n):
    return f"{n:g}"


def stem(network):
    """The network's model file stem: the shipped int8 model models/<stem>.cimvp, a fine-tuned one <stem>.cimvp in
    its run's directory."""
    return "fmnist-int8" if network == "cnn" else f"fmnist-{network}"


def table_of(network):
    """The network's fine-tuning table in docs/studies (the default --csv of its runs)."""
    return os.path.join(REPO, "docs", "studies", "swis_finetune.csv" if network == "cnn" else
                        f"swis_finetune_{network}.csv")


def scheduled(variant, n):
    """Whether the training takes its per-filter N from cimvp's schedule (else one N for every filter)."""
    return variant in DOUBLE_SHIFT or n != int(n)


def runs(variant, n, group_size=GROUP_SIZE):
    """Whether a variant has a point at N: weight and activation truncation keep a whole number of bits and have
    no groups (the PE array's M only), and a double-shift schedule's even counts need a mean of at least 2
    (`cimvp convert --double-shift`; `cimvp swis` gives DS and C-DS no accuracy below it)."""
    if variant in TRUNCATIONS:
        return n == int(n) and group_size == GROUP_SIZE
    return variant not in DOUBLE_SHIFT or n >= 2


def schedule_args(variant, n):
    """`cimvp convert`'s arguments for the schedule `cimvp swis` makes for a variant's mode at N."""
    return ["--shifts", fmt(n), "--double-shift" if variant in DOUBLE_SHIFT else "--schedule", "--variant",
            swis_quant.file_variant(BASE[variant])]


def schedule_path(out, variant, n, group_size):
    """The schedule a point's training reads, in its directory out (None when every filter trains at N): at the
    PE array's M `cimvp convert`'s model file, in groups of another M `cimvp swis --schedule-out`'s JSON."""
    if not scheduled(variant, n):
        return None
    return os.path.join(out, "schedule.cimvp" if group_size == GROUP_SIZE else "schedule.json")


def make_schedule(cimvp, post_model, variant, n, group_size, path, env):
    """Writes to path the schedule cimvp decomposes the variant's mode with at N in groups of group_size."""
    if group_size == GROUP_SIZE:
        run([cimvp, "convert", "--model", post_model, "--pe-layers", "all", *schedule_args(variant, n), "--out", path],
            env)
    else:
        run([cimvp, "swis", "--model", post_model, "--targets", fmt(n), "--group-size", str(group_size),
             "--no-accuracy", "--quiet", "--schedule-out", path, "--schedule-mode", MODES[variant]], env)


def filter_ns(variant, n, schedule, group_size=GROUP_SIZE):
    """The table's filter_n of a fine-tuned point: the distinct per-filter N its training held, ascending and
    space-separated ("" for the truncations, which have no groups), read as the training reads the schedule."""
    if variant in TRUNCATIONS:
        return ""
    if schedule is None:
        return fmt(n)
    layers = swis_quant.read_schedule(schedule, BASE[variant], group_size)
    return " ".join(str(x) for x in sorted({x for ns in layers if ns is not None for x in ns}))


def tag(n, group_size, seed=DEFAULT_SEED):
    """A point's file name part: N, M when it is not the PE array's and the seed when it is not the default."""
    return fmt(n) + ("" if group_size == GROUP_SIZE else f"-m{group_size}") + (
        "" if seed == DEFAULT_SEED else f"-s{seed}")


def weights_kept(cimvp, model, variant, n, work, env, seed):
    """True when the model's int8 weights come out of the scheduler at N unchanged. The layers on the PE array
    are those `cimvp convert --pe-layers all` stores as SWIS groups (cimvp's rule, as `cimvp swis`'s)."""
    m = modelfile.read(model)
    out = os.path.join(work, f"sched-{variant}-{tag(n, GROUP_SIZE, seed)}.cimvp")
    # Wgt: any conversion names the PE layers (8 shifts store every int8 weight as it is).
    convert = ["--shifts", "8", "--variant", "swis"] if variant == "wgt" else schedule_args(variant, n)
    run([cimvp, "convert", "--model", model, "--pe-layers", "all", *convert, "--out", out], env)
    on_pe = [(a, b) for a, b in zip(m.layers, modelfile.read(out).layers) if getattr(b, "swis", None) is not None]
    if not on_pe:
        return False
    if variant == "wgt":
        return all(np.array_equal(swis_quant.truncate_weights(a.weights.astype(np.int64), int(n)).numpy(), a.weights)
                   for a, _ in on_pe)
    return all(np.array_equal(a.weights, b.weights) and (scheduled(variant, n) or all(int(x) == n for x in
                                                                                       b.swis.filter_n))
               for a, b in on_pe)


def updated(path, rows):
    """The rows of the table at path whose (variant, N, training, M, seed) rows does not hold, with rows, in the
    table's order: by M, then the post-training rows by N then variant, then the fine-tuned ones by variant, N
    and seed."""
    key = lambda r: (r["variant"], r["n"], r["training"], str(r["group_size"]), str(r["seed"]))
    made = {key(r) for r in rows}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            raise ValueError(f"{path}: --update: expected the columns {','.join(COLUMNS)}, got "
                             f"{','.join(reader.fieldnames or [])}")
        kept = [r for r in reader if key(r) not in made]
    for r in kept:
        if r["variant"] not in ALL_VARIANTS or r["training"] not in ("post", "finetuned"):
            raise ValueError(f"{path}: --update: row {r['variant']},{r['n']},{r['training']}: expected a variant of "
                             f"{', '.join(ALL_VARIANTS)} and a training post or finetuned")
    log(f"--update: {len(kept)} rows of {path} kept, {len(rows)} made")
    order = {v: i for i, v in enumerate(ALL_VARIANTS)}
    return sorted(kept + rows, key=lambda r: (int(r["group_size"]), r["training"] != "post") + (
        (float(r["n"]), order[r["variant"]]) if r["training"] == "post" else
        (order[r["variant"]], float(r["n"]), int(r["seed"] or 0))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cimvp", default=os.path.join(REPO, "build", "cimvp"))
    ap.add_argument("--network", default="cnn", help="cnn (default), resnet20 or mobilenetv2")
    ap.add_argument("--work", required=True, help="directory of the fine-tuned models and reports")
    ap.add_argument("--csv", help="the table to write (default the network's: docs/studies/swis_finetune.csv, "
                                  "swis_finetune_NET.csv for a graph network)")
    ap.add_argument("--variants", default=",".join(ALL_VARIANTS),
                    help="comma-separated, of " + ", ".join(MODES) + " (default: all)")
    ap.add_argument("--shifts", default="2,3", help="comma-separated shift counts N, 1..8 (default 2,3); a "
                                                     "fractional N trains on cimvp's schedule (wgt and act skip it)")
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help="train_all.py --seed (the int8 scheme's seed is seed + 1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--float-model", help="the CNN's float model (default models/fmnist-float.pt); a graph "
                                          "network's ONNX graph (default models/fmnist-NET.onnx)")
    ap.add_argument("--post-model", help="the shipped int8 model decomposed post-training (default "
                                         "models/fmnist-int8.cimvp, models/fmnist-NET.cimvp)")
    ap.add_argument("--reuse", action="store_true", help="keep a fine-tuned model or a cimvp swis report already in "
                                                         "--work")
    ap.add_argument("--train-only", action="store_true", help="fine-tune only (no cimvp, no CSV)")
    ap.add_argument("--group-size", type=int, default=GROUP_SIZE,
                    help="M, the weights sharing a group's shifts: 4 (default, the PE array's) or 1..16 for the "
                         "group-size study: every variant but wgt and act, trained in groups of M "
                         "(int8_swis_group_size, --swis-group-size; a schedule from `cimvp swis --group-size M "
                         "--schedule-out`) and measured by `cimvp swis --group-size M`")
    ap.add_argument("--update", action="store_true", help="keep the rows of the existing --csv at the (variant, N, "
                                                          "training, M, seed) this run does not make (add N = 2.5 "
                                                          "to a table of 2 and 3, or another seed)")
    args = ap.parse_args(argv)
    if args.network not in NETWORKS:
        ap.error(f"--network: expected one of {', '.join(NETWORKS)}, got {args.network!r}")
    graph = args.network != "cnn"
    name = stem(args.network)
    args.csv = args.csv or table_of(args.network)
    args.float_model = args.float_model or os.path.join(REPO, "models", f"{name}.onnx" if graph else "fmnist-float.pt")
    args.post_model = args.post_model or os.path.join(REPO, "models", f"{name}.cimvp")
    variants = args.variants.split(",")
    for v in variants:
        if v not in MODES:
            ap.error(f"--variants: expected a list of {', '.join(MODES)}, got {v!r}")
    try:
        shifts = [float(s) for s in args.shifts.split(",")]
    except ValueError:
        ap.error(f"--shifts: expected a comma-separated list of numbers, got {args.shifts!r}")
    for n in shifts:
        if not 1 <= n <= 8:
            ap.error(f"--shifts {fmt(n)}: expected 1..8")
    M = args.group_size
    if not 1 <= M <= 16:
        ap.error(f"--group-size: expected 1..16, got {M}")
    if not any(runs(v, n, M) for v in variants for n in shifts):
        ap.error(f"--variants {args.variants} --shifts {args.shifts}"
                 + (f" --group-size {M}" if M != GROUP_SIZE else "") + ": no point to train (weight and activation "
                 f"truncation have no fractional N and no groups (M = {GROUP_SIZE} only), double shift no N below "
                 f"2)")
    os.makedirs(args.work, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("CIMVP_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(args.cimvp)), "share", "cimvp"))
    rows = []
    # one post-training report per set of variants: runs of other variants in the same --work do not share it
    post_suffix = "" if set(variants) == set(ALL_VARIANTS) else "-" + "-".join(v for v in ALL_VARIANTS
                                                                                if v in variants)
    for n in ([] if args.train_only else shifts):
        if not any(runs(v, n, M) for v in variants):
            continue
        rep, int8_acc, images = swis_accuracy(args.cimvp, args.post_model, n, args.limit,
                                              os.path.join(args.work, f"post-{tag(n, M)}{post_suffix}.json"), env,
                                              args.reuse, M, [v for v in variants if runs(v, n, M)])
        for v in variants:
            if not runs(v, n, M):
                continue
            rows.append(dict(variant=v, n=fmt(n), training="post", accuracy=rep[MODES[v]], int8_accuracy=int8_acc,
                             images=images, seed="", threads="", train_seconds="", epochs="", group_size=M,
                             filter_n=""))
    for v in variants:
        for n in shifts:
            if not runs(v, n, M):
                log(f"{v} N={fmt(n)}" + (f" M={M}" if M != GROUP_SIZE else "") + ": skipped (no such point: weight "
                    f"and activation truncation have no fractional N and no groups, double shift no N below 2)")
                continue
            out = os.path.join(args.work, f"{v}-{tag(n, M, args.seed)}")
            model = os.path.join(out, f"{name}.cimvp")
            schedule = schedule_path(out, v, n, M)
            seconds = None
            if not (args.reuse and os.path.isfile(model)):
                t0 = time.time()
                os.makedirs(out, exist_ok=True)
                if schedule:  # each filter at its N of cimvp's schedule for the shipped model
                    make_schedule(args.cimvp, args.post_model, v, n, M, schedule, env)
                if graph:
                    constraint = (["--swis-schedule", schedule] if schedule else ["--swis-shifts", str(int(n))]) + (
                        ["--swis-group-size", str(M)] if M != GROUP_SIZE else [])
                    run([sys.executable, os.path.join(REPO, "sw", "python", "cimvp_import.py"), args.float_model,
                         "--out", model, *constraint, "--swis-variant", BASE[v], "--epochs", str(GRAPH_EPOCHS),
                         "--lr", str(GRAPH_LR), "--seed", str(args.seed), "--threads", str(args.threads),
                         "--no-eval"])
                else:
                    constraint = (["--set", f"int8_swis_schedule={schedule}"] if schedule else
                                  ["--set", f"int8_swis_shifts={int(n)}"]) + (
                        ["--set", f"int8_swis_group_size={M}"] if M != GROUP_SIZE else [])
                    run([sys.executable, os.path.join(REPO, "sw", "python", "train_all.py"), "--schemes", "int8",
                         "--float-model", args.float_model, "--seed", str(args.seed), "--threads", str(args.threads),
                         *constraint, "--set", f"int8_swis_variant={BASE[v]}", "--out", out])
                seconds = time.time() - t0
                with open(os.path.join(out, "train_seconds.txt"), "w") as f:
                    f.write(f"{seconds:.0f}\n")
            elif os.path.isfile(os.path.join(out, "train_seconds.txt")):
                with open(os.path.join(out, "train_seconds.txt")) as f:
                    seconds = float(f.read())
            if args.train_only:
                continue
            if schedule and not os.path.isfile(schedule):  # a reused model's: the same file again (deterministic)
                make_schedule(args.cimvp, args.post_model, v, n, M, schedule, env)
            if graph:
                training = dict(seed=args.seed, threads=args.threads, settings=dict(int8_epochs=GRAPH_EPOCHS))
            else:
                with open(os.path.join(out, "fmnist-int8.expected.json")) as f:
                    training = json.load(f)["training"]
            rep, int8_acc, images = swis_accuracy(args.cimvp, model, n, args.limit,
                                                  os.path.join(args.work, f"{v}-{tag(n, M, args.seed)}.json"), env,
                                                  args.reuse, M,
                                                  [v])
            # cimvp convert stores groups of 4 only: in groups of another M the kept weights show as the mode's
            # accuracy equal to the model's int8 accuracy (the table's check); Act's weights are whole
            kept = True if v == "act" else weights_kept(args.cimvp, model, v, n, args.work, env, args.seed) \
                if M == GROUP_SIZE else rep[MODES[v]] == int8_acc
            log(f"{v} N={n}: {MODES[v]} {rep[MODES[v]]:.4f}, int8 {int8_acc:.4f}, weights kept at N: {kept}")
            if not kept:
                log(f"WARNING: {v} N={n}: cimvp's schedule at N changes the fine-tuned weights")
            rows.append(dict(variant=v, n=fmt(n), training="finetuned", accuracy=rep[MODES[v]], int8_accuracy=int8_acc,
                             images=images, seed=training["seed"], threads=training["threads"],
                             train_seconds="" if seconds is None else f"{seconds:.0f}",
                             epochs=training["settings"]["int8_epochs"], group_size=M,
                             filter_n=filter_ns(v, n, schedule, M)))
    if args.train_only:
        return 0
    if args.update and os.path.isfile(args.csv):
        try:
            rows = updated(args.csv, rows)
        except ValueError as e:
            log(f"error: {e}")
            return 2
    # the table is replaced whole: a failure while writing leaves the old one
    tmp = args.csv + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.4f}" if k in ("accuracy", "int8_accuracy") and not isinstance(r[k], str)
                            else r[k]) for k in COLUMNS})
    os.replace(tmp, args.csv)
    log(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
