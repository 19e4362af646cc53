#include "sw/contract/post_processing.h"

#include <algorithm>
#include <cstring>

namespace cimvp {

void pool2d(const std::uint8_t* in, int channels, int height, int width, PoolKind kind, int size, int stride,
            std::uint8_t* out) {
    if (kind == PoolKind::kNone) {
        std::memcpy(out, in, static_cast<std::size_t>(channels) * height * width);
        return;
    }
    const int ph = pooled_size(height, size, stride), pw = pooled_size(width, size, stride);
    for (int c = 0; c < channels; ++c) {
        const std::uint8_t* plane = in + static_cast<std::size_t>(c) * height * width;
        std::uint8_t* o = out + static_cast<std::size_t>(c) * ph * pw;
        for (int oy = 0; oy < ph; ++oy)
            for (int ox = 0; ox < pw; ++ox) {
                const std::uint8_t* win = plane + (oy * stride) * width + ox * stride;
                if (kind == PoolKind::kMax && size == 2) {  // the shipped models' pooling
                    o[oy * pw + ox] = std::max(std::max(win[0], win[1]), std::max(win[width], win[width + 1]));
                } else if (kind == PoolKind::kMax) {
                    std::uint8_t best = 0;
                    for (int dy = 0; dy < size; ++dy)
                        for (int dx = 0; dx < size; ++dx) best = std::max(best, win[dy * width + dx]);
                    o[oy * pw + ox] = best;
                } else {
                    std::int64_t acc = 0;
                    for (int dy = 0; dy < size; ++dy)
                        for (int dx = 0; dx < size; ++dx) acc += win[dy * width + dx];
                    o[oy * pw + ox] = static_cast<std::uint8_t>(numerics::round_half_up_div(acc, size * size));
                }
            }
    }
}

}  // namespace cimvp
