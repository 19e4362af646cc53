// Graph networks end to end on the platform: a random graph with a residual add, a concat, a
// depthwise 3x3 conv, a 1x1 conv, a grouped 1x1 conv, a max-pool node, a global average pool and
// an fc (testbench/model_builders.h random_graph_network), run by the NetworkRunner (grouped convs
// block by block with DMA gathers, tensor nodes as TensorOp jobs on the post-processing unit),
// logits equal to the C++ reference image by image; and a v3 file through `cimvp run`'s job.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>

#include "sw/app/run_job.h"
#include "sw/compiler/network_compiler.h"
#include "sw/driver/network_runner.h"
#include "sw/formats/idx_dataset.h"
#include "sw/reference/network_reference.h"
#include "testbench/model_builders.h"
#include "testbench/platform_bench.h"
#include "testbench/sc_test_support.h"

namespace cimvp {
namespace {

std::vector<std::uint8_t> images_of(const NetworkModel& m, int n, unsigned seed) {
    // Different brightness per image: a global average of noise hardly differs between images.
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> x(m.image_bytes() * static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        for (std::size_t j = 0; j < m.image_bytes(); ++j)
            x[i * m.image_bytes() + j] = static_cast<std::uint8_t>(rng() % (40u * static_cast<unsigned>(i % 6 + 1)));
    return x;
}

struct GraphRun {
    std::vector<std::int64_t> logits;
    std::vector<RunStats> layers;
    std::uint64_t tensor_jobs = 0;
};

GraphRun run_on_platform(const ExecutionPlan& plan, const std::vector<std::uint8_t>& x, int images) {
    GraphRun r;
    test::PlatformBench bench(plan.cfg);
    bench.run([&](HostCpu&, Driver& driver) {
        NetworkRunner runner(driver, plan, [&] { return bench.platform.energy_meter(); });
        runner.program();
        r.logits = test::run_in_batches(runner, x, images);
        r.layers = runner.layer_stats();
        r.tensor_jobs = bench.platform.ppu.counters().tensor_jobs;
    });
    return r;
}

void expect_equal_to_reference(const ExecutionPlan& plan, const std::vector<std::uint8_t>& x, int images,
                               const GraphRun& r) {
    const NetworkModel& m = plan.model;
    const NetworkReference ref(plan);
    ASSERT_EQ(r.logits.size(), static_cast<std::size_t>(images) * m.num_classes);
    std::set<std::int64_t> seen;
    for (int i = 0; i < images; ++i) {
        const auto at = [&](int image) { return r.logits.begin() + static_cast<std::ptrdiff_t>(image) * m.num_classes; };
        const std::vector<std::int64_t> mine(at(i), at(i + 1));
        EXPECT_EQ(ref.logits(&x[m.image_bytes() * i], static_cast<std::uint64_t>(i)), mine) << "image " << i;
        seen.insert(mine.begin(), mine.end());
    }
    EXPECT_GT(seen.size(), static_cast<std::size_t>(m.num_classes));  // the images give different logits
}

TEST(GraphOnPlatform, LosslessAdcSeveralBlocksEqualsReferenceOnEveryImage) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const NetworkModel m = test::random_graph_network(21, 12, 16);
    ArchConfig cfg;
    cfg.crossbar.rows = 32;  // the depthwise conv in 6 blocks of 3 groups: gathers and channel slices
    NetworkOptions o;
    o.batch = 3;
    const ExecutionPlan plan = compile_network(m, cfg, o);
    ASSERT_EQ(plan.layers[1].blocks.size(), 6u);
    ASSERT_TRUE(plan.activations_on_chip);
    const int images = 7;  // a ragged last batch
    const auto x = images_of(m, images, 1);
    const GraphRun r = run_on_platform(plan, x, images);
    expect_equal_to_reference(plan, x, images, r);
    // Tensor nodes ran on the post-processing unit, with time and energy: add 1, concat 2, pools 1 + 1.
    EXPECT_EQ(r.tensor_jobs, 5u * 3u);  // per batch
    for (std::size_t l : {3u, 5u, 6u, 7u}) {
        EXPECT_GT(r.layers[l].cycles, 0u) << l;
        EXPECT_GT(r.layers[l].energy.post_process, 0.0) << l;
        EXPECT_EQ(r.layers[l].energy.crossbar, 0.0) << l;
    }
    EXPECT_GT(r.layers[1].energy.crossbar, 0.0);
}

TEST(GraphOnPlatform, LossyCalibratedAdcEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const NetworkModel m = test::random_graph_network(22, 12, 8);
    ArchConfig cfg;
    cfg.adc.bits = 3;
    NetworkOptions o;
    o.batch = 4;
    const auto calib = images_of(m, 6, 9);
    const ExecutionPlan plan = compile_with_reference(m, cfg, o, calib.data(), 6);
    bool recalibrated = false;
    for (const LayerPlan& p : plan.layers) recalibrated = recalibrated || p.adc_recalibrated;
    ASSERT_TRUE(recalibrated);
    const int images = 5;
    const auto x = images_of(m, images, 2);
    expect_equal_to_reference(plan, x, images, run_on_platform(plan, x, images));
}

TEST(GraphOnPlatform, SmallGlobalBufferStepsAndDramTensorsEqualReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const NetworkModel m = test::random_graph_network(23, 12, 8);
    ArchConfig cfg;
    cfg.crossbar.rows = 32;
    cfg.platform.global_buffer.size_bytes = 16 * 1024;  // the tensors go to DRAM, the convs run in steps
    NetworkOptions o;
    o.batch = 4;
    const ExecutionPlan plan = compile_network(m, cfg, o);
    ASSERT_FALSE(plan.activations_on_chip);
    ASSERT_GT(plan.layers[0].placement.steps, 1);
    const int images = 4;
    const auto x = images_of(m, images, 3);
    expect_equal_to_reference(plan, x, images, run_on_platform(plan, x, images));
}

// A global buffer too small for every tensor: the scratch region keeps what the largest layer's
// batch needs, the largest tensor buffers that still fit go on chip, the rest to DRAM.
TEST(GraphOnPlatform, TensorsThatFitBesideTheScratchGoOnChipTheRestToDram) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const NetworkModel m = test::random_graph_network(23, 12, 8);
    ArchConfig cfg;
    cfg.crossbar.rows = 32;
    NetworkOptions o;
    o.batch = 1;  // the scratch of one image: what the tensors must leave room for either way
    const auto align = [](std::uint64_t b) { return (b + 63) / 64 * 64; };
    const ExecutionPlan all = compile_network(m, cfg, o);
    std::uint64_t want = 0, largest = 0, tensors = 0;
    for (std::size_t l = 0; l < all.size(); ++l)
        want = std::max(want, scratch_bytes_for(all.layer(l), all.layers[l].on_pe, o.batch, all.layers[l].blocks));
    for (std::size_t b = 1; b < all.buffers.size(); ++b) {
        largest = std::max(largest, align(all.buffers[b].bytes));
        tensors += align(all.buffers[b].bytes);
    }
    ASSERT_GT(tensors, largest + 64);  // more than one buffer
    cfg.platform.global_buffer.size_bytes = align(want) + largest + 64;
    const ExecutionPlan plan = compile_network(m, cfg, o);
    ASSERT_FALSE(plan.activations_on_chip);
    const TensorPlacement t = tensor_placement(plan);
    EXPECT_GT(t.buffers_on_chip, 0);
    EXPECT_LT(t.buffers_on_chip, t.buffers);
    std::uint64_t on_chip = 0;
    for (std::size_t b = 1; b < plan.buffers.size(); ++b)
        if (plan.buffers[b].on_chip) on_chip += align(plan.buffers[b].bytes);
    EXPECT_EQ(plan.scratch_region_bytes, std::min(want, cfg.platform.global_buffer.size_bytes - on_chip));
    bool largest_on_chip = false;
    for (std::size_t b = 1; b < plan.buffers.size(); ++b)
        largest_on_chip = largest_on_chip || (align(plan.buffers[b].bytes) == largest && plan.buffers[b].on_chip);
    EXPECT_TRUE(largest_on_chip);
    EXPECT_LE(on_chip + plan.scratch_region_bytes, cfg.platform.global_buffer.size_bytes);
    const int images = 3;
    const auto x = images_of(m, images, 3);
    expect_equal_to_reference(plan, x, images, run_on_platform(plan, x, images));
}

TEST(GraphOnPlatform, TooFewTilesReprogramsTheBlocksPerStepAndStillEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const NetworkModel m = test::random_graph_network(26, 12, 16);
    ArchConfig cfg;
    cfg.crossbar.rows = 32;
    cfg.platform.tiles = 4;  // fewer than the layers' and blocks' tiles: programmed where they run
    NetworkOptions o;
    o.batch = 2;
    const ExecutionPlan plan = compile_network(m, cfg, o);
    ASSERT_FALSE(plan.resident);
    const int images = 3;
    const auto x = images_of(m, images, 4);
    expect_equal_to_reference(plan, x, images, run_on_platform(plan, x, images));
}

TEST(GraphOnPlatform, AVersionThreeFileRunsThroughTheRunJob) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!std::ifstream(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz").good())
        GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    const NetworkModel m = test::random_graph_network(24, 28, 8);
    const std::string path = ::testing::TempDir() + "graph-v3.cimvp";
    const auto bytes = serialize_model(m);
    ASSERT_EQ(bytes[8], 3);  // version 3
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    RunJobSpec spec;
    spec.model_path = path;
    spec.data_dir = kFashionMnistDir;
    spec.limit = 5;
    spec.batch = 3;
    spec.progress = false;
    const RunJobResult r = run_network_job(ArchConfig(), spec);
    EXPECT_EQ(r.images, 5);
    EXPECT_EQ(r.agree, 5) << "images equal to the C++ reference";
    ASSERT_EQ(r.layers.size(), m.layers.size());
    EXPECT_EQ(r.layers[3].mapped_to, "post_process");
    EXPECT_EQ(r.layers[3].name, "node 3 (add)");
    EXPECT_GT(r.total.energy.post_process, 0.0);
}

TEST(GraphOnPlatform, PeLayersAllTakesEveryPlainConvAndFcAndATensorNodeIsRefused) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!std::ifstream(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz").good())
        GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    const NetworkModel m = test::random_graph_network(25, 28, 8);
    const std::string path = ::testing::TempDir() + "graph-pe.cimvp";
    const auto bytes = serialize_model(m);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    RunJobSpec spec;
    spec.model_path = path;
    spec.data_dir = kFashionMnistDir;
    spec.limit = 3;
    spec.batch = 3;
    spec.progress = false;
    spec.pe_layers = "all";
    const RunJobResult r = run_network_job(ArchConfig(), spec);
    EXPECT_EQ(r.agree, 3);
    const std::vector<std::string> want = {"pe_array", "crossbar", "pe_array", "post_process", "crossbar",
                                           "post_process", "post_process", "post_process", "pe_array"};
    ASSERT_EQ(r.layers.size(), want.size());
    for (std::size_t l = 0; l < want.size(); ++l) EXPECT_EQ(r.layers[l].mapped_to, want[l]) << l;
    spec.pe_layers = "5";
    try {
        run_network_job(ArchConfig(), spec);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("graph-pe.cimvp: node 5 (concat): a tensor node runs on the post-processing unit"),
                  std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace cimvp
