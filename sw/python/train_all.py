#!/usr/bin/python3
"""Retrains the Fashion-MNIST CNN, quantizes it three ways with quantization-aware
fine-tuning, and writes the model files and their expected results:

    /usr/bin/python3 sw/python/train_all.py               # the shipped models, into models/
    /usr/bin/python3 sw/python/train_all.py --smoke --out /tmp/smoke   # a tiny run (< 3 min)
    /usr/bin/python3 sw/python/train_all.py --schemes bwma --float-model models/fmnist-float.pt
        --set bwma_a_bits=2 --set bwma_weights=xnor --out /tmp/a2   # QAT only: 2-bit activations, XNOR-Net weights
    /usr/bin/python3 sw/python/train_all.py --schemes int8 --float-model models/fmnist-float.pt
        --set int8_swis_shifts=3 --out /tmp/s3   # int8 QAT with weights SWIS-decomposed at 3 shifts

--set KEY=VALUE overrides a training setting (cimvp_frontend/settings.py), checked: a bad one exits 2
naming it and what it expects. `cimvp sweep` trains its training points with this script (docs/scale.md).

Writes <out>/fmnist-{int8,bwma,columnwise}.cimvp (docs/model-format.md), for each a
<name>.expected.json (accuracy and digests of the integer fake-quant engine on the test
images), and <out>/fmnist-float.pt (the float model's state dict) when it is below 2 MB."""
import argparse
import json
import os
import sys
import time

# Idle OpenMP threads sleep instead of spinning: on a machine shared with other jobs, spinning
# threads of a 2-thread torch run slow it down several times. Read when torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.dirname(os.path.dirname(HERE))

import torch  # noqa: E402

from cimvp_frontend import data, engine, export, model, modelfile, quant, settings, swis_quant  # noqa: E402

FULL, SMOKE = settings.FULL, settings.SMOKE

SCHEME_SEEDS = {"int8": 1, "bwma": 2, "columnwise": 3}
CONFIGS = {"int8": "configs/default.json", "bwma": "configs/default.json", "columnwise": "configs/columnwise.json"}
SOFT_T0, SOFT_T1 = 0.4, 0.02      # soft staircase temperature, annealed geometrically over BWMA's QAT
# Column-wise ADC windows: mean +- k std of each column's calibration partial sums, k per layer
# (conv1, conv2, fc1, fc2); a search over k on the calibration loss (--set clip_search=1) picks these.
CLIP_SIGMAS = (2.5, 2.5, 3.0, 3.0)
MAX_FILE_BYTES = 2 * 1024 * 1024


def apply_setting(cfg, kv):
    """One --set KEY=VALUE into cfg; returns None, or the message naming the setting and what it expects."""
    if "=" not in kv:
        return f"--set {kv}: expected KEY=VALUE"
    k, v = kv.split("=", 1)
    msg = settings.apply(cfg, k, v)
    return f"--set {kv}: {msg}" if msg else None


log, seed_all = model.log, model.seed_all


def qat(fnet, scheme, xtr, ytr, cfg, seed, swis_schedule=None):
    q = quant.QNet(fnet, scheme, clip_sigmas=cfg["clip_sigmas"], adc_fit=cfg["col_adc_fit"],
                   fc_rows=cfg["col_fc_rows"], soft_bits=cfg["bwma_a_bits"], binary_form=cfg["bwma_weights"],
                   adc_bits=cfg["col_adc_bits"], w_gran=cfg["col_w_gran"], ps_gran=cfg["col_ps_gran"],
                   ps_scales=cfg["col_ps_scales"],
                   var_sigma=cfg["col_var_sigma"] if scheme == "columnwise" else 0.0,
                   mapping=cfg["col_mapping"] if scheme == "columnwise" else "offset",
                   swis_shifts=cfg["int8_swis_shifts"] if scheme == "int8" else 0,
                   swis_variant=cfg["int8_swis_variant"], swis_schedule=swis_schedule if scheme == "int8" else None,
                   swis_group_size=cfg["int8_swis_group_size"] if scheme == "int8" else swis_quant.GROUP_SIZE)
    cal = xtr[:cfg["calib_images"]]
    q.calibrate(cal)
    if scheme == "columnwise" and cfg["clip_search"]:
        ks = quant.search_clip_sigmas(q, cal[:500], ytr[:500])
        log(f"  ADC windows: mean +- k std with k = {ks} (per layer)")
    epochs = cfg[{"int8": "int8_epochs", "bwma": "bwma_epochs", "columnwise": "col_epochs"}[scheme]]
    lr = cfg[{"int8": "int8_lr", "bwma": "bwma_lr", "columnwise": "col_lr"}[scheme]]
    epoch_hook, step_hook, teacher = None, None, None
    if scheme == "int8":
        q.bn_frozen = True  # BN folded with the float model's statistics
    elif scheme == "bwma":
        def epoch_hook(e):
            q.bn_frozen = e == epochs - 1 and epochs > 1  # last epoch: statistics frozen as exported

        def step_hook(p):
            q.set_temperature(SOFT_T0 * (SOFT_T1 / SOFT_T0) ** p)
    else:
        def epoch_hook(e):
            # calibrated ADC tables: re-fitted to the weights, then frozen for the epoch; LSQ learns its steps
            if e > 0 and cfg["col_ps_scales"] == "calibrated":
                q.calibrate(cal, acts=False, adc=True)
        if cfg["col_kd_weight"] > 0:
            teacher = fnet  # distillation from the float model's outputs
    model.train(q, xtr, ytr, epochs=epochs, lr=lr, seed=seed, weight_decay=5e-5, log=log,
                epoch_hook=epoch_hook, step_hook=step_hook, teacher=teacher, kd_weight=cfg["col_kd_weight"])
    if scheme == "columnwise" and cfg["col_mapping"] != "offset":
        # the model file's ADC tables describe offset-encoded slices: fitted for them after the training, as a
        # plain model's are (a differential run of the chip fits its own)
        q.set_mapping("offset", cal)
    q.eval()
    return q


def evaluate_integer(im, xte, yte):
    logits = engine.run(im, xte)
    pred = engine.predict(logits)
    acc = float((pred.numpy() == yte).mean())
    dl, dp = engine.digests(logits)
    return acc, logits, pred, dl, dp


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny run: 2000 training images, 1 epoch per phase, "
                                                          "500 test images")
    ap.add_argument("--out", default=None, help="output directory (default: models/ of the repository)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--schemes", default="int8,bwma,columnwise")
    ap.add_argument("--float-model", default=None, help="start from this float state dict instead of training")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a training setting (" + ", ".join(settings.NAMES) + "); bwma_a_bits: the BWMA "
                         "activation bits (1..8), bwma_weights: " + ", ".join(settings.BINARY_FORMS) +
                         "; col_adc_bits: the column-wise ADC bits (2..8), col_w_gran: "
                         + ", ".join(settings.W_GRANULARITIES) + ", col_ps_gran: "
                         + ", ".join(settings.PS_GRANULARITIES) + ", col_ps_scales: " + ", ".join(settings.PS_SCALES)
                         + ", col_var_sigma: the log-normal cell variation drawn in every training forward (0..1, "
                           "0 off), col_mapping: the cells of the training forward, " + ", ".join(settings.MAPPINGS)
                         + " (the model file holds offset-encoding ADC tables either way)"
                         + "; int8_swis_shifts: 0 (off) or the int8 weights' SWIS shifts per group (1..8), "
                           "int8_swis_variant: " + ", ".join(settings.INT8_SWIS_VARIANTS)
                         + " (act: the weights whole and every layer's input codes at their top int8_swis_shifts "
                           "bits, the activation-truncation baseline), int8_swis_schedule: a model of cimvp convert --pe-layers all --schedule (or "
                           "--double-shift), or a JSON schedule of cimvp swis --schedule-out, whose per-filter N the "
                           "int8 weights are decomposed at, instead of int8_swis_shifts, int8_swis_group_size: the "
                           "weights sharing a group's shifts with int8_swis_shifts or int8_swis_schedule (4, the PE "
                           "array's, or 1..16 for cimvp swis --group-size; a schedule's must be the file's)")
    ap.add_argument("--data-dir", default=None, help="Fashion-MNIST IDX directory "
                                                     "(default /usr/share/datasets/fashion-mnist)")
    args = ap.parse_args(argv)
    cfg = dict(SMOKE if args.smoke else FULL, clip_sigmas=CLIP_SIGMAS)
    for kv in args.set:
        msg = apply_setting(cfg, kv)
        if msg:
            ap.error(msg)
    if args.threads < 1:
        ap.error(f"--threads: expected an integer >= 1, got {args.threads}")
    for scheme in args.schemes.split(","):
        if scheme not in SCHEME_SEEDS:
            ap.error(f"--schemes: expected a comma-separated list of {', '.join(SCHEME_SEEDS)}, got {scheme!r}")
    if args.float_model and not os.path.isfile(args.float_model):
        ap.error(f"--float-model {args.float_model}: no such file")
    swis_schedule = None
    if cfg["int8_swis_group_size"] != swis_quant.GROUP_SIZE and (
            not (cfg["int8_swis_shifts"] or cfg["int8_swis_schedule"])
            or cfg["int8_swis_variant"] in settings.INT8_SWIS_TRUNCATIONS):
        ap.error(f"--set int8_swis_group_size={cfg['int8_swis_group_size']}: expected int8_swis_shifts > 0 or "
                 f"int8_swis_schedule with int8_swis_variant swis or swisc, got int8_swis_shifts "
                 f"{cfg['int8_swis_shifts']}, int8_swis_variant {cfg['int8_swis_variant']}")
    if cfg["int8_swis_schedule"]:
        if cfg["int8_swis_shifts"]:
            ap.error(f"--set int8_swis_schedule={cfg['int8_swis_schedule']}: it sets each filter's N; expected "
                     f"int8_swis_shifts 0, got {cfg['int8_swis_shifts']}")
        try:
            swis_schedule = swis_quant.read_schedule(cfg["int8_swis_schedule"], cfg["int8_swis_variant"],
                                                     cfg["int8_swis_group_size"])
        except ValueError as e:
            ap.error(f"--set int8_swis_schedule: {e}")
    out = args.out or os.path.join(REPO, "models")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(args.threads)
    t_start = time.time()

    xtr, ytr = data.load_or_exit("train", args.data_dir)
    xte, yte = data.load_or_exit("test", args.data_dir)
    xtr, ytr = xtr[:cfg["train_images"]], ytr[:cfg["train_images"]]
    xte, yte = xte[:cfg["test_images"]], yte[:cfg["test_images"]]
    log(f"data: {len(xtr)} training images, {len(xte)} test images")

    seed_all(args.seed)
    fnet = model.FloatNet()
    if args.float_model:
        try:
            fnet.load_state_dict(torch.load(args.float_model))
        except Exception as e:  # torch.load raises whatever its unpickling meets
            why = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            ap.error(f"--float-model {args.float_model}: expected the float CNN's state dict "
                     f"(models/fmnist-float.pt, written by this script), got an unreadable file ({why})")
        log(f"float: loaded {args.float_model}")
    else:
        log(f"float: {cfg['float_epochs']} epochs")
        model.train(fnet, xtr, ytr, epochs=cfg["float_epochs"], lr=cfg["float_lr"], seed=args.seed, log=log)
        path = os.path.join(out, "fmnist-float.pt")
        torch.save(fnet.state_dict(), path)
        if os.path.getsize(path) >= MAX_FILE_BYTES:
            os.remove(path)
            log("float: state dict is 2 MB or more, not kept")
    fnet.eval()
    float_acc = model.evaluate(fnet, xte, yte)
    log(f"float: test accuracy {float_acc:.4f} ({time.time() - t_start:.0f} s)")

    summary = {}
    for scheme in args.schemes.split(","):
        t0 = time.time()
        name = f"fmnist-{scheme}"
        log(f"{scheme}: quantization-aware fine-tuning")
        seed = args.seed + SCHEME_SEEDS[scheme]  # the same whichever schemes run
        seed_all(seed)
        q = qat(fnet, scheme, xtr, ytr, cfg, seed, swis_schedule)
        n_check = min(1000, len(xte))
        with torch.no_grad():
            fq_pred = q(torch.as_tensor(xte[:n_check]).float()).argmax(1).numpy()
        im = export.export(q, name)
        path = os.path.join(out, name + ".cimvp")
        raw = modelfile.write(path, im)
        if len(raw) >= MAX_FILE_BYTES:
            raise SystemExit(f"{path}: {len(raw)} bytes, expected < 2 MB")
        back = modelfile.read(path)  # evaluate what was written
        acc, logits, pred, dl, dp = evaluate_integer(back, xte, yte)
        expected = {
            "model": os.path.basename(path),
            "name": name,
            "scheme": scheme,
            "config": CONFIGS[scheme],
            "file_bytes": len(raw),
            "file_fnv1a64": f"{int.from_bytes(raw[-16:-8], 'little'):016x}",
            "images": int(len(xte)),
            "accuracy": acc,
            "correct": int((pred.numpy() == yte).sum()),
            "float_accuracy": float_acc,
            "logits_fnv1a64": dl,
            "labels_fnv1a64": dp,
            "first_labels": pred[:32].tolist(),
            "first_logits": logits[:32].tolist(),
            # how it was trained: the scheme's seed, the threads, every training setting
            "training": {"seed": seed, "threads": args.threads, "float_model": bool(args.float_model),
                         "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(cfg.items())}},
        }
        with open(os.path.join(out, name + ".expected.json"), "w") as f:
            json.dump(expected, f, indent=1)
            f.write("\n")
        act_n = cfg["int8_swis_shifts"] if scheme == "int8" and cfg["int8_swis_variant"] == "act" else 0
        act = ""
        if act_n:  # the training forward reads truncated inputs: compare it with the engine reading them so
            act_pred = engine.predict(engine.run(back, xte, masks=swis_quant.act_masks(back, act_n))).numpy()
            agree = float((fq_pred == act_pred[:n_check]).mean())
            act = f", Act accuracy at N = {act_n} {float((act_pred == yte).mean()):.4f} (cimvp swis's Act)"
        else:
            agree = float((fq_pred == pred.numpy()[:n_check]).mean())
        summary[scheme] = dict(accuracy=acc, bytes=len(raw), seconds=time.time() - t0, logits=dl, labels=dp)
        log(f"{scheme}: integer accuracy {acc:.4f}{act}, {len(raw)} bytes, logits {dl}, labels {dp} "
            f"(training-time forward agrees with the integer engine{' reading them so' if act_n else ''} on "
            f"{agree:.1%} of the first {n_check}; {time.time() - t0:.0f} s)")

    log(f"\nfloat {float_acc:.4f}")
    for s, r in summary.items():
        log(f"{s:<11} {r['accuracy']:.4f}  ({r['accuracy'] - float_acc:+.4f})  {r['bytes']} bytes")
    log(f"total {time.time() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
