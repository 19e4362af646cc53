// Property: for random layer shapes and architecture configs (offset encoding and
// differential mapping), the SystemC platform (driver -> DMA -> controller -> tiles)
// equals the C++ reference bit-exactly, and with a lossless ADC and ideal devices it
// also equals the plain integer matrix product. One seed per process (SystemC elaborates once).
#include <gtest/gtest.h>

#include <random>

#include "sw/app/layer_job.h"
#include "testbench/sc_test_support.h"

namespace cimvp {
namespace {

constexpr int kCases = 200;

struct Case {
    ArchConfig cfg;
    LayerJobSpec spec;
    std::string text;
};

Case draw_case(int seed) {
    std::mt19937 rng(static_cast<unsigned>(seed) * 7919u + 17u);
    const auto pick = [&](std::initializer_list<int> v) { return *(v.begin() + rng() % v.size()); };
    const auto between = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)); };
    Case c;
    ArchConfig& cfg = c.cfg;
    cfg.crossbar.rows = pick({16, 32, 64, 100, 128});
    cfg.crossbar.cols = pick({8, 16, 24, 50, 128});
    cfg.crossbar.cell_bits = pick({1, 2});
    LayerJobSpec& s = c.spec;
    s.seed = static_cast<std::uint64_t>(seed);
    s.a_bits = between(1, 8);
    s.binary = rng() % 4 == 0;
    s.w_bits = s.binary ? 1 : between(2, 8);
    cfg.crossbar.dac_bits = between(1, 3);
    s.K = between(1, 400);
    s.M = between(1, 90);
    s.vectors = between(1, 12);
    const int slices = s.binary ? 1 : (s.w_bits + cfg.crossbar.cell_bits - 1) / cfg.crossbar.cell_bits;
    if (slices > cfg.crossbar.cols) cfg.crossbar.cols = 16;
    const int row_tiles = (s.K + cfg.crossbar.rows - 1) / cfg.crossbar.rows;
    cfg.platform.tiles = row_tiles + between(0, 12);
    cfg.adc.adcs_per_macro = between(1, cfg.crossbar.cols);
    cfg.adc.bits = between(3, 10);
    cfg.adc.step_mode = rng() % 2 ? AdcStepMode::kColumn : AdcStepMode::kLayer;
    cfg.adc.frac_bits = pick({0, 4, 8});
    if (rng() % 5 == 0) {
        cfg.nonideal.conductance_sigma = 0.1 * between(0, 3);
        cfg.nonideal.stuck_at_rate = 0.01 * between(0, 2);
        cfg.nonideal.read_noise_sigma = 0.25 * between(0, 2);
        cfg.nonideal.seed = static_cast<std::uint64_t>(seed) + 1000;
    }
    // Drawn last, so that the cases drawn before it stay what they were.
    if (rng() % 2) {
        cfg.crossbar.mapping = CellMapping::kDifferential;
        if (2 * slices > cfg.crossbar.cols) cfg.crossbar.cols = 16;
    }
    c.text = "K=" + std::to_string(s.K) + " M=" + std::to_string(s.M) + " a=" + std::to_string(s.a_bits) +
             " w=" + std::to_string(s.w_bits) + (s.binary ? " binary" : "") + " n=" + std::to_string(s.vectors) +
             " R=" + std::to_string(cfg.crossbar.rows) + " C=" + std::to_string(cfg.crossbar.cols) +
             " cell=" + std::to_string(cfg.crossbar.cell_bits) + " dac=" + std::to_string(cfg.crossbar.dac_bits) +
             " adc=" + std::to_string(cfg.adc.bits) + " tiles=" + std::to_string(cfg.platform.tiles) +
             (cfg.nonideal.enabled() ? " nonideal" : "") +
             (cfg.crossbar.mapping == CellMapping::kDifferential ? " differential" : "");
    return c;
}

class PlatformProperty : public ::testing::TestWithParam<int> {};

TEST_P(PlatformProperty, PlatformEqualsReferenceAndIdealEqualsMatmul) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const Case c = draw_case(GetParam());
    SCOPED_TRACE(c.text);
    const LayerJobResult r = run_layer_job(c.cfg, c.spec);
    ASSERT_EQ(r.platform.size(), static_cast<std::size_t>(r.vectors) * r.layer.M);
    EXPECT_EQ(r.platform, r.reference);
    if (r.adc_lossless) {
        EXPECT_EQ(r.platform, r.exact);
    }
    EXPECT_GT(r.cycles, 0u);
    EXPECT_GT(r.energy.total(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(RandomShapesAndConfigs, PlatformProperty, ::testing::Range(0, kCases));

// The generator must exercise what the property claims to cover.
TEST(PlatformPropertyCoverage, CasesSpanLosslessLossyNonidealBinaryRaggedPassesAndBothMappings) {
    int lossless = 0, lossy = 0, nonideal = 0, binary = 0, multi_pass = 0, two_bit = 0;
    int differential = 0, differential_lossless = 0, differential_binary = 0, differential_nonideal = 0;
    for (int i = 0; i < kCases; ++i) {
        const Case c = draw_case(i);
        LayerJobSpec s = c.spec;
        const MatrixLayer L = random_layer(s);
        const LayerMapping m = LayerMapping::make(L, c.cfg);
        (adc_is_lossless(m, c.cfg) ? lossless : lossy)++;
        nonideal += c.cfg.nonideal.enabled();
        binary += s.binary;
        multi_pass += m.passes > 1;
        two_bit += c.cfg.crossbar.cell_bits == 2;
        if (m.differential) {
            ++differential;
            differential_lossless += adc_is_lossless(m, c.cfg);
            differential_binary += s.binary;
            differential_nonideal += c.cfg.nonideal.enabled();
        }
    }
    EXPECT_GE(lossless, 20);
    EXPECT_GE(lossy, 20);
    EXPECT_GE(nonideal, 10);
    EXPECT_GE(binary, 10);
    EXPECT_GE(multi_pass, 5);
    EXPECT_GE(two_bit, 20);
    EXPECT_GE(differential, 60);
    EXPECT_LE(differential, 140);
    EXPECT_GE(differential_lossless, 10);
    EXPECT_GE(differential_binary, 5);
    EXPECT_GE(differential_nonideal, 5);
}

}  // namespace
}  // namespace cimvp
