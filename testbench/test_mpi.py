"""MPI-parallel `cimvp run` (docs/scale.md): a run split over ranks with mpirun gives the results file
of the same run in one process, field by field, except the wall-clock fields named below; a rank that
fails fails the run, naming the rank. Run by ctest as
/usr/bin/python3 test_mpi.py <cimvp> <source dir> <mpiexec> <cimvp built with MPI: 0|1> [tests].
Without an MPI launcher, or with a cimvp built without MPI, it exits 77, which ctest reports as
skipped; it never passes without running."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

SKIP = 77
CIMVP = SOURCE = MPIEXEC = None

# The fields that measure the machine, not the simulation: wall and CPU seconds and the rates made of
# them. Every other field of a merged results file equals the one-process run's.
NETWORK_WALL_CLOCK = {"wall_seconds", "images_per_second", "reference_wall_seconds", "reference_images_per_second",
                      "rtl_adc_seconds", "rtl_pe_seconds"}
TRACE_WALL_CLOCK = {"wall_seconds", "cpu_seconds", "images_per_second", "reference_wall_seconds",
                    "reference_cpu_seconds", "platform_over_reference", "prepare_wall_seconds", "prepare_cpu_seconds",
                    "host_wall_seconds", "host_cpu_seconds"}
TRACE_CSV_WALL_CLOCK = {"wall_seconds", "reference_wall_seconds"}


def mpirun(ranks, *args, timeout=600):
    """cimvp under the MPI launcher with `ranks` processes: exit code, stdout, stderr."""
    launcher = [MPIEXEC, "-np", str(ranks)]
    version = subprocess.run([MPIEXEC, "--version"], capture_output=True, text=True).stdout
    if "Open MPI" in version or "OpenRTE" in version:
        # More ranks than cores (CI has two), and CI runs as root.
        launcher.append("--oversubscribe")
        if os.geteuid() == 0:
            launcher.append("--allow-run-as-root")
    p = subprocess.run([*launcher, CIMVP, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def alone(*args, timeout=600):
    p = subprocess.run([CIMVP, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def differences(one, merged, wall_clock, path=""):
    """Every field where the merged results differ from the one-process run's, but the wall-clock ones."""
    if isinstance(one, dict) and isinstance(merged, dict):
        out = []
        for k in sorted(set(one) | set(merged)):
            if k in wall_clock:
                continue
            if k not in one or k not in merged:
                out.append("%s.%s: only in one of them" % (path, k))
            else:
                out += differences(one[k], merged[k], wall_clock, path + "." + k)
        return out
    if isinstance(one, list) and isinstance(merged, list):
        if len(one) != len(merged):
            return ["%s: %d against %d items" % (path, len(one), len(merged))]
        out = []
        for i, (a, b) in enumerate(zip(one, merged)):
            out += differences(a, b, wall_clock, "%s[%d]" % (path, i))
        return out
    # Exact: integers, strings, and doubles bit for bit (JSON keeps 17 significant digits).
    return [] if type(one) is type(merged) and one == merged else ["%s: %r against %r" % (path, one, merged)]


def without_wall_clock_lines(report):
    return [l for l in report.splitlines() if not l.startswith(("wall time", "time (wall / CPU)", "rtl: clocking"))]


class MergedRuns(unittest.TestCase):
    """The merged report of a split run against the same run in one process."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def network_pair(self, ranks, *args):
        one, merged = self.path("one.json"), self.path("merged.json")
        code, out_one, err = alone("run", "--json", one, *args)
        self.assertEqual(code, 0, out_one + err)
        code, out_merged, err_merged = mpirun(ranks, "run", "--json", merged, *args)
        self.assertEqual(code, 0, out_merged + err_merged)
        with open(one) as f, open(merged) as g:
            r1, r2 = json.load(f), json.load(g)
        self.assertEqual(differences(r1, r2, NETWORK_WALL_CLOCK), [])
        self.assertEqual(without_wall_clock_lines(out_one), without_wall_clock_lines(out_merged))
        return r1, err_merged

    def test_a_network_run_on_two_and_three_ranks_equals_the_run_in_one_process(self):
        # 300 images in batches of 64: five batches, the last of 44 images. Two ranks take batches
        # 0-1 and 2-4 (128 and 172 images), three take 0, 1-2 and 3-4 (64, 128 and 108 images).
        for ranks, rank0_images in ((2, 128), (3, 64)):
            with self.subTest(ranks=ranks):
                r, err = self.network_pair(ranks, "--limit", "300", "--batch", "64")
                self.assertEqual(r["images"], 300)
                self.assertEqual(r["agreement"], 1.0)
                self.assertGreater(r["cycles"], 0)
                self.assertGreater(r["energy_pj"]["total"], 0)
                # Rank 0 shows the progress of its own share, the last line at its last image.
                self.assertIn("cimvp: %d MPI ranks" % ranks, err)
                done = re.findall(r"^(\d+)/(\d+) images", err, re.M)
                self.assertEqual(done[-1], (str(rank0_images), str(rank0_images)), err)

    def test_a_network_run_with_the_rtl_in_the_loop_merges_the_rtl_counts(self):
        r, _ = self.network_pair(2, "--rtl", "--limit", "12", "--batch", "4", "--quiet")
        self.assertTrue(r["rtl"])
        self.assertGreater(r["rtl_conversions"], 0)
        self.assertTrue(r["rtl_cycles_match"])
        self.assertEqual(r["rtl_mismatches"], 0)

    def test_protocol_checks_count_the_transactions_of_every_rank(self):
        # Two ranks, a batch each: each rank programs the weights and runs one batch, as a run of one
        # process over the first batch does. Every count is twice that run's (a batch's transactions do
        # not depend on its pixels), over the same links; rank 0's alone would be half.
        one, merged = self.path("one.json"), self.path("merged.json")
        args = ["run", "--check-protocol", "--batch", "4", "--quiet"]
        code, out, err = alone(*args, "--limit", "4", "--json", one)
        self.assertEqual(code, 0, out + err)
        code, out, err = mpirun(2, *args, "--limit", "8", "--json", merged)
        self.assertEqual(code, 0, out + err)
        with open(one) as f, open(merged) as g:
            c1, c2 = json.load(f)["protocol_checks"], json.load(g)["protocol_checks"]
        self.assertGreater(c1["transactions"], 0)
        self.assertEqual(c2["links"], c1["links"])
        for k in ("transports", "transactions", "dmi_requests", "debug_transports", "invalidations"):
            self.assertEqual(c2[k], 2 * c1[k], k)
        self.assertEqual(c2["violations"], 0)
        self.assertIn("protocol checks on %d router links: %d transactions" % (c1["links"], c2["transactions"]), out)

    def test_a_trace_run_on_two_ranks_equals_the_run_in_one_process(self):
        trace = os.path.join(SOURCE, "traces", "resnet20.trace")
        args = ["run", "--trace", trace, "--images", "2"]
        one, merged = self.path("one.json"), self.path("merged.json")
        code, out_one, err = alone(*args, "--quiet", "--json", one, "--csv", self.path("one.csv"))
        self.assertEqual(code, 0, out_one + err)
        code, out_merged, err = mpirun(2, *args, "--json", merged, "--csv", self.path("merged.csv"))
        self.assertEqual(code, 0, out_merged + err)
        with open(one) as f, open(merged) as g:
            r1, r2 = json.load(f), json.load(g)
        self.assertEqual(differences(r1, r2, TRACE_WALL_CLOCK), [])
        self.assertEqual(r1["agreement"], 1.0)
        self.assertEqual(len(r1["layers"]), 30)
        self.assertEqual(without_wall_clock_lines(out_one), without_wall_clock_lines(out_merged))
        with open(self.path("one.csv")) as f, open(self.path("merged.csv")) as g:
            rows1, rows2 = list(csv.DictReader(f)), list(csv.DictReader(g))
        self.assertEqual(len(rows1), 31)
        for a, b in zip(rows1, rows2):
            for k in TRACE_CSV_WALL_CLOCK:
                del a[k], b[k]
        self.assertEqual(rows1, rows2)
        # Rank 0 ran and reported some of the layers, not all.
        shown = set(re.findall(r"^\[(\d+)/30\] \S+\s+\S+\s+[\d.]+ s platform", err, re.M))
        self.assertTrue(0 < len(shown) < 30, err)


class RankFailures(unittest.TestCase):
    """A rank that fails makes the run exit non-zero with the rank and its message, and no rank hangs."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_a_layer_only_rank_1_runs_fails_the_run_naming_rank_1(self):
        # A DRAM of 512 KiB holds the conv's data but not the add's three 256 KiB maps. The conv costs
        # more (9.4 million MACs and 65,536 input elements against 262,144), so rank 0 runs it and rank 1
        # the add.
        trace = os.path.join(self.tmp, "two.trace")
        with open(trace, "w") as f:
            f.write("cimvp-trace 1\nnetwork name=two input=16,64,64\ndata seed=1 act=uniform weights=normal:0.1\n"
                    "layer name=conv type=conv in=16,64,64 out=16 kernel=3 stride=1 padding=1 groups=1 w_bits=8 "
                    "a_bits=8 scheme=int8 map=crossbar\n"
                    "layer name=sum type=add in=16,128,128 out=16\n")
        config = os.path.join(self.tmp, "small.json")
        with open(config, "w") as f:
            json.dump({"platform": {"dram": {"size_bytes": 524288}}}, f)
        why = re.escape(trace) + r":5: layer sum: DRAM exhausted: .*platform\.dram\.size_bytes"
        code, out, err = alone("run", "--trace", trace, "--config", config, "--quiet")
        self.assertEqual(code, 2, out + err)
        self.assertRegex(err, r"cimvp: " + why)
        code, out, err = mpirun(2, "run", "--trace", trace, "--config", config, "--quiet", timeout=120)
        self.assertEqual(code, 2, out + err)
        self.assertRegex(err, r"cimvp: rank 1: " + why)
        self.assertNotIn("rank 0", err)

    def test_bad_input_every_rank_reads_is_reported_once_without_a_rank(self):
        code, out, err = mpirun(2, "run", "--limit", "20000", "--quiet", timeout=120)
        self.assertEqual(code, 2, out + err)
        self.assertEqual(err.count("--limit: expected 0 (all) or 1..10000 (the test set's images), got 20000"), 1, err)
        self.assertNotIn("rank 0:", err)

    def test_outputs_of_one_simulation_and_other_commands_are_refused_on_several_ranks(self):
        rec, vcd = os.path.join(self.tmp, "r.rec"), os.path.join(self.tmp, "r.vcd")
        for args, why in ((["run", "--limit", "64", "--quiet", "--record", rec], r"--record: expected a run in one process"),
                          (["run", "--limit", "64", "--quiet", "--vcd", vcd], r"--vcd: expected a run in one process"),
                          (["info"], r"cimvp info: expected one process, got 2 MPI ranks")):
            with self.subTest(args=args):
                code, out, err = mpirun(2, *args, timeout=120)
                self.assertEqual(code, 2, out + err)
                self.assertRegex(err, why)
                self.assertEqual(len(re.findall(why, err)), 1, err)
        self.assertFalse(os.path.exists(rec) or os.path.exists(vcd))


if __name__ == "__main__":
    CIMVP, SOURCE, MPIEXEC, built = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    if built != "1":
        print("cimvp was built without MPI (CIMVP_WITH_MPI, docs/scale.md): MPI runs not checked, SKIPPED")
        sys.exit(SKIP)
    if not MPIEXEC or shutil.which(MPIEXEC) is None:
        print("no MPI launcher (scripts/setup.sh installs openmpi-bin): MPI runs not checked, SKIPPED")
        sys.exit(SKIP)
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[5:]])
