// The tensor nodes of a graph network (docs/numerics.md, "Graph networks"): add,
// concat and pool on byte tensors, one function per operation. Shared by the C++
// reference (sw/reference/network_reference.h) and the SystemC post-processing
// unit (hw/post_processing_unit.h), which runs them as TensorOp jobs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cimvp {

// The operation of one TensorOp job (hw/command_format.h TensorOpDescriptor).
enum class TensorOp : std::uint8_t {
    kAdd = 1,        // y = requantize((mult_a * a + bias_a) + (mult_b * b + bias_b)), elementwise
    kScale = 2,      // y = requantize(mult_a * a + bias_a), elementwise: a concat's input, a pool node
    kGlobalAvg = 3,  // per channel y = requantize(mult_a * (sum over h, w of a) + bias_a)
};

// The parameters of one job: per input a multiplier and a bias, then the requantization
// y = clamp(round_half_up(v / 2^shift), 0, 2^a_out_bits - 1).
struct TensorOpParams {
    std::int64_t mult_a = 1, bias_a = 0, mult_b = 1, bias_b = 0;
    int shift = 0;
    int a_out_bits = 8;
};

// n elements of a and b (same shape) into y.
void tensor_add(const std::uint8_t* a, const std::uint8_t* b, std::size_t n, const TensorOpParams& p, std::uint8_t* y);
// n elements of a into y (uses mult_a, bias_a).
void tensor_scale(const std::uint8_t* a, std::size_t n, const TensorOpParams& p, std::uint8_t* y);
// A channels x pixels map (CHW) into channels values (uses mult_a, bias_a).
void tensor_global_avg(const std::uint8_t* a, int channels, int pixels, const TensorOpParams& p, std::uint8_t* y);

}  // namespace cimvp
