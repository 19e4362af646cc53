// Energy by component, the keys of the results file (docs/results.md).
// Each block turns its event counts into picojoules with costs from the config.
#pragma once

namespace cimvp {

struct EnergyBreakdown {
    double crossbar = 0, adc = 0, shift_add = 0, pe = 0, buffers = 0, dma = 0, dram = 0, post_process = 0;

    double total() const { return crossbar + adc + shift_add + pe + buffers + dma + dram + post_process; }
    EnergyBreakdown& operator+=(const EnergyBreakdown& o) {
        crossbar += o.crossbar;
        adc += o.adc;
        shift_add += o.shift_add;
        pe += o.pe;
        buffers += o.buffers;
        dma += o.dma;
        dram += o.dram;
        post_process += o.post_process;
        return *this;
    }
    EnergyBreakdown operator-(const EnergyBreakdown& o) const {
        EnergyBreakdown d = *this;
        d.crossbar -= o.crossbar;
        d.adc -= o.adc;
        d.shift_add -= o.shift_add;
        d.pe -= o.pe;
        d.buffers -= o.buffers;
        d.dma -= o.dma;
        d.dram -= o.dram;
        d.post_process -= o.post_process;
        return d;
    }
};

}  // namespace cimvp
