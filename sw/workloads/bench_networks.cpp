#include "sw/workloads/bench_networks.h"

#include <random>
#include <stdexcept>

namespace cimvp {

namespace {

// Post-processing shift of the random hidden layers: with multipliers of 20..219
// typical sums land inside the 4-bit output range instead of clamping.
constexpr int kHiddenShift = 12;
constexpr int kHiddenBits = 4;

NetworkLayer random_layer(std::mt19937_64& rng, LayerKind kind, int in_c, int hw, int out_c, int kernel, int a_in,
                          bool last) {
    NetworkLayer L;
    L.kind = kind;
    L.in_c = in_c;
    L.in_h = L.in_w = hw;
    L.out_c = out_c;
    if (kind == LayerKind::kConv) {
        L.kernel = kernel;
        L.padding = kernel / 2;
        // 2x2 max-pooling, as the shipped models' convolutions.
        L.pool = PoolKind::kMax;
        L.pool_size = L.pool_stride = 2;
    }
    L.a_in_bits = a_in;
    L.w_bits = 8;
    L.relu = !last;
    L.a_out_bits = last ? 0 : kHiddenBits;
    L.shift = last ? 0 : kHiddenShift;
    L.weights.resize(static_cast<std::size_t>(out_c) * L.K());
    for (auto& w : L.weights) w = static_cast<std::int8_t>(static_cast<int>(rng() % 256) - 128);
    for (int m = 0; m < out_c; ++m) {
        L.bias.push_back(static_cast<std::int64_t>(rng() % 4001) - 1000);
        L.mult.push_back(static_cast<std::int32_t>(rng() % 200) + 20);
        L.mult_x.push_back(0);
    }
    return L;
}

}  // namespace

double layer_macs(const NetworkLayer& L) { return static_cast<double>(L.K()) * L.M() * L.vectors(); }

const std::vector<std::string>& bench_layer_types() {
    static const std::vector<std::string> kTypes = {"conv3x3", "conv1x1", "fc", "pe"};
    return kTypes;
}

BenchNetwork bench_network(const std::string& type, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    BenchNetwork b;
    b.type = type;
    NetworkModel& m = b.model;
    m.path = "<bench " + type + ">";
    m.name = "bench-" + type;
    m.scheme = "int8";
    m.num_classes = 10;
    m.in_bits = 8;
    if (type == "conv3x3" || type == "pe") {
        m.in_c = 8;
        m.in_h = m.in_w = 14;
        m.layers.push_back(random_layer(rng, LayerKind::kConv, 8, 14, 32, 3, 8, false));
        b.description = "conv 3x3, 8 -> 32 channels, 14x14, 2x2 max-pool, int8 weights, on the ";
        b.description += type == "pe" ? "SWIS PE array (8 shifts)" : "crossbars";
    } else if (type == "conv1x1") {
        m.in_c = 64;
        m.in_h = m.in_w = 14;
        m.layers.push_back(random_layer(rng, LayerKind::kConv, 64, 14, 64, 1, 8, false));
        b.description = "conv 1x1, 64 -> 64 channels, 14x14, 2x2 max-pool, int8 weights, on the crossbars";
    } else if (type == "fc") {
        m.in_c = 1024;
        m.in_h = m.in_w = 1;
        m.layers.push_back(random_layer(rng, LayerKind::kFc, 1024, 1, 256, 1, 8, false));
        b.description = "fc 1024 -> 256, int8 weights, on the crossbars";
    } else {
        std::string known;
        for (const auto& t : bench_layer_types()) known += (known.empty() ? "" : ", ") + t;
        throw std::invalid_argument("--layer-type: expected " + known + " or all, got '" + type +
                                    "' (depthwise convolutions are not supported by the layer compiler)");
    }
    // The head reads the first layer's pooled output (square: every bench input is square).
    const int channels = m.layers[0].M(), side = m.layers[0].pooled_h();
    m.layers.push_back(random_layer(rng, LayerKind::kFc, channels, side, 10, 1, kHiddenBits, true));
    b.options.on_pe.assign(m.layers.size(), false);
    b.options.on_pe[0] = type == "pe";
    b.layer_macs_per_image = layer_macs(m.layers[0]);
    for (const auto& L : m.layers) b.macs_per_image += layer_macs(L);
    return b;
}

std::vector<std::uint8_t> bench_images(const NetworkModel& model, int n, std::uint64_t seed) {
    std::mt19937_64 rng(seed ^ 0x5bd1e995ULL);
    std::vector<std::uint8_t> v(model.image_bytes() * static_cast<std::size_t>(n));
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

}  // namespace cimvp
