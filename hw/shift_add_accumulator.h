// The shift-add accumulator of one tile: combines the ADC values of every
// input step and weight slice into one partial accumulator per output (the
// negative columns subtracted under differential mapping), removes the weight
// offset, and keeps the results in the tile's output buffer. Bus
// writes to the buffer's accumulate alias add instead of overwrite: that is
// how partials of several row tiles are reduced.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "hw/arch_config.h"
#include "hw/energy_report.h"
#include "tlm/cim_read_extension.h"

namespace cimvp {

class ShiftAddAccumulator : public sc_core::sc_module {
public:
    // Message type of the accumulator's SystemC reports (tlm/error_report.h).
    static constexpr const char* kReportId = "/cimvp/accumulator";

    // ADC values and the finish token, from the ADC bank.
    tlm_utils::simple_target_socket<ShiftAddAccumulator, 32, tlmx::cim_read_protocol_types> in_socket;
    // Output buffer [0, size) of int64 entries, its accumulate alias [size, 2 * size), then
    // one int64 multiplier per column output [2 * size, 2 * size + cols * 8) (default 1).
    tlm_utils::simple_target_socket<ShiftAddAccumulator> bus_socket;

    struct Counters {
        std::uint64_t shift_adds = 0;   // column values shifted and added
        std::uint64_t finishes = 0;     // outputs finished (round, scale, offset)
        std::uint64_t buffer_bytes_read = 0;
        std::uint64_t buffer_bytes_written = 0;
        std::uint64_t overflow_errors = 0;
    };

    ShiftAddAccumulator(sc_core::sc_module_name name, const DigitalConfig& digital, const MemoryConfig& buffer,
                        int cols, int frac_bits);
    ShiftAddAccumulator(const ShiftAddAccumulator&) = delete;
    ShiftAddAccumulator& operator=(const ShiftAddAccumulator&) = delete;

    std::uint64_t buffer_size() const { return buffer_.size() * sizeof(std::int64_t); }
    const std::int64_t* buffer() const { return buffer_.data(); }
    const Counters& counters() const { return counters_; }
    // Shift-adds and finishes as shift_add energy, its buffer's bytes as buffers energy.
    void meter(EnergyMeter& m) const;
    void reset_counters() { counters_ = {}; }

private:
    void accumulate(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    void bus_access(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned bus_dbg(tlm::tlm_generic_payload& t);
    sc_core::sc_time buffer_time(std::uint64_t bytes) const;

    DigitalConfig digital_;
    MemoryConfig buffer_cfg_;
    int frac_bits_;
    std::vector<std::int64_t> fx_;      // working accumulators, fixed point
    std::vector<std::int64_t> buffer_;  // the output buffer
    std::vector<std::int64_t> scale_;   // multiplier of each output's partial
    sc_core::sc_time clock_;
    Counters counters_;
};

}  // namespace cimvp
