// `cimvp swis`: the SWIS report of a layer-shape trace or of a model.
#include <cstdio>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "sw/app/results_json.h"
#include "sw/app/swis_job.h"
#include "sw/app/swis_report.h"
#include "sw/formats/idx_dataset.h"

namespace cimvp::cli {

namespace {
// The mode of that name among `among`; none for any other name.
template <class Modes>
std::optional<swis::Mode> mode_named(const std::string& name, const Modes& among) {
    for (swis::Mode m : among)
        if (name == swis::mode_name(m)) return m;
    return std::nullopt;
}
}  // namespace

int swis_command(const Args& args) {
    using swis::Mode;
    po::options_description d(
        "cimvp swis --trace F | --model F [options]: SWIS (SS, DS, C-SS, C-DS) against the bit-serial (Act, Wgt), "
        "BitFusion and 8-bit fixed-point (FXP) baselines on the PE array: cycles, frames/s, energy, frames/J per "
        "layer and in total, beside the SWIS paper's Table 4. FXP and BitFusion run at equal area by default: on the "
        "largest array of their PEs that fits the area of the configured array of single-shift PEs (--same-pes: on "
        "the configured array); docs/swis.md");
    add_common(d);
    d.add_options()("trace", po::value<std::string>(), "layer-shape trace (traces/*.trace); weights from its data record")(
        "model", po::value<std::string>(), "model file (format v1): its 8-bit layers' weights, and accuracy")(
        "data", po::value<std::string>()->default_value(kFashionMnistDir), "directory of the IDX data set (--model)")(
        "limit", po::value<int>()->default_value(10000), "test images for the accuracy (--model)")(
        "targets", po::value<std::string>()->default_value("2,2.5,3,4"), "mean shift counts N to schedule for")(
        "alpha", po::value<double>()->default_value(1.0), "MSE++ weight of the group's summed error")(
        "group-size", po::value<int>()->default_value(swis::kGroupSize),
        "M, the weights sharing a group's shifts, 1..16, and the lanes of the array's PEs; another M than the "
        "SystemC array's 4 takes the cost model's PEs of M lanes (gates, area, energy per cycle)")(
        "no-accuracy", po::bool_switch(), "skip the accuracy runs (--model)")(
        "accuracy-modes", po::value<std::string>()->default_value("SS,DS,C-SS,C-DS,Wgt,Act"),
        "the modes whose accuracy to measure (--model), of SS, DS, C-SS, C-DS, Wgt, Act: fewer runs of the "
        "test images (the int8 accuracy is always measured)")(
        "schedule-out", po::value<std::string>(),
        "write the per-filter shift counts of --schedule-mode at the one --targets N in groups of --group-size "
        "M, as this job decomposes that mode (--model; a JSON schedule file, what SWIS-aware fine-tuning in "
        "groups of M trains on: docs/swis.md)")(
        "schedule-mode", po::value<std::string>()->default_value("SS"), "the mode of --schedule-out: SS, DS, C-SS "
        "or C-DS")(
        "predictions-out", po::value<std::string>(),
        "write the class every measured network predicts for every test image as CSV (--model with its data set; "
        "columns image, label, int8, MODE@N): two models compared image by image (docs/swis.md)")(
        "unscaled", po::bool_switch(), "schedule on the integer weight error (--model: ignore the layers' multipliers)")(
        "same-pes", po::bool_switch(),
        "every mode on pe_array.rows x cols PEs; default: FXP and BitFusion, whose PEs are larger, on the largest "
        "array that fits the area of the configured array of single-shift PEs (iso-area, docs/swis.md)")(
        "pe-widths", po::bool_switch(),
        "only the SWIS PEs of 2, 4, 8 and 16 lanes against the fixed-point PE of the same width (area, energy per MAC "
        "and throughput per area at 2, 4, 6 shifts; the paper's Figure 3); no --trace or --model")(
        "quiet", po::bool_switch(), "no progress on stderr");
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    if (vm["pe-widths"].as<bool>()) {
        if (vm.count("trace") || vm.count("model") || vm.count("schedule-out") || vm.count("predictions-out"))
            throw std::invalid_argument("swis: --pe-widths: expected no --trace, --model, --schedule-out or "
                                        "--predictions-out (it compares PEs, not a network)");
        print_pe_widths(cfg, stdout);
        if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), pe_widths_to_json(cfg));
        return kExitOk;
    }
    SwisJobSpec spec;
    if (vm.count("trace")) spec.trace_path = file_option(vm, "trace");
    if (vm.count("model")) spec.model_path = file_option(vm, "model");
    if (spec.trace_path.empty() == spec.model_path.empty())
        throw std::invalid_argument("swis: expected exactly one of --trace F and --model F");
    spec.data_dir = vm["data"].as<std::string>();
    spec.limit = vm["limit"].as<int>();
    if (spec.limit < 1) throw std::invalid_argument("--limit: expected a positive count");
    spec.alpha = vm["alpha"].as<double>();
    spec.group_size = vm["group-size"].as<int>();
    if (!(spec.alpha >= 0)) throw std::invalid_argument("--alpha: expected a number >= 0");
    spec.accuracy = !vm["no-accuracy"].as<bool>();
    spec.accuracy_modes.fill(false);
    {
        const std::string list = vm["accuracy-modes"].as<std::string>();
        std::stringstream ms(list);
        int any = 0;
        for (std::string item; std::getline(ms, item, ',');) {
            const std::optional<Mode> m =
                mode_named(item, kAccuracyModes);
            if (!m)
                throw std::invalid_argument("--accuracy-modes: expected modes of SS, DS, C-SS, C-DS, Wgt, Act "
                                            "separated by commas, got '" + list + "'");
            spec.accuracy_modes[static_cast<std::size_t>(swis::mode_index(*m))] = true;
            ++any;
        }
        if (any == 0)
            throw std::invalid_argument("--accuracy-modes: expected at least one of SS, DS, C-SS, C-DS, Wgt, Act "
                                        "(--no-accuracy skips them all)");
    }
    spec.scale_by_mult = !vm["unscaled"].as<bool>();
    spec.progress = !vm["quiet"].as<bool>();
    spec.iso_area = !vm["same-pes"].as<bool>();
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
    if (vm.count("schedule-out")) {
        const std::string name = vm["schedule-mode"].as<std::string>();
        constexpr Mode kScheduled[] = {Mode::kSS, Mode::kDS, Mode::kCSS, Mode::kCDS};
        spec.schedule_mode = mode_named(name, kScheduled);
        if (!spec.schedule_mode)
            throw std::invalid_argument("--schedule-mode: expected SS, DS, C-SS or C-DS, got '" + name + "'");
    } else if (!vm["schedule-mode"].defaulted()) {
        throw std::invalid_argument("--schedule-mode: expected with --schedule-out F");
    }
    if (vm.count("predictions-out") && (spec.model_path.empty() || !spec.accuracy))
        throw std::invalid_argument("--predictions-out: expected --model F and its accuracy runs (no --no-accuracy)");
    const SwisJobResult r = run_swis_job(cfg, spec);
    print_swis_report(r, stdout);
    // before any file: without accuracy runs (no data set) the predictions are refused and nothing is written
    const std::string predictions = vm.count("predictions-out") ? swis_predictions_csv(r) : std::string();
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), swis_job_to_json(r, cfg, spec));
    if (vm.count("schedule-out"))
        write_json_file(vm["schedule-out"].as<std::string>(), swis_schedule_to_json(r, spec));
    if (vm.count("predictions-out")) write_text_file(vm["predictions-out"].as<std::string>(), predictions);
    return kExitOk;
}

}  // namespace cimvp::cli
