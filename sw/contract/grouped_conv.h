// Grouped convolutions (docs/numerics.md, "Graph networks"): a layer of G groups
// runs in blocks of whole groups, each block a matrix layer of its own with
// block-diagonal weights. Which groups and channels each block holds, its
// matrix and its rows of a full im2col vector: shared by the file loader's
// checks, the compiler, the C++ reference and the platform's runner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sw/contract/layer_mapping.h"

namespace cimvp {

struct GroupedConvShape {
    int in_c = 1, out_c = 1, groups = 1, kernel = 1;
    int cg() const { return in_c / groups; }               // input channels per group
    int mg() const { return out_c / groups; }              // output channels per group
    int kg() const { return cg() * kernel * kernel; }      // weights per filter
};

struct ConvBlock {
    int first_group = 0, groups = 0;
    int first_in = 0, in_channels = 0;    // the block's input channels [first_in, first_in + in_channels)
    int first_out = 0, out_channels = 0;  // its output channels
    int K = 0, M = 0;                     // its matrix layer: in_channels * k * k rows, out_channels columns
};

// The blocks of a layer whose row tiles are `rows` high: Gb = max(1, floor(rows / Kg)) groups each,
// block b the groups [b*Gb, min(G, (b+1)*Gb)).
std::vector<ConvBlock> conv_blocks(const GroupedConvShape& s, int rows);

// The block's matrix layer: weights [out_c][Kg] of the layer, block-diagonal over the block's groups
// (the layer's weight where row k's channel is in column m's group, else 0).
MatrixLayer block_matrix(const GroupedConvShape& s, const ConvBlock& b, const std::vector<std::int8_t>& weights,
                         int a_bits, int w_bits, int rows_per_tile, const std::string& name);

// The block's rows of n full im2col vectors (in_c * k * k bytes each, (c, ky, kx) order): n x b.K bytes.
std::vector<std::uint8_t> block_rows(const GroupedConvShape& s, const ConvBlock& b, const std::uint8_t* vectors,
                                     std::size_t n);

}  // namespace cimvp
