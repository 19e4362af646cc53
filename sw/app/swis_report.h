// The `cimvp swis` report (sw/app/swis_job.h) as text for a terminal and as the
// JSON document of --json (docs/results.md).
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "hw/arch_config.h"
#include "sw/app/swis_job.h"

namespace cimvp {

void print_swis_report(const SwisJobResult& r, std::FILE* out);
nlohmann::json swis_job_to_json(const SwisJobResult& r, const ArchConfig& cfg, const SwisJobSpec& spec);
// `--schedule-out`: the schedule file of SwisJobSpec::schedule_mode at the one target (format
// "cimvp-swis-schedule" version 1, docs/swis.md "Schedules in groups of M"), what SWIS-aware
// fine-tuning in groups of M trains on (swis_quant.read_schedule).
nlohmann::json swis_schedule_to_json(const SwisJobResult& r, const SwisJobSpec& spec);
// `--predictions-out`: the class each measured network predicts for each test image, as CSV
// (docs/swis.md "Per-image predictions"): columns image, label, int8, then MODE@N for every measured
// mode at every target (e.g. SS@2, C-DS@2.5), in the report's order. std::invalid_argument without
// accuracy.
std::string swis_predictions_csv(const SwisJobResult& r);

// `cimvp swis --pe-widths`: the SWIS PEs of 2..16 lanes against the fixed-point PE of the same width
// (hw/cost_model.h pe_width_figures, the paper's Figure 3) at 2, 4 and 6 shifts, as text and JSON.
inline constexpr int kPeWidths[] = {2, 4, 8, 16};
inline constexpr int kPeWidthShifts[] = {2, 4, 6};
void print_pe_widths(const ArchConfig& cfg, std::FILE* out);
nlohmann::json pe_widths_to_json(const ArchConfig& cfg);

}  // namespace cimvp
