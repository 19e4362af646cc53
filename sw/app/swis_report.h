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

}  // namespace cimvp
