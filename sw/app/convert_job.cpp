#include "sw/app/convert_job.h"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include "sw/formats/config_loader.h"
#include "sw/app/run_job.h"
#include "sw/compiler/network_compiler.h"
#include "sw/formats/model_file.h"

namespace cimvp {

ConvertJobResult run_convert_job(const ArchConfig& cfg, ConvertJobSpec spec) {
    if (spec.out_path.empty()) throw std::invalid_argument("convert: expected --out F, the model file to write");
    const NetworkModel model = load_model(spec.model_path);
    for (std::size_t l = 0; l < model.layers.size(); ++l)
        if (model.layers[l].swis)
            throw ModelError(spec.model_path + ": " + model.layer_name(l) +
                             ": already stored as SWIS groups (convert a format v1 model)");
    RunJobSpec run;
    run.pe_layers = spec.pe_layers;
    const NetworkOptions o = network_options(model, run);
    std::vector<bool> store(model.layers.size(), false);
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        store[l] = o.pe(l);
        const NetworkLayer& L = model.layers[l];
        if (store[l] && (L.is_tensor() || L.grouped())) check_pe_layer(model, l);  // refused, naming the node
    }
    bool any = false;
    for (bool b : store) any = any || b;
    if (!any)
        throw std::invalid_argument("--pe-layers: " + spec.pe_layers + " puts no layer of " + spec.model_path +
                                    " (" + model.scheme + ") on the PE array; expected all or layer indices");
    spec.options.array_cols = cfg.pe_array.cols;
    ConvertJobResult r;
    r.model_name = model.name;
    r.graph = !model.is_chain();
    r.scheme = model.scheme;
    r.scheduled = spec.options.schedule || spec.options.double_shift ||
                  std::floor(spec.options.shifts) != spec.options.shifts;
    const NetworkModel stored = store_swis_layers(model, store, spec.options, &r.layers);
    const auto bytes = serialize_model(stored);
    // What is written must load back as it is (the loader's checks are the format's).
    parse_model(bytes, spec.out_path);
    std::ofstream f(spec.out_path, std::ios::binary);
    if (!f) throw std::runtime_error(spec.out_path + ": cannot open for writing");
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error(spec.out_path + ": write failed");
    r.out_file_bytes = bytes.size();
    r.in_file_bytes = serialize_model(model).size();
    for (const auto& l : r.layers) {
        r.int8_bytes += l.int8_bytes;
        r.swis_bytes += l.swis_bytes;
        r.swis_bits += l.swis_bits;
        r.weights += l.weights;
    }
    return r;
}

void print_convert_report(const ConvertJobResult& r, const ConvertJobSpec& spec, std::FILE* out) {
    const auto& o = spec.options;
    const char* how = !r.scheduled ? "(uniform)" : o.double_shift ? "(scheduled mean, double-shift: even N)"
                                                                   : "(scheduled mean)";
    std::fprintf(out, "model %s (%s): %zu layer(s) stored as %s groups, N = %g %s\n", r.model_name.c_str(),
                 r.scheme.c_str(), r.layers.size(), o.variant == swis::Variant::kSwisC ? "SWIS-C" : "SWIS", o.shifts,
                 how);
    std::fprintf(out, "  %-14s %9s %8s %6s %5s %12s %12s %10s %10s %7s %9s\n", "layer", "weights", "groups", "mean N",
                 "N", "bits/group", "int8 b/grp", "SWIS B", "int8 B", "ratio", "MSE");
    for (const auto& l : r.layers)
        std::fprintf(out, "  %-14s %9lld %8lld %6.2f %2d..%d %12.2f %12.2f %10lld %10lld %6.2fx %9.3f\n",
                     l.name.c_str(),
                     static_cast<long long>(l.weights), static_cast<long long>(l.groups), l.mean_n, l.min_n, l.max_n,
                     l.bits_per_group, l.int8_bits_per_group, static_cast<long long>(l.swis_bytes),
                     static_cast<long long>(l.int8_bytes), l.ratio, l.mse);
    std::fprintf(out, "  total: %lld weights, SWIS %lld bytes against int8 %lld bytes (%.2fx smaller)\n",
                 static_cast<long long>(r.weights), static_cast<long long>(r.swis_bytes),
                 static_cast<long long>(r.int8_bytes),
                 r.swis_bits ? 8.0 * static_cast<double>(r.weights) / static_cast<double>(r.swis_bits) : 0.0);
    if (r.graph)
        std::fprintf(out, "wrote %s: %zu bytes (format v3; without the groups it is %zu bytes: the file keeps the int8 "
                     "weights and adds the groups)\n",
                     spec.out_path.c_str(), r.out_file_bytes, r.in_file_bytes);
    else
        std::fprintf(out, "wrote %s: %zu bytes (format v2; the format v1 model is %zu bytes: v2 keeps the int8 weights "
                     "and adds the groups)\n",
                     spec.out_path.c_str(), r.out_file_bytes, r.in_file_bytes);
}

nlohmann::json convert_job_to_json(const ConvertJobResult& r, const ConvertJobSpec& spec, const ArchConfig& cfg) {
    const auto& o = spec.options;
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : r.layers)
        layers.push_back({{"index", l.layer},
                          {"name", l.name},
                          {"weights", l.weights},
                          {"groups", l.groups},
                          {"mean_shifts", l.mean_n},
                          {"min_shifts", l.min_n},
                          {"max_shifts", l.max_n},
                          {"bits_per_group", l.bits_per_group},
                          {"int8_bits_per_group", l.int8_bits_per_group},
                          {"swis_bits", l.swis_bits},
                          {"swis_bytes", l.swis_bytes},
                          {"int8_bytes", l.int8_bytes},
                          {"ratio", l.ratio},
                          {"weight_mse", l.mse}});
    return {{"source", spec.model_path},
            {"output", spec.out_path},
            {"model", r.model_name},
            {"scheme", r.scheme},
            {"variant", swis::variant_name(o.variant)},
            {"shifts", o.shifts},
            {"scheduled", r.scheduled},
            {"double_shift", o.double_shift},
            {"alpha", o.alpha},
            {"schedule_cols", cfg.pe_array.cols},
            {"layers", layers},
            {"total",
             {{"weights", r.weights},
              {"swis_bits", r.swis_bits},
              {"swis_bytes", r.swis_bytes},
              {"int8_bytes", r.int8_bytes},
              {"ratio", r.swis_bits ? 8.0 * static_cast<double>(r.weights) / static_cast<double>(r.swis_bits) : 0.0}}},
            {"file_bytes", {{"input_v1", r.in_file_bytes}, {"output_v2", r.out_file_bytes}}},
            {"config", config_to_json(cfg)}};
}

}  // namespace cimvp
