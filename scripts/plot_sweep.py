#!/usr/bin/python3
"""Renders a sweep's table (`cimvp sweep`: OUT/results.csv or OUT/results.sqlite, docs/scale.md) as PNG
figures, from the points whose status is ok. Run with Debian's interpreter (python3-matplotlib):

    # a figure against one axis, one line per value of another
    /usr/bin/python3 scripts/plot_sweep.py T --x adc.bits --y accuracy --lines crossbar.cell_bits -o acc.png
    # accuracy against energy per image, every point, the Pareto front marked
    /usr/bin/python3 scripts/plot_sweep.py T --pareto -o pareto.png [--accuracy accuracy --energy energy_per_image_nj]

--where K=V (repeatable) keeps the rows whose column K is V. Where other axes vary, several points fall
on one x of one line: that is refused (naming the columns that vary) unless --mean averages them.
Exit status: 0 written, 2 a missing table, column or value."""
import argparse
import csv
import json
import math
import os
import sqlite3
import sys


class PlotError(Exception):
    pass


def number(text):
    """A CSV cell as a number when it is one (int before float), else the text; '' is None."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_table(path):
    """(columns, rows, axes) of a sweep table; rows are dicts. `axes`: the sweep's axes, which the SQLite
    table records; a CSV table does not tell its axes from its figures, so there they are None."""
    if not os.path.isfile(path):
        raise PlotError(f"{path}: no such table (a sweep's results.csv or results.sqlite)")
    if path.endswith((".sqlite", ".db")):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            cur = db.execute('SELECT * FROM points ORDER BY "index"')
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
            meta = dict(db.execute("SELECT key, value FROM sweep").fetchall())
        except sqlite3.DatabaseError as e:
            raise PlotError(f"{path}: expected a sweep table (tables points and sweep): {e}")
        finally:
            db.close()
        return cols, rows, json.loads(meta.get("axes", "[]"))
    with open(path, newline="") as f:
        reader = csv.reader(f)
        try:
            cols = next(reader)
        except StopIteration:
            raise PlotError(f"{path}: empty table")
        rows = [dict(zip(cols, (number(c) for c in r))) for r in reader]
    return cols, rows, None


def parse_where(items, cols):
    conds = []
    for item in items or []:
        if "=" not in item:
            raise PlotError(f"--where {item}: expected COLUMN=VALUE")
        k, v = item.split("=", 1)
        if k not in cols:
            raise PlotError(f"--where {item}: no column {k} (columns: {', '.join(cols)})")
        conds.append((k, number(v)))
    return conds


def select(rows, conds):
    """The rows with status ok that meet every condition (numbers compared as numbers)."""
    def same(a, b):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return float(a) == float(b)
        return str(a) == str(b)
    return [r for r in rows if r.get("status") == "ok" and all(same(r.get(k), v) for k, v in conds)]


def need(cols, name, option):
    if name not in cols:
        raise PlotError(f"{option} {name}: no such column (columns: {', '.join(cols)})")


def pareto_front(points):
    """Indices of the points (energy, accuracy) no other point beats: none has at most the energy and at
    least the accuracy with one of the two strictly better. Points with a missing or non-finite value
    are left out. Returned in order of rising energy."""
    ok = [i for i, (e, a) in enumerate(points) if isinstance(e, (int, float)) and isinstance(a, (int, float))
          and math.isfinite(e) and math.isfinite(a)]
    order = sorted(ok, key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], None
    for i in order:
        e, a = points[i]
        if best is None or a > best[1]:
            front.append(i)
            best = (e, a)
        elif (e, a) == best:
            front.append(i)  # the same point twice: neither beats the other
    return front


def line_series(rows, x, y, lines, mean, axes):
    """{line value: [(x, y), ...] sorted by x}; several rows on one (line, x) only with `mean`. `axes`: the
    columns to name when they differ among such rows (None: every column between index and status)."""
    groups = {}
    for r in rows:
        if r.get(y) is None or r.get(x) is None:
            continue
        key = (r.get(lines) if lines else None, r[x])
        groups.setdefault(key, []).append(r)
    series = {}
    for (line, xv), rs in groups.items():
        if len(rs) > 1 and not mean:
            if axes is None:
                cols = list(rs[0])
                axes = cols[cols.index("index") + 1:cols.index("status")] if "index" in cols and "status" in cols \
                    else cols
            varying = [a for a in axes if a not in (x, lines, y) and len({str(r.get(a)) for r in rs}) > 1]
            raise PlotError(f"{len(rs)} points at {x}={xv}" + (f", {lines}={line}" if lines else "") +
                            (f": they differ in {', '.join(varying)}" if varying else "") +
                            "; keep one with --where COLUMN=VALUE, draw them with --lines, or average with --mean")
        vals = [r[y] for r in rs]
        if not all(isinstance(v, (int, float)) for v in vals):
            raise PlotError(f"--y {y}: expected numbers, got {vals[0]!r}")
        series.setdefault(line, []).append((xv, sum(vals) / len(vals)))
    for pts in series.values():
        pts.sort(key=lambda p: (not isinstance(p[0], (int, float)), p[0] if isinstance(p[0], (int, float))
                                else str(p[0])))
    return dict(sorted(series.items(), key=lambda kv: (str(type(kv[0])), kv[0] if kv[0] is not None else 0)))


LEGEND_INSIDE = 6  # lines a legend inside the axes holds without covering them


def plot_lines(args, cols, rows, axes, plt):
    need(cols, args.x, "--x")
    need(cols, args.y, "--y")
    if args.lines:
        need(cols, args.lines, "--lines")
    series = line_series(rows, args.x, args.y, args.lines, args.mean, axes)
    if not series:
        raise PlotError(f"no point with status ok has both {args.x} and {args.y}")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    categorical = any(not isinstance(xv, (int, float)) for pts in series.values() for xv, _ in pts)
    ticks = sorted({str(xv) for pts in series.values() for xv, _ in pts}) if categorical else None
    for i, (line, pts) in enumerate(series.items()):
        xs = [ticks.index(str(xv)) if categorical else xv for xv, _ in pts]
        ax.plot(xs, [yv for _, yv in pts], marker="o", linestyle=("-", "--", ":")[i // 10 % 3],  # 10 colours a cycle
                label=f"{args.lines}={line}" if args.lines else None)
    if categorical:
        ax.set_xticks(range(len(ticks)), ticks)
    ax.set_xlabel(args.x)
    ax.set_ylabel(args.y + (" (mean)" if args.mean else ""))
    if args.lines and len(series) > LEGEND_INSIDE:  # beside the axes, where it covers no line
        fig.set_figwidth(fig.get_figwidth() + 3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    elif args.lines:
        ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(args.title or f"{args.y} against {args.x}")
    return fig


def plot_pareto(args, cols, rows, axes, plt):
    need(cols, args.accuracy, "--accuracy")
    need(cols, args.energy, "--energy")
    pts = [(r.get(args.energy), r.get(args.accuracy)) for r in rows]
    front = pareto_front(pts)
    if not front:
        raise PlotError(f"no point with status ok has numbers in both {args.energy} and {args.accuracy}")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    shown = [i for i, (e, a) in enumerate(pts) if isinstance(e, (int, float)) and isinstance(a, (int, float))]
    ax.scatter([pts[i][0] for i in shown], [pts[i][1] for i in shown], color="#bab0ac", label="points", zorder=2)
    ax.step([pts[i][0] for i in front], [pts[i][1] for i in front], where="post", color="#e15759", zorder=3)
    ax.scatter([pts[i][0] for i in front], [pts[i][1] for i in front], color="#e15759", label="Pareto front",
               zorder=4)
    labels = args.label.split(",") if args.label else axes or []
    for c in labels:
        need(cols, c, "--label")
    mid = (min(p[0] for p in map(pts.__getitem__, shown)) + max(p[0] for p in map(pts.__getitem__, shown))) / 2
    for i in front:
        if labels:  # to the left of the points on the right half, so that no label leaves the axes
            right = pts[i][0] > mid
            ax.annotate(", ".join(f"{c}={rows[i].get(c)}" for c in labels), pts[i], textcoords="offset points",
                        xytext=(-5 if right else 5, -10 if right else 3), ha="right" if right else "left",
                        fontsize=7)
    ax.set_xlabel(args.energy)
    ax.set_ylabel(args.accuracy)
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(args.title or f"{args.accuracy} against {args.energy}")
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("table", help="the sweep's results.csv or results.sqlite")
    ap.add_argument("-o", "--output", required=True, help="PNG file to write")
    ap.add_argument("--x", help="the axis along x")
    ap.add_argument("--y", help="the figure along y")
    ap.add_argument("--lines", help="one line per value of this axis")
    ap.add_argument("--pareto", action="store_true", help="accuracy against energy, the Pareto front marked")
    ap.add_argument("--accuracy", default="accuracy", help="with --pareto: the accuracy column (higher is better)")
    ap.add_argument("--energy", default="energy_per_image_nj",
                    help="with --pareto: the energy column (lower is better)")
    ap.add_argument("--label", metavar="COLUMNS",
                    help="with --pareto: the columns (a,b) that label the front's points (default: the sweep's "
                         "axes, which a SQLite table records; none for a CSV table)")
    ap.add_argument("--where", action="append", metavar="COLUMN=VALUE", help="keep only these rows (repeatable)")
    ap.add_argument("--mean", action="store_true", help="average the points that fall on one x of one line")
    ap.add_argument("--title")
    ap.add_argument("--dpi", type=int, default=100)
    args = ap.parse_args(argv)
    try:
        if args.pareto == bool(args.x or args.y):
            raise PlotError("expected either --x AXIS --y FIGURE [--lines AXIS] or --pareto")
        if not args.pareto and not (args.x and args.y):
            raise PlotError("expected both --x and --y")
        cols, rows, axes = read_table(args.table)
        rows = select(rows, parse_where(args.where, cols))
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig = (plot_pareto if args.pareto else plot_lines)(args, cols, rows, axes, plt)
        fig.tight_layout()
        fig.savefig(args.output, dpi=args.dpi)
    except PlotError as e:
        print(f"plot_sweep: {args.table}: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
