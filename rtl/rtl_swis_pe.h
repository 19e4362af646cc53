// The Verilated swis_pe (rtl/swis_pe.sv), single- or double-shift, as the
// datapath the SWIS PE array can use in place of its own arithmetic
// (hw/swis_pe_datapath.h). The adapter clocks the Verilated C++ model
// directly: one output is a run of groups, pe_cycles_per_group(mode, n)
// clocks each, the accumulator cleared on the first clock (docs/rtl.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <systemc>

#include "hw/swis_pe_datapath.h"
#include "tlm/waveform_recorder.h"

class VerilatedContext;
class VerilatedVcdC;

namespace cimvp {

class RtlSwisPe : public SwisPeDatapath {
public:
    explicit RtlSwisPe(PeMode mode);  // kSingleShift or kDoubleShift
    ~RtlSwisPe() override;
    RtlSwisPe(const RtlSwisPe&) = delete;
    RtlSwisPe& operator=(const RtlSwisPe&) = delete;

    PeMode mode() const { return mode_; }
    bool supports(PeMode mode) const override { return mode == mode_; }
    // Throws std::invalid_argument for another mode, n outside 0..8 or a group with more
    // shifts than n; std::logic_error when the RTL ends a group early or late; RtlContractError
    // if the RTL's input contract fails all the same (the adapter's fault).
    std::int64_t run_output(PeMode mode, int n, const std::uint8_t* act, const swis::Group* groups,
                            std::size_t count) override;

    // One clock on group g (its shifts padded to n) with activations a[0..3]; clear starts the
    // accumulator again from 0 on this edge. Returns the RTL's group_last for this clock. An
    // input-contract assertion that fails on it throws RtlContractError (rtl/rtl_contract.h).
    bool step(const std::uint8_t* a, const swis::Group& g, int n, bool clear);
    void reset();  // synchronous: one clock with rst high
    std::int64_t acc() const;
    int phase() const;

    std::uint64_t cycles() const { return cycles_; }  // clocks the PE was enabled
    std::uint64_t groups() const { return groups_; }  // groups run by run_output
    double wall_seconds() const { return wall_s_; }   // spent in run_output

    // Dumps the RTL's signals, internals included, to a VCD file for the next max_cycles clocks
    // run while the gate is open, one clock every clock_ps picoseconds of the RTL's own clock
    // count (not SystemC time). Throws std::runtime_error when the file cannot be opened.
    void open_vcd(const std::string& path, std::uint64_t max_cycles, std::uint64_t clock_ps = 1000);
    void close_vcd();
    // Closed: clocks are run but not dumped (and not counted against max_cycles). Open by default.
    void set_vcd_gate(bool open) { vcd_gate_ = open; }
    // Declares the RTL's last output (acc), its output count and enabled clocks under `scope` of the
    // platform's waveform (e.g. "rtl.swis_pe"), recorded at the end of every PE-array job the RTL
    // ran (job_done), in the same file as the array's own signals. Call before the first change.
    void attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope);
    void job_done(const sc_core::sc_time& done) override;
    // Adds the RTL's ports (and the output count) to a SystemC trace file as <prefix>.<port>:
    // the trace samples them at every SystemC time step, so it shows the last clock of each.
    void trace(sc_core::sc_trace_file* tf, const std::string& prefix) const;

    struct Model;  // the Verilated SS or DS model behind one interface (rtl_swis_pe.cpp)

private:
    void rise();  // the model on a rising edge, then the one test of whether an assertion failed
    [[noreturn, gnu::cold, gnu::noinline]] void contract_violated();  // off the clocks' path
    void clock();
    void dump(bool second_half);

    PeMode mode_;
    std::unique_ptr<VerilatedContext> context_;
    std::unique_ptr<Model> model_;
    std::unique_ptr<VerilatedVcdC> vcd_;
    std::uint64_t clocks_ = 0;  // all clocks, enabled or not (the VCD's time)
    std::uint64_t vcd_left_ = 0;  // clocks the VCD may still take
    bool vcd_gate_ = true;
    std::uint64_t vcd_clock_ps_ = 1000;
    std::uint64_t outputs_ = 0;
    tlmx::WaveformRecorder* wave_ = nullptr;
    struct {
        tlmx::WaveformRecorder::Var acc = 0, outputs = 0, cycles = 0;
    } wave_vars_;
    std::uint64_t cycles_ = 0;
    std::uint64_t groups_ = 0;
    double wall_s_ = 0;
};

}  // namespace cimvp
