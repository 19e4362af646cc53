// The analytic performance model of the SWIS PE array (sw/contract/swis_perf.h): the
// cycle formula the SystemC array must match, and the event counts behind the energy.
#include <gtest/gtest.h>

#include "sw/contract/swis_perf.h"

#include "hw/cost_model.h"

namespace cimvp::swis {
namespace {

TEST(SwisPerf, CyclesPerGroup) {
    for (int n = 1; n <= 8; ++n) {
        EXPECT_EQ(cycles_per_group(Mode::kSS, n), n);
        EXPECT_EQ(cycles_per_group(Mode::kCSS, n), n);
        EXPECT_EQ(cycles_per_group(Mode::kAct, n), n);
        EXPECT_EQ(cycles_per_group(Mode::kWgt, n), n);
        EXPECT_EQ(cycles_per_group(Mode::kDS, n), (n + 1) / 2);
        EXPECT_EQ(cycles_per_group(Mode::kCDS, n), (n + 1) / 2);
        EXPECT_EQ(cycles_per_group(Mode::kFxp, n), 1);
    }
    EXPECT_STREQ(mode_name(Mode::kCDS), "C-DS");
    EXPECT_EQ(mode_variant(Mode::kCSS), Variant::kSwisC);
    EXPECT_EQ(mode_variant(Mode::kDS), Variant::kSwis);
}

TEST(SwisPerf, ComputeCyclesFormula) {
    // 20 filters of 6 channels, 3x3: 2 channel groups x 9 = 18 groups per filter.
    // 30 output pixels: 4 pixel tiles; 3 filter tiles with N 2, 3, 5; skew 8 + 8 - 2 = 14.
    const LayerShape shape{20, 6, 3, 3};
    const std::vector<int> tn = {2, 3, 5};
    EXPECT_EQ(compute_cycles(shape, 30, tn, Mode::kSS), 4u * ((18 * 2 + 14) + (18 * 3 + 14) + (18 * 5 + 14)));
    EXPECT_EQ(compute_cycles(shape, 30, tn, Mode::kAct), compute_cycles(shape, 30, tn, Mode::kSS));
    EXPECT_EQ(compute_cycles(shape, 30, tn, Mode::kDS), 4u * ((18 + 14) + (36 + 14) + (54 + 14)));
    EXPECT_EQ(compute_cycles(shape, 30, tn, Mode::kFxp), 4u * 3 * (18 + 14));
    EXPECT_EQ(compute_cycles(shape, 30, {}, Mode::kFxp), 4u * 3 * (18 + 14));
    // Another array: 4 x 16 -> 8 pixel tiles, 2 filter tiles, skew 18.
    EXPECT_EQ(compute_cycles(shape, 30, {3, 4}, Mode::kCSS, 4, 16), 8u * ((18 * 3 + 18) + (18 * 4 + 18)));
    EXPECT_THROW(compute_cycles(shape, 30, {2, 3}, Mode::kSS), SwisError);
    EXPECT_THROW(compute_cycles(shape, 30, {2, 3, 9}, Mode::kSS), SwisError);
    EXPECT_THROW(compute_cycles(shape, 0, tn, Mode::kSS), SwisError);
}

TEST(SwisPerf, LayerEventsAndEnergy) {
    PerfLayer L;
    L.shape = {20, 6, 3, 3};
    L.out_pixels = 30;
    L.input_elems = 6 * 7 * 7;
    L.output_elems = 20 * 30;
    const std::vector<int> tn = {2, 3, 5};
    PerfCosts c;
    const LayerPerf p = layer_perf(L, tn, Mode::kSS, c);
    EXPECT_EQ(p.cycles, compute_cycles(L.shape, 30, tn, Mode::kSS));
    // Busy PE cycles: 30 pixels x (8 x 2 + 8 x 3 + 4 x 5) filter-shifts x 18 groups.
    EXPECT_EQ(p.pe_cycles, 30u * 60 * 18);
    // Activations: per (pixel tile, filter tile) the tile's pixels x K bytes.
    EXPECT_DOUBLE_EQ(p.act_buffer_bytes, 3.0 * 30 * 54);
    // Weights: per (pixel tile, filter tile) the tile's filters x 18 groups x (4 + 7N) bits.
    const double wbytes = (8 * 18 * 18 + 8 * 18 * 25 + 4 * 18 * 39) / 8.0;
    EXPECT_DOUBLE_EQ(p.weight_storage_bytes, wbytes);
    EXPECT_DOUBLE_EQ(p.weight_buffer_bytes, 4 * wbytes);
    EXPECT_DOUBLE_EQ(p.output_buffer_bytes, 30.0 * 20);
    EXPECT_DOUBLE_EQ(p.dram_bytes, wbytes + 294 + 600);
    EXPECT_DOUBLE_EQ(p.pe_pj, p.pe_cycles * kPeSingleShiftPj);
    EXPECT_DOUBLE_EQ(p.sram_pj, (p.act_buffer_bytes + p.weight_buffer_bytes + p.output_buffer_bytes) * kBufferPjPerByte);
    EXPECT_DOUBLE_EQ(p.energy_pj(), p.pe_pj + p.sram_pj + p.dram_pj);
    // Act reads N-bit activations and int8 weights; Wgt reads 8-bit activations and (N + 1)-bit weights.
    const LayerPerf a = layer_perf(L, tn, Mode::kAct, c);
    EXPECT_DOUBLE_EQ(a.act_buffer_bytes, 30 * 54 * (2 + 3 + 5) / 8.0);
    EXPECT_DOUBLE_EQ(a.weight_storage_bytes, 20 * 18 * 4.0);
    const LayerPerf w = layer_perf(L, tn, Mode::kWgt, c);
    EXPECT_DOUBLE_EQ(w.weight_storage_bytes, (8 * 18 * 12 + 8 * 18 * 16 + 4 * 18 * 24) / 8.0);
    const LayerPerf f = layer_perf(L, {}, Mode::kFxp, c);
    EXPECT_EQ(f.pe_cycles, 30u * 20 * 18);
    EXPECT_DOUBLE_EQ(f.pe_pj, f.pe_cycles * kPeFixedPointPj);
    const LayerPerf d = layer_perf(L, tn, Mode::kCDS, c);
    EXPECT_EQ(d.pe_cycles, 30u * (8 * 1 + 8 * 2 + 4 * 3) * 18);
    EXPECT_DOUBLE_EQ(d.pe_pj, d.pe_cycles * kPeDoubleShiftPj);
    EXPECT_DOUBLE_EQ(d.weight_storage_bytes, (8 * 18 * 15 + 8 * 18 * 19 + 4 * 18 * 27) / 8.0);
}

TEST(SwisPerf, BitFusionCyclesFollowTheBitBricksAProductTakes) {
    // A fusion unit of 16 BitBricks: an a x w product takes (a / 2)(w / 2) bricks, the bits
    // rounded up to 2, 4, 8; a group of 4 products ceil(4 x bricks / 16) cycles.
    EXPECT_EQ(bitfusion_cycles(1, 8, 8), 4u);   // 16 bricks: one product a cycle
    EXPECT_EQ(bitfusion_cycles(1, 4, 8), 2u);   // 8 bricks: two
    EXPECT_EQ(bitfusion_cycles(1, 2, 8), 1u);   // 4 bricks: four
    EXPECT_EQ(bitfusion_cycles(1, 4, 4), 1u);   // 4 bricks
    EXPECT_EQ(bitfusion_cycles(1, 2, 2), 1u);   // 1 brick: 16 products a cycle, a group uses a quarter
    EXPECT_EQ(bitfusion_cycles(4, 2, 2), 1u);   // four groups in one cycle
    EXPECT_EQ(bitfusion_cycles(5, 2, 2), 2u);
    EXPECT_EQ(bitfusion_cycles(3, 3, 8), 6u);   // 3 bits run as 4
    EXPECT_EQ(bitfusion_cycles(7, 1, 8), 7u);   // 1 bit as 2
    EXPECT_EQ(bitfusion_cycles(2, 8, 4), 4u);
    EXPECT_EQ(bitfusion_bricks(8, 4), 8);
    EXPECT_EQ(bitfusion_bits(5), 8);
    EXPECT_THROW(bitfusion_bits(0), SwisError);
    EXPECT_THROW(bitfusion_cycles(1, 9, 8), SwisError);
    for (int n = 1; n <= 8; ++n) EXPECT_EQ(cycles_per_group(Mode::kBitFusion, n), n <= 2 ? 1 : n <= 4 ? 2 : 4) << n;
    // On the array: 20 filters of 6 channels 3x3 (18 groups), 30 pixels, tiles at 2, 3, 5 bits.
    const LayerShape shape{20, 6, 3, 3};
    EXPECT_EQ(compute_cycles(shape, 30, {2, 3, 5}, Mode::kBitFusion), 4u * ((18 + 14) + (36 + 14) + (72 + 14)));
    EXPECT_EQ(compute_cycles(shape, 30, {4, 4, 4, 4}, Mode::kBitFusion, 4, 5), 8u * 4 * (36 + 7));
    EXPECT_THROW(compute_cycles(shape, 30, {}, Mode::kBitFusion), SwisError);
    PerfLayer L;
    L.shape = shape;
    L.out_pixels = 30;
    const LayerPerf p = layer_perf(L, {4, 4, 4}, Mode::kBitFusion, PerfCosts());
    EXPECT_EQ(p.pe_cycles, 30u * 20 * 18 * 2);
    EXPECT_DOUBLE_EQ(p.pe_pj, p.pe_cycles * kBitFusionPj);
    EXPECT_DOUBLE_EQ(p.weight_storage_bytes, 20 * 18 * 16 / 8.0);  // 4 x 4-bit two's complement per group
    EXPECT_FALSE(has_pe_form(Mode::kBitFusion));
    EXPECT_THROW(pe_mode(Mode::kBitFusion), SwisError);
    EXPECT_STREQ(mode_name(Mode::kBitFusion), "BitFusion");
}

// Another group size M (the paper's group-size study): the array's PEs take groups of M,
// so a filter has ceil(C / M) x kh x kw groups, a PE cycle costs the cost model's energy
// at M lanes, and a group stores M signs; BitFusion's unit has no lanes and keeps its
// groups of 4.
TEST(SwisPerf, OtherGroupSizesRunOnPesOfThatManyLanes) {
    LayerShape s8{20, 6, 3, 3};
    s8.group_size = 8;  // 1 channel group x 9
    const std::vector<int> tn = {2, 3, 5};
    EXPECT_EQ(compute_cycles(s8, 30, tn, Mode::kSS), 4u * ((9 * 2 + 14) + (9 * 3 + 14) + (9 * 5 + 14)));
    LayerShape s2 = s8;
    s2.group_size = 2;  // 3 channel groups x 9
    EXPECT_EQ(compute_cycles(s2, 30, tn, Mode::kDS), 4u * ((27 + 14) + (54 + 14) + (81 + 14)));
    EXPECT_EQ(compute_cycles(s2, 30, {}, PeMode::kFixedPoint), 4u * 3 * (27 + 14));
    LayerShape bad = s8;
    bad.group_size = 17;
    EXPECT_THROW(compute_cycles(bad, 30, tn, Mode::kSS), SwisError);
    EXPECT_THROW(compute_cycles(s8, 30, tn, Mode::kBitFusion), SwisError) << "a fusion unit has no lanes";
    EXPECT_EQ(pe_shape(s8, Mode::kBitFusion).group_size, kGroupSize);
    EXPECT_EQ(pe_shape(s8, Mode::kCDS).group_size, 8);

    PerfLayer L;
    L.shape = s8;
    L.out_pixels = 30;
    L.input_elems = 6 * 7 * 7;
    L.output_elems = 20 * 30;
    EXPECT_THROW(layer_perf(L, tn, Mode::kSS, PerfCosts()), SwisError) << "costs of 4-lane PEs for groups of 8";
    PerfCosts c8;  // as cimvp swis --group-size 8 makes them (SwisJob.AnotherGroupSize...)
    c8.lanes = 8;
    for (Mode m : kModes)
        if (has_pe_form(m)) c8.pe_pj[mode_index(m)] = pe_pj_per_cycle(PeArrayConfig{}, pe_mode(m), 8);
    const LayerPerf p = layer_perf(L, tn, Mode::kSS, c8);
    EXPECT_EQ(p.cycles, compute_cycles(s8, 30, tn, Mode::kSS));
    EXPECT_EQ(p.pe_cycles, 30u * (8 * 2 + 8 * 3 + 4 * 5) * 9);
    const double ss8 = kPeSingleShiftPj * pe_gates(PeAreaKind::kSingleShift, 8) / pe_gates(PeAreaKind::kSingleShift, 4);
    EXPECT_DOUBLE_EQ(c8.pe_pj[mode_index(Mode::kSS)], ss8);
    EXPECT_GT(ss8, kPeSingleShiftPj);
    EXPECT_DOUBLE_EQ(p.pe_pj, p.pe_cycles * ss8);
    // Weights: 9 groups a filter of 8 signs + 3N shift bits + 8N mask bits.
    EXPECT_EQ(mode_group_bits(Mode::kSS, 2, 8), 8 + 3 * 2 + 8 * 2);
    const double wbytes = (8 * 9 * (8 + 11 * 2) + 8 * 9 * (8 + 11 * 3) + 4 * 9 * (8 + 11 * 5)) / 8.0;
    EXPECT_DOUBLE_EQ(p.weight_storage_bytes, wbytes);
    const LayerPerf f = layer_perf(L, {}, Mode::kFxp, c8);
    EXPECT_EQ(f.pe_cycles, 30u * 20 * 9);
    EXPECT_DOUBLE_EQ(f.weight_storage_bytes, 20 * 9 * 64 / 8.0);
    EXPECT_DOUBLE_EQ(c8.pe_pj[mode_index(Mode::kFxp)],
                     kPeFixedPointPj * pe_gates(PeAreaKind::kFixedPoint, 8) / pe_gates(PeAreaKind::kFixedPoint, 4));
    // BitFusion: the same cycles, events and energy at every M.
    PerfLayer L4 = L;
    L4.shape.group_size = 4;
    const LayerPerf b8 = layer_perf(L, {4, 4, 4}, Mode::kBitFusion, c8);
    const LayerPerf b4 = layer_perf(L4, {4, 4, 4}, Mode::kBitFusion, PerfCosts());
    EXPECT_EQ(b8.cycles, b4.cycles);
    EXPECT_EQ(b8.pe_cycles, b4.pe_cycles);
    EXPECT_DOUBLE_EQ(b8.energy_pj(), b4.energy_pj());
}

TEST(SwisPerf, DepthwiseRunsOneFilterPerTile) {
    // 16 channels, 3x3 depthwise, 14 x 14 outputs: 16 one-filter layers of 1 channel (one group of 9).
    PerfLayer L;
    L.shape = {1, 1, 3, 3};
    L.conv_groups = 16;
    L.out_pixels = 196;
    std::vector<int> tn(16, 2);
    tn[3] = 4;
    std::uint64_t want = 0;
    for (int n : tn) want += 25u * (9 * n + 14);
    EXPECT_EQ(layer_perf(L, tn, Mode::kSS, PerfCosts()).cycles, want);
    EXPECT_EQ(L.macs(), 16 * 9 * 196);
    EXPECT_EQ(L.tiles(), 16);
    EXPECT_THROW(layer_perf(L, std::vector<int>(8, 2), Mode::kSS, PerfCosts()), SwisError);
}

TEST(SwisPerf, CostsFromConfig) {
    ArchConfig cfg;
    cfg.digital.clock_ns = 2.0;
    cfg.pe_array.pj_per_cycle_ds = 9.0;
    cfg.pe_array.buffer_pj_per_byte = 3.0;
    const PerfCosts c = PerfCosts::from_config(cfg);
    EXPECT_EQ(c.clock_ns, 2.0);
    EXPECT_EQ(c.pe_pj[mode_index(Mode::kDS)], 9.0);
    EXPECT_EQ(c.pe_pj[mode_index(Mode::kCDS)], 9.0);
    EXPECT_EQ(c.sram_pj_per_byte, 3.0);
    EXPECT_EQ(c.dram_pj_per_byte, cfg.platform.dram.read_pj_per_byte);
    // The config's defaults are this model's constants.
    const PerfCosts d = PerfCosts::from_config(ArchConfig());
    const PerfCosts k;
    for (Mode m : kModes) EXPECT_EQ(d.pe_pj[mode_index(m)], k.pe_pj[mode_index(m)]) << mode_name(m);
    EXPECT_EQ(d.sram_pj_per_byte, k.sram_pj_per_byte);
}

}  // namespace
}  // namespace cimvp::swis
