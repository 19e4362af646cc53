"""A sweep's points: every combination of its axes' values (the first axis varying slowest), each with the
settings of its `cimvp run`, its config (the base config with the point's config keys set), its command
and its identity: a hash of its settings and config, which names its directory, so that a rerun finds
the points already done and a changed base config or fixed setting makes new points."""
import hashlib
import itertools
import json
import os
import subprocess
import tempfile

from cimvp_scale.runner import MODELS_DIR
from cimvp_scale.spec import RUN_KEYS, TRAIN_DEFAULTS, TRAIN_KEYS, SpecError, show, train_name, train_text

POINT_ID_HEX = 12


class Point:
    def __init__(self, index, values, settings, config, argv, train=None):
        self.index = index
        self.values = values      # {axis: value}, in the axes' order
        self.settings = settings  # {run key or train.<key>: value}: fixed and swept, as written
        self.config = config      # the point's config object
        self.argv = argv          # `cimvp` arguments, run in the point's directory
        self.train = train        # None, or how its model is trained (train_plan)
        self.id = point_id(settings, config)

    def label(self):
        return " ".join(f"{k}={v}" for k, v in self.values.items())


def point_id(settings, config):
    text = json.dumps({"settings": settings, "config": config}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:POINT_ID_HEX]


def set_dotted(obj, key, value):
    parts = key.split(".")
    for p in parts[:-1]:
        if not isinstance(obj.get(p), dict):
            obj[p] = {}
        obj = obj[p]
    obj[parts[-1]] = value


def read_base_config(sweep):
    if sweep.config is None:
        return {}
    try:
        with open(sweep.config, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise SpecError(f"{sweep.path}: config: expected a readable JSON config file, got {show(sweep.config)}: "
                        f"{getattr(e, 'strerror', None) or e}")
    if not isinstance(cfg, dict):
        raise SpecError(f"{sweep.path}: config: expected a JSON object in {sweep.config}")
    tech = cfg.get("technology")
    if isinstance(tech, str):
        # A technology file named by the base config (next to it, else from the working directory, as cimvp
        # finds it) goes into the points' configs inline: they are written elsewhere (OUT/points/<id>/), and
        # a changed technology file makes new points.
        found = next((c for c in (os.path.join(os.path.dirname(sweep.config), tech), tech) if os.path.isfile(c)), None)
        if found is None:
            raise SpecError(f"{sweep.path}: config: {sweep.config}: technology: expected an existing technology "
                            f"file (next to the config or from the working directory), got {show(tech)}")
        try:
            with open(found, encoding="utf-8") as f:
                cfg["technology"] = json.load(f)
        except (OSError, ValueError) as e:
            raise SpecError(f"{sweep.path}: config: {sweep.config}: technology: expected a readable JSON technology "
                            f"file, got {show(found)}: {getattr(e, 'strerror', None) or e}")
    return cfg


def file_setting(sweep, where, value):
    path = sweep.resolve(value)
    if not os.path.exists(path):
        raise SpecError(f"{sweep.path}: {where}: expected an existing file (looked beside the sweep file, in the "
                        f"working directory and in cimvp's data directory), got {show(value)}")
    return path


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def train_plan(sweep, settings, digests):
    """How the point's model is trained, or None: {id, scheme, seed, threads, argv, model}. argv: the
    options of sw/python/train_all.py (but --out, the model's directory). The id is a hash of the training
    settings and of the float model's bytes, so the points that train alike share one model, trained
    once, and a rerun finds it. `digests`: {file: sha256}, filled as files are read."""
    train = {train_name(k): v for k, v in settings.items() if train_name(k) is not None}
    if not train:
        return None
    opts = dict(TRAIN_DEFAULTS)
    opts.update({k: v for k, v in train.items() if k in TRAIN_KEYS})
    argv = ["--schemes", opts["scheme"], "--seed", str(opts["seed"]), "--threads", str(opts["threads"])]
    if opts.get("smoke"):
        argv.append("--smoke")
    identity = {"scheme": opts["scheme"], "seed": opts["seed"], "threads": opts["threads"],
                "smoke": bool(opts.get("smoke")), "settings": {}}
    if "float_model" in opts:
        path = file_setting(sweep, sweep.where("train.float_model"), opts["float_model"])
        if path not in digests:
            digests[path] = file_digest(path)
        argv += ["--float-model", path]
        identity["float_model_sha256"] = digests[path]
    for k in sorted(k for k in train if k not in TRAIN_KEYS):
        argv += ["--set", f"{k}={train_text(train[k])}"]
        identity["settings"][k] = train[k]
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    tid = hashlib.sha256(text.encode()).hexdigest()[:POINT_ID_HEX]
    return {"id": tid, "scheme": opts["scheme"], "seed": opts["seed"], "threads": opts["threads"], "argv": argv,
            "model": f"fmnist-{opts['scheme']}.cimvp"}


def trained_model_path(train):
    """The trained model as the point's run names it: relative to the point's directory (OUT/points/<id>/),
    so the output directory may move."""
    return os.path.join("..", "..", MODELS_DIR, train["id"], train["model"])


def run_argv(sweep, settings, config, train=None):
    """`cimvp run` with the point's settings; its config is config.json, its results results.json."""
    argv = ["run", "--config", "config.json", "--json", "results.json", "--quiet"]
    where = {k: sweep.where(k) for k in settings}
    trace = sweep.run_kind() == "trace"
    if train is not None:
        argv += ["--model", trained_model_path(train)]
    if trace:
        argv += ["--trace", file_setting(sweep, where["trace"], settings["trace"])]
    elif "model" in settings:
        argv += ["--model", file_setting(sweep, where["model"], settings["model"])]
    elif "scheme" in settings:
        argv += ["--model", file_setting(sweep, where["scheme"], f"models/fmnist-{settings['scheme']}.cimvp")]
    if "images" in settings:
        argv += ["--images" if trace else "--limit", str(settings["images"])]
    seed = settings.get("seed", config.get("nonideal", {}).get("seed") if isinstance(config.get("nonideal"), dict)
                        else None)
    if seed is not None:
        # cimvp run's --seed (default 1) sets nonideal.seed: the base config's seed is passed on as --seed
        argv += ["--seed", str(seed)]
    for k, rk in RUN_KEYS.items():
        if k in settings and rk.option and k not in ("model", "trace", "seed"):
            argv += [rk.option, str(settings[k])]
    if settings.get("check") is False:
        argv.append("--no-check")
    return argv


def expand(sweep):
    """The sweep's points, in order."""
    base = read_base_config(sweep)
    points, digests = [], {}
    for index, combo in enumerate(itertools.product(*(vs for _, vs in sweep.axes))):
        values = {}
        for (name, _), v in zip(sweep.axes, combo):
            values.update(v if name in sweep.groups else {name: v})
        settings, config = {}, json.loads(json.dumps(base))
        for k, v in list(sweep.fixed.items()) + list(values.items()):
            if k in RUN_KEYS or train_name(k) is not None:
                settings[k] = v
            else:
                set_dotted(config, k, v)
        train = train_plan(sweep, settings, digests)
        points.append(Point(index, values, settings, config, run_argv(sweep, settings, config, train), train))
    ids = {}
    for p in points:
        if p.id in ids:
            raise SpecError(f"{sweep.path}: axes: expected distinct points, got the same run twice "
                            f"({ids[p.id].label()} and {p.label()})")
        ids[p.id] = p
    return points


def cimvp_message(out, path):
    """cimvp's one-line error with its `cimvp: <file>: ` prefix taken off."""
    lines = [line for line in out.strip().splitlines() if line.strip()]
    msg = lines[-1] if lines else "(no message)"
    for prefix in ("cimvp: ", path + ": "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg


def check_config(cimvp, path):
    """None when `cimvp info --config path` accepts the config, else its message."""
    try:
        p = subprocess.run([cimvp, "info", "--config", path], capture_output=True, text=True, timeout=120)
    except OSError as e:
        raise SpecError(f"cannot run {cimvp}: {e.strerror}")
    if p.returncode == 0:
        return None
    return cimvp_message(p.stderr or p.stdout, path)


def culprit(sweep, point, msg):
    """Where in the sweep file a config error comes from: the axis or fixed key its key path names."""
    path = msg.split(":", 1)[0]
    for k, v in list(point.values.items()) + list(sweep.fixed.items()):
        if k not in RUN_KEYS and train_name(k) is None and (path == k or path.startswith(k + ".") or k.startswith(path + ".")):
            return f"{sweep.where(k)} = {show(v)}"
    return "the point " + (point.label() or "(no axes)")


def check_configs(sweep, points, cimvp):
    """cimvp itself checks the base config and every distinct point config before anything runs (docs/config.md
    has the rules); a refusal names the sweep file, the axis or fixed setting and cimvp's message."""
    if sweep.config is not None:
        msg = check_config(cimvp, sweep.config)
        if msg:
            raise SpecError(f"{sweep.path}: config: cimvp: {msg}")
    seen = set()
    with tempfile.TemporaryDirectory(prefix="cimvp-sweep-") as tmp:
        for point in points:
            text = json.dumps(point.config, sort_keys=True)
            if text in seen:
                continue
            seen.add(text)
            path = os.path.join(tmp, "config.json")
            with open(path, "w") as f:
                f.write(text)
            msg = check_config(cimvp, path)
            if msg:
                raise SpecError(f"{sweep.path}: {culprit(sweep, point, msg)}: cimvp: {msg}")
