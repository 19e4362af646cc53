// The RTL twins in the loop of a real network run (cimvp run --rtl): every
// conversion of every ADC bank and every group of every PE-array output of the
// shipped models goes through the Verilated RTL, checked one by one against the
// models, with the clock counts the models annotate; the network's outputs stay
// equal to the C++ reference. One TEST per process.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "sw/formats/config_loader.h"
#include "sw/app/run_job.h"
#include "sw/formats/idx_dataset.h"
#include "testbench/sc_test_support.h"

namespace cimvp {
namespace {

bool have_dataset() { return std::ifstream(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz").good(); }

RunJobResult run_with_rtl(const ArchConfig& cfg, const std::string& model, int limit) {
    RunJobSpec spec;
    spec.model_path = std::string(CIMVP_SOURCE_DIR) + "/models/" + model;
    spec.data_dir = kFashionMnistDir;
    spec.limit = limit;
    spec.progress = false;
    spec.rtl = true;
    return run_network_job(cfg, spec);
}

void expect_rtl_agrees(const RunJobResult& r, int images) {
    ASSERT_TRUE(r.rtl.has_value());
    const RtlRunStats& x = *r.rtl;
    EXPECT_EQ(r.agree, images) << "images equal to the C++ reference";
    EXPECT_EQ(x.adc_mismatches, 0u);
    EXPECT_EQ(x.pe_mismatches, 0u);
    EXPECT_EQ(x.pe_bypassed_jobs, 0u);
    EXPECT_EQ(x.conversions, x.model_conversions) << "every conversion of the run went through the RTL";
    EXPECT_EQ(x.adc_cycles, x.model_conversions * static_cast<std::uint64_t>(x.adc_bits));
    EXPECT_EQ(x.pe_cycles, x.model_pe_cycles);
    EXPECT_TRUE(x.ok());
    std::printf("%d images with the RTL in the loop: %llu conversions (%llu ADC clocks), %llu PE outputs of %llu "
                "groups (%llu PE clocks), all equal to the models\n",
                images, static_cast<unsigned long long>(x.conversions), static_cast<unsigned long long>(x.adc_cycles),
                static_cast<unsigned long long>(x.pe_outputs), static_cast<unsigned long long>(x.pe_groups),
                static_cast<unsigned long long>(x.pe_cycles));
}

// The lossy case: a 4-bit ADC with calibrated per-column steps and bases, codes clamping on both sides.
TEST(RtlInTheLoop, ColumnwiseModelWithItsLossyAdcEqualsTheModelsOnEveryConversion) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    const ArchConfig cfg = load_config(std::string(CIMVP_SOURCE_DIR) + "/configs/columnwise.json");
    const RunJobResult r = run_with_rtl(cfg, "fmnist-columnwise.cimvp", 2);
    expect_rtl_agrees(r, 2);
    EXPECT_GT(r.rtl->conversions, 10000u);
}

// The default model: binary crossbar layers, its first and last layers on the double-shift PEs.
TEST(RtlInTheLoop, BwmaModelRunsItsPeLayersAndConversionsThroughTheRtl) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    if (!have_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    const RunJobResult r = run_with_rtl(ArchConfig(), "fmnist-bwma.cimvp", 2);
    expect_rtl_agrees(r, 2);
    EXPECT_GT(r.rtl->pe_outputs, 1000u);
    EXPECT_GT(r.rtl->conversions, 10000u);
}

}  // namespace
}  // namespace cimvp
