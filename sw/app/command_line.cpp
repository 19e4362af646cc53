#include "sw/app/command_line.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <typeinfo>
#include <stdexcept>

#include <unistd.h>

#include "hw/cost_model.h"
#include "sw/app/data_dir.h"
#include "sw/formats/config_loader.h"

namespace cimvp::cli {

const char* const kDefaultModel = "models/fmnist-bwma.cimvp";

std::string file_option(const po::variables_map& vm, const char* name) {
    return resolve_data_path(vm[name].as<std::string>());
}

std::string model_option(const po::variables_map& vm) {
    return vm.count("model") ? file_option(vm, "model") : find_data_file(kDefaultModel);
}

void add_common(po::options_description& d) {
    d.add_options()("help,h", "show this help")(
        "config", po::value<std::string>(), "architecture config JSON (default: built-in defaults = configs/default.json)")(
        "seed", po::value<std::uint64_t>()->default_value(1), "seed of the random layer, inputs and device draws")(
        "json", po::value<std::string>(), "write the results object to this file");
}

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

void add_check_protocol_option(po::options_description& d) {
    d.add_options()("check-protocol", po::bool_switch(),
                    "check every transaction on every router link against the TLM-2.0 base protocol (IEEE 1666; "
                    "sets platform.check_protocol): the first violation stops the run, the report counts what was "
                    "checked (docs/protocol-checks.md)");
}

void print_protocol_counts(const std::optional<tlmx::ProtocolCounts>& c) {
    if (!c) return;
    std::printf("protocol checks on %llu router links: %llu transactions (%llu b_transport calls on the links), %llu "
                "DMI, %llu debug, %llu invalidation calls; %llu violations\n",
                static_cast<unsigned long long>(c->links), static_cast<unsigned long long>(c->transactions),
                static_cast<unsigned long long>(c->transports),
                static_cast<unsigned long long>(c->dmi_requests), static_cast<unsigned long long>(c->debug_transports),
                static_cast<unsigned long long>(c->invalidations), static_cast<unsigned long long>(c->violations));
}

namespace {

// An output file the run will write, checked before the run so that a bad path fails in a moment
// with its name, not after the whole work.
void check_output_path(const std::string& option, const std::string& path) {
    std::error_code ec;
    const bool existed = std::filesystem::exists(path, ec);
    if (existed && std::filesystem::is_directory(path, ec))
        throw std::invalid_argument("--" + option + ": expected a file to write, got the directory '" + path + "'");
    // Checked without creating the file: several MPI ranks parse the same command line, and a file one
    // rank made and removed could be left behind by another's check.
    const std::filesystem::path p(path);
    const std::string dir = p.has_parent_path() ? p.parent_path().string() : std::string(".");
    if (existed ? ::access(path.c_str(), W_OK) != 0 : ::access(dir.c_str(), W_OK | X_OK) != 0) {
        const int err = errno;
        throw std::invalid_argument("--" + option + ": cannot write '" + path + "': " + std::strerror(err));
    }
}

}  // namespace

bool parse_or_help(const po::options_description& d, const std::vector<std::string>& args, po::variables_map& vm) {
    po::store(po::command_line_parser(args).options(d).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << d << '\n';
        return true;
    }
    for (const char* o : {"json", "csv", "record", "out", "vcd"})
        if (vm.count(o) && vm[o].value().type() == typeid(std::string)) check_output_path(o, vm[o].as<std::string>());
    return false;
}

ArchConfig config_from(const po::variables_map& vm) {
    ArchConfig cfg = vm.count("config") ? load_config(file_option(vm, "config")) : ArchConfig();
    if (vm.count("adc-bits") && vm["adc-bits"].as<int>() > 0) cfg.adc.bits = vm["adc-bits"].as<int>();
    if (vm.count("tiles") && vm["tiles"].as<int>() > 0) cfg.platform.tiles = vm["tiles"].as<int>();
    if (vm.count("seed") && !vm["seed"].defaulted()) cfg.nonideal.seed = vm["seed"].as<std::uint64_t>();
    if (vm.count("check-protocol") && vm["check-protocol"].as<bool>()) cfg.platform.check_protocol = true;
    apply_technology(cfg);  // --adc-bits moves the derived ADC energy (docs/costs.md)
    validate(cfg);
    return cfg;
}

}  // namespace cimvp::cli
