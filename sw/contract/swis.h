// SWIS, shared weight bit sparsity (docs/swis.md; Li et al., arXiv 2103.01308):
// 8-bit sign-magnitude weights decomposed in groups of M weights (4 on the PE
// array, 1..16 for studies) that share N shift positions; filter scheduling to a target mean shift count; the storage cost;
// and the integer arithmetic of the bit-serial PE. No SystemC: the oracle of
// the SWIS PE array model. The groups' bit stream in the model file:
// sw/formats/swis_packing.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cimvp::swis {

constexpr int kGroupSize = 4;      // M of the PE array and the model file: the input channels at one (x, y) of a filter
constexpr int kMaxGroupSize = 16;  // the largest M the decomposition takes (LayerShape::group_size)
constexpr int kMagnitudeBits = 7;  // sign-magnitude int8: |w| <= 127
constexpr int kShiftPositions = 8;  // a shift is a 3-bit value 0..7
constexpr int kShiftBits = 3;
constexpr int kMaxMagnitude = (1 << kMagnitudeBits) - 1;  // 127

// A malformed decomposition, schedule request or packed group stream.
struct SwisError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class Variant : std::uint8_t {
    kSwis,   // any N of the 8 shift positions
    kSwisC,  // N consecutive positions o .. o + N - 1, one 3-bit offset per group
};
// The variant's name in model files, schedules, reports and options: "swis" or "swis-c".
const char* variant_name(Variant v);
// The variant of that name; none for any other.
std::optional<Variant> parse_variant(const std::string& name);

// One group: weight i = sign_i * sum_j mask_i[j] * 2^shift[j].
struct Group {
    std::uint8_t n = 0;                              // shift count N, 0..8
    std::array<std::uint8_t, kShiftPositions> shift{};  // shift[j] for j < n, distinct, descending
    std::uint16_t sign = 0;                          // bit i: weight i is negative
    std::array<std::uint8_t, kMaxGroupSize> mask{};  // bit j of mask[i]: weight i uses shift[j]

    // The decomposed value of weight i: sign_i * sum over j < n of mask bit j of weight i * 2^shift[j].
    // Inline: the PE array decodes every group it loads with it.
    int weight(int i) const {
        int mag = 0;
        for (int j = 0; j < n; ++j)
            if (mask[i] >> j & 1) mag += 1 << shift[j];
        return (sign >> i & 1) ? -mag : mag;
    }
};

struct DecomposeOptions {
    int n = 3;                 // shifts per group (SWIS) or window width (SWIS-C), 1..8
    Variant variant = Variant::kSwis;
    double alpha = 1.0;        // MSE++ weight of the group's summed error
    int group_size = kGroupSize;  // M, 1..kMaxGroupSize: the group's weights and MSE++'s 1/M
};

// Exhaustive decomposition of up to M = opt.group_size int8 weights (missing ones are 0):
// every shift set (C(8, N), or the 9 - N offsets of SWIS-C), every weight its
// nearest level, the set with the lowest MSE++ = (1/M)[alpha (sum e)^2 + sum e^2];
// ties go to the first set in enumeration order. -128 is taken as -127.
// Enumeration order: a set is the 8-bit mask of its positions (bit p = shift p),
// sets in increasing mask value (SWIS-C: increasing offset). A level is a subset
// sum of the set's 2^s no larger than 127 (so a shift of 7 never carries a mask
// bit); a magnitude half-way between two levels takes the smaller. Sign bit i
// is set exactly when w_i < 0; a weight missing from the group has sign 0, mask 0.
Group decompose_group(const std::int8_t* w, int count, const DecomposeOptions& opt);
// MSE++ of a group against the weights (-128 taken as -127), M = group_size.
double mse_pp(const std::int8_t* w, int count, const Group& g, double alpha, int group_size = kGroupSize);

// Weight truncation baseline ("Wgt"): the top `bits` magnitude bits below the
// layer's most significant bit, rounded to nearest, clipped.
// Precisely: p = the highest set bit of max |w| (-128 taken as -127), low =
// p - bits + 1; |w| -> min(floor((|w| + 2^(low-1)) / 2^low), 2^bits - 1) * 2^low,
// sign kept (bits >= p + 1: unchanged). bits 1..8.
std::vector<std::int8_t> truncate_weights(const std::vector<std::int8_t>& w, int bits);

// Activation truncation baseline ("Act"): a bit-serial PE that runs only the top `bits` bit-planes of
// its `a_bits`-bit inputs sees x & mask, the low a_bits - bits bits dropped (the paper's layer-wise LSB
// truncation of every activation). The mask of that; bits >= a_bits keeps every bit. bits 1..8.
std::uint8_t activation_truncation_mask(int a_bits, int bits);

// A layer's weights in SWIS form: filters x positions x channel groups.
// Weights come in as [filter][K] with K = C * kh * kw in (c, ky, kx) order
// (the model file's order); a group is group_size consecutive channels at one
// (ky, kx) — for a fully connected layer, group_size consecutive inputs.
// group_size is the PE array's kGroupSize unless a study asks for another M;
// the PE array, its records and the model file take kGroupSize only.
struct LayerShape {
    int filters = 0;    // output channels
    int channels = 0;   // input channels C
    int kernel_h = 1, kernel_w = 1;
    int group_size = kGroupSize;  // M, 1..kMaxGroupSize
    int K() const { return channels * kernel_h * kernel_w; }
    int channel_groups() const { return (channels + group_size - 1) / group_size; }
    int groups_per_filter() const { return channel_groups() * kernel_h * kernel_w; }
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
// The same with each filter's own N (filter_n[f], 1..8), e.g. Schedule::filter_n.
DecomposedLayer decompose_layer(const std::vector<std::int8_t>& w, const LayerShape& shape,
                                const std::vector<int>& filter_n, Variant variant, double alpha = 1.0);

// `lanes` int8 weights (sign-magnitude) as a group over the bit positions msb, msb-1, ..,
// msb-n+1: shift j = msb - j, mask bit j = bit msb - j of |w|. False when a weight has a magnitude
// bit outside that window (or lanes is not 1..kMaxGroupSize). msb 7, n 8 represents every int8
// exactly (-128 too).
bool window_group(const std::int8_t* w, int msb, int n, Group& g, int lanes = kGroupSize);
// Every weight of a layer exactly, as groups over shifts 7..0 (window_group(w, 7, 8)): what
// 8 shifts hold, -128 included, with no decomposition.
DecomposedLayer exact_layer(const std::vector<std::int8_t>& w, const LayerShape& shape);

// The MSE++ of every filter at every shift count: err[f][n] = the sum over the
// filter's groups of MSE++ at N = n (n = 1..8; err[f][0] is unused). What the
// scheduler needs, computed once per layer and variant for any number of targets.
struct FilterCosts {
    LayerShape shape;
    Variant variant = Variant::kSwis;
    double alpha = 1.0;
    std::vector<std::array<double, kShiftPositions + 1>> err;
};
FilterCosts filter_costs(const std::vector<std::int8_t>& w, const LayerShape& shape, Variant variant,
                         double alpha = 1.0);
// Weighs filter f's costs by filter_scale[f]^2: with weights quantized per output
// channel, the filter's scale (its requantization multiplier) turns its integer
// error into the layer's real output error, which is what the schedule should share out.
void scale_costs(FilterCosts& costs, const std::vector<double>& filter_scale);

// Filter scheduling for a target mean shift count T (fractional allowed, e.g.
// 2.5): filters run `array_cols` at a time on the array and a group of
// filters shares one N; start every group above T, repeatedly lower the group
// whose error grows least until the mean N (weighted by filters) is T or just
// below, sort by N. Returns the layer decomposed with those counts.
//
// The rule (docs/swis.md "Filter scheduling"), two phases as in the paper:
// 1. Every filter starts at the smallest allowed N above T (8 when T = 8);
//    repeatedly the filter whose MSE++ grows least by one step down (lowest
//    index on a tie) goes down a step, until sum N <= floor(T * filters).
//    Filters are sorted by that N, then by the cost of their next step down
//    (cheaper first), then by index: the execution order.
// 2. The order is cut into array groups of array_cols filters (the last one
//    ragged when array_cols does not divide the filters); each group gets one
//    N, nondecreasing along the order, chosen by dynamic programming so that
//    sum N * filters is the largest reachable total <= floor(T * filters)
//    (= T * filters exactly whenever the group sizes can reach it), and among
//    those the total MSE++ is smallest.
// shifts_per_cycle 1 (SS PE): N in 1..8; 2 (DS PE): N in {2, 4, 6, 8}, so no
// cycle runs half empty. T must lie in [shifts_per_cycle, 8]; else SwisError.
struct Schedule {
    std::vector<int> order;      // filters in execution order
    std::vector<int> group_n;    // N of each array group (array_cols filters, in `order`)
    double mean_n = 0;           // weighted by filters
    std::vector<int> filter_n;   // N of each filter, by filter index
    double error = 0;            // sum over filters of err[f][filter_n[f]]
    DecomposedLayer layer;       // schedule_filters: the layer decomposed with filter_n
};
Schedule schedule_filters(const std::vector<std::int8_t>& w, const LayerShape& shape, double target, int array_cols,
                          Variant variant, double alpha = 1.0, int shifts_per_cycle = 1);
// Phase 1 and 2 on precomputed costs; `layer` stays empty.
Schedule schedule_from_costs(const FilterCosts& costs, double target, int array_cols, int shifts_per_cycle = 1);

// Storage of one group in bits: M signs + 3N shift bits + M*N mask bits
// (SWIS-C: M + 3 + M*N), against 8*M for int8.
int group_storage_bits(int n, Variant variant, int group_size = kGroupSize);
// Sum over the layer's groups (M = layer.shape.group_size).
std::int64_t layer_storage_bits(const DecomposedLayer& layer);

}  // namespace cimvp::swis
