// `cimvp size --trace F`: the weights-resident chip a workload trace needs, run on it, with the
// layer-by-layer and the pipelined latency (docs/trace-format.md, "Sizing a weights-resident chip").
#include <cstdio>
#include <stdexcept>
#include <string>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "sw/app/results_json.h"
#include "sw/app/size_job.h"

namespace cimvp::cli {

int size_command(const Args& args) {
    po::options_description d(
        "cimvp size --trace F [options]: sizes a chip that keeps every crossbar layer's weights on its own tiles "
        "(platform.tiles = the tiles the layers need with the config's arrays), runs the trace on it with "
        "--resident and reports the tiles, each layer's latency per image (its pipeline stage), the latency layer "
        "by layer and pipelined, frames/s, and the one-time programming");
    add_common(d);
    d.add_options()("trace", po::value<std::string>(), "network trace to size the chip for (traces/*.trace)")(
        "map", po::value<std::string>()->default_value("trace"),
        "where layers with weights run: trace (each layer's map=), crossbar (the CIM tiles) or pe (the SWIS PE array)")(
        "images", po::value<int>()->default_value(1),
        "images (sets of drawn inputs) run on the sized chip (the ImageNet traces take seconds to minutes each)")(
        "layers", po::value<int>()->default_value(0), "size for the first N layers of the trace only (0: all)")(
        "no-check", po::bool_switch(), "skip the comparison of every layer's outputs with the C++ reference")(
        "quiet", po::bool_switch(), "no progress on stderr");
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    if (!vm.count("trace")) throw std::invalid_argument("size: expected --trace F, the network trace to size for");
    const ArchConfig cfg = config_from(vm);
    SizeJobSpec spec;
    spec.trace_path = file_option(vm, "trace");
    spec.mapping = parse_trace_mapping(vm["map"].as<std::string>());
    spec.images = vm["images"].as<int>();
    spec.layers = vm["layers"].as<int>();
    spec.check_reference = !vm["no-check"].as<bool>();
    spec.progress = !vm["quiet"].as<bool>();
    const SizeJobResult r = run_size_job(cfg, spec);
    print_size_report(r, spec, stdout);
    print_protocol_counts(r.run.protocol);
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), size_job_to_json(r, spec));
    if (spec.check_reference && r.run.agree != r.run.images) {
        std::fprintf(stderr, "cimvp: the platform disagrees with the reference\n");
        return kExitMismatch;
    }
    return kExitOk;
}

}  // namespace cimvp::cli
