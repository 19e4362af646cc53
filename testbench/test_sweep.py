"""`cimvp sweep` (docs/scale.md): sweep files refused with the file and the key, points run by the local
executor and by a real single-node Slurm cluster (testbench/slurm_cluster.py) into the same table, reruns,
failing and crashing points, an unreachable Slurm, squeue lost while waiting, and the plots of
scripts/plot_sweep.py.

Run by ctest as /usr/bin/python3 test_sweep.py <cimvp> <source dir> [test names...]. Slurm needs munge and
slurm-wlm (scripts/setup.sh): without them it exits 77, which ctest reports as skipped."""
import csv
import fcntl
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import unittest

CIMVP = None
SOURCE = None
SKIP = 77
IMAGES = 20
# Columns that say where and when a point ran, not what it computed: the only ones allowed to differ
# between executors.
RUN_COLUMNS = ("run_seconds", "host", "executor", "job_id")


def sweep(*args, env=None, timeout=600):
    p = subprocess.run([CIMVP, "sweep", *args], capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout + p.stderr


def model(name):
    return os.path.join(SOURCE, "models", name)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def read(path):
    with open(path) as f:
        return f.read()


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_sqlite(path):
    db = sqlite3.connect(path)
    try:
        cur = db.execute('SELECT * FROM points ORDER BY "index"')
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        db.close()


def without_run_columns(rows):
    return [{k: v for k, v in r.items() if k not in RUN_COLUMNS} for r in rows]


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cimvp-sweep-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)


class SweepFile(Tmp):
    """Bad sweep files exit 2 before anything runs, naming the file, the key and what was expected."""

    def refused(self, name, text, *patterns):
        spec = write(self.path(name), text)
        out = self.path("out")
        code, msg = sweep(spec, "--out", out)
        self.assertEqual(code, 2, msg)
        self.assertIn(spec + ": ", msg)
        for p in patterns:
            self.assertRegex(msg, p)
        self.assertFalse(os.path.exists(out), "nothing may be written for a refused sweep file")
        return msg

    def test_an_unknown_top_level_key_is_named(self):
        self.refused("s.yaml", "axes: {adc.bits: [4]}\nfigurez: [accuracy]\n",
                     r"figurez: expected one of name, description, config, fixed, axes, figures")

    def test_an_unknown_config_key_is_named_with_the_axis_and_cimvps_message(self):
        self.refused("s.yaml", "fixed: {images: 5}\naxes:\n  crossbar.colz: [64, 128]\n",
                     r"axes\.crossbar\.colz = 64: cimvp: crossbar\.colz: unknown key \(expected one of: rows, cols")

    def test_a_config_value_out_of_range_is_named_with_the_axis_and_the_range(self):
        self.refused("s.json", '{"fixed": {"images": 5}, "axes": {"adc.bits": [4, 40]}}',
                     r"axes\.adc\.bits = 40: cimvp: adc\.bits: expected an integer in \[1, 16\], got 40")

    def test_a_fixed_config_value_out_of_range_is_named(self):
        self.refused("s.yaml", "fixed: {images: 5, crossbar.cell_bits: 0}\naxes: {adc.bits: [4]}\n",
                     r"fixed\.crossbar\.cell_bits = 0: cimvp: crossbar\.cell_bits: expected an integer")

    def test_a_bad_range_is_named(self):
        self.refused("s.yaml", "axes:\n  adc.bits: {from: 8, to: 4, step: 1}\n",
                     r"axes\.adc\.bits\.to: expected a number >= from \(8\), got 4")
        self.refused("s2.yaml", "axes:\n  adc.bits: {from: 4, to: 8, step: 0}\n",
                     r"axes\.adc\.bits\.step: expected a number > 0, got 0")
        self.refused("s3.yaml", "axes:\n  adc.bits: {from: 4, to: 8}\n", r"axes\.adc\.bits: expected a range with from")

    def test_a_run_setting_out_of_range_or_of_the_wrong_type_is_named(self):
        self.refused("s.yaml", "axes: {swis_shifts: [4, 9]}\n",
                     r"axes\.swis_shifts\[1\]: expected an integer in \[1, 8\], got 9")
        self.refused("s2.yaml", "axes: {images: [10, ten]}\n", r'axes\.images\[1\]: expected an integer >= 0, got "ten"')
        self.refused("s3.yaml", "axes: {scheme: [int8, int4]}\n",
                     r'axes\.scheme\[1\]: expected one of int8, bwma, columnwise, got "int4"')

    def test_a_bad_training_setting_is_named_with_what_it_expects(self):
        base = "fixed: {images: 5, train.scheme: bwma}\naxes:\n"
        self.refused("s.yaml", base + "  train.bwma_a_bits: [4, 9]\n",
                     r"axes\.train\.bwma_a_bits\[1\]: expected an integer in \[1, 8\], got 9")
        self.refused("s2.yaml", base + "  train.bwma_weights: [closed_form, ternary]\n",
                     r'axes\.train\.bwma_weights\[1\]: expected one of closed_form, sign, xnor, got "ternary"')
        self.refused("s3.yaml", base + "  train.bwma_bits: [4]\n",
                     r'axes\.train\.bwma_bits: expected a training setting: train\. with one of scheme, seed, threads')
        self.refused("s4.yaml", base + "  train.threads: [0]\n", r"axes\.train\.threads\[0\]: expected an integer >= 1")
        self.refused("s5.yaml", "fixed: {images: 5}\naxes: {train.bwma_a_bits: [2, 4]}\n",
                     r"axes\.train\.bwma_a_bits: expected train\.scheme too")
        self.refused("s6.yaml", "fixed: {images: 5, scheme: bwma}\naxes: {train.scheme: [bwma]}\n",
                     r"fixed\.scheme: expected no model or scheme in a sweep that trains its models")
        self.refused("s7.yaml", "fixed: {train.scheme: bwma, train.float_model: nowhere.pt}\naxes: {adc.bits: [8]}\n",
                     r"fixed\.train\.float_model: expected an existing file")

    def test_bad_yaml_and_bad_json_give_the_line(self):
        self.refused("s.yaml", "axes:\n  adc.bits: [4, 5\n", r"invalid YAML at line \d+, column \d+")
        self.refused("s.json", '{"axes": {"adc.bits": [4,]}}', r"invalid JSON at line 1, column \d+")

    def test_a_duplicate_key_is_refused(self):
        self.refused("s.yaml", "axes:\n  adc.bits: [4]\n  adc.bits: [5]\n", r"adc\.bits: duplicate key")
        self.refused("s.json", '{"axes": {"adc.bits": [4]}, "axes": {}}', r"axes: duplicate key")

    def test_empty_or_missing_axes_and_repeated_values_are_refused(self):
        self.refused("s.yaml", "axes: {}\n", r"axes: expected a non-empty mapping")
        self.refused("s2.yaml", "name: x\n", r"axes: expected a mapping of settings")
        self.refused("s3.yaml", "axes: {adc.bits: []}\n", r"axes\.adc\.bits: expected a non-empty list")
        self.refused("s4.yaml", "axes: {adc.bits: [4, 4]}\n", r"axes\.adc\.bits\[1\]: expected values that differ")
        self.refused("s5.yaml", "- adc.bits\n", r"expected a mapping of name, description")

    def test_an_unknown_setting_or_figure_is_named(self):
        self.refused("s.yaml", "axes: {adc_bits: [4]}\n",
                     r"axes\.adc_bits: expected a config key \(with a dot: adc\.bits")
        self.refused("s2.yaml", "axes: {adc.bits: [4]}\nfigures: [accuracy, energy]\n",
                     r"figures\[1\]: expected one of .*energy_per_image_nj.*, got \"energy\"")
        self.refused("s3.yaml", "axes: {adc.bits: [4]}\nfigures: [energy_pj]\n",
                     r"figures\[0\]: expected a key inside the object energy_pj \(like energy_pj\.total")

    def test_settings_of_the_other_kind_of_run_are_refused(self):
        self.refused("s.yaml", "fixed: {trace: traces/vgg8.trace}\naxes: {batch: [1, 2]}\n",
                     r"axes\.batch: expected a setting of a network run, not of a workload trace")
        self.refused("s2.yaml", "fixed: {model: models/fmnist-int8.cimvp}\naxes: {scheme: [int8]}\n",
                     r"axes\.scheme: expected either model or scheme")

    def test_a_groups_values_set_the_same_settings_each_once(self):
        self.refused("s.yaml", "axes:\n  adc:\n    - {adc.bits: 4, adc.pj_per_conversion: 0.1}\n"
                     "    - {adc.bits: 5}\n",
                     r"axes\.adc\[1\]: expected the settings of axes\.adc\[0\] \(adc\.bits, adc\.pj_per_conversion\)")
        self.refused("s2.yaml", "axes:\n  adc.bits: [4, 5]\n  adc:\n    - {adc.bits: 4}\n",
                     r"axes\.adc\.adc\.bits: expected a setting swept once \(axes\.adc\.bits sweeps it too\)")
        self.refused("s3.yaml", "axes:\n  adc.bits:\n    - {adc.pj_per_conversion: 0.1}\n",
                     r"axes\.adc\.bits: expected a group's name that is not a setting itself")

    def test_a_groups_config_value_out_of_range_is_named_with_the_group(self):
        self.refused("s.yaml", "fixed: {images: 5}\naxes:\n  adc:\n    - {adc.bits: 4, adc.cycle_ns: 1.0}\n"
                     "    - {adc.bits: 40, adc.cycle_ns: 2.0}\n",
                     r"axes\.adc\.adc\.bits = 40: cimvp: adc\.bits: expected an integer in \[1, 16\], got 40")

    def test_nonideal_seed_points_to_seed(self):
        self.refused("s.yaml", "axes: {nonideal.seed: [1, 2]}\n", r"axes\.nonideal\.seed: expected seed instead")

    def test_a_missing_model_file_is_named(self):
        self.refused("s.yaml", "axes: {model: [models/fmnist-int8.cimvp, nosuch.cimvp]}\n",
                     r'axes\.model: expected an existing file .*got "nosuch\.cimvp"')

    def test_bad_slurm_settings_are_named(self):
        self.refused("s.yaml", "axes: {adc.bits: [4]}\nslurm: {time: 10 minutes}\n",
                     r"slurm\.time: expected a Slurm time limit")
        self.refused("s2.yaml", "axes: {adc.bits: [4]}\nslurm: {queue: short}\n",
                     r"slurm\.queue: expected one of partition, time, mem")

    def test_a_missing_or_unreadable_sweep_file_exits_two(self):
        code, msg = sweep(self.path("nosuch.yaml"))
        self.assertEqual(code, 2, msg)
        self.assertIn("nosuch.yaml: cannot read the sweep file", msg)
        code, msg = sweep(self.tmp)
        self.assertEqual(code, 2, msg)
        self.assertIn("it is a directory", msg)

    def test_help_describes_the_command(self):
        p = subprocess.run([CIMVP, "sweep", "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        for word in ("--executor", "--collect", "--no-wait", "--partition", "-j"):
            self.assertIn(word, p.stdout)


class Expansion(Tmp):
    """Points, their identity and their commands, without running them (--dry-run)."""

    def dry(self, text, *args):
        spec = write(self.path("s.yaml"), text)
        code, out = sweep(spec, "--out", self.path("out"), "--dry-run", *args)
        self.assertEqual(code, 0, out)
        return re.findall(r"^\s+\d+ ([0-9a-f]{12})  (.*?)  \[", out, re.M), out

    def test_points_are_every_combination_first_axis_slowest_with_stable_ids(self):
        text = "fixed: {images: 5}\naxes:\n  adc.bits: [4, 5]\n  crossbar.cell_bits: {from: 1, to: 2, step: 1}\n"
        points, _ = self.dry(text)
        self.assertEqual([p[1] for p in points], ["adc.bits=4 crossbar.cell_bits=1", "adc.bits=4 crossbar.cell_bits=2",
                                                  "adc.bits=5 crossbar.cell_bits=1", "adc.bits=5 crossbar.cell_bits=2"])
        self.assertEqual(len({p[0] for p in points}), 4)
        again, _ = self.dry(text)
        self.assertEqual(points, again)
        changed, _ = self.dry(text.replace("images: 5", "images: 6"))
        self.assertFalse({p[0] for p in points} & {p[0] for p in changed},
                         "a changed fixed setting must make new points")

    def test_a_groups_values_set_their_settings_together(self):
        points, out = self.dry("fixed: {images: 5}\naxes:\n  crossbar.cell_bits: [1, 2]\n  adc:\n"
                               "    - {adc.bits: 4, adc.pj_per_conversion: 0.1}\n"
                               "    - {adc.bits: 8, adc.pj_per_conversion: 1.67}\n")
        self.assertEqual([p[1] for p in points], [
            "crossbar.cell_bits=1 adc.bits=4 adc.pj_per_conversion=0.1",
            "crossbar.cell_bits=1 adc.bits=8 adc.pj_per_conversion=1.67",
            "crossbar.cell_bits=2 adc.bits=4 adc.pj_per_conversion=0.1",
            "crossbar.cell_bits=2 adc.bits=8 adc.pj_per_conversion=1.67"])

    def test_a_point_runs_cimvp_run_with_its_settings(self):
        _, out = self.dry("fixed: {images: 7, batch: 4}\naxes: {scheme: [int8, bwma], seed: [3]}\n")
        self.assertRegex(out, r"cimvp run --config config\.json --json results\.json --quiet --model \S+/models/"
                              r"fmnist-int8\.cimvp --limit 7 --seed 3 --batch 4")
        self.assertRegex(out, r"--model \S+/models/fmnist-bwma\.cimvp --limit 7 --seed 3")

    def test_a_base_configs_seed_is_passed_on(self):
        # cimvp run's --seed (default 1) would override the config's nonideal.seed
        write(self.path("base.json"), '{"nonideal": {"seed": 7, "read_noise_sigma": 0.01}}')
        _, out = self.dry("config: base.json\nfixed: {images: 5}\naxes: {adc.bits: [6, 8]}\n")
        self.assertEqual(len(re.findall(r"--limit 5 --seed 7$", out, re.M)), 2, out)

    def test_training_points_share_a_model_per_training_setting(self):
        text = ("fixed: {images: 5, train.scheme: bwma, train.float_model: models/fmnist-float.pt, train.smoke: true}\n"
                "axes:\n  train.bwma_a_bits: [2, 4]\n  adc.bits: [8, 9]\n")
        points, out = self.dry(text)
        self.assertEqual(len(points), 4)
        trains = re.findall(r"train_all\.py (.*) --out models/([0-9a-f]{12})  \[to train\]", out)
        self.assertEqual(len(trains), 4, out)
        self.assertRegex(trains[0][0], r"^--schemes bwma --seed 1 --threads 1 --smoke --float-model \S+/fmnist-float\.pt "
                                       r"--set bwma_a_bits=2$")
        ids = [t[1] for t in trains]
        self.assertEqual(ids[0], ids[1], "points that differ only in the chip share their trained model")
        self.assertEqual(ids[2], ids[3])
        self.assertNotEqual(ids[0], ids[2], "another training setting trains another model")
        runs = re.findall(r"cimvp run .* --model \.\./\.\./models/([0-9a-f]{12})/fmnist-bwma\.cimvp --limit 5", out)
        self.assertEqual(runs, ids)
        _, again = self.dry(text.replace("train.smoke: true", "train.smoke: true, train.seed: 2"))
        self.assertFalse(set(ids) & set(re.findall(r"--out models/([0-9a-f]{12})", again)),
                         "another seed trains other models")

    def test_a_base_configs_technology_goes_inline_into_the_points(self):
        os.makedirs(self.path("technology"))
        shutil.copy(os.path.join(SOURCE, "configs", "technology", "sram-22nm.json"), self.path("technology"))
        write(self.path("base.json"), '{"technology": "technology/sram-22nm.json"}')
        spec = write(self.path("s.yaml"), "config: base.json\nfixed: {images: 2}\naxes: {adc.bits: [6]}\n")
        out = self.path("out")
        code, msg = sweep(spec, "--out", out, "--dry-run")
        self.assertEqual(code, 0, msg)
        first = re.findall(r"^\s+\d+ ([0-9a-f]{12})", msg, re.M)[0]
        write(self.path("technology/sram-22nm.json"),
              read(self.path("technology/sram-22nm.json")).replace('"node_nm": 22', '"node_nm": 28'))
        code, msg = sweep(spec, "--out", out, "--dry-run")
        self.assertEqual(code, 0, msg)
        self.assertNotEqual(first, re.findall(r"^\s+\d+ ([0-9a-f]{12})", msg, re.M)[0],
                            "a changed technology file makes new points")

    def test_a_trace_point_runs_the_trace_with_images(self):
        _, out = self.dry("fixed: {trace: traces/vgg8.trace, images: 2}\naxes: {map: [crossbar, pe]}\n")
        self.assertRegex(out, r"--trace \S+/traces/vgg8\.trace --images 2 --map crossbar")

    def test_the_slurm_batch_script_is_shown(self):
        _, out = self.dry("fixed: {images: 5}\naxes: {adc.bits: [3, 4, 5, 6, 7]}\n"
                          "slurm: {partition: short, time: '00:05:00', points_per_task: 2}\n",
                          "--executor", "slurm", "--mem", "1G", "--max-running", "2")
        self.assertIn("#SBATCH --array=0-2%2\n", out)  # 5 points, 2 per task
        self.assertIn("#SBATCH --partition=short\n", out)
        self.assertIn("#SBATCH --time=00:05:00\n", out)
        self.assertIn("#SBATCH --mem=1G\n", out)
        self.assertRegex(out, r"exec \S+ sweep --run-task \S+/tasks\.json'? --task \"\$SLURM_ARRAY_TASK_ID\"")

    def test_a_bad_flag_is_named(self):
        spec = write(self.path("s.yaml"), "axes: {adc.bits: [4]}\n")
        code, out = sweep(spec, "--executor", "slurm", "--time", "soon", "--dry-run")
        self.assertEqual(code, 2, out)
        self.assertIn("--time: expected a Slurm time limit", out)
        code, out = sweep(spec, "-j", "0")
        self.assertEqual(code, 2, out)
        self.assertIn("-j: expected 1 or more", out)
        code, out = sweep(spec, "--partition", "short")
        self.assertEqual(code, 2, out)
        self.assertIn("--partition: expected with --executor slurm only", out)


def small_sweep(tmp):
    """Four points of the int8 network on a few images: 2 ADC conversion energies x 2 crossbar read
    times (the lossless 8-bit ADC of the default chip: no ADC table is recalibrated, so each run is short)."""
    return write(os.path.join(tmp, "small.yaml"), f"""
name: small
fixed:
  model: {model("fmnist-int8.cimvp")}
  images: {IMAGES}
axes:
  adc.pj_per_conversion: [1.67, 3.34]
  crossbar.read_ns: [100.0, 50.0]
figures: [accuracy, agreement, energy_per_image_nj, latency_per_image_us, cycles, config.adc.pj_per_conversion,
          config.crossbar.read_ns, logits_fnv1a64]
""")


def broken_model(tmp):
    """A model file cut short: `cimvp run` refuses it with exit 2, naming the file."""
    with open(model("fmnist-int8.cimvp"), "rb") as f:
        data = f.read(1000)
    path = os.path.join(tmp, "broken.cimvp")
    with open(path, "wb") as f:
        f.write(data)
    return path


def failing_sweep(tmp):
    """Two models, one of them broken, by two crossbar read times: two points fail, two complete."""
    return write(os.path.join(tmp, "failing.yaml"), f"""
name: failing
fixed: {{images: {IMAGES}}}
axes:
  model: [{model("fmnist-int8.cimvp")}, {broken_model(tmp)}]
  crossbar.read_ns: [100.0, 50.0]
figures: [accuracy, agreement, energy_per_image_nj, cycles]
""")


class LocalSweep(Tmp):
    def test_a_sweep_runs_every_point_into_one_table(self):
        out = self.path("out")
        code, text = sweep(small_sweep(self.tmp), "--out", out, "-j", "2")
        self.assertEqual(code, 0, text)
        rows = read_csv(os.path.join(out, "results.csv"))
        self.assertEqual([(r["adc.pj_per_conversion"], r["crossbar.read_ns"]) for r in rows],
                         [("1.67", "100.0"), ("1.67", "50.0"), ("3.34", "100.0"), ("3.34", "50.0")])
        for r in rows:
            self.assertEqual(r["status"], "ok", r)
            self.assertEqual(r["exit_code"], "0")
            self.assertEqual(r["error"], "")
            self.assertEqual(r["executor"], "local")
            # the point's config is what the axes say
            self.assertEqual(r["config.adc.pj_per_conversion"], r["adc.pj_per_conversion"])
            self.assertEqual(r["config.crossbar.read_ns"], r["crossbar.read_ns"])
            self.assertEqual(float(r["agreement"]), 1.0)
            self.assertTrue(0 < float(r["accuracy"]) <= 1)
            self.assertGreater(float(r["energy_per_image_nj"]), 0)
            self.assertIn(" run --config config.json --json results.json --quiet --model ", r["command"])
        # the read time changes the latency, the conversion energy the energy, neither the logits
        self.assertGreater(float(rows[0]["latency_per_image_us"]), float(rows[1]["latency_per_image_us"]))
        self.assertEqual(rows[0]["energy_per_image_nj"], rows[1]["energy_per_image_nj"])
        self.assertLess(float(rows[0]["energy_per_image_nj"]), float(rows[2]["energy_per_image_nj"]))
        self.assertEqual(len({r["logits_fnv1a64"] for r in rows}), 1)
        # SQLite holds the same rows, numbers as numbers
        db = read_sqlite(os.path.join(out, "results.sqlite"))
        self.assertEqual(len(db), 4)
        for r, d in zip(rows, db):
            self.assertEqual({k: "" if v is None else (repr(v) if isinstance(v, float) else str(v))
                              for k, v in d.items()}, r)
        self.assertIsInstance(db[0]["cycles"], int)
        self.assertIsInstance(db[0]["energy_per_image_nj"], float)

        # a figure is the run's own number: the same point run by hand
        point = os.path.join(out, "points", rows[3]["point"])
        direct = self.path("direct.json")
        p = subprocess.run([CIMVP, "run", "--config", os.path.join(point, "config.json"), "--model",
                            model("fmnist-int8.cimvp"), "--limit", str(IMAGES), "--json", direct, "--quiet"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(direct) as f:
            d = json.load(f)
        self.assertEqual(repr(d["energy_per_image_pj"]["total"] / 1000), rows[3]["energy_per_image_nj"])
        self.assertEqual(d["logits_fnv1a64"], rows[3]["logits_fnv1a64"])
        self.assertEqual(str(d["cycles"]), rows[3]["cycles"])

        # a rerun runs nothing again and writes the same table
        with open(os.path.join(out, "results.csv")) as f:
            before = f.read()
        stamps = [os.stat(os.path.join(out, "points", r["point"], "results.json")).st_mtime_ns for r in rows]
        code, text = sweep(small_sweep(self.tmp), "--out", out, "-j", "2")
        self.assertEqual(code, 0, text)
        self.assertIn("4 of 4 points already done", text)
        self.assertEqual(stamps, [os.stat(os.path.join(out, "points", r["point"], "results.json")).st_mtime_ns
                                  for r in rows])
        with open(os.path.join(out, "results.csv")) as f:
            self.assertEqual(f.read(), before)

        # a new axis value adds points; the old ones are kept
        spec = write(self.path("small.yaml"), read(self.path("small.yaml")).replace("[1.67, 3.34]", "[1.67, 2.5, 3.34]"))
        code, text = sweep(spec, "--out", out, "-j", "2")
        self.assertEqual(code, 0, text)
        self.assertIn("4 of 6 points already done", text)
        self.assertEqual(len(read_csv(os.path.join(out, "results.csv"))), 6)

    def test_a_failing_point_is_recorded_and_the_others_complete(self):
        out = self.path("out")
        spec = failing_sweep(self.tmp)
        code, text = sweep(spec, "--out", out, "-j", "2")
        self.assertEqual(code, 1, text)
        rows = read_csv(os.path.join(out, "results.csv"))
        self.assertEqual([r["status"] for r in rows], ["ok", "ok", "failed", "failed"])
        for r in rows[2:]:
            self.assertEqual(r["exit_code"], "2")
            self.assertIn("broken.cimvp", r["error"])
            self.assertEqual(r["accuracy"], "")
        self.assertRegex(text, r"failed: point [0-9a-f]{12} \(model=\S+broken\.cimvp crossbar\.read_ns=100\.0\): .*broken\.cimvp")
        # a rerun tries the failed points again, and only them
        code, text = sweep(spec, "--out", out, "-j", "2")
        self.assertEqual(code, 1, text)
        self.assertIn("2 of 4 points already done", text)

    def test_a_failed_training_fails_its_points_with_the_trainers_message_and_is_tried_again(self):
        write(self.path("float.pt"), "not a state dict")
        spec = write(self.path("s.yaml"), "fixed: {images: 5, train.scheme: bwma, train.float_model: float.pt, "
                                          "train.smoke: true, train.train_images: 100}\n"
                                          "axes: {adc.bits: [8, 9]}\n")
        out = self.path("out")
        code, text = sweep(spec, "--out", out, "-j", "2")
        self.assertEqual(code, 1, text)
        rows = read_csv(os.path.join(out, "results.csv"))
        self.assertEqual([r["status"] for r in rows], ["failed", "failed"])
        self.assertEqual(rows[0]["train_id"], rows[1]["train_id"], "one training for both points")
        for r in rows:
            self.assertEqual(r["exit_code"], "2")
            self.assertRegex(r["error"], r"^training failed \(exit status 2\): .*--float-model \S*float\.pt: expected "
                                         r"the float CNN's state dict")
            self.assertIn("train_all.py", r["command"])
            self.assertEqual(r["accuracy"], "")
        status = json.loads(read(os.path.join(out, "models", rows[0]["train_id"], "status.json")))
        self.assertEqual((status["exit_code"], status["seed"], status["threads"]), (2, 1, 1))
        # a rerun trains again (the failure may have been the machine's) and fails alike
        os.remove(os.path.join(out, "models", rows[0]["train_id"], "train.log"))
        code, text = sweep(spec, "--out", out, "-j", "1")
        self.assertEqual(code, 1, text)
        self.assertTrue(os.path.isfile(os.path.join(out, "models", rows[0]["train_id"], "train.log")))

    def test_a_crashing_point_is_recorded_with_its_signal_and_rerun_once_fixed(self):
        out = self.path("out")
        # a cimvp that dies of SIGSEGV on the points of the cheaper ADC conversions
        fake = write(self.path("cimvp-crashing"), f"""#!/bin/sh
if [ "$1" = run ] && grep -q '"pj_per_conversion": 1.67' config.json; then kill -SEGV $$; fi
exec {CIMVP} "$@"
""")
        os.chmod(fake, 0o755)
        spec = small_sweep(self.tmp)
        code, text = sweep(spec, "--out", out, "-j", "2", "--cimvp", fake)
        self.assertEqual(code, 1, text)
        rows = read_csv(os.path.join(out, "results.csv"))
        self.assertEqual([r["status"] for r in rows], ["failed", "failed", "ok", "ok"])
        for r in rows[:2]:
            self.assertEqual(r["exit_code"], "-11")
            self.assertIn("killed by SIGSEGV", r["error"])
        code, text = sweep(spec, "--out", out, "-j", "2")
        self.assertEqual(code, 0, text)
        self.assertIn("2 of 4 points already done", text)
        self.assertEqual([r["status"] for r in read_csv(os.path.join(out, "results.csv"))], ["ok"] * 4)

    def test_a_second_sweep_into_the_same_directory_is_refused(self):
        out = self.path("out")
        os.makedirs(out)
        with open(os.path.join(out, "sweep.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            code, text = sweep(small_sweep(self.tmp), "--out", out)
        self.assertEqual(code, 2, text)
        self.assertIn("another cimvp sweep is running there", text)
        self.assertFalse(os.path.exists(os.path.join(out, "points")))

    def test_a_point_over_its_time_is_ended_and_recorded(self):
        out = self.path("out")
        spec = write(self.path("slow.yaml"), f"fixed: {{model: {model('fmnist-int8.cimvp')}, images: 10000}}\n"
                                             "axes: {crossbar.read_ns: [100.0]}\npoint_timeout: 1\n")
        t0 = time.monotonic()
        code, text = sweep(spec, "--out", out)
        self.assertLess(time.monotonic() - t0, 60)
        self.assertEqual(code, 1, text)
        r = read_csv(os.path.join(out, "results.csv"))[0]
        self.assertEqual(r["status"], "failed")
        self.assertEqual(r["exit_code"], "-9")
        self.assertIn("timed out after 1 s (point_timeout)", r["error"])


def slurm_missing():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import slurm_cluster
    return slurm_cluster.missing_programs()


class Slurm(Tmp):
    """A real single-node cluster (munged, slurmctld, slurmd as local processes) runs the sweeps."""

    @classmethod
    def setUpClass(cls):
        import slurm_cluster
        cls.cluster = slurm_cluster.SlurmCluster()
        cls.cluster.__enter__()
        cls.env = cls.cluster.env()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def run_both(self, spec, *slurm_args):
        local_out, slurm_out = self.path("local"), self.path("slurm")
        lcode, ltext = sweep(spec, "--out", local_out, "-j", "2")
        t0 = time.monotonic()
        scode, stext = sweep(spec, "--out", slurm_out, "--executor", "slurm", "--poll", "0.5", *slurm_args,
                             env=self.env)
        print(f"\nslurm sweep: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        self.assertEqual(scode, lcode, stext + "\n" + self.cluster.logs())
        return local_out, slurm_out, stext

    def assert_same_table(self, local_out, slurm_out):
        for read, name in ((read_csv, "results.csv"), (read_sqlite, "results.sqlite")):
            local_rows = read(os.path.join(local_out, name))
            slurm_rows = read(os.path.join(slurm_out, name))
            self.assertEqual(without_run_columns(slurm_rows), without_run_columns(local_rows))
        for r in read_csv(os.path.join(slurm_out, "results.csv")):
            self.assertEqual(r["executor"], "slurm")
            self.assertRegex(r["job_id"], r"^\d+_\d+$")

    def test_a_sweep_on_slurm_gives_the_local_executors_table(self):
        local_out, slurm_out, text = self.run_both(small_sweep(self.tmp))
        self.assertIn("submitted Slurm job", text)
        self.assert_same_table(local_out, slurm_out)
        with open(os.path.join(slurm_out, "results.csv")) as f:
            self.assertEqual(sum(1 for _ in f), 5)

    def test_failing_points_on_slurm_are_recorded_as_locally_in_chunks(self):
        local_out, slurm_out, text = self.run_both(failing_sweep(self.tmp), "--points-per-task", "3")
        self.assert_same_table(local_out, slurm_out)
        self.assertEqual([r["status"] for r in read_csv(os.path.join(slurm_out, "results.csv"))],
                         ["ok", "ok", "failed", "failed"])
        self.assertEqual(len({r["job_id"] for r in read_csv(os.path.join(slurm_out, "results.csv"))}), 2)

    def test_no_wait_then_collect(self):
        spec, out = small_sweep(self.tmp), self.path("nowait")
        code, text = sweep(spec, "--out", out, "--executor", "slurm", "--no-wait", env=self.env)
        self.assertEqual(code, 0, text)
        self.assertIn("--collect", text)
        self.assertEqual({r["status"] for r in read_csv(os.path.join(out, "results.csv"))} - {"ok"}, {"pending"})
        code, text, rows = self.collect_until_done(spec, out)
        self.assertEqual(code, 0, text)
        self.assertEqual([r["status"] for r in rows], ["ok"] * 4)

    def collect_until_done(self, spec, out, limit=300):
        deadline = time.monotonic() + limit
        while True:
            code, text = sweep(spec, "--out", out, "--collect", env=self.env)
            rows = read_csv(os.path.join(out, "results.csv"))
            if "pending" not in {r["status"] for r in rows}:
                return code, text, rows
            self.assertLess(time.monotonic(), deadline, text)
            time.sleep(1)

    def test_a_cancelled_task_records_its_point_as_stopped(self):
        spec = write(self.path("slow.yaml"), f"fixed: {{model: {model('fmnist-int8.cimvp')}, images: 10000}}\n"
                                             "axes: {crossbar.read_ns: [100.0]}\n")
        out = self.path("cancel")
        code, text = sweep(spec, "--out", out, "--executor", "slurm", "--no-wait", env=self.env)
        self.assertEqual(code, 0, text)
        job = re.search(r"submitted Slurm job (\d+)", text).group(1)
        # a rerun while the job is queued submits nothing again
        code, text = sweep(spec, "--out", out, "--executor", "slurm", "--no-wait", env=self.env)
        self.assertEqual(code, 0, text)
        self.assertIn("1 point is still in a queued Slurm job: not submitted again", text)
        self.assertNotIn("submitted Slurm job", text)
        points = os.path.join(out, "points")
        deadline = time.monotonic() + 120
        while not any(os.path.exists(os.path.join(points, p, "stdout.log")) for p in os.listdir(points)):
            self.assertLess(time.monotonic(), deadline, "the point never started\n" + self.cluster.logs())
            time.sleep(0.3)
        time.sleep(1)
        subprocess.run(["scancel", job], env=self.env, check=True)
        code, text, rows = self.collect_until_done(spec, out, 120)
        self.assertEqual(code, 1, text)
        self.assertEqual(rows[0]["status"], "failed")
        self.assertIn("stopped by SIGTERM (Slurm's time limit or scancel)", rows[0]["error"])

    def test_an_unreachable_slurm_fails_clearly_and_leaves_the_table(self):
        spec, out = small_sweep(self.tmp), self.path("out")
        code, text = sweep(spec, "--out", out, "-j", "2")
        self.assertEqual(code, 0, text)
        table = os.path.join(out, "results.csv")
        with open(table, "rb") as f:
            before = f.read()
        stamp = os.stat(table).st_mtime_ns
        spec = write(self.path("small.yaml"), read(spec).replace("[1.67, 3.34]", "[1.67, 2.5, 3.34]"))
        # a controller nobody answers on
        with open(self.cluster.conf) as f:
            conf = re.sub(r"SlurmctldPort=\d+", "SlurmctldPort=1", f.read())
        dead = dict(self.env, SLURM_CONF=write(self.path("dead.conf"), conf))
        t0 = time.monotonic()
        code, text = sweep(spec, "--out", out, "--executor", "slurm", env=dead)
        self.assertEqual(code, 3, text)
        self.assertLess(time.monotonic() - t0, 120)
        self.assertRegex(text, r"sbatch refused the job array \(.*Unable to contact slurm controller")
        self.assertIn("nothing was submitted and the table is as it was", text)
        # no Slurm at all
        nopath = dict(self.env, PATH="/nonexistent")
        code, text = sweep(spec, "--out", out, "--executor", "slurm", env=nopath)
        self.assertEqual(code, 3, text)
        self.assertIn("sbatch is not on PATH", text)
        with open(table, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(os.stat(table).st_mtime_ns, stamp)


class SlurmWait(Tmp):
    """The wait for a submitted job array when squeue stops answering, with a stand-in squeue on PATH (no
    cluster needed): it keeps polling through short losses and gives up, naming --collect, after a long one."""

    def setUp(self):
        super().setUp()
        sys.path.insert(0, os.path.join(SOURCE, "sw", "python"))
        from cimvp_scale import slurm
        self.slurm = slurm
        self.bin = self.path("bin")
        os.makedirs(self.bin)
        self.calls = self.path("calls")
        self.old_path = os.environ["PATH"]
        os.environ["PATH"] = self.bin + os.pathsep + self.old_path
        self.out = self.path("out")
        os.makedirs(self.out)

    def tearDown(self):
        os.environ["PATH"] = self.old_path
        super().tearDown()

    def fake_squeue(self, failures, then):
        """squeue failing `failures` times like a lost controller, then listing `then` (job ids)."""
        listing = "".join(f"echo {j}\n" for j in then)
        write(os.path.join(self.bin, "squeue"),
              f"#!/bin/sh\necho x >> {self.calls}\n"
              f"if [ $(wc -l < {self.calls}) -le {failures} ]; then\n"
              "  echo 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2; exit 1\nfi\n"
              f"{listing}exit 0\n")
        os.chmod(os.path.join(self.bin, "squeue"), 0o755)

    def calls_made(self):
        with open(self.calls) as f:
            return len(f.readlines())

    def test_a_short_loss_of_squeue_is_retried_until_the_job_has_left_the_queue(self):
        self.fake_squeue(failures=3, then=[])
        log = self.path("log")
        with open(log, "w") as stream:
            self.slurm.wait(self.out, "41", ["p0"], poll=0.05, lost_after=30, stream=stream)
        self.assertEqual(self.calls_made(), 4)
        self.assertEqual(read(log).count("Unable to contact slurm controller (connect failure); trying again"), 3)

    def test_a_long_loss_of_squeue_gives_up_naming_collect(self):
        self.fake_squeue(failures=10**6, then=["41"])
        with open(self.path("log"), "w") as stream, \
                self.assertRaisesRegex(self.slurm.SlurmError, r"squeue failed: slurm_load_jobs error: Unable to "
                                       r"contact slurm controller .*, for 0\.3 s: job 41 may still run; collect "
                                       r"its results later with --collect"):
            self.slurm.wait(self.out, "41", ["p0"], poll=0.05, lost_after=0.3, stream=stream)
        self.assertGreater(self.calls_made(), 1)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


class Plot(Tmp):
    """scripts/plot_sweep.py on a table written here: the figures as PNG, the Pareto front."""

    COLS = ["point", "index", "adc.bits", "crossbar.cell_bits", "accuracy", "energy_per_image_nj", "status"]
    ROWS = [  # adc.bits, cell_bits, accuracy, energy
        ("a", 0, 4, 1, 0.80, 10.0, "ok"),
        ("b", 1, 4, 2, 0.85, 12.0, "ok"),
        ("c", 2, 6, 1, 0.84, 15.0, "ok"),  # beaten by b: more energy, less accuracy
        ("d", 3, 6, 2, 0.90, 20.0, "ok"),
        ("e", 4, 8, 1, 0.90, 25.0, "ok"),  # beaten by d: same accuracy, more energy
        ("f", 5, 8, 2, 0.95, 30.0, "ok"),
        ("g", 6, 3, 1, 0.99, 1.0, "failed"),  # not ok: not drawn
    ]

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, os.path.join(SOURCE, "scripts"))
        import plot_sweep
        cls.plot = plot_sweep

    def table(self):
        path = self.path("results.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.COLS)
            w.writerows(self.ROWS)
        return path

    def run_plot(self, *args):
        p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "plot_sweep.py"), *args],
                           capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout + p.stderr

    def test_the_pareto_front_is_the_points_nothing_beats(self):
        pts = [(r[5], r[4]) for r in self.ROWS[:6]]
        self.assertEqual(self.plot.pareto_front(pts), [0, 1, 3, 5])
        self.assertEqual(self.plot.pareto_front([(1.0, 0.5), (1.0, 0.5), (2.0, 0.5), (1.0, 0.4)]), [0, 1])
        self.assertEqual(self.plot.pareto_front([(3.0, 0.9), (None, 1.0), (float("nan"), 1.0), (1.0, 0.1)]), [3, 0])
        self.assertEqual(self.plot.pareto_front([]), [])

    def test_line_and_pareto_figures_are_pngs(self):
        table = self.table()
        lines = self.path("lines.png")
        code, out = self.run_plot(table, "--x", "adc.bits", "--y", "accuracy", "--lines", "crossbar.cell_bits",
                                  "-o", lines)
        self.assertEqual(code, 0, out)
        w, h = png_size(lines)
        self.assertGreater(w, 100)
        self.assertGreater(h, 100)
        pareto = self.path("pareto.png")
        code, out = self.run_plot(table, "--pareto", "-o", pareto)
        self.assertEqual(code, 0, out)
        self.assertIsNotNone(png_size(pareto))

    def test_the_series_take_the_ok_rows_and_refuse_ambiguous_points(self):
        _, rows, axes = self.plot.read_table(self.table())
        rows = self.plot.select(rows, [])
        series = self.plot.line_series(rows, "adc.bits", "accuracy", "crossbar.cell_bits", False, axes)
        self.assertEqual(series, {1: [(4, 0.80), (6, 0.84), (8, 0.90)], 2: [(4, 0.85), (6, 0.90), (8, 0.95)]})
        with self.assertRaisesRegex(self.plot.PlotError, r"2 points at adc\.bits=4: they differ in crossbar\.cell_bits, energy_per_image_nj;"):
            self.plot.line_series(rows, "adc.bits", "accuracy", None, False, axes)
        mean = self.plot.line_series(rows, "adc.bits", "accuracy", None, True, axes)
        self.assertAlmostEqual(mean[None][0][1], 0.825)
        code, out = self.run_plot(self.table(), "--x", "adc.bits", "--y", "accuracy", "-o", self.path("x.png"))
        self.assertEqual(code, 2, out)
        self.assertIn("they differ in crossbar.cell_bits", out)
        code, out = self.run_plot(self.table(), "--x", "adc.bits", "--y", "acc", "-o", self.path("x.png"))
        self.assertEqual(code, 2, out)
        self.assertIn("--y acc: no such column", out)

    def test_a_sqlite_table_plots_like_the_csv(self):
        db_path = self.path("results.sqlite")
        db = sqlite3.connect(db_path)
        db.execute("CREATE TABLE points (" + ", ".join(f'"{c}"' for c in self.COLS) + ")")
        db.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?, ?, ?)", self.ROWS)
        db.execute("CREATE TABLE sweep (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO sweep VALUES ('axes', ?)", (json.dumps(["adc.bits", "crossbar.cell_bits"]),))
        db.commit()
        db.close()
        cols, rows, axes = self.plot.read_table(db_path)
        _, csv_rows, csv_axes = self.plot.read_table(self.table())
        self.assertEqual(rows, csv_rows)
        self.assertEqual(axes, ["adc.bits", "crossbar.cell_bits"])
        self.assertIsNone(csv_axes)
        with self.assertRaisesRegex(self.plot.PlotError, r"they differ in crossbar\.cell_bits;"):
            self.plot.line_series(self.plot.select(rows, []), "adc.bits", "accuracy", None, False, axes)
        code, out = self.run_plot(db_path, "--pareto", "-o", self.path("p.png"))
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    CIMVP, SOURCE = sys.argv[1], sys.argv[2]
    names = sys.argv[3:]
    if any(n.split(".")[0] == "Slurm" for n in names):
        missing = slurm_missing()
        if missing:
            print(f"{', '.join(missing)} not installed (scripts/setup.sh installs munge and slurm-wlm): the Slurm "
                  "executor not checked, SKIPPED")
            sys.exit(SKIP)
    unittest.main(argv=[sys.argv[0], "-v", *names])
