// One crossbar macro: R x C cells programmed over the bus, read one input
// slice at a time. A read arrives as a vector of packed input bit-planes and
// leaves as the vector of column partial sums, sent on to the ADC bank.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "hw/arch_config.h"
#include "hw/energy_report.h"
#include "sw/contract/crossbar_array.h"
#include "tlm/cim_read_extension.h"

namespace cimvp {

class CrossbarMacro : public sc_core::sc_module {
public:
    // Message type of the macro's SystemC reports (tlm/error_report.h).
    static constexpr const char* kReportId = "/cimvp/crossbar";

    // Programming window: byte r * cols + c is the level of cell (r, c).
    tlm_utils::simple_target_socket<CrossbarMacro> prog_socket;
    // Reads from the tile sequencer (data: input planes; CimReadExtension).
    tlm_utils::simple_target_socket<CrossbarMacro, 32, tlmx::cim_read_protocol_types> read_socket;
    // Column partial sums to the ADC bank.
    tlm_utils::simple_initiator_socket<CrossbarMacro, 32, tlmx::cim_read_protocol_types> adc_socket;

    struct Counters {
        std::uint64_t reads = 0;           // array reads
        std::uint64_t cell_reads = 0;      // active rows x active columns, summed over reads
        std::uint64_t column_reads = 0;    // active columns, summed over reads (bit lines charged)
        std::uint64_t rows_programmed = 0;
        std::uint64_t cells_programmed = 0;
    };

    // Most reads one vector can need: 8-bit inputs, one bit per read.
    static constexpr int kMaxSteps = 8;

    CrossbarMacro(sc_core::sc_module_name name, const CrossbarConfig& cfg, const NonIdealConfig& nonideal,
                  int frac_bits, std::uint64_t tile_id);
    CrossbarMacro(const CrossbarMacro&) = delete;
    CrossbarMacro& operator=(const CrossbarMacro&) = delete;

    const CrossbarArray& array() const { return array_; }
    const Counters& counters() const { return counters_; }
    // Cells read and programmed, as crossbar energy.
    void meter(EnergyMeter& m) const;
    double energy_pj() const;
    void reset_counters() { counters_ = {}; }

private:
    void program(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    void read(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned program_dbg(tlm::tlm_generic_payload& t);

    CrossbarConfig cfg_;
    NonIdealConfig nonideal_;
    int frac_bits_;
    std::uint64_t tile_id_;
    CrossbarArray array_;
    bool realized_ = true;  // non-ideal conductances match the programmed levels
    sc_core::sc_time read_time_;
    std::vector<std::int64_t> psum_;  // [step][cols]
    tlm::tlm_generic_payload out_;
    Counters counters_;
};

}  // namespace cimvp
