// The cost model (hw/cost_model.h, docs/costs.md): the derived figures follow the documented formulas
// for the shipped technology files, grow with ADC bits and array rows as the models say, area adds up,
// and a technology given in a config derives what the config does not set.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "hw/cost_model.h"
#include "sw/formats/config_loader.h"

namespace cimvp {
namespace {

const std::vector<std::string> kShipped = {"sram-22nm", "sram-40nm", "rram-22nm", "rram-40nm"};

std::string tech_file(const std::string& name) {
    return std::string(CIMVP_SOURCE_DIR) + "/configs/technology/" + name + ".json";
}

ArchConfig with_technology(const std::string& name, const std::string& extra = "") {
    return config_from_text("{\"technology\": \"" + tech_file(name) + "\"" + extra + "}", "test.json");
}

double figure(const std::vector<CostFigure>& v, const std::string& key) {
    for (const auto& f : v)
        if (f.key == key) return f.value;
    ADD_FAILURE() << "no figure " << key;
    return 0;
}

std::string load_error(const std::string& text, const std::string& source = "bad.json") {
    try {
        config_from_text(text, source);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(CostModel, SarEnergyPerConversionDoublesWithEveryBit) {
    for (const auto& name : kShipped) {
        ArchConfig cfg = with_technology(name);
        double previous = 0;
        for (int bits = 1; bits <= 16; ++bits) {
            cfg.adc.bits = bits;
            const double pj = figure(derive_costs(cfg.technology, cfg), "adc.pj_per_conversion");
            EXPECT_DOUBLE_EQ(pj, std::ldexp(cfg.technology.adc.walden_fj_per_step, bits) * 1e-3) << name << bits;
            if (bits > 1) {
                EXPECT_DOUBLE_EQ(pj, 2 * previous) << name << " bits " << bits;
            }
            previous = pj;
        }
    }
}

TEST(CostModel, FlashEnergyIsOneComparatorPerThreshold) {
    ArchConfig cfg = with_technology("sram-22nm", R"(, "adc": {"architecture": "flash"})");
    for (int bits = 1; bits <= 10; ++bits) {
        cfg.adc.bits = bits;
        EXPECT_DOUBLE_EQ(figure(derive_costs(cfg.technology, cfg), "adc.pj_per_conversion"),
                         ((1 << bits) - 1) * cfg.technology.adc.comparator_fj * 1e-3);
    }
    EXPECT_EQ(cfg.adc.cycles_per_conversion(), 1);
    cfg.adc.architecture = AdcArchitecture::kSar;
    EXPECT_EQ(cfg.adc.cycles_per_conversion(), 10);
}

TEST(CostModel, ArrayReadEnergyGrowsWithTheArraysRowsAndTheActiveRows) {
    for (const auto& name : kShipped) {
        ArchConfig cfg = with_technology(name);
        double previous_column = 0;
        for (int rows : {16, 32, 64, 128, 256, 512, 1024, 2048, 4096}) {
            cfg.crossbar.rows = rows;
            const auto f = derive_costs(cfg.technology, cfg);
            const double column = figure(f, "crossbar.read_pj_per_column");
            const double cell = figure(f, "crossbar.read_pj_per_cell");
            EXPECT_GT(column, previous_column) << name << " rows " << rows;
            // The bit line's charge is linear in its length; a cell's word-line share and current are not.
            if (previous_column > 0) {
                EXPECT_NEAR(column / previous_column, 2.0, 1e-12) << name;
            }
            EXPECT_DOUBLE_EQ(cell, figure(derive_costs(cfg.technology, with_technology(name)), "crossbar.read_pj_per_cell"));
            // One read of `active` rows on all columns: more active rows, more energy.
            double previous_read = 0;
            for (int active = 1; active <= rows; active *= 2) {
                const double read = active * cfg.crossbar.cols * cell + cfg.crossbar.cols * column;
                EXPECT_GT(read, previous_read);
                previous_read = read;
            }
            previous_column = column;
        }
    }
}

// The formulas of docs/costs.md, written out again from the documented constants, against the model.
TEST(CostModel, DerivedFiguresEqualTheDocumentedFormulasForEveryShippedTechnology) {
    for (const auto& name : kShipped) {
        const ArchConfig cfg = with_technology(name);
        const TechnologyConfig& t = cfg.technology;
        const double F = t.node_nm * 1e-3;                                     // um
        const double s = (t.node_nm / 45) * (t.vdd_v / 0.9) * (t.vdd_v / 0.9);  // Horowitz 45 nm, 0.9 V
        const double c_line = 0.2 * std::sqrt(t.cell.area_f2) * F + 1.0 * 2 * F;  // fF per cell
        const auto sram = [&](double bytes) { return 0.425 * std::sqrt(bytes / 1024) * s; };
        const int rows = cfg.crossbar.rows;
        SCOPED_TRACE(name);
        EXPECT_EQ(t.name, name);
        EXPECT_DOUBLE_EQ(cfg.crossbar.read_ns, t.cell.read_ns);
        EXPECT_DOUBLE_EQ(cfg.crossbar.read_pj_per_column, rows * c_line * t.cell.read_v * t.vdd_v * 1e-3);
        EXPECT_DOUBLE_EQ(cfg.crossbar.read_pj_per_cell,
                         (c_line * t.vdd_v * t.vdd_v +
                          t.cell.mean_conductance_us * t.cell.read_v * t.cell.read_v * t.cell.read_ns) * 1e-3);
        EXPECT_DOUBLE_EQ(cfg.adc.pj_per_conversion, std::ldexp(t.adc.walden_fj_per_step, cfg.adc.bits) * 1e-3);
        EXPECT_DOUBLE_EQ(cfg.adc.cycle_ns, t.adc.cycle_ns);
        EXPECT_DOUBLE_EQ(cfg.digital.clock_ns, t.clock_ns);
        EXPECT_DOUBLE_EQ(cfg.digital.shift_add_pj, 32 * 2 * 3.125 * s * 1e-3);
        EXPECT_DOUBLE_EQ(cfg.digital.post_process_pj, (32 * 16 + 32 + 8) * 3.125 * s * 1e-3);
        EXPECT_DOUBLE_EQ(cfg.platform.dram.read_pj_per_byte, 8 * t.dram_pj_per_bit);
        EXPECT_NEAR(cfg.platform.input_buffer.read_pj_per_byte, sram(16384), 1e-12);
        EXPECT_NEAR(cfg.platform.global_buffer.write_pj_per_byte, sram(1048576), 1e-12);
        EXPECT_NEAR(cfg.pe_array.pj_per_cycle_ds, 1.22 * (t.node_nm / 28) * (t.vdd_v / 0.9) * (t.vdd_v / 0.9), 1e-12);

        const AreaBreakdown a = chip_area(cfg);
        const double tiles = cfg.platform.tiles;
        EXPECT_NEAR(a.arrays, tiles * rows * cfg.crossbar.cols * t.cell.area_f2 * F * F * 1e-6, 1e-12);
        EXPECT_NEAR(a.adcs,
                    tiles * cfg.adc.adcs_per_macro *
                        (t.adc.sar_area_um2_fixed + std::ldexp(t.adc.sar_area_um2_per_level, cfg.adc.bits)) * 1e-6,
                    1e-12);
        EXPECT_NEAR(a.global_buffer, 1048576.0 * 8 * t.sram_bitcell_f2 * F * F / 0.7 * 1e-6, 1e-12);
        EXPECT_NEAR(a.dma_controller, 50000 * t.nand2_f2 * F * F * 1e-6, 1e-12);
    }
}

TEST(CostModel, AreaComponentsAddUpToTheTotalOnRandomConfigs) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> dim(1, 512), tiles(1, 512), bits(1, 12), adcs(1, 16), lanes(1, 64);
    for (int i = 0; i < 200; ++i) {
        ArchConfig cfg = with_technology(kShipped[i % kShipped.size()]);
        cfg.crossbar.rows = dim(rng);
        cfg.crossbar.cols = dim(rng);
        cfg.adc.bits = bits(rng);
        cfg.adc.adcs_per_macro = std::min(adcs(rng), cfg.crossbar.cols);
        cfg.adc.architecture = i % 3 == 0 ? AdcArchitecture::kFlash : AdcArchitecture::kSar;
        cfg.platform.tiles = tiles(rng);
        cfg.platform.ping_pong = i % 2 == 0;
        cfg.digital.post_process_lanes = lanes(rng);
        const AreaBreakdown a = chip_area(cfg);
        double sum = 0;
        for (const CostFigure& f : area_figures(cfg)) {
            EXPECT_GE(f.value, 0) << f.key;
            sum += f.value;
        }
        EXPECT_NEAR(sum, a.total(), 1e-9 * a.total());
        EXPECT_GT(a.total(), 0);
        // Twice the tiles: twice every per-tile component, the rest unchanged.
        ArchConfig twice = cfg;
        twice.platform.tiles *= 2;
        const AreaBreakdown b = chip_area(twice);
        EXPECT_NEAR(b.arrays + b.adcs + b.shift_add + b.input_buffers + b.output_buffers,
                    2 * (a.arrays + a.adcs + a.shift_add + a.input_buffers + a.output_buffers), 1e-9 * b.total());
        EXPECT_DOUBLE_EQ(b.global_buffer + b.pe_array + b.post_process + b.dma_controller,
                         a.global_buffer + a.pe_array + a.post_process + a.dma_controller);
        EXPECT_NEAR(a.tile() * a.tiles, a.arrays + a.adcs + a.shift_add + a.input_buffers + a.output_buffers,
                    1e-9 * a.total());
    }
}

TEST(CostModel, AdcAreaGrowsWithBits) {
    for (auto arch : {AdcArchitecture::kSar, AdcArchitecture::kFlash}) {
        ArchConfig cfg = with_technology("sram-40nm");
        cfg.adc.architecture = arch;
        double previous = 0;
        for (int b = 1; b <= 12; ++b) {
            cfg.adc.bits = b;
            const double adcs = chip_area(cfg).adcs;
            EXPECT_GT(adcs, previous);
            previous = adcs;
        }
    }
}

TEST(CostModel, TheDefaultTechnologyIsTheShippedSram22nmFile) {
    const TechnologyConfig d;
    const TechnologyConfig t = with_technology("sram-22nm").technology;
    ArchConfig a, b;
    a.technology = d;
    a.technology.name = "sram-22nm";
    b.technology = t;
    const auto fa = derive_costs(a.technology, a), fb = derive_costs(b.technology, b);
    ASSERT_EQ(fa.size(), fb.size());
    for (std::size_t i = 0; i < fa.size(); ++i) EXPECT_DOUBLE_EQ(fa[i].value, fb[i].value) << fa[i].key;
    EXPECT_DOUBLE_EQ(chip_area(ArchConfig()).total(), chip_area(b).total());
    EXPECT_EQ(effective_technology(ArchConfig()).name, kDefaultTechnologyName);
}

TEST(CostModel, AConfigWithoutTechnologyKeepsEveryNumber) {
    const ArchConfig cfg;
    ArchConfig copy = cfg;
    apply_technology(copy);
    EXPECT_EQ(config_to_json(copy), config_to_json(cfg));
    for (const CostFigure& f : derive_costs(effective_technology(cfg), cfg)) EXPECT_EQ(cost_source(cfg, f.key), "config");
}

TEST(CostModel, AConfigsOwnNumberOverridesTheDerivedOneAndStaysWhenBitsChange) {
    ArchConfig cfg = with_technology("rram-40nm", R"(, "adc": {"pj_per_conversion": 7.5}, "dma": {"pj_per_byte": 0.019})");
    EXPECT_DOUBLE_EQ(cfg.adc.pj_per_conversion, 7.5);
    EXPECT_EQ(cost_source(cfg, "adc.pj_per_conversion"), "config");
    EXPECT_EQ(cost_source(cfg, "crossbar.read_pj_per_cell"), "technology");
    // --adc-bits (command_line.cpp) re-derives what the config did not set, and keeps what it did.
    const double shift_add = cfg.digital.shift_add_pj;
    cfg.adc.bits = 4;
    cfg.crossbar.rows = 64;
    apply_technology(cfg);
    EXPECT_DOUBLE_EQ(cfg.adc.pj_per_conversion, 7.5);
    EXPECT_DOUBLE_EQ(cfg.crossbar.read_pj_per_column, figure(derive_costs(cfg.technology, cfg), "crossbar.read_pj_per_column"));
    EXPECT_DOUBLE_EQ(cfg.digital.shift_add_pj, shift_add);

    ArchConfig plain = with_technology("rram-40nm", R"(, "adc": {"bits": 4})");
    EXPECT_DOUBLE_EQ(plain.adc.pj_per_conversion, 16 * 4.0 * 1e-3);
}

TEST(CostModel, AWrittenOutConfigReadsBackWithTheSameFiguresAndSources) {
    const ArchConfig cfg = with_technology("sram-40nm", R"(, "adc": {"bits": 5, "pj_per_conversion": 0.3})");
    const ArchConfig back = config_from_json(config_to_json(cfg), "back.json");
    EXPECT_EQ(config_to_json(back), config_to_json(cfg));
    EXPECT_EQ(back.cost_overrides, cfg.cost_overrides);
    EXPECT_EQ(back.technology.name, "sram-40nm");
    EXPECT_EQ(cfg.cost_overrides, std::vector<std::string>{"adc.pj_per_conversion"});
}

TEST(CostModel, ThroughputFollowsFromOpsLatencyEnergyAndArea) {
    const Throughput t = throughput(1e6, 1000.0, 2e6, 4.0);  // 2e6 ops in 1 us using 2 uJ on 4 mm^2
    EXPECT_DOUBLE_EQ(t.tops, 2.0);
    EXPECT_DOUBLE_EQ(t.frames_per_s, 1e6);
    EXPECT_DOUBLE_EQ(t.tops_per_w, 1.0);
    EXPECT_DOUBLE_EQ(t.frames_per_j, 5e5);
    EXPECT_DOUBLE_EQ(t.tops_per_mm2, 0.5);
}

TEST(CostModel, BadTechnologiesAreNamedWithTheFileAndKey) {
    const auto dir = std::filesystem::temp_directory_path() / "cimvp_test_cost_model";
    std::filesystem::create_directories(dir);
    const auto write = [&](const std::string& file, const std::string& text) {
        std::ofstream(dir / file) << text;
        return (dir / file).string();
    };
    const std::string cfg_path = write("c.json", R"({"technology": "t.json"})");
    write("t.json", R"({"name": "x", "cell": {"type": "pcm"}})");
    try {
        load_config(cfg_path);
        ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), (dir / "t.json").string() + R"(: cell.type: expected "sram" or "rram", got "pcm")");
    }
    write("t.json", R"({"name": "x", "vdd_v": 0})");
    try {
        load_config(cfg_path);
        ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("t.json: vdd_v: expected a number in (0, 5], got 0"), std::string::npos)
            << e.what();
    }
    write("t.json", R"({"node_nm": 22, "nodes": 1})");
    try {
        load_config(cfg_path);
        ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("t.json: nodes: unknown key"), std::string::npos) << e.what();
    }
    write("t.json", R"({"node_nm": 22})");
    EXPECT_NE(std::string([&] {
                  try {
                      load_config(cfg_path);
                  } catch (const ConfigError& e) {
                      return std::string(e.what());
                  }
                  return std::string();
              }()).find("t.json: name: expected a non-empty string naming the technology"),
              std::string::npos);
    EXPECT_NE(load_error(R"({"technology": "/nonexistent/t.json"})").find("/nonexistent/t.json"), std::string::npos);
    EXPECT_EQ(load_error(R"({"technology": 5})"),
              "bad.json: technology: expected a technology file name (a string) or object, got 5");
    EXPECT_EQ(load_error(R"({"technology": {"node_nm": 22}})"),
              "bad.json: technology.name: expected a non-empty string naming the technology");
    EXPECT_EQ(load_error(R"({"adc": {"architecture": "pipeline"}})"),
              R"(bad.json: adc.architecture: expected "sar" or "flash", got "pipeline")");
    std::filesystem::remove_all(dir);
}

// docs/costs.md "PE area": the gate counts of the SWIS comparison's PEs, summed by hand.
TEST(CostModel, PeGatesAreTheDocumentedDatapathSums) {
    const double ff = 5, and2 = 4.0 / 3.0, xor2 = 2, fa = 6, mux = 2;
    // single shift: 32 + 4 + 7 + 32 flip-flops, 32 AND2, 32 XOR2, 30 + 32 adder bits, 3 x 17 mux
    EXPECT_NEAR(pe_gates(PeAreaKind::kSingleShift), 75 * ff + 32 * and2 + 32 * xor2 + 62 * fa + 51 * mux, 1e-9);
    EXPECT_NEAR(pe_gates(PeAreaKind::kDoubleShift), 82 * ff + 64 * and2 + 64 * xor2 + 124 * fa + 102 * mux, 1e-9);
    // fixed point: 64 + 32 flip-flops, 4 x 64 partial products, 4 x 56 + 3 x 17 + 32 adder bits
    EXPECT_NEAR(pe_gates(PeAreaKind::kFixedPoint), 96 * ff + 256 * and2 + 307 * fa, 1e-9);
    // fusion unit: 64 + 32 flip-flops, 16 x 9 partial products, 16 x 6 + 164 + 32 adder bits, 164 mux
    EXPECT_NEAR(pe_gates(PeAreaKind::kBitFusion), 96 * ff + 144 * and2 + 292 * fa + 164 * mux, 1e-9);
    const TechnologyConfig t = effective_technology(ArchConfig());
    const double f_um = t.node_nm * 1e-3;
    EXPECT_NEAR(pe_area_um2(t, PeAreaKind::kFixedPoint), pe_gates(PeAreaKind::kFixedPoint) * t.nand2_f2 * f_um * f_um,
                1e-9);
    EXPECT_NE(pe_gates_formula(PeAreaKind::kBitFusion).find("NAND2"), std::string::npos);
}

// docs/costs.md "PE width": the same datapaths at 2..16 lanes, summed by hand at 8 lanes; at 4 lanes
// they are the PE array's PEs; the figures against FXP follow the cycles per group and the gates.
TEST(CostModel, PeWidthScalesTheDatapathsAndComparesWithFixedPointOfTheSameWidth) {
    const double ff = 5, and2 = 4.0 / 3.0, xor2 = 2, fa = 6, mux = 2;
    for (PeAreaKind k : {PeAreaKind::kSingleShift, PeAreaKind::kDoubleShift, PeAreaKind::kFixedPoint})
        EXPECT_EQ(pe_gates(k, 4), pe_gates(k)) << pe_area_kind_name(k);
    // 8 lanes, single shift: 64 + 8 + (8 + 3) + 32 flip-flops, 64 AND2, 64 XOR2, 7 x 11 + 32 adder bits, 3 x 18 mux
    EXPECT_NEAR(pe_gates(PeAreaKind::kSingleShift, 8), 115 * ff + 64 * and2 + 64 * xor2 + 109 * fa + 54 * mux, 1e-9);
    // 16 lanes, fixed point: 256 + 32 flip-flops, 16 x 64 partial products, 16 x 56 + 15 x 17 + 32 adder bits
    EXPECT_NEAR(pe_gates(PeAreaKind::kFixedPoint, 16), 288 * ff + 1024 * and2 + 1183 * fa, 1e-9);
    // 2 lanes, double shift: 16 + 2 + 2 x (2 + 3) + 32 flip-flops, 2 x 16 AND2 and XOR2, 2 x (1 x 9 + 32), 2 x 3 x 16
    EXPECT_NEAR(pe_gates(PeAreaKind::kDoubleShift, 2), 60 * ff + 32 * and2 + 32 * xor2 + 82 * fa + 96 * mux, 1e-9);
    EXPECT_THROW(pe_gates(PeAreaKind::kBitFusion, 8), std::invalid_argument);
    EXPECT_THROW(pe_gates(PeAreaKind::kSingleShift, 17), std::invalid_argument);

    const PeArrayConfig pe;
    const double ss4 = pe_gates(PeAreaKind::kSingleShift), fxp4 = pe_gates(PeAreaKind::kFixedPoint);
    const PeWidthFigures f = pe_width_figures(pe, PeAreaKind::kSingleShift, 4, 2);
    EXPECT_DOUBLE_EQ(f.area, ss4 / fxp4);
    EXPECT_DOUBLE_EQ(f.throughput_per_area, (2.0 / ss4) / (4.0 / fxp4));         // 4 MACs in 2 cycles
    EXPECT_DOUBLE_EQ(f.energy_per_mac, (pe.pj_per_cycle_ss / 2) / (pe.pj_per_cycle_fxp / 4));
    // double shift at 3 shifts takes 2 cycles, as at 4; energy per cycle follows the gates at 16 lanes
    const PeWidthFigures d3 = pe_width_figures(pe, PeAreaKind::kDoubleShift, 16, 3);
    const PeWidthFigures d4 = pe_width_figures(pe, PeAreaKind::kDoubleShift, 16, 4);
    EXPECT_DOUBLE_EQ(d3.throughput_per_area, d4.throughput_per_area);
    const double ds16 = pe_gates(PeAreaKind::kDoubleShift, 16), fxp16 = pe_gates(PeAreaKind::kFixedPoint, 16);
    const double ds_pj = pe.pj_per_cycle_ds * ds16 / pe_gates(PeAreaKind::kDoubleShift);
    const double fxp_pj = pe.pj_per_cycle_fxp * fxp16 / fxp4;
    EXPECT_DOUBLE_EQ(d4.energy_per_mac, (ds_pj / 8) / (fxp_pj / 16));
    EXPECT_THROW(pe_width_figures(pe, PeAreaKind::kFixedPoint, 4, 2), std::invalid_argument);
    EXPECT_THROW(pe_width_figures(pe, PeAreaKind::kSingleShift, 4, 9), std::invalid_argument);
    // The energy per cycle of a PE form at other widths (the array model of other group sizes
    // takes it too): the configured figure exactly at 4 lanes, scaled by the gates elsewhere.
    for (PeMode m : {PeMode::kSingleShift, PeMode::kDoubleShift, PeMode::kActSerial, PeMode::kWgtSerial,
                     PeMode::kFixedPoint})
        EXPECT_EQ(pe_pj_per_cycle(pe, m, 4), pe.pj_per_cycle(m)) << pe_mode_name(m);
    EXPECT_DOUBLE_EQ(pe_pj_per_cycle(pe, PeMode::kDoubleShift, 16), ds_pj);
    EXPECT_DOUBLE_EQ(pe_pj_per_cycle(pe, PeMode::kWgtSerial, 2),
                     pe.pj_per_cycle_bitserial * pe_gates(PeAreaKind::kSingleShift, 2) / ss4);
    EXPECT_EQ(pe_area_kind(PeMode::kActSerial), PeAreaKind::kSingleShift);
    EXPECT_EQ(pe_area_kind(PeMode::kFixedPoint), PeAreaKind::kFixedPoint);
    const TechnologyConfig t = effective_technology(ArchConfig());
    EXPECT_DOUBLE_EQ(pe_area_um2(t, PeAreaKind::kDoubleShift, 8) / pe_area_um2(t, PeAreaKind::kDoubleShift),
                     pe_gates(PeAreaKind::kDoubleShift, 8) / pe_gates(PeAreaKind::kDoubleShift));
}

TEST(CostModel, IsoAreaArrayIsTheLargestRoughlySquareArrayThatFits) {
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> pe(50.0, 3000.0), ratio(1.0, 300.0);
    for (int i = 0; i < 2000; ++i) {
        const double a = pe(rng), budget = a * ratio(rng);
        const PeArrayShape s = iso_area_array(budget, a);
        ASSERT_GE(s.rows, 1);
        EXPECT_LE(s.pes() * a, budget);                     // fits
        EXPECT_GT(s.rows * (s.cols + 1) * a, budget);       // one more column does not
        EXPECT_GT((s.rows + 1) * (s.rows + 1) * a, budget);  // nor a square one row larger
        EXPECT_GE(s.cols, s.rows);
        EXPECT_LE(s.cols, s.rows + 2);
    }
    // The SWIS comparison: 8 x 8 single-shift PEs hold 4 x 5 fixed-point PEs or fusion units.
    const TechnologyConfig t = effective_technology(ArchConfig());
    const double budget = 64 * pe_area_um2(t, PeAreaKind::kSingleShift);
    for (PeAreaKind k : {PeAreaKind::kFixedPoint, PeAreaKind::kBitFusion}) {
        const PeArrayShape s = iso_area_array(budget, pe_area_um2(t, k));
        EXPECT_EQ(s.rows, 4) << pe_area_kind_name(k);
        EXPECT_EQ(s.cols, 5) << pe_area_kind_name(k);
    }
    EXPECT_EQ(iso_area_array(budget, pe_area_um2(t, PeAreaKind::kSingleShift)).pes(), 64);
    EXPECT_THROW(iso_area_array(10, 20), std::invalid_argument);
    EXPECT_THROW(iso_area_array(10, 0), std::invalid_argument);
}

}  // namespace
}  // namespace cimvp
