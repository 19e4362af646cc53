#!/usr/bin/python3
"""cimvp sweep: a design-space sweep (docs/scale.md).

    cimvp sweep SPEC [--out DIR] [--executor local -j N | --executor slurm [--no-wait]] [--collect]

SPEC (JSON or YAML) names the axes (config keys like adc.bits, model, scheme, trace, seed, images, ...)
and the figures to collect. Every point (each combination of the axes' values) runs as its own
`cimvp run` in OUT/points/<id>/, on this machine or as a task of a Slurm job array, and the points go to
one table, OUT/results.csv and OUT/results.sqlite, a row per point with every axis and figure, the
command, its exit status and error. A rerun skips the points already done and runs failed ones again.
Exit status: 0 every point ok, 1 a point failed or has no result yet (the table says which), 2 a bad
sweep file or option (nothing has run), 3 the executor unavailable (Slurm not reachable; the table is
left as it was).

A Slurm array task runs `cimvp sweep --run-task TASKS --task I` (written into the batch script)."""
import argparse
import fcntl
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cimvp_scale import local, points as sweep_points, slurm, table  # noqa: E402
from cimvp_scale.runner import is_done, model_done, prepare, run_task  # noqa: E402
from cimvp_scale.spec import SLURM_KEYS, SpecError, load_sweep  # noqa: E402

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_EXECUTOR = 0, 1, 2, 3
MAX_FAILED_SHOWN = 20


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="cimvp sweep", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a design-space sweep: every point of SPEC a `cimvp run`, collected into one table "
                    "(docs/scale.md).",
        epilog="Exit status: 0 every point ok, 1 a point failed or has no result yet, 2 a bad sweep file or "
               "option, 3 the executor unavailable (the table is left as it was).")
    ap.add_argument("spec", nargs="?", metavar="SPEC", help="the sweep file (.json, .yaml or .yml)")
    ap.add_argument("--out", metavar="DIR", help="output directory: points/, results.csv, results.sqlite, "
                                                 "slurm/ (default: ./<sweep name>-sweep)")
    ap.add_argument("--executor", choices=("local", "slurm"), default="local",
                    help="local: this machine, -j points at a time; slurm: a job array (default: local)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                    help="points run at once by the local executor (default: the cores, %(default)s)")
    ap.add_argument("--point-timeout", type=float, metavar="S",
                    help="end a point's run after S seconds, recorded as failed (default: the sweep file's "
                         "point_timeout, else none)")
    ap.add_argument("--collect", action="store_true",
                    help="run nothing: write the table from the points' results as they are (after --no-wait)")
    ap.add_argument("--dry-run", action="store_true",
                    help="check the sweep file and every point's config, print the points (and with "
                         "--executor slurm the batch script) and run nothing")
    s = ap.add_argument_group("with --executor slurm (defaults from the sweep file's slurm block)")
    s.add_argument("--partition", metavar="P", help="sbatch --partition")
    s.add_argument("--time", metavar="T", help="sbatch --time of one array task, e.g. 00:30:00")
    s.add_argument("--mem", metavar="M", help="sbatch --mem of one array task, e.g. 2G")
    s.add_argument("--account", metavar="A", help="sbatch --account")
    s.add_argument("--cpus-per-task", type=int, metavar="N", help="sbatch --cpus-per-task")
    s.add_argument("--points-per-task", type=int, metavar="K",
                   help="points one array task runs one after another (default 1)")
    s.add_argument("--max-running", type=int, metavar="M", help="array tasks running at once (--array=...%%M)")
    s.add_argument("--sbatch-arg", action="append", metavar="ARG", dest="sbatch_args",
                   help="another #SBATCH line, e.g. --sbatch-arg=--qos=short (repeatable)")
    s.add_argument("--no-wait", action="store_true",
                   help="submit and return; collect later with --collect")
    s.add_argument("--poll", type=float, default=5.0, metavar="S", help="seconds between squeue polls (default 5)")
    ap.add_argument("--cimvp", default=os.environ.get("CIMVP_EXE"), help=argparse.SUPPRESS)
    ap.add_argument("--run-task", metavar="TASKS", help=argparse.SUPPRESS)
    ap.add_argument("--task", type=int, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


class BadOption(Exception):
    pass


def flag(key):
    """The command-line flag of a `slurm` key of the sweep file."""
    return "--sbatch-arg" if key == "sbatch_args" else "--" + key.replace("_", "-")


def slurm_options(sweep, args):
    """The sweep file's slurm block with the command line's flags on top, checked alike."""
    options = dict(sweep.slurm)
    for key in SLURM_KEYS:
        v = getattr(args, key)
        if v is None:
            continue
        what = SLURM_KEYS[key](v)
        if what:
            raise BadOption(f"{flag(key)}: expected {what}, got {v!r}")
        options[key] = v
    return options


def data_dirs():
    """Where cimvp finds its shipped files: this script is <data dir>/python/cimvp_sweep.py."""
    env = os.environ.get("CIMVP_DATA_DIR")
    return [env] if env else [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]


def say(msg):
    print(f"cimvp sweep: {msg}", file=sys.stderr, flush=True)


def finish(sweep, out, pts, rows):
    ok = all(r["status"] == "ok" for r in rows)
    print(f"sweep {sweep.name}: {len(rows)} points: {table.summary(rows)}; table "
          f"{os.path.join(out, table.CSV_NAME)}, {os.path.join(out, table.SQLITE_NAME)}", flush=True)
    failed = [r for r in rows if r["status"] == "failed"]
    for r in failed[:MAX_FAILED_SHOWN]:
        print(f"  failed: point {r['point']} ({' '.join(f'{k}={r[k]}' for k in sweep.axis_keys())}): "
              f"{r['error']}", flush=True)
    if len(failed) > MAX_FAILED_SHOWN:
        print(f"  ... and {len(failed) - MAX_FAILED_SHOWN} more failed points (the table has them all)", flush=True)
    return EXIT_OK if ok else EXIT_FAILED


def is_trained(out, train):
    return model_done(out, train) is not None


def dry_run(sweep, out, pts, args, cimvp):
    print(f"sweep {sweep.name}: {len(pts)} points, figures {', '.join(sweep.figures)}, output {out}")
    for p in pts:
        print(f"  {p.index:4d} {p.id}  {p.label()}  [{'done' if is_done(out, p.id) else 'to run'}]")
        if p.train is not None:
            print(f"       train_all.py {' '.join(p.train['argv'])} --out models/{p.train['id']}  "
                  f"[{'trained' if is_trained(out, p.train) else 'to train'}]")
        print(f"       cimvp {' '.join(p.argv)}")
    if args.executor == "slurm":
        options = slurm_options(sweep, args)
        todo = [p.id for p in pts if not is_done(out, p.id)]
        n = len(slurm.chunks(todo, options.get("points_per_task") or 1))
        if n:
            print("\nbatch script (the points still to run; written as OUT/slurm/<submission>/sweep.sbatch):\n")
            try:
                print(slurm.batch_script(sweep.name, os.path.abspath(out), os.path.join(
                    os.path.abspath(out), "slurm", "<submission>"), cimvp, n, options), end="")
            except ValueError as e:
                raise BadOption(str(e))
    return EXIT_OK


def run_sweep(args):
    if not args.spec:
        raise BadOption("expected a sweep file (cimvp sweep SPEC; cimvp sweep --help)")
    if args.jobs < 1:
        raise BadOption(f"-j: expected 1 or more, got {args.jobs}")
    if args.point_timeout is not None and args.point_timeout <= 0:
        raise BadOption(f"--point-timeout: expected seconds > 0, got {args.point_timeout:g}")
    if args.poll <= 0:
        raise BadOption(f"--poll: expected seconds > 0, got {args.poll:g}")
    if args.executor != "slurm":
        for name in [flag(k) for k in SLURM_KEYS if getattr(args, k) is not None] + ["--no-wait"] * args.no_wait:
            raise BadOption(f"{name}: expected with --executor slurm only")
    if not args.cimvp:
        raise BadOption("no cimvp executable: run this as `cimvp sweep` (which sets CIMVP_EXE)")
    spec = args.spec
    if not os.path.exists(spec) and not os.path.isabs(spec):  # a shipped sweep file by its relative name
        spec = next((os.path.join(d, spec) for d in data_dirs() if os.path.isfile(os.path.join(d, spec))), spec)
    sweep = load_sweep(spec, data_dirs())
    out = args.out or f"{sweep.name}-sweep"
    if os.path.exists(out) and not os.path.isdir(out):
        raise BadOption(f"--out {out}: expected a directory, got a file")
    pts = sweep_points.expand(sweep)
    ids = [p.id for p in pts]
    if args.collect:
        if not os.path.isdir(out):
            raise BadOption(f"--collect: no output directory {out} (give the --out of the sweep)")
        rows = table.write_table(sweep, out, pts, slurm.pending_points(out, ids))
        return finish(sweep, out, pts, rows)
    options = slurm_options(sweep, args) if args.executor == "slurm" else {}
    sweep_points.check_configs(sweep, pts, args.cimvp)
    if args.dry_run:
        return dry_run(sweep, out, pts, args, args.cimvp)
    if sweep.run_kind() == "model" and "images" not in sweep.settings_keys():
        say("note: no images setting: every point runs all 10,000 test images")
    os.makedirs(out, exist_ok=True)
    lock = open(os.path.join(out, "sweep.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise BadOption(f"--out {out}: another cimvp sweep is running there (it holds {out}/sweep.lock)")
    for p in pts:
        prepare(out, p)
    todo = [p for p in pts if not is_done(out, p.id)]
    if len(todo) < len(pts):
        say(f"{len(pts) - len(todo)} of {len(pts)} points already done (in {out}/points): not run again")
    timeout = args.point_timeout or sweep.point_timeout
    if args.executor == "local":
        say(f"running {len(todo)} points on this machine, {args.jobs} at a time")
        try:
            local.run_local(out, todo, args.cimvp, args.jobs, timeout)
        except KeyboardInterrupt:
            rows = table.write_table(sweep, out, pts)
            say(f"interrupted: the table has the points done so far ({table.summary(rows)})")
            return 130
        return finish(sweep, out, pts, table.write_table(sweep, out, pts))
    queued = {pid for pid, (status, _) in slurm.pending_points(out, [p.id for p in todo]).items()
              if status == "pending"}
    if queued:
        say(f"{len(queued)} point{'s are' if len(queued) > 1 else ' is'} still in a queued Slurm job: not submitted "
            "again")
    todo = [p for p in todo if p.id not in queued]
    job = None
    if todo:
        try:
            job, sub = slurm.submit(sweep.name, out, [p.id for p in todo], args.cimvp, options, timeout)
        except ValueError as e:
            raise BadOption(str(e))
        say(f"submitted Slurm job {job}: {len(todo)} points in "
            f"{len(slurm.chunks(todo, options.get('points_per_task') or 1))} array tasks ({sub}/sweep.sbatch)")
    if args.no_wait:
        rows = table.write_table(sweep, out, pts, slurm.pending_points(out, ids))
        print(f"sweep {sweep.name}: {table.summary(rows)}; when the job is over: cimvp sweep {args.spec} "
              f"--out {out} --collect", flush=True)
        return EXIT_FAILED if any(r["status"] == "failed" for r in rows) else EXIT_OK
    try:
        if job:
            slurm.wait(out, job, [p.id for p in todo], args.poll)
        for j in ({j["job_id"] for j in slurm.read_jobs(out)} & slurm.queued_jobs() if queued else ()):
            slurm.wait(out, j, sorted(queued), args.poll)
    except slurm.SlurmError as e:
        say(f"{e}; the points' results stay in {out}/points: cimvp sweep {args.spec} --out {out} --collect")
        return EXIT_EXECUTOR
    return finish(sweep, out, pts, table.write_table(sweep, out, pts, slurm.pending_points(out, ids)))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.run_task:
            if args.task is None:
                raise BadOption("--run-task: expected --task I (the array task's index)")
            if not args.cimvp:
                raise BadOption("no cimvp executable: run this as `cimvp sweep` (which sets CIMVP_EXE)")
            try:
                return run_task(args.run_task, args.task, args.cimvp)
            except ValueError as e:
                raise BadOption(str(e))
        return run_sweep(args)
    except (SpecError, BadOption) as e:
        say(str(e))
        return EXIT_BAD_INPUT
    except slurm.SlurmError as e:
        say(f"{e}; nothing was submitted and the table is as it was")
        return EXIT_EXECUTOR


if __name__ == "__main__":
    sys.exit(main())
