// Random but well-formed network models for tests: the Fashion-MNIST CNN's
// shape (or a smaller one) with random integer weights and parameters.
#pragma once

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
