// A technology description (docs/costs.md): the few physical parameters of a process node, its
// memory cell and its ADC from which hw/cost_model derives every per-event energy, latency and area.
// A plain struct, filled from a configs/technology/*.json file (or a config's inline "technology"
// object) by sw/formats/config_loader and validated there once, like every other config struct.
#pragma once

#include <string>

namespace cimvp {

enum class CellType { kSram, kRram };

struct TechnologyConfig {
    std::string name;     // empty: no technology; every cost figure is the config's number
    std::string file;     // the file it was read from ("" when written inline in the config)
    std::string description;  // free text: where the figures come from
    double node_nm = 22.0;  // feature size F
    double vdd_v = 0.8;     // logic and SRAM supply
    double clock_ns = 1.0;  // digital clock period

    struct Cell {
        CellType type = CellType::kSram;
        double area_f2 = 280.0;          // one compute cell with its access devices, in F^2
        double read_ns = 1.7;            // one array read: word-line pulse and bit-line development
        double read_v = 0.8;             // bit-line swing (SRAM: precharge) or read voltage (RRAM)
        double mean_conductance_us = 0;  // RRAM: a cell's mean conductance while read (SRAM: 0)
        double write_pj_per_cell = 0.01;
        double write_ns_per_row = 1.0;
    } cell;

    struct Adc {
        double walden_fj_per_step = 2.0;     // SAR: Walden figure of merit, energy per conversion step
        double comparator_fj = 20.0;         // flash: one comparator decision
        double cycle_ns = 0.5;               // one SAR bit cycle, or one whole flash conversion
        double sar_area_um2_fixed = 300.0;   // SAR: comparator, SAR logic, switches
        double sar_area_um2_per_level = 1.5; // SAR: capacitive DAC, per unit capacitor (2^bits of them)
        double comparator_area_um2 = 15.0;   // flash: one comparator with its share of the ladder
    } adc;

    double sram_bitcell_f2 = 190.0;  // 6T SRAM bit cell of the buffers, in F^2
    double nand2_f2 = 600.0;         // NAND2-equivalent gate of the standard-cell logic, in F^2
    double dram_pj_per_bit = 4.0;    // off-chip DRAM access, interface included

    bool given() const { return !name.empty(); }
};

}  // namespace cimvp
