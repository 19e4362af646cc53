"""Command-line behaviour of `cimvp`: results files, exit codes and error
messages on bad input. Run by ctest as /usr/bin/python3 test_cli.py <cimvp> <source dir>."""
import csv
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

import vcd_file

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
        for cmd in ("run", "layer", "bench", "info", "replay", "swis", "convert", "import", "sweep", "size"):
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


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def tiny_graph_model():
    """A model file in format v3 written byte by byte from docs/model-format.md: a 1x1 conv, an add
    of its output with itself, and the fc of the logits."""
    u32 = lambda *v: struct.pack("<%dI" % len(v), *v)
    b = b"CIMVPMDL" + u32(3, 3, 1, 4, 4, 8, 10) + b"int8".ljust(16, b"\0") + b"tiny-graph".ljust(32, b"\0")
    b += u32(0, 0, 0, 8)
    # node 0: conv 1 -> 2, 1x1, on the image
    b += u32(1, 1, 0) + u32(1, 4, 4, 2, 1, 1, 0, 8, 8, 0, 0, 1, 4, 0, 0, 0) + struct.pack("<i", 6) + u32(0, 0, 1)
    b += struct.pack("<2b", 3, -2) + struct.pack("<2q", 5, -5) + struct.pack("<2i", 7, 9) + struct.pack("<2i", 0, 0)
    b += u32(0)
    # node 1: add of node 0's output with itself
    b += u32(3, 2, 1, 1) + u32(2, 4, 4, 2, 4) + struct.pack("<i", 1) + u32(0, 0, 0)
    b += struct.pack("<2i", 1, 1) + struct.pack("<2q", 0, 0)
    # node 2: fc 2x4x4 -> 10, the logits
    b += u32(2, 1, 2) + u32(2, 4, 4, 10, 1, 1, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0) + struct.pack("<i", 0) + u32(0, 0, 1)
    b += bytes((i * 7) % 5 for i in range(10 * 32)) + struct.pack("<10q", *range(10))
    b += struct.pack("<10i", *([1] * 10)) + struct.pack("<10i", *([0] * 10)) + u32(0)
    return b + struct.pack("<Q", fnv1a64(b)) + b"CIMVPEND"


class Info(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_info_prints_a_chains_layers(self):
        code, out = run("info", "--model", model("fmnist-int8.cimvp"))
        self.assertEqual(code, 0, out)
        self.assertIn("a chain, 4 layers", out)
        self.assertRegex(out, r"layer 1 \(conv\)\s+<- layer 0\s+-> 8-bit")
        self.assertRegex(out, r"layer 3 \(fc\)\s+<- layer 2\s+-> logits 10x1x1")

    def test_a_configs_device_seed_holds_unless_seed_is_given(self):
        path = os.path.join(self.tmp, "c.json")
        with open(path, "w") as f:
            json.dump({"nonideal": {"conductance_sigma": 0.1, "seed": 7}}, f)
        code, out = run("info", "--config", path)
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r'"seed": 7\b')
        code, out = run("info", "--config", path, "--seed", "9")
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r'"seed": 9\b')

    def test_info_prints_a_graphs_nodes_and_their_inputs(self):
        path = os.path.join(self.tmp, "g.cimvp")
        with open(path, "wb") as f:
            f.write(tiny_graph_model())
        code, out = run("info", "--model", path)
        self.assertEqual(code, 0, out)
        self.assertIn("a graph, 3 nodes", out)
        self.assertRegex(out, r"node 1 \(add\)\s+<- node 0, node 0\s+-> 4-bit 2x4x4")
        self.assertRegex(out, r"node 2 \(fc\)\s+<- node 1\s+-> logits")

    def test_a_graph_naming_a_later_node_exits_two_naming_the_node(self):
        b = bytearray(tiny_graph_model())
        # node 1's second input (after the header's 100 bytes, node 0's 130 and its kind, n_inputs and
        # first input): tensor 3, node 2's output, which comes after it
        at = 100 + 130 + 12
        self.assertEqual(struct.unpack_from("<I", b, at)[0], 1)
        struct.pack_into("<I", b, at, 3)
        struct.pack_into("<Q", b, len(b) - 16, fnv1a64(bytes(b[:-16])))
        path = os.path.join(self.tmp, "bad.cimvp")
        with open(path, "wb") as f:
            f.write(b)
        code, out = run("info", "--model", path)
        self.assertEqual(code, 2, out)
        self.assertIn(path + ": node 1 (add): inputs[1]: expected 0..1", out)


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

    def test_bad_cell_mapping_names_file_key_and_values(self):
        path = self.config('{"crossbar": {"mapping": "diff"}}')
        code, out = run("layer", "--config", path)
        self.assertEqual(code, 2, out)
        self.assertIn(path + ': crossbar.mapping: expected "offset" or "differential", got "diff"', out)

    def test_differential_mapping_is_the_exact_product_from_twice_the_columns(self):
        results = {}
        for mapping in ("offset", "differential"):
            out = os.path.join(self.tmp, mapping + ".json")
            code, text = run("layer", "--rows", "300", "--cols", "70", "--a-bits", "4", "--w-bits", "4", "--config",
                             self.config(json.dumps({"crossbar": {"mapping": mapping}})), "--json", out)
            self.assertEqual(code, 0, text)
            with open(out) as f:
                results[mapping] = json.load(f)
        off, diff = results["offset"], results["differential"]
        self.assertEqual(diff["config"]["crossbar"]["mapping"], "differential")
        self.assertEqual(diff["agreement"], 1.0)
        self.assertEqual(diff["exact_agreement"], 1.0)
        # 4-bit weights in 1-bit cells: 4 columns per output, 32 outputs per macro; differential 8 and 16.
        self.assertEqual(off["layers"][0]["col_tiles"], 3)
        self.assertEqual(diff["layers"][0]["col_tiles"], 5)
        self.assertAlmostEqual(diff["energy_pj"]["adc"], 2 * off["energy_pj"]["adc"], delta=1e-9 * off["energy_pj"]["adc"])

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

TRACE_CSV_HEADER = ("layer,type,mapped_to,macs,cycles,latency_ns,tiles_used,passes,tile_utilization,pe_utilization,"
                    "energy_pj,crossbar_pj,adc_pj,shift_add_pj,pe_pj,post_process_pj,buffers_pj,dma_pj,dram_pj,host_ops,"
                    "wall_seconds,reference_wall_seconds")

GOOD_TRACE = """cimvp-trace 1
# a comment
network name=t input=3,8,8 classes=4
data seed=1 act=relu-uniform:0.5 weights=normal:0.1
layer name=c1 type=conv in=3,8,8 out=8 kernel=3 stride=1 padding=1 groups=1 w_bits=8 a_bits=8 scheme=int8 map=crossbar
layer name=fc type=fc in=8,8,8 out=4 w_bits=8 a_bits=8 scheme=int8 map=crossbar
"""


class TraceRun(unittest.TestCase):
    """`cimvp run --trace F`: the shipped traces run and agree with the reference;
    malformed traces exit non-zero naming the file, the line and what was expected."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def trace(self, name):
        return os.path.join(SOURCE, "traces", name + ".trace")

    def write(self, text):
        path = os.path.join(self.tmp, "bad.trace")
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_trace(self, path, *extra):
        out = os.path.join(self.tmp, "r.json")
        csv = os.path.join(self.tmp, "r.csv")
        code, text = run("run", "--trace", path, "--quiet", "--json", out, "--csv", csv, *extra)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            r = json.load(f)
        with open(csv) as f:
            rows = f.read().splitlines()
        return r, rows

    def check_shipped(self, name, *extra):
        r, rows = self.run_trace(self.trace(name), *extra)
        self.assertEqual(r["agreement"], 1.0)
        self.assertEqual(rows[0], TRACE_CSV_HEADER)
        self.assertEqual(len(rows), len(r["layers"]) + 2)
        self.assertTrue(rows[-1].startswith("total,"))
        for layer in r["layers"]:
            for key in ("name", "macs", "cycles", "energy_pj", "mapped_to", "latency_ns", "tile_utilization",
                        "pe_utilization", "tiles_used"):
                self.assertIn(key, layer)
            if layer["mapped_to"] != "host":
                self.assertGreater(layer["cycles"], 0, layer["name"])
            if layer["mapped_to"] not in ("host", "post_process"):
                self.assertGreater(layer["macs"], 0, layer["name"])
        self.assertAlmostEqual(sum(l["energy_pj"]["total"] for l in r["layers"]), r["energy_pj"]["total"],
                               delta=1e-6 * r["energy_pj"]["total"])
        self.assertEqual(sum(l["macs"] for l in r["layers"]), r["macs"])
        return r

    def narrow_trace(self, layer):
        return self.write("cimvp-trace 1\nnetwork name=n input={}\ndata seed=1 act=uniform weights=normal:0.1\n"
                          "{}\n".format(layer.split("in=")[1].split()[0], layer))

    def test_fields_wider_than_their_descriptor_field_are_refused_naming_the_line(self):
        # Valid trace values that the im2col descriptor's 8- and 16-bit fields cannot hold: they used to
        # run with their low bits (stride 257 as 1: the platform disagreed with the reference) or end in
        # a bare controller error.
        cases = [("layer name=c type=conv in=1,300,300 out=4 kernel=3 stride=257 padding=0 groups=1 w_bits=8 a_bits=8 "
                  "scheme=int8 map=crossbar", r"stride 257 does not fit the im2col descriptor's 8-bit stride field"),
                 ("layer name=c type=conv in=1,300,300 out=4 kernel=3 stride=1024 padding=0 groups=1 w_bits=8 a_bits=8 "
                  "scheme=int8 map=crossbar", r"stride 1024 does not fit"),
                 ("layer name=c type=conv in=1,1,65536 out=4 kernel=1 stride=1 padding=0 groups=1 w_bits=8 a_bits=8 "
                  "scheme=int8 map=crossbar", r"in_w 65536 does not fit the descriptors' 16-bit width field")]
        for layer, why in cases:
            path = self.narrow_trace(layer)
            code, text = run("run", "--trace", path, "--quiet", timeout=120)
            self.assertEqual(code, 2, text)
            self.assertRegex(text, re.escape(path) + r":4: layer c: layer 0 \(conv\): " + why)

    def test_layers_beyond_the_work_limits_are_refused_while_parsing(self):
        # In-range fields whose product asked for gigabytes: a bare std::bad_alloc, or K wrapping to 0.
        cases = [("layer name=f type=fc in=65535,65535,1 out=10 w_bits=8 a_bits=8 scheme=int8 map=crossbar",
                  r":4: in: expected a tensor of at most 67108864 values \(C\*H\*W\), got 4294836225"),
                 ("layer name=f type=fc in=65536,1,1 out=65536 w_bits=8 a_bits=8 scheme=int8 map=crossbar",
                  r":4: out: expected at most 134217728 weights in a layer \(out\*K\), got 4294967296"),
                 ("layer name=c type=conv in=4096,64,64 out=4096 kernel=15 stride=1 padding=7 groups=1 w_bits=8 "
                  "a_bits=8 scheme=int8 map=crossbar", r":4: in: expected at most 1048576 inputs per filter \(K\), "
                                                       r"got 921600|:4: out: expected at most")]
        for layer, why in cases:
            path = self.narrow_trace(layer)
            t0 = time.time()
            code, text = run("run", "--trace", path, "--quiet", timeout=60)
            self.assertEqual(code, 2, text)
            self.assertRegex(text, re.escape(path) + why)
            self.assertLess(time.time() - t0, 10)

    def test_resnet20_runs_whole(self):
        r = self.check_shipped("resnet20")
        self.assertEqual(r["macs"], 40551040)

    def test_vgg8_runs_whole(self):
        self.check_shipped("vgg8")

    def test_vgg16_cifar_runs_whole(self):
        self.check_shipped("vgg16_cifar")

    def test_imagenet_traces_run_their_first_layers(self):
        # The whole ImageNet networks take from seconds to minutes (README); here the first layers.
        for name, layers in (("resnet18", 3), ("mobilenet_v2", 4), ("vgg16", 1)):
            r = self.check_shipped(name, "--layers", str(layers))
            self.assertEqual(len(r["layers"]), layers)

    def check_error(self, text, line, *needles):
        path = self.write(text)
        code, out = run("run", "--trace", path, "--quiet")
        self.assertNotEqual(code, 0, out)
        self.assertIn("%s:%d:" % (path, line), out)
        self.assertIn("expected", out)
        for n in needles:
            self.assertIn(n, out)

    def test_unknown_layer_type(self):
        self.check_error(GOOD_TRACE.replace("type=conv", "type=deconv"), 5, "one of conv, dwconv, fc, pool, add",
                         "'deconv'")

    def test_zero_shape(self):
        self.check_error(GOOD_TRACE.replace("in=3,8,8 out=8", "in=3,0,8 out=8"), 5, "three positive integers")

    def test_negative_shape(self):
        self.check_error(GOOD_TRACE.replace("out=8 kernel", "out=-8 kernel"), 5, "out: expected an integer in [1, 65536]")

    def test_missing_field(self):
        self.check_error(GOOD_TRACE.replace(" kernel=3", ""), 5, "kernel: expected a value")

    def test_wrong_version(self):
        self.check_error(GOOD_TRACE.replace("cimvp-trace 1", "cimvp-trace 2"), 1, "version: expected 1")

    def test_missing_trace_file(self):
        path = os.path.join(self.tmp, "absent.trace")
        code, out = run("run", "--trace", path, "--quiet")
        self.assertNotEqual(code, 0)
        self.assertIn(path, out)

    def test_bad_map_and_both_inputs_are_rejected(self):
        path = self.write(GOOD_TRACE)
        code, out = run("run", "--trace", path, "--map", "tiles", "--quiet")
        self.assertEqual(code, 2)
        self.assertIn("--map: expected trace, crossbar or pe", out)
        code, out = run("run", "--trace", path, "--model", model("fmnist-int8.cimvp"), "--quiet")
        self.assertEqual(code, 2)
        self.assertIn("expected one of --trace F and --model F", out)

    def test_options_of_the_other_kind_of_run_are_rejected(self):
        path = self.write(GOOD_TRACE)
        code, out = run("run", "--trace", path, "--limit", "5", "--quiet")
        self.assertEqual(code, 2)
        self.assertIn("--limit: expected with --model only", out)
        code, out = run("run", "--map", "pe", "--limit", "5", "--quiet")
        self.assertEqual(code, 2)
        self.assertIn("--map: expected with --trace F only", out)

    def test_csv_has_the_documented_header(self):
        r, rows = self.run_trace(self.write(GOOD_TRACE))
        self.assertEqual(rows[0], TRACE_CSV_HEADER)
        cols = TRACE_CSV_HEADER.split(",")
        for row in rows[1:]:
            self.assertEqual(len(row.split(",")), len(cols))
        total = dict(zip(cols, rows[-1].split(",")))
        self.assertEqual(total["layer"], "total")
        self.assertEqual(int(total["macs"]), r["macs"])
        self.assertEqual(int(total["cycles"]), r["cycles"])
        self.assertAlmostEqual(float(total["energy_pj"]), r["energy_pj"]["total"],
                               delta=1e-5 * r["energy_pj"]["total"])


@unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
def read_trace_layers(path):
    """The layer records of a trace file as dicts of their key=value fields (docs/trace-format.md)."""
    layers = []
    with open(path) as f:
        for line in f:
            words = line.split("#")[0].split()
            if words and words[0] == "layer":
                layers.append(dict(w.split("=", 1) for w in words[1:]))
    return layers


def resident_tiles(layer, rows=128, cols=128, cell_bits=1):
    """Tiles a crossbar conv or fc layer holds with all its weights at once, from the trace fields alone:
    ceil(K / rows) row tiles of floor(cols / slices) outputs each (docs/numerics.md, tiling)."""
    c, h, w = (int(v) for v in layer["in"].split(","))
    k = c * int(layer["kernel"]) ** 2 if layer["type"] == "conv" else c * h * w
    slices = 1 if layer["scheme"] == "bwma" else -(-int(layer["w_bits"]) // cell_bits)
    return -(-k // rows) * -(-int(layer["out"]) // (cols // slices))


class Swis(unittest.TestCase):
    """`cimvp swis`: FXP and BitFusion at equal area by default, on the configured PEs with
    --same-pes (docs/swis.md "At equal area")."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.tiny = os.path.join(SOURCE, "testbench", "data", "tiny.trace")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def swis_json(self, *args):
        out = os.path.join(self.tmp, "s%d.json" % len(os.listdir(self.tmp)))
        code, text = run("swis", "--trace", self.tiny, "--targets", "2", "--quiet", "--json", out, *args)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            return json.load(f)

    def test_baselines_run_at_equal_area_unless_same_pes(self):
        j = self.swis_json()
        self.assertTrue(j["iso_area"])
        a = j["arrays"]
        self.assertEqual((a["SS"]["rows"], a["SS"]["cols"]), (8, 8))
        self.assertEqual((a["DS"]["pes"], a["DS"]["pe"]), (64, "double-shift"))
        for m in ("FXP", "BitFusion"):
            self.assertEqual((a[m]["rows"], a[m]["cols"]), (4, 5), m)
            self.assertLessEqual(a[m]["pes"] * a[m]["pe_area_um2"], j["area_budget_um2"])
            self.assertGreater(a[m]["rows"] * (a[m]["cols"] + 1) * a[m]["pe_area_um2"], j["area_budget_um2"])
        self.assertAlmostEqual(j["area_budget_um2"], 64 * a["SS"]["pe_area_um2"])
        # conv2: 8 filters of 16 channels 3x3 (36 groups), 16 output pixels. At equal area
        # 4 pixel tiles x 2 filter tiles, skew 7; on 8 x 8, 2 x 1 tiles, skew 14.
        conv2 = j["targets"][0]["layers"][0]
        self.assertEqual(conv2["name"], "conv2")
        self.assertEqual(conv2["modes"]["FXP"]["cycles"], 4 * 2 * (36 + 7))
        self.assertEqual(conv2["modes"]["BitFusion"]["cycles"], 4 * 2 * (36 * 1 + 7))  # 2-bit weights: 1 cycle a group
        same = self.swis_json("--same-pes")
        self.assertFalse(same["iso_area"])
        self.assertEqual(same["arrays"]["FXP"]["pes"], 64)
        self.assertEqual(same["targets"][0]["layers"][0]["modes"]["FXP"]["cycles"], 2 * (36 + 14))
        self.assertEqual(same["targets"][0]["layers"][0]["modes"]["SS"], conv2["modes"]["SS"])

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_progress_lines_count_the_layers_and_accuracy_runs_without_empty_fields(self):
        code, out = run("swis", "--model", model("fmnist-int8.cimvp"), "--targets", "2", "--limit", "4")
        self.assertEqual(code, 0, out)
        lines = [ln for ln in out.splitlines() if "/s" in ln and ("layers" in ln or "accuracy runs" in ln)]
        self.assertIn("4/4 layers, layer 3 (fc), ", "\n".join(lines))
        self.assertTrue(any(ln.startswith("7/7 accuracy runs, ") for ln in lines), lines)
        for ln in lines:
            self.assertNotIn(", ,", ln)

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_accuracy_modes_measure_only_those_modes_and_the_same_figures(self):
        """--accuracy-modes SS,Wgt: two runs of the test images besides int8 (not six), the same SS and Wgt
        accuracies as the full run, the others null and listed as not measured; the compression stays."""
        def report(*extra):
            out = os.path.join(self.tmp, "a%d.json" % len(os.listdir(self.tmp)))
            code, text = run("swis", "--model", model("fmnist-int8.cimvp"), "--targets", "2", "--limit", "60",
                             "--json", out, *extra)
            self.assertEqual(code, 0, text)
            with open(out) as f:
                return json.load(f)["accuracy"], text
        full, _ = report()
        some, text = report("--accuracy-modes", "SS,Wgt")
        self.assertEqual(full["modes"], ["SS", "DS", "C-SS", "C-DS", "Wgt", "Act"])
        self.assertEqual(some["modes"], ["SS", "Wgt"])
        self.assertIn("3/3 accuracy runs", text)
        self.assertIn("not measured (--accuracy-modes): DS, C-SS, C-DS, Act", text)
        a, b = full["rows"][0], some["rows"][0]
        self.assertEqual((b["SS"], b["Wgt"], some["int8"]), (a["SS"], a["Wgt"], full["int8"]))
        self.assertEqual([b[m] for m in ("DS", "C-SS", "C-DS", "Act")], [None] * 4)
        self.assertNotIn(None, [a[m] for m in ("DS", "C-SS", "C-DS", "Act")])
        self.assertEqual(b["compression"], a["compression"])
        for bad in ("SS,XX", ""):
            code, out = run("swis", "--model", model("fmnist-int8.cimvp"), "--accuracy-modes", bad, "--quiet")
            self.assertEqual(code, 2, out)
            self.assertIn("--accuracy-modes: expected", out)

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_predictions_out_lists_each_images_class_whose_share_right_is_the_reported_accuracy(self):
        """--predictions-out: one row per test image (its label, the int8 network's class, each measured mode's
        at each target); the share of right answers per column is the --json accuracy. Refused without accuracy
        runs (--no-accuracy, a trace, no data set) or with --pe-widths, and nothing written."""
        out, rep = os.path.join(self.tmp, "p.csv"), os.path.join(self.tmp, "p.json")
        code, text = run("swis", "--model", model("fmnist-int8.cimvp"), "--targets", "2,3", "--limit", "50",
                         "--accuracy-modes", "SS,DS", "--quiet", "--json", rep, "--predictions-out", out)
        self.assertEqual(code, 0, text)
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        with open(rep) as f:
            acc = json.load(f)["accuracy"]
        self.assertEqual(list(rows[0]), ["image", "label", "int8", "SS@2", "DS@2", "SS@3", "DS@3"])
        self.assertEqual([int(r["image"]) for r in rows], list(range(50)))
        share = lambda col: sum(r[col] == r["label"] for r in rows) / len(rows)
        self.assertEqual(share("int8"), acc["int8"])
        by_n = {row["n"]: row for row in acc["rows"]}
        for col in ("SS@2", "DS@2", "SS@3", "DS@3"):
            mode, n = col.split("@")
            self.assertEqual(share(col), by_n[float(n)][mode], col)
        for args in (["--model", model("fmnist-int8.cimvp"), "--no-accuracy"], ["--trace", self.tiny]):
            gone = os.path.join(self.tmp, "none.csv")
            code, text = run("swis", *args, "--targets", "2", "--quiet", "--predictions-out", gone)
            self.assertEqual(code, 2, text)
            self.assertIn("--predictions-out: expected --model F and its accuracy runs", text)
            self.assertFalse(os.path.exists(gone))
        # no data set: the report runs, then the predictions are refused before any file is written
        code, text = run("swis", "--model", model("fmnist-int8.cimvp"), "--targets", "2", "--quiet", "--data",
                         self.tmp, "--json", rep + ".2", "--predictions-out", gone)
        self.assertEqual(code, 2, text)
        self.assertIn("--predictions-out: expected accuracy runs", text)
        self.assertFalse(os.path.exists(gone) or os.path.exists(rep + ".2"))
        code, text = run("swis", "--pe-widths", "--predictions-out", gone)
        self.assertEqual(code, 2, text)
        self.assertIn("--pe-widths: expected no --trace, --model, --schedule-out or --predictions-out", text)

    def test_schedule_out_in_groups_of_4_is_the_schedule_cimvp_convert_stores(self):
        """--schedule-out: the per-filter N of a mode at the one target. In the PE array's groups of 4 it is the
        schedule `cimvp convert` stores in the model file (two schedulers, one answer), for SS and C-SS at a
        half shift and DS (even counts) at 3; in groups of 8 every layer's counts average its mean_shifts."""
        sys.path.insert(0, os.path.join(SOURCE, "sw", "python"))
        from cimvp_frontend import modelfile

        def schedule(mode, target, m=4):
            out = os.path.join(self.tmp, f"{mode}-{target}-{m}.json")
            code, text = run("swis", "--model", model("fmnist-int8.cimvp"), "--targets", target, "--group-size",
                             str(m), "--no-accuracy", "--quiet", "--schedule-out", out, "--schedule-mode", mode)
            self.assertEqual(code, 0, text)
            with open(out) as f:
                return json.load(f)

        for mode, target, convert in (("SS", "2.5", ["--schedule"]), ("C-SS", "2.5", ["--schedule", "--variant",
                                                                                      "swis-c"]),
                                      ("DS", "3", ["--double-shift"])):
            with self.subTest(mode):
                j = schedule(mode, target)
                self.assertEqual((j["format"], j["version"], j["mode"], j["group_size"], j["target"]),
                                 ("cimvp-swis-schedule", 1, mode, 4, float(target)))
                out = os.path.join(self.tmp, f"{mode}.cimvp")
                code, text = run("convert", "--model", model("fmnist-int8.cimvp"), "--pe-layers", "all", "--shifts",
                                 target, *convert, "--out", out)
                self.assertEqual(code, 0, text)
                stored = {i: [int(n) for n in L.swis.filter_n] for i, L in enumerate(modelfile.read(out).layers)
                          if getattr(L, "swis", None) is not None}
                self.assertEqual({L["layer"]: L["filter_n"] for L in j["layers"]}, stored)
                self.assertGreater(len({n for L in j["layers"] for n in L["filter_n"]}), 1)  # mixed counts
        j = schedule("SS", "2.5", 8)
        self.assertEqual(j["group_size"], 8)
        for L in j["layers"]:
            self.assertAlmostEqual(sum(L["filter_n"]) / len(L["filter_n"]), L["mean_shifts"], places=9)
        for args, want in ((["--targets", "2,3"], "exactly one --targets value"),
                           (["--targets", "1", "--schedule-mode", "DS"], "DS has no schedule at N = 1"),
                           (["--targets", "2", "--schedule-mode", "XX"], "--schedule-mode: expected SS, DS")):
            code, text = run("swis", "--model", model("fmnist-int8.cimvp"), "--no-accuracy", "--quiet",
                             "--schedule-out", os.path.join(self.tmp, "x.json"), *args)
            self.assertEqual(code, 2, text)
            self.assertIn(want, text)
        code, text = run("swis", "--model", model("fmnist-int8.cimvp"), "--targets", "2", "--schedule-mode", "DS",
                         "--no-accuracy", "--quiet")
        self.assertEqual(code, 2, text)
        self.assertIn("--schedule-mode: expected with --schedule-out", text)
        code, text = run("swis", "--trace", self.tiny, "--targets", "2", "--quiet", "--schedule-out",
                         os.path.join(self.tmp, "x.json"))
        self.assertEqual(code, 2, text)
        self.assertIn("--schedule-out: expected --model", text)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.json")))

    def test_help_names_same_pes_and_a_too_small_array_is_refused(self):
        code, out = run("swis", "--help")
        self.assertEqual(code, 0)
        self.assertIn("--same-pes", out)
        self.assertIn("equal area", out)
        cfg = os.path.join(self.tmp, "small.json")
        with open(cfg, "w") as f:
            json.dump({"pe_array": {"rows": 1, "cols": 2}}, f)
        code, out = run("swis", "--trace", self.tiny, "--config", cfg, "--quiet")
        self.assertEqual(code, 2, out)
        self.assertIn("pe_array.rows x cols = 1 x 2", out)
        self.assertIn("--same-pes", out)
        code, out = run("swis", "--trace", self.tiny, "--config", cfg, "--quiet", "--same-pes", "--targets", "2")
        self.assertEqual(code, 0, out)


class Size(unittest.TestCase):
    """`cimvp run --trace F --resident` and `cimvp size --trace F`: weights-resident chips
    (docs/trace-format.md), their tiles, per-image figures without the programming, pipelined latency."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.tiny = os.path.join(SOURCE, "testbench", "data", "tiny.trace")
        self.resnet20 = os.path.join(SOURCE, "traces", "resnet20.trace")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def config(self, name, obj):
        with open(self.path(name), "w") as f:
            json.dump(obj, f)
        return self.path(name)

    def run_json(self, *args):
        out = self.path("r%d.json" % len(os.listdir(self.tmp)))
        code, text = run(*args, "--quiet", "--json", out)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            return json.load(f)

    def test_resident_layers_differ_from_the_layer_by_layer_run_only_by_their_programming(self):
        per_layer = self.run_json("run", "--trace", self.tiny, "--images", "2")
        resident = self.run_json("run", "--trace", self.tiny, "--images", "2", "--resident")
        self.assertFalse(per_layer["resident"])
        self.assertTrue(resident["resident"])
        self.assertEqual(resident["agreement"], 1.0)
        self.assertEqual(resident["resident_tiles"], 4)
        tile = 0
        for a, b in zip(per_layer["layers"], resident["layers"]):
            self.assertEqual(a["passes"], b["passes"], a["name"])
            # Every layer fits the default 256 tiles by itself: programmed once in both runs, so the
            # programming is the same, inside the layer's figures layer by layer and beside them resident.
            self.assertEqual(a["programming"]["cycles"], b["programming"]["cycles"], a["name"])
            self.assertEqual(a["cycles"], b["cycles"] + b["programming"]["cycles"], a["name"])
            self.assertAlmostEqual(a["sim_time_ns"], b["sim_time_ns"] + b["programming"]["sim_time_ns"],
                                   delta=1e-9 * a["sim_time_ns"])
            self.assertAlmostEqual(a["energy_pj"]["total"],
                                   b["energy_pj"]["total"] + b["programming"]["energy_pj"]["total"],
                                   delta=1e-9 * a["energy_pj"]["total"])
            if a["mapped_to"] == "crossbar":
                self.assertGreater(b["programming"]["cycles"], 0, a["name"])
                self.assertLess(b["cycles"], a["cycles"], a["name"])
                self.assertEqual(b["first_tile"], tile, a["name"])
                tile += b["resident_tiles"]
            else:
                self.assertIsNone(b["first_tile"], a["name"])
        self.assertEqual(tile, resident["resident_tiles"])
        self.assertEqual(resident["cycles"] + resident["programming"]["cycles"], per_layer["cycles"])

    def test_a_layer_reprogrammed_every_image_costs_less_per_image_when_resident(self):
        chip = {"crossbar": {"rows": 64, "cols": 32, "cell_bits": 2}}
        small = self.config("small.json", dict(chip, platform={"tiles": 3}))
        big = self.config("big.json", dict(chip, platform={"tiles": 12}))
        per_layer = self.run_json("run", "--trace", self.tiny, "--map", "crossbar", "--config", small, "--images", "3")
        resident = self.run_json("run", "--trace", self.tiny, "--map", "crossbar", "--config", big, "--images", "3",
                                 "--resident")
        self.assertEqual(resident["agreement"], 1.0)
        reprogrammed = 0
        for a, b in zip(per_layer["layers"], resident["layers"]):
            if a["passes"] < 2:
                continue
            reprogrammed += 1
            self.assertEqual(b["passes"], 1, a["name"])
            self.assertEqual(a["programming"]["cycles"], 0, a["name"])  # inside every image's lists instead
            # Layer by layer the weights are programmed again for every image; resident, once.
            self.assertGreaterEqual(a["cycles"], b["cycles"] + 3 * b["programming"]["cycles"], a["name"])
            self.assertGreaterEqual(a["latency_ns"], b["latency_ns"] + b["programming"]["sim_time_ns"], a["name"])
        self.assertGreater(reprogrammed, 0)  # fc: 2 x 2 tiles on a chip of 3

    def test_resident_run_on_too_few_tiles_exits_two_naming_platform_tiles(self):
        few = self.config("few.json", {"platform": {"tiles": 3}})
        code, out = run("run", "--trace", self.tiny, "--resident", "--config", few, "--quiet")
        self.assertEqual(code, 2, out)
        self.assertIn(few + ": platform.tiles: expected at least 4 tiles", out)
        self.assertIn(self.tiny, out)
        self.assertIn("got 3", out)
        code, out = run("run", "--resident", "--limit", "1", "--quiet")
        self.assertEqual(code, 2, out)
        self.assertIn("--resident: expected with --trace F only", out)

    def test_size_sets_the_tiles_and_reports_pipelined_and_layer_by_layer_latency(self):
        r = self.run_json("size", "--trace", self.resnet20, "--images", "2")
        layers = read_trace_layers(self.resnet20)
        self.assertEqual(len(r["layers"]), len(layers))
        expected = [resident_tiles(l) if l["type"] in ("conv", "fc") else 0 for l in layers]
        self.assertEqual([l["tiles"] for l in r["layers"]], expected)
        self.assertEqual(r["tiles"], sum(expected))
        self.assertEqual(r["config"]["platform"]["tiles"], r["tiles"])
        self.assertEqual(r["config_changes"], [{"key": "platform.tiles", "from": 256, "to": r["tiles"]}])
        self.assertEqual(r["agreement"], 1.0)
        self.assertEqual(r["images"], 2)
        run_layers = r["run"]["layers"]
        self.assertTrue(r["run"]["resident"])
        stages = [l["stage_ns"] for l in r["layers"]]
        for l, x in zip(r["layers"], run_layers):
            self.assertAlmostEqual(l["stage_ns"], x["latency_ns"], delta=1e-9 * x["latency_ns"])
            self.assertEqual(l["tiles"], x["resident_tiles"])
        self.assertAlmostEqual(r["pipelined_interval_ns"], max(stages), delta=1e-9 * max(stages))
        self.assertAlmostEqual(r["layer_by_layer_ns"], sum(stages), delta=1e-9 * sum(stages))
        self.assertAlmostEqual(r["layer_by_layer_ns"], r["run"]["latency_per_image_ns"], delta=1e-6 * sum(stages))
        self.assertEqual(r["fill_latency_ns"], r["layer_by_layer_ns"])
        self.assertAlmostEqual(r["pipelined_frames_per_second"], 1e9 / max(stages), delta=1e-6)
        self.assertAlmostEqual(r["layer_by_layer_frames_per_second"], 1e9 / sum(stages), delta=1e-6)
        slowest = stages.index(max(stages))
        self.assertEqual(r["bottleneck"], r["layers"][slowest]["name"])
        self.assertEqual([l["bottleneck"] for l in r["layers"]], [i == slowest for i in range(len(stages))])
        self.assertLess(r["pipelined_interval_ns"], r["layer_by_layer_ns"] / 5)  # 30 layers overlap
        # The programming is once, apart from the per-image figures.
        self.assertGreater(r["programming"]["sim_time_ns"], 0)
        self.assertEqual(r["programming"]["cycles"], sum(l["programming"]["cycles"] for l in r["layers"]))
        self.assertAlmostEqual(r["energy_per_image_pj"]["total"], r["run"]["energy_per_image_pj"]["total"],
                               delta=1e-9 * r["energy_per_image_pj"]["total"])
        # The same chip by hand: run --resident on a config with those tiles gives the same figures.
        chip = self.config("chip.json", {"platform": {"tiles": r["tiles"]}})
        by_hand = self.run_json("run", "--trace", self.resnet20, "--images", "2", "--resident", "--config", chip)
        self.assertEqual(by_hand["cycles"], r["run"]["cycles"])
        self.assertEqual(by_hand["programming"]["cycles"], r["programming"]["cycles"])

    def test_size_prints_the_table_and_a_chip_that_fits_is_left_alone(self):
        chip = self.config("chip.json", {"platform": {"tiles": 4}})
        code, out = run("size", "--trace", self.tiny, "--config", chip, "--quiet")
        self.assertEqual(code, 0, out)
        self.assertIn("platform.tiles 4 already holds every crossbar layer's weights", out)
        self.assertRegex(out, r"dw1\s+crossbar\s+2\s+1\.\.2\s")
        self.assertRegex(out, r"pipelined: a new image every [\d.]+ us \(slowest stage \w+\), [\d.]+ frames/s")
        self.assertRegex(out, r"layer by layer: [\d.]+ us per image, [\d.]+ frames/s")
        self.assertIn("agreement with the C++ reference: 1.000000", out)

    def test_size_refuses_bad_input_naming_the_option_or_key(self):
        cases = [(["size"], r"size: expected --trace F"),
                 (["size", "--trace", self.tiny, "--images", "0"], r"--images: expected at least 1, got 0"),
                 (["size", "--trace", self.tiny, "--layers", "9"], r"--layers: expected 0 \(all\) or 1\.\.6"),
                 (["size", "--trace", self.tiny, "--map", "tiles"], r"--map: expected trace, crossbar or pe"),
                 (["size", "--trace", self.path("absent.trace")], re.escape(self.path("absent.trace"))),
                 (["size", "--trace", self.tiny, "--config", self.config("bad.json", {"platform": {"tilez": 1}})],
                  r"bad\.json.*tilez"),
                 # VGG-16 (ImageNet) on 128 x 128 one-bit arrays: about 68,000 tiles, past what a config may have.
                 (["size", "--trace", os.path.join(SOURCE, "traces", "vgg16.trace"), "--map", "crossbar"],
                  r"<defaults>: platform\.tiles: expected at most 16384 tiles, but every crossbar layer of "
                  r".*vgg16\.trace resident takes \d+ tiles")]
        for args, why in cases:
            t0 = time.time()
            code, out = run(*args, "--quiet", timeout=60)
            self.assertEqual(code, 2, (args, out))
            self.assertRegex(out, why)
            self.assertLess(time.time() - t0, 30, args)

    def test_help(self):
        code, out = run("size", "--help")
        self.assertEqual(code, 0)
        for option in ("--trace", "--config", "--json", "--images", "--map", "--layers"):
            self.assertIn(option, out)


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

    def test_unwritable_outputs_fail_before_the_run(self):
        missing_dir = os.path.join(self.tmp, "no", "such", "dir")
        for opt in ("--json", "--record"):
            t0 = time.monotonic()
            code, out = run("run", "--limit", "2000", opt, os.path.join(missing_dir, "out"), "--quiet")
            self.assertEqual(code, 2, out)
            self.assertIn(opt + ": cannot write", out)
            self.assertIn(missing_dir, out)
            self.assertLess(time.monotonic() - t0, 2.0, "the check must come before the run")
        code, out = run("run", "--limit", "2", "--json", self.tmp, "--quiet")
        self.assertEqual(code, 2, out)
        self.assertIn("expected a file to write", out)
        code, out = run("run", "--trace", "traces/resnet20.trace", "--csv", os.path.join(missing_dir, "r.csv"))
        self.assertEqual(code, 2, out)
        self.assertIn("--csv: cannot write", out)
        # A file that did not exist before the check is not left behind by it.
        js = os.path.join(self.tmp, "new.json")
        code, out = run("run", "--model", os.path.join(self.tmp, "absent.cimvp"), "--json", js)
        self.assertEqual(code, 2, out)
        self.assertFalse(os.path.exists(js))

    def test_limit_past_the_test_set_is_refused(self):
        code, out = run("run", "--limit", "10001", "--quiet")
        self.assertEqual(code, 2, out)
        self.assertIn("--limit: expected 0 (all) or 1..10000", out)

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


class Waveforms(unittest.TestCase):
    """`--vcd F`: the file is a strict IEEE 1364 VCD with the documented scopes and
    signals at the simulated times the run reports, and the window options hold."""

    SCOPES = ("platform", "platform.controller", "platform.dma", "platform.ppu", "platform.pe_array",
              "platform.tile0", "platform.tile0.adc", "host")
    SIGNALS = {"platform.controller.state": 2, "platform.controller.command": 32, "platform.controller.opcode": 8,
               "platform.controller.irq": 1, "platform.controller.error": 8, "platform.dma.busy": 1,
               "platform.dma.bytes": 32, "platform.dma.total_bytes": 64, "platform.ppu.busy": 1,
               "platform.pe_array.busy": 1, "platform.pe_array.mode": 3, "platform.pe_array.cycles": 64,
               "platform.tile0.busy": 1, "platform.tile0.adc.code": 8, "platform.tile0.adc.clamped": 1,
               "host.layer": 8, "host.image": 32, "host.list": 1}

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run_ok(self, *args):
        code, text = run(*args)
        self.assertEqual(code, 0, text)
        return text

    def layer_vcd(self, *extra):
        vcd, js = self.path("l.vcd"), self.path("l.json")
        self.run_ok("layer", "--vcd", vcd, "--json", js, *extra)
        with open(js) as f:
            return vcd_file.parse(vcd), json.load(f), vcd

    def test_layer_vcd_parses_with_the_documented_scopes_and_signals(self):
        v, _, _ = self.layer_vcd()
        self.assertEqual(v.timescale, "1ps")
        for s in self.SCOPES:
            self.assertIn(s, v.scopes)
        for name, width in self.SIGNALS.items():
            self.assertIn(name, v.vars)
            self.assertEqual(v.vars[name][1], width, name)
        # 256 tiles in the default config: every busy line is there by default.
        self.assertIn("platform.tile255.busy", v.vars)
        self.assertEqual(v.dumpvars_time, 0)
        self.assertEqual(v.dumped, set(v.widths), "the first dump gives every variable a value")

    def test_irq_rises_when_the_reported_simulated_time_has_passed(self):
        v, r, _ = self.layer_vcd()
        starts, irqs = v.rises("host.list"), v.rises("platform.controller.irq")
        self.assertEqual(len(starts), 1)
        self.assertEqual(len(irqs), 1)
        # sim_time_ns runs from the host's START write to the interrupt it sees.
        self.assertAlmostEqual((irqs[0] - starts[0]) / 1000.0, r["sim_time_ns"], delta=1e-3)
        self.assertEqual(v.falls("host.list"), irqs)
        # The controller is idle again when the interrupt rises, and ran every command before.
        state = v.values("platform.controller.state")
        self.assertEqual([val for t, val in state if t <= irqs[0]][-1], 0)
        commands = [val for _, val in v.values("platform.controller.command") if val is not None]
        self.assertEqual(max(commands) + 1, r["commands"])

    def test_tile_busy_and_adc_codes_are_recorded(self):
        v, r, _ = self.layer_vcd("--vcd-column", "3")
        self.assertEqual(v.values("platform.tile0.adc.column")[-1][1], 3)
        busy_tiles = [i for i in range(256) if v.rises(f"platform.tile{i}.busy")]
        self.assertEqual(len(busy_tiles), r["tile_runs"])
        # 16 vectors of 8-bit activations, 1-bit DAC: 8 reads each, one code per read.
        codes = v.values("platform.tile0.adc.code")
        self.assertGreater(len(codes), 8)
        self.assertTrue(all(c is None or 0 <= c < 256 for _, c in codes))
        dma = v.rises("platform.dma.busy")
        self.assertGreater(len(dma), 0)

    def test_time_window_keeps_every_timestamp_inside(self):
        v, _, _ = self.layer_vcd("--vcd-from", "10us", "--vcd-to", "20000ns")
        self.assertTrue(v.times)
        self.assertEqual(v.times[0], 10_000_000)
        self.assertEqual(v.dumpvars_time, 10_000_000)
        self.assertEqual(v.dumped, set(v.widths))
        for t in v.times:
            self.assertGreaterEqual(t, 10_000_000)
            self.assertLessEqual(t, 20_000_000)
        full, _, _ = self.layer_vcd()
        self.assertLess(len(v.times), len(full.times))

    def test_layer_window_records_only_that_layer(self):
        vcd, js = self.path("r.vcd"), self.path("r.json")
        self.run_ok("run", "--limit", "2", "--quiet", "--vcd", vcd, "--vcd-layer", "conv2", "--json", js)
        v = vcd_file.parse(vcd)
        with open(js) as f:
            r = json.load(f)
        layers = [val for _, val in v.values("host.layer") if val is not None]
        self.assertEqual(set(layers), {1})
        starts, ends = v.rises("host.list"), v.falls("host.list")
        self.assertEqual(len(starts), 1)
        self.assertEqual(len(ends), 1)
        self.assertAlmostEqual((ends[0] - starts[0]) / 1000.0, r["layers"][1]["sim_time_ns"], delta=1e-3)
        self.assertGreaterEqual(starts[0], v.times[0])
        self.assertEqual(v.dumpvars_time, v.times[0])

    def test_image_window_records_only_the_batch_of_that_image(self):
        vcd, js = self.path("r.vcd"), self.path("r.json")
        self.run_ok("run", "--limit", "3", "--batch", "1", "--quiet", "--vcd", vcd, "--vcd-image", "1", "--json", js)
        v = vcd_file.parse(vcd)
        with open(js) as f:
            r = json.load(f)
        images = {val for _, val in v.values("host.image") if val is not None}
        self.assertEqual(images, {1})
        self.assertEqual(len(v.rises("host.list")), len(r["layers"]))
        layers = [val for _, val in v.values("host.layer") if val is not None]
        self.assertEqual(sorted(set(layers)), list(range(len(r["layers"]))))

    def test_tile_count_limits_the_busy_lines(self):
        v, _, _ = self.layer_vcd("--vcd-tiles", "4")
        self.assertIn("platform.tile3.busy", v.vars)
        self.assertNotIn("platform.tile4.busy", v.vars)
        self.assertIn("platform.tile0.adc.code", v.vars)

    def test_whole_run_lists_add_up_to_the_reported_time(self):
        vcd, js = self.path("r.vcd"), self.path("r.json")
        self.run_ok("run", "--limit", "2", "--quiet", "--vcd", vcd, "--json", js)
        v = vcd_file.parse(vcd)
        with open(js) as f:
            r = json.load(f)
        starts, ends = v.rises("host.list"), v.falls("host.list")
        self.assertEqual(len(starts), len(ends))
        self.assertEqual(len(starts), len(r["layers"]) + (1 if r["programming"]["resident"] else 0))
        total = sum(e - s for s, e in zip(starts, ends)) / 1000.0
        self.assertAlmostEqual(total, r["sim_time_ns"] + r["programming"]["sim_time_ns"], delta=1e-2)
        self.assertTrue(v.rises("platform.pe_array.busy"), "the BWMA model runs its first and last layers on the PEs")
        self.assertTrue(v.rises("platform.ppu.busy"))

    def test_vcd2fst_converts_the_file(self):
        tool = shutil.which("vcd2fst")
        if tool is None:
            self.skipTest("vcd2fst not installed (Debian package gtkwave)")
        _, _, vcd = self.layer_vcd()
        fst = self.path("l.fst")
        p = subprocess.run([tool, vcd, fst], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertGreater(os.path.getsize(fst), 0)

    def test_gtkwave_save_file_beside_the_vcd_names_every_recorded_signal_once(self):
        v, _, vcd = self.layer_vcd()
        save = vcd[: -len(".vcd")] + ".gtkw"
        with open(save) as f:
            lines = [l.rstrip("\n") for l in f]
        self.assertIn('[dumpfile] "%s"' % os.path.abspath(vcd), lines)
        shown, labels = [], set()
        for line in (l for l in lines if l.startswith("+{")):
            label, name = line[2:].split("} ", 1)
            shown.append(name.split("[")[0])
            self.assertNotIn(label, labels)
            labels.add(label)
        self.assertEqual(sorted(shown), sorted(v.vars))
        self.assertIn("+{tile0 busy} platform.tile0.busy", lines)

    def test_gtkwave_opens_the_run_with_its_save_file(self):
        gtkwave, xvfb = shutil.which("gtkwave"), shutil.which("xvfb-run")
        if gtkwave is None or xvfb is None:
            self.skipTest("gtkwave or xvfb-run not installed (Debian packages gtkwave, xvfb)")
        vcd = self.path("w.vcd")
        self.run_ok("layer", "--vcd", vcd, "--vcd-tiles", "4")
        save = self.path("w.gtkw")
        script = self.path("list.tcl")
        with open(script, "w") as f:
            f.write("puts \"TRACES [ gtkwave::getTotalNumTraces ]\"\n"
                    "puts \"WINDOW [ gtkwave::getWindowStartTime ] [ gtkwave::getWindowEndTime ]\"\n"
                    "gtkwave::/File/Quit\n")
        # The save file alone: it names the dump.
        p = subprocess.run([xvfb, "-a", "-s", "-screen 0 1400x900x24", gtkwave, "-S", script, save],
                           capture_output=True, text=True, timeout=120)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 0, out)
        # GTKWave drops the save file's signals that the dump lacks: every line must have loaded.
        with open(save) as f:
            entries = [l for l in f if l.strip() and l[0] not in "[@*"]
        self.assertIn(f"TRACES {len(entries)}", out)
        # It opens on the recorded window, not on a few picoseconds at its start.
        times = vcd_file.parse(vcd).times
        start, end = (int(x) for x in re.search(r"WINDOW (\d+) (\d+)", out).groups())
        self.assertEqual(start, times[0])
        self.assertGreater(end, times[1])
        self.assertLess(end - start, 4 * (times[-1] - times[0]))

    def test_bad_waveform_options_exit_two_naming_the_flag(self):
        vcd = self.path("x.vcd")
        cases = [
            (("layer", "--vcd", vcd, "--vcd-from", "10"), "--vcd-from"),
            (("layer", "--vcd", vcd, "--vcd-from", "10xs"), "--vcd-from"),
            (("layer", "--vcd", vcd, "--vcd-to", "-5us"), "--vcd-to"),
            (("layer", "--vcd", vcd, "--vcd-from", "20us", "--vcd-to", "10us"), "--vcd-to"),
            (("layer", "--vcd", vcd, "--vcd-tile", "256"), "--vcd-tile"),
            (("layer", "--vcd", vcd, "--vcd-column", "128"), "--vcd-column"),
            (("layer", "--vcd", vcd, "--vcd-tiles", "-1"), "--vcd-tiles"),
            (("layer", "--vcd", vcd, "--vcd-tiles", "257"), "--vcd-tiles"),
            (("layer", "--vcd-from", "1us"), "--vcd"),
            (("layer", "--vcd", os.path.join(self.tmp, "no", "such", "dir.vcd")), "dir.vcd"),
            (("run", "--limit", "1", "--quiet", "--vcd", vcd, "--vcd-layer", "conv9"), "--vcd-layer"),
            (("run", "--limit", "1", "--quiet", "--vcd", vcd, "--vcd-image", "5"), "--vcd-image"),
        ]
        for args, flag in cases:
            code, out = run(*args)
            self.assertEqual(code, 2, (args, out))
            self.assertIn(flag, out, args)


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

    def test_vcd_layer_selects_the_clocks_of_the_rtl_vcd_files_too(self):
        if not os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")):
            self.skipTest("dataset-fashion-mnist is not installed")

        def clocks(path):  # time stamps after the header
            with open(path) as f:
                body = f.read().split("$enddefinitions", 1)[1]
            return sum(1 for line in body.splitlines() if line.startswith("#"))

        # BWMA: conv1 runs on the PE array (no conversions), conv2 on the crossbar tiles (no PE groups).
        counts = {}
        for layer in ("conv1", "conv2"):
            prefix = os.path.join(self.tmp, layer)
            code, text = run("run", "--limit", "1", "--quiet", "--rtl", "--rtl-vcd", prefix, "--rtl-vcd-cycles", "300",
                             "--vcd", prefix + ".vcd", "--vcd-layer", layer)
            self.assertEqual(code, 0, text)
            counts[layer] = (clocks(prefix + ".sar_adc.vcd"), clocks(prefix + ".swis_pe.vcd"))
        self.assertEqual(counts["conv1"][0], 0, "the ADC converts nothing while conv1 runs")
        self.assertEqual(counts["conv1"][1], 2 * 300, "two time stamps per PE clock, 300 clocks")
        self.assertEqual(counts["conv2"][0], 2 * 300)
        self.assertEqual(counts["conv2"][1], 0, "the PE array is idle while conv2 runs")

    def test_rtl_signals_sit_in_the_platform_vcd_next_to_the_models(self):
        if not os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")):
            self.skipTest("dataset-fashion-mnist is not installed")
        path = os.path.join(self.tmp, "both.vcd")
        out = os.path.join(self.tmp, "both.json")
        code, text = run("run", "--limit", "1", "--quiet", "--rtl", "--vcd", path, "--json", out)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            r = json.load(f)
        v = vcd_file.parse(path)
        for scope in ("platform", "platform.tile0.adc", "rtl.sar_adc", "rtl.swis_pe"):
            self.assertIn(scope, v.scopes)
        # The RTL's code for the recorded column is the model's, conversion by conversion, at the same times.
        model = v.values("platform.tile0.adc.code")
        rtl = v.values("rtl.sar_adc.out_code")
        self.assertGreater(len(model), 10)
        self.assertEqual(rtl, model)
        conversions = [c for _, c in v.values("rtl.sar_adc.conversions")]
        self.assertEqual(conversions, sorted(conversions))
        self.assertLessEqual(conversions[-1], r["rtl_conversions"])
        # The PE side ends at the run's totals: every output and clock of the RTL PE.
        self.assertEqual(v.values("rtl.swis_pe.outputs")[-1][1], r["rtl_pe_outputs"])
        self.assertEqual(v.values("rtl.swis_pe.cycles")[-1][1], r["rtl_pe_cycles"])

    def test_rtl_vcd_without_rtl_and_an_unwritable_vcd_are_refused(self):
        code, out = run("run", "--limit", "1", "--rtl-vcd", os.path.join(self.tmp, "w"))
        self.assertEqual(code, 2)
        self.assertIn("--rtl-vcd: needs --rtl", out)
        code, out = run("run", "--limit", "1", "--rtl", "--rtl-vcd", os.path.join(self.tmp, "no", "such", "dir", "w"))
        self.assertEqual(code, 2, out)
        self.assertIn("cannot open the VCD file", out)


@unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
class ShippedModels(unittest.TestCase):
    """Every shipped model on all 10,000 test images: the platform's logits equal the
    C++ reference's on every image and the PyTorch fake-quant model's (digest), and
    the accuracy is the one the front end measured."""

    def check(self, name, config=None, limit=0):
        tmp = tempfile.mkdtemp()
        try:
            out = os.path.join(tmp, "r.json")
            args = ["run", "--model", model(name + ".cimvp"), "--quiet", "--json", out]
            if limit:
                args += ["--limit", str(limit)]
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
        self.assertEqual(r["images"], limit or 10000)
        self.assertEqual(r["agreement"], 1.0)
        self.assertEqual(r["recalibrated_layers"], [])
        self.assertTrue(r["fake_quant_match"], "logits digest differs from the fake-quant model's")
        if limit:
            self.assertEqual(r["logits_fnv1a64"], expected["logits_fnv1a64_first"][str(limit)])
        else:
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

    # The graph networks imported from ONNX (models/README.md): their first 1,000 test images in CI
    # (all 10,000 take minutes on two cores; the figures of a whole run are in models/README.md).
    def test_resnet20(self):
        self.check("fmnist-resnet20", limit=1000)

    def test_mobilenetv2(self):
        self.check("fmnist-mobilenetv2", limit=1000)

    def test_resnet20_bwma(self):
        self.check("fmnist-resnet20-bwma", limit=1000)

    def test_mobilenetv2_bwma(self):
        self.check("fmnist-mobilenetv2-bwma", limit=1000)

    def test_resnet20_columnwise(self):
        self.check("fmnist-resnet20-columnwise", "columnwise.json", limit=1000)



class DifferentialMapping(unittest.TestCase):
    """crossbar.mapping "differential" (docs/numerics.md) on the shipped models: the platform equals the
    C++ reference with ideal and with varying cells, and with a lossless ADC it gives the offset
    encoding's logits from twice the ADC conversions."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_json(self, name, config, mapping, sigma=0.0, limit=16):
        with open(os.path.join(SOURCE, "configs", config)) as f:
            cfg = json.load(f)
        cfg["crossbar"]["mapping"] = mapping
        cfg["nonideal"]["conductance_sigma"] = sigma
        path = os.path.join(self.tmp, "%s-%s-%g.json" % (name, mapping, sigma))
        with open(path, "w") as f:
            json.dump(cfg, f)
        out = path + ".results.json"
        code, text = run("run", "--model", model(name + ".cimvp"), "--config", path, "--limit", str(limit), "--quiet",
                         "--json", out, timeout=1800)
        self.assertEqual(code, 0, text)
        with open(out) as f:
            r = json.load(f)
        self.assertEqual(r["images"], limit)
        self.assertEqual(r["agreement"], 1.0, "platform and reference disagree")
        self.assertEqual(r["config"]["crossbar"]["mapping"], mapping)
        return r

    def test_lossless_int8_and_bwma_keep_the_offset_logits_from_twice_the_conversions(self):
        for name in ("fmnist-int8", "fmnist-bwma"):
            with self.subTest(name):
                off = self.run_json(name, "default.json", "offset")
                diff = self.run_json(name, "default.json", "differential")
                self.assertEqual(diff["recalibrated_layers"], [])
                self.assertEqual(diff["logits_fnv1a64"], off["logits_fnv1a64"])
                crossbar = 0
                for lo, ld in zip(off["layers"], diff["layers"]):
                    if lo["mapped_to"] != "crossbar":
                        continue
                    crossbar += 1
                    self.assertAlmostEqual(ld["energy_pj"]["adc"], 2 * lo["energy_pj"]["adc"],
                                           delta=1e-9 * lo["energy_pj"]["adc"], msg=lo["name"])
                self.assertGreater(crossbar, 0)

    def test_columnwise_calibrates_its_own_tables_and_agrees_with_ideal_and_varying_cells(self):
        for sigma in (0.0, 0.2):
            with self.subTest(sigma=sigma):
                r = self.run_json("fmnist-columnwise", "columnwise.json", "differential", sigma, limit=64)
                # The model's tables are for offset encoding: every layer is fitted anew.
                self.assertEqual(len(r["recalibrated_layers"]), 4)
                self.assertGreater(r["accuracy"], 0.75)

    def test_bwma_agrees_with_the_reference_with_varying_cells(self):
        self.run_json("fmnist-bwma", "default.json", "differential", 0.2, limit=16)


class ConvertCase:
    """A temporary directory and `cimvp convert` into it, for the two classes below."""

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


class Convert(ConvertCase, unittest.TestCase):
    """`cimvp convert`: a model with SWIS-stored layers (format v2), its storage report, and the
    requests it refuses (label cli: run under the sanitizers)."""

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


class ConvertedModelRuns(ConvertCase, unittest.TestCase):
    """`cimvp run` on a converted model equal to the same decomposition made on the fly, and a
    decomposed run of the whole test set (label e2e: whole networks, on the optimized build)."""

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

    @unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
    def test_swis_shifts_on_the_whole_test_set_is_not_judged_by_the_front_end_digest(self):
        # Decomposed at 3 shifts the PE layers compute other weights than the front end's: its digest
        # over the 10,000 images is not a check of this network, and a bit-exact run must not fail on it.
        js = os.path.join(self.tmp, "run.json")
        code, out = run("run", "--model", model("fmnist-bwma.cimvp"), "--swis-shifts", "3", "--quiet", "--json", js)
        self.assertEqual(code, 0, out)
        with open(js) as f:
            r = json.load(f)
        self.assertEqual(r["images"], 10000)
        self.assertEqual(r["agreement"], 1.0)
        self.assertIsNone(r["fake_quant_match"])
        self.assertEqual(r["swis_decomposed_layers"], ["layer 0 (conv)", "layer 3 (fc)"])
        self.assertIn("decomposed at 3 SWIS shifts", out)

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


@unittest.skipUnless(os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")), "data set not installed")
class ProtocolChecks(unittest.TestCase):
    """--check-protocol (docs/protocol-checks.md): every shipped model (its first 50 test images),
    every shipped trace and the shipped recording run with a TLM-2.0 base-protocol checker on
    every router link, with no violation, and the results file counts what was checked."""

    # The configuration each model ships for, and how many layers of the ImageNet traces run (the
    # whole networks take minutes; TraceRun runs the same first layers).
    MODEL_CONFIGS = {"fmnist-columnwise": "columnwise.json", "fmnist-resnet20-columnwise": "columnwise.json"}
    TRACE_LAYERS = {"resnet18": 3, "mobilenet_v2": 4, "vgg16": 1}

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def checked(self, *args):
        out = os.path.join(self.tmp, "r.json")
        code, text = run(*args, "--check-protocol", "--json", out, timeout=900)
        self.assertEqual(code, 0, text)
        self.assertRegex(text, r"protocol checks on \d+ router links: \d+ transactions .*; 0 violations")
        with open(out) as f:
            r = json.load(f)
        c = r["protocol_checks"]
        self.assertEqual(c["violations"], 0)
        self.assertGreater(c["links"], 0)
        self.assertGreater(c["transactions"], 0)
        # A transaction that reaches a target crosses two checked links; one the router refuses, one.
        self.assertGreaterEqual(c["transports"], c["transactions"])
        self.assertLessEqual(c["transports"], 2 * c["transactions"])
        return r, c

    def shipped(self, folder, ext):
        names = sorted(f[:-len(ext)] for f in os.listdir(os.path.join(SOURCE, folder)) if f.endswith(ext))
        self.assertTrue(names, folder)
        return names

    def test_shipped_models_run_without_a_violation(self):
        for name in self.shipped("models", ".cimvp"):
            with self.subTest(model=name):
                extra = ["--config", os.path.join(SOURCE, "configs", self.MODEL_CONFIGS[name])] \
                    if name in self.MODEL_CONFIGS else []
                r, c = self.checked("run", "--model", model(name + ".cimvp"), "--limit", "50", "--quiet", *extra)
                self.assertEqual(r["agreement"], 1.0)
                self.assertGreater(c["dmi_requests"], 0, "the host loads DRAM through DMI")

    def test_shipped_traces_run_without_a_violation(self):
        for name in self.shipped("traces", ".trace"):
            with self.subTest(trace=name):
                extra = ["--layers", str(self.TRACE_LAYERS[name])] if name in self.TRACE_LAYERS else []
                r, _ = self.checked("run", "--trace", os.path.join(SOURCE, "traces", name + ".trace"), "--quiet",
                                    *extra)
                self.assertEqual(r["agreement"], 1.0)

    def test_shipped_recording_replays_without_a_violation(self):
        for name in self.shipped("traces", ".cimvprec"):
            with self.subTest(recording=name):
                r, _ = self.checked("replay", os.path.join(SOURCE, "traces", name + ".cimvprec"))
                self.assertTrue(r["match"])

    def test_a_layer_runs_without_a_violation(self):
        r, _ = self.checked("layer", "--rows", "300", "--cols", "70")
        self.assertEqual(r["agreement"], 1.0)

    def test_without_the_option_nothing_is_checked_or_reported(self):
        out = os.path.join(self.tmp, "r.json")
        code, text = run("run", "--limit", "2", "--quiet", "--json", out)
        self.assertEqual(code, 0, text)
        self.assertNotIn("protocol checks", text)
        with open(out) as f:
            r = json.load(f)
        self.assertNotIn("protocol_checks", r)
        self.assertFalse(r["config"]["platform"]["check_protocol"])


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


class Import(unittest.TestCase):
    """cimvp import (docs/import.md): the subcommand runs the Python front end; an imported network runs on
    the platform and its logits digest equals the front end's integer engine's (the expected-results file
    the import writes beside the model)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        sys.path.insert(0, os.path.join(SOURCE, "sw", "python"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def import_model(self, onnx_path, out, *extra):
        code, text = run("import", onnx_path, "--out", out, "--calib-count", "300", "--eval-count", "200", *extra)
        self.assertEqual(code, 0, text)
        with open(os.path.splitext(out)[0] + ".expected.json") as f:
            return json.load(f), text

    def run_and_compare(self, model_path, expected, *extra):
        out = model_path + ".json"
        code, text = run("run", "--model", model_path, "--limit", "200", "--json", out, "--quiet", *extra)
        if code == 2 and "version" in text:
            self.skipTest("the platform's loader does not read model format v3 here: " + text.strip()[-200:])
        self.assertEqual(code, 0, text)
        with open(out) as f:
            r = json.load(f)
        self.assertEqual(r["agreement"], 1.0)
        self.assertEqual(r["logits_fnv1a64"], expected["logits_fnv1a64"])   # bit for bit, 200 images
        self.assertIn("matches the PyTorch fake-quant model", text)
        self.assertAlmostEqual(r["accuracy"], expected["accuracy"], places=9)

    def test_help_and_missing_python(self):
        code, out = run("import", "--help")
        self.assertEqual(code, 0, out)
        self.assertIn("--trace-out", out)
        self.assertIn("import", run("--help")[1])
        p = subprocess.run([CIMVP, "import", "x.onnx", "--out", "x.cimvp"], capture_output=True, text=True,
                           env=dict(os.environ, CIMVP_PYTHON="/nonexistent/python3"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("needs Python 3 with the onnx package: /nonexistent/python3 is not an executable", p.stderr)
        fake = self.path("no_onnx")
        os.makedirs(os.path.join(fake, "onnx"), exist_ok=True)
        with open(os.path.join(fake, "onnx", "__init__.py"), "w") as f:
            f.write("raise ImportError('no onnx here')\n")
        p = subprocess.run([CIMVP, "import", "x.onnx", "--out", self.path("x.cimvp")], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=fake))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("cimvp import needs the Python package onnx: apt-get install python3-onnx", p.stderr)

    def test_unsupported_operator_exits_two_naming_file_node_and_op(self):
        import onnx
        from onnx import TensorProto, helper
        g = helper.make_graph([helper.make_node("Softmax", ["image"], ["y"], name="sm")], "g",
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 28, 28])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        path = self.path("softmax.onnx")
        onnx.save(helper.make_model(g), path)
        code, text = run("import", path, "--out", self.path("softmax.cimvp"))
        self.assertEqual(code, 2, text)
        self.assertIn(f"{path}: node 'sm' (Softmax): op_type: expected one of the supported operators Conv,", text)
        self.assertNotIn("Traceback", text)

    def test_imported_chain_runs_bit_exact_on_the_platform(self):
        """A plain chain (format v1): runs on today's platform, digest equal to the front end's."""
        import torch
        import torch.nn as nn
        torch.manual_seed(1)
        net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                            nn.Linear(16 * 7 * 7, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 10)).eval()
        path = self.path("chain.onnx")
        torch.onnx.export(net, torch.zeros(1, 1, 28, 28), path, opset_version=13)
        expected, text = self.import_model(path, self.path("chain.cimvp"))
        self.assertIn("format v1", text)
        self.run_and_compare(self.path("chain.cimvp"), expected)

    def test_imported_graph_runs_bit_exact_on_the_platform(self):
        """Every operator (format v3: depthwise and grouped convs, add, concat, global average): needs the
        platform's format v3 support."""
        import torch
        import test_import
        torch.manual_seed(0)
        path = self.path("every.onnx")
        test_import.export_every_op(path, test_import.EveryOp())
        expected, text = self.import_model(path, self.path("every.cimvp"), "--trace-out", self.path("every.trace"))
        self.assertIn("format v3", text)
        code, out = run("run", "--trace", self.path("every.trace"), "--json", self.path("trace.json"))
        self.assertEqual(code, 0, out)
        with open(self.path("trace.json")) as f:
            self.assertEqual(json.load(f)["agreement"], 1.0)
        self.run_and_compare(self.path("every.cimvp"), expected)

    def test_imported_graph_in_bwma_runs_bit_exact_on_the_platform(self):
        """--scheme bwma: binary layers with their mult_x term, 4-bit tensors, grouped convs in int8."""
        import torch
        import test_import
        torch.manual_seed(0)
        path = self.path("every.onnx")
        test_import.export_every_op(path, test_import.EveryOp())
        expected, text = self.import_model(path, self.path("every-bwma.cimvp"), "--scheme", "bwma", "--epochs", "1",
                                           "--train-count", "500")
        self.assertIn("scheme bwma, 4-bit activations", text)
        self.assertEqual(expected["scheme"], "bwma")
        self.run_and_compare(self.path("every-bwma.cimvp"), expected)

    def test_imported_graph_in_columnwise_runs_bit_exact_on_the_column_wise_chip(self):
        """--scheme columnwise: every read through the 4-bit ADC with the model's tables, on the chip of
        configs/columnwise.json."""
        import test_import
        path = self.path("res.onnx")
        test_import.export_residual(path, images=2000)
        expected, text = self.import_model(path, self.path("res-col.cimvp"), "--scheme", "columnwise")
        self.assertIn("--config configs/columnwise.json", text)
        self.assertEqual(expected["config"], "configs/columnwise.json")
        self.run_and_compare(self.path("res-col.cimvp"), expected, "--config",
                             os.path.join(SOURCE, "configs", "columnwise.json"))


def replace_info(body, info_text):
    """A recording body (docs/record-format.md) with its info JSON replaced."""
    (n_cfg,) = struct.unpack_from("<I", body, 0)
    at = 4 + n_cfg
    (n_info,) = struct.unpack_from("<I", body, at)
    info = info_text.encode()
    return bytearray(body[:at] + struct.pack("<I", len(info)) + info + body[at + 4 + n_info:])


class HostileInput(unittest.TestCase):
    """Input files that are not what they claim: each is refused in moments with exit 2 and a
    message naming the file, never a hang, a crash or an unbounded read (docs/*-format.md limits)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def refused(self, args, *patterns, timeout=60):
        t0 = time.time()
        code, text = run(*args, timeout=timeout)
        self.assertEqual(code, 2, text)
        for p in patterns:
            self.assertRegex(text, p)
        self.assertNotIn("json.exception", text)
        self.assertNotIn("basic_filebuf", text)
        return time.time() - t0

    def every_loader(self):
        """(arguments naming F, what the message calls it) for each kind of input file."""
        return [(["run", "--model", "{}"], "model file"), (["run", "--trace", "{}"], "trace file"),
                (["info", "--config", "{}"], "config"), (["replay", "{}"], "recording")]

    def test_a_directory_is_refused_by_every_loader(self):
        for args, what in self.every_loader():
            a = [x.format(self.tmp) for x in args]
            self.refused(a, re.escape(self.tmp) + r": cannot read the " + what + ": it is a directory")

    def test_a_device_is_refused_without_being_read(self):
        for args, what in self.every_loader():
            a = [x.format("/dev/zero") for x in args]
            self.assertLess(self.refused(a, r"/dev/zero: cannot read the " + what + ": not a regular file"), 30)

    def test_a_fifo_without_writer_reads_as_empty_instead_of_blocking(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        for args, what in self.every_loader():
            a = [x.format(fifo) for x in args]
            self.refused(a, re.escape(fifo), timeout=30)

    def test_a_file_past_the_size_limit_is_refused_before_it_is_read(self):
        big = self.path("big")
        with open(big, "wb") as f:
            f.truncate((1 << 30) + (1 << 20))  # sparse: 1025 MiB of zeros, above every limit
        for args, what in self.every_loader():
            a = [x.format(big) for x in args]
            self.refused(a, re.escape(big) + r": cannot read the " + what + r": 1074790400 bytes, more than the \d+ MiB")

    def test_a_pipe_with_a_writer_is_read(self):
        # `--config <(...)`: process substitution hands the command a pipe.
        r, w = os.pipe()
        os.write(w, b'{"crossbar": {"rows": 64}}')
        os.close(w)
        p = subprocess.run([CIMVP, "info", "--config", "/dev/fd/%d" % r], capture_output=True, text=True,
                           timeout=60, pass_fds=(r,))
        os.close(r)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"64")

    def record(self):
        rec = self.path("layer.rec")
        code, text = run("layer", "--rows", "20", "--cols", "8", "--vectors", "2", "--record", rec)
        self.assertEqual(code, 0, text)
        return rec

    def test_a_recording_claiming_a_huge_body_is_refused_before_allocating_it(self):
        rec = self.record()
        with open(rec, "r+b") as f:
            f.seek(16)
            f.write(struct.pack("<Q", 1 << 31))
        self.refused(["replay", rec], re.escape(rec), r"body_bytes: expected at most 1032 times the \d+ compressed bytes")

    def test_recorded_info_of_the_wrong_type_names_the_field(self):
        rec = self.record()
        rewrite_recording(rec, lambda b: replace_info(b, '{"cycles": "many", "command_lists": 1}'))
        self.refused(["replay", rec], re.escape(rec) + r": info.cycles: expected an unsigned integer, got string")
        rewrite_recording(rec, lambda b: replace_info(b, "[1, 2]"))
        self.refused(["replay", rec], re.escape(rec) + r": info: expected a JSON object, got array")

    def test_deeply_nested_recorded_info_is_refused_while_parsing(self):
        rec = self.record()
        rewrite_recording(rec, lambda b: replace_info(b, "[" * 100000 + "]" * 100000))
        self.refused(["replay", rec], re.escape(rec) + r": info.*nested at most 32 levels")


if __name__ == "__main__":
    CIMVP, SOURCE = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[3:]])
