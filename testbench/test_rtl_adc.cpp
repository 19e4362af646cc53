// Cross-check of the SAR converter's RTL (rtl/sar_adc.sv, Verilated C++ model
// driven by rtl/rtl_adc_converter.h) against the numeric contract the ADC bank
// model computes (sw/contract/numerics.h adc_code / adc_value): random vectors, directed
// corners, handshakes, reset during a conversion, clock counts.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "Vsar_adc.h"
#include "rtl/rtl_adc_converter.h"
#include "sw/contract/numerics.h"

namespace cimvp {
namespace {

using numerics::AdcColumn;

constexpr int kRandomVectors = 100000;

// Converts one value on the RTL and checks code, value and the clock count against the contract.
void expect_contract(RtlAdcConverter& rtl, std::int64_t psum, AdcColumn col, int bits) {
    int code = -1;
    std::int64_t value = 0;
    const std::uint64_t c0 = rtl.cycles();
    rtl.convert(&psum, &col, 1, bits, &code, &value);
    const int want = numerics::adc_code(psum, col, bits);
    EXPECT_EQ(code, want) << "psum " << psum << " step " << col.step_fx << " base " << col.base_fx << " bits " << bits;
    EXPECT_EQ(value, numerics::adc_value(want, col)) << "psum " << psum;
    EXPECT_EQ(rtl.cycles() - c0, static_cast<std::uint64_t>(bits));
}

TEST(RtlSarAdc, RandomVectorsMatchTheContractBitExactInBitsClocksEach) {
    RtlAdcConverter rtl;
    std::mt19937_64 rng(20261123);
    std::uniform_int_distribution<int> bits_d(1, RtlAdcConverter::kMaxBits);
    std::uniform_int_distribution<int> step_log_d(0, 30);
    std::uniform_real_distribution<double> u(-0.25, 1.25);  // a quarter of the range past each end: clamps
    std::uint64_t checked = 0, clamped_low = 0, clamped_high = 0, cycles = 0;
    // Vectors of 16 columns, each with its own step and base, like one read of a column-wise bank.
    constexpr int kCols = 16;
    std::vector<std::int64_t> psum(kCols), values(kCols);
    std::vector<AdcColumn> cols(kCols);
    std::vector<int> codes(kCols);
    const std::uint64_t c0 = rtl.cycles();
    for (int v = 0; v < kRandomVectors / kCols; ++v) {
        const int bits = bits_d(rng);
        const std::int64_t full = (std::int64_t{1} << bits) - 1;
        for (int c = 0; c < kCols; ++c) {
            const std::int64_t step = 1 + static_cast<std::int64_t>(rng() % (std::uint64_t{1} << step_log_d(rng)));
            const std::int64_t base = static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 36)) - (std::int64_t{1} << 35);
            cols[c] = AdcColumn{step, base};
            psum[c] = base + static_cast<std::int64_t>(u(rng) * static_cast<double>(full * step));
            psum[c] = std::max(psum[c], -(std::int64_t{1} << 47));
            psum[c] = std::min(psum[c], (std::int64_t{1} << 47) - 1);
        }
        rtl.convert(psum.data(), cols.data(), kCols, bits, codes.data(), values.data());
        cycles += static_cast<std::uint64_t>(kCols * bits);
        for (int c = 0; c < kCols; ++c) {
            const int want = numerics::adc_code(psum[c], cols[c], bits);
            ASSERT_EQ(codes[c], want) << "vector " << v << " column " << c << ": psum " << psum[c] << " step "
                                      << cols[c].step_fx << " base " << cols[c].base_fx << " bits " << bits;
            ASSERT_EQ(values[c], numerics::adc_value(want, cols[c])) << "vector " << v << " column " << c;
            clamped_low += want == 0;
            clamped_high += want == full;
            ++checked;
        }
    }
    EXPECT_EQ(checked, static_cast<std::uint64_t>(kRandomVectors));
    EXPECT_EQ(rtl.cycles() - c0, cycles);
    EXPECT_EQ(rtl.conversions(), checked);
    EXPECT_GT(clamped_low, checked / 20);
    EXPECT_GT(clamped_high, checked / 20);
    std::printf("sar_adc RTL vs contract: %llu random vectors bit-exact (%llu at code 0, %llu at full scale), %llu clocks\n",
                static_cast<unsigned long long>(checked), static_cast<unsigned long long>(clamped_low),
                static_cast<unsigned long long>(clamped_high), static_cast<unsigned long long>(rtl.cycles() - c0));
}

TEST(RtlSarAdc, DirectedCornersMatchTheContract) {
    RtlAdcConverter rtl;
    const std::int64_t kMaxPsum = (std::int64_t{1} << 47) - 1, kMinPsum = -(std::int64_t{1} << 47);
    int checked = 0;
    for (const int bits : {1, 2, 4, 5, 8, 12, RtlAdcConverter::kMaxBits}) {
        const std::int64_t full = (std::int64_t{1} << bits) - 1;
        for (const AdcColumn col : {AdcColumn{256, 0}, AdcColumn{1, 0}, AdcColumn{3, -7}, AdcColumn{1000, 12345},
                                    AdcColumn{(std::int64_t{1} << 39) - 1, 0}, AdcColumn{77, -(std::int64_t{1} << 40)}}) {
            std::vector<std::int64_t> psums = {0, col.base_fx, kMaxPsum, kMinPsum, -1, -col.step_fx,
                                               col.base_fx - 1, col.base_fx + full * col.step_fx,  // full scale
                                               col.base_fx + full * col.step_fx + col.step_fx};   // past it
            // Both sides of every rounding threshold near the ends and the middle: (k - 1/2) * step.
            for (const std::int64_t k : {std::int64_t{1}, std::int64_t{2}, full / 2 + 1, full}) {
                const std::int64_t twice = (2 * k - 1) * col.step_fx;  // 2 * (psum - base) at the threshold
                const std::int64_t at = col.base_fx + twice / 2;
                for (const std::int64_t d : {-1, 0, 1}) psums.push_back(at + d);
            }
            for (std::int64_t p : psums) {
                if (p > kMaxPsum || p < kMinPsum) continue;
                expect_contract(rtl, p, col, bits);
                ++checked;
            }
        }
    }
    std::printf("sar_adc RTL vs contract: %d directed vectors\n", checked);
    EXPECT_GT(checked, 300);
}

TEST(RtlSarAdc, ZeroAndNegativeSumsClampToCodeZeroAndFullScaleToTheTopCode) {
    RtlAdcConverter rtl;
    int code = -1;
    std::int64_t value = 0;
    const AdcColumn unit{256, 0};
    std::int64_t p = 0;
    rtl.convert(&p, &unit, 1, 4, &code, &value);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(value, 0);
    p = -5000;
    rtl.convert(&p, &unit, 1, 4, &code, &value);
    EXPECT_EQ(code, 0);
    p = 15 * 256;
    rtl.convert(&p, &unit, 1, 4, &code, &value);
    EXPECT_EQ(code, 15);
    EXPECT_EQ(value, 15 * 256);
    p = 1000 * 256;
    rtl.convert(&p, &unit, 1, 4, &code, &value);
    EXPECT_EQ(code, 15);
    // A centred column: a sum below its base clamps low even when positive.
    const AdcColumn centred{512, 4096};
    p = 100;
    rtl.convert(&p, &centred, 1, 4, &code, &value);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(value, 4096);
}

TEST(RtlSarAdc, BackToBackConversionsTakeBitsClocksEachAndRefuseSamplesWhileBusy) {
    RtlAdcConverter rtl;
    Vsar_adc& m = rtl.pins();
    constexpr int kBits = 6;
    const AdcColumn col{100, -50};
    const std::int64_t samples[] = {0, 1234, -999, 6300, 3100, 50};
    m.bits = kBits;
    m.out_ready = 1;
    m.in_step = 100;
    m.in_base = static_cast<std::uint64_t>(-50) & ((std::uint64_t{1} << 48) - 1);
    int accepted = 0, results = 0;
    int last_accept = -1;
    for (int clk = 0; clk < 6 * kBits + 2; ++clk) {
        m.in_valid = accepted < 6;
        if (accepted < 6) m.in_psum = static_cast<std::uint64_t>(samples[accepted]) & ((std::uint64_t{1} << 48) - 1);
        rtl.settle();
        const bool take = m.in_valid && m.in_ready;
        if (m.out_valid && m.out_ready) {
            ASSERT_LT(results, 6);
            EXPECT_EQ(static_cast<int>(m.out_code), numerics::adc_code(samples[results], col, kBits)) << results;
            EXPECT_EQ(static_cast<std::int64_t>(m.out_value),
                      numerics::adc_value(numerics::adc_code(samples[results], col, kBits), col));
            ++results;
        }
        if (take) {
            if (last_accept >= 0) {
                EXPECT_EQ(clk - last_accept, kBits) << "a sample every " << kBits << " clocks";
            }
            last_accept = clk;
            ++accepted;
        } else if (accepted > 0 && accepted < 6) {
            EXPECT_TRUE(m.busy) << "clock " << clk << ": not ready only while converting";
        }
        rtl.edge();
    }
    EXPECT_EQ(accepted, 6);
    EXPECT_EQ(results, 6);
}

TEST(RtlSarAdc, HoldsItsResultUntilTakenAndRefusesTheNextSampleMeanwhile) {
    RtlAdcConverter rtl;
    Vsar_adc& m = rtl.pins();
    m.bits = 3;
    m.out_ready = 0;
    m.in_step = 256;
    m.in_base = 0;
    m.in_psum = 5 * 256;
    m.in_valid = 1;
    rtl.clock();
    m.in_valid = 0;
    rtl.clock();
    rtl.clock();
    ASSERT_TRUE(m.out_valid);
    EXPECT_EQ(m.out_code, 5u);
    for (int i = 0; i < 5; ++i) {
        m.in_valid = 1;
        m.in_psum = 1 * 256;
        rtl.settle();
        EXPECT_FALSE(m.in_ready);
        rtl.edge();
        EXPECT_TRUE(m.out_valid);
        EXPECT_EQ(m.out_code, 5u);
    }
    m.out_ready = 1;
    rtl.settle();
    EXPECT_TRUE(m.in_ready);  // taking the result frees the converter on the same edge
}

TEST(RtlSarAdc, ResetDuringAConversionAbandonsItAndTheNextConversionIsExact) {
    RtlAdcConverter rtl;
    Vsar_adc& m = rtl.pins();
    m.bits = 8;
    m.out_ready = 1;
    m.in_step = 256;
    m.in_base = 0;
    m.in_psum = 200 * 256;
    m.in_valid = 1;
    rtl.clock();
    m.in_valid = 0;
    rtl.clock();
    rtl.clock();
    ASSERT_TRUE(m.busy);
    ASSERT_FALSE(m.out_valid);
    m.rst = 1;
    rtl.clock();
    m.rst = 0;
    rtl.settle();
    EXPECT_FALSE(m.busy);
    EXPECT_FALSE(m.out_valid);
    EXPECT_TRUE(m.in_ready);
    for (int i = 0; i < 10; ++i) rtl.clock();
    EXPECT_FALSE(m.out_valid) << "the abandoned conversion never hands a result over";
    expect_contract(rtl, 37 * 256 + 127, AdcColumn{256, 0}, 8);
    expect_contract(rtl, 37 * 256 + 128, AdcColumn{256, 0}, 8);
}

TEST(RtlSarAdc, RejectsInputsOutsideItsWidths) {
    RtlAdcConverter rtl;
    int code = 0;
    std::int64_t value = 0, p = 0;
    AdcColumn col{256, 0};
    EXPECT_THROW(rtl.convert(&p, &col, 1, 0, &code, &value), std::out_of_range);
    EXPECT_THROW(rtl.convert(&p, &col, 1, RtlAdcConverter::kMaxBits + 1, &code, &value), std::out_of_range);
    p = std::int64_t{1} << 47;
    EXPECT_THROW(rtl.convert(&p, &col, 1, 8, &code, &value), std::out_of_range);
    p = 0;
    col.step_fx = 0;
    EXPECT_THROW(rtl.convert(&p, &col, 1, 8, &code, &value), std::out_of_range);
    col.step_fx = std::int64_t{1} << 40;
    EXPECT_THROW(rtl.convert(&p, &col, 1, 8, &code, &value), std::out_of_range);
}

}  // namespace
}  // namespace cimvp
