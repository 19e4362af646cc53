// `cimvp run --trace F`: a network workload trace on the platform, layer by
// layer through the driver, each layer's outputs checked against the C++
// reference on the same drawn data; the per-layer report (latency, cycles,
// utilization, energy by component) as text, JSON and CSV.
// Elaborates SystemC: call once per process.
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
};

struct TraceLayerReport {
    std::string name, type;
    std::string mapped_to;   // "crossbar", "pe_array" or "host"
    double macs_per_image = 0;  // analytic (docs/trace-format.md), not the block-diagonal padding
    RunStats stats;          // every list of the layer over the run, its one-time programming included
    RunStats programming;    // the part of `stats` that programmed resident tiles
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
    TraceTimes platform, reference, prepare, host;  // sums over the layers (prepare: and parsing)
    RunStats total;  // all layers (programming included)
    RunStats programming;
    std::vector<TraceLayerReport> layers;
    std::optional<tlmx::ProtocolCounts> protocol;  // with platform.check_protocol (docs/protocol-checks.md)
};

TraceJobResult run_trace_job(const ArchConfig& cfg, const TraceJobSpec& spec);

}  // namespace cimvp
