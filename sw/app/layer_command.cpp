#include "sw/app/layer_command.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sw/app/commands.h"
#include "sw/app/results_json.h"

namespace cimvp::cli {

namespace {

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
    print_protocol_counts(r.protocol);
}

}  // namespace

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


int run_layer(const po::variables_map& vm, const ArchConfig& cfg,
              const std::function<void(const LayerJobResult&, nlohmann::json&)>& extend) {
    LayerJobSpec spec = spec_from(vm);
    spec.waveforms = waveform_options_from(vm, cfg);
    if (vm.count("record")) spec.record_path = vm["record"].as<std::string>();
    const LayerJobResult r = run_layer_job(cfg, spec);
    print_layer(r);
    nlohmann::json j = layer_job_to_json(r, cfg);
    if (extend) extend(r, j);
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), j);
    if (r.agreement != 1.0 || (r.adc_lossless && r.exact_agreement != 1.0)) {
        std::fprintf(stderr, "cimvp: the platform disagrees with the reference\n");
        return kExitMismatch;
    }
    return kExitOk;
}

int layer_command(const Args& args) {
    po::options_description d("cimvp layer [options]");
    add_common(d);
    add_layer_shape(d, 128, 128, 16, 0);
    add_waveform_options(d, false);
    add_check_protocol_option(d);
    d.add_options()("record", po::value<std::string>(),
                    "write the recorded command stream (docs/record-format.md) to this file");
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    return run_layer(vm, cfg);
}

}  // namespace cimvp::cli
