// The C++ reference against the numeric contract (docs/numerics.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sw/compiler/adc_calibration.h"
#include "sw/contract/crossbar_array.h"
#include "sw/contract/layer_mapping.h"
#include "sw/contract/numerics.h"
#include "sw/reference/reference.h"

namespace cimvp {
namespace {

using numerics::AdcColumn;

TEST(AdcTransfer, RoundsHalfStepsUp) {
    const AdcColumn unit{4, 0};  // step 4 in fixed point
    EXPECT_EQ(numerics::adc_code(5, unit, 8), 1);   // 1.25 -> 1
    EXPECT_EQ(numerics::adc_code(6, unit, 8), 2);   // 1.5 -> 2 (half up)
    EXPECT_EQ(numerics::adc_code(10, unit, 8), 3);  // 2.5 -> 3
    EXPECT_EQ(numerics::adc_code(9, unit, 8), 2);   // 2.25 -> 2
    const AdcColumn odd{3, 0};
    EXPECT_EQ(numerics::adc_code(4, odd, 8), 1);  // 1.33 -> 1
    EXPECT_EQ(numerics::adc_code(5, odd, 8), 2);  // 1.67 -> 2
}

TEST(AdcTransfer, ClampsAtBothEnds) {
    const AdcColumn col{2, 100};
    EXPECT_EQ(numerics::adc_code(0, col, 3), 0);       // below base
    EXPECT_EQ(numerics::adc_code(98, col, 3), 0);      // -1 step -> clamp 0
    EXPECT_EQ(numerics::adc_code(99, col, 3), 0);      // -0.5 -> round half up -> 0
    EXPECT_EQ(numerics::adc_code(114, col, 3), 7);     // exactly the top code
    EXPECT_EQ(numerics::adc_code(1000000, col, 3), 7); // far above
    EXPECT_EQ(numerics::adc_value(7, col), 114);
    EXPECT_EQ(numerics::adc_value(0, col), 100);
}

TEST(AdcTransfer, NegativeDistanceFromBaseRoundsTowardPlusInfinityAtHalf) {
    const AdcColumn col{4, 40};
    EXPECT_EQ(numerics::round_half_up_div(-6, 4), -1);  // -1.5 -> -1
    EXPECT_EQ(numerics::round_half_up_div(-7, 4), -2);  // -1.75 -> -2
    EXPECT_EQ(numerics::adc_code(48, col, 4), 2);
}

TEST(AdcTransfer, BaseAndStepMapValueBack) {
    const AdcColumn col{3 * 256, 17 * 256};
    for (int code = 0; code < 16; ++code) {
        const std::int64_t v = numerics::adc_value(code, col);
        EXPECT_EQ(numerics::adc_code(v, col, 4), code);
    }
}

TEST(RoundHalfUpShift, MatchesDefinition) {
    EXPECT_EQ(numerics::round_half_up_shift(384, 8), 2);   // 1.5 -> 2
    EXPECT_EQ(numerics::round_half_up_shift(383, 8), 1);
    EXPECT_EQ(numerics::round_half_up_shift(-384, 8), -1); // -1.5 -> -1
    EXPECT_EQ(numerics::round_half_up_shift(-385, 8), -2);
    EXPECT_EQ(numerics::round_half_up_shift(7, 0), 7);
}

// The one shift-add of the reference and the tile's accumulator: slice j of output o of read t
// weighs 2^(t * dac_bits + j * cell_bits), for one slice and for several.
TEST(ShiftAdd, StepWeighsEachSliceByItsStepAndSliceBits) {
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<int> value(-300, 300);
    for (const int slices : {1, 2, 4}) {
        const int outs = 7, steps = 3, dac_bits = 2, cell_bits = 2;
        std::vector<std::int64_t> fx(outs, 0), want(outs, 0);
        for (int t = 0; t < steps; ++t) {
            std::vector<std::int64_t> val(static_cast<std::size_t>(outs) * slices);
            for (auto& v : val) v = value(rng);
            numerics::shift_add_step(val.data(), outs, slices, false, t, dac_bits, cell_bits, fx.data());
            for (int o = 0; o < outs; ++o)
                for (int j = 0; j < slices; ++j)
                    want[o] += val[static_cast<std::size_t>(o) * slices + j] *
                               (std::int64_t{1} << (t * dac_bits + j * cell_bits));
        }
        EXPECT_EQ(fx, want) << slices << " slices";
    }
}

// Differential mapping: output o's 2S columns are its positive group, then its negative group; slice j
// of either weighs 2^(t * dac_bits + j * cell_bits), the negative one's value is subtracted.
TEST(ShiftAdd, DifferentialStepSubtractsTheNegativeGroupAtTheSameShift) {
    std::mt19937_64 rng(6);
    std::uniform_int_distribution<int> value(-300, 300);
    for (const int slices : {1, 2, 4}) {
        const int outs = 5, steps = 3, dac_bits = 2, cell_bits = 2, cols = 2 * slices;
        ASSERT_EQ(numerics::cols_per_output(slices, true), cols);
        ASSERT_EQ(numerics::cols_per_output(slices, false), slices);
        std::vector<std::int64_t> fx(outs, 0), want(outs, 0);
        for (int t = 0; t < steps; ++t) {
            std::vector<std::int64_t> val(static_cast<std::size_t>(outs) * cols);
            for (auto& v : val) v = value(rng);
            numerics::shift_add_step(val.data(), outs, slices, true, t, dac_bits, cell_bits, fx.data());
            for (int o = 0; o < outs; ++o)
                for (int j = 0; j < slices; ++j)
                    want[o] += (val[static_cast<std::size_t>(o) * cols + j] -
                                val[static_cast<std::size_t>(o) * cols + slices + j]) *
                               (std::int64_t{1} << (t * dac_bits + j * cell_bits));
        }
        EXPECT_EQ(fx, want) << slices << " slices";
    }
}

TEST(CrossbarArray, PacksBitPlanesRowByRow) {
    std::vector<std::uint8_t> x = {0b101, 0b010, 0b111};
    std::vector<std::uint64_t> planes(3);
    CrossbarArray::pack_planes(x.data(), 3, 0, 3, 1, planes.data());
    EXPECT_EQ(planes[0], 0b101u);  // bit 0 of rows 0..2
    EXPECT_EQ(planes[1], 0b110u);
    EXPECT_EQ(planes[2], 0b101u);
}

// Every length (whole and partial groups of 8 and of 64 rows), every start bit and width.
TEST(CrossbarArray, PackedPlanesHoldBitKOfRowRAtBitRForAnyLength) {
    std::mt19937 rng(11);
    for (int n : {1, 7, 8, 9, 63, 64, 65, 127, 128, 200}) {
        std::vector<std::uint8_t> x(static_cast<std::size_t>(n));
        for (auto& v : x) v = static_cast<std::uint8_t>(rng());
        const int words = CrossbarArray::words_for(n) + 1;  // one word past n stays zero
        for (int bit0 = 0; bit0 < 8; ++bit0)
            for (int nbits = 1; bit0 + nbits <= 8; ++nbits) {
                std::vector<std::uint64_t> planes(static_cast<std::size_t>(nbits) * words, ~0ULL);
                CrossbarArray::pack_planes(x.data(), n, bit0, nbits, words, planes.data());
                for (int k = 0; k < nbits; ++k)
                    for (int r = 0; r < words * 64; ++r) {
                        const int want = r < n ? (x[r] >> (bit0 + k)) & 1 : 0;
                        const int got = static_cast<int>((planes[static_cast<std::size_t>(k) * words + r / 64] >> (r % 64)) & 1);
                        ASSERT_EQ(got, want) << "n " << n << " bit0 " << bit0 << " k " << k << " row " << r;
                    }
            }
    }
}

TEST(CrossbarArray, IdealReadIsTheIntegerDotProduct) {
    std::mt19937 rng(7);
    for (int cell_bits : {1, 2}) {
        for (int dac_bits : {1, 2, 3}) {
            const int rows = 150, cols = 9;  // rows span three words
            CrossbarArray xbar(rows, cols, cell_bits);
            std::vector<std::vector<int>> lv(rows, std::vector<int>(cols));
            for (int r = 0; r < rows; ++r) {
                std::vector<std::uint8_t> row(cols);
                for (int c = 0; c < cols; ++c) row[c] = static_cast<std::uint8_t>(lv[r][c] = rng() % (1 << cell_bits));
                xbar.program_row(r, row.data(), 0, cols);
            }
            std::vector<std::uint8_t> x(rows);
            for (auto& v : x) v = static_cast<std::uint8_t>(rng() % (1 << dac_bits));
            std::vector<std::uint64_t> planes(dac_bits * CrossbarArray::words_for(rows));
            CrossbarArray::pack_planes(x.data(), rows, 0, dac_bits, CrossbarArray::words_for(rows), planes.data());
            std::vector<std::int64_t> psum(cols);
            xbar.read(planes.data(), dac_bits, cols, 4, 0, 0, psum.data());
            for (int c = 0; c < cols; ++c) {
                std::int64_t want = 0;
                for (int r = 0; r < rows; ++r) want += x[r] * lv[r][c];
                EXPECT_EQ(psum[c], want << 4) << "cell_bits " << cell_bits << " dac_bits " << dac_bits << " col " << c;
                for (int r = 0; r < rows; ++r) ASSERT_EQ(xbar.level(r, c), lv[r][c]);
            }
        }
    }
}

TEST(CrossbarArray, NonIdealDrawsDependOnSeedAndTileOnly) {
    CrossbarArray a(64, 4, 2), b(64, 4, 2);
    std::vector<std::uint8_t> row = {3, 2, 1, 3};
    for (int r = 0; r < 64; ++r) { a.program_row(r, row.data(), 0, 4); b.program_row(r, row.data(), 0, 4); }
    NonIdealConfig ni;
    ni.conductance_sigma = 0.3;
    ni.seed = 11;
    a.apply_nonideal(ni, 5);
    b.apply_nonideal(ni, 5);
    std::vector<std::uint64_t> ones(1, ~0ULL);
    std::vector<std::int64_t> pa(4), pb(4);
    a.read(ones.data(), 1, 4, 8, 0, 0, pa.data());
    b.read(ones.data(), 1, 4, 8, 0, 0, pb.data());
    EXPECT_EQ(pa, pb);
    b.apply_nonideal(ni, 6);  // another physical tile: other cells
    b.read(ones.data(), 1, 4, 8, 0, 0, pb.data());
    EXPECT_NE(pa, pb);
    EXPECT_NE(pa[0], (64 * 3) << 8);  // variation moved the sum off the ideal value
}

TEST(CrossbarArray, StuckAtFaultsAtRateOnePinCellsToZeroOrMax) {
    CrossbarArray a(64, 1, 2);
    std::vector<std::uint8_t> one = {1};
    for (int r = 0; r < 64; ++r) a.program_row(r, one.data(), 0, 1);
    NonIdealConfig ni;
    ni.stuck_at_rate = 1.0;
    a.apply_nonideal(ni, 0);
    std::vector<std::uint64_t> ones(1, ~0ULL);
    std::int64_t p = 0;
    a.read(ones.data(), 1, 1, 0, 0, 0, &p);
    EXPECT_EQ(p % 3, 0);          // every cell is 0 or 3
    EXPECT_GT(p, 0);
    EXPECT_LT(p, 64 * 3);
}

// The multiplicative model scales a cell's level: a level-0 cell (a zero weight's two cells under
// differential mapping) stays exactly 0 whatever sigma; only a stuck-at fault can move it.
TEST(CrossbarArray, ConductanceVariationLeavesLevelZeroCellsAtZero) {
    CrossbarArray a(64, 2, 2);
    std::vector<std::uint8_t> row = {0, 2};
    for (int r = 0; r < 64; ++r) a.program_row(r, row.data(), 0, 2);
    NonIdealConfig ni;
    ni.conductance_sigma = 1.0;
    a.apply_nonideal(ni, 3);
    std::vector<std::uint64_t> ones(1, ~0ULL);
    std::vector<std::int64_t> p(2);
    a.read(ones.data(), 1, 2, 8, 0, 0, p.data());
    EXPECT_EQ(p[0], 0);
    EXPECT_NE(p[1], (64 * 2) << 8);
    ni.stuck_at_rate = 1.0;  // every cell stuck: half of them at the top level
    a.apply_nonideal(ni, 3);
    a.read(ones.data(), 1, 2, 8, 0, 0, p.data());
    EXPECT_GT(p[0], 0);
}

MatrixLayer random_layer(std::mt19937& rng, int K, int M, int a_bits, int w_bits, bool binary) {
    MatrixLayer L;
    L.K = K;
    L.M = M;
    L.a_bits = a_bits;
    L.w_bits = w_bits;
    L.binary = binary;
    L.weights.resize(static_cast<std::size_t>(K) * M);
    for (auto& w : L.weights) {
        if (binary) w = (rng() & 1) ? 1 : -1;
        else w = static_cast<std::int8_t>(static_cast<int>(rng() % (1u << w_bits)) - (1 << (w_bits - 1)));
    }
    return L;
}

std::vector<std::uint8_t> random_inputs(std::mt19937& rng, int n, int K, int a_bits) {
    std::vector<std::uint8_t> x(static_cast<std::size_t>(n) * K);
    for (auto& v : x) v = static_cast<std::uint8_t>(rng() % (1u << a_bits));
    return x;
}

TEST(ReferenceLayer, IdealEqualsIntegerMatmulOnRaggedTiles) {
    std::mt19937 rng(1);
    ArchConfig cfg;
    cfg.crossbar.rows = 32;
    cfg.crossbar.cols = 12;
    cfg.adc.bits = 8;  // 32 rows * 3 * 3 = 288 would need 9 bits with 2-bit cells and dac
    for (int cell_bits : {1, 2}) {
        for (int dac_bits : {1, 2}) {
            cfg.crossbar.cell_bits = cell_bits;
            cfg.crossbar.dac_bits = dac_bits;
            cfg.adc.bits = 9;
            const auto L = random_layer(rng, 77, 13, 4, 5, false);  // ragged rows and columns; S = 5 or 3
            const auto map = LayerMapping::make(L, cfg);
            ASSERT_TRUE(adc_is_lossless(map, cfg));
            const auto x = random_inputs(rng, 3, L.K, L.a_bits);
            ReferenceLayer ref(L, map, AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits), cfg);
            EXPECT_EQ(ref.run(x.data(), 3), integer_matmul(L, x.data(), 3))
                << "cell_bits " << cell_bits << " dac_bits " << dac_bits;
        }
    }
}

TEST(ReferenceLayer, BinaryWeightsComputeTwoBMinusOne) {
    std::mt19937 rng(2);
    ArchConfig cfg;
    const auto L = random_layer(rng, 300, 70, 4, 1, true);
    const auto map = LayerMapping::make(L, cfg);
    EXPECT_EQ(map.slices, 1);
    EXPECT_EQ(map.weight_scale, 2);
    EXPECT_EQ(map.offset, 1);
    const auto x = random_inputs(rng, 4, L.K, L.a_bits);
    ReferenceLayer ref(L, map, AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits), cfg);
    EXPECT_EQ(ref.run(x.data(), 4), integer_matmul(L, x.data(), 4));
}

TEST(ReferenceLayer, OffsetEncodingIsRemovedExactly) {
    ArchConfig cfg;
    MatrixLayer L;
    L.K = 3;
    L.M = 1;
    L.a_bits = 4;
    L.w_bits = 4;
    L.weights = {-8, 7, 0};
    const auto map = LayerMapping::make(L, cfg);
    EXPECT_EQ(map.offset, 8);
    EXPECT_EQ(map.level(L, 0, 0, 0), 0);  // -8 + 8 = 0b0000
    EXPECT_EQ(map.level(L, 1, 0, 3), 1);  // 7 + 8 = 0b1111
    std::vector<std::uint8_t> x = {15, 15, 9};
    ReferenceLayer ref(L, map, AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits), cfg);
    EXPECT_EQ(ref.run(x.data(), 1), std::vector<std::int64_t>({-8 * 15 + 7 * 15}));
}

// Property: under differential mapping, ideal devices and a lossless ADC, the reference is the integer
// matrix product, for random shapes, bits (binary weights too), cells, DACs and macro sizes.
TEST(ReferenceLayer, DifferentialMappingWithALosslessAdcIsTheIntegerProduct) {
    std::mt19937 rng(21);
    int binary_cases = 0, multi_tile_cases = 0;
    for (int i = 0; i < 200; ++i) {
        ArchConfig cfg;
        cfg.crossbar.mapping = CellMapping::kDifferential;
        cfg.crossbar.rows = 8 + static_cast<int>(rng() % 121);
        cfg.crossbar.cols = 16 + static_cast<int>(rng() % 113);  // 2 x 8 slices fit
        cfg.crossbar.cell_bits = 1 + static_cast<int>(rng() % 2);
        cfg.crossbar.dac_bits = 1 + static_cast<int>(rng() % 3);
        const bool binary = rng() % 4 == 0;
        const int a_bits = 1 + static_cast<int>(rng() % 8), w_bits = binary ? 1 : 2 + static_cast<int>(rng() % 7);
        const int K = 1 + static_cast<int>(rng() % 300), M = 1 + static_cast<int>(rng() % 70);
        cfg.adc.bits = 16;  // lossless for any of these tiles
        cfg.adc.frac_bits = static_cast<int>(rng() % 3) * 4;
        const auto L = random_layer(rng, K, M, a_bits, w_bits, binary);
        const auto map = LayerMapping::make(L, cfg);
        ASSERT_TRUE(adc_is_lossless(map, cfg));
        ASSERT_EQ(map.cols_per_out, 2 * map.slices);
        const int n = 1 + static_cast<int>(rng() % 4);
        const auto x = random_inputs(rng, n, K, a_bits);
        ReferenceLayer ref(L, map, AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits), cfg);
        ASSERT_EQ(ref.run(x.data(), n), integer_matmul(L, x.data(), n))
            << "case " << i << ": K " << K << " M " << M << " a " << a_bits << " w " << w_bits
            << (binary ? " binary" : "") << " R " << cfg.crossbar.rows << " C " << cfg.crossbar.cols << " cell "
            << cfg.crossbar.cell_bits << " dac " << cfg.crossbar.dac_bits;
        binary_cases += binary;
        multi_tile_cases += map.row_tiles > 1 && map.col_tiles > 1;
    }
    EXPECT_GE(binary_cases, 20);
    EXPECT_GE(multi_tile_cases, 20);
}

// A zero weight is a mid-level cell under offset encoding (it carries the cell's variation) and two
// level-0 cells under differential mapping (exactly 0 whatever the variation).
TEST(ReferenceLayer, ZeroWeightsStayZeroUnderVariationOnlyWithDifferentialMapping) {
    std::mt19937 rng(22);
    ArchConfig cfg;
    cfg.crossbar.cell_bits = 2;
    cfg.nonideal.conductance_sigma = 0.2;
    MatrixLayer L = random_layer(rng, 100, 12, 4, 4, false);
    std::fill(L.weights.begin(), L.weights.end(), 0);
    const auto x = random_inputs(rng, 3, L.K, L.a_bits);
    const auto with = [&](CellMapping mapping) {
        cfg.crossbar.mapping = mapping;
        const auto map = LayerMapping::make(L, cfg);
        ReferenceLayer ref(L, map, AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits), cfg);
        return ref.run(x.data(), 3);
    };
    const auto offset = with(CellMapping::kOffset), differential = with(CellMapping::kDifferential);
    EXPECT_EQ(differential, std::vector<std::int64_t>(offset.size(), 0));
    EXPECT_GT(std::count_if(offset.begin(), offset.end(), [](std::int64_t v) { return v != 0; }), 0);
}

TEST(ReferenceLayer, LossyAdcDiffersFromMatmulButStaysClose) {
    std::mt19937 rng(3);
    ArchConfig cfg;
    cfg.adc.bits = 3;
    const auto L = random_layer(rng, 256, 16, 4, 4, false);
    const auto map = LayerMapping::make(L, cfg);
    ASSERT_FALSE(adc_is_lossless(map, cfg));
    const auto x = random_inputs(rng, 8, L.K, L.a_bits);
    ReferenceLayer ref(L, map, calibrate_adc(L, map, cfg, x.data(), 8), cfg);
    const auto got = ref.run(x.data(), 8);
    const auto want = integer_matmul(L, x.data(), 8);
    double err = 0, mag = 0;
    int differ = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        err += std::abs(static_cast<double>(got[i] - want[i]));
        mag += std::abs(static_cast<double>(want[i]));
        differ += got[i] != want[i];
    }
    EXPECT_GT(differ, 0);
    EXPECT_LT(err / mag, 0.5);
}

TEST(ReferenceLayer, PerColumnStepsAreAtLeastAsAccurateAsOneStepPerLayer) {
    std::mt19937 rng(4);
    ArchConfig cfg;
    cfg.adc.bits = 4;
    auto L = random_layer(rng, 128, 64, 4, 4, false);
    // Columns with very different ranges: scale magnitudes by output.
    for (int k = 0; k < L.K; ++k)
        for (int m = 0; m < L.M; ++m)
            if (m % 2) L.weights[static_cast<std::size_t>(k) * L.M + m] = static_cast<std::int8_t>(7);
    const auto map = LayerMapping::make(L, cfg);
    const auto x = random_inputs(rng, 16, L.K, L.a_bits);
    const auto want = integer_matmul(L, x.data(), 16);
    auto error_with = [&](AdcStepMode mode) {
        cfg.adc.step_mode = mode;
        ReferenceLayer ref(L, map, calibrate_adc(L, map, cfg, x.data(), 16), cfg);
        const auto got = ref.run(x.data(), 16);
        double e = 0;
        for (std::size_t i = 0; i < got.size(); ++i) e += std::abs(static_cast<double>(got[i] - want[i]));
        return e;
    };
    EXPECT_LT(error_with(AdcStepMode::kColumn), error_with(AdcStepMode::kLayer));
}

TEST(LayerMapping, RejectsWeightsOutsideTheirRangeNamingTheLayer) {
    ArchConfig cfg;
    MatrixLayer L;
    L.name = "fc9";
    L.K = 2;
    L.M = 1;
    L.w_bits = 4;
    L.weights = {8, 0};
    try {
        LayerMapping::make(L, cfg);
        FAIL() << "no error";
    } catch (const MappingError& e) {
        EXPECT_NE(std::string(e.what()).find("fc9"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("4-bit"), std::string::npos);
    }
}

// Differential mapping: |w| in S slices per sign, 2S columns per output (positive group first),
// nothing to scale or remove, and half the outputs per macro: twice the column tiles, or passes.
TEST(LayerMapping, DifferentialMappingDoublesTheColumnsOfEveryOutput) {
    ArchConfig cfg;  // 128 x 128 macros of 1-bit cells
    MatrixLayer L;
    L.K = 2;
    L.M = 100;
    L.w_bits = 8;
    L.weights.assign(static_cast<std::size_t>(L.K) * L.M, 0);
    L.weights[0] = -128;  // (k 0, m 0): 128 = 0b1000_0000 in the negative group
    L.weights[1] = 5;     // (k 0, m 1): 0b101 in the positive group
    const auto offset = LayerMapping::make(L, cfg);
    cfg.crossbar.mapping = CellMapping::kDifferential;
    const auto diff = LayerMapping::make(L, cfg);
    EXPECT_EQ(offset.cols_per_out, 8);
    EXPECT_EQ(diff.slices, 8);
    EXPECT_EQ(diff.cols_per_out, 16);
    EXPECT_EQ(offset.outs_per_tile, 16);
    EXPECT_EQ(diff.outs_per_tile, 8);
    EXPECT_EQ(offset.col_tiles, 7);
    EXPECT_EQ(diff.col_tiles, 13);
    EXPECT_EQ(diff.cols_in(0), 128);
    EXPECT_EQ(diff.cols_in(12), (100 - 12 * 8) * 16);
    EXPECT_EQ(diff.weight_scale, 1);
    EXPECT_EQ(diff.offset, 0);
    for (int j = 0; j < 8; ++j) {
        EXPECT_EQ(diff.level(L, 0, 0, j), 0) << j;
        EXPECT_EQ(diff.level(L, 0, 0, 8 + j), j == 7 ? 1 : 0) << j;
        EXPECT_EQ(diff.level(L, 0, 1, j), (5 >> j) & 1) << j;
        EXPECT_EQ(diff.level(L, 0, 1, 8 + j), 0) << j;
        EXPECT_EQ(diff.level(L, 1, 0, j) + diff.level(L, 1, 0, 8 + j), 0) << j;  // a zero weight: two zero cells
        EXPECT_EQ(offset.level(L, 1, 0, j), j == 7 ? 1 : 0) << j;              // offset: 0 + 128, a mid level
    }
    // tile_levels lays out level() for every cell: output o at columns o * 16 .. o * 16 + 15.
    const auto lv = diff.tile_levels(L, 0, 0);
    for (int r = 0; r < 2; ++r)
        for (int o = 0; o < 8; ++o)
            for (int c = 0; c < 16; ++c)
                ASSERT_EQ(lv[static_cast<std::size_t>(r) * 128 + o * 16 + c], diff.level(L, r, o, c))
                    << "row " << r << " output " << o << " column " << c;
    // Fewer tiles than column tiles: passes, twice as many.
    cfg.platform.tiles = 4;
    EXPECT_EQ(LayerMapping::make(L, cfg).passes, 4);
    cfg.crossbar.mapping = CellMapping::kOffset;
    EXPECT_EQ(LayerMapping::make(L, cfg).passes, 2);
}

TEST(LayerMapping, DifferentialBinaryWeightsTakeOneCellInThePlusOrTheMinusColumn) {
    ArchConfig cfg;
    cfg.crossbar.mapping = CellMapping::kDifferential;
    MatrixLayer L;
    L.K = 1;
    L.M = 2;
    L.w_bits = 1;
    L.binary = true;
    L.weights = {1, -1};
    const auto map = LayerMapping::make(L, cfg);
    EXPECT_EQ(map.cols_per_out, 2);
    EXPECT_EQ(map.outs_per_tile, 64);
    EXPECT_EQ(map.weight_scale, 1);
    EXPECT_EQ(map.offset, 0);
    const auto lv = map.tile_levels(L, 0, 0);  // +1: (+ 1, - 0); -1: (+ 0, - 1); unused columns 0
    EXPECT_EQ(std::vector<std::uint8_t>(lv.begin(), lv.begin() + 4), std::vector<std::uint8_t>({1, 0, 0, 1}));
    EXPECT_EQ(std::count(lv.begin() + 4, lv.end(), 0), 124);
    const std::vector<std::uint8_t> x = {200};
    ReferenceLayer ref(L, map, AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits), cfg);
    EXPECT_EQ(ref.run(x.data(), 1), std::vector<std::int64_t>({200, -200}));
}

TEST(LayerMapping, DifferentialColumnsThatDoNotFitNameTheMapping) {
    ArchConfig cfg;
    cfg.crossbar.cols = 12;
    cfg.adc.adcs_per_macro = 4;
    cfg.crossbar.mapping = CellMapping::kDifferential;
    MatrixLayer L;
    L.name = "fc2";
    L.K = 1;
    L.M = 1;
    L.w_bits = 8;
    L.weights = {3};
    try {
        LayerMapping::make(L, cfg);
        FAIL() << "no error";
    } catch (const MappingError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "fc2: 8 weight slices per sign (16 columns, crossbar.mapping differential) do not fit in 12 columns");
    }
    cfg.crossbar.mapping = CellMapping::kOffset;
    EXPECT_NO_THROW(LayerMapping::make(L, cfg));
}

TEST(LayerMapping, SplitsColumnTilesIntoPassesWhenTilesRunOut) {
    ArchConfig cfg;
    cfg.platform.tiles = 4;
    MatrixLayer L;
    L.K = 200;  // 2 row tiles
    L.M = 100;  // 8 slices -> 16 outputs per tile -> 7 column tiles
    L.w_bits = 8;
    L.weights.assign(static_cast<std::size_t>(L.K) * L.M, 1);
    const auto map = LayerMapping::make(L, cfg);
    EXPECT_EQ(map.row_tiles, 2);
    EXPECT_EQ(map.col_tiles, 7);
    EXPECT_EQ(map.col_tiles_per_pass, 2);
    EXPECT_EQ(map.passes, 4);
    EXPECT_EQ(map.tile_of(1, 5), 3);
    EXPECT_EQ(map.outs_in(6), 100 - 6 * 16);
    cfg.platform.tiles = 1;
    EXPECT_THROW(LayerMapping::make(L, cfg), MappingError);
}

}  // namespace
}  // namespace cimvp
