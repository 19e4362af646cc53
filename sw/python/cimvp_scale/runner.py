"""One point run in its own directory, OUT/points/<id>/ (docs/scale.md, "The output directory"):

    point.json    the point: index, axis values, settings, the `cimvp` arguments
    config.json   its config
    results.json  what `cimvp run --json` wrote
    stdout.log, stderr.log
    status.json   the outcome, written last: exit_code (negative: killed by that signal), error, command,
                  run_seconds, host, executor, job_id

A training point (docs/scale.md, "Training points") first needs its model, trained once into
OUT/models/<training id>/ (ensure_model): the model, its expected.json, train.log and status.json; trainings
run one at a time (OUT/models/train.lock), and a point whose model is there does not train again.

Both executors run points through run_point, on this machine or in a Slurm array task (run_task), so a
point's outcome is recorded the same way wherever it ran. A point is done when its status.json says exit
0 and its results.json reads; anything else is run again by the next run of the sweep."""
import fcntl
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

ERROR_LINES = 3
ERROR_CHARS = 500


MODELS_DIR = "models"
# The front end's trainer (sw/python/train_all.py, installed beside this package), run with this Python.
TRAIN_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train_all.py")


def point_dir(out, pid):
    return os.path.join(out, "points", pid)


def model_dir(out, tid):
    return os.path.join(out, MODELS_DIR, tid)


def write_json_atomic(path, obj):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path):
    """The JSON object in `path`, or None when it is missing or unreadable."""
    try:
        with open(path) as f:
            obj = json.load(f)
        return obj if isinstance(obj, dict) else None
    except (OSError, ValueError):
        return None


def prepare(out, point):
    """Writes the point's directory: point.json and config.json, again on every run of the sweep (the same
    point may find its files at other paths: a moved install, another working directory); its results
    and status are kept."""
    d = point_dir(out, point.id)
    os.makedirs(d, exist_ok=True)
    write_json_atomic(os.path.join(d, "config.json"), point.config)
    write_json_atomic(os.path.join(d, "point.json"), {
        "id": point.id, "index": point.index, "values": point.values, "settings": point.settings,
        "argv": point.argv, "train": point.train})


def status_of(out, pid):
    return read_json(os.path.join(point_dir(out, pid), "status.json"))


def is_done(out, pid):
    st = status_of(out, pid)
    return bool(st) and st.get("exit_code") == 0 and \
        read_json(os.path.join(point_dir(out, pid), "results.json")) is not None


def error_tail(path):
    """The last lines of a point's stderr: cimvp's message names the file and the field."""
    try:
        with open(path, errors="replace") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            lines = [line.strip() for line in f.read().splitlines() if line.strip()]
    except OSError:
        return ""
    msg = " | ".join(lines[-ERROR_LINES:])
    return msg if len(msg) <= ERROR_CHARS else "..." + msg[-ERROR_CHARS:]


def signal_name(n):
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


class StopRequest:
    """A Slurm task's stop (SIGTERM: its time limit or scancel): the signal handler ends the running
    point, which is then recorded as stopped, and no further point starts."""

    def __init__(self):
        self.signum = None
        self.proc = None

    def handle(self, signum, _frame):
        self.signum = signum
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def started(self, proc):
        self.proc = proc
        if self.signum is not None:
            proc.terminate()


def model_done(out, train):
    """The training's status when its model is there (exit 0, the model file written), else None."""
    d = model_dir(out, train["id"])
    st = read_json(os.path.join(d, "status.json"))
    ok = st is not None and st.get("exit_code") == 0 and os.path.isfile(os.path.join(d, train["model"]))
    return st if ok else None


def ensure_model(out, train, on_start=None, stop=None):
    """The point's model: trained now unless an earlier point trained it. One training at a time (each
    uses train.threads cores); a point waiting for another's training of the same model then finds it.
    Returns the training's status (exit_code, error, command, seconds, seed, threads, host)."""
    d = model_dir(out, train["id"])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(out, MODELS_DIR, "train.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = model_done(out, train)
        if done is not None:
            return done
        argv = [sys.executable, TRAIN_SCRIPT] + train["argv"] + ["--out", "."]
        status = {"command": shlex.join(argv), "host": socket.gethostname(), "seed": train["seed"],
                  "threads": train["threads"], "exit_code": None, "error": ""}
        t0 = time.monotonic()
        with open(os.path.join(d, "train.log"), "w") as log:
            try:
                proc = subprocess.Popen(argv, cwd=d, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            except OSError as e:
                status.update(exit_code=127, error=f"cannot run {sys.executable}: {e.strerror}", seconds=0.0)
                write_json_atomic(os.path.join(d, "status.json"), status)
                return status
            if on_start:
                on_start(proc)
            rc = proc.wait()
        status["seconds"] = round(time.monotonic() - t0, 3)
        status["exit_code"] = rc
        if rc != 0:
            why = f"stopped by {signal_name(stop.signum)}" if stop is not None and stop.signum is not None else \
                (f"killed by {signal_name(-rc)}" if rc < 0 else f"exit status {rc}")
            status["error"] = f"training failed ({why}): " + (error_tail(os.path.join(d, "train.log")) or
                                                              "nothing in train.log")
        elif not os.path.isfile(os.path.join(d, train["model"])):
            status["exit_code"], status["error"] = 1, f"training wrote no {train['model']} (see {d}/train.log)"
        write_json_atomic(os.path.join(d, "status.json"), status)
        return status


def run_point(out, pid, cimvp, executor, job_id="", timeout=None, on_start=None, stop=None):
    """Runs the point and writes its status.json; returns that status. `on_start(proc)` is told of the
    run's process; `stop`: the task's StopRequest."""
    d = point_dir(out, pid)
    point = read_json(os.path.join(d, "point.json"))
    for name in ("status.json", "results.json"):
        try:
            os.remove(os.path.join(d, name))
        except FileNotFoundError:
            pass
    argv = [cimvp] + point["argv"]
    status = {"command": shlex.join(argv), "host": socket.gethostname(), "executor": executor,
              "job_id": job_id, "exit_code": None, "error": ""}
    if point.get("train"):
        trained = ensure_model(out, point["train"], on_start, stop)
        if trained["exit_code"] != 0:
            status.update(exit_code=trained["exit_code"], error=trained["error"], command=trained["command"],
                          run_seconds=0.0)
            write_json_atomic(os.path.join(d, "status.json"), status)
            return status
    t0 = time.monotonic()
    with open(os.path.join(d, "stdout.log"), "w") as so, open(os.path.join(d, "stderr.log"), "w") as se:
        try:
            proc = subprocess.Popen(argv, cwd=d, stdout=so, stderr=se, stdin=subprocess.DEVNULL)
        except OSError as e:
            status.update(exit_code=127, error=f"cannot run {cimvp}: {e.strerror}", run_seconds=0.0)
            write_json_atomic(os.path.join(d, "status.json"), status)
            return status
        if on_start:
            on_start(proc)
        try:
            rc = proc.wait(timeout=timeout)
            error = ""
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            error = f"timed out after {timeout:g} s (point_timeout)"
        if stop is not None and stop.signum is not None:
            error = f"stopped by {signal_name(stop.signum)} (Slurm's time limit or scancel)"
    status["run_seconds"] = round(time.monotonic() - t0, 3)
    status["exit_code"] = rc
    if not error and rc < 0:
        error = f"killed by {signal_name(-rc)}"
    if rc != 0:
        tail = error_tail(os.path.join(d, "stderr.log"))
        error = "; ".join(x for x in (error, tail) if x) or f"exit status {rc}, nothing on stderr"
    elif read_json(os.path.join(d, "results.json")) is None:
        status["exit_code"] = 0
        error = "exit 0 but no readable results.json"
    status["error"] = error
    write_json_atomic(os.path.join(d, "status.json"), status)
    return status


def run_task(task_file, task, cimvp):
    """A Slurm array task: its points one after another (tasks.json: out, point_timeout, tasks[task])."""
    spec = read_json(task_file)
    if spec is None or not isinstance(spec.get("tasks"), list):
        raise ValueError(f"{task_file}: expected a task file written by cimvp sweep")
    if not 0 <= task < len(spec["tasks"]):
        raise ValueError(f"{task_file}: task {task}: expected 0..{len(spec['tasks']) - 1}")
    job_id = "_".join(x for x in (os.environ.get("SLURM_ARRAY_JOB_ID", ""),
                                  os.environ.get("SLURM_ARRAY_TASK_ID", "")) if x)

    stop = StopRequest()
    signal.signal(signal.SIGTERM, stop.handle)
    failed = 0
    for pid in spec["tasks"][task]:
        if stop.signum is not None:
            return 1
        st = run_point(spec["out"], pid, cimvp, "slurm", job_id, spec.get("point_timeout"), stop.started, stop)
        print(f"point {pid}: exit {st['exit_code']} in {st['run_seconds']} s"
              + (f": {st['error']}" if st["error"] else ""), flush=True)
        failed += st["exit_code"] != 0 or bool(st["error"])
    return 1 if failed else 0
