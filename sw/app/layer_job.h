// `cimvp layer`: one random matrix (or im2col convolution) layer run on the
// SystemC platform through the driver, checked against the C++ reference and,
// when the ADC is lossless and the devices ideal, against the integer product.
// Elaborates SystemC: call once per process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hw/energy_report.h"
#include "hw/arch_config.h"
#include "sw/contract/im2col.h"
#include "sw/contract/layer_mapping.h"
#include "sw/system/waveform_options.h"
#include "tlm/protocol_checker.h"

namespace cimvp {

struct LayerJobSpec {
    int K = 128;           // rows of the matrix (inputs)
    int M = 128;           // columns (outputs)
    int a_bits = 8;
    int w_bits = 8;
    bool binary = false;
    int vectors = 16;      // input vectors (ignored for a conv: one per output position)
    std::uint64_t seed = 1;
    std::optional<ConvShape> conv;  // set: K = conv.patch(), vectors = output positions
    bool log_transactions = false;
    WaveformOptions waveforms;  // --vcd and its options (no layer or image gating: one list)
    std::string record_path;  // non-empty: write the recorded command stream here
};

struct LayerJobResult {
    MatrixLayer layer;
    LayerMapping map;
    int vectors = 0;
    bool adc_lossless = false;
    std::vector<std::int64_t> platform, reference, exact;
    double agreement = 0;        // fraction of outputs where platform == reference
    double exact_agreement = 0;  // fraction where platform == integer matmul
    double relative_error = 0;   // sum |platform - matmul| / sum |matmul|: what ADC loss and devices cost
    std::uint64_t cycles = 0;    // digital clock cycles of the layer's command list
    double sim_time_ns = 0;
    EnergyBreakdown energy;
    std::uint32_t commands = 0, tile_runs = 0;
    double platform_wall_s = 0, reference_wall_s = 0;
    double cell_bit_ops = 0;     // bit-level cell operations of all vectors
    std::optional<tlmx::ProtocolCounts> protocol;  // with platform.check_protocol (docs/protocol-checks.md)
};

// Random layer and inputs from the spec's seed.
MatrixLayer random_layer(const LayerJobSpec& spec);
std::vector<std::uint8_t> random_inputs(const LayerJobSpec& spec, int K);

LayerJobResult run_layer_job(const ArchConfig& cfg, const LayerJobSpec& spec);

}  // namespace cimvp
