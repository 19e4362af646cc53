// Weights-resident chips for traces (docs/trace-format.md, "Weights-resident runs" and "Sizing a
// weights-resident chip"): the tiles every stage holds against the compiler's own mapping of its
// weights, disjoint ranges, the refusal of a config with too few tiles, `cimvp size`'s chip, and the
// pipelined and layer-by-layer figures. No SystemC: the runs themselves are in test_trace_platform
// and cli.Size.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sw/app/size_job.h"
#include "sw/compiler/network_compiler.h"
#include "sw/formats/config_loader.h"
#include "sw/workloads/trace_network.h"

namespace cimvp {
namespace {

const std::string kSource = CIMVP_SOURCE_DIR;
const std::string kTiny = kSource + "/testbench/data/tiny.trace";

// The tiles a stage takes as the compiler lays out its drawn weights on a chip with tiles to spare.
int compiled_stage_tiles(const TraceWorkload& w, std::size_t s, ArchConfig cfg) {
    cfg.platform.tiles = config_limits::kMaxTiles;
    NetworkOptions o;
    o.on_pe.assign(1, w.stages[s].on_pe);
    o.batch = 1;
    const ExecutionPlan plan = compile_network(w.stage_model(s), cfg, o);
    if (w.stages[s].on_pe) return 0;
    EXPECT_TRUE(plan.resident);
    EXPECT_EQ(plan.layers[0].mapping.passes, 1);
    return plan.layers[0].mapping.tiles_used();
}

TEST(ResidentTiles, EveryStageTakesTheTilesTheCompilerMapsItsWeightsOntoInDisjointRanges) {
    ArchConfig small;  // narrow arrays: several row and column tiles per layer, three depthwise blocks
    small.crossbar.rows = 64;
    small.crossbar.cols = 32;
    small.crossbar.cell_bits = 2;
    for (const ArchConfig& cfg : {ArchConfig{}, small})
        for (const std::string& path : {kTiny, kSource + "/traces/resnet20.trace"}) {
            SCOPED_TRACE(path + ", " + std::to_string(cfg.crossbar.rows) + " rows");
            const TraceWorkload w = build_trace_workload(load_trace(path), cfg, TraceMapping::kTrace);
            const ResidentTiles t = plan_resident_tiles(w, cfg);
            ASSERT_EQ(t.stage_tiles.size(), w.stages.size());
            std::int64_t sum = 0;
            std::vector<int> layer_sum(w.trace.layers.size(), 0);
            for (std::size_t s = 0; s < w.stages.size(); ++s) {
                EXPECT_EQ(t.stage_tiles[s], compiled_stage_tiles(w, s, cfg)) << "stage " << s;
                EXPECT_EQ(t.first_tile[s], sum) << "stage " << s;  // the next tile after the stages before it
                EXPECT_EQ(t.stage_tiles[s] == 0, w.stages[s].on_pe) << "stage " << s;
                sum += t.stage_tiles[s];
                layer_sum[w.stages[s].layer] += t.stage_tiles[s];
            }
            EXPECT_EQ(t.total, sum);
            EXPECT_EQ(t.layer_tiles, layer_sum);
            EXPECT_GT(t.total, 0);
        }
}

TEST(ResidentTiles, TinyTraceTakesOneTilePerCrossbarStageAndNoneOnThePeArray) {
    // 128 x 128 one-bit cells hold 16 outputs of 8-bit weights by 128 rows: conv1 (K 27, M 16), each
    // of dw1's two blocks (K 126, M 14) and fc (K 128, M 10) one tile each; conv2 is on the PE array.
    const ArchConfig cfg;
    const NetworkTrace trace = load_trace(kTiny);
    const ResidentTiles t = plan_resident_tiles(build_trace_workload(trace, cfg, TraceMapping::kTrace), cfg);
    EXPECT_EQ(t.layer_tiles, (std::vector<int>{1, 2, 0, 0, 0, 1}));
    EXPECT_EQ(t.total, 4);
    // All on the crossbar: conv2 (K 144, M 8) takes two row tiles.
    const ResidentTiles x = plan_resident_tiles(build_trace_workload(trace, cfg, TraceMapping::kCrossbar), cfg);
    EXPECT_EQ(x.layer_tiles, (std::vector<int>{1, 2, 0, 2, 0, 1}));
    EXPECT_EQ(x.total, 6);
}

TEST(ResidentTiles, TooFewTilesAreRefusedNamingTheConfigKeyTheTilesNeededAndTheTrace) {
    ArchConfig cfg;
    cfg.source = "chip.json";
    const ResidentTiles t = plan_resident_tiles(build_trace_workload(load_trace(kTiny), cfg, TraceMapping::kTrace), cfg);
    cfg.platform.tiles = static_cast<int>(t.total);
    EXPECT_NO_THROW(check_resident_tiles(t, cfg, kTiny));
    cfg.platform.tiles = static_cast<int>(t.total) - 1;
    try {
        check_resident_tiles(t, cfg, kTiny);
        FAIL() << "three tiles for four stages were accepted";
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind("chip.json: platform.tiles: expected at least 4 tiles", 0), 0u) << what;
        EXPECT_NE(what.find(kTiny), std::string::npos) << what;
        EXPECT_NE(what.find("got 3"), std::string::npos) << what;
    }
}

TEST(ResidentTiles, TheCompilerPlacesAStageFromItsFirstTileWhenItFitsThereElseAtTileZero) {
    ArchConfig cfg;
    cfg.platform.tiles = 8;
    const TraceWorkload w = build_trace_workload(load_trace(kTiny), cfg, TraceMapping::kTrace);
    NetworkOptions o;
    o.batch = 1;
    o.first_tile = 7;  // conv1 takes one tile: the last one
    ExecutionPlan p = compile_network(w.stage_model(0), cfg, o);
    EXPECT_TRUE(p.resident);
    EXPECT_EQ(p.layers[0].mapping.tile_offset, 7);
    EXPECT_EQ(p.layers[0].mapping.tile_of(0, 0), 7);
    o.first_tile = 8;  // past the chip: not resident, reprogrammed from tile 0
    p = compile_network(w.stage_model(0), cfg, o);
    EXPECT_FALSE(p.resident);
    EXPECT_EQ(p.layers[0].mapping.tile_offset, 0);
}

TEST(ResidentTiles, TheShapeMappingEqualsTheMappingOfTheWeights) {
    ArchConfig cfg;
    cfg.crossbar.rows = 64;
    cfg.crossbar.cols = 48;
    cfg.crossbar.cell_bits = 2;
    cfg.platform.tiles = 5;  // fewer than the layer's tiles: several passes
    MatrixLayer m;
    m.K = 300;
    m.M = 70;
    m.w_bits = 6;
    m.weights.assign(static_cast<std::size_t>(m.K) * m.M, -3);
    const LayerMapping a = LayerMapping::make(m, cfg);
    MatrixLayer shape = m;
    shape.weights.clear();
    const LayerMapping b = LayerMapping::of_shape(shape, cfg);
    EXPECT_EQ(a.row_tiles, b.row_tiles);
    EXPECT_EQ(a.col_tiles, b.col_tiles);
    EXPECT_EQ(a.col_tiles_per_pass, b.col_tiles_per_pass);
    EXPECT_EQ(a.passes, b.passes);
    EXPECT_EQ(a.slices, b.slices);
    EXPECT_EQ(a.resident_tiles(), 5 * 5);  // ceil(300 / 64) row tiles x ceil(70 / (48 / 3)) column tiles
    EXPECT_GT(a.passes, 1);
    EXPECT_THROW(LayerMapping::make(shape, cfg), MappingError);  // a layer without its weights is still refused
}

TEST(SizeChip, SetsPlatformTilesToTheTracesTilesAndNothingElse) {
    ArchConfig cfg;
    cfg.source = "chip.json";
    const NetworkTrace trace = load_trace(kSource + "/traces/resnet20.trace");
    const SizedChip chip = size_chip(cfg, trace, TraceMapping::kTrace);
    const ResidentTiles t = plan_resident_tiles(build_trace_workload(trace, cfg, TraceMapping::kTrace), cfg);
    EXPECT_EQ(chip.tiles.total, t.total);
    EXPECT_EQ(chip.cfg.platform.tiles, t.total);
    ASSERT_EQ(chip.changes.size(), 1u);
    EXPECT_EQ(chip.changes[0].key, "platform.tiles");
    EXPECT_EQ(chip.changes[0].from, 256);
    EXPECT_EQ(chip.changes[0].to, t.total);
    nlohmann::json a = config_to_json(cfg), b = config_to_json(chip.cfg);
    a["platform"].erase("tiles");
    b["platform"].erase("tiles");
    EXPECT_EQ(a, b);
    // A config that already has the tiles is left as it is.
    const SizedChip again = size_chip(chip.cfg, trace, TraceMapping::kTrace);
    EXPECT_TRUE(again.changes.empty());
    EXPECT_EQ(again.cfg.platform.tiles, t.total);
}

TEST(SizeChip, AChipWithoutCrossbarLayersGetsOneTile) {
    const SizedChip chip = size_chip(ArchConfig{}, load_trace(kTiny), TraceMapping::kPe);
    EXPECT_EQ(chip.tiles.total, 0);
    EXPECT_EQ(chip.cfg.platform.tiles, config_limits::kMinTiles);
}

TEST(SizeChip, MoreTilesThanAConfigMayHaveAreRefusedNamingPlatformTiles) {
    // VGG-16 (ImageNet) on 128 x 128 one-bit arrays: 138 M 8-bit weights, about 68,000 tiles.
    const NetworkTrace vgg16 = load_trace(kSource + "/traces/vgg16.trace");
    try {
        size_chip(ArchConfig{}, vgg16, TraceMapping::kCrossbar);
        FAIL() << "VGG-16 was sized past the tile limit";
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("<defaults>: platform.tiles: expected at most " + std::to_string(config_limits::kMaxTiles)),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("vgg16.trace"), std::string::npos) << what;
    }
}

TEST(Pipeline, TheSlowestStageSetsTheRateAndTheSumIsTheLayerByLayerLatency) {
    const PipelineFigures p = pipeline_figures({300.0, 1200.0, 50.0, 1200.0, 0.0});
    EXPECT_DOUBLE_EQ(p.layer_by_layer_ns, 2750.0);
    EXPECT_DOUBLE_EQ(p.interval_ns, 1200.0);
    EXPECT_EQ(p.bottleneck, 1u);  // the first of the equals
    EXPECT_DOUBLE_EQ(p.pipelined_fps(), 1e9 / 1200.0);
    EXPECT_DOUBLE_EQ(p.layer_by_layer_fps(), 1e9 / 2750.0);
    const PipelineFigures one = pipeline_figures({400.0});
    EXPECT_DOUBLE_EQ(one.interval_ns, one.layer_by_layer_ns);  // one stage: nothing to overlap
    EXPECT_THROW(pipeline_figures({}), std::invalid_argument);
    EXPECT_THROW(pipeline_figures({1.0, -1.0}), std::invalid_argument);
    EXPECT_THROW(pipeline_figures({std::numeric_limits<double>::quiet_NaN()}), std::invalid_argument);
}

}  // namespace
}  // namespace cimvp
