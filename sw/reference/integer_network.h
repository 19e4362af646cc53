// The network as NetworkReference computes it when every layer's ADC is lossless and
// the devices are ideal: the exact integer matrix product of each layer, then the
// reference's own im2col, post-processing and pooling (its public static steps).
// Orders of magnitude faster than running the modelled crossbars, which is what
// `cimvp swis` needs to measure the accuracy of some twenty weight variants of a
// network over a whole test set. It is not a second oracle: `applies` says when it
// equals NetworkReference, and its user checks it against NetworkReference image by
// image before trusting it (sw/app/swis_job.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "hw/arch_config.h"
#include "sw/formats/model_file.h"

namespace cimvp {

class IntegerNetwork {
public:
    explicit IntegerNetwork(const NetworkModel& m) : model_(m) {}  // m must outlive this
    // With each layer's input vectors ANDed with masks[l], as NetworkReference::set_input_masks.
    IntegerNetwork(const NetworkModel& m, std::vector<std::uint8_t> masks) : model_(m), masks_(std::move(masks)) {}
    // Whether NetworkReference computes exactly this for `model` on `cfg`: ideal devices, no
    // stored ADC tables or column multipliers, and every layer's ADC lossless.
    static bool applies(const NetworkModel& model, const ArchConfig& cfg);
    std::vector<std::int64_t> logits(const std::uint8_t* image) const;

private:
    const NetworkModel& model_;
    std::vector<std::uint8_t> masks_;
};

}  // namespace cimvp
