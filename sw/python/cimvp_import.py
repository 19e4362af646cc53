#!/usr/bin/python3
"""cimvp import: an ONNX network to a cimvp model file (docs/import.md).

    cimvp import MODEL.onnx --out F.cimvp [--scheme int8] [--calib DATA] [--trace-out F.trace]
                 [--input-scale S] [--input-offset O]

A float graph is quantized post-training (int8 weights per output channel, 8-bit activations
calibrated on DATA: Fashion-MNIST's training images by default when the input is 1x28x28), and with
--epochs N fine-tuned through the integer rounding on labelled images; a graph
already quantized (QuantizeLinear/DequantizeLinear, QLinearConv, QLinearMatMul) is taken with its
integers. The model is written as format v3 (v1 when it is a plain chain), then run by the integer
engine: with labels it reports the float and the integer accuracy. Exit 0 on success, 2 on bad or
unsupported input (the message names the file, the node and the field)."""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
SCHEMES = ("int8", "bwma", "columnwise")


class BadInput(Exception):
    pass


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="cimvp import", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Import an ONNX network as a cimvp model file (docs/import.md).",
        epilog="Operators: Conv (stride, symmetric padding, groups incl. depthwise), Gemm, MatMul, "
               "BatchNormalization (folded), Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, Add, "
               "Concat, Flatten, Reshape (to a vector), Identity, Dropout; quantized graphs also "
               "QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul.\n"
               "Exit status: 0 written, 2 bad or unsupported input, 1 an internal error.")
    ap.add_argument("model", metavar="MODEL.onnx", help="the ONNX file")
    ap.add_argument("--out", required=True, metavar="F.cimvp", help="the model file to write")
    ap.add_argument("--scheme", default="int8",
                    help="quantization scheme (docs/import.md, \"Quantization\"): int8 (default: 8-bit weights per "
                         "channel, 8-bit activations), bwma (binary weights on every conv and fc that neither reads "
                         "the image nor makes the logits nor is grouped, 4-bit activations; give --epochs) or "
                         "columnwise (4-bit weights with a step per row tile and output, every read through the 4-bit "
                         "ADC with calibrated tables, 4-bit activations: runs with configs/columnwise.json; no "
                         "grouped convs)")
    ap.add_argument("--swis-shifts", type=int, default=0, metavar="N",
                    help="int8: the weights of every conv (groups 1) and fc decomposed at N shifts per group of 4 (or "
                         "--swis-group-size) as `cimvp swis` decomposes them (1..8; default 0: plain int8); with --epochs the "
                         "fine-tuning trains through the decomposition (SWIS-aware fine-tuning, docs/import.md)")
    ap.add_argument("--swis-schedule", metavar="FILE",
                    help="int8, instead of --swis-shifts: each filter at its own N, read from FILE, a model of the "
                         "same graph written by `cimvp convert --pe-layers all --schedule` (or --double-shift: the "
                         "double-shift PE's even counts), or in groups of --swis-group-size M a JSON schedule of "
                         "`cimvp swis --group-size M --schedule-out`; --swis-variant swis or swisc, as the file's")
    ap.add_argument("--swis-variant", default="swis", metavar="V",
                    help="with --swis-shifts: swis (any N shift positions, default), swisc (N consecutive ones), "
                         "wgt (the weight-truncation baseline: N bits) or act (the activation-truncation baseline: "
                         "the weights whole, every PE-array layer's input codes at their top N bits, as `cimvp "
                         "swis` runs Act; the model file is plain int8)")
    ap.add_argument("--swis-group-size", type=int, default=4, metavar="M",
                    help="with --swis-shifts (or --swis-schedule) and --swis-variant swis or swisc: the weights "
                         "sharing a group's shifts, "
                         "4 (default, the PE array's) or 1..16 for the group-size study (`cimvp swis --group-size M` "
                         "measures the model)")
    ap.add_argument("--act-bits", type=int, default=0, metavar="A",
                    help="the hidden activations' bits (default: 8 for int8, 4 for bwma)")
    ap.add_argument("--calib", metavar="DATA", help="calibration images: an IDX images file (.gz or not) or a "
                                                    ".npy array [N][C][H][W] (or [N][H][W]) of uint8 pixels; "
                                                    "default: Fashion-MNIST's training images when the input "
                                                    "is 1x28x28")
    ap.add_argument("--labels", metavar="LABELS", help="labels of --calib (IDX or .npy): the accuracy is then "
                                                       "reported on the calibration images, unless --eval")
    ap.add_argument("--calib-count", type=int, default=1000, metavar="N", help="calibration images used "
                                                                             "(default 1000)")
    ap.add_argument("--eval", metavar="DATA", help="images for the accuracy report (IDX or .npy), with "
                                                   "--eval-labels; default: Fashion-MNIST's test set when the "
                                                   "input is 1x28x28")
    ap.add_argument("--eval-labels", metavar="LABELS", help="labels of --eval")
    ap.add_argument("--eval-count", type=int, default=0, metavar="N", help="evaluate the first N images only "
                                                                          "(default 0: all)")
    ap.add_argument("--no-eval", action="store_true", help="skip the float and integer evaluation")
    ap.add_argument("--epochs", type=int, default=0, metavar="N",
                    help="quantization-aware fine-tuning epochs after the post-training quantization (float "
                         "graphs, with labels: Fashion-MNIST's training set by default, else --calib with "
                         "--labels); default 0")
    ap.add_argument("--col-mapping", default="offset", metavar="M",
                    help="columnwise, with --epochs: how the fine-tuning's forward stores each weight in the cells, "
                         "offset (default: offset-encoded slices) or differential (a positive and a negative column "
                         "group, for a chip of crossbar.mapping differential); the model file's ADC tables are "
                         "fitted for offset slices after the training either way")
    ap.add_argument("--col-var-sigma", type=float, default=0.0, metavar="S",
                    help="columnwise, with --epochs: variation-aware fine-tuning, each cell's conductance drawn "
                         "log-normal with sigma S in every training forward, as the chip's nonideal.conductance_sigma "
                         "(0..1; default 0: ideal cells)")
    ap.add_argument("--no-distill", action="store_true",
                    help="fine-tune on the labels alone (default: half the loss is the divergence from the float "
                         "graph's predictions)")
    ap.add_argument("--train-count", type=int, default=0, metavar="N",
                    help="fine-tune on the first N labelled images only (default 0: all)")
    ap.add_argument("--lr", type=float, default=1e-3, help="fine-tuning learning rate (cosine schedule; "
                                                          "default 0.001)")
    ap.add_argument("--trace-out", metavar="F.trace", help="also write the layer shapes as a workload trace "
                                                           "(docs/trace-format.md) for cimvp run --trace")
    ap.add_argument("--input-scale", type=float, default=1.0 / 255.0, metavar="S",
                    help="the model's float input = pixel * S + O (default S = 1/255)")
    ap.add_argument("--input-offset", type=float, default=0.0, metavar="O", help="see --input-scale (default 0)")
    ap.add_argument("--name", help="the model's name in the file (default: --out's file name)")
    ap.add_argument("--data-dir", help="Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist "
                                       "or $CIMVP_FMNIST_DIR)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--seed", type=int, default=0, help="the fine-tuning's shuffling seed (default 0)")
    return ap.parse_args(argv)


def check_writable(path, option):
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise BadInput(f"{option} {path}: expected a file in an existing directory, got no directory {d}")
    if os.path.isdir(path) or not os.access(d, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise BadInput(f"{option} {path}: expected a writable file")


def load_images(path, option, shape, scale, offset):
    """uint8 pixels [N][C][H][W] from an IDX or .npy file, checked against the model's input shape."""
    import numpy as np
    from cimvp_frontend import data
    try:
        if path.endswith(".npy"):
            a = np.load(path, allow_pickle=False)
        else:
            a = data.read_idx(path)
    except (OSError, ValueError, data.DataError) as e:
        raise BadInput(f"{option} {path}: expected an IDX file or a .npy array, got an unreadable file: {e}")
    c, h, w = shape
    if a.ndim == 3 and c == 1:
        a = a[:, None]
    if a.ndim != 4 or tuple(a.shape[1:]) != (c, h, w) or a.shape[0] == 0:
        raise BadInput(f"{option} {path}: expected images of the model's input shape [N, {c}, {h}, {w}]"
                       f"{' (or [N, H, W])' if c == 1 else ''}, got {list(a.shape)}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise BadInput(f"{option} {path}: expected finite values, got NaN or infinity")
        px = np.rint((a.astype(np.float64) - offset) / scale)
        print(f"note: {path}: float inputs mapped back to pixels (x - {offset:g}) / {scale:g}, clipped to 0..255")
        return np.clip(px, 0, 255).astype(np.uint8)
    if a.dtype.kind not in "iub" or a.min() < 0 or a.max() > 255:
        raise BadInput(f"{option} {path}: expected uint8 pixels 0..255, got {a.dtype} values "
                       f"{a.min() if a.size else ''}..{a.max() if a.size else ''}")
    return a.astype(np.uint8)


def load_labels(path, option, n):
    import numpy as np
    from cimvp_frontend import data
    try:
        a = np.load(path, allow_pickle=False) if path.endswith(".npy") else data.read_idx(path)
    except (OSError, ValueError, data.DataError) as e:
        raise BadInput(f"{option} {path}: expected an IDX file or a .npy array, got an unreadable file: {e}")
    if a.ndim != 1 or a.shape[0] < n or a.dtype.kind not in "iu":
        raise BadInput(f"{option} {path}: expected at least {n} integer labels [N], got {a.dtype} {list(a.shape)}")
    return a[:n].astype(np.int64)


def fmnist(split, data_dir):
    from cimvp_frontend import data
    try:
        return data.load(split, data_dir)
    except FileNotFoundError as e:
        raise BadInput(str(e))
    except data.DataError as e:
        raise BadInput(str(e))


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    if args.scheme not in SCHEMES:
        raise BadInput(f"--scheme: expected one of {', '.join(SCHEMES)}, got '{args.scheme}'")
    if args.act_bits and not 1 <= args.act_bits <= 8:
        raise BadInput(f"--act-bits: expected 1..8, got {args.act_bits}")
    if args.epochs < 0:
        raise BadInput(f"--epochs: expected 0 or more, got {args.epochs}")
    if args.epochs > 0 and args.calib and not args.labels:
        raise BadInput(f"--epochs {args.epochs}: expected labels for the fine-tuning: give --labels with --calib")
    from cimvp_frontend.settings import MAPPINGS, VAR_SIGMA_RANGE
    if args.col_mapping not in MAPPINGS:
        raise BadInput(f"--col-mapping: expected one of {', '.join(MAPPINGS)}, got '{args.col_mapping}'")
    if not VAR_SIGMA_RANGE[0] <= args.col_var_sigma <= VAR_SIGMA_RANGE[1]:
        raise BadInput(f"--col-var-sigma: expected a number in [{VAR_SIGMA_RANGE[0]:g}, {VAR_SIGMA_RANGE[1]:g}], "
                       f"got {args.col_var_sigma:g}")
    if (args.col_mapping != "offset" or args.col_var_sigma) and (args.scheme != "columnwise" or args.epochs < 1):
        raise BadInput(f"--col-mapping {args.col_mapping}, --col-var-sigma {args.col_var_sigma:g}: expected "
                       f"--scheme columnwise and --epochs 1 or more (they shape the fine-tuning's forward), got "
                       f"--scheme {args.scheme} and --epochs {args.epochs}")
    if args.train_count < 0 or not args.lr > 0:
        raise BadInput("--train-count: expected 0 (all) or more; --lr: expected a rate > 0")
    if args.calib_count < 1 or args.eval_count < 0:
        raise BadInput("--calib-count: expected 1 or more; --eval-count: expected 0 (all) or more")
    if (args.eval is None) != (args.eval_labels is None):
        raise BadInput("--eval and --eval-labels: expected both or neither")
    check_writable(args.out, "--out")
    if args.trace_out:
        check_writable(args.trace_out, "--trace-out")
    try:
        import onnx  # noqa: F401 (present or not: the rest needs it)
    except ImportError:
        raise BadInput("cimvp import needs the Python package onnx: apt-get install python3-onnx "
                       "(or bash scripts/setup.sh)")
    import torch
    torch.set_num_threads(max(1, args.threads))
    from cimvp_frontend import engine, modelfile, onnx_import, swis_quant, trace_out

    name = args.name or os.path.splitext(os.path.basename(args.out))[0]
    name = "".join(ch if ch.isascii() and ch.isprintable() else "_" for ch in name)[:31] or "imported"
    schedule = None
    if args.swis_schedule:
        try:
            schedule = swis_quant.read_schedule(args.swis_schedule, args.swis_variant, args.swis_group_size)
        except ValueError as e:
            raise BadInput(f"--swis-schedule: {e}")
    imp = onnx_import.Importer(args.model, input_scale=args.input_scale, input_offset=args.input_offset, name=name,
                               scheme=args.scheme, act_bits=args.act_bits or None, swis_shifts=args.swis_shifts,
                               swis_variant=args.swis_variant, swis_schedule=schedule,
                               swis_group_size=args.swis_group_size)
    shape = imp.input_shape
    is_fmnist = tuple(shape) == (1, 28, 28)
    names = imp.node_names()
    if args.trace_out:
        try:
            trace_out.check(imp.trace_nodes(), names)
        except trace_out.TraceError as e:
            raise BadInput(f"{args.model}: {e}")
    if args.epochs > 0 and imp.quantized_graph:
        raise BadInput(f"{args.model}: --epochs {args.epochs}: expected a float graph: a quantized graph's "
                       f"integers are taken as they are")
    if args.epochs > 0 and not args.calib and not is_fmnist:
        raise BadInput(f"--epochs {args.epochs}: expected labelled images for the fine-tuning: the input is "
                       f"{shape[0]}x{shape[1]}x{shape[2]}, not Fashion-MNIST's 1x28x28; give --calib with --labels")
    kind = "quantized (QDQ) graph" if imp.quantized_graph else "float graph"
    print(f"{args.model}: {kind}, input {shape[0]}x{shape[1]}x{shape[2]}, {len(names)} model nodes after fusion; "
          f"scheme {args.scheme}, {imp.q.act_bits}-bit activations"
          + (f", {len(imp.q.binary)} binary-weight layers" if args.scheme == "bwma" else "")
          + (f", the PE layers' input codes at their top {args.swis_shifts} bits (act)"
             if args.swis_shifts and args.swis_variant == "act" else
             f", weights at {args.swis_shifts} shifts ({args.swis_variant}"
             + (f", groups of {args.swis_group_size}" if args.swis_group_size != 4 else "") + ")"
             if args.swis_shifts else "")
          + (f", weights at the per-filter N of {args.swis_schedule} ({args.swis_variant})" if schedule else ""))
    config = "configs/columnwise.json" if args.scheme == "columnwise" else "configs/default.json"

    calib = None
    if imp.needs_calibration():
        if args.calib:
            calib = load_images(args.calib, "--calib", shape, args.input_scale, args.input_offset)[:args.calib_count]
            where = args.calib
        elif is_fmnist:
            calib = fmnist("train", args.data_dir)[0][:args.calib_count]
            where = "Fashion-MNIST training images"
        else:
            raise BadInput(f"--calib: expected calibration images: the input is {shape[0]}x{shape[1]}x{shape[2]}, "
                           f"not Fashion-MNIST's 1x28x28, and the graph has tensors without QuantizeLinear")
        print(f"calibration: {len(calib)} {where}")
    model = imp.quantize(calib)
    images = labels = None
    expected = False
    if args.no_eval:
        pass
    elif args.eval:
        images = load_images(args.eval, "--eval", shape, args.input_scale, args.input_offset)
        labels = load_labels(args.eval_labels, "--eval-labels", len(images))
        where = args.eval
    elif is_fmnist and not args.calib:
        images, labels = fmnist("test", args.data_dir)
        where, expected = "Fashion-MNIST test images", True
    elif args.calib and args.labels:
        images = load_images(args.calib, "--calib", shape, args.input_scale, args.input_offset)
        labels = load_labels(args.labels, "--labels", len(images))
        where = f"{args.calib} (the calibration set)"
    elif calib is not None:
        images, where = calib, "calibration images (no labels)"
    if images is not None and args.eval_count:
        images = images[:args.eval_count]
        labels = labels[:args.eval_count] if labels is not None else None
    if images is not None:
        with torch.no_grad():
            fl = imp.float_logits(images)  # the network as imported (before any fine-tuning)
    if args.epochs > 0:
        if args.calib:
            tx = load_images(args.calib, "--calib", shape, args.input_scale, args.input_offset)
            ty = load_labels(args.labels, "--labels", len(tx))
        else:
            tx, ty = fmnist("train", args.data_dir)
        if args.train_count:
            tx, ty = tx[:args.train_count], ty[:args.train_count]
        print(f"quantization-aware fine-tuning: {args.epochs} epochs on {len(tx)} labelled images"
              + (f", cells mapped {args.col_mapping}" if args.col_mapping != "offset" else "")
              + (f", cell variation sigma {args.col_var_sigma:g} drawn in every forward" if args.col_var_sigma
                 else ""))
        model = imp.fine_tune(tx, ty, args.epochs, lr=args.lr, distill=not args.no_distill, seed=args.seed,
                              col_mapping=args.col_mapping, col_var_sigma=args.col_var_sigma)
    raw = modelfile.write(args.out, model)
    back = modelfile.read(args.out)
    version = int.from_bytes(raw[8:12], "little")
    n_weights = sum(int(L.weights.size) for L in back.layers if isinstance(L, modelfile.IntLayer))
    print(f"wrote {args.out}: format v{version}, {len(back.layers)} nodes, {n_weights} weights, {len(raw)} bytes")
    if args.scheme == "columnwise":
        print(f"  its ADC tables are for 2-bit cells, a 4-bit DAC and a 4-bit ADC: cimvp run --model {args.out} "
              f"--config configs/columnwise.json")
    if args.trace_out:
        trace_out.write_trace(back, names, name, os.path.basename(args.model), args.trace_out)
        print(f"wrote {args.trace_out}")

    if args.no_eval:
        print(f"done in {time.time() - t0:.1f} s")
        return EXIT_OK
    if images is None:
        print("no evaluation: no images with the network's input shape (give --eval and --eval-labels)")
        return EXIT_OK
    logits = engine.run(back, images)
    pred = engine.predict(logits).numpy()
    fpred = fl.argmax(1).numpy()
    agree = float((pred == fpred).mean())
    dl, dp = engine.digests(logits)
    line = f"evaluated on {len(images)} {where}: integer predictions agree with the float model's on {agree:.2%}"
    if labels is not None:
        acc, facc = float((pred == labels).mean()), float((fpred == labels).mean())
        line += f"; accuracy float {facc:.2%}, integer {acc:.2%} ({(acc - facc) * 100:+.2f} points)"
        if args.swis_variant == "act" and args.swis_shifts:  # what the training read: cimvp swis's Act figure
            masks = swis_quant.act_masks(back, args.swis_shifts)
            act = float((engine.predict(engine.run(back, images, masks=masks)).numpy() == labels).mean())
            line += f"; Act at N = {args.swis_shifts} (the PE layers' inputs at their top bits) {act:.2%}"
    print(line)
    print(f"integer logits digest {dl} (labels {dp})")
    if expected:
        path = os.path.splitext(args.out)[0] + ".expected.json"
        doc = {"model": os.path.basename(args.out), "name": name, "scheme": args.scheme, "config": config,
               "source": os.path.basename(args.model), "file_bytes": len(raw),
               "file_fnv1a64": f"{int.from_bytes(raw[-16:-8], 'little'):016x}", "images": int(len(images)),
               "accuracy": acc, "correct": int((pred == labels).sum()), "float_accuracy": facc,
               "logits_fnv1a64": dl, "labels_fnv1a64": dp, "first_labels": pred[:32].tolist(),
               "first_logits": logits[:32].tolist(),
               # A run of the first N images (cimvp run --limit N) compares with these.
               "logits_fnv1a64_first": {str(n): engine.digests(logits[:n])[0] for n in (100, 1000)
                                        if n < len(images)}}
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(f"wrote {path} (cimvp run --model {args.out} compares its logits digest over {len(images)} images)")
    print(f"done in {time.time() - t0:.1f} s")
    return EXIT_OK


def run(argv=None):
    try:
        return main(argv)
    except BadInput as e:
        print(f"cimvp import: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 (refusals by type below; anything else is an internal error)
        from cimvp_frontend import modelfile, onnx_import
        if isinstance(e, (onnx_import.Refused, modelfile.ModelFileError)):
            print(f"cimvp import: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        import traceback
        traceback.print_exc()
        print(f"cimvp import: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(run())
