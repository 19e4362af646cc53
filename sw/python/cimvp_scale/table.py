"""The sweep's table (docs/scale.md, "The table"): a row per point, in the points' order, with its id
and index, every axis, every figure, and how it ran: status (ok, failed, pending, not run), exit_code,
error, command, run_seconds, host, executor, job_id. Written whole each time, from the points'
directories, as OUT/results.csv and OUT/results.sqlite (table `points`, and table `sweep`: the sweep's
name, file, axes and figures), each replaced atomically."""
import csv
import json
import os
import sqlite3

from cimvp_scale.runner import model_dir, point_dir, read_json
from cimvp_scale.spec import DERIVED_FIGURES, TRAIN_COLUMNS

CSV_NAME = "results.csv"
SQLITE_NAME = "results.sqlite"


def columns(sweep):
    return ["point", "index"] + sweep.axis_keys() + list(sweep.figures) + \
        (list(TRAIN_COLUMNS) if sweep.has_training() else []) + \
        ["status", "exit_code", "error", "command", "run_seconds", "host", "executor", "job_id"]


def train_columns(out, train):
    """How a training point's model was trained: its id, seed, threads, training time and the front end's
    accuracy of the integer model (its expected.json, on the test images it evaluated)."""
    st = read_json(os.path.join(model_dir(out, train["id"]), "status.json")) or {}
    expected = read_json(os.path.join(model_dir(out, train["id"]), train["model"][:-len(".cimvp")] +
                                      ".expected.json")) or {}
    return {"train_id": train["id"], "train_seed": train["seed"], "train_threads": train["threads"],
            "train_seconds": st.get("seconds"), "train_accuracy": expected.get("accuracy")}


class FigureError(Exception):
    pass


def lookup(results, path):
    v = results
    for part in path.split("."):
        if isinstance(v, dict) and part in v:
            v = v[part]
        elif isinstance(v, list) and part.isdigit() and int(part) < len(v):
            v = v[int(part)]
        else:
            raise FigureError(f"figure {path}: not in results.json")
    return v


def figure(results, name):
    """A figure's value in a results file: a number, a string, or None (JSON null); true/false as 1/0."""
    path, divisor = DERIVED_FIGURES.get(name, (name, None))
    v = lookup(results, path)
    if isinstance(v, (dict, list)):
        raise FigureError(f"figure {name}: an {'object' if isinstance(v, dict) else 'array'} in results.json, "
                          "not a number or a string")
    if isinstance(v, bool):
        return int(v)
    if divisor is not None and v is not None:
        return v / divisor
    return v


def row(sweep, out, point, pending=None):
    """The point's row. `pending`: why a point without a status has none (queued in a Slurm job, or
    the error of a job that ended without it); None: not run."""
    r = {"point": point.id, "index": point.index}
    r.update(point.values)
    for f in sweep.figures:
        r[f] = None
    if point.train is not None:
        r.update(train_columns(out, point.train))
    st = read_json(os.path.join(point_dir(out, point.id), "status.json"))
    if st is None:
        status, error = ("not run", "") if pending is None else pending
        r.update(status=status, error=error, exit_code=None, command=None, run_seconds=None, host=None,
                 executor=None, job_id=None)
        return r
    for k in ("exit_code", "command", "run_seconds", "host", "executor", "job_id"):
        r[k] = st.get(k)
    errors = [st["error"]] if st.get("error") else []
    results = read_json(os.path.join(point_dir(out, point.id), "results.json"))
    if results is not None:
        for f in sweep.figures:
            try:
                r[f] = figure(results, f)
            except FigureError as e:
                errors.append(str(e))
    r["status"] = "ok" if st.get("exit_code") == 0 and not errors else "failed"
    r["error"] = "; ".join(errors)
    return r


def csv_value(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_csv(path, cols, rows):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([csv_value(r.get(c)) for c in cols])
    os.replace(tmp, path)


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def write_sqlite(path, sweep, cols, rows):
    tmp = f"{path}.tmp{os.getpid()}"
    if os.path.exists(tmp):
        os.remove(tmp)
    db = sqlite3.connect(tmp)
    try:
        types = {"point": "TEXT PRIMARY KEY", "index": "INTEGER", "status": "TEXT", "exit_code": "INTEGER",
                 "error": "TEXT", "command": "TEXT", "run_seconds": "REAL", "host": "TEXT", "executor": "TEXT",
                 "job_id": "TEXT"}
        types.update({"train_id": "TEXT", "train_seed": "INTEGER", "train_threads": "INTEGER", "train_seconds": "REAL",
                      "train_accuracy": "REAL"})
        db.execute("CREATE TABLE points (" + ", ".join(f"{quote(c)} {types.get(c, '')}".strip() for c in cols) + ")")
        db.executemany(f"INSERT INTO points VALUES ({', '.join('?' * len(cols))})",
                       [[r.get(c) for c in cols] for r in rows])
        db.execute("CREATE TABLE sweep (key TEXT PRIMARY KEY, value TEXT)")
        db.executemany("INSERT INTO sweep VALUES (?, ?)", [
            ("name", sweep.name), ("file", os.path.abspath(sweep.path)),
            ("axes", json.dumps(sweep.axis_keys())), ("figures", json.dumps(sweep.figures))])
        db.commit()
    finally:
        db.close()
    os.replace(tmp, path)


def write_table(sweep, out, points, pending=None):
    """Writes both tables; returns the rows. `pending`: {point id: (status, error)} for points without a
    status of their own."""
    pending = pending or {}
    cols = columns(sweep)
    rows = [row(sweep, out, p, pending.get(p.id)) for p in points]
    write_csv(os.path.join(out, CSV_NAME), cols, rows)
    write_sqlite(os.path.join(out, SQLITE_NAME), sweep, cols, rows)
    return rows


def summary(rows):
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda x: ("ok", "failed", "pending",
                                                                                   "not run").index(x[0])))
