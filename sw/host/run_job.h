// `cimvp run`: a quantized network over a data set on the platform, checked
// image by image against the C++ reference (and, where the model ships its
// expected logits digest, against the PyTorch fake-quant model).
// Elaborates SystemC: call once per process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sw/arch_config.h"
#include "sw/host/network_runner.h"
#include "sw/model_file.h"
#include "sw/network_reference.h"

namespace cimvp {

struct RunJobSpec {
    std::string model_path;
    std::string data_dir;
    int limit = 0;        // images (0: the whole test set)
    int batch = 64;       // images per command list
    bool check_reference = true;
    bool progress = true;  // progress bar on stderr
    std::string pe_layers = "default";  // "default", "none", "all" or layer indices "0,3"
    int swis_shifts = 8;               // shifts of PE-array layers (8: exact int8)
    bool single_shift = false;         // PE form: single shift instead of double
    std::string record_path;           // non-empty: write the recorded command stream here
};

// The mapping a spec asks for; throws std::invalid_argument naming --pe-layers.
NetworkOptions network_options(const NetworkModel& model, const RunJobSpec& spec);

struct LayerReport {
    std::string name;
    std::string mapped_to;  // "crossbar" or "pe_array"
    double macs_per_image = 0;
    RunStats stats;  // over the whole run
};

struct RunJobResult {
    std::string model_name, scheme;
    int images = 0, correct = 0, agree = 0;
    double accuracy = 0, agreement = 0;
    double wall_s = 0, reference_wall_s = 0;
    RunStats total;        // every batch, all layers (programming excluded)
    RunStats programming;  // weights programmed once, when resident
    bool resident = false;
    std::vector<LayerReport> layers;
    std::vector<std::string> recalibrated;  // layers whose ADC tables were recalibrated for this config
    std::string logits_digest;              // FNV-1a 64 of the int64 logits of every image, in order
    std::optional<bool> fake_quant_match;   // vs <model>.expected.json when comparable
    std::string expected_path;
};

// Expected-results file shipped next to a model: <model without .cimvp>.expected.json.
std::string expected_results_path(const std::string& model_path);

RunJobResult run_network_job(const ArchConfig& cfg, const RunJobSpec& spec);

}  // namespace cimvp
