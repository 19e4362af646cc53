"""cimvp as an installed package (README.md, "Install"). Run by ctest as
/usr/bin/python3 test_package.py <build dir> <source dir> <work dir> <cmake> <generator> <c++ compiler> [launcher] -- <tests>
  Install         installs the build into <work dir>/prefix (the fixture of the other two)
  Downstream      builds testbench/downstream against it with find_package(cimvp) and runs its one layer
  InstalledRun    `cimvp run` from a copy of the prefix: no source path in the binary, data found next to it
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BUILD = SOURCE = WORK = CMAKE = GENERATOR = COMPILER = LAUNCHER = None
DATA = "/usr/share/datasets/fashion-mnist"


def prefix():
    return os.path.join(WORK, "prefix")


def check(test, args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 600), **kw)
    test.assertEqual(p.returncode, 0, f"{' '.join(args)}:\n{p.stdout}{p.stderr}")
    return p


class Install(unittest.TestCase):
    def test_install_puts_targets_headers_and_data_under_the_prefix(self):
        shutil.rmtree(prefix(), ignore_errors=True)
        check(self, [CMAKE, "--install", BUILD, "--prefix", prefix()])
        for f in ["bin/cimvp", "include/cimvp/hw/platform.h", "include/cimvp/sw/contract/numerics.h",
                  "lib/cmake/cimvp/cimvpConfig.cmake", "lib/cmake/cimvp/cimvpConfigVersion.cmake",
                  "lib/cmake/cimvp/cimvpTargets.cmake", "share/cimvp/models/fmnist-bwma.cimvp",
                  "share/cimvp/models/fmnist-bwma.expected.json", "share/cimvp/configs/default.json",
                  "share/cimvp/traces/vgg8.trace"]:
            self.assertTrue(os.path.isfile(os.path.join(prefix(), f)), f)


class Downstream(unittest.TestCase):
    def test_downstream_project_runs_one_layer_bit_exactly(self):
        build = os.path.join(WORK, "downstream")
        shutil.rmtree(build, ignore_errors=True)  # a clean configure and build each time (ccache keeps it fast)
        args = [CMAKE, "-S", os.path.join(SOURCE, "testbench", "downstream"), "-B", build, "-G", GENERATOR,
                "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix()}", f"-DCMAKE_CXX_COMPILER={COMPILER}"]
        if LAUNCHER:
            args.append(f"-DCMAKE_CXX_COMPILER_LAUNCHER={LAUNCHER}")
        check(self, args)
        check(self, [CMAKE, "--build", build])
        p = check(self, [os.path.join(build, "one_layer")], cwd=WORK,
                  env={**os.environ, "SC_COPYRIGHT_MESSAGE": "DISABLE"}, timeout=120)
        self.assertIn("1120 of 1120 outputs equal the reference", p.stdout)
        self.assertIn(os.path.join(prefix(), "share", "cimvp", "configs", "default.json"), p.stdout)


class InstalledRun(unittest.TestCase):
    def setUp(self):
        # A copy of the install, run from elsewhere: nothing ties it to the build or the source tree.
        self.tmp = tempfile.mkdtemp(prefix="cimvp-installed-")
        self.root = os.path.join(self.tmp, "cimvp")
        shutil.copytree(prefix(), self.root, symlinks=True)
        self.cwd = os.path.join(self.tmp, "elsewhere")
        os.mkdir(self.cwd)
        self.env = {k: v for k, v in os.environ.items() if k != "CIMVP_DATA_DIR"}

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cimvp(self, *args, env=None):
        return subprocess.run([os.path.join(self.root, "bin", "cimvp"), *args], capture_output=True, text=True,
                              cwd=self.cwd, env=env or self.env, timeout=600)

    def test_binary_names_no_source_or_build_path(self):
        with open(os.path.join(self.root, "bin", "cimvp"), "rb") as f:
            binary = f.read()
        for d in {os.path.realpath(SOURCE), SOURCE, os.path.realpath(BUILD), BUILD}:
            self.assertNotIn(d.encode(), binary)

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_run_finds_the_default_model_in_the_prefix(self):
        p = self.cimvp("run", "--limit", "20", "--quiet", "--json", "run.json")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(self.cwd, "run.json")) as f:
            r = json.load(f)
        self.assertEqual(r["images"], 20)
        self.assertEqual(r["agreement"], 1.0)
        self.assertEqual(os.path.realpath(r["model"]),
                         os.path.realpath(os.path.join(self.root, "share", "cimvp", "models", "fmnist-bwma.cimvp")))

    def test_shipped_files_are_found_by_their_relative_name(self):
        p = self.cimvp("run", "--trace", "traces/vgg8.trace", "--layers", "1", "--quiet",
                       "--config", "configs/default.json")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(os.path.join("share", "cimvp", "traces", "vgg8.trace"), p.stdout)

    def test_missing_data_names_where_it_looked(self):
        os.rename(os.path.join(self.root, "share", "cimvp"), os.path.join(self.tmp, "moved-data"))
        p = self.cimvp("run", "--limit", "1", "--quiet")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("no models/fmnist-bwma.cimvp in the data directory; looked in", p.stderr)
        self.assertIn(os.path.join(self.root, "share", "cimvp"), p.stderr)
        self.assertIn("CIMVP_DATA_DIR", p.stderr)
        # An explicit directory is the only one searched.
        p = self.cimvp("run", "--limit", "1", "--quiet", env={**self.env, "CIMVP_DATA_DIR": self.cwd})
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn(f"looked in {self.cwd} (from CIMVP_DATA_DIR)", p.stderr)

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_data_dir_variable_points_anywhere(self):
        moved = os.path.join(self.tmp, "moved-data")
        os.rename(os.path.join(self.root, "share", "cimvp"), moved)
        p = self.cimvp("run", "--limit", "2", "--quiet", env={**self.env, "CIMVP_DATA_DIR": moved})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("agreement with the C++ reference: 1.000000", p.stdout)
    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_sweep_runs_from_the_prefix(self):
        # the installed script and its package, a shipped sweep file and model found by their relative names
        p = self.cimvp("sweep", "configs/sweeps/adc_cells.yaml", "--dry-run")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(os.path.join("share", "cimvp", "models", "fmnist-int8.cimvp"), p.stdout)
        with open(os.path.join(self.cwd, "s.yaml"), "w") as f:
            f.write("fixed: {model: models/fmnist-int8.cimvp, images: 5}\naxes: {crossbar.read_ns: [100.0, 50.0]}\n")
        p = self.cimvp("sweep", "s.yaml", "--out", "s", "-j", "2")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(self.cwd, "s", "results.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([r["status"] for r in rows], ["ok", "ok"])
        self.assertTrue(rows[0]["command"].startswith(os.path.join(self.root, "bin", "cimvp") + " run "))

if __name__ == "__main__":
    sep = sys.argv.index("--")
    BUILD, SOURCE, WORK, CMAKE, GENERATOR, COMPILER, *rest = sys.argv[1:sep]
    LAUNCHER = rest[0] if rest else None
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[sep + 1:]])
