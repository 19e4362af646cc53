"""Command-line behaviour of `cimvp`: results files, exit codes and error
messages on bad input. Run by ctest as /usr/bin/python3 test_cli.py <cimvp> <source dir>."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

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
        for cmd in ("run", "layer", "bench", "info", "replay"):
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
class Bench(unittest.TestCase):
    def test_every_layer_type_agrees_with_the_reference_and_reports_its_speed(self):
        tmp = tempfile.mkdtemp()
        try:
            out = os.path.join(tmp, "bench.json")
            code, text = run("bench", "--layer-type", "all", "--images", "3", "--model-images", "0", "--json", out)
            self.assertEqual(code, 0, text)
            with open(out) as f:
                rows = json.load(f)["layer_types"]
        finally:
            shutil.rmtree(tmp)
        self.assertEqual([r["type"] for r in rows], ["conv3x3", "conv1x1", "fc", "pe"])
        for r in rows:
            self.assertEqual(r["agreement"], 1.0, r["type"])
            self.assertGreater(r["simulated_macs_per_second"], 0)
            self.assertAlmostEqual(r["platform_over_reference"],
                                   r["platform_wall_seconds"] / r["reference_wall_seconds"])
            self.assertGreater(r["cycles"], 0)

    def test_unknown_layer_type_exits_two_naming_the_known_ones(self):
        code, text = run("bench", "--layer-type", "depthwise")
        self.assertEqual(code, 2)
        self.assertIn("conv3x3, conv1x1, fc, pe or all", text)


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


def rewrite_recording(path, edit):
    """Inflates a recorded command stream (docs/record-format.md), applies edit(body) -> body,
    and writes it back with consistent sizes and checksum."""
    with open(path, "rb") as f:
        raw = f.read()
    header = 36
    magic, version, flags, body_bytes, packed_bytes, crc = struct.unpack("<8sIIQQI", raw[:header])
    body = zlib.decompress(raw[header:])
    assert len(body) == body_bytes and zlib.crc32(body) == crc
    body = edit(bytearray(body))
    packed = zlib.compress(bytes(body))
    with open(path, "wb") as f:
        f.write(struct.pack("<8sIIQQI", magic, version, flags, len(body), len(packed), zlib.crc32(body)) + packed)


class Replay(unittest.TestCase):
    """`run/layer --record F` and `replay F`: the replay, without the driver, reproduces
    the recorded cycles, simulated time and every byte the host read (the outputs)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def replay(self, rec, *extra):
        out = self.path("replay.json")
        code, text = run("replay", rec, "--json", out, *extra)
        result = None
        if code == 0:
            with open(out) as f:
                result = json.load(f)
        return code, text, result

    def record_layer(self):
        rec, out = self.path("layer.rec"), self.path("layer.json")
        code, text = run("layer", "--rows", "200", "--cols", "40", "--vectors", "6", "--a-bits", "4",
                         "--record", rec, "--json", out)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            return rec, json.load(f)

    def test_tiny_layer_replays_to_identical_cycles_time_and_outputs(self):
        rec, layer = self.record_layer()
        code, text, r = self.replay(rec)
        self.assertEqual(code, 0, text)
        self.assertEqual(r["command_lists"], 1)
        self.assertEqual(r["cycles"], layer["cycles"])
        self.assertAlmostEqual(r["sim_time_ns"], layer["sim_time_ns"], delta=1e-6 * layer["sim_time_ns"])
        self.assertEqual(r["sim_time_ns"], r["recorded"]["sim_time_ns"])
        self.assertEqual(r["end_ps"], r["recorded"]["end_ps"])
        # The accumulators read back (vectors x M int64) are among the checked bytes.
        self.assertGreaterEqual(r["bytes_checked"], 6 * 40 * 8)

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_default_model_run_replays_to_identical_cycles_time_and_logits(self):
        rec, out = self.path("run.rec"), self.path("run.json")
        code, text = run("run", "--limit", "2", "--quiet", "--record", rec, "--json", out)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            ran = json.load(f)
        code, text, r = self.replay(rec)
        self.assertEqual(code, 0, text)
        # The replay counts every list, the one-time programming list included.
        self.assertEqual(r["cycles"], ran["cycles"] + ran["programming"]["cycles"])
        expected_ns = ran["sim_time_ns"] + ran["programming"]["sim_time_ns"]
        self.assertAlmostEqual(r["sim_time_ns"], expected_ns, delta=1e-9 * expected_ns)
        self.assertEqual(r["command_lists"], len(ran["layers"]) + 1)
        self.assertEqual(r["recorded"]["images"], 2)
        self.assertGreaterEqual(r["bytes_checked"], 2 * 10 * 8)  # the logits

        # A recording whose last read (the logits) holds other bytes: the replay names it.
        def flip_last_byte(body):
            body[-1] ^= 0x01
            return body
        rewrite_recording(rec, flip_last_byte)
        code, text, _ = self.replay(rec)
        self.assertEqual(code, 1, text)
        self.assertRegex(text, r"event \d+ \(RD 0x[0-9a-f]+, 160 bytes, at [0-9.]+ us\): byte 159 differs: "
                               r"recorded 0x[0-9a-f]{2}, replayed 0x[0-9a-f]{2}")

    def test_corrupted_recording_is_refused_naming_file_and_field(self):
        rec, _ = self.record_layer()
        with open(rec, "r+b") as f:
            f.seek(200)
            b = f.read(1)
            f.seek(200)
            f.write(bytes([b[0] ^ 0xFF]))
        code, text, _ = self.replay(rec)
        self.assertEqual(code, 2, text)
        self.assertIn(rec, text)
        self.assertRegex(text, r"offset \d+: (crc32|compressed body): expected")

    def test_truncated_and_foreign_files_are_refused(self):
        rec, _ = self.record_layer()
        with open(rec, "rb") as f:
            data = f.read()
        with open(rec, "wb") as f:
            f.write(data[:-100])
        code, text, _ = self.replay(rec)
        self.assertEqual(code, 2, text)
        self.assertIn("compressed_bytes", text)
        code, text, _ = self.replay(model("fmnist-bwma.cimvp"))
        self.assertEqual(code, 2, text)
        self.assertIn("magic", text)

    def test_replay_on_a_config_with_other_timing_reports_the_difference(self):
        rec, _ = self.record_layer()
        cfg = self.path("slow.json")
        with open(cfg, "w") as f:
            f.write('{"platform": {"dram": {"latency_ns": 123}}}')
        code, text, _ = self.replay(rec, "--config", cfg)
        self.assertEqual(code, 1, text)
        self.assertIn("timing differs", text)

    def test_shipped_recording_replays(self):
        rec = os.path.join(SOURCE, "traces", "fmnist-bwma-1image.cimvprec")
        code, text, r = self.replay(rec)
        self.assertEqual(code, 0, text)
        self.assertEqual(r["recorded"]["images"], 1)
        self.assertGreater(r["cycles"], 0)


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
