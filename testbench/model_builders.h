// Random but well-formed network models for tests: the Fashion-MNIST CNN's
// shape (or a smaller one) with random integer weights and parameters.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sw/formats/digest.h"
#include "sw/formats/model_file.h"

namespace cimvp::test {

struct ModelShape {
    int in = 28;           // input is 1 x in x in, 8-bit
    int c1 = 8, c2 = 8;    // conv channels
    int hidden = 16;       // fc1 outputs
    int a_bits = 4;        // hidden activations
    bool binary_middle = false;
    int w_bits = 8;
    int cell_bits_for_tables = 0;  // > 0: columnwise-style col_mult and ADC tables for this cell size
    int adc_bits = 4;
};

inline NetworkLayer random_net_layer(std::mt19937& rng, LayerKind kind, int in_c, int in_h, int in_w, int out_c,
                                     int a_in, int a_out, int w_bits, bool binary, bool last) {
    NetworkLayer L;
    L.kind = kind;
    L.in_c = in_c;
    L.in_h = in_h;
    L.in_w = in_w;
    L.out_c = out_c;
    if (kind == LayerKind::kConv) {
        L.kernel = 3;
        L.padding = 1;
        L.pool = PoolKind::kMax;
        L.pool_size = L.pool_stride = 2;
    }
    L.a_in_bits = a_in;
    L.w_bits = binary ? 1 : w_bits;
    L.binary = binary;
    L.relu = !last;
    L.a_out_bits = last ? 0 : a_out;
    const int K = L.K();
    // Shift so that typical sums land inside the output range.
    L.shift = last ? 0 : 12;
    L.weights.resize(static_cast<std::size_t>(out_c) * K);
    for (auto& w : L.weights)
        w = binary ? ((rng() & 1) ? 1 : -1)
                   : static_cast<std::int8_t>(static_cast<int>(rng() % (1u << w_bits)) - (1 << (w_bits - 1)));
    for (int m = 0; m < out_c; ++m) {
        L.bias.push_back(static_cast<std::int64_t>(rng() % 4001) - 1000);
        L.mult.push_back(static_cast<std::int32_t>(rng() % 200) + 20);
        L.mult_x.push_back(binary ? static_cast<std::int32_t>(rng() % 21) - 10 : 0);
    }
    return L;
}

inline void add_tables(std::mt19937& rng, NetworkLayer& L, int rows_per_tile, int cell_bits) {
    L.rows_per_tile = rows_per_tile;
    const int rt = (L.K() + rows_per_tile - 1) / rows_per_tile;
    L.col_mult.resize(static_cast<std::size_t>(rt) * L.M());
    for (auto& c : L.col_mult) c = static_cast<std::int32_t>(rng() % 7) + 1;
    const int S = L.slices(cell_bits);
    L.has_adc_tables = true;
    const std::size_t n = static_cast<std::size_t>(rt) * L.M() * S;
    L.adc_step.resize(n);
    L.adc_base.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        L.adc_step[i] = 256 * (static_cast<std::int64_t>(rng() % 40) + 1) + static_cast<std::int64_t>(rng() % 256);
        L.adc_base[i] = 256 * static_cast<std::int64_t>(rng() % 50);
    }
}

inline NetworkModel random_network(std::uint64_t seed, const ModelShape& s) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    NetworkModel m;
    m.path = "<random model>";
    m.name = "random";
    m.scheme = s.binary_middle ? "bwma" : (s.cell_bits_for_tables ? "columnwise" : "int8");
    m.in_h = m.in_w = s.in;
    m.num_classes = 10;
    m.layers.push_back(random_net_layer(rng, LayerKind::kConv, 1, s.in, s.in, s.c1, 8, s.a_bits, s.w_bits, false, false));
    const int h1 = m.layers[0].pooled_h();
    m.layers.push_back(random_net_layer(rng, LayerKind::kConv, s.c1, h1, h1, s.c2, s.a_bits, s.a_bits, s.w_bits,
                                        s.binary_middle, false));
    const int h2 = m.layers[1].pooled_h();
    m.layers.push_back(random_net_layer(rng, LayerKind::kFc, s.c2, h2, h2, s.hidden, s.a_bits, s.a_bits, s.w_bits,
                                        s.binary_middle, false));
    m.layers.push_back(random_net_layer(rng, LayerKind::kFc, s.hidden, 1, 1, 10, s.a_bits, 0, s.w_bits, false, true));
    if (s.cell_bits_for_tables) {
        m.cell_bits = s.cell_bits_for_tables;
        m.adc_bits = s.adc_bits;
        m.frac_bits = 8;
        for (auto& L : m.layers) {
            const int k2 = L.kind == LayerKind::kConv ? L.kernel * L.kernel : 1;
            const int n_ic = std::min(std::max(1, 128 / k2), L.in_c * (L.kind == LayerKind::kConv ? 1 : L.in_h * L.in_w));
            add_tables(rng, L, n_ic * k2, s.cell_bits_for_tables);
        }
    }
    return m;
}

// A tensor node (format v3) on input tensors `inputs` of model m: shape from input 0, one random
// mult (4..11) and bias (-20..20) per input.
inline NetworkLayer random_tensor_node(std::mt19937& rng, const NetworkModel& m, LayerKind kind, std::vector<int> inputs,
                                       int a_out, int shift, PoolKind pool = PoolKind::kNone, int pool_size = 0) {
    NetworkLayer L;
    L.kind = kind;
    L.inputs = std::move(inputs);
    const NetworkModel::Tensor in0 = m.tensor(static_cast<std::size_t>(L.inputs[0]));
    L.in_c = in0.c;
    L.in_h = in0.h;
    L.in_w = in0.w;
    L.out_c = 0;
    for (int j : L.inputs) L.out_c += kind == LayerKind::kConcat ? m.tensor(static_cast<std::size_t>(j)).c : 0;
    if (kind != LayerKind::kConcat) L.out_c = in0.c;
    L.a_out_bits = a_out;
    L.shift = shift;
    L.pool = pool;
    L.pool_size = L.pool_stride = pool_size;
    for (std::size_t i = 0; i < L.inputs.size(); ++i) {
        L.mult.push_back(static_cast<std::int32_t>(rng() % 8) + 4);
        L.bias.push_back(static_cast<std::int64_t>(rng() % 41) - 20);
    }
    return L;
}

// A conv node of a graph (format v3) on tensor `input` of m: kernel k, padding k / 2, no pooling.
inline NetworkLayer random_graph_conv(std::mt19937& rng, const NetworkModel& m, int input, int out_c, int kernel,
                                      int groups, int a_out) {
    const NetworkModel::Tensor in = m.tensor(static_cast<std::size_t>(input));
    NetworkLayer L = random_net_layer(rng, LayerKind::kConv, in.c, in.h, in.w, out_c, in.bits, a_out, 8, false, false);
    L.inputs = {input};
    L.kernel = kernel;
    L.padding = kernel / 2;
    L.pool = PoolKind::kNone;
    L.pool_size = L.pool_stride = 0;
    L.groups = groups;
    L.weights.resize(static_cast<std::size_t>(out_c) * L.K());
    for (auto& w : L.weights) w = static_cast<std::int8_t>(static_cast<int>(rng() % 256) - 128);
    // About 8 codes of spread for random inputs: std(acc) * mean(mult) / 2^shift.
    L.shift = (in.bits == 8 ? 16 : 10) + static_cast<int>(std::log2(static_cast<double>(L.K())) / 2);
    return L;
}

// A small graph network (format v3) with every node kind: a conv, a depthwise 3x3 conv
// (groups = channels), a 1x1 conv, a residual add, a grouped 1x1 conv (groups 2), a concat,
// a max pool node, a global average pool node and the fc of the logits. Image 1 x in x in.
inline NetworkModel random_graph_network(std::uint64_t seed, int in = 12, int channels = 8) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    NetworkModel m;
    m.path = "<random graph>";
    m.name = "random-graph";
    m.scheme = "int8";
    m.in_h = m.in_w = in;
    m.num_classes = 10;
    m.layers.push_back(random_graph_conv(rng, m, 0, channels, 3, 1, 4));         // node 0: tensor 1
    m.layers.push_back(random_graph_conv(rng, m, 1, channels, 3, channels, 4));  // node 1: depthwise, tensor 2
    m.layers.push_back(random_graph_conv(rng, m, 2, channels, 1, 1, 4));         // node 2: 1x1, tensor 3
    m.layers.push_back(random_tensor_node(rng, m, LayerKind::kAdd, {1, 3}, 4, 4));  // node 3: residual, tensor 4
    m.layers.push_back(random_graph_conv(rng, m, 4, channels / 2, 1, 2, 4));    // node 4: grouped 1x1, tensor 5
    m.layers.push_back(random_tensor_node(rng, m, LayerKind::kConcat, {4, 5}, 4, 3));  // node 5: tensor 6
    m.layers.push_back(random_tensor_node(rng, m, LayerKind::kPool, {6}, 4, 2, PoolKind::kMax, 2));  // tensor 7
    NetworkLayer gap = random_tensor_node(rng, m, LayerKind::kPool, {7}, 6, 0, PoolKind::kGlobalAvg);
    gap.shift = 6;
    m.layers.push_back(gap);  // node 7: tensor 8, C x 1 x 1
    const NetworkModel::Tensor t = m.tensor(8);
    NetworkLayer fc = random_net_layer(rng, LayerKind::kFc, t.c, 1, 1, 10, t.bits, 0, 8, false, true);
    fc.inputs = {8};
    m.layers.push_back(fc);
    return m;
}

// The bytes after a model file's body: the FNV-1a 64 checksum, then the end magic.
constexpr std::size_t kModelFooterBytes = 16;

// What the loader says about a model file's bytes ("" when it takes them).
inline std::string model_error_of(const std::vector<std::uint8_t>& bytes) {
    try {
        parse_model(bytes, "bad.cimvp");
    } catch (const ModelError& e) {
        return e.what();
    }
    return "";
}

// Recomputes the checksum of edited model bytes, so that the edit, not the checksum, is what
// the loader sees.
inline void fix_model_checksum(std::vector<std::uint8_t>& b) {
    const std::uint64_t h = fnv1a64(b.data(), b.size() - kModelFooterBytes);
    std::memcpy(&b[b.size() - kModelFooterBytes], &h, sizeof h);
}

}  // namespace cimvp::test
