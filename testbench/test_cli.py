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


class Convert(unittest.TestCase):
    """`cimvp convert`: a model with SWIS-stored layers (format v2), its storage
    report, and `cimvp run` on it equal to the same decomposition made on the fly."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def convert(self, *args):
        out, js = os.path.join(self.tmp, "m.cimvp"), os.path.join(self.tmp, "convert.json")
        code, text = run("convert", "--out", out, "--json", js, *args)
        self.assertEqual(code, 0, text)
        with open(js) as f:
            return out, json.load(f), text

    def test_report_counts_bits_per_group_and_bytes_against_int8(self):
        out, r, text = self.convert("--model", model("fmnist-int8.cimvp"), "--pe-layers", "all", "--shifts", "3")
        self.assertIn("layer 1 (conv)", text)
        self.assertEqual(r["variant"], "swis")
        self.assertFalse(r["scheduled"])
        self.assertEqual(len(r["layers"]), 4)
        for L in r["layers"]:
            self.assertEqual(L["mean_shifts"], 3.0)
            self.assertEqual(L["bits_per_group"], 4 + 7 * 3)  # 4 signs + 3 x 3 shift bits + 4 x 3 mask bits
            self.assertEqual(L["swis_bits"], L["groups"] * 25)
            self.assertEqual(L["swis_bytes"], -(-L["swis_bits"] // 8))
            self.assertEqual(L["int8_bytes"], L["weights"])
            self.assertAlmostEqual(L["ratio"], 8 * L["weights"] / L["swis_bits"])
        self.assertEqual(r["total"]["int8_bytes"], 421408)
        self.assertEqual(r["total"]["swis_bytes"], sum(L["swis_bytes"] for L in r["layers"]))
        with open(out, "rb") as f:
            data = f.read()
        self.assertEqual(int.from_bytes(data[8:12], "little"), 2)
        self.assertEqual(len(data), r["file_bytes"]["output_v2"])
        # The Python reader reads what the C++ writer wrote.
        sys.path.insert(0, os.path.join(SOURCE, "sw", "python"))
        from cimvp_frontend import modelfile
        m = modelfile.read(out)
        for L, rep in zip(m.layers, r["layers"]):
            self.assertEqual(len(L.swis.packed), rep["swis_bytes"])
            self.assertEqual(list(L.swis.filter_n), [3] * L.M)
        self.assertEqual(modelfile.to_bytes(m), data)

    def test_scheduled_swis_c_mean_is_reported(self):
        _, r, _ = self.convert("--model", model("fmnist-bwma.cimvp"), "--shifts", "2.5", "--variant", "swis-c")
        self.assertTrue(r["scheduled"])
        self.assertEqual([L["name"] for L in r["layers"]], ["layer 0 (conv)", "layer 3 (fc)"])
        self.assertEqual(r["layers"][0]["mean_shifts"], 2.5)  # 32 filters, 4 groups of 8
        for L in r["layers"]:
            self.assertGreaterEqual(L["min_shifts"], 1)
            self.assertLessEqual(L["max_shifts"], 8)

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_stored_model_runs_like_swis_shifts_on_the_v1_model(self):
        out, _, _ = self.convert("--model", model("fmnist-int8.cimvp"), "--pe-layers", "all", "--shifts", "3")
        results = []
        for args in (["--model", out], ["--model", model("fmnist-int8.cimvp"), "--pe-layers", "all",
                                        "--swis-shifts", "3"]):
            js = os.path.join(self.tmp, "run.json")
            code, text = run("run", *args, "--limit", "500", "--quiet", "--json", js)
            self.assertEqual(code, 0, text)
            with open(js) as f:
                results.append(json.load(f))
        stored, on_the_fly = results
        self.assertEqual(stored["agreement"], 1.0)
        self.assertEqual([L["mapped_to"] for L in stored["layers"]], ["pe_array"] * 4)
        self.assertEqual([L["swis_storage"]["mean_shifts"] for L in stored["layers"]], [3.0] * 4)
        self.assertEqual([L["swis_storage"] for L in on_the_fly["layers"]], [None] * 4)
        self.assertEqual(stored["accuracy"], on_the_fly["accuracy"])
        self.assertEqual(stored["logits_fnv1a64"], on_the_fly["logits_fnv1a64"])
        self.assertEqual(stored["cycles"], on_the_fly["cycles"])

    def test_bad_requests_name_the_problem(self):
        code, out = run("convert", "--model", model("fmnist-int8.cimvp"), "--shifts", "3")
        self.assertEqual(code, 2)
        self.assertIn("--out", out)
        code, out = run("convert", "--model", model("fmnist-int8.cimvp"), "--out", os.path.join(self.tmp, "x.cimvp"))
        self.assertEqual(code, 2)
        self.assertIn("--pe-layers", out)  # int8 puts nothing on the PE array by default
        code, out = run("convert", "--model", model("fmnist-int8.cimvp"), "--pe-layers", "all", "--variant", "swiss",
                        "--out", os.path.join(self.tmp, "x.cimvp"))
        self.assertEqual(code, 2)
        self.assertIn("--variant: expected swis or swis-c, got 'swiss'", out)
        code, out = run("convert", "--model", model("fmnist-bwma.cimvp"), "--pe-layers", "1",
                        "--out", os.path.join(self.tmp, "x.cimvp"))
        self.assertEqual(code, 2)
        self.assertIn("layer 1 (conv)", out)
        stored, _, _ = self.convert("--model", model("fmnist-bwma.cimvp"), "--shifts", "4")
        code, out = run("convert", "--model", stored, "--out", os.path.join(self.tmp, "y.cimvp"))
        self.assertEqual(code, 2)
        self.assertIn("already stored as SWIS groups", out)
        code, out = run("run", "--model", stored, "--swis-shifts", "3", "--limit", "2", "--quiet")
        self.assertEqual(code, 2)
        self.assertIn("--swis-shifts", out)
        # A corrupted byte in the stored groups fails the checksum before anything is read.
        with open(stored, "rb") as f:
            data = bytearray(f.read())
        data[-17] ^= 0xFF  # the last packed byte: its padding bits or a group
        path = os.path.join(self.tmp, "bad.cimvp")
        with open(path, "wb") as f:
            f.write(data)
        code, out = run("run", "--model", path, "--limit", "2", "--quiet")
        self.assertEqual(code, 2)
        self.assertIn("checksum", out)


@unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
class PingPong(unittest.TestCase):
    """platform.ping_pong: the same logits in fewer cycles (the next chunk's input DMA
    overlaps the tiles' runs)."""

    def test_same_logits_fewer_cycles(self):
        tmp = tempfile.mkdtemp()
        try:
            cfg = os.path.join(tmp, "pp.json")
            with open(cfg, "w") as f:
                f.write('{"platform": {"ping_pong": true}}')
            results = []
            for extra in ([], ["--config", cfg]):
                out = os.path.join(tmp, "r.json")
                code, text = run("run", "--limit", "40", "--quiet", "--json", out, *extra)
                self.assertEqual(code, 0, text)
                with open(out) as f:
                    results.append(json.load(f))
        finally:
            shutil.rmtree(tmp)
        single, double = results
        self.assertFalse(single["config"]["platform"]["ping_pong"])
        self.assertTrue(double["config"]["platform"]["ping_pong"])
        self.assertEqual(double["agreement"], 1.0)
        self.assertEqual(double["logits_fnv1a64"], single["logits_fnv1a64"])
        self.assertEqual(double["accuracy"], single["accuracy"])
        self.assertLess(double["cycles"], single["cycles"])
        for a, b in zip(single["layers"], double["layers"]):
            self.assertLessEqual(b["cycles"], a["cycles"], a["name"])


@unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
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
