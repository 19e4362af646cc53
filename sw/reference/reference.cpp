#include "sw/reference/reference.h"

#include "sw/contract/crossbar_array.h"
#include "sw/contract/numerics.h"

namespace cimvp {

ReferenceLayer::ReferenceLayer(const MatrixLayer& layer, const LayerMapping& map, AdcTables adc,
                               const ArchConfig& cfg)
    : map_(map), adc_(std::move(adc)), frac_bits_(cfg.adc.frac_bits) {
    identity_.resize(static_cast<std::size_t>(map_.row_tiles) * map_.col_tiles);
    for (int rt = 0; rt < map_.row_tiles; ++rt)
        for (int ct = 0; ct < map_.col_tiles; ++ct)
            identity_[static_cast<std::size_t>(rt) * map_.col_tiles + ct] =
                !cfg.nonideal.enabled() &&
                numerics::adc_is_identity(adc_.tile(rt, ct), map_.cols_in(ct), frac_bits_, adc_.bits, map_.max_psum(rt));
    col_mult_.resize(static_cast<std::size_t>(map_.row_tiles) * map_.M);
    for (int rt = 0; rt < map_.row_tiles; ++rt)
        for (int m = 0; m < map_.M; ++m) col_mult_[static_cast<std::size_t>(rt) * map_.M + m] = map_.col_mult(layer, rt, m);
    arrays_.reserve(static_cast<std::size_t>(map_.row_tiles) * map_.col_tiles);
    for (int rt = 0; rt < map_.row_tiles; ++rt) {
        for (int ct = 0; ct < map_.col_tiles; ++ct) {
            arrays_.emplace_back(map_.array_rows, map_.cols, map_.cell_bits);
            CrossbarArray& xbar = arrays_.back();
            const auto lv = map_.tile_levels(layer, rt, ct);
            for (int r = 0; r < map_.rows_in(rt); ++r)
                xbar.program_row(r, &lv[static_cast<std::size_t>(r) * map_.cols], 0, map_.cols);
            xbar.apply_nonideal(cfg.nonideal, static_cast<std::uint64_t>(map_.tile_of(rt, ct)));
        }
    }
}

std::vector<std::int64_t> ReferenceLayer::run(const std::uint8_t* x, int n, std::uint64_t first_vector) const {
    const LayerMapping& m = map_;
    std::vector<std::int64_t> acc(static_cast<std::size_t>(n) * m.M, 0);
    const int words = CrossbarArray::words_for(m.array_rows);
    std::vector<std::uint64_t> planes(static_cast<std::size_t>(m.a_bits) * words);
    std::vector<std::int64_t> psum(m.cols), value(m.cols), fx(m.outs_per_tile);
    for (int v = 0; v < n; ++v) {
        const std::uint8_t* xv = x + static_cast<std::size_t>(v) * m.K;
        std::int64_t* out = &acc[static_cast<std::size_t>(v) * m.M];
        for (int rt = 0; rt < m.row_tiles; ++rt) {
            const std::uint8_t* xr = xv + m.first_row(rt);
            CrossbarArray::pack_planes(xr, m.rows_in(rt), 0, m.a_bits, words, planes.data());
            std::int64_t input_sum = 0;
            int any = 0;
            for (int r = 0; r < m.rows_in(rt); ++r) {
                input_sum += xr[r];
                any |= xr[r];
            }
            if (any >> m.a_bits)
                throw MappingError("input vector " + std::to_string(v) + " has a value wider than a_bits = " +
                                   std::to_string(m.a_bits));
            for (int ct = 0; ct < m.col_tiles; ++ct) {
                const CrossbarArray& xbar = arrays_[static_cast<std::size_t>(rt) * m.col_tiles + ct];
                const numerics::AdcColumn* adc = adc_.tile(rt, ct);
                const int outs = m.outs_in(ct);
                std::fill(fx.begin(), fx.end(), 0);
                const bool identity = identity_[static_cast<std::size_t>(rt) * m.col_tiles + ct] != 0;
                for (int t = 0; t < m.steps; ++t) {
                    const bool zero =
                        xbar.read(&planes[static_cast<std::size_t>(t) * m.dac_bits * words], m.bits_in_step(t),
                                  m.cols_in(ct), frac_bits_, first_vector + v, t, psum.data(), m.rows_in(rt));
                    // A unit ADC that cannot clamp hands the partial sums on unchanged (numerics::adc_is_identity).
                    if (identity && zero) continue;
                    const std::int64_t* val = psum.data();
                    if (!identity) {
                        numerics::adc_convert(psum.data(), adc, m.cols_in(ct), adc_.bits, nullptr, value.data());
                        val = value.data();
                    }
                    numerics::shift_add_step(val, outs, m.slices, m.differential, t, m.dac_bits, m.cell_bits, fx.data());
                }
                for (int o = 0; o < outs; ++o)
                    out[m.first_out(ct) + o] +=
                        col_mult_[static_cast<std::size_t>(rt) * m.M + m.first_out(ct) + o] *
                        numerics::finish_partial(fx[o], frac_bits_, m.weight_scale, m.offset, input_sum);
            }
        }
    }
    return acc;
}

double ReferenceLayer::cell_bit_ops_per_vector() const {
    return static_cast<double>(map_.K) * map_.M * map_.cols_per_out * map_.cell_bits * map_.a_bits;
}

std::vector<std::int64_t> integer_matmul(const MatrixLayer& layer, const std::uint8_t* x, int n) {
    std::vector<std::int64_t> y(static_cast<std::size_t>(n) * layer.M, 0);
    for (int v = 0; v < n; ++v)
        for (int k = 0; k < layer.K; ++k) {
            const std::int64_t xv = x[static_cast<std::size_t>(v) * layer.K + k];
            if (xv == 0) continue;
            const std::int8_t* w = &layer.weights[static_cast<std::size_t>(k) * layer.M];
            std::int64_t* yv = &y[static_cast<std::size_t>(v) * layer.M];
            for (int m = 0; m < layer.M; ++m) yv[m] += xv * w[m];
        }
    return y;
}

}  // namespace cimvp
