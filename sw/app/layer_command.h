// `cimvp layer`: one random matrix layer (or an im2col convolution) on the
// platform, checked against the reference. `cimvp bench` runs the same layer
// with other defaults and adds its timing ratio (sw/app/bench_command.cpp).
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "sw/app/command_line.h"
#include "sw/app/layer_job.h"

namespace cimvp::cli {

// The layer's shape and --log-tlm, with the command's defaults.
void add_layer_shape(po::options_description& d, int rows, int cols, int vectors, int adc_bits_default);

// Runs the layer the options describe, prints its report and writes --json; `extend` adds its
// lines to the report and its keys to the JSON first. Returns the exit code.
int run_layer(const po::variables_map& vm, const ArchConfig& cfg,
              const std::function<void(const LayerJobResult&, nlohmann::json&)>& extend = {});

}  // namespace cimvp::cli
