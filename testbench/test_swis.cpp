// SWIS decomposition, scheduling and storage (sw/contract/swis.h) against the
// definitions of docs/swis.md, with independent brute-force implementations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

#include "sw/contract/swis.h"
#include "sw/formats/swis_packing.h"
#include "sw/support/parallel_for.h"

namespace cimvp::swis {
namespace {

int clamp127(int w) { return w == -128 ? -127 : w; }

// Random int8 weights shaped like a trained layer's (mostly small) with some
// uniform ones and the extremes mixed in.
std::vector<std::int8_t> random_weights(std::mt19937& rng, std::size_t n) {
    std::normal_distribution<double> normal(0.0, 24.0);
    std::uniform_int_distribution<int> uni(-128, 127);
    std::vector<std::int8_t> w(n);
    for (auto& v : w) {
        const int pick = static_cast<int>(rng() % 8);
        int x = pick == 0 ? uni(rng) : static_cast<int>(std::lround(normal(rng)));
        if (pick == 1) x = (rng() & 1) ? 127 : -128;
        v = static_cast<std::int8_t>(std::clamp(x, -128, 127));
    }
    return w;
}

struct Brute {
    Group group;
    double cost = 0;
};

// The definition, naively: every shift set of N positions in increasing mask
// order (SWIS-C: the windows by offset), every weight tries all 2^N masks and
// keeps the nearest level <= 127 (the smaller on a tie), MSE++ over the group.
Brute brute_force(const std::int8_t* w, int count, int n, Variant variant, double alpha, int group_size = 4) {
    Brute best;
    best.cost = INFINITY;
    for (int set = 0; set < 256; ++set) {
        if (__builtin_popcount(static_cast<unsigned>(set)) != n) continue;
        if (variant == Variant::kSwisC) {
            const int low = __builtin_ctz(static_cast<unsigned>(set));
            if (set != ((1 << n) - 1) << low) continue;
        }
        std::vector<int> shifts;
        for (int p = 7; p >= 0; --p)
            if (set >> p & 1) shifts.push_back(p);
        Group g;
        g.n = static_cast<std::uint8_t>(n);
        for (int j = 0; j < n; ++j) g.shift[j] = static_cast<std::uint8_t>(shifts[j]);
        double sum = 0, sumsq = 0;
        for (int i = 0; i < count; ++i) {
            const int target = std::abs(clamp127(w[i]));
            int best_mask = 0, best_level = 0;
            for (int m = 0; m < (1 << n); ++m) {
                int level = 0;
                for (int j = 0; j < n; ++j)
                    if (m >> j & 1) level += 1 << shifts[j];
                if (level > 127) continue;
                const int d = std::abs(target - level), bd = std::abs(target - best_level);
                if (d < bd || (d == bd && level < best_level)) {
                    best_level = level;
                    best_mask = m;
                }
            }
            g.mask[i] = static_cast<std::uint8_t>(best_mask);
            if (w[i] < 0) g.sign |= static_cast<std::uint16_t>(1 << i);
            const double e = clamp127(w[i]) - (w[i] < 0 ? -best_level : best_level);
            sum += e;
            sumsq += e * e;
        }
        const double cost = (alpha * sum * sum + sumsq) / group_size;
        if (cost < best.cost) {
            best.cost = cost;
            best.group = g;
        }
    }
    return best;
}

void expect_same_group(const Group& a, const Group& b, const std::string& what) {
    ASSERT_EQ(a.n, b.n) << what;
    for (int j = 0; j < a.n; ++j) EXPECT_EQ(a.shift[j], b.shift[j]) << what << " shift " << j;
    EXPECT_EQ(a.sign, b.sign) << what;
    for (int i = 0; i < kMaxGroupSize; ++i) EXPECT_EQ(a.mask[i], b.mask[i]) << what << " mask " << i;
}

// The parallel-for the decomposition runs on: every index once, whatever the thread count;
// a body's exception reaches the caller after the workers are joined.
TEST(ParallelFor, RunsEveryIndexOnceAndRethrowsABodysException) {
    for (const unsigned threads : {0u, 1u, 3u}) {
        std::vector<int> runs(1000, 0);
        parallel_for(runs.size(), [&](std::size_t i) { ++runs[i]; }, threads);
        EXPECT_EQ(std::count(runs.begin(), runs.end(), 1), 1000) << threads << " threads";
    }
    const auto throw_at_17 = [](std::size_t i) {
        if (i == 17) throw SwisError("body");
    };
    EXPECT_THROW(parallel_for(64, throw_at_17, 4), SwisError);
    std::vector<int> seen(10, 0);
    parallel_ranges(10, std::int64_t{1} << 20, [&](int first, int last) {
        for (int i = first; i < last; ++i) ++seen[static_cast<std::size_t>(i)];
    });
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 10);
}

TEST(SwisDecompose, EightShiftsReproduceEveryInt8) {
    std::vector<std::int8_t> all(256);
    for (int v = -128; v < 128; ++v) all[v + 128] = static_cast<std::int8_t>(v);
    std::mt19937 rng(7);
    std::shuffle(all.begin(), all.end(), rng);
    for (Variant variant : {Variant::kSwis, Variant::kSwisC}) {
        for (int g = 0; g < 64; ++g) {
            DecomposeOptions opt;
            opt.n = 8;
            opt.variant = variant;
            const Group grp = decompose_group(&all[4 * g], 4, opt);
            for (int i = 0; i < 4; ++i) EXPECT_EQ(grp.weight(i), clamp127(all[4 * g + i]));
            EXPECT_EQ(mse_pp(&all[4 * g], 4, grp, 1.0), 0.0);
        }
        // The same through a layer: 4 filters x 16 channels x 2x2.
        const LayerShape shape{4, 16, 2, 2};
        const DecomposedLayer d = decompose_layer(all, shape, 8, variant);
        const std::vector<std::int8_t> back = d.weights();
        ASSERT_EQ(back.size(), all.size());
        for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(back[i], clamp127(all[i])) << i;
    }
}

TEST(SwisDecompose, ExhaustiveSearchEqualsBruteForce) {
    std::mt19937 rng(11);
    int checked = 0;
    for (Variant variant : {Variant::kSwis, Variant::kSwisC})
        for (double alpha : {0.0, 1.0})
            for (int n : {1, 2, 3, 4, 5, 8}) {
                const auto w = random_weights(rng, 4 * 150);
                for (int g = 0; g < 150; ++g) {
                    const int count = g % 10 == 9 ? 1 + static_cast<int>(rng() % 3) : 4;
                    DecomposeOptions opt;
                    opt.n = n;
                    opt.variant = variant;
                    opt.alpha = alpha;
                    const Group mine = decompose_group(&w[4 * g], count, opt);
                    const Brute ref = brute_force(&w[4 * g], count, n, variant, alpha);
                    const std::string what = "n=" + std::to_string(n) + " alpha=" + std::to_string(alpha) +
                                             (variant == Variant::kSwisC ? " SWIS-C" : " SWIS") + " group " +
                                             std::to_string(g);
                    expect_same_group(mine, ref.group, what);
                    EXPECT_EQ(mse_pp(&w[4 * g], count, mine, alpha), ref.cost) << what;
                    ++checked;
                }
            }
    EXPECT_EQ(checked, 2 * 2 * 6 * 150);
}

// Group sizes other than the PE array's 4 (the paper's group-size study): the same search
// against the same brute force, M weights per group, MSE++ over M; an alpha at the edge
// of the integer path on either side of it gives the same groups as the brute force.
TEST(SwisDecompose, EveryGroupSizeEqualsBruteForce) {
    std::mt19937 rng(19);
    int checked = 0;
    for (int M : {1, 2, 8, 16})
        for (Variant variant : {Variant::kSwis, Variant::kSwisC})
            for (double alpha : {0.0, 1.0, 520.0, 521.0, 2.5})
                for (int n : {1, 2, 3, 5}) {
                    const auto w = random_weights(rng, static_cast<std::size_t>(M) * 20);
                    for (int g = 0; g < 20; ++g) {
                        const int count = g % 5 == 4 ? 1 + static_cast<int>(rng() % M) : M;
                        DecomposeOptions opt;
                        opt.n = n;
                        opt.variant = variant;
                        opt.alpha = alpha;
                        opt.group_size = M;
                        const Group mine = decompose_group(&w[static_cast<std::size_t>(M) * g], count, opt);
                        const Brute ref = brute_force(&w[static_cast<std::size_t>(M) * g], count, n, variant, alpha, M);
                        const std::string what = "M=" + std::to_string(M) + " n=" + std::to_string(n) +
                                                 " alpha=" + std::to_string(alpha) + " group " + std::to_string(g);
                        expect_same_group(mine, ref.group, what);
                        EXPECT_DOUBLE_EQ(mse_pp(&w[static_cast<std::size_t>(M) * g], count, mine, alpha, M), ref.cost)
                            << what;
                        ++checked;
                    }
                }
    EXPECT_EQ(checked, 4 * 2 * 5 * 4 * 20);
}

// A layer in groups of M: eight shifts give every weight back, the groups are M consecutive
// channels (ragged at the end), the filter costs are the groups' MSE++ summed, and the
// storage is M signs + 3N + M N bits per group.
TEST(SwisLayer, AnyGroupSizeTilesTheChannelsAndKeepsItsCosts) {
    std::mt19937 rng(23);
    for (int M : {1, 2, 8, 16}) {
        LayerShape shape{3, 20, 3, 3};  // 20 channels: ragged for 8 and 16
        shape.group_size = M;
        const auto w = random_weights(rng, static_cast<std::size_t>(shape.filters) * shape.K());
        const std::size_t per = static_cast<std::size_t>(shape.groups_per_filter());
        EXPECT_EQ(per, static_cast<std::size_t>((20 + M - 1) / M * 9)) << M;
        const DecomposedLayer exact = decompose_layer(w, shape, 8, Variant::kSwis);
        const auto back = exact.weights();
        for (std::size_t i = 0; i < w.size(); ++i) ASSERT_EQ(back[i], clamp127(w[i])) << "M " << M << " weight " << i;
        EXPECT_EQ(exact_layer(w, shape).weights(), w) << "exact_layer keeps -128, M " << M;
        const FilterCosts fc = filter_costs(w, shape, Variant::kSwis, 1.0);
        for (int n : {1, 3}) {
            const DecomposedLayer d = decompose_layer(w, shape, n, Variant::kSwis, 1.0);
            std::int64_t bits = 0;
            for (int f = 0; f < shape.filters; ++f) {
                double sum = 0;
                for (std::size_t gi = 0; gi < per; ++gi) {
                    const int cgroups = shape.channel_groups();
                    const int cg = static_cast<int>(gi % cgroups), kx = static_cast<int>(gi / cgroups % 3),
                              ky = static_cast<int>(gi / cgroups / 3);
                    std::int8_t g[kMaxGroupSize] = {};
                    const int count = std::min(M, shape.channels - cg * M);
                    for (int i = 0; i < count; ++i) g[i] = w[f * shape.K() + (cg * M + i) * 9 + ky * 3 + kx];
                    const Group& grp = d.groups[f * per + gi];
                    for (int i = count; i < kMaxGroupSize; ++i) EXPECT_EQ(grp.mask[i], 0) << "lane past the channels";
                    EXPECT_EQ(grp.sign >> count, 0) << "sign past the channels";
                    sum += mse_pp(g, count, grp, 1.0, M);
                    bits += M + 3 * n + M * n;
                }
                EXPECT_NEAR(fc.err[f][n], sum, 1e-9 * std::max(1.0, sum)) << "M " << M << " filter " << f << " n " << n;
            }
            EXPECT_EQ(layer_storage_bits(d), bits) << "M " << M << " n " << n;
        }
    }
    EXPECT_EQ(group_storage_bits(1, Variant::kSwis, 16), 16 + 3 + 16);
    EXPECT_EQ(group_storage_bits(2, Variant::kSwisC, 8), 8 + 3 + 16);
}

// The model file's packing, what the SystemC PE array loads, is built for groups of 4 and says
// so; the decomposition, and the analytic array model (test_swis_perf.cpp), take any M in 1..16.
TEST(SwisLayer, GroupSizesOutsideTheRangeOrOffThePeArrayAreRefused) {
    std::mt19937 rng(29);
    LayerShape shape{2, 8, 1, 1};
    const auto w = random_weights(rng, 16);
    for (int bad : {0, 17, -4}) {
        shape.group_size = bad;
        EXPECT_THROW(decompose_layer(w, shape, 2, Variant::kSwis), SwisError) << bad;
        EXPECT_THROW(filter_costs(w, shape, Variant::kSwis), SwisError) << bad;
    }
    EXPECT_THROW(group_storage_bits(2, Variant::kSwis, 0), SwisError);
    DecomposeOptions opt;
    opt.group_size = 2;
    EXPECT_THROW(decompose_group(w.data(), 3, opt), SwisError) << "3 weights in a group of 2";
    shape.group_size = 8;
    const DecomposedLayer d = decompose_layer(w, shape, 2, Variant::kSwis);
    try {
        pack_groups(d);
        ADD_FAILURE() << "packed groups of 8";
    } catch (const SwisError& e) {
        EXPECT_NE(std::string(e.what()).find("group size"), std::string::npos) << e.what();
    }
}

TEST(SwisDecompose, FilterCostsAreTheSumOfGroupCosts) {
    std::mt19937 rng(3);
    const LayerShape shape{5, 7, 3, 3};  // a ragged channel group
    const auto w = random_weights(rng, static_cast<std::size_t>(shape.filters) * shape.K());
    for (Variant variant : {Variant::kSwis, Variant::kSwisC}) {
        const FilterCosts fc = filter_costs(w, shape, variant, 1.0);
        for (int n = 1; n <= 8; ++n) {
            const DecomposedLayer d = decompose_layer(w, shape, n, variant, 1.0);
            const auto dw = d.weights();
            for (int f = 0; f < shape.filters; ++f) {
                double sum = 0;
                const std::size_t per = static_cast<std::size_t>(shape.groups_per_filter());
                for (std::size_t gi = 0; gi < per; ++gi) {
                    // Regather the group's weights: [ky][kx][cg] order.
                    const std::size_t r = gi;
                    const int cg = static_cast<int>(r % 2), kx = static_cast<int>(r / 2 % 3),
                              ky = static_cast<int>(r / 6);
                    std::int8_t g[4] = {};
                    const int count = std::min(4, shape.channels - cg * 4);
                    for (int i = 0; i < count; ++i) g[i] = w[f * shape.K() + (cg * 4 + i) * 9 + ky * 3 + kx];
                    sum += mse_pp(g, count, d.groups[f * per + gi], 1.0);
                }
                EXPECT_NEAR(fc.err[f][n], sum, 1e-9 * std::max(1.0, sum)) << "filter " << f << " n " << n;
            }
        }
    }
}

TEST(SwisDecompose, SwisCUsesConsecutiveShifts) {
    std::mt19937 rng(5);
    const auto w = random_weights(rng, 4 * 400);
    for (int n = 1; n <= 8; ++n)
        for (int g = 0; g < 400; ++g) {
            DecomposeOptions opt;
            opt.n = n;
            opt.variant = Variant::kSwisC;
            const Group c = decompose_group(&w[4 * g], 4, opt);
            ASSERT_EQ(c.n, n);
            const int offset = c.shift[n - 1];
            EXPECT_LE(offset + n, 8);
            for (int j = 0; j < n; ++j) EXPECT_EQ(c.shift[j], offset + n - 1 - j) << "n " << n << " group " << g;
            // SWIS may pick any set, the windows included: never worse.
            opt.variant = Variant::kSwis;
            const Group s = decompose_group(&w[4 * g], 4, opt);
            EXPECT_LE(mse_pp(&w[4 * g], 4, s, 1.0), mse_pp(&w[4 * g], 4, c, 1.0));
        }
}

TEST(SwisVariant, EachNameReadsBackAsItsVariantAndNoOtherNameReads) {
    for (Variant v : {Variant::kSwis, Variant::kSwisC}) EXPECT_EQ(parse_variant(variant_name(v)), v);
    EXPECT_STRNE(variant_name(Variant::kSwis), variant_name(Variant::kSwisC));
    for (const char* bad : {"", "SWIS", "swisc", "swis-c ", "swis_c"}) EXPECT_FALSE(parse_variant(bad)) << bad;
}

TEST(SwisDecompose, RejectsBadArguments) {
    const std::int8_t w[4] = {1, 2, 3, 4};
    DecomposeOptions opt;
    opt.n = 0;
    EXPECT_THROW(decompose_group(w, 4, opt), SwisError);
    opt.n = 9;
    EXPECT_THROW(decompose_group(w, 4, opt), SwisError);
    opt.n = 2;
    EXPECT_THROW(decompose_group(w, 5, opt), SwisError);
    EXPECT_THROW(decompose_layer(std::vector<std::int8_t>(10), LayerShape{2, 3, 1, 1}, 2, Variant::kSwis), SwisError);
}

TEST(SwisTruncate, ActivationMaskKeepsTheTopBitPlanes) {
    EXPECT_EQ(activation_truncation_mask(8, 3), 0xE0);
    EXPECT_EQ(activation_truncation_mask(8, 1), 0x80);
    EXPECT_EQ(activation_truncation_mask(8, 8), 0xFF);
    EXPECT_EQ(activation_truncation_mask(4, 2), 0x0C);
    EXPECT_EQ(activation_truncation_mask(4, 6), 0x0F);  // more bits than the activations have: all of them
    EXPECT_THROW(activation_truncation_mask(8, 0), SwisError);
    EXPECT_THROW(activation_truncation_mask(8, 9), SwisError);
    EXPECT_THROW(activation_truncation_mask(0, 4), SwisError);
}

TEST(SwisTruncate, KeepsTopBitsRoundsAndClips) {
    // max |w| = 127: p = 6; 2 bits keep positions 6, 5: levels 0, 32, 64, 96.
    const std::vector<std::int8_t> w = {127, 100, -3, 1, -48, 16, -128, 79};
    const std::vector<std::int8_t> want = {96, 96, 0, 0, -64, 32, -96, 64};
    EXPECT_EQ(truncate_weights(w, 2), want);
    // max |w| = 20: p = 4; 3 bits keep 16, 8, 4: 20 -> 20, 13 -> 12 (3.25), 14 -> 16 (3.5 rounds up), 31 clips.
    EXPECT_EQ(truncate_weights({20, 13, -14, 2, -1}, 3), (std::vector<std::int8_t>{20, 12, -16, 4, 0}));
    EXPECT_EQ(truncate_weights({20, 31}, 3), (std::vector<std::int8_t>{20, 28}));
    // Enough bits: unchanged (-128 as -127).
    EXPECT_EQ(truncate_weights({20, -13, 5}, 5), (std::vector<std::int8_t>{20, -13, 5}));
    EXPECT_EQ(truncate_weights({-128, 3}, 8), (std::vector<std::int8_t>{-127, 3}));
    EXPECT_EQ(truncate_weights({0, 0}, 2), (std::vector<std::int8_t>{0, 0}));
    EXPECT_THROW(truncate_weights(w, 0), SwisError);
    // Property: the nearest of the levels k * 2^low, k = 0 .. 2^bits - 1 (half-way rounds up), sign kept.
    std::mt19937 rng(9);
    const auto r = random_weights(rng, 2000);
    for (int bits = 1; bits <= 7; ++bits) {
        const auto t = truncate_weights(r, bits);
        const int low = 6 - bits + 1;  // the samples include 127: p = 6
        for (std::size_t i = 0; i < r.size(); ++i) {
            const int m = std::abs(clamp127(r[i]));
            int best = 0;
            for (int k = 0; k < (1 << bits); ++k) {
                const int level = low > 0 ? k << low : k;
                if (std::abs(m - level) <= std::abs(m - best)) best = level;
            }
            EXPECT_EQ(t[i], r[i] < 0 ? -best : best) << "bits " << bits << " w " << int{r[i]};
        }
    }
}

// Weight i of group gi encodes its position: [filter][ky][kx][channel group], lane.
TEST(SwisLayer, WeightsFollowTheGroupLayout) {
    const LayerShape shape{2, 6, 2, 3};  // channel groups 0..3 and 4..5 (ragged)
    ASSERT_EQ(shape.groups_per_filter(), 12);
    DecomposedLayer d;
    d.shape = shape;
    d.shifts = {7, 7};
    int gi = 0;
    for (int f = 0; f < 2; ++f)
        for (int ky = 0; ky < 2; ++ky)
            for (int kx = 0; kx < 3; ++kx)
                for (int cg = 0; cg < 2; ++cg, ++gi) {
                    Group g;
                    g.n = 7;
                    for (int j = 0; j < 7; ++j) g.shift[j] = static_cast<std::uint8_t>(6 - j);
                    for (int i = 0; i < std::min(4, 6 - 4 * cg); ++i) {
                        const int v = gi * 4 + i + 1;  // 1..96
                        for (int j = 0; j < 7; ++j)
                            if (v >> (6 - j) & 1) g.mask[i] |= static_cast<std::uint8_t>(1 << j);
                        if (i % 2) g.sign |= static_cast<std::uint8_t>(1 << i);
                    }
                    d.groups.push_back(g);
                }
    const auto w = d.weights();
    ASSERT_EQ(w.size(), static_cast<std::size_t>(2 * shape.K()));
    gi = 0;
    for (int f = 0; f < 2; ++f)
        for (int ky = 0; ky < 2; ++ky)
            for (int kx = 0; kx < 3; ++kx)
                for (int cg = 0; cg < 2; ++cg, ++gi)
                    for (int i = 0; i < std::min(4, 6 - 4 * cg); ++i) {
                        const int c = 4 * cg + i;
                        const int want = (i % 2 ? -1 : 1) * (gi * 4 + i + 1);
                        EXPECT_EQ(w[f * shape.K() + c * 6 + ky * 3 + kx], want) << "f " << f << " c " << c;
                    }
    // And decomposition gathers the same groups from those weights.
    const DecomposedLayer again = decompose_layer(w, shape, 8, Variant::kSwis);
    ASSERT_EQ(again.groups.size(), d.groups.size());
    for (std::size_t k = 0; k < d.groups.size(); ++k)
        for (int i = 0; i < 4; ++i) EXPECT_EQ(again.groups[k].weight(i), d.groups[k].weight(i)) << k;
}

void check_schedule(const Schedule& s, const FilterCosts& fc, int cols, int spc) {
    const int F = static_cast<int>(fc.err.size());
    ASSERT_EQ(static_cast<int>(s.order.size()), F);
    std::vector<int> sorted = s.order;
    std::sort(sorted.begin(), sorted.end());
    for (int f = 0; f < F; ++f) ASSERT_EQ(sorted[f], f);
    ASSERT_EQ(static_cast<int>(s.group_n.size()), (F + cols - 1) / cols);
    for (std::size_t g = 1; g < s.group_n.size(); ++g) EXPECT_LE(s.group_n[g - 1], s.group_n[g]);
    double total = 0, err = 0;
    for (int i = 0; i < F; ++i) {
        const int f = s.order[i];
        EXPECT_EQ(s.filter_n[f], s.group_n[i / cols]);
        EXPECT_EQ(s.filter_n[f] % spc, 0);
        total += s.filter_n[f];
        err += fc.err[f][s.filter_n[f]];
    }
    EXPECT_DOUBLE_EQ(s.mean_n, total / F);
    EXPECT_NEAR(s.error, err, 1e-9 * std::max(1.0, err));
}

TEST(SwisSchedule, MeanShiftCountEqualsTarget) {
    std::mt19937 rng(21);
    // Array groups of 8 filters: 8 and 4 groups reach every target with even N too.
    const LayerShape shapes[] = {{64, 16, 3, 3}, {32, 40, 1, 1}, {32, 3, 5, 5}};
    for (const LayerShape& shape : shapes) {
        const auto w = random_weights(rng, static_cast<std::size_t>(shape.filters) * shape.K());
        for (Variant variant : {Variant::kSwis, Variant::kSwisC}) {
            const FilterCosts fc = filter_costs(w, shape, variant);
            for (int spc : {1, 2})
                for (double t : {2.0, 2.5, 3.0, 3.5}) {
                    const Schedule s = schedule_from_costs(fc, t, 8, spc);
                    EXPECT_DOUBLE_EQ(s.mean_n, t) << shape.filters << " filters, T " << t << " spc " << spc;
                    check_schedule(s, fc, 8, spc);
                    // A uniform N = T is one of the assignments the search considers.
                    if (t == std::floor(t) && static_cast<int>(t) % spc == 0) {
                        double uniform = 0;
                        for (int f = 0; f < shape.filters; ++f) uniform += fc.err[f][static_cast<int>(t)];
                        EXPECT_LE(s.error, uniform + 1e-9);
                    }
                }
        }
    }
    // schedule_filters decomposes with the schedule's counts.
    const LayerShape shape{16, 8, 3, 3};
    const auto w = random_weights(rng, static_cast<std::size_t>(shape.filters) * shape.K());
    const Schedule s = schedule_filters(w, shape, 2.5, 8, Variant::kSwis);
    EXPECT_DOUBLE_EQ(s.mean_n, 2.5);
    EXPECT_EQ(s.layer.shifts, s.filter_n);
    const std::size_t per = static_cast<std::size_t>(shape.groups_per_filter());
    for (std::size_t gi = 0; gi < s.layer.groups.size(); ++gi) EXPECT_EQ(s.layer.groups[gi].n, s.filter_n[gi / per]);
    EXPECT_EQ(s.layer.weights(), decompose_layer(w, shape, s.filter_n, Variant::kSwis).weights());
}

TEST(SwisSchedule, LargestReachableMeanAtOrBelowTarget) {
    std::mt19937 rng(4);
    // 12 filters in groups of 8 and 4: totals 8a + 4b with a <= b. T = 2.5 wants 30: not reachable; 28 is (a 2, b 3).
    struct Case {
        int filters, cols, spc;
        double target;
    };
    for (const Case c : {Case{12, 8, 1, 2.5}, Case{12, 8, 2, 2.5}, Case{3, 8, 1, 2.5}, Case{10, 8, 1, 3.7},
                         Case{20, 8, 2, 3.0}, Case{64, 8, 1, 2.51}}) {
        const LayerShape shape{c.filters, 8, 3, 3};
        const auto w = random_weights(rng, static_cast<std::size_t>(shape.filters) * shape.K());
        const FilterCosts fc = filter_costs(w, shape, Variant::kSwis);
        const Schedule s = schedule_from_costs(fc, c.target, c.cols, c.spc);
        check_schedule(s, fc, c.cols, c.spc);
        // Brute force over the nondecreasing assignments of the groups.
        const int groups = (c.filters + c.cols - 1) / c.cols;
        std::vector<int> n(groups, c.spc);
        long best = -1;
        const long budget = static_cast<long>(std::floor(c.target * c.filters + 1e-9));
        std::function<void(int, int)> rec = [&](int g, int lo) {
            if (g == groups) {
                long total = 0;
                for (int k = 0; k < groups; ++k) total += static_cast<long>(n[k]) * std::min(c.cols, c.filters - k * c.cols);
                if (total <= budget) best = std::max(best, total);
                return;
            }
            for (int v = lo; v <= 8; v += c.spc) {
                n[g] = v;
                rec(g + 1, v);
            }
        };
        rec(0, c.spc);
        EXPECT_DOUBLE_EQ(s.mean_n, static_cast<double>(best) / c.filters)
            << c.filters << " filters, cols " << c.cols << ", T " << c.target;
        EXPECT_LE(s.mean_n, c.target);
    }
    const LayerShape shape{12, 8, 1, 1};
    const FilterCosts fc = filter_costs(std::vector<std::int8_t>(96, 5), shape, Variant::kSwis);
    EXPECT_DOUBLE_EQ(schedule_from_costs(fc, 2.5, 8).mean_n, 28.0 / 12);
    EXPECT_THROW(schedule_from_costs(fc, 0.5, 8), SwisError);
    EXPECT_THROW(schedule_from_costs(fc, 1.5, 8, 2), SwisError);
    EXPECT_THROW(schedule_from_costs(fc, 8.5, 8), SwisError);
    EXPECT_THROW(schedule_from_costs(fc, 3, 0), SwisError);
}

TEST(SwisSchedule, LowerErrorFiltersGetFewerShifts) {
    std::mt19937 rng(8);
    // Even filters: every group is one power of two (+-, or 0): exact at N = 1.
    // Odd filters: random weights.
    const LayerShape shape{32, 8, 3, 3};
    std::vector<std::int8_t> w = random_weights(rng, static_cast<std::size_t>(shape.filters) * shape.K());
    for (int f = 0; f < shape.filters; f += 2)
        for (int k = 0; k < shape.K(); ++k) {
            const int p = k % 9 % 7;  // the same position across a group (same ky, kx)
            const int r = static_cast<int>(rng() % 3);
            w[f * shape.K() + k] = static_cast<std::int8_t>(r == 0 ? 0 : (r == 1 ? 1 : -1) * (1 << p));
        }
    for (int spc : {1, 2})
        for (double t : {2.0, 3.0, 4.0}) {
            const Schedule s = schedule_filters(w, shape, t, 8, Variant::kSwis, 1.0, spc);
            EXPECT_DOUBLE_EQ(s.mean_n, t);
            if (t == 2.0 && spc == 2) continue;  // every filter at the double-shift minimum, 2
            int easy_max = 0, hard_min = 8;
            for (int f = 0; f < shape.filters; ++f)
                (f % 2 ? hard_min = std::min(hard_min, s.filter_n[f]) : easy_max = std::max(easy_max, s.filter_n[f]));
            EXPECT_LT(easy_max, hard_min) << "T " << t;
            for (int i = 0; i < shape.filters / 2; ++i) EXPECT_EQ(s.order[i] % 2, 0) << "position " << i;
            // The easy filters are exact at any N.
            const auto dw = s.layer.weights();
            for (int f = 0; f < shape.filters; f += 2)
                for (int k = 0; k < shape.K(); ++k) EXPECT_EQ(dw[f * shape.K() + k], w[f * shape.K() + k]);
        }
}

TEST(SwisStorage, GroupBitsFormula) {
    for (int n = 1; n <= 8; ++n) {
        EXPECT_EQ(group_storage_bits(n, Variant::kSwis), 4 + 3 * n + 4 * n);
        EXPECT_EQ(group_storage_bits(n, Variant::kSwisC), 4 + 3 + 4 * n);
    }
    // Against int8's 32 bits a group: N = 2 is 18 (1.78x smaller), SWIS-C 15 (2.13x).
    EXPECT_EQ(group_storage_bits(2, Variant::kSwis), 18);
    EXPECT_EQ(group_storage_bits(2, Variant::kSwisC), 15);
    EXPECT_EQ(group_storage_bits(4, Variant::kSwis), 32);
    EXPECT_THROW(group_storage_bits(0, Variant::kSwis), SwisError);
}

TEST(SwisStorage, PackUnpackRoundTrip) {
    std::mt19937 rng(13);
    const LayerShape shape{10, 6, 3, 3};
    const auto w = random_weights(rng, static_cast<std::size_t>(shape.filters) * shape.K());
    for (Variant variant : {Variant::kSwis, Variant::kSwisC}) {
        std::vector<int> fn(shape.filters);
        for (auto& n : fn) n = 1 + static_cast<int>(rng() % 8);
        const DecomposedLayer d = decompose_layer(w, shape, fn, variant);
        const auto bytes = pack_groups(d);
        const std::int64_t bits = layer_storage_bits(d);
        std::int64_t want_bits = 0;
        for (int f = 0; f < shape.filters; ++f) want_bits += shape.groups_per_filter() * group_storage_bits(fn[f], variant);
        EXPECT_EQ(bits, want_bits);
        EXPECT_EQ(static_cast<std::int64_t>(bytes.size()), (bits + 7) / 8);
        const DecomposedLayer back = unpack_groups(bytes, shape, variant, fn);
        ASSERT_EQ(back.groups.size(), d.groups.size());
        for (std::size_t k = 0; k < d.groups.size(); ++k) expect_same_group(back.groups[k], d.groups[k], std::to_string(k));
        EXPECT_EQ(back.weights(), d.weights());
        EXPECT_EQ(back.shifts, fn);
    }
}

TEST(SwisStorage, BitLayoutOfOneGroup) {
    // One filter, 4 channels, 1x1: w = {5, -3, 0, 12} at N = 2.
    const LayerShape shape{1, 4, 1, 1};
    DecomposedLayer d;
    d.shape = shape;
    d.shifts = {2};
    Group g;
    g.n = 2;
    g.shift[0] = 3;  // 8
    g.shift[1] = 2;  // 4
    g.sign = 0b0010;
    g.mask = {0b10, 0b10, 0b00, 0b11};  // 4, -4, 0, 12
    d.groups.push_back(g);
    const auto bytes = pack_groups(d);
    // signs (bit i = weight i) | shift 3 | shift 2 | plane 0 (bit i = bit 0 of mask[i]) | plane 1
    // LSB first: 0,1,0,0, 1,1,0, 0,1,0, 0,0,0,1, 1,1,0,1 -> 18 bits.
    ASSERT_EQ(bytes.size(), 3u);
    const int bits[] = {0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1};
    for (int b = 0; b < 18; ++b) EXPECT_EQ(bytes[b / 8] >> (b % 8) & 1, bits[b]) << "bit " << b;
    EXPECT_EQ(bytes[2] >> 2, 0);
    d.variant = Variant::kSwisC;
    const auto c = pack_groups(d);  // signs | offset 2 (010) | planes: 15 bits
    ASSERT_EQ(c.size(), 2u);
    const int cbits[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1};
    for (int b = 0; b < 15; ++b) EXPECT_EQ(c[b / 8] >> (b % 8) & 1, cbits[b]) << "bit " << b;
}

// Bits LSB first, as pack_groups writes them.
std::vector<std::uint8_t> bitstream(const std::vector<std::pair<unsigned, int>>& fields) {
    std::vector<std::uint8_t> out;
    int pos = 0;
    for (const auto& [v, bits] : fields)
        for (int b = 0; b < bits; ++b, ++pos) {
            if (pos % 8 == 0) out.push_back(0);
            if (v >> b & 1) out.back() |= static_cast<std::uint8_t>(1 << (pos % 8));
        }
    return out;
}

std::string unpack_error(const std::vector<std::uint8_t>& b, const LayerShape& s, Variant v, const std::vector<int>& fn) {
    try {
        unpack_groups(b, s, v, fn);
    } catch (const SwisError& e) {
        return e.what();
    }
    return "no error";
}

TEST(SwisStorage, UnpackRejectsMalformedStreams) {
    const LayerShape shape{1, 4, 1, 1};
    // signs, shift 3, shift 2, planes: the group of BitLayoutOfOneGroup.
    const auto good = bitstream({{0b0010, 4}, {3, 3}, {2, 3}, {0b1000, 4}, {0b1011, 4}});
    EXPECT_EQ(unpack_error(good, shape, Variant::kSwis, {2}), "no error");
    EXPECT_EQ(unpack_groups(good, shape, Variant::kSwis, {2}).weights(), (std::vector<std::int8_t>{4, -4, 0, 12}));
    EXPECT_NE(unpack_error({good[0], good[1]}, shape, Variant::kSwis, {2}).find("size: expected 3 bytes (18 bits), got 2"),
              std::string::npos);
    auto pad = good;
    pad[2] |= 0x80;
    EXPECT_NE(unpack_error(pad, shape, Variant::kSwis, {2}).find("padding"), std::string::npos);
    const auto ascending = bitstream({{0b0010, 4}, {2, 3}, {3, 3}, {0b1000, 4}, {0b1011, 4}});
    EXPECT_NE(unpack_error(ascending, shape, Variant::kSwis, {2}).find("distinct and descending"), std::string::npos);
    const auto twice = bitstream({{0, 4}, {3, 3}, {3, 3}, {0, 4}, {0, 4}});
    EXPECT_NE(unpack_error(twice, shape, Variant::kSwis, {2}).find("distinct and descending"), std::string::npos);
    // A mask bit on shift 7 is a magnitude of 128 or more.
    const auto big = bitstream({{0, 4}, {7, 3}, {2, 3}, {0b0001, 4}, {0, 4}});
    EXPECT_NE(unpack_error(big, shape, Variant::kSwis, {2}).find("exceeds 127"), std::string::npos);
    // SWIS-C, N = 2: offset 7 would use positions 7 and 8.
    const auto offset = bitstream({{0, 4}, {7, 3}, {0, 4}, {0, 4}});
    EXPECT_NE(unpack_error(offset, shape, Variant::kSwisC, {2}).find("offset: expected 0..6 for N = 2, got 7"),
              std::string::npos);
    // Lanes beyond the channels must be empty: 3 channels, lane 3 has mask bits.
    EXPECT_NE(unpack_error(good, LayerShape{1, 3, 1, 1}, Variant::kSwis, {2}).find("lane 3"), std::string::npos);
    EXPECT_THROW(unpack_groups(good, shape, Variant::kSwis, {0}), SwisError);
    EXPECT_THROW(unpack_groups(good, shape, Variant::kSwis, {2, 2}), SwisError);
    // pack refuses what unpack refuses.
    DecomposedLayer d = unpack_groups(good, shape, Variant::kSwis, {2});
    d.groups[0].shift[0] = 7;
    EXPECT_THROW(pack_groups(d), SwisError);
    d = unpack_groups(good, shape, Variant::kSwis, {2});
    d.shifts = {3};
    EXPECT_THROW(pack_groups(d), SwisError);
}

}  // namespace
}  // namespace cimvp::swis
