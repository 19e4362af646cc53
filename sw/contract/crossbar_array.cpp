#include "sw/contract/crossbar_array.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sw/contract/numerics.h"

namespace cimvp {

namespace {
// Keys of the non-ideal draws (docs/numerics.md): which property of a cell.
constexpr std::uint64_t kDrawVariation = 0;
constexpr std::uint64_t kDrawStuck = 1;
constexpr std::uint64_t kDrawStuckLevel = 2;
constexpr std::uint64_t kDrawReadNoise = 3;
}  // namespace

CrossbarArray::CrossbarArray(int rows, int cols, int cell_bits)
    : rows_(rows), cols_(cols), cell_bits_(cell_bits), words_(words_for(rows)) {
    if (rows <= 0 || cols <= 0 || (cell_bits != 1 && cell_bits != 2))
        throw std::invalid_argument("CrossbarArray: bad geometry " + std::to_string(rows) + "x" +
                                    std::to_string(cols) + " cell_bits " + std::to_string(cell_bits));
    planes_.assign(static_cast<std::size_t>(cols_) * cell_bits_ * words_, 0);
}

void CrossbarArray::clear() {
    std::fill(planes_.begin(), planes_.end(), 0);
    analog_ = false;
    conductance_.clear();
}

void CrossbarArray::program_row(int r, const std::uint8_t* levels, int first_col, int n) {
    if (r < 0 || r >= rows_ || first_col < 0 || n < 0 || first_col + n > cols_)
        throw std::out_of_range("CrossbarArray::program_row: row " + std::to_string(r) + " cols [" +
                                std::to_string(first_col) + ", " + std::to_string(first_col + n) + ") outside " +
                                std::to_string(rows_) + "x" + std::to_string(cols_));
    // Branch-free read-modify-write of row r's bit in each (column, level) plane; programming a
    // layer's tiles is the platform's hottest loop when images have few pixels per weight.
    const int sh = r % 64;
    const std::uint64_t keep = ~(std::uint64_t{1} << sh);
    const std::size_t col_stride = static_cast<std::size_t>(cell_bits_) * words_;
    std::uint64_t* word = &planes_[static_cast<std::size_t>(first_col) * col_stride + static_cast<std::size_t>(r / 64)];
    if (cell_bits_ == 1) {
        for (int i = 0; i < n; ++i, word += col_stride)
            *word = (*word & keep) | (static_cast<std::uint64_t>(levels[i] & 1) << sh);
    } else {
        for (int i = 0; i < n; ++i, word += col_stride)
            for (int l = 0; l < cell_bits_; ++l)
                word[static_cast<std::size_t>(l) * words_] =
                    (word[static_cast<std::size_t>(l) * words_] & keep) |
                    (static_cast<std::uint64_t>((levels[i] >> l) & 1) << sh);
    }
    analog_ = false;
}

int CrossbarArray::level(int r, int c) const {
    int v = 0;
    for (int l = 0; l < cell_bits_; ++l) v |= static_cast<int>((plane(c, l)[r / 64] >> (r % 64)) & 1) << l;
    return v;
}

void CrossbarArray::apply_nonideal(const NonIdealConfig& ni, std::uint64_t tile_id) {
    analog_ = ni.enabled();
    conductance_.clear();
    if (!analog_) return;
    seed_ = ni.seed;
    tile_id_ = tile_id;
    read_noise_sigma_ = ni.read_noise_sigma;
    const int max_level = (1 << cell_bits_) - 1;
    conductance_.resize(static_cast<std::size_t>(rows_) * cols_);
    for (int c = 0; c < cols_; ++c) {
        for (int r = 0; r < rows_; ++r) {
            double g = level(r, c);
            if (ni.stuck_at_rate > 0 &&
                numerics::uniform01(numerics::hash_key(seed_, tile_id_, r, c, kDrawStuck)) < ni.stuck_at_rate) {
                const bool high = numerics::uniform01(numerics::hash_key(seed_, tile_id_, r, c, kDrawStuckLevel)) >= 0.5;
                g = high ? max_level : 0;
            }
            if (ni.conductance_sigma > 0)
                g *= std::exp(ni.conductance_sigma *
                              numerics::standard_normal(numerics::hash_key(seed_, tile_id_, r, c, kDrawVariation)));
            conductance_[static_cast<std::size_t>(c) * rows_ + r] = g;
        }
    }
}

void CrossbarArray::pack_planes(const std::uint8_t* x, int n, int bit0, int nbits, int words,
                                std::uint64_t* planes) {
    // Eight inputs at a time: bit b of each of 8 bytes (one per byte lane after the mask)
    // lands in the top byte of the product, byte i's bit at position 56 + i, without carries.
    constexpr std::uint64_t kLaneBit0 = 0x0101010101010101ULL, kGather = 0x0102040810204080ULL;
    for (int k = 0; k < nbits; ++k) {
        std::uint64_t* p = planes + static_cast<std::size_t>(k) * words;
        const int b = bit0 + k;
        for (int w = 0; w < words; ++w) {
            std::uint64_t word = 0;
            const int r0 = w * 64, r1 = std::min(n, r0 + 64);  // empty past n
            int r = r0;
            for (; r + 8 <= r1; r += 8) {
                std::uint64_t lanes;
                std::memcpy(&lanes, x + r, 8);  // little-endian: x[r] in the low byte
                word |= ((((lanes >> b) & kLaneBit0) * kGather) >> 56) << (r - r0);
            }
            for (; r < r1; ++r) word |= static_cast<std::uint64_t>((x[r] >> b) & 1) << (r - r0);
            p[w] = word;
        }
    }
}

bool CrossbarArray::read(const std::uint64_t* x_planes, int dac_bits, int n_cols, int frac_bits,
                         std::uint64_t vector_index, int step, std::int64_t* psum_fx, int n_rows) const {
    if (!analog_) {
        // Only the words of driven rows, and no popcounts at all when no input bit is set.
        const int words = n_rows < 0 ? words_ : std::min(words_, words_for(n_rows));
        std::uint64_t any = 0;
        for (int k = 0; k < dac_bits; ++k)
            for (int w = 0; w < words; ++w) any |= x_planes[static_cast<std::size_t>(k) * words_ + w];
        if (any == 0) {
            std::fill(psum_fx, psum_fx + n_cols, 0);
            return true;
        }
        if (dac_bits == 1 && cell_bits_ == 1 && words == 1) {  // the common bit-serial case, one word of rows
            const std::uint64_t x = x_planes[0];
            for (int c = 0; c < n_cols; ++c)
                psum_fx[c] = static_cast<std::int64_t>(__builtin_popcountll(x & planes_[static_cast<std::size_t>(c) * words_]))
                             << frac_bits;
            return false;
        }
        if (dac_bits == 1 && cell_bits_ == 1) {  // bit-serial, binary cells, several words of rows
            for (int c = 0; c < n_cols; ++c) {
                const std::uint64_t* cell = &planes_[static_cast<std::size_t>(c) * words_];
                std::int64_t pc = 0;
                for (int w = 0; w < words; ++w) pc += __builtin_popcountll(x_planes[w] & cell[w]);
                psum_fx[c] = pc << frac_bits;
            }
            return false;
        }
        for (int c = 0; c < n_cols; ++c) {
            std::int64_t sum = 0;
            for (int l = 0; l < cell_bits_; ++l) {
                const std::uint64_t* cell = plane(c, l);
                for (int k = 0; k < dac_bits; ++k) {
                    const std::uint64_t* x = x_planes + static_cast<std::size_t>(k) * words_;
                    std::int64_t pc = 0;
                    for (int w = 0; w < words; ++w) pc += __builtin_popcountll(x[w] & cell[w]);
                    sum += pc << (k + l);
                }
            }
            psum_fx[c] = sum << frac_bits;
        }
        return false;
    }
    // Analog: the input of each row as a level, then a real dot product per column.
    std::vector<int> xin(rows_, 0);
    for (int k = 0; k < dac_bits; ++k) {
        const std::uint64_t* x = x_planes + static_cast<std::size_t>(k) * words_;
        for (int r = 0; r < rows_; ++r) xin[r] |= static_cast<int>((x[r / 64] >> (r % 64)) & 1) << k;
    }
    for (int c = 0; c < n_cols; ++c) {
        const double* g = &conductance_[static_cast<std::size_t>(c) * rows_];
        double sum = 0.0;
        for (int r = 0; r < rows_; ++r)
            if (xin[r]) sum += xin[r] * g[r];
        if (read_noise_sigma_ > 0)
            sum += read_noise_sigma_ * numerics::standard_normal(numerics::hash_key(
                                           seed_ ^ (kDrawReadNoise << 60), tile_id_, vector_index,
                                           static_cast<std::uint64_t>(step), static_cast<std::uint64_t>(c)));
        psum_fx[c] = numerics::analog_to_fixed(sum, frac_bits);
    }
    return false;
}

}  // namespace cimvp
