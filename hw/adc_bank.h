// The ADC bank of one macro: adcs_per_macro SAR converters shared by the
// columns through a mux, each column with its own step and base (column-wise
// partial-sum quantization) from a table programmed over the bus. Converts a
// vector of partial sums and hands the digital values to the shift-add.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "hw/adc_converter.h"
#include "hw/arch_config.h"
#include "hw/energy_report.h"
#include "sw/contract/numerics.h"
#include "tlm/cim_read_extension.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

class AdcBank : public sc_core::sc_module {
public:
    // Message type of the bank's SystemC reports (tlm/error_report.h).
    static constexpr const char* kReportId = "/cimvp/adc";

    // Table window: column c at byte c * 16: step_fx (int64), base_fx (int64).
    tlm_utils::simple_target_socket<AdcBank> table_socket;
    // Partial sums from the crossbar macro.
    tlm_utils::simple_target_socket<AdcBank, 32, tlmx::cim_read_protocol_types> in_socket;
    // Digital values to the shift-add accumulator.
    tlm_utils::simple_initiator_socket<AdcBank, 32, tlmx::cim_read_protocol_types> out_socket;

    struct Counters {
        std::uint64_t conversions = 0;
        std::uint64_t batches = 0;  // partial-sum vectors converted
        std::uint64_t converter_mismatches = 0;  // stand-in converter codes or values unlike the contract's
    };

    AdcBank(sc_core::sc_module_name name, const AdcConfig& cfg, int cols);
    AdcBank(const AdcBank&) = delete;
    AdcBank& operator=(const AdcBank&) = delete;

    const numerics::AdcColumn& column(int c) const { return table_[c]; }
    // Codes of the last read's conversion of each column (for waveforms and RTL cross-checks);
    // kept only while recording is on (an identity conversion otherwise skips them).
    const std::vector<int>& last_codes() const { return codes_; }
    void record_codes(bool on) { record_codes_ = on; }
    // A converter that stands in for the bank's arithmetic (the RTL twin, docs/rtl.md), or null.
    // Every conversion then goes through it; its values go to the shift-add and each one is
    // checked against the contract (Counters::converter_mismatches). Not owned.
    void set_converter(AdcConverter* converter) { converter_ = converter; }
    // Latency of converting n columns: the columns queue on the shared converters.
    sc_core::sc_time conversion_time(int n) const;
    const Counters& counters() const { return counters_; }
    void meter(EnergyMeter& m) const { m.add(&EnergyBreakdown::adc, counters_.conversions, cfg_.pj_per_conversion); }
    double energy_pj() const {
        EnergyMeter m;
        meter(m);
        return m.total_pj();
    }
    void reset_counters() { counters_ = {}; }
    // Declares column, code, value and clamped for column `col` in `scope`, turns code recording on,
    // and records the column's conversion of every read from now on (at the end of that read's conversion).
    void attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope, int col);

private:
    void table_access(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    void table_changed();
    void convert(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);

    AdcConfig cfg_;
    int cols_;
    std::vector<numerics::AdcColumn> table_;
    int first_bad_step_;  // first column whose step is not positive (cols_ if none)
    int unit_columns_;    // leading columns with step 1 and base 0
    sc_core::sc_time conversion_;  // one conversion: bits SAR cycles
    std::vector<int> codes_;
    bool record_codes_ = false;
    std::vector<std::int64_t> values_;
    AdcConverter* converter_ = nullptr;
    std::vector<int> converter_codes_;
    std::vector<std::int64_t> converter_values_;
    tlm::tlm_generic_payload out_;
    Counters counters_;
    tlmx::WaveformRecorder* wave_ = nullptr;
    int wave_col_ = 0;
    struct {
        tlmx::WaveformRecorder::Var code, psum, clamped;
    } wave_vars_{};
};

}  // namespace cimvp
