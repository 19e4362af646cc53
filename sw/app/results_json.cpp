#include "sw/app/results_json.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "hw/cost_model.h"
#include "sw/formats/config_loader.h"

namespace cimvp {

nlohmann::json energy_to_json(const EnergyBreakdown& e) {
    return {{"total", e.total()}, {"crossbar", e.crossbar}, {"adc", e.adc}, {"shift_add", e.shift_add},
            {"pe", e.pe},         {"buffers", e.buffers},   {"dma", e.dma}, {"dram", e.dram},
            {"post_process", e.post_process}};
}

nlohmann::json protocol_counts_to_json(const tlmx::ProtocolCounts& c) {
    return {{"links", c.links},
            {"transports", c.transports},
            {"transactions", c.transactions},
            {"dmi_requests", c.dmi_requests},
            {"debug_transports", c.debug_transports},
            {"invalidations", c.invalidations},
            {"violations", c.violations}};
}

void add_protocol_counts(nlohmann::json& j, const std::optional<tlmx::ProtocolCounts>& c) {
    if (c) j["protocol_checks"] = protocol_counts_to_json(*c);
}

nlohmann::json area_to_json(const AreaBreakdown& a) {
    return {{"total", a.total()},
            {"arrays", a.arrays},
            {"adcs", a.adcs},
            {"shift_add", a.shift_add},
            {"input_buffers", a.input_buffers},
            {"output_buffers", a.output_buffers},
            {"global_buffer", a.global_buffer},
            {"pe_array", a.pe_array},
            {"post_process", a.post_process},
            {"dma_controller", a.dma_controller}};
}

nlohmann::json costs_to_json(const ArchConfig& cfg) {
    nlohmann::json costs = nlohmann::json::object();
    for (const CostFigure& f : derive_costs(effective_technology(cfg), cfg))
        costs[f.key] = {{"value", cost_field(cfg, f.key)}, {"source", cost_source(cfg, f.key)}};
    return costs;
}

void add_costs(nlohmann::json& j, const ArchConfig& cfg, double macs_per_image, double latency_per_image_ns,
               double energy_per_image_pj) {
    const AreaBreakdown area = chip_area(cfg);
    const TechnologyConfig tech = effective_technology(cfg);
    const Throughput t = throughput(macs_per_image, latency_per_image_ns, energy_per_image_pj, area.total());
    j["technology"] = {{"name", tech.name}, {"file", tech.file}, {"given", cfg.technology.given()}};
    j["costs"] = costs_to_json(cfg);
    j["area_mm2"] = area_to_json(area);
    j["tops"] = t.tops;
    j["tops_per_w"] = t.tops_per_w;
    j["tops_per_mm2"] = t.tops_per_mm2;
    j["frames_per_s"] = t.frames_per_s;
    j["frames_per_j"] = t.frames_per_j;
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
    nlohmann::json j = {{"agreement", r.agreement},
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
    add_costs(j, cfg, macs, r.sim_time_ns, r.energy.total());  // the whole job as one "frame"
    add_protocol_counts(j, r.protocol);
    return j;
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
    for (const auto& l : r.layers) {
        nlohmann::json stored = nullptr;
        if (l.swis)
            stored = {{"variant", l.swis_variant},
                      {"mean_shifts", l.swis->mean_n},
                      {"min_shifts", l.swis->min_n},
                      {"max_shifts", l.swis->max_n},
                      {"bits_per_group", l.swis->bits_per_group},
                      {"swis_bytes", l.swis->swis_bytes},
                      {"int8_bytes", l.swis->int8_bytes},
                      {"ratio", l.swis->ratio}};
        layers.push_back({{"name", l.name},
                          {"macs", l.macs_per_image * r.images},
                          {"macs_per_image", l.macs_per_image},
                          {"cycles", l.stats.cycles},
                          {"sim_time_ns", l.stats.sim_ns},
                          {"energy_pj", energy_to_json(l.stats.energy)},
                          {"energy_per_image_pj", per_image(l.stats.energy, r.images)},
                          {"mapped_to", l.mapped_to},
                          {"global_buffer", {{"scratch", l.scratch_on_chip}, {"images_per_step", l.images_per_step}}},
                          {"swis_storage", stored}});
    }
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
                        {"activations_on_chip", r.activations_on_chip},
                        {"activation_buffers", {{"on_chip", r.tensors.buffers_on_chip},
                                                {"total", r.tensors.buffers},
                                                {"bytes_on_chip", r.tensors.bytes_on_chip},
                                                {"bytes_dram", r.tensors.bytes_dram}}},
                        {"swis_shifts", spec.swis_shifts},
                        {"pe_form", spec.single_shift ? "single_shift" : "double_shift"},
                        {"recalibrated_layers", r.recalibrated},
                        {"swis_decomposed_layers", r.decomposed},
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
    double macs_per_image = 0;
    for (const auto& l : r.layers) macs_per_image += l.macs_per_image;
    add_costs(j, cfg, macs_per_image, r.total.sim_ns / images, r.total.energy.total() / images);
    add_protocol_counts(j, r.protocol);
    return j;
}

nlohmann::json trace_job_to_json(const TraceJobResult& r, const ArchConfig& cfg, const TraceJobSpec& spec) {
    const double images = std::max(1, r.images);
    nlohmann::json layers = nlohmann::json::array();
    int tiles_used = 0;
    const double tile_mm2 = chip_area(cfg).tile();  // a tile's arrays, ADCs, shift-add and buffers
    for (const auto& l : r.layers) {
        tiles_used = std::max(tiles_used, l.tiles_used);
        layers.push_back({{"name", l.name},
                          {"type", l.type},
                          {"mapped_to", l.mapped_to},
                          {"macs", l.macs_per_image * r.images},
                          {"macs_per_image", l.macs_per_image},
                          {"cycles", l.stats.cycles},
                          {"sim_time_ns", l.stats.sim_ns},
                          {"latency_ns", l.stats.sim_ns / images},
                          {"energy_pj", energy_to_json(l.stats.energy)},
                          {"energy_per_image_pj", per_image(l.stats.energy, r.images)},
                          {"programming", {{"cycles", l.programming.cycles},
                                           {"sim_time_ns", l.programming.sim_ns},
                                           {"energy_pj", energy_to_json(l.programming.energy)}}},
                          {"stages", l.stages},
                          {"tiles_used", l.tiles_used},
                          {"area_mm2", l.tiles_used * tile_mm2},
                          {"resident_tiles", l.resident_tiles},
                          {"first_tile", r.resident && l.first_tile >= 0 ? nlohmann::json(l.first_tile)
                                                                        : nlohmann::json(nullptr)},
                          {"passes", l.passes},
                          {"global_buffer", {{"scratch_stages", l.scratch_on_chip_stages},
                                             {"activation_stages", l.activations_on_chip_stages}}},
                          {"tile_utilization", l.tile_utilization},
                          {"pe_utilization", l.pe_utilization},
                          {"host_ops", l.host_ops},
                          {"recalibrated_stages", l.recalibrated_stages},
                          {"agreement", spec.check_reference && l.mapped_to != "host"
                                            ? nlohmann::json(static_cast<double>(l.agree) / images)
                                            : nlohmann::json(nullptr)},
                          {"wall_seconds", l.platform.wall + l.host.wall},
                          {"cpu_seconds", l.platform.cpu + l.host.cpu},
                          {"reference_wall_seconds", l.reference.wall},
                          {"reference_cpu_seconds", l.reference.cpu},
                          {"prepare_wall_seconds", l.prepare.wall},
                          {"prepare_cpu_seconds", l.prepare.cpu}});
    }
    nlohmann::json j = {{"trace", r.trace_path},
            {"network", r.network},
            {"dataset", r.dataset},
            {"mapping", trace_mapping_name(spec.mapping)},
            {"images", r.images},
            {"accuracy", nullptr},
            {"agreement", spec.check_reference ? nlohmann::json(r.agreement) : nlohmann::json(nullptr)},
            {"macs", static_cast<double>(r.macs_per_image) * r.images},
            {"macs_per_image", r.macs_per_image},
            {"wall_seconds", r.platform.wall},
            {"cpu_seconds", r.platform.cpu},
            {"images_per_second", r.images / std::max(1e-9, r.platform.wall)},
            {"reference_wall_seconds", spec.check_reference ? nlohmann::json(r.reference.wall) : nlohmann::json(nullptr)},
            {"reference_cpu_seconds", spec.check_reference ? nlohmann::json(r.reference.cpu) : nlohmann::json(nullptr)},
            {"platform_over_reference", spec.check_reference && r.reference.cpu > 0
                                            ? nlohmann::json(r.platform.cpu / r.reference.cpu)
                                            : nlohmann::json(nullptr)},
            {"prepare_wall_seconds", r.prepare.wall},
            {"prepare_cpu_seconds", r.prepare.cpu},
            {"host_wall_seconds", r.host.wall},
            {"host_cpu_seconds", r.host.cpu},
            {"cycles", r.total.cycles},
            {"sim_time_ns", r.total.sim_ns},
            {"latency_per_image_ns", r.total.sim_ns / images},
            {"energy_pj", energy_to_json(r.total.energy)},
            {"energy_per_image_pj", per_image(r.total.energy, r.images)},
            {"programming", {{"cycles", r.programming.cycles},
                             {"sim_time_ns", r.programming.sim_ns},
                             {"energy_pj", energy_to_json(r.programming.energy)}}},
            {"tiles_used", tiles_used},
            {"resident", r.resident},
            {"resident_tiles", r.resident_tiles},
            {"layers", layers},
            {"config", config_to_json(cfg)}};
    add_costs(j, cfg, static_cast<double>(r.macs_per_image), r.total.sim_ns / images,
              r.total.energy.total() / images);
    add_protocol_counts(j, r.protocol);
    return j;
}

const char* const kTraceCsvHeader =
    "layer,type,mapped_to,macs,cycles,latency_ns,tiles_used,passes,tile_utilization,pe_utilization,"
    "energy_pj,crossbar_pj,adc_pj,shift_add_pj,pe_pj,post_process_pj,buffers_pj,dma_pj,dram_pj,host_ops,"
    "wall_seconds,reference_wall_seconds";

std::string trace_job_to_csv(const TraceJobResult& r) {
    std::ostringstream os;
    os << kTraceCsvHeader << '\n';
    const double images = std::max(1, r.images);
    const auto row = [&](const std::string& name, const std::string& type, const std::string& mapped, double macs,
                         const RunStats& s, int tiles, int passes, double tu, double pu, std::uint64_t host_ops,
                         double wall, double ref) {
        const EnergyBreakdown& e = s.energy;
        char buf[1024];
        std::snprintf(buf, sizeof buf,
                      "%s,%s,%s,%.0f,%llu,%.3f,%d,%d,%.6f,%.6f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%llu,%.6f,%.6f\n",
                      name.c_str(), type.c_str(), mapped.c_str(), macs, static_cast<unsigned long long>(s.cycles),
                      s.sim_ns / images, tiles, passes, tu, pu, e.total(), e.crossbar, e.adc, e.shift_add, e.pe,
                      e.post_process, e.buffers, e.dma, e.dram, static_cast<unsigned long long>(host_ops), wall, ref);
        os << buf;
    };
    int tiles = 0, passes = 0;
    std::uint64_t host_ops = 0;
    for (const auto& l : r.layers) {
        row(l.name, l.type, l.mapped_to, l.macs_per_image * r.images, l.stats, l.tiles_used, l.passes,
            l.tile_utilization, l.pe_utilization, l.host_ops, l.platform.wall + l.host.wall, l.reference.wall);
        tiles = std::max(tiles, l.tiles_used);
        passes = std::max(passes, l.passes);
        host_ops += l.host_ops;
    }
    row("total", "", "", static_cast<double>(r.macs_per_image) * r.images, r.total, tiles, passes, 0, 0, host_ops,
        r.platform.wall + r.host.wall, r.reference.wall);
    return os.str();
}

void write_text_file(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << text;
    if (!f) throw std::runtime_error(path + ": write failed");
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
    std::ofstream f(path);
    if (!f) throw std::runtime_error(path + ": cannot open for writing");
    f << j.dump(2) << '\n';
    if (!f) throw std::runtime_error(path + ": write failed");
}

}  // namespace cimvp
