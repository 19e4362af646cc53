// Results files (docs/results.md): the stable keys of DESIGN.md section 7.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "hw/cost_model.h"
#include "hw/energy_report.h"
#include "hw/arch_config.h"
#include "sw/app/layer_job.h"
#include "sw/app/run_job.h"
#include "sw/app/trace_job.h"
#include "tlm/protocol_checker.h"

namespace cimvp {

nlohmann::json energy_to_json(const EnergyBreakdown& e);
// What the router's protocol checkers counted (docs/protocol-checks.md), and the key
// `protocol_checks` holding it when a run had them.
nlohmann::json protocol_counts_to_json(const tlmx::ProtocolCounts& c);
void add_protocol_counts(nlohmann::json& j, const std::optional<tlmx::ProtocolCounts>& c);
// Area by component in mm^2 (hw/cost_model.h), and every cost figure with its source ("technology" or
// "config"), keyed by config key.
nlohmann::json area_to_json(const AreaBreakdown& a);
nlohmann::json costs_to_json(const ArchConfig& cfg);
// The keys every run writes about cost (docs/results.md): technology, costs, area_mm2, tops, tops_per_w,
// tops_per_mm2, frames_per_s, frames_per_j.
void add_costs(nlohmann::json& j, const ArchConfig& cfg, double macs_per_image, double latency_per_image_ns,
               double energy_per_image_pj);
nlohmann::json layer_job_to_json(const LayerJobResult& r, const ArchConfig& cfg);
nlohmann::json run_job_to_json(const RunJobResult& r, const ArchConfig& cfg, const RunJobSpec& spec);
nlohmann::json trace_job_to_json(const TraceJobResult& r, const ArchConfig& cfg, const TraceJobSpec& spec);
// The per-layer report as CSV: kTraceCsvHeader, one row per layer, then a `total` row.
extern const char* const kTraceCsvHeader;
std::string trace_job_to_csv(const TraceJobResult& r);
// Writes text to `path`; throws std::runtime_error naming the path.
void write_text_file(const std::string& path, const std::string& text);
// Writes the object to `path` (pretty-printed); throws std::runtime_error naming the path.
void write_json_file(const std::string& path, const nlohmann::json& j);

}  // namespace cimvp
