#include "sw/compiler/swis_storage.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sw/compiler/network_compiler.h"
#include "sw/formats/swis_packing.h"

namespace cimvp {

SwisLayerStorageReport swis_storage_report(const NetworkModel& model, std::size_t l,
                                           const std::vector<std::int8_t>& original) {
    const NetworkLayer& L = model.layers.at(l);
    if (!L.swis) throw ModelError(model.path + ": " + model.layer_name(l) + ": no SWIS storage");
    SwisLayerStorageReport r;
    r.layer = l;
    r.name = model.layer_name(l);
    const swis::LayerShape shape = L.swis_shape();
    r.weights = static_cast<std::int64_t>(L.weights.size());
    r.groups = static_cast<std::int64_t>(shape.groups_per_filter()) * shape.filters;
    const auto& n = L.swis->filter_n;
    double sum = 0;
    for (int v : n) {
        sum += v;
        r.swis_bits +=
            static_cast<std::int64_t>(shape.groups_per_filter()) * swis::group_storage_bits(v, L.swis->variant);
    }
    r.mean_n = n.empty() ? 0 : sum / static_cast<double>(n.size());
    r.min_n = n.empty() ? 0 : *std::min_element(n.begin(), n.end());
    r.max_n = n.empty() ? 0 : *std::max_element(n.begin(), n.end());
    r.swis_bytes = static_cast<std::int64_t>(L.swis->packed.size());
    r.int8_bytes = r.weights;
    r.bits_per_group = r.groups ? static_cast<double>(r.swis_bits) / static_cast<double>(r.groups) : 0;
    r.int8_bits_per_group = r.groups ? 8.0 * static_cast<double>(r.weights) / static_cast<double>(r.groups) : 0;
    r.ratio = r.swis_bits ? 8.0 * static_cast<double>(r.weights) / static_cast<double>(r.swis_bits) : 0;
    double se = 0;
    for (std::size_t j = 0; j < original.size() && j < L.weights.size(); ++j) {
        const double e = static_cast<double>(original[j]) - static_cast<double>(L.weights[j]);
        se += e * e;
    }
    r.mse = original.empty() ? 0 : se / static_cast<double>(original.size());
    return r;
}

NetworkModel store_swis_layers(const NetworkModel& model, const std::vector<bool>& store,
                               const SwisStoreOptions& opt, std::vector<SwisLayerStorageReport>* report) {
    if (!(opt.shifts >= 1 && opt.shifts <= swis::kShiftPositions))
        throw std::invalid_argument("--shifts: expected a number in [1, 8], got " + std::to_string(opt.shifts));
    const bool integral = std::floor(opt.shifts) == opt.shifts;
    // A double-shift PE takes even N only: a mean of 3 is 2s and 4s, i.e. a schedule.
    const bool schedule = opt.schedule || !integral || opt.double_shift;
    const int per_cycle = opt.double_shift ? 2 : 1;
    if (schedule && opt.shifts < per_cycle)
        throw std::invalid_argument("--shifts: a double-shift schedule needs a mean N of at least 2");
    if (opt.array_cols < 1) throw std::invalid_argument("array columns: expected at least 1");
    NetworkModel out = model;
    bool any = false;
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        if (l >= store.size() || !store[l]) continue;
        any = true;
        check_pe_layer(model, l);
        NetworkLayer& L = out.layers[l];
        const std::vector<std::int8_t> original = model.layers[l].weights;
        const swis::LayerShape shape = L.swis_shape();
        std::vector<int> filter_n(static_cast<std::size_t>(shape.filters), static_cast<int>(opt.shifts));
        if (schedule) {
            // As `cimvp swis` schedules a model: the error weighed by each filter's multiplier.
            swis::FilterCosts costs = swis::filter_costs(original, shape, opt.variant, opt.alpha);
            double mean = 0;
            for (std::int32_t x : L.mult) mean += std::fabs(static_cast<double>(x));
            mean /= std::max(1, L.out_c);
            if (opt.scale_by_mult && mean > 0) {
                std::vector<double> scale;
                for (std::int32_t x : L.mult) scale.push_back(std::fabs(static_cast<double>(x)) / mean);
                swis::scale_costs(costs, scale);
            }
            filter_n = swis::schedule_from_costs(costs, opt.shifts, opt.array_cols, per_cycle).filter_n;
        }
        const swis::DecomposedLayer d = swis::decompose_layer(original, shape, filter_n, opt.variant, opt.alpha);
        SwisLayerStorage s;
        s.variant = opt.variant;
        s.schedule_cols = opt.array_cols;
        s.filter_n = filter_n;
        s.packed = swis::pack_groups(d);
        L.weights = d.weights();
        L.swis = std::move(s);
        if (report) report->push_back(swis_storage_report(out, l, original));
    }
    if (!any) throw std::invalid_argument("no layer chosen to store as SWIS groups");
    return out;
}

}  // namespace cimvp
