// The network compiler: a network (sw/formats/model_file.h) and a machine
// (hw/arch_config.h) in, an execution plan (sw/compiler/plan.h) out. It lays
// the crossbar layers onto tiles, decomposes the PE-array layers' weights into
// SWIS groups (once), chooses or calibrates every crossbar layer's ADC tables
// and places each layer's buffers in the global buffer or DRAM.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "hw/arch_config.h"
#include "sw/compiler/plan.h"
#include "sw/formats/model_file.h"

namespace cimvp {

// Calibrating a layer's ADC tables on images needs the layer's inputs, i.e. the layers
// before it run with the tables chosen for them. The compiler does not evaluate networks:
// whoever asks for calibration supplies this, which returns the input vectors of layer
// `layer` (vectors x K bytes) over the calibration images, through the layers of `so_far`
// (the plan compiled up to, not including, that layer). The C++ reference supplies one
// (sw/reference/network_reference.h, reference_calibration).
using CalibrationInputs = std::function<std::vector<std::uint8_t>(const ExecutionPlan& so_far, std::size_t layer)>;

// Compiles the network. Without calibration inputs, a layer whose tables must be calibrated
// gets unit tables (or the model's windows divided for the config's ADC). Throws ModelError
// naming the layer when the platform cannot run it as asked.
ExecutionPlan compile_network(const NetworkModel& model, const ArchConfig& cfg, NetworkOptions options = {},
                              const CalibrationInputs& calibration = {});

// True when some crossbar layer's ADC tables must be calibrated on images for this config.
bool needs_calibration(const NetworkModel& model, const ArchConfig& cfg, const NetworkOptions& options = {});

// Throws ModelError naming the layer when it cannot run on the PE array.
void check_pe_layer(const NetworkModel& model, std::size_t l);

// The groups the PE array runs for layer l: the stored ones (format v2), every int8 weight
// exactly over shifts 7..0 (shifts >= 8), or the weights decomposed with `shifts` shifts.
swis::DecomposedLayer pe_layer_groups(const NetworkLayer& L, int shifts, swis::Variant variant);

// Converts a model layer's [rt][M][S] tables to the tile-column layout of an offset-encoded
// mapping (std::invalid_argument for a differential one: the model's tables do not describe its columns).
AdcTables model_adc_tables(const NetworkLayer& layer, const LayerMapping& map, int adc_bits, int frac_bits);
// The same windows divided for another ADC resolution: per column, or one
// window per layer (the mean of the columns' windows) when mode is kLayer.
AdcTables rescale_adc_tables(const AdcTables& from, const LayerMapping& map, int bits, AdcStepMode mode);

// How many times the compiler has decomposed a layer's weights into SWIS groups in this
// process (tests: a network run decomposes each PE-array layer once).
std::uint64_t swis_decompositions();

}  // namespace cimvp
