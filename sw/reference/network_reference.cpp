#include "sw/reference/network_reference.h"

#include <algorithm>
#include <cmath>

#include "sw/compiler/adc_calibration.h"
#include "sw/contract/im2col.h"
#include "sw/contract/post_processing.h"

namespace cimvp {

AdcTables model_adc_tables(const NetworkLayer& L, const LayerMapping& map, int adc_bits, int frac_bits) {
    AdcTables t = AdcTables::unit(map, adc_bits, frac_bits);
    const int S = map.slices;
    for (int rt = 0; rt < map.row_tiles; ++rt)
        for (int m = 0; m < map.M; ++m)
            for (int j = 0; j < S; ++j) {
                const std::size_t src = (static_cast<std::size_t>(rt) * map.M + m) * S + j;
                const int ct = m / map.outs_per_tile, o = m % map.outs_per_tile;
                numerics::AdcColumn& col = t.tile(rt, ct)[o * S + j];
                col.step_fx = L.adc_step[src];
                col.base_fx = L.adc_base[src];
            }
    return t;
}

AdcTables rescale_adc_tables(const AdcTables& from, const LayerMapping& map, int bits, AdcStepMode mode) {
    AdcTables t = from;
    t.bits = bits;
    const double old_levels = static_cast<double>((std::int64_t{1} << from.bits) - 1);
    const double new_levels = static_cast<double>((std::int64_t{1} << bits) - 1);
    // Each used column's window [base, base + old_levels * step]; one step per layer takes their mean.
    double lo_sum = 0, hi_sum = 0, n = 0;
    for (int rt = 0; rt < map.row_tiles; ++rt)
        for (int ct = 0; ct < map.col_tiles; ++ct)
            for (int c = 0; c < map.cols_in(ct); ++c) {
                const numerics::AdcColumn& col = from.tile(rt, ct)[c];
                lo_sum += static_cast<double>(col.base_fx);
                hi_sum += static_cast<double>(col.base_fx) + old_levels * static_cast<double>(col.step_fx);
                n += 1;
            }
    const auto fit = [&](double lo, double hi) {
        numerics::AdcColumn c;
        c.base_fx = std::llround(lo);
        c.step_fx = std::max<std::int64_t>(1, std::llround((hi - lo) / new_levels));
        return c;
    };
    const numerics::AdcColumn layer = fit(n > 0 ? lo_sum / n : 0.0, n > 0 ? hi_sum / n : 0.0);
    for (int rt = 0; rt < map.row_tiles; ++rt)
        for (int ct = 0; ct < map.col_tiles; ++ct)
            for (int c = 0; c < map.cols_in(ct); ++c) {
                numerics::AdcColumn& col = t.tile(rt, ct)[c];
                col = mode == AdcStepMode::kLayer
                          ? layer
                          : fit(static_cast<double>(col.base_fx),
                                static_cast<double>(col.base_fx) + old_levels * static_cast<double>(col.step_fx));
            }
    return t;
}

std::vector<std::uint8_t> NetworkReference::layer_vectors(const NetworkLayer& L, const std::uint8_t* input) {
    if (L.kind == LayerKind::kConv) {
        ConvShape s{L.in_c, L.in_h, L.in_w, L.kernel, L.stride, L.padding};
        return im2col(s, input);
    }
    return std::vector<std::uint8_t>(input, input + L.K());
}

std::vector<std::uint8_t> NetworkReference::hidden_output(const NetworkLayer& L, const std::int64_t* acc,
                                                          const std::int64_t* sx) {
    const int M = L.M(), n = L.vectors();
    std::vector<std::uint8_t> y(static_cast<std::size_t>(M) * n);
    for (int v = 0; v < n; ++v)
        for (int m = 0; m < M; ++m)
            y[static_cast<std::size_t>(m) * n + v] = static_cast<std::uint8_t>(
                requantize(affine(acc[static_cast<std::size_t>(v) * M + m], sx[v], L.mult[m], L.mult_x[m], L.bias[m]),
                           L.shift, L.a_out_bits));
    std::vector<std::uint8_t> out(static_cast<std::size_t>(M) * L.pooled_h() * L.pooled_w());
    pool2d(y.data(), M, L.out_h(), L.out_w(), L.pool, L.pool_size, L.pool_stride, out.data());
    return out;
}

std::vector<std::int64_t> NetworkReference::last_output(const NetworkLayer& L, const std::int64_t* acc,
                                                        std::int64_t sx) {
    std::vector<std::int64_t> logits(L.M());
    for (int m = 0; m < L.M(); ++m) logits[m] = affine(acc[m], sx, L.mult[m], L.mult_x[m], L.bias[m]);
    return logits;
}

// The PE array writes no input sums: a layer there must not need them.
void NetworkReference::check_pe_layer(const NetworkModel& model, std::size_t l) {
    const NetworkLayer& L = model.layers[l];
    for (auto v : L.mult_x)
        if (v != 0)
            throw ModelError(model.path + ": " + model.layer_name(l) +
                             ": mult_x: a layer on the PE array needs mult_x = 0 (it writes no input sums)");
    if (L.binary || L.w_bits != 8 || !L.col_mult.empty() || L.has_adc_tables)
        throw ModelError(model.path + ": " + model.layer_name(l) +
                         ": the PE array runs 8-bit weights without column multipliers or ADC tables");
    if (static_cast<std::uint64_t>(L.K()) > 65535)
        throw ModelError(model.path + ": " + model.layer_name(l) + ": K above 65535 does not fit a PE-array descriptor");
}

namespace {
bool model_tables_fit(const NetworkModel& model, const NetworkLayer& L, const ArchConfig& cfg) {
    return L.has_adc_tables && model.adc_bits == cfg.adc.bits;
}
}  // namespace

NetworkOptions NetworkOptions::defaults_for(const NetworkModel& model) {
    NetworkOptions o;
    if (model.scheme == "bwma" && !model.layers.empty()) {
        o.on_pe.assign(model.layers.size(), false);
        o.on_pe.front() = o.on_pe.back() = true;
    }
    // Layers stored as SWIS groups (format v2) are stored for the PE array.
    for (std::size_t l = 0; l < model.layers.size(); ++l)
        if (model.layers[l].swis) {
            o.on_pe.resize(model.layers.size(), false);
            o.on_pe[l] = true;
        }
    return o;
}

bool NetworkReference::needs_calibration(const NetworkModel& model, const ArchConfig& cfg,
                                         const NetworkOptions& options) {
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const NetworkLayer& L = model.layers[l];
        if (options.pe(l)) continue;
        if (model_tables_fit(model, L, cfg)) continue;
        if (!adc_is_lossless(LayerMapping::make(L.matrix(""), cfg), cfg)) return true;
    }
    return false;
}

swis::LayerShape NetworkReference::swis_shape(const NetworkLayer& L) { return L.swis_shape(); }

NetworkReference::NetworkReference(const NetworkModel& model, const ArchConfig& cfg, const std::uint8_t* calibration,
                                   int n_calibration, NetworkOptions options)
    : model_(model), cfg_(cfg), options_(std::move(options)) {
    options_.on_pe.resize(model_.layers.size(), false);
    check_model_fits(model_, cfg_, options_.on_pe);
    std::vector<LayerMapping> crossbar;
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
        const NetworkLayer& L = model_.layers[l];
        matrices_.push_back(L.matrix(model_.layer_name(l)));
        pe_weights_.emplace_back();
        if (options_.pe(l)) {
            check_pe_layer(model_, l);
            // Stored SWIS groups: the weights already are their values. Else 8 shifts
            // hold every int8 weight as it is; fewer decompose it (sw/contract/swis.h).
            pe_weights_.back() = L.swis || options_.swis_shifts >= swis::kShiftPositions
                                     ? L.weights
                                     : swis::decompose_layer(L.weights, swis_shape(L), options_.swis_shifts,
                                                             options_.variant)
                                           .weights();
            maps_.emplace_back();
            continue;
        }
        maps_.push_back(LayerMapping::make(matrices_.back(), cfg_));
        crossbar.push_back(maps_.back());
    }
    resident_ = assign_tiles(crossbar, cfg_);
    for (std::size_t l = 0, c = 0; l < model_.layers.size(); ++l)
        if (!options_.pe(l)) maps_[l] = crossbar[c++];
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
        const NetworkLayer& L = model_.layers[l];
        const LayerMapping& map = maps_[l];
        if (options_.pe(l)) {
            plan_.tables.emplace_back();
            plan_.recalibrated.push_back(false);
            layers_.push_back(nullptr);
            continue;
        }
        AdcTables tables;
        bool recal = false;
        if (model_tables_fit(model_, L, cfg_)) {
            tables = model_adc_tables(L, map, cfg_.adc.bits, cfg_.adc.frac_bits);
        } else if (L.has_adc_tables && model_.frac_bits == cfg_.adc.frac_bits && !adc_is_lossless(map, cfg_) &&
                   n_calibration <= 0) {
            // Another resolution and no images: keep the windows the model was calibrated for, divide them anew.
            tables = rescale_adc_tables(model_adc_tables(L, map, model_.adc_bits, cfg_.adc.frac_bits), map,
                                        cfg_.adc.bits, cfg_.adc.step_mode);
            recal = true;
        } else if (adc_is_lossless(map, cfg_) || n_calibration <= 0) {
            tables = AdcTables::unit(map, cfg_.adc.bits, cfg_.adc.frac_bits);
            recal = L.has_adc_tables;
        } else {
            // The layer's inputs over the calibration images, through the layers built so far.
            std::vector<std::uint8_t> x;
            for (int i = 0; i < n_calibration; ++i) {
                const auto in = layer_input(calibration + static_cast<std::size_t>(i) * model_.image_bytes(), l,
                                            static_cast<std::uint64_t>(i));
                const auto v = layer_vectors(L, in.data());
                x.insert(x.end(), v.begin(), v.end());
            }
            std::size_t n = x.size() / map.K;
            const std::size_t cap = static_cast<std::size_t>(std::max(0, options_.calibration_vectors));
            if (cap > 0 && n > cap) {
                // Evenly spaced vectors: vector i * n / cap for i < cap.
                std::vector<std::uint8_t> sub(cap * map.K);
                for (std::size_t i = 0; i < cap; ++i)
                    std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(i * n / cap * map.K), map.K,
                                sub.begin() + static_cast<std::ptrdiff_t>(i * map.K));
                x.swap(sub);
                n = cap;
            }
            // A model calibrated for another ADC: least squares (both step modes alike); else the config's window.
            const int nv = static_cast<int>(n);
            tables = L.has_adc_tables ? calibrate_adc_least_squares(matrices_[l], map, cfg_, x.data(), nv)
                                      : calibrate_adc(matrices_[l], map, cfg_, x.data(), nv);
            recal = true;
        }
        plan_.tables.push_back(tables);
        plan_.recalibrated.push_back(recal);
        layers_.push_back(std::make_unique<ReferenceLayer>(matrices_[l], map, tables, cfg_));
    }
}

std::vector<std::uint8_t> NetworkReference::run_layer(std::size_t l, const std::uint8_t* input,
                                                      std::uint64_t image_index,
                                                      std::vector<std::int64_t>* logits) const {
    const NetworkLayer& L = model_.layers[l];
    const auto vec = layer_vectors(L, input);
    const int n = L.vectors();
    std::vector<std::int64_t> acc;
    if (layers_[l]) {
        acc = layers_[l]->run(vec.data(), n, image_index * static_cast<std::uint64_t>(n));
    } else {  // the PE array: exact integer products with the (decomposed) weights
        const int K = L.K(), M = L.M();
        const std::vector<std::int8_t>& w = pe_weights_[l];
        acc.assign(static_cast<std::size_t>(n) * M, 0);
        for (int v = 0; v < n; ++v)
            for (int m = 0; m < M; ++m) {
                std::int64_t s = 0;
                for (int k = 0; k < K; ++k)
                    s += static_cast<std::int64_t>(vec[static_cast<std::size_t>(v) * K + k]) * w[static_cast<std::size_t>(m) * K + k];
                acc[static_cast<std::size_t>(v) * M + m] = s;
            }
    }
    std::vector<std::int64_t> sx(n, 0);
    for (int v = 0; v < n; ++v)
        for (int k = 0; k < L.K(); ++k) sx[v] += vec[static_cast<std::size_t>(v) * L.K() + k];
    if (!L.relu) {
        if (logits) *logits = last_output(L, acc.data(), sx[0]);
        return {};
    }
    return hidden_output(L, acc.data(), sx.data());
}

std::vector<std::uint8_t> NetworkReference::layer_input(const std::uint8_t* image, std::size_t l,
                                                        std::uint64_t image_index) const {
    std::vector<std::uint8_t> x(image, image + model_.image_bytes());
    for (std::size_t i = 0; i < l; ++i) x = run_layer(i, x.data(), image_index, nullptr);
    return x;
}

std::vector<std::int64_t> NetworkReference::logits(const std::uint8_t* image, std::uint64_t image_index) const {
    std::vector<std::uint8_t> x(image, image + model_.image_bytes());
    std::vector<std::int64_t> out;
    for (std::size_t l = 0; l < model_.layers.size(); ++l) x = run_layer(l, x.data(), image_index, &out);
    return out;
}

int argmax(const std::vector<std::int64_t>& logits) {
    int best = 0;
    for (std::size_t i = 1; i < logits.size(); ++i)
        if (logits[i] > logits[best]) best = static_cast<int>(i);
    return best;
}

}  // namespace cimvp
