// End to end on the platform: random models of the Fashion-MNIST CNN's shape
// run through the driver, the DMA's im2col gathers, the tiles and the
// post-processing unit, image by image equal to the C++ network reference.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "sw/app/run_job.h"
#include "sw/compiler/network_compiler.h"
#include "sw/compiler/swis_storage.h"
#include "sw/driver/network_runner.h"
#include "sw/formats/config_loader.h"
#include "sw/formats/idx_dataset.h"
#include "sw/reference/network_reference.h"
#include "testbench/model_builders.h"
#include "testbench/platform_bench.h"
#include "testbench/sc_test_support.h"

namespace cimvp {
namespace {

std::string write_model(const NetworkModel& m, const std::string& name) {
    const std::string path = ::testing::TempDir() + name + ".cimvp";
    const auto bytes = serialize_model(m);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return path;
}

bool have_dataset() { return std::ifstream(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz").good(); }

RunJobResult run(const ArchConfig& cfg, const NetworkModel& m, const std::string& name, int limit, int batch,
                 const std::string& pe_layers = "default", int swis_shifts = 8) {
    RunJobSpec spec;
    spec.pe_layers = pe_layers;
    spec.swis_shifts = swis_shifts;
    spec.model_path = write_model(m, name);
    spec.data_dir = kFashionMnistDir;
    spec.limit = limit;
    spec.batch = batch;
    spec.progress = false;
    return run_network_job(cfg, spec);
}

void expect_sane(const RunJobResult& r, int images) {
    EXPECT_EQ(r.images, images);
    EXPECT_EQ(r.agree, images) << "images equal to the C++ reference";
    EXPECT_GT(r.total.cycles, 0u);
    EXPECT_GT(r.total.energy.crossbar, 0.0);
    EXPECT_GT(r.total.energy.adc, 0.0);
    EXPECT_GT(r.total.energy.post_process, 0.0);
    EXPECT_GT(r.total.energy.dma, 0.0);
    EXPECT_GT(r.total.energy.dram, 0.0);
    for (const auto& l : r.layers) EXPECT_GT(l.stats.cycles, 0u) << l.name;
}

TEST(NetworkOnPlatform, Int8StyleModelEqualsReferenceOnEveryImage) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    s.w_bits = 8;
    s.a_bits = 8;
    const auto r = run(ArchConfig(), test::random_network(1, s), "int8", 12, 5);  // ragged last batch
    expect_sane(r, 12);
    EXPECT_TRUE(r.resident);
}

TEST(NetworkOnPlatform, BinaryMiddleLayersWithInputSumTermEqualReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    s.binary_middle = true;
    const auto r = run(ArchConfig(), test::random_network(2, s), "bwma", 10, 4);
    expect_sane(r, 10);
    // The default 1 MiB global buffer holds a batch of 4's activations and every layer's accumulators.
    EXPECT_TRUE(r.activations_on_chip);
    for (const auto& l : r.layers) EXPECT_TRUE(l.scratch_on_chip) << l.name;
}

TEST(NetworkOnPlatform, BwmaFirstAndLastLayersOnThePeArrayEqualReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    s.binary_middle = true;
    const auto r = run(ArchConfig(), test::random_network(7, s), "bwma-pe", 9, 4);
    expect_sane(r, 9);
    ASSERT_EQ(r.layers.size(), 4u);
    EXPECT_EQ(r.layers.front().mapped_to, "pe_array");
    EXPECT_EQ(r.layers[1].mapped_to, "crossbar");
    EXPECT_EQ(r.layers.back().mapped_to, "pe_array");
    EXPECT_GT(r.total.energy.pe, 0.0);
}

TEST(NetworkOnPlatform, EveryLayerOnThePeArrayWithThreeShiftsEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    s.a_bits = 8;
    const std::uint64_t decompositions = swis_decompositions();
    const auto r = run(ArchConfig(), test::random_network(8, s), "all-pe", 6, 3, "all", 3);
    EXPECT_EQ(r.agree, 6);
    EXPECT_EQ(swis_decompositions() - decompositions, r.layers.size())
        << "the compiler decomposes each layer once; the runner and the reference use its groups";
    for (const auto& l : r.layers) EXPECT_EQ(l.mapped_to, "pe_array") << l.name;
    EXPECT_EQ(r.total.energy.crossbar, 0.0);
    EXPECT_GT(r.total.energy.pe, 0.0);
}

TEST(NetworkOnPlatform, StoredSwisGroupsRunOnThePeArrayAndEqualReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    s.a_bits = 8;
    s.c2 = 12;  // two array tiles of 8 filters, the second ragged
    const NetworkModel m = test::random_network(9, s);
    // A scheduled mean of 2.5 gives filters different N within a layer; SWIS-C on the middle layers.
    SwisStoreOptions o;
    o.shifts = 2.5;
    o.variant = swis::Variant::kSwisC;
    const NetworkModel stored = store_swis_layers(m, {false, true, true, false}, o);
    o.variant = swis::Variant::kSwis;
    const NetworkModel both = store_swis_layers(stored, {true, false, false, true}, o);
    const auto r = run(ArchConfig(), both, "stored-swis", 6, 4);
    EXPECT_EQ(r.images, 6);
    EXPECT_EQ(r.agree, 6) << "images equal to the C++ reference running the stored groups";
    for (const auto& l : r.layers) EXPECT_EQ(l.mapped_to, "pe_array") << l.name;
    EXPECT_GT(r.total.energy.pe, 0.0);
    EXPECT_EQ(r.total.energy.crossbar, 0.0);
}

// The runner and the reference given one plan: logits equal image by image, the ragged
// last batch included, with crossbar and PE-array layers and steps smaller than the batch.
TEST(NetworkOnPlatform, RunnerAndReferenceOnOnePlanAgree) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    test::ModelShape s;
    s.a_bits = 8;
    const NetworkModel m = test::random_network(14, s);
    NetworkOptions o;
    o.on_pe = {true, false, false, true};
    o.swis_shifts = 3;
    o.batch = 4;
    ArchConfig cfg;
    cfg.platform.global_buffer.size_bytes = 96 * 1024;  // conv1 runs its batch in steps
    const ExecutionPlan plan = compile_network(m, cfg, o);
    ASSERT_LT(plan.layers[0].placement.images_per_step, o.batch);
    const int images = 7;
    std::mt19937 rng(3);
    std::vector<std::uint8_t> x(m.image_bytes() * images);
    for (auto& p : x) p = static_cast<std::uint8_t>(rng() & 0xff);
    std::vector<std::int64_t> logits;
    test::PlatformBench bench(cfg);
    bench.run([&](HostCpu&, Driver& driver) {
        NetworkRunner runner(driver, plan, [&] { return bench.platform.energy_meter(); });
        runner.program();
        logits = test::run_in_batches(runner, x, images);
    });
    const NetworkReference ref(plan);
    ASSERT_EQ(logits.size(), static_cast<std::size_t>(images) * m.num_classes);
    for (int i = 0; i < images; ++i) {
        const auto at = [&](int image) { return logits.begin() + static_cast<std::ptrdiff_t>(image) * m.num_classes; };
        const std::vector<std::int64_t> mine(at(i), at(i + 1));
        EXPECT_EQ(ref.logits(&x[m.image_bytes() * i], static_cast<std::uint64_t>(i)), mine) << "image " << i;
    }
}

TEST(NetworkOnPlatform, PingPongInputBanksEqualReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    s.binary_middle = true;
    ArchConfig cfg;
    cfg.platform.ping_pong = true;
    cfg.platform.input_buffer.size_bytes = 1024;  // many chunks per layer: the pipeline alternates banks
    const auto r = run(cfg, test::random_network(10, s), "ping-pong", 7, 4);
    expect_sane(r, 7);
}

// Bytes of a layer's on-chip scratch for `images` images: int64 accumulators and input sums,
// and the PE array's im2col vectors, each rounded up to 64 bytes (docs/architecture.md).
std::uint64_t scratch_bytes(const NetworkLayer& L, bool pe, int images) {
    const auto up = [](std::uint64_t b) { return (b + 63) / 64 * 64; };
    const std::uint64_t v = static_cast<std::uint64_t>(images) * static_cast<std::uint64_t>(L.vectors());
    return up(v * static_cast<std::uint64_t>(L.M()) * 8) + up(v * 8) + (pe ? up(v * static_cast<std::uint64_t>(L.K())) : 0);
}

// Bytes of the hidden activations and logits of a batch, each rounded up to 64 bytes.
std::uint64_t activation_bytes(const NetworkModel& m, int batch) {
    const auto up = [](std::uint64_t b) { return (b + 63) / 64 * 64; };
    std::uint64_t b = up(static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(m.num_classes) * 8);
    for (const NetworkLayer& L : m.layers)
        if (L.relu)
            b += up(static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(L.M()) * L.pooled_h() * L.pooled_w());
    return b;
}

// Each layer's step is as many images as the accumulator region holds, never more.
void expect_steps_fill(const RunJobResult& r, const NetworkModel& model, std::uint64_t region, int batch) {
    ASSERT_EQ(r.layers.size(), model.layers.size());
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        const auto& lr = r.layers[l];
        SCOPED_TRACE(lr.name);
        EXPECT_TRUE(lr.scratch_on_chip);
        ASSERT_GE(lr.images_per_step, 1);
        ASSERT_LE(lr.images_per_step, batch);
        const bool pe = lr.mapped_to == "pe_array";
        EXPECT_LE(scratch_bytes(model.layers[l], pe, lr.images_per_step), region) << "a step overflows the region";
        if (lr.images_per_step < batch) {
            EXPECT_GT(scratch_bytes(model.layers[l], pe, lr.images_per_step + 1), region) << "a step could hold more";
        }
    }
}

TEST(NetworkOnPlatform, SmallGlobalBufferRunsTheBatchInStepsAndEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    s.binary_middle = true;  // BWMA: conv1 and fc2 on the PE array
    const NetworkModel model = test::random_network(11, s);
    const int batch = 6;
    // The activations, then room for conv1's scratch of two images, not the batch's.
    const std::uint64_t region = 2 * scratch_bytes(model.layers[0], true, 1) + 64;
    ArchConfig cfg;
    cfg.platform.global_buffer.size_bytes = activation_bytes(model, batch) + region;
    const auto r = run(cfg, model, "gbuf-small", 13, batch);  // 13 images: a ragged last batch and last step
    expect_sane(r, 13);
    EXPECT_TRUE(r.activations_on_chip);
    EXPECT_EQ(r.layers[0].images_per_step, 2);
    expect_steps_fill(r, model, region, batch);
}

TEST(NetworkOnPlatform, TooSmallForTheActivationsTheGlobalBufferHoldsOnlyAccumulators) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    const NetworkModel model = test::random_network(13, s);
    const int batch = 5;
    // With the activations, not even one image of the largest layer's scratch would fit.
    std::uint64_t one = 0;
    for (const NetworkLayer& L : model.layers) one = std::max(one, scratch_bytes(L, false, 1));
    const std::uint64_t size = (activation_bytes(model, batch) + one - 64) / 8 * 8;
    ASSERT_GE(size, one) << "the model's shape does not allow this test";
    ArchConfig cfg;
    cfg.platform.global_buffer.size_bytes = size;
    const auto r = run(cfg, model, "gbuf-acc-only", 11, batch);
    expect_sane(r, 11);
    EXPECT_FALSE(r.activations_on_chip);
    expect_steps_fill(r, model, size, batch);
}

TEST(NetworkOnPlatform, WithoutAGlobalBufferEverythingStaysInDramAndEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    test::ModelShape s;
    s.binary_middle = true;
    ArchConfig cfg;
    cfg.platform.global_buffer.size_bytes = 0;
    const auto r = run(cfg, test::random_network(12, s), "gbuf-none", 7, 4);
    expect_sane(r, 7);
    EXPECT_FALSE(r.activations_on_chip);
    for (const auto& l : r.layers) {
        EXPECT_FALSE(l.scratch_on_chip) << l.name;
        EXPECT_EQ(l.images_per_step, 4) << l.name;
    }
}

TEST(NetworkOnPlatform, ColumnwiseTablesAndMultipliersOnTwoBitCellsEqualReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    ArchConfig cfg;
    cfg.crossbar.cell_bits = 2;
    cfg.crossbar.dac_bits = 4;
    cfg.adc.bits = 4;
    test::ModelShape s;
    s.w_bits = 4;
    s.cell_bits_for_tables = 2;
    s.adc_bits = 4;
    const auto r = run(cfg, test::random_network(3, s), "columnwise", 8, 8);
    expect_sane(r, 8);
    EXPECT_TRUE(r.recalibrated.empty());
}

TEST(NetworkOnPlatform, TooFewTilesReprogramsPerBatchAndStillEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    ArchConfig cfg;
    cfg.platform.tiles = 4;
    test::ModelShape s;  // fc1: K = 8*7*7 = 392 -> 4 row tiles: every layer fits alone, not all at once
    const auto r = run(cfg, test::random_network(4, s), "small-tiles", 6, 3);
    expect_sane(r, 6);
    EXPECT_FALSE(r.resident);
}

TEST(NetworkOnPlatform, LossyAdcRecalibratesAndStillEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    ArchConfig cfg;
    cfg.adc.bits = 4;
    test::ModelShape s;
    const auto r = run(cfg, test::random_network(5, s), "lossy", 6, 6);
    expect_sane(r, 6);
    EXPECT_EQ(r.recalibrated.size(), 3u);  // conv1 reads 9 rows of 1-bit inputs: a 4-bit ADC is lossless there
}

TEST(NetworkOnPlatform, MissingDatasetNamesHowToInstallIt) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    RunJobSpec spec;
    spec.model_path = write_model(test::random_network(6, test::ModelShape{}), "nodata");
    spec.data_dir = "/nonexistent";
    spec.progress = false;
    try {
        run_network_job(ArchConfig(), spec);
        FAIL() << "no error";
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find("apt-get install dataset-fashion-mnist"), std::string::npos);
    }
}

}  // namespace
}  // namespace cimvp
