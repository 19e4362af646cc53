#include "sw/compiler/network_compiler.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>

#include "hw/address_map.h"
#include "sw/compiler/adc_calibration.h"
#include "sw/compiler/layer_compiler.h"

namespace cimvp {

namespace {

std::atomic<std::uint64_t> g_decompositions{0};

std::uint64_t align64(std::uint64_t v) { return align_up(v, kPlanAlign); }

bool model_tables_fit(const NetworkModel& model, const NetworkLayer& L, const ArchConfig& cfg) {
    return L.has_adc_tables && model.adc_bits == cfg.adc.bits;
}

// The tables of crossbar layer l (docs/numerics.md, "ADC calibration"): the model's own when it
// was calibrated for this ADC, unit tables when the ADC is lossless for the layer, else
// calibrated (per cfg.adc.step_mode) on the layer's inputs over the calibration images.
void choose_adc_tables(const ExecutionPlan& so_far, std::size_t l, const CalibrationInputs& calibration,
                       LayerPlan& p) {
    const NetworkModel& model = so_far.model;
    const ArchConfig& cfg = so_far.cfg;
    const NetworkLayer& L = model.layers[l];
    const LayerMapping& map = p.mapping;
    if (model_tables_fit(model, L, cfg)) {
        p.adc = model_adc_tables(L, map, cfg.adc.bits, cfg.adc.frac_bits);
        p.adc_recalibrated = false;
    } else if (L.has_adc_tables && model.frac_bits == cfg.adc.frac_bits && !adc_is_lossless(map, cfg) &&
               !calibration) {
        // Another resolution and no images: keep the windows the model was calibrated for, divide them anew.
        p.adc = rescale_adc_tables(model_adc_tables(L, map, model.adc_bits, cfg.adc.frac_bits), map, cfg.adc.bits,
                                   cfg.adc.step_mode);
        p.adc_recalibrated = true;
    } else if (adc_is_lossless(map, cfg) || !calibration) {
        p.adc = AdcTables::unit(map, cfg.adc.bits, cfg.adc.frac_bits);
        p.adc_recalibrated = L.has_adc_tables;
    } else {
        // The layer's inputs over the calibration images, through the layers compiled so far.
        std::vector<std::uint8_t> x = calibration(so_far, l);
        std::size_t n = x.size() / map.K;
        const std::size_t cap = static_cast<std::size_t>(std::max(0, so_far.options.calibration_vectors));
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
        p.adc = L.has_adc_tables ? calibrate_adc_least_squares(p.matrix, map, cfg, x.data(), nv)
                                 : calibrate_adc(p.matrix, map, cfg, x.data(), nv);
        p.adc_recalibrated = true;
    }
}

PeLayerPlan plan_pe_layer(const NetworkLayer& L, const NetworkOptions& o, const ArchConfig& cfg) {
    PeLayerPlan p;
    p.groups = pe_layer_groups(L, o.swis_shifts, o.variant);
    p.weights = p.groups.weights();
    const std::size_t cols = static_cast<std::size_t>(cfg.pe_array.cols);
    const std::vector<int>& filter_n = p.groups.shifts;
    p.n_table.assign((filter_n.size() + cols - 1) / cols, 0);
    for (std::size_t f = 0; f < filter_n.size(); ++f)
        p.n_table[f / cols] = std::max(p.n_table[f / cols], static_cast<std::uint8_t>(filter_n[f]));
    p.double_shift = o.double_shift;
    return p;
}

// What stays on chip (docs/architecture.md, "Global buffer"). The batch's images arrive in DRAM.
// Every hidden layer's output and the logits go to the global buffer when, with them, it still holds
// the largest layer's scratch for one image; otherwise they stay in DRAM and the accumulators,
// which cost 16 bytes of int64 traffic per output value against an activation's 2, get all of it.
// Then the accumulators, input sums and PE-array staging: one on-chip region as large as the largest
// layer's batch needs, or as the global buffer has left. A layer whose scratch for one image fits
// runs its batch in steps of as many images as fit; one that does not, or that needs several
// passes over its tiles, keeps the whole batch in DRAM.
void place_buffers(ExecutionPlan& plan) {
    const NetworkModel& model = plan.model;
    const int batch = plan.batch();
    const std::size_t n = model.layers.size();
    // The global buffer as the driver hands it out: 64-byte aligned from its base, all of it free.
    const std::uint64_t capacity = AddressMap(plan.cfg).global_buffer_size();
    std::uint64_t total = 0, one_image = 0;
    for (std::uint64_t b : activation_buffer_bytes(model, batch)) total += align64(b);
    for (std::size_t l = 0; l < n; ++l)
        one_image = std::max(one_image, scratch_bytes_for(model.layers[l], plan.layers[l].on_pe, 1));
    plan.activations_on_chip = total + one_image <= capacity;
    const std::uint64_t free = plan.activations_on_chip ? capacity - total : capacity;

    std::uint64_t want = 0;
    for (std::size_t l = 0; l < n; ++l)
        want = std::max(want, scratch_bytes_for(model.layers[l], plan.layers[l].on_pe, batch));
    const std::uint64_t region_bytes = std::min(want, free);
    plan.scratch_region_bytes = region_bytes;
    plan.dram_scratch_bytes = 0;
    for (std::size_t l = 0; l < n; ++l) {
        const NetworkLayer& L = model.layers[l];
        LayerPlan& lp = plan.layers[l];
        const bool one_pass = lp.on_pe || lp.mapping.passes == 1;
        int k = 0;
        if (region_bytes > 0) {
            // The most images whose scratch fits: k images never need more than k times one image's
            // (each part is rounded up once), so start there and add while the next still fits.
            const std::uint64_t per_image = scratch_bytes_for(L, lp.on_pe, 1);
            k = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(batch), region_bytes / per_image));
            while (k > 0 && k < batch && scratch_bytes_for(L, lp.on_pe, k + 1) <= region_bytes) ++k;
            if (!one_pass && k < batch) k = 0;
        }
        LayerPlacement& p = lp.placement;
        p.scratch_on_chip = k > 0;
        p.images_per_step = p.scratch_on_chip ? k : batch;
        p.steps = (batch + p.images_per_step - 1) / p.images_per_step;
        if (!p.scratch_on_chip)
            plan.dram_scratch_bytes = std::max(plan.dram_scratch_bytes, scratch_bytes_for(L, lp.on_pe, batch));
    }
}

}  // namespace

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

// The PE array writes no input sums: a layer there must not need them.
void check_pe_layer(const NetworkModel& model, std::size_t l) {
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

swis::DecomposedLayer pe_layer_groups(const NetworkLayer& L, int shifts, swis::Variant variant) {
    // Stored SWIS groups (format v2): the weights already are their values.
    if (L.swis) return L.swis_groups();
    // 8 shifts hold every int8 weight as it is; fewer decompose it (sw/contract/swis.h).
    if (shifts >= swis::kShiftPositions) return swis::exact_layer(L.weights, L.swis_shape());
    ++g_decompositions;
    return swis::decompose_layer(L.weights, L.swis_shape(), shifts, variant);
}

std::uint64_t swis_decompositions() { return g_decompositions.load(); }

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

bool needs_calibration(const NetworkModel& model, const ArchConfig& cfg, const NetworkOptions& options) {
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const NetworkLayer& L = model.layers[l];
        if (options.pe(l)) continue;
        if (model_tables_fit(model, L, cfg)) continue;
        if (!adc_is_lossless(LayerMapping::make(L.matrix(""), cfg), cfg)) return true;
    }
    return false;
}

ExecutionPlan compile_network(const NetworkModel& model, const ArchConfig& cfg, NetworkOptions options,
                              const CalibrationInputs& calibration) {
    if (options.batch < 1) throw std::invalid_argument("batch: expected at least 1 image, got " +
                                                       std::to_string(options.batch));
    ExecutionPlan plan;
    plan.model = model;
    plan.cfg = cfg;
    options.on_pe.resize(model.layers.size(), false);
    plan.options = std::move(options);
    const NetworkOptions& o = plan.options;
    check_model_fits(model, cfg, o.on_pe);
    // Tiles: every crossbar layer mapped, then the tiles shared out among them.
    std::vector<LayerPlan> layers(model.layers.size());
    std::vector<LayerMapping> crossbar;
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const NetworkLayer& L = model.layers[l];
        LayerPlan& p = layers[l];
        p.on_pe = o.pe(l);
        p.matrix = L.matrix(model.layer_name(l));
        if (p.on_pe) {
            check_pe_layer(model, l);
            p.pe = plan_pe_layer(L, o, cfg);
            continue;
        }
        p.mapping = LayerMapping::make(p.matrix, cfg);
        crossbar.push_back(p.mapping);
    }
    plan.resident = assign_tiles(crossbar, cfg);
    for (std::size_t l = 0, c = 0; l < model.layers.size(); ++l)
        if (!layers[l].on_pe) layers[l].mapping = crossbar[c++];
    // ADC tables layer by layer: a calibration sees the layers before it as compiled.
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        if (!layers[l].on_pe) {
            choose_adc_tables(plan, l, calibration, layers[l]);
            layers[l].chunk = max_chunk(layers[l].mapping, cfg, true);  // with input sums (EMIT_SUM)
        }
        plan.layers.push_back(std::move(layers[l]));
    }
    place_buffers(plan);
    return plan;
}

}  // namespace cimvp
