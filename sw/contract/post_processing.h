// The post-processing part of the numeric contract (docs/numerics.md,
// "Networks"): requantization with ReLU by clamping, pooling, logits. Shared
// by the C++ reference and the SystemC post-processing unit.
#pragma once

#include <cstdint>
#include <vector>

#include "sw/contract/numerics.h"

namespace cimvp {

// kGlobalAvg (3): a graph network's pool node only (docs/numerics.md, "Graph networks"): one value per
// channel, computed by tensor_global_avg (sw/contract/tensor_ops.h), not by pool2d.
enum class PoolKind : std::uint32_t { kNone = 0, kMax = 1, kAvg = 2, kGlobalAvg = 3 };

// Per-output parameters of one layer's post-processing.
struct PostProcessParams {
    std::vector<std::int64_t> bias;
    std::vector<std::int32_t> mult;
    std::vector<std::int32_t> mult_x;
    int shift = 0;
    int a_out_bits = 8;
};

// v = acc * mult + sx * mult_x + bias: the logit of the last layer, and what a hidden layer requantizes.
inline std::int64_t affine(std::int64_t acc, std::int64_t sx, std::int64_t mult, std::int64_t mult_x,
                           std::int64_t bias) {
    return acc * mult + sx * mult_x + bias;
}

// y = clamp(round_half_up(v / 2^shift), 0, 2^a_out_bits - 1).
inline std::int64_t requantize(std::int64_t v, int shift, int a_out_bits) {
    const std::int64_t y = numerics::round_half_up_shift(v, shift);
    const std::int64_t top = (std::int64_t{1} << a_out_bits) - 1;
    return y < 0 ? 0 : (y > top ? top : y);
}

inline int pooled_size(int n, int size, int stride) { return (n - size) / stride + 1; }

// Pools a C x H x W map of activations into C x PH x PW (kNone copies).
void pool2d(const std::uint8_t* in, int channels, int height, int width, PoolKind kind, int size, int stride,
            std::uint8_t* out);

}  // namespace cimvp
