#include "sw/contract/tensor_ops.h"

#include "sw/contract/post_processing.h"

namespace cimvp {

void tensor_add(const std::uint8_t* a, const std::uint8_t* b, std::size_t n, const TensorOpParams& p,
                std::uint8_t* y) {
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t v = (p.mult_a * a[i] + p.bias_a) + (p.mult_b * b[i] + p.bias_b);
        y[i] = static_cast<std::uint8_t>(requantize(v, p.shift, p.a_out_bits));
    }
}

void tensor_scale(const std::uint8_t* a, std::size_t n, const TensorOpParams& p, std::uint8_t* y) {
    for (std::size_t i = 0; i < n; ++i)
        y[i] = static_cast<std::uint8_t>(requantize(p.mult_a * a[i] + p.bias_a, p.shift, p.a_out_bits));
}

void tensor_global_avg(const std::uint8_t* a, int channels, int pixels, const TensorOpParams& p, std::uint8_t* y) {
    for (int c = 0; c < channels; ++c) {
        const std::uint8_t* plane = a + static_cast<std::size_t>(c) * pixels;
        std::int64_t sum = 0;
        for (int i = 0; i < pixels; ++i) sum += plane[i];
        y[c] = static_cast<std::uint8_t>(requantize(p.mult_a * sum + p.bias_a, p.shift, p.a_out_bits));
    }
}

}  // namespace cimvp
