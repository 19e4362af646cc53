// The cost model (docs/costs.md): every per-event energy and latency the blocks charge, and the chip's
// area by component, derived from a technology description (hw/technology.h) and the architecture's
// sizes. The one place the cost formulas are written; no SystemC.
//
// A config that names a technology gets each cost figure from here unless it sets the key itself
// (ArchConfig::cost_overrides); a config without one keeps its numbers, and its area is estimated with
// the default technology (kDefaultTechnologyName's parameters, the TechnologyConfig defaults).
#pragma once

#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/contract/swis.h"

namespace cimvp {

inline constexpr const char* kDefaultTechnologyName = "sram-22nm";

// One derived cost figure: the config key it sets, its value in the key's unit, and the formula with
// its numbers filled in (for `cimvp info` and the results file).
struct CostFigure {
    std::string key;  // e.g. "adc.pj_per_conversion"
    double value = 0;
    std::string formula;
};

// Every figure `tech` gives the architecture of `cfg` (its sizes, ADC bits and architecture), in the
// order of arch_config.h. The cost fields of `cfg` itself are not read.
std::vector<CostFigure> derive_costs(const TechnologyConfig& tech, const ArchConfig& cfg);

// The config's field of a cost key derive_costs returns; throws std::out_of_range for another key.
double& cost_field(ArchConfig& cfg, const std::string& key);
double cost_field(const ArchConfig& cfg, const std::string& key);

// Sets every derived figure of cfg.technology that cfg.cost_overrides does not name; nothing without a
// technology. Call again after changing a size, the ADC bits or the ADC architecture.
void apply_technology(ArchConfig& cfg);

// Where a cost key's value comes from: "technology" (derived), "config" (set to another number), or
// "config" for every key of a config without a technology.
std::string cost_source(const ArchConfig& cfg, const std::string& key);

// Silicon area by component, in mm^2; DRAM is off chip and has none.
struct AreaBreakdown {
    double arrays = 0;          // the crossbar cells of every tile
    double adcs = 0;            // every tile's ADCs (adc.adcs_per_macro, shared by the columns)
    double shift_add = 0;       // every tile's shift-adders and column accumulators
    double input_buffers = 0;   // per tile (two banks with ping_pong)
    double output_buffers = 0;  // per tile
    double global_buffer = 0;
    double pe_array = 0;        // the SWIS PEs and their three buffers
    double post_process = 0;
    double dma_controller = 0;

    double total() const {
        return arrays + adcs + shift_add + input_buffers + output_buffers + global_buffer + pe_array + post_process +
               dma_controller;
    }
    // One tile's share (arrays, ADCs, shift-add, its buffers): what a layer on `tiles` tiles occupies.
    double tile() const;
    int tiles = 0;  // the tiles the per-tile components were summed over
};

// The chip of `cfg` in the technology of cfg.technology, or the default one when it names none.
AreaBreakdown chip_area(const ArchConfig& cfg);
// The same with each component's formula, keyed like AreaBreakdown's fields.
std::vector<CostFigure> area_figures(const ArchConfig& cfg);

// The technology chip_area and derive_costs use for cfg: its own or the default one.
TechnologyConfig effective_technology(const ArchConfig& cfg);

// Figures of merit of a run: ops = 2 x MACs.
struct Throughput {
    double tops = 0;          // ops per second / 1e12
    double tops_per_w = 0;    // ops per joule / 1e12
    double tops_per_mm2 = 0;  // tops / chip area
    double frames_per_s = 0;
    double frames_per_j = 0;
};
Throughput throughput(double macs_per_image, double latency_per_image_ns, double energy_per_image_pj,
                      double area_mm2);

// The processing elements of the SWIS comparison (docs/costs.md "PE area", docs/swis.md "At equal
// area"): their logic in NAND2 equivalents, estimated from their datapaths with the gate figures of
// the rest of this model, and their area in a technology. One PE of 4 lanes of 8-bit activations and
// a 32-bit accumulator; the PE array's buffers are outside it (the same for every kind).
enum class PeAreaKind {
    kSingleShift,  // SWIS single shift, and the bit-serial baselines (Act, Wgt): the same PE
    kDoubleShift,  // SWIS double shift: two adder trees and shifters
    kFixedPoint,   // four 8 x 8 multipliers, one group per cycle
    kBitFusion,    // a Bit Fusion fusion unit (Sharma et al., ISCA 2018): 16 2-bit BitBricks
};
const char* pe_area_kind_name(PeAreaKind k);  // "single-shift", "double-shift", "fixed-point", "bitfusion"
// NAND2 equivalents of a PE of `lanes` lanes of 8-bit activations: the PE array's PEs have
// swis::kGroupSize (4); other widths (1..swis::kMaxGroupSize, the group size M) are for the paper's
// PE-width comparison (its Figure 3), the SWIS adder trees 8 + ceil(log2 lanes) bits wide. Bit
// Fusion's unit has no lanes: another width of it, or one outside 1..16, is std::invalid_argument.
double pe_gates(PeAreaKind k, int lanes = swis::kGroupSize);
std::string pe_gates_formula(PeAreaKind k, int lanes = swis::kGroupSize);  // the sum pe_gates adds, with its numbers
double pe_area_um2(const TechnologyConfig& t, PeAreaKind k, int lanes = swis::kGroupSize);  // pe_gates x nand2_f2 F^2
// The PE a form of the PE array runs on: single shift (and the bit-serial Act and Wgt, the same
// PE), double shift, fixed point.
PeAreaKind pe_area_kind(PeMode m);
// Energy of one busy cycle of a PE form with `lanes` lanes: the configured pj_per_cycle (a PE of
// swis::kGroupSize lanes) x pe_gates(kind, lanes) / pe_gates(kind, 4): a wider PE switches more
// logic in proportion to its gates. The PE-width comparison and the analytic array model of
// other group sizes (sw/contract/swis_perf.h PerfCosts) both take it from here.
double pe_pj_per_cycle(const PeArrayConfig& pe, PeMode mode, int lanes);

// A SWIS PE of `lanes` lanes at N shifts per group against the fixed-point PE of the same width
// (docs/costs.md "PE width"): each figure is the SWIS PE's over FXP's, so below 1 is better for
// area and energy, above 1 for throughput per area.
//   MACs per cycle: SS lanes / N, DS lanes / ceil(N / 2), FXP lanes.
//   Energy per cycle: pe_pj_per_cycle.
struct PeWidthFigures {
    double area = 0;                 // pe_gates(k, lanes) / pe_gates(FXP, lanes)
    double energy_per_mac = 0;       // pJ per MAC / FXP's
    double throughput_per_area = 0;  // MACs per cycle per gate / FXP's
};
PeWidthFigures pe_width_figures(const PeArrayConfig& pe, PeAreaKind k, int lanes, int shifts);

// A PE array's shape.
struct PeArrayShape {
    int rows = 0, cols = 0;
    int pes() const { return rows * cols; }
};
// The iso-area rule: the largest roughly square array of PEs of pe_um2 that fits budget_um2.
// P = floor(budget / pe), rows = floor(sqrt(P)), cols = floor(P / rows): cols >= rows, cols <= rows + 2,
// and one more column would not fit. Throws std::invalid_argument unless both are positive and at
// least one PE fits.
PeArrayShape iso_area_array(double budget_um2, double pe_um2);

}  // namespace cimvp
