#include "sw/app/run_shares.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "sw/app/results_json.h"

namespace cimvp {

namespace {

using nlohmann::json;

json energy_json(const EnergyBreakdown& e) {
    return json::array({e.crossbar, e.adc, e.shift_add, e.pe, e.buffers, e.dma, e.dram, e.post_process});
}

EnergyBreakdown energy_from(const json& j) {
    EnergyBreakdown e;
    double* const fields[] = {&e.crossbar, &e.adc, &e.shift_add, &e.pe, &e.buffers, &e.dma, &e.dram, &e.post_process};
    if (j.size() != std::size(fields)) throw std::runtime_error("energy: expected 8 components");
    for (std::size_t i = 0; i < std::size(fields); ++i) *fields[i] = j.at(i).get<double>();
    return e;
}

json stats_json(const RunStats& s) {
    return {{"sim_ns", s.sim_ns}, {"cycles", s.cycles}, {"commands", s.commands}, {"energy", energy_json(s.energy)}};
}

RunStats stats_from(const json& j) {
    RunStats s;
    s.sim_ns = j.at("sim_ns").get<double>();
    s.cycles = j.at("cycles").get<std::uint64_t>();
    s.commands = j.at("commands").get<std::uint64_t>();
    s.energy = energy_from(j.at("energy"));
    return s;
}

json times_json(const TraceTimes& t) { return json::array({t.wall, t.cpu}); }
TraceTimes times_from(const json& j) { return {j.at(0).get<double>(), j.at(1).get<double>()}; }

json rtl_json(const RtlRunStats& x) {
    return {{"conversions", x.conversions},   {"adc_cycles", x.adc_cycles},
            {"model_conversions", x.model_conversions}, {"adc_mismatches", x.adc_mismatches},
            {"pe_outputs", x.pe_outputs},     {"pe_groups", x.pe_groups},
            {"pe_cycles", x.pe_cycles},       {"model_pe_cycles", x.model_pe_cycles},
            {"pe_mismatches", x.pe_mismatches}, {"pe_bypassed_jobs", x.pe_bypassed_jobs},
            {"adc_bits", x.adc_bits},         {"adc_seconds", x.adc_seconds},
            {"pe_seconds", x.pe_seconds}};
}

RtlRunStats rtl_from(const json& j) {
    RtlRunStats x;
    x.conversions = j.at("conversions").get<std::uint64_t>();
    x.adc_cycles = j.at("adc_cycles").get<std::uint64_t>();
    x.model_conversions = j.at("model_conversions").get<std::uint64_t>();
    x.adc_mismatches = j.at("adc_mismatches").get<std::uint64_t>();
    x.pe_outputs = j.at("pe_outputs").get<std::uint64_t>();
    x.pe_groups = j.at("pe_groups").get<std::uint64_t>();
    x.pe_cycles = j.at("pe_cycles").get<std::uint64_t>();
    x.model_pe_cycles = j.at("model_pe_cycles").get<std::uint64_t>();
    x.pe_mismatches = j.at("pe_mismatches").get<std::uint64_t>();
    x.pe_bypassed_jobs = j.at("pe_bypassed_jobs").get<std::uint64_t>();
    x.adc_bits = j.at("adc_bits").get<int>();
    x.adc_seconds = j.at("adc_seconds").get<double>();
    x.pe_seconds = j.at("pe_seconds").get<double>();
    return x;
}

// A share's protocol checks (the keys of the results file's protocol_checks), or null.
json protocol_json(const std::optional<tlmx::ProtocolCounts>& c) { return c ? protocol_counts_to_json(*c) : json(nullptr); }

std::optional<tlmx::ProtocolCounts> protocol_from(const json& j) {
    if (j.is_null()) return std::nullopt;
    tlmx::ProtocolCounts c;
    c.links = j.at("links").get<std::uint64_t>();
    c.transports = j.at("transports").get<std::uint64_t>();
    c.transactions = j.at("transactions").get<std::uint64_t>();
    c.dmi_requests = j.at("dmi_requests").get<std::uint64_t>();
    c.debug_transports = j.at("debug_transports").get<std::uint64_t>();
    c.invalidations = j.at("invalidations").get<std::uint64_t>();
    c.violations = j.at("violations").get<std::uint64_t>();
    return c;
}

json layer_json(const TraceLayerReport& l) {
    return {{"name", l.name},
            {"type", l.type},
            {"mapped_to", l.mapped_to},
            {"macs_per_image", l.macs_per_image},
            {"stats", stats_json(l.stats)},
            {"programming", stats_json(l.programming)},
            {"stages", l.stages},
            {"tiles_used", l.tiles_used},
            {"resident_tiles", l.resident_tiles},
            {"first_tile", l.first_tile},
            {"passes", l.passes},
            {"scratch_on_chip_stages", l.scratch_on_chip_stages},
            {"activations_on_chip_stages", l.activations_on_chip_stages},
            {"tile_utilization", l.tile_utilization},
            {"pe_utilization", l.pe_utilization},
            {"host_ops", l.host_ops},
            {"recalibrated_stages", l.recalibrated_stages},
            {"agree", l.agree},
            {"image_agrees", l.image_agrees},
            {"platform", times_json(l.platform)},
            {"reference", times_json(l.reference)},
            {"prepare", times_json(l.prepare)},
            {"host", times_json(l.host)}};
}

TraceLayerReport layer_from(const json& j) {
    TraceLayerReport l;
    l.name = j.at("name").get<std::string>();
    l.type = j.at("type").get<std::string>();
    l.mapped_to = j.at("mapped_to").get<std::string>();
    l.macs_per_image = j.at("macs_per_image").get<double>();
    l.stats = stats_from(j.at("stats"));
    l.programming = stats_from(j.at("programming"));
    l.stages = j.at("stages").get<int>();
    l.tiles_used = j.at("tiles_used").get<int>();
    l.resident_tiles = j.at("resident_tiles").get<int>();
    l.first_tile = j.at("first_tile").get<int>();
    l.passes = j.at("passes").get<int>();
    l.scratch_on_chip_stages = j.at("scratch_on_chip_stages").get<int>();
    l.activations_on_chip_stages = j.at("activations_on_chip_stages").get<int>();
    l.tile_utilization = j.at("tile_utilization").get<double>();
    l.pe_utilization = j.at("pe_utilization").get<double>();
    l.host_ops = j.at("host_ops").get<std::uint64_t>();
    l.recalibrated_stages = j.at("recalibrated_stages").get<int>();
    l.agree = j.at("agree").get<int>();
    l.image_agrees = j.at("image_agrees").get<std::vector<bool>>();
    l.platform = times_from(j.at("platform"));
    l.reference = times_from(j.at("reference"));
    l.prepare = times_from(j.at("prepare"));
    l.host = times_from(j.at("host"));
    return l;
}

std::string to_bytes(const json& j) {
    const std::vector<std::uint8_t> b = json::to_cbor(j);
    return std::string(b.begin(), b.end());
}

// The object of the bytes; `what` names the share in the message of a malformed one.
template <typename Decode>
auto from_bytes(const std::string& bytes, const char* what, Decode decode) {
    try {
        return decode(json::from_cbor(bytes));
    } catch (const json::exception& e) {
        throw std::runtime_error(std::string(what) + ": malformed share: " + e.what());
    }
}

}  // namespace

std::string encode_run_share(const RunShare& s) {
    json batches = json::array();
    for (const auto& b : s.batches) {
        json layers = json::array();
        for (const RunStats& l : b) layers.push_back(stats_json(l));
        batches.push_back(std::move(layers));
    }
    return to_bytes({{"first_image", s.first_image},
                     {"images", s.images},
                     {"correct", s.correct},
                     {"agree", s.agree},
                     {"wall_s", s.wall_s},
                     {"reference_s", s.reference_s},
                     {"logits", s.logits},
                     {"batches", std::move(batches)},
                     {"rtl", s.rtl ? rtl_json(*s.rtl) : json(nullptr)},
                     {"protocol", protocol_json(s.protocol)}});
}

RunShare decode_run_share(const std::string& bytes) {
    return from_bytes(bytes, "run", [](const json& j) {
        RunShare s;
        s.first_image = j.at("first_image").get<int>();
        s.images = j.at("images").get<int>();
        s.correct = j.at("correct").get<int>();
        s.agree = j.at("agree").get<int>();
        s.wall_s = j.at("wall_s").get<double>();
        s.reference_s = j.at("reference_s").get<double>();
        s.logits = j.at("logits").get<std::vector<std::int64_t>>();
        for (const json& b : j.at("batches")) {
            std::vector<RunStats> layers;
            for (const json& l : b) layers.push_back(stats_from(l));
            s.batches.push_back(std::move(layers));
        }
        if (!j.at("rtl").is_null()) s.rtl = rtl_from(j.at("rtl"));
        s.protocol = protocol_from(j.at("protocol"));
        return s;
    });
}

std::string encode_trace_share(const TraceShare& s) {
    json reports = json::array();
    for (const TraceLayerReport& l : s.reports) reports.push_back(layer_json(l));
    return to_bytes({{"layers", s.layers}, {"reports", std::move(reports)}, {"protocol", protocol_json(s.protocol)}});
}

TraceShare decode_trace_share(const std::string& bytes) {
    return from_bytes(bytes, "trace", [](const json& j) {
        TraceShare s;
        s.layers = j.at("layers").get<std::vector<std::size_t>>();
        for (const json& l : j.at("reports")) s.reports.push_back(layer_from(l));
        s.protocol = protocol_from(j.at("protocol"));
        return s;
    });
}

}  // namespace cimvp
