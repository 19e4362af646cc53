"""The sweep file (docs/scale.md, "The sweep file"): a JSON or YAML mapping, read strictly and checked
key by key before anything runs. Every refusal is a SpecError whose message is one line,
`<file>: <key path>: expected <what>, got <value>`, and makes `cimvp sweep` exit 2."""
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from cimvp_frontend import settings as train_settings  # noqa: E402  (torch-free: the training settings)

MAX_SPEC_BYTES = 4 << 20
MAX_POINTS = 100000

SCHEMES = ("int8", "bwma", "columnwise")
MAPS = ("trace", "crossbar", "pe")


class SpecError(Exception):
    pass


def show(value):
    """A value as the sweep file would write it (JSON), for messages."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v):
    return (is_int(v) or isinstance(v, float)) and math.isfinite(v)


def int_in(lo, hi=None):
    what = f"an integer in [{lo}, {hi}]" if hi is not None else f"an integer >= {lo}"
    return lambda v: None if is_int(v) and v >= lo and (hi is None or v <= hi) else what


def one_of(choices):
    return lambda v: None if v in choices else "one of " + ", ".join(choices)


def text(v):
    return None if isinstance(v, str) and v else "a non-empty string"


def boolean(v):
    return None if isinstance(v, bool) else "true or false"


class RunKey:
    """A setting of the point's `cimvp run` other than its config: the option it becomes, the kind of run
    it belongs to (None: both, "model": a network on the data set, "trace": a workload trace), its check,
    and whether it names a file (resolved against the sweep file's directory)."""

    def __init__(self, option, kind, check, path=False):
        self.option, self.kind, self.check, self.path = option, kind, check, path


# The run settings a sweep may fix or sweep (cimvp run --help has the options). A key with a dot
# (`adc.bits`, `platform.dram.latency_ns`) is a config key instead (docs/config.md); cimvp checks those.
RUN_KEYS = {
    "model": RunKey("--model", "model", text, path=True),
    "scheme": RunKey(None, "model", one_of(SCHEMES)),
    "trace": RunKey("--trace", "trace", text, path=True),
    "map": RunKey("--map", "trace", one_of(MAPS)),
    "seed": RunKey("--seed", None, int_in(0)),
    "images": RunKey(None, None, int_in(0)),
    "batch": RunKey("--batch", "model", int_in(1)),
    "swis_shifts": RunKey("--swis-shifts", "model", int_in(1, 8)),
    "pe_layers": RunKey("--pe-layers", "model", text),
    "layers": RunKey("--layers", "trace", int_in(0)),
    "check": RunKey(None, None, boolean),
}

# Training settings (docs/scale.md, "Training points"): `train.<key>` trains the point's model first with
# sw/python/train_all.py. These become its options; every other `train.<setting>` becomes --set setting=value
# and is checked by the front end's own rules (cimvp_frontend/settings.py).
TRAIN_PREFIX = "train."
TRAIN_KEYS = {
    "scheme": one_of(train_settings.SCHEMES),
    "seed": int_in(0),
    "threads": int_in(1),
    "smoke": boolean,
    "float_model": text,
}
TRAIN_DEFAULTS = {"seed": 1, "threads": 1}


def train_name(key):
    """The training setting of a sweep key train.<name>, or None for any other key."""
    return key[len(TRAIN_PREFIX):] if key.startswith(TRAIN_PREFIX) else None


def check_train_value(name, value):
    """None when a training setting's value is valid, else what it expects."""
    if name in TRAIN_KEYS:
        return TRAIN_KEYS[name](value)
    if isinstance(value, (dict, list)) or value is None:
        return "a number or a string (a training setting of train_all.py --set)"
    return train_settings.parse(name, train_text(value))[1]


def train_text(value):
    """A training setting's value as train_all.py --set takes it."""
    return str(value).lower() if isinstance(value, bool) else str(value)


# Top-level keys of the results file of `cimvp run` and `cimvp run --trace` (docs/results.md): the first
# part of a figure's path. OBJECT_KEYS hold objects or arrays, so a figure names a key or index inside.
RESULT_KEYS = (
    "accuracy", "activations_on_chip", "agreement", "batch", "cpu_seconds", "cycles", "dataset",
    "fake_quant_match", "host_cpu_seconds", "host_wall_seconds", "images", "images_per_second",
    "latency_per_image_ns", "logits_fnv1a64", "macs", "macs_per_image", "mapping", "model", "model_name",
    "network", "pe_form", "platform_over_reference", "prepare_cpu_seconds", "prepare_wall_seconds",
    "reference_cpu_seconds", "reference_images_per_second", "reference_wall_seconds", "rtl", "scheme",
    "sim_time_ns", "swis_shifts", "tiles_used", "trace", "wall_seconds",
)
OBJECT_KEYS = ("config", "energy_per_image_pj", "energy_pj", "layers", "programming",
               "recalibrated_layers", "swis_decomposed_layers")
# Figures computed from the results file: name -> (path, divisor).
DERIVED_FIGURES = {
    "energy_per_image_nj": ("energy_per_image_pj.total", 1000),
    "latency_per_image_us": ("latency_per_image_ns", 1000),
}
DEFAULT_FIGURES = ("accuracy", "agreement", "energy_per_image_nj", "latency_per_image_us", "cycles")

# The table's own columns besides the axes and the figures (sw/python/cimvp_scale/table.py).
TABLE_COLUMNS = ("point", "index", "status", "exit_code", "error", "command", "run_seconds", "host", "executor",
                 "job_id")
# ... and, in a sweep with training points, how each point's model was trained (its models/<id>/).
TRAIN_COLUMNS = ("train_id", "train_seed", "train_threads", "train_seconds", "train_accuracy")

SLURM_TIME = re.compile(r"^(\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2})$")
SLURM_MEM = re.compile(r"^\d+[KMGT]?$")


def slurm_time(v):
    return None if isinstance(v, str) and SLURM_TIME.match(v) else \
        "a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (a string)"


def slurm_mem(v):
    return None if isinstance(v, str) and SLURM_MEM.match(v) else "a Slurm memory size like 2G or 500M (a string)"


def slurm_word(v):
    return None if isinstance(v, str) and re.match(r"^[^\s]+$", v) else "a name without white space (a string)"


def sbatch_options(v):
    return None if isinstance(v, list) and all(isinstance(x, str) and re.match(r"^-[^\n\r]*$", x) for x in v) \
        else "a list of sbatch options, each one line starting with - (like --qos=short)"


# The `slurm` block: defaults of the sbatch options, overridden by cimvp sweep's flags.
SLURM_KEYS = {
    "partition": slurm_word,
    "time": slurm_time,
    "mem": slurm_mem,
    "account": slurm_word,
    "cpus_per_task": int_in(1),
    "points_per_task": int_in(1),
    "max_running": int_in(0),
    "sbatch_args": sbatch_options,
}

TOP_KEYS = ("name", "description", "config", "fixed", "axes", "figures", "slurm", "point_timeout")


class Sweep:
    """A checked sweep file. `axes`: [(name, [values])] in the file's order, where the values of a group
    (a name in `groups`) are mappings of several settings set together; `fixed`: {key: value};
    `config`: the base config file (resolved), or None for the defaults."""

    def __init__(self, path, data_dirs=()):
        self.path = path
        self.data_dirs = list(data_dirs)
        self.dir = os.path.dirname(os.path.abspath(path))
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.description = ""
        self.config = None
        self.fixed = {}
        self.axes = []
        self.groups = set()
        self.group_of = {}
        self.figures = list(DEFAULT_FIGURES)
        self.slurm = {}
        self.point_timeout = None

    def fail(self, where, what, got=None, show_got=True):
        msg = f"{self.path}: {where}: expected {what}"
        if show_got:
            msg += f", got {show(got)}"
        raise SpecError(msg)

    def resolve(self, value):
        """A file named in the sweep file: relative to the file's directory when it is there, else to the
        working directory, else to cimvp's data directory (models/, configs/, traces/), else as written."""
        if os.path.isabs(value):
            return value
        for base in [self.dir, os.getcwd()] + self.data_dirs:
            candidate = os.path.join(base, value)
            if os.path.exists(candidate):
                return os.path.abspath(candidate)
        return value

    def axis_keys(self):
        """The swept settings (a group's settings each), in order: the table's axis columns."""
        keys = []
        for name, vs in self.axes:
            keys += list(vs[0]) if name in self.groups else [name]
        return keys

    def where(self, key):
        """A setting's place in the sweep file, for messages: fixed.K, axes.K or axes.GROUP.K."""
        if key in self.fixed:
            return f"fixed.{key}"
        return f"axes.{self.group_of[key]}.{key}" if key in self.group_of else f"axes.{key}"

    def settings_keys(self):
        return list(self.fixed) + self.axis_keys()

    def has_training(self):
        return any(train_name(k) is not None for k in self.settings_keys())

    def run_kind(self):
        keys = self.settings_keys()
        return "trace" if "trace" in keys else "model"


def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    None, None, f"expected string keys, got {show(key)}", key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"{key}: duplicate key", key_node.start_mark)
            seen.add(key)
        return loader.construct_mapping(node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return yaml, Loader


def _json_object(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"{k}: duplicate key")
        obj[k] = v
    return obj


def read_document(path):
    """The sweep file's mapping: JSON for .json, YAML for .yaml/.yml (and anything else)."""
    try:
        if os.path.isdir(path):
            raise SpecError(f"{path}: cannot read the sweep file: it is a directory")
        size = os.path.getsize(path)
        if size > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: cannot read the sweep file: {size} bytes, more than the 4 MiB a sweep "
                            "file may have")
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except OSError as e:
        raise SpecError(f"{path}: cannot read the sweep file: {e.strerror}")
    except UnicodeDecodeError as e:
        raise SpecError(f"{path}: expected UTF-8 text, got a byte 0x{e.object[e.start]:02x} at byte {e.start}")
    if path.endswith(".json"):
        try:
            doc = json.loads(source, object_pairs_hook=_json_object,
                             parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c}: not a JSON number")))
        except json.JSONDecodeError as e:
            raise SpecError(f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}")
        except ValueError as e:
            raise SpecError(f"{path}: invalid JSON: {e}")
    else:
        try:
            yaml, loader = _yaml_loader()
        except ImportError:
            raise SpecError(f"{path}: reading YAML needs the Python package yaml: apt-get install python3-yaml "
                            "(bash scripts/setup.sh), or write the sweep file as JSON")
        try:
            doc = yaml.load(source, Loader=loader)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise SpecError(f"{path}: invalid YAML{where}: {e.problem or e.context}")
        except yaml.YAMLError as e:
            raise SpecError(f"{path}: invalid YAML: {e}")
    if not isinstance(doc, dict):
        raise SpecError(f"{path}: expected a mapping of {', '.join(TOP_KEYS)} at the top level, got {show(doc)}")
    return doc


def expand_range(sweep, where, r):
    """{from, to, step}: from, from + step, ... up to and including to."""
    for k in r:
        if k not in ("from", "to", "step"):
            sweep.fail(f"{where}.{k}", "a range's keys from, to, step (unknown key)", show_got=False)
    for k in ("from", "to", "step"):
        if k not in r:
            sweep.fail(where, f"a range with from, to and step, got no {k}", show_got=False)
        if not is_number(r[k]):
            sweep.fail(f"{where}.{k}", "a number", r[k])
    lo, hi, step = r["from"], r["to"], r["step"]
    if step <= 0:
        sweep.fail(f"{where}.step", "a number > 0", step)
    if hi < lo:
        sweep.fail(f"{where}.to", f"a number >= from ({show(lo)})", hi)
    n = int(math.floor((hi - lo) / step + 1e-9)) + 1
    if n > MAX_POINTS:
        sweep.fail(where, f"at most {MAX_POINTS} values", f"{n} values")
    if all(is_int(x) for x in (lo, hi, step)):
        return [lo + i * step for i in range(n)]
    return [float(f"{lo + i * step:.12g}") for i in range(n)]


def check_value(sweep, where, key, value):
    """A fixed or swept value: a run setting's check, or for a config key a JSON scalar (cimvp checks it)."""
    if key in RUN_KEYS:
        what = RUN_KEYS[key].check(value)
        if what:
            sweep.fail(where, what, value)
    elif train_name(key) is not None:
        what = check_train_value(train_name(key), value)
        if what:
            sweep.fail(where, what, value)
    elif not (isinstance(value, (str, bool)) or is_number(value)):
        sweep.fail(where, "a number, a string or true/false (a config value)", value)


def check_key(sweep, where, key):
    if not isinstance(key, str) or not key:
        sweep.fail(where, "a setting's name", key)
    if key == "nonideal.seed":
        sweep.fail(where, "seed instead (cimvp run's --seed sets nonideal.seed)", show_got=False)
    name = train_name(key)
    if name is not None:
        if name not in TRAIN_KEYS and name not in train_settings.NAMES:
            sweep.fail(where, "a training setting: train. with one of " + ", ".join(list(TRAIN_KEYS) +
                                                                                  list(train_settings.NAMES)), key)
        return
    if "." in key:
        if any(not part for part in key.split(".")):
            sweep.fail(where, "a config key like adc.bits", key)
        return
    if key not in RUN_KEYS:
        sweep.fail(where, "a config key (with a dot: adc.bits, crossbar.cell_bits; docs/config.md) or one of " +
                   ", ".join(RUN_KEYS), show_got=False)


def check_kinds(sweep):
    """The settings of one kind of run only: a network on the data set, or a workload trace."""
    keys = sweep.settings_keys()
    where = {k: sweep.where(k) for k in keys}
    if "model" in keys and "scheme" in keys:
        sweep.fail(where["scheme"], "either model or scheme (a scheme picks the model models/fmnist-<scheme>.cimvp)",
                   show_got=False)
    kind = sweep.run_kind()
    training = [k for k in keys if train_name(k) is not None]
    if training:
        if kind == "trace":
            sweep.fail(where[training[0]], "a setting of a network run, not of a workload trace (trace)",
                       show_got=False)
        for k in ("model", "scheme"):
            if k in keys:
                sweep.fail(where[k], "no model or scheme in a sweep that trains its models (train.scheme picks the "
                                     "scheme; the trained model is the point's model)", show_got=False)
        if "train.scheme" not in keys:
            sweep.fail(where[training[0]], "train.scheme too (one of " + ", ".join(train_settings.SCHEMES) +
                       "): the scheme to train", show_got=False)
    for k in keys:
        rk = RUN_KEYS.get(k)
        if rk and rk.kind and rk.kind != kind:
            other = "a workload trace (trace)" if kind == "trace" else "a network run (no trace)"
            sweep.fail(where[k], f"a setting of a {'trace' if rk.kind == 'trace' else 'network'} run, not of {other}",
                       show_got=False)


def check_figure(sweep, i, name):
    where = f"figures[{i}]"
    if not isinstance(name, str) or not name:
        sweep.fail(where, "a figure's name (a key of the results file, docs/results.md)", name)
    if name in DERIVED_FIGURES:
        return
    if name in TABLE_COLUMNS or name in TRAIN_COLUMNS or name in sweep.axis_keys():
        sweep.fail(where, "a name unlike the table's other columns (" + ", ".join(TABLE_COLUMNS + TRAIN_COLUMNS) +
                   " and the axes)", name)
    parts = name.split(".")
    if any(not p for p in parts):
        sweep.fail(where, "a path like energy_per_image_pj.adc", name)
    if parts[0] in OBJECT_KEYS:
        if len(parts) == 1:
            sweep.fail(where, f"a key inside the object {name} (like {name}.total or {name}.0 for a list)", name)
        return
    if parts[0] not in RESULT_KEYS:
        sweep.fail(where, "one of " + ", ".join(sorted(set(RESULT_KEYS) | set(DERIVED_FIGURES))) +
                   ", or a path into " + ", ".join(OBJECT_KEYS) + " (docs/results.md)", name)
    if len(parts) > 1:
        sweep.fail(where, f"{parts[0]} alone ({parts[0]} is a number or a string, with no keys inside)", name)


def distinct(sweep, where, values):
    """No value twice: 1 and 1.0 (or true) would be the same point twice."""
    seen = []
    for i, v in enumerate(values):
        if any(type(v) is type(s) and v == s for s in seen):
            sweep.fail(f"{where}[{i}]", "values that differ from each other", v)
        seen.append(v)


def load_group(sweep, name, values):
    """A group axis: its values are mappings that set several settings together (an ADC's bits with its
    energy per conversion), each mapping the same settings."""
    where = f"axes.{name}"
    if "." in name or name in RUN_KEYS:
        sweep.fail(where, "a group's name that is not a setting itself (its values set settings together)",
                   show_got=False)
    keys = list(values[0])
    if not keys:
        sweep.fail(f"{where}[0]", "a mapping of settings to values", values[0])
    for i, v in enumerate(values):
        if sorted(v) != sorted(keys):
            sweep.fail(f"{where}[{i}]", f"the settings of {where}[0] ({', '.join(keys)})", v)
        for k, x in v.items():
            check_key(sweep, f"{where}[{i}].{k}", k)
            check_value(sweep, f"{where}[{i}].{k}", k, x)
    for k in keys:
        if k in sweep.fixed:
            sweep.fail(f"{where}.{k}", f"a setting that is not also fixed (fixed.{k})", show_got=False)
        if k in sweep.axis_keys():
            sweep.fail(f"{where}.{k}", f"a setting swept once ({sweep.where(k)} sweeps it too)", show_got=False)
    distinct(sweep, where, [{k: v[k] for k in keys} for v in values])
    sweep.groups.add(name)
    sweep.axes.append((name, [{k: v[k] for k in keys} for v in values]))
    for k in keys:
        sweep.group_of[k] = name


def load_sweep(path, data_dirs=()):
    """Reads and checks a sweep file; raises SpecError naming the file and the key. `data_dirs`: where
    cimvp finds its shipped files, for the files the sweep names."""
    doc = read_document(path)
    sweep = Sweep(path, data_dirs)
    for k in doc:
        if k not in TOP_KEYS:
            sweep.fail(k, "one of " + ", ".join(TOP_KEYS) + " (unknown key)", show_got=False)
    if "name" in doc:
        if not isinstance(doc["name"], str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", doc["name"]):
            sweep.fail("name", "a name of letters, digits, '_', '-' and '.'", doc["name"])
        sweep.name = doc["name"]
    if "description" in doc:
        if not isinstance(doc["description"], str):
            sweep.fail("description", "a string", doc["description"])
        sweep.description = doc["description"]
    if "config" in doc:
        if text(doc["config"]):
            sweep.fail("config", "a config file (JSON, docs/config.md)", doc["config"])
        sweep.config = sweep.resolve(doc["config"])
    if "point_timeout" in doc:
        if not is_number(doc["point_timeout"]) or doc["point_timeout"] <= 0:
            sweep.fail("point_timeout", "a number of seconds > 0", doc["point_timeout"])
        sweep.point_timeout = doc["point_timeout"]
    fixed = doc.get("fixed", {})
    if not isinstance(fixed, dict):
        sweep.fail("fixed", "a mapping of settings to values", fixed)
    for k, v in fixed.items():
        check_key(sweep, f"fixed.{k}", k)
        check_value(sweep, f"fixed.{k}", k, v)
        sweep.fixed[k] = v
    if "axes" not in doc:
        sweep.fail("axes", "a mapping of settings to their values (at least one axis), got none", show_got=False)
    axes = doc["axes"]
    if not isinstance(axes, dict) or not axes:
        sweep.fail("axes", "a non-empty mapping of settings to lists of values", axes)
    total = 1
    for k, vs in axes.items():
        where = f"axes.{k}"
        total *= len(vs) if isinstance(vs, list) else 1
        if total > MAX_POINTS:
            raise SpecError(f"{path}: axes: expected at most {MAX_POINTS} points, got {total} or more")
        if isinstance(vs, list) and vs and all(isinstance(v, dict) for v in vs):
            load_group(sweep, k, vs)
            continue
        check_key(sweep, where, k)
        if k in sweep.fixed:
            sweep.fail(where, f"a setting that is not also fixed (fixed.{k})", show_got=False)
        if k in sweep.group_of:
            sweep.fail(where, f"a setting swept once ({sweep.where(k)} sweeps it too)", show_got=False)
        if isinstance(vs, dict):
            vs = expand_range(sweep, where, vs)
            total *= len(vs)
        if not isinstance(vs, list) or not vs:
            sweep.fail(where, "a non-empty list of values, a range {from, to, step}, or a list of mappings "
                              "(a group)", vs)
        for i, v in enumerate(vs):
            check_value(sweep, f"{where}[{i}]", k, v)
        distinct(sweep, where, vs)
        if total > MAX_POINTS:
            raise SpecError(f"{path}: axes: expected at most {MAX_POINTS} points, got {total} or more")
        sweep.axes.append((k, vs))
    check_kinds(sweep)
    if "figures" in doc:
        figures = doc["figures"]
        if not isinstance(figures, list) or not figures:
            sweep.fail("figures", "a non-empty list of figure names (docs/results.md)", figures)
        for i, name in enumerate(figures):
            check_figure(sweep, i, name)
            if name in figures[:i]:
                sweep.fail(f"figures[{i}]", "each figure once", name)
        sweep.figures = list(figures)
    slurm = doc.get("slurm", {})
    if not isinstance(slurm, dict):
        sweep.fail("slurm", "a mapping of " + ", ".join(SLURM_KEYS), slurm)
    for k, v in slurm.items():
        if k not in SLURM_KEYS:
            sweep.fail(f"slurm.{k}", "one of " + ", ".join(SLURM_KEYS) + " (unknown key)", show_got=False)
        what = SLURM_KEYS[k](v)
        if what:
            sweep.fail(f"slurm.{k}", what, v)
    sweep.slurm = dict(slurm)
    return sweep
