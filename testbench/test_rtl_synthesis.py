"""The RTL blocks (rtl/*.sv) as hardware: they synthesize with Yosys, infer no
latch, and their cell and flip-flop counts equal the figures docs/rtl.md
records; illegal parameters stop Verilator and Yosys at elaboration with the
block's message (docs/rtl.md, "Synthesis" and "Input contracts").

Run by ctest as
  /usr/bin/python3 test_rtl_synthesis.py <source dir> <verilator_bin> [test names...]
Synthesis needs `yosys` on PATH: without it the Synthesis tests exit 77, which
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
    ("swis_pe", {"ACC_W": 19}, "swis_pe: ACC_W must be at least 20"),
]
# The widest legal parameter sets, on each bound: accepted.
LEGAL = [
    ("sar_adc", {"STEP_W": 46}),
    ("sar_adc", {"PSUM_W": 62}),
    ("sar_adc", {"MAX_BITS": 31, "STEP_W": 31}),
    ("sar_adc", {"PSUM_W": 6, "STEP_W": 3, "MAX_BITS": 3}),
    ("swis_pe", {"ACC_W": 20}),
    ("swis_pe", {"DOUBLE_SHIFT": 1, "ACC_W": 20}),
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
    if any(n.split(".")[0] == "Synthesis" for n in names) and shutil.which("yosys") is None:
        print("yosys is not installed (scripts/setup.sh installs it): synthesis not checked, SKIPPED")
        sys.exit(SKIP)
    unittest.main(argv=[sys.argv[0], "-v", *names])
