// cimvp: the command-line entry point of the virtual platform.
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <systemc>

#include "sw/formats/config_loader.h"
#include "sw/app/convert_job.h"
#include "sw/app/bench_job.h"
#include "sw/driver/driver.h"
#include "sw/app/layer_job.h"
#include "sw/app/replay_job.h"
#include "sw/app/run_job.h"
#include "sw/app/swis_job.h"
#include "sw/app/trace_job.h"
#include "sw/formats/idx_dataset.h"
#include "sw/formats/model_file.h"
#include "sw/app/results_json.h"

namespace po = boost::program_options;
using namespace cimvp;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitMismatch = 1;  // the platform disagreed with the reference
constexpr int kExitUsage = 2;     // bad command line, config or layer

// SystemC prints its banner before sc_main runs, so this must happen at static initialization.
const bool kQuietBanner = setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0) == 0;

const char* kUsage = R"(cimvp — SystemC/TLM-2.0 virtual platform of a compute-in-memory CNN accelerator

usage: cimvp <command> [options]      (cimvp <command> --help for its options)

commands:
  run     run a quantized network on the Fashion-MNIST test set (default: the BWMA model,
          configs/default.json): accuracy, agreement with the C++ reference, cycles,
          latency and energy per image by component and by layer; with --trace F a
          network workload trace (traces/*.trace) layer by layer, with the same report
  layer   run one random matrix layer (or an im2col convolution) on the platform,
          check it bit-exactly against the C++ reference, report cycles and energy
  bench   time a layer on the SystemC platform against the C++ reference alone; with
          --layer-type T|all: simulated MAC/s, images/s and platform/reference per layer type
  replay  issue a recorded command stream (run/layer --record F) again on the platform it was
          recorded on, without the driver: checks every read and the timing, reports cycles
  info    print the effective configuration and the platform's address map
  swis    SWIS report for a layer-shape trace or a model: shifts, cycles, frames/s, energy of
          SS, DS, C-SS, C-DS, Act, Wgt, FXP at N = 2, 2.5, 3, 4, and accuracy with a model
  convert write a model with its PE-array layers stored as SWIS groups (model format v2),
          with the storage per group and per layer against int8; `cimvp run` runs the groups

waveforms: run, layer and bench take --vcd F (a VCD of the platform's signals, and F.gtkw
beside it: gtkwave F.gtkw) with --vcd-from/--vcd-to T, and run also --vcd-layer L and
--vcd-image N (docs/debugging.md)
)";

void add_common(po::options_description& d) {
    d.add_options()("help,h", "show this help")(
        "config", po::value<std::string>(), "architecture config JSON (default: built-in defaults = configs/default.json)")(
        "seed", po::value<std::uint64_t>()->default_value(1), "seed of the random layer, inputs and device draws")(
        "json", po::value<std::string>(), "write the results object to this file");
}

void add_layer_shape(po::options_description& d, int rows, int cols, int vectors, int adc_bits_default) {
    d.add_options()("rows", po::value<int>()->default_value(rows), "matrix rows K (inputs per vector)")(
        "cols", po::value<int>()->default_value(cols), "matrix columns M (outputs)")(
        "a-bits", po::value<int>()->default_value(8), "activation bits (1..8)")(
        "w-bits", po::value<int>()->default_value(8), "weight bits (2..8; ignored with --binary)")(
        "binary", po::bool_switch(), "binary weights {-1,+1} (BWMA)")(
        "vectors", po::value<int>()->default_value(vectors), "input vectors")(
        "conv", po::value<std::string>(),
        "run a convolution instead: C,H,W,k,stride,padding (im2col; --cols output channels, one vector per pixel)")(
        "adc-bits", po::value<int>()->default_value(adc_bits_default),
        "override adc.bits (0 keeps the config's value)")(
        "tiles", po::value<int>()->default_value(0), "override platform.tiles (0 keeps the config's value)")(
        "log-tlm", po::bool_switch(), "print every bus transaction to stderr");
}

// --vcd and its options; `network`: the layer and image gates of `cimvp run`.
void add_waveform_options(po::options_description& d, bool network) {
    d.add_options()("vcd", po::value<std::string>(), "write a VCD waveform of the platform's signals to this file, and "
                                                      "beside it a GTKWave view of it (F.vcd -> F.gtkw: "
                                                      "gtkwave F.gtkw; docs/debugging.md)")(
        "vcd-from", po::value<std::string>(), "record from this simulated time on (e.g. 10us, 2.5ms, 1000ns)")(
        "vcd-to", po::value<std::string>(), "record up to this simulated time")(
        "vcd-tile", po::value<int>()->default_value(0), "tile whose ADC column the waveform shows")(
        "vcd-column", po::value<int>()->default_value(0), "crossbar column of --vcd-tile whose ADC codes are recorded")(
        "vcd-tiles", po::value<int>()->default_value(0), "record the busy line of the first K tiles (0: all)");
    if (network)
        d.add_options()("vcd-layer", po::value<std::string>(),
                        "record only while this layer's lists run: an index, a name like conv2 or fc1, or "
                        "'layer 2 (conv)'")(
            "vcd-image", po::value<std::uint64_t>(), "record only the lists of the batch holding this image");
}

WaveformOptions waveform_options_from(const po::variables_map& vm, const ArchConfig& cfg) {
    WaveformOptions o;
    if (vm.count("vcd")) o.path = vm["vcd"].as<std::string>();
    if (o.enabled() && o.path.empty()) throw std::invalid_argument("--vcd: expected a file name");
    if (vm.count("vcd-from")) o.from_ns = parse_sim_time_ns("--vcd-from", vm["vcd-from"].as<std::string>());
    if (vm.count("vcd-to")) o.to_ns = parse_sim_time_ns("--vcd-to", vm["vcd-to"].as<std::string>());
    o.tile = vm["vcd-tile"].as<int>();
    o.column = vm["vcd-column"].as<int>();
    o.tiles = vm["vcd-tiles"].as<int>();
    if (vm.count("vcd-layer")) o.layer = vm["vcd-layer"].as<std::string>();
    if (vm.count("vcd-layer") && o.layer.empty()) throw std::invalid_argument("--vcd-layer: expected a layer index or name");
    if (vm.count("vcd-image")) o.image = vm["vcd-image"].as<std::uint64_t>();
    validate(o, cfg);
    return o;
}

// Parses a command's options; prints its help and returns true when --help was given.
bool parse_or_help(const po::options_description& d, const std::vector<std::string>& args, po::variables_map& vm) {
    po::store(po::command_line_parser(args).options(d).run(), vm);
    po::notify(vm);
    if (!vm.count("help")) return false;
    std::cout << d << '\n';
    return true;
}

ArchConfig config_from(const po::variables_map& vm) {
    ArchConfig cfg = vm.count("config") ? load_config(vm["config"].as<std::string>()) : ArchConfig();
    if (vm.count("adc-bits") && vm["adc-bits"].as<int>() > 0) cfg.adc.bits = vm["adc-bits"].as<int>();
    if (vm.count("tiles") && vm["tiles"].as<int>() > 0) cfg.platform.tiles = vm["tiles"].as<int>();
    if (vm.count("seed")) cfg.nonideal.seed = vm["seed"].as<std::uint64_t>();
    validate(cfg);
    return cfg;
}

LayerJobSpec spec_from(const po::variables_map& vm) {
    LayerJobSpec s;
    s.K = vm["rows"].as<int>();
    s.M = vm["cols"].as<int>();
    s.a_bits = vm["a-bits"].as<int>();
    s.w_bits = vm["w-bits"].as<int>();
    s.binary = vm["binary"].as<bool>();
    s.vectors = vm["vectors"].as<int>();
    s.seed = vm["seed"].as<std::uint64_t>();
    s.log_transactions = vm["log-tlm"].as<bool>();
    if (s.vectors < 1) throw std::invalid_argument("--vectors: expected at least 1, got " + std::to_string(s.vectors));
    if (vm.count("conv")) {
        std::vector<int> v;
        std::stringstream ss(vm["conv"].as<std::string>());
        std::string item;
        while (std::getline(ss, item, ',')) {
            try {
                v.push_back(std::stoi(item));
            } catch (const std::exception&) {
                v.clear();
                break;
            }
        }
        if (v.size() != 6 || v[0] < 1 || v[1] < 1 || v[2] < 1 || v[3] < 1 || v[4] < 1 || v[5] < 0)
            throw std::invalid_argument("--conv: expected C,H,W,k,stride,padding with positive C,H,W,k,stride, got '" +
                                        vm["conv"].as<std::string>() + "'");
        ConvShape c{v[0], v[1], v[2], v[3], v[4], v[5]};
        if (c.out_height() < 1 || c.out_width() < 1)
            throw std::invalid_argument("--conv: the kernel does not fit the padded input");
        s.conv = c;
    }
    return s;
}

void print_layer(const LayerJobResult& r) {
    const auto& e = r.energy;
    std::printf("layer %s: K=%d M=%d a_bits=%d w_bits=%d%s, %d vectors, %d x %d tiles in %d pass(es)\n",
                r.layer.name.c_str(), r.layer.K, r.layer.M, r.layer.a_bits, r.layer.w_bits,
                r.layer.binary ? " (binary)" : "", r.vectors, r.map.row_tiles, r.map.col_tiles, r.map.passes);
    std::printf("agreement with the C++ reference: %.6f (%zu outputs)\n", r.agreement, r.platform.size());
    std::printf("agreement with the integer matmul: %.6f (%s), relative error %.3g\n", r.exact_agreement,
                r.adc_lossless ? "lossless ADC, ideal devices: must be 1" : "lossy ADC or non-ideal devices",
                r.relative_error);
    std::printf("cycles %llu, simulated time %.3f us, %u commands, %u tile runs\n",
                static_cast<unsigned long long>(r.cycles), r.sim_time_ns / 1000.0, r.commands, r.tile_runs);
    std::printf("energy %.3f nJ: crossbar %.3f, adc %.3f, shift_add %.3f, buffers %.3f, dma %.3f, dram %.3f nJ\n",
                e.total() / 1e3, e.crossbar / 1e3, e.adc / 1e3, e.shift_add / 1e3, e.buffers / 1e3, e.dma / 1e3,
                e.dram / 1e3);
    std::printf("wall time: platform %.3f s, reference %.3f s\n", r.platform_wall_s, r.reference_wall_s);
}

constexpr const char* kDefaultModel = CIMVP_SOURCE_DIR "/models/fmnist-bwma.cimvp";

// `cimvp bench --layer-type T`: the per-type table (sw/app/bench_job.h).
int cmd_bench_types(const po::variables_map& vm, const ArchConfig& cfg) {
    BenchJobSpec spec;
    const std::string t = vm["layer-type"].as<std::string>();
    if (t == "all") spec.types = bench_layer_types();
    else spec.types = {t};
    spec.images = vm["images"].as<int>();
    spec.model_images = vm["model-images"].as<int>();
    if (spec.model_images < 0) throw std::invalid_argument("--model-images: expected 0 (no model row) or a count");
    if (spec.model_images > 0) {
        spec.model_path = vm["model"].as<std::string>();
        spec.data_dir = vm["data"].as<std::string>();
    }
    spec.seed = vm["seed"].as<std::uint64_t>();
    const BenchJobResult r = run_bench_job(cfg, spec);
    std::printf("%-8s %7s %12s %14s %14s %10s %12s %9s  %s\n", "type", "images", "MACs/image", "sim MAC/s",
                "ref MAC/s", "images/s", "plat/ref", "agree", "layer");
    nlohmann::json rows = nlohmann::json::array();
    bool all_agree = true;
    for (const BenchRow& b : r.rows) {
        std::printf("%-8s %7d %12.0f %14.4g %14.4g %10.1f %11.2fx %9.3f  %s\n", b.type.c_str(), b.images,
                    b.macs_per_image, b.platform_macs_per_second(), b.reference_macs_per_second(),
                    b.images_per_second(), b.platform_over_reference(), b.agreement, b.description.c_str());
        all_agree = all_agree && b.agreement == 1.0;
        rows.push_back({{"type", b.type},
                        {"description", b.description},
                        {"images", b.images},
                        {"layer_macs_per_image", b.layer_macs_per_image},
                        {"macs_per_image", b.macs_per_image},
                        {"platform_wall_seconds", b.platform_wall_s},
                        {"reference_wall_seconds", b.reference_wall_s},
                        {"simulated_macs_per_second", b.platform_macs_per_second()},
                        {"reference_macs_per_second", b.reference_macs_per_second()},
                        {"images_per_second", b.images_per_second()},
                        {"reference_images_per_second", b.reference_images_per_second()},
                        {"platform_over_reference", b.platform_over_reference()},
                        {"cycles", b.cycles},
                        {"sim_time_ns", b.sim_time_ns},
                        {"agreement", b.agreement}});
    }
    if (vm.count("json"))
        write_json_file(vm["json"].as<std::string>(), {{"layer_types", rows}, {"config", config_to_json(cfg)}});
    if (!all_agree) {
        std::fprintf(stderr, "cimvp: the platform disagrees with the reference\n");
        return kExitMismatch;
    }
    return kExitOk;
}

int cmd_layer(const std::vector<std::string>& args, bool bench) {
    po::options_description d(bench ? "cimvp bench [options]" : "cimvp layer [options]");
    add_common(d);
    if (bench) add_layer_shape(d, 1024, 1024, 64, 5);
    else add_layer_shape(d, 128, 128, 16, 0);
    add_waveform_options(d, false);
    if (!bench)
        d.add_options()("record", po::value<std::string>(),
                        "write the recorded command stream (docs/record-format.md) to this file");
    else
        d.add_options()("layer-type", po::value<std::string>(),
                        "instead of the one layer above: simulation speed per layer type, conv3x3, conv1x1, fc, pe "
                        "(SWIS PE array) or all, plus the default model on test images")(
            "images", po::value<int>()->default_value(32), "random images per layer type (--layer-type)")(
            "model-images", po::value<int>()->default_value(64),
            "test images of the model row (--layer-type; 0: no model row)")(
            "model", po::value<std::string>()->default_value(kDefaultModel), "model of the model row (--layer-type)")(
            "data", po::value<std::string>()->default_value(kFashionMnistDir), "directory of the IDX data set");
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    if (bench && vm.count("layer-type")) return cmd_bench_types(vm, cfg);
    LayerJobSpec spec = spec_from(vm);
    spec.waveforms = waveform_options_from(vm, cfg);
    if (vm.count("record")) spec.record_path = vm["record"].as<std::string>();
    const LayerJobResult r = run_layer_job(cfg, spec);
    print_layer(r);
    nlohmann::json j = layer_job_to_json(r, cfg);
    if (bench) {
        const double ratio = r.platform_wall_s / r.reference_wall_s;
        const double ops = r.cell_bit_ops / r.reference_wall_s;
        std::printf("bench: platform/reference wall time %.2fx; reference %.3g bit-level cell ops/s\n", ratio, ops);
        j["bench"] = {{"platform_over_reference", ratio}, {"reference_cell_bit_ops_per_second", ops},
                      {"cell_bit_ops", r.cell_bit_ops}};
    }
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), j);
    if (r.agreement != 1.0 || (r.adc_lossless && r.exact_agreement != 1.0)) {
        std::fprintf(stderr, "cimvp: the platform disagrees with the reference\n");
        return kExitMismatch;
    }
    return kExitOk;
}

int cmd_run_trace(const po::variables_map& vm, const ArchConfig& cfg) {
    TraceJobSpec spec;
    spec.trace_path = vm["trace"].as<std::string>();
    spec.mapping = parse_trace_mapping(vm["map"].as<std::string>());
    spec.images = vm["images"].as<int>();
    spec.layers = vm["layers"].as<int>();
    spec.check_reference = !vm["no-check"].as<bool>();
    spec.progress = !vm["quiet"].as<bool>();
    const TraceJobResult r = run_trace_job(cfg, spec);
    const double n = std::max(1, r.images);
    const auto& e = r.total.energy;
    std::printf("trace %s: network %s (%s), %zu layers, %d image(s), map %s, config %s\n", r.trace_path.c_str(),
                r.network.c_str(), r.dataset.empty() ? "-" : r.dataset.c_str(), r.layers.size(), r.images,
                vm["map"].as<std::string>().c_str(), cfg.source.c_str());
    std::printf("  %-24s %-8s %14s %12s %11s %5s %6s %6s %12s\n", "layer", "on", "MACs/image", "cycles", "latency us",
                "tiles", "t.util", "pe.util", "energy nJ");
    for (const auto& l : r.layers)
        std::printf("  %-24s %-8s %14.0f %12llu %11.3f %5d %6.3f %6.3f %12.3f\n", l.name.c_str(), l.mapped_to.c_str(),
                    l.macs_per_image, static_cast<unsigned long long>(l.stats.cycles), l.stats.sim_ns / n / 1000.0,
                    l.tiles_used, l.tile_utilization, l.pe_utilization, l.stats.energy.total() / n / 1e3);
    std::printf("total: %lld MACs, %llu cycles, latency %.3f us per image (programming %.3f us), energy %.3f nJ per image\n",
                static_cast<long long>(r.macs_per_image), static_cast<unsigned long long>(r.total.cycles),
                r.total.sim_ns / n / 1000.0, r.programming.sim_ns / n / 1000.0, e.total() / n / 1e3);
    std::printf("energy per image by component: crossbar %.3f, adc %.3f, shift_add %.3f, pe %.3f, post_process %.3f, "
                "buffers %.3f, dma %.3f, dram %.3f nJ\n",
                e.crossbar / n / 1e3, e.adc / n / 1e3, e.shift_add / n / 1e3, e.pe / n / 1e3, e.post_process / n / 1e3,
                e.buffers / n / 1e3, e.dma / n / 1e3, e.dram / n / 1e3);
    if (spec.check_reference)
        std::printf("agreement with the C++ reference: %.6f (%d of %d images bit-exact on every layer)\n", r.agreement,
                    r.agree, r.images);
    std::printf("time (wall / CPU): platform %.3f / %.3f s", r.platform.wall, r.platform.cpu);
    if (spec.check_reference)
        std::printf(", C++ reference alone %.3f / %.3f s (platform/reference CPU %.2fx)", r.reference.wall,
                    r.reference.cpu, r.platform.cpu / std::max(1e-9, r.reference.cpu));
    std::printf("; data, mapping and ADC calibration %.3f / %.3f s; host pool/add %.3f / %.3f s\n", r.prepare.wall,
                r.prepare.cpu, r.host.wall, r.host.cpu);
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), trace_job_to_json(r, cfg, spec));
    if (vm.count("csv")) write_text_file(vm["csv"].as<std::string>(), trace_job_to_csv(r));
    if (spec.check_reference && r.agree != r.images) {
        std::fprintf(stderr, "cimvp: the platform disagrees with the reference\n");
        return kExitMismatch;
    }
    return kExitOk;
}

int cmd_run(const std::vector<std::string>& args) {
    po::options_description d("cimvp run [options]");
    add_common(d);
    d.add_options()("model", po::value<std::string>()->default_value(kDefaultModel), "model file (format v1 or v2)")(
        "data", po::value<std::string>()->default_value(kFashionMnistDir), "directory of the IDX data set")(
        "limit", po::value<int>()->default_value(0), "run the first N test images (0: all 10,000)")(
        "batch", po::value<int>()->default_value(64), "images per command list")(
        "no-check", po::bool_switch(), "skip the per-image comparison with the C++ reference")(
        "pe-layers", po::value<std::string>()->default_value("default"),
        "layers on the SWIS PE array: default (BWMA: first and last; every layer stored as SWIS groups), none, all, "
        "or indices like 0,3")(
        "swis-shifts", po::value<int>()->default_value(8),
        "shared shifts of PE-array layers (8: exact int8; not with SWIS groups stored in the model)")(
        "single-shift", po::bool_switch(), "single-shift PEs instead of double-shift")(
        "rtl", po::bool_switch(),
        "the Verilated RTL of the ADC and the SWIS PE in the loop: every conversion and every PE group of the run "
        "goes through it, checked against the models (docs/rtl.md)")(
        "rtl-vcd", po::value<std::string>(),
        "with --rtl: write the RTL's signals to PREFIX.sar_adc.vcd and PREFIX.swis_pe.vcd")(
        "rtl-vcd-cycles", po::value<long long>()->default_value(100000),
        "with --rtl-vcd: clocks of each block to keep (from the start of the run, or of the lists "
        "--vcd-layer/--vcd-image select)")(
        "quiet", po::bool_switch(), "no progress bar")(
        "record", po::value<std::string>(), "write the recorded command stream (docs/record-format.md) to this file");
    add_waveform_options(d, true);
    po::options_description t("with a workload trace (docs/trace-format.md)");
    t.add_options()("trace", po::value<std::string>(), "run this network trace instead of --model on the data set")(
        "map", po::value<std::string>()->default_value("trace"),
        "where layers with weights run: trace (each layer's map=), crossbar (the CIM tiles) or pe (the SWIS PE array)")(
        "images", po::value<int>()->default_value(1), "images (sets of drawn inputs) per layer")(
        "layers", po::value<int>()->default_value(0), "run only the first N layers of the trace (0: all)")(
        "csv", po::value<std::string>(), "write the per-layer report as CSV to this file (docs/results.md)");
    d.add(t);
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    // Options of one kind of run given to the other are errors, not silently ignored.
    const auto given = [&](const char* o) { return vm.count(o) && !vm[o].defaulted(); };
    if (vm.count("trace")) {
        if (given("model")) throw std::invalid_argument("run: expected one of --trace F and --model F, got both");
        for (const char* o : {"data", "limit", "batch", "pe-layers", "swis-shifts"})
            if (given(o)) throw std::invalid_argument(std::string("--") + o + ": expected with --model only, not with --trace");
        if (vm["single-shift"].as<bool>())
            throw std::invalid_argument("--single-shift: expected with --model only, not with --trace");
        for (const char* o : {"vcd", "vcd-from", "vcd-to", "vcd-tile", "vcd-column", "vcd-tiles", "vcd-layer", "vcd-image",
                              "rtl-vcd", "record"})
            if (given(o)) throw std::invalid_argument(std::string("--") + o + ": expected with --model only, not with --trace");
        if (vm["rtl"].as<bool>()) throw std::invalid_argument("--rtl: expected with --model only, not with --trace");
        return cmd_run_trace(vm, cfg);
    }
    for (const char* o : {"csv", "map", "images", "layers"})
        if (given(o)) throw std::invalid_argument(std::string("--") + o + ": expected with --trace F only");
    RunJobSpec spec;
    spec.waveforms = waveform_options_from(vm, cfg);
    spec.rtl = vm["rtl"].as<bool>();
    if (vm.count("rtl-vcd")) {
        if (!spec.rtl) throw std::invalid_argument("--rtl-vcd: needs --rtl (it traces the RTL in the loop)");
        spec.rtl_vcd = vm["rtl-vcd"].as<std::string>();
        if (spec.rtl_vcd.empty()) throw std::invalid_argument("--rtl-vcd: expected a file prefix, got ''");
    }
    if (vm["rtl-vcd-cycles"].as<long long>() < 0)
        throw std::invalid_argument("--rtl-vcd-cycles: expected 0 or a positive count, got " +
                                    std::to_string(vm["rtl-vcd-cycles"].as<long long>()));
    spec.rtl_vcd_cycles = static_cast<std::uint64_t>(vm["rtl-vcd-cycles"].as<long long>());
    if (vm.count("record")) spec.record_path = vm["record"].as<std::string>();
    spec.model_path = vm["model"].as<std::string>();
    spec.data_dir = vm["data"].as<std::string>();
    spec.limit = vm["limit"].as<int>();
    spec.batch = vm["batch"].as<int>();
    spec.check_reference = !vm["no-check"].as<bool>();
    spec.progress = !vm["quiet"].as<bool>();
    spec.pe_layers = vm["pe-layers"].as<std::string>();
    spec.swis_shifts = vm["swis-shifts"].as<int>();
    spec.single_shift = vm["single-shift"].as<bool>();
    if (spec.limit < 0) throw std::invalid_argument("--limit: expected 0 (all) or a positive count");
    if (spec.batch < 1) throw std::invalid_argument("--batch: expected at least 1");
    const RunJobResult r = run_network_job(cfg, spec);
    const auto& e = r.total.energy;
    const double n = std::max(1, r.images);
    std::printf("model %s (%s) on %d images, config %s\n", r.model_name.c_str(), r.scheme.c_str(), r.images,
                cfg.source.c_str());
    for (const auto& l : r.recalibrated) std::printf("note: %s: ADC tables recalibrated for this config\n", l.c_str());
    std::printf("accuracy %.2f%%\n", 100.0 * r.accuracy);
    if (spec.check_reference)
        std::printf("agreement with the C++ reference: %.6f (%d of %d images bit-exact)\n", r.agreement, r.agree,
                    r.images);
    if (r.fake_quant_match)
        std::printf("logits digest %s %s the PyTorch fake-quant model's (%s)\n", r.logits_digest.c_str(),
                    *r.fake_quant_match ? "matches" : "DOES NOT match", r.expected_path.c_str());
    std::printf("cycles %llu, simulated latency %.3f us per image (batches of %d)\n",
                static_cast<unsigned long long>(r.total.cycles), r.total.sim_ns / n / 1000.0, spec.batch);
    std::printf("energy per image %.3f nJ: crossbar %.3f, adc %.3f, shift_add %.3f, pe %.3f, post_process %.3f, "
                "buffers %.3f, dma %.3f, dram %.3f nJ\n",
                e.total() / n / 1e3, e.crossbar / n / 1e3, e.adc / n / 1e3, e.shift_add / n / 1e3, e.pe / n / 1e3,
                e.post_process / n / 1e3, e.buffers / n / 1e3, e.dma / n / 1e3, e.dram / n / 1e3);
    for (const auto& l : r.layers) {
        const std::string where = l.scratch_on_chip
                                      ? "accumulators on chip, steps of " + std::to_string(l.images_per_step) + " images"
                                      : "accumulators in DRAM";
        std::printf("  %-14s %-9s %10.0f MACs  %9.3f us  %9.3f nJ per image  (%s)\n", l.name.c_str(),
                    l.mapped_to.c_str(), l.macs_per_image, l.stats.sim_ns / n / 1000.0,
                    l.stats.energy.total() / n / 1e3, where.c_str());
    }
    std::printf("activations %s\n", r.activations_on_chip ? "in the global buffer" : "in DRAM");
    for (const auto& l : r.layers)
        if (l.swis)
            std::printf("  %s: stored %s groups, N %.2f (%d..%d), %lld bytes against %lld as int8 (%.2fx)\n",
                        l.name.c_str(), l.swis_variant.c_str(), l.swis->mean_n, l.swis->min_n, l.swis->max_n,
                        static_cast<long long>(l.swis->swis_bytes), static_cast<long long>(l.swis->int8_bytes),
                        l.swis->ratio);
    std::printf("weights programmed %s: %.3f us, %.3f nJ\n", r.resident ? "once" : "per batch (tiles do not hold every layer)",
                r.programming.sim_ns / 1000.0, r.programming.energy.total() / 1e3);
    std::printf("wall time %.3f s, %.1f images/s", r.wall_s, r.images / std::max(1e-9, r.wall_s));
    if (spec.check_reference)
        std::printf(" (C++ reference alone %.3f s, %.1f images/s)", r.reference_wall_s,
                    r.images / std::max(1e-9, r.reference_wall_s));
    std::printf("\n");
    if (r.rtl) {
        const RtlRunStats& x = *r.rtl;
        std::printf("rtl: %llu conversions in %llu ADC clocks (%d per conversion: %s), %llu PE outputs of %llu groups "
                    "in %llu PE clocks (%s the array's count), %llu mismatches against the models\n",
                    static_cast<unsigned long long>(x.conversions), static_cast<unsigned long long>(x.adc_cycles),
                    x.adc_bits, x.adc_cycles == x.model_conversions * static_cast<std::uint64_t>(x.adc_bits) ? "as annotated" : "NOT as annotated",
                    static_cast<unsigned long long>(x.pe_outputs), static_cast<unsigned long long>(x.pe_groups),
                    static_cast<unsigned long long>(x.pe_cycles), x.pe_cycles == x.model_pe_cycles ? "equal to" : "UNLIKE",
                    static_cast<unsigned long long>(x.adc_mismatches + x.pe_mismatches));
        std::printf("rtl: clocking the RTL took %.3f s for the ADC (%.3g clocks/s), %.3f s for the PE (%.3g clocks/s)\n",
                    x.adc_seconds, static_cast<double>(x.adc_cycles) / std::max(1e-9, x.adc_seconds), x.pe_seconds,
                    static_cast<double>(x.pe_cycles) / std::max(1e-9, x.pe_seconds));
        if (x.pe_bypassed_jobs)
            std::printf("rtl: %llu PE jobs in a form the RTL does not have ran on the model\n",
                        static_cast<unsigned long long>(x.pe_bypassed_jobs));
    }
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), run_job_to_json(r, cfg, spec));
    if ((spec.check_reference && r.agree != r.images) || (r.fake_quant_match && !*r.fake_quant_match)) {
        std::fprintf(stderr, "cimvp: the platform disagrees with the reference\n");
        return kExitMismatch;
    }
    if (r.rtl && !r.rtl->ok()) {
        std::fprintf(stderr, "cimvp: the RTL disagrees with the models\n");
        return kExitMismatch;
    }
    return kExitOk;
}

int cmd_swis(const std::vector<std::string>& args) {
    po::options_description d("cimvp swis [options]");
    add_common(d);
    d.add_options()("trace", po::value<std::string>(), "layer-shape trace (traces/*.trace); weights from its data record")(
        "model", po::value<std::string>(), "model file (format v1): its 8-bit layers' weights, and accuracy")(
        "data", po::value<std::string>()->default_value(kFashionMnistDir), "directory of the IDX data set (--model)")(
        "limit", po::value<int>()->default_value(10000), "test images for the accuracy (--model)")(
        "targets", po::value<std::string>()->default_value("2,2.5,3,4"), "mean shift counts N to schedule for")(
        "alpha", po::value<double>()->default_value(1.0), "MSE++ weight of the group's summed error")(
        "no-accuracy", po::bool_switch(), "skip the accuracy runs (--model)")(
        "unscaled", po::bool_switch(), "schedule on the integer weight error (--model: ignore the layers' multipliers)")(
        "quiet", po::bool_switch(), "no progress on stderr");
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    SwisJobSpec spec;
    if (vm.count("trace")) spec.trace_path = vm["trace"].as<std::string>();
    if (vm.count("model")) spec.model_path = vm["model"].as<std::string>();
    if (spec.trace_path.empty() == spec.model_path.empty())
        throw std::invalid_argument("swis: expected exactly one of --trace F and --model F");
    spec.data_dir = vm["data"].as<std::string>();
    spec.limit = vm["limit"].as<int>();
    if (spec.limit < 1) throw std::invalid_argument("--limit: expected a positive count");
    spec.alpha = vm["alpha"].as<double>();
    if (!(spec.alpha >= 0)) throw std::invalid_argument("--alpha: expected a number >= 0");
    spec.accuracy = !vm["no-accuracy"].as<bool>();
    spec.scale_by_mult = !vm["unscaled"].as<bool>();
    spec.progress = !vm["quiet"].as<bool>();
    spec.targets.clear();
    std::stringstream ss(vm["targets"].as<std::string>());
    for (std::string item; std::getline(ss, item, ',');) {
        std::size_t used = 0;
        double t = 0;
        try {
            t = std::stod(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || !(t >= 1 && t <= 8))
            throw std::invalid_argument("--targets: expected numbers in [1, 8] separated by commas, got '" +
                                        vm["targets"].as<std::string>() + "'");
        spec.targets.push_back(t);
    }
    const SwisJobResult r = run_swis_job(cfg, spec);
    print_swis_report(r, stdout);
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), swis_job_to_json(r, cfg, spec));
    return kExitOk;
}

int cmd_convert(const std::vector<std::string>& args) {
    po::options_description d("cimvp convert --model IN --out OUT [options]");
    add_common(d);
    d.add_options()("model", po::value<std::string>(), "model file to convert (format v1)")(
        "out", po::value<std::string>(), "model file to write (format v2)")(
        "shifts", po::value<double>()->default_value(3.0),
        "shifts N per group, 1..8: uniform when integral; a fractional N (2.5) is a scheduled mean")(
        "variant", po::value<std::string>()->default_value("swis"), "swis (any N positions) or swis-c (consecutive)")(
        "schedule", po::bool_switch(), "schedule filters for the mean N even when it is integral (docs/swis.md)")(
        "double-shift", po::bool_switch(), "schedule for double-shift PEs: every filter an even N (implies --schedule)")(
        "pe-layers", po::value<std::string>()->default_value("default"),
        "layers to store: default (what cimvp run puts on the PE array: BWMA first and last), all, or indices like 0,3")(
        "alpha", po::value<double>()->default_value(1.0), "MSE++ weight of the group's summed error")(
        "unscaled", po::bool_switch(), "schedule on the integer weight error, not weighed by the multipliers");
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    ConvertJobSpec spec;
    if (!vm.count("model")) throw std::invalid_argument("convert: expected --model F, the format v1 model to convert");
    spec.model_path = vm["model"].as<std::string>();
    if (vm.count("out")) spec.out_path = vm["out"].as<std::string>();
    spec.pe_layers = vm["pe-layers"].as<std::string>();
    spec.options.shifts = vm["shifts"].as<double>();
    const std::string variant = vm["variant"].as<std::string>();
    if (variant != "swis" && variant != "swis-c")
        throw std::invalid_argument("--variant: expected swis or swis-c, got '" + variant + "'");
    spec.options.variant = variant == "swis-c" ? swis::Variant::kSwisC : swis::Variant::kSwis;
    spec.options.schedule = vm["schedule"].as<bool>();
    spec.options.double_shift = vm["double-shift"].as<bool>();
    spec.options.alpha = vm["alpha"].as<double>();
    if (!(spec.options.alpha >= 0)) throw std::invalid_argument("--alpha: expected a number >= 0");
    spec.options.scale_by_mult = !vm["unscaled"].as<bool>();
    const ConvertJobResult r = run_convert_job(cfg, spec);
    print_convert_report(r, spec, stdout);
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), convert_job_to_json(r, spec, cfg));
    return kExitOk;
}

int cmd_replay(const std::vector<std::string>& args) {
    po::options_description d("cimvp replay FILE [options]");
    d.add_options()("help,h", "show this help")("file", po::value<std::string>(), "recorded command stream")(
        "config", po::value<std::string>(),
        "replay on this architecture config instead of the recorded one (a timing change is reported as a "
        "difference)")("json", po::value<std::string>(), "write the results object to this file");
    po::positional_options_description pos;
    pos.add("file", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << d << '\n';
        return kExitOk;
    }
    if (!vm.count("file")) throw std::invalid_argument("replay: expected a recorded command stream file (cimvp replay F)");
    const std::string path = vm["file"].as<std::string>();
    const CommandStream stream = read_command_stream(path);
    const ArchConfig cfg = vm.count("config") ? load_config(vm["config"].as<std::string>()) : recorded_config(stream, path);
    ReplayJobResult r;
    try {
        r = run_replay_job(stream, cfg);
    } catch (const ReplayMismatch& e) {
        std::fprintf(stderr, "cimvp replay: %s: %s\n", path.c_str(), e.what());
        return kExitMismatch;
    }
    std::printf("replayed %s (%s): %llu events: %llu writes (%llu bytes), %llu reads (%llu bytes checked), %llu "
                "interrupt waits\n",
                path.c_str(), r.info.value("command", std::string("?")).c_str(),
                static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.writes),
                static_cast<unsigned long long>(r.bytes_written), static_cast<unsigned long long>(r.reads),
                static_cast<unsigned long long>(r.bytes_checked), static_cast<unsigned long long>(r.irq_waits));
    std::printf("identical to the recording: %llu command lists, cycles %llu, simulated time %.3f us, ends at %.3f us\n",
                static_cast<unsigned long long>(r.replayed.lists), static_cast<unsigned long long>(r.replayed.cycles),
                r.replayed.sim_time_ns / 1000.0, static_cast<double>(r.end_ps) / 1e6);
    std::printf("wall time %.3f s\n", r.wall_s);
    if (vm.count("json")) {
        nlohmann::json j;
        j["match"] = true;
        j["events"] = r.events;
        j["writes"] = r.writes;
        j["reads"] = r.reads;
        j["irq_waits"] = r.irq_waits;
        j["bytes_written"] = r.bytes_written;
        j["bytes_checked"] = r.bytes_checked;
        j["command_lists"] = r.replayed.lists;
        j["cycles"] = r.replayed.cycles;
        j["sim_time_ns"] = r.replayed.sim_time_ns;
        j["end_ps"] = r.end_ps;
        j["wall_seconds"] = r.wall_s;
        j["energy_pj"] = energy_to_json(r.energy);
        j["recorded"] = r.info;
        j["config"] = config_to_json(cfg);
        write_json_file(vm["json"].as<std::string>(), j);
    }
    return kExitOk;
}

int cmd_info(const std::vector<std::string>& args) {
    po::options_description d("cimvp info [options]");
    add_common(d);
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    const AddressMap map(cfg);
    std::cout << config_to_json(cfg).dump(2) << '\n';
    std::printf("address map: dram 0x%llx+0x%llx, global buffer 0x%llx+0x%llx, controller 0x%llx, dma 0x%llx, "
                "ppu 0x%llx, %d tiles from 0x%llx stride 0x%llx\n",
                static_cast<unsigned long long>(kDramBase), static_cast<unsigned long long>(map.dram_size()),
                static_cast<unsigned long long>(kGlobalBufferBase),
                static_cast<unsigned long long>(map.global_buffer_size()),
                static_cast<unsigned long long>(kControllerBase), static_cast<unsigned long long>(kDmaBase),
                static_cast<unsigned long long>(kPostProcessBase),
                cfg.platform.tiles, static_cast<unsigned long long>(kTileBase),
                static_cast<unsigned long long>(map.tile().stride));
    return kExitOk;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    // Results go to stdout; SystemC's stop notice is noise there.
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
        std::string(argv[1]) == "help") {
        std::cout << kUsage;
        return argc < 2 ? kExitUsage : kExitOk;
    }
    const std::string cmd = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    try {
        if (cmd == "run") return cmd_run(args);
        if (cmd == "layer") return cmd_layer(args, false);
        if (cmd == "bench") return cmd_layer(args, true);
        if (cmd == "info") return cmd_info(args);
        if (cmd == "replay") return cmd_replay(args);
        if (cmd == "swis") return cmd_swis(args);
        if (cmd == "convert") return cmd_convert(args);
        std::fprintf(stderr, "cimvp: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
        return kExitUsage;
    } catch (const po::error& e) {
        std::fprintf(stderr, "cimvp %s: %s (see cimvp %s --help)\n", cmd.c_str(), e.what(), cmd.c_str());
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const ModelError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const DatasetError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const TraceError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const CommandStreamError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const MappingError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    }
    return kExitUsage;
}
