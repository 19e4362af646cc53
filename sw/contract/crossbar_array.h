// The cell array of one crossbar macro and its read, stored as packed
// bit-planes so that an ideal read is a popcount per 64 rows, not a multiply
// per cell. Shared by the C++ reference and the SystemC CrossbarMacro.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/arch_config.h"

namespace cimvp {

class CrossbarArray {
public:
    CrossbarArray(int rows, int cols, int cell_bits);

    int rows() const { return rows_; }
    int cols() const { return cols_; }
    int cell_bits() const { return cell_bits_; }
    int words_per_column() const { return words_; }

    // Programs cells [first_col, first_col + n) of row r with levels in [0, 2^cell_bits).
    // Programming drops any realized non-ideal conductances (call apply_nonideal again).
    void program_row(int r, const std::uint8_t* levels, int first_col, int n);
    int level(int r, int c) const;
    void clear();

    // Realizes the programmed levels as conductances with variation and stuck-at
    // faults drawn from the config's seed and the physical tile id, and arms read noise.
    void apply_nonideal(const NonIdealConfig& ni, std::uint64_t tile_id);
    bool analog() const { return analog_; }

    // One read of columns [0, n_cols). x_planes holds dac_bits planes of
    // words_per_column() words: bit r of plane k is bit k of row r's input.
    // psum_fx[c] is the column's partial sum in fixed point (frac_bits).
    // vector_index and step key the read noise.
    // n_rows bounds the rows that may be driven (the rest of the planes is zero).
    // Returns true when no input bit was set and the devices are ideal: every psum is 0.
    bool read(const std::uint64_t* x_planes, int dac_bits, int n_cols, int frac_bits, std::uint64_t vector_index,
              int step, std::int64_t* psum_fx, int n_rows = -1) const;

    // Number of words of one input plane for `rows` rows.
    static int words_for(int rows) { return (rows + 63) / 64; }
    // Packs bits [bit0, bit0 + nbits) of n inputs into nbits planes of `words`
    // words each (>= words_for(n); the rest is zero).
    static void pack_planes(const std::uint8_t* x, int n, int bit0, int nbits, int words, std::uint64_t* planes);

private:
    const std::uint64_t* plane(int c, int l) const { return &planes_[(static_cast<std::size_t>(c) * cell_bits_ + l) * words_]; }
    std::uint64_t* plane(int c, int l) { return &planes_[(static_cast<std::size_t>(c) * cell_bits_ + l) * words_]; }

    int rows_, cols_, cell_bits_, words_;
    std::vector<std::uint64_t> planes_;  // [col][cell bit][word]
    bool analog_ = false;
    std::vector<double> conductance_;    // [col][row], in level units, when analog
    double read_noise_sigma_ = 0.0;
    std::uint64_t seed_ = 0, tile_id_ = 0;
};

}  // namespace cimvp
