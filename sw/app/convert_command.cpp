// `cimvp convert`: a model with its PE-array layers stored as SWIS groups (format v2).
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "sw/app/convert_job.h"
#include "sw/app/results_json.h"

namespace cimvp::cli {

int convert_command(const Args& args) {
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
    spec.model_path = file_option(vm, "model");
    if (vm.count("out")) spec.out_path = vm["out"].as<std::string>();
    spec.pe_layers = vm["pe-layers"].as<std::string>();
    spec.options.shifts = vm["shifts"].as<double>();
    const std::string variant = vm["variant"].as<std::string>();
    const std::optional<swis::Variant> v = swis::parse_variant(variant);
    if (!v) throw std::invalid_argument("--variant: expected swis or swis-c, got '" + variant + "'");
    spec.options.variant = *v;
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

}  // namespace cimvp::cli
