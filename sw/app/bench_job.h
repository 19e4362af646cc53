// `cimvp bench --layer-type`: simulation speed per layer type. Each type is a
// small two-layer network (the layer under test and a 10-way fully connected
// head) run for a batch of random images on one platform, timed against the
// C++ reference on the same images; plus the default model on test images.
// All runs share one elaboration. Elaborates SystemC: call once per process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/workloads/bench_networks.h"

namespace cimvp {

struct BenchJobSpec {
    std::vector<std::string> types;  // from bench_layer_types()
    int images = 32;                 // random images per layer type (one command list each layer)
    std::string model_path;          // empty: no default-model row
    std::string data_dir;
    int model_images = 64;
    std::uint64_t seed = 1;
};

struct BenchRow {
    std::string type, description;
    int images = 0;
    double layer_macs_per_image = 0, macs_per_image = 0;
    double platform_wall_s = 0, reference_wall_s = 0;
    std::uint64_t cycles = 0;
    double sim_time_ns = 0;
    double agreement = 0;  // images whose logits equal the reference's
    double platform_macs_per_second() const { return macs_per_image * images / platform_wall_s; }
    double reference_macs_per_second() const { return macs_per_image * images / reference_wall_s; }
    double images_per_second() const { return images / platform_wall_s; }
    double reference_images_per_second() const { return images / reference_wall_s; }
    double platform_over_reference() const { return platform_wall_s / reference_wall_s; }
};

struct BenchJobResult {
    std::vector<BenchRow> rows;  // one per type, then "model" when model_path was given
};

BenchJobResult run_bench_job(const ArchConfig& cfg, const BenchJobSpec& spec);

}  // namespace cimvp
