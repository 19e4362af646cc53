// The network compiler and its execution plan: the plan holds what the runner
// and the reference both need (tiles, SWIS groups, ADC tables, placement), each
// computed once, and the reference evaluates exactly the plan it is given.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sw/compiler/network_compiler.h"
#include "sw/compiler/plan.h"
#include "sw/reference/network_reference.h"
#include "testbench/model_builders.h"

namespace cimvp {
namespace {

bool same_group(const swis::Group& a, const swis::Group& b) {
    return a.n == b.n && a.shift == b.shift && a.sign == b.sign && a.mask == b.mask;
}

NetworkOptions all_on_pe(const NetworkModel& m, int shifts, swis::Variant variant = swis::Variant::kSwis) {
    NetworkOptions o;
    o.on_pe.assign(m.layers.size(), true);
    o.swis_shifts = shifts;
    o.variant = variant;
    return o;
}

std::vector<std::uint8_t> random_images(const NetworkModel& m, int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> x(m.image_bytes() * static_cast<std::size_t>(n));
    for (auto& p : x) p = static_cast<std::uint8_t>(rng());
    return x;
}

TEST(NetworkCompiler, PlanSwisGroupsEqualADirectDecomposition) {
    test::ModelShape s;
    s.a_bits = 8;
    const NetworkModel m = test::random_network(21, s);
    for (auto variant : {swis::Variant::kSwis, swis::Variant::kSwisC}) {
        const ExecutionPlan plan = compile_network(m, ArchConfig(), all_on_pe(m, 3, variant));
        ASSERT_EQ(plan.layers.size(), m.layers.size());
        for (std::size_t l = 0; l < m.layers.size(); ++l) {
            SCOPED_TRACE(m.layer_name(l));
            const NetworkLayer& L = m.layers[l];
            const swis::DecomposedLayer direct = swis::decompose_layer(L.weights, L.swis_shape(), 3, variant);
            const PeLayerPlan& pe = plan.layers[l].pe;
            ASSERT_TRUE(plan.layers[l].on_pe);
            ASSERT_EQ(pe.groups.groups.size(), direct.groups.size());
            for (std::size_t g = 0; g < direct.groups.size(); ++g)
                ASSERT_TRUE(same_group(pe.groups.groups[g], direct.groups[g])) << "group " << g;
            EXPECT_EQ(pe.weights, direct.weights());
            EXPECT_EQ(pe.groups.shifts, direct.shifts);
        }
    }
}

TEST(NetworkCompiler, EightShiftsHoldEveryInt8WeightExactlyWithoutDecomposing) {
    test::ModelShape s;
    s.a_bits = 8;
    NetworkModel m = test::random_network(22, s);
    m.layers[0].weights[0] = -128;  // the one magnitude a decomposition clips
    const std::uint64_t before = swis_decompositions();
    const ExecutionPlan plan = compile_network(m, ArchConfig(), all_on_pe(m, 8));
    EXPECT_EQ(swis_decompositions(), before) << "8 shifts are an encoding, not a decomposition";
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        EXPECT_EQ(plan.layers[l].pe.weights, m.layers[l].weights) << m.layer_name(l);
        for (const swis::Group& g : plan.layers[l].pe.groups.groups) ASSERT_EQ(g.n, swis::kShiftPositions);
    }
}

TEST(NetworkCompiler, SwisDecompositionRunsOncePerPeLayerAndNeverInTheReference) {
    test::ModelShape s;
    s.a_bits = 8;
    const NetworkModel m = test::random_network(23, s);
    const std::uint64_t before = swis_decompositions();
    const ExecutionPlan plan = compile_network(m, ArchConfig(), all_on_pe(m, 2));
    EXPECT_EQ(swis_decompositions() - before, m.layers.size());
    const NetworkReference ref(plan);
    const auto images = random_images(m, 2, 5);
    for (int i = 0; i < 2; ++i) ref.logits(&images[m.image_bytes() * static_cast<std::size_t>(i)], i);
    EXPECT_EQ(swis_decompositions() - before, m.layers.size()) << "the reference evaluates the plan's groups";
}

TEST(NetworkCompiler, ReferenceComputesWithThePlansPeWeights) {
    // The same model and options, but a plan whose PE weights are changed: the reference follows the plan.
    test::ModelShape s;
    s.a_bits = 8;
    const NetworkModel m = test::random_network(24, s);
    ExecutionPlan plan = compile_network(m, ArchConfig(), all_on_pe(m, 8));
    const auto images = random_images(m, 1, 6);
    const std::vector<std::int64_t> before = NetworkReference(plan).logits(images.data(), 0);
    std::fill(plan.layers.back().pe.weights.begin(), plan.layers.back().pe.weights.end(), std::int8_t{0});
    const std::vector<std::int64_t> after = NetworkReference(plan).logits(images.data(), 0);
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t c = 0; c < after.size(); ++c)
        EXPECT_EQ(after[c], m.layers.back().bias[c]) << "zero weights leave the bias (mult_x = 0 on the PE array)";
}

TEST(NetworkCompiler, CalibrationSeesTheLayersCompiledSoFar) {
    ArchConfig cfg;
    cfg.adc.bits = 4;  // lossy for the middle layers: their tables are calibrated
    const NetworkModel m = test::random_network(25, test::ModelShape{});
    ASSERT_TRUE(needs_calibration(m, cfg));
    const auto images = random_images(m, 3, 7);
    std::vector<std::size_t> asked;
    const CalibrationInputs reference = reference_calibration(images.data(), 3);
    const ExecutionPlan plan = compile_network(m, cfg, {}, [&](const ExecutionPlan& so_far, std::size_t l) {
        EXPECT_EQ(so_far.layers.size(), l) << "the layers before it, compiled";
        asked.push_back(l);
        return reference(so_far, l);
    });
    EXPECT_FALSE(asked.empty());
    for (std::size_t l : asked) EXPECT_TRUE(plan.layers[l].adc_recalibrated) << l;
    // The reference's own entry point compiles the same plan.
    const ExecutionPlan again = compile_with_reference(m, cfg, {}, images.data(), 3);
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const auto& a = plan.layers[l].adc.columns;
        const auto& b = again.layers[l].adc.columns;
        ASSERT_EQ(a.size(), b.size());
        for (std::size_t c = 0; c < a.size(); ++c) {
            EXPECT_EQ(a[c].step_fx, b[c].step_fx);
            EXPECT_EQ(a[c].base_fx, b[c].base_fx);
        }
    }
    // Without images the lossy layers keep unit tables.
    const ExecutionPlan uncalibrated = compile_network(m, cfg);
    for (std::size_t l = 0; l < m.layers.size(); ++l)
        for (const auto& c : uncalibrated.layers[l].adc.columns) EXPECT_EQ(c.base_fx, 0) << l;
}

// A model's tables are per (row tile, output, offset-encoded slice): under differential mapping they
// describe no column of the chip, so every layer on a lossy ADC is calibrated anew, per column.
TEST(NetworkCompiler, DifferentialMappingCalibratesItsOwnTablesInsteadOfTheModels) {
    ArchConfig cfg;  // the column-wise chip: 2-bit cells, 4-bit reads, a 4-bit ADC
    cfg.crossbar.cell_bits = 2;
    cfg.crossbar.dac_bits = 4;
    cfg.adc.bits = 4;
    test::ModelShape shape;
    shape.w_bits = 4;
    shape.cell_bits_for_tables = 2;
    shape.adc_bits = 4;
    const NetworkModel m = test::random_network(26, shape);
    const auto images = random_images(m, 3, 8);
    ASSERT_FALSE(needs_calibration(m, cfg)) << "offset encoding: the model's own tables fit";
    const ExecutionPlan offset = compile_with_reference(m, cfg, {}, images.data(), 3);
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        EXPECT_FALSE(offset.layers[l].adc_recalibrated) << l;
        const AdcTables own = model_adc_tables(m.layers[l], offset.layers[l].mapping, cfg.adc.bits, cfg.adc.frac_bits);
        EXPECT_EQ(offset.layers[l].adc.columns.size(), own.columns.size()) << l;
        for (std::size_t c = 0; c < own.columns.size(); ++c)
            ASSERT_EQ(offset.layers[l].adc.columns[c].step_fx, own.columns[c].step_fx) << l << " column " << c;
    }

    cfg.crossbar.mapping = CellMapping::kDifferential;
    ASSERT_TRUE(needs_calibration(m, cfg));
    const ExecutionPlan diff = compile_with_reference(m, cfg, {}, images.data(), 3);
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const LayerPlan& lp = diff.layers[l];
        ASSERT_TRUE(lp.mapping.differential) << l;
        EXPECT_TRUE(lp.adc_recalibrated) << l;
        EXPECT_THROW(model_adc_tables(m.layers[l], lp.mapping, cfg.adc.bits, cfg.adc.frac_bits), std::invalid_argument);
        // Fitted to what the columns saw: some negative-group column of the layer has left the unit table.
        bool negative_fitted = false;
        for (int rt = 0; rt < lp.mapping.row_tiles; ++rt)
            for (int ct = 0; ct < lp.mapping.col_tiles; ++ct)
                for (int c = 0; c < lp.mapping.cols_in(ct); ++c) {
                    const numerics::AdcColumn& col = lp.adc.tile(rt, ct)[c];
                    negative_fitted = negative_fitted || (c % lp.mapping.cols_per_out >= lp.mapping.slices &&
                                                          (col.step_fx != (1 << cfg.adc.frac_bits) || col.base_fx != 0));
                }
        EXPECT_TRUE(negative_fitted || adc_is_lossless(lp.mapping, cfg)) << l;
    }
    // Without images the model's windows are not divided anew for it either: unit tables.
    const ExecutionPlan uncalibrated = compile_network(m, cfg);
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        EXPECT_TRUE(uncalibrated.layers[l].adc_recalibrated) << l;
        for (const auto& c : uncalibrated.layers[l].adc.columns) ASSERT_EQ(c.step_fx, 1 << cfg.adc.frac_bits) << l;
    }
}

TEST(NetworkCompiler, PlacementFillsTheGlobalBufferAsTheDriverHandsItOut) {
    test::ModelShape s;
    s.binary_middle = true;
    const NetworkModel m = test::random_network(26, s);
    NetworkOptions o = NetworkOptions::defaults_for(m);
    o.batch = 6;
    // Room for the activations and for two images of conv1's scratch.
    std::uint64_t act = 0;
    for (std::uint64_t b : activation_buffer_bytes(m, o.batch)) act += (b + 63) / 64 * 64;
    const std::uint64_t region = 2 * scratch_bytes_for(m.layers[0], true, 1) + 64;
    ArchConfig cfg;
    cfg.platform.global_buffer.size_bytes = act + region;
    const ExecutionPlan plan = compile_network(m, cfg, o);
    EXPECT_TRUE(plan.activations_on_chip);
    EXPECT_LE(plan.scratch_region_bytes, region);
    EXPECT_EQ(plan.layers[0].placement.images_per_step, 2);
    EXPECT_EQ(plan.layers[0].placement.steps, 3);
    for (const LayerPlan& l : plan.layers) {
        EXPECT_TRUE(l.placement.scratch_on_chip);
        EXPECT_EQ(l.placement.steps, (o.batch + l.placement.images_per_step - 1) / l.placement.images_per_step);
    }
    EXPECT_EQ(plan.dram_scratch_bytes, 0u);

    cfg.platform.global_buffer.size_bytes = 0;
    const ExecutionPlan dram = compile_network(m, cfg, o);
    EXPECT_FALSE(dram.activations_on_chip);
    EXPECT_EQ(dram.scratch_region_bytes, 0u);
    for (const LayerPlan& l : dram.layers) {
        EXPECT_FALSE(l.placement.scratch_on_chip);
        EXPECT_EQ(l.placement.images_per_step, o.batch);
    }
}

TEST(NetworkCompiler, RejectsALayerThePeArrayCannotRun) {
    test::ModelShape s;
    s.binary_middle = true;  // binary middle layers with input sums
    const NetworkModel m = test::random_network(27, s);
    EXPECT_THROW(compile_network(m, ArchConfig(), all_on_pe(m, 8)), ModelError);
}

// The PE array runs a job in chunks of whole pixel and filter tiles; a buffer below one chunk used to pass
// the compiler and end the run in the array's buffer overflow (controller error 7, found by the config
// soak). The compiler refuses it, naming the layer and the key, and takes a buffer of exactly one chunk.
TEST(NetworkCompiler, RefusesAPeLayerWhoseChunkDoesNotFitThePeArrayBuffers) {
    test::ModelShape s;
    s.a_bits = 8;
    const NetworkModel m = test::random_network(21, s);
    NetworkOptions o = all_on_pe(m, 8);
    o.batch = 3;
    ArchConfig cfg;
    cfg.pe_array.rows = 4;
    cfg.pe_array.cols = 2;
    const ExecutionPlan plan = compile_network(m, cfg, o);
    // The largest chunk of any layer: min(rows, vectors of a step) im2col vectors of K bytes; the
    // 8-byte records of min(cols, filters) filters, ceil(channels / 4) x window each.
    std::uint64_t act = 0, weights = 0;
    std::size_t act_layer = 0, weight_layer = 0;
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const NetworkLayer& L = m.layers[l];
        const swis::LayerShape& shape = plan.layers[l].pe.groups.shape;
        const std::uint64_t vectors = static_cast<std::uint64_t>(plan.layers[l].placement.images_per_step) * L.vectors();
        const std::uint64_t a = static_cast<std::uint64_t>(L.K()) * std::min<std::uint64_t>(4, vectors);
        const std::uint64_t w = std::min<std::uint64_t>(2, L.M()) *
                                ((static_cast<std::uint64_t>(shape.channels) + 3) / 4) * shape.kernel_h * shape.kernel_w * 8;
        if (a > act) act = a, act_layer = l;
        if (w > weights) weights = w, weight_layer = l;
    }
    ArchConfig exact = cfg;
    exact.pe_array.act_buffer_bytes = act;
    exact.pe_array.weight_buffer_bytes = weights;
    EXPECT_NO_THROW(compile_network(m, exact, o));
    for (const bool act_short : {true, false}) {
        ArchConfig small = exact;
        (act_short ? small.pe_array.act_buffer_bytes : small.pe_array.weight_buffer_bytes) -= 1;
        const std::string key = act_short ? "pe_array.act_buffer_bytes >= " + std::to_string(act)
                                          : "pe_array.weight_buffer_bytes >= " + std::to_string(weights);
        try {
            compile_network(m, small, o);
            ADD_FAILURE() << key << ": no error";
        } catch (const ModelError& e) {
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(m.layer_name(act_short ? act_layer : weight_layer)), std::string::npos)
                << e.what();
        }
    }
}

// A tile buffer that holds no input or no output vector of a crossbar layer (found by the config soak:
// "one input vector of 64 rows or 128 outputs does not fit the tile buffers", no file, no key) is
// refused naming the model, the layer, the key and the bytes it needs; one vector's bytes are enough.
TEST(NetworkCompiler, RefusesTileBuffersThatHoldNoVectorNamingTheKey) {
    const NetworkModel m = test::random_network(21, test::ModelShape{});
    NetworkOptions o;
    o.batch = 2;
    const ArchConfig cfg;
    const ExecutionPlan plan = compile_network(m, cfg, o);
    std::uint64_t in = 0, out = 0;
    for (const LayerPlan& p : plan.layers) {
        in = std::max<std::uint64_t>(in, static_cast<std::uint64_t>(p.mapping.rows_in(0)));
        out = std::max<std::uint64_t>(out, static_cast<std::uint64_t>(p.mapping.outs_per_tile + 1) * 8);  // and the input sum
    }
    ArchConfig exact = cfg;
    exact.platform.input_buffer.size_bytes = (in + 7) / 8 * 8;
    exact.platform.output_buffer.size_bytes = out;
    EXPECT_NO_THROW(compile_network(m, exact, o));
    for (const bool input : {true, false}) {
        ArchConfig small = exact;
        (input ? small.platform.input_buffer.size_bytes : small.platform.output_buffer.size_bytes) =
            (input ? exact.platform.input_buffer.size_bytes : out) - 8;
        const std::string key = input ? "platform.input_buffer.size_bytes: expected at least " + std::to_string(in)
                                      : "platform.output_buffer.size_bytes: expected at least " + std::to_string(out);
        try {
            compile_network(m, small, o);
            ADD_FAILURE() << key << ": no error";
        } catch (const ModelError& e) {
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(": layer "), std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace cimvp
