// The small networks `cimvp bench --layer-type` and the benchmark suites time:
// one layer type each (the layer under test and a 10-way fully connected head),
// random int8 weights and random images from a seed. No SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sw/formats/model_file.h"
#include "sw/compiler/plan.h"

namespace cimvp {

// Multiply-accumulates of one image through a layer: K x M x vectors.
double layer_macs(const NetworkLayer& L);

// The layer types `cimvp bench --layer-type` knows, in report order.
const std::vector<std::string>& bench_layer_types();

// The network of one layer type: "conv3x3", "conv1x1", "fc" on the crossbars,
// "pe" (a 3x3 convolution with int8 weights on the SWIS PE array). Throws
// std::invalid_argument naming the type and the known ones.
struct BenchNetwork {
    std::string type, description;
    NetworkModel model;
    NetworkOptions options;
    double layer_macs_per_image = 0;  // the layer under test
    double macs_per_image = 0;        // the whole network (the head included)
};
BenchNetwork bench_network(const std::string& type, std::uint64_t seed);
std::vector<std::uint8_t> bench_images(const NetworkModel& model, int n, std::uint64_t seed);

}  // namespace cimvp
