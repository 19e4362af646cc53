// A converter that can stand in for the ADC bank's own arithmetic: the RTL
// twin of the SAR converter (rtl/rtl_adc_converter.h) implements it, so the
// bank can run its conversions through the RTL while hw/ stays free of
// Verilator. The bank checks every value against the numeric contract.
#pragma once

#include <cstdint>

#include <systemc>

#include "sw/contract/numerics.h"

namespace cimvp {

class AdcConverter {
public:
    virtual ~AdcConverter() = default;
    // Converts n partial sums of one read, column c with cols[c], at `bits` bits; fills the
    // codes and the digital values (base + code * step), as numerics::adc_convert does.
    virtual void convert(const std::int64_t* psum_fx, const numerics::AdcColumn* cols, int n, int bits, int* codes,
                         std::int64_t* values) = 0;
    // The bank whose waveform is recorded calls this before each read's convert(): the simulated
    // time that read's conversions are done and the column its waveform shows. A converter that
    // records its own signals uses both for that one call; by default they are ignored.
    virtual void watch(const sc_core::sc_time& done, int column) {
        (void)done;
        (void)column;
    }
};

}  // namespace cimvp
