// SWIS, shared weight bit sparsity (docs/swis.md; Li et al., arXiv 2103.01308):
// 8-bit sign-magnitude weights decomposed in groups of M = 4 that share N shift
// positions; filter scheduling to a target mean shift count; the storage cost;
// and the integer arithmetic of the bit-serial PE. No SystemC: the oracle of
// the SWIS PE array model.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cimvp::swis {

constexpr int kGroupSize = 4;     // M: the input channels at one (x, y) of a filter
constexpr int kMagnitudeBits = 7;  // sign-magnitude int8: |w| <= 127
constexpr int kShiftPositions = 8;  // a shift is a 3-bit value 0..7
constexpr int kShiftBits = 3;

enum class Variant : std::uint8_t {
    kSwis,   // any N of the 8 shift positions
    kSwisC,  // N consecutive positions o .. o + N - 1, one 3-bit offset per group
};

// One group: weight i = sign_i * sum_j mask_i[j] * 2^shift[j].
struct Group {
    std::uint8_t n = 0;                              // shift count N, 0..8
    std::array<std::uint8_t, kShiftPositions> shift{};  // shift[j] for j < n, distinct, descending
    std::uint8_t sign = 0;                           // bit i: weight i is negative
    std::array<std::uint8_t, kGroupSize> mask{};     // bit j of mask[i]: weight i uses shift[j]

    int weight(int i) const;  // the decomposed value of weight i
};

struct DecomposeOptions {
    int n = 3;                 // shifts per group (SWIS) or window width (SWIS-C), 1..8
    Variant variant = Variant::kSwis;
    double alpha = 1.0;        // MSE++ weight of the group's summed error
};

// Exhaustive decomposition of up to kGroupSize int8 weights (missing ones are 0):
// every shift set (C(8, N), or the 9 - N offsets of SWIS-C), every weight its
// nearest level, the set with the lowest MSE++ = (1/M)[alpha (sum e)^2 + sum e^2];
// ties go to the first set in enumeration order. -128 is taken as -127.
Group decompose_group(const std::int8_t* w, int count, const DecomposeOptions& opt);
double mse_pp(const std::int8_t* w, int count, const Group& g, double alpha);

// Weight truncation baseline ("Wgt"): the top `bits` magnitude bits below the
// layer's most significant bit, rounded to nearest, clipped.
std::vector<std::int8_t> truncate_weights(const std::vector<std::int8_t>& w, int bits);

// A layer's weights in SWIS form: filters x positions x channel groups.
// Weights come in as [filter][K] with K = C * kh * kw in (c, ky, kx) order
// (the model file's order); a group is kGroupSize consecutive channels at one
// (ky, kx) — for a fully connected layer, kGroupSize consecutive inputs.
struct LayerShape {
    int filters = 0;    // output channels
    int channels = 0;   // input channels C
    int kernel_h = 1, kernel_w = 1;
    int K() const { return channels * kernel_h * kernel_w; }
    int groups_per_filter() const { return ((channels + kGroupSize - 1) / kGroupSize) * kernel_h * kernel_w; }
};

struct DecomposedLayer {
    LayerShape shape;
    Variant variant = Variant::kSwis;
    std::vector<int> shifts;    // per filter: its scheduled N
    std::vector<Group> groups;  // [filter][ky][kx][channel group]
    // The decomposed weights back in [filter][K] order (what the PE array computes with).
    std::vector<std::int8_t> weights() const;
};

DecomposedLayer decompose_layer(const std::vector<std::int8_t>& w, const LayerShape& shape, int n, Variant variant,
                                double alpha = 1.0);

// Filter scheduling for a target mean shift count T (fractional allowed, e.g.
// 2.5): filters run `array_cols` at a time on the array and a group of
// filters shares one N; start every group above T, repeatedly lower the group
// whose error grows least until the mean N (weighted by filters) is T or just
// below, sort by N. Returns the layer decomposed with those counts.
struct Schedule {
    std::vector<int> order;      // filters in execution order
    std::vector<int> group_n;    // N of each array group (array_cols filters, in `order`)
    double mean_n = 0;           // weighted by filters
};
Schedule schedule_filters(const std::vector<std::int8_t>& w, const LayerShape& shape, double target, int array_cols,
                          Variant variant, double alpha = 1.0);

// Storage of one group in bits: M signs + 3N shift bits + M*N mask bits
// (SWIS-C: M + 3 + M*N), against 8*M for int8.
int group_storage_bits(int n, Variant variant);

}  // namespace cimvp::swis
