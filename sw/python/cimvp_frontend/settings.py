"""The training settings of sw/python/train_all.py (`--set KEY=VALUE`) and their checks, without
PyTorch, so that `cimvp sweep` can check a sweep's training settings before anything runs."""

FULL = dict(train_images=60000, test_images=10000, calib_images=1000, float_epochs=10, float_lr=0.05,
            int8_epochs=1, int8_lr=0.002, bwma_epochs=3, bwma_lr=0.01, bwma_a_bits=4, bwma_weights="closed_form",
            col_epochs=8, col_lr=0.005, col_kd_weight=0.5, clip_search=0, col_adc_fit="sigmas", col_fc_rows=64,
            col_adc_bits=4, col_w_gran="column", col_ps_gran="column", col_ps_scales="calibrated",
            col_var_sigma=0.0, col_mapping="offset", int8_swis_shifts=0, int8_swis_variant="swis", int8_swis_schedule="",
            int8_swis_group_size=4)
SMOKE = dict(FULL, train_images=2000, test_images=500, calib_images=256, float_epochs=1, bwma_epochs=1, col_epochs=1)
SCHEMES = ("int8", "bwma", "columnwise")

# How BWMA's binary weights are formed from the real ones (quant.binarize): "closed_form" BWMA's
# alpha * sign(W - beta) + beta; "sign" the plain sign(W), no scale (BinaryConnect); "xnor" sign(W) times
# the output channel's mean |W| (XNOR-Net).
BINARY_FORMS = ("closed_form", "sign", "xnor")
# The column-wise scheme's granularities (quant.ColLayer, docs/studies.md "ColumnQuant"): of the weight
# scales, of the ADC tables (partial-sum quantization), and how the ADC steps are set.
W_GRANULARITIES = ("column", "channel", "layer")
PS_GRANULARITIES = ("column", "layer")
PS_SCALES = ("calibrated", "lsq")
# SWIS-aware fine-tuning of the int8 scheme (quant.StdLayer.set_swis, docs/swis.md "SWIS-aware fine-tuning"):
# int8_swis_shifts N > 0 trains and exports weights decomposed at N shifts per group of 4 ("swis": any N
# positions, "swisc": N consecutive ones), or truncated to N bits ("wgt", the weight-truncation baseline), or
# keeps them whole and truncates every PE-array layer's input codes to their top N bits ("act", the
# activation-truncation baseline). The two baselines have no groups and no per-filter N (INT8_SWIS_TRUNCATIONS).
INT8_SWIS_VARIANTS = ("swis", "swisc", "wgt", "act")
INT8_SWIS_TRUNCATIONS = ("wgt", "act")
# Its shift counts (0: off): the PE's 8 shift positions. int8_swis_schedule instead gives each filter its own N
# (mixed counts around a mean, double-shift's even ones): a model file of `cimvp convert --schedule` or
# `--double-shift` whose stored per-filter N the fine-tuning decomposes at (swis_quant.read_schedule).
SWIS_SHIFTS_RANGE = (0, 8)
# int8_swis_group_size M: the weights sharing a group's shifts, the PE array's 4 or any of the group-size study's
# 1..16 (swis_quant.GROUP_SIZE_RANGE; `cimvp swis --group-size M` measures such a model); a schedule and weight
# truncation keep 4.
SWIS_GROUP_SIZE_RANGE = (1, 16)
# How the column-wise training forward stores a signed weight in its cells (quant.ColLayer mapping, the chip's
# crossbar.mapping, docs/numerics.md): "offset" one offset-encoded column group per output, "differential" a
# positive and a negative group. Either way the model file holds offset-encoding ADC tables (the format's).
MAPPINGS = ("offset", "differential")
# Variation-aware training's log-normal sigma of the cell conductances (quant.ColLayer var_sigma).
VAR_SIGMA_RANGE = (0, 1)


def at_least(lo):
    return lambda v: None if v >= lo else f"a number >= {lo}"


def between(lo, hi):
    return lambda v: None if lo <= v <= hi else f"an integer in [{lo}, {hi}]"


def number_between(lo, hi):
    return lambda v: None if lo <= v <= hi else f"a number in [{lo}, {hi}]"


def one_of(choices):
    return lambda v: None if v in choices else "one of " + ", ".join(choices)


# What a setting accepts beyond its type (the type is its default's): None when valid, else what is expected.
CHECKS = {
    "train_images": between(1, 60000), "test_images": between(1, 10000), "calib_images": at_least(1),
    "float_epochs": at_least(0), "int8_epochs": at_least(0), "bwma_epochs": at_least(0), "col_epochs": at_least(0),
    "float_lr": at_least(0), "int8_lr": at_least(0), "bwma_lr": at_least(0), "col_lr": at_least(0),
    "col_kd_weight": at_least(0), "clip_search": between(0, 1), "col_fc_rows": at_least(1),
    # the BWMA soft quantizer's activation bits: the binary layers' inputs (first and last layers stay 8-bit)
    "bwma_a_bits": between(1, 8),
    "bwma_weights": one_of(BINARY_FORMS),
    "col_adc_fit": one_of(("sigmas", "mse")),
    # the column-wise scheme's ADC bits (the model's tables are fitted for them; configs set adc.bits to match)
    "col_adc_bits": between(2, 8),
    "col_w_gran": one_of(W_GRANULARITIES), "col_ps_gran": one_of(PS_GRANULARITIES),
    "col_ps_scales": one_of(PS_SCALES),
    # variation-aware training: the log-normal sigma of the cell conductances drawn in every training forward
    "col_var_sigma": number_between(*VAR_SIGMA_RANGE),
    "col_mapping": one_of(MAPPINGS),
    "int8_swis_shifts": between(*SWIS_SHIFTS_RANGE), "int8_swis_variant": one_of(INT8_SWIS_VARIANTS),
    "int8_swis_group_size": between(*SWIS_GROUP_SIZE_RANGE),
    "int8_swis_schedule": lambda v: None if v == "" or v.endswith((".cimvp", ".json")) else
    "a model file (.cimvp) written by cimvp convert --schedule or --double-shift, a JSON schedule (.json) of cimvp "
    "swis --schedule-out, or '' (off)",
}
TYPE_NAMES = {int: "an integer", float: "a number", str: "a string"}
NAMES = tuple(sorted(FULL)) + ("clip_sigmas",)


def parse(key, text):
    """(value, None) of a known setting from its text (as --set writes it), or (None, what it expects)."""
    if key == "clip_sigmas":
        try:
            vals = [float(t) for t in text.split(",")]
        except ValueError:
            vals = []
        if len(vals) not in (1, 4) or any(not x > 0 for x in vals):
            return None, "a number > 0 or 4 of them separated by commas (one per layer)"
        return (vals[0] if len(vals) == 1 else tuple(vals)), None
    kind = type(FULL[key])
    try:
        value = kind(text)
    except ValueError:
        return None, TYPE_NAMES[kind]
    what = CHECKS[key](value) if key in CHECKS else None
    return (None, what) if what else (value, None)


def apply(cfg, key, text):
    """Sets cfg[key] from its text; returns None, or the message `key: expected ..., got ...`."""
    if key not in NAMES:
        return f"unknown setting {key} (expected one of {', '.join(NAMES)})"
    value, what = parse(key, text)
    if what:
        return f"{key}: expected {what}, got {text!r}"
    cfg[key] = value
    return None
