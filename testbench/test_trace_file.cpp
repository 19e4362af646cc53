// Network trace format v1 (sw/formats/trace_file.h, docs/trace-format.md): the shipped
// traces against independent descriptions of the published architectures, and
// what the parser says about malformed traces.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>

#include "sw/formats/trace_file.h"

namespace cimvp {
namespace {

const std::string kTraces = std::string(CIMVP_SOURCE_DIR) + "/traces/";

std::int64_t conv_macs(int cin, int cout, int k, int out_hw) { return std::int64_t{cin} * cout * k * k * out_hw * out_hw; }

// He et al. 2016, Table 1, 18-layer: MACs of the convolutions and the fc.
std::int64_t resnet18_macs() {
    std::int64_t m = conv_macs(3, 64, 7, 112);
    int c = 64, hw = 56;
    for (int out : {64, 128, 256, 512}) {
        const int ohw = out == 64 ? 56 : hw / 2;
        for (int b = 0; b < 2; ++b) {
            const int cin = b == 0 ? c : out;
            m += conv_macs(cin, out, 3, ohw) + conv_macs(out, out, 3, ohw);
            if (b == 0 && out != 64) m += conv_macs(cin, out, 1, ohw);  // projection shortcut
        }
        c = out;
        hw = ohw;
    }
    return m + std::int64_t{512} * 1000;
}

// Sandler et al. 2018, Table 2.
std::int64_t mobilenet_v2_macs() {
    std::int64_t m = conv_macs(3, 32, 3, 112);
    int c = 32, hw = 112;
    const int table[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                            {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    for (const auto& row : table) {
        const int t = row[0], out = row[1], n = row[2], s = row[3];
        for (int i = 0; i < n; ++i) {
            const int stride = i == 0 ? s : 1;
            const int hidden = c * t;
            if (t != 1) m += conv_macs(c, hidden, 1, hw);
            const int ohw = hw / stride;
            m += std::int64_t{hidden} * 9 * ohw * ohw;  // depthwise 3x3
            m += conv_macs(hidden, out, 1, ohw);
            c = out;
            hw = ohw;
        }
    }
    m += conv_macs(320, 1280, 1, 7);
    return m + std::int64_t{1280} * 1000;
}

// Simonyan & Zisserman 2015, Table 1, configuration D.
std::int64_t vgg16_macs() {
    std::int64_t m = 0;
    int c = 3, hw = 224;
    const std::vector<std::vector<int>> blocks = {{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}};
    for (const auto& b : blocks) {
        for (int out : b) {
            m += conv_macs(c, out, 3, hw);
            c = out;
        }
        hw /= 2;
    }
    return m + std::int64_t{512} * 7 * 7 * 4096 + std::int64_t{4096} * 4096 + std::int64_t{4096} * 1000;
}

TEST(TraceFile, ShippedTracesHaveThePublishedMacCounts) {
    const NetworkTrace r = load_trace(kTraces + "resnet18.trace");
    EXPECT_EQ(r.macs(), resnet18_macs());
    EXPECT_NEAR(r.macs() / 1e9, 1.82, 0.01);
    EXPECT_EQ(r.network.name, "resnet18");
    EXPECT_EQ(r.network.classes, 1000);
    std::int64_t weights = 0;
    for (const auto& L : r.layers) weights += L.weight_count();
    EXPECT_EQ(weights, 11678912);  // 11.7M parameters less batch norm and biases

    const NetworkTrace m = load_trace(kTraces + "mobilenet_v2.trace");
    EXPECT_EQ(m.macs(), mobilenet_v2_macs());
    EXPECT_NEAR(m.macs() / 1e6, 300, 3);  // "300M multiply-adds" (the paper's Table 4)
    int dw = 0;
    for (const auto& L : m.layers) dw += L.type == TraceLayerType::kDwConv;
    EXPECT_EQ(dw, 17);

    const NetworkTrace v = load_trace(kTraces + "vgg16.trace");
    EXPECT_EQ(v.macs(), vgg16_macs());
    EXPECT_NEAR(v.macs() / 1e9, 15.5, 0.05);
}

TEST(TraceFile, EveryLayerFollowsItsPredecessorOrAShortcut) {
    // Shapes chain: each layer's input is the output of an earlier layer (or the network input).
    for (const char* name : {"resnet18.trace", "mobilenet_v2.trace", "vgg16.trace"}) {
        const NetworkTrace t = load_trace(kTraces + name);
        std::vector<std::array<int, 3>> seen = {{t.network.in_c, t.network.in_h, t.network.in_w}};
        for (const auto& L : t.layers) {
            const std::array<int, 3> in = {L.in_c, L.in_h, L.in_w};
            bool found = false;
            for (const auto& s : seen) found = found || s == in || (L.type == TraceLayerType::kFc && s[0] * s[1] * s[2] == in[0] * in[1] * in[2]);
            EXPECT_TRUE(found) << name << ": " << L.name;
            seen.push_back({L.out_c, L.out_h(), L.out_w()});
        }
        EXPECT_EQ(seen.back()[0], 1000) << name;
    }
}

TEST(TraceFile, FormatParsesBackToTheSameTrace) {
    const NetworkTrace a = load_trace(kTraces + "mobilenet_v2.trace");
    const NetworkTrace b = parse_trace(format_trace(a), "<formatted>");
    EXPECT_EQ(format_trace(b), format_trace(a));
    ASSERT_EQ(a.layers.size(), b.layers.size());
    EXPECT_EQ(b.data.weights.param, a.data.weights.param);
    EXPECT_EQ(b.macs(), a.macs());
}

const char* kGood =
    "cimvp-trace 1\n"
    "# a comment\n"
    "network name=tiny input=3,8,8 classes=10   # trailing comment\n"
    "data seed=7 act=relu-uniform:0.5 weights=normal:0.2\n"
    "\n"
    "layer name=c1 type=conv in=3,8,8 out=8 kernel=3 stride=1 padding=1 groups=1 w_bits=8 a_bits=8 scheme=int8 map=pe\n"
    "layer name=d1 type=dwconv in=8,8,8 out=8 kernel=3 stride=2 padding=1 groups=8 w_bits=8 a_bits=8 scheme=swis map=pe\n"
    "layer name=p1 type=pool in=8,4,4 out=8 kernel=2 stride=2 padding=0 op=avg\n"
    "layer name=a1 type=add in=8,2,2 out=8\n"
    "layer name=fc type=fc in=8,2,2 out=10 w_bits=8 a_bits=4 scheme=int8 map=crossbar\n";

TEST(TraceFile, ParsesEveryRecordKind) {
    const NetworkTrace t = parse_trace(kGood, "tiny.trace");
    ASSERT_EQ(t.layers.size(), 5u);
    EXPECT_EQ(t.data.seed, 7u);
    EXPECT_EQ(t.data.act.family, "relu-uniform");
    EXPECT_EQ(t.data.weights.param, 0.2);
    EXPECT_EQ(t.layers[0].macs(), 8LL * 27 * 64);
    EXPECT_EQ(t.layers[1].macs(), 8LL * 9 * 16);
    EXPECT_EQ(t.layers[1].out_h(), 4);
    EXPECT_EQ(t.layers[2].pool, TracePool::kAvg);
    EXPECT_EQ(t.layers[2].macs(), 0);
    EXPECT_EQ(t.layers[3].out_h(), 2);
    EXPECT_EQ(t.layers[4].K(), 32);
    EXPECT_EQ(t.layers[4].map, TraceMap::kCrossbar);
    EXPECT_EQ(t.layers[4].line, 10);
}

std::string error_of(const std::string& text) {
    try {
        parse_trace(text, "bad.trace");
    } catch (const TraceError& e) {
        return e.what();
    }
    return "no error";
}

// kGood with line `line` (1-based) replaced.
std::string with_line(int line, const std::string& replacement) {
    std::string s = kGood, out;
    int n = 0;
    std::size_t pos = 0;
    while (pos < s.size()) {
        const std::size_t end = s.find('\n', pos);
        ++n;
        out += (n == line ? replacement : s.substr(pos, end - pos)) + "\n";
        pos = end + 1;
    }
    return out;
}

TEST(TraceFile, RejectsMalformedTracesNamingLineAndField) {
    const std::string conv = "layer name=c1 type=conv in=3,8,8 out=8 kernel=3 stride=1 padding=1 groups=1 w_bits=8 a_bits=8 scheme=int8 map=pe";
    auto conv_with = [&](const std::string& from, const std::string& to) {
        std::string l = conv;
        l.replace(l.find(from), from.size(), to);
        return with_line(6, l);
    };
    // Wrong version, no header.
    EXPECT_EQ(error_of(with_line(1, "cimvp-trace 2")), "bad.trace:1: version: expected 1 (this reader's version), got '2'");
    EXPECT_EQ(error_of(with_line(1, "network name=x input=1,1,1")),
              "bad.trace:1: header: expected 'cimvp-trace 1' on the first line, got 'network name=x input=1,1,1'");
    EXPECT_EQ(error_of(""), "bad.trace:1: header: expected 'cimvp-trace 1', got an empty file");
    // Unknown layer type, unknown key, unknown record.
    EXPECT_EQ(error_of(conv_with("type=conv", "type=deconv")),
              "bad.trace:6: type: expected one of conv, dwconv, fc, pool, add, got 'deconv'");
    EXPECT_EQ(error_of(conv_with("groups=1", "groups=1 dilation=2")),
              "bad.trace:6: key: expected one of name, type, in, out, kernel, stride, padding, groups, w_bits, a_bits, "
              "scheme, map, op on a layer record, got 'dilation'");
    EXPECT_EQ(error_of(with_line(2, "tensor name=x")), "bad.trace:2: record: expected one of network, data, layer, got 'tensor'");
    // Zero or negative shapes.
    EXPECT_EQ(error_of(conv_with("in=3,8,8", "in=3,0,8")), "bad.trace:6: in: expected C,H,W (three positive integers), got '3,0,8'");
    EXPECT_EQ(error_of(conv_with("in=3,8,8", "in=-3,8,8")), "bad.trace:6: in: expected C,H,W (three positive integers), got '-3,8,8'");
    EXPECT_EQ(error_of(conv_with("out=8", "out=0")), "bad.trace:6: out: expected an integer in [1, 65536], got '0'");
    EXPECT_EQ(error_of(conv_with("kernel=3", "kernel=-1")), "bad.trace:6: kernel: expected an integer in [1, 4096], got '-1'");
    EXPECT_EQ(error_of(conv_with("stride=1", "stride=0")), "bad.trace:6: stride: expected an integer in [1, 4096], got '0'");
    EXPECT_EQ(error_of(conv_with("kernel=3", "kernel=11")), "bad.trace:6: kernel: expected at most the padded input, 10, got 11");
    // Missing fields.
    EXPECT_EQ(error_of(conv_with(" kernel=3", "")), "bad.trace:6: kernel: expected a value (required on conv layers), got nothing");
    EXPECT_EQ(error_of(conv_with(" map=pe", "")), "bad.trace:6: map: expected a value (required on conv layers), got nothing");
    EXPECT_EQ(error_of(conv_with("name=c1 ", "")), "bad.trace:6: name: expected a value (required on every layer), got nothing");
    EXPECT_EQ(error_of(with_line(8, "layer name=p1 type=pool in=8,4,4 out=8 kernel=2 stride=2 padding=0")),
              "bad.trace:8: op: expected a value (required on pool layers), got nothing");
    EXPECT_EQ(error_of(with_line(4, "data seed=7 act=relu-uniform:0.5")),
              "bad.trace:4: weights: expected a value (required on the data record), got nothing");
    // Bad values and inconsistent fields.
    EXPECT_EQ(error_of(conv_with("kernel=3", "kernel=3x")), "bad.trace:6: kernel: expected an integer in [1, 4096], got '3x'");
    EXPECT_EQ(error_of(conv_with("scheme=int8", "scheme=int4")),
              "bad.trace:6: scheme: expected one of int8, bwma, columnwise, swis, got 'int4'");
    EXPECT_EQ(error_of(conv_with("w_bits=8", "w_bits=9")), "bad.trace:6: w_bits: expected an integer in [1, 8], got '9'");
    EXPECT_EQ(error_of(conv_with("scheme=int8", "scheme=bwma")),
              "bad.trace:6: w_bits: expected 1 exactly with scheme=bwma, got 8 with scheme=bwma");
    EXPECT_EQ(error_of(conv_with("groups=1", "groups=3")), "bad.trace:6: groups: expected an integer in [1, 1], got '3'");
    EXPECT_EQ(error_of(conv_with("kernel=3", "kernel=3 kernel=3")), "bad.trace:6: kernel: expected one value, got a second 'kernel=3'");
    EXPECT_EQ(error_of(conv_with("stride=1", "stride")), "bad.trace:6: field 6: expected key=value, got 'stride'");
    EXPECT_EQ(error_of(with_line(9, "layer name=a1 type=add in=8,2,2 out=8 w_bits=8")),
              "bad.trace:9: w_bits: expected no w_bits on an add layer (only conv, dwconv and fc have weights), got '8'");
    EXPECT_EQ(error_of(with_line(9, "layer name=a1 type=add in=8,2,2 out=4")),
              "bad.trace:9: out: expected the input channels 8 (an add layer keeps them), got 4");
    EXPECT_EQ(error_of(with_line(9, "layer name=c1 type=add in=8,2,2 out=8")),
              "bad.trace:9: name: expected a name not used before (line 6), got 'c1'");
    EXPECT_EQ(error_of(with_line(4, "data seed=7 act=relu-uniform:0.5 weights=normal:2")),
              "bad.trace:4: weights: expected normal:X with X in (0, 1] (a fraction of the int8 full scale 127), got 'normal:2'");
    EXPECT_EQ(error_of(with_line(4, "data seed=7 act=gauss weights=normal:0.1")),
              "bad.trace:4: act: expected uniform or relu-uniform:P, got 'gauss'");
    EXPECT_EQ(error_of(conv_with("in=3,8,8", "in=1,8,8")),
              "bad.trace:6: in: expected the network input 3,8,8 on the first layer, got '1,8,8'");
    EXPECT_EQ(error_of(with_line(10, "layer name=fc type=fc in=8,2,2 out=9 w_bits=8 a_bits=4 scheme=int8 map=pe")),
              "bad.trace:10: out: expected the network's 10 classes on the last layer with weights, got 9");
    EXPECT_EQ(error_of(with_line(7, "layer name=d1 type=dwconv in=8,8,8 out=8 kernel=3 stride=2 padding=1 groups=4 w_bits=8 a_bits=8 scheme=swis map=pe")),
              "bad.trace:7: groups: expected an integer in [8, 8], got '4'");
    // Record order.
    EXPECT_EQ(error_of(with_line(3, "# no network")),
              "bad.trace:6: network: expected a network record before the first layer, got none");
    EXPECT_EQ(error_of("cimvp-trace 1\nnetwork name=x input=1,1,1\ndata seed=1 act=uniform weights=uniform:1\n"),
              "bad.trace:3: layer: expected at least one layer record, got none");
}

TEST(TraceFile, MissingFileIsAnError) {
    EXPECT_THROW(load_trace("/nonexistent/x.trace"), TraceError);
}

TEST(TraceFile, WeightsFollowTheDataRecord) {
    const NetworkTrace t = parse_trace(kGood, "tiny.trace");
    const auto w = trace_layer_weights(t, 0);
    ASSERT_EQ(w.size(), 8u * 27);
    EXPECT_EQ(w, trace_layer_weights(t, 0));  // deterministic
    EXPECT_THROW(trace_layer_weights(t, 2), TraceError);  // a pool layer
    // A range of filters (a depthwise block's) draws exactly those filters' values of the whole draw.
    const auto part = trace_layer_weights(t, 0, 3, 4);
    EXPECT_EQ(part, std::vector<std::int8_t>(w.begin() + 3 * 27, w.begin() + 7 * 27));
    EXPECT_TRUE(trace_layer_weights(t, 0, 8, 0).empty());
    EXPECT_THROW(trace_layer_weights(t, 0, 5, 4), TraceError);  // past the layer's 8 filters
    // Statistics: normal:0.2 -> standard deviation 0.2 * 127 = 25.4 (few clip at 127).
    std::string big = kGood;
    big.replace(big.find("in=3,8,8 out=8"), 14, "in=3,8,8 out=64");
    big.replace(big.find("in=8,8,8 out=8 kernel=3 stride=2 padding=1 groups=8"), 51,
                "in=64,8,8 out=64 kernel=3 stride=2 padding=1 groups=64");
    big.replace(big.find("in=8,4,4 out=8"), 14, "in=64,4,4 out=64");
    big.replace(big.find("in=8,2,2 out=8"), 14, "in=64,2,2 out=64");
    big.replace(big.find("in=8,2,2 out=10"), 15, "in=64,2,2 out=10");
    const NetworkTrace b = parse_trace(big, "big.trace");
    const auto wb = trace_layer_weights(b, 0);
    double s = 0, s2 = 0;
    for (auto v : wb) {
        s += v;
        s2 += static_cast<double>(v) * v;
    }
    const double n = static_cast<double>(wb.size());
    EXPECT_NEAR(s / n, 0, 2.0);
    EXPECT_NEAR(std::sqrt(s2 / n), 25.4, 1.5);
    // A different seed draws different weights.
    std::string other = kGood;
    other.replace(other.find("seed=7"), 6, "seed=8");
    EXPECT_NE(trace_layer_weights(parse_trace(other, "o"), 0), w);
    // Activations: relu-uniform:0.5 -> about half zeros, the rest within a_bits.
    const auto a = trace_layer_activations(b, 0, 20000);
    int zeros = 0;
    for (auto v : a) zeros += v == 0;
    EXPECT_NEAR(zeros / 20000.0, 0.5, 0.02);
    const auto a4 = trace_layer_activations(b, 4, 1000);  // fc: a_bits 4
    for (auto v : a4) EXPECT_LE(v, 15);
}

}  // namespace
}  // namespace cimvp
