// `cimvp size --trace F`: a weights-resident chip for a workload trace
// (docs/trace-format.md, "Sizing a weights-resident chip"). The tiles every
// crossbar layer holds with the config's arrays (plan_resident_tiles), the
// config with platform.tiles set to their sum, the trace run resident on that
// chip (trace_job.h, spec.resident), and from the layers' per-image latencies
// the layer-by-layer and the pipelined latency and frames/s. Elaborates
// SystemC: call run_size_job once per process.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/arch_config.h"
#include "sw/app/trace_job.h"
#include "sw/formats/trace_file.h"
#include "sw/workloads/trace_network.h"

namespace cimvp {

struct SizeJobSpec {
    std::string trace_path;
    TraceMapping mapping = TraceMapping::kTrace;
    int images = 1;   // drawn input sets run through the resident chip
    int layers = 0;   // the first N layers of the trace (0: all)
    bool check_reference = true;
    bool progress = true;
};

// One config key sizing set, and its value before.
struct ConfigChange {
    std::string key;
    std::int64_t from = 0, to = 0;
};

// The chip that holds every crossbar layer of a trace resident: the config with platform.tiles
// set to the tiles of the trace's crossbar stages (at least 1), the stages' tiles, and what changed.
struct SizedChip {
    ArchConfig cfg;
    ResidentTiles tiles;
    std::vector<ConfigChange> changes;
};

// Sizes the chip for the (already truncated) trace from its layer shapes (no weights drawn).
// Nothing but platform.tiles changes: a stage's tile images are in DRAM only while it is
// programmed, so a resident run needs no more memory than a run layer by layer. Throws ConfigError
// naming platform.tiles when the trace needs more than config_limits::kMaxTiles tiles, or when the
// sized config models more memory than the limit; TraceError for a layer the crossbar cannot hold.
SizedChip size_chip(const ArchConfig& cfg, const NetworkTrace& trace, TraceMapping mapping);

// A chip whose layers run as a pipeline, each layer a stage with its own engines: once the pipeline
// is full a new image finishes every interval (the slowest stage), the first after the fill latency
// (every stage once). A chip that runs one layer at a time takes the sum of the stages per image.
struct PipelineFigures {
    double layer_by_layer_ns = 0;  // sum of the stages per image; also the pipeline's fill latency
    double interval_ns = 0;        // the slowest stage
    std::size_t bottleneck = 0;    // the slowest stage's index (the first of equals)
    double layer_by_layer_fps() const { return layer_by_layer_ns > 0 ? 1e9 / layer_by_layer_ns : 0.0; }
    double pipelined_fps() const { return interval_ns > 0 ? 1e9 / interval_ns : 0.0; }
};
// Throws std::invalid_argument when there is no stage or a stage's latency is negative or not finite.
PipelineFigures pipeline_figures(const std::vector<double>& stage_ns);

struct SizeJobResult {
    SizedChip chip;
    TraceJobResult run;            // the resident run on chip.cfg
    std::vector<double> stage_ns;  // per trace layer: its latency per image in that run
    PipelineFigures pipeline;
    double wall_s = 0;             // the whole job: sizing, the run, the check
};

// Sizes the chip for spec's trace and runs it resident. Throws as size_chip and run_trace_job.
SizeJobResult run_size_job(const ArchConfig& cfg, const SizeJobSpec& spec);

void print_size_report(const SizeJobResult& r, const SizeJobSpec& spec, std::FILE* out);
// The results object (docs/results.md, "cimvp size").
nlohmann::json size_job_to_json(const SizeJobResult& r, const SizeJobSpec& spec);

}  // namespace cimvp
