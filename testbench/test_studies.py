"""The studies of docs/studies.md: each study's test-sized sweep trains and runs its points into a table of
the right shape, every point agreeing with the reference, and a rerun trains nothing again (BwmaActBitsCI);
the SWIS hardware table holds every point and `cimvp swis` gives its rows again (SwisHardwareCI); the SWIS
accuracy table holds every model, target and mode, and `cimvp swis --model` gives rows of its shape
(SwisAccuracyCI); the group-size table likewise, with the compression `cimvp swis --group-size` gives
(SwisGroupSizeCI); the frames-against-group-size table holds every point, its M = 4 rows are the hardware
table's, and `cimvp swis --group-size 8` gives its rows again (SwisGroupSizeHardwareCI); `cimvp swis --pe-widths` gives the PE-width table again (SwisPeWidthCI); the fine-tuning tables' shape, a graph network fine-tuned at N and the CNN fine-tuned on the double-shift schedule kept by cimvp swis (SwisFinetuneCI); the page is what scripts/render_studies.py renders from the committed tables (Page).

Run by ctest as /usr/bin/python3 test_studies.py <cimvp> <source dir> [test names...]."""
import contextlib
import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

CIMVP = None
SOURCE = None


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path, rows, columns=None):
    """Rows (dicts) to a CSV with the columns given, else the first row's keys."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns or list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


class BwmaActBitsCI(unittest.TestCase):
    """configs/sweeps/bwma_act_bits_ci.yaml: the BWMA activation-bit study at test size."""
    SPEC = "configs/sweeps/bwma_act_bits_ci.yaml"
    A_VALUES = ("2", "4")
    AXES = ["train.bwma_weights", "train.bwma_a_bits", "crossbar.dac_bits", "adc.bits"]
    FIGURES = ["accuracy", "agreement", "energy_per_image_nj", "energy_per_image_pj.adc",
               "energy_per_image_pj.crossbar", "energy_per_image_pj.shift_add", "latency_per_image_us", "cycles"]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cimvp-studies-test-")
        cls.out = os.path.join(cls.tmp, "out")
        cls.first = cls.sweep()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def sweep(cls, *extra):
        p = subprocess.run([CIMVP, "sweep", os.path.join(SOURCE, cls.SPEC), "--out", cls.out, "-j", "1", *extra],
                           capture_output=True, text=True, timeout=600)
        return p.returncode, p.stdout + p.stderr

    def test_every_point_trains_runs_and_agrees_with_the_reference(self):
        code, out = self.first
        self.assertEqual(code, 0, out)
        rows = read_csv(os.path.join(self.out, "results.csv"))
        self.assertEqual(list(rows[0]), ["point", "index"] + self.AXES + self.FIGURES +
                         ["train_id", "train_seed", "train_threads", "train_seconds", "train_accuracy", "status",
                          "exit_code", "error", "command", "run_seconds", "host", "executor", "job_id"])
        self.assertEqual([r["train.bwma_a_bits"] for r in rows], list(self.A_VALUES))
        for r in rows:
            self.assertEqual(r["status"], "ok", r["error"])
            self.assertEqual(float(r["agreement"]), 1.0, f"A = {r['train.bwma_a_bits']}: the platform disagreed")
            self.assertEqual(r["crossbar.dac_bits"], r["train.bwma_a_bits"])
            self.assertTrue(0.0 <= float(r["accuracy"]) <= 1.0)
            self.assertEqual((r["train_seed"], r["train_threads"]), ("1", "1"))
            self.assertGreater(float(r["train_seconds"]), 0)
            self.assertIn(f"/models/{r['train_id']}/fmnist-bwma.cimvp", r["command"])
        self.assertEqual(len({r["train_id"] for r in rows}), len(rows), "each A trains its own model")
        # the ADC's energy follows its resolution (technology-derived costs): more bits at A = 4
        self.assertGreater(float(rows[1]["energy_per_image_pj.adc"]), 2 * float(rows[0]["energy_per_image_pj.adc"]))

    def test_the_trained_model_has_the_activation_bits_asked_for(self):
        sys.path.insert(0, os.path.join(SOURCE, "sw", "python"))
        from cimvp_frontend import modelfile
        for r in read_csv(os.path.join(self.out, "results.csv")):
            m = modelfile.read(os.path.join(self.out, "models", r["train_id"], "fmnist-bwma.cimvp"))
            a = int(r["train.bwma_a_bits"])
            self.assertEqual([L.a_in_bits for L in m.layers], [8, a, a, 8])
            self.assertEqual([L.binary for L in m.layers], [0, 1, 1, 0])

    def test_a_rerun_trains_nothing_and_a_lost_point_runs_again_on_its_model(self):
        rows = read_csv(os.path.join(self.out, "results.csv"))
        models = {r["train_id"]: os.stat(os.path.join(self.out, "models", r["train_id"], "fmnist-bwma.cimvp")).st_mtime_ns
                  for r in rows}
        os.remove(os.path.join(self.out, "points", rows[0]["point"], "status.json"))
        code, out = self.sweep()
        self.assertEqual(code, 0, out)
        self.assertIn("1 of 2 points already done", out)
        again = read_csv(os.path.join(self.out, "results.csv"))
        for tid, mtime in models.items():
            self.assertEqual(os.stat(os.path.join(self.out, "models", tid, "fmnist-bwma.cimvp")).st_mtime_ns, mtime,
                             "a trained model is not trained again")
        skip = ("run_seconds",)
        self.assertEqual([{k: v for k, v in r.items() if k not in skip} for r in again],
                         [{k: v for k, v in r.items() if k not in skip} for r in rows])

    def test_the_study_page_renders_from_this_table(self):
        page = os.path.join(self.tmp, "page.md")
        p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "render_studies.py"), "--study",
                            "bwma_act_bits", "--table", os.path.join(self.out, "results.csv"), "--output", page],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(page) as f:
            text = f.read()
        for r in read_csv(os.path.join(self.out, "results.csv")):
            self.assertRegex(text, rf"\| BWMA closed form \| {r['train.bwma_a_bits']} \| {r['adc.bits']} \| "
                                   rf"{100 * float(r['accuracy']):.2f} % \| 1\.0000 \|")
        self.assertIn("Every point follows it.", text)
        self.assertIn("Verdict: **not decided**: BWMA points missing for A = 1, 3, 6, 8", text)


class ColumnQuantCI(unittest.TestCase):
    """configs/sweeps/columnquant_ci.yaml: the ColumnQuant study at test size."""
    SPEC = "configs/sweeps/columnquant_ci.yaml"
    AXES = ["train.col_w_gran", "train.col_ps_gran", "train.col_ps_scales", "train.col_var_sigma",
            "train.col_mapping", "crossbar.mapping", "nonideal.conductance_sigma"]
    FIGURES = ["accuracy", "agreement", "energy_per_image_pj.adc"]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cimvp-studies-test-")
        cls.out = os.path.join(cls.tmp, "out")
        p = subprocess.run([CIMVP, "sweep", os.path.join(SOURCE, cls.SPEC), "--out", cls.out, "-j", "2"],
                           capture_output=True, text=True, timeout=600)
        cls.first = p.returncode, p.stdout + p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def rows(self):
        return read_csv(os.path.join(self.out, "results.csv"))

    def test_every_point_trains_runs_and_agrees_with_the_reference(self):
        code, out = self.first
        self.assertEqual(code, 0, out)
        rows = self.rows()
        self.assertEqual(list(rows[0])[:2 + len(self.AXES) + len(self.FIGURES)],
                         ["point", "index"] + self.AXES + self.FIGURES)
        self.assertEqual([(r["train.col_w_gran"], r["train.col_var_sigma"], r["train.col_mapping"],
                           r["nonideal.conductance_sigma"]) for r in rows],
                         [("layer", "0.0", "offset", "0.0"), ("layer", "0.0", "offset", "0.2"),
                          ("column", "0.1", "offset", "0.0"), ("column", "0.1", "offset", "0.2"),
                          ("column", "0.1", "differential", "0.0"), ("column", "0.1", "differential", "0.2")])
        for r in rows:
            self.assertEqual(r["status"], "ok", r["error"])
            self.assertEqual(float(r["agreement"]), 1.0, f"point {r['point']}: the platform disagreed")
            self.assertTrue(0.0 <= float(r["accuracy"]) <= 1.0)
        # each training trains once, whatever the variation
        self.assertEqual(len({r["train_id"] for r in rows}), 3)
        self.assertEqual(rows[0]["train_id"], rows[1]["train_id"])
        self.assertEqual(rows[4]["train_id"], rows[5]["train_id"])
        # the granularity changes no cost: both models convert as many partial sums; differential mapping
        # converts a positive and a negative column group per output
        self.assertEqual(rows[0]["energy_per_image_pj.adc"], rows[2]["energy_per_image_pj.adc"])
        self.assertAlmostEqual(float(rows[4]["energy_per_image_pj.adc"]) / float(rows[2]["energy_per_image_pj.adc"]),
                               2.0, places=6)

    def test_the_trained_models_have_the_granularity_asked_for(self):
        sys.path.insert(0, os.path.join(SOURCE, "sw", "python"))
        import numpy as np
        from cimvp_frontend import modelfile
        for r in self.rows():
            m = modelfile.read(os.path.join(self.out, "models", r["train_id"], "fmnist-columnwise.cimvp"))
            self.assertEqual(m.adc_bits, 3)
            for L in m.layers:
                steps, mults = np.unique(L.adc_step), np.unique(L.col_mult)
                if r["train.col_w_gran"] == "layer":  # one weight scale and one ADC table for the layer
                    self.assertEqual(len(mults), 1, f"layer {L}")
                    self.assertEqual(len(steps), 1)
                    self.assertEqual(len(np.unique(L.adc_base)), 1)
                else:
                    self.assertGreater(len(steps), 1)


def load_script(name):
    """scripts/NAME.py as a module."""
    import importlib.util
    path = os.path.join(SOURCE, "scripts", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_render_studies():
    return load_script("render_studies")


class SwisHardwareCI(unittest.TestCase):
    """docs/studies/swis_hardware.csv, the SWIS study's hardware table: every point of its grid is there, and
    `cimvp swis` on one target of the ResNet-18 trace gives its rows again."""

    @classmethod
    def setUpClass(cls):
        cls.rs = load_render_studies()
        cls.study = cls.rs.SwisHardware()
        cls.rows = read_csv(cls.study.table_path())

    def test_the_table_has_every_mode_at_every_target_and_the_papers_points(self):
        st = self.study
        with open(st.table_path(), newline="") as f:
            self.assertEqual(next(csv.reader(f)), st.COLUMNS)
        for net in st.NETWORKS:
            grid = {(r["n"], r["mode"]): r for r in self.rows if r["network"] == net and r["point"] == st.GRID}
            expected = {(f"{n:g}", m) for n in st.TARGETS for m in st.MODES
                        if not (m in st.BIT_SERIAL and n != int(n))}
            self.assertEqual(set(grid), expected, net)
            for (n, m), r in grid.items():
                no_schedule = m in ("DS", "C-DS") and float(n) < 2  # double shift: even counts, at least 2
                self.assertEqual(r["status"], "no schedule" if no_schedule else "ok", (net, n, m))
                if not no_schedule:
                    self.assertGreater(float(r["frames_per_second"]), 0)
                    parts = sum(float(r[k]) for k in ("energy_uj.pe", "energy_uj.buffers", "energy_uj.dram"))
                    self.assertAlmostEqual(parts, float(r["energy_uj"]), delta=0.01)
                    self.assertAlmostEqual(float(r["frames_per_joule"]), 1e6 / float(r["energy_uj"]),
                                           delta=1e-3 * float(r["frames_per_joule"]))
            # at an even N double shift takes N / 2 cycles a group against N: faster, at most twice (the skew)
            for n in ("2", "4"):
                speedup = float(grid[(n, "DS")]["frames_per_second"]) / float(grid[(n, "SS")]["frames_per_second"])
                self.assertTrue(1 < speedup <= 2, f"{net} N = {n}: DS/SS {speedup}")
            paper = [r for r in self.rows if r["network"] == net and r["point"] != st.GRID]
            self.assertEqual(len({r["point"] for r in paper}), 2, f"{net}: the paper's two operating points")
            for r in paper:
                self.assertGreater(float(r["paper_frames_per_second"]), 0)
                self.assertGreater(float(r["paper_frames_per_joule"]), 0)

    def test_cimvp_swis_on_one_target_gives_its_rows_again(self):
        st = self.study
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            cmd = st.command(CIMVP, "resnet18", out)
            cmd[cmd.index("--targets") + 1] = "2"
            p = subprocess.run(cmd + ["--quiet"], cwd=SOURCE, capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(out) as f:
                again = st.rows_of(json.load(f))
        strip = lambda r: {k: str(r.get(k, "")) for k in st.COLUMNS if k != "wall_seconds"}  # noqa: E731
        committed = [strip(r) for r in self.rows if r["network"] == "resnet18" and r["n"] == "2" and
                     r["point"] == st.GRID or r["network"] == "resnet18" and r["point"] != st.GRID]
        papers = sum(r["network"] == "resnet18" and r["point"] != st.GRID for r in self.rows)
        self.assertEqual(len(committed), len(st.MODES) + papers)
        # the table's cells as csv wrote them: compare through the same writer
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=st.COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(again)
        buf.seek(0)
        self.assertEqual([strip(r) for r in csv.DictReader(buf)], committed)

    def test_its_table_comes_from_run_not_from_a_sweep(self):
        script = os.path.join(SOURCE, "scripts", "render_studies.py")
        p = subprocess.run(["/usr/bin/python3", script, "--study", "swis_hardware", "--from", "nowhere"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("has no sweep", p.stderr)
        p = subprocess.run(["/usr/bin/python3", script, "--study", "bwma_act_bits", "--run", CIMVP],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("comes from a sweep", p.stderr)

    def test_a_changed_table_is_caught(self):
        rows = [dict(r) for r in self.rows]
        r = next(r for r in rows if r["status"] == "ok" and r["mode"] == "DS")
        r["frames_per_second"] = repr(float(r["frames_per_second"]) * 1.01)
        with tempfile.TemporaryDirectory() as tmp:
            changed = os.path.join(tmp, "t.csv")
            write_csv(changed, rows, self.study.COLUMNS)
            p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "render_studies.py"), "--check",
                                "--study", "swis_hardware", "--table", changed], capture_output=True, text=True,
                               timeout=300)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("differs from what its tables give", p.stderr)


class Page(unittest.TestCase):
    """docs/studies.md is what its committed tables render to."""

    def test_the_page_matches_its_tables(self):
        p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "render_studies.py"), "--check"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_a_changed_table_is_caught(self):
        with tempfile.TemporaryDirectory() as tmp:
            table = os.path.join(SOURCE, "docs", "studies", "bwma_act_bits.csv")
            rows = read_csv(table)
            ok = [r for r in rows if r["status"] == "ok"]
            self.assertTrue(ok, "the committed table has points")
            ok[0]["accuracy"] = repr(float(ok[0]["accuracy"]) - 0.01)
            changed = os.path.join(tmp, "t.csv")
            write_csv(changed, rows)
            p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "render_studies.py"), "--check",
                                "--study", "bwma_act_bits", "--table", changed], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("differs from what its tables give", p.stderr)


class SwisGroupSizeHardwareCI(unittest.TestCase):
    """docs/studies/swis_group_size_hardware.csv, frames/s and frames/J against the group size: every network, M,
    target and mode is there; its M = 4 rows are the hardware study's; and `cimvp swis --group-size 8` on one target
    of the ResNet-18 trace gives its rows again."""

    @classmethod
    def setUpClass(cls):
        cls.rs = load_render_studies()
        cls.study = cls.rs.SwisGroupSizeHardware()
        cls.rows = read_csv(cls.study.table_path())

    def test_the_table_has_every_mode_at_every_group_size_and_target(self):
        st = self.study
        with open(st.table_path(), newline="") as f:
            self.assertEqual(next(csv.reader(f)), st.COLUMNS)
        for net in st.NETWORKS:
            for m in st.GROUP_SIZES:
                grid = {(r["n"], r["mode"]): r for r in self.rows if r["network"] == net and r["group_size"] == str(m)}
                expected = {(f"{n:g}", mo) for n in st.TARGETS for mo in st.MODES
                            if not (mo in st.BIT_SERIAL and n != int(n))}
                self.assertEqual(set(grid), expected, (net, m))
                for (n, mo), r in grid.items():
                    no_schedule = mo in ("DS", "C-DS") and float(n) < 2
                    self.assertEqual(r["status"], "no schedule" if no_schedule else "ok", (net, m, n, mo))
                    if not no_schedule:
                        self.assertAlmostEqual(float(r["frames_per_joule"]), 1e6 / float(r["energy_uj"]),
                                               delta=1e-3 * float(r["frames_per_joule"]))
                # FXP does not depend on N
                self.assertEqual(len({grid[(f"{n:g}", "FXP")]["cycles"] for n in st.TARGETS}), 1, (net, m))

    def test_its_group_size_4_rows_are_the_hardware_studys(self):
        st = self.study
        hw = {(r["network"], r["n"], r["mode"]): r for r in read_csv(self.rs.SwisHardware().table_path())
              if r["point"] == self.rs.SwisHardware.GRID}
        mine = [r for r in self.rows if r["group_size"] == "4"]
        self.assertEqual(len(mine), len(hw))
        keys = [c for c in st.COLUMNS if c not in ("group_size", "wall_seconds")]
        for r in mine:
            self.assertEqual({k: r[k] for k in keys}, {k: hw[(r["network"], r["n"], r["mode"])][k] for k in keys})

    def test_cimvp_swis_at_group_size_8_on_one_target_gives_its_rows_again(self):
        st = self.study
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            cmd = st.command(CIMVP, "resnet18", out, 8)
            cmd[cmd.index("--targets") + 1] = "2"
            p = subprocess.run(cmd + ["--quiet"], cwd=SOURCE, capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(out) as f:
                report = json.load(f)
        self.assertEqual(report["group_size"], 8)
        again = {r["mode"]: r for r in self.rs.SwisHardware.rows_of(st, report) if r["point"] == st.GRID}
        committed = {r["mode"]: r for r in self.rows if r["network"] == "resnet18" and r["group_size"] == "8" and
                     r["n"] == "2"}
        self.assertEqual(set(again), set(committed))
        for mode, r in committed.items():
            for k in ("pe_array", "cycles", "frames_per_second", "frames_per_joule", "energy_uj", "status"):
                self.assertEqual(str(again[mode].get(k, "")), r[k], (mode, k))


class SwisAccuracyCI(unittest.TestCase):
    """docs/studies/swis_accuracy.csv, the SWIS study's accuracy table: every model, target and mode, with an
    accuracy exactly where the mode is defined; and `cimvp swis --model` on a few images gives rows of that
    shape."""

    @classmethod
    def setUpClass(cls):
        cls.rs = load_render_studies()
        cls.study = cls.rs.SwisAccuracy()
        cls.rows = read_csv(cls.study.table_path())

    @staticmethod
    def defined(n, mode):
        if mode in ("DS", "C-DS"):
            return n >= 2  # double shift: even counts, at least 2
        if mode in ("Wgt", "Act"):
            return n == int(n)  # N bits: integral targets only
        return True

    def test_the_table_has_every_mode_at_every_target_of_every_model(self):
        st = self.study
        with open(st.table_path(), newline="") as f:
            self.assertEqual(next(csv.reader(f)), st.COLUMNS)
        for model, _, limit in st.MODELS:
            rows = [r for r in self.rows if r["model"] == model]
            self.assertEqual({(float(r["n"]), r["mode"]) for r in rows},
                             {(float(n), m) for n in st.TARGETS for m in st.MODES}, model)
            self.assertEqual(len(rows), len(st.TARGETS) * len(st.MODES), model)
            self.assertEqual({r["images"] for r in rows}, {str(limit)}, model)
            self.assertEqual(len({r["int8_accuracy"] for r in rows}), 1, model)
            for r in rows:
                n = float(r["n"])
                self.assertEqual(r["accuracy"] != "", self.defined(n, r["mode"]), (model, n, r["mode"]))
                if r["accuracy"]:
                    self.assertTrue(0.0 <= float(r["accuracy"]) <= 1.0, (model, n, r["mode"]))

    def test_cimvp_swis_on_few_images_gives_rows_of_the_same_shape(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            cmd = self.study.command(CIMVP, "fmnist-int8", 200, out)
            cmd[cmd.index("--targets") + 1] = "1,2.5,3,8"
            p = subprocess.run(cmd + ["--quiet"], cwd=SOURCE, capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(out) as f:
                acc = json.load(f)["accuracy"]
        self.assertEqual(acc["images"], 200)
        self.assertEqual([row["n"] for row in acc["rows"]], [1, 2.5, 3, 8])
        for row in acc["rows"]:
            for mode in self.study.MODES:
                self.assertEqual(row.get(mode) is not None, self.defined(row["n"], mode), (row["n"], mode))
        # at 8 shifts or bits nothing is dropped: every mode is the int8 network
        self.assertEqual({row[m] for row in acc["rows"] if row["n"] == 8 for m in self.study.MODES}, {acc["int8"]})


class SwisGroupSizeCI(unittest.TestCase):
    """docs/studies/swis_group_size.csv, the SWIS group-size study: every model, group size, target and mode, an
    accuracy and a compression exactly where the mode is defined; and `cimvp swis --group-size 16` on a few images
    gives rows of that shape, the int8 network at N = 8 and the table's compression (which no image changes)."""

    @classmethod
    def setUpClass(cls):
        cls.rs = load_render_studies()
        cls.study = cls.rs.SwisGroupSize()
        cls.rows = read_csv(cls.study.table_path())

    def test_the_table_has_every_mode_at_every_group_size_and_target_of_every_model(self):
        st = self.study
        with open(st.table_path(), newline="") as f:
            self.assertEqual(next(csv.reader(f)), st.COLUMNS)
        for model, _, limit in st.MODELS:
            rows = [r for r in self.rows if r["model"] == model]
            self.assertEqual(sorted((int(r["group_size"]), float(r["n"]), r["mode"]) for r in rows),
                             sorted((m, float(n), mode) for m in st.GROUP_SIZES for n in st.TARGETS for mode in st.MODES),
                             model)
            self.assertEqual({r["images"] for r in rows}, {str(limit)}, model)
            self.assertEqual(len({r["int8_accuracy"] for r in rows}), 1, model)
            for r in rows:
                defined = r["mode"] not in ("DS", "C-DS") or float(r["n"]) >= 2
                key = (model, r["group_size"], r["n"], r["mode"])
                self.assertEqual(r["accuracy"] != "", defined, key)
                self.assertEqual(r["compression"] != "", defined, key)
                if defined:
                    self.assertTrue(0.0 <= float(r["accuracy"]) <= 1.0, key)
                    self.assertGreater(float(r["compression"]), 0.0, key)

    def test_cimvp_swis_at_group_size_16_gives_the_tables_compression(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            cmd = self.study.command(CIMVP, "fmnist-int8", 16, 100, out)
            cmd[cmd.index("--targets") + 1] = "1,8"
            p = subprocess.run(cmd + ["--quiet"], cwd=SOURCE, capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(out) as f:
                report = json.load(f)
        self.assertEqual(report["group_size"], 16)
        self.assertEqual(report["array"]["group_size"], 16, "the array's figures are for PEs of 16 lanes")
        acc = report["accuracy"]
        self.assertEqual([row["n"] for row in acc["rows"]], [1, 8])
        self.assertEqual({row[m] for row in acc["rows"] if row["n"] == 8 for m in self.study.MODES}, {acc["int8"]})
        table = {(r["mode"]): r["compression"] for r in self.rows
                 if r["model"] == "fmnist-int8" and r["group_size"] == "16" and float(r["n"]) == 1 and r["compression"]}
        for mode, c in table.items():
            self.assertAlmostEqual(acc["rows"][0]["compression"][mode], float(c), places=9, msg=mode)


class SwisPeWidthCI(unittest.TestCase):
    """docs/studies/swis_pe_width.csv, the SWIS PE-width comparison: `cimvp swis --pe-widths` gives the committed
    table again, every width, PE and shift count."""

    def test_cimvp_swis_pe_widths_gives_the_committed_table(self):
        rs = load_render_studies()
        study = rs.SwisPeWidth()
        committed = read_csv(study.table_path())
        with tempfile.TemporaryDirectory() as tmp:
            table = os.path.join(tmp, "t.csv")
            study.generate(CIMVP, table)
            again = read_csv(table)
        self.assertEqual(sorted((r["lanes"], r["pe"], r["shifts"]) for r in committed),
                         sorted((str(m), pe, str(n)) for m in study.LANES for pe in study.PES for n in study.SHIFTS))
        self.assertEqual(again, committed)


class SwisFinetuneCI(unittest.TestCase):
    """docs/studies/swis_finetune.csv, SWIS-aware fine-tuning: a post-training and a fine-tuned row for every
    variant and N; a fine-tuned model's accuracy at its N is its own int8 accuracy (cimvp swis kept the trained
    weights), and the post-training rows measure the one shipped model. The training itself (an hour) is not rerun;
    python.SwisFakeQuantEqualsContract checks the fake-quantizer it trains through."""

    def test_the_table_has_both_trainings_of_every_variant_and_n(self):
        study = load_render_studies().SwisFinetune()
        self.check_table(study, study.table_path())

    def test_each_graph_networks_table_has_both_trainings_of_every_variant_and_n(self):
        study = load_render_studies().SwisFinetuneGraph()
        for net, _ in study.NETWORKS:
            with self.subTest(net):
                self.check_table(study, study.net_table(net))

    def test_every_network_has_both_trainings_in_groups_of_every_m(self):
        """The group-size rows (group_size not 4): SWIS at N = 2, and any other (variant, N) trained in groups of M,
        post-training and fine-tuned in groups of each M of the study, every fine-tuned model kept by cimvp swis
        --group-size M (its accuracy its int8 one); one post-training row per point, and a point fine-tuned with
        several seeds has one row per seed."""
        study = load_render_studies().SwisFinetuneGroupSize()
        for net, _, fname in study.NETWORKS:
            with self.subTest(net):
                rows = [r for r in read_csv(os.path.join(SOURCE, "docs", "studies", fname)) if r["group_size"] != "4"]
                points = study.points(rows)
                self.assertEqual(points[0], ("swis", float(study.N)))
                key = lambda r: (r["variant"], float(r["n"]), int(r["group_size"]), r["training"])
                self.assertEqual({key(r) for r in rows},
                                 {(v, n, m, t) for v, n in points for m in study.SIZES if m != 4
                                  for t in ("post", "finetuned")})
                post = [key(r) for r in rows if r["training"] == "post"]
                self.assertEqual(len(post), len(set(post)))
                fine = [key(r) + (r["seed"],) for r in rows if r["training"] == "finetuned"]
                self.assertEqual(len(fine), len(set(fine)), "a fine-tuned point's seeds must differ")
                for r in rows:
                    self.assertIn(r["variant"], dict(study.VARIANTS), r)
                    if r["training"] == "finetuned":
                        self.assertEqual(r["accuracy"], r["int8_accuracy"], f"M = {r['group_size']}: not kept")

    def test_fine_tuned_act_is_a_column_and_claim_5_asks_every_swis_column_to_beat_it(self):
        """Act rows in the CNN's table (at every whole N, both trainings; the table's own taken out first) add an
        Act column and decide claim 5 (every fine-tuned SWIS column above fine-tuned Act at N = 2 and 3):
        reproduced with Act 1 point below the lowest SWIS column, differs with Act above one of them; without Act
        rows, not decided and no column."""
        rs = load_render_studies()
        study = rs.SwisFinetune()
        rows = [r for r in read_csv(study.table_path()) if r["variant"] != "act"]
        pe = study.pe_rows(rows)
        swis = [v for v, _ in study.VARIANTS if v not in study.TRUNCATIONS]
        low = {n: min(float(r["accuracy"]) for r in pe if r["training"] == "finetuned" and r["variant"] in swis
                      and float(r["n"]) == n) for n in (2.0, 3.0)}

        def render(table_rows):
            with tempfile.TemporaryDirectory() as tmp:
                table = os.path.join(tmp, "t.csv")
                write_csv(table, table_rows)
                return study.render(table, images=False, plots=False)

        def with_act(gap):
            return render(rows + [dict(r, variant="act", accuracy=f"{(low.get(float(r['n']), 0.8) - gap):.4f}")
                                  for r in pe if r["variant"] == "wgt"])

        claim5 = lambda text: text.split("**Claim 5**")[1]
        ok, bad = with_act(0.01), with_act(-0.01)
        self.assertIn("| N | training | SWIS SS | SWIS DS | SWIS-C SS | SWIS-C DS | Wgt | Act |", ok)
        self.assertIn("Verdict: **reproduced**", claim5(ok))
        self.assertIn("SWIS SS - Act at N = 2 ", claim5(ok))
        self.assertIn("Verdict: **differs**", claim5(bad))
        plain = render(rows)
        self.assertNotIn("| Act |", plain)
        self.assertIn("Verdict: **not decided**: Act not fine-tuned", claim5(plain))

    @staticmethod
    def render_group_size_with(edit, paired=lambda rows: []):
        """The group-size section rendered from copies of the fine-tuning tables, each table's rows passed through
        edit(file name, rows) first, and of the paired table's rows passed through paired(rows) (default: no
        paired table, whose rows would not match tables edited otherwise; no rows: no table)."""
        rs = load_render_studies()
        study = rs.SwisFinetuneGroupSize()
        with tempfile.TemporaryDirectory() as tmp:
            for fname in [f for _, _, f in study.NETWORKS]:
                write_csv(os.path.join(tmp, fname), edit(fname, read_csv(os.path.join(SOURCE, "docs", "studies",
                                                                                       fname))))
            rows = paired(read_csv(os.path.join(SOURCE, "docs", "studies", study.PAIRED)))
            if rows:
                write_csv(os.path.join(tmp, study.PAIRED), rows)
            saved, rs.TABLES = rs.TABLES, tmp
            try:
                return study.render(None, images=False, plots=False)
            finally:
                rs.TABLES = saved

    @staticmethod
    def one_seed(rows):
        """A table's rows with each fine-tuned point at its lowest seed only (the tests that add seeds start there)."""
        key = lambda r: (r["variant"], r["n"], r["group_size"], r["training"])
        first = {}
        for r in rows:
            if r["training"] == "finetuned" and (key(r) not in first or int(r["seed"]) < int(first[key(r)])):
                first[key(r)] = r["seed"]
        return [r for r in rows if r["training"] != "finetuned" or r["seed"] == first[key(r)]]

    def test_a_point_fine_tuned_in_groups_of_4_but_not_of_m_is_named_as_not_run(self):
        """The section's closing line lists each fine-tuned point of the main tables (M = 4) without group-size
        rows, with the networks lacking it unless all do: drop ResNet-20's group-size rows of SS at N = 3 and that
        point is named for ResNet-20 alone; a point every network has in groups of M is not named."""
        def drop_resnet20_ss3(fname, rows):
            if fname != "swis_finetune_resnet20.csv":
                return rows
            return [r for r in rows if not (r["variant"] == "swis" and float(r["n"]) == 3 and r["group_size"] != "4")]

        text = self.render_group_size_with(drop_resnet20_ss3)
        last = next(line for line in text.splitlines() if line.startswith("Not in these tables"))
        named = {}  # (mode, N) -> the networks named, "" for all
        for mode, ns, nets in re.findall(r"([A-Z-]+) at N = ([0-9., ]+?)(?: \(([^)`]*)\))?(?=;|$| \(`)", last):
            for n in ns.split(", "):
                named[(mode, float(n))] = nets
        self.assertEqual(named.get(("SS", 3.0)), "ResNet-20", last)
        self.assertNotIn(("SS", 2.0), named, last)  # SS at 2: in groups of M on every network

    def test_a_second_seed_shows_as_a_mean_and_its_seed_variance_widens_every_band_of_its_network(self):
        """Give the CNN's SS at N = 2 in groups of 1 a second seed 0.8 points below the first: its cell reads the mean
        +- the seeds' sample deviation s (2 seeds) and the verdict's difference moves by half the gap. s^2, pooled
        (one degree of freedom), enters every CNN fine-tuned band as s^2 (1 / k1 + 1 / k2): at SS at N = 2 (k 2 and
        1) and at SS at N = 1 (1 and 1); ResNet-20's bands stay the test images' alone. The noise line and the
        closing line name the CNN."""
        cnn = self.one_seed(read_csv(os.path.join(SOURCE, "docs", "studies", "swis_finetune.csv")))
        point = lambda n, m: next(r for r in cnn if (r["variant"], r["n"], r["group_size"], r["training"]) ==
                                  ("swis", n, m, "finetuned"))
        a1, a16, images = float(point("2", "1")["accuracy"]), float(point("2", "16")["accuracy"]), \
            int(point("2", "1")["images"])

        def second_seed(fname, rows):
            rows = self.one_seed(rows)
            if fname != "swis_finetune.csv":
                return rows
            one = point("2", "1")
            second = dict(one, seed=str(int(one["seed"]) + 1), accuracy=f"{a1 - 0.008:.4f}",
                          int8_accuracy=f"{a1 - 0.008:.4f}")
            i = rows.index(one)
            return rows[:i + 1] + [second] + rows[i + 1:]

        text = self.render_group_size_with(second_seed)
        before = self.render_group_size_with(lambda fname, rows: self.one_seed(rows))
        mean = a1 - 0.004
        var = 2 * 0.004 ** 2  # the two seeds' sample variance
        self.assertIn(f"{100 * mean:.2f} ± {100 * math.sqrt(var):.2f} (2 seeds)", text)
        row = lambda t, title, n: next(line for line in t.splitlines() if line.startswith(f"| {title} | SS | {n} |"))
        p = max(mean, a16)
        self.assertIn(f"{100 * (mean - a16):+.2f} (", row(text, "4-layer CNN", 2))
        self.assertIn(f"band {100 * 2 * math.sqrt(2 * p * (1 - p) / images + var * 1.5):.2f})",
                      row(text, "4-layer CNN", 2).split("|")[5])
        b1, b16 = float(point("1", "1")["accuracy"]), float(point("1", "16")["accuracy"])
        p1 = max(b1, b16)
        self.assertIn(f"band {100 * 2 * math.sqrt(2 * p1 * (1 - p1) / images + var * 2):.2f})",
                      row(text, "4-layer CNN", 1).split("|")[5])
        self.assertEqual(row(text, "ResNet-20", 2), row(before, "ResNet-20", 2))
        noise = next(line for line in text.splitlines() if line.startswith("Training-seed noise"))
        self.assertIn(f"4-layer CNN s_p = {100 * math.sqrt(var):.2f} points (1 degrees of freedom)", noise)
        self.assertIn("not measured for ResNet-20, MobileNet-v2", noise)
        last = next(line for line in text.splitlines() if line.startswith("Not in these tables"))
        self.assertIn("several only at SS at N = 2, M = 1 (4-layer CNN);", last)
        self.assertIn("--seed S", text.split("### ResNet-20")[0])

    def test_ends_fine_tuned_with_the_same_seeds_are_also_differenced_seed_by_seed(self):
        """Give the CNN's SS at N = 2 a second seed at both ends, 0.8 points below the first at M = 1 and 0.2 below it
        at M = 16: the seed-by-seed line lists each seed's M = 1 minus M = 16 (the second 0.6 points below the
        first) and their mean; without a shared second seed (one end only) there is no such line."""
        cnn = self.one_seed(read_csv(os.path.join(SOURCE, "docs", "studies", "swis_finetune.csv")))
        point = lambda m: next(r for r in cnn if (r["variant"], r["n"], r["group_size"], r["training"]) ==
                               ("swis", "2", m, "finetuned"))
        a1, a16 = float(point("1")["accuracy"]), float(point("16")["accuracy"])

        def second_seeds(ends):
            def edit(fname, rows):
                rows = self.one_seed(rows)
                if fname != "swis_finetune.csv":
                    return rows
                for m, below in ends:
                    one = point(m)
                    acc = f"{float(one['accuracy']) - below:.4f}"
                    i = rows.index(one)
                    rows = rows[:i + 1] + [dict(one, seed=str(int(one["seed"]) + 1), accuracy=acc,
                                                int8_accuracy=acc)] + rows[i + 1:]
                return rows
            return edit

        text = self.render_group_size_with(second_seeds([("1", 0.008), ("16", 0.002)]))
        line = next(x for x in text.splitlines() if x.startswith("Seed by seed"))
        d1, d2 = a1 - a16, a1 - a16 - 0.006
        seed = point("1")["seed"]
        self.assertIn(f"4-layer CNN SS at N = 2: {100 * d1:+.2f}, {100 * d2:+.2f} (seeds {seed}, {int(seed) + 1}; "
                      f"mean {100 * (d1 + d2) / 2:+.2f}", line)
        one_end = self.render_group_size_with(second_seeds([("1", 0.008)]))
        self.assertFalse([x for x in one_end.splitlines() if x.startswith("Seed by seed")])

    def test_mcnemar_is_the_exact_two_sided_binomial_test_of_the_discordant_counts(self):
        """0 against 6 discordant images: 2 / 2^6; 1 against 9 (either way round): 2 (1 + 10) / 2^10; equal counts
        and none: 1."""
        mcnemar = load_render_studies().SwisFinetuneGroupSize.mcnemar
        self.assertAlmostEqual(mcnemar(0, 6), 2 / 64)
        self.assertAlmostEqual(mcnemar(9, 1), 22 / 1024)
        self.assertAlmostEqual(mcnemar(1, 9), 22 / 1024)
        self.assertEqual(mcnemar(5, 5), 1.0)
        self.assertEqual(mcnemar(0, 0), 1.0)

    def test_the_paired_table_has_the_columns_the_script_writes(self):
        self.assertEqual(load_render_studies().SwisFinetuneGroupSize.PAIRED_COLUMNS,
                         load_script("swis_finetune_paired").COLUMNS)

    def test_the_renderer_reads_the_fine_tuning_tables_as_the_script_writes_them(self):
        """The renderer keeps its own copy of what scripts/swis_finetune.py defines (so it renders without torch):
        the tables' columns, the truncation baselines and each double-shift variant's single-shift twin."""
        rs, ft = load_render_studies(), load_script("swis_finetune")
        self.assertEqual(rs.SwisFinetune.COLUMNS, ft.COLUMNS)
        self.assertEqual(rs.SwisFinetune.TRUNCATIONS, tuple(ft.TRUNCATIONS))
        self.assertEqual(rs.SwisFinetuneGroupSize.SINGLE_SHIFT, {v: ft.BASE[v] for v in ft.DOUBLE_SHIFT})

    def test_the_paired_table_renders_each_seed_and_must_match_the_fine_tuning_tables(self):
        """The paired section lists each seed's counts and McNemar p, how many p fall below 0.05, and for a point
        with several seeds the images every seed shares; a row whose accuracy or image count is not the fine-tuning table's, whose counts do not
        make the two accuracies' difference, whose image list is not its count or whose N is not a number stops
        the render; without the paired table the page says it is not measured, and a seed fine-tuned at both
        ends without a paired row is named as not paired."""
        study = load_render_studies().SwisFinetuneGroupSize()
        paired = read_csv(os.path.join(SOURCE, "docs", "studies", study.PAIRED))
        same = lambda fname, rows: rows
        text = self.render_group_size_with(same, paired=lambda rows: rows)
        titles = {net: title for net, title, _ in study.NETWORKS}
        mode = dict(study.VARIANTS)
        groups = {}
        for r in paired:
            b, c = int(r["a_only"]), int(r["b_only"])
            p = study.mcnemar(b, c)
            self.assertIn(f"| {titles[r['network']]} | {mode[r['variant']]} | {r['n']} | {r['seed']} | {b} | {c} | "
                          f"{100 * (b - c) / int(r['images']):+.2f} | {'< 0.001' if p < 0.001 else f'{p:.3f}'} |",
                          text)
            groups.setdefault((r["network"], r["variant"], r["n"]), []).append(r)
        low = sum(study.mcnemar(int(r["a_only"]), int(r["b_only"])) < 0.05 for r in paired)
        self.assertIn(f"p below 0.05 in {low} of {len(paired)} tests (about {len(paired) / 20:.1f} expected", text)
        below = next(line for line in text.splitlines() if line.startswith("p below 0.05 in"))
        for (net, v, n), rows in groups.items():  # each point with a low p: its count of them, of its tests
            k = sum(study.mcnemar(int(r["a_only"]), int(r["b_only"])) < 0.05 for r in rows)
            point = f"{titles[net]} {mode[v]} at N = {n} ("
            self.assertEqual(f"{point}{k} of {len(rows)})" in below, k > 0, point)
            self.assertEqual(below.count(point), int(k > 0), point)
        shared = next(line for line in text.splitlines() if line.startswith("The seeds' tests are not independent"))
        for (net, v, n), rows in groups.items():
            if len(rows) > 1:
                sets = [set(r["a_only_images"].split()) for r in rows]
                self.assertIn(f"{titles[net]} {mode[v]} at N = {n} (seeds {', '.join(r['seed'] for r in rows)}): "
                              f"{len(set.intersection(*sets))} of {len(set.union(*sets))} (M = 1)", shared)

        unused = lambda r: str(min(set(range(int(r["images"]))) - set(map(int, (r["a_only_images"] + " " +
                                                                                r["b_only_images"]).split()))))
        for edit_row, message in (
                (lambda r: dict(r, accuracy_a=f"{float(r['accuracy_a']) + 0.001:.4f}"),
                 "is not the fine-tuning table's for that seed"),
                (lambda r: dict(r, images=str(int(r["images"]) * 2)), "is not the fine-tuning table's for that seed"),
                (lambda r: dict(r, a_only=str(int(r["a_only"]) + 1),
                                a_only_images=r["a_only_images"] + " " + unused(r)), "is not accuracy_a - accuracy_b"),
                (lambda r: dict(r, a_only_images=" ".join(r["a_only_images"].split()[1:])), "a_only_images: expected"),
                (lambda r: dict(r, n="two"), "expected numbers in n, m_a")):
            with self.subTest(message), self.assertRaisesRegex(Exception, message) as caught:
                self.render_group_size_with(same, paired=lambda rows: [edit_row(dict(rows[0]))] + rows[1:])
            self.assertEqual(type(caught.exception).__name__, "RenderError")
        self.assertIn("Paired on the test images: not measured", self.render_group_size_with(same))
        # a graph network's row (every graph seed fine-tuned at both ends is paired): named once it is gone
        gone = [r for r in paired if r["network"] != "cnn"][-1]
        fewer = self.render_group_size_with(same, paired=lambda rows: [r for r in rows if r != gone])
        self.assertIn(f"{titles[gone['network']]} {mode[gone['variant']]} at N = {gone['n']}, seed {gone['seed']}",
                      next(x for x in fewer.splitlines() if x.startswith("Fine-tuned at both group sizes but not")))

    def test_the_paired_script_measures_two_models_image_by_image_against_their_table(self):
        """scripts/swis_finetune_paired.py on a work directory whose M = 1 and M = 16 "fine-tuned" models are the
        shipped int8 CNN, on 100 images, run with --seed 1 and recording (as the CNN's QAT does) seed 2: its row is
        seed 2's and its counts make the two accuracies' difference (cimvp swis's own at SS, N = 2, in groups of 1
        and 16); a table recording another accuracy than the model scores stops it, naming the model, and so does
        a CNN run without its record of the seed."""
        script = os.path.join(SOURCE, "scripts", "swis_finetune_paired.py")
        shipped = os.path.join(SOURCE, "models", "fmnist-int8.cimvp")
        with tempfile.TemporaryDirectory() as tmp:
            acc = {}
            for m in (1, 16):
                run_dir = os.path.join(tmp, f"swis-2-m{m}")
                os.makedirs(run_dir)
                shutil.copy(shipped, os.path.join(run_dir, "fmnist-int8.cimvp"))
                with open(os.path.join(run_dir, "fmnist-int8.expected.json"), "w") as f:
                    json.dump({"training": {"seed": 2, "threads": 1}}, f)
                rep = os.path.join(tmp, f"r{m}.json")
                p = subprocess.run([CIMVP, "swis", "--model", shipped, "--targets", "2", "--group-size", str(m),
                                    "--accuracy-modes", "SS", "--limit", "100", "--quiet", "--json", rep],
                                   capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(rep) as f:
                    j = json.load(f)["accuracy"]
                if j is None or j.get("rows") is None:
                    self.skipTest("data set not installed")
                acc[m] = j["rows"][0]["SS"]
            table = os.path.join(tmp, "t.csv")

            def write_table(shift=0.0):
                write_csv(table, [dict(variant="swis", n="2", training="finetuned", accuracy=f"{acc[m] + shift:.4f}",
                                       int8_accuracy=f"{acc[m]:.4f}", images="100", seed="2", threads="1",
                                       train_seconds="", epochs="1", group_size=str(m), filter_n="2")
                                  for m in (1, 16)])

            write_table()
            out = os.path.join(tmp, "paired.csv")
            cmd = ["/usr/bin/python3", script, "--cimvp", CIMVP, "--network", "cnn", "--work", tmp, "--seeds", "1",
                   "--table", table, "--csv", out]
            p = subprocess.run(cmd, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            (row,) = read_csv(out)
            self.assertEqual((row["network"], row["variant"], row["n"], row["seed"], row["m_a"], row["m_b"]),
                             ("cnn", "swis", "2", "2", "1", "16"))
            self.assertEqual(int(row["a_only"]) - int(row["b_only"]), round(100 * (acc[1] - acc[16])))
            self.assertGreater(int(row["a_only"]) + int(row["b_only"]), 0, "groups of 1 and 16 differ somewhere")
            write_table(0.01)
            p = subprocess.run(cmd, capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("swis-2-m1/fmnist-int8.cimvp: scores", p.stdout + p.stderr)
            self.assertIn("not the model the table measured", p.stdout + p.stderr)
            write_table()
            os.remove(os.path.join(tmp, "swis-2-m16", "fmnist-int8.expected.json"))
            p = subprocess.run(cmd, capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("swis-2-m16/fmnist-int8.expected.json: expected the training's seed", p.stdout + p.stderr)

    def test_a_point_that_would_repeat_another_s_training_is_named_as_such_not_as_missing(self):
        """C-DS at N = 2 (every filter at 2: C-SS at 2's training) and C-SS at N = 1 (a one-position window: SS at 1's)
        are fine-tuned in groups of 4 but not of M; the closing line names them as repeats of points that are here,
        not among the points to train. Drop SS at N = 1's group-size rows from every table: C-SS at N = 1 then has
        no twin here and is listed to train, and so is SS at N = 1."""
        missing_part = lambda text: next(x for x in text.splitlines() if x.startswith("Not in these tables")) \
            .split("not run because")[0]
        text = self.render_group_size_with(lambda fname, rows: rows)
        last = next(x for x in text.splitlines() if x.startswith("Not in these tables"))
        self.assertIn("C-DS at N = 2 (as C-SS at N = 2", last)
        self.assertIn("C-SS at N = 1 (as SS at N = 1", last)
        self.assertNotRegex(missing_part(text), r"C-SS at N = 1(?![.\d])|C-DS at N = 2(?![.\d])")
        no_ss1 = self.render_group_size_with(lambda fname, rows: [
            r for r in rows if not (r["variant"] == "swis" and r["n"] == "1" and r["group_size"] != "4")])
        self.assertRegex(missing_part(no_ss1), r"(?<!C-)SS at N = 1(?![.\d])")
        self.assertRegex(missing_part(no_ss1), r"C-SS at N = 1(?![.\d])")

    def test_a_double_shift_point_repeats_its_twin_only_where_its_schedule_holds_its_n_for_every_filter(self):
        """C-DS at N = 4: every committed schedule (filter_n) puts every filter at 4, so on every network it is
        C-SS at 4 trained again and the page says so. Mark the CNN's C-DS-at-4 run in groups of 8 as having held
        2, 4 and 6: the CNN is then no longer among the networks where C-DS at 4 repeats C-SS at 4."""
        def mixed(fname, rows):
            if fname != "swis_finetune.csv":
                return rows
            return [dict(r, filter_n="2 4 6") if (r["variant"], r["n"], r["group_size"], r["training"]) ==
                    ("swisc_ds", "4", "8", "finetuned") else r for r in rows]

        line = lambda text: next((x for x in text.splitlines() if x.startswith("C-DS at N = 4:")), "")
        before, after = line(self.render_group_size_with(lambda f, rows: rows)), line(self.render_group_size_with(mixed))
        self.assertIn("so it fine-tunes exactly as C-SS at N = 4", before)
        self.assertIn("4-layer CNN", before)
        self.assertIn("ResNet-20", after)
        self.assertNotIn("4-layer CNN", after)

    def test_the_tables_filter_n_is_what_cimvp_schedules_for_the_point(self):
        """filter_n of a fine-tuned row is the distinct per-filter N of the schedule cimvp makes for that point
        (`cimvp convert` at M = 4, `cimvp swis --schedule-out` in groups of another M), N itself where every filter
        trains at N, empty for the truncations and the post-training rows."""
        ft = load_script("swis_finetune")
        rows = read_csv(os.path.join(SOURCE, "docs", "studies", "swis_finetune.csv"))
        env = dict(os.environ)
        env.setdefault("CIMVP_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(CIMVP)), "share", "cimvp"))
        table = lambda v, n, m: {r["filter_n"] for r in rows if (r["variant"], r["n"], r["group_size"],
                                                                  r["training"]) == (v, n, m, "finetuned")}
        with tempfile.TemporaryDirectory() as tmp:
            for v, n, m in (("swis_ds", "4", "8"), ("swis_ds", "3", "1"), ("swisc", "2.5", "4"), ("swis", "2", "16"),
                            ("wgt", "2", "4")):
                with self.subTest(v=v, n=n, m=m):
                    schedule = ft.schedule_path(tmp, v, float(n), int(m))
                    if schedule:
                        with contextlib.redirect_stdout(io.StringIO()):
                            ft.make_schedule(CIMVP, os.path.join(SOURCE, "models", "fmnist-int8.cimvp"), v,
                                             float(n), int(m), schedule, env)
                    self.assertEqual(table(v, n, m), {ft.filter_ns(v, float(n), schedule, int(m))})
        self.assertEqual(table("swis_ds", "3", "1"), {"2 4 6"})
        self.assertEqual({r["filter_n"] for r in rows if r["training"] == "post"}, {""})

    def test_ds_at_two_is_reported_as_ss_at_two_run_again_with_the_gap_between_them(self):
        """DS at N = 2 trains every filter at 2, as SS at N = 2: the page says so, and how far apart the two runs'
        accuracies are. Move ResNet-20's DS-at-2 model in groups of 1 by +0.5 points: ResNet-20 is then named with a
        gap of 0.50 (its runs took the same thread count, so no thread remark) and not among the networks whose
        accuracies are the same."""
        def move(fname, rows):
            if fname != "swis_finetune_resnet20.csv":
                return rows
            return [dict(r, accuracy=f"{float(r['accuracy']) + 0.005:.4f}") if (r["variant"], r["n"], r["group_size"],
                                                                               r["training"]) ==
                    ("swis_ds", "2", "1", "finetuned") else r for r in rows]

        line = lambda text: next(x for x in text.splitlines() if x.startswith("DS at N = 2:"))
        before, after = line(self.render_group_size_with(lambda f, rows: rows)), line(self.render_group_size_with(move))
        self.assertIn("ResNet-20", before.split(": the same accuracy at every M")[0])
        self.assertNotIn("ResNet-20", after.split(": the same accuracy at every M")[0])
        self.assertIn("ResNet-20: at most 0.50 points apart", after)
        self.assertNotIn("ResNet-20: at most 0.50 points apart (", after)

    def test_a_graph_network_fine_tuned_at_n_keeps_its_weights_in_cimvp_swis(self):
        """The graph half in small: ResNet-20 fine-tuned through the importer at N = 2 on 300 images; cimvp swis
        at N = 2 gives its SS accuracy as its int8 accuracy (the trained weights kept)."""
        with tempfile.TemporaryDirectory() as tmp:
            acc = self.fine_tune_resnet20(tmp, "2", "--swis-shifts", "2")
        self.assertEqual(acc["rows"][0]["SS"], acc["int8"])

    def test_a_graph_network_fine_tuned_on_the_double_shift_schedule_keeps_its_weights_in_cimvp_swis(self):
        """ResNet-20 fine-tuned on 300 images with each filter at its N of the schedule `cimvp convert
        --double-shift` makes for the shipped model at N = 3 (cimvp_import --swis-schedule); cimvp swis at N = 3
        gives its DS accuracy as its int8 accuracy."""
        with tempfile.TemporaryDirectory() as tmp:
            schedule = self.double_shift_schedule(tmp, "fmnist-resnet20.cimvp")
            acc = self.fine_tune_resnet20(tmp, "3", "--swis-schedule", schedule)
        self.assertEqual(acc["rows"][0]["DS"], acc["int8"])

    def test_a_graph_network_fine_tuned_in_groups_of_8_keeps_its_weights_in_cimvp_swis_at_8(self):
        """The group-size study's M through the importer: ResNet-20 fine-tuned at N = 2 in groups of 8
        (--swis-group-size 8); cimvp swis --group-size 8 at N = 2 gives its SS accuracy as its int8 accuracy."""
        with tempfile.TemporaryDirectory() as tmp:
            acc = self.fine_tune_resnet20(tmp, "2", "--swis-shifts", "2", "--swis-group-size", "8", group_size=8)
        self.assertEqual(acc["rows"][0]["SS"], acc["int8"])

    def double_shift_schedule(self, tmp, model):
        """The schedule `cimvp convert --double-shift` makes for a shipped model at N = 3: its file."""
        schedule = os.path.join(tmp, "ds3.cimvp")
        p = subprocess.run([CIMVP, "convert", "--model", os.path.join(SOURCE, "models", model), "--pe-layers", "all",
                            "--shifts", "3", "--double-shift", "--out", schedule], capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("2..4", p.stdout)  # mixed even counts
        return schedule

    def fine_tune_resnet20(self, tmp, target, *constraint, group_size=4):
        """ResNet-20 imported with the constraint and fine-tuned 1 epoch on 300 images, then cimvp swis at the
        target (in groups of group_size) on 40 images: its accuracy report."""
        model = os.path.join(tmp, "r20.cimvp")
        p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "sw", "python", "cimvp_import.py"),
                            os.path.join(SOURCE, "models", "fmnist-resnet20.onnx"), "--out", model, *constraint,
                            "--epochs", "1", "--train-count", "300", "--calib-count", "200", "--lr", "0.002",
                            "--no-eval"], capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = os.path.join(tmp, "r.json")
        p = subprocess.run([CIMVP, "swis", "--model", model, "--targets", target, "--limit", "40", "--json", out,
                            "--group-size", str(group_size), "--quiet"], capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(out) as f:
            acc = json.load(f)["accuracy"]
        self.assertEqual(acc["images"], 40)
        return acc

    def test_the_cnn_fine_tuned_on_the_double_shift_schedule_keeps_its_weights_in_cimvp_swis(self):
        """The DS half in small: the CNN's int8 QAT (train_all.py --smoke) with each filter at its N of the
        schedule `cimvp convert --double-shift` makes for the shipped model at N = 3 (even counts, mixed);
        cimvp swis at N = 3 gives its DS accuracy as its int8 accuracy (the trained weights kept)."""
        with tempfile.TemporaryDirectory() as tmp:
            schedule = self.double_shift_schedule(tmp, "fmnist-int8.cimvp")
            p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "sw", "python", "train_all.py"), "--smoke",
                                "--schemes", "int8", "--float-model", os.path.join(SOURCE, "models", "fmnist-float.pt"),
                                "--set", f"int8_swis_schedule={schedule}", "--out", tmp],
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            out = os.path.join(tmp, "r.json")
            p = subprocess.run([CIMVP, "swis", "--model", os.path.join(tmp, "fmnist-int8.cimvp"), "--targets", "3",
                                "--limit", "200", "--json", out, "--quiet"], capture_output=True, text=True,
                               timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(out) as f:
                acc = json.load(f)["accuracy"]
        self.assertEqual(acc["images"], 200)
        self.assertEqual(acc["rows"][0]["DS"], acc["int8"])
        self.assertNotEqual(acc["rows"][0]["Wgt"], acc["int8"])  # a check that could fail: not every mode keeps them

    def test_the_cnn_fine_tuned_on_a_double_shift_schedule_in_groups_of_8_keeps_its_weights_in_cimvp_swis(self):
        """The group-size study's DS point: the schedule `cimvp swis --group-size 8 --schedule-out --schedule-mode
        DS` makes for the shipped CNN at N = 3 (mixed even counts; at M = 4 the file equals cimvp convert's,
        cli.SwisCommand), the int8 QAT (train_all.py --smoke) with each filter at its N in groups of 8; cimvp swis
        --group-size 8 at N = 3 gives its DS accuracy as its int8 accuracy."""
        with tempfile.TemporaryDirectory() as tmp:
            schedule = os.path.join(tmp, "ds3-m8.json")
            p = subprocess.run([CIMVP, "swis", "--model", os.path.join(SOURCE, "models", "fmnist-int8.cimvp"),
                                "--targets", "3", "--group-size", "8", "--no-accuracy", "--quiet", "--schedule-out",
                                schedule, "--schedule-mode", "DS"], capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(schedule) as f:
                counts = {n for layer in json.load(f)["layers"] for n in layer["filter_n"]}
            self.assertGreater(len(counts), 1, counts)  # mixed
            self.assertTrue(all(n % 2 == 0 for n in counts), counts)  # even
            p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "sw", "python", "train_all.py"), "--smoke",
                                "--schemes", "int8", "--float-model", os.path.join(SOURCE, "models", "fmnist-float.pt"),
                                "--set", f"int8_swis_schedule={schedule}", "--set", "int8_swis_group_size=8",
                                "--out", tmp], capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            out = os.path.join(tmp, "r.json")
            p = subprocess.run([CIMVP, "swis", "--model", os.path.join(tmp, "fmnist-int8.cimvp"), "--targets", "3",
                                "--group-size", "8", "--limit", "200", "--json", out, "--quiet"],
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(out) as f:
                acc = json.load(f)["accuracy"]
            # the fake-quantizer's rule on the trained weights: decomposed at the schedule they are kept in
            # groups of 8, and not in groups of 16 (a check that could fail: the groups matter)
            sys.path.insert(0, os.path.join(SOURCE, "sw", "python"))
            import numpy as np
            import torch
            from cimvp_frontend import modelfile, swis_quant as sq
            kept = {}
            trained = modelfile.read(os.path.join(tmp, "fmnist-int8.cimvp"))
            for m in (8, 16):
                same = []
                for layer, fn in zip(trained.layers, sq.read_schedule(schedule, "swis", 8)):
                    if fn is None:
                        continue
                    w = layer.weights.astype(np.int64)
                    conv = w.reshape(layer.out_c, layer.in_c, layer.kernel, layer.kernel) if layer.kind == 1 else w
                    d = sq.constrain(torch.from_numpy(conv), fn, "swis", layer.kind != 1, group_size=m)
                    same.append(np.array_equal(d.numpy().reshape(w.shape), w))
                kept[m] = all(same)
        self.assertEqual(acc["images"], 200)
        self.assertEqual(acc["rows"][0]["DS"], acc["int8"])
        self.assertEqual(kept, {8: True, 16: False})

    def test_update_adds_a_half_shift_to_a_table_in_its_order(self):
        """swis_finetune.py --update: rows at N = 2.5 go into a table of 2 and 3 (the committed table's rows at
        those N), which keeps every other row as it was; a row it makes replaces the table's row of the same
        variant, N, training and M; rows of another M come after the M = 4 ones."""
        ft = load_script("swis_finetune")
        study = load_render_studies().SwisFinetuneGraph()
        committed = [r for r in read_csv(study.net_table("resnet20")) if r["n"] in ("2", "3") and
                     r["group_size"] == "4" and r["variant"] != "act"]
        self.assertEqual(len(committed), 20)
        made = [dict(variant=v, n=n, training=t, accuracy=0.5, int8_accuracy=0.5, images=2000,
                     seed="1" if t == "finetuned" else "", threads="", train_seconds="", epochs="", group_size=4)
                for v in ("swis", "swisc") for n in ("2.5", "2") for t in ("post", "finetuned")]
        key = lambda r: (r["variant"], r["n"], r["training"], str(r["group_size"]))
        with tempfile.TemporaryDirectory() as tmp:
            table = os.path.join(tmp, "t.csv")
            write_csv(table, committed, ft.COLUMNS)
            with contextlib.redirect_stdout(io.StringIO()):
                rows = ft.updated(table, made)
                m8 = [dict(m, group_size=8) for m in made[:2]]
                again = ft.updated(table, m8)
            bad = os.path.join(tmp, "bad.csv")
            with open(bad, "w") as f:
                f.write("variant,n,accuracy\n")
            with self.assertRaisesRegex(ValueError, "expected the columns"):
                ft.updated(bad, made)
        self.assertEqual(len(rows), len(committed) + 4)
        self.assertEqual([r for r in committed if key(r) not in {key(m) for m in made}],
                         [r for r in rows if key(r) not in {key(m) for m in made}])
        self.assertEqual([key(r) for r in rows if r["training"] == "post"][:7],
                         [(v, n, "post", "4") for n in ("2", "2.5") for v in ("swis", "swis_ds", "swisc", "swisc_ds",
                                                                               "wgt")
                          if not (n == "2.5" and v in ("swis_ds", "swisc_ds", "wgt"))])
        self.assertEqual([r["accuracy"] for r in rows if key(r) == ("swis", "2", "finetuned", "4")], [0.5])
        self.assertEqual(len(again), len(committed) + 2)
        self.assertEqual([key(r) for r in again[-2:]], [key(m) for m in m8])

    def test_update_keeps_a_point_fine_tuned_with_another_seed_beside_the_first(self):
        """swis_finetune.py --update: a fine-tuned row of seed 2 is a row of its own after the seed-1 row of its
        point, which stays; the same seed again replaces its row; a post-training row (no seed) replaces its own."""
        ft = load_script("swis_finetune")
        study = load_render_studies().SwisFinetuneGraph()
        committed = [r for r in read_csv(study.net_table("resnet20")) if r["n"] == "2" and r["group_size"] == "4"]
        first = next(r for r in committed if (r["variant"], r["training"]) == ("swis", "finetuned"))
        self.assertEqual(first["seed"], "1")
        made = [dict(variant="swis", n="2", training=t, accuracy=0.5, int8_accuracy=0.5, images=2000,
                     seed="2" if t == "finetuned" else "", threads="1", train_seconds="", epochs="1", group_size=4)
                for t in ("post", "finetuned")]
        with tempfile.TemporaryDirectory() as tmp:
            table = os.path.join(tmp, "t.csv")
            write_csv(table, committed, ft.COLUMNS)
            with contextlib.redirect_stdout(io.StringIO()):
                rows = ft.updated(table, made)
                write_csv(table, rows, ft.COLUMNS)
                again = ft.updated(table, [dict(made[1], accuracy=0.25)])
        self.assertEqual(len(rows), len(committed) + 1)  # the post row replaced, the seed-2 row added
        point = [r for r in rows if (r["variant"], r["training"]) == ("swis", "finetuned")]
        self.assertEqual([(str(r["seed"]), r["accuracy"]) for r in point], [("1", first["accuracy"]), ("2", 0.5)])
        self.assertEqual([r["accuracy"] for r in rows if (r["variant"], r["training"]) == ("swis", "post")], [0.5])
        self.assertEqual(len(again), len(rows))
        self.assertEqual([(str(r["seed"]), r["accuracy"]) for r in again
                          if (r["variant"], r["training"]) == ("swis", "finetuned")],
                         [("1", first["accuracy"]), ("2", 0.25)])

    def test_a_post_training_report_of_other_modes_is_measured_again_not_reused(self):
        """swis_finetune.py --reuse reads a `cimvp swis` report only when it holds every mode asked for: a report of
        C-SS alone (another variant's run in the same --work) is measured again for SS, and one that holds SS is
        read as it is."""
        ft = load_script("swis_finetune")
        model = os.path.join(SOURCE, "models", "fmnist-int8.cimvp")
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
            out = os.path.join(tmp, "post.json")
            row, _, images = ft.swis_accuracy(CIMVP, model, 2.0, 20, out, dict(os.environ), modes=["swisc"])
            self.assertEqual((images, row["SS"]), (20, None))
            self.assertIsNotNone(row["C-SS"])
            row, _, _ = ft.swis_accuracy(CIMVP, model, 2.0, 20, out, dict(os.environ), reuse=True, modes=["swis"])
            self.assertIsNotNone(row["SS"])
            with open(out) as f:
                report = json.load(f)
            report["accuracy"]["rows"][0]["SS"] = 0.125  # a figure no run of 20 images gives: read, not measured
            with open(out, "w") as f:
                json.dump(report, f)
            row, _, _ = ft.swis_accuracy(CIMVP, model, 2.0, 20, out, dict(os.environ), reuse=True, modes=["swis"])
            self.assertEqual(row["SS"], 0.125)

    def test_a_truncation_alone_at_a_half_shift_or_in_groups_of_8_is_refused(self):
        """Weight and activation truncation keep whole bits and have no groups: wgt or act alone at N = 2.5 or in
        groups of 8 has no point to train (exit 2)."""
        for variant in ("wgt", "act"):
            for extra, message in ((["--shifts", "2.5"], "no point to train"),
                                   (["--group-size", "8"], "--group-size 8: no point to train")):
                with self.subTest(variant=variant, extra=extra):
                    p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "swis_finetune.py"),
                                        "--work", "/nonexistent", "--variants", variant, *extra],
                                       capture_output=True, text=True, timeout=60)
                    self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                    self.assertIn(message, p.stderr)

    def check_table(self, study, path):
        rows = study.pe_rows(read_csv(path))
        with open(path, newline="") as f:
            self.assertEqual(next(csv.reader(f)), study.COLUMNS)
        variants = [v for v, _ in study.variants(rows)]
        self.assertTrue({"swis", "swisc", "wgt"} <= set(variants), variants)
        shifts = study.shifts(rows)  # 2 and 3, and any other N of the grid (not every variant has each)
        self.assertTrue(set(study.SHIFTS) <= set(shifts), shifts)
        runs = load_script("swis_finetune").runs
        self.assertEqual(sorted((r["variant"], float(r["n"]), r["training"]) for r in rows),
                         sorted((v, n, t) for v in variants for n in shifts for t in ("post", "finetuned")
                                if runs(v, n)))
        post = [r for r in rows if r["training"] == "post"]
        self.assertEqual(len({r["int8_accuracy"] for r in post}), 1, "one shipped model")
        for r in rows:
            self.assertTrue(0.0 < float(r["accuracy"]) <= 1.0, r)
            if r["training"] == "finetuned":
                if r["variant"] != "act":  # Act's figure is its truncated inputs', its weights are whole
                    self.assertEqual(r["accuracy"], r["int8_accuracy"],
                                     f"{r['variant']} N = {r['n']}: weights not kept")
                self.assertGreater(float(r["train_seconds"]), 0)
                self.assertTrue(r["seed"] and r["threads"] and r["epochs"], r)


if __name__ == "__main__":
    CIMVP, SOURCE = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[3:]])
