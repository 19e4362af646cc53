#include "sw/compiler/adc_calibration.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sw/contract/crossbar_array.h"

namespace cimvp {

numerics::AdcColumn fit_adc_window(double mean, double stddev, double k, std::int64_t max_psum, int bits,
                                   int frac_bits) {
    const double levels = static_cast<double>((std::int64_t{1} << bits) - 1);
    const double lo = std::max(0.0, mean - k * stddev);
    const double hi = std::min(static_cast<double>(max_psum), mean + k * stddev);
    const double one = std::ldexp(1.0, frac_bits);
    numerics::AdcColumn col;
    if (hi - lo <= levels) {
        // Unit step is exact inside the window: centre the window on the mean.
        col.step_fx = static_cast<std::int64_t>(one);
        double base = std::floor(mean - levels / 2.0);
        base = std::clamp(base, 0.0, std::max(0.0, static_cast<double>(max_psum) - levels));
        col.base_fx = static_cast<std::int64_t>(base * one);
    } else {
        col.step_fx = std::max<std::int64_t>(1, std::llround((hi - lo) / levels * one));
        col.base_fx = std::llround(lo * one);
    }
    return col;
}

void for_each_ideal_read(const MatrixLayer& layer, const LayerMapping& map, int rt, int ct, const std::uint8_t* x,
                         int n, const std::function<void(int t, const std::int64_t* psum)>& read) {
    const int words = CrossbarArray::words_for(map.array_rows);
    std::vector<std::uint64_t> planes(static_cast<std::size_t>(map.a_bits) * words);
    std::vector<std::int64_t> psum(map.cols);
    CrossbarArray xbar(map.array_rows, map.cols, map.cell_bits);
    const auto lv = map.tile_levels(layer, rt, ct);
    for (int r = 0; r < map.rows_in(rt); ++r) xbar.program_row(r, &lv[static_cast<std::size_t>(r) * map.cols], 0, map.cols);
    for (int v = 0; v < n; ++v) {
        CrossbarArray::pack_planes(x + static_cast<std::size_t>(v) * map.K + map.first_row(rt), map.rows_in(rt), 0,
                                   map.a_bits, words, planes.data());
        for (int t = 0; t < map.steps; ++t) {
            xbar.read(&planes[static_cast<std::size_t>(t) * map.dac_bits * words], map.bits_in_step(t), map.cols_in(ct),
                      0, 0, t, psum.data());
            read(t, psum.data());
        }
    }
}

namespace {

// Weighted counts of the partial sums one column (or a layer) saw, in bins of `width` LSB.
struct Histogram {
    std::int64_t width = 1;
    std::vector<double> count;
    double n = 0, sum = 0, sum2 = 0;  // weighted moments

    Histogram(std::int64_t max_psum, std::int64_t w) : width(w), count(static_cast<std::size_t>(max_psum / w + 1), 0.0) {}
    void add(std::int64_t v, double w) {
        count[static_cast<std::size_t>(v / width)] += w;
        const double d = static_cast<double>(v);
        n += w;
        sum += w * d;
        sum2 += w * d * d;
    }
    void add(const Histogram& o) {
        for (std::size_t b = 0; b < o.count.size(); ++b) count[b] += o.count[b];
        n += o.n;
        sum += o.sum;
        sum2 += o.sum2;
    }
    double mean() const { return n > 0 ? sum / n : 0.0; }
    double stddev() const { return n > 0 ? std::sqrt(std::max(0.0, sum2 / n - mean() * mean())) : 0.0; }
    // The partial sum a bin stands for: its value when bins are 1 LSB wide, else the bin's middle.
    std::int64_t value(std::size_t b) const { return static_cast<std::int64_t>(b) * width + (width - 1) / 2; }
};

double adc_error(const Histogram& h, const numerics::AdcColumn& col, int bits, int frac_bits) {
    double err = 0;
    for (std::size_t b = 0; b < h.count.size(); ++b) {
        if (h.count[b] == 0) continue;
        const std::int64_t v = h.value(b) << frac_bits;
        const double e = static_cast<double>(numerics::adc_value(numerics::adc_code(v, col, bits), col) - v);
        err += h.count[b] * e * e;
    }
    return err;
}

numerics::AdcColumn fit_least_squares(const Histogram& h, std::int64_t max_psum, int bits, int frac_bits) {
    numerics::AdcColumn best;
    double best_err = 0;
    for (int i = 0; i < kAdcClipGridSize; ++i) {
        const double r = kAdcClipGridFirst + kAdcClipGridStep * i;
        const numerics::AdcColumn col = fit_adc_window(h.mean(), h.stddev(), r, max_psum, bits, frac_bits);
        const double err = adc_error(h, col, bits, frac_bits);
        if (i == 0 || err < best_err) {
            best = col;
            best_err = err;
        }
    }
    return best;
}

}  // namespace

AdcTables calibrate_adc_least_squares(const MatrixLayer& layer, const LayerMapping& map, const ArchConfig& cfg,
                                      const std::uint8_t* x, int n) {
    AdcTables tables = AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits);
    if (adc_is_lossless(map, cfg) || n <= 0) return tables;
    const bool per_layer = cfg.adc.step_mode == AdcStepMode::kLayer;
    // Every histogram of the layer has the bin width of its tallest row tile.
    const std::int64_t width = (map.max_psum(0) + kAdcMaxHistogramBins) / kAdcMaxHistogramBins;
    Histogram layer_hist(per_layer ? map.max_psum(0) : 0, width);
    for (int rt = 0; rt < map.row_tiles; ++rt) {
        for (int ct = 0; ct < map.col_tiles; ++ct) {
            std::vector<Histogram> hist(map.cols_in(ct), Histogram(map.max_psum(rt), width));
            for_each_ideal_read(layer, map, rt, ct, x, n, [&](int t, const std::int64_t* psum) {
                for (int c = 0; c < map.cols_in(ct); ++c)
                    hist[c].add(psum[c], std::ldexp(1.0, 2 * map.shift_of(t, map.slice_of(c))));
            });
            numerics::AdcColumn* cols = tables.tile(rt, ct);
            for (int c = 0; c < map.cols_in(ct); ++c) {
                if (per_layer)
                    layer_hist.add(hist[c]);
                else if (hist[c].n > 0)
                    cols[c] = fit_least_squares(hist[c], map.max_psum(rt), tables.bits, tables.frac_bits);
            }
        }
    }
    if (per_layer)
        std::fill(tables.columns.begin(), tables.columns.end(),
                  fit_least_squares(layer_hist, map.max_psum(0), tables.bits, tables.frac_bits));
    return tables;
}

namespace {
struct Moments {
    double n = 0, sum = 0, sum2 = 0;
    void add(double v) { n += 1; sum += v; sum2 += v * v; }
    void add(const Moments& o) { n += o.n; sum += o.sum; sum2 += o.sum2; }
    double mean() const { return n > 0 ? sum / n : 0.0; }
    double stddev() const { return n > 0 ? std::sqrt(std::max(0.0, sum2 / n - mean() * mean())) : 0.0; }
};

numerics::AdcColumn fit_column(const Moments& mo, double k, std::int64_t max_psum, int bits, int frac_bits) {
    return fit_adc_window(mo.mean(), mo.stddev(), k, max_psum, bits, frac_bits);
}
}  // namespace

AdcTables calibrate_adc(const MatrixLayer& layer, const LayerMapping& map, const ArchConfig& cfg,
                        const std::uint8_t* x, int n) {
    AdcTables tables = AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits);
    if (adc_is_lossless(map, cfg) || n <= 0) return tables;

    std::vector<Moments> moments(tables.columns.size());
    for (int rt = 0; rt < map.row_tiles; ++rt) {
        for (int ct = 0; ct < map.col_tiles; ++ct) {
            Moments* mo = &moments[(static_cast<std::size_t>(rt) * map.col_tiles + ct) * map.cols];
            for_each_ideal_read(layer, map, rt, ct, x, n, [&](int, const std::int64_t* psum) {
                for (int c = 0; c < map.cols_in(ct); ++c) mo[c].add(static_cast<double>(psum[c]));
            });
        }
    }
    const double k = cfg.adc.clip_sigmas;
    if (cfg.adc.step_mode == AdcStepMode::kLayer) {
        Moments all;
        for (const auto& mo : moments) all.add(mo);
        const auto col = fit_column(all, k, map.max_psum(0), tables.bits, tables.frac_bits);
        std::fill(tables.columns.begin(), tables.columns.end(), col);
    } else {
        for (int rt = 0; rt < map.row_tiles; ++rt)
            for (int ct = 0; ct < map.col_tiles; ++ct)
                for (int c = 0; c < map.cols; ++c) {
                    const std::size_t i = (static_cast<std::size_t>(rt) * map.col_tiles + ct) * map.cols + c;
                    if (moments[i].n > 0)
                        tables.columns[i] = fit_column(moments[i], k, map.max_psum(rt), tables.bits, tables.frac_bits);
                }
    }
    return tables;
}

}  // namespace cimvp
