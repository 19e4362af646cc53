// Fitting a layer's ADC tables to the ideal partial sums of sample inputs
// (docs/numerics.md, "ADC calibration"): the window arithmetic shared by every
// calibration, and the least-squares calibration that chooses the clip ratio.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/arch_config.h"
#include "sw/contract/layer_mapping.h"
#include "sw/contract/numerics.h"

namespace cimvp {

// The clip ratios r the least-squares calibration tries (window mean +- r * std):
// 0.5, 0.75, ..., 6.0.
inline constexpr double kAdcClipGridFirst = 0.5;
inline constexpr double kAdcClipGridStep = 0.25;
inline constexpr int kAdcClipGridSize = 23;
// Partial sums are counted in at most this many histogram bins per column (wider bins above).
inline constexpr std::int64_t kAdcMaxHistogramBins = std::int64_t{1} << 16;

// Step and base of the window mean +- k * stddev clipped to [0, max_psum]: a
// window narrower than the ADC range keeps step 1 and is centred on the mean,
// else step = window / (2^bits - 1) and base = its low end, in frac_bits fixed point.
numerics::AdcColumn fit_adc_window(double mean, double stddev, double k, std::int64_t max_psum, int bits,
                                   int frac_bits);

// The ideal partial sums of every read of tile (rt, ct) over n input vectors
// (K bytes each): read(t, psum) once per vector and step t, psum holding the
// tile's cols_in(ct) columns.
void for_each_ideal_read(const MatrixLayer& layer, const LayerMapping& map, int rt, int ct, const std::uint8_t* x,
                         int n, const std::function<void(int t, const std::int64_t* psum)>& read);

// Least-squares calibration, per column or once per layer (cfg.adc.step_mode),
// at cfg.adc.bits and cfg.adc.frac_bits: each read weighted by its shift-add
// weight squared, 4^(t*dac_bits + j*cell_bits); among the windows
// mean +- r * std (weighted; fit_adc_window) for r on the kAdcClipGrid* grid,
// the one of least weighted squared ADC error (the contract's adc_code and
// adc_value), the smallest r on a tie. Lossless layers get unit tables.
AdcTables calibrate_adc_least_squares(const MatrixLayer& layer, const LayerMapping& map, const ArchConfig& cfg,
                                      const std::uint8_t* x, int n);

// Calibrates step and base from the ideal partial sums of sample inputs
// (n vectors of K bytes): per column or one per layer (cfg.adc.step_mode),
// range mean +- clip_sigmas * std clipped to what a read can produce.
// Lossless layers get unit tables.
AdcTables calibrate_adc(const MatrixLayer& layer, const LayerMapping& map, const ArchConfig& cfg,
                        const std::uint8_t* x, int n);

}  // namespace cimvp
