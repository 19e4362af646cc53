// The networks `cimvp bench --layer-type` times (sw/workloads/bench_networks.h): every
// one is a well-formed model — it survives the model file's own validation —
// and each layer reads exactly what the previous one writes.
#include <gtest/gtest.h>

#include "hw/arch_config.h"
#include "sw/workloads/bench_networks.h"
#include "sw/formats/model_file.h"

namespace cimvp {
namespace {

TEST(BenchNetworks, EveryTypeIsAValidModelFile) {
    for (const auto& type : bench_layer_types()) {
        const BenchNetwork b = bench_network(type, 3);
        const NetworkModel back = parse_model(serialize_model(b.model), "<bench " + type + ">");
        EXPECT_EQ(back.layers.size(), b.model.layers.size()) << type;
        EXPECT_NO_THROW(check_model_fits(b.model, ArchConfig(), b.options.on_pe)) << type;
    }
}

TEST(BenchNetworks, EachLayerReadsWhatThePreviousWrites) {
    for (const auto& type : bench_layer_types()) {
        const NetworkModel m = bench_network(type, 3).model;
        ASSERT_GE(m.layers.size(), 2u) << type;
        EXPECT_EQ(m.layers[0].in_c * m.layers[0].in_h * m.layers[0].in_w, static_cast<int>(m.image_bytes())) << type;
        for (std::size_t l = 1; l < m.layers.size(); ++l) {
            const NetworkLayer &prev = m.layers[l - 1], &L = m.layers[l];
            EXPECT_EQ(L.in_c * L.in_h * L.in_w, prev.M() * prev.pooled_h() * prev.pooled_w()) << type << " layer " << l;
            EXPECT_EQ(L.weights.size(), static_cast<std::size_t>(L.M()) * L.K()) << type << " layer " << l;
        }
        EXPECT_EQ(m.layers.back().M(), m.num_classes) << type;
    }
}

TEST(BenchNetworks, MacsCountTheLayerUnderTestAndTheHead) {
    const BenchNetwork b = bench_network("conv3x3", 1);
    EXPECT_DOUBLE_EQ(b.layer_macs_per_image, 8.0 * 9 * 32 * 14 * 14);
    EXPECT_DOUBLE_EQ(b.macs_per_image, b.layer_macs_per_image + 32.0 * 7 * 7 * 10);
}

TEST(BenchNetworks, UnknownTypeNamesTheKnownOnes) {
    try {
        bench_network("depthwise", 1);
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("conv3x3, conv1x1, fc, pe or all"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace cimvp
