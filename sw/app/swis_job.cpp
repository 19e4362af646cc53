#include "sw/app/swis_job.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>

#include "sw/app/progress.h"
#include "sw/app/swis_paper_tables.h"
#include "sw/formats/config_loader.h"
#include "sw/formats/model_file.h"
#include "sw/formats/trace_file.h"
#include "sw/reference/integer_network.h"
#include "sw/reference/network_reference.h"
#include "sw/support/parallel_for.h"
#include "sw/support/text_format.h"

namespace cimvp {

namespace {

using swis::Mode;
using swis::kModeCount;
using swis::kModes;
using swis::mode_index;

constexpr int kCalibrationImages = 256;  // as `cimvp run`: training images for ADC calibration
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kEps = 1e-9;

using Clock = std::chrono::steady_clock;

// A matrix layer of the report, from a trace or a model.
struct WorkLayer {
    std::string name, type;
    bool conv = true;
    swis::PerfLayer perf;          // as the array runs it
    swis::LayerShape sched_shape;  // every filter of the layer (depthwise: one channel each)
    int sched_cols = swis::kArrayCols;  // filters per array group (depthwise: 1, each channel its own tile)
    std::function<std::vector<std::int8_t>()> weights;
    int model_layer = -1;
    std::vector<double> filter_scale;  // model: |mult| per filter over its mean (per-channel int8)
    swis::FilterCosts costs[2];  // SWIS, SWIS-C
};

struct Schedules {
    std::array<swis::Schedule, 4> s;  // SS, DS, C-SS, C-DS
    std::array<bool, 4> ok{};
};

Schedules schedules_at(const WorkLayer& L, double target) {
    Schedules r;
    for (int m = 0; m < 4; ++m) {
        const Mode mode = kModes[m];
        const int spc = swis::is_double_shift(mode) ? 2 : 1;
        if (target < spc - kEps) continue;
        const auto& costs = L.costs[swis::mode_variant(mode) == swis::Variant::kSwisC ? 1 : 0];
        r.s[m] = swis::schedule_from_costs(costs, target, L.sched_cols, spc);
        r.ok[m] = true;
    }
    return r;
}

double mean_of(const std::vector<int>& tile_n, const WorkLayer& L, int cols) {
    // Filter-weighted: every tile of a layer but the last of each group is full.
    const int per_group = L.perf.filter_tiles(cols);
    double sum = 0, filters = 0;
    for (std::size_t t = 0; t < tile_n.size(); ++t) {
        const int in_group = static_cast<int>(t) % per_group;
        const int f = std::min(cols, L.perf.shape.filters - in_group * cols);
        sum += static_cast<double>(tile_n[t]) * f;
        filters += f;
    }
    return filters > 0 ? sum / filters : 0;
}

SwisModeFigures figures(const WorkLayer& L, const std::vector<int>& tile_n, Mode mode, double mean,
                        const swis::PerfCosts& costs, int rows, int cols) {
    SwisModeFigures f;
    f.mean_shifts = mean;
    f.perf = swis::layer_perf(L.perf, tile_n, mode, costs, rows, cols);
    return f;
}

void add_to(SwisTotals& t, const SwisModeRow& row, std::int64_t macs, std::int64_t weights) {
    const double w0 = static_cast<double>(t.weights), w1 = static_cast<double>(weights);
    for (int m = 0; m < kModeCount; ++m) {
        auto& dst = t.modes[m];
        dst.mean_shifts = w0 + w1 > 0 ? (dst.mean_shifts * w0 + row[m].mean_shifts * w1) / (w0 + w1) : 0;
        dst.perf += row[m].perf;
    }
    t.macs += macs;
    t.weights += weights;
}

std::vector<WorkLayer> trace_layers(const NetworkTrace& t, std::vector<std::string>& skipped,
                                    std::shared_ptr<NetworkTrace> keep) {
    std::vector<WorkLayer> out;
    for (std::size_t i = 0; i < t.layers.size(); ++i) {
        const TraceLayer& L = t.layers[i];
        if (!L.has_weights()) continue;
        if (L.map != TraceMap::kPe || L.w_bits != 8) {
            skipped.push_back(L.name + " (" + (L.map != TraceMap::kPe ? "mapped to the crossbars" : "not 8-bit weights") + ")");
            continue;
        }
        WorkLayer w;
        w.name = L.name;
        w.type = trace_name(L.type);
        w.conv = L.type != TraceLayerType::kFc;
        w.perf.name = L.name;
        w.perf.out_pixels = L.out_h() * L.out_w();
        w.perf.input_elems = static_cast<std::int64_t>(L.in_c) * L.in_h * L.in_w;
        w.perf.output_elems = static_cast<std::int64_t>(L.out_c) * L.out_h() * L.out_w();
        w.perf.conv = w.conv;
        if (L.type == TraceLayerType::kFc) {
            w.perf.shape = {L.out_c, static_cast<int>(L.K()), 1, 1};  // K <= kMaxTraceK (parser)
            w.sched_shape = w.perf.shape;
        } else if (L.type == TraceLayerType::kDwConv) {
            w.perf.shape = {1, 1, L.kernel, L.kernel};
            w.perf.conv_groups = L.in_c;
            w.sched_shape = {L.out_c, 1, L.kernel, L.kernel};
            w.sched_cols = 1;
        } else {
            w.perf.shape = {L.out_c, L.in_c, L.kernel, L.kernel};
            w.sched_shape = w.perf.shape;
        }
        w.weights = [keep, i] { return trace_layer_weights(*keep, i); };
        out.push_back(std::move(w));
    }
    return out;
}

std::vector<WorkLayer> model_layers(const NetworkModel& m, std::vector<std::string>& skipped) {
    std::vector<WorkLayer> out;
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        const NetworkLayer& L = m.layers[i];
        if (L.is_tensor()) continue;  // no weights
        if (L.grouped()) {
            skipped.push_back(m.layer_name(i) + " (a grouped conv: the PE array runs groups 1)");
            continue;
        }
        if (L.binary || L.w_bits != 8) {
            skipped.push_back(m.layer_name(i) + " (" + std::to_string(L.binary ? 1 : L.w_bits) + "-bit weights)");
            continue;
        }
        WorkLayer w;
        w.name = m.layer_name(i);
        w.type = L.kind == LayerKind::kConv ? "conv" : "fc";
        w.conv = L.kind == LayerKind::kConv;
        w.perf.name = w.name;
        w.perf.out_pixels = L.vectors();
        w.perf.input_elems = static_cast<std::int64_t>(L.in_c) * L.in_h * L.in_w;
        w.perf.output_elems = static_cast<std::int64_t>(L.out_c) * L.out_h() * L.out_w();
        w.perf.conv = w.conv;
        w.perf.shape = w.conv ? swis::LayerShape{L.out_c, L.in_c, L.kernel, L.kernel} : swis::LayerShape{L.out_c, L.K(), 1, 1};
        w.sched_shape = w.perf.shape;
        w.model_layer = static_cast<int>(i);
        const NetworkLayer* src = &L;
        w.weights = [src] { return src->weights; };
        double mean = 0;
        for (std::int32_t x : L.mult) mean += std::fabs(static_cast<double>(x));
        mean /= std::max(1, L.out_c);
        if (mean > 0)
            for (std::int32_t x : L.mult) w.filter_scale.push_back(std::fabs(static_cast<double>(x)) / mean);
        out.push_back(std::move(w));
    }
    return out;
}

// The class the network predicts for each test image; masks: each layer's input mask (the Act
// baseline), or empty.
std::vector<std::uint8_t> predictions_of(const NetworkModel& model, const ArchConfig& cfg, const ImageSet& test,
                                         const ImageSet& calib, bool integer, const std::vector<std::uint8_t>& masks) {
    std::vector<std::uint8_t> classes(static_cast<std::size_t>(test.count));
    if (integer) {
        const IntegerNetwork net(model, masks);
        for (int i = 0; i < test.count; ++i)
            classes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(argmax(net.logits(test.image(i))));
    } else {
        const ExecutionPlan plan =
            compile_with_reference(model, cfg, {}, calib.count ? calib.pixels.data() : nullptr, calib.count);
        NetworkReference net(plan);
        net.set_input_masks(masks);
        for (int i = 0; i < test.count; ++i)
            classes[static_cast<std::size_t>(i)] =
                static_cast<std::uint8_t>(argmax(net.logits(test.image(i), static_cast<std::uint64_t>(i))));
    }
    return classes;
}

double accuracy_of(const std::vector<std::uint8_t>& classes, const std::vector<std::uint8_t>& labels) {
    std::size_t correct = 0;
    for (std::size_t i = 0; i < classes.size(); ++i) correct += classes[i] == labels[i];
    return classes.empty() ? 0 : static_cast<double>(correct) / static_cast<double>(classes.size());
}

// Images on which the integer path is checked against NetworkReference itself.
constexpr int kCrossCheckImages = 50;

}  // namespace

bool integral_target(double target) { return std::fabs(target - std::round(target)) < kEps; }

PeAreaKind pe_area_kind(Mode m) {
    return m == Mode::kBitFusion ? PeAreaKind::kBitFusion : pe_area_kind(swis::pe_mode(m));
}

swis::PerfCosts perf_costs_at(const ArchConfig& cfg, int lanes) {
    if (lanes < 1 || lanes > swis::kMaxGroupSize)
        throw std::invalid_argument("PE lanes: expected 1.." + std::to_string(swis::kMaxGroupSize) + ", got " +
                                    std::to_string(lanes));
    swis::PerfCosts c = swis::PerfCosts::from_config(cfg);
    c.lanes = lanes;
    for (Mode m : kModes)
        if (swis::has_pe_form(m)) c.pe_pj[mode_index(m)] = pe_pj_per_cycle(cfg.pe_array, swis::pe_mode(m), lanes);
    return c;
}

int pe_lanes(Mode m, int group_size) { return m == Mode::kBitFusion ? swis::kGroupSize : group_size; }

bool iso_area_baseline(Mode m) { return m == Mode::kFxp || m == Mode::kBitFusion; }

SwisJobResult run_swis_job(const ArchConfig& cfg, const SwisJobSpec& spec) {
    const auto t0 = Clock::now();
    if (spec.trace_path.empty() == spec.model_path.empty())
        throw std::invalid_argument("cimvp swis: expected exactly one of --trace and --model");
    if (spec.targets.empty()) throw std::invalid_argument("cimvp swis: --targets: expected at least one");
    const int M = spec.group_size;
    if (M < 1 || M > swis::kMaxGroupSize)
        throw std::invalid_argument("cimvp swis: --group-size: expected 1.." + std::to_string(swis::kMaxGroupSize) +
                                    ", got " + std::to_string(M));
    // The PE array's own M: the paper's Table 4 points are for it, and Act and Wgt, whose
    // accuracy does not depend on M, are measured there only.
    const bool array_m = M == swis::kGroupSize;
    for (double t : spec.targets)
        if (!(t >= 1 && t <= 8)) throw std::invalid_argument("cimvp swis: --targets: expected values in [1, 8], got " + std::to_string(t));
    SwisJobResult r;
    r.group_size = M;
    r.costs = perf_costs_at(cfg, M);
    r.clock_ns = r.costs.clock_ns;
    r.rows = cfg.pe_array.rows;
    r.cols = cfg.pe_array.cols;
    const int rows = r.rows, cols = r.cols;
    // Each mode's array: the configured one, or for the baselines with other PEs the largest that
    // fits the configured array's area in single-shift PEs.
    const TechnologyConfig tech = effective_technology(cfg);
    r.technology = tech.name;
    r.iso_area = spec.iso_area;
    r.area_budget_um2 = static_cast<double>(rows) * cols * pe_area_um2(tech, PeAreaKind::kSingleShift, M);
    for (Mode m : kModes) {
        const int i = mode_index(m);
        r.pe_kind[i] = pe_area_kind(m);
        r.pe_lanes[i] = pe_lanes(m, M);
        r.pe_area_um2[i] = pe_area_um2(tech, r.pe_kind[i], r.pe_lanes[i]);
        if (spec.iso_area && iso_area_baseline(m) && r.pe_area_um2[i] > r.area_budget_um2)
            throw std::invalid_argument(
                "cimvp swis: pe_array.rows x cols = " + std::to_string(rows) + " x " + std::to_string(cols) +
                ": the area of that many single-shift PEs holds no " + swis::mode_name(m) + " PE (" +
                pe_area_kind_name(r.pe_kind[i]) + ", " +
                std::to_string(pe_gates(r.pe_kind[i], r.pe_lanes[i]) / pe_gates(PeAreaKind::kSingleShift, M)) +
                " single-shift PEs): expected a larger array, or --same-pes");
        r.arrays[i] = spec.iso_area && iso_area_baseline(m) ? iso_area_array(r.area_budget_um2, r.pe_area_um2[i])
                                                           : PeArrayShape{rows, cols};
    }
    const PeArrayShape fxp_array = r.arrays[mode_index(Mode::kFxp)];
    const PeArrayShape bf_array = r.arrays[mode_index(Mode::kBitFusion)];
    // BitFusion runs a layer at one precision: N rounded up to 2, 4 or 8 weight bits.
    auto bitfusion_bits = [](double n) { return swis::bitfusion_bits(static_cast<int>(std::ceil(n - kEps))); };

    std::shared_ptr<NetworkTrace> trace;
    NetworkModel model;
    std::vector<WorkLayer> layers;
    if (!spec.trace_path.empty()) {
        trace = std::make_shared<NetworkTrace>(load_trace(spec.trace_path));
        r.source = spec.trace_path;
        r.kind = "trace";
        r.network = trace->network.name;
        layers = trace_layers(*trace, r.skipped, trace);
    } else {
        model = load_model(spec.model_path);
        r.source = spec.model_path;
        r.kind = "model";
        r.network = model.name;
        layers = model_layers(model, r.skipped);
    }
    if (layers.empty()) throw std::invalid_argument(r.source + ": no layer with 8-bit weights on the PE array");
    if (spec.schedule_mode && spec.model_path.empty())
        throw std::invalid_argument("cimvp swis: --schedule-out: expected --model (a trace's weights are drawn)");
    if (spec.schedule_mode && spec.targets.size() != 1)
        throw std::invalid_argument("cimvp swis: --schedule-out: expected exactly one --targets value, got " +
                                    std::to_string(spec.targets.size()));
    for (WorkLayer& L : layers) {
        if (L.sched_cols != 1) L.sched_cols = cols;
        L.sched_shape.group_size = M;
        L.perf.shape.group_size = M;  // the PEs' lanes
    }

    // Per-filter costs at every N, both variants: computed once, every schedule below reuses them.
    Progress progress(spec.progress, static_cast<int>(layers.size()), "layers");
    for (std::size_t i = 0; i < layers.size(); ++i) {
        WorkLayer& L = layers[i];
        const std::vector<std::int8_t> w = L.weights();
        L.costs[0] = swis::filter_costs(w, L.sched_shape, swis::Variant::kSwis, spec.alpha);
        L.costs[1] = swis::filter_costs(w, L.sched_shape, swis::Variant::kSwisC, spec.alpha);
        if (!L.filter_scale.empty() && spec.scale_by_mult)
            for (auto& c : L.costs) swis::scale_costs(c, L.filter_scale);
        progress.update(static_cast<int>(i) + 1, L.name);
    }

    auto uniform = [](const WorkLayer& L, int n, int cols_) { return std::vector<int>(L.perf.tiles(cols_), n); };

    if (spec.schedule_mode) {
        const Mode mode = *spec.schedule_mode;
        const int m = mode_index(mode);
        if (!swis::is_swis(mode))
            throw std::invalid_argument(std::string("cimvp swis: --schedule-mode: expected SS, DS, C-SS or C-DS, got ") +
                                        swis::mode_name(mode));
        r.model_layers = static_cast<int>(model.layers.size());
        for (const WorkLayer& L : layers) {
            const Schedules s = schedules_at(L, spec.targets[0]);
            if (!s.ok[m])
                throw std::invalid_argument(std::string("cimvp swis: --schedule-out: ") + swis::mode_name(mode) +
                                            " has no schedule at N = " + format_number(spec.targets[0]) +
                                            " (double shift: even counts, N >= 2)");
            r.schedule.push_back({L.model_layer, L.name, s.s[m].mean_n, s.s[m].filter_n});
        }
    }

    for (double target : spec.targets) {
        SwisTargetReport rep;
        rep.target = target;
        for (const WorkLayer& L : layers) {
            const Schedules s = schedules_at(L, target);
            SwisLayerRow row;
            row.name = L.name;
            row.type = L.type;
            row.conv = L.conv;
            row.macs = L.perf.macs();
            row.weights = static_cast<std::int64_t>(L.sched_shape.filters) * L.sched_shape.K();
            for (int m = 0; m < 4; ++m) {
                if (!s.ok[m]) {
                    row.modes[m].mean_shifts = kNaN;
                    continue;
                }
                row.modes[m] = figures(L, s.s[m].group_n, kModes[m], s.s[m].mean_n, r.costs, rows, cols);
            }
            // Act and Wgt: N bits everywhere, or (fractional targets) the SS schedule's per-tile N.
            const std::vector<int> tn = integral_target(target) ? uniform(L, static_cast<int>(std::round(target)), cols)
                                                         : s.s[0].group_n;
            for (Mode m : {Mode::kAct, Mode::kWgt})
                row.modes[mode_index(m)] = figures(L, tn, m, mean_of(tn, L, cols), r.costs, rows, cols);
            const int bf_bits = bitfusion_bits(target);
            row.modes[mode_index(Mode::kBitFusion)] = figures(L, uniform(L, bf_bits, bf_array.cols), Mode::kBitFusion,
                                                              bf_bits, r.costs, bf_array.rows, bf_array.cols);
            row.modes[mode_index(Mode::kFxp)] = figures(L, {}, Mode::kFxp, 8, r.costs, fxp_array.rows, fxp_array.cols);
            add_to(rep.all, row.modes, row.macs, row.weights);
            if (row.conv) add_to(rep.conv, row.modes, row.macs, row.weights);
            rep.layers.push_back(std::move(row));
        }
        r.targets.push_back(std::move(rep));
    }

    // Baselines at every bit count, convolutions only (the paper's scope).
    for (int bits = 1; bits <= swis::kShiftPositions; ++bits)
        for (const WorkLayer& L : layers) {
            if (!L.conv) continue;
            SwisModeRow row;
            row[mode_index(Mode::kAct)] = figures(L, uniform(L, bits, cols), Mode::kAct, bits, r.costs, rows, cols);
            row[mode_index(Mode::kWgt)] = figures(L, uniform(L, bits, cols), Mode::kWgt, bits, r.costs, rows, cols);
            const std::int64_t weights = static_cast<std::int64_t>(L.sched_shape.filters) * L.sched_shape.K();
            add_to(r.act[bits - 1], row, L.perf.macs(), weights);
            add_to(r.wgt[bits - 1], row, L.perf.macs(), weights);
            if (bits == 1) {
                row[mode_index(Mode::kFxp)] = figures(L, {}, Mode::kFxp, 8, r.costs, fxp_array.rows, fxp_array.cols);
                add_to(r.fxp, row, L.perf.macs(), weights);
            }
        }

    // The paper's Table 4 points for this network, on our array.
    if (const SwisPaperNetwork* pn = array_m ? swis_paper_table4(r.network) : nullptr) {
        r.paper_network = pn->paper;
        for (const SwisPaperRow& pr : pn->rows) {
            SwisPaperPoint pt;
            pt.accuracy = pr.accuracy;
            for (int m = 0; m < kModeCount; ++m) {
                SwisPointFigures& f = pt.modes[m];
                f.shifts = pr.s[m];
                f.paper_fps = pr.fps[m];
                f.paper_fpj = pr.fpj[m];
                if (std::isnan(f.shifts)) continue;
                swis::LayerPerf total;
                for (const WorkLayer& L : layers) {
                    if (!L.conv) continue;
                    const Mode mode = kModes[m];
                    if (m < 4) {
                        total += figures(L, schedules_at(L, f.shifts).s[m].group_n, mode, 0, r.costs, rows, cols).perf;
                    } else if (mode == Mode::kFxp) {
                        total += figures(L, {}, mode, 0, r.costs, fxp_array.rows, fxp_array.cols).perf;
                    } else if (mode == Mode::kBitFusion) {
                        total += figures(L, uniform(L, bitfusion_bits(f.shifts), bf_array.cols), mode, 0, r.costs,
                                         bf_array.rows, bf_array.cols)
                                     .perf;
                    } else {
                        total += figures(L, uniform(L, static_cast<int>(f.shifts), cols), mode, 0, r.costs, rows, cols).perf;
                    }
                }
                f.fps = total.frames_per_second(r.clock_ns);
                f.fpj = total.frames_per_joule();
            }
            r.paper_points.push_back(pt);
        }
    }

    // Accuracy: post-training SWIS and weight truncation through the network reference.
    if (!spec.model_path.empty() && spec.accuracy) {
        ImageSet test;
        try {
            if (model.in_c != 1 || model.in_bits != 8)
                throw DatasetError("the model's input is not 1 channel of 8-bit pixels (an IDX data set)");
            test = load_idx_dataset(spec.data_dir, "t10k", spec.limit);
            if (test.height != model.in_h || test.width != model.in_w)
                throw DatasetError("the data set's images are not the model's input size");
        } catch (const DatasetError& e) {
            r.accuracy_note = std::string("no accuracy: ") + e.what();
        }
        if (test.count > 0) {
            check_model_fits(model, cfg);
            ImageSet calib;
            if (needs_calibration(model, cfg))
                calib = load_idx_dataset(spec.data_dir, "train", kCalibrationImages);
            r.has_accuracy = true;
            r.accuracy_modes = spec.accuracy_modes;
            r.images = test.count;
            const bool integer = IntegerNetwork::applies(model, cfg);
            r.accuracy_method = integer ? "integer" : "reference";
            if (integer) {
                // The integer path must be the reference: check it image by image on the first images.
                const ExecutionPlan plan =
                    compile_with_reference(model, cfg, {}, calib.count ? calib.pixels.data() : nullptr, calib.count);
                const NetworkReference ref(plan);
                const IntegerNetwork direct(model);
                for (int i = 0; i < std::min(test.count, kCrossCheckImages); ++i)
                    if (ref.logits(test.image(i), static_cast<std::uint64_t>(i)) != direct.logits(test.image(i)))
                        throw std::logic_error("cimvp swis: the integer network disagrees with NetworkReference on image " +
                                               std::to_string(i));
                r.cross_checked = std::min(test.count, kCrossCheckImages);
            }
            // Every variant of the network first, then their accuracies in parallel.
            struct Run {
                std::size_t row;
                int mode;  // -1: int8
                NetworkModel net;
                std::vector<std::uint8_t> masks;  // Act: the PE-array layers' input masks
                std::vector<std::uint8_t> classes{};  // per test image
            };
            std::vector<Run> runs;
            runs.push_back({0, -1, model, {}});
            for (std::size_t t = 0; t < spec.targets.size(); ++t) {
                const double target = spec.targets[t];
                SwisAccuracyRow row;
                row.target = target;
                r.accuracy.push_back(row);
                for (int m = 0; m < 4; ++m) {
                    const Mode mode = kModes[m];
                    NetworkModel variant = model;
                    bool ok = true;
                    std::int64_t int8_bits = 0, swis_bits = 0;
                    for (const WorkLayer& L : layers) {
                        const Schedules s = schedules_at(L, target);
                        if (!s.ok[m]) {
                            ok = false;
                            break;
                        }
                        NetworkLayer& NL = variant.layers[L.model_layer];
                        const swis::DecomposedLayer d = swis::decompose_layer(NL.weights, L.sched_shape, s.s[m].filter_n,
                                                                              swis::mode_variant(mode), spec.alpha);
                        NL.weights = d.weights();
                        int8_bits += 8 * static_cast<std::int64_t>(NL.weights.size());
                        swis_bits += swis::layer_storage_bits(d);
                    }
                    if (ok) {
                        r.accuracy.back().compression[m] = static_cast<double>(int8_bits) / static_cast<double>(swis_bits);
                        if (spec.accuracy_modes[m]) runs.push_back({t, m, std::move(variant), {}});
                    }
                }
                const int wgt = mode_index(Mode::kWgt), act = mode_index(Mode::kAct);
                if (integral_target(target) && array_m) {  // Wgt and Act do not depend on M
                    if (spec.accuracy_modes[wgt]) {
                        NetworkModel variant = model;
                        for (const WorkLayer& L : layers) {
                            NetworkLayer& NL = variant.layers[L.model_layer];
                            NL.weights = swis::truncate_weights(NL.weights, static_cast<int>(std::round(target)));
                        }
                        runs.push_back({t, wgt, std::move(variant), {}});
                    }
                    if (spec.accuracy_modes[act]) {
                        // Act: the weights whole, the PE-array layers' inputs at their top N bits
                        std::vector<std::uint8_t> masks(model.layers.size(), 0xFF);
                        for (const WorkLayer& L : layers)
                            masks[static_cast<std::size_t>(L.model_layer)] = swis::activation_truncation_mask(
                                model.layers[static_cast<std::size_t>(L.model_layer)].a_in_bits,
                                static_cast<int>(std::round(target)));
                        runs.push_back({t, act, model, std::move(masks)});
                    }
                }
            }
            Progress acc_progress(spec.progress, static_cast<int>(runs.size()), "accuracy runs");
            std::atomic<int> done{0};
            parallel_for(runs.size(), [&](std::size_t i) {
                runs[i].classes = predictions_of(runs[i].net, cfg, test, calib, integer, runs[i].masks);
                acc_progress.update(++done);
            });
            r.labels.assign(test.labels.begin(), test.labels.begin() + test.count);
            for (Run& run : runs) {
                const double accuracy = accuracy_of(run.classes, r.labels);
                if (run.mode < 0) {
                    r.int8_accuracy = accuracy;
                    r.int8_predictions = std::move(run.classes);
                } else {
                    r.accuracy[run.row].accuracy[run.mode] = accuracy;
                    r.accuracy[run.row].predictions[run.mode] = std::move(run.classes);
                }
            }
        }
    } else if (!spec.model_path.empty()) {
        r.accuracy_note = "accuracy not requested";
    }
    r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
}

}  // namespace cimvp
