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
#include "sw/host/waveform_options.h"
#include "sw/model_file.h"
#include "sw/network_reference.h"
#include "sw/swis_storage.h"

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
    WaveformOptions waveforms;         // --vcd and its options
};

// The mapping a spec asks for; throws std::invalid_argument naming --pe-layers.
NetworkOptions network_options(const NetworkModel& model, const RunJobSpec& spec);

struct LayerReport {
    std::string name;
    std::string mapped_to;  // "crossbar" or "pe_array"
    double macs_per_image = 0;
    RunStats stats;  // over the whole run
    std::optional<SwisLayerStorageReport> swis;  // the layer's stored SWIS groups (model format v2)
    std::string swis_variant;                    // "swis" or "swis-c" when stored
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

// The index of the layer `which` names: an index ("2"), a layer name as the results file
// writes it ("layer 2 (conv)"), or the kind and its 1-based count among layers of that kind
// ("conv2": the second convolution, "fc1"). Throws std::invalid_argument naming `flag` and the layers.
int resolve_layer(const NetworkModel& model, const std::string& which, const std::string& flag);

// Expected-results file shipped next to a model: <model without .cimvp>.expected.json.
std::string expected_results_path(const std::string& model_path);

RunJobResult run_network_job(const ArchConfig& cfg, const RunJobSpec& spec);

}  // namespace cimvp
