// `cimvp swis` (sw/app/swis_job.h) on a small trace and a random model:
// its numbers are the schedule's and the performance model's, and decomposed
// models run through the network reference. No SystemC.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "sw/app/swis_job.h"
#include "sw/app/swis_report.h"
#include "sw/formats/model_file.h"
#include "sw/formats/trace_file.h"
#include "testbench/model_builders.h"

namespace cimvp {
namespace {

using swis::Mode;
using swis::mode_index;

const char* kTrace =
    "cimvp-trace 1\n"
    "network name=tiny input=8,16,16 classes=10\n"
    "data seed=3 act=relu-uniform:0.5 weights=normal:0.15\n"
    "layer name=c1 type=conv in=8,16,16 out=16 kernel=3 stride=1 padding=1 groups=1 w_bits=8 a_bits=8 scheme=int8 map=pe\n"
    "layer name=d1 type=dwconv in=16,16,16 out=16 kernel=3 stride=2 padding=1 groups=16 w_bits=8 a_bits=8 scheme=int8 map=pe\n"
    "layer name=b1 type=conv in=16,8,8 out=16 kernel=1 stride=1 padding=0 groups=1 w_bits=1 a_bits=4 scheme=bwma map=crossbar\n"
    "layer name=p1 type=pool in=16,8,8 out=16 kernel=8 stride=1 padding=0 op=avg\n"
    "layer name=fc type=fc in=16,1,1 out=10 w_bits=8 a_bits=8 scheme=int8 map=pe\n";

std::string write_temp(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// A random BWMA-shaped network (conv2 and fc1 binary: not on the PE array) written to a temporary
// model file; -128 kept out, as SWIS takes it as -127, so that N = 8 is the same network.
std::string write_random_model(std::uint64_t seed, const std::string& name, NetworkModel& m) {
    test::ModelShape shape;
    shape.binary_middle = true;
    m = test::random_network(seed, shape);
    for (auto& L : m.layers)
        for (auto& w : L.weights) w = std::max<std::int8_t>(w, -127);
    const std::string path = ::testing::TempDir() + name;
    const auto bytes = serialize_model(m);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                 static_cast<std::streamsize>(bytes.size()));
    return path;
}

// A job on a random model (write_random_model) of `limit` test images at `targets`.
SwisJobSpec random_model_spec(std::uint64_t seed, const std::string& name, int limit, std::vector<double> targets,
                              NetworkModel& m) {
    SwisJobSpec spec;
    spec.model_path = write_random_model(seed, name, m);
    spec.limit = limit;
    spec.targets = std::move(targets);
    return spec;
}

// What print_swis_report prints for a result.
std::string report_text(const SwisJobResult& r) {
    std::FILE* f = std::tmpfile();
    if (f == nullptr) return "(no temporary file)";
    print_swis_report(r, f);
    std::rewind(f);
    std::string text;
    for (int c; (c = std::fgetc(f)) != EOF;) text.push_back(static_cast<char>(c));
    std::fclose(f);
    return text;
}

TEST(SwisJob, TraceReportFollowsTheScheduleAndTheModel) {
    SwisJobSpec spec;
    spec.trace_path = write_temp("tiny.trace", kTrace);
    const ArchConfig cfg;
    const SwisJobResult r = run_swis_job(cfg, spec);
    EXPECT_EQ(r.network, "tiny");
    ASSERT_EQ(r.skipped.size(), 1u);  // the crossbar layer
    ASSERT_EQ(r.targets.size(), 4u);
    const NetworkTrace t = parse_trace(kTrace, "tiny");
    for (const SwisTargetReport& rep : r.targets) {
        ASSERT_EQ(rep.layers.size(), 3u);
        const SwisLayerRow& c1 = rep.layers[0];
        EXPECT_EQ(c1.macs, t.layers[0].macs());
        // 16 filters = 2 array groups: SS reaches every target; DS (even N) 2.5 falls to 2.
        EXPECT_DOUBLE_EQ(c1.modes[mode_index(Mode::kSS)].mean_shifts, rep.target);
        EXPECT_DOUBLE_EQ(c1.modes[mode_index(Mode::kCSS)].mean_shifts, rep.target);
        EXPECT_DOUBLE_EQ(c1.modes[mode_index(Mode::kDS)].mean_shifts, rep.target == 2.5 ? 2.0 : rep.target);
        // The depthwise layer schedules each channel on its own tile: every target is reachable.
        EXPECT_DOUBLE_EQ(rep.layers[1].modes[mode_index(Mode::kDS)].mean_shifts, rep.target);
        // The cycles are the formula's for the schedule.
        const auto w = trace_layer_weights(t, 0);
        const swis::LayerShape shape{16, 8, 3, 3};
        const swis::Schedule s = swis::schedule_filters(w, shape, rep.target, 8, swis::Variant::kSwis);
        EXPECT_EQ(c1.modes[mode_index(Mode::kSS)].perf.cycles, swis::compute_cycles(shape, 256, s.group_n, Mode::kSS));
        // FXP and BitFusion at equal area: 4 x 5 PEs (docs/swis.md "At equal area"): 64 pixel
        // tiles x 4 filter tiles (5, 5, 5, 1 filters), skew 4 + 5 - 2 = 7; BitFusion at N
        // rounded up to 2 or 4 weight bits, 1 or 2 cycles per group.
        ASSERT_EQ(r.arrays[mode_index(Mode::kFxp)].rows, 4);
        ASSERT_EQ(r.arrays[mode_index(Mode::kFxp)].cols, 5);
        EXPECT_EQ(c1.modes[mode_index(Mode::kFxp)].perf.cycles, 64u * 4 * (18 + 7));
        const std::uint64_t bf_cpg = rep.target <= 2 ? 1 : 2;
        EXPECT_EQ(c1.modes[mode_index(Mode::kBitFusion)].perf.cycles, 64u * 4 * (18 * bf_cpg + 7));
        EXPECT_DOUBLE_EQ(c1.modes[mode_index(Mode::kBitFusion)].mean_shifts, rep.target <= 2 ? 2 : 4);
        // Totals add up.
        std::uint64_t sum = 0;
        for (const auto& l : rep.layers) sum += l.modes[mode_index(Mode::kDS)].perf.cycles;
        EXPECT_EQ(rep.all.modes[mode_index(Mode::kDS)].perf.cycles, sum);
        EXPECT_EQ(rep.conv.macs, t.layers[0].macs() + t.layers[1].macs());
    }
    // Act and Wgt at an integer N run N cycles a group, as SS at that N.
    const SwisTargetReport& n3 = r.targets[2];
    EXPECT_EQ(n3.layers[0].modes[mode_index(Mode::kAct)].perf.cycles,
              swis::compute_cycles({16, 8, 3, 3}, 256, {3, 3}, Mode::kAct));
    EXPECT_EQ(r.act[5].modes[mode_index(Mode::kAct)].perf.cycles,
              swis::compute_cycles({16, 8, 3, 3}, 256, {6, 6}, Mode::kAct) + 16u * 8 * (9 * 6 + 14));
    EXPECT_TRUE(r.paper_points.empty());
    const nlohmann::json j = swis_job_to_json(r, cfg, spec);
    EXPECT_EQ(j["targets"].size(), 4u);
    EXPECT_EQ(j["arrays"]["FXP"]["pes"], 20);
    EXPECT_EQ(j["arrays"]["SS"]["pes"], 64);
    EXPECT_TRUE(j["targets"][0]["total"]["modes"].contains("BitFusion"));
    // --same-pes: every mode on the configured 8 x 8 array.
    spec.iso_area = false;
    spec.targets = {2.0};
    const SwisJobResult same = run_swis_job(cfg, spec);
    EXPECT_EQ(same.arrays[mode_index(Mode::kFxp)].pes(), 64);
    EXPECT_EQ(same.targets[0].layers[0].modes[mode_index(Mode::kFxp)].perf.cycles, 32u * 2 * (18 + 14));
    EXPECT_EQ(same.targets[0].layers[0].modes[mode_index(Mode::kBitFusion)].perf.cycles, 32u * 2 * (18 + 14));
    EXPECT_TRUE(j["targets"][0]["total"]["modes"]["DS"].contains("frames_per_second"));
    EXPECT_EQ(j["targets"][0]["layers"][0]["name"], "c1");
    EXPECT_TRUE(j["accuracy"].is_null());
    std::remove(spec.trace_path.c_str());
}

// --group-size 8 on a trace: the layers are scheduled in groups of 8, the array's PEs have 8
// lanes (the cost model's energy per cycle and area at that width), the baselines' iso-area
// arrays are sized against the area of 8-lane single-shift PEs, and BitFusion's unit, which
// has no lanes, does the same work as at M = 4.
TEST(SwisJob, AnotherGroupSizeRunsTheArrayOnPesOfThatManyLanes) {
    SwisJobSpec spec;
    spec.trace_path = write_temp("tiny8.trace", kTrace);
    spec.targets = {2.0, 3.0};
    spec.group_size = 8;
    const ArchConfig cfg;
    const SwisJobResult r = run_swis_job(cfg, spec);
    EXPECT_EQ(r.group_size, 8);
    ASSERT_EQ(r.targets.size(), 2u);
    EXPECT_TRUE(r.paper_points.empty());
    const NetworkTrace t = parse_trace(kTrace, "tiny");
    const auto w = trace_layer_weights(t, 0);
    swis::LayerShape shape{16, 8, 3, 3};
    shape.group_size = 8;  // 9 groups a filter
    const double ss_pj = pe_pj_per_cycle(cfg.pe_array, PeMode::kSingleShift, 8);
    for (const SwisTargetReport& rep : r.targets) {
        const SwisLayerRow& c1 = rep.layers[0];
        const swis::Schedule s = swis::schedule_filters(w, shape, rep.target, 8, swis::Variant::kSwis);
        const auto& ss = c1.modes[mode_index(Mode::kSS)].perf;
        EXPECT_EQ(ss.cycles, swis::compute_cycles(shape, 256, s.group_n, Mode::kSS)) << rep.target;
        EXPECT_DOUBLE_EQ(ss.pe_pj, static_cast<double>(ss.pe_cycles) * ss_pj);
    }
    EXPECT_EQ(r.costs.lanes, 8);
    for (Mode m : swis::kModes) {
        const double want = m == Mode::kBitFusion ? swis::PerfCosts().pe_pj[mode_index(m)]
                                                  : pe_pj_per_cycle(cfg.pe_array, swis::pe_mode(m), 8);
        EXPECT_DOUBLE_EQ(r.costs.pe_pj[mode_index(m)], want) << swis::mode_name(m);
    }
    EXPECT_THROW(perf_costs_at(cfg, 0), std::invalid_argument);
    EXPECT_THROW(perf_costs_at(cfg, 17), std::invalid_argument);
    EXPECT_EQ(perf_costs_at(cfg, 4).pe_pj, swis::PerfCosts::from_config(cfg).pe_pj) << "4 lanes: the config's exactly";
    EXPECT_GT(ss_pj, cfg.pe_array.pj_per_cycle_ss);
    const TechnologyConfig tech = effective_technology(cfg);
    const double budget = 64 * pe_area_um2(tech, PeAreaKind::kSingleShift, 8);
    EXPECT_DOUBLE_EQ(r.area_budget_um2, budget);
    for (Mode m : {Mode::kFxp, Mode::kBitFusion}) {
        const int lanes = m == Mode::kBitFusion ? 4 : 8;
        EXPECT_EQ(r.pe_lanes[mode_index(m)], lanes);
        const PeArrayShape want = iso_area_array(budget, pe_area_um2(tech, pe_area_kind(m), lanes));
        EXPECT_EQ(r.arrays[mode_index(m)].rows, want.rows) << swis::mode_name(m);
        EXPECT_EQ(r.arrays[mode_index(m)].cols, want.cols) << swis::mode_name(m);
    }
    const std::string text = report_text(r);
    EXPECT_NE(text.find("PE array of 8-weight groups"), std::string::npos) << text;
    EXPECT_NE(text.find("PEs of 8 lanes: the cost model's"), std::string::npos) << text;
    const nlohmann::json j = swis_job_to_json(r, cfg, spec);
    EXPECT_EQ(j["array"]["group_size"], 8);
    EXPECT_EQ(j["arrays"]["FXP"]["pe_lanes"], 8);
    EXPECT_EQ(j["arrays"]["BitFusion"]["pe_lanes"], 4);
    // On the same array, BitFusion does not see M.
    spec.iso_area = false;
    const SwisJobResult same8 = run_swis_job(cfg, spec);
    spec.group_size = 4;
    const SwisJobResult same4 = run_swis_job(cfg, spec);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& b8 = same8.targets[i].all.modes[mode_index(Mode::kBitFusion)].perf;
        const auto& b4 = same4.targets[i].all.modes[mode_index(Mode::kBitFusion)].perf;
        EXPECT_EQ(b8.cycles, b4.cycles);
        EXPECT_DOUBLE_EQ(b8.energy_pj(), b4.energy_pj());
        // and SS at 8 lanes takes fewer cycles than at 4 on these 8-channel layers
        EXPECT_LT(same8.targets[i].layers[0].modes[mode_index(Mode::kSS)].perf.cycles,
                  same4.targets[i].layers[0].modes[mode_index(Mode::kSS)].perf.cycles);
    }
    std::remove(spec.trace_path.c_str());
}

// At N = 1 double shift has no schedule: its figures and every ratio with it print "-", never the
// quotient of a zero cycle count.
TEST(SwisJob, AModeWithoutAScheduleReportsNoFigures) {
    SwisJobSpec spec;
    spec.trace_path = write_temp("tiny1.trace", kTrace);
    spec.targets = {1};
    const SwisJobResult r = run_swis_job(ArchConfig(), spec);
    ASSERT_EQ(r.targets.size(), 1u);
    EXPECT_TRUE(std::isnan(r.targets[0].conv.modes[mode_index(Mode::kDS)].mean_shifts));
    const std::string text = report_text(r);
    EXPECT_NE(text.find("speedup at equal N (conv): DS/Act -, SS/Act 1.00x, DS/FXP -, DS/BitFusion -; energy DS vs Act -"),
              std::string::npos)
        << text;
    const auto line = text.find("    frames/s ");
    ASSERT_NE(line, std::string::npos);
    const std::string frames = text.substr(line, text.find('\n', line) - line);
    EXPECT_EQ(std::count(frames.begin(), frames.end(), '-'), 2) << frames;  // DS and C-DS
}

TEST(SwisJob, ResNet18AtThePapersOperatingPoints) {
    SwisJobSpec spec;
    spec.trace_path = std::string(CIMVP_SOURCE_DIR) + "/traces/resnet18.trace";
    spec.targets = {2.0};
    const SwisJobResult r = run_swis_job(ArchConfig(), spec);
    ASSERT_EQ(r.paper_points.size(), 2u);
    // DS vs the bit-serial Act baseline: the paper's 3.5x (4 vs 7 shifts) and 6x (2 vs 6).
    for (const auto& p : r.paper_points) {
        const double ours = p.modes[mode_index(Mode::kDS)].fps / p.modes[mode_index(Mode::kAct)].fps;
        const double paper = p.modes[mode_index(Mode::kDS)].paper_fps / p.modes[mode_index(Mode::kAct)].paper_fps;
        EXPECT_GE(ours, 2.8) << p.accuracy;
        EXPECT_LE(ours, 6.0) << p.accuracy;
        EXPECT_NEAR(ours / paper, 1.0, 0.1) << p.accuracy;
    }
}

// docs/swis.md "At equal area": the ResNet-18 table's ratios and frames/J, within 2 %.
TEST(SwisJob, ResNet18AtEqualAreaMatchesTheDocumentedTable) {
    SwisJobSpec spec;
    spec.trace_path = std::string(CIMVP_SOURCE_DIR) + "/traces/resnet18.trace";
    spec.targets = {2.0};
    const SwisJobResult r = run_swis_job(ArchConfig(), spec);
    // The iso-area arrays: the area of 64 single-shift PEs, less than 2 x 10 more PEs of FXP or BitFusion.
    for (Mode m : {Mode::kFxp, Mode::kBitFusion}) {
        const auto& a = r.arrays[mode_index(m)];
        EXPECT_EQ(a.rows, 4) << swis::mode_name(m);
        EXPECT_EQ(a.cols, 5) << swis::mode_name(m);
        EXPECT_LE(a.pes() * r.pe_area_um2[mode_index(m)], r.area_budget_um2);
    }
    ASSERT_EQ(r.paper_points.size(), 2u);
    const auto& hi = r.paper_points[0].modes;  // >69.1%: FXP against Act 7
    const auto& lo = r.paper_points[1].modes;  // >60.2%: BitFusion 4 x 8 against Act 6 and DS 2
    const auto act = [](const auto& p, Mode m) { return p[mode_index(m)].fps / p[mode_index(Mode::kAct)].fps; };
    EXPECT_NEAR(act(hi, Mode::kFxp) / 2.15, 1.0, 0.02);
    EXPECT_NEAR(hi[mode_index(Mode::kFxp)].fpj / 158.1, 1.0, 0.02);
    EXPECT_NEAR(act(lo, Mode::kBitFusion) / 0.94, 1.0, 0.02);
    EXPECT_NEAR(lo[mode_index(Mode::kBitFusion)].fpj / 190.6, 1.0, 0.02);
    EXPECT_NEAR(act(lo, Mode::kDS) / 5.66, 1.0, 0.02);
    // The same PEs (--same-pes): FXP 6.59x Act 7, BitFusion 4 x 8 as fast as SS 2.
    spec.iso_area = false;
    const SwisJobResult same = run_swis_job(ArchConfig(), spec);
    const auto& shi = same.paper_points[0].modes;
    const auto& slo = same.paper_points[1].modes;
    EXPECT_NEAR(act(shi, Mode::kFxp) / 6.59, 1.0, 0.02);
    EXPECT_NEAR(act(slo, Mode::kBitFusion) / 2.93, 1.0, 0.02);
}

TEST(SwisJob, ModelAccuracyAtEightShiftsIsTheInt8Accuracy) {
    NetworkModel m;
    SwisJobSpec spec = random_model_spec(5, "swis_job_model.cimvp", 40, {8.0, 2.0}, m);
    const SwisJobResult r = run_swis_job(ArchConfig(), spec);
    EXPECT_EQ(r.skipped.size(), 2u);
    ASSERT_EQ(r.targets[0].layers.size(), 2u);
    if (!r.has_accuracy) GTEST_SKIP() << r.accuracy_note;  // no data set installed
    EXPECT_EQ(r.images, 40);
    ASSERT_EQ(r.accuracy.size(), 2u);
    // N = 8 reproduces every weight: the same network, the same accuracy.
    for (Mode mo : {Mode::kSS, Mode::kDS, Mode::kCSS, Mode::kCDS, Mode::kWgt, Mode::kAct}) {
        ASSERT_TRUE(r.accuracy[0].accuracy[mode_index(mo)].has_value()) << swis::mode_name(mo);
        EXPECT_EQ(*r.accuracy[0].accuracy[mode_index(mo)], r.int8_accuracy) << swis::mode_name(mo);
        EXPECT_TRUE(r.accuracy[1].accuracy[mode_index(mo)].has_value()) << swis::mode_name(mo);
    }
    std::remove(spec.model_path.c_str());
}

// --predictions-out: each measured network's class per test image, whose share of right answers is the
// reported accuracy; at N = 8 every mode is the int8 network image by image, and the CSV holds a column
// per measured mode and target.
TEST(SwisJob, PredictionsAreTheAccuracyImageByImage) {
    NetworkModel m;
    SwisJobSpec spec = random_model_spec(7, "swis_job_predictions.cimvp", 60, {8.0, 1.5}, m);
    spec.accuracy_modes.fill(false);
    for (Mode mo : {Mode::kSS, Mode::kCDS, Mode::kWgt}) spec.accuracy_modes[mode_index(mo)] = true;
    const SwisJobResult r = run_swis_job(ArchConfig(), spec);
    std::remove(spec.model_path.c_str());
    if (!r.has_accuracy) GTEST_SKIP() << r.accuracy_note;  // no data set installed
    ASSERT_EQ(r.labels.size(), 60u);
    ASSERT_EQ(r.int8_predictions.size(), 60u);
    const auto share_right = [&](const std::vector<std::uint8_t>& classes) {
        int right = 0;
        for (std::size_t i = 0; i < classes.size(); ++i) right += classes[i] == r.labels[i];
        return static_cast<double>(right) / static_cast<double>(classes.size());
    };
    EXPECT_EQ(share_right(r.int8_predictions), r.int8_accuracy);
    for (Mode mo : {Mode::kSS, Mode::kCDS, Mode::kWgt}) {
        const auto& p = r.accuracy[0].predictions[mode_index(mo)];
        EXPECT_EQ(p, r.int8_predictions) << swis::mode_name(mo) << " at N = 8 is the int8 network";
    }
    const auto& ss = r.accuracy[1].predictions[mode_index(Mode::kSS)];
    ASSERT_EQ(ss.size(), 60u);
    EXPECT_EQ(share_right(ss), *r.accuracy[1].accuracy[mode_index(Mode::kSS)]);
    EXPECT_TRUE(r.accuracy[1].predictions[mode_index(Mode::kDS)].empty()) << "DS not measured";
    EXPECT_TRUE(r.accuracy[1].predictions[mode_index(Mode::kCDS)].empty()) << "C-DS has no schedule below N = 2";
    EXPECT_TRUE(r.accuracy[1].predictions[mode_index(Mode::kWgt)].empty()) << "Wgt has no fractional N";

    const std::string csv = swis_predictions_csv(r);
    EXPECT_EQ(csv.substr(0, csv.find('\n')), "image,label,int8,SS@8,C-DS@8,Wgt@8,SS@1.5");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 61);
    std::string row7 = "\n7," + std::to_string(r.labels[7]);
    for (int copy = 0; copy < 4; ++copy) row7 += ',' + std::to_string(r.int8_predictions[7]);  // int8, N = 8
    row7 += ',' + std::to_string(ss[7]) + '\n';
    EXPECT_NE(csv.find(row7), std::string::npos) << row7;

    SwisJobResult none;
    none.accuracy_note = "no accuracy: the data set is not there";
    EXPECT_THROW(swis_predictions_csv(none), std::invalid_argument);
}

// Another group size than the PE array's 4 (the paper's group-size study): the layers are
// decomposed in groups of M, N = 8 is still the int8 network, the storage is M signs, 3N shift
// bits and M N mask bits per group; the paper's Table 4 points are for groups of 4 only.
TEST(SwisJob, AnotherGroupSizeReportsAccuracyAndStorageOfGroupsOfM) {
    NetworkModel m;
    SwisJobSpec spec = random_model_spec(6, "swis_job_group_size.cimvp", 30, {8.0, 1.0}, m);
    if (!run_swis_job(ArchConfig(), spec).has_accuracy) GTEST_SKIP() << "no data set installed";
    for (int M : {1, 16}) {
        spec.group_size = M;
        const SwisJobResult r = run_swis_job(ArchConfig(), spec);
        EXPECT_EQ(r.group_size, M);
        EXPECT_EQ(r.targets.size(), 2u) << "the array's figures for PEs of " << M << " lanes";
        EXPECT_TRUE(r.paper_points.empty());
        ASSERT_TRUE(r.has_accuracy);
        ASSERT_EQ(r.accuracy.size(), 2u);
        for (Mode mo : {Mode::kSS, Mode::kDS, Mode::kCSS, Mode::kCDS})
            EXPECT_EQ(*r.accuracy[0].accuracy[mode_index(mo)], r.int8_accuracy) << "M " << M << " " << swis::mode_name(mo);
        // At N = 1 every filter has one shift: int8 bits over groups x (M + 3 + M).
        std::int64_t int8_bits = 0, swis_bits = 0;
        for (const NetworkLayer& L : m.layers) {
            if (L.is_tensor() || L.binary || L.w_bits != 8) continue;
            swis::LayerShape s = L.kind == LayerKind::kConv ? swis::LayerShape{L.out_c, L.in_c, L.kernel, L.kernel}
                                                             : swis::LayerShape{L.out_c, L.K(), 1, 1};
            s.group_size = M;
            int8_bits += 8 * static_cast<std::int64_t>(s.filters) * s.K();
            swis_bits += static_cast<std::int64_t>(s.filters) * s.groups_per_filter() * (M + 3 + M);
        }
        ASSERT_TRUE(r.accuracy[1].compression[mode_index(Mode::kSS)].has_value());
        EXPECT_DOUBLE_EQ(*r.accuracy[1].compression[mode_index(Mode::kSS)],
                         static_cast<double>(int8_bits) / static_cast<double>(swis_bits))
            << "M " << M;
        EXPECT_FALSE(r.accuracy[1].compression[mode_index(Mode::kDS)].has_value()) << "DS has no schedule at N = 1";
        EXPECT_FALSE(r.accuracy[0].accuracy[mode_index(Mode::kWgt)].has_value()) << "Wgt does not depend on M";
        EXPECT_FALSE(r.accuracy[0].accuracy[mode_index(Mode::kAct)].has_value()) << "Act does not depend on M";
    }
    std::remove(spec.model_path.c_str());
}

TEST(SwisJob, RejectsBadRequests) {
    SwisJobSpec spec;
    EXPECT_THROW(run_swis_job(ArchConfig(), spec), std::invalid_argument);
    spec.trace_path = write_temp("bad.trace", "cimvp-trace 2\n");
    EXPECT_THROW(run_swis_job(ArchConfig(), spec), TraceError);
    spec.trace_path = write_temp("ok.trace", kTrace);
    spec.targets = {0.5};
    EXPECT_THROW(run_swis_job(ArchConfig(), spec), std::invalid_argument);
    spec.targets = {2.0};
    for (int bad : {0, 17}) {
        spec.group_size = bad;
        EXPECT_THROW(run_swis_job(ArchConfig(), spec), std::invalid_argument) << bad;
    }
}

}  // namespace
}  // namespace cimvp
