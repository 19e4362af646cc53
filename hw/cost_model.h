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

}  // namespace cimvp
