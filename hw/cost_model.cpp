// The cost formulas, each once (docs/costs.md has them with their sources and the derived figures of
// every shipped technology file; testbench/test_cost_model.cpp checks them).
#include "hw/cost_model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sw/support/text_format.h"

namespace cimvp {

namespace {

// Horowitz, "Computing's energy problem", ISSCC 2014: 45 nm at 0.9 V. Switched energy is C V^2 with C
// proportional to the feature size, so a figure moves to node F and supply V by (F / 45) (V / 0.9)^2.
constexpr double kRefNodeNm = 45.0;
constexpr double kRefVdd = 0.9;
constexpr double kAddFjPerBit45 = 3.125;          // 32-bit integer add 0.1 pJ / 32
constexpr double kMultFjPerPartialProduct45 = 3.125;  // 8x8 multiply 0.2 pJ / 64 (32x32: 3.1 pJ / 1024)
constexpr double kRegFjPerBit45 = 3.125;          // a register bit written: taken as one adder bit
// SRAM, 64-bit access: 10 pJ (8 KB), 20 pJ (32 KB), 100 pJ (1 MB): 3.4 pJ x sqrt(KiB) within 8 %,
// the square root of a wire length across an array of that area. Per byte: 3.4 / 8 pJ.
constexpr double kSramFjPerByteSqrtKiB45 = 425.0;
// The SWIS PE array (Li et al., "SWIS", tinyML 2021, Table 4): 28 nm synthesis; its per-cycle PE
// energies are PeArrayConfig's defaults (sw/contract/pe_mode.h), taken at a nominal 0.9 V. Its area,
// 0.54 mm^2 with 144 KB of buffers, less those buffers in this model's SRAM (150 F^2 cells, 70 %
// efficiency: 0.198 mm^2), over its 64 PEs: 5,341 um^2 per PE at 28 nm.
constexpr double kSwisNodeNm = 28.0;
constexpr double kSwisVdd = 0.9;
constexpr double kSwisPeAreaUm2 = 5341.0;
// Interconnect and device capacitance (ITRS-class figures): a wire 0.2 fF/um; an access transistor's
// drain junction (on the bit line) or gate (on the word line) 1 fF/um of width, width 2F.
constexpr double kWireFfPerUm = 0.2;
constexpr double kDeviceFfPerUm = 1.0;
constexpr double kAccessWidthF = 2.0;
// Logic in NAND2 equivalents (typical standard-cell library ratios): full adder 6, D flip-flop 5,
// 2:1 multiplexer 2.
constexpr double kFullAdderGates = 6.0;
constexpr double kFlipFlopGates = 5.0;
constexpr double kMuxGates = 2.0;
constexpr int kAccumulatorBits = 32;  // shift-add and post-processing accumulators
constexpr int kShifterLevels = 3;     // shift by 0..7 slice positions
constexpr int kPpuMultiplierBits = 16;  // post-processing: 32-bit accumulator x 16-bit multiplier
constexpr int kPpuOutputBits = 8;
constexpr double kDmaControllerGates = 50000.0;  // DMA engine and command processor (an assumption)
constexpr double kSramArrayEfficiency = 0.7;       // cell area over macro area (decoders, sense amps)

double energy_scale(const TechnologyConfig& t) {
    return (t.node_nm / kRefNodeNm) * (t.vdd_v / kRefVdd) * (t.vdd_v / kRefVdd);
}
double f_um(const TechnologyConfig& t) { return t.node_nm * 1e-3; }
double f2_um2(const TechnologyConfig& t) { return f_um(t) * f_um(t); }

double add_fj(const TechnologyConfig& t) { return kAddFjPerBit45 * energy_scale(t); }
double mult_fj(const TechnologyConfig& t) { return kMultFjPerPartialProduct45 * energy_scale(t); }
double reg_fj(const TechnologyConfig& t) { return kRegFjPerBit45 * energy_scale(t); }

double sram_pj_per_byte(const TechnologyConfig& t, std::uint64_t bytes) {
    return kSramFjPerByteSqrtKiB45 * std::sqrt(static_cast<double>(bytes) / 1024.0) * energy_scale(t) * 1e-3;
}
double sram_um2(const TechnologyConfig& t, std::uint64_t bytes) {
    return static_cast<double>(bytes) * 8.0 * t.sram_bitcell_f2 * f2_um2(t) / kSramArrayEfficiency;
}
double gates_um2(const TechnologyConfig& t, double gates) { return gates * t.nand2_f2 * f2_um2(t); }

double cell_pitch_um(const TechnologyConfig& t) { return std::sqrt(t.cell.area_f2) * f_um(t); }
// One cell's share of a bit line's (word line's) capacitance: the wire across the cell and the access
// device's junction (gate).
double line_ff_per_cell(const TechnologyConfig& t) {
    return kWireFfPerUm * cell_pitch_um(t) + kDeviceFfPerUm * kAccessWidthF * f_um(t);
}

double adc_um2(const TechnologyConfig& t, const AdcConfig& a) {
    const double levels = std::ldexp(1.0, a.bits);
    return a.architecture == AdcArchitecture::kFlash ? (levels - 1) * t.adc.comparator_area_um2
                                                     : t.adc.sar_area_um2_fixed + levels * t.adc.sar_area_um2_per_level;
}

double shift_adder_gates() { return kAccumulatorBits * (kFullAdderGates + kShifterLevels * kMuxGates); }
double accumulator_gates() { return kAccumulatorBits * kFlipFlopGates; }
double ppu_lane_gates() {
    return kAccumulatorBits * kPpuMultiplierBits * kFullAdderGates + kAccumulatorBits * kFullAdderGates +
           kPpuOutputBits * kFlipFlopGates;
}

}  // namespace

std::vector<CostFigure> derive_costs(const TechnologyConfig& t, const ArchConfig& cfg) {
    std::vector<CostFigure> v;
    const double s = energy_scale(t);
    const double vdd = t.vdd_v;
    const double c_line = line_ff_per_cell(t);
    const int rows = cfg.crossbar.rows;

    v.push_back({"crossbar.read_ns", t.cell.read_ns, "= cell.read_ns"});
    const double wl_fj = c_line * vdd * vdd;
    const double cell_fj = t.cell.mean_conductance_us * t.cell.read_v * t.cell.read_v * t.cell.read_ns;
    v.push_back({"crossbar.read_pj_per_cell", (wl_fj + cell_fj) * 1e-3,
                 format_text("(C_line %.4g fF x Vdd^2 %.3g V^2 [word line] + G %.4g uS x Vread^2 %.3g V^2 x t %.4g ns "
                     "[cell current]) / 1000",
                     c_line, vdd * vdd, t.cell.mean_conductance_us, t.cell.read_v * t.cell.read_v, t.cell.read_ns)});
    v.push_back({"crossbar.read_pj_per_column", rows * c_line * t.cell.read_v * vdd * 1e-3,
                 format_text("rows %d x C_line %.4g fF x Vread %.3g V x Vdd %.3g V / 1000 [bit line]", rows, c_line,
                     t.cell.read_v, vdd)});
    v.push_back({"crossbar.write_ns_per_row", t.cell.write_ns_per_row, "= cell.write_ns_per_row"});
    v.push_back({"crossbar.write_pj_per_cell", t.cell.write_pj_per_cell, "= cell.write_pj_per_cell"});

    v.push_back({"adc.cycle_ns", t.adc.cycle_ns, "= adc.cycle_ns"});
    const double levels = std::ldexp(1.0, cfg.adc.bits);
    if (cfg.adc.architecture == AdcArchitecture::kFlash)
        v.push_back({"adc.pj_per_conversion", (levels - 1) * t.adc.comparator_fj * 1e-3,
                     format_text("flash: (2^%d - 1) comparators x %.4g fJ / 1000", cfg.adc.bits, t.adc.comparator_fj)});
    else
        v.push_back({"adc.pj_per_conversion", levels * t.adc.walden_fj_per_step * 1e-3,
                     format_text("SAR: 2^%d steps x Walden FoM %.4g fJ/step / 1000", cfg.adc.bits, t.adc.walden_fj_per_step)});

    v.push_back({"digital.clock_ns", t.clock_ns, "= clock_ns"});
    v.push_back({"digital.shift_add_pj", kAccumulatorBits * (add_fj(t) + reg_fj(t)) * 1e-3,
                 format_text("%d bits x (add %.4g + register %.4g fJ/bit) / 1000", kAccumulatorBits, add_fj(t), reg_fj(t))});
    v.push_back({"digital.post_process_pj",
                 (kAccumulatorBits * kPpuMultiplierBits * mult_fj(t) + kAccumulatorBits * add_fj(t) +
                  kPpuOutputBits * reg_fj(t)) * 1e-3,
                 format_text("(%dx%d multiply x %.4g fJ + %d-bit add x %.4g fJ + %d-bit register x %.4g fJ) / 1000",
                     kAccumulatorBits, kPpuMultiplierBits, mult_fj(t), kAccumulatorBits, add_fj(t), kPpuOutputBits,
                     reg_fj(t))});
    v.push_back({"dma.pj_per_byte", 8 * 2 * reg_fj(t) * 1e-3,
                 format_text("8 bits x 2 register writes x %.4g fJ / 1000", reg_fj(t))});

    const auto memory = [&](const char* name, const MemoryConfig& m) {
        const double pj = sram_pj_per_byte(t, m.size_bytes);
        const std::string f = format_text("SRAM: %.4g fJ x sqrt(%llu B / 1 KiB) x scale %.4g / 1000", kSramFjPerByteSqrtKiB45,
                                  static_cast<unsigned long long>(m.size_bytes), s);
        v.push_back({std::string("platform.") + name + ".read_pj_per_byte", pj, f});
        v.push_back({std::string("platform.") + name + ".write_pj_per_byte", pj, f});
    };
    const std::string dram = format_text("8 bits x dram_pj_per_bit %.4g pJ", t.dram_pj_per_bit);
    v.push_back({"platform.dram.read_pj_per_byte", 8 * t.dram_pj_per_bit, dram});
    v.push_back({"platform.dram.write_pj_per_byte", 8 * t.dram_pj_per_bit, dram});
    memory("input_buffer", cfg.platform.input_buffer);
    memory("output_buffer", cfg.platform.output_buffer);
    if (cfg.platform.global_buffer.size_bytes > 0) memory("global_buffer", cfg.platform.global_buffer);

    const double pe_scale = (t.node_nm / kSwisNodeNm) * (vdd / kSwisVdd) * (vdd / kSwisVdd);
    const auto pe = [&](const char* key, double pj28) {
        v.push_back({std::string("pe_array.") + key, pj28 * pe_scale,
                     format_text("%.4g pJ at 28 nm, 0.9 V x (%.4g / 28) x (%.3g / 0.9)^2", pj28, t.node_nm, vdd)});
    };
    pe("pj_per_cycle_ss", kPeSingleShiftPj);
    pe("pj_per_cycle_ds", kPeDoubleShiftPj);
    pe("pj_per_cycle_bitserial", kPeSingleShiftPj);
    pe("pj_per_cycle_fxp", kPeFixedPointPj);
    v.push_back({"pe_array.buffer_pj_per_byte", sram_pj_per_byte(t, cfg.pe_array.act_buffer_bytes),
                 format_text("SRAM of the activation buffer's %llu B, as the memories",
                     static_cast<unsigned long long>(cfg.pe_array.act_buffer_bytes))});
    return v;
}

double& cost_field(ArchConfig& c, const std::string& key) {
    static const struct {
        const char* key;
        double& (*get)(ArchConfig&);
    } kFields[] = {
        {"crossbar.read_ns", [](ArchConfig& c) -> double& { return c.crossbar.read_ns; }},
        {"crossbar.read_pj_per_cell", [](ArchConfig& c) -> double& { return c.crossbar.read_pj_per_cell; }},
        {"crossbar.read_pj_per_column", [](ArchConfig& c) -> double& { return c.crossbar.read_pj_per_column; }},
        {"crossbar.write_ns_per_row", [](ArchConfig& c) -> double& { return c.crossbar.write_ns_per_row; }},
        {"crossbar.write_pj_per_cell", [](ArchConfig& c) -> double& { return c.crossbar.write_pj_per_cell; }},
        {"adc.cycle_ns", [](ArchConfig& c) -> double& { return c.adc.cycle_ns; }},
        {"adc.pj_per_conversion", [](ArchConfig& c) -> double& { return c.adc.pj_per_conversion; }},
        {"digital.clock_ns", [](ArchConfig& c) -> double& { return c.digital.clock_ns; }},
        {"digital.shift_add_pj", [](ArchConfig& c) -> double& { return c.digital.shift_add_pj; }},
        {"digital.post_process_pj", [](ArchConfig& c) -> double& { return c.digital.post_process_pj; }},
        {"dma.pj_per_byte", [](ArchConfig& c) -> double& { return c.dma.pj_per_byte; }},
        {"platform.dram.read_pj_per_byte", [](ArchConfig& c) -> double& { return c.platform.dram.read_pj_per_byte; }},
        {"platform.dram.write_pj_per_byte",
         [](ArchConfig& c) -> double& { return c.platform.dram.write_pj_per_byte; }},
        {"platform.input_buffer.read_pj_per_byte",
         [](ArchConfig& c) -> double& { return c.platform.input_buffer.read_pj_per_byte; }},
        {"platform.input_buffer.write_pj_per_byte",
         [](ArchConfig& c) -> double& { return c.platform.input_buffer.write_pj_per_byte; }},
        {"platform.output_buffer.read_pj_per_byte",
         [](ArchConfig& c) -> double& { return c.platform.output_buffer.read_pj_per_byte; }},
        {"platform.output_buffer.write_pj_per_byte",
         [](ArchConfig& c) -> double& { return c.platform.output_buffer.write_pj_per_byte; }},
        {"platform.global_buffer.read_pj_per_byte",
         [](ArchConfig& c) -> double& { return c.platform.global_buffer.read_pj_per_byte; }},
        {"platform.global_buffer.write_pj_per_byte",
         [](ArchConfig& c) -> double& { return c.platform.global_buffer.write_pj_per_byte; }},
        {"pe_array.pj_per_cycle_ss", [](ArchConfig& c) -> double& { return c.pe_array.pj_per_cycle_ss; }},
        {"pe_array.pj_per_cycle_ds", [](ArchConfig& c) -> double& { return c.pe_array.pj_per_cycle_ds; }},
        {"pe_array.pj_per_cycle_bitserial",
         [](ArchConfig& c) -> double& { return c.pe_array.pj_per_cycle_bitserial; }},
        {"pe_array.pj_per_cycle_fxp", [](ArchConfig& c) -> double& { return c.pe_array.pj_per_cycle_fxp; }},
        {"pe_array.buffer_pj_per_byte", [](ArchConfig& c) -> double& { return c.pe_array.buffer_pj_per_byte; }},
    };
    for (const auto& f : kFields)
        if (key == f.key) return f.get(c);
    throw std::out_of_range("cost_field: no cost key " + key);
}

double cost_field(const ArchConfig& cfg, const std::string& key) {
    return cost_field(const_cast<ArchConfig&>(cfg), key);
}

void apply_technology(ArchConfig& cfg) {
    if (!cfg.technology.given()) return;
    for (const CostFigure& f : derive_costs(cfg.technology, cfg)) {
        if (std::find(cfg.cost_overrides.begin(), cfg.cost_overrides.end(), f.key) == cfg.cost_overrides.end())
            cost_field(cfg, f.key) = f.value;
    }
}

std::string cost_source(const ArchConfig& cfg, const std::string& key) {
    if (!cfg.technology.given()) return "config";
    return std::find(cfg.cost_overrides.begin(), cfg.cost_overrides.end(), key) == cfg.cost_overrides.end()
               ? "technology"
               : "config";
}

TechnologyConfig effective_technology(const ArchConfig& cfg) {
    if (cfg.technology.given()) return cfg.technology;
    TechnologyConfig t;
    t.name = kDefaultTechnologyName;
    return t;
}

double AreaBreakdown::tile() const {
    return tiles > 0 ? (arrays + adcs + shift_add + input_buffers + output_buffers) / tiles : 0.0;
}

std::vector<CostFigure> area_figures(const ArchConfig& cfg) {
    const TechnologyConfig t = effective_technology(cfg);
    const double tiles = cfg.platform.tiles;
    const double cells = static_cast<double>(cfg.crossbar.rows) * cfg.crossbar.cols;
    const double adcs = cfg.adc.adcs_per_macro;
    const auto& p = cfg.platform;
    const int banks = p.ping_pong ? 2 : 1;
    const auto& pe = cfg.pe_array;
    const double pes = static_cast<double>(pe.rows) * pe.cols;
    const std::uint64_t pe_buffers = pe.act_buffer_bytes + pe.weight_buffer_bytes + pe.out_buffer_bytes;
    const double shift_add_gates = adcs * shift_adder_gates() + cfg.crossbar.cols * accumulator_gates();
    const double pe_um2 = kSwisPeAreaUm2 * (t.node_nm / kSwisNodeNm) * (t.node_nm / kSwisNodeNm);
    const auto sram_f = [&](double n, std::uint64_t bytes) {
        return format_text("%g x %llu B x 8 x %.4g F^2 / %.2g efficiency", n, static_cast<unsigned long long>(bytes),
                   t.sram_bitcell_f2, kSramArrayEfficiency);
    };
    std::vector<CostFigure> v;
    v.push_back({"arrays", tiles * cells * t.cell.area_f2 * f2_um2(t) * 1e-6,
                 format_text("%g tiles x %g cells x %.4g F^2 (F = %g nm)", tiles, cells, t.cell.area_f2, t.node_nm)});
    v.push_back({"adcs", tiles * adcs * adc_um2(t, cfg.adc) * 1e-6,
                 format_text("%g tiles x %g ADCs x %.4g um^2 (%s, %d bits)", tiles, adcs, adc_um2(t, cfg.adc),
                     cfg.adc.architecture == AdcArchitecture::kFlash ? "flash: (2^bits - 1) comparators"
                                                                     : "SAR: fixed + 2^bits unit capacitors",
                     cfg.adc.bits)});
    v.push_back({"shift_add", tiles * gates_um2(t, shift_add_gates) * 1e-6,
                 format_text("%g tiles x (%g shift-adders x %g + %d accumulators x %g) NAND2 x %.4g F^2", tiles, adcs,
                     shift_adder_gates(), cfg.crossbar.cols, accumulator_gates(), t.nand2_f2)});
    v.push_back({"input_buffers", tiles * banks * sram_um2(t, p.input_buffer.size_bytes) * 1e-6,
                 sram_f(tiles * banks, p.input_buffer.size_bytes)});
    v.push_back({"output_buffers", tiles * sram_um2(t, p.output_buffer.size_bytes) * 1e-6,
                 sram_f(tiles, p.output_buffer.size_bytes)});
    v.push_back({"global_buffer", sram_um2(t, p.global_buffer.size_bytes) * 1e-6,
                 sram_f(1, p.global_buffer.size_bytes)});
    v.push_back({"pe_array", (pes * pe_um2 + sram_um2(t, pe_buffers)) * 1e-6,
                 format_text("%g PEs x %.5g um^2 (5341 um^2 at 28 nm x (F / 28)^2) + ", pes, pe_um2) + sram_f(1, pe_buffers)});
    v.push_back({"post_process", cfg.digital.post_process_lanes * gates_um2(t, ppu_lane_gates()) * 1e-6,
                 format_text("%d lanes x %g NAND2 x %.4g F^2", cfg.digital.post_process_lanes, ppu_lane_gates(), t.nand2_f2)});
    v.push_back({"dma_controller", gates_um2(t, kDmaControllerGates) * 1e-6,
                 format_text("%g NAND2 x %.4g F^2", kDmaControllerGates, t.nand2_f2)});
    return v;
}

AreaBreakdown chip_area(const ArchConfig& cfg) {
    const std::vector<CostFigure> f = area_figures(cfg);
    AreaBreakdown a;
    double AreaBreakdown::*fields[] = {&AreaBreakdown::arrays,         &AreaBreakdown::adcs,
                                       &AreaBreakdown::shift_add,      &AreaBreakdown::input_buffers,
                                       &AreaBreakdown::output_buffers, &AreaBreakdown::global_buffer,
                                       &AreaBreakdown::pe_array,       &AreaBreakdown::post_process,
                                       &AreaBreakdown::dma_controller};
    static_assert(sizeof fields / sizeof fields[0] == 9, "one field per area figure");
    for (std::size_t i = 0; i < f.size(); ++i) a.*fields[i] = f[i].value;
    a.tiles = cfg.platform.tiles;
    return a;
}

Throughput throughput(double macs_per_image, double latency_per_image_ns, double energy_per_image_pj,
                      double area_mm2) {
    Throughput r;
    const double ops = 2.0 * macs_per_image;
    if (latency_per_image_ns > 0) {
        r.tops = ops / latency_per_image_ns * 1e-3;  // ops/ns = 1e9 ops/s
        r.frames_per_s = 1e9 / latency_per_image_ns;
    }
    if (energy_per_image_pj > 0) {
        r.tops_per_w = ops / energy_per_image_pj;  // ops/pJ = 1e12 ops/J
        r.frames_per_j = 1e12 / energy_per_image_pj;
    }
    if (area_mm2 > 0) r.tops_per_mm2 = r.tops / area_mm2;
    return r;
}

namespace {

// PE datapaths (pe_gates): M = 4 lanes of B = 8-bit activations (the SWIS group), a 32-bit
// accumulator (kAccumulatorBits), shift positions 0..7 (kShifterLevels select bits). Gate figures:
// kFullAdderGates, kFlipFlopGates, kMuxGates above; a 2-input AND 4/3 NAND2 (NAND2 and an inverter),
// a 2-input XOR 2 NAND2 (typical standard-cell library ratios).
constexpr double kAnd2Gates = 4.0 / 3.0;
constexpr double kXor2Gates = 2.0;
constexpr int kPeActBits = 8;
constexpr int kPeWeightBits = 8;
constexpr int kPeProductBits = kPeActBits + kPeWeightBits;  // an 8 x 8 product
// A lane's sign-applied activation summed over `lanes` lanes: 8 + ceil(log2 lanes) bits (10 for 4).
int pe_tree_bits(int lanes) {
    int b = 0;
    while ((1 << b) < lanes) ++b;
    return kPeActBits + b;
}
int pe_shifter_bits(int lanes) { return pe_tree_bits(lanes) + 7; }  // the tree's sum shifted by up to 7
// Bit Fusion's fusion unit: 16 BitBricks, each a signed 3 x 3-bit multiplier (2 bits and a sign
// extension per operand), and the 15 adders of its shift-add tree, at widths 8, 12, 16 and 20 bits
// by level (8, 4, 2, 1 adders), each with one operand behind a configurable shift (a 2:1 mux per bit).
constexpr int kBitBricks = 16;
constexpr int kBitBrickOperandBits = 3;
constexpr int kFusionTreeAdderBits = 8 * 8 + 4 * 12 + 2 * 16 + 1 * 20;
constexpr int kFusionOperandBits = kBitBricks * 2;  // 2 bits per brick per operand held in the unit

struct PeTerms {
    double ff = 0, and2 = 0, xor2 = 0, fa = 0, mux = 0;
    double gates() const {
        return ff * kFlipFlopGates + and2 * kAnd2Gates + xor2 * kXor2Gates + fa * kFullAdderGates + mux * kMuxGates;
    }
};

// One shift's lane logic, tree and shifter: the activations ANDed with a mask bit, the signs applied
// (XOR; the +1 of the negation is the tree's carry-in), M - 1 adders, a 3-level barrel shifter.
PeTerms shift_path(int lanes) {
    PeTerms t;
    t.and2 = lanes * kPeActBits;
    t.xor2 = lanes * kPeActBits;
    t.fa = (lanes - 1) * pe_tree_bits(lanes);
    t.mux = kShifterLevels * pe_shifter_bits(lanes);
    return t;
}

PeTerms pe_terms(PeAreaKind k, int lanes) {
    if (lanes < 1 || lanes > swis::kMaxGroupSize || (k == PeAreaKind::kBitFusion && lanes != swis::kGroupSize))
        throw std::invalid_argument(format_text("PE width: %s PE of %d lanes: expected %s", pe_area_kind_name(k), lanes,
                                        k == PeAreaKind::kBitFusion ? "the fusion unit as it is (no lanes)" : "1..16 lanes"));
    PeTerms t;
    const double acc_fa = kAccumulatorBits, acc_ff = kAccumulatorBits;
    switch (k) {
        case PeAreaKind::kSingleShift:
        case PeAreaKind::kDoubleShift: {
            const int paths = k == PeAreaKind::kDoubleShift ? 2 : 1;
            const PeTerms sp = shift_path(lanes);
            // activations, signs, and per shift path its mask bits and 3-bit shift
            t.ff = lanes * kPeActBits + lanes + paths * (lanes + kShifterLevels) + acc_ff;
            t.and2 = paths * sp.and2;
            t.xor2 = paths * sp.xor2;
            t.mux = paths * sp.mux;
            t.fa = paths * sp.fa + paths * acc_fa;  // the second path adds into the accumulator too
            break;
        }
        case PeAreaKind::kFixedPoint:
            t.ff = lanes * (kPeActBits + kPeWeightBits) + acc_ff;
            t.and2 = lanes * kPeActBits * kPeWeightBits;                           // partial products
            t.fa = lanes * kPeActBits * (kPeWeightBits - 1) + (lanes - 1) * (kPeProductBits + 1) + acc_fa;
            break;
        case PeAreaKind::kBitFusion:
            t.ff = 2 * kFusionOperandBits + acc_ff;
            t.and2 = kBitBricks * kBitBrickOperandBits * kBitBrickOperandBits;
            t.fa = kBitBricks * kBitBrickOperandBits * (kBitBrickOperandBits - 1) + kFusionTreeAdderBits + acc_fa;
            t.mux = kFusionTreeAdderBits;
            break;
    }
    return t;
}

}  // namespace

const char* pe_area_kind_name(PeAreaKind k) {
    switch (k) {
        case PeAreaKind::kSingleShift: return "single-shift";
        case PeAreaKind::kDoubleShift: return "double-shift";
        case PeAreaKind::kFixedPoint: return "fixed-point";
        case PeAreaKind::kBitFusion: return "bitfusion";
    }
    return "?";
}

double pe_gates(PeAreaKind k, int lanes) { return pe_terms(k, lanes).gates(); }

std::string pe_gates_formula(PeAreaKind k, int lanes) {
    const PeTerms t = pe_terms(k, lanes);
    return format_text("%g flip-flops x %g + %g AND2 x %.3g + %g XOR2 x %g + %g full-adder bits x %g + %g mux x %g = %.1f NAND2",
               t.ff, kFlipFlopGates, t.and2, kAnd2Gates, t.xor2, kXor2Gates, t.fa, kFullAdderGates, t.mux, kMuxGates,
               t.gates());
}

double pe_area_um2(const TechnologyConfig& t, PeAreaKind k, int lanes) { return gates_um2(t, pe_gates(k, lanes)); }

PeAreaKind pe_area_kind(PeMode m) {
    switch (m) {
        case PeMode::kDoubleShift: return PeAreaKind::kDoubleShift;
        case PeMode::kFixedPoint: return PeAreaKind::kFixedPoint;
        case PeMode::kSingleShift:
        case PeMode::kActSerial:
        case PeMode::kWgtSerial: break;
    }
    return PeAreaKind::kSingleShift;
}

double pe_pj_per_cycle(const PeArrayConfig& pe, PeMode mode, int lanes) {
    const PeAreaKind k = pe_area_kind(mode);
    return pe.pj_per_cycle(mode) * (pe_gates(k, lanes) / pe_gates(k));  // the ratio is exactly 1 at 4 lanes
}

PeWidthFigures pe_width_figures(const PeArrayConfig& pe, PeAreaKind k, int lanes, int shifts) {
    if (k != PeAreaKind::kSingleShift && k != PeAreaKind::kDoubleShift)
        throw std::invalid_argument(format_text("PE width: %s: expected a SWIS PE (single or double shift)", pe_area_kind_name(k)));
    if (shifts < 1 || shifts > 8) throw std::invalid_argument(format_text("PE width: shifts: expected 1..8, got %d", shifts));
    const PeMode mode = k == PeAreaKind::kDoubleShift ? PeMode::kDoubleShift : PeMode::kSingleShift;
    const double macs = static_cast<double>(lanes) / pe_cycles_per_group(mode, shifts);
    const double fxp_macs = lanes;
    const double gates = pe_gates(k, lanes), fxp_gates = pe_gates(PeAreaKind::kFixedPoint, lanes);
    const double pj = pe_pj_per_cycle(pe, mode, lanes);
    const double fxp_pj = pe_pj_per_cycle(pe, PeMode::kFixedPoint, lanes);
    PeWidthFigures f;
    f.area = gates / fxp_gates;
    f.energy_per_mac = (pj / macs) / (fxp_pj / fxp_macs);
    f.throughput_per_area = (macs / gates) / (fxp_macs / fxp_gates);
    return f;
}

PeArrayShape iso_area_array(double budget_um2, double pe_um2) {
    if (!(budget_um2 > 0) || !(pe_um2 > 0) || pe_um2 > budget_um2)
        throw std::invalid_argument(format_text("iso-area array: expected a budget (%g um^2) of at least one PE (%g um^2)",
                                        budget_um2, pe_um2));
    const int pes = static_cast<int>(std::floor(budget_um2 / pe_um2));
    PeArrayShape s;
    s.rows = static_cast<int>(std::floor(std::sqrt(static_cast<double>(pes))));
    while (s.rows * s.rows > pes) --s.rows;  // guard sqrt's rounding
    while ((s.rows + 1) * (s.rows + 1) <= pes) ++s.rows;
    s.cols = pes / s.rows;
    return s;
}

}  // namespace cimvp
