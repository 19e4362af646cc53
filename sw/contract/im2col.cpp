#include "sw/contract/im2col.h"

namespace cimvp {

std::vector<std::uint8_t> im2col(const ConvShape& s, const std::uint8_t* image) {
    const int oh = s.out_height(), ow = s.out_width(), K = s.patch();
    std::vector<std::uint8_t> out(static_cast<std::size_t>(oh) * ow * K, 0);
    for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
            std::uint8_t* v = &out[(static_cast<std::size_t>(oy) * ow + ox) * K];
            for (int c = 0; c < s.channels; ++c)
                for (int ky = 0; ky < s.kernel; ++ky)
                    for (int kx = 0; kx < s.kernel; ++kx) {
                        const int y = oy * s.stride + ky - s.padding, x = ox * s.stride + kx - s.padding;
                        if (y >= 0 && y < s.height && x >= 0 && x < s.width)
                            v[(c * s.kernel + ky) * s.kernel + kx] =
                                image[(static_cast<std::size_t>(c) * s.height + y) * s.width + x];
                    }
        }
    return out;
}

}  // namespace cimvp
