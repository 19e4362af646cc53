// `cimvp run --trace F`: a network workload trace on the platform, layer by
// layer through the driver, each layer's outputs checked against the C++
// reference on the same drawn data; the per-layer report (latency, cycles,
// utilization, energy by component) as text, JSON and CSV.
// Elaborates SystemC: call once per process. Every layer is set up and run on
// its own, so an MPI-parallel run (docs/scale.md) gives each layer to one process
// (run_trace_part) and merges the layers' reports on one (merge_trace_shares);
// the report of a run of one process is made the same way, from its one share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/driver/network_runner.h"
#include "sw/workloads/trace_network.h"
#include "tlm/protocol_checker.h"

namespace cimvp {

// Wall-clock and process CPU seconds.
struct TraceTimes {
    double wall = 0, cpu = 0;
    TraceTimes& operator+=(const TraceTimes& o) {
        wall += o.wall;
        cpu += o.cpu;
        return *this;
    }
};

struct TraceJobSpec {
    std::string trace_path;
    TraceMapping mapping = TraceMapping::kTrace;
    int images = 1;
    int layers = 0;  // run the first N layers of the trace (0: all)
    bool check_reference = true;
    bool progress = true;  // one line per layer on stderr
    // Weights-resident (--resident, docs/trace-format.md): every crossbar stage on its own tiles
    // (plan_resident_tiles; platform.tiles must hold them all), programmed once before the first
    // image; the programming is reported on its own and left out of the layers' figures.
    bool resident = false;
    // The layers this process runs: those trace_layer_parts gives part `part` (0 ..) of `parts`
    // (an MPI-parallel run, docs/scale.md; one part: every layer).
    int part = 0, parts = 1;
};

struct TraceLayerReport {
    std::string name, type;
    std::string mapped_to;   // "crossbar", "pe_array" or "host"
    double macs_per_image = 0;  // analytic (docs/trace-format.md), not the block-diagonal padding
    RunStats stats;          // every list of the layer over the run, its programming included unless resident
    RunStats programming;    // programming its resident tiles: part of `stats`, or (a resident run) not
    int resident_tiles = 0;  // a resident run: the tiles its stages hold (ResidentTiles::layer_tiles)
    int first_tile = -1;     // a resident run: the first of them (-1: none, or not resident)
    int stages = 0;          // platform runs per image (channel blocks of a depthwise layer)
    int tiles_used = 0;      // most tiles one stage occupies at once
    int passes = 0;          // most weight-programming passes of one stage
    int scratch_on_chip_stages = 0;      // stages whose accumulators were in the global buffer
    int activations_on_chip_stages = 0;  // stages whose output activations were in the global buffer
    double tile_utilization = 0;  // weight cells / cells of the programmed crossbars
    double pe_utilization = 0;    // layer MACs / MAC slots of the PE array's rows x cols tiles
    std::uint64_t host_ops = 0;   // pool/add element operations on the host
    int recalibrated_stages = 0;  // stages whose ADC tables were calibrated on drawn inputs
    int agree = 0;           // images whose outputs equal the reference bit-exactly
    std::vector<bool> image_agrees;  // per image: its outputs equal the reference's (all, with no check)
    TraceTimes platform;   // the SystemC run: runner set-up (DRAM loading), programming, the command lists
    TraceTimes reference;  // the C++ reference computing the same outputs
    TraceTimes prepare;    // drawing weights and inputs, mapping, ADC calibration (shared by both)
    TraceTimes host;       // pool and add on the host
};

struct TraceJobResult {
    std::string network, dataset, trace_path;
    int images = 0, agree = 0;
    double agreement = 0;
    std::int64_t macs_per_image = 0;
    TraceTimes platform, reference, prepare, host;  // sums over the layers (prepare: and parsing the trace)
    RunStats total;  // all layers (programming included, unless resident)
    RunStats programming;
    bool resident = false;           // spec.resident
    std::int64_t resident_tiles = 0;  // a resident run: the tiles every crossbar stage holds together
    std::vector<TraceLayerReport> layers;
    std::optional<tlmx::ProtocolCounts> protocol;  // with platform.check_protocol (docs/protocol-checks.md)
};

// The trace at `path` with its first `layers` layers (0: all). Throws TraceError for a malformed
// trace, std::invalid_argument naming --layers when it has fewer layers.
NetworkTrace load_trace_layers(const std::string& path, int layers);

// The part (0 .. parts - 1) that runs each layer of the trace: every part gets whole layers, the
// parts' estimated costs as even as whole layers allow, longest first to the least loaded part. A
// layer's cost: its MACs, and 25 MACs for each weight and each input element (drawn, moved, programmed,
// compared). The same in every process.
std::vector<int> trace_layer_parts(const NetworkTrace& trace, int images, int parts);

// What one process ran of a trace: its layers and their reports.
struct TraceShare {
    std::vector<std::size_t> layers;        // trace layer indices, increasing
    std::vector<TraceLayerReport> reports;  // of those layers
    std::optional<tlmx::ProtocolCounts> protocol;  // with platform.check_protocol: its simulation's checks
};

// One process's part of a trace run: the report's description (the same in every process: the trace,
// its MACs, the time spent parsing it; no layer reports), and the layers it ran.
struct TraceJobPart {
    TraceJobResult run;
    TraceShare share;
};

// Parses the trace and plans its stages (the same in every process), then sets up, runs and checks
// the layers trace_layer_parts gives spec.part of spec.parts.
TraceJobPart run_trace_part(const ArchConfig& cfg, const TraceJobSpec& spec);

// The report of a trace run from its description and the shares, which together hold every layer once:
// the layers' reports in trace order, the totals summed over them in that order, an image in agreement
// when every layer's outputs for it are. Throws std::logic_error when a layer is missing or given twice.
TraceJobResult merge_trace_shares(TraceJobResult description, const std::vector<TraceShare>& shares,
                                  const TraceJobSpec& spec);

// The whole trace in this process: run_trace_part of the one part, merged.
TraceJobResult run_trace_job(const ArchConfig& cfg, const TraceJobSpec& spec);

}  // namespace cimvp
