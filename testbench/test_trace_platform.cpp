// `cimvp run --trace` on the SystemC platform (sw/app/trace_job.h): every
// layer's outputs equal the C++ reference bit-exactly, the report's cycles,
// energies and MACs add up. One TEST per process (SystemC elaborates once).
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "sc_test_support.h"
#include "sw/app/results_json.h"
#include "sw/app/trace_job.h"
#include "sw/formats/config_loader.h"

namespace cimvp {
namespace {

const std::string kSource = CIMVP_SOURCE_DIR;

double component_sum(const EnergyBreakdown& e) {
    return e.crossbar + e.adc + e.shift_add + e.pe + e.buffers + e.dma + e.dram + e.post_process;
}

// Checks what every report must satisfy, whatever the config.
void check_report(const TraceJobResult& r, const TraceJobSpec& spec, const ArchConfig& cfg) {
    const NetworkTrace t = load_trace(spec.trace_path);
    EXPECT_EQ(r.agree, r.images);
    EXPECT_DOUBLE_EQ(r.agreement, 1.0);
    ASSERT_EQ(r.layers.size(), t.layers.size());
    EnergyBreakdown sum;
    std::uint64_t cycles = 0;
    double sim_ns = 0, macs = 0;
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        const TraceLayerReport& lr = r.layers[l];
        SCOPED_TRACE(lr.name);
        EXPECT_EQ(lr.agree, r.images);
        if (t.layers[l].has_weights()) {
            EXPECT_GT(lr.stats.cycles, 0u);
            EXPECT_GT(lr.stats.sim_ns, 0.0);
            EXPECT_GT(lr.stats.energy.total(), 0.0);
            EXPECT_NE(lr.mapped_to, "host");
        } else {
            // Pool and add: tensor-op jobs on the post-processing unit, timed and charged.
            EXPECT_EQ(lr.mapped_to, "post_process");
            EXPECT_GT(lr.stats.cycles, 0u);
            EXPECT_GT(lr.stats.energy.post_process, 0.0);
            EXPECT_EQ(lr.stats.energy.crossbar, 0.0);
            EXPECT_EQ(lr.host_ops, 0u);
        }
        if (lr.mapped_to == "crossbar") {
            EXPECT_GT(lr.tiles_used, 0);
            EXPECT_LE(lr.tiles_used, cfg.platform.tiles);
            EXPECT_GT(lr.tile_utilization, 0.0);
            EXPECT_LE(lr.tile_utilization, 1.0);
        }
        if (lr.mapped_to == "pe_array") {
            EXPECT_GT(lr.pe_utilization, 0.0);
            EXPECT_LE(lr.pe_utilization, 1.0);
        }
        sum += lr.stats.energy;
        cycles += lr.stats.cycles;
        sim_ns += lr.stats.sim_ns;
        macs += lr.macs_per_image;
    }
    EXPECT_EQ(cycles, r.total.cycles);
    EXPECT_NEAR(sim_ns, r.total.sim_ns, 1e-6 * sim_ns);
    EXPECT_NEAR(component_sum(sum), r.total.energy.total(), 1e-9 * r.total.energy.total());
    EXPECT_DOUBLE_EQ(macs, static_cast<double>(t.macs()));

    // The JSON and CSV say the same: components sum to total, layers sum to the run.
    const nlohmann::json j = trace_job_to_json(r, cfg, spec);
    double layer_total = 0;
    for (const auto& L : j["layers"]) {
        double parts = 0;
        for (const char* k : {"crossbar", "adc", "shift_add", "pe", "buffers", "dma", "dram", "post_process"})
            parts += L["energy_pj"][k].get<double>();
        EXPECT_NEAR(parts, L["energy_pj"]["total"].get<double>(), 1e-9 * std::max(1.0, parts));
        layer_total += L["energy_pj"]["total"].get<double>();
        for (const char* k : {"name", "macs", "cycles", "energy_pj", "mapped_to", "latency_ns", "tile_utilization",
                              "pe_utilization", "tiles_used"})
            EXPECT_TRUE(L.contains(k)) << k;
    }
    EXPECT_NEAR(layer_total, j["energy_pj"]["total"].get<double>(), 1e-9 * layer_total);
    std::istringstream csv(trace_job_to_csv(r));
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line, kTraceCsvHeader);
    int rows = 0;
    while (std::getline(csv, line)) ++rows;
    EXPECT_EQ(rows, static_cast<int>(r.layers.size()) + 1);  // a row per layer and the total
}

TEST(TraceOnPlatform, TinyTraceEqualsReferenceOnEveryLayerAndTheReportAddsUp) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const ArchConfig cfg;
    TraceJobSpec spec;
    spec.trace_path = kSource + "/testbench/data/tiny.trace";
    spec.images = 2;
    spec.progress = false;
    const TraceJobResult r = run_trace_job(cfg, spec);
    check_report(r, spec, cfg);
    EXPECT_EQ(r.layers[1].stages, 2);  // 16 depthwise channels in blocks of 14 (128 rows / 9)
    EXPECT_EQ(r.layers[3].mapped_to, "pe_array");
}

TEST(TraceOnPlatform, LossyAdcWithCalibratedColumnsEqualsReferenceOnTheCrossbar) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg;
    cfg.adc.bits = 4;
    cfg.crossbar.rows = 64;
    cfg.crossbar.cell_bits = 2;
    TraceJobSpec spec;
    spec.trace_path = kSource + "/testbench/data/tiny.trace";
    spec.mapping = TraceMapping::kCrossbar;
    spec.images = 2;
    spec.progress = false;
    const TraceJobResult r = run_trace_job(cfg, spec);
    check_report(r, spec, cfg);
    EXPECT_GT(r.layers[0].recalibrated_stages, 0);  // the ADC is lossy: tables calibrated on drawn inputs
    EXPECT_EQ(r.layers[1].stages, 3);                // 7 + 7 + 2 channels on 64 rows
    EXPECT_EQ(r.layers[3].mapped_to, "crossbar");    // --map crossbar overrides map=pe
}

TEST(TraceOnPlatform, ResNet20RunsWholeOnTheCrossbarAndEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg;
    cfg.adc.bits = 5;
    TraceJobSpec spec;
    spec.trace_path = kSource + "/traces/resnet20.trace";
    spec.progress = false;
    const TraceJobResult r = run_trace_job(cfg, spec);
    check_report(r, spec, cfg);
    EXPECT_EQ(r.macs_per_image, 40551040);
}

// Weights-resident (docs/trace-format.md): every crossbar stage on its own tiles, all programmed before
// the first image, with non-ideal devices (drawn per physical tile) and a lossy ADC calibrated on
// those tiles: still every layer equal to the reference, the programming apart from the figures.
TEST(TraceOnPlatform, ResidentRunKeepsEveryStageOnItsOwnTilesAndEqualsReference) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg;
    cfg.adc.bits = 4;
    cfg.crossbar.rows = 64;
    cfg.crossbar.cell_bits = 2;
    cfg.nonideal.conductance_sigma = 0.05;
    cfg.nonideal.read_noise_sigma = 0.5;
    TraceJobSpec spec;
    spec.trace_path = kSource + "/testbench/data/tiny.trace";
    spec.mapping = TraceMapping::kCrossbar;
    spec.images = 2;
    spec.progress = false;
    spec.resident = true;
    const NetworkTrace trace = load_trace(spec.trace_path);
    const ResidentTiles tiles = plan_resident_tiles(build_trace_workload(trace, cfg, spec.mapping), cfg);
    cfg.platform.tiles = static_cast<int>(tiles.total);  // exactly the chip: the last stage ends on the last tile
    const TraceJobResult r = run_trace_job(cfg, spec);
    check_report(r, spec, cfg);
    EXPECT_TRUE(r.resident);
    EXPECT_EQ(r.resident_tiles, tiles.total);
    RunStats programming;
    int next = 0;
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        const TraceLayerReport& lr = r.layers[l];
        SCOPED_TRACE(lr.name);
        programming += lr.programming;
        EXPECT_EQ(lr.resident_tiles, tiles.layer_tiles[l]);
        if (lr.mapped_to != "crossbar") {
            EXPECT_EQ(lr.first_tile, -1);
            EXPECT_EQ(lr.programming.cycles, 0u);
            continue;
        }
        EXPECT_EQ(lr.first_tile, next);  // layers in order, each after the one before
        next += lr.resident_tiles;
        EXPECT_EQ(lr.passes, 1);
        EXPECT_GT(lr.programming.cycles, 0u);
        EXPECT_GT(lr.programming.energy.dram, 0.0);  // the cell levels read from DRAM once
    }
    EXPECT_EQ(next, cfg.platform.tiles);
    // The run's figures are the layers' lists; the programming is reported beside them, not in them.
    EXPECT_EQ(r.programming.cycles, programming.cycles);
    EXPECT_DOUBLE_EQ(r.programming.energy.total(), programming.energy.total());
    EXPECT_GT(r.layers[3].recalibrated_stages, 0);
}

TEST(TraceOnPlatform, ResidentRunOnTooFewTilesStopsBeforeSimulatingNamingPlatformTiles) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg;
    cfg.platform.tiles = 3;  // tiny.trace's crossbar stages take 4
    TraceJobSpec spec;
    spec.trace_path = kSource + "/testbench/data/tiny.trace";
    spec.progress = false;
    spec.resident = true;
    try {
        run_trace_job(cfg, spec);
        FAIL() << "the resident run started on 3 tiles";
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("platform.tiles: expected at least 4 tiles"), std::string::npos) << what;
    }
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);  // nothing was simulated
}

}  // namespace
}  // namespace cimvp
