"""Command-line behaviour of `cimvp`: results files, exit codes and error
messages on bad input. Run by ctest as /usr/bin/python3 test_cli.py <cimvp> <source dir>."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

CIMVP = None
SOURCE = None
DATA = "/usr/share/datasets/fashion-mnist"


def run(*args, timeout=600):
    p = subprocess.run([CIMVP, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def model(name):
    return os.path.join(SOURCE, "models", name)


class Help(unittest.TestCase):
    def test_help_lists_the_commands_and_exits_zero(self):
        code, out = run("--help")
        self.assertEqual(code, 0)
        for cmd in ("run", "layer", "bench", "info"):
            self.assertIn(cmd, out)

    def test_no_command_and_unknown_command_exit_two(self):
        self.assertEqual(run()[0], 2)
        code, out = run("frobnicate")
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'frobnicate'", out)

    def test_bad_option_names_the_option(self):
        code, out = run("layer", "--rowz", "3")
        self.assertEqual(code, 2)
        self.assertIn("rowz", out)


class Layer(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def config(self, text):
        path = os.path.join(self.tmp, "cfg.json")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_acceptance_layer_writes_agreement_cycles_and_energy(self):
        out = os.path.join(self.tmp, "out.json")
        code, text = run("layer", "--rows", "300", "--cols", "70", "--a-bits", "4", "--w-bits", "4", "--json", out)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            r = json.load(f)
        self.assertEqual(r["agreement"], 1.0)
        self.assertEqual(r["exact_agreement"], 1.0)
        self.assertGreater(r["cycles"], 0)
        self.assertGreater(r["sim_time_ns"], 0)
        for k in ("crossbar", "adc", "shift_add", "buffers", "dma", "dram"):
            self.assertGreater(r["energy_pj"][k], 0, k)
        self.assertEqual(r["energy_pj"]["pe"], 0)
        total = sum(v for k, v in r["energy_pj"].items() if k != "total")
        self.assertAlmostEqual(r["energy_pj"]["total"], total, delta=1e-6 * total)
        self.assertEqual(r["layers"][0]["macs"], 300 * 70 * r["vectors"])
        self.assertEqual(r["config"]["crossbar"]["rows"], 128)

    def test_unknown_config_key_names_file_and_key(self):
        path = self.config('{"crossbar": {"colz": 64}}')
        code, out = run("layer", "--config", path)
        self.assertNotEqual(code, 0)
        self.assertIn(path, out)
        self.assertIn("crossbar.colz", out)

    def test_out_of_range_config_value_names_file_key_and_range(self):
        path = self.config('{"adc": {"bits": 40}}')
        code, out = run("layer", "--config", path)
        self.assertNotEqual(code, 0)
        self.assertIn(path, out)
        self.assertIn("adc.bits", out)
        self.assertIn("[1, 16]", out)

    def test_lossy_adc_still_agrees_with_reference(self):
        out = os.path.join(self.tmp, "out.json")
        code, text = run("layer", "--rows", "200", "--cols", "40", "--adc-bits", "4", "--json", out)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            r = json.load(f)
        self.assertEqual(r["agreement"], 1.0)
        self.assertFalse(r["adc_lossless"])
        self.assertGreater(r["relative_error"], 0)

    def test_conv_layer_through_im2col(self):
        code, out = run("layer", "--conv", "3,12,12,3,2,1", "--cols", "16", "--a-bits", "4", "--binary")
        self.assertEqual(code, 0, out)
        self.assertIn("agreement with the C++ reference: 1.000000", out)

    def test_bad_conv_spec_is_rejected(self):
        code, out = run("layer", "--conv", "3,12,12")
        self.assertEqual(code, 2)
        self.assertIn("--conv", out)


@unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
class RunBadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.good = model("fmnist-bwma.cimvp")
        self.assertTrue(os.path.exists(self.good), "shipped model missing: " + self.good)
        with open(self.good, "rb") as f:
            self.bytes = f.read()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_truncated_model(self):
        path = self.write("cut.cimvp", self.bytes[: len(self.bytes) // 2])
        code, out = run("run", "--model", path, "--limit", "5", "--quiet")
        self.assertNotEqual(code, 0)
        self.assertIn(path, out)

    def test_wrong_magic(self):
        path = self.write("magic.cimvp", b"NOTAMODL" + self.bytes[8:])
        code, out = run("run", "--model", path, "--limit", "5", "--quiet")
        self.assertNotEqual(code, 0)
        self.assertIn(path, out)
        self.assertIn("magic", out)

    def test_corrupted_byte_fails_the_checksum(self):
        data = bytearray(self.bytes)
        data[len(data) // 2] ^= 0x01
        path = self.write("flip.cimvp", bytes(data))
        code, out = run("run", "--model", path, "--limit", "5", "--quiet")
        self.assertNotEqual(code, 0)
        self.assertIn("checksum", out)

    def test_layer_wider_than_the_config_allows(self):
        cfg = self.write("small.json", b'{"crossbar": {"rows": 32}, "platform": {"tiles": 8}}')
        code, out = run("run", "--model", self.good, "--config", cfg, "--limit", "5", "--quiet")
        self.assertNotEqual(code, 0)
        self.assertIn(self.good, out)
        self.assertIn("layer", out)
        self.assertIn("tiles", out)

    def test_missing_data_set_says_how_to_install_it(self):
        code, out = run("run", "--model", self.good, "--data", os.path.join(self.tmp, "nothing"), "--quiet")
        self.assertNotEqual(code, 0)
        self.assertIn("apt-get install dataset-fashion-mnist", out)

    def test_missing_model_file(self):
        path = os.path.join(self.tmp, "absent.cimvp")
        code, out = run("run", "--model", path, "--quiet")
        self.assertNotEqual(code, 0)
        self.assertIn(path, out)


@unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
class Rtl(unittest.TestCase):
    """`cimvp run --rtl`: the Verilated ADC and PE in the loop (docs/rtl.md)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_json(self, *args):
        out = os.path.join(self.tmp, "r.json")
        code, text = run("run", "--limit", "3", "--quiet", "--json", out, *args)
        with open(out) as f:
            return code, text, json.load(f)

    def test_rtl_run_agrees_with_the_model_run_and_counts_its_work(self):
        if not os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")):
            self.skipTest("dataset-fashion-mnist is not installed")
        code, text, model = self.run_json()
        self.assertEqual(code, 0, text)
        self.assertFalse(model["rtl"])
        self.assertNotIn("rtl_conversions", model)
        code, text, rtl = self.run_json("--rtl")
        self.assertEqual(code, 0, text)
        self.assertTrue(rtl["rtl"])
        self.assertEqual(rtl["agreement"], 1.0)
        self.assertEqual(rtl["logits_fnv1a64"], model["logits_fnv1a64"])
        self.assertEqual(rtl["cycles"], model["cycles"])
        self.assertEqual(rtl["rtl_mismatches"], 0)
        self.assertTrue(rtl["rtl_cycles_match"])
        self.assertEqual(rtl["rtl_bypassed_pe_jobs"], 0)
        bits = rtl["config"]["adc"]["bits"]
        self.assertGreater(rtl["rtl_conversions"], 0)
        self.assertEqual(rtl["rtl_adc_cycles"], bits * rtl["rtl_conversions"])
        self.assertGreater(rtl["rtl_pe_outputs"], 0)
        self.assertGreaterEqual(rtl["rtl_pe_groups"], rtl["rtl_pe_outputs"])
        self.assertGreater(rtl["rtl_pe_cycles"], 0)
        self.assertIn("rtl:", text)

    def test_rtl_vcd_writes_one_file_per_block(self):
        if not os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")):
            self.skipTest("dataset-fashion-mnist is not installed")
        prefix = os.path.join(self.tmp, "wave")
        code, text = run("run", "--limit", "1", "--quiet", "--rtl", "--rtl-vcd", prefix, "--rtl-vcd-cycles", "500")
        self.assertEqual(code, 0, text)
        for block, signal in (("sar_adc", "in_psum"), ("swis_pe", "w_mask")):
            with open(prefix + "." + block + ".vcd") as f:
                vcd = f.read()
            self.assertIn(signal, vcd)
            self.assertIn("#", vcd)

    def test_rtl_vcd_without_rtl_and_an_unwritable_vcd_are_refused(self):
        code, out = run("run", "--limit", "1", "--rtl-vcd", os.path.join(self.tmp, "w"))
        self.assertEqual(code, 2)
        self.assertIn("--rtl-vcd: needs --rtl", out)
        code, out = run("run", "--limit", "1", "--rtl", "--rtl-vcd", os.path.join(self.tmp, "no", "such", "dir", "w"))
        self.assertEqual(code, 2, out)
        self.assertIn("cannot open the VCD file", out)


class ShippedModels(unittest.TestCase):
    """Every shipped model on all 10,000 test images: the platform's logits equal the
    C++ reference's on every image and the PyTorch fake-quant model's (digest), and
    the accuracy is the one the front end measured."""

    def check(self, name, config=None):
        tmp = tempfile.mkdtemp()
        try:
            out = os.path.join(tmp, "r.json")
            args = ["run", "--model", model(name + ".cimvp"), "--quiet", "--json", out]
            if config:
                args += ["--config", os.path.join(SOURCE, "configs", config)]
            code, text = run(*args, timeout=1800)
            self.assertEqual(code, 0, text)
            with open(out) as f:
                r = json.load(f)
            with open(model(name + ".expected.json")) as f:
                expected = json.load(f)
        finally:
            shutil.rmtree(tmp)
        self.assertEqual(r["images"], 10000)
        self.assertEqual(r["agreement"], 1.0)
        self.assertEqual(r["recalibrated_layers"], [])
        self.assertTrue(r["fake_quant_match"], "logits digest differs from the fake-quant model's")
        self.assertEqual(r["logits_fnv1a64"], expected["logits_fnv1a64"])
        self.assertAlmostEqual(r["accuracy"], expected["accuracy"], places=6)
        self.assertGreater(r["cycles"], 0)
        self.assertGreater(r["energy_pj"]["total"], 0)

    def test_int8(self):
        self.check("fmnist-int8")

    def test_bwma(self):
        self.check("fmnist-bwma")

    def test_columnwise(self):
        self.check("fmnist-columnwise", "columnwise.json")


if __name__ == "__main__":
    CIMVP, SOURCE = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[3:]])
