"""Design-space sweeps of cimvp at scale (docs/scale.md), run by `cimvp sweep` (sw/python/cimvp_sweep.py).

- spec: the sweep file (JSON or YAML), read and checked key by key;
- points: its points (every combination of the axes' values), their identity, per-point config and
  `cimvp run` command, and the check of every point's config by cimvp itself;
- runner: one point run in its own directory, its outcome written beside it (status.json);
- table: the points' outcomes and figures collected into one CSV and one SQLite table;
- local, slurm: the executors (this machine with N workers; a Slurm job array)."""
