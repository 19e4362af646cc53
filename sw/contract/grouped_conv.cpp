#include "sw/contract/grouped_conv.h"

#include <algorithm>

namespace cimvp {

std::vector<ConvBlock> conv_blocks(const GroupedConvShape& s, int rows) {
    const int per_block = std::max(1, rows / s.kg());
    std::vector<ConvBlock> blocks;
    for (int g = 0; g < s.groups; g += per_block) {
        ConvBlock b;
        b.first_group = g;
        b.groups = std::min(per_block, s.groups - g);
        b.first_in = g * s.cg();
        b.in_channels = b.groups * s.cg();
        b.first_out = g * s.mg();
        b.out_channels = b.groups * s.mg();
        b.K = b.in_channels * s.kernel * s.kernel;
        b.M = b.out_channels;
        blocks.push_back(b);
    }
    return blocks;
}

MatrixLayer block_matrix(const GroupedConvShape& s, const ConvBlock& b, const std::vector<std::int8_t>& weights,
                         int a_bits, int w_bits, int rows_per_tile, const std::string& name) {
    MatrixLayer m;
    m.name = name;
    m.K = b.K;
    m.M = b.M;
    m.a_bits = a_bits;
    m.w_bits = w_bits;
    m.rows_per_tile = rows_per_tile;
    m.weights.assign(static_cast<std::size_t>(m.K) * m.M, 0);
    const int kg = s.kg();
    for (int col = 0; col < b.M; ++col) {
        const int g = col / s.mg();  // the column's group within the block
        const std::size_t filter = static_cast<std::size_t>(b.first_out + col) * kg;
        // Rows of the group's channels: [g * Cg * k * k, (g + 1) * Cg * k * k).
        for (int r = 0; r < kg; ++r)
            m.weights[static_cast<std::size_t>(g * kg + r) * m.M + col] = weights[filter + r];
    }
    return m;
}

std::vector<std::uint8_t> block_rows(const GroupedConvShape& s, const ConvBlock& b, const std::uint8_t* vectors,
                                     std::size_t n) {
    const std::size_t full = static_cast<std::size_t>(s.in_c) * s.kernel * s.kernel;
    const std::size_t first = static_cast<std::size_t>(b.first_in) * s.kernel * s.kernel;
    std::vector<std::uint8_t> out(n * static_cast<std::size_t>(b.K));
    for (std::size_t v = 0; v < n; ++v)
        std::copy_n(vectors + v * full + first, b.K, out.begin() + static_cast<std::ptrdiff_t>(v * b.K));
    return out;
}

}  // namespace cimvp
