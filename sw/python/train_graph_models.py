#!/usr/bin/python3
"""Trains the deeper Fashion-MNIST networks of cimvp_frontend/zoo.py from scratch and exports
them as float ONNX graphs for `cimvp import`:

    /usr/bin/python3 sw/python/train_graph_models.py            # both, into models/
    /usr/bin/python3 sw/python/train_graph_models.py --only resnet &   # the same on 2 cores:
    /usr/bin/python3 sw/python/train_graph_models.py --only mobilenet  # one network per core
    /usr/bin/python3 sw/python/train_graph_models.py --only resnet --epochs 2 --out /tmp/g

Writes <out>/fmnist-resnet20.onnx and <out>/fmnist-mobilenetv2.onnx (opset 13, input "image"
[batch, 1, 28, 28] holding pixels / 255, output "logits" [batch, 10]) and beside each
<name>.float.json: the float accuracy on the 10,000 test images, epochs, seed, threads, wall
time, MACs per image and parameter count. Every exported graph is checked with onnx.checker
and holds only the operators `cimvp import` supports (zoo.SUPPORTED_OPS)."""
import argparse
import json
import os
import sys
import time

# Idle OpenMP threads sleep instead of spinning (see train_all.py). Read when torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.dirname(os.path.dirname(HERE))

import torch  # noqa: E402

from cimvp_frontend import data, model, zoo  # noqa: E402

# Per network: epochs, peak learning rate (cosine, Nesterov SGD, batch 128), weight decay,
# seed offset (the same whichever networks run).
SETTINGS = {
    "resnet": dict(epochs=10, lr=0.1, weight_decay=5e-4, warmup_frac=0.02, seed=1),
    "mobilenet": dict(epochs=8, lr=0.1, weight_decay=1e-4, warmup_frac=0.02, seed=2),
}


log, seed_all = model.log, model.seed_all


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=sorted(zoo.NETWORKS), help="train one network (default: both)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs for every network trained (default: " +
                         ", ".join(f"{k} {v['epochs']}" for k, v in SETTINGS.items()) + ")")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1, as the shipped models were trained; results differ "
                         "across thread counts)")
    ap.add_argument("--seed", type=int, default=1, help="base seed (default 1)")
    ap.add_argument("--train-images", type=int, default=60000, help="first N training images (default all)")
    ap.add_argument("--out", default=None, help="output directory (default: models/ of the repository)")
    ap.add_argument("--data-dir", default=None, help="Fashion-MNIST IDX directory "
                                                     "(default /usr/share/datasets/fashion-mnist)")
    args = ap.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        ap.error(f"--epochs: expected 1 or more, got {args.epochs}")
    if args.threads < 1:
        ap.error(f"--threads: expected 1 or more, got {args.threads}")
    out = args.out or os.path.join(REPO, "models")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(args.threads)

    xtr, ytr = data.load_or_exit("train", args.data_dir)
    xte, yte = data.load_or_exit("test", args.data_dir)
    xtr, ytr = xtr[:args.train_images], ytr[:args.train_images]
    log(f"data: {len(xtr)} training images, {len(xte)} test images; {torch.get_num_threads()} threads")

    results = {}
    for key in ([args.only] if args.only else list(zoo.NETWORKS)):
        name, cls = zoo.NETWORKS[key]
        cfg = SETTINGS[key]
        epochs = args.epochs if args.epochs is not None else cfg["epochs"]
        seed = args.seed + cfg["seed"]
        seed_all(seed)
        net = cls()
        macs, params = zoo.mac_count(net), zoo.param_count(net)
        log(f"{name}: {macs:,} MACs per image, {params:,} parameters; {epochs} epochs, seed {seed}")
        t0 = time.time()
        scaled = zoo.Scaled(net)  # the training loop feeds raw pixels; the network takes pixels / 255
        model.train(scaled, xtr, ytr, epochs=epochs, lr=cfg["lr"], weight_decay=cfg["weight_decay"],
                    warmup_frac=cfg["warmup_frac"], seed=seed, log=log)
        train_s = time.time() - t0
        acc = model.evaluate(scaled, xte, yte)
        path = os.path.join(out, name + ".onnx")
        ops = zoo.export_onnx(net, path)
        wall = time.time() - t0
        info = {
            "model": os.path.basename(path),
            "network": cls.__name__,
            "float_accuracy": acc,
            "correct": int(round(acc * len(xte))),
            "images": int(len(xte)),
            "train_images": int(len(xtr)),
            "epochs": epochs,
            "lr": cfg["lr"],
            "weight_decay": cfg["weight_decay"],
            "seed": seed,
            "threads": torch.get_num_threads(),
            "train_seconds": round(train_s, 1),
            "wall_seconds": round(wall, 1),
            "macs": macs,
            "parameters": params,
            "onnx_ops": ops,
            "onnx_bytes": os.path.getsize(path),
            "torch": torch.__version__,
        }
        with open(os.path.join(out, name + ".float.json"), "w") as f:
            json.dump(info, f, indent=1)
            f.write("\n")
        results[name] = info
        log(f"{name}: float test accuracy {acc:.4f}, {info['onnx_bytes']} bytes, ops {ops} "
            f"({wall:.0f} s)")
    for name, r in results.items():
        log(f"{name:<20} {r['float_accuracy']:.4f}  {r['macs']:>10,} MACs  {r['parameters']:>8,} params  "
            f"{r['epochs']} epochs  {r['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
