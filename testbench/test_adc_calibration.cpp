// The least-squares ADC calibration (sw/compiler/adc_calibration.h) against the fixed
// windows it chooses among, and the window arithmetic shared with calibrate_adc.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sw/compiler/adc_calibration.h"
#include "sw/contract/layer_mapping.h"

namespace cimvp {
namespace {

// A 200 x 6 layer of 4-bit weights on 2-bit cells and a 4-bit DAC reading 4-bit
// inputs (one read per vector, so a column's reads all have the same weight).
struct Case {
    MatrixLayer layer;
    ArchConfig cfg;
    std::vector<std::uint8_t> x;
    int n = 300;

    Case() {
        std::mt19937 rng(7);
        layer.K = 200;
        layer.M = 6;
        layer.a_bits = 4;
        layer.w_bits = 4;
        std::uniform_int_distribution<int> w(-8, 7);
        for (int i = 0; i < layer.K * layer.M; ++i) layer.weights.push_back(static_cast<std::int8_t>(w(rng)));
        cfg.crossbar.cell_bits = 2;
        cfg.crossbar.dac_bits = 4;
        cfg.adc.bits = 3;
        // Sparse, skewed inputs (as after a ReLU): a column's sums are far from uniform.
        std::geometric_distribution<int> a(0.35);
        for (int i = 0; i < n * layer.K; ++i) x.push_back(static_cast<std::uint8_t>(std::min(15, a(rng))));
    }

    // Per tile column: sum of the squared ADC errors (fixed point) over every read.
    std::vector<double> errors(const LayerMapping& map, const AdcTables& t) const {
        std::vector<double> err(t.columns.size(), 0.0);
        for (int rt = 0; rt < map.row_tiles; ++rt)
            for (int ct = 0; ct < map.col_tiles; ++ct)
                for_each_ideal_read(layer, map, rt, ct, x.data(), n, [&](int, const std::int64_t* psum) {
                    for (int c = 0; c < map.cols_in(ct); ++c) {
                        const numerics::AdcColumn& col = t.tile(rt, ct)[c];
                        const std::int64_t v = psum[c] << t.frac_bits;
                        const double e =
                            static_cast<double>(numerics::adc_value(numerics::adc_code(v, col, t.bits), col) - v);
                        err[(static_cast<std::size_t>(rt) * map.col_tiles + ct) * map.cols + c] += e * e;
                    }
                });
        return err;
    }
};

TEST(AdcCalibration, PerColumnLeastSquaresTablesErrNoMoreThanAnyWindowOfTheGrid) {
    Case c;
    const LayerMapping map = LayerMapping::make(c.layer, c.cfg);
    ASSERT_EQ(map.steps, 1);
    ASSERT_GT(map.row_tiles, 1);
    const auto best = c.errors(map, calibrate_adc_least_squares(c.layer, map, c.cfg, c.x.data(), c.n));
    int strictly_better_than_six_sigmas = 0;
    for (int i = 0; i < kAdcClipGridSize; ++i) {
        ArchConfig cfg = c.cfg;
        cfg.adc.clip_sigmas = kAdcClipGridFirst + kAdcClipGridStep * i;
        const auto fixed = c.errors(map, calibrate_adc(c.layer, map, cfg, c.x.data(), c.n));
        for (std::size_t k = 0; k < best.size(); ++k) {
            EXPECT_LE(best[k], fixed[k]) << "column " << k << ", clip_sigmas " << cfg.adc.clip_sigmas;
            if (cfg.adc.clip_sigmas == 6.0 && best[k] < fixed[k]) ++strictly_better_than_six_sigmas;
        }
    }
    EXPECT_GT(strictly_better_than_six_sigmas, 0);
}

TEST(AdcCalibration, PerLayerLeastSquaresGivesEveryColumnOneTableOfLeastTotalError) {
    Case c;
    c.cfg.adc.step_mode = AdcStepMode::kLayer;
    const LayerMapping map = LayerMapping::make(c.layer, c.cfg);
    const AdcTables t = calibrate_adc_least_squares(c.layer, map, c.cfg, c.x.data(), c.n);
    for (const auto& col : t.columns) {
        EXPECT_EQ(col.step_fx, t.columns[0].step_fx);
        EXPECT_EQ(col.base_fx, t.columns[0].base_fx);
    }
    // Weighted as the shift-add weights them: slice j's errors count 4^(j * cell_bits).
    const auto total = [&](const std::vector<double>& e) {
        double s = 0;
        for (std::size_t k = 0; k < e.size(); ++k) s += e[k] * static_cast<double>(1 << (2 * (k % map.slices) * map.cell_bits));
        return s;
    };
    const double best = total(c.errors(map, t));
    // Every window of the grid around the weighted mean and std of all reads, given to every column.
    double n = 0, sum = 0, sum2 = 0;
    for (int rt = 0; rt < map.row_tiles; ++rt)
        for (int ct = 0; ct < map.col_tiles; ++ct)
            for_each_ideal_read(c.layer, map, rt, ct, c.x.data(), c.n, [&](int, const std::int64_t* psum) {
                for (int k = 0; k < map.cols_in(ct); ++k) {
                    const double w = static_cast<double>(1 << (2 * (k % map.slices) * map.cell_bits));
                    n += w;
                    sum += w * static_cast<double>(psum[k]);
                    sum2 += w * static_cast<double>(psum[k]) * static_cast<double>(psum[k]);
                }
            });
    const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    int worse = 0;
    for (int i = 0; i < kAdcClipGridSize; ++i) {
        AdcTables other = t;
        const auto col = fit_adc_window(mean, sd, kAdcClipGridFirst + kAdcClipGridStep * i, map.max_psum(0),
                                        t.bits, t.frac_bits);
        std::fill(other.columns.begin(), other.columns.end(), col);
        const double e = total(c.errors(map, other));
        EXPECT_LE(best, e * (1 + 1e-9)) << "r index " << i;
        worse += best < e;
    }
    EXPECT_GT(worse, kAdcClipGridSize / 2);
}

TEST(AdcCalibration, AWindowNarrowerThanTheAdcRangeKeepsStepOneCentredOnTheMean) {
    const numerics::AdcColumn col = fit_adc_window(20.4, 1.0, 2.0, 1000, 4, 8);
    EXPECT_EQ(col.step_fx, 256);
    EXPECT_EQ(col.base_fx, 12 * 256);  // floor(20.4 - 7.5)
    const numerics::AdcColumn wide = fit_adc_window(100.0, 10.0, 3.0, 1000, 4, 8);
    EXPECT_EQ(wide.base_fx, 70 * 256);
    EXPECT_EQ(wide.step_fx, 1024);  // 60 / 15 = 4 LSB
    const numerics::AdcColumn clipped = fit_adc_window(10.0, 10.0, 3.0, 1000, 4, 8);
    EXPECT_EQ(clipped.base_fx, 0);  // the low end clipped at 0
    EXPECT_EQ(clipped.step_fx, 683);  // 40 / 15 * 256 = 682.67
}

}  // namespace
}  // namespace cimvp
