// `cimvp bench`: the layer of `cimvp layer` (larger by default) timed on the
// platform against the reference alone; with --layer-type, the per-type table.
#include <cstdio>
#include <string>

#include "sw/app/bench_job.h"
#include "sw/app/commands.h"
#include "sw/app/layer_command.h"
#include "sw/app/results_json.h"
#include "sw/formats/config_loader.h"
#include "sw/formats/idx_dataset.h"

namespace cimvp::cli {

namespace {

// `cimvp bench --layer-type T`: the per-type table (sw/app/bench_job.h).
int bench_by_layer_type(const po::variables_map& vm, const ArchConfig& cfg) {
    BenchJobSpec spec;
    const std::string t = vm["layer-type"].as<std::string>();
    if (t == "all") spec.types = bench_layer_types();
    else spec.types = {t};
    spec.images = vm["images"].as<int>();
    spec.model_images = vm["model-images"].as<int>();
    if (spec.model_images < 0) throw std::invalid_argument("--model-images: expected 0 (no model row) or a count");
    if (spec.model_images > 0) {
        spec.model_path = model_option(vm);
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

}  // namespace

int bench_command(const Args& args) {
    po::options_description d("cimvp bench [options]");
    add_common(d);
    add_layer_shape(d, 1024, 1024, 64, 5);
    add_waveform_options(d, false);
    d.add_options()("layer-type", po::value<std::string>(),
                    "instead of the one layer above: simulation speed per layer type, conv3x3, conv1x1, fc, pe "
                    "(SWIS PE array) or all, plus the default model on test images")(
        "images", po::value<int>()->default_value(32), "random images per layer type (--layer-type)")(
        "model-images", po::value<int>()->default_value(64),
        "test images of the model row (--layer-type; 0: no model row)")(
        "model", po::value<std::string>(), "model of the model row (--layer-type; default: the data directory's "
                                           "models/fmnist-bwma.cimvp)")(
        "data", po::value<std::string>()->default_value(kFashionMnistDir), "directory of the IDX data set");
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    const ArchConfig cfg = config_from(vm);
    if (vm.count("layer-type")) return bench_by_layer_type(vm, cfg);
    return run_layer(vm, cfg, [](const LayerJobResult& r, nlohmann::json& j) {
        const double ratio = r.platform_wall_s / r.reference_wall_s;
        const double ops = r.cell_bit_ops / r.reference_wall_s;
        std::printf("bench: platform/reference wall time %.2fx; reference %.3g bit-level cell ops/s\n", ratio, ops);
        j["bench"] = {{"platform_over_reference", ratio}, {"reference_cell_bit_ops_per_second", ops},
                      {"cell_bit_ops", r.cell_bit_ops}};
    });
}

}  // namespace cimvp::cli
