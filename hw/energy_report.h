// Energy by component, the keys of the results file (docs/results.md).
// Each block turns its event counts into picojoules with costs from the config.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

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

// The event counts of blocks with what one event costs and the component it counts for: a block's
// energy is the meter's energy. The energy of a span of work is the energy of the counts' differences
// over it (since), so it is the same wherever the span lies in a run: a difference of two running totals
// in picojoules rounds differently at every point, and the parts of a run simulated by several processes
// (docs/scale.md) would not add up to the run simulated by one.
class EnergyMeter {
public:
    using Component = double EnergyBreakdown::*;

    // `count` events of `component`, `pj` picojoules each.
    void add(Component component, std::uint64_t count, double pj) { entries_.push_back({component, count, pj}); }

    // The counts since `before`: a meter of the same blocks, read earlier.
    EnergyMeter since(const EnergyMeter& before) const {
        if (before.entries_.size() != entries_.size())
            throw std::logic_error("EnergyMeter::since: a meter of other blocks");
        EnergyMeter d = *this;
        for (std::size_t i = 0; i < entries_.size(); ++i) d.entries_[i].count -= before.entries_[i].count;
        return d;
    }

    EnergyBreakdown energy() const {
        EnergyBreakdown e;
        for (const Entry& x : entries_) e.*x.component += static_cast<double>(x.count) * x.pj;
        return e;
    }
    double total_pj() const { return energy().total(); }

private:
    struct Entry {
        Component component;
        std::uint64_t count;
        double pj;
    };
    std::vector<Entry> entries_;
};

}  // namespace cimvp
