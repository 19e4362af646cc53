#include "sw/app/swis_job.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <thread>

#include "sw/formats/config_loader.h"
#include "sw/formats/model_file.h"
#include "sw/reference/network_reference.h"
#include "sw/reference/reference.h"
#include "sw/formats/trace_file.h"

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

bool integral(double t) { return std::fabs(t - std::round(t)) < kEps; }

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

double fps(const swis::LayerPerf& p, double clock_ns) {
    return p.cycles ? 1e9 / (static_cast<double>(p.cycles) * clock_ns) : 0;
}
double fpj(const swis::LayerPerf& p) { return p.energy_pj() > 0 ? 1e12 / p.energy_pj() : 0; }

// The paper's Table 4 (Li et al., arXiv 2103.01308): shifts S, frames/J, frames/s per
// mode (SS, DS, C-SS, C-DS, Act, Wgt, FXP) at two accuracy points per network.
struct PaperRow {
    const char* accuracy;
    double s[kModeCount], fpj[kModeCount], fps[kModeCount];
};
struct PaperNetwork {
    const char* name;  // our trace's network name
    const char* paper;
    PaperRow rows[2];
};
const PaperNetwork kPaperTable4[] = {
    {"resnet18",
     "ResNet-18 ImageNet",
     {{">69.1%", {3, 4, 4, 4, 7, 6, 8}, {317.8, 292.5, 326.3, 353.6, 215.8, 230.7, 238.5}, {28.6, 42.9, 21.4, 42.9, 12.2, 14.3, 23.2}},
      {">60.2%", {2, 2, 2, 2, 6, 4, kNaN}, {390.8, 416.5, 410.6, 439.1, 230.7, 267.7, 0}, {42.9, 85.7, 42.9, 85.7, 14.3, 21.4, 0}}}},
    {"mobilenet_v2",
     "MobileNet-v2 ImageNet",
     {{">68.0%", {5, 5, 5, 6, 7, 6, 8}, {475.6, 490.0, 496.3, 495.8, 456.1, 466.1, 391.2}, {4.0, 8.0, 4.0, 6.7, 2.9, 3.3, 6.1}},
      {">60.3%", {3.5, 4, 4, 4, 6, 5, kNaN}, {511.4, 511.6, 515.8, 529.4, 466.1, 476.6, 0}, {5.7, 10.0, 10.0, 10.0, 3.3, 4.0, 0}}}},
    {"vgg16",
     "VGG-16 CIFAR-100 (our trace: ImageNet)",
     {{">64.1%", {3, 4, 4, 4, 7, 6, 8}, {763.6, 626.5, 815.1, 843.5, 553.0, 569.5, 522.3}, {124.7, 187.1, 93.5, 187.1, 53.4, 62.4, 94}},
      {">62.5%", {2.5, 2.5, 3, 3, 6, 4, kNaN}, {878.2, 905.6, 942.1, 980.3, 569.5, 605.6, 0}, {149.7, 299.3, 124.7, 299.3, 62.4, 93.5, 0}}}},
};

class Progress {
public:
    Progress(bool on, int total) : on_(on && isatty(STDERR_FILENO)), total_(total) {}
    void update(int done, const std::string& what) {
        if (!on_) return;
        std::fprintf(stderr, "\r%-60s", (std::to_string(done) + "/" + std::to_string(total_) + " " + what).c_str());
        if (done == total_) std::fputc('\n', stderr);
        std::fflush(stderr);
    }

private:
    bool on_;
    int total_;
};

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
            w.perf.shape = {L.out_c, L.K(), 1, 1};
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

// The network as NetworkReference computes it when every layer's ADC is lossless and
// the devices are ideal: the exact integer matrix product, then the reference's own
// post-processing and pooling. Orders of magnitude faster than running the crossbars.
class IntegerNetwork {
public:
    explicit IntegerNetwork(const NetworkModel& m) : model_(m) {}
    // Whether NetworkReference computes exactly this for `model` on `cfg`.
    static bool applies(const NetworkModel& model, const ArchConfig& cfg) {
        if (cfg.nonideal.enabled()) return false;
        for (const NetworkLayer& L : model.layers)
            if (L.has_adc_tables || !L.col_mult.empty() || !adc_is_lossless(LayerMapping::make(L.matrix(""), cfg), cfg))
                return false;
        return true;
    }
    std::vector<std::int64_t> logits(const std::uint8_t* image) const {
        std::vector<std::uint8_t> x(image, image + model_.image_bytes());
        for (const NetworkLayer& L : model_.layers) {
            const std::vector<std::uint8_t> vecs = NetworkReference::layer_vectors(L, x.data());
            const int n = L.vectors(), K = L.K(), M = L.M();
            std::vector<std::int64_t> acc(static_cast<std::size_t>(n) * M), sx(n, 0);
            // |sum| <= 255 * 128 * K: 32-bit sums while that fits.
            const bool narrow = static_cast<std::int64_t>(K) * 255 * 128 < (std::int64_t{1} << 31);
            for (int v = 0; v < n; ++v) {
                const std::uint8_t* xv = &vecs[static_cast<std::size_t>(v) * K];
                for (int k = 0; k < K; ++k) sx[v] += xv[k];
                for (int m = 0; m < M; ++m) {
                    const std::int8_t* wm = &L.weights[static_cast<std::size_t>(m) * K];
                    std::int64_t a = 0;
                    if (narrow) {
                        std::int32_t a32 = 0;
                        for (int k = 0; k < K; ++k) a32 += static_cast<std::int32_t>(xv[k]) * wm[k];
                        a = a32;
                    } else {
                        for (int k = 0; k < K; ++k) a += static_cast<std::int64_t>(xv[k]) * wm[k];
                    }
                    acc[static_cast<std::size_t>(v) * M + m] = a;
                }
            }
            if (!L.relu) return NetworkReference::last_output(L, acc.data(), sx[0]);
            x = NetworkReference::hidden_output(L, acc.data(), sx.data());
        }
        return {};
    }

private:
    const NetworkModel& model_;
};

double accuracy_of(const NetworkModel& model, const ArchConfig& cfg, const ImageSet& test, const ImageSet& calib,
                   bool integer) {
    int correct = 0;
    if (integer) {
        const IntegerNetwork net(model);
        for (int i = 0; i < test.count; ++i) correct += argmax(net.logits(test.image(i))) == test.labels[i];
    } else {
        const ExecutionPlan plan =
            compile_with_reference(model, cfg, {}, calib.count ? calib.pixels.data() : nullptr, calib.count);
        const NetworkReference net(plan);
        for (int i = 0; i < test.count; ++i)
            correct += argmax(net.logits(test.image(i), static_cast<std::uint64_t>(i))) == test.labels[i];
    }
    return test.count ? static_cast<double>(correct) / test.count : 0;
}

// Images on which the integer path is checked against NetworkReference itself.
constexpr int kCrossCheckImages = 50;

}  // namespace

SwisJobResult run_swis_job(const ArchConfig& cfg, const SwisJobSpec& spec) {
    const auto t0 = Clock::now();
    if (spec.trace_path.empty() == spec.model_path.empty())
        throw std::invalid_argument("cimvp swis: expected exactly one of --trace and --model");
    if (spec.targets.empty()) throw std::invalid_argument("cimvp swis: --targets: expected at least one");
    for (double t : spec.targets)
        if (!(t >= 1 && t <= 8)) throw std::invalid_argument("cimvp swis: --targets: expected values in [1, 8], got " + std::to_string(t));
    SwisJobResult r;
    r.costs = swis::PerfCosts::from_config(cfg);
    r.clock_ns = r.costs.clock_ns;
    r.rows = cfg.pe_array.rows;
    r.cols = cfg.pe_array.cols;
    const int rows = r.rows, cols = r.cols;

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
    for (WorkLayer& L : layers)
        if (L.sched_cols != 1) L.sched_cols = cols;

    // Per-filter costs at every N, both variants: computed once, every schedule below reuses them.
    Progress progress(spec.progress, static_cast<int>(layers.size()));
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
            const std::vector<int> tn = integral(target) ? uniform(L, static_cast<int>(std::round(target)), cols)
                                                         : s.s[0].group_n;
            for (Mode m : {Mode::kAct, Mode::kWgt})
                row.modes[mode_index(m)] = figures(L, tn, m, mean_of(tn, L, cols), r.costs, rows, cols);
            row.modes[mode_index(Mode::kFxp)] = figures(L, {}, Mode::kFxp, 8, r.costs, rows, cols);
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
                row[mode_index(Mode::kFxp)] = figures(L, {}, Mode::kFxp, 8, r.costs, rows, cols);
                add_to(r.fxp, row, L.perf.macs(), weights);
            }
        }

    // The paper's Table 4 points for this network, on our array.
    for (const PaperNetwork& pn : kPaperTable4) {
        if (r.network != pn.name) continue;
        r.paper_network = pn.paper;
        for (const PaperRow& pr : pn.rows) {
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
                        total += figures(L, {}, mode, 0, r.costs, rows, cols).perf;
                    } else {
                        total += figures(L, uniform(L, static_cast<int>(f.shifts), cols), mode, 0, r.costs, rows, cols).perf;
                    }
                }
                f.fps = fps(total, r.clock_ns);
                f.fpj = fpj(total);
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
                double accuracy = 0;
            };
            std::vector<Run> runs;
            runs.push_back({0, -1, model});
            for (std::size_t t = 0; t < spec.targets.size(); ++t) {
                const double target = spec.targets[t];
                SwisAccuracyRow row;
                row.target = target;
                r.accuracy.push_back(row);
                for (int m = 0; m < 4; ++m) {
                    const Mode mode = kModes[m];
                    NetworkModel variant = model;
                    bool ok = true;
                    for (const WorkLayer& L : layers) {
                        const Schedules s = schedules_at(L, target);
                        if (!s.ok[m]) {
                            ok = false;
                            break;
                        }
                        NetworkLayer& NL = variant.layers[L.model_layer];
                        NL.weights = swis::decompose_layer(NL.weights, L.sched_shape, s.s[m].filter_n,
                                                           swis::mode_variant(mode), spec.alpha)
                                         .weights();
                    }
                    if (ok) runs.push_back({t, m, std::move(variant)});
                }
                if (integral(target)) {
                    NetworkModel variant = model;
                    for (const WorkLayer& L : layers) {
                        NetworkLayer& NL = variant.layers[L.model_layer];
                        NL.weights = swis::truncate_weights(NL.weights, static_cast<int>(std::round(target)));
                    }
                    runs.push_back({t, mode_index(Mode::kWgt), std::move(variant)});
                }
            }
            std::atomic<std::size_t> next{0};
            std::atomic<int> done{0};
            Progress acc_progress(spec.progress, static_cast<int>(runs.size()));
            auto worker = [&] {
                for (std::size_t i = next++; i < runs.size(); i = next++) {
                    runs[i].accuracy = accuracy_of(runs[i].net, cfg, test, calib, integer);
                    acc_progress.update(++done, "accuracy runs");
                }
            };
            const unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                                                      static_cast<unsigned>(runs.size())));
            std::vector<std::thread> pool;
            for (unsigned i = 1; i < threads; ++i) pool.emplace_back(worker);
            worker();
            for (auto& th : pool) th.join();
            for (const Run& run : runs) {
                if (run.mode < 0) r.int8_accuracy = run.accuracy;
                else r.accuracy[run.row].accuracy[run.mode] = run.accuracy;
            }
        }
    } else if (!spec.model_path.empty()) {
        r.accuracy_note = "accuracy not requested";
    }
    r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
}

namespace {

std::string num(double v, const char* fmt = "%.2f") {
    if (std::isnan(v)) return "-";
    char b[64];
    std::snprintf(b, sizeof b, fmt, v);
    return b;
}

void print_totals(std::FILE* out, const char* label, const SwisTotals& t, double clock_ns) {
    std::fprintf(out, "  %s: %.3f GMAC\n", label, t.macs / 1e9);
    std::fprintf(out, "    %-12s", "");
    for (Mode m : kModes) std::fprintf(out, "%12s", swis::mode_name(m));
    std::fprintf(out, "\n    %-12s", "mean N");
    for (Mode m : kModes) std::fprintf(out, "%12s", num(t.modes[mode_index(m)].mean_shifts).c_str());
    std::fprintf(out, "\n    %-12s", "Mcycles");
    for (Mode m : kModes) std::fprintf(out, "%12s", num(t.modes[mode_index(m)].perf.cycles / 1e6, "%.3f").c_str());
    std::fprintf(out, "\n    %-12s", "frames/s");
    for (Mode m : kModes) std::fprintf(out, "%12s", num(fps(t.modes[mode_index(m)].perf, clock_ns), "%.1f").c_str());
    std::fprintf(out, "\n    %-12s", "energy uJ");
    for (Mode m : kModes) std::fprintf(out, "%12s", num(t.modes[mode_index(m)].perf.energy_pj() / 1e6, "%.1f").c_str());
    std::fprintf(out, "\n    %-12s", "frames/J");
    for (Mode m : kModes) std::fprintf(out, "%12s", num(fpj(t.modes[mode_index(m)].perf), "%.1f").c_str());
    std::fprintf(out, "\n    %-12s", "weights KiB");
    for (Mode m : kModes)
        std::fprintf(out, "%12s", num(t.modes[mode_index(m)].perf.weight_storage_bytes / 1024, "%.1f").c_str());
    std::fprintf(out, "\n");
}

}  // namespace

void print_swis_report(const SwisJobResult& r, std::FILE* out) {
    std::fprintf(out, "SWIS report: %s %s (%s), %dx%d PE array of %d-weight groups, clock %.3g ns\n", r.kind.c_str(),
                 r.source.c_str(), r.network.c_str(), r.rows, r.cols, swis::kGroupSize, r.clock_ns);
    std::fprintf(out, "energy per busy PE cycle (pJ): SS %.3g, DS %.3g, Act/Wgt %.3g, FXP %.3g; buffers %.3g pJ/B, "
                      "DRAM %.3g pJ/B\n",
                 r.costs.pe_pj[mode_index(Mode::kSS)], r.costs.pe_pj[mode_index(Mode::kDS)],
                 r.costs.pe_pj[mode_index(Mode::kAct)], r.costs.pe_pj[mode_index(Mode::kFxp)], r.costs.sram_pj_per_byte,
                 r.costs.dram_pj_per_byte);
    for (const auto& s : r.skipped) std::fprintf(out, "not on the PE array: %s\n", s.c_str());
    for (const SwisTargetReport& t : r.targets) {
        std::fprintf(out, "\nN = %g (target mean shifts; Act/Wgt bits%s)\n", t.target,
                     integral(t.target) ? "" : ": the SS schedule's per-tile N");
        std::fprintf(out, "  %-22s %9s %5s %5s %5s %5s |", "layer", "MMAC", "SS", "DS", "C-SS", "C-DS");
        for (Mode m : kModes) std::fprintf(out, " %9s", swis::mode_name(m));
        std::fprintf(out, " | kcycles; energy uJ below\n");
        for (const SwisLayerRow& l : t.layers) {
            std::fprintf(out, "  %-22s %9.2f", l.name.c_str(), l.macs / 1e6);
            for (int m = 0; m < 4; ++m) std::fprintf(out, " %5s", num(l.modes[m].mean_shifts).c_str());
            std::fprintf(out, " |");
            for (Mode m : kModes) std::fprintf(out, " %9s", num(l.modes[mode_index(m)].perf.cycles / 1e3, "%.1f").c_str());
            std::fprintf(out, "\n  %-22s %9s %23s |", "", "", "");
            for (Mode m : kModes) std::fprintf(out, " %9s", num(l.modes[mode_index(m)].perf.energy_pj() / 1e6, "%.2f").c_str());
            std::fprintf(out, "\n");
        }
        print_totals(out, "total, every layer on the array", t.all, r.clock_ns);
        print_totals(out, "total, convolutions only (the paper's scope)", t.conv, r.clock_ns);
        auto ratio = [&](Mode a, Mode b) {
            return static_cast<double>(t.conv.modes[mode_index(b)].perf.cycles) /
                   static_cast<double>(std::max<std::uint64_t>(1, t.conv.modes[mode_index(a)].perf.cycles));
        };
        std::fprintf(out, "    speedup at equal N (conv): DS/Act %.2fx, SS/Act %.2fx, DS/FXP %.2fx; energy DS vs Act %.2fx\n",
                     ratio(Mode::kDS, Mode::kAct), ratio(Mode::kSS, Mode::kAct), ratio(Mode::kDS, Mode::kFxp),
                     t.conv.modes[mode_index(Mode::kAct)].perf.energy_pj() /
                         std::max(1e-9, t.conv.modes[mode_index(Mode::kDS)].perf.energy_pj()));
    }
    if (!r.paper_points.empty()) {
        std::fprintf(out, "\nThe paper's Table 4 operating points (%s; accuracy as the paper measured it), convolutions only:\n",
                     r.paper_network.c_str());
        for (const SwisPaperPoint& p : r.paper_points) {
            std::fprintf(out, "  %s\n    %-16s", p.accuracy.c_str(), "");
            for (Mode m : kModes) std::fprintf(out, "%10s", swis::mode_name(m));
            std::fprintf(out, "\n    %-16s", "S");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", num(f.shifts, "%g").c_str());
            std::fprintf(out, "\n    %-16s", "frames/s ours");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", std::isnan(f.shifts) ? "-" : num(f.fps, "%.1f").c_str());
            std::fprintf(out, "\n    %-16s", "frames/s paper");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", f.paper_fps > 0 ? num(f.paper_fps, "%.1f").c_str() : "-");
            std::fprintf(out, "\n    %-16s", "x Act ours");
            const auto& act = p.modes[mode_index(Mode::kAct)];
            for (const auto& f : p.modes)
                std::fprintf(out, "%10s", std::isnan(f.shifts) ? "-" : num(f.fps / act.fps, "%.2f").c_str());
            std::fprintf(out, "\n    %-16s", "x Act paper");
            for (const auto& f : p.modes)
                std::fprintf(out, "%10s", f.paper_fps > 0 ? num(f.paper_fps / act.paper_fps, "%.2f").c_str() : "-");
            std::fprintf(out, "\n    %-16s", "frames/J ours");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", std::isnan(f.shifts) ? "-" : num(f.fpj, "%.1f").c_str());
            std::fprintf(out, "\n    %-16s", "frames/J paper");
            for (const auto& f : p.modes) std::fprintf(out, "%10s", f.paper_fpj > 0 ? num(f.paper_fpj, "%.1f").c_str() : "-");
            std::fprintf(out, "\n");
        }
    }
    if (r.has_accuracy) {
        std::fprintf(out, "\nAccuracy on %d test images (post-training; %s): int8 %.2f%%\n", r.images,
                     r.accuracy_method == "integer"
                         ? ("lossless ADC: the reference's exact integer arithmetic, checked against NetworkReference on " +
                            std::to_string(r.cross_checked) + " images")
                               .c_str()
                         : "C++ network reference",
                     100 * r.int8_accuracy);
        std::fprintf(out, "  %-6s %8s %8s %8s %8s %8s\n", "N", "SS", "DS", "C-SS", "C-DS", "Wgt");
        for (const SwisAccuracyRow& a : r.accuracy) {
            std::fprintf(out, "  %-6g", a.target);
            for (Mode m : {Mode::kSS, Mode::kDS, Mode::kCSS, Mode::kCDS, Mode::kWgt}) {
                const auto& v = a.accuracy[mode_index(m)];
                std::fprintf(out, " %8s", v ? num(100 * *v).c_str() : "-");
            }
            std::fprintf(out, "\n");
        }
    } else if (!r.accuracy_note.empty()) {
        std::fprintf(out, "\n%s\n", r.accuracy_note.c_str());
    }
    std::fprintf(out, "wall time %.2f s\n", r.wall_s);
}

namespace {

nlohmann::json perf_json(const SwisModeFigures& f, double clock_ns) {
    const auto& p = f.perf;
    nlohmann::json j = {{"mean_shifts", std::isnan(f.mean_shifts) ? nlohmann::json(nullptr) : nlohmann::json(f.mean_shifts)},
                        {"cycles", p.cycles},
                        {"pe_cycles", p.pe_cycles},
                        {"energy_pj",
                         {{"total", p.energy_pj()}, {"pe", p.pe_pj}, {"buffers", p.sram_pj}, {"dram", p.dram_pj}}},
                        {"buffer_bytes",
                         {{"activations", p.act_buffer_bytes}, {"weights", p.weight_buffer_bytes}, {"outputs", p.output_buffer_bytes}}},
                        {"dram_bytes", p.dram_bytes},
                        {"weight_storage_bytes", p.weight_storage_bytes}};
    if (p.cycles) {
        j["frames_per_second"] = fps(p, clock_ns);
        j["frames_per_joule"] = fpj(p);
    }
    return j;
}

nlohmann::json row_json(const SwisModeRow& row, double clock_ns) {
    nlohmann::json j = nlohmann::json::object();
    for (Mode m : kModes) j[swis::mode_name(m)] = perf_json(row[mode_index(m)], clock_ns);
    return j;
}

}  // namespace

nlohmann::json swis_job_to_json(const SwisJobResult& r, const ArchConfig& cfg, const SwisJobSpec& spec) {
    nlohmann::json targets = nlohmann::json::array();
    for (const SwisTargetReport& t : r.targets) {
        nlohmann::json layers = nlohmann::json::array();
        for (const SwisLayerRow& l : t.layers)
            layers.push_back({{"name", l.name},
                              {"type", l.type},
                              {"conv", l.conv},
                              {"macs", l.macs},
                              {"weights", l.weights},
                              {"mapped_to", "pe_array"},
                              {"modes", row_json(l.modes, r.clock_ns)}});
        targets.push_back({{"n", t.target},
                           {"layers", layers},
                           {"total", {{"macs", t.all.macs}, {"weights", t.all.weights}, {"modes", row_json(t.all.modes, r.clock_ns)}}},
                           {"total_conv",
                            {{"macs", t.conv.macs}, {"weights", t.conv.weights}, {"modes", row_json(t.conv.modes, r.clock_ns)}}}});
    }
    nlohmann::json baselines = nlohmann::json::array();
    for (int b = 0; b < swis::kShiftPositions; ++b)
        baselines.push_back({{"bits", b + 1},
                             {"Act", perf_json(r.act[b].modes[mode_index(Mode::kAct)], r.clock_ns)},
                             {"Wgt", perf_json(r.wgt[b].modes[mode_index(Mode::kWgt)], r.clock_ns)}});
    nlohmann::json points = nlohmann::json::array();
    for (const SwisPaperPoint& p : r.paper_points) {
        nlohmann::json modes = nlohmann::json::object();
        for (Mode m : kModes) {
            const auto& f = p.modes[mode_index(m)];
            if (std::isnan(f.shifts)) continue;
            modes[swis::mode_name(m)] = {{"shifts", f.shifts},
                                         {"frames_per_second", f.fps},
                                         {"frames_per_joule", f.fpj},
                                         {"paper_frames_per_second", f.paper_fps},
                                         {"paper_frames_per_joule", f.paper_fpj}};
        }
        points.push_back({{"accuracy", p.accuracy}, {"modes", modes}});
    }
    nlohmann::json acc = nullptr;
    if (r.has_accuracy) {
        nlohmann::json rows = nlohmann::json::array();
        for (const SwisAccuracyRow& a : r.accuracy) {
            nlohmann::json row = {{"n", a.target}};
            for (Mode m : {Mode::kSS, Mode::kDS, Mode::kCSS, Mode::kCDS, Mode::kWgt}) {
                const auto& v = a.accuracy[mode_index(m)];
                row[swis::mode_name(m)] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
            }
            rows.push_back(row);
        }
        acc = {{"images", r.images},
               {"method", r.accuracy_method},
               {"cross_checked_images", r.cross_checked},
               {"int8", r.int8_accuracy},
               {"rows", rows}};
    }
    nlohmann::json storage = nlohmann::json::array();
    for (int n = 1; n <= swis::kShiftPositions; ++n)
        storage.push_back({{"n", n},
                           {"swis_bits", swis::group_storage_bits(n, swis::Variant::kSwis)},
                           {"swis_c_bits", swis::group_storage_bits(n, swis::Variant::kSwisC)},
                           {"int8_bits", 8 * swis::kGroupSize}});
    return {{"source", r.source},
            {"kind", r.kind},
            {"network", r.network},
            {"array", {{"rows", r.rows}, {"cols", r.cols}, {"group_size", swis::kGroupSize}, {"clock_ns", r.clock_ns}}},
            {"alpha", spec.alpha},
            {"pe_pj_per_cycle",
             {{"SS", r.costs.pe_pj[mode_index(Mode::kSS)]},
              {"DS", r.costs.pe_pj[mode_index(Mode::kDS)]},
              {"Act", r.costs.pe_pj[mode_index(Mode::kAct)]},
              {"FXP", r.costs.pe_pj[mode_index(Mode::kFxp)]}}},
            {"buffer_pj_per_byte", r.costs.sram_pj_per_byte},
            {"dram_pj_per_byte", r.costs.dram_pj_per_byte},
            {"skipped", r.skipped},
            {"targets", targets},
            {"baselines_conv", baselines},
            {"fxp_conv", perf_json(r.fxp.modes[mode_index(Mode::kFxp)], r.clock_ns)},
            {"paper_network", r.paper_network},
            {"paper_points", points},
            {"accuracy", acc},
            {"accuracy_note", r.accuracy_note},
            {"group_storage_bits", storage},
            {"wall_seconds", r.wall_s},
            {"config", config_to_json(cfg)}};
}

}  // namespace cimvp
