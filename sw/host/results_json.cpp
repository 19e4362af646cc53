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

void write_json_file(const std::string& path, const nlohmann::json& j) {
    std::ofstream f(path);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << j.dump(2) << '\n';
    if (!f) throw std::runtime_error(path + ": write failed");
}

}  // namespace cimvp
