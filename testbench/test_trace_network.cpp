// A trace as the platform runs it (sw/workloads/trace_network.h): the MACs the report
// gives per layer against the analytic count of every shipped trace, the
// published totals of the CIFAR traces, and the depthwise block-diagonal form.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "sw/formats/config_loader.h"
#include "sw/reference/network_reference.h"
#include "sw/workloads/trace_network.h"

namespace cimvp {
namespace {

const std::string kSource = CIMVP_SOURCE_DIR;

std::vector<std::string> shipped_traces() {
    std::vector<std::string> paths;
    for (const auto& e : std::filesystem::directory_iterator(kSource + "/traces"))
        if (e.path().extension() == ".trace") paths.push_back(e.path().string());
    std::sort(paths.begin(), paths.end());
    return paths;
}

// The analytic MACs of one layer from its shape fields alone.
std::int64_t analytic_macs(const TraceLayer& L) {
    const std::int64_t oh = (L.in_h + 2 * L.padding - L.kernel) / L.stride + 1;
    const std::int64_t ow = (L.in_w + 2 * L.padding - L.kernel) / L.stride + 1;
    switch (L.type) {
        case TraceLayerType::kConv:
            return std::int64_t{L.out_c} * oh * ow * (L.in_c / L.groups) * L.kernel * L.kernel;
        case TraceLayerType::kDwConv: return std::int64_t{L.in_c} * oh * ow * L.kernel * L.kernel;
        case TraceLayerType::kFc: return std::int64_t{L.in_c} * L.in_h * L.in_w * L.out_c;
        default: return 0;
    }
}

TEST(TraceNetwork, EveryShippedTraceBuildsAndItsReportedMacsEqualTheAnalyticCount) {
    const auto paths = shipped_traces();
    ASSERT_GE(paths.size(), 6u);  // resnet18, resnet20, mobilenet_v2, vgg8, vgg16, vgg16_cifar
    // The PE array of the default config holds weight records of K <= 4096 only (see below).
    const ArchConfig cfg = load_config(kSource + "/configs/imagenet_pe.json");
    for (const auto& path : paths) {
        SCOPED_TRACE(path);
        const NetworkTrace t = load_trace(path);
        for (TraceMapping mapping : {TraceMapping::kTrace, TraceMapping::kCrossbar, TraceMapping::kPe}) {
            const TraceWorkload w = build_trace_workload(t, cfg, mapping);
            std::int64_t total = 0;
            for (std::size_t l = 0; l < t.layers.size(); ++l) {
                EXPECT_EQ(w.layer_macs(l), analytic_macs(t.layers[l])) << t.layers[l].name;
                EXPECT_EQ(w.layer_stages[l].empty(), !t.layers[l].has_weights()) << t.layers[l].name;
                total += w.layer_macs(l);
            }
            EXPECT_EQ(total, t.macs());
        }
    }
}

// ResNet-20 only: drawing VGG's 13-15 M weights takes seconds (cli.TraceRun runs them whole).
TEST(TraceNetwork, StageModelsOfResNet20MatchTheirLayersAndFitTheDefaultPlatform) {
    const ArchConfig cfg;
    for (const char* name : {"resnet20"}) {
        SCOPED_TRACE(name);
        const NetworkTrace t = load_trace(kSource + "/traces/" + name + ".trace");
        const TraceWorkload w = build_trace_workload(t, cfg, TraceMapping::kTrace);
        for (std::size_t s = 0; s < w.stages.size(); ++s) {
            const NetworkModel m = w.stage_model(s);
            const TraceLayer& L = t.layers[w.stages[s].layer];
            ASSERT_EQ(m.layers.size(), 1u);
            const NetworkLayer& n = m.layers[0];
            EXPECT_EQ(static_cast<std::int64_t>(n.K()) * n.M() * n.vectors(), w.stage_macs(s));
            EXPECT_EQ(n.weights, trace_layer_weights(t, w.stages[s].layer));
            EXPECT_EQ(n.relu, !(L.type == TraceLayerType::kFc && s + 1 == w.stages.size()));
            EXPECT_NO_THROW(check_model_fits(m, cfg)) << L.name;
        }
    }
}

// A process that runs some of the layers (docs/scale.md) draws only their weights for the shifts: the
// plan is the whole trace's, the selected layers' models are the same, the others' are refused.
TEST(TraceNetwork, AWorkloadWithSomeLayersShiftsPlansEveryStageAndModelsOnlyThose) {
    const ArchConfig cfg;
    const NetworkTrace t = load_trace(kSource + "/traces/resnet20.trace");
    const TraceWorkload all = build_trace_workload(t, cfg, TraceMapping::kTrace);
    std::vector<bool> odd(t.layers.size());
    for (std::size_t l = 0; l < odd.size(); ++l) odd[l] = l % 2 == 1;
    const TraceWorkload some = build_trace_workload(t, cfg, TraceMapping::kTrace, odd);
    ASSERT_EQ(some.stages.size(), all.stages.size());
    EXPECT_EQ(some.layer_stages, all.layer_stages);
    int refused = 0;
    for (std::size_t s = 0; s < all.stages.size(); ++s) {
        const std::size_t l = all.stages[s].layer;
        EXPECT_EQ(some.stage_macs(s), all.stage_macs(s));
        if (odd[l] || all.stages[s].logits) {
            const NetworkModel a = all.stage_model(s), b = some.stage_model(s);
            EXPECT_EQ(b.layers[0].shift, a.layers[0].shift) << t.layers[l].name;
            EXPECT_EQ(b.layers[0].weights, a.layers[0].weights);
        } else {
            EXPECT_THROW(some.stage_model(s), std::logic_error) << t.layers[l].name;
            ++refused;
        }
    }
    EXPECT_GT(refused, 5);
    EXPECT_THROW(build_trace_workload(t, cfg, TraceMapping::kTrace, std::vector<bool>(3, true)), std::invalid_argument);
}

// He et al. 2016 section 4.2 (n = 3, option A), DNN+NeuroSim's VGG-8, and VGG-16 D on 32x32 with one FC-10.
TEST(TraceNetwork, CifarTracesHaveThePublishedArchitecturesMacCounts) {
    const auto conv = [](std::int64_t cin, std::int64_t cout, std::int64_t hw) { return cin * cout * 9 * hw * hw; };
    std::int64_t resnet20 = conv(3, 16, 32);
    for (int st = 0, c = 16, hw = 32; st < 3; ++st) {
        const int out = 16 << st, ohw = st == 0 ? hw : hw / 2;
        for (int b = 0; b < 3; ++b) resnet20 += conv(b == 0 ? c : out, out, ohw) + conv(out, out, ohw);
        c = out;
        hw = ohw;
    }
    resnet20 += 64 * 10;
    const std::int64_t vgg8 = conv(3, 128, 32) + conv(128, 128, 32) + conv(128, 256, 16) + conv(256, 256, 16) +
                              conv(256, 512, 8) + conv(512, 512, 8) + 8192 * 1024 + 1024 * 10;
    std::int64_t vgg16 = 0;
    int c = 3, hw = 32;
    for (const auto& block : std::vector<std::vector<int>>{{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512},
                                                           {512, 512, 512}}) {
        for (int out : block) {
            vgg16 += conv(c, out, hw);
            c = out;
        }
        hw /= 2;
    }
    vgg16 += 512 * 10;
    EXPECT_EQ(load_trace(kSource + "/traces/resnet20.trace").macs(), resnet20);
    EXPECT_NEAR(resnet20 / 1e6, 40.6, 0.1);  // the usual "41 M" of ResNet-20
    EXPECT_EQ(load_trace(kSource + "/traces/vgg8.trace").macs(), vgg8);
    EXPECT_EQ(load_trace(kSource + "/traces/vgg16_cifar.trace").macs(), vgg16);
    EXPECT_NEAR(vgg16 / 1e6, 313.2, 0.1);
}

TEST(TraceNetwork, DepthwiseBlocksAreBlockDiagonalConvolutionsThatComputeTheDepthwiseLayer) {
    ArchConfig cfg;
    cfg.crossbar.rows = 64;  // 7 whole 3x3 kernels per block
    const NetworkTrace t = load_trace(kSource + "/testbench/data/tiny.trace");
    const TraceWorkload w = build_trace_workload(t, cfg, TraceMapping::kTrace);
    const std::size_t l = 1;  // dw1: 16 channels
    const TraceLayer& L = t.layers[l];
    ASSERT_EQ(L.type, TraceLayerType::kDwConv);
    ASSERT_EQ(depthwise_block_channels(3, cfg), 7);
    ASSERT_EQ(w.layer_stages[l].size(), 3u);  // 7 + 7 + 2 channels
    const auto drawn = trace_layer_weights(t, l);
    for (std::size_t si : w.layer_stages[l]) {
        const TraceStage& s = w.stages[si];
        const NetworkModel m = w.stage_model(si);
        const NetworkLayer& n = m.layers[0];
        const auto x = w.stage_input(si, 0);
        ASSERT_EQ(x.size(), static_cast<std::size_t>(s.channels) * L.in_h * L.in_w);
        // The block's im2col vectors through its matrix equal the depthwise convolution computed directly.
        const auto vec = NetworkReference::layer_vectors(n, x.data());
        const int K = n.K(), V = n.vectors();
        for (int v = 0; v < V; ++v) {
            const int oy = v / n.out_w(), ox = v % n.out_w();
            for (int o = 0; o < s.channels; ++o) {
                std::int64_t via_matrix = 0, direct = 0;
                for (int k = 0; k < K; ++k)
                    via_matrix += std::int64_t{vec[static_cast<std::size_t>(v) * K + k]} *
                                  n.weights[static_cast<std::size_t>(o) * K + k];
                for (int ky = 0; ky < 3; ++ky)
                    for (int kx = 0; kx < 3; ++kx) {
                        const int iy = oy - 1 + ky, ix = ox - 1 + kx;
                        if (iy < 0 || ix < 0 || iy >= L.in_h || ix >= L.in_w) continue;
                        direct += std::int64_t{x[(static_cast<std::size_t>(o) * L.in_h + iy) * L.in_w + ix]} *
                                  drawn[static_cast<std::size_t>(s.first_channel + o) * 9 + ky * 3 + kx];
                    }
                ASSERT_EQ(via_matrix, direct) << "block at " << s.first_channel << ", vector " << v << ", channel " << o;
            }
        }
    }
}

TEST(TraceNetwork, RequantizationShiftMapsFourSigmaOfTheAccumulatorToFullScale) {
    const NetworkTrace t = load_trace(kSource + "/traces/resnet20.trace");
    const std::size_t l = 1;  // layer1.0.conv1, K = 144
    const auto w = trace_layer_weights(t, l);
    const int M = t.layers[l].out_c;
    const int s = trace_requant_shift(w, M, t.data.act, 8, 8);
    // Measure the accumulator spread on drawn inputs and check the shift is the smallest that keeps 4 sigma in range.
    const int K = t.layers[l].K();
    const auto x = trace_layer_activations(t, l, static_cast<std::size_t>(K) * 256);
    double sum2 = 0;
    for (int v = 0; v < 256; ++v)
        for (int m = 0; m < M; ++m) {
            std::int64_t acc = 0;
            for (int k = 0; k < K; ++k)
                acc += std::int64_t{x[static_cast<std::size_t>(v) * K + k]} * w[static_cast<std::size_t>(m) * K + k];
            sum2 += static_cast<double>(acc) * acc;
        }
    const double sigma = std::sqrt(sum2 / (256.0 * M));
    EXPECT_GT(s, 0);
    EXPECT_LE(kTraceRequantSigmas * sigma / std::ldexp(1.0, s), 255 * 1.1);  // the measured spread, within 10 %
    EXPECT_GT(kTraceRequantSigmas * sigma / std::ldexp(1.0, s - 1), 255 * 0.9);
}

TEST(TraceNetwork, AnEightBitOnlyEngineRejectsANarrowLayerNamingTheLine) {
    const std::string text =
        "cimvp-trace 1\n"
        "network name=n input=4,4,4\n"
        "data seed=1 act=uniform weights=normal:0.1\n"
        "layer name=c type=conv in=4,4,4 out=4 kernel=3 stride=1 padding=1 groups=1 w_bits=4 a_bits=4 scheme=int8 "
        "map=crossbar\n";
    const NetworkTrace t = parse_trace(text, "x.trace");
    EXPECT_NO_THROW(build_trace_workload(t, ArchConfig(), TraceMapping::kTrace));
    try {
        build_trace_workload(t, ArchConfig(), TraceMapping::kPe);
        FAIL() << "expected a TraceError";
    } catch (const TraceError& e) {
        EXPECT_NE(std::string(e.what()).find("x.trace:4: map: expected crossbar"), std::string::npos) << e.what();
    }
}

TEST(TraceNetwork, PeLayersWhoseWeightTileOverflowsTheBufferAreRejectedNamingTheLine) {
    const NetworkTrace t = load_trace(kSource + "/traces/resnet18.trace");
    try {
        build_trace_workload(t, ArchConfig(), TraceMapping::kTrace);
        FAIL() << "expected a TraceError";
    } catch (const TraceError& e) {
        // layer3 and earlier have K <= 2304; layer4.0.conv2 (K = 4608) needs 8 x 1152 x 8 bytes.
        const std::string line = std::to_string(std::find_if(t.layers.begin(), t.layers.end(), [](const TraceLayer& L) {
                                                    return L.name == "layer4.0.conv2";
                                                })->line);
        EXPECT_NE(std::string(e.what()).find("resnet18.trace:" + line + ": map: expected"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("weight_buffer_bytes = 65536 (it needs 73728"), std::string::npos)
            << e.what();
    }
    EXPECT_NO_THROW(build_trace_workload(t, load_config(kSource + "/configs/imagenet_pe.json"), TraceMapping::kTrace));
}

TEST(TraceNetwork, HostPoolAndAddComputeOnTheLayersOwnDraws) {
    const std::string text =
        "cimvp-trace 1\n"
        "network name=n input=2,5,5\n"
        "data seed=3 act=uniform weights=normal:0.1\n"
        "layer name=mp type=pool in=2,5,5 out=2 kernel=3 stride=2 padding=1 op=max\n"
        "layer name=ap type=pool in=2,5,5 out=2 kernel=2 stride=2 padding=0 op=avg\n"
        "layer name=s type=add in=2,5,5 out=2\n";
    const NetworkTrace t = parse_trace(text, "h.trace");
    const std::uint64_t image = 1, size = 50;
    // Max pool 3x3/2 with padding 1: padding never wins; output 3x3.
    const auto x = trace_layer_activations(t, 0, size, image * size);
    const HostLayerResult mp = run_host_layer(t, 0, image);
    ASSERT_EQ(mp.output.size(), 18u);
    const auto at = [&](const std::vector<std::uint8_t>& v, int c, int y, int xx) { return int{v[(c * 5 + y) * 5 + xx]}; };
    EXPECT_EQ(mp.output[0], std::max({at(x, 0, 0, 0), at(x, 0, 0, 1), at(x, 0, 1, 0), at(x, 0, 1, 1)}));
    int centre = 0;
    for (int y = 1; y <= 3; ++y)
        for (int xx = 1; xx <= 3; ++xx) centre = std::max(centre, at(x, 1, y, xx));
    EXPECT_EQ(mp.output[9 + 4], centre);
    // Average pool 2x2/2: the window's sum / 4, rounded half up; output 2x2.
    const auto a = trace_layer_activations(t, 1, size, image * size);
    const HostLayerResult ap = run_host_layer(t, 1, image);
    ASSERT_EQ(ap.output.size(), 8u);
    const int sum = at(a, 1, 2, 2) + at(a, 1, 2, 3) + at(a, 1, 3, 2) + at(a, 1, 3, 3);
    EXPECT_EQ(ap.output[4 + 3], (sum + 2) / 4);
    EXPECT_EQ(ap.ops, 2u * 4 * 4);
    // Add: the two operands are draws [0, size) and [size, 2 size) of the image, saturated at 255.
    const auto b = trace_layer_activations(t, 2, 2 * size, image * 2 * size);
    const HostLayerResult add = run_host_layer(t, 2, image);
    for (std::size_t i = 0; i < size; ++i) EXPECT_EQ(add.output[i], std::min(255, b[i] + b[size + i])) << i;
    EXPECT_EQ(add.ops, size);
}

TEST(TraceNetwork, NarrowedWeightsStayInTheirRange) {
    const std::vector<std::int8_t> w = {-127, -65, -64, -1, 0, 1, 63, 64, 127};
    EXPECT_EQ(narrow_trace_weights(w, 4, false), (std::vector<std::int8_t>{-8, -4, -4, 0, 0, 0, 4, 4, 7}));
    EXPECT_EQ(narrow_trace_weights(w, 1, true), (std::vector<std::int8_t>{-1, -1, -1, -1, 1, 1, 1, 1, 1}));
    EXPECT_EQ(narrow_trace_weights(w, 8, false), w);
}

}  // namespace
}  // namespace cimvp
