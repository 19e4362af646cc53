// `cimvp swis`: the SWIS comparison report (docs/swis.md). For a layer-shape
// trace (weights drawn from its data record) or a model file (its int8
// layers' weights): every layer scheduled per SWIS mode at each target mean
// shift count, and the analytic cycles, frames/s and energy of SS, DS, C-SS,
// C-DS, Act, Wgt, BitFusion and FXP on the PE array (sw/contract/swis_perf.h), the
// baselines with larger PEs at equal area by default; with a model and
// its data set, the accuracy of post-training SWIS and of weight truncation
// through the C++ network reference. No SystemC. Printing and JSON: swis_report.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "hw/cost_model.h"
#include "sw/formats/idx_dataset.h"
#include "sw/contract/swis_perf.h"

namespace cimvp {

// The modes whose accuracy a job with a model measures, in the report's order.
inline constexpr swis::Mode kAccuracyModes[] = {swis::Mode::kSS,   swis::Mode::kDS,  swis::Mode::kCSS,
                                                swis::Mode::kCDS,  swis::Mode::kWgt, swis::Mode::kAct};

struct SwisJobSpec {
    std::string trace_path;  // exactly one of trace_path and model_path
    std::string model_path;
    std::string data_dir = kFashionMnistDir;
    int limit = 10000;        // test images for accuracy (model only)
    bool accuracy = true;     // with a model: measure accuracy when the data set is there
    double alpha = 1.0;       // MSE++
    bool scale_by_mult = true;  // model: weigh each filter's schedule cost by its multiplier squared
    std::vector<double> targets = {2.0, 2.5, 3.0, 4.0};
    bool progress = false;    // per-layer progress on stderr
    // The baselines with other PEs (FXP, BitFusion) on the largest array that fits the area of the
    // configured array of single-shift PEs (hw/cost_model.h iso_area_array; docs/swis.md "At equal
    // area"); false: every mode on pe_array.rows x cols.
    bool iso_area = true;
    // M, the weights of a group (1..swis::kMaxGroupSize): the layers are decomposed and scheduled
    // in groups of M, and the array's figures are for PEs of M lanes (BitFusion's unit has none),
    // their gates, area and energy per cycle the cost model's (hw/cost_model.h pe_gates,
    // pe_pj_per_cycle). The SystemC array and the RTL PE have swis::kGroupSize lanes; the
    // paper's Table 4 points are evaluated at that M only.
    int group_size = swis::kGroupSize;
    // With a model: the modes whose accuracy is measured (SS, DS, C-SS, C-DS, Act, Wgt; by mode_index),
    // every one by default. The int8 accuracy and the compression are always there.
    std::array<bool, swis::kModeCount> accuracy_modes{true, true, true, true, true, true, true, true};
    // With a model and exactly one target: the SWIS mode (SS, DS, C-SS or C-DS; a swis::Mode) whose
    // per-filter schedule the result keeps (SwisJobResult::schedule; `--schedule-out`), the schedule
    // this job decomposes that mode's accuracy run with. std::nullopt: none.
    std::optional<swis::Mode> schedule_mode;
};

// One PE-array layer's schedule: the shift count N of each of its filters (by filter index; a
// depthwise layer's channels), as the job decomposes the layer in groups of M.
struct SwisLayerSchedule {
    int layer = -1;  // the model's layer index
    std::string name;
    double mean_shifts = 0;
    std::vector<int> filter_n;
};

// One mode of one layer (or of a total) at one target.
struct SwisModeFigures {
    double mean_shifts = 0;  // SWIS modes: the schedule's mean N; Act, Wgt, BitFusion: weight bits; FXP: 8
    swis::LayerPerf perf;
};
using SwisModeRow = std::array<SwisModeFigures, swis::kModeCount>;

struct SwisLayerRow {
    std::string name, type;
    bool conv = true;
    std::int64_t macs = 0, weights = 0;
    SwisModeRow modes;
};

struct SwisTotals {
    std::int64_t macs = 0, weights = 0;
    SwisModeRow modes;  // mean_shifts weighted by weights
};

struct SwisTargetReport {
    double target = 0;
    std::vector<SwisLayerRow> layers;
    SwisTotals all, conv;  // every matrix layer; convolutions only (the paper's scope)
};

// A mode at a fixed shift/bit count over the whole network (convolutions only).
struct SwisPointFigures {
    double shifts = 0;  // the S of the point (NaN: the paper has none)
    double fps = 0, fpj = 0;              // ours, convolutions only
    double paper_fps = 0, paper_fpj = 0;  // the paper's Table 4 (0: not given)
};
// One accuracy row of the paper's Table 4 for this network, evaluated on our array.
struct SwisPaperPoint {
    std::string accuracy;  // e.g. ">60.2%"
    std::array<SwisPointFigures, swis::kModeCount> modes;
};

struct SwisAccuracyRow {
    double target = 0;
    std::array<std::optional<double>, swis::kModeCount> accuracy;  // SS, DS, C-SS, C-DS; Act, Wgt at integer targets
    // SS, DS, C-SS, C-DS: the PE-array layers' int8 weight bits over their bits in SWIS form at
    // the schedule (groups of the job's M), the weight compression of the paper's Figure 5.
    std::array<std::optional<double>, swis::kModeCount> compression;
    // Each measured mode's predicted class per test image (by image index; `--predictions-out`), for
    // tests paired on the same images.
    std::array<std::vector<std::uint8_t>, swis::kModeCount> predictions;
};

struct SwisJobResult {
    std::string source, network, kind;  // kind: "trace" or "model"
    int group_size = swis::kGroupSize;   // the job's M, the lanes of the array's PEs
    std::vector<std::string> skipped;    // layers not on the PE array (model: not int8)
    std::vector<SwisTargetReport> targets;
    // Act and Wgt at 1..8 bits and FXP, whole network: index bits - 1.
    std::array<SwisTotals, swis::kShiftPositions> act, wgt;
    SwisTotals fxp;
    std::string paper_network;  // the paper's Table 4 network these points are for, if any
    std::vector<SwisPaperPoint> paper_points;
    // Accuracy (model with data set).
    bool has_accuracy = false;
    std::array<bool, swis::kModeCount> accuracy_modes{};  // the modes measured (SwisJobSpec::accuracy_modes)
    std::string accuracy_note;  // why there is none
    int images = 0;
    // "integer": the layers' ADCs are lossless and the devices ideal, so the network is
    // NetworkReference's exact integer arithmetic (checked against it on cross_checked
    // images); "reference": NetworkReference itself.
    std::string accuracy_method;
    int cross_checked = 0;
    double int8_accuracy = 0;
    std::vector<std::uint8_t> labels, int8_predictions;  // per test image: its label, the int8 network's class
    std::vector<SwisAccuracyRow> accuracy;
    // SwisJobSpec::schedule_mode's schedule at the target, every PE-array layer; model_layers: the
    // model's layer count.
    std::vector<SwisLayerSchedule> schedule;
    int model_layers = 0;
    double clock_ns = 1;
    int rows = swis::kArrayRows, cols = swis::kArrayCols;  // the configured array (pe_array.rows, cols)
    // Per mode: its PE (hw/cost_model.h), that PE's area in the config's technology, and the
    // array it runs on: the configured one, or (iso_area, FXP and BitFusion) the largest that fits
    // area_budget_um2, the configured array's area in single-shift PEs.
    bool iso_area = true;
    std::string technology;  // the technology of the areas (the config's, or the default one)
    double area_budget_um2 = 0;
    std::array<PeAreaKind, swis::kModeCount> pe_kind{};
    std::array<int, swis::kModeCount> pe_lanes{};  // M; BitFusion's unit kGroupSize (it has no lanes)
    std::array<double, swis::kModeCount> pe_area_um2{};
    std::array<PeArrayShape, swis::kModeCount> arrays{};
    swis::PerfCosts costs;
    double wall_s = 0;
};

SwisJobResult run_swis_job(const ArchConfig& cfg, const SwisJobSpec& spec);

// Whether a target mean shift count is whole: Act and Wgt then run that many bits on every
// tile, and Wgt's accuracy is measured; else they follow the SS schedule's per-tile N.
bool integral_target(double target);

// The PE a mode runs on: single shift (SS, C-SS, Act, Wgt), double shift (DS, C-DS), fixed
// point, a Bit Fusion fusion unit.
PeAreaKind pe_area_kind(swis::Mode m);
// The analytic PE array's costs (sw/contract/swis_perf.h) for PEs of `lanes` lanes (1..16): the
// config's (PerfCosts::from_config) with every PE form's energy per cycle hw/cost_model.h's
// pe_pj_per_cycle at that width; BitFusion's unit has no lanes and keeps its figure.
// std::invalid_argument outside 1..16.
swis::PerfCosts perf_costs_at(const ArchConfig& cfg, int lanes);
// The lanes of a mode's PE in a job of group size M: M, but BitFusion's swis::kGroupSize.
int pe_lanes(swis::Mode m, int group_size);
// Whether a mode is a baseline with PEs of another size, put on the iso-area array: FXP, BitFusion.
bool iso_area_baseline(swis::Mode m);

}  // namespace cimvp
