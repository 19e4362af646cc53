// The arithmetic of the numeric contract (docs/numerics.md), as pure functions
// shared by the C++ reference, the SystemC models and the RTL checkers, so that
// they cannot drift apart.
#pragma once

#include <cstdint>

namespace cimvp::numerics {

// floor(num / den) for den > 0, exact for negative numerators.
inline std::int64_t floor_div(std::int64_t num, std::int64_t den) {
    std::int64_t q = num / den;
    if ((num % den != 0) && (num < 0)) --q;
    return q;
}

// round_half_up(num / den) = floor(num / den + 1/2), den > 0.
inline std::int64_t round_half_up_div(std::int64_t num, std::int64_t den) {
    return floor_div(2 * num + den, 2 * den);
}

// round_half_up(v / 2^shift); shift 0 returns v.
inline std::int64_t round_half_up_shift(std::int64_t v, int shift) {
    if (shift <= 0) return v;
    return (v + (std::int64_t{1} << (shift - 1))) >> shift;  // arithmetic shift = floor
}

// v * 2^shift for any sign of v, shift in [0, 63): the bits shifted as unsigned (a left shift of a negative
// signed value is undefined before C++20), the same instruction and wrap-around as a signed shift.
inline std::int64_t shift_left(std::int64_t v, int shift) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(v) << shift);
}

// One column's ADC calibration, in fixed point with `frac_bits` fraction bits.
struct AdcColumn {
    std::int64_t step_fx = 1;  // > 0
    std::int64_t base_fx = 0;
};

// code = clamp(round_half_up((psum - base) / step), 0, 2^bits - 1).
inline int adc_code(std::int64_t psum_fx, const AdcColumn& col, int bits) {
    const std::int64_t max_code = (std::int64_t{1} << bits) - 1;
    std::int64_t code = round_half_up_div(psum_fx - col.base_fx, col.step_fx);
    if (code < 0) code = 0;
    if (code > max_code) code = max_code;
    return static_cast<int>(code);
}

// The digital value the ADC hands to the shift-add: base + code * step.
inline std::int64_t adc_value(int code, const AdcColumn& col) { return col.base_fx + code * col.step_fx; }

// True when every column has step 1 (2^frac_bits) and base 0 and no partial sum
// up to max_psum can clamp: the ADC hands each partial sum on unchanged.
inline bool adc_is_identity(const AdcColumn* cols, int n, int frac_bits, int bits, std::int64_t max_psum) {
    if (max_psum > (std::int64_t{1} << bits) - 1) return false;
    for (int c = 0; c < n; ++c)
        if (cols[c].step_fx != (std::int64_t{1} << frac_bits) || cols[c].base_fx != 0) return false;
    return true;
}

// adc_code for a whole read, n columns; fills codes (may be null) and values. A
// power-of-two step takes a shift instead of a division (the same result:
// floor((2n + d) / 2d) = (n + d/2) >> log2(d)).
inline void adc_convert(const std::int64_t* psum_fx, const AdcColumn* cols, int n, int bits, int* codes,
                        std::int64_t* values) {
    const std::int64_t max_code = (std::int64_t{1} << bits) - 1;
    for (int c = 0; c < n; ++c) {
        const AdcColumn& col = cols[c];
        const std::int64_t d = psum_fx[c] - col.base_fx;
        std::int64_t code;
        if ((col.step_fx & (col.step_fx - 1)) == 0) {
            const int sh = __builtin_ctzll(static_cast<unsigned long long>(col.step_fx));
            code = (d + (col.step_fx >> 1)) >> sh;
        } else {
            code = round_half_up_div(d, col.step_fx);
        }
        code = code < 0 ? 0 : (code > max_code ? max_code : code);
        if (codes) codes[c] = static_cast<int>(code);
        values[c] = col.base_fx + code * col.step_fx;
    }
}

// Analog partial sum (real, in LSB units) to the comparator's fixed point.
std::int64_t analog_to_fixed(double psum, int frac_bits);

// Counter-based random numbers: the same key gives the same draw in every
// implementation, whatever order the draws are made in.
std::uint64_t mix64(std::uint64_t x);
std::uint64_t hash_key(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d);
double uniform01(std::uint64_t key);  // in (0, 1)
double standard_normal(std::uint64_t key);

// Columns one output takes: its `slices` weight slices, once (offset encoding) or once per sign
// (differential mapping: the positive group, then the negative group).
inline int cols_per_output(int slices, bool differential) { return differential ? 2 * slices : slices; }

// Shift-add of one read (input step `step`) of a tile: the value of slice j of output o,
// val[o * slices + j], shifted by step * dac_bits + j * cell_bits and added into fx[o], for
// every output o < outs. Differential: output o's columns are val[o * 2 * slices + j] (positive
// group) and val[o * 2 * slices + slices + j] (negative group), and their difference is shifted and
// added. The shift-add accumulator (hw/shift_add_accumulator) and the C++ reference
// (sw/reference/reference) both run it; inline: it is their inner loop.
inline void shift_add_step(const std::int64_t* val, int outs, int slices, bool differential, int step, int dac_bits,
                           int cell_bits, std::int64_t* fx) {
    if (differential) {
        const int cols = 2 * slices;
        for (int j = 0; j < slices; ++j) {
            const int shift = step * dac_bits + j * cell_bits;
            for (int o = 0; o < outs; ++o) fx[o] += shift_left(val[o * cols + j] - val[o * cols + slices + j], shift);
        }
        return;
    }
    if (slices == 1) {  // one slice (binary or single-slice weights): a contiguous, vectorizable loop
        const int shift = step * dac_bits;
        for (int o = 0; o < outs; ++o) fx[o] += shift_left(val[o], shift);
        return;
    }
    for (int j = 0; j < slices; ++j) {
        const int shift = step * dac_bits + j * cell_bits;
        for (int o = 0; o < outs; ++o) fx[o] += shift_left(val[o * slices + j], shift);
    }
}

// Shift-add of one (row tile, output): the partial accumulator of a tile.
//   fx_sum  = sum over slices j, steps t of 2^(t*dac_bits + j*cell_bits) * adc_value (differential: the
//             positive column's value minus the negative one's)
//   partial = weight_scale * round_half_up(fx_sum / 2^frac_bits) - offset * sum(x over the tile's rows)
// (differential: weight_scale 1, offset 0)
inline std::int64_t finish_partial(std::int64_t fx_sum, int frac_bits, std::int64_t weight_scale,
                                   std::int64_t offset, std::int64_t input_sum) {
    return weight_scale * round_half_up_shift(fx_sum, frac_bits) - offset * input_sum;
}

}  // namespace cimvp::numerics
