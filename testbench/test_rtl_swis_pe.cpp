// Cross-check of the SWIS PE's RTL (rtl/swis_pe.sv, single- and double-shift,
// Verilated C++ model driven by rtl/rtl_swis_pe.h) against the PE's cycle
// model (hw/swis_pe.h SwisPe::step): random groups clock by clock, directed
// corners, clear and reset, clock counts per group.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "hw/swis_pe.h"
#include "rtl/rtl_swis_pe.h"

namespace cimvp {
namespace {

constexpr int kRandomGroups = 100000;
constexpr int kLanes = swis::kGroupSize;

swis::Group random_group(std::mt19937_64& rng, int n) {
    swis::Group g;
    g.n = static_cast<std::uint8_t>(n);
    std::array<std::uint8_t, 8> pos = {0, 1, 2, 3, 4, 5, 6, 7};
    std::shuffle(pos.begin(), pos.end(), rng);
    std::sort(pos.begin(), pos.begin() + n, std::greater<>());
    for (int j = 0; j < n; ++j) g.shift[j] = pos[j];
    g.sign = static_cast<std::uint8_t>(rng() & 0x0F);
    const unsigned used = (1u << n) - 1;
    for (int i = 0; i < kLanes; ++i) g.mask[i] = static_cast<std::uint8_t>(rng() & used);
    return g;
}

// Random groups clock by clock on the RTL and on SwisPe: the accumulators equal after every
// clock, the groups end on the same clock, and each group takes pe_cycles_per_group clocks.
void random_groups_match(PeMode mode) {
    RtlSwisPe rtl(mode);
    SwisPe model(mode);
    std::mt19937_64 rng(mode == PeMode::kSingleShift ? 11 : 22);
    std::uint64_t cycles = 0, clears = 0;
    for (int k = 0; k < kRandomGroups; ++k) {
        const int n = 1 + static_cast<int>(rng() % 8);
        const swis::Group g = random_group(rng, n);
        std::array<std::uint8_t, kLanes> a{};
        for (auto& x : a) x = static_cast<std::uint8_t>(rng());
        if (k % 64 == 0) a = {255, 255, 255, 255};
        const bool clear = rng() % 16 == 0;
        if (clear) {
            model.clear();
            ++clears;
        }
        const int want_cycles = pe_cycles_per_group(mode, n);
        for (int c = 0; c < want_cycles; ++c) {
            const bool model_last = model.step(a.data(), g);
            const bool rtl_last = rtl.step(a.data(), g, n, clear && c == 0);
            ASSERT_EQ(rtl_last, model_last) << "group " << k << " clock " << c;
            ASSERT_EQ(rtl.acc(), model.acc()) << "group " << k << " clock " << c << " n " << n;
            ++cycles;
        }
    }
    EXPECT_EQ(rtl.cycles(), cycles);
    EXPECT_GT(clears, 0u);
    std::printf("swis_pe (%s) RTL vs cycle model: %d random groups bit-exact, %llu clocks, %llu clears\n",
                pe_mode_name(mode), kRandomGroups, static_cast<unsigned long long>(cycles),
                static_cast<unsigned long long>(clears));
}

TEST(RtlSwisPe, SingleShiftRandomGroupsMatchTheCycleModelClockByClock) { random_groups_match(PeMode::kSingleShift); }
TEST(RtlSwisPe, DoubleShiftRandomGroupsMatchTheCycleModelClockByClock) { random_groups_match(PeMode::kDoubleShift); }

// One output over groups, as the array runs it: the dot product of the activations with the
// weights the groups encode, in pe_cycles_per_group(mode, n) clocks per group.
void output_is_the_dot_product(PeMode mode) {
    RtlSwisPe rtl(mode);
    std::mt19937_64 rng(5);
    for (int t = 0; t < 200; ++t) {
        const int n = 1 + static_cast<int>(rng() % 8);
        const std::size_t count = 1 + rng() % 40;
        std::vector<swis::Group> groups;
        std::vector<std::uint8_t> act(count * kLanes);
        for (auto& x : act) x = static_cast<std::uint8_t>(rng());
        std::int64_t want = 0;
        for (std::size_t k = 0; k < count; ++k) {
            groups.push_back(random_group(rng, 1 + static_cast<int>(rng() % n)));  // fewer shifts than the tile: padded
            for (int i = 0; i < kLanes; ++i) want += std::int64_t{act[k * kLanes + i]} * groups.back().weight(i);
        }
        const std::uint64_t c0 = rtl.cycles();
        EXPECT_EQ(rtl.run_output(mode, n, act.data(), groups.data(), count), want) << "output " << t;
        EXPECT_EQ(rtl.cycles() - c0, count * static_cast<std::uint64_t>(pe_cycles_per_group(mode, n)));
    }
}

TEST(RtlSwisPe, SingleShiftOutputIsTheDotProductInNClocksPerGroup) { output_is_the_dot_product(PeMode::kSingleShift); }
TEST(RtlSwisPe, DoubleShiftOutputIsTheDotProductInHalfNClocksPerGroup) {
    output_is_the_dot_product(PeMode::kDoubleShift);
}

TEST(RtlSwisPe, DirectedCornersMatchTheCycleModel) {
    for (const PeMode mode : {PeMode::kSingleShift, PeMode::kDoubleShift}) {
        RtlSwisPe rtl(mode);
        swis::Group full;  // every weight -255 or +255: all eight shifts, every mask bit
        full.n = 8;
        for (int j = 0; j < 8; ++j) full.shift[j] = static_cast<std::uint8_t>(7 - j);
        full.mask = {0xFF, 0xFF, 0xFF, 0xFF};
        for (const std::uint8_t sign : {0x0, 0xF, 0x5}) {
            full.sign = sign;
            for (const std::uint8_t a : {0, 1, 128, 255}) {
                const std::array<std::uint8_t, kLanes> act = {a, a, a, a};
                std::int64_t want = 0;
                for (int i = 0; i < kLanes; ++i) want += std::int64_t{a} * full.weight(i);
                EXPECT_EQ(rtl.run_output(mode, 8, act.data(), &full, 1), want)
                    << pe_mode_name(mode) << " sign " << int{sign} << " a " << int{a};
            }
        }
        // A long run of full-scale negative products: the accumulator does not wrap.
        full.sign = 0xF;
        std::vector<swis::Group> many(5000, full);
        std::vector<std::uint8_t> act(many.size() * kLanes, 255);
        EXPECT_EQ(rtl.run_output(mode, 8, act.data(), many.data(), many.size()), -5000LL * 4 * 255 * 255);
        // One shift at the top position 7.
        swis::Group top;
        top.n = 1;
        top.shift[0] = 7;
        top.mask = {1, 0, 1, 0};
        top.sign = 0x4;
        const std::array<std::uint8_t, kLanes> a = {3, 200, 5, 9};
        EXPECT_EQ(rtl.run_output(mode, 1, a.data(), &top, 1), 3 * 128 - 5 * 128);
        // No groups, or n = 0: an empty sum (and the clear still clears).
        EXPECT_EQ(rtl.run_output(mode, 0, nullptr, nullptr, 0), 0);
    }
}

TEST(RtlSwisPe, ClearStartsANewOutputOnTheSameClockAndResetAbandonsAGroup) {
    RtlSwisPe rtl(PeMode::kSingleShift);
    std::mt19937_64 rng(9);
    const swis::Group g = random_group(rng, 5);
    const std::array<std::uint8_t, kLanes> a = {10, 20, 30, 40};
    SwisPe model(PeMode::kSingleShift);
    model.run_group(a.data(), g);
    for (int c = 0; c < 5; ++c) rtl.step(a.data(), g, 5, false);
    for (int c = 0; c < 5; ++c) rtl.step(a.data(), g, 5, false);
    EXPECT_EQ(rtl.acc(), 2 * model.acc());
    for (int c = 0; c < 5; ++c) rtl.step(a.data(), g, 5, c == 0);  // clear with the first clock: no extra clock
    EXPECT_EQ(rtl.acc(), model.acc());
    rtl.step(a.data(), g, 5, false);
    rtl.step(a.data(), g, 5, false);
    ASSERT_EQ(rtl.phase(), 2);
    rtl.reset();
    EXPECT_EQ(rtl.phase(), 0);
    EXPECT_EQ(rtl.acc(), 0);
    for (int c = 0; c < 5; ++c) EXPECT_EQ(rtl.step(a.data(), g, 5, false), c == 4);
    EXPECT_EQ(rtl.acc(), model.acc());
}

TEST(RtlSwisPe, RejectsAnotherFormAndGroupsWiderThanTheTile) {
    EXPECT_THROW(RtlSwisPe(PeMode::kFixedPoint), std::invalid_argument);
    RtlSwisPe rtl(PeMode::kSingleShift);
    EXPECT_TRUE(rtl.supports(PeMode::kSingleShift));
    EXPECT_FALSE(rtl.supports(PeMode::kDoubleShift));
    std::mt19937_64 rng(1);
    const swis::Group g = random_group(rng, 4);
    const std::array<std::uint8_t, kLanes> a{};
    EXPECT_THROW(rtl.run_output(PeMode::kDoubleShift, 4, a.data(), &g, 1), std::invalid_argument);
    EXPECT_THROW(rtl.run_output(PeMode::kSingleShift, 3, a.data(), &g, 1), std::invalid_argument);
    EXPECT_THROW(rtl.run_output(PeMode::kSingleShift, 9, a.data(), &g, 1), std::invalid_argument);
}

}  // namespace
}  // namespace cimvp
