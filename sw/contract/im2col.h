// im2col: a convolution as a matrix layer. Each output position becomes one
// input vector of K = C * k * k values (zero padding), ordered (c, ky, kx).
#pragma once

#include <cstdint>
#include <vector>

namespace cimvp {

struct ConvShape {
    int channels = 1, height = 1, width = 1;  // input C x H x W
    int kernel = 3, stride = 1, padding = 0;
    int out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
    int out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
    int patch() const { return channels * kernel * kernel; }
};

// image: C x H x W bytes; returns out_height*out_width vectors of patch() bytes.
std::vector<std::uint8_t> im2col(const ConvShape& s, const std::uint8_t* image);

}  // namespace cimvp
