// A PE datapath that can stand in for the SWIS PE array's own arithmetic: the
// RTL twin of the PE (rtl/rtl_swis_pe.h) implements it, so the array can run
// every output of a job through the RTL while hw/ stays free of Verilator.
// The array checks every accumulator against its own model.
#pragma once

#include <cstdint>

#include <systemc>

#include "hw/swis_pe.h"
#include "sw/contract/swis.h"

namespace cimvp {

class SwisPeDatapath {
public:
    virtual ~SwisPeDatapath() = default;
    // Whether this datapath runs `mode` (the RTL twin has the SWIS forms, SS and DS).
    virtual bool supports(PeMode mode) const = 0;
    // One output: clears the accumulator and runs groups[0..count) against act (4 lanes per
    // group), every group with the tile's shift count n (the PEs of a tile run in lock step:
    // a group with fewer shifts is padded with empty masks). Returns the accumulator.
    virtual std::int64_t run_output(PeMode mode, int n, const std::uint8_t* act, const swis::Group* groups,
                                    std::size_t count) = 0;
    // The array calls this when a job the datapath ran is done, at its simulated end time (for
    // a datapath that records its own waveforms); by default it is ignored.
    virtual void job_done(const sc_core::sc_time& done) { (void)done; }
};

}  // namespace cimvp
