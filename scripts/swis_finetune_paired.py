#!/usr/bin/python3
"""Fine-tuned SWIS models of two group sizes compared image by image (docs/studies.md, "SWIS-aware
fine-tuning against group size", the paired test beside the verdict).

For every (variant, N, seed) that a network's fine-tuning table (scripts/swis_finetune.py's CSV) holds
fine-tuned at both group sizes of --pair (default M = 1 and 16), the two models that run left in --work
are measured again by `cimvp swis --model F --targets N --group-size M --accuracy-modes MODE
--predictions-out P` on the table's test images; each must score the table's accuracy (else the model in
--work is not the one the table measured, and the run stops). Writes one CSV row per pair:

    network, variant, n, seed (as the fine-tuning table records it), m_a, m_b, images, accuracy_a,
    accuracy_b, a_only (test images the M = m_a model classifies right and the M = m_b one wrong),
    b_only (the converse), a_only_images, b_only_images (those images' indices in the test set, space-separated)

a_only and b_only are what McNemar's exact test reads; the page renders the test from them, and from the
image lists how far the seeds share their discordant images.

    /usr/bin/python3 scripts/swis_finetune_paired.py --network mobilenetv2 --work /tmp/swisft-mobilenetv2 \\
        --update [--variants swis --shifts 2 --seeds 1,2,3 --pair 1,16] [--reuse]
"""
import argparse
import csv
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import swis_finetune as ft  # noqa: E402

REPO = ft.REPO
COLUMNS = ["network", "variant", "n", "seed", "m_a", "m_b", "images", "accuracy_a", "accuracy_b", "a_only",
           "b_only", "a_only_images", "b_only_images"]
TABLE = os.path.join(REPO, "docs", "studies", "swis_finetune_paired.csv")  # scripts/render_studies.py reads it


def recorded_seed(network, out_dir, seed):
    """The seed the fine-tuning table records for the run of --seed `seed` in out_dir: the CNN's int8 QAT
    records its own (train_all.py's, --seed plus the scheme's) in fmnist-int8.expected.json beside the model; a
    graph network's is --seed."""
    if network != "cnn":
        return str(seed)
    expected = os.path.join(out_dir, "fmnist-int8.expected.json")
    try:
        with open(expected) as f:
            return str(json.load(f)["training"]["seed"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RuntimeError(f"{expected}: expected the training's seed (training.seed) of the CNN's run: {e}")


def predictions(cimvp, model, n, m, mode, images, out, env, reuse=False):
    """(labels, the mode's class per test image) of `cimvp swis --predictions-out` for the model at N in
    groups of M; with reuse, an existing out newer than the model with that many images is read instead."""
    column = f"{mode}@{ft.fmt(n)}"

    def read():
        with open(out, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader) if column in (reader.fieldnames or []) else None
        return None if rows is None else ([int(r["label"]) for r in rows], [int(r[column]) for r in rows])

    if reuse and os.path.isfile(out) and os.path.getmtime(out) > os.path.getmtime(model):
        got = read()
        if got is not None and len(got[0]) == images:
            return got
    cmd = [cimvp, "swis", "--model", model, "--targets", ft.fmt(n), "--group-size", str(m), "--accuracy-modes",
           mode, "--limit", str(images), "--quiet", "--predictions-out", out]
    ft.log("$ " + " ".join(cmd))
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    except OSError as e:
        raise RuntimeError(f"{cimvp}: {e.strerror}")
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {(p.stderr or p.stdout).strip()}")
    got = read()
    if got is None:
        raise RuntimeError(f"{out}: expected a column {column}")
    return got


def compare(labels, a, b):
    """(a_only, b_only): the indices of the images a classifies right and b wrong, and the converse."""
    a_only = [i for i, (y, p, q) in enumerate(zip(labels, a, b)) if p == y and q != y]
    b_only = [i for i, (y, p, q) in enumerate(zip(labels, a, b)) if q == y and p != y]
    return a_only, b_only


def pairs(args, variants, shifts, seeds, pair, stem, table, measured, env):
    """The paired table's rows for every (variant, N, seed) whose models at both group sizes are in --work with
    rows in the fine-tuning table (measured: its fine-tuned rows by variant, N, M and recorded seed). A
    RuntimeError when a model does not score its row or the two ends do not match."""
    rows = []
    for v in variants:
        for n in shifts:
            for seed in seeds:
                ends = []
                for m in pair:
                    out = os.path.join(args.work, f"{v}-{ft.tag(n, m, seed)}")
                    model = os.path.join(out, f"{stem}.cimvp")
                    if not os.path.isfile(model):
                        break
                    recorded = recorded_seed(args.network, out, seed)
                    row = measured.get((v, n, m, recorded))
                    if row is None:
                        ft.log(f"{model}: skipped: {table} has no fine-tuned row of {v} at N = {ft.fmt(n)}, M = {m}, "
                               f"seed {recorded}")
                        break
                    ends.append((m, model, row))
                if len(ends) != 2:
                    continue
                point = f"{v} at N = {ft.fmt(n)}"
                for field in ("seed", "images"):
                    if ends[0][2][field] != ends[1][2][field]:
                        raise RuntimeError(f"{table}: {point}: the M = {pair[0]} and M = {pair[1]} runs of --seed "
                                           f"{seed} record {field} {ends[0][2][field]} and {ends[1][2][field]}")
                images = int(ends[0][2]["images"])
                got = []
                for m, model, row in ends:
                    labels, classes = predictions(args.cimvp, model, n, m, ft.MODES[v], images,
                                                  os.path.join(args.work, f"predictions-{v}-{ft.tag(n, m, seed)}.csv"),
                                                  env, args.reuse)
                    accuracy = sum(p == y for p, y in zip(classes, labels)) / len(labels)
                    if f"{accuracy:.4f}" != row["accuracy"]:
                        raise RuntimeError(f"{model}: scores {accuracy:.4f} on {images} images, but {table} records "
                                           f"accuracy {row['accuracy']} for {point}, M = {m}, seed {row['seed']}: not "
                                           f"the model the table measured")
                    got.append((labels, classes))
                if got[0][0] != got[1][0]:
                    raise RuntimeError(f"the two runs' test labels differ ({point}, seed {ends[0][2]['seed']})")
                a_only, b_only = compare(got[0][0], got[0][1], got[1][1])
                a, b = ends[0][2], ends[1][2]
                rows.append(dict(network=args.network, variant=v, n=ft.fmt(n), seed=a["seed"], m_a=pair[0],
                                 m_b=pair[1], images=images, accuracy_a=a["accuracy"], accuracy_b=b["accuracy"],
                                 a_only=len(a_only), b_only=len(b_only), a_only_images=" ".join(map(str, a_only)),
                                 b_only_images=" ".join(map(str, b_only))))
                ft.log(f"{args.network} {point} seed {a['seed']}: M = {pair[0]} right only {len(a_only)}, "
                       f"M = {pair[1]} right only {len(b_only)}")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cimvp", default=os.path.join(REPO, "build", "cimvp"))
    ap.add_argument("--network", default="cnn", help="cnn (default), resnet20 or mobilenetv2")
    ap.add_argument("--work", required=True, help="the --work of the fine-tuning runs (their models)")
    ap.add_argument("--variants", default="swis", help="comma-separated variants (default swis: SS)")
    ap.add_argument("--shifts", default="2", help="comma-separated shift counts N (default 2)")
    ap.add_argument("--seeds", default="1,2,3", help="the fine-tuning runs' --seed values to look for (default "
                                                     "1,2,3)")
    ap.add_argument("--pair", default="1,16", help="the two group sizes M compared (default 1,16)")
    ap.add_argument("--table", help="the network's fine-tuning table (default docs/studies/swis_finetune[_NET].csv)")
    ap.add_argument("--csv", default=TABLE)
    ap.add_argument("--reuse", action="store_true", help="read a model's predictions file in --work when it is newer "
                                                         "than the model instead of measuring again")
    ap.add_argument("--update", action="store_true", help="keep the rows of the existing --csv this run does not "
                                                          "make (other networks, points or seeds)")
    args = ap.parse_args(argv)
    if args.network not in ft.NETWORKS:
        ap.error(f"--network: expected one of {', '.join(ft.NETWORKS)}, got {args.network!r}")
    try:
        pair = [int(m) for m in args.pair.split(",")]
        shifts = [float(n) for n in args.shifts.split(",")]
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        ap.error("--pair, --shifts, --seeds: expected comma-separated numbers")
    if len(pair) != 2 or pair[0] == pair[1] or not all(1 <= m <= 16 for m in pair):
        ap.error(f"--pair: expected two different group sizes in 1..16, got {args.pair!r}")
    variants = args.variants.split(",")
    for v in variants:
        if v not in ft.MODES or v == "wgt":
            ap.error(f"--variants: expected SWIS variants of {', '.join(v for v in ft.MODES if v != 'wgt')}, "
                     f"got {v!r}")
    stem = ft.stem(args.network)
    env = dict(os.environ)
    env.setdefault("CIMVP_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(args.cimvp)), "share", "cimvp"))
    table = args.table or ft.table_of(args.network)
    try:
        with open(table, newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != ft.COLUMNS:
                sys.exit(f"error: {table}: expected the fine-tuning table's columns {','.join(ft.COLUMNS)}")
            measured = {(r["variant"], float(r["n"]), int(r["group_size"]), r["seed"]): r for r in reader
                        if r["training"] == "finetuned"}
    except OSError as e:
        sys.exit(f"error: {table}: {e.strerror}")
    except ValueError as e:
        sys.exit(f"error: {table}: expected numbers in n and group_size: {e}")
    try:
        rows = pairs(args, variants, shifts, seeds, pair, stem, table, measured, env)
    except RuntimeError as e:
        sys.exit(f"error: {e}")
    if not rows:
        sys.exit(f"error: {args.work}: no pair of fine-tuned models at M = {pair[0]} and {pair[1]} with rows in "
                 f"{table}")
    key = lambda r: tuple(str(r[k]) for k in ("network", "variant", "n", "seed", "m_a", "m_b"))
    if args.update and os.path.isfile(args.csv):
        with open(args.csv, newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != COLUMNS:
                sys.exit(f"error: {args.csv}: --update: expected the columns {','.join(COLUMNS)}, got "
                         f"{','.join(reader.fieldnames or [])}")
            made = {key(r) for r in rows}
            rows = [r for r in reader if key(r) not in made] + rows
    order = {net: i for i, net in enumerate(ft.NETWORKS)}
    rows.sort(key=lambda r: (order[r["network"]], r["variant"], float(r["n"]), int(r["m_a"]), int(r["m_b"]),
                             int(r["seed"])))
    tmp = args.csv + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, args.csv)
    ft.log(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
