#include "sw/contract/layer_mapping.h"

#include <algorithm>
#include <cmath>


namespace cimvp {

namespace {
constexpr int kMaxActivationBits = 8;
constexpr int kMaxWeightBits = 8;

std::string where(const MatrixLayer& layer) { return layer.name.empty() ? std::string() : layer.name + ": "; }
}  // namespace

LayerMapping LayerMapping::of_shape(const MatrixLayer& layer, const ArchConfig& cfg) {
    const auto fail = [&](const std::string& what) { throw MappingError(where(layer) + what); };
    if (layer.K <= 0 || layer.M <= 0)
        fail("shape " + std::to_string(layer.K) + "x" + std::to_string(layer.M) + ": expected K > 0 and M > 0");
    if (layer.a_bits < 1 || layer.a_bits > kMaxActivationBits)
        fail("a_bits " + std::to_string(layer.a_bits) + ": expected 1.." + std::to_string(kMaxActivationBits));
    if (layer.binary && layer.w_bits != 1) fail("binary weights need w_bits 1, got " + std::to_string(layer.w_bits));
    if (!layer.binary && (layer.w_bits < 2 || layer.w_bits > kMaxWeightBits))
        fail("w_bits " + std::to_string(layer.w_bits) + ": expected 2.." + std::to_string(kMaxWeightBits) +
             " (1 only with binary weights)");

    LayerMapping m;
    m.K = layer.K;
    m.M = layer.M;
    m.array_rows = cfg.crossbar.rows;
    if (layer.rows_per_tile < 0 || layer.rows_per_tile > cfg.crossbar.rows)
        fail("rows_per_tile " + std::to_string(layer.rows_per_tile) + ": expected 0 (crossbar.rows) or 1.." +
             std::to_string(cfg.crossbar.rows));
    m.rows = layer.rows_per_tile > 0 ? layer.rows_per_tile : cfg.crossbar.rows;
    m.cols = cfg.crossbar.cols;
    m.cell_bits = cfg.crossbar.cell_bits;
    m.dac_bits = std::min(cfg.crossbar.dac_bits, layer.a_bits);
    m.a_bits = layer.a_bits;
    m.w_bits = layer.w_bits;
    m.binary = layer.binary;
    m.differential = cfg.crossbar.mapping == CellMapping::kDifferential;
    m.slices = layer.binary ? 1 : (layer.w_bits + m.cell_bits - 1) / m.cell_bits;
    m.cols_per_out = numerics::cols_per_output(m.slices, m.differential);
    if (m.cols_per_out > m.cols)
        fail(std::to_string(m.slices) + " weight slices" +
             (m.differential ? " per sign (" + std::to_string(m.cols_per_out) + " columns, crossbar.mapping differential)"
                             : std::string()) +
             " do not fit in " + std::to_string(m.cols) + " columns");
    m.outs_per_tile = m.cols / m.cols_per_out;
    m.row_tiles = (m.K + m.rows - 1) / m.rows;
    m.col_tiles = (m.M + m.outs_per_tile - 1) / m.outs_per_tile;
    m.steps = (m.a_bits + m.dac_bits - 1) / m.dac_bits;
    const int tiles = cfg.platform.tiles;
    if (m.row_tiles > tiles)
        fail("K = " + std::to_string(m.K) + " needs " + std::to_string(m.row_tiles) + " row tiles of " +
             std::to_string(m.rows) + " rows but the platform has " + std::to_string(tiles) +
             (tiles == 1 ? " tile" : " tiles"));
    m.col_tiles_per_pass = std::min(m.col_tiles, tiles / m.row_tiles);
    m.passes = (m.col_tiles + m.col_tiles_per_pass - 1) / m.col_tiles_per_pass;
    // Differential: the columns hold |w| of either sign, nothing to scale or remove.
    m.weight_scale = layer.binary && !m.differential ? 2 : 1;
    m.offset = m.differential ? 0 : layer.binary ? 1 : (std::int64_t{1} << (layer.w_bits - 1));
    return m;
}

LayerMapping LayerMapping::make(const MatrixLayer& layer, const ArchConfig& cfg) {
    const auto fail = [&](const std::string& what) { throw MappingError(where(layer) + what); };
    LayerMapping m = of_shape(layer, cfg);
    if (layer.weights.size() != static_cast<std::size_t>(layer.K) * layer.M)
        fail("has " + std::to_string(layer.weights.size()) + " weights, expected K*M = " +
             std::to_string(static_cast<std::size_t>(layer.K) * layer.M));
    const int wmin = layer.binary ? -1 : -(1 << (layer.w_bits - 1));
    const int wmax = layer.binary ? 1 : (1 << (layer.w_bits - 1)) - 1;
    for (std::size_t i = 0; i < layer.weights.size(); ++i) {
        const int w = layer.weights[i];
        if (w < wmin || w > wmax || (layer.binary && w == 0))
            fail("weight " + std::to_string(i) + " = " + std::to_string(w) + " outside the " +
                 (layer.binary ? std::string("binary set {-1, +1}") : std::to_string(layer.w_bits) + "-bit range"));
    }
    if (!layer.col_mult.empty() && layer.col_mult.size() != static_cast<std::size_t>(m.row_tiles) * m.M)
        fail("has " + std::to_string(layer.col_mult.size()) + " column multipliers, expected row_tiles*M = " +
             std::to_string(static_cast<std::size_t>(m.row_tiles) * m.M));
    return m;
}

bool assign_tiles(std::vector<LayerMapping>& maps, const ArchConfig& cfg, int first_tile) {
    std::int64_t total = 0;
    for (const auto& m : maps) total += m.passes == 1 ? m.tiles_used() : cfg.platform.tiles + 1;
    const bool resident = first_tile >= 0 && first_tile + total <= cfg.platform.tiles;
    int next = first_tile;
    for (auto& m : maps) {
        m.tile_offset = resident ? next : 0;
        next += m.tiles_used();
    }
    return resident;
}

int LayerMapping::rows_in(int rt) const { return std::min(rows, K - rt * rows); }
int LayerMapping::outs_in(int ct) const { return std::min(outs_per_tile, M - ct * outs_per_tile); }
int LayerMapping::bits_in_step(int t) const { return std::min(dac_bits, a_bits - t * dac_bits); }

std::uint8_t LayerMapping::level(const MatrixLayer& layer, int k, int m, int c) const {
    const int w = layer.weights[static_cast<std::size_t>(k) * M + m];
    int u = 0;  // what the output's columns store, sliced
    if (differential) u = c < slices ? std::max(w, 0) : std::max(-w, 0);
    else u = binary ? (w + 1) / 2 : w + (1 << (w_bits - 1));
    return static_cast<std::uint8_t>((u >> (slice_of(c) * cell_bits)) & ((1 << cell_bits) - 1));
}

std::vector<std::uint8_t> LayerMapping::tile_levels(const MatrixLayer& layer, int rt, int ct) const {
    // level() for every cell, with the row's weights and the encoding hoisted out of the loops.
    const int nr = rows_in(rt), no = outs_in(ct);
    std::vector<std::uint8_t> out(static_cast<std::size_t>(nr) * cols, 0);
    const int off = binary ? 0 : 1 << (w_bits - 1), mask = (1 << cell_bits) - 1;
    for (int r = 0; r < nr; ++r) {
        const std::int8_t* w = &layer.weights[static_cast<std::size_t>(first_row(rt) + r) * M + first_out(ct)];
        std::uint8_t* o_row = &out[static_cast<std::size_t>(r) * cols];
        if (differential) {  // |w| in the positive group (w > 0) or the negative one (w < 0), 0 in the other
            for (int o = 0; o < no; ++o) {
                const int pos = std::max<int>(w[o], 0), neg = std::max<int>(-w[o], 0);
                std::uint8_t* cell = &o_row[o * cols_per_out];
                for (int j = 0; j < slices; ++j) {
                    cell[j] = static_cast<std::uint8_t>((pos >> (j * cell_bits)) & mask);
                    cell[slices + j] = static_cast<std::uint8_t>((neg >> (j * cell_bits)) & mask);
                }
            }
            continue;
        }
        if (binary) {
            for (int o = 0; o < no; ++o) o_row[o] = static_cast<std::uint8_t>((w[o] + 1) / 2);
            continue;
        }
        for (int o = 0; o < no; ++o) {
            const int u = w[o] + off;
            for (int j = 0; j < slices; ++j) o_row[o * slices + j] = static_cast<std::uint8_t>((u >> (j * cell_bits)) & mask);
        }
    }
    return out;
}

std::int64_t LayerMapping::max_psum(int rt) const {
    return static_cast<std::int64_t>(rows_in(rt)) * ((1 << dac_bits) - 1) * ((1 << cell_bits) - 1);
}

AdcTables AdcTables::unit(const LayerMapping& map, int bits, int frac_bits) {
    AdcTables t;
    t.bits = bits;
    t.frac_bits = frac_bits;
    t.cols = map.cols;
    t.col_tiles = map.col_tiles;
    t.columns.assign(static_cast<std::size_t>(map.row_tiles) * map.col_tiles * map.cols,
                     numerics::AdcColumn{std::int64_t{1} << frac_bits, 0});
    return t;
}

bool adc_is_lossless(const LayerMapping& map, const ArchConfig& cfg) {
    if (cfg.nonideal.enabled()) return false;
    return map.max_psum(0) <= (std::int64_t{1} << cfg.adc.bits) - 1;
}

}  // namespace cimvp
