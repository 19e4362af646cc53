#include "sw/host/results_json.h"

#include <fstream>
#include <stdexcept>

#include "sw/config_loader.h"

namespace cimvp {

nlohmann::json energy_to_json(const EnergyBreakdown& e) {
    return {{"total", e.total()}, {"crossbar", e.crossbar}, {"adc", e.adc}, {"shift_add", e.shift_add},
            {"pe", e.pe},         {"buffers", e.buffers},   {"dma", e.dma}, {"dram", e.dram},
            {"post_process", e.post_process}};
}

nlohmann::json layer_job_to_json(const LayerJobResult& r, const ArchConfig& cfg) {
    const double macs = static_cast<double>(r.layer.K) * r.layer.M * r.vectors;
    nlohmann::json layer = {{"name", r.layer.name},
                            {"macs", macs},
                            {"cycles", r.cycles},
                            {"energy_pj", energy_to_json(r.energy)},
                            {"mapped_to", "crossbar"},
                            {"K", r.layer.K},
                            {"M", r.layer.M},
                            {"a_bits", r.layer.a_bits},
                            {"w_bits", r.layer.w_bits},
                            {"binary", r.layer.binary},
                            {"row_tiles", r.map.row_tiles},
                            {"col_tiles", r.map.col_tiles},
                            {"passes", r.map.passes},
                            {"tiles_used", r.map.tiles_used()}};
    return {{"agreement", r.agreement},
            {"exact_agreement", r.exact_agreement},
            {"relative_error", r.relative_error},
            {"adc_lossless", r.adc_lossless},
            {"vectors", r.vectors},
            {"outputs", r.platform.size()},
            {"wall_seconds", r.platform_wall_s},
            {"reference_wall_seconds", r.reference_wall_s},
            {"cycles", r.cycles},
            {"sim_time_ns", r.sim_time_ns},
            {"energy_pj", energy_to_json(r.energy)},
            {"commands", r.commands},
            {"tile_runs", r.tile_runs},
            {"layers", nlohmann::json::array({layer})},
            {"config", config_to_json(cfg)}};
}

namespace {
nlohmann::json per_image(const EnergyBreakdown& e, int images) {
    nlohmann::json j = energy_to_json(e);
    for (auto& [k, v] : j.items()) v = v.get<double>() / std::max(1, images);
    return j;
}
}  // namespace

nlohmann::json run_job_to_json(const RunJobResult& r, const ArchConfig& cfg, const RunJobSpec& spec) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : r.layers)
        layers.push_back({{"name", l.name},
                          {"macs", l.macs_per_image * r.images},
                          {"macs_per_image", l.macs_per_image},
                          {"cycles", l.stats.cycles},
                          {"sim_time_ns", l.stats.sim_ns},
                          {"energy_pj", energy_to_json(l.stats.energy)},
                          {"energy_per_image_pj", per_image(l.stats.energy, r.images)},
                          {"mapped_to", l.mapped_to}});
    const double images = std::max(1, r.images);
    nlohmann::json j = {{"model", spec.model_path},
                        {"model_name", r.model_name},
                        {"scheme", r.scheme},
                        {"images", r.images},
                        {"accuracy", r.accuracy},
                        {"agreement", spec.check_reference ? nlohmann::json(r.agreement) : nlohmann::json(nullptr)},
                        {"wall_seconds", r.wall_s},
                        {"images_per_second", r.images / std::max(1e-9, r.wall_s)},
                        {"reference_wall_seconds", r.reference_wall_s},
                        {"reference_images_per_second",
                         spec.check_reference ? nlohmann::json(r.images / std::max(1e-9, r.reference_wall_s))
                                              : nlohmann::json(nullptr)},
                        {"cycles", r.total.cycles},
                        {"sim_time_ns", r.total.sim_ns},
                        {"latency_per_image_ns", r.total.sim_ns / images},
                        {"energy_pj", energy_to_json(r.total.energy)},
                        {"energy_per_image_pj", per_image(r.total.energy, r.images)},
                        {"programming", {{"resident", r.resident},
                                         {"cycles", r.programming.cycles},
                                         {"sim_time_ns", r.programming.sim_ns},
                                         {"energy_pj", energy_to_json(r.programming.energy)}}},
                        {"batch", spec.batch},
                        {"swis_shifts", spec.swis_shifts},
                        {"pe_form", spec.single_shift ? "single_shift" : "double_shift"},
                        {"recalibrated_layers", r.recalibrated},
                        {"logits_fnv1a64", r.logits_digest},
                        {"fake_quant_match", r.fake_quant_match ? nlohmann::json(*r.fake_quant_match) : nlohmann::json(nullptr)},
                        {"layers", layers},
                        {"config", config_to_json(cfg)}};
    j["rtl"] = r.rtl.has_value();
    if (r.rtl) {
        const RtlRunStats& x = *r.rtl;
        j["rtl_conversions"] = x.conversions;
        j["rtl_adc_cycles"] = x.adc_cycles;
        j["rtl_pe_outputs"] = x.pe_outputs;
        j["rtl_pe_groups"] = x.pe_groups;
        j["rtl_pe_cycles"] = x.pe_cycles;
        j["rtl_mismatches"] = x.adc_mismatches + x.pe_mismatches;
        j["rtl_cycles_match"] = x.cycles_match();
        j["rtl_bypassed_pe_jobs"] = x.pe_bypassed_jobs;
        j["rtl_adc_seconds"] = x.adc_seconds;
        j["rtl_pe_seconds"] = x.pe_seconds;
    }
    return j;
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
    std::ofstream f(path);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << j.dump(2) << '\n';
    if (!f) throw std::runtime_error(path + ": write failed");
}

}  // namespace cimvp
