// How a matrix layer (K inputs -> M outputs) is laid onto crossbar tiles: the
// tiling part of the numeric contract (docs/numerics.md), shared by the C++
// reference, the compiler/driver and the tests.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/contract/numerics.h"

namespace cimvp {

struct MappingError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A matrix layer: conv via im2col, or fully connected.
struct MatrixLayer {
    std::string name = "layer";
    int K = 0;         // inputs (Cin * kh * kw for a conv)
    int M = 0;         // outputs
    int a_bits = 8;    // activations: unsigned a_bits-bit integers
    int w_bits = 8;    // weights: signed w_bits-bit integers
    bool binary = false;  // BWMA binary weights in {-1, +1} (w_bits must be 1)
    std::vector<std::int8_t> weights;  // K x M, row-major: weights[k * M + m]
    int rows_per_tile = 0;             // 0: crossbar.rows; else whole-kernel tiling (<= crossbar.rows)
    std::vector<std::int32_t> col_mult;  // row_tiles x M multipliers of the tiles' partials; empty: all 1
};

struct LayerMapping {
    int K = 0, M = 0;
    int rows = 0, cols = 0;       // rows per row tile (<= the macro's), macro columns C
    int array_rows = 0;           // the macro's rows R
    int cell_bits = 1, dac_bits = 1, a_bits = 8, w_bits = 8;
    bool binary = false;
    bool differential = false;    // crossbar.mapping "differential": |w| in a positive or a negative column group
    int slices = 1;               // S = ceil(w_bits / cell_bits) weight slices (per sign group when differential)
    int cols_per_out = 1;         // S, or 2S when differential (the positive group, then the negative group)
    int outs_per_tile = 0;        // floor(C / cols_per_out): an output's columns stay in one macro
    int row_tiles = 0, col_tiles = 0;
    int steps = 0;                // ceil(a_bits / dac_bits) reads per input vector
    int col_tiles_per_pass = 0;   // column tiles resident at once (tiles / row_tiles)
    int passes = 0;               // weight reprogramming passes
    int tile_offset = 0;          // first physical tile of the layer (networks: assign_tiles)
    std::int64_t weight_scale = 1;  // 1 (offset encoding, differential) or 2 (binary offset encoded: w = 2b - 1)
    std::int64_t offset = 0;        // 2^(w_bits-1) (offset encoding), 1 (binary) or 0 (differential)

    // Throws MappingError naming what does not fit.
    static LayerMapping make(const MatrixLayer& layer, const ArchConfig& cfg);
    // The same tiling from the layer's shape alone (K, M, bits, rows_per_tile): its weights and
    // column multipliers are neither read nor checked. What make() lays out, for sizing a chip.
    static LayerMapping of_shape(const MatrixLayer& layer, const ArchConfig& cfg);

    int first_row(int rt) const { return rt * rows; }
    int rows_in(int rt) const;
    int first_out(int ct) const { return ct * outs_per_tile; }
    int outs_in(int ct) const;
    int cols_in(int ct) const { return outs_in(ct) * cols_per_out; }
    // The weight slice column c of a tile holds (in either sign group): its shift is j * cell_bits.
    int slice_of(int c) const { return c % slices; }
    int bits_in_step(int t) const;
    int shift_of(int t, int j) const { return t * dac_bits + j * cell_bits; }
    int pass_of(int ct) const { return ct / col_tiles_per_pass; }
    // Physical tile that holds (rt, ct) during its pass.
    int tile_of(int rt, int ct) const { return tile_offset + rt * col_tiles_per_pass + ct % col_tiles_per_pass; }
    int tiles_used() const { return row_tiles * col_tiles_per_pass; }
    // Tiles that hold all of the layer's weights at once (one pass): what it occupies when resident.
    int resident_tiles() const { return row_tiles * col_tiles; }
    // The cell level of weight (k, m) in its output's column c, 0 <= c < cols_per_out: slice c
    // (offset encoding), or slice c % S of the positive (c < S) or negative group (differential).
    std::uint8_t level(const MatrixLayer& layer, int k, int m, int c) const;
    // Cell levels of tile (rt, ct): rows_in(rt) rows of `cols` bytes, unused columns 0.
    std::vector<std::uint8_t> tile_levels(const MatrixLayer& layer, int rt, int ct) const;
    // Largest ideal partial sum one read of a tile can produce.
    std::int64_t max_psum(int rt) const;
    // Multiplier of tile (rt, ct)'s partial of its output o (1 unless the layer has column multipliers).
    std::int64_t col_mult(const MatrixLayer& layer, int rt, int m) const {
        return layer.col_mult.empty() ? 1 : layer.col_mult[static_cast<std::size_t>(rt) * M + m];
    }
};

// Places a network's layers on the tiles from tile `first_tile` on: when every layer's
// tiles fit at once in first_tile .. platform.tiles - 1, each layer gets its own range
// (weights programmed once, "resident") and the function returns true; otherwise every
// layer starts at tile 0 and is reprogrammed when it runs.
bool assign_tiles(std::vector<LayerMapping>& maps, const ArchConfig& cfg, int first_tile = 0);

// Per-column ADC calibration of every tile of a layer.
struct AdcTables {
    int bits = 8;
    int frac_bits = 8;
    int cols = 0, col_tiles = 0;
    std::vector<numerics::AdcColumn> columns;  // [(rt * col_tiles + ct) * cols + c]

    const numerics::AdcColumn* tile(int rt, int ct) const {
        return &columns[(static_cast<std::size_t>(rt) * col_tiles + ct) * cols];
    }
    numerics::AdcColumn* tile(int rt, int ct) { return &columns[(static_cast<std::size_t>(rt) * col_tiles + ct) * cols]; }

    // Step 1, base 0 everywhere: lossless when 2^bits - 1 >= the largest partial sum.
    static AdcTables unit(const LayerMapping& map, int bits, int frac_bits);
};

// True when the ADC of `cfg` converts every partial sum of this layer exactly.
bool adc_is_lossless(const LayerMapping& map, const ArchConfig& cfg);

}  // namespace cimvp
