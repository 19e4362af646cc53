"""The RTL blocks (rtl/*.sv) as hardware: they synthesize with Yosys, infer no
latch, their cell and flip-flop counts equal the figures docs/rtl.md records,
and the netlists behave as the RTL on random traffic (rtl_gate_level.cpp);
illegal parameters stop Verilator and Yosys at elaboration with the block's
message (docs/rtl.md, "Synthesis" and "Input contracts").

Run by ctest as
  /usr/bin/python3 test_rtl_synthesis.py <source dir> <verilator_bin> [test names...]
Synthesis and GateLevel need `yosys` on PATH: without it they exit 77, which
ctest reports as skipped (SKIP_RETURN_CODE); they never pass without running."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = None
VERILATOR = None
SKIP = 77

# Parameter sets the blocks must refuse, with the message each one gives.
ILLEGAL = [
    ("sar_adc", {"STEP_W": 48}, "sar_adc: PSUM_W + 2 and STEP_W + MAX_BITS + 2 must not exceed 64"),
    ("sar_adc", {"STEP_W": 47}, "sar_adc: PSUM_W + 2 and STEP_W + MAX_BITS + 2 must not exceed 64"),
    ("sar_adc", {"PSUM_W": 63}, "sar_adc: PSUM_W + 2 and STEP_W + MAX_BITS + 2 must not exceed 64"),
    ("sar_adc", {"MAX_BITS": 32, "STEP_W": 8}, "sar_adc: MAX_BITS must be 1..31"),
    ("sar_adc", {"MAX_BITS": 0}, "sar_adc: MAX_BITS must be 1..31"),
    ("sar_adc", {"STEP_W": 0}, "sar_adc: PSUM_W and STEP_W must be at least 1"),
    ("swis_pe", {"DOUBLE_SHIFT": 2}, "swis_pe: DOUBLE_SHIFT must be 0 or 1"),
    ("swis_pe", {"ACC_W": 19}, "swis_pe: ACC_W must be at least 18 + clog2(LANES)"),
    ("swis_pe", {"LANES": 16, "ACC_W": 21}, "swis_pe: ACC_W must be at least 18 + clog2(LANES)"),
    ("swis_pe", {"LANES": 0}, "swis_pe: LANES must be 1..16"),
    ("swis_pe", {"LANES": 17}, "swis_pe: LANES must be 1..16"),
]
# The widest legal parameter sets, on each bound: accepted.
LEGAL = [
    ("sar_adc", {"STEP_W": 46}),
    ("sar_adc", {"PSUM_W": 62}),
    ("sar_adc", {"MAX_BITS": 31, "STEP_W": 31}),
    ("sar_adc", {"PSUM_W": 6, "STEP_W": 3, "MAX_BITS": 3}),
    ("swis_pe", {"ACC_W": 20}),
    ("swis_pe", {"DOUBLE_SHIFT": 1, "ACC_W": 20}),
    ("swis_pe", {"LANES": 16, "ACC_W": 22}),
    ("swis_pe", {"LANES": 1, "ACC_W": 18}),
]


def sv(block):
    return os.path.join(SOURCE, "rtl", block + ".sv")


def yosys(block, params, script):
    """Runs Yosys on one block with `params` set; returns (exit code, log text)."""
    sets = f"chparam {' '.join(f'-set {k} {v}' for k, v in params.items())} {block}; " if params else ""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "yosys.log")
        p = subprocess.run(["yosys", "-q", "-l", log, "-p", f"read_verilog -sv {sv(block)}; {sets}{script}"],
                           capture_output=True, text=True, timeout=600, cwd=tmp)
        text = p.stdout + p.stderr
        if os.path.exists(log):
            with open(log) as f:
                text += f.read()
        return p.returncode, text


def recorded_figures():
    """The synthesis table of docs/rtl.md: (yosys version, [(block, params, cells, flip-flops)])."""
    with open(os.path.join(SOURCE, "docs", "rtl.md")) as f:
        doc = f.read()
    section = doc.split("\n## Synthesis", 1)[1].split("\n## ", 1)[0]
    version = re.search(r"Figures from Yosys (\d+\.\d+)", section).group(1)
    rows = []
    for m in re.finditer(r"^\| `(\w+)` \| `([^`]*)` \| (\d+) \| (\d+) \|", section, re.M):
        params = dict(kv.split("=") for kv in m.group(2).split())
        rows.append((m.group(1), {k: int(v) for k, v in params.items()}, int(m.group(3)), int(m.group(4))))
    return version, rows


class Synthesis(unittest.TestCase):
    """Needs yosys (main() exits 77 without it)."""

    def test_both_blocks_synthesize_without_latches_to_the_recorded_figures(self):
        version, rows = recorded_figures()
        self.assertEqual({r[0] for r in rows}, {"sar_adc", "swis_pe"}, "docs/rtl.md: a row per block")
        self.assertGreaterEqual(len(rows), 3)
        for block, params, cells, ffs in rows:
            with self.subTest(block=block, params=params):
                with tempfile.NamedTemporaryFile(suffix=".json") as stat:
                    code, log = yosys(block, params,
                                      f"synth -top {block}; check -assert; tee -q -o {stat.name} stat -json")
                    self.assertEqual(code, 0, log[-3000:])
                    report = json.load(open(stat.name))
                got_version = re.search(r"Yosys (\d+\.\d+)", report["creator"]).group(1)
                self.assertNotRegex(log, r"(?i)warning", "Yosys warned")
                self.assertIsNone(re.search(r"(?<!No )latch inferred for signal", log, re.I), "a latch was inferred")
                (module,) = report["modules"].values()
                types = module["num_cells_by_type"]
                latches = {t: n for t, n in types.items() if "LATCH" in t.upper() or re.match(r"\$_SR_", t)}
                self.assertEqual(latches, {}, "latch cells")
                got_cells = module["num_cells"]
                got_ffs = sum(n for t, n in types.items() if "DFF" in t.upper())
                print(f"{block} {params}: {got_cells} cells, {got_ffs} flip-flops (Yosys {got_version}; "
                      f"docs/rtl.md: {cells}, {ffs})")
                self.assertGreater(got_ffs, 0)
                if got_version == version:
                    self.assertEqual((got_cells, got_ffs), (cells, ffs),
                                     "docs/rtl.md's synthesis table differs from what the RTL gives: update it "
                                     "with the change that moved the figures")
                else:  # another Yosys maps differently: the registers are the same, the gates within 10%
                    self.assertEqual(got_ffs, ffs)
                    self.assertLessEqual(abs(got_cells - cells), cells // 10,
                                         f"Yosys {got_version}, figures recorded with {version}")

    def test_illegal_parameters_stop_yosys_with_the_blocks_message(self):
        for block, params, message in ILLEGAL:
            with self.subTest(block=block, params=params):
                code, log = yosys(block, params, f"hierarchy -check -top {block}")
                self.assertNotEqual(code, 0)
                self.assertIn(message, log)
                self.assertIn(sv(block), log)

    def test_the_widest_legal_parameters_elaborate(self):
        for block, params in LEGAL:
            with self.subTest(block=block, params=params):
                code, log = yosys(block, params, f"hierarchy -check -top {block}; proc")
                self.assertEqual(code, 0, log[-2000:])


class GateLevel(unittest.TestCase):
    """Needs yosys (main() exits 77 without it) and a C++ compiler."""

    def test_the_synthesized_netlists_behave_as_the_rtl(self):
        include = os.path.join(subprocess.run([VERILATOR, "--getenv", "VERILATOR_ROOT"], capture_output=True,
                                              text=True, check=True).stdout.strip(), "include")
        builds = [("sar_adc", "sar_adc", {}), ("swis_pe_ss", "swis_pe", {"DOUBLE_SHIFT": 0}),
                  ("swis_pe_ds", "swis_pe", {"DOUBLE_SHIFT": 1})]
        with tempfile.TemporaryDirectory() as tmp:
            sources = [os.path.join(include, "verilated.cpp"), os.path.join(include, "verilated_threads.cpp")]
            for name, block, params in builds:
                netlist = os.path.join(tmp, f"gl_{name}.v")
                code, log = yosys(block, params, f"synth -top {block}; rename -top gl_{name}; "
                                                 f"write_verilog -noattr {netlist}")
                self.assertEqual(code, 0, log[-2000:])
                gen = [  # the RTL as the platform Verilates it, and the netlist
                    ("rtl", [sv(block), "--assert", "--x-assign", "fast", "--x-initial", "fast",
                             *(f"-G{k}={v}" for k, v in params.items())]),
                    ("gl", [netlist, "-Wno-fatal", "-Wno-lint", "-Wno-style"])]
                for kind, args in gen:
                    mdir = os.path.join(tmp, f"{kind}_{name}")
                    p = subprocess.run([VERILATOR, "--cc", "-O3", "--Mdir", mdir, "--prefix", f"V{kind}_{name}", *args],
                                       capture_output=True, text=True, timeout=600)
                    self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                    sources += [os.path.join(mdir, f) for f in sorted(os.listdir(mdir)) if f.endswith(".cpp")]
            incs = [f"-isystem{d}" for d in [include, os.path.join(include, "vltstd"),
                                       *(os.path.join(tmp, f"{k}_{n}") for n, _, _ in builds for k in ("rtl", "gl"))]]
            objs = []
            for i, src in enumerate(sources + [os.path.join(SOURCE, "testbench", "rtl_gate_level.cpp")]):
                ours = src.endswith("rtl_gate_level.cpp")
                obj = os.path.join(tmp, f"{i}.o")
                flags = ["-Wall", "-Wextra", "-Werror"] if ours else ["-w"]
                p = subprocess.run(["c++", "-std=c++17", "-O1", *flags, *incs, "-c", src, "-o", obj],
                                   capture_output=True, text=True, timeout=900)
                self.assertEqual(p.returncode, 0, src + "\n" + p.stderr[-3000:])
                objs.append(obj)
            exe = os.path.join(tmp, "rtl_gate_level")
            p = subprocess.run(["c++", *objs, "-pthread", "-o", exe], capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            p = subprocess.run([exe], capture_output=True, text=True, timeout=600)
            print(p.stdout, end="")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(len(re.findall(r": 0 clocks differ", p.stdout)), 3, p.stdout)


def verilator_lint(block, params):
    p = subprocess.run([VERILATOR, "--lint-only", "-Wall", "--assert", *(f"-G{k}={v}" for k, v in params.items()),
                        sv(block)], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


class ParameterChecks(unittest.TestCase):
    def test_illegal_parameters_stop_verilator_with_the_blocks_message(self):
        for block, params, message in ILLEGAL:
            with self.subTest(block=block, params=params):
                code, out = verilator_lint(block, params)
                self.assertNotEqual(code, 0)
                self.assertIn(message, out)

    def test_the_widest_legal_parameters_lint_clean(self):
        for block, params in LEGAL + [("sar_adc", {}), ("swis_pe", {}), ("swis_pe", {"DOUBLE_SHIFT": 1})]:
            with self.subTest(block=block, params=params):
                code, out = verilator_lint(block, params)
                self.assertEqual(code, 0, out)
                self.assertEqual(out.strip(), "")


if __name__ == "__main__":
    SOURCE, VERILATOR = sys.argv[1], sys.argv[2]
    names = sys.argv[3:]
    if any(n.split(".")[0] in ("Synthesis", "GateLevel") for n in names) and shutil.which("yosys") is None:
        print("yosys is not installed (scripts/setup.sh installs it): synthesis not checked, SKIPPED")
        sys.exit(SKIP)
    unittest.main(argv=[sys.argv[0], "-v", *names])
