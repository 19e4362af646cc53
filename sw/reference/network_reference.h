// The C++ reference of a whole network (docs/numerics.md, "Networks"): each
// layer through ReferenceLayer, then post-processing and pooling. The oracle
// for `cimvp run`, and what the PyTorch fake-quant model must equal.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hw/arch_config.h"
#include "sw/contract/layer_mapping.h"
#include "sw/formats/model_file.h"
#include "sw/reference/reference.h"
#include "sw/contract/swis.h"

namespace cimvp {

// The ADC tables a layer runs with on a given config: the model's own when it
// was calibrated for this ADC, unit tables when the ADC is lossless for the
// layer, else calibrated (per cfg.adc.step_mode) on the layer's inputs from
// calibration images.
struct NetworkAdcPlan {
    std::vector<AdcTables> tables;   // one per layer
    std::vector<bool> recalibrated;  // the tables are not the model's own
};

// How a network is mapped: which layers run on the SWIS PE array instead of
// the crossbar tiles, and with how many shared shifts their 8-bit weights are
// decomposed (8 reproduces every int8 weight exactly).
struct NetworkOptions {
    std::vector<bool> on_pe;  // per layer; empty: every layer on the crossbars
    int swis_shifts = 8;
    swis::Variant variant = swis::Variant::kSwis;
    bool double_shift = true;  // PE form: double shift (two positions per cycle) or single
    // ADC calibration looks at most at this many input vectors, evenly spaced over
    // the calibration images' vectors (0: all of them).
    int calibration_vectors = 0;

    bool pe(std::size_t l) const { return l < on_pe.size() && on_pe[l]; }
    // The default mapping: BWMA keeps its 8-bit first and last layers on the PE array,
    // and every layer stored as SWIS groups (format v2) runs there. A stored layer on
    // the PE array runs its stored groups; swis_shifts and variant apply to the others.
    static NetworkOptions defaults_for(const NetworkModel& model);
};

// Converts a model layer's [rt][M][S] tables to the tile-column layout.
AdcTables model_adc_tables(const NetworkLayer& layer, const LayerMapping& map, int adc_bits, int frac_bits);
// The same windows divided for another ADC resolution: per column, or one
// window per layer (the mean of the columns' windows) when mode is kLayer.
AdcTables rescale_adc_tables(const AdcTables& from, const LayerMapping& map, int bits, AdcStepMode mode);

class NetworkReference {
public:
    // calibration: images (n x image_bytes) used only where tables must be calibrated.
    NetworkReference(const NetworkModel& model, const ArchConfig& cfg, const std::uint8_t* calibration = nullptr,
                     int n_calibration = 0, NetworkOptions options = {});

    // True when some crossbar layer's ADC tables must be calibrated on images for this config.
    static bool needs_calibration(const NetworkModel& model, const ArchConfig& cfg, const NetworkOptions& options = {});
    // The SWIS shape of a layer (a fully connected layer: K channels, 1 x 1 kernel).
    static swis::LayerShape swis_shape(const NetworkLayer& L);
    // Throws ModelError naming the layer when it cannot run on the PE array.
    static void check_pe_layer(const NetworkModel& model, std::size_t l);

    const NetworkModel& model() const { return model_; }
    const NetworkOptions& options() const { return options_; }
    // A PE-array layer's weights as the array computes with them ([filter][K]).
    const std::vector<std::int8_t>& pe_weights(std::size_t l) const { return pe_weights_[l]; }
    const std::vector<LayerMapping>& mappings() const { return maps_; }
    const std::vector<MatrixLayer>& matrices() const { return matrices_; }
    const NetworkAdcPlan& adc_plan() const { return plan_; }
    // Every layer's tiles are programmed once (assign_tiles).
    bool resident() const { return resident_; }

    // Logits (num_classes int64) of one image; image_index keys the read noise.
    std::vector<std::int64_t> logits(const std::uint8_t* image, std::uint64_t image_index) const;
    // The input activations of layer `l` (CHW bytes) for an image (for calibration and tests).
    std::vector<std::uint8_t> layer_input(const std::uint8_t* image, std::size_t l, std::uint64_t image_index) const;

    // Vectors of a layer from its input tensor: im2col for conv, the tensor for fc.
    static std::vector<std::uint8_t> layer_vectors(const NetworkLayer& L, const std::uint8_t* input);
    // Post-processing + pooling of a hidden layer: acc (vectors x M), sx per vector -> pooled CHW bytes.
    static std::vector<std::uint8_t> hidden_output(const NetworkLayer& L, const std::int64_t* acc, const std::int64_t* sx);
    // Logits of the last layer (one vector).
    static std::vector<std::int64_t> last_output(const NetworkLayer& L, const std::int64_t* acc, std::int64_t sx);

private:
    // Runs layer l on its input tensor; returns the next input (hidden) or fills logits (last).
    std::vector<std::uint8_t> run_layer(std::size_t l, const std::uint8_t* input, std::uint64_t image_index,
                                        std::vector<std::int64_t>* logits) const;

    NetworkModel model_;
    ArchConfig cfg_;
    NetworkOptions options_;
    std::vector<std::vector<std::int8_t>> pe_weights_;  // per layer; empty for crossbar layers
    std::vector<MatrixLayer> matrices_;
    std::vector<LayerMapping> maps_;
    NetworkAdcPlan plan_;
    bool resident_ = false;
    std::vector<std::unique_ptr<ReferenceLayer>> layers_;
};

// The class of a logit vector: the largest, the lowest index on a tie.
int argmax(const std::vector<std::int64_t>& logits);

}  // namespace cimvp
