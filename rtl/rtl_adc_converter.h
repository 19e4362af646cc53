// The Verilated sar_adc (rtl/sar_adc.sv) as a converter the ADC bank can use in
// place of its own arithmetic (hw/adc_converter.h). The adapter clocks the
// Verilated C++ model directly, one conversion after the other, back to back
// (docs/rtl.md): a conversion is `bits` clocks, the first on the sampling edge.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <systemc>

#include "hw/adc_converter.h"
#include "tlm/waveform_recorder.h"

class Vsar_adc;
class VerilatedContext;
class VerilatedVcdC;

namespace cimvp {

class RtlAdcConverter : public AdcConverter {
public:
    // The widths the RTL is built with (rtl/sar_adc.sv parameters).
    static constexpr int kPsumBits = 48;  // signed partial sum and base
    static constexpr int kStepBits = 40;  // unsigned step
    static constexpr int kMaxBits = 16;   // widest code

    RtlAdcConverter();
    ~RtlAdcConverter() override;
    RtlAdcConverter(const RtlAdcConverter&) = delete;
    RtlAdcConverter& operator=(const RtlAdcConverter&) = delete;

    // Throws std::out_of_range when bits, a step, a base or a partial sum is outside the
    // RTL's widths, std::logic_error when the RTL does not hand a result over on time, and
    // RtlContractError if the RTL's input contract fails all the same (the adapter's fault).
    void convert(const std::int64_t* psum_fx, const numerics::AdcColumn* cols, int n, int bits, int* codes,
                 std::int64_t* values) override;

    // Pin-level access for directed benches (reset during a conversion, handshakes).
    Vsar_adc& pins() { return *model_; }
    // One clock: settle the inputs with the clock low, then the rising edge. An input-contract
    // assertion that fails on it throws RtlContractError (rtl/rtl_contract.h) after the clock.
    void settle();
    void edge();
    void clock() {
        settle();
        edge();
    }
    // Synchronous reset: one clock with rst high.
    void reset();

    std::uint64_t cycles() const { return cycles_; }            // clocks since construction
    std::uint64_t conversions() const { return conversions_; }  // results handed over by convert()
    double wall_seconds() const { return wall_s_; }              // spent in convert()

    // Dumps the RTL's signals, internals included, to a VCD file for the next max_cycles clocks
    // run while the gate is open, one clock every clock_ps picoseconds of the RTL's own clock
    // count (not SystemC time). Throws std::runtime_error when the file cannot be opened.
    void open_vcd(const std::string& path, std::uint64_t max_cycles, std::uint64_t clock_ps = 1000);
    void close_vcd();
    // Closed: clocks are run but not dumped (and not counted against max_cycles). Open by default.
    void set_vcd_gate(bool open) { vcd_gate_ = open; }
    // Declares the RTL's boundary ports (in_psum, in_step, in_base, out_code, out_value) and the
    // conversion count under `scope` of the platform's waveform (e.g. "rtl.sar_adc"), recorded for
    // the column and at the time the watching bank gives (watch()): the RTL's side of that bank's
    // `adc.code`, in the same file. Call before the first change of the recorder.
    void attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope);
    void watch(const sc_core::sc_time& done, int column) override {
        watch_time_ = done;
        watch_column_ = column;
    }
    // Adds the RTL's ports (and the conversion count) to a SystemC trace file as <prefix>.<port>:
    // the trace samples them at every SystemC time step, so it shows the last conversion of each.
    void trace(sc_core::sc_trace_file* tf, const std::string& prefix) const;

private:
    void half_clock(bool high);  // the model with the clock low (settle) or rising (edge), unchecked
    void dump(bool second_half);
    [[noreturn, gnu::cold, gnu::noinline]] void contract_violated();  // off the clocks' path

    std::unique_ptr<VerilatedContext> context_;
    std::unique_ptr<Vsar_adc> model_;
    std::unique_ptr<VerilatedVcdC> vcd_;
    std::uint64_t vcd_left_ = 0;  // clocks the VCD may still take
    bool vcd_gate_ = true;
    std::uint64_t vcd_clock_ps_ = 1000;
    std::uint64_t cycles_ = 0;
    std::uint64_t conversions_ = 0;
    tlmx::WaveformRecorder* wave_ = nullptr;
    struct {
        tlmx::WaveformRecorder::Var psum = 0, step = 0, base = 0, code = 0, value = 0, conversions = 0;
    } wave_vars_;
    sc_core::sc_time watch_time_;
    int watch_column_ = -1;  // the column of the next convert() to record (-1: none)
    int column_ = -1;        // the column convert() is converting (-1: none, the pins are driven directly)
    double wall_s_ = 0;
};

}  // namespace cimvp
